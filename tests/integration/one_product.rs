//! One product: every command shares one edge (regions, limits, errors, Ctrl-C) and one model
//! of the organization (the report's coverage is the audit's). Each test drives the real
//! binary, or the library, against a sandbox.

use std::collections::BTreeMap;

use guardduty_org::control::{Silent, Stop};
use guardduty_org::findings::collect;
use guardduty_org::findings::source::ReadOptions;
use guardduty_org::findings::Filter;
use guardduty_org::report::build::build;
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, gdorg, interrupt, wait_for_calls, Env};

const MANAGEMENT: &str = "111111111111";

/// An organization whose administrator (the management account) has `members` invited
/// members in eu-west-1, each with `per_cell` findings there, plus `extra` org-file text.
pub(crate) fn invited_org(members: usize, per_cell: usize, extra: &str) -> OrgSpec {
    let ids: Vec<String> = (1..=members).map(OrgSpec::generated_id).collect();
    let list = ids
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        r#"
seed = 5
member_accounts = {members}

[[detectors]]
accounts = ["{MANAGEMENT}", {list}]
regions = ["eu-west-1"]

[[memberships]]
administrator = "{MANAGEMENT}"
members = [{list}]
regions = ["eu-west-1"]
status = "Enabled"

[[findings]]
accounts = ["{MANAGEMENT}", {list}]
regions = ["eu-west-1"]
per_cell = {per_cell}
archived_fraction = 0.0
{extra}
"#
    );
    OrgSpec::parse(&text).expect("test org file parses")
}

/// Every current finding through the management account (the administrator), enumerated.
async fn enumerate(env: &Env, regions: &[&str]) -> BTreeMap<String, i64> {
    let regions: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
    let targets = collect::administrator_targets(MANAGEMENT, &env.mgmt, &regions);
    let mut by_account = BTreeMap::new();
    let summary = collect::collect(
        targets,
        &Filter::default(),
        8,
        &Silent,
        &Stop::default(),
        |f| {
            *by_account.entry(f.account_id).or_insert(0i64) += 1;
            Ok(())
        },
    )
    .await
    .unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    by_account
}

/// GetFindingsStatistics answers at most 100 groups; `findings count` partitions the query
/// until every account is counted, and agrees with a full enumeration.
#[tokio::test]
async fn counts_stay_exact_past_100_accounts() {
    let env = Env::with_spec(invited_org(150, 3, "")).await;
    let enumerated = enumerate(&env, &["eu-west-1"]).await;
    assert_eq!(enumerated.len(), 151, "the administrator and 150 members");
    assert_eq!(enumerated.values().sum::<i64>(), 453);

    env.sandbox.calls().clear();
    let out = gdorg(
        &env,
        MANAGEMENT,
        &["findings", "count", "--regions", "eu-west-1"],
    )
    .output()
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["total"], 453, "{stdout}");
    let by_account: BTreeMap<String, i64> =
        serde_json::from_value(v["by_account"].clone()).unwrap();
    assert_eq!(by_account, enumerated);
    let by_type: BTreeMap<String, i64> = serde_json::from_value(v["by_type"].clone()).unwrap();
    assert_eq!(by_type.values().sum::<i64>(), 453);
    // Two rounds for the 151 accounts (100, then 51), one or more for the types.
    let stats = env
        .sandbox
        .calls()
        .snapshot()
        .iter()
        .filter(|c| c.operation == "GetFindingsStatistics")
        .count();
    assert!(stats >= 3, "{stats} statistics calls");
    // Every cell is monitored here: nothing to qualify.
    assert_eq!(v["not_monitored"], serde_json::json!([]), "{stdout}");
}

/// The report's coverage is the audit's: an account that is not a member and one gdorg cannot
/// reach are listed as not monitored, with why, instead of silently missing.
#[tokio::test]
async fn the_report_lists_unwatched_accounts_as_not_monitored() {
    let extra = r#"
[[accounts]]
id = "300000000001"
name = "not-a-member"

[[accounts]]
id = "300000000002"
name = "no-role"
execution_role = false

[[detectors]]
accounts = ["300000000001"]
regions = ["eu-west-1"]
"#;
    let env = Env::with_spec(invited_org(2, 2, extra)).await;
    let session = support::session(&env, 1).await;
    let regions = vec!["eu-west-1".to_string()];
    let built = build(
        session,
        &ReadOptions::through_administrator(&regions),
        10,
        &Silent,
        &Stop::default(),
    )
    .await
    .unwrap();
    let rep = built.report;
    let row = |account: &str| {
        rep.coverage
            .row(account, "eu-west-1")
            .unwrap_or_else(|| panic!("{account} missing from {:?}", rep.coverage.rows))
            .clone()
    };
    assert!(row(MANAGEMENT).monitored);
    assert!(row(&OrgSpec::generated_id(1)).monitored);
    let outsider = row("300000000001");
    assert!(!outsider.monitored);
    assert!(outsider.status.contains("not a member"), "{outsider:?}");
    let unreachable = row("300000000002");
    assert!(!unreachable.monitored);
    assert!(unreachable.status.contains("no access"), "{unreachable:?}");
    assert_eq!(rep.coverage.monitored, 3);
    assert_eq!(rep.coverage.counted, 5);
    // The renderers say it too.
    let md = guardduty_org::report::markdown::render(&rep);
    assert!(
        md.contains("3 of 5 account x region cells monitored"),
        "{md}"
    );
    assert!(md.contains("| eu-west-1 | 300000000002 | not monitored: no access"));
}

