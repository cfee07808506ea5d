//! IAM policy templates: the catalog of what gdorg needs in IAM, and `gdorg policies`
//! (list, show, render, validate, apply).
//!
//! The templates live in `policies/*.json` at the top of the repository (readable, reviewable,
//! and embedded here with `include_str!`, so the binary carries them). `policies/README.md`
//! documents every variable.
//!
//! | module | owns |
//! | --- | --- |
//! | [`actions`] | the IAM actions of guardduty, organizations, sts, iam, account; SDK method -> action |
//! | [`render`] | `${variable}` substitution, value checks, optional conditions |
//! | [`validate`] | policy grammar, action names, wildcard rules: errors and warnings |
//! | [`document`] | decoding IAM's URL-encoded documents and comparing documents semantically |
//! | [`bundle`] | the templates of a run, rendered and validated before any call; one account's desired state |
//! | [`plan`] | pure: (desired, observed) -> IAM steps |
//! | [`apply`] | observe -> plan -> execute in every chosen account, through the assumed role |
//! | [`scp`] | the guard SCP: observe -> plan -> execute in Organizations, as the caller |
//! | [`output`] | the text the CLI prints (list, validation issues, plan, apply report) |

pub mod actions;
pub mod apply;
pub mod bundle;
pub mod document;
pub mod output;
pub mod plan;
pub mod render;
pub mod scp;
pub mod validate;

/// What a policy document is for: the grammar differs (a trust policy names a Principal and
/// no Resource; a permissions policy the other way round) and so do the size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An identity-based permissions policy (managed policy).
    Permissions,
    /// A role trust policy (AssumeRolePolicyDocument).
    Trust,
    /// A service control policy (Organizations): no Principal, at most 5,120 characters.
    Scp,
    /// A resource-based policy (S3 bucket, KMS key): each statement names a Principal and a
    /// Resource.
    Resource,
}

/// Where a template is meant to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// In the administrator account, attached by you to whoever runs gdorg or reads its output.
    Administrator,
    /// In every member account; `gdorg policies apply` installs it.
    Member,
    /// In Organizations, attached to the root (or OUs, accounts); `gdorg policies scp apply`
    /// installs it.
    Organization,
    /// On the findings-export bucket or KMS key: you add its statements to that resource's
    /// policy (`gdorg policies render` prints them; `apply` does not install them).
    Resource,
}

/// One template of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// The name users type (`gdorg policies show member-guard`).
    pub name: &'static str,
    /// The file under `policies/`.
    pub file: &'static str,
    pub kind: Kind,
    pub placement: Placement,
    /// The managed policy name `apply` gives it in member accounts (None: not a managed policy
    /// of the member bundle).
    pub managed_policy_name: Option<&'static str>,
    pub description: &'static str,
    /// The template text, as shipped.
    pub text: &'static str,
}

/// IAM path of every managed policy gdorg creates: keeps them apart and lets the orchestrator
/// and member permissions scope IAM rights to `policy/gdorg/*`.
pub const POLICY_PATH: &str = "/gdorg/";

