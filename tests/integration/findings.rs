//! gdorg's findings side against the sandbox over HTTP: collection through the administrator,
//! every filter kind included and excluded (server criteria + client matching agree with an
//! independent oracle), counts from statistics, saved filters and `filters sync`, and the
//! archive rule: the administrator archives; members and outsiders are refused by gdorg before
//! any call, and by the sandbox when they call directly.

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use guardduty_org::aws::admin;
use guardduty_org::aws::{AwsOptions, ClientFactory};
use guardduty_org::aws::{Caller, Session};
use guardduty_org::control::{Silent, Stop};
use guardduty_org::findings::archive::{self, ArchiveError, Selection, Verb};
use guardduty_org::findings::collect;
use guardduty_org::findings::filter::{Filter, FilterSpec, Status};
use guardduty_org::findings::saved::SavedFilters;
use guardduty_org::findings::{stats, sync, FindingRecord};
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, Env};

pub const MANAGEMENT: &str = "111111111111";
pub const ADMIN: &str = "200000000001";
pub const MEMBERS: [&str; 2] = ["200000000002", "200000000003"];
/// Has a detector and findings, but is nobody's member and administers nobody.
pub const OUTSIDER: &str = "200000000004";
pub const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];
pub const PER_CELL: usize = 24;

/// An organization whose delegated GuardDuty administrator has two Enabled members in two
/// regions, findings in every cell (a fifth archived), plus `extra` org-file text.
pub fn spec(extra: &str) -> OrgSpec {
    let text = format!(
        r#"
seed = 11
member_accounts = 4
service_access = ["guardduty.amazonaws.com"]

[guardduty]
admin = "{ADMIN}"
regions = ["us-east-1", "eu-west-1"]

[[detectors]]
accounts = ["{ADMIN}", "{m0}", "{m1}", "{OUTSIDER}"]
regions = ["us-east-1", "eu-west-1"]

[[memberships]]
administrator = "{ADMIN}"
members = ["{m0}", "{m1}"]
regions = ["us-east-1", "eu-west-1"]
status = "Enabled"

[[findings]]
accounts = ["{ADMIN}", "{m0}", "{m1}", "{OUTSIDER}"]
regions = ["us-east-1", "eu-west-1"]
per_cell = {PER_CELL}
archived_fraction = 0.2
{extra}
"#,
        m0 = MEMBERS[0],
        m1 = MEMBERS[1],
    );
    OrgSpec::parse(&text).expect("test org file parses")
}

pub async fn env() -> Env {
    Env::with_spec(spec("")).await
}

pub fn regions() -> Vec<String> {
    REGIONS.iter().map(|r| r.to_string()).collect()
}

/// A factory over `account`'s own user keys.
pub async fn factory_of(env: &Env, account: &str) -> ClientFactory {
    ClientFactory::from_config(
        env.user(account).await,
        AwsOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            max_attempts: 1,
            ..Default::default()
        },
    )
}

pub fn filter(toml_text: &str) -> Filter {
    toml::from_str::<FilterSpec>(toml_text)
        .unwrap()
        .validate(chrono::Utc::now())
        .unwrap()
}

