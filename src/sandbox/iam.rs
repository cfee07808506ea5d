//! IAM (awsQuery): roles, customer managed policies and their versions, and attaching managed
//! policies (customer or AWS managed) to roles — what gdorg's policy templates need.
//!
//! IAM is global and per account: every operation acts on the caller's own account. Names are
//! unique regardless of case, as in IAM. Documents are checked for IAM's grammar (JSON, a
//! `Statement` whose entries have an `Effect` and an action) and returned URL-encoded, as IAM
//! returns them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use serde_json::Value;

use super::auth::Caller;
use super::error::ApiError;
use super::query::Form;
use super::state::{
    Account, Credential, ManagedPolicy, PolicyVersion, Principal, Role, User, World, ALNUM,
    UPPER_DIGITS,
};
use super::xml::{self, Xml};

pub const OPERATIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "UpdateAssumeRolePolicy",
    "CreatePolicy",
    "GetPolicy",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "DeletePolicyVersion",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "PutRolePolicy",
    "GetRolePolicy",
    "DeleteRolePolicy",
    "CreateUser",
    "GetUser",
    "CreateAccessKey",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
    "PutUserPolicy",
    "GetUserPolicy",
    "DeleteUserPolicy",
];

/// IAM's quota on the inline policies of one role, and of one user (characters without white
/// space, all inline policies together).
const INLINE_ROLE_MAX: usize = 10240;
const INLINE_USER_MAX: usize = 2048;

/// IAM keeps at most five versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;
/// The default quota of managed policies attached to one role.
const MAX_ATTACHED_PER_ROLE: usize = 10;
/// Bounds of a role's MaxSessionDuration, in seconds.
const SESSION_DURATION_BOUNDS: (i64, i64) = (3600, 43200);

/// AWS managed policies the sandbox knows: path, name and document. The documents are the
/// statements of AWS's policies that concern the four services the sandbox serves (guardduty,
/// organizations, sts, iam); statements about other services are left out, as nothing here
/// could exercise them.
const AWS_MANAGED: &[(&str, &str, &str)] = &[
    (
        "/",
        "AdministratorAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "/",
        "PowerUserAccess",
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
        {"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "ReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
        "guardduty:Describe*","guardduty:Get*","guardduty:List*",
        "organizations:Describe*","organizations:List*",
        "iam:Generate*","iam:Get*","iam:List*","iam:Simulate*",
        "sts:GetCallerIdentity"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "SecurityAudit",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
        "guardduty:Get*","guardduty:List*","guardduty:Describe*",
        "organizations:Describe*","organizations:List*",
        "iam:GenerateCredentialReport","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "IAMFullAccess",
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:*","Resource":"*"},
        {"Effect":"Allow","Action":["organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "IAMReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
        "iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "AmazonGuardDutyFullAccess",
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"guardduty:*","Resource":"*"},
        {"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*","Condition":{"StringLike":{"iam:AWSServiceName":["guardduty.amazonaws.com","malware-protection.guardduty.amazonaws.com"]}}},
        {"Effect":"Allow","Action":["organizations:EnableAWSServiceAccess","organizations:RegisterDelegatedAdministrator","organizations:ListDelegatedAdministrators","organizations:ListAWSServiceAccessForOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:ListAccounts"],"Resource":"*"},
        {"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::*:role/*AWSServiceRoleForAmazonGuardDutyMalwareProtection"}]}"#,
    ),
    (
        "/",
        "AmazonGuardDutyReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["guardduty:Describe*","guardduty:Get*","guardduty:List*"],"Resource":"*"},
        {"Effect":"Allow","Action":["organizations:ListDelegatedAdministrators","organizations:ListAWSServiceAccessForOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:ListAccounts"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "AWSOrganizationsFullAccess",
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"organizations:*","Resource":"*"},
        {"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":"organizations.amazonaws.com"}}}]}"#,
    ),
    (
        "/",
        "AWSOrganizationsReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["organizations:Describe*","organizations:List*"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "AWSSecurityHubFullAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"securityhub:*","Resource":"*"}]}"#,
    ),
    (
        "/",
        "AWSSecurityHubReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["securityhub:Get*","securityhub:List*","securityhub:Describe*"],"Resource":"*"}]}"#,
    ),
    (
        "/",
        "AmazonS3ReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*"],"Resource":"*"}]}"#,
    ),
    (
        "/job-function/",
        "ViewOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
        "guardduty:Get*","guardduty:List*",
        "organizations:Describe*","organizations:List*",
        "iam:List*","iam:GetAccountSummary","iam:GetLoginProfile"],"Resource":"*"}]}"#,
    ),
];

