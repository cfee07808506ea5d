//! `plan` / `rollout` / `offboard` end to end: the library flow (settings → observe → plan →
//! execute → report) against an in-process sandbox through the real SDK clients.

use std::sync::Arc;
use std::time::Duration;

use guardduty_org::aws::Session;
use guardduty_org::control::{Silent, Stop};
use guardduty_org::execute::Status;
use guardduty_org::outcome::Outcome;
use guardduty_org::plan::{Action, Notice};
use guardduty_org::rollout::{self, Command, Report};
use guardduty_org::sandbox::faults::FaultConfig;
use guardduty_org::sandbox::org_file::{AccountSpec, OrgSpec};
use guardduty_org::settings::{
    AccountSource, Desired, Feature, Frequency, MemberAccount, Mode, RunSettings,
};

use crate::support::{self, session, Env};

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

fn desired(env: &Env, mode: Mode) -> Desired {
    let mut d = Desired::new(
        mode,
        &env.management,
        REGIONS.iter().map(|r| r.to_string()).collect(),
    );
    d.features = [Feature::S3DataEvents, Feature::RuntimeMonitoring].into();
    d.frequency = Some(Frequency::FifteenMinutes);
    d
}

async fn go(
    session: &Arc<Session>,
    desired: &Desired,
    source: &AccountSource,
    command: Command,
) -> Report {
    rollout::run(
        session.clone(),
        desired.clone(),
        source.clone(),
        command,
        &RunSettings::default(),
        &Silent,
        &Stop::default(),
    )
    .await
    .expect("run starts")
}

const ROLLOUT: Command = Command::Rollout { dry_run: false };
const OFFBOARD: Command = Command::Offboard { dry_run: false };

fn mutating(env: &Env) -> Vec<String> {
    env.sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| c.is_mutating())
        .map(|c| format!("{} {} {}", c.operation, c.account, c.region))
        .collect()
}

/// Whether `member` is an enabled member of `admin` in `region`, from both sides.
fn associated(env: &Env, admin: &str, member: &str, region: &str) -> bool {
    env.sandbox.world(|w| {
        let admin_side = w
            .cell(admin, region)
            .and_then(|c| c.members.get(member))
            .is_some_and(|m| m.relationship == "Enabled");
        admin_side && w.administrator_of(member, region) == Some(admin)
    })
}

fn failures(report: &Report) -> Vec<String> {
    let ex = report.execution.as_ref().unwrap();
    report
        .plan
        .steps
        .iter()
        .zip(&ex.results)
        .filter(|(_, r)| r.status != Status::Done)
        .map(|(s, r)| {
            format!(
                "{:?}: {:?} {:?} {:?}",
                s.action,
                r.status,
                r.error(),
                r.failed_accounts().collect::<Vec<_>>()
            )
        })
        .collect()
}

#[tokio::test]
async fn fresh_org_invitation_rollout_converges_then_second_run_changes_nothing() {
    let env = Env::new(5).await;
    let s = session(&env, 3).await;
    let d = desired(&env, Mode::Invitation);
    let journal = tempfile::tempdir().unwrap();
    let path = journal.path().join("run.json");

    // The plan alone changes nothing.
    let planned = go(&s, &d, &AccountSource::Organizations, Command::Plan).await;
    assert!(planned.execution.is_none());
    assert!(mutating(&env).is_empty(), "{:?}", mutating(&env));
    let counts = planned.plan.counts();
    assert_eq!(counts[0], ("create detector", 12, 12), "{counts:?}");
    assert!(counts.contains(&("create members", 2, 10)), "{counts:?}");
    assert!(counts.contains(&("invite members", 2, 10)), "{counts:?}");
    assert!(
        counts.contains(&("accept invitation", 10, 10)),
        "{counts:?}"
    );

    let report = rollout::run(
        s.clone(),
        d.clone(),
        AccountSource::Organizations,
        ROLLOUT,
        &RunSettings {
            journal: Some(path.clone()),
            ..Default::default()
        },
        &Silent,
        &Stop::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        report.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&report)
    );
    for member in env.members() {
        for region in REGIONS {
            assert!(
                associated(&env, &env.management, &member, region),
                "{member} {region}"
            );
            let (enabled, freq, s3) = env.sandbox.world(|w| {
                let d = w.detector(&member, region).unwrap();
                (
                    d.enabled,
                    d.finding_publishing_frequency.clone(),
                    d.features.get("S3_DATA_EVENTS").map(|f| f.status.clone()),
                )
            });
            assert!(enabled);
            assert_eq!(freq, "FIFTEEN_MINUTES");
            assert_eq!(s3.as_deref(), Some("ENABLED"));
        }
    }
    // Invitations went out without email, and STS was asked once per member account.
    let ops = env.sandbox.calls().count_by_operation();
    assert_eq!(ops.get("AssumeRole"), Some(&5), "{ops:?}");

    // The journal has every step and its result.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["command"], "rollout");
    let steps = j["steps"].as_array().unwrap();
    assert_eq!(steps.len(), report.plan.steps.len());
    assert!(steps.iter().all(|s| s["result"]["status"] == "done"), "{j}");
    assert_eq!(steps[0]["action"], "create_detector");

    env.sandbox.calls().clear();
    let again = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert!(again.plan.is_empty(), "{:?}", again.plan);
    assert_eq!(again.outcome(), Outcome::Success);
    assert_eq!(mutating(&env), Vec::<String>::new());
}

