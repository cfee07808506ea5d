//! `gdorg audit` end to end on mixed sandbox organizations: every detector status and
//! relationship, coverage, fixes, drift against a baseline, read-only, exit codes and every
//! output format through the binary.

use guardduty_org::audit::{self, Audit, DetectorStatus as D, FailOn, Relationship as R};
use guardduty_org::control::{Silent, Stop};
use guardduty_org::outcome::Outcome;
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::settings::{AccountSource, Desired, MemberAccount, Mode, RunSettings};

use crate::support::{self, session, Env};

const E1: &str = "us-east-1";
const W1: &str = "eu-west-1";
const AF: &str = "af-south-1";

/// Every state the audit knows, for the management account (111111111111) as administrator.
const MIXED: &str = r#"
seed = 3
member_accounts = 0

[[accounts]]
id = "300000000001"
opt_in_regions = ["af-south-1"]
[[accounts]]
id = "300000000002"
[[accounts]]
id = "300000000003"
[[accounts]]
id = "300000000004"
[[accounts]]
id = "300000000005"
[[accounts]]
id = "300000000006"
[[accounts]]
id = "300000000007"
[[accounts]]
id = "300000000008"
execution_role = false
[[accounts]]
id = "300000000009"
disabled_regions = ["eu-west-1"]
[[accounts]]
id = "300000000010"
suspended = true

[[detectors]]
accounts = ["111111111111", "300000000001", "300000000003", "300000000004", "300000000005"]
regions = ["us-east-1", "eu-west-1"]
finding_publishing_frequency = "FIFTEEN_MINUTES"
features = { S3_DATA_EVENTS = "ENABLED" }

[[detectors]]
accounts = ["300000000002"]
regions = ["us-east-1"]
status = "DISABLED"

[[detectors]]
accounts = ["300000000006", "300000000007", "300000000009"]
regions = ["us-east-1"]

[[memberships]]
administrator = "111111111111"
members = ["300000000001"]
regions = ["us-east-1", "eu-west-1"]
status = "Enabled"

[[memberships]]
administrator = "111111111111"
members = ["300000000002", "300000000009"]
regions = ["us-east-1"]
status = "Enabled"

[[memberships]]
administrator = "111111111111"
members = ["300000000003"]
regions = ["us-east-1"]
status = "Invited"

[[memberships]]
administrator = "111111111111"
members = ["300000000003"]
regions = ["eu-west-1"]
status = "Created"

[[memberships]]
administrator = "111111111111"
members = ["300000000004"]
regions = ["us-east-1"]
status = "Removed"

[[memberships]]
administrator = "111111111111"
members = ["300000000004"]
regions = ["eu-west-1"]
status = "Resigned"

[[memberships]]
administrator = "111111111111"
members = ["300000000005"]
regions = ["us-east-1"]
status = "EmailVerificationFailed"

[[memberships]]
administrator = "300000000007"
members = ["300000000006"]
regions = ["us-east-1"]
status = "Enabled"
"#;

fn mixed() -> OrgSpec {
    OrgSpec::parse(MIXED).expect("mixed org file")
}

fn desired(env: &Env, regions: &[&str]) -> Desired {
    Desired::new(
        Mode::Invitation,
        &env.management,
        regions.iter().map(|r| r.to_string()).collect(),
    )
}

async fn audit_of(env: &Env, regions: &[&str]) -> Audit {
    let s = session(env, 3).await;
    let (a, interrupted) = audit::run(
        s,
        desired(env, regions),
        &AccountSource::Organizations,
        8,
        &Silent,
        &Stop::default(),
    )
    .await
    .expect("audit runs");
    assert!(!interrupted);
    a
}

fn mutating(env: &Env) -> Vec<String> {
    env.sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| c.is_mutating())
        .map(|c| format!("{} {} {}", c.operation, c.account, c.region))
        .collect()
}

fn state(a: &Audit, account: &str, region: &str) -> (D, R) {
    let c = a
        .cell(account, region)
        .unwrap_or_else(|| panic!("no cell {account} {region}"));
    (c.detector, c.relationship)
}