/// Every finding matching `f` through the administrator's detectors.
pub async fn read(config: &SdkConfig, f: &Filter) -> Vec<FindingRecord> {
    let targets = collect::administrator_targets(ADMIN, config, &regions());
    let mut out = Vec::new();
    let summary = collect::collect(targets, f, 4, &Silent, &Stop::default(), |r| {
        out.push(r);
        Ok(())
    })
    .await
    .unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(summary.matched as usize, out.len());
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn ids(v: &[FindingRecord]) -> BTreeSet<String> {
    v.iter().map(|f| f.id.clone()).collect()
}

#[tokio::test]
async fn the_administrator_sees_every_member_in_every_region_and_no_outsider() {
    let env = env().await;
    let cfg = env.user(ADMIN).await;
    let all = read(&cfg, &filter(r#"status = "all""#)).await;
    let cells: BTreeSet<(String, String)> = all
        .iter()
        .map(|f| (f.account_id.clone(), f.region.clone()))
        .collect();
    let mut want = BTreeSet::new();
    for a in [ADMIN, MEMBERS[0], MEMBERS[1]] {
        for r in REGIONS {
            want.insert((a.to_string(), r.to_string()));
        }
    }
    assert_eq!(cells, want);
    assert_eq!(all.len(), 3 * 2 * PER_CELL);
    let archived = all.iter().filter(|f| f.archived).count();
    assert!(archived > 0 && archived < all.len());
    // The default filter is current findings only: archived ones never count as current.
    let current = read(&cfg, &filter("")).await;
    assert_eq!(current.len(), all.len() - archived);
    assert!(current.iter().all(|f| !f.archived));
}

/// For each filter kind, the findings gdorg returns (server criteria, then client matching)
/// equal what an independent predicate picks from all findings, included and excluded.
#[tokio::test]
async fn every_filter_kind_includes_and_excludes() {
    let env = env().await;
    let cfg = env.user(ADMIN).await;
    let all = read(&cfg, &filter(r#"status = "all""#)).await;
    let current: Vec<&FindingRecord> = all.iter().filter(|f| !f.archived).collect();
    // Values present in the data, so each case selects something and leaves something out.
    let some_type = current[0].finding_type.clone();
    let prefix = some_type.split(':').next().unwrap().to_string() + ":";
    let action = current
        .iter()
        .find_map(|f| f.action_type.clone())
        .expect("findings with an action type");
    let resource = current[0].resource_type.clone();
    let mut times: Vec<&str> = current.iter().map(|f| f.updated_at.as_str()).collect();
    times.sort();
    let median = times[times.len() / 2].to_string();
    let median_ms = guardduty_org::findings::record::epoch_ms(&median).unwrap();

    type Pred = Box<dyn Fn(&FindingRecord) -> bool>;
    let band =
        |lo: f64, hi: f64| -> Pred { Box::new(move |f| f.severity >= lo && f.severity < hi) };
    let cases: Vec<(String, String, Pred)> = vec![
        ("severity".into(), r#"["High"]"#.into(), band(7.0, 9.0)),
        ("severity".into(), r#"["Medium"]"#.into(), band(4.0, 7.0)),
        (
            "severity".into(),
            r#"["Low", "Medium"]"#.into(),
            band(1.0, 7.0),
        ),
        ("type".into(), format!("[{some_type:?}]"), {
            let t = some_type.clone();
            Box::new(move |f| f.finding_type == t)
        }),
        ("type".into(), format!("[\"{prefix}*\"]"), {
            let p = prefix.clone();
            Box::new(move |f| f.finding_type.starts_with(&p))
        }),
        (
            "account".into(),
            format!("[\"{}\"]", MEMBERS[0]),
            Box::new(|f| f.account_id == MEMBERS[0]),
        ),
        (
            "region".into(),
            r#"["eu-west-1"]"#.into(),
            Box::new(|f| f.region == "eu-west-1"),
        ),
        ("resource_type".into(), format!("[{resource:?}]"), {
            let r = resource.clone();
            Box::new(move |f| f.resource_type == r)
        }),
        ("action_type".into(), format!("[{action:?}]"), {
            let a = action.clone();
            Box::new(move |f| f.action_type.as_deref() == Some(a.as_str()))
        }),
    ];
    for (key, value, pred) in &cases {
        let want_in: BTreeSet<String> = current
            .iter()
            .filter(|f| pred(f))
            .map(|f| f.id.clone())
            .collect();
        let want_out: BTreeSet<String> = current
            .iter()
            .filter(|f| !pred(f))
            .map(|f| f.id.clone())
            .collect();
        assert!(
            !want_in.is_empty() && !want_out.is_empty(),
            "{key} = {value} splits nothing"
        );
        let got_in = ids(&read(&cfg, &filter(&format!("{key} = {value}"))).await);
        assert_eq!(got_in, want_in, "include {key} = {value}");
        let got_out = ids(&read(&cfg, &filter(&format!("not_{key} = {value}"))).await);
        assert_eq!(got_out, want_out, "exclude {key} = {value}");
    }
    // Numeric bounds, fractional (client-side) and whole (server-side).
    for (text, pred) in [
        (
            "min_severity = 5.5",
            Box::new(|f: &FindingRecord| f.severity >= 5.5) as Pred,
        ),
        (
            "max_severity = 6.0",
            Box::new(|f: &FindingRecord| f.severity <= 6.0),
        ),
    ] {
        let want: BTreeSet<String> = current
            .iter()
            .filter(|f| pred(f))
            .map(|f| f.id.clone())
            .collect();
        assert!(!want.is_empty() && want.len() < current.len(), "{text}");
        assert_eq!(ids(&read(&cfg, &filter(text)).await), want, "{text}");
    }
    // Archived vs current.
    let archived: BTreeSet<String> = all
        .iter()
        .filter(|f| f.archived)
        .map(|f| f.id.clone())
        .collect();
    assert_eq!(
        ids(&read(&cfg, &filter(r#"status = "archived""#)).await),
        archived
    );
    // Updated since (epoch milliseconds server-side).
    let want: BTreeSet<String> = current
        .iter()
        .filter(|f| f.updated_ms >= median_ms)
        .map(|f| f.id.clone())
        .collect();
    assert!(!want.is_empty() && want.len() < current.len());
    assert_eq!(
        ids(&read(&cfg, &filter(&format!("updated_since = {median:?}"))).await),
        want
    );
}

#[tokio::test]
async fn statistics_counts_agree_with_collection() {
    let env = env().await;
    let cfg = env.user(ADMIN).await;
    let current = read(&cfg, &filter("")).await;
    let t = guardduty_org::findings::criteria::translate(&filter(""));
    let counts = stats::count(&cfg, &regions(), &t.criteria, 4, &Silent, &Stop::default())
        .await
        .unwrap();
    let mut by_account = std::collections::BTreeMap::new();
    for f in &current {
        *by_account.entry(f.account_id.clone()).or_insert(0i64) += 1;
    }
    assert_eq!(counts.by_account, by_account);
    assert_eq!(counts.by_type.values().sum::<i64>(), current.len() as i64);
}

#[tokio::test]
async fn filters_sync_creates_once_then_changes_nothing() {
    let env = env().await;
    let text = r#"
[filters.high-and-critical]
description = "High and Critical"
severity = ["High", "Critical"]

[filters.suppress-low-probes]
action = "ARCHIVE"
rank = 1
severity = ["Low"]
type = ["Recon:EC2/PortProbeUnprotectedPort"]
"#;
    let saved = SavedFilters::parse("filters.toml", text).unwrap();
    let wanted = sync::desired(&saved, chrono::Utc::now()).unwrap();
    let cfg = env.user(ADMIN).await;
    let run = sync::sync(
        &cfg,
        &regions(),
        &wanted,
        false,
        4,
        &Silent,
        &Stop::default(),
    )
    .await;
    let (first, errors) = (run.items, run.errors);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(first.len(), 4);
    assert!(
        first.iter().all(|i| i.change == sync::Change::Create),
        "{first:?}"
    );

    env.sandbox.calls().clear();
    let run = sync::sync(
        &cfg,
        &regions(),
        &wanted,
        false,
        4,
        &Silent,
        &Stop::default(),
    )
    .await;
    let (second, errors) = (run.items, run.errors);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        second.iter().all(|i| i.change == sync::Change::Unchanged),
        "{second:?}"
    );
    let mutating: Vec<_> = env
        .sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| c.is_mutating())
        .collect();
    assert!(mutating.is_empty(), "{mutating:?}");

    // What GuardDuty holds is what the file says.
    let gd = support::gd(&cfg, "eu-west-1");
    let det = admin::detector(&gd).await.unwrap().unwrap();
    let got = gd
        .get_filter()
        .detector_id(&det)
        .filter_name("suppress-low-probes")
        .send()
        .await
        .unwrap();
    assert_eq!(got.action().unwrap().as_str(), "ARCHIVE");
    assert_eq!(
        guardduty_org::findings::criteria::from_sdk(got.finding_criteria()),
        wanted[1].criteria
    );

    // A changed file updates in place.
    let changed = SavedFilters::parse(
        "filters.toml",
        &text.replace("\"High and Critical\"", "\"Needs a human\""),
    )
    .unwrap();
    let wanted = sync::desired(&changed, chrono::Utc::now()).unwrap();
    let run = sync::sync(
        &cfg,
        &regions(),
        &wanted,
        false,
        4,
        &Silent,
        &Stop::default(),
    )
    .await;
    let (third, _) = (run.items, run.errors);
    let updates: Vec<_> = third
        .iter()
        .filter(|i| i.change == sync::Change::Update)
        .map(|i| (i.region.as_str(), i.name.as_str()))
        .collect();
    assert_eq!(
        updates,
        [
            ("eu-west-1", "high-and-critical"),
            ("us-east-1", "high-and-critical")
        ]
    );
}

fn caller(account: &str) -> Caller {
    Caller {
        account: account.into(),
        arn: format!("arn:aws:iam::{account}:user/sandbox-admin"),
    }
}

fn act_calls(env: &Env) -> Vec<String> {
    env.sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| {
            matches!(
                c.operation,
                "ArchiveFindings" | "UnarchiveFindings" | "UpdateFindingsFeedback"
            )
        })
        .map(|c| format!("{} {} {}", c.operation, c.account, c.status))
        .collect()
}

#[tokio::test]
async fn the_administrator_archives_and_unarchives_members_findings() {
    let env = env().await;
    let cfg = env.user(ADMIN).await;
    let member_current: Vec<FindingRecord> =
        read(&cfg, &filter(&format!("account = [\"{}\"]", MEMBERS[1])))
            .await
            .into_iter()
            .take(3)
            .collect();
    let picked: Vec<String> = member_current.iter().map(|f| f.id.clone()).collect();
    let plan = archive::plan(
        &cfg,
        &caller(ADMIN),
        &regions(),
        &Selection::Ids(picked.clone()),
        Verb::Archive,
    )
    .await
    .unwrap();
    assert_eq!(plan.count(), 3);
    let done = archive::execute(&cfg, &plan, &Silent, &Stop::default()).await;
    assert!(done.errors.is_empty(), "{:?}", done.errors);
    let archived = ids(&read(&cfg, &filter(r#"status = "archived""#)).await);
    assert!(picked.iter().all(|i| archived.contains(i)));

    // Unarchive by saved filter semantics: the same ids come back to current.
    let plan = archive::plan(
        &cfg,
        &caller(ADMIN),
        &regions(),
        &Selection::Ids(picked.clone()),
        Verb::Unarchive,
    )
    .await
    .unwrap();
    archive::execute(&cfg, &plan, &Silent, &Stop::default()).await;
    let current = ids(&read(&cfg, &filter("")).await);
    assert!(picked.iter().all(|i| current.contains(i)));

    // Feedback through the administrator.
    let plan = archive::plan(
        &cfg,
        &caller(ADMIN),
        &regions(),
        &Selection::Ids(picked[..1].to_vec()),
        Verb::Feedback {
            useful: false,
            comments: Some("drill".into()),
        },
    )
    .await
    .unwrap();
    let done = archive::execute(&cfg, &plan, &Silent, &Stop::default()).await;
    assert!(done.errors.is_empty(), "{:?}", done.errors);
    let after = read(&cfg, &filter(&format!("account = [\"{}\"]", MEMBERS[1]))).await;
    let f = after.iter().find(|f| f.id == picked[0]).unwrap();
    assert_eq!(f.feedback.as_deref(), Some("NOT_USEFUL"));

    // By filter: archive every Low finding of one member in one region.
    let sel = Selection::Filter(Box::new(filter(&format!(
        "severity = [\"Low\"]\naccount = [\"{}\"]\nregion = [\"eu-west-1\"]",
        MEMBERS[0]
    ))));
    let plan = archive::plan(&cfg, &caller(ADMIN), &regions(), &sel, Verb::Archive)
        .await
        .unwrap();
    let n = plan.count();
    assert!(n > 0);
    archive::execute(&cfg, &plan, &Silent, &Stop::default()).await;
    let left = read(
        &cfg,
        &filter(&format!(
            "severity = [\"Low\"]\naccount = [\"{}\"]\nregion = [\"eu-west-1\"]",
            MEMBERS[0]
        )),
    )
    .await;
    assert!(left.is_empty(), "{left:?}");
}

/// Every attempt with a member's credentials is refused by gdorg with zero archive calls, and
/// the sandbox refuses the same calls sent directly with the SDK.
#[tokio::test]
async fn members_are_refused_by_gdorg_and_by_the_sandbox() {
    let env = env().await;
    let admin_cfg = env.user(ADMIN).await;
    let theirs = read(
        &admin_cfg,
        &filter(&format!("account = [\"{}\"]", MEMBERS[0])),
    )
    .await;
    let own_ids: Vec<String> = theirs.iter().take(2).map(|f| f.id.clone()).collect();
    env.sandbox.calls().clear();
    for member in MEMBERS {
        let cfg = env.user(member).await;
        for verb in [
            Verb::Archive,
            Verb::Unarchive,
            Verb::Feedback {
                useful: true,
                comments: None,
            },
        ] {
            for sel in [
                Selection::Ids(own_ids.clone()),
                Selection::Filter(Box::new(filter(""))),
            ] {
                let err = archive::plan(&cfg, &caller(member), &regions(), &sel, verb.clone())
                    .await
                    .unwrap_err();
                assert!(matches!(err, ArchiveError::Member { .. }), "{err}");
                let text = err.to_string();
                assert!(text.contains("only the administrator account"), "{text}");
                assert!(text.contains(ADMIN), "{text}");
            }
        }
    }
    assert!(act_calls(&env).is_empty(), "{:?}", act_calls(&env));

    // The binary refuses the same, before any archive call, and exits non-zero.
    for args in [
        vec!["findings", "archive", "--ids", own_ids[0].as_str()],
        vec!["findings", "unarchive", "--ids", own_ids[0].as_str()],
        vec![
            "findings",
            "feedback",
            "--useful",
            "--ids",
            own_ids[0].as_str(),
        ],
    ] {
        let out = gdorg(&env, MEMBERS[0], &args).await;
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("only the administrator account"),
            "{stderr}"
        );
    }
    assert!(act_calls(&env).is_empty(), "{:?}", act_calls(&env));

    // Sent directly with the SDK, the sandbox refuses too.
    let member_cfg = env.user(MEMBERS[0]).await;
    for region in REGIONS {
        let gd = support::gd(&member_cfg, region);
        let det = admin::detector(&gd).await.unwrap().unwrap();
        let any = gd.list_findings().detector_id(&det).send().await.unwrap();
        let id = any.finding_ids()[0].clone();
        let err = gd
            .archive_findings()
            .detector_id(&det)
            .finding_ids(&id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("BadRequestException"), "{err:?}");
        let err = gd
            .unarchive_findings()
            .detector_id(&det)
            .finding_ids(&id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("BadRequestException"), "{err:?}");
    }
}

/// An account that is not the administrator of the findings (not a member either) cannot act
/// on them: they are not visible to it, and gdorg refuses with zero archive calls.
#[tokio::test]
async fn an_outsider_is_refused_for_findings_it_does_not_administer() {
    let env = env().await;
    let admin_cfg = env.user(ADMIN).await;
    let member_ids: Vec<String> = read(
        &admin_cfg,
        &filter(&format!("account = [\"{}\"]", MEMBERS[0])),
    )
    .await
    .into_iter()
    .take(2)
    .map(|f| f.id)
    .collect();
    env.sandbox.calls().clear();
    let cfg = env.user(OUTSIDER).await;
    let err = archive::plan(
        &cfg,
        &caller(OUTSIDER),
        &regions(),
        &Selection::Ids(member_ids),
        Verb::Archive,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ArchiveError::NotFound { .. }), "{err}");
    assert!(
        err.to_string().contains("only their administrator"),
        "{err}"
    );
    assert!(act_calls(&env).is_empty());
}

#[tokio::test]
async fn bad_filter_input_fails_before_any_call() {
    let env = env().await;
    env.sandbox.calls().clear();
    for (args, want) in [
        (
            vec!["findings", "list", "--severity", "severe"],
            "unknown severity",
        ),
        (
            vec!["findings", "list", "--account", "12"],
            "not an AWS account id",
        ),
        (vec!["report", "--updated-since", "soon"], "updated_since"),
        (
            vec!["findings", "list", "--regions", "moon-1"],
            "not a region name",
        ),
        (
            vec![
                "findings",
                "list",
                "--filter",
                "nope",
                "--filters-file",
                "examples/filters.toml",
            ],
            "no filter named \"nope\"",
        ),
    ] {
        let out = gdorg(&env, ADMIN, &args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
    assert!(env.sandbox.calls().snapshot().is_empty());
}

#[tokio::test]
async fn the_cli_exports_ndjson_and_lists_through_the_administrator() {
    let env = env().await;
    let out = gdorg(
        &env,
        ADMIN,
        &[
            "findings",
            "export",
            "--regions",
            "eu-west-1,us-east-1",
            "--severity",
            "high,critical",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cfg = env.user(ADMIN).await;
    let want = read(&cfg, &filter(r#"severity = ["High", "Critical"]"#)).await;
    assert_eq!(lines.len(), want.len());
    assert!(lines.iter().all(|l| l["severity"].as_f64().unwrap() >= 7.0));

    // With the management account's keys, gdorg finds the delegated administrator itself.
    let out = gdorg(
        &env,
        MANAGEMENT,
        &[
            "findings",
            "list",
            "--regions",
            "eu-west-1,us-east-1",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        read(&cfg, &filter("")).await.len()
    );
}

#[tokio::test]
async fn direct_mode_reads_each_accounts_own_detector() {
    let env = env().await;
    let f = Session::new(factory_of(&env, MANAGEMENT).await)
        .await
        .unwrap();
    let accounts: Vec<String> = [MEMBERS[0], OUTSIDER]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (targets, errs) = collect::direct_targets(&f, &accounts, &regions()).await;
    assert!(errs.is_empty(), "{errs:?}");
    let mut seen = BTreeSet::new();
    let mut f_all = filter("");
    f_all.status = Status::All;
    collect::collect(targets, &f_all, 4, &Silent, &Stop::default(), |r| {
        seen.insert(r.account_id.clone());
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(seen, accounts.into_iter().collect());
}

/// Run the gdorg binary with `account`'s keys against the sandbox.
/// Async, so that the in-process sandbox keeps serving while the binary runs.
pub async fn gdorg(env: &Env, account: &str, args: &[&str]) -> std::process::Output {
    let keys = env.sandbox.keys_of(account).unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gdorg"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", env.sandbox.endpoint())
        .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("GDORG_REGIONS", "eu-west-1,us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .await
        .unwrap()
}

/// `gdorg findings archive --filter NAME` with the administrator's keys archives exactly the
/// matching findings across members and regions; a dry run sends nothing.
#[tokio::test]
async fn the_cli_archives_by_saved_filter_through_the_administrator() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("filters.toml");
    std::fs::write(
        &file,
        format!(
            "[filters.low-member]\nseverity = [\"Low\"]\naccount = [\"{}\"]\n",
            MEMBERS[1]
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let cfg = env.user(ADMIN).await;
    let low = filter(&format!(
        "severity = [\"Low\"]\naccount = [\"{}\"]",
        MEMBERS[1]
    ));
    let before = ids(&read(&cfg, &low).await);
    assert!(!before.is_empty());

    env.sandbox.calls().clear();
    let out = gdorg(
        &env,
        ADMIN,
        &[
            "findings",
            "archive",
            "--filter",
            "low-member",
            "--filters-file",
            file,
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(act_calls(&env).is_empty());

    let out = gdorg(
        &env,
        ADMIN,
        &[
            "findings",
            "archive",
            "--filter",
            "low-member",
            "--filters-file",
            file,
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let done: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(done, before);
    assert!(read(&cfg, &low).await.is_empty());
    let archived = ids(&read(&cfg, &filter(r#"status = "archived""#)).await);
    assert!(before.is_subset(&archived));

    // From the management account, acting as the administrator through its role.
    let out = gdorg(
        &env,
        MANAGEMENT,
        &[
            "findings",
            "unarchive",
            "--filter",
            "low-member",
            "--filters-file",
            file,
            "--admin-account",
            ADMIN,
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Every archived Low finding of that member is current again (those archived by the
    // seed too).
    let now_current = ids(&read(&cfg, &low).await);
    assert!(before.is_subset(&now_current));
    let archived = read(&cfg, &filter(r#"status = "archived""#)).await;
    assert!(!archived
        .iter()
        .any(|f| f.account_id == MEMBERS[1] && f.severity < 4.0));
}

/// A sink that fails (a closed pipe) stops every reader at once: no reader waits forever on
/// a full channel, and the error comes back.
#[tokio::test]
async fn a_failing_sink_stops_the_collection() {
    let many = format!(
        "[[findings]]\naccounts = [\"{ADMIN}\"]\nregions = [\"us-east-1\"]\nper_cell = 600\n"
    );
    let env = Env::with_spec(spec(&many)).await;
    let cfg = env.user(ADMIN).await;
    let targets = collect::administrator_targets(ADMIN, &cfg, &regions());
    let mut n = 0;
    let all = filter(r#"status = "all""#);
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        collect::collect(targets, &all, 4, &Silent, &Stop::default(), |_| {
            n += 1;
            if n > 3 {
                Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            } else {
                Ok(())
            }
        }),
    )
    .await
    .expect("collection stops instead of hanging");
    assert_eq!(res.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
}