/// An org whose accounts are in every state the planner knows.
fn mixed_spec() -> OrgSpec {
    let acct = |id: &str| AccountSpec {
        id: id.into(),
        name: None,
        email: None,
        suspended: false,
        execution_role: None,
        opt_in_regions: vec![],
        disabled_regions: vec![],
        ..AccountSpec::default()
    };
    let mut spec = OrgSpec::generated(0);
    spec.accounts = vec![
        acct("300000000001"), // fresh
        acct("300000000002"), // detector already on
        acct("300000000003"), // detector suspended
        acct("300000000004"), // pending invitation from us
        acct("300000000005"), // member of another administrator
        acct("300000000006"), // the other administrator (not ours to touch)
        AccountSpec {
            execution_role: Some(false), // no role to assume
            ..acct("300000000007")
        },
        AccountSpec {
            disabled_regions: vec!["eu-west-1".into()],
            ..acct("300000000008")
        },
    ];
    spec
}

fn listed(ids: &[&str]) -> AccountSource {
    AccountSource::Listed(
        ids.iter()
            .map(|id| MemberAccount {
                id: id.to_string(),
                email: format!("aws+{id}@example.com"),
            })
            .collect(),
    )
}

#[tokio::test]
async fn mixed_org_converges_what_it_can_and_reports_the_rest() {
    let env = Env::with_spec(mixed_spec()).await;
    let r = "us-east-1";
    // Arrange each state through the accounts' own keys, as their owners would.
    for region in REGIONS {
        let gd2 = support::gd(&env.user("300000000002").await, region);
        gd2.create_detector().enable(true).send().await.unwrap();
        let gd3 = support::gd(&env.user("300000000003").await, region);
        let det3 = gd3.create_detector().enable(true).send().await.unwrap();
        gd3.update_detector()
            .detector_id(det3.detector_id().unwrap())
            .enable(false)
            .send()
            .await
            .unwrap();
        // Account 6 administers account 5.
        let gd6 = support::gd(&env.user("300000000006").await, region);
        let det6 = gd6.create_detector().enable(true).send().await.unwrap();
        let det6 = det6.detector_id().unwrap();
        gd6.create_members()
            .detector_id(det6)
            .account_details(
                aws_sdk_guardduty::types::AccountDetail::builder()
                    .account_id("300000000005")
                    .email("aws+300000000005@example.com")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        gd6.invite_members()
            .detector_id(det6)
            .account_ids("300000000005")
            .send()
            .await
            .unwrap();
        let gd5 = support::gd(&env.user("300000000005").await, region);
        let det5 = gd5.create_detector().enable(true).send().await.unwrap();
        let inv = gd5.list_invitations().send().await.unwrap();
        gd5.accept_administrator_invitation()
            .detector_id(det5.detector_id().unwrap())
            .administrator_id("300000000006")
            .invitation_id(inv.invitations()[0].invitation_id().unwrap())
            .send()
            .await
            .unwrap();
    }
    // The management account invites account 4 in us-east-1, not yet accepted.
    let gdm = support::gd(&env.mgmt, r);
    let detm = gdm.create_detector().enable(true).send().await.unwrap();
    let detm = detm.detector_id().unwrap();
    gdm.create_members()
        .detector_id(detm)
        .account_details(
            aws_sdk_guardduty::types::AccountDetail::builder()
                .account_id("300000000004")
                .email("aws+300000000004@example.com")
                .build(),
        )
        .send()
        .await
        .unwrap();
    gdm.invite_members()
        .detector_id(detm)
        .account_ids("300000000004")
        .disable_email_notification(true)
        .send()
        .await
        .unwrap();

    let s = session(&env, 3).await;
    let mut d = desired(&env, Mode::Invitation);
    d.regions.push("af-south-1".into()); // an opt-in region nobody enabled
    let ours = [
        "300000000001",
        "300000000002",
        "300000000003",
        "300000000004",
        "300000000005",
        "300000000007",
        "300000000008",
    ];
    let source = listed(&ours);
    let plan = go(&s, &d, &source, Command::Plan).await;
    let accept_4 = plan.plan.steps.iter().find(|st| {
        matches!(&st.action, Action::AcceptInvitation { account, region, .. } if account == "300000000004" && region == r)
    });
    assert!(accept_4.is_some());
    assert!(
        !plan.plan.steps.iter().any(|st| matches!(&st.action,
            Action::InviteMembers { region, accounts, .. } if region == r && accounts.contains(&"300000000004".to_string()))),
        "a pending invitation is accepted, not sent again"
    );
    assert!(plan.plan.steps.iter().any(|st| matches!(&st.action,
        Action::EnableDetector { account, .. } if account == "300000000003")));

    let report = go(&s, &d, &source, ROLLOUT).await;
    // Partial: account 7 has no role and account 5 has another administrator.
    assert_eq!(
        report.outcome(),
        Outcome::Partial,
        "{:?}",
        failures(&report)
    );
    assert!(failures(&report).is_empty(), "{:?}", failures(&report));
    let notices = &report.plan.notices;
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, Notice::NoAccess { account, .. } if account == "300000000007")),
        "{notices:?}"
    );
    assert!(notices.iter().any(|n| matches!(n, Notice::OtherAdministrator { account, administrator, .. } if account == "300000000005" && administrator == "300000000006")));
    assert!(notices.iter().any(|n| matches!(n, Notice::RegionNotEnabled { account, region } if account == "300000000008" && region == "eu-west-1")));
    assert!(notices
        .iter()
        .any(|n| matches!(n, Notice::RegionNotEnabled { region, .. } if region == "af-south-1")));
    for region in REGIONS {
        for m in [
            "300000000001",
            "300000000002",
            "300000000003",
            "300000000004",
        ] {
            assert!(associated(&env, &env.management, m, region), "{m} {region}");
        }
        assert!(associated(&env, "300000000006", "300000000005", region));
        assert!(env
            .sandbox
            .world(|w| w.detector("300000000003", region).unwrap().enabled));
    }
    assert!(associated(&env, &env.management, "300000000008", r));

    // With --take-over, account 5 moves to us; then the org is converged.
    d.take_over = true;
    let report = go(&s, &d, &source, ROLLOUT).await;
    assert!(failures(&report).is_empty(), "{:?}", failures(&report));
    for region in REGIONS {
        assert!(associated(&env, &env.management, "300000000005", region));
    }
    env.sandbox.calls().clear();
    let again = go(&s, &d, &source, ROLLOUT).await;
    assert_eq!(mutating(&env), Vec::<String>::new());
    // Still partial: account 7 still has no role.
    assert_eq!(again.outcome(), Outcome::Partial);
    // The refusal was remembered: no new AssumeRole for account 7 in any region.
    let refused = env
        .sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| c.operation == "AssumeRole" && c.status >= 400)
        .count();
    assert_eq!(refused, 0);
}