#[tokio::test]
async fn mixed_org_every_status_read_only() {
    let env = Env::with_spec(mixed()).await;
    env.sandbox.calls().clear();
    let a = audit_of(&env, &[E1, W1, AF]).await;
    assert_eq!(mutating(&env), Vec::<String>::new(), "audit is read-only");

    let m = "111111111111";
    let expect = [
        (m, E1, D::Enabled, R::Administrator),
        (m, W1, D::Enabled, R::Administrator),
        (m, AF, D::RegionNotEnabled, R::Unknown),
        ("300000000001", E1, D::Enabled, R::Enabled),
        ("300000000001", W1, D::Enabled, R::Enabled),
        // Opted in to af-south-1 where the administrator has not: read anyway, no detector.
        ("300000000001", AF, D::Missing, R::NotMember),
        // Its own detector is suspended: GuardDuty reports the member as Disabled.
        ("300000000002", E1, D::Suspended, R::Disabled),
        ("300000000002", W1, D::Missing, R::NotMember),
        ("300000000002", AF, D::RegionNotEnabled, R::Unknown),
        ("300000000003", E1, D::Enabled, R::Invited),
        ("300000000003", W1, D::Enabled, R::Created),
        ("300000000004", E1, D::Enabled, R::Removed),
        ("300000000004", W1, D::Enabled, R::Resigned),
        ("300000000005", E1, D::Enabled, R::EmailVerificationFailed),
        ("300000000005", W1, D::Enabled, R::NotMember),
        ("300000000006", E1, D::Enabled, R::OtherAdministrator),
        ("300000000006", W1, D::Missing, R::NotMember),
        ("300000000007", E1, D::Enabled, R::NotMember),
        ("300000000008", E1, D::NoAccess, R::Unknown),
        ("300000000008", W1, D::NoAccess, R::Unknown),
        ("300000000009", E1, D::Enabled, R::Enabled),
        ("300000000009", W1, D::RegionNotEnabled, R::Unknown),
    ];
    for (acct, region, d, r) in expect {
        assert_eq!(state(&a, acct, region), (d, r), "{acct} {region}");
    }
    let c6 = a.cell("300000000006", E1).unwrap();
    assert_eq!(c6.other_administrator.as_deref(), Some("300000000007"));
    let c8 = a.cell("300000000008", E1).unwrap();
    assert!(
        c8.reason.as_deref().unwrap().contains("AssumeRole"),
        "{c8:?}"
    );
    // An Enabled member is read from the administrator (its member list and GetMemberDetectors):
    // the features are known, the publishing frequency (the member's own setting) is not.
    let c1 = a.cell("300000000001", E1).unwrap();
    assert!(c1.from_administrator, "{c1:?}");
    assert_eq!(c1.frequency, None);
    assert_eq!(c1.features.get("S3_DATA_EVENTS"), Some(&true));
    assert!(c1.covered);
    // A member that is not an Enabled one is read from inside, with its frequency.
    let c3 = a.cell("300000000003", E1).unwrap();
    assert!(!c3.from_administrator);
    assert_eq!(c3.frequency.as_deref(), Some("FIFTEEN_MINUTES"));

    // The suspended account is left out, not a gap.
    assert_eq!(a.skipped.len(), 1);
    assert_eq!(a.skipped[0].account, "300000000010");
    assert!(a.cells.iter().all(|c| c.account != "300000000010"));

    // Coverage: covered = admin x2, 1 x2, 9 x1 = 5. Region-not-enabled cells are not counted:
    // 10 accounts x 3 regions = 30, minus af-south-1 for all but 300000000001 and the
    // unreadable 300000000008 (8), minus 300000000009 in eu-west-1 = 21 counted.
    assert_eq!(a.summary.overall.covered, 5);
    assert_eq!(a.summary.overall.counted, 21);
    assert_eq!(a.summary.gaps, 16);
    assert_eq!(a.summary.per_region[AF].counted, 2);
    assert_eq!(state(&a, "300000000008", AF), (D::NoAccess, R::Unknown));
    assert_eq!(a.summary.per_account["300000000009"].percent(), 100.0);
    assert_eq!(a.outcome(FailOn::Gaps, false), Outcome::Findings);
    assert_eq!(a.outcome(FailOn::Never, false), Outcome::Success);

    // Fixes: the no-access account is told to grant access, the other administrator's member
    // needs --take-over, accounts with the same gap regions share one command.
    let fix_of = |acct: &str| {
        a.fixes
            .iter()
            .filter(|f| f.accounts.iter().any(|x| x == acct))
            .map(|f| f.command.clone())
            .collect::<Vec<_>>()
    };
    assert!(fix_of("300000000008")[0].starts_with("grant access"));
    // af-south-1 is not enabled for the administrator: enabling it comes first.
    assert_eq!(
        fix_of("300000000001"),
        vec![
            "enable af-south-1 for the administrator 111111111111 (an opt-in region), \
             then run the rollout there for 300000000001"
                .to_string()
        ]
    );
    // One --take-over rollout covers all of that account's gaps.
    assert_eq!(
        fix_of("300000000006"),
        vec![
            "gdorg rollout --mode invitation --admin-account 111111111111 \
             --account 300000000006,aws+300000000006@example.com \
             --regions eu-west-1,us-east-1 --take-over"
                .to_string()
        ]
    );
    let both = fix_of("300000000003");
    assert_eq!(both.len(), 1, "{both:?}");
    assert!(both[0].contains("--account 300000000004,"), "{both:?}");
    assert!(
        both[0].contains("--regions eu-west-1,us-east-1"),
        "{both:?}"
    );
    // Every gap has exactly one fix.
    for g in a.gaps() {
        let n = a
            .fixes
            .iter()
            .filter(|f| f.accounts.contains(&g.account) && f.regions.contains(&g.region))
            .count();
        assert_eq!(n, 1, "{} {}", g.account, g.region);
    }
}