/// Whether `arn` names an AWS managed policy the sandbox knows.
pub fn is_aws_managed(arn: &str) -> bool {
    aws_managed_document(arn).is_some()
}

/// The document of the AWS managed policy `arn`, if the sandbox knows it.
pub fn aws_managed_document(arn: &str) -> Option<&'static str> {
    let (owner, path, name) = parse_policy_arn(arn).ok()?;
    (owner == "aws").then_some(())?;
    AWS_MANAGED
        .iter()
        .find(|(p, n, _)| *p == path && *n == name)
        .map(|(_, _, d)| *d)
}

pub fn handle(
    world: &mut World,
    caller: &Caller,
    op: &str,
    form: &Form,
) -> Result<Option<String>, ApiError> {
    let account_id = caller.account.clone();
    if op == "CreateAccessKey" {
        return create_access_key(world, caller, form).map(Some);
    }
    // A fresh id for the entity a Create makes, drawn before borrowing the account (and only
    // then, so reads do not move the world's seeded generator).
    let new_id = if op.starts_with("Create") {
        world.random(UPPER_DIGITS, 17)
    } else {
        String::new()
    };
    let account = world
        .accounts
        .get_mut(&account_id)
        .ok_or_else(|| ApiError::new(403, "InvalidClientTokenId", "Unknown account"))?;
    match op {
        "CreateRole" => create_role(account, form, &new_id).map(Some),
        "GetRole" => {
            let role = find_role(account, form.require("RoleName")?)?;
            Ok(Some(role_xml(role)))
        }
        "UpdateAssumeRolePolicy" => {
            let name = form.require("RoleName")?.to_string();
            let doc = form.require("PolicyDocument")?;
            check_document(doc, DocKind::Trust)?;
            find_role_mut(account, &name)?.trust_policy = doc.to_string();
            Ok(None)
        }
        "CreatePolicy" => create_policy(account, form, &new_id).map(Some),
        "GetPolicy" => {
            let arn = form.require("PolicyArn")?;
            Ok(Some(policy_xml(&lookup_policy(account, arn)?)))
        }
        "CreatePolicyVersion" => create_policy_version(account, form).map(Some),
        "GetPolicyVersion" => get_policy_version(account, form).map(Some),
        "ListPolicyVersions" => list_policy_versions(account, form).map(Some),
        "DeletePolicyVersion" => delete_policy_version(account, form).map(|_| None),
        "AttachRolePolicy" => attach(account, form).map(|_| None),
        "DetachRolePolicy" => detach(account, form).map(|_| None),
        "ListAttachedRolePolicies" => list_attached(account, form).map(Some),
        "PutRolePolicy" | "PutUserPolicy" => put_inline(account, op, form).map(|_| None),
        "GetRolePolicy" | "GetUserPolicy" => get_inline(account, op, form).map(Some),
        "DeleteRolePolicy" | "DeleteUserPolicy" => delete_inline(account, op, form).map(|_| None),
        "CreateUser" => create_user(account, form, &new_id).map(Some),
        "GetUser" => {
            let name = match form.get("UserName") {
                Some(n) => n.to_string(),
                None => match &caller.principal {
                    Principal::User { name } => name.clone(),
                    Principal::AssumedRole { .. } => {
                        return Err(validation(
                            "null",
                            "userName",
                            "Must specify userName when calling with non-User credentials",
                        ))
                    }
                },
            };
            Ok(Some(user_xml(find_user(account, &name)?)))
        }
        "AttachUserPolicy" => attach_user(account, form).map(|_| None),
        "DetachUserPolicy" => detach_user(account, form).map(|_| None),
        "ListAttachedUserPolicies" => list_attached_user(account, form).map(Some),
        _ => Err(ApiError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {op} for version 2010-05-08"),
        )),
    }
}

// ---- errors -------------------------------------------------------------------------------

fn no_such_entity(message: impl Into<String>) -> ApiError {
    ApiError::new(404, "NoSuchEntity", message)
}

fn already_exists(message: impl Into<String>) -> ApiError {
    ApiError::new(409, "EntityAlreadyExists", message)
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "MalformedPolicyDocument", message)
}

fn invalid_input(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidInput", message)
}

fn validation(value: &str, member: &str, constraint: &str) -> ApiError {
    ApiError::new(
        400,
        "ValidationError",
        format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"),
    )
}

// ---- input checks -------------------------------------------------------------------------