#[tokio::test]
async fn organizations_mode_delegates_configures_and_adds_members() {
    let env = Env::new(4).await;
    let s = session(&env, 3).await;
    let members = env.members();
    let admin = members[0].clone();
    let mut d = desired(&env, Mode::Organizations);
    d.administrator = admin.clone();
    let report = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(
        report.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&report)
    );
    for region in REGIONS {
        let (delegated, auto, s3) = env.sandbox.world(|w| {
            let o = &w.guardduty_org[region];
            (
                o.admin.clone(),
                o.config.auto_enable_members.clone(),
                o.config.features.get("S3_DATA_EVENTS").cloned(),
            )
        });
        assert_eq!(delegated.as_deref(), Some(admin.as_str()));
        assert_eq!(auto, "NEW");
        assert_eq!(s3.as_deref(), Some("NEW"));
        for m in members.iter().skip(1).chain([&env.management]) {
            assert!(associated(&env, &admin, m, region), "{m} {region}");
        }
    }
    env.sandbox.calls().clear();
    let again = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert!(again.plan.is_empty(), "{:?}", again.plan);
    assert_eq!(mutating(&env), Vec::<String>::new());

    // Offboard undoes it, and a second offboard has nothing to do.
    let off = go(&s, &d, &AccountSource::Organizations, OFFBOARD).await;
    assert_eq!(off.outcome(), Outcome::Success, "{:?}", failures(&off));
    for region in REGIONS {
        let (delegated, auto, members_left) = env.sandbox.world(|w| {
            (
                w.guardduty_org.get(region).and_then(|o| o.admin.clone()),
                w.guardduty_org
                    .get(region)
                    .map(|o| o.config.auto_enable_members.clone()),
                w.cell(&admin, region).map(|c| c.members.len()).unwrap_or(0),
            )
        });
        assert_eq!(delegated, None);
        assert_eq!(auto.as_deref().unwrap_or("NONE"), "NONE");
        assert_eq!(members_left, 0);
    }
    env.sandbox.calls().clear();
    let again = go(&s, &d, &AccountSource::Organizations, OFFBOARD).await;
    assert!(again.plan.is_empty(), "{:?}", again.plan);
    assert_eq!(mutating(&env), Vec::<String>::new());
}

#[tokio::test]
async fn invitation_offboard_keeps_detectors_unless_asked() {
    let env = Env::new(3).await;
    let s = session(&env, 3).await;
    let mut d = desired(&env, Mode::Invitation);
    let src = AccountSource::Organizations;
    assert_eq!(go(&s, &d, &src, ROLLOUT).await.outcome(), Outcome::Success);
    let dry = go(&s, &d, &src, Command::Offboard { dry_run: true }).await;
    assert_eq!(
        dry.plan.counts(),
        vec![("disassociate members", 2, 6), ("delete members", 2, 6)]
    );
    let off = go(&s, &d, &src, OFFBOARD).await;
    assert_eq!(off.outcome(), Outcome::Success, "{:?}", failures(&off));
    for m in env.members() {
        for region in REGIONS {
            assert_eq!(
                env.sandbox
                    .world(|w| w.administrator_of(&m, region).map(String::from)),
                None
            );
            assert!(
                env.sandbox.world(|w| w.detector(&m, region).is_some()),
                "detector kept"
            );
        }
    }
    // Roll out again, then offboard deleting the member detectors.
    assert_eq!(go(&s, &d, &src, ROLLOUT).await.outcome(), Outcome::Success);
    d.delete_detectors = true;
    let off = go(&s, &d, &src, OFFBOARD).await;
    assert_eq!(off.outcome(), Outcome::Success, "{:?}", failures(&off));
    for m in env.members() {
        for region in REGIONS {
            assert!(env.sandbox.world(|w| w.detector(&m, region).is_none()));
        }
    }
    env.sandbox.calls().clear();
    assert!(go(&s, &d, &src, OFFBOARD).await.plan.is_empty());
    assert_eq!(mutating(&env), Vec::<String>::new());
}

