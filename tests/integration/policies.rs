//! `gdorg policies`: apply the member bundle across a sandbox organization through the real
//! SDK (many accounts, idempotent re-apply, new versions and pruning, trust updates, failures
//! isolated per account, bad templates refused before any call), and the proofs about the
//! templates themselves (the orchestrator covers every operation the code calls).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use guardduty_org::aws::{AwsOptions, ClientFactory, Session};
use guardduty_org::control::{Silent, Stop};
use guardduty_org::policies::apply::{self, ApplyError, ApplyReport, ApplyRequest, TemplateSet};
use guardduty_org::policies::render::Vars;
use guardduty_org::policies::{actions, document, template, validate};
use guardduty_org::sandbox::state::DEFAULT_EXECUTION_ROLE;

use crate::support::Env;

const ROLE: &str = "GdorgExecutionRole";

async fn factory(env: &Env) -> Session {
    Session::new(ClientFactory::from_config(
        env.mgmt.clone(),
        AwsOptions {
            role_name: DEFAULT_EXECUTION_ROLE.into(),
            max_attempts: 1,
            ..Default::default()
        },
    ))
    .await
    .unwrap()
}

async fn apply(session: &Session, req: &ApplyRequest) -> Result<ApplyReport, ApplyError> {
    apply::apply(session, req, &Silent, &Stop::default()).await
}

fn request(accounts: &[String], vars: &[&str]) -> ApplyRequest {
    ApplyRequest {
        templates: TemplateSet::builtin(),
        vars: Vars::from_assignments(vars).unwrap(),
        accounts: accounts.to_vec(),
        dry_run: false,
        concurrency: 4,
    }
}

fn mutating_calls(env: &Env) -> Vec<String> {
    env.sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| c.is_mutating())
        .map(|c| format!("{}:{} by {}", c.service, c.operation, c.account))
        .collect()
}

fn ops_of(report: &ApplyReport) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for a in &report.accounts {
        for s in &a.steps {
            *m.entry(s.operation()).or_default() += 1;
        }
    }
    m
}

async fn iam_of(env: &Env, account: &str) -> aws_sdk_iam::Client {
    ClientFactory::iam(&factory(env).await.factory.account(account).await.unwrap())
}

async fn versions(iam: &aws_sdk_iam::Client, arn: &str) -> Vec<(String, bool)> {
    let out = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    let mut v: Vec<(String, bool)> = out
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap().to_string(), v.is_default_version()))
        .collect();
    v.sort_by_key(|(id, _)| id.trim_start_matches('v').parse::<u32>().unwrap());
    v
}

