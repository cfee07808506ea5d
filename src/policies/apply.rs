//! `gdorg policies apply`: install the member bundle (the execution role with its trust policy,
//! and the member managed policies attached to it) in every chosen account, through the
//! assumed role.
//!
//! Data flows one way: **preflight -> observe -> plan -> execute -> report**.
//! - *preflight* ([`super::bundle`]) renders and validates every template before any AWS call; a bad template
//!   refuses the whole run, naming file, statement and problem.
//! - *observe* reads one account (GetRole, ListAttachedRolePolicies, GetPolicy,
//!   GetPolicyVersion, and ListPolicyVersions only where a new version is due).
//! - *plan* ([`super::plan`]) is pure: (desired, observed) -> steps. Documents are compared decoded and
//!   normalised, so a converged account plans nothing and re-apply makes no mutating call.
//! - *execute* runs each account's steps in order (a policy must exist before it is
//!   attached); the first failure stops that account only. Accounts run concurrently, bounded.

pub use super::bundle::{
    bundle, kind_of, policy_arn, preflight, render_checked, Bundle, DesiredPolicy, TemplateError,
    TemplateSet, TemplateSource,
};
pub use super::plan::{plan, Observed, ObservedPolicy, Step, VersionInfo, MAX_POLICY_VERSIONS};
use super::render::Vars;
use super::validate::Issue;
use super::{document, POLICY_PATH};
use crate::aws::{organization, AwsError, ClientFactory, Session};
use crate::control::{fan_out, Reporter, Stop};

/// Why an account could not be brought in line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("account {account}: {error}")]
pub struct AccountFailure {
    pub account: String,
    pub error: AwsError,
}

/// What happened in one account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountResult {
    pub account: String,
    /// The planned steps (all of them, done or not).
    pub steps: Vec<Step>,
    /// How many of `steps` were carried out.
    pub done: usize,
    pub failure: Option<AccountFailure>,
}

/// The result of a run (or of a dry run: nothing done).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyReport {
    pub dry_run: bool,
    pub accounts: Vec<AccountResult>,
    /// Warnings of the templates (origin, issue): printed, not fatal.
    pub warnings: Vec<(String, Issue)>,
    /// Accounts never started because the run was stopped.
    pub not_started: usize,
}

impl ApplyReport {
    pub fn failed(&self) -> impl Iterator<Item = &AccountResult> {
        self.accounts.iter().filter(|a| a.failure.is_some())
    }

    /// Whether every account is (or, for a dry run, was read) without failure.
    pub fn all_ok(&self) -> bool {
        self.failed().next().is_none()
    }
}

/// What to apply, and where.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    pub templates: TemplateSet,
    pub vars: Vars,
    /// Accounts to apply to; empty: every active account of the organization but the caller's.
    pub accounts: Vec<String>,
    pub dry_run: bool,
    /// Accounts worked on at once.
    pub concurrency: usize,
}

/// Errors that stop a run before any account is worked on.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("`{0}` is not a 12-digit account id")]
    BadAccount(String),
    #[error("account_id is filled by apply for each account: give the accounts with --account")]
    AccountIdGiven,
    #[error("listing the organization's accounts: {0}")]
    Accounts(AwsError),
}

/// The accounts given, checked (12 digits, each once, order kept).
pub fn check_accounts(accounts: &[String]) -> Result<Vec<String>, ApplyError> {
    let mut out: Vec<String> = Vec::new();
    for a in accounts {
        let a = a.trim();
        if a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()) {
            return Err(ApplyError::BadAccount(a.to_string()));
        }
        if !out.iter().any(|x| x == a) {
            out.push(a.to_string());
        }
    }
    Ok(out)
}