/// A role or policy name: 1..=max characters of `[\w+=,.@-]`.
fn check_name(value: &str, member: &str, max: usize) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > max {
        return Err(validation(
            value,
            member,
            &format!("Member must have length less than or equal to {max} and greater than or equal to 1"),
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(validation(
            value,
            member,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// A path: `/` alone, or `/`-delimited segments that start and end with `/`.
fn check_path(form: &Form) -> Result<String, ApiError> {
    let path = form.get("Path").unwrap_or("/");
    let printable = path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if path.len() > 512 || !printable || !path.starts_with('/') || !path.ends_with('/') {
        return Err(validation(
            path,
            "path",
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ));
    }
    Ok(path.to_string())
}

fn check_description(form: &Form) -> Result<Option<String>, ApiError> {
    match form.get("Description") {
        Some(d) if d.chars().count() > 1000 => Err(validation(
            d,
            "description",
            "Member must have length less than or equal to 1000",
        )),
        other => Ok(other.map(String::from)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocKind {
    /// A role's trust policy: statements name a principal.
    Trust,
    /// An identity policy: statements name a resource and no principal.
    Identity,
}

/// IAM's grammar checks, each refusal naming what is wrong as IAM does.
fn check_document(doc: &str, kind: DocKind) -> Result<(), ApiError> {
    let limit = match kind {
        DocKind::Trust => 2048,
        DocKind::Identity => 6144,
    };
    let v: Value =
        serde_json::from_str(doc).map_err(|_| malformed("This policy contains invalid Json"))?;
    if doc.chars().filter(|c| !c.is_whitespace()).count() > limit {
        return Err(ApiError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for PolicySize: {limit}"),
        ));
    }
    let Some(obj) = v.as_object() else {
        return Err(malformed("Syntax errors in policy."));
    };
    if let Some(version) = obj.get("Version") {
        if !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17")) {
            return Err(malformed("The policy failed legacy parsing"));
        }
    }
    let statements: Vec<&Value> = match obj.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return Err(malformed("Syntax errors in policy.")),
    };
    for s in statements {
        let Some(s) = s.as_object() else {
            return Err(malformed("Syntax errors in policy."));
        };
        if !matches!(
            s.get("Effect").and_then(Value::as_str),
            Some("Allow" | "Deny")
        ) {
            return Err(malformed("Missing required field Effect"));
        }
        if !s.contains_key("Action") && !s.contains_key("NotAction") {
            return Err(malformed("Missing required field Action"));
        }
        let has_principal = s.contains_key("Principal") || s.contains_key("NotPrincipal");
        match kind {
            DocKind::Trust if !has_principal => {
                return Err(malformed("Missing required field Principal"))
            }
            DocKind::Identity if has_principal => {
                return Err(malformed("Policy document should not specify a principal."))
            }
            DocKind::Identity if !s.contains_key("Resource") && !s.contains_key("NotResource") => {
                return Err(malformed("Policy statement must contain resources."))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Percent-encode a document as IAM returns it (RFC 3986 unreserved characters kept).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `MaxItems` (1..=1000, default 100) and `Marker` of a list request.
fn paging(form: &Form) -> Result<(usize, usize), ApiError> {
    let max = match form.get("MaxItems") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(validation(
                v,
                "maxItems",
                "Member must have value less than or equal to 1000 and greater than or equal to 1",
            )),
        },
    };
    let start = match form.get("Marker") {
        None => 0,
        Some(m) => m
            .strip_prefix("iamsbx")
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .ok_or_else(|| invalid_input("Invalid Marker."))?,
    };
    Ok((max, start))
}

/// Append `IsTruncated` and, when truncated, the `Marker` of the next page.
fn page_end(x: &mut Xml, end: usize, total: usize) {
    if end < total {
        x.el("IsTruncated", "true")
            .el("Marker", format!("iamsbx{end:x}"));
    } else {
        x.el("IsTruncated", "false");
    }
}

// ---- roles --------------------------------------------------------------------------------

fn find_role<'a>(account: &'a Account, name: &str) -> Result<&'a Role, ApiError> {
    account
        .iam
        .roles
        .values()
        .find(|r| r.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| no_such_entity(format!("The role with name {name} cannot be found.")))
}

fn find_role_mut<'a>(account: &'a mut Account, name: &str) -> Result<&'a mut Role, ApiError> {
    account
        .iam
        .roles
        .values_mut()
        .find(|r| r.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| no_such_entity(format!("The role with name {name} cannot be found.")))
}

fn create_role(account: &mut Account, form: &Form, new_id: &str) -> Result<String, ApiError> {
    let name = form.require("RoleName")?;
    check_name(name, "roleName", 64)?;
    let path = check_path(form)?;
    let description = check_description(form)?;
    let doc = form.require("AssumeRolePolicyDocument")?;
    let max_session = match form.get("MaxSessionDuration") {
        None => SESSION_DURATION_BOUNDS.0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (SESSION_DURATION_BOUNDS.0..=SESSION_DURATION_BOUNDS.1).contains(&n) => n,
            _ => {
                return Err(validation(
                    v,
                    "maxSessionDuration",
                    "Member must have value less than or equal to 43200 and greater than or equal to 3600",
                ))
            }
        },
    };
    check_document(doc, DocKind::Trust)?;
    if account
        .iam
        .roles
        .keys()
        .any(|k| k.eq_ignore_ascii_case(name))
    {
        return Err(already_exists(format!(
            "Role with name {name} already exists."
        )));
    }
    let role = Role {
        name: name.to_string(),
        id: format!("AROA{new_id}"),
        arn: format!("arn:aws:iam::{}:role{path}{name}", account.id),
        path,
        description,
        trust_policy: doc.to_string(),
        max_session_duration: max_session,
        created: Utc::now(),
        attached: BTreeSet::new(),
        inline: BTreeMap::new(),
    };
    let out = role_xml(&role);
    account.iam.roles.insert(role.name.clone(), role);
    Ok(out)
}

fn role_xml(r: &Role) -> String {
    let mut x = Xml::new();
    x.nest("Role", |x| {
        x.el("Path", &r.path)
            .el("RoleName", &r.name)
            .el("RoleId", &r.id)
            .el("Arn", &r.arn)
            .el("CreateDate", xml::time(&r.created))
            .el("AssumeRolePolicyDocument", url_encode(&r.trust_policy))
            .opt("Description", r.description.as_ref())
            .el("MaxSessionDuration", r.max_session_duration.to_string())
            .nest("RoleLastUsed", |_| {});
    });
    x.finish()
}

// ---- policies -----------------------------------------------------------------------------

/// A policy ARN's parts: (account or `aws`, path, name).
fn parse_policy_arn(arn: &str) -> Result<(&str, &str, &str), ApiError> {
    let bad = || invalid_input(format!("ARN {arn} is not valid."));
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(bad)?;
    let (owner, resource) = rest.split_once(':').ok_or_else(bad)?;
    let path_and_name = resource.strip_prefix("policy").ok_or_else(bad)?;
    if !path_and_name.starts_with('/') {
        return Err(bad());
    }
    let cut = path_and_name.rfind('/').ok_or_else(bad)? + 1;
    let (path, name) = path_and_name.split_at(cut);
    if owner.is_empty() || name.is_empty() {
        return Err(bad());
    }
    Ok((owner, path, name))
}

fn policy_not_found(arn: &str) -> ApiError {
    no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

/// A customer policy of the caller's account, or a known AWS managed policy (a snapshot).
fn lookup_policy(account: &Account, arn: &str) -> Result<ManagedPolicy, ApiError> {
    let (owner, path, name) = parse_policy_arn(arn)?;
    if owner == "aws" {
        return aws_managed_document(arn)
            .map(|doc| aws_managed(arn, path, name, doc))
            .ok_or_else(|| policy_not_found(arn));
    }
    if owner != account.id {
        return Err(ApiError::new(
            403,
            "AccessDenied",
            format!("User is not authorized to access {arn}: it belongs to another account"),
        ));
    }
    account
        .iam
        .policies
        .get(arn)
        .cloned()
        .ok_or_else(|| policy_not_found(arn))
}

fn aws_managed(arn: &str, path: &str, name: &str, document: &str) -> ManagedPolicy {
    // A fixed date: AWS managed policies predate any sandbox.
    let created = chrono::DateTime::from_timestamp(1_500_000_000, 0).unwrap_or_default();
    ManagedPolicy {
        name: name.to_string(),
        id: format!("ANPAAWSMANAGED{:06}", name.len() * 7919 % 1_000_000),
        path: path.to_string(),
        arn: arn.to_string(),
        description: Some(format!("AWS managed policy {name}")),
        created,
        updated: created,
        versions: vec![PolicyVersion {
            id: "v1".into(),
            document: document.to_string(),
            is_default: true,
            created,
        }],
        next_version: 2,
        attachment_count: 0,
    }
}

fn customer_policy_mut<'a>(
    account: &'a mut Account,
    arn: &str,
) -> Result<&'a mut ManagedPolicy, ApiError> {
    let (owner, _, _) = parse_policy_arn(arn)?;
    if owner == "aws" {
        return Err(ApiError::new(
            403,
            "AccessDenied",
            format!("User is not authorized to modify the AWS managed policy {arn}"),
        ));
    }
    lookup_policy(account, arn)?; // the same refusals as reading it
    account
        .iam
        .policies
        .get_mut(arn)
        .ok_or_else(|| policy_not_found(arn))
}

fn create_policy(account: &mut Account, form: &Form, new_id: &str) -> Result<String, ApiError> {
    let name = form.require("PolicyName")?;
    check_name(name, "policyName", 128)?;
    let path = check_path(form)?;
    let description = check_description(form)?;
    let doc = form.require("PolicyDocument")?;
    check_document(doc, DocKind::Identity)?;
    if account
        .iam
        .policies
        .values()
        .any(|p| p.name.eq_ignore_ascii_case(name))
    {
        return Err(already_exists(format!(
            "A policy called {name} already exists. Duplicate names are not allowed."
        )));
    }
    let now = Utc::now();
    let policy = ManagedPolicy {
        name: name.to_string(),
        id: format!("ANPA{new_id}"),
        arn: format!("arn:aws:iam::{}:policy{path}{name}", account.id),
        path,
        description,
        created: now,
        updated: now,
        versions: vec![PolicyVersion {
            id: "v1".into(),
            document: doc.to_string(),
            is_default: true,
            created: now,
        }],
        next_version: 2,
        attachment_count: 0,
    };
    let out = policy_xml(&policy);
    account.iam.policies.insert(policy.arn.clone(), policy);
    Ok(out)
}

fn policy_xml(p: &ManagedPolicy) -> String {
    let default = p
        .versions
        .iter()
        .find(|v| v.is_default)
        .map(|v| v.id.as_str())
        .unwrap_or("v1");
    let mut x = Xml::new();
    x.nest("Policy", |x| {
        x.el("PolicyName", &p.name)
            .el("PolicyId", &p.id)
            .el("Arn", &p.arn)
            .el("Path", &p.path)
            .el("DefaultVersionId", default)
            .el("AttachmentCount", p.attachment_count.to_string())
            .el("PermissionsBoundaryUsageCount", "0")
            .el("IsAttachable", "true")
            .opt("Description", p.description.as_ref())
            .el("CreateDate", xml::time(&p.created))
            .el("UpdateDate", xml::time(&p.updated));
    });
    x.finish()
}

fn version_xml(x: &mut Xml, v: &PolicyVersion, with_document: bool) {
    if with_document {
        x.el("Document", url_encode(&v.document));
    }
    x.el("VersionId", &v.id)
        .el(
            "IsDefaultVersion",
            if v.is_default { "true" } else { "false" },
        )
        .el("CreateDate", xml::time(&v.created));
}

fn create_policy_version(account: &mut Account, form: &Form) -> Result<String, ApiError> {
    let arn = form.require("PolicyArn")?.to_string();
    let doc = form.require("PolicyDocument")?.to_string();
    let set_default = form.get("SetAsDefault") == Some("true");
    let policy = customer_policy_mut(account, &arn)?;
    check_document(&doc, DocKind::Identity)?;
    if policy.versions.len() >= MAX_POLICY_VERSIONS {
        return Err(ApiError::new(
            409,
            "LimitExceeded",
            format!("A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a new version, you must delete an existing version."),
        ));
    }
    let now = Utc::now();
    if set_default {
        for v in &mut policy.versions {
            v.is_default = false;
        }
    }
    let version = PolicyVersion {
        id: format!("v{}", policy.next_version),
        document: doc,
        is_default: set_default,
        created: now,
    };
    policy.next_version += 1;
    policy.updated = now;
    let mut x = Xml::new();
    x.nest("PolicyVersion", |x| version_xml(x, &version, true));
    policy.versions.push(version);
    Ok(x.finish())
}

fn check_version_id(id: &str) -> Result<(), ApiError> {
    let ok = id
        .strip_prefix('v')
        .map(|n| n.split_once('.').map_or(n, |(n, _)| n))
        .is_some_and(|n| {
            !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(validation(
            id,
            "versionId",
            "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        ))
    }
}

fn get_policy_version(account: &Account, form: &Form) -> Result<String, ApiError> {
    let arn = form.require("PolicyArn")?;
    let id = form.require("VersionId")?;
    check_version_id(id)?;
    let policy = lookup_policy(account, arn)?;
    let v = policy.versions.iter().find(|v| v.id == id).ok_or_else(|| {
        no_such_entity(format!(
            "Policy {arn} version {id} does not exist or is not attachable."
        ))
    })?;
    let mut x = Xml::new();
    x.nest("PolicyVersion", |x| version_xml(x, v, true));
    Ok(x.finish())
}

fn list_policy_versions(account: &Account, form: &Form) -> Result<String, ApiError> {
    let arn = form.require("PolicyArn")?;
    let (max, start) = paging(form)?;
    let policy = lookup_policy(account, arn)?;
    // Newest first, as IAM lists them.
    let mut versions = policy.versions.clone();
    versions.reverse();
    let total = versions.len();
    let end = (start + max).min(total);
    let mut x = Xml::new();
    x.nest("Versions", |x| {
        for v in versions.iter().take(end).skip(start) {
            x.nest("member", |x| version_xml(x, v, false));
        }
    });
    page_end(&mut x, end, total);
    Ok(x.finish())
}

fn delete_policy_version(account: &mut Account, form: &Form) -> Result<(), ApiError> {
    let arn = form.require("PolicyArn")?.to_string();
    let id = form.require("VersionId")?.to_string();
    check_version_id(&id)?;
    let policy = customer_policy_mut(account, &arn)?;
    let i = policy
        .versions
        .iter()
        .position(|v| v.id == id)
        .ok_or_else(|| {
            no_such_entity(format!(
                "Policy {arn} version {id} does not exist or is not attachable."
            ))
        })?;
    if policy.versions[i].is_default {
        return Err(ApiError::new(
            409,
            "DeleteConflict",
            "Cannot delete the default version of a policy.",
        ));
    }
    policy.versions.remove(i);
    policy.updated = Utc::now();
    Ok(())
}

// ---- attachments --------------------------------------------------------------------------

fn attach(account: &mut Account, form: &Form) -> Result<(), ApiError> {
    let role_name = form.require("RoleName")?.to_string();
    let arn = form.require("PolicyArn")?.to_string();
    check_name(&role_name, "roleName", 64)?;
    lookup_policy(account, &arn)?;
    let role = find_role_mut(account, &role_name)?;
    if role.attached.contains(&arn) {
        return Ok(()); // attaching twice is a no-op in IAM
    }
    if role.attached.len() >= MAX_ATTACHED_PER_ROLE {
        return Err(ApiError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for PoliciesPerRole: {MAX_ATTACHED_PER_ROLE}"),
        ));
    }
    role.attached.insert(arn.clone());
    if let Some(p) = account.iam.policies.get_mut(&arn) {
        p.attachment_count += 1;
    }
    Ok(())
}

fn detach(account: &mut Account, form: &Form) -> Result<(), ApiError> {
    let role_name = form.require("RoleName")?.to_string();
    let arn = form.require("PolicyArn")?.to_string();
    parse_policy_arn(&arn)?;
    let role = find_role_mut(account, &role_name)?;
    if !role.attached.remove(&arn) {
        return Err(no_such_entity(format!("Policy {arn} was not found.")));
    }
    if let Some(p) = account.iam.policies.get_mut(&arn) {
        p.attachment_count = p.attachment_count.saturating_sub(1);
    }
    Ok(())
}

fn list_attached(account: &Account, form: &Form) -> Result<String, ApiError> {
    let role = find_role(account, form.require("RoleName")?)?;
    let prefix = form.get("PathPrefix").unwrap_or("/");
    let (max, start) = paging(form)?;
    let attached: Vec<(String, String)> = role
        .attached
        .iter()
        .filter_map(|arn| {
            let (_, path, name) = parse_policy_arn(arn).ok()?;
            path.starts_with(prefix)
                .then(|| (name.to_string(), arn.clone()))
        })
        .collect();
    let total = attached.len();
    let end = (start + max).min(total);
    let mut x = Xml::new();
    x.nest("AttachedPolicies", |x| {
        for (name, arn) in attached.iter().take(end).skip(start) {
            x.nest("member", |x| {
                x.el("PolicyName", name).el("PolicyArn", arn);
            });
        }
    });
    page_end(&mut x, end, total);
    Ok(x.finish())
}

// ---- users, access keys, inline policies ----------------------------------------------------

fn find_user<'a>(account: &'a Account, name: &str) -> Result<&'a User, ApiError> {
    account
        .iam
        .users
        .values()
        .find(|u| u.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| no_such_entity(format!("The user with name {name} cannot be found.")))
}

fn find_user_mut<'a>(account: &'a mut Account, name: &str) -> Result<&'a mut User, ApiError> {
    account
        .iam
        .users
        .values_mut()
        .find(|u| u.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| no_such_entity(format!("The user with name {name} cannot be found.")))
}