#[tokio::test]
async fn apply_to_every_account_then_reapply_makes_no_mutating_call() {
    let env = Env::new(30).await;
    let f = factory(&env).await;
    let report = apply(&f, &request(&[], &[])).await.unwrap();
    assert!(report.all_ok(), "{report:?}");
    // Every member, and not the caller's own (management) account.
    let accounts: Vec<_> = report.accounts.iter().map(|a| a.account.clone()).collect();
    assert_eq!(accounts, env.members());
    assert_eq!(
        ops_of(&report),
        BTreeMap::from([
            ("CreateRole", 30),
            ("CreatePolicy", 90),
            ("AttachRolePolicy", 90)
        ])
    );
    assert!(report.accounts.iter().all(|a| a.done == a.steps.len()));

    // What IAM holds, read back through the SDK: the role trusts the administrator (the
    // caller's account, by default) and has the three gdorg policies attached.
    let member = &env.members()[3];
    let iam = iam_of(&env, member).await;
    let role = iam.get_role().role_name(ROLE).send().await.unwrap();
    let trust =
        document::decode(role.role().unwrap().assume_role_policy_document().unwrap()).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{}:root", env.management)
    );
    let attached: BTreeSet<String> = iam
        .list_attached_role_policies()
        .role_name(ROLE)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap().to_string())
        .collect();
    assert_eq!(
        attached,
        [
            "gdorg-guardduty-service-linked-role",
            "gdorg-member-guard",
            "gdorg-member-permissions"
        ]
        .iter()
        .map(|n| format!("arn:aws:iam::{member}:policy/gdorg/{n}"))
        .collect()
    );

    // The trust policy works: the administrator can now assume the new role.
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    sts.assume_role()
        .role_arn(format!("arn:aws:iam::{member}:role/{ROLE}"))
        .role_session_name("check")
        .send()
        .await
        .expect("the rendered trust policy lets the administrator in");

    // Re-apply: reads only.
    env.sandbox.calls().clear();
    let again = apply(&f, &request(&[], &[])).await.unwrap();
    assert!(again.all_ok());
    assert!(
        again.accounts.iter().all(|a| a.steps.is_empty()),
        "{again:?}"
    );
    assert_eq!(mutating_calls(&env), Vec::<String>::new());
    assert!(!env.sandbox.calls().snapshot().is_empty(), "it did read");

    // Once installed, the execution role itself is the way in (`--role-name
    // GdorgExecutionRole`): the same apply through it finds nothing to do.
    let through_role = Session::new(ClientFactory::from_config(
        env.mgmt.clone(),
        AwsOptions {
            role_name: ROLE.into(),
            max_attempts: 1,
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    env.sandbox.calls().clear();
    let third = apply(&through_role, &request(&[], &[])).await.unwrap();
    assert!(third.all_ok(), "{third:?}");
    assert!(third.accounts.iter().all(|a| a.steps.is_empty()));
    assert_eq!(mutating_calls(&env), Vec::<String>::new());
    let assumed: BTreeSet<String> = env
        .sandbox
        .calls()
        .snapshot()
        .iter()
        .filter(|c| c.operation == "AssumeRole")
        .map(|c| c.account.clone())
        .collect();
    assert_eq!(
        assumed,
        BTreeSet::from([env.management.clone()]),
        "STS is called from the administrator"
    );
}

#[tokio::test]
async fn dry_run_reads_plans_and_changes_nothing() {
    let env = Env::new(3).await;
    let members = env.members();
    let mut req = request(&members, &["admin_account_id=123456789012"]);
    req.dry_run = true;
    let report = apply(&factory(&env).await, &req).await.unwrap();
    assert!(report.dry_run);
    assert!(report
        .accounts
        .iter()
        .all(|a| a.steps.len() == 7 && a.done == 0));
    assert_eq!(mutating_calls(&env), Vec::<String>::new());
    let text = guardduty_org::policies::output::report(&report);
    assert!(
        text.starts_with("Plan: 21 change(s) in 3 account(s); 0 already in line"),
        "{text}"
    );
    assert!(
        text.contains("AttachRolePolicy             9  in 3 account(s)"),
        "{text}"
    );
}

#[tokio::test]
async fn a_changed_template_makes_a_new_version_and_prunes_at_the_limit() {
    let env = Env::new(2).await;
    let member = env.members()[0].clone();
    let f = factory(&env).await;
    let vars = ["admin_account_id=123456789012"];
    apply(&f, &request(std::slice::from_ref(&member), &vars))
        .await
        .unwrap();
    let arn = format!("arn:aws:iam::{member}:policy/gdorg/gdorg-member-guard");
    let iam = iam_of(&env, &member).await;
    assert_eq!(versions(&iam, &arn).await, [("v1".to_string(), true)]);

    let base = template("member-guard").unwrap().text;
    let changed = |n: usize| {
        // A different Sid each time: a real change of the document.
        base.replace(
            "OnlyGdorgChangesTheAdministrator",
            &format!("OnlyGdorgChangesTheAdministrator{n}"),
        )
    };
    for n in 2..=7usize {
        let mut req = request(std::slice::from_ref(&member), &vars);
        req.templates
            .replace("member-guard", "edited/member-guard.json", &changed(n));
        env.sandbox.calls().clear();
        let report = apply(&f, &req).await.unwrap();
        assert!(report.all_ok(), "{report:?}");
        let expected: BTreeMap<&str, usize> = if n <= 5 {
            BTreeMap::from([("CreatePolicyVersion", 1)])
        } else {
            BTreeMap::from([("CreatePolicyVersion", 1), ("DeletePolicyVersion", 1)])
        };
        assert_eq!(ops_of(&report), expected, "round {n}");
        assert_eq!(mutating_calls(&env).len(), expected.values().sum::<usize>());
    }
    // Seven documents made, five kept: v1 and v2 pruned, oldest first; the newest is default.
    let now = versions(&iam, &arn).await;
    assert_eq!(
        now,
        [
            ("v3".to_string(), false),
            ("v4".to_string(), false),
            ("v5".to_string(), false),
            ("v6".to_string(), false),
            ("v7".to_string(), true)
        ]
    );
    let doc = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v7")
        .send()
        .await
        .unwrap();
    let doc = document::decode(doc.policy_version().unwrap().document().unwrap()).unwrap();
    assert_eq!(
        doc["Statement"][1]["Sid"],
        "OnlyGdorgChangesTheAdministrator7"
    );

    // The same edited template again: nothing to do.
    let mut req = request(std::slice::from_ref(&member), &vars);
    req.templates
        .replace("member-guard", "edited/member-guard.json", &changed(7));
    env.sandbox.calls().clear();
    let report = apply(&f, &req).await.unwrap();
    assert!(report.accounts[0].steps.is_empty());
    assert_eq!(mutating_calls(&env), Vec::<String>::new());
}

#[tokio::test]
async fn a_new_external_id_updates_the_trust_policy_only() {
    let env = Env::new(2).await;
    let members = env.members();
    let f = factory(&env).await;
    apply(&f, &request(&members, &[])).await.unwrap();
    env.sandbox.calls().clear();
    let report = apply(&f, &request(&members, &["external_id=ext-2026-11"]))
        .await
        .unwrap();
    assert_eq!(
        ops_of(&report),
        BTreeMap::from([("UpdateAssumeRolePolicy", 2)])
    );
    let iam = iam_of(&env, &members[1]).await;
    let role = iam.get_role().role_name(ROLE).send().await.unwrap();
    let trust =
        document::decode(role.role().unwrap().assume_role_policy_document().unwrap()).unwrap();
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "ext-2026-11"
    );
    // And the sandbox now holds the role to it.
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let arn = format!("arn:aws:iam::{}:role/{ROLE}", members[1]);
    assert!(sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("no-id")
        .send()
        .await
        .is_err());
    sts.assume_role()
        .role_arn(&arn)
        .role_session_name("with-id")
        .external_id("ext-2026-11")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_bad_template_is_refused_before_any_call() {
    let env = Env::new(2).await;
    let f = factory(&env).await;
    let mut req = request(&env.members(), &[]);
    req.templates.replace(
        "member-permissions",
        "edited/member-permissions.json",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "Fine", "Effect": "Allow", "Action": "guardduty:ListDetectors", "Resource": "*"},
            {"Sid": "TooMuch", "Effect": "Allow", "Action": "guardduty:*", "Resource": "*"}]}"#,
    );
    env.sandbox.calls().clear();
    let err = apply(&f, &req).await.unwrap_err();
    assert!(matches!(err, ApplyError::Template(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("edited/member-permissions.json"), "{text}");
    assert!(text.contains("Statement[1] (TooMuch)"), "{text}");
    assert!(text.contains("grants every guardduty action"), "{text}");
    assert!(env.sandbox.calls().snapshot().is_empty(), "no call at all");

    // A template using a variable nobody knows, and a bad account id: refused the same way.
    let mut req = request(&env.members(), &[]);
    req.templates.replace(
        "member-guard",
        "edited/member-guard.json",
        &template("member-guard")
            .unwrap()
            .text
            .replace("\"*\"", "\"arn:aws:guardduty:*:${acount_id}:detector/*\""),
    );
    let err = apply(&f, &req).await.unwrap_err().to_string();
    assert!(err.contains("unknown variable `${acount_id}`"), "{err}");
    let req = request(&env.members(), &["account_id=123456789012"]);
    let err = apply(&f, &req).await.unwrap_err().to_string();
    assert!(err.contains("account_id is filled by apply"), "{err}");
    let req = request(&["12345".to_string()], &[]);
    let err = apply(&f, &req).await.unwrap_err().to_string();
    assert!(
        err.contains("`12345` is not a 12-digit account id"),
        "{err}"
    );
    assert!(env.sandbox.calls().snapshot().is_empty(), "no call at all");
}

#[tokio::test]
async fn one_failing_account_does_not_stop_the_others() {
    let env = Env::new(5).await;
    let members = env.members();
    let broken = members[2].clone();
    // No role to assume in that account.
    env.sandbox.world(|w| {
        w.accounts
            .get_mut(&broken)
            .unwrap()
            .iam
            .roles
            .remove(DEFAULT_EXECUTION_ROLE);
    });
    let report = apply(&factory(&env).await, &request(&members, &[]))
        .await
        .unwrap();
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1);
    let failure = failed[0].failure.as_ref().unwrap();
    assert_eq!(failure.account, broken);
    assert_eq!(failure.error.operation, "AssumeRole");
    assert_eq!(failure.error.code, "AccessDenied");
    for a in report.accounts.iter().filter(|a| a.account != broken) {
        assert_eq!(a.done, 7, "{}", a.account);
    }
    let text = guardduty_org::policies::output::report(&report);
    assert!(
        text.contains(&format!("{broken}  AssumeRole: AccessDenied")),
        "{text}"
    );
}

