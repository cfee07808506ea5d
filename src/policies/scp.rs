//! `gdorg policies scp apply`: the guard SCP (`policies/guardduty-guard-scp.json`) in
//! Organizations, as the caller (the management account, or a delegated administrator of
//! Organizations policies).
//!
//! **preflight -> observe -> plan -> execute**, like the member bundle:
//! - *preflight* renders and validates the template as an SCP before any call;
//! - *observe* reads the root (ListRoots: its id, whether SCPs are enabled), the policy of that
//!   name (ListPolicies, DescribePolicy) and where it is attached (ListTargetsForPolicy);
//! - *plan* ([`plan`]) is pure: enable the SCP type, create or update the policy, attach it to
//!   every target it is not attached to. A converged organization plans nothing, so a second
//!   run makes no mutating call;
//! - *execute* runs the steps in order and stops at the first failure.

use std::collections::BTreeSet;

use aws_sdk_organizations::types::PolicyType;
use serde_json::Value;

use super::bundle::{render_checked, TemplateError, TemplateSet};
use super::document;
use super::render::Vars;
use crate::aws::{organization, AwsError, ClientFactory, Session};

/// The name `scp apply` gives the policy in Organizations (by which it finds it again).
pub const DEFAULT_SCP_NAME: &str = "gdorg-guardduty-guard";
/// The catalog name of the SCP template.
pub const TEMPLATE: &str = "guardduty-guard-scp";
const DESCRIPTION: &str =
    "gdorg: only the execution role or the GuardDuty administrator account may stop GuardDuty, leave the administrator, or archive or suppress findings";

/// What the organization should hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub name: String,
    pub description: String,
    pub document: Value,
    /// Root, OU or account ids; empty: the root.
    pub targets: Vec<String>,
}

/// The policy of that name as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedPolicy {
    pub id: String,
    pub description: String,
    /// Its content, parsed (None: unreadable).
    pub document: Option<Value>,
    /// Ids of the roots, OUs and accounts it is attached to.
    pub targets: BTreeSet<String>,
}

/// The organization as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub root: String,
    pub scp_enabled: bool,
    pub policy: Option<ObservedPolicy>,
}

/// One change to make.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    EnablePolicyType { root: String },
    CreatePolicy { name: String },
    UpdatePolicy { name: String, id: String },
    AttachPolicy { name: String, target: String },
}

impl Step {
    pub fn operation(&self) -> &'static str {
        match self {
            Step::EnablePolicyType { .. } => "EnablePolicyType",
            Step::CreatePolicy { .. } => "CreatePolicy",
            Step::UpdatePolicy { .. } => "UpdatePolicy",
            Step::AttachPolicy { .. } => "AttachPolicy",
        }
    }

    pub fn subject(&self) -> String {
        match self {
            Step::EnablePolicyType { root } => format!("SERVICE_CONTROL_POLICY on {root}"),
            Step::CreatePolicy { name } | Step::UpdatePolicy { name, .. } => name.clone(),
            Step::AttachPolicy { name, target } => format!("{name} -> {target}"),
        }
    }
}

/// The targets of `desired`, the root when none was given.
fn targets(desired: &Desired, root: &str) -> Vec<String> {
    if desired.targets.is_empty() {
        vec![root.to_string()]
    } else {
        desired.targets.clone()
    }
}

/// Pure: the steps from `observed` to `desired`, in execution order.
pub fn plan(desired: &Desired, observed: &Observed) -> Vec<Step> {
    let mut steps = Vec::new();
    if !observed.scp_enabled {
        steps.push(Step::EnablePolicyType {
            root: observed.root.clone(),
        });
    }
    let attached = match &observed.policy {
        None => {
            steps.push(Step::CreatePolicy {
                name: desired.name.clone(),
            });
            BTreeSet::new()
        }
        Some(p) => {
            let same = p
                .document
                .as_ref()
                .is_some_and(|d| document::same(d, &desired.document));
            if !same || p.description != desired.description {
                steps.push(Step::UpdatePolicy {
                    name: desired.name.clone(),
                    id: p.id.clone(),
                });
            }
            p.targets.clone()
        }
    };
    for t in targets(desired, &observed.root) {
        if !attached.contains(&t) {
            steps.push(Step::AttachPolicy {
                name: desired.name.clone(),
                target: t,
            });
        }
    }
    steps
}

