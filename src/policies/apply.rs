//! `gdorg policies apply`: install the member bundle (the execution role with its trust policy,
//! and the member managed policies attached to it) in every chosen account, through the
//! assumed role.
//!
//! Data flows one way: **preflight -> observe -> plan -> execute -> report**.
//! - *preflight* renders and validates every template before any AWS call; a bad template
//!   refuses the whole run, naming file, statement and problem.
//! - *observe* reads one account (GetRole, ListAttachedRolePolicies, GetPolicy,
//!   GetPolicyVersion, and ListPolicyVersions only where a new version is due).
//! - *plan* is pure: (desired, observed) -> steps. Documents are compared decoded and
//!   normalised, so a converged account plans nothing and re-apply makes no mutating call.
//! - *execute* runs each account's steps in order (a policy must exist before it is
//!   attached); the first failure stops that account only. Accounts run concurrently, bounded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use futures::StreamExt;
use serde_json::Value;

use super::render::{RenderError, Vars};
use super::validate::{self, Issue, Severity};
use super::{document, Kind, Placement, Template, POLICY_PATH, TEMPLATES};
use crate::aws::{AwsError, ClientFactory};

/// A template as this run uses it: the shipped text, or a file that replaces it.
#[derive(Debug, Clone)]
pub struct TemplateSource {
    pub template: &'static Template,
    /// Where the text came from (`policies/member-guard.json` or the user's file).
    pub origin: String,
    pub text: String,
}

/// The templates of a run.
#[derive(Debug, Clone)]
pub struct TemplateSet {
    pub sources: Vec<TemplateSource>,
}

impl TemplateSet {
    /// The templates built into the binary.
    pub fn builtin() -> TemplateSet {
        TemplateSet {
            sources: TEMPLATES
                .iter()
                .map(|t| TemplateSource {
                    template: t,
                    origin: format!("policies/{}", t.file),
                    text: t.text.to_string(),
                })
                .collect(),
        }
    }

    /// The built-in templates, each replaced by the file of the same name in `dir` if present.
    pub fn with_overrides(dir: &Path) -> std::io::Result<TemplateSet> {
        let mut set = TemplateSet::builtin();
        for s in &mut set.sources {
            let path = dir.join(s.template.file);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    s.origin = path.display().to_string();
                    s.text = text;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(set)
    }

    /// Replace the text of template `name` (tests and callers that build templates in memory).
    pub fn replace(&mut self, name: &str, origin: &str, text: &str) {
        if let Some(s) = self.sources.iter_mut().find(|s| s.template.name == name) {
            s.origin = origin.to_string();
            s.text = text.to_string();
        }
    }

    fn get(&self, name: &str) -> &TemplateSource {
        self.sources
            .iter()
            .find(|s| s.template.name == name)
            .expect("every catalog template is in the set")
    }

    /// The templates `apply` installs in members: the trust policy, then the managed policies.
    fn member_sources(&self) -> impl Iterator<Item = &TemplateSource> {
        self.sources
            .iter()
            .filter(|s| s.template.placement == Placement::Member)
    }
}

/// A template that cannot be used, found before any AWS call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TemplateError {
    #[error("{origin}: {error}")]
    Render { origin: String, error: RenderError },
    #[error("{origin}: refused, {} error(s):\n{}", .issues.len(), issues_text(.issues))]
    Invalid { origin: String, issues: Vec<Issue> },
}

fn issues_text(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Render and validate one template source; warnings are returned, errors refuse it.
pub fn render_checked(
    source: &TemplateSource,
    vars: &Vars,
) -> Result<(Value, Vec<Issue>), TemplateError> {
    let doc = super::render::render(&source.text, vars).map_err(|error| TemplateError::Render {
        origin: source.origin.clone(),
        error,
    })?;
    let issues = validate::validate(&doc, source.template.kind);
    if validate::has_errors(&issues) {
        return Err(TemplateError::Invalid {
            origin: source.origin.clone(),
            issues: issues
                .into_iter()
                .filter(|i| i.severity == Severity::Error)
                .collect(),
        });
    }
    Ok((doc, issues))
}

/// One managed policy of the bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPolicy {
    pub name: String,
    pub arn: String,
    pub document: Value,
}