#[tokio::test]
async fn cli_apply_exit_codes_and_refusals() {
    let env = Env::new(3).await;
    let keys = env.sandbox.keys_of(&env.management).unwrap();
    let broken = env.members()[0].clone();
    env.sandbox.world(|w| {
        w.accounts
            .get_mut(&broken)
            .unwrap()
            .iam
            .roles
            .remove(DEFAULT_EXECUTION_ROLE);
    });
    let gdorg = |args: &[&str]| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_gdorg"));
        c.args([
            "--endpoint-url",
            &env.sandbox.endpoint(),
            "--region",
            "us-east-1",
        ])
        .args(["--max-attempts", "1"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
        c
    };
    // Partial: exit 2, the failure named with account, operation and AWS error.
    let out = gdorg(&["policies", "apply"]).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!("{broken}  AssumeRole: AccessDenied")),
        "{stdout}"
    );
    assert!(!stdout.contains(&keys.secret_access_key));

    // A bad template directory: exit 1 before any call.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("member-guard.json"),
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "guardduty:ArchiveFindings"}]}"#,
    )
    .unwrap();
    env.sandbox.calls().clear();
    let out = gdorg(&[
        "policies",
        "apply",
        "--templates",
        dir.path().to_str().unwrap(),
    ])
    .output()
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("member-guard.json: refused"), "{stderr}");
    assert!(
        stderr.contains("Statement[0]: has neither Resource nor NotResource"),
        "{stderr}"
    );
    assert!(env.sandbox.calls().snapshot().is_empty());

    // validate FILE: the file named, exit 1.
    let file = dir.path().join("member-guard.json");
    let out = gdorg(&["policies", "validate", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("member-guard.json: error: Statement[0]"));
}

