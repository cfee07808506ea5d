//! The shipped policies, proven by the sandbox's policy evaluation rather than by reading them:
//! gdorg runs every command with exactly `orchestrator.json` (and the member bundle through
//! `GdorgExecutionRole`); each orchestrator action is needed by some command, or (a statement
//! whose Sid starts with `Optional`) used when granted and done without when not; the auditor
//! reads and changes nothing; the guard SCP refuses what it guards to everyone but the
//! execution role.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use guardduty_org::policies::render::{render, Vars};
use guardduty_org::policies::template;
use guardduty_org::sandbox::state::Decided;
use guardduty_org::sandbox::{Keys, Sandbox};
use serde_json::Value;

use crate::support::{self, Env};

const REGION: &str = "us-east-1";
const ROLE: &str = "GdorgExecutionRole";
const EXPORT_BUCKET: &str = "arn:aws:s3:::org-guardduty-findings/gdorg/";
const EXPORT_KEY_1: &str = "arn:aws:kms:us-east-1:111111111111:key/first";
const EXPORT_KEY_2: &str = "arn:aws:kms:us-east-1:111111111111:key/second";

/// A shipped template rendered for an organization whose administrator is `admin`.
fn rendered(name: &str, admin: &str) -> Value {
    let vars = Vars::from_assignments(&[format!("admin_account_id={admin}")]).unwrap();
    render(template(name).unwrap().text, &vars).unwrap()
}

/// The actions a document allows (the shipped templates list them; no wildcards).
fn allowed_actions(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for st in doc["Statement"].as_array().unwrap() {
        if st["Effect"] == "Allow" {
            match &st["Action"] {
                Value::String(a) => {
                    out.insert(a.clone());
                }
                Value::Array(list) => {
                    out.extend(list.iter().map(|a| a.as_str().unwrap().to_string()));
                }
                _ => {}
            }
        }
    }
    out
}

/// The actions of the statements whose Sid starts with `Optional`: gdorg uses them when it
/// may and does without them (with less information or more calls) when it may not.
fn optional_actions(doc: &Value) -> BTreeSet<String> {
    let optional: Vec<Value> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|st| {
            st["Sid"]
                .as_str()
                .is_some_and(|s| s.starts_with("Optional"))
        })
        .cloned()
        .collect();
    allowed_actions(&serde_json::json!({ "Statement": optional }))
}