#[tokio::test]
async fn more_than_fifty_accounts_are_batched() {
    let env = Env::new(120).await;
    let s = session(&env, 3).await;
    let mut d = desired(&env, Mode::Invitation);
    d.regions = vec!["us-east-1".into()];
    let report = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(
        report.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&report)
    );
    let ops = env.sandbox.calls().count_by_operation();
    assert_eq!(ops.get("CreateMembers"), Some(&3), "{ops:?}");
    assert_eq!(ops.get("InviteMembers"), Some(&3), "{ops:?}");
    for m in env.members() {
        assert!(associated(&env, &env.management, &m, "us-east-1"), "{m}");
    }
}

#[tokio::test]
async fn throttling_and_server_errors_still_converge() {
    let env = Env::new(6).await;
    let s = session(&env, 6).await;
    let d = desired(&env, Mode::Invitation);
    env.sandbox.faults().set(FaultConfig {
        rate_limit_per_second: 20.0,
        rate_limit_burst: Some(2.0),
        error_rate: 0.1,
        seed: 3,
        ..Default::default()
    });
    let first = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    let answered = env.sandbox.calls().snapshot();
    assert!(
        answered.iter().any(|c| c.status == 500)
            && answered.iter().any(|c| c.status == 400 || c.status == 429),
        "faults were injected"
    );
    // Whatever the retries did not absorb, a re-run finishes.
    let mut outcome = first.outcome();
    for _ in 0..3 {
        if outcome == Outcome::Success {
            break;
        }
        outcome = go(&s, &d, &AccountSource::Organizations, ROLLOUT)
            .await
            .outcome();
    }
    assert_eq!(outcome, Outcome::Success);
    env.sandbox.faults().set(FaultConfig::default());
    for m in env.members() {
        for region in REGIONS {
            assert!(
                associated(&env, &env.management, &m, region),
                "{m} {region}"
            );
        }
    }
    env.sandbox.calls().clear();
    go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(mutating(&env), Vec::<String>::new());
}

#[tokio::test]
async fn credentials_expiring_mid_run_are_refreshed() {
    let mut spec = OrgSpec::generated(4);
    spec.session_lifetime_secs = 2;
    // 80 ms a call, one at a time, makes the run (~70 calls) outlast two session lifetimes.
    spec.faults.latency_ms = 80;
    let env = Env::with_spec(spec).await;
    let s = session(&env, 3).await;
    let d = desired(&env, Mode::Invitation);
    let started = std::time::Instant::now();
    let report = rollout::run(
        s.clone(),
        d.clone(),
        AccountSource::Organizations,
        ROLLOUT,
        &RunSettings {
            concurrency: 1,
            journal: None,
        },
        &Silent,
        &Stop::default(),
    )
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(
        took > Duration::from_secs(4),
        "the run must outlive two sessions: {took:?}"
    );
    assert_eq!(
        report.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&report)
    );
    let calls = env.sandbox.calls().snapshot();
    assert!(
        !calls
            .iter()
            .any(|c| c.status >= 400 && c.operation != "AssumeRole"),
        "no call was refused"
    );
    let assumes = calls.iter().filter(|c| c.operation == "AssumeRole").count();
    assert!(
        assumes > 4,
        "credentials were refreshed: {assumes} AssumeRole"
    );
}

#[tokio::test]
async fn members_are_observed_while_the_organization_is_still_being_listed() {
    // 300 members: 16 pages of ListAccounts, one after another, 10 ms each. The administrator's
    // side takes a few calls; then each listed page's members are read while the next pages
    // come, rather than after the last one.
    let mut spec = OrgSpec::generated(300);
    spec.faults.latency_ms = 10;
    let env = Env::with_spec(spec).await;
    let s = session(&env, 3).await;
    let d = desired(&env, Mode::Invitation);
    let report = go(
        &s,
        &d,
        &AccountSource::Organizations,
        Command::Rollout { dry_run: true },
    )
    .await;
    assert_eq!(report.desired.members.len(), 300);
    // In the order answered: the first call signed by a member came before the last page.
    let calls = env.sandbox.calls().snapshot();
    let last_page = calls
        .iter()
        .rposition(|c| c.operation == "ListAccounts")
        .expect("the organization was listed");
    let pages = calls
        .iter()
        .filter(|c| c.operation == "ListAccounts")
        .count();
    assert!(pages >= 15, "{pages} pages");
    let first_member = calls
        .iter()
        .position(|c| !c.account.is_empty() && c.account != env.management)
        .expect("the members were read");
    assert!(
        first_member < last_page,
        "a member was first read at call {first_member}, the last page listed at {last_page}"
    );
    // Every member x region was observed all the same: each one's acceptance is planned.
    let accepts = report
        .plan
        .steps
        .iter()
        .filter(|step| matches!(step.action, Action::AcceptInvitation { .. }))
        .count();
    assert_eq!(accepts, 300 * REGIONS.len());
}

#[tokio::test]
async fn stop_before_start_writes_a_partial_journal() {
    let env = Env::new(2).await;
    let s = session(&env, 3).await;
    let d = desired(&env, Mode::Invitation);
    let stop = Stop::default();
    stop.trigger();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.json");
    let report = rollout::run(
        s,
        d,
        AccountSource::Organizations,
        ROLLOUT,
        &RunSettings {
            concurrency: 4,
            journal: Some(path.clone()),
        },
        &Silent,
        &stop,
    )
    .await
    .unwrap();
    assert!(report.interrupted);
    assert_eq!(report.outcome(), Outcome::Partial);
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(j["interrupted"], true);
    assert!(mutating(&env).is_empty());
}

