//! The planner, pure: (desired bundle, observed account) -> the IAM steps, in execution order.
//! Documents are compared decoded and normalised ([`super::document`]), so a converged account
//! plans nothing and re-apply makes no mutating call.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::bundle::Bundle;
use super::document;

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

#[cfg(test)]
mod tests {
    use super::super::bundle::{bundle, TemplateSet};
    use super::super::render::Vars;
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
}
