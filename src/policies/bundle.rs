//! The member bundle: which templates a run uses (shipped, or edited copies), rendered and
//! validated before any AWS call, and what one account should hold (the execution role's trust
//! policy and gdorg's managed policies under the `/gdorg/` path).

use std::path::Path;

use serde_json::Value;

use super::render::{RenderError, Vars};
use super::validate::{self, Issue, Severity};
use super::{Kind, Placement, Template, POLICY_PATH, TEMPLATES};

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

/// The grammar a document asks for (`validate FILE`): trust when a statement names a Principal,
/// resource policy when one names a Principal and a Resource.
pub fn kind_of(doc: &Value) -> Kind {
    let statements = validate::statements(doc);
    let any_principal = statements
        .iter()
        .any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some());
    let any_resource = statements
        .iter()
        .any(|s| s.get("Resource").is_some() || s.get("NotResource").is_some());
    if any_principal && any_resource {
        Kind::Resource
    } else if any_principal {
        Kind::Trust
    } else {
        Kind::Permissions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars::from_assignments(&["admin_account_id=111111111111"]).unwrap()
    }

    fn desired() -> Bundle {
        bundle(&TemplateSet::builtin(), &vars(), "222222222222").unwrap()
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
    fn kind_is_told_by_principal() {
        assert_eq!(kind_of(&desired().trust), Kind::Trust);
        assert_eq!(kind_of(&desired().policies[0].document), Kind::Permissions);
    }
}