#[tokio::test]
async fn suspended_accounts_are_skipped_and_reported() {
    let mut spec = OrgSpec::generated(2);
    spec.accounts = vec![AccountSpec {
        id: "300000000009".into(),
        name: None,
        email: None,
        suspended: true,
        execution_role: None,
        opt_in_regions: vec![],
        disabled_regions: vec![],
        ..AccountSpec::default()
    }];
    let env = Env::with_spec(spec).await;
    let s = session(&env, 3).await;
    let d = desired(&env, Mode::Invitation);
    let report = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(
        report.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&report)
    );
    assert_eq!(
        report.plan.notices,
        vec![Notice::SuspendedAccount {
            account: "300000000009".into()
        }]
    );
    assert!(!report
        .desired
        .members
        .iter()
        .any(|m| m.id == "300000000009"));
    assert_eq!(report.desired.members.len(), 2);
}

/// The binary itself: flags, tables on stdout, exit codes (0 done, 2 partial, 1 bad input).
#[tokio::test]
async fn the_gdorg_binary_plans_rolls_out_and_exits_by_outcome() {
    let mut spec = OrgSpec::generated(2);
    spec.accounts = vec![AccountSpec {
        id: "300000000007".into(),
        name: None,
        email: None,
        suspended: false,
        execution_role: Some(false),
        opt_in_regions: vec![],
        disabled_regions: vec![],
        ..AccountSpec::default()
    }];
    let env = Env::with_spec(spec).await;
    let keys = env.sandbox.keys_of(&env.management).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.json");
    let gdorg = |args: &[&str]| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_gdorg"));
        c.args(args)
            .env("AWS_ENDPOINT_URL", env.sandbox.endpoint())
            .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .env_remove("GDORG_REGIONS");
        c
    };
    let common = ["--mode", "invitation", "--regions", "us-east-1,eu-west-1"];

    let out = gdorg(&[&["plan"][..], &common[..]].concat())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("create detector"), "{stdout}");
    assert!(stdout.contains("no access (role)"), "{stdout}");
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(mutating(&env).is_empty());

    let j = journal.to_str().unwrap();
    let out = gdorg(&[&["rollout", "--journal", j][..], &common[..]].concat())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Partial: the account without the role is reported, the others are done.
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("accept invitation"), "{stdout}");
    assert!(stdout.contains("300000000007"), "{stdout}");
    for m in ["200000000001", "200000000002"] {
        assert!(associated(&env, &env.management, m, "eu-west-1"), "{m}");
    }
    let parsed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&journal).unwrap()).unwrap();
    assert_eq!(parsed["notices"][0]["notice"], "no_access");

    // Only the role-less account is left: an account list without it converges, exit 0.
    let out = gdorg(
        &[
            &[
                "rollout",
                "--account",
                "200000000001,aws+member-0001@example.com",
            ][..],
            &common[..],
        ]
        .concat(),
    )
    .output()
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Bad input fails before any call, naming the problem.
    env.sandbox.calls().clear();
    let out = gdorg(&["rollout", "--account", "12345,a@example.com"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--account #1") && stderr.contains("12 digits"),
        "{stderr}"
    );
    assert!(env.sandbox.calls().snapshot().is_empty());
}

/// Stops the run (as Ctrl-C does) once `after` steps of the apply phase have finished.
struct StopAfter {
    stop: Stop,
    after: usize,
    seen: std::sync::atomic::AtomicUsize,
    applying: std::sync::atomic::AtomicBool,
}

impl guardduty_org::control::Reporter for StopAfter {
    fn start(&self, phase: &'static str, _: usize) {
        self.applying
            .store(phase == "apply", std::sync::atomic::Ordering::SeqCst);
    }
    fn advance(&self, n: usize) {
        if self.applying.load(std::sync::atomic::Ordering::SeqCst)
            && self.seen.fetch_add(n, std::sync::atomic::Ordering::SeqCst) + n >= self.after
        {
            self.stop.trigger();
        }
    }
    fn finish(&self) {}
}

#[tokio::test]
async fn stop_mid_run_finishes_calls_in_flight_and_journals_the_rest() {
    let env = Env::new(6).await;
    let s = session(&env, 3).await;
    let d = desired(&env, Mode::Invitation);
    let stop = Stop::default();
    let reporter = StopAfter {
        stop: stop.clone(),
        after: 5,
        seen: Default::default(),
        applying: Default::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.json");
    let report = rollout::run(
        s.clone(),
        d.clone(),
        AccountSource::Organizations,
        ROLLOUT,
        &RunSettings {
            concurrency: 2,
            journal: Some(path.clone()),
        },
        &reporter,
        &stop,
    )
    .await
    .unwrap();
    assert!(report.interrupted);
    assert_eq!(report.outcome(), Outcome::Partial);
    let ex = report.execution.as_ref().unwrap();
    let done = ex.count(Status::Done);
    assert!((5..=6).contains(&done), "{done} done");
    assert_eq!(ex.count(Status::NotStarted), ex.results.len() - done);
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(j["interrupted"], true);
    let statuses: Vec<&str> = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["result"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "done").count(), done);
    assert!(statuses.contains(&"not_started"));
    // A new run picks up where the stopped one left off.
    let rest = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(rest.outcome(), Outcome::Success, "{:?}", failures(&rest));
    assert_eq!(rest.plan.steps.len(), report.plan.steps.len() - done);
}