fn user_xml(u: &User) -> String {
    let mut x = Xml::new();
    x.nest("User", |x| {
        x.el("Path", &u.path)
            .el("UserName", &u.name)
            .el("UserId", &u.id)
            .el("Arn", &u.arn)
            .el("CreateDate", xml::time(&u.created));
    });
    x.finish()
}

fn create_user(account: &mut Account, form: &Form, new_id: &str) -> Result<String, ApiError> {
    let name = form.require("UserName")?;
    check_name(name, "userName", 64)?;
    let path = check_path(form)?;
    if account
        .iam
        .users
        .keys()
        .any(|k| k.eq_ignore_ascii_case(name))
    {
        return Err(already_exists(format!(
            "User with name {name} already exists."
        )));
    }
    let user = User {
        name: name.to_string(),
        id: format!("AIDA{new_id}"),
        arn: format!("arn:aws:iam::{}:user{path}{name}", account.id),
        path,
        created: Utc::now(),
        attached: BTreeSet::new(),
        inline: BTreeMap::new(),
    };
    let out = user_xml(&user);
    account.iam.users.insert(user.name.clone(), user);
    Ok(out)
}

/// IAM allows two access keys per user.
const MAX_KEYS_PER_USER: usize = 2;

fn create_access_key(world: &mut World, caller: &Caller, form: &Form) -> Result<String, ApiError> {
    let name = match (form.get("UserName"), &caller.principal) {
        (Some(n), _) => n.to_string(),
        (None, Principal::User { name }) => name.clone(),
        (None, Principal::AssumedRole { .. }) => {
            return Err(validation(
                "null",
                "userName",
                "Must specify userName when calling with non-User credentials",
            ))
        }
    };
    let account = world
        .accounts
        .get(&caller.account)
        .ok_or_else(|| ApiError::new(403, "InvalidClientTokenId", "Unknown account"))?;
    let user = find_user(account, &name)?.name.clone();
    let existing = world
        .keys
        .values()
        .filter(|c| {
            c.account == caller.account
                && matches!(&c.principal, Principal::User { name } if *name == user)
        })
        .count();
    if existing >= MAX_KEYS_PER_USER {
        return Err(ApiError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"),
        ));
    }
    let key = world.new_access_key("AKIA");
    let secret = world.random(ALNUM, 40);
    world.keys.insert(
        key.clone(),
        Credential {
            account: caller.account.clone(),
            secret: secret.clone(),
            session_token: None,
            principal: Principal::User { name: user.clone() },
        },
    );
    let mut x = Xml::new();
    x.nest("AccessKey", |x| {
        x.el("UserName", &user)
            .el("AccessKeyId", &key)
            .el("Status", "Active")
            .el("SecretAccessKey", &secret)
            .el("CreateDate", xml::time(&Utc::now()));
    });
    Ok(x.finish())
}