#[tokio::test]
async fn baseline_drift_lost_gained_new() {
    let env = Env::with_spec(mixed()).await;
    let before = audit_of(&env, &[E1, W1]).await;
    // Round trip through the JSON (the baseline format).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baseline.json");
    std::fs::write(&path, audit::render::json(&before)).unwrap();
    let baseline = audit::drift::load(&path).unwrap();
    assert_eq!(baseline, before);

    // Lost: 300000000001 suspends its detector in us-east-1.
    let gd1 = support::gd(&env.user("300000000001").await, E1);
    let id = gd1.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    gd1.update_detector()
        .detector_id(id)
        .enable(false)
        .send()
        .await
        .unwrap();
    // Gained: a rollout of 300000000005 in eu-west-1.
    let s = session(&env, 3).await;
    let mut d = desired(&env, &[W1]);
    d.members = vec![];
    let report = guardduty_org::rollout::run(
        s,
        d,
        AccountSource::Listed(vec![MemberAccount {
            id: "300000000005".into(),
            email: "aws+300000000005@example.com".into(),
        }]),
        guardduty_org::rollout::Command::Rollout { dry_run: false },
        &RunSettings::default(),
        &Silent,
        &Stop::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.outcome(), Outcome::Success);

    // New: one more region audited.
    let mut now = audit_of(&env, &[E1, W1, "us-west-2"]).await;
    let drift = audit::drift::compare(&baseline, &now);
    let cells = |l: &[audit::drift::Change]| {
        l.iter()
            .map(|c| format!("{} {} {}>{}", c.account, c.region, c.before, c.after))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        cells(&drift.lost),
        vec!["300000000001 us-east-1 covered>detector suspended"]
    );
    assert_eq!(
        cells(&drift.gained),
        vec!["300000000005 eu-west-1 detector on, relationship: not a member>covered".to_string()]
    );
    assert_eq!(drift.added.len(), 10, "{:?}", drift.added);
    assert!(drift.added.iter().all(|c| c.region == "us-west-2"));
    assert!(drift.removed.is_empty());
    assert!(drift.regressed());
    now.drift = Some(drift);
    assert_eq!(now.outcome(FailOn::Drift, false), Outcome::Findings);

    // The same state against itself: no drift.
    let same = audit::drift::compare(&now, &now);
    assert!(!same.regressed() && same.gained.is_empty() && same.added.is_empty());

    // A baseline of another schema version is refused before any call.
    let mut v: serde_json::Value = serde_json::from_str(&audit::render::json(&before)).unwrap();
    v["schema_version"] = 99.into();
    std::fs::write(&path, v.to_string()).unwrap();
    let err = audit::drift::load(&path).unwrap_err().to_string();
    assert!(err.contains("schema_version 99"), "{err}");
}