#[tokio::test]
async fn invitation_mode_with_an_assumed_administrator_account() {
    let env = Env::new(4).await;
    let s = session(&env, 3).await;
    let members = env.members();
    let admin = members[0].clone();
    let mut d = desired(&env, Mode::Invitation);
    d.administrator = admin.clone();
    let ids: Vec<&str> = members[1..].iter().map(String::as_str).collect();
    let source = AccountSource::Listed(
        ids.iter()
            .map(|id| MemberAccount {
                id: id.to_string(),
                email: format!(
                    "aws+member-{:04}@example.com",
                    id[8..].parse::<u32>().unwrap()
                ),
            })
            .collect(),
    );
    let report = go(&s, &d, &source, ROLLOUT).await;
    assert_eq!(
        report.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&report)
    );
    for m in &ids {
        for region in REGIONS {
            assert!(associated(&env, &admin, m, region), "{m} {region}");
        }
    }
    // The administrator's calls were made with its assumed role, not the caller's keys.
    let calls = env.sandbox.calls().snapshot();
    assert!(calls
        .iter()
        .filter(|c| c.operation == "CreateMembers" || c.operation == "InviteMembers")
        .all(|c| c.account == admin));
    env.sandbox.calls().clear();
    assert!(go(&s, &d, &source, ROLLOUT).await.plan.is_empty());
    assert_eq!(mutating(&env), Vec::<String>::new());
}

/// Whether every feature of `features` is ENABLED in `account`'s detector in `region`.
fn has_features(env: &Env, account: &str, region: &str, features: &[&str]) -> bool {
    env.sandbox.world(|w| {
        w.detector(account, region).is_some_and(|d| {
            features
                .iter()
                .all(|f| d.features.get(*f).is_some_and(|s| s.status == "ENABLED"))
        })
    })
}

#[tokio::test]
async fn organizations_mode_gives_existing_members_new_features() {
    let env = Env::new(4).await;
    let s = session(&env, 3).await;
    let members = env.members();
    let admin = members[0].clone();
    let mut d = desired(&env, Mode::Organizations);
    d.administrator = admin.clone();
    d.features.clear();
    let first = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(first.outcome(), Outcome::Success, "{:?}", failures(&first));
    let wanted = ["S3_DATA_EVENTS", "RUNTIME_MONITORING"];
    let others: Vec<&String> = members.iter().skip(1).chain([&env.management]).collect();
    for region in REGIONS {
        for m in &others {
            assert!(associated(&env, &admin, m, region), "{m} {region}");
            assert!(!has_features(&env, m, region, &wanted[..1]), "{m} {region}");
        }
    }

    // Now the features are wanted: auto-enable NEW alone would leave the existing members
    // without them; the administrator sets them in their detectors.
    d.features = [Feature::S3DataEvents, Feature::RuntimeMonitoring].into();
    env.sandbox.calls().clear();
    let second = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(
        second.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&second)
    );
    let counts = second.plan.counts();
    // Per region: the four members (three generated, and the management account) in one batch.
    assert!(
        counts.contains(&("update member features", 2, 2 * others.len())),
        "{counts:?}"
    );
    for region in REGIONS {
        for m in &others {
            assert!(has_features(&env, m, region, &wanted), "{m} {region}");
        }
    }
    let ops = env.sandbox.calls().count_by_operation();
    assert_eq!(ops.get("UpdateMemberDetectors"), Some(&2), "{ops:?}");
    // Observed through the administrator, a batch per region.
    assert_eq!(ops.get("GetMemberDetectors"), Some(&2), "{ops:?}");

    env.sandbox.calls().clear();
    let third = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert!(third.plan.is_empty(), "{:?}", third.plan);
    assert_eq!(mutating(&env), Vec::<String>::new());
}

#[tokio::test]
async fn email_verification_failure_is_fixed_by_a_new_email_or_reported_once() {
    let env = Env::new(2).await;
    let s = session(&env, 3).await;
    let d = desired(&env, Mode::Invitation);
    let members = env.members();
    let real = |id: &str| env.sandbox.world(|w| w.accounts[id].email.clone());
    let with_email = |email: &str| {
        AccountSource::Listed(vec![
            MemberAccount {
                id: members[0].clone(),
                email: email.to_string(),
            },
            MemberAccount {
                id: members[1].clone(),
                email: real(&members[1]),
            },
        ])
    };
    let status = |region: &str| {
        env.sandbox.world(|w| {
            w.cell(&env.management, region)
                .and_then(|c| c.members.get(&members[0]))
                .map(|m| (m.relationship.clone(), m.email.clone()))
        })
    };

    // A wrong address: GuardDuty cannot verify it, the member's acceptance fails.
    let wrong = with_email("wrong@example.com");
    let first = go(&s, &d, &wrong, ROLLOUT).await;
    assert_eq!(first.outcome(), Outcome::Partial);
    for region in REGIONS {
        assert_eq!(
            status(region),
            Some(("EmailVerificationFailed".into(), "wrong@example.com".into()))
        );
        assert!(associated(&env, &env.management, &members[1], region));
    }

    // The same address again: reported with what to check, never re-invited.
    env.sandbox.calls().clear();
    let second = go(&s, &d, &wrong, ROLLOUT).await;
    assert!(second.plan.is_empty(), "{:?}", second.plan);
    assert_eq!(mutating(&env), Vec::<String>::new());
    assert_eq!(second.outcome(), Outcome::Partial);
    let evf: Vec<&Notice> = second
        .plan
        .notices
        .iter()
        .filter(|n| matches!(n, Notice::EmailVerificationFailed { .. }))
        .collect();
    assert_eq!(evf.len(), 2, "{:?}", second.plan.notices);
    let table = rollout::render::notices(&second.plan.notices);
    assert!(table.contains("email verification failed"), "{table}");
    assert!(table.contains("wrong@example.com"), "{table}");

    // The right address (as Organizations has it): the member is re-created with it,
    // invited and accepts.
    env.sandbox.calls().clear();
    let third = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(third.outcome(), Outcome::Success, "{:?}", failures(&third));
    let kinds: Vec<&str> = third.plan.steps.iter().map(|s| s.action.kind()).collect();
    for k in [
        "delete members (wrong email)",
        "create members",
        "invite members",
        "accept invitation",
    ] {
        assert_eq!(kinds.iter().filter(|x| **x == k).count(), 2, "{kinds:?}");
    }
    for region in REGIONS {
        assert!(associated(&env, &env.management, &members[0], region));
        assert_eq!(status(region).unwrap().1, real(&members[0]));
    }
    env.sandbox.calls().clear();
    let fourth = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert!(fourth.plan.is_empty(), "{:?}", fourth.plan);
    assert_eq!(fourth.outcome(), Outcome::Success);
    assert_eq!(mutating(&env), Vec::<String>::new());
}