/// `--regions all` and `GDORG_REGIONS=all` mean the same in every command, and a bad region
/// is refused by every command, named, before any call.
#[tokio::test]
async fn regions_mean_the_same_in_every_command() {
    let env = Env::with_spec(invited_org(1, 1, "")).await;
    let commands: [&[&str]; 8] = [
        &["plan"],
        &["rollout", "--dry-run"],
        &["audit", "--format", "json", "--fail-on", "never"],
        &["findings", "count"],
        &["findings", "list", "--format", "json"],
        &["report", "--format", "json"],
        &["sample-findings", "--accounts", "111111111111"],
        &["findings", "archive", "--ids", "x", "--dry-run"],
    ];
    for args in commands {
        env.sandbox.calls().clear();
        let bad = gdorg(&env, MANAGEMENT, args)
            .env("GDORG_REGIONS", "eu-west-1,moon_base")
            .output()
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(bad.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("moon_base"), "{args:?}: {err}");
        assert!(
            env.sandbox.calls().snapshot().is_empty(),
            "{args:?} called AWS before refusing"
        );
        let flag = gdorg(&env, MANAGEMENT, args)
            .args(["--regions", "all", "--exclude-regions", "us-east-1"])
            .output()
            .await
            .unwrap();
        let by_env = gdorg(&env, MANAGEMENT, args)
            .env("GDORG_REGIONS", "all")
            .args(["--exclude-regions", "us-east-1"])
            .output()
            .await
            .unwrap();
        for out in [&flag, &by_env] {
            let err = String::from_utf8_lossy(&out.stderr);
            // Accepted: the command ran (archive of an unknown id is refused after reading).
            assert!(
                out.status.code() != Some(1) || err.contains("no detector of account"),
                "{args:?}: {err}"
            );
            assert!(!err.contains("region name"), "{args:?}: {err}");
        }
    }
    // The regions reached: all 32 but the one left out, in a command that prints them.
    let out = gdorg(&env, MANAGEMENT, &["findings", "count"])
        .env("GDORG_REGIONS", "all")
        .output()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["regions"].as_array().unwrap().len(),
        guardduty_org::regions::COMMERCIAL.len()
    );
    let out = gdorg(&env, MANAGEMENT, &["audit", "--format", "json"])
        .args(["--regions", "all", "--fail-on", "never"])
        .output()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["regions"].as_array().unwrap().len(),
        guardduty_org::regions::COMMERCIAL.len()
    );
}

/// `--concurrency 0` is refused by name in every command that has it.
#[tokio::test]
async fn concurrency_zero_is_refused_everywhere() {
    let env = Env::new(1).await;
    for args in [
        &["audit"][..],
        &["rollout"],
        &["findings", "export"],
        &["report"],
        &["sample-findings"],
        &["filters", "sync", "examples/filters.toml"],
        &["policies", "apply"],
    ] {
        let out = gdorg(&env, MANAGEMENT, args)
            .args(["--concurrency", "0"])
            .output()
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("--concurrency 0"), "{args:?}: {err}");
    }
}

/// With no credentials anywhere, one line says so, where gdorg looked, and what to do: no
/// SDK debug dump.
#[tokio::test]
async fn no_credentials_is_one_clear_line() {
    let env = Env::new(1).await;
    let home = tempfile::tempdir().unwrap();
    let out = gdorg(&env, MANAGEMENT, &["audit"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("HOME", home.path())
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no AWS credentials were found"), "{err}");
    assert!(
        err.contains("--profile") && err.contains("aws sso login"),
        "{err}"
    );
    assert!(err.contains("gdorg sandbox serve"), "{err}");
    for noise in ["DispatchFailure", "ConnectorError", "source:"] {
        assert!(!err.contains(noise), "{noise} in {err}");
    }
}

/// An endpoint that does not implement an operation and answers with a bare status: the user
/// sees the HTTP status and what it means, not "Unknown: ".
#[tokio::test]
async fn a_bare_http_status_is_shown_with_its_meaning() {
    let env = Env::new(1).await;
    // A server that answers everything with 404 and no body, as an emulator or proxy would
    // for an operation it lacks; GuardDuty goes there, the rest to the sandbox.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    let out = gdorg(
        &env,
        MANAGEMENT,
        &[
            "audit",
            "--regions",
            "eu-west-1",
            "--mode",
            "invitation",
            "--format",
            "json",
        ],
    )
    .env("AWS_ENDPOINT_URL_GUARDDUTY", format!("http://{addr}"))
    .output()
    .await
    .unwrap();
    server.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("HTTP 404"), "{stdout}");
    assert!(
        stdout.contains("does not implement this operation"),
        "{stdout}"
    );
    assert!(!stdout.contains("Unknown: "), "{stdout}");
}