fn attach_user(account: &mut Account, form: &Form) -> Result<(), ApiError> {
    let name = form.require("UserName")?.to_string();
    let arn = form.require("PolicyArn")?.to_string();
    lookup_policy(account, &arn)?;
    let user = find_user_mut(account, &name)?;
    if !user.attached.insert(arn.clone()) {
        return Ok(());
    }
    if let Some(p) = account.iam.policies.get_mut(&arn) {
        p.attachment_count += 1;
    }
    Ok(())
}

fn detach_user(account: &mut Account, form: &Form) -> Result<(), ApiError> {
    let name = form.require("UserName")?.to_string();
    let arn = form.require("PolicyArn")?.to_string();
    parse_policy_arn(&arn)?;
    if !find_user_mut(account, &name)?.attached.remove(&arn) {
        return Err(no_such_entity(format!("Policy {arn} was not found.")));
    }
    if let Some(p) = account.iam.policies.get_mut(&arn) {
        p.attachment_count = p.attachment_count.saturating_sub(1);
    }
    Ok(())
}

fn list_attached_user(account: &Account, form: &Form) -> Result<String, ApiError> {
    let user = find_user(account, form.require("UserName")?)?;
    let (max, start) = paging(form)?;
    let attached: Vec<(String, String)> = user
        .attached
        .iter()
        .filter_map(|arn| {
            let (_, _, name) = parse_policy_arn(arn).ok()?;
            Some((name.to_string(), arn.clone()))
        })
        .collect();
    let total = attached.len();
    let end = (start + max).min(total);
    let mut x = Xml::new();
    x.nest("AttachedPolicies", |x| {
        for (name, arn) in attached.iter().take(end).skip(start) {
            x.nest("member", |x| {
                x.el("PolicyName", name).el("PolicyArn", arn);
            });
        }
    });
    page_end(&mut x, end, total);
    Ok(x.finish())
}