#[tokio::test]
async fn organizations_take_over_replaces_another_delegated_administrator_only_when_asked() {
    let env = Env::new(4).await;
    let s = session(&env, 3).await;
    let members = env.members();
    let (ours, theirs) = (members[0].clone(), members[1].clone());
    for region in REGIONS {
        support::gd(&env.mgmt, region)
            .enable_organization_admin_account()
            .admin_account_id(&theirs)
            .send()
            .await
            .unwrap();
    }
    let mut d = desired(&env, Mode::Organizations);
    d.administrator = ours.clone();

    // Without --take-over: reported, left alone.
    env.sandbox.calls().clear();
    let left = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert!(left.plan.is_empty(), "{:?}", left.plan);
    assert_eq!(mutating(&env), Vec::<String>::new());
    assert_eq!(left.outcome(), Outcome::Partial);
    assert_eq!(
        left.plan
            .notices
            .iter()
            .filter(|n| matches!(n, Notice::OtherDelegatedAdmin { administrator, .. } if *administrator == theirs))
            .count(),
        2
    );

    // With it: theirs is disabled, ours enabled, and every account becomes our member.
    d.take_over = true;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    let taken = rollout::run(
        s.clone(),
        d.clone(),
        AccountSource::Organizations,
        ROLLOUT,
        &RunSettings {
            journal: Some(path.clone()),
            ..Default::default()
        },
        &Silent,
        &Stop::default(),
    )
    .await
    .unwrap();
    assert_eq!(taken.outcome(), Outcome::Success, "{:?}", failures(&taken));
    // The journal names the step and who it was about.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let first = &j["steps"][0];
    assert_eq!(first["action"], "disable_org_admin", "{j}");
    assert_eq!(first["administrator"], theirs.as_str(), "{j}");
    assert_eq!(first["result"]["status"], "done", "{j}");
    let disabled: Vec<&Action> = taken
        .plan
        .steps
        .iter()
        .map(|s| &s.action)
        .filter(|a| matches!(a, Action::DisableOrgAdmin { administrator, .. } if *administrator == theirs))
        .collect();
    assert_eq!(disabled.len(), 2);
    for region in REGIONS {
        let delegated = env.sandbox.world(|w| w.guardduty_org[region].admin.clone());
        assert_eq!(delegated.as_deref(), Some(ours.as_str()));
        for m in members.iter().skip(1).chain([&env.management]) {
            assert!(associated(&env, &ours, m, region), "{m} {region}");
        }
    }
    env.sandbox.calls().clear();
    let again = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert!(again.plan.is_empty(), "{:?}", again.plan);
    assert_eq!(mutating(&env), Vec::<String>::new());
}

#[tokio::test]
async fn an_account_administering_its_own_members_is_reported_and_the_rest_converges() {
    // 300000000001 administers 300000000002 in us-east-1; GuardDuty refuses to make an
    // administrator a member, so the rollout reports it there instead of inviting it forever.
    let spec = OrgSpec::parse(
        r#"
[[accounts]]
id = "300000000001"
[[accounts]]
id = "300000000002"
[[detectors]]
accounts = ["300000000001", "300000000002"]
regions = ["us-east-1"]
[[memberships]]
administrator = "300000000001"
members = ["300000000002"]
regions = ["us-east-1"]
status = "Enabled"
"#,
    )
    .unwrap();
    let env = Env::with_spec(spec).await;
    let s = session(&env, 3).await;
    let d = desired(&env, Mode::Invitation);
    let source = listed(&["300000000001"]);

    let first = go(&s, &d, &source, ROLLOUT).await;
    assert!(
        first.plan.notices.contains(&Notice::AdministersMembers {
            account: "300000000001".into(),
            region: "us-east-1".into(),
        }),
        "{:?}",
        first.plan.notices
    );
    assert_eq!(first.outcome(), Outcome::Partial);
    assert!(failures(&first).is_empty(), "{:?}", failures(&first));
    assert!(associated(
        &env,
        &env.management,
        "300000000001",
        "eu-west-1"
    ));
    assert!(!associated(
        &env,
        &env.management,
        "300000000001",
        "us-east-1"
    ));
    // Its own member is untouched.
    assert!(associated(
        &env,
        "300000000001",
        "300000000002",
        "us-east-1"
    ));

    env.sandbox.calls().clear();
    let second = go(&s, &d, &source, ROLLOUT).await;
    assert_eq!(mutating(&env), Vec::<String>::new());
    assert_eq!(second.outcome(), Outcome::Partial);
}