/// An IAM user of `account` with `documents` as customer managed policies and an access key:
/// made through IAM's API with the account's administrator, as anyone would.
async fn make_user(env: &Env, account: &str, name: &str, documents: &[(&str, Value)]) -> Keys {
    let iam = aws_sdk_iam::Client::new(&env.user(account).await);
    iam.create_user().user_name(name).send().await.unwrap();
    for (policy, doc) in documents {
        let created = iam
            .create_policy()
            .policy_name(*policy)
            .path("/test/")
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
        iam.attach_user_policy()
            .user_name(name)
            .policy_arn(created.policy().unwrap().arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    Keys {
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
    }
}

/// The gdorg binary with `keys` against `sandbox`, in us-east-1 only, through the execution
/// role.
fn gdorg_as(sandbox: &Sandbox, keys: &Keys, args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_gdorg"));
    c.args(["--role-name", ROLE])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ENDPOINT_URL", sandbox.endpoint())
        .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
        .env("AWS_REGION", REGION)
        .env("GDORG_REGIONS", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null());
    c
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const FILTERS_V1: &str = r#"
[filters.high]
description = "High and Critical"
severity = ["High", "Critical"]

[filters.suppress-low]
action = "ARCHIVE"
rank = 1
severity = ["Low"]
"#;

/// The same saved filters, one changed and one gone (sync updates and deletes).
const FILTERS_V2: &str = r#"
[filters.suppress-low]
action = "ARCHIVE"
rank = 1
severity = ["Low", "Medium"]
"#;

/// Every command gdorg has that talks to AWS, in an order where each finds what it needs:
/// `members` are the organization's two member accounts, as (id, email).
fn scenario(dir: &std::path::Path, members: &[(String, String)]) -> Vec<Vec<String>> {
    let v1 = dir.join("v1.toml");
    let v2 = dir.join("v2.toml");
    std::fs::write(&v1, FILTERS_V1).unwrap();
    std::fs::write(&v2, FILTERS_V2).unwrap();
    let (v1, v2) = (v1.display().to_string(), v2.display().to_string());
    let s = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let invited = format!("{},{}", members[0].0, members[0].1);
    let other_admin = format!("admin_account_id={}", members[1].0);
    vec![
        s(&["policies", "scp", "apply"]),
        // Changed (another exempt account) and attached to one more target: an update.
        s(&[
            "policies",
            "scp",
            "apply",
            "--var",
            &other_admin,
            "--target",
            &members[0].0,
        ]),
        s(&["plan"]),
        s(&["rollout", "--features", "S3_DATA_EVENTS"]),
        s(&[
            "rollout",
            "--features",
            "S3_DATA_EVENTS,EKS_AUDIT_LOGS",
            "--frequency",
            "FIFTEEN_MINUTES",
        ]),
        // The findings export: created, then updated to another key (list, describe, update).
        s(&[
            "rollout",
            "--export-bucket",
            EXPORT_BUCKET,
            "--export-kms-key",
            EXPORT_KEY_1,
        ]),
        s(&[
            "rollout",
            "--export-bucket",
            EXPORT_BUCKET,
            "--export-kms-key",
            EXPORT_KEY_2,
        ]),
        s(&["sample-findings"]),
        s(&["findings", "list"]),
        s(&["findings", "count"]),
        s(&["filters", "sync", &v1]),
        s(&["filters", "sync", &v2]),
        s(&[
            "findings",
            "archive",
            "--filter",
            "suppress-low",
            "--filters-file",
            &v2,
        ]),
        s(&[
            "findings",
            "unarchive",
            "--filter",
            "suppress-low",
            "--filters-file",
            &v2,
        ]),
        s(&[
            "findings",
            "feedback",
            "--useful",
            "--filter",
            "suppress-low",
            "--filters-file",
            &v2,
        ]),
        s(&["report"]),
        s(&["coverage"]),
        s(&["usage"]),
        s(&["audit", "--fail-on", "never"]),
        s(&["policies", "apply"]),
        s(&["offboard", "--delete-detectors"]),
        s(&["rollout", "--mode", "invitation", "--account", &invited]),
    ]
}

/// The member accounts of `env`, as (id, email).
fn members(env: &Env) -> Vec<(String, String)> {
    env.members()
        .into_iter()
        .map(|m| {
            let email = env.email(&m);
            (m, email)
        })
        .collect()
}

/// An organization of two members whose execution role is installed (by the management
/// account's administrator, through OrganizationAccountAccessRole), and an orchestrator user
/// in the management account with exactly the rendered `orchestrator.json`.
async fn arranged() -> (Env, Keys) {
    let env = Env::new(2).await;
    let out = support::gdorg(&env, &env.management, &["policies", "apply"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let orchestrator = rendered("orchestrator", &env.management);
    let keys = make_user(
        &env,
        &env.management,
        "gdorg-orchestrator",
        &[("orchestrator", orchestrator)],
    )
    .await;
    (env, keys)
}

#[tokio::test]
async fn every_command_runs_with_the_shipped_policies_and_every_orchestrator_action_is_needed() {
    let (env, keys) = arranged().await;
    let mgmt = env.management.clone();
    let user_arn = format!("arn:aws:iam::{mgmt}:user/gdorg-orchestrator");
    let dir = tempfile::tempdir().unwrap();
    let commands = scenario(dir.path(), &members(&env));

    // Run every command once, recording which actions the orchestrator used in each, and the
    // world as it was before it.
    env.sandbox
        .world(|w| w.decisions = Some(Default::default()));
    let mut before = Vec::new();
    let mut uses: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, args) in commands.iter().enumerate() {
        before.push(env.sandbox.world(|w| {
            w.decisions.as_ref().unwrap().borrow_mut().clear();
            w.clone()
        }));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = gdorg_as(&env.sandbox, &keys, &args).output().await.unwrap();
        assert!(out.status.success(), "gdorg {args:?}\n{}", text(&out));
        // The report's archive check reads every member through the member role's policy.
        assert!(
            !text(&out).contains("could not be checked"),
            "gdorg {args:?}\n{}",
            text(&out)
        );
        let used: Vec<Decided> = env
            .sandbox
            .world(|w| w.decisions.as_ref().unwrap().borrow().clone());
        for d in used.iter().filter(|d| d.principal == user_arn) {
            assert!(d.allowed, "{args:?}: refused {d:?}");
            let at = uses.entry(d.action.clone()).or_default();
            if at.last() != Some(&i) {
                at.push(i);
            }
        }
    }

    // No action of the policy goes unused.
    let granted = allowed_actions(&rendered("orchestrator", &mgmt));
    let unused: Vec<_> = granted.iter().filter(|a| !uses.contains_key(*a)).collect();
    assert!(unused.is_empty(), "granted but never used: {unused:?}");
    let ungranted: Vec<_> = uses.keys().filter(|a| !granted.contains(*a)).collect();
    assert!(ungranted.is_empty(), "used without a grant: {ungranted:?}");

    // Without any one of them, a command that used it fails, and says so: the operation, the
    // account, the AccessDenied. Each removal replays the commands that used the action, in
    // order, each in a copy of the world as it was before it, until one fails; the actions
    // are tried all at once. Without an optional action, every command that used it still
    // succeeds.
    let optional = optional_actions(&rendered("orchestrator", &mgmt));
    assert!(
        optional.contains("account:ListRegions"),
        "the optional statement is where it was: {optional:?}"
    );
    let before = &before;
    let commands = &commands;
    let optional = &optional;
    let runs = granted.iter().map(|action| {
        let keys = keys.clone();
        let mgmt = mgmt.clone();
        let at = uses[action].clone();
        async move {
            let mut tried = Vec::new();
            if optional.contains(action) {
                for i in at {
                    let mut world = before[i].clone();
                    world.decisions = None;
                    without(&mut world, &mgmt, action);
                    let sandbox = Sandbox::from_world(world).await.unwrap();
                    let args: Vec<&str> = commands[i].iter().map(String::as_str).collect();
                    let out = gdorg_as(&sandbox, &keys, &args).output().await.unwrap();
                    if !out.status.success() {
                        tried.push(format!("gdorg {}\n{}", args.join(" "), text(&out)));
                    }
                }
                return (!tried.is_empty()).then(|| {
                    format!(
                        "without the optional {action}, a command failed:\n{}",
                        tried.join("\n")
                    )
                });
            }
            for i in at {
                let mut world = before[i].clone();
                world.decisions = None;
                without(&mut world, &mgmt, action);
                let sandbox = Sandbox::from_world(world).await.unwrap();
                let args: Vec<&str> = commands[i].iter().map(String::as_str).collect();
                let out = gdorg_as(&sandbox, &keys, &args).output().await.unwrap();
                let all = text(&out);
                let clear = all.contains("AccessDenied")
                    && all.contains(action.as_str())
                    && all.contains(&mgmt);
                if !out.status.success() && clear {
                    return None;
                }
                tried.push(format!("gdorg {}\n{all}", args.join(" ")));
            }
            Some(format!(
                "without {action}, nothing failed clearly:\n{}",
                tried.join("\n")
            ))
        }
    });
    let silent: Vec<String> = futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(silent.is_empty(), "{}", silent.join("\n\n"));
}

/// Take `action` out of the orchestrator policy of `world` (its default version, in place).
fn without(world: &mut guardduty_org::sandbox::state::World, mgmt: &str, action: &str) {
    let arn = format!("arn:aws:iam::{mgmt}:policy/test/orchestrator");
    let policy = world
        .accounts
        .get_mut(mgmt)
        .unwrap()
        .iam
        .policies
        .get_mut(&arn)
        .unwrap();
    let version = policy.versions.iter_mut().find(|v| v.is_default).unwrap();
    let mut doc: Value = serde_json::from_str(&version.document).unwrap();
    for st in doc["Statement"].as_array_mut().unwrap() {
        match &mut st["Action"] {
            Value::Array(list) => list.retain(|a| a != action),
            a if a == action => *a = Value::Array(vec![]),
            _ => {}
        }
    }
    version.document = doc.to_string();
}

#[tokio::test]
async fn the_auditor_reads_everything_and_changes_nothing() {
    let (env, orchestrator) = arranged().await;
    let dir = tempfile::tempdir().unwrap();
    let commands = scenario(dir.path(), &members(&env));
    // A rolled-out organization with findings, arranged by the orchestrator.
    let archive = commands
        .iter()
        .position(|c| c.len() > 1 && c[..2] == ["findings", "archive"])
        .unwrap();
    for args in &commands[..=archive] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = gdorg_as(&env.sandbox, &orchestrator, &args)
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{args:?}\n{}", text(&out));
    }
    let auditor = make_user(
        &env,
        &env.management,
        "auditor",
        &[("auditor", rendered("auditor", &env.management))],
    )
    .await;
    env.sandbox.calls().clear();
    for args in [
        &["audit", "--fail-on", "never"][..],
        &["findings", "list"],
        &["findings", "count"],
        &["report"],
        &["coverage"],
        &["usage"],
    ] {
        let out = gdorg_as(&env.sandbox, &auditor, args)
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{args:?}\n{}", text(&out));
    }
    let mutating: Vec<&Vec<String>> = commands
        .iter()
        .filter(|c| {
            !matches!(
                c.iter().take(2).map(String::as_str).collect::<Vec<_>>()[..],
                ["findings", "list"]
                    | ["findings", "count"]
                    | ["report"]
                    | ["audit", _]
                    | ["plan"]
                    | ["coverage"]
                    | ["usage"]
            )
        })
        .collect();
    let mut refused = 0;
    let mut idle = Vec::new();
    for args in mutating {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let seen = env.sandbox.calls().snapshot().len();
        let out = gdorg_as(&env.sandbox, &auditor, &args)
            .output()
            .await
            .unwrap();
        let all = text(&out);
        let attempted = env.sandbox.calls().snapshot()[seen..]
            .iter()
            .any(|c| c.is_mutating());
        if out.status.success() {
            // Only a command with nothing to do may succeed: it then tried no change.
            assert!(!attempted, "{args:?} succeeded\n{all}");
            idle.push(args.join(" "));
        } else {
            assert!(all.contains("AccessDenied"), "{args:?}\n{all}");
            refused += 1;
        }
    }
    // The auditor reads the members' detectors through the administrator, so a command
    // whose work is already done (a converged rollout, a synced filter) sees so and ends
    // without a change; every other one is refused.
    assert!(
        refused >= 9,
        "only {refused} mutating commands were refused; with nothing to do: {idle:?}"
    );
    let changed: Vec<String> = env
        .sandbox
        .calls()
        .snapshot()
        .iter()
        .filter(|c| c.is_mutating() && c.status == 200)
        .map(|c| format!("{} {} {}", c.operation, c.account, c.region))
        .collect();
    assert!(changed.is_empty(), "the auditor changed {changed:?}");
}

/// The management account's session in `role` of `account`.
async fn assume(env: &Env, account: &str, role: &str) -> aws_config::SdkConfig {
    let c = aws_sdk_sts::Client::new(&env.mgmt)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{role}"))
        .role_session_name("guard-test")
        .send()
        .await
        .unwrap();
    let c = c.credentials().unwrap();
    support::config(
        &env.sandbox,
        &Keys {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
        },
        Some(c.session_token().to_string()),
        REGION,
    )
    .await
}

#[tokio::test]
async fn the_guard_scp_refuses_everyone_but_the_execution_role_and_applies_once() {
    let env = Env::new(2).await;
    let mgmt = env.management.clone();
    let member = env.members()[0].clone();
    for args in [&["policies", "apply"][..], &["policies", "scp", "apply"]] {
        let out = support::gdorg(&env, &mgmt, args).output().await.unwrap();
        assert!(out.status.success(), "{args:?}\n{}", text(&out));
    }
    // A second run finds it in place and changes nothing.
    env.sandbox.calls().clear();
    let out = support::gdorg(&env, &mgmt, &["policies", "scp", "apply"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing to change"),
        "{}",
        text(&out)
    );
    let mutating: Vec<_> = env
        .sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| c.is_mutating())
        .collect();
    assert!(mutating.is_empty(), "{mutating:?}");

    // In the member: a detector (the guard does not stop enabling GuardDuty), and a role with
    // AdministratorAccess the management account may assume.
    let bootstrap = assume(&env, &member, "OrganizationAccountAccessRole").await;
    let iam = aws_sdk_iam::Client::new(&bootstrap);
    iam.create_role()
        .role_name("Breaker")
        .assume_role_policy_document(guardduty_org::sandbox::org_file::trust_policy_for(&mgmt))
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("Breaker")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    let breaker = support::gd(&assume(&env, &member, "Breaker").await, REGION);
    let det = support::new_detector(&breaker).await;

    use aws_sdk_guardduty::types::{Condition, FindingCriteria};
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    let criteria = FindingCriteria::builder()
        .criterion(
            "severity",
            Condition::builder().greater_than_or_equal(1).build(),
        )
        .build();
    let mut refused = BTreeMap::new();
    macro_rules! guarded {
        ($name:literal, $call:expr) => {
            let e = $call.send().await.expect_err($name);
            refused.insert(
                $name,
                (
                    e.code().unwrap_or_default().to_string(),
                    e.message().unwrap_or_default().to_string(),
                ),
            );
        };
    }
    guarded!(
        "UpdateDetector",
        breaker.update_detector().detector_id(&det).enable(false)
    );
    guarded!(
        "DeleteDetector",
        breaker.delete_detector().detector_id(&det)
    );
    guarded!(
        "DisassociateFromAdministratorAccount",
        breaker
            .disassociate_from_administrator_account()
            .detector_id(&det)
    );
    #[allow(deprecated)]
    {
        guarded!(
            "DisassociateFromMasterAccount",
            breaker.disassociate_from_master_account().detector_id(&det)
        );
    }
    guarded!(
        "DeleteMembers",
        breaker
            .delete_members()
            .detector_id(&det)
            .account_ids(&mgmt)
    );
    guarded!(
        "DisassociateMembers",
        breaker
            .disassociate_members()
            .detector_id(&det)
            .account_ids(&mgmt)
    );
    guarded!(
        "StopMonitoringMembers",
        breaker
            .stop_monitoring_members()
            .detector_id(&det)
            .account_ids(&mgmt)
    );
    guarded!(
        "CreateFilter",
        breaker
            .create_filter()
            .detector_id(&det)
            .name("hide")
            .action(aws_sdk_guardduty::types::FilterAction::Archive)
            .finding_criteria(criteria.clone())
    );
    guarded!(
        "UpdateFilter",
        breaker
            .update_filter()
            .detector_id(&det)
            .filter_name("hide")
            .finding_criteria(criteria.clone())
    );
    guarded!(
        "ArchiveFindings",
        breaker
            .archive_findings()
            .detector_id(&det)
            .finding_ids("0123")
    );
    guarded!(
        "UnarchiveFindings",
        breaker
            .unarchive_findings()
            .detector_id(&det)
            .finding_ids("0123")
    );
    for (op, (code, message)) in &refused {
        assert_eq!(code, "AccessDeniedException", "{op}: {message}");
        assert!(
            message.contains(&format!("guardduty:{op}"))
                && message.contains("with an explicit deny in a service control policy")
                && message.contains("assumed-role/Breaker/guard-test"),
            "{op}: {message}"
        );
    }
    // Reading is not guarded.
    breaker
        .get_detector()
        .detector_id(&det)
        .send()
        .await
        .unwrap();

    // The execution role is not refused by the SCP (what its own guard policy denies aside).
    let role = support::gd(&assume(&env, &member, ROLE).await, REGION);
    role.update_detector()
        .detector_id(&det)
        .enable(true)
        .send()
        .await
        .expect("the execution role may update the detector");
    let e = role
        .disassociate_from_administrator_account()
        .detector_id(&det)
        .send()
        .await
        .err();
    assert!(
        e.as_ref()
            .is_none_or(|e| e.code() != Some("AccessDeniedException")),
        "{e:?}"
    );

    // Nor is the management account: SCPs never apply to it.
    let own = env.gd(&mgmt, REGION).await;
    let own_det = support::new_detector(&own).await;
    own.update_detector()
        .detector_id(&own_det)
        .enable(false)
        .send()
        .await
        .unwrap();
    own.delete_detector()
        .detector_id(&own_det)
        .send()
        .await
        .unwrap();
}