/// The catalog, in the order `list` shows it.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "orchestrator",
        file: "orchestrator.json",
        kind: Kind::Permissions,
        placement: Placement::Administrator,
        managed_policy_name: None,
        description: "the administrator's rights: exactly the GuardDuty, Organizations, STS and IAM actions gdorg calls",
        text: include_str!("../../policies/orchestrator.json"),
    },
    Template {
        name: "member-trust",
        file: "member-trust.json",
        kind: Kind::Trust,
        placement: Placement::Member,
        managed_policy_name: None,
        description: "trust policy of the member execution role: the administrator account, optional external id",
        text: include_str!("../../policies/member-trust.json"),
    },
    Template {
        name: "member-permissions",
        file: "member-permissions.json",
        kind: Kind::Permissions,
        placement: Placement::Member,
        managed_policy_name: Some("gdorg-member-permissions"),
        description: "what rollout, offboard, audit, direct findings reads and policies apply need in a member",
        text: include_str!("../../policies/member-permissions.json"),
    },
    Template {
        name: "member-guard",
        file: "member-guard.json",
        kind: Kind::Permissions,
        placement: Placement::Member,
        managed_policy_name: Some("gdorg-member-guard"),
        description: "explicit deny: nobody in a member archives findings; only gdorg's role changes the administrator relationship",
        text: include_str!("../../policies/member-guard.json"),
    },
    Template {
        name: "guardduty-service-linked-role",
        file: "guardduty-service-linked-role.json",
        kind: Kind::Permissions,
        placement: Placement::Member,
        managed_policy_name: Some("gdorg-guardduty-service-linked-role"),
        description: "iam:CreateServiceLinkedRole for GuardDuty and its malware protection, nothing else",
        text: include_str!("../../policies/guardduty-service-linked-role.json"),
    },
    Template {
        name: "guardduty-guard-scp",
        file: "guardduty-guard-scp.json",
        kind: Kind::Scp,
        placement: Placement::Organization,
        managed_policy_name: None,
        description: "SCP: no principal in a member but the execution role (or the administrator account) can stop GuardDuty, leave the administrator, or archive or suppress findings",
        text: include_str!("../../policies/guardduty-guard-scp.json"),
    },
    Template {
        name: "auditor",
        file: "auditor.json",
        kind: Kind::Permissions,
        placement: Placement::Administrator,
        managed_policy_name: None,
        description: "read-only: audit and report from the administrator account, no change anywhere",
        text: include_str!("../../policies/auditor.json"),
    },
    Template {
        name: "export-bucket-policy",
        file: "export-bucket-policy.json",
        kind: Kind::Resource,
        placement: Placement::Resource,
        managed_policy_name: None,
        description: "bucket policy of the findings export: GuardDuty may locate the bucket and put findings, encrypted with the export key only, over TLS only",
        text: include_str!("../../policies/export-bucket-policy.json"),
    },
    Template {
        name: "export-kms-key-policy",
        file: "export-kms-key-policy.json",
        kind: Kind::Resource,
        placement: Placement::Resource,
        managed_policy_name: None,
        description: "key policy statement of the findings export: GuardDuty may generate data keys for the administrator's detectors",
        text: include_str!("../../policies/export-kms-key-policy.json"),
    },
];

/// The template called `name`.
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// The member role name `apply` creates when `--var member_role_name=` is not given.
pub const DEFAULT_MEMBER_ROLE_NAME: &str = "GdorgExecutionRole";

/// A template variable: its name, what it means, its default, and whether it may stay unset.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    pub description: &'static str,
    pub default: Option<&'static str>,
    /// An optional variable may stay unset; it may then only appear as a whole Condition value,
    /// and the condition is left out (see [`render`]).
    pub optional: bool,
    /// A value `validate` uses when it renders a template nobody gave values for.
    pub example: &'static str,
}

/// Every variable the templates may use. A `${name}` not listed here is refused.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "partition",
        description: "AWS partition of every ARN: aws, aws-cn or aws-us-gov",
        default: Some("aws"),
        optional: false,
        example: "aws",
    },
    Variable {
        name: "admin_account_id",
        description: "the GuardDuty administrator account (12 digits); apply defaults it to the caller's account",
        default: None,
        optional: false,
        example: "111111111111",
    },
    Variable {
        name: "account_id",
        description: "the account the policy is installed in (12 digits); apply fills it for each account",
        default: None,
        optional: false,
        example: "222222222222",
    },
    Variable {
        name: "member_role_name",
        description: "the execution role in every member account (what gdorg assumes)",
        default: Some(DEFAULT_MEMBER_ROLE_NAME),
        optional: false,
        example: DEFAULT_MEMBER_ROLE_NAME,
    },
    Variable {
        name: "external_id",
        description: "the sts:ExternalId the member role requires; unset: no external id condition",
        default: None,
        optional: true,
        example: "gdorg-example-external-id",
    },
    Variable {
        name: "export_bucket_arn",
        description: "the findings-export bucket, arn:PARTITION:s3:::BUCKET (no prefix: the policy covers every folder)",
        default: None,
        optional: false,
        example: "arn:aws:s3:::example-guardduty-findings",
    },
    Variable {
        name: "export_kms_key_arn",
        description: "the KMS key exported findings are encrypted with, arn:PARTITION:kms:REGION:ACCOUNT:key/ID (in the bucket's region)",
        default: None,
        optional: false,
        example: "arn:aws:kms:us-east-1:111111111111:key/0a1b2c3d-1111-2222-3333-444455556666",
    },
];