/// Run apply (or its dry run). Per-account failures are in the report, not errors. A stop
/// starts no new account; those not started are counted in the report.
pub async fn apply(
    session: &Session,
    req: &ApplyRequest,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Result<ApplyReport, ApplyError> {
    // Everything that can be checked without AWS is checked first: no call is made for a
    // bad template, value or account id.
    let explicit = check_accounts(&req.accounts)?;
    if req.vars.is_set("account_id") {
        return Err(ApplyError::AccountIdGiven);
    }
    let warnings = preflight(&req.templates, &req.vars)?;

    let mut vars = req.vars.clone();
    if !vars.is_set("admin_account_id") {
        vars.set("admin_account_id", &session.caller)
            .map_err(|error| TemplateError::Render {
                origin: "the caller's account".into(),
                error,
            })?;
    }
    let accounts = if explicit.is_empty() {
        let mut ids: Vec<String> = organization::list_accounts(session)
            .await
            .map_err(ApplyError::Accounts)?
            .into_iter()
            .filter(|a| a.is_active() && a.id != session.caller)
            .map(|a| a.id)
            .collect();
        ids.sort();
        ids
    } else {
        explicit
    };
    // Render every account's bundle before touching any of them.
    let bundles: Vec<(String, Bundle)> = accounts
        .iter()
        .map(|a| bundle(&req.templates, &vars, a).map(|b| (a.clone(), b)))
        .collect::<Result<_, _>>()?;

    let done =
        fan_out(
            bundles,
            req.concurrency,
            "policies",
            reporter,
            stop,
            |(account, bundle)| async move {
                one_account(session, &account, &bundle, req.dry_run).await
            },
        )
        .await;
    let mut results = done.results;
    results.sort_by(|a, b| a.account.cmp(&b.account));
    Ok(ApplyReport {
        dry_run: req.dry_run,
        accounts: results,
        warnings,
        not_started: done.not_started,
    })
}

async fn one_account(
    session: &Session,
    account: &str,
    bundle: &Bundle,
    dry_run: bool,
) -> AccountResult {
    let fail = |error: AwsError| AccountFailure {
        account: account.to_string(),
        error,
    };
    let config = match session.config(account).await {
        Ok(c) => c,
        Err(e) => {
            return AccountResult {
                account: account.to_string(),
                steps: Vec::new(),
                done: 0,
                failure: Some(fail(e)),
            }
        }
    };
    let iam = ClientFactory::iam(&config);
    let observed = match observe(&iam, bundle).await {
        Ok(o) => o,
        Err(e) => {
            return AccountResult {
                account: account.to_string(),
                steps: Vec::new(),
                done: 0,
                failure: Some(fail(e)),
            }
        }
    };
    let steps = plan(bundle, &observed);
    let mut result = AccountResult {
        account: account.to_string(),
        steps,
        done: 0,
        failure: None,
    };
    if dry_run {
        return result;
    }
    for step in &result.steps {
        if let Err(e) = execute(&iam, step).await {
            result.failure = Some(fail(e));
            break;
        }
        result.done += 1;
    }
    result
}

fn is_no_such_entity(e: &AwsError) -> bool {
    e.code == "NoSuchEntity"
}

/// Read what the account has of the bundle.
pub async fn observe(iam: &aws_sdk_iam::Client, bundle: &Bundle) -> Result<Observed, AwsError> {
    let mut observed = Observed::default();
    match iam.get_role().role_name(&bundle.role_name).send().await {
        Ok(out) => {
            let trust = out
                .role()
                .and_then(|r| r.assume_role_policy_document())
                .and_then(document::decode);
            observed.role = Some(trust);
            let attached: Vec<aws_sdk_iam::types::AttachedPolicy> = iam
                .list_attached_role_policies()
                .role_name(&bundle.role_name)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(AwsError::from_sdk("ListAttachedRolePolicies"))?;
            observed.attached = attached
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect();
        }
        Err(e) => {
            let e = AwsError::from_sdk("GetRole")(e);
            if !is_no_such_entity(&e) {
                return Err(e);
            }
        }
    }
    for p in &bundle.policies {
        let policy = match iam.get_policy().policy_arn(&p.arn).send().await {
            Ok(out) => out.policy,
            Err(e) => {
                let e = AwsError::from_sdk("GetPolicy")(e);
                if is_no_such_entity(&e) {
                    continue;
                }
                return Err(e);
            }
        };
        let default_version = policy
            .as_ref()
            .and_then(|p| p.default_version_id())
            .unwrap_or("v1")
            .to_string();
        let document = iam
            .get_policy_version()
            .policy_arn(&p.arn)
            .version_id(&default_version)
            .send()
            .await
            .map_err(AwsError::from_sdk("GetPolicyVersion"))?
            .policy_version
            .and_then(|v| v.document.as_deref().and_then(document::decode));
        let mut current = ObservedPolicy {
            document,
            versions: Vec::new(),
        };
        let differs = !current
            .document
            .as_ref()
            .is_some_and(|d| document::same(d, &p.document));
        if differs {
            let versions: Vec<aws_sdk_iam::types::PolicyVersion> = iam
                .list_policy_versions()
                .policy_arn(&p.arn)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(AwsError::from_sdk("ListPolicyVersions"))?;
            current.versions = versions
                .iter()
                .map(|v| VersionInfo {
                    id: v.version_id().unwrap_or_default().to_string(),
                    is_default: v.is_default_version(),
                    created: v.create_date().map(|d| d.secs()).unwrap_or_default(),
                })
                .collect();
        }
        observed.policies.insert(p.arn.clone(), current);
    }
    Ok(observed)
}

/// Carry out one step.
pub async fn execute(iam: &aws_sdk_iam::Client, step: &Step) -> Result<(), AwsError> {
    match step {
        Step::CreateRole { role, trust } => {
            iam.create_role()
                .role_name(role)
                .assume_role_policy_document(document::to_wire(trust))
                .description(
                    "gdorg execution role: the GuardDuty administrator works here through it",
                )
                .send()
                .await
                .map_err(AwsError::from_sdk("CreateRole"))?;
        }
        Step::UpdateTrust { role, trust } => {
            iam.update_assume_role_policy()
                .role_name(role)
                .policy_document(document::to_wire(trust))
                .send()
                .await
                .map_err(AwsError::from_sdk("UpdateAssumeRolePolicy"))?;
        }
        Step::CreatePolicy {
            name,
            document: doc,
        } => {
            iam.create_policy()
                .policy_name(name)
                .path(POLICY_PATH)
                .policy_document(document::to_wire(doc))
                .description("managed by gdorg policies apply")
                .send()
                .await
                .map_err(AwsError::from_sdk("CreatePolicy"))?;
        }
        Step::DeletePolicyVersion { arn, version, .. } => {
            iam.delete_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
                .await
                .map_err(AwsError::from_sdk("DeletePolicyVersion"))?;
        }
        Step::CreatePolicyVersion {
            arn, document: doc, ..
        } => {
            iam.create_policy_version()
                .policy_arn(arn)
                .policy_document(document::to_wire(doc))
                .set_as_default(true)
                .send()
                .await
                .map_err(AwsError::from_sdk("CreatePolicyVersion"))?;
        }
        Step::AttachRolePolicy { role, arn, .. } => {
            iam.attach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map_err(AwsError::from_sdk("AttachRolePolicy"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_checked_and_deduplicated() {
        assert_eq!(
            check_accounts(&["111111111111".into(), "111111111111".into()]).unwrap(),
            ["111111111111"]
        );
        assert!(matches!(
            check_accounts(&["12".into()]),
            Err(ApplyError::BadAccount(_))
        ));
    }
}