/// The inline policies of one role or user, with what IAM's messages call it.
struct Inline<'a> {
    policies: &'a mut BTreeMap<String, String>,
    /// `role` or `user`.
    kind: &'static str,
    owner: String,
    /// The quota of all its inline policies together.
    max: usize,
}

/// The inline policies of the role (`...RolePolicy`) or user (`...UserPolicy`) the form names.
fn inline_of<'a>(account: &'a mut Account, op: &str, form: &Form) -> Result<Inline<'a>, ApiError> {
    if op.ends_with("RolePolicy") {
        let name = form.require("RoleName")?.to_string();
        let role = find_role_mut(account, &name)?;
        Ok(Inline {
            policies: &mut role.inline,
            kind: "role",
            owner: name,
            max: INLINE_ROLE_MAX,
        })
    } else {
        let name = form.require("UserName")?.to_string();
        let user = find_user_mut(account, &name)?;
        Ok(Inline {
            policies: &mut user.inline,
            kind: "user",
            owner: name,
            max: INLINE_USER_MAX,
        })
    }
}

fn put_inline(account: &mut Account, op: &str, form: &Form) -> Result<(), ApiError> {
    let policy_name = form.require("PolicyName")?.to_string();
    check_name(&policy_name, "policyName", 128)?;
    let doc = form.require("PolicyDocument")?.to_string();
    check_document(&doc, DocKind::Identity)?;
    let Inline {
        policies: inline,
        kind,
        owner,
        max,
    } = inline_of(account, op, form)?;
    let size = |d: &str| d.chars().filter(|c| !c.is_whitespace()).count();
    let others: usize = inline
        .iter()
        .filter(|(n, _)| **n != policy_name)
        .map(|(_, d)| size(d))
        .sum();
    if others + size(&doc) > max {
        return Err(ApiError::new(
            409,
            "LimitExceeded",
            format!("Maximum policy size of {max} bytes exceeded for {kind} {owner}"),
        ));
    }
    inline.insert(policy_name, doc);
    Ok(())
}