// ---------------------------------------------------------------------------------------------
// The orchestrator covers every AWS operation the code calls.
//
// Why a scan of the source and not a registry: a registry only covers the calls that go through
// it, and nothing stops new code (rollout, audit, findings are being written as this is) from
// calling the SDK directly; the scan sees every call however it is written. Every SDK operation
// is a method named after it (`ListDetectors` -> `.list_detectors(`), so the test looks for those
// method calls in `src/` (the sandbox excluded: it is AWS's side) and demands the matching action
// from the orchestrator policy. A new call without its permission fails here, loudly, naming it.
// A false positive (our own method with an SDK operation's name) can only demand too much, never
// hide a missing grant.
// ---------------------------------------------------------------------------------------------

/// Operations gdorg calls only through the member execution role (never as the administrator):
/// `member-permissions` must grant them, the orchestrator need not.
const MEMBER_ONLY: &[&str] = &[
    "guardduty:AcceptAdministratorInvitation",
    "guardduty:AcceptInvitation",
    "guardduty:ListInvitations",
    "guardduty:DeleteDetector",
    // `rollout --take-over`: the member leaves another administrator.
    "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
    // `policies apply` works in each member through --role-name: the execution role maintains
    // its own bundle (member-permissions), the bootstrap role (OrganizationAccountAccessRole)
    // creates it. The caller's own account is left out, so the orchestrator needs none of it.
    "iam:AttachRolePolicy",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:ListPolicyVersions",
    "iam:UpdateAssumeRolePolicy",
];

/// Operations that need no permission (STS: "No permissions are required to perform this
/// operation", even under an explicit deny): no policy grants them.
const NO_PERMISSION: &[&str] = &["sts:GetCallerIdentity"];

/// Called only through a bootstrap role in a member (the execution role cannot create
/// itself): neither the orchestrator nor member-permissions grants it.
const BOOTSTRAP_ONLY: &[&str] = &["iam:CreateRole"];