/// The binary: every format, --output, exit codes 3 / 0 with --fail-on, full coverage 0.
#[tokio::test]
async fn the_gdorg_binary_audits_in_every_format_and_exits_by_coverage() {
    let env = Env::with_spec(mixed()).await;
    let keys = env.sandbox.keys_of(&env.management).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gdorg = |args: &[&str]| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_gdorg"));
        c.arg("audit")
            .args(args)
            .env("AWS_ENDPOINT_URL", env.sandbox.endpoint())
            .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .env_remove("GDORG_REGIONS");
        c
    };
    let regions = ["--mode", "invitation", "--regions", "us-east-1,eu-west-1"];
    env.sandbox.calls().clear();

    let out = gdorg(&regions).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("use1") && stdout.contains("euw1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("gdorg rollout --mode invitation"),
        "{stdout}"
    );
    assert!(stdout.contains("--take-over"), "{stdout}");

    let json = dir.path().join("audit.json");
    let out = gdorg(
        &[
            &regions[..],
            &["--format", "json", "--output", json.to_str().unwrap()],
        ]
        .concat(),
    )
    .output()
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        out.stdout.is_empty(),
        "--output writes the file, not stdout"
    );
    let parsed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(parsed["schema_version"], 1);
    assert_eq!(parsed["summary"]["gaps"], 14);

    for (format, needle) in [
        ("csv", "account,region,covered,detector,relationship"),
        ("markdown", "# GuardDuty audit"),
        ("html", "<!DOCTYPE html>"),
    ] {
        let out = gdorg(&[&regions[..], &["--format", format]].concat())
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{format}");
        assert!(stdout.contains(needle), "{format}: {stdout}");
        assert!(stdout.contains("300000000006"), "{format}");
    }

    // --fail-on never: exit 0 with gaps; --fail-on drift against itself: exit 0.
    let out = gdorg(&[&regions[..], &["--fail-on", "never"]].concat())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = gdorg(
        &[
            &regions[..],
            &["--fail-on", "drift", "--baseline", json.to_str().unwrap()],
        ]
        .concat(),
    )
    .output()
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 lost"), "{stdout}");
    // Bad input is refused before any call (exit 1 from main's error path).
    let calls = env.sandbox.calls().snapshot().len();
    let out = gdorg(&[&regions[..], &["--fail-on", "drift"]].concat())
        .output()
        .await
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--baseline"));
    let out = gdorg(&[&regions[..], &["--format", "xml"]].concat())
        .output()
        .await
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(
        env.sandbox.calls().snapshot().len(),
        calls,
        "no call on bad input"
    );
    assert_eq!(mutating(&env), Vec::<String>::new(), "audit is read-only");
}

/// A fresh organization after a rollout: full coverage, exit 0.
#[tokio::test]
async fn full_coverage_after_rollout_is_success() {
    let env = Env::new(3).await;
    let regions = [E1, W1];
    let before = audit_of(&env, &regions).await;
    assert_eq!(before.summary.overall.covered, 0);
    assert_eq!(before.outcome(FailOn::Gaps, false), Outcome::Findings);
    // One command for every account: they all miss the same regions.
    assert_eq!(before.fixes.len(), 1, "{:?}", before.fixes);
    let s = session(&env, 3).await;
    let report = guardduty_org::rollout::run(
        s,
        desired(&env, &regions),
        AccountSource::Organizations,
        guardduty_org::rollout::Command::Rollout { dry_run: false },
        &RunSettings::default(),
        &Silent,
        &Stop::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.outcome(), Outcome::Success);
    let after = audit_of(&env, &regions).await;
    assert_eq!(
        after.summary.gaps,
        0,
        "{:?}",
        after.gaps().collect::<Vec<_>>()
    );
    assert_eq!(after.summary.overall.percent(), 100.0);
    assert!(after.fixes.is_empty());
    assert_eq!(after.outcome(FailOn::Gaps, false), Outcome::Success);
}