/// Ctrl-C during `findings export`: the calls in flight finish, the file holds every finding
/// read until then, each whole, and gdorg says it was interrupted.
#[tokio::test]
async fn ctrl_c_during_export_leaves_a_complete_partial_file() {
    let faults = r#"
[faults]
latency_ms = 60
operations = ["GetFindings", "ListFindings"]
"#;
    let env = Env::with_spec(invited_org(20, 60, faults)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.ndjson");
    let mut child = gdorg(
        &env,
        MANAGEMENT,
        &[
            "findings",
            "export",
            "--regions",
            "eu-west-1",
            "--concurrency",
            "2",
            "--output",
            file.to_str().unwrap(),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_calls(&env, "GetFindings", 3, 60).await;
    interrupt(&child);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        child.wait().await.unwrap()
    })
    .await
    .expect("gdorg stops soon after Ctrl-C");
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert_eq!(out.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let text = std::fs::read_to_string(&file).expect("the partial file was written");
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty(), "{stderr}");
    assert!(
        lines.len() < 21 * 60,
        "it stopped early: {} lines",
        lines.len()
    );
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).expect("every line is whole JSON");
        assert!(v["id"].is_string());
    }
    assert!(
        stderr.contains(&format!(
            "the {} finding(s) read before the stop",
            lines.len()
        )),
        "{stderr}"
    );
    // No temporary file is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// A rollout stopped while it is still reading says that nothing was changed, and nothing was.
#[tokio::test]
async fn an_interrupted_read_says_nothing_was_changed() {
    let spec = OrgSpec::parse(
        r#"
member_accounts = 12

[faults]
latency_ms = 80
services = ["guardduty"]
"#,
    )
    .unwrap();
    let env = Env::with_spec(spec).await;
    let child = gdorg(
        &env,
        MANAGEMENT,
        &[
            "rollout",
            "--mode",
            "invitation",
            "--regions",
            "eu-west-1,us-east-1,us-west-2",
            "--concurrency",
            "2",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_calls(&env, "ListDetectors", 4, 60).await;
    interrupt(&child);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("gdorg stops soon after Ctrl-C")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("Interrupted while reading: nothing was changed"),
        "{stdout}"
    );
    let mutating: Vec<_> = env
        .sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| c.is_mutating())
        .collect();
    assert!(mutating.is_empty(), "{mutating:?}");
}

/// After an invitation-mode rollout, a plain audit reads the mode from the organization (no
/// delegated administrator, invited members) instead of assuming organizations mode.
#[tokio::test]
async fn the_audit_reads_the_mode_from_the_organization() {
    let env = Env::with_spec(invited_org(2, 1, "")).await;
    let out = gdorg(
        &env,
        MANAGEMENT,
        &["audit", "--regions", "eu-west-1", "--format", "json"],
    )
    .output()
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mode"], "invitation", "{v}");
}

/// `gdorg --help` pages: each command's own options first, then the shared ones under
/// headings.
#[test]
fn help_groups_options_under_headings() {
    use clap::CommandFactory;
    let mut cli = guardduty_org::cli::Cli::command().term_width(100);
    cli.build();
    for name in ["report", "rollout"] {
        // Environment values (AWS_PROFILE, GDORG_REGIONS) would make the snapshot depend on
        // the machine: hide them.
        let mut sub = cli
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
            .mut_args(|a| a.hide_env_values(true));
        let help = sub.render_help().to_string();
        for heading in ["Scope:", "Run:", "AWS connection:", "Output:"] {
            assert!(help.contains(heading), "{name}: no {heading}\n{help}");
        }
        insta::assert_snapshot!(format!("help_{name}"), help);
    }
}

/// An account that administers GuardDuty members of its own cannot be made a member (the
/// planner refuses): the audit says what to do first instead of suggesting a rollout the tool
/// itself would refuse.
#[tokio::test]
async fn the_audit_suggests_no_fix_the_planner_refuses() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/demo-org.toml"
    ))
    .unwrap();
    let env = Env::with_spec(OrgSpec::parse(&text).unwrap()).await;
    let out = gdorg(
        &env,
        MANAGEMENT,
        &[
            "audit",
            "--mode",
            "invitation",
            "--regions",
            "eu-west-1",
            "--format",
            "json",
        ],
    )
    .output()
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fixes = v["fixes"].as_array().unwrap();
    let own: Vec<_> = fixes
        .iter()
        .filter(|f| {
            f["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "300000000003")
        })
        .collect();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0]["kind"], "release_own_members", "{own:?}");
    let command = own[0]["command"].as_str().unwrap();
    assert!(command.starts_with("first, in 300000000003"), "{command}");
    assert!(command.contains("disassociate-members"), "{command}");
    let cell = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["account"] == "300000000003" && c["region"] == "eu-west-1")
        .unwrap();
    assert_eq!(cell["administers_members"], true, "{cell}");
}