/// What one account should have.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub role_name: String,
    pub trust: Value,
    pub policies: Vec<DesiredPolicy>,
}

/// The bundle of `account`: every member template rendered with `account_id` set.
pub fn bundle(set: &TemplateSet, vars: &Vars, account: &str) -> Result<Bundle, TemplateError> {
    let mut vars = vars.clone();
    let partition = vars.get("partition").unwrap_or("aws").to_string();
    vars.set("account_id", account)
        .map_err(|error| TemplateError::Render {
            origin: format!("account {account}"),
            error,
        })?;
    let role_name = vars
        .get("member_role_name")
        .unwrap_or(super::DEFAULT_MEMBER_ROLE_NAME)
        .to_string();
    let (trust, _) = render_checked(set.get("member-trust"), &vars)?;
    let mut policies = Vec::new();
    for s in set.member_sources() {
        let Some(name) = s.template.managed_policy_name else {
            continue;
        };
        let (doc, _) = render_checked(s, &vars)?;
        policies.push(DesiredPolicy {
            name: name.to_string(),
            arn: policy_arn(&partition, account, name),
            document: doc,
        });
    }
    Ok(Bundle {
        role_name,
        trust,
        policies,
    })
}

/// The ARN of gdorg's managed policy `name` in `account`.
pub fn policy_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:policy{POLICY_PATH}{name}")
}

/// Render and validate every template with the values known before any call (the accounts
/// and the administrator are not known yet: their examples stand in, since they only fill
/// ARNs). Returns the warnings.
pub fn preflight(set: &TemplateSet, vars: &Vars) -> Result<Vec<(String, Issue)>, TemplateError> {
    let mut probe = vars.clone();
    for name in ["account_id", "admin_account_id"] {
        if !probe.is_set(name) {
            let example = super::variable(name).expect("catalog variable").example;
            probe.set(name, example).expect("examples are valid");
        }
    }
    let mut warnings = Vec::new();
    for s in set.member_sources() {
        let (_, issues) = render_checked(s, &probe)?;
        warnings.extend(issues.into_iter().map(|i| (s.origin.clone(), i)));
    }
    Ok(warnings)
}

/// One version of a managed policy, as ListPolicyVersions gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub id: String,
    pub is_default: bool,
    /// Creation time, epoch seconds (orders versions for pruning).
    pub created: i64,
}

/// A managed policy as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedPolicy {
    /// The default version's document, decoded (None: unreadable).
    pub document: Option<Value>,
    /// Every version; read only when the document differs (pruning needs it).
    pub versions: Vec<VersionInfo>,
}

/// One account as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// The role's trust policy, decoded, when the role exists (Some(None): exists, unreadable).
    pub role: Option<Option<Value>>,
    /// ARNs of the managed policies attached to the role.
    pub attached: BTreeSet<String>,
    /// Policy ARN -> what is there (absent: no such policy).
    pub policies: BTreeMap<String, ObservedPolicy>,
}

/// IAM keeps at most this many versions of a managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;

/// One change to make in an account.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    CreateRole {
        role: String,
        trust: Value,
    },
    UpdateTrust {
        role: String,
        trust: Value,
    },
    CreatePolicy {
        name: String,
        document: Value,
    },
    /// Make room at the version limit: delete the oldest non-default version.
    DeletePolicyVersion {
        name: String,
        arn: String,
        version: String,
    },
    CreatePolicyVersion {
        name: String,
        arn: String,
        document: Value,
    },
    AttachRolePolicy {
        role: String,
        name: String,
        arn: String,
    },
}