/// Organizations mode: the delegated administrator and auto-enable per region, before and
/// after an organizations rollout; the management account is a member like the others.
#[tokio::test]
async fn organizations_mode_shows_delegated_admin_and_auto_enable() {
    let env = Env::new(3).await;
    let admin = env.members()[0].clone();
    let regions = [E1, W1];
    let org_desired = || {
        let mut d = desired(&env, &regions);
        d.mode = Mode::Organizations;
        d.administrator = admin.clone();
        d
    };
    let run = |d: Desired| {
        let env = &env;
        async move {
            let (a, _) = audit::run(
                session(env, 3).await,
                d,
                &AccountSource::Organizations,
                8,
                &Silent,
                &Stop::default(),
            )
            .await
            .unwrap();
            a
        }
    };
    let before = run(org_desired()).await;
    assert!(before
        .organization
        .iter()
        .all(|r| r.delegated_admins.is_empty() && r.auto_enable.is_none()));
    assert!(before.fixes[0].command.contains("--mode organizations"));
    assert_eq!(
        before.accounts.len(),
        4,
        "administrator, 2 members, management"
    );

    let report = guardduty_org::rollout::run(
        session(&env, 3).await,
        org_desired(),
        AccountSource::Organizations,
        guardduty_org::rollout::Command::Rollout { dry_run: false },
        &RunSettings::default(),
        &Silent,
        &Stop::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.outcome(), Outcome::Success);
    env.sandbox.calls().clear();
    let after = run(org_desired()).await;
    assert_eq!(mutating(&env), Vec::<String>::new(), "audit is read-only");
    for r in &after.organization {
        assert_eq!(r.delegated_admins, vec![format!("{admin} (ENABLED)")]);
        assert_eq!(r.auto_enable.as_deref(), Some("NEW"));
    }
    assert_eq!(
        after.summary.gaps,
        0,
        "{:?}",
        after.gaps().collect::<Vec<_>>()
    );
    assert_eq!(state(&after, &env.management, E1), (D::Enabled, R::Enabled));
    assert_eq!(state(&after, &admin, W1), (D::Enabled, R::Administrator));
    let table = audit::render::table(&after);
    assert!(table.contains("organization per region"), "{table}");
    assert!(table.contains("NEW"), "{table}");
}

/// Snapshots of the mixed org as rendered (the timestamp, the one volatile field, blanked).
#[tokio::test]
async fn mixed_org_snapshots() {
    let env = Env::with_spec(mixed()).await;
    let mut a = audit_of(&env, &[E1, W1, AF]).await;
    a.generated_at = "[generated_at]".into();
    insta::assert_snapshot!("mixed_table", audit::render::table(&a));
    insta::assert_snapshot!("mixed_json", audit::render::json(&a));
    insta::assert_snapshot!("mixed_markdown", audit::render::markdown(&a));
}

/// A stop before the start: nothing is read, the cells say why, and the run is partial.
#[tokio::test]
async fn a_stopped_audit_is_partial_and_says_what_was_not_read() {
    let env = Env::new(2).await;
    let stop = Stop::default();
    stop.trigger();
    let (a, interrupted) = audit::run(
        session(&env, 3).await,
        desired(&env, &[E1]),
        &AccountSource::Organizations,
        4,
        &Silent,
        &stop,
    )
    .await
    .unwrap();
    assert!(interrupted);
    assert_eq!(a.cells.len(), 3);
    assert!(a
        .cells
        .iter()
        .all(|c| c.detector == D::NoAccess && c.reason.as_deref() == Some("not read (stopped)")));
    assert_eq!(a.outcome(FailOn::Never, interrupted), Outcome::Partial);
    assert_eq!(a.outcome(FailOn::Gaps, interrupted), Outcome::Findings);
}