/// A fresh invitation-mode rollout asks each fresh member cell only what it cannot know: no
/// ListInvitations while observing (the administrator has no member record there, so no
/// invitation can exist), and at most four calls per member cell in all (ListDetectors,
/// CreateDetector, ListInvitations, AcceptAdministratorInvitation).
#[tokio::test]
async fn a_fresh_rollout_makes_no_call_whose_answer_is_known() {
    let env = Env::new(5).await;
    let s = session(&env, 1).await;
    let mut d = desired(&env, Mode::Invitation);
    d.features.clear();
    d.frequency = None;
    env.sandbox.calls().clear();
    let report = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(
        report.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&report)
    );
    let calls = env.sandbox.calls().snapshot();
    let first_change = calls
        .iter()
        .position(|c| c.is_mutating())
        .expect("the rollout changed things");
    let observing: Vec<_> = calls[..first_change]
        .iter()
        .filter(|c| c.operation == "ListInvitations")
        .collect();
    assert!(observing.is_empty(), "{observing:?}");
    for member in env.members() {
        for region in REGIONS {
            let ops: Vec<&str> = calls
                .iter()
                .filter(|c| c.account == member && c.region == region && c.service == "guardduty")
                .map(|c| c.operation)
                .collect();
            assert!(ops.len() <= 4, "{member} {region}: {ops:?}");
            assert!(associated(&env, &env.management, &member, region));
        }
    }
}

/// Every protection plan of the SDK's service model is a plan gdorg can turn on, and the
/// sandbox reports it: AI Protection included, with no list of gdorg's own to update.
#[tokio::test]
async fn every_plan_of_the_service_model_rolls_out() {
    let env = Env::new(2).await;
    let s = session(&env, 1).await;
    let mut d = desired(&env, Mode::Invitation);
    d.regions = vec!["eu-west-1".into()];
    d.frequency = None;
    d.features = ["AI_PROTECTION", "S3_DATA_EVENTS", "RUNTIME_MONITORING"]
        .iter()
        .map(|f| f.parse().unwrap())
        .collect();
    let report = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert_eq!(
        report.outcome(),
        Outcome::Success,
        "{:?}",
        failures(&report)
    );
    for account in env.members() {
        let gd = env.gd(&account, "eu-west-1").await;
        let id = gd.list_detectors().send().await.unwrap().detector_ids()[0].clone();
        let det = gd.get_detector().detector_id(id).send().await.unwrap();
        let on: Vec<&str> = det
            .features()
            .iter()
            .filter(|f| f.status().is_some_and(|s| s.as_str() == "ENABLED"))
            .filter_map(|f| f.name().map(|n| n.as_str()))
            .collect();
        for plan in ["AI_PROTECTION", "S3_DATA_EVENTS", "RUNTIME_MONITORING"] {
            assert!(on.contains(&plan), "{account}: {on:?}");
        }
    }
    // A second rollout with the same plans changes nothing.
    env.sandbox.calls().clear();
    let again = go(&s, &d, &AccountSource::Organizations, ROLLOUT).await;
    assert!(again.plan.steps.is_empty(), "{:?}", again.plan.steps);
    assert_eq!(mutating(&env), Vec::<String>::new());
}

/// The shared member clients (one per region for every account) sign each call as the account
/// the work acts as, even with the work of two accounts interleaved on one client; outside
/// any `acting_as` they refuse to sign rather than guess an account.
#[tokio::test]
async fn shared_member_clients_sign_as_the_account_acted_as() {
    use guardduty_org::aws::session::acting_as;
    let env = Env::new(2).await;
    let members = env.members();
    let mut own = Vec::new();
    for m in &members {
        own.push(support::detector(&env, m, "us-east-1", true).await);
    }
    let s = session(&env, 1).await;
    let list = |account: String| {
        let s = s.clone();
        acting_as(account.clone(), async move {
            let gd = s.guardduty(&account, "us-east-1").await.unwrap();
            let mut seen = Vec::new();
            // Several calls each, so the two accounts' calls interleave on the one client.
            for _ in 0..5 {
                let out = gd.list_detectors().send().await.unwrap();
                seen.push(out.detector_ids().to_vec());
                tokio::task::yield_now().await;
            }
            (seen, gd)
        })
    };
    let listed = |m: &String| {
        env.sandbox
            .calls()
            .snapshot()
            .iter()
            .filter(|c| c.operation == "ListDetectors" && &c.account == m)
            .count()
    };
    let before: Vec<usize> = members.iter().map(listed).collect();
    let (a, b) = tokio::join!(list(members[0].clone()), list(members[1].clone()));
    assert!(a.0.iter().all(|ids| ids == &vec![own[0].clone()]), "{a:?}");
    assert!(b.0.iter().all(|ids| ids == &vec![own[1].clone()]), "{b:?}");
    for (m, before) in members.iter().zip(before) {
        assert_eq!(listed(m) - before, 5, "ListDetectors signed as {m}");
    }

    // The shared client taken out of its account's work cannot sign.
    let err = a.1.list_detectors().send().await.unwrap_err();
    let text = format!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(&err)
    );
    assert!(text.contains("outside acting_as"), "{text}");
    // Outside acting_as, the session builds the account a client of its own.
    let gd = s.guardduty(&members[1], "us-east-1").await.unwrap();
    let out = gd.list_detectors().send().await.unwrap();
    assert_eq!(out.detector_ids(), [own[1].clone()]);
}