impl Step {
    /// The IAM operation the step calls.
    pub fn operation(&self) -> &'static str {
        match self {
            Step::CreateRole { .. } => "CreateRole",
            Step::UpdateTrust { .. } => "UpdateAssumeRolePolicy",
            Step::CreatePolicy { .. } => "CreatePolicy",
            Step::DeletePolicyVersion { .. } => "DeletePolicyVersion",
            Step::CreatePolicyVersion { .. } => "CreatePolicyVersion",
            Step::AttachRolePolicy { .. } => "AttachRolePolicy",
        }
    }

    /// What the step is about, for the plan (`GdorgExecutionRole`, `gdorg-member-guard v1`).
    pub fn subject(&self) -> String {
        match self {
            Step::CreateRole { role, .. } | Step::UpdateTrust { role, .. } => role.clone(),
            Step::CreatePolicy { name, .. } | Step::CreatePolicyVersion { name, .. } => {
                name.clone()
            }
            Step::DeletePolicyVersion { name, version, .. } => format!("{name} {version}"),
            Step::AttachRolePolicy { role, name, .. } => format!("{name} -> {role}"),
        }
    }
}

/// Pure: the steps that take an account from `observed` to `desired`, in execution order.
pub fn plan(desired: &Bundle, observed: &Observed) -> Vec<Step> {
    let mut steps = Vec::new();
    match &observed.role {
        None => steps.push(Step::CreateRole {
            role: desired.role_name.clone(),
            trust: desired.trust.clone(),
        }),
        Some(current) => {
            if !current
                .as_ref()
                .is_some_and(|c| document::same(c, &desired.trust))
            {
                steps.push(Step::UpdateTrust {
                    role: desired.role_name.clone(),
                    trust: desired.trust.clone(),
                });
            }
        }
    }
    for p in &desired.policies {
        match observed.policies.get(&p.arn) {
            None => steps.push(Step::CreatePolicy {
                name: p.name.clone(),
                document: p.document.clone(),
            }),
            Some(current) => {
                let same = current
                    .document
                    .as_ref()
                    .is_some_and(|d| document::same(d, &p.document));
                if !same {
                    if current.versions.len() >= MAX_POLICY_VERSIONS {
                        if let Some(oldest) = current
                            .versions
                            .iter()
                            .filter(|v| !v.is_default)
                            .min_by_key(|v| (v.created, version_number(&v.id)))
                        {
                            steps.push(Step::DeletePolicyVersion {
                                name: p.name.clone(),
                                arn: p.arn.clone(),
                                version: oldest.id.clone(),
                            });
                        }
                    }
                    steps.push(Step::CreatePolicyVersion {
                        name: p.name.clone(),
                        arn: p.arn.clone(),
                        document: p.document.clone(),
                    });
                }
            }
        }
    }
    for p in &desired.policies {
        if !observed.attached.contains(&p.arn) {
            steps.push(Step::AttachRolePolicy {
                role: desired.role_name.clone(),
                name: p.name.clone(),
                arn: p.arn.clone(),
            });
        }
    }
    steps
}

/// `v12` -> 12 (ties on creation time are broken by the version number IAM hands out).
fn version_number(id: &str) -> u64 {
    id.trim_start_matches('v').parse().unwrap_or(u64::MAX)
}

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
    #[error("finding the caller's account: {0}")]
    Caller(AwsError),
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