/// Actions an operation needs besides its own (GuardDuty user guide: designating the delegated
/// administrator uses these Organizations actions; enabling GuardDuty creates its
/// service-linked role).
const DEPENDENT: &[(&str, &[&str])] = &[
    (
        "guardduty:EnableOrganizationAdminAccount",
        &[
            "organizations:EnableAWSServiceAccess",
            "organizations:RegisterDelegatedAdministrator",
            "organizations:ListDelegatedAdministrators",
            "organizations:ListAWSServiceAccessForOrganization",
            "organizations:DescribeOrganizationalUnit",
            "organizations:DescribeAccount",
            "organizations:DescribeOrganization",
            "organizations:ListAccounts",
        ],
    ),
    ("guardduty:CreateDetector", &["iam:CreateServiceLinkedRole"]),
];

/// Granted ahead of the code: operations issues 3-5 specify (rollout, offboard, audit,
/// findings, filters) whose callers are still being written. An entry is harmless once its code
/// lands (it is then called); it only allows the orchestrator to grant it before that.
const PLANNED: &[&str] = &[
    "guardduty:ArchiveFindings",
    "guardduty:CreateDetector",
    "guardduty:CreateFilter",
    "guardduty:CreateMembers",
    "guardduty:CreateSampleFindings",
    "guardduty:DeleteFilter",
    "guardduty:DeleteMembers",
    "guardduty:DescribeOrganizationConfiguration",
    "guardduty:DisableOrganizationAdminAccount",
    "guardduty:DisassociateMembers",
    "guardduty:EnableOrganizationAdminAccount",
    "guardduty:GetAdministratorAccount",
    "guardduty:GetDetector",
    "guardduty:GetFilter",
    "guardduty:GetFindings",
    "guardduty:GetFindingsStatistics",
    "guardduty:GetMembers",
    "guardduty:InviteMembers",
    "guardduty:ListDetectors",
    "guardduty:ListFilters",
    "guardduty:ListFindings",
    "guardduty:ListMembers",
    "guardduty:ListOrganizationAdminAccounts",
    "guardduty:UnarchiveFindings",
    "guardduty:UpdateDetector",
    "guardduty:UpdateFilter",
    "guardduty:UpdateFindingsFeedback",
    "guardduty:UpdateOrganizationConfiguration",
    "organizations:DescribeOrganization",
    "organizations:ListDelegatedAdministrators",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `service:Action` of every SDK operation called in `src/` outside the sandbox, with the
/// files that call it.
fn called_operations() -> BTreeMap<String, BTreeSet<String>> {
    // GDORG_SCAN_SRC points the scan at another tree (e.g. a branch about to be merged).
    let root = std::env::var_os("GDORG_SCAN_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let sandbox = root.join("sandbox");
    // Method name -> the services that have an operation of that name.
    let mut by_method: BTreeMap<String, Vec<(&str, &str)>> = BTreeMap::new();
    for s in actions::SERVICES {
        for op in s.operations {
            by_method
                .entry(actions::sdk_method_name(op))
                .or_default()
                .push((s.prefix, op));
        }
    }
    let mut called: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files.iter().filter(|f| !f.starts_with(&sandbox)) {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let mentions = |prefix: &str| {
            text.contains(&format!("aws_sdk_{prefix}"))
                || text.contains(&format!("::{prefix}("))
                || text.contains(&format!(".{prefix}("))
        };
        for (method, services) in &by_method {
            let needle = format!(".{method}(");
            for (at, _) in text.match_indices(&needle) {
                // An operation name several services share (`create_policy`: iam and
                // organizations) is attributed by the receiver (`iam.create_policy()`), else
                // by the service crates the file uses, else to all (too much is safe).
                let chosen: Vec<_> = if services.len() == 1 {
                    services.iter().collect()
                } else {
                    let receiver = receiver_services(&text[..at]);
                    let by_receiver: Vec<_> = services
                        .iter()
                        .filter(|(p, _)| receiver.contains(p))
                        .collect();
                    let by_file: Vec<_> = services.iter().filter(|(p, _)| mentions(p)).collect();
                    if !by_receiver.is_empty() {
                        by_receiver
                    } else if !by_file.is_empty() {
                        by_file
                    } else {
                        services.iter().collect()
                    }
                };
                for (prefix, op) in chosen {
                    called
                        .entry(format!("{prefix}:{op}"))
                        .or_default()
                        .insert(name.clone());
                }
            }
        }
        // The credentials provider calls AssumeRole for us.
        if text.contains("AssumeRoleProvider") {
            called
                .entry("sts:AssumeRole".into())
                .or_default()
                .insert(name.clone());
        }
    }
    called
}

/// Service prefixes named in the expression a method call hangs off (back to the start of the
/// statement): `ClientFactory::organizations(..)`, `self.iam`, `iam_client`, `gd` ...
fn receiver_services(before: &str) -> BTreeSet<&'static str> {
    let mut start = before
        .rfind([';', '{', '}'])
        .map_or(0, |i| i + 1)
        .max(before.len().saturating_sub(400));
    while !before.is_char_boundary(start) {
        start += 1;
    }
    let expr = &before[start..];
    let mut out = BTreeSet::new();
    for ident in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        for part in ident.split('_') {
            let part = part.to_ascii_lowercase();
            for s in actions::SERVICES {
                if part == s.prefix || (s.prefix == "guardduty" && part == "gd") {
                    out.insert(s.prefix);
                }
            }
        }
    }
    out
}