fn get_inline(account: &mut Account, op: &str, form: &Form) -> Result<String, ApiError> {
    let policy_name = form.require("PolicyName")?.to_string();
    let Inline {
        policies: inline,
        kind,
        owner,
        ..
    } = inline_of(account, op, form)?;
    let doc = inline.get(&policy_name).ok_or_else(|| {
        no_such_entity(format!(
            "The {kind} policy with name {policy_name} cannot be found."
        ))
    })?;
    let mut x = Xml::new();
    x.el(
        if kind == "role" {
            "RoleName"
        } else {
            "UserName"
        },
        &owner,
    )
    .el("PolicyName", &policy_name)
    .el("PolicyDocument", url_encode(doc));
    Ok(x.finish())
}

fn delete_inline(account: &mut Account, op: &str, form: &Form) -> Result<(), ApiError> {
    let policy_name = form.require("PolicyName")?.to_string();
    let Inline {
        policies: inline,
        kind,
        ..
    } = inline_of(account, op, form)?;
    inline.remove(&policy_name).map(|_| ()).ok_or_else(|| {
        no_such_entity(format!(
            "The {kind} policy with name {policy_name} cannot be found."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_checked_for_iam_grammar() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"guardduty:*","Resource":"*"}]}"#;
        assert!(check_document(ok, DocKind::Identity).is_ok());
        let trust =
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"1"},"Action":"sts:AssumeRole"}}"#;
        assert!(check_document(trust, DocKind::Trust).is_ok());
        for (bad, kind) in [
            ("{not json", DocKind::Identity),
            ("[]", DocKind::Identity),
            (r#"{"Statement":[]}"#, DocKind::Identity),
            (
                r#"{"Statement":[{"Action":"*","Resource":"*"}]}"#,
                DocKind::Identity,
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
                DocKind::Identity,
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#,
                DocKind::Identity,
            ),
            (trust, DocKind::Identity),
            (ok, DocKind::Trust),
            (
                r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
                DocKind::Identity,
            ),
        ] {
            let e = check_document(bad, kind).unwrap_err();
            assert_eq!(e.code, "MalformedPolicyDocument", "{bad}");
        }
    }

    #[test]
    fn url_encoding_matches_iam() {
        assert_eq!(
            url_encode(r#"{"A": "b/c"}"#),
            "%7B%22A%22%3A%20%22b%2Fc%22%7D"
        );
    }

    #[test]
    fn policy_arns_and_version_ids() {
        assert_eq!(
            parse_policy_arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").unwrap(),
            ("aws", "/job-function/", "ViewOnlyAccess")
        );
        assert!(parse_policy_arn("arn:aws:iam::1:role/x").is_err());
        assert!(check_version_id("v12").is_ok());
        for bad in ["v0", "12", "v", "vx"] {
            assert!(check_version_id(bad).is_err(), "{bad}");
        }
    }
}