/// Run apply (or its dry run). Per-account failures are in the report, not errors.
pub async fn apply(factory: &ClientFactory, req: &ApplyRequest) -> Result<ApplyReport, ApplyError> {
    // Everything that can be checked without AWS is checked first: no call is made for a
    // bad template, value or account id.
    let explicit = check_accounts(&req.accounts)?;
    if req.vars.is_set("account_id") {
        return Err(ApplyError::AccountIdGiven);
    }
    let warnings = preflight(&req.templates, &req.vars)?;

    let mut vars = req.vars.clone();
    let caller = if !vars.is_set("admin_account_id") || explicit.is_empty() {
        let who = ClientFactory::sts(factory.base())
            .get_caller_identity()
            .send()
            .await
            .map_err(AwsError::from_sdk("GetCallerIdentity"))
            .map_err(ApplyError::Caller)?;
        who.account().map(str::to_string)
    } else {
        None
    };
    if !vars.is_set("admin_account_id") {
        if let Some(c) = &caller {
            vars.set("admin_account_id", c)
                .map_err(|error| TemplateError::Render {
                    origin: "the caller's account".into(),
                    error,
                })?;
        }
    }
    let accounts = if explicit.is_empty() {
        organization_accounts(factory, caller.as_deref()).await?
    } else {
        explicit
    };
    // Render every account's bundle before touching any of them.
    let bundles: Vec<(String, Bundle)> = accounts
        .iter()
        .map(|a| bundle(&req.templates, &vars, a).map(|b| (a.clone(), b)))
        .collect::<Result<_, _>>()?;

    let limit = req.concurrency.max(1);
    let mut results: Vec<AccountResult> = futures::stream::iter(bundles)
        .map(|(account, bundle)| async move {
            one_account(factory, &account, &bundle, req.dry_run).await
        })
        .buffer_unordered(limit)
        .collect()
        .await;
    results.sort_by(|a, b| a.account.cmp(&b.account));
    Ok(ApplyReport {
        dry_run: req.dry_run,
        accounts: results,
        warnings,
    })
}

/// Active accounts of the organization, sorted, without the caller's own.
async fn organization_accounts(
    factory: &ClientFactory,
    caller: Option<&str>,
) -> Result<Vec<String>, ApplyError> {
    let pages: Vec<_> = ClientFactory::organizations(factory.base())
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(AwsError::from_sdk("ListAccounts"))
        .map_err(ApplyError::Accounts)?;
    let mut ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.accounts())
        .filter(|a| {
            a.status()
                .is_none_or(|s| *s == aws_sdk_organizations::types::AccountStatus::Active)
        })
        .filter_map(|a| a.id().map(str::to_string))
        .filter(|id| Some(id.as_str()) != caller)
        .collect();
    ids.sort();
    Ok(ids)
}