fn allowed(name: &str) -> BTreeSet<String> {
    let t = template(name).unwrap();
    let doc = guardduty_org::policies::render::render(t.text, &Vars::examples()).unwrap();
    let mut out = BTreeSet::new();
    for st in validate::statements(&doc) {
        if st["Effect"] == "Allow" {
            for a in validate::strings(st.get("Action")) {
                out.extend(actions::expand(&a));
            }
        }
    }
    out
}

#[test]
fn the_scan_sees_the_calls_it_must() {
    // The scanner itself, on calls known to exist: if it stopped seeing these, the coverage
    // test below would pass vacuously.
    let called = called_operations();
    for op in [
        "sts:AssumeRole",
        "sts:GetCallerIdentity",
        "organizations:ListAccounts",
        "iam:CreatePolicyVersion",
        "iam:UpdateAssumeRolePolicy",
    ] {
        assert!(called.contains_key(op), "{op} not seen: {called:?}");
    }
    // iam's create_policy is not taken for organizations' and the other way round: each is
    // attributed by its receiver and the crates its file uses.
    let files = |op: &str| called.get(op).cloned().unwrap_or_default();
    assert!(files("iam:CreatePolicy").contains("policies/apply.rs"));
    assert!(
        !files("iam:CreatePolicy").contains("policies/scp.rs"),
        "{called:?}"
    );
    assert!(files("organizations:CreatePolicy").contains("policies/scp.rs"));
    assert!(
        !files("organizations:CreatePolicy").contains("policies/apply.rs"),
        "{called:?}"
    );
}

#[test]
fn orchestrator_policy_covers_every_operation_the_code_calls() {
    let called = called_operations();
    let orchestrator = allowed("orchestrator");
    let member = allowed("member-permissions");
    let mut missing = Vec::new();
    for (op, files) in &called {
        let needs: Vec<String> = std::iter::once(op.clone())
            .chain(
                DEPENDENT
                    .iter()
                    .filter(|(o, _)| o == op)
                    .flat_map(|(_, d)| d.iter().map(|s| s.to_string())),
            )
            .collect();
        if BOOTSTRAP_ONLY.contains(&op.as_str()) || NO_PERMISSION.contains(&op.as_str()) {
            continue;
        }
        let (policy, grants) = if MEMBER_ONLY.contains(&op.as_str()) {
            ("member-permissions", &member)
        } else {
            ("orchestrator", &orchestrator)
        };
        for n in needs {
            if !grants.contains(&n) {
                missing.push(format!(
                    "{n} (called in {}): add it to policies/{policy}.json",
                    files.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing grants:\n{}",
        missing.join("\n")
    );

    // Nothing more: every grant is called, needed by a called operation, or planned.
    let mut justified: BTreeSet<String> = called.keys().cloned().collect();
    for p in PLANNED {
        justified.insert(p.to_string());
    }
    for (op, deps) in DEPENDENT {
        if justified.contains(*op) {
            justified.extend(deps.iter().map(|d| d.to_string()));
        }
    }
    let extra: Vec<_> = orchestrator.difference(&justified).collect();
    assert!(
        extra.is_empty(),
        "the orchestrator grants what no code calls: {extra:?}"
    );
}