/// What to apply.
#[derive(Debug, Clone)]
pub struct ScpRequest {
    pub templates: TemplateSet,
    pub vars: Vars,
    /// The policy's name in Organizations.
    pub name: String,
    /// `r-...`, `ou-...` or 12-digit account ids; empty: the root.
    pub targets: Vec<String>,
    pub dry_run: bool,
}

/// The result of a run (a dry run: the plan, nothing done).
#[derive(Debug, Clone, PartialEq)]
pub struct ScpReport {
    /// The account it ran as (the management account).
    pub account: String,
    pub dry_run: bool,
    pub steps: Vec<Step>,
    pub done: usize,
    pub failure: Option<AwsError>,
    /// The policy's id, once it exists.
    pub policy_id: Option<String>,
}

/// Errors before any change.
#[derive(Debug, thiserror::Error)]
pub enum ScpError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(
        "`{0}` is not a target: give a root (r-...), an OU (ou-...-...) or a 12-digit account id"
    )]
    BadTarget(String),
    #[error("reading the organization: {0}")]
    Observe(AwsError),
}

/// The targets given, checked (Organizations' patterns), each once, order kept.
pub fn check_targets(targets: &[String]) -> Result<Vec<String>, ScpError> {
    let lower_digits = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    let mut out: Vec<String> = Vec::new();
    for t in targets {
        let t = t.trim();
        let ok = if let Some(r) = t.strip_prefix("r-") {
            (4..=32).contains(&r.len()) && lower_digits(r)
        } else if let Some(ou) = t.strip_prefix("ou-") {
            ou.split_once('-').is_some_and(|(a, b)| {
                (4..=32).contains(&a.len())
                    && (8..=32).contains(&b.len())
                    && lower_digits(a)
                    && lower_digits(b)
            })
        } else {
            t.len() == 12 && t.chars().all(|c| c.is_ascii_digit())
        };
        if !ok {
            return Err(ScpError::BadTarget(t.to_string()));
        }
        if !out.iter().any(|x| x == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// Render and validate the SCP with `vars` (checked as an SCP: no Principal, 5,120 characters).
pub fn render(set: &TemplateSet, vars: &Vars) -> Result<Value, TemplateError> {
    let source = set
        .sources
        .iter()
        .find(|s| s.template.name == TEMPLATE)
        .expect("the SCP template is in the catalog");
    render_checked(source, vars).map(|(doc, _)| doc)
}

/// Read what Organizations holds of the policy called `name`.
pub async fn observe(
    organizations: &aws_sdk_organizations::Client,
    name: &str,
) -> Result<Observed, AwsError> {
    let roots = organizations
        .list_roots()
        .send()
        .await
        .map_err(AwsError::from_sdk("ListRoots"))?;
    let root = roots.roots().first().ok_or_else(|| AwsError {
        operation: "ListRoots",
        code: "NoRoot".into(),
        message: "the organization has no root".into(),
    })?;
    let scp_enabled = root.policy_types().iter().any(|t| {
        t.r#type() == Some(&PolicyType::ServiceControlPolicy)
            && t.status().map(|s| s.as_str()) == Some("ENABLED")
    });
    let root_id = root.id().unwrap_or_default().to_string();
    let mut summaries: Vec<aws_sdk_organizations::types::PolicySummary> = Vec::new();
    let mut pages = organizations
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListPolicies"))?;
        summaries.extend(page.policies().iter().cloned());
    }
    let Some(id) = summaries
        .iter()
        .find(|p| p.name() == Some(name))
        .and_then(|p| p.id().map(str::to_string))
    else {
        return Ok(Observed {
            root: root_id,
            scp_enabled,
            policy: None,
        });
    };
    let described = organizations
        .describe_policy()
        .policy_id(&id)
        .send()
        .await
        .map_err(AwsError::from_sdk("DescribePolicy"))?;
    let policy = described.policy();
    let content = policy.and_then(|p| p.content()).and_then(document::decode);
    let description = policy
        .and_then(|p| p.policy_summary())
        .and_then(|s| s.description())
        .unwrap_or_default()
        .to_string();
    let mut targets: Vec<aws_sdk_organizations::types::PolicyTargetSummary> = Vec::new();
    let mut pages = organizations
        .list_targets_for_policy()
        .policy_id(&id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListTargetsForPolicy"))?;
        targets.extend(page.targets().iter().cloned());
    }
    Ok(Observed {
        root: root_id,
        scp_enabled,
        policy: Some(ObservedPolicy {
            id,
            description,
            document: content,
            targets: targets
                .iter()
                .filter_map(|t| t.target_id().map(str::to_string))
                .collect(),
        }),
    })
}

/// Preflight, observe, plan and (unless a dry run) execute.
pub async fn apply(session: &Session, req: &ScpRequest) -> Result<ScpReport, ScpError> {
    let targets = check_targets(&req.targets)?;
    // Preflight with an example administrator: the grammar does not depend on the value.
    let mut probe = req.vars.clone();
    if !probe.is_set("admin_account_id") {
        let example = super::variable("admin_account_id")
            .expect("catalog variable")
            .example;
        probe
            .set("admin_account_id", example)
            .expect("examples are valid");
    }
    render(&req.templates, &probe)?;

    // The administrator account the SCP exempts: given, else the organization's delegated
    // GuardDuty administrator, else the caller's own account.
    let mut vars = req.vars.clone();
    if !vars.is_set("admin_account_id") {
        // Not knowing is an error, not a guess: exempting the wrong account would lock the
        // real administrator out.
        let admin = organization::delegated_admin(session)
            .await
            .map_err(ScpError::Observe)?
            .unwrap_or_else(|| session.caller.clone());
        vars.set("admin_account_id", &admin)
            .map_err(|error| TemplateError::Render {
                origin: "the GuardDuty administrator".into(),
                error,
            })?;
    }
    let desired = Desired {
        name: req.name.clone(),
        description: DESCRIPTION.to_string(),
        document: render(&req.templates, &vars)?,
        targets,
    };
    let organizations = ClientFactory::organizations(session.factory.base());
    let observed = observe(&organizations, &desired.name)
        .await
        .map_err(ScpError::Observe)?;
    let steps = plan(&desired, &observed);
    let mut report = ScpReport {
        account: session.caller.clone(),
        dry_run: req.dry_run,
        steps,
        done: 0,
        failure: None,
        policy_id: observed.policy.as_ref().map(|p| p.id.clone()),
    };
    if req.dry_run {
        return Ok(report);
    }
    for step in report.steps.clone() {
        match execute(&organizations, &desired, &step, report.policy_id.as_deref()).await {
            Ok(Some(id)) => report.policy_id = Some(id),
            Ok(None) => {}
            Err(e) => {
                report.failure = Some(e);
                break;
            }
        }
        report.done += 1;
    }
    Ok(report)
}

/// Carry out one step; a created policy's id is returned.
async fn execute(
    organizations: &aws_sdk_organizations::Client,
    desired: &Desired,
    step: &Step,
    policy_id: Option<&str>,
) -> Result<Option<String>, AwsError> {
    let content = serde_json::to_string(&desired.document).unwrap_or_default();
    match step {
        Step::EnablePolicyType { root } => {
            organizations
                .enable_policy_type()
                .root_id(root)
                .policy_type(PolicyType::ServiceControlPolicy)
                .send()
                .await
                .map_err(AwsError::from_sdk("EnablePolicyType"))?;
            Ok(None)
        }
        Step::CreatePolicy { name } => {
            let out = organizations
                .create_policy()
                .name(name)
                .description(&desired.description)
                .content(content)
                .r#type(PolicyType::ServiceControlPolicy)
                .send()
                .await
                .map_err(AwsError::from_sdk("CreatePolicy"))?;
            Ok(out
                .policy()
                .and_then(|p| p.policy_summary())
                .and_then(|s| s.id())
                .map(str::to_string))
        }
        Step::UpdatePolicy { id, .. } => {
            organizations
                .update_policy()
                .policy_id(id)
                .description(&desired.description)
                .content(content)
                .send()
                .await
                .map_err(AwsError::from_sdk("UpdatePolicy"))?;
            Ok(None)
        }
        Step::AttachPolicy { target, .. } => {
            organizations
                .attach_policy()
                .policy_id(policy_id.unwrap_or_default())
                .target_id(target)
                .send()
                .await
                .map_err(AwsError::from_sdk("AttachPolicy"))?;
            Ok(None)
        }
    }
}

/// The plan (dry run) or the result, one line per step, the failure last.
pub fn report_text(r: &ScpReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if r.steps.is_empty() {
        out.push_str("The guard SCP is in place: nothing to change.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{} {} change(s):",
        if r.dry_run { "Plan:" } else { "Applied" },
        if r.dry_run { r.steps.len() } else { r.done }
    );
    for (i, s) in r.steps.iter().enumerate() {
        let mark = if r.dry_run {
            "  "
        } else if i < r.done {
            "ok"
        } else {
            "--"
        };
        let _ = writeln!(out, "  {mark} {:<16} {}", s.operation(), s.subject());
    }
    if let Some(e) = &r.failure {
        let _ = writeln!(
            out,
            "failed: account {} (Organizations, global): {e}",
            r.account
        );
        if let Some(h) = e.hint() {
            let _ = writeln!(out, "  {h}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn desired() -> Desired {
        Desired {
            name: DEFAULT_SCP_NAME.into(),
            description: DESCRIPTION.into(),
            document: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "guardduty:DeleteDetector", "Resource": "*"}]}),
            targets: vec![],
        }
    }

    fn ops(steps: &[Step]) -> Vec<&'static str> {
        steps.iter().map(Step::operation).collect()
    }

    #[test]
    fn a_fresh_organization_gets_everything_and_a_converged_one_nothing() {
        let d = desired();
        let fresh = Observed {
            root: "r-abcd".into(),
            scp_enabled: false,
            policy: None,
        };
        assert_eq!(
            ops(&plan(&d, &fresh)),
            ["EnablePolicyType", "CreatePolicy", "AttachPolicy"]
        );
        let converged = Observed {
            root: "r-abcd".into(),
            scp_enabled: true,
            policy: Some(ObservedPolicy {
                id: "p-12345678".into(),
                description: DESCRIPTION.into(),
                document: Some(d.document.clone()),
                targets: ["r-abcd".to_string()].into(),
            }),
        };
        assert!(plan(&d, &converged).is_empty());
        let mut changed = converged.clone();
        changed.policy.as_mut().unwrap().document = Some(json!({"old": true}));
        let mut more = d.clone();
        more.targets = vec!["r-abcd".into(), "222222222222".into()];
        assert_eq!(
            ops(&plan(&more, &changed)),
            ["UpdatePolicy", "AttachPolicy"]
        );
    }

    #[test]
    fn targets_are_checked() {
        assert_eq!(
            check_targets(&[
                "r-ab12".into(),
                "ou-ab12-abcdefgh".into(),
                "123456789012".into(),
                "r-ab12".into()
            ])
            .unwrap(),
            ["r-ab12", "ou-ab12-abcdefgh", "123456789012"]
        );
        for bad in ["r-AB12", "ou-ab12", "12345", "root"] {
            assert!(check_targets(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