async fn one_account(
    factory: &ClientFactory,
    account: &str,
    bundle: &Bundle,
    dry_run: bool,
) -> AccountResult {
    let fail = |error: AwsError| AccountFailure {
        account: account.to_string(),
        error,
    };
    let config = match factory.account(account).await {
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

/// Kinds must match what the catalog says; used by `validate FILE` to pick the grammar.
pub fn kind_of(doc: &Value) -> Kind {
    let any_principal = validate::statements(doc)
        .iter()
        .any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some());
    if any_principal {
        Kind::Trust
    } else {
        Kind::Permissions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        Vars::from_assignments(&["admin_account_id=111111111111"]).unwrap()
    }

    fn desired() -> Bundle {
        bundle(&TemplateSet::builtin(), &vars(), "222222222222").unwrap()
    }

    fn converged(b: &Bundle) -> Observed {
        Observed {
            role: Some(Some(b.trust.clone())),
            attached: b.policies.iter().map(|p| p.arn.clone()).collect(),
            policies: b
                .policies
                .iter()
                .map(|p| {
                    (
                        p.arn.clone(),
                        ObservedPolicy {
                            document: Some(p.document.clone()),
                            versions: Vec::new(),
                        },
                    )
                })
                .collect(),
        }
    }

    fn ops(steps: &[Step]) -> Vec<&'static str> {
        steps.iter().map(Step::operation).collect()
    }

    #[test]
    fn bundle_has_the_role_and_three_policies_under_the_gdorg_path() {
        let b = desired();
        assert_eq!(b.role_name, "GdorgExecutionRole");
        let names: Vec<_> = b.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "gdorg-member-permissions",
                "gdorg-member-guard",
                "gdorg-guardduty-service-linked-role"
            ]
        );
        assert_eq!(
            b.policies[1].arn,
            "arn:aws:iam::222222222222:policy/gdorg/gdorg-member-guard"
        );
        assert_eq!(
            b.trust["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::111111111111:root"
        );
    }

    #[test]
    fn fresh_account_plans_everything_in_order() {
        let b = desired();
        let steps = plan(&b, &Observed::default());
        assert_eq!(
            ops(&steps),
            [
                "CreateRole",
                "CreatePolicy",
                "CreatePolicy",
                "CreatePolicy",
                "AttachRolePolicy",
                "AttachRolePolicy",
                "AttachRolePolicy"
            ]
        );
    }

    #[test]
    fn converged_account_plans_nothing_even_if_iam_reformatted_documents() {
        let b = desired();
        let mut o = converged(&b);
        assert!(plan(&b, &o).is_empty());
        // IAM keeps what it was sent; a one-element list written as a string is the same policy.
        let mut reshaped = b.trust.clone();
        reshaped["Statement"][0]["Action"] = json!(["sts:AssumeRole"]);
        o.role = Some(Some(reshaped));
        assert!(plan(&b, &o).is_empty());
    }

    #[test]
    fn changed_documents_update_trust_and_add_a_version() {
        let b = desired();
        let mut o = converged(&b);
        o.role = Some(Some(json!({"Version": "2012-10-17", "Statement": []})));
        let guard = b.policies[1].arn.clone();
        o.policies.get_mut(&guard).unwrap().document = Some(json!({"old": true}));
        o.policies.get_mut(&guard).unwrap().versions = vec![VersionInfo {
            id: "v1".into(),
            is_default: true,
            created: 1,
        }];
        assert_eq!(
            ops(&plan(&b, &o)),
            ["UpdateAssumeRolePolicy", "CreatePolicyVersion"]
        );
    }

    #[test]
    fn at_the_version_limit_the_oldest_non_default_goes_first() {
        let b = desired();
        let mut o = converged(&b);
        let arn = b.policies[0].arn.clone();
        let p = o.policies.get_mut(&arn).unwrap();
        p.document = Some(json!({"old": true}));
        // v3 is the default; v2 and v4 share the oldest time: the lower number goes.
        p.versions = [
            (1, 50, false),
            (2, 10, false),
            (3, 5, true),
            (4, 10, false),
            (5, 60, false),
        ]
        .iter()
        .map(|(n, t, d)| VersionInfo {
            id: format!("v{n}"),
            is_default: *d,
            created: *t,
        })
        .collect();
        let steps = plan(&b, &o);
        assert_eq!(ops(&steps), ["DeletePolicyVersion", "CreatePolicyVersion"]);
        assert!(matches!(&steps[0], Step::DeletePolicyVersion { version, .. } if version == "v2"));
    }

    #[test]
    fn missing_attachment_is_the_only_step() {
        let b = desired();
        let mut o = converged(&b);
        o.attached.remove(&b.policies[2].arn);
        let steps = plan(&b, &o);
        assert_eq!(ops(&steps), ["AttachRolePolicy"]);
        assert_eq!(
            steps[0].subject(),
            "gdorg-guardduty-service-linked-role -> GdorgExecutionRole"
        );
    }

    #[test]
    fn preflight_refuses_a_bad_template_naming_file_and_statement() {
        let mut set = TemplateSet::builtin();
        set.replace(
            "member-guard",
            "bad/member-guard.json",
            r#"{"Version": "2012-10-17", "Statement": [
                {"Sid": "Ok", "Effect": "Deny", "Action": "guardduty:ArchiveFindings", "Resource": "*"},
                {"Sid": "Typo", "Effect": "Deny", "Action": "guardduty:ArchiveFinding", "Resource": "*"}]}"#,
        );
        let e = preflight(&set, &vars()).unwrap_err().to_string();
        assert!(e.contains("bad/member-guard.json"), "{e}");
        assert!(e.contains("Statement[1] (Typo)"), "{e}");
        assert!(
            e.contains("`guardduty:ArchiveFinding` is not a guardduty action"),
            "{e}"
        );
    }

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

    #[test]
    fn kind_is_told_by_principal() {
        assert_eq!(kind_of(&desired().trust), Kind::Trust);
        assert_eq!(kind_of(&desired().policies[0].document), Kind::Permissions);
    }
}