/// The variable called `name`.
pub fn variable(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

#[cfg(test)]
mod tests {
    use super::validate::Severity;
    use super::*;
    use std::collections::BTreeMap;

    fn rendered(name: &str) -> serde_json::Value {
        let t = template(name).unwrap();
        let vars = render::Vars::examples();
        render::render(t.text, &vars).unwrap()
    }

    fn allowed_actions(doc: &serde_json::Value) -> Vec<String> {
        let mut out = Vec::new();
        for st in validate::statements(doc) {
            if st.get("Effect").and_then(|e| e.as_str()) != Some("Allow") {
                continue;
            }
            for a in validate::strings(st.get("Action")) {
                out.extend(actions::expand(&a));
            }
        }
        out
    }

    #[test]
    fn every_template_renders_and_validates_without_errors() {
        for t in TEMPLATES {
            let doc = rendered(t.name);
            let issues = validate::validate(&doc, t.kind);
            let errors: Vec<_> = issues
                .iter()
                .filter(|i| i.severity == Severity::Error)
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", t.name);
        }
    }

    #[test]
    fn the_files_on_disk_are_what_the_binary_embeds() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = TEMPLATES.iter().map(|t| t.file.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "every policies/*.json is in the catalog");
    }

    #[test]
    fn the_readme_documents_every_variable_and_template() {
        let readme = include_str!("../../policies/README.md");
        for v in VARIABLES {
            assert!(readme.contains(&format!("`${{{}}}`", v.name)), "{}", v.name);
        }
        for t in TEMPLATES {
            assert!(readme.contains(t.file), "{}", t.file);
        }
    }

    #[test]
    fn auditor_allows_no_mutating_action() {
        let doc = rendered("auditor");
        let allowed = allowed_actions(&doc);
        assert!(!allowed.is_empty());
        let mutating: Vec<_> = allowed
            .iter()
            .filter(|a| !actions::is_read_only(a))
            .collect();
        assert!(mutating.is_empty(), "auditor allows {mutating:?}");
        // And it has no NotAction loophole (Allow + NotAction grants everything else).
        for st in validate::statements(&doc) {
            assert!(st.get("NotAction").is_none());
        }
    }

    #[test]
    fn guard_denies_archiving_to_all_and_relationship_changes_to_all_but_gdorg() {
        let doc = rendered("member-guard");
        let denied = |conditional: bool| -> Vec<String> {
            let mut out = Vec::new();
            for st in validate::statements(&doc) {
                assert_eq!(st["Effect"], "Deny", "the guard only denies");
                if st.get("Condition").is_some() == conditional {
                    for a in validate::strings(st.get("Action")) {
                        out.extend(actions::expand(&a));
                    }
                }
            }
            out
        };
        // Archiving, directly or by a suppression rule (a filter whose action is ARCHIVE):
        // denied to everyone, gdorg's role included (it archives through the administrator).
        let always = denied(false);
        assert_eq!(
            always,
            [
                "guardduty:ArchiveFindings",
                "guardduty:CreateFilter",
                "guardduty:UnarchiveFindings",
                "guardduty:UpdateFilter"
            ]
        );
        // The relationship: denied to everyone but the execution role, through which rollout
        // accepts the administrator's invitation and, with --take-over, leaves another one.
        let unless_gdorg = denied(true);
        for must in [
            "guardduty:AcceptAdministratorInvitation",
            "guardduty:AcceptInvitation",
            "guardduty:DisassociateFromAdministratorAccount",
            "guardduty:DisassociateFromMasterAccount",
        ] {
            assert!(unless_gdorg.iter().any(|d| d == must), "{must}");
        }
        let st = validate::statements(&doc)
            .into_iter()
            .find(|s| s.get("Condition").is_some())
            .unwrap();
        assert_eq!(
            st["Condition"],
            serde_json::json!({"ArnNotLike": {"aws:PrincipalArn":
                format!("arn:aws:iam::222222222222:role/{DEFAULT_MEMBER_ROLE_NAME}")}})
        );
        // The member role is never granted what the guard always takes away.
        let granted = allowed_actions(&rendered("member-permissions"));
        for d in &always {
            assert!(!granted.contains(d), "{d} granted and denied");
        }
    }

    #[test]
    fn guard_scp_denies_what_would_blind_guardduty_to_all_but_the_execution_role() {
        let doc = rendered("guardduty-guard-scp");
        let sts = validate::statements(&doc);
        assert_eq!(sts.len(), 1);
        assert_eq!(sts[0]["Effect"], "Deny");
        let denied: Vec<String> = validate::strings(sts[0].get("Action"))
            .iter()
            .flat_map(|a| actions::expand(a))
            .collect();
        for must in [
            "guardduty:DeleteDetector",
            "guardduty:UpdateDetector",
            "guardduty:DisassociateFromAdministratorAccount",
            "guardduty:DisassociateFromMasterAccount",
            "guardduty:DeletePublishingDestination",
            "guardduty:UpdatePublishingDestination",
            "guardduty:DeleteMembers",
            "guardduty:DisassociateMembers",
            "guardduty:StopMonitoringMembers",
            "guardduty:CreateFilter",
            "guardduty:UpdateFilter",
            "guardduty:ArchiveFindings",
            "guardduty:UnarchiveFindings",
        ] {
            assert!(denied.iter().any(|d| d == must), "{must}");
        }
        assert_eq!(
            sts[0]["Condition"],
            serde_json::json!({"ArnNotLike": {"aws:PrincipalArn": [
                format!("arn:aws:iam::*:role/{DEFAULT_MEMBER_ROLE_NAME}"),
                "arn:aws:iam::111111111111:*"
            ]}})
        );
    }

    #[test]
    fn scps_are_validated_as_scps() {
        let scp = template("guardduty-guard-scp").unwrap();
        assert_eq!(scp.kind, Kind::Scp);
        let with_principal = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "guardduty:DeleteDetector", "Resource": "*"}]});
        let issues = validate::validate(&with_principal, Kind::Scp);
        assert!(
            issues.iter().any(|i| i.severity == Severity::Error
                && i.message
                    .contains("service control policy names no Principal")),
            "{issues:?}"
        );
        // 5,120 characters: more than an SCP may hold, less than a managed policy.
        let actions: Vec<String> = (0..210)
            .map(|_| "guardduty:DeleteDetector".into())
            .collect();
        let big = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": actions, "Resource": "*"}]});
        let too_big = |kind| {
            validate::validate(&big, kind)
                .iter()
                .any(|i| i.severity == Severity::Error && i.message.contains("limit of"))
        };
        assert!(too_big(Kind::Scp));
        assert!(!too_big(Kind::Permissions));
    }

    #[test]
    fn service_linked_role_policy_is_only_create_service_linked_role_for_guardduty() {
        let doc = rendered("guardduty-service-linked-role");
        let sts = validate::statements(&doc);
        assert_eq!(sts.len(), 1);
        assert_eq!(allowed_actions(&doc), vec!["iam:CreateServiceLinkedRole"]);
        let names: BTreeMap<_, _> = sts[0]["Condition"]["StringLike"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            names["iam:AWSServiceName"],
            serde_json::json!([
                "guardduty.amazonaws.com",
                "malware-protection.guardduty.amazonaws.com"
            ])
        );
    }

    #[test]
    fn trust_without_external_id_has_no_condition_and_with_one_requires_it() {
        let t = template("member-trust").unwrap();
        let mut vars = render::Vars::default();
        vars.set("admin_account_id", "123456789012").unwrap();
        let doc = render::render(t.text, &vars).unwrap();
        assert!(doc["Statement"][0].get("Condition").is_none(), "{doc}");
        vars.set("external_id", "s3cr3t-id").unwrap();
        let doc = render::render(t.text, &vars).unwrap();
        assert_eq!(
            doc["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
            "s3cr3t-id"
        );
        assert_eq!(
            doc["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
    }

    #[test]
    fn export_policies_let_guardduty_write_only_encrypted_with_the_key_over_tls() {
        let bucket = rendered("export-bucket-policy");
        let text = bucket.to_string();
        let key = "arn:aws:kms:us-east-1:111111111111:key/0a1b2c3d-1111-2222-3333-444455556666";
        for needle in [
            "\"aws:SecureTransport\":\"false\"",
            "\"s3:x-amz-server-side-encryption\":\"aws:kms\"",
            &format!("\"s3:x-amz-server-side-encryption-aws-kms-key-id\":\"{key}\""),
            "\"aws:SourceAccount\":\"111111111111\"",
            "\"aws:SourceArn\":\"arn:aws:guardduty:*:111111111111:detector/*\"",
            "\"arn:aws:s3:::example-guardduty-findings/*\"",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        assert_eq!(
            allowed_actions(&bucket),
            vec!["s3:PutObject", "s3:GetBucketLocation"]
        );
        let kms = rendered("export-kms-key-policy");
        assert_eq!(allowed_actions(&kms), vec!["kms:GenerateDataKey"]);
        assert!(kms.to_string().contains(key));
        // Neither is part of what apply installs.
        for name in ["export-bucket-policy", "export-kms-key-policy"] {
            assert_eq!(template(name).unwrap().placement, Placement::Resource);
        }
        // A folder, a wildcard or an alias is refused before it reaches a policy.
        for (var, bad) in [
            ("export_bucket_arn", "arn:aws:s3:::bucket/folder"),
            ("export_bucket_arn", "arn:aws:s3:::*"),
            (
                "export_kms_key_arn",
                "arn:aws:kms:us-east-1:111111111111:alias/x",
            ),
            (
                "export_kms_key_arn",
                "arn:aws:kms:us-east-1:111111111111:key/*",
            ),
        ] {
            let mut vars = render::Vars::default();
            assert!(vars.set(var, bad).is_err(), "{var}={bad}");
        }
    }
}
