//! Organizations (awsJson1_1): the organization, its accounts, trusted service access and
//! delegated administrators.
//!
//! Who may call what follows the API reference: DescribeOrganization from any account of the
//! organization; the List operations from the management account or a delegated
//! administrator (of any service); the rest from the management account only. Everyone else
//! gets `AccessDeniedException`. `world.org.service_access` and `delegated_admins` are shared
//! with GuardDuty, which registers its delegated administrator through them.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::state::{
    Account, AccountStatus, OrgPolicy, World, DEFAULT_EXECUTION_ROLE, FULL_AWS_ACCESS_ID,
    LOWER_DIGITS, SCP_TYPE,
};

pub const OPERATIONS: &[&str] = &[
    "DescribeOrganization",
    "ListAccounts",
    "EnableAWSServiceAccess",
    "ListAWSServiceAccessForOrganization",
    "RegisterDelegatedAdministrator",
    "DeregisterDelegatedAdministrator",
    "ListDelegatedAdministrators",
    "ListRoots",
    "EnablePolicyType",
    "DisablePolicyType",
    "CreatePolicy",
    "UpdatePolicy",
    "DescribePolicy",
    "DeletePolicy",
    "ListPolicies",
    "AttachPolicy",
    "DetachPolicy",
    "ListPoliciesForTarget",
    "ListTargetsForPolicy",
];

/// The model's page size bounds for every List operation here.
const MAX_RESULTS: usize = 20;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    AnyMember,
    ManagementOrDelegated,
    ManagementOnly,
}

fn access(op: &str) -> Access {
    match op {
        "DescribeOrganization" => Access::AnyMember,
        "ListAccounts"
        | "ListAWSServiceAccessForOrganization"
        | "ListDelegatedAdministrators"
        | "ListRoots"
        | "DescribePolicy"
        | "ListPolicies"
        | "ListPoliciesForTarget"
        | "ListTargetsForPolicy" => Access::ManagementOrDelegated,
        _ => Access::ManagementOnly,
    }
}

pub fn handle(
    world: &mut World,
    caller: &Caller,
    op: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let allowed = match access(op) {
        // Every sandbox account belongs to the organization.
        Access::AnyMember => true,
        Access::ManagementOrDelegated => {
            world.is_management(&caller.account)
                || world
                    .org
                    .delegated_admins
                    .keys()
                    .any(|(_, a)| *a == caller.account)
        }
        Access::ManagementOnly => world.is_management(&caller.account),
    };
    if !allowed {
        return Err(ApiError::new(
            400,
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
        ));
    }
    match op {
        "DescribeOrganization" => Ok(describe_organization(world)),
        "ListAccounts" => list_accounts(world, body),
        "EnableAWSServiceAccess" => enable_service_access(world, body),
        "ListAWSServiceAccessForOrganization" => list_service_access(world, body),
        "RegisterDelegatedAdministrator" => register_delegated_admin(world, body),
        "DeregisterDelegatedAdministrator" => deregister_delegated_admin(world, body),
        "ListDelegatedAdministrators" => list_delegated_admins(world, body),
        "ListRoots" => list_roots(world, body),
        "EnablePolicyType" => enable_policy_type(world, body),
        "DisablePolicyType" => disable_policy_type(world, body),
        "CreatePolicy" => create_policy(world, body),
        "UpdatePolicy" => update_policy(world, body),
        "DescribePolicy" => {
            let p = policy(world, body)?;
            Ok(json!({"Policy": policy_json(world, p)}))
        }
        "DeletePolicy" => delete_policy(world, body),
        "ListPolicies" => list_policies(world, body),
        "AttachPolicy" => attach_policy(world, body),
        "DetachPolicy" => detach_policy(world, body),
        "ListPoliciesForTarget" => list_policies_for_target(world, body),
        "ListTargetsForPolicy" => list_targets_for_policy(world, body),
        _ => Err(ApiError::new(
            400,
            "UnsupportedAPIEndpointException",
            format!("The sandbox does not implement {op}"),
        )),
    }
}

fn invalid_input(reason: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidInputException", message).with("Reason", reason)
}

fn constraint_violation(reason: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(400, "ConstraintViolationException", message).with("Reason", reason)
}

fn epoch(t: &DateTime<Utc>) -> Value {
    Value::from(t.timestamp_millis() as f64 / 1000.0)
}

fn org_arn(world: &World) -> String {
    format!(
        "arn:aws:organizations::{}:organization/{}",
        world.org.management, world.org.id
    )
}

fn describe_organization(world: &World) -> Value {
    let mgmt = &world.accounts[&world.org.management];
    json!({"Organization": {
        "Id": world.org.id,
        "Arn": org_arn(world),
        "FeatureSet": "ALL",
        "MasterAccountArn": mgmt.arn(&world.org.id, &world.org.management),
        "MasterAccountId": mgmt.id,
        "MasterAccountEmail": mgmt.email,
        // Deprecated by AWS: always empty; ListRoots tells the policy types.
        "AvailablePolicyTypes": [],
    }})
}

/// How the account joined: the management account and accounts without the execution role
/// (which Organizations creates only in the accounts it creates) were invited.
fn joined_method(world: &World, a: &Account) -> &'static str {
    if world.is_management(&a.id) || !a.iam.roles.contains_key(DEFAULT_EXECUTION_ROLE) {
        "INVITED"
    } else {
        "CREATED"
    }
}

fn account_json(world: &World, a: &Account) -> Map<String, Value> {
    let status = a.status.as_str();
    let mut m = Map::new();
    m.insert("Id".into(), a.id.clone().into());
    m.insert(
        "Arn".into(),
        a.arn(&world.org.id, &world.org.management).into(),
    );
    m.insert("Email".into(), a.email.clone().into());
    m.insert("Name".into(), a.name.clone().into());
    m.insert("Status".into(), status.into());
    // The newer `State` has the same values for the states the sandbox knows.
    m.insert("State".into(), status.into());
    m.insert("JoinedMethod".into(), joined_method(world, a).into());
    m.insert("JoinedTimestamp".into(), epoch(&a.joined));
    m
}

/// `MaxResults` (1..=20) and `NextToken` of a List request.
fn paging(body: &Value) -> Result<(usize, usize), ApiError> {
    let max = match body.get("MaxResults") {
        None | Some(Value::Null) => MAX_RESULTS,
        Some(v) => match v.as_i64() {
            Some(n) if n < 1 => {
                return Err(invalid_input(
                    "MIN_VALUE_EXCEEDED",
                    "You provided a value that is smaller than the minimum value: MaxResults must be at least 1.",
                ))
            }
            Some(n) if n as usize > MAX_RESULTS => {
                return Err(invalid_input(
                    "MAX_VALUE_EXCEEDED",
                    format!("You provided a value that exceeds the maximum allowed value: MaxResults must be at most {MAX_RESULTS}."),
                ))
            }
            Some(n) => n as usize,
            None => return Err(invalid_input("INVALID_ENUM", "MaxResults must be an integer.")),
        },
    };
    let start = match body.get("NextToken").and_then(Value::as_str) {
        None | Some("") => 0,
        Some(t) => decode_token(t).ok_or_else(|| {
            invalid_input(
                "INVALID_NEXT_TOKEN",
                "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.",
            )
        })?,
    };
    Ok((max, start))
}

/// One page of `items`, and the token of the next page if any.
fn page<T>(items: Vec<T>, max: usize, start: usize) -> Result<(Vec<T>, Option<String>), ApiError> {
    if start > items.len() {
        return Err(invalid_input(
            "INVALID_NEXT_TOKEN",
            "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.",
        ));
    }
    let total = items.len();
    let end = (start + max).min(total);
    let out: Vec<T> = items.into_iter().skip(start).take(end - start).collect();
    Ok((out, (end < total).then(|| encode_token(end))))
}

/// Tokens are opaque to clients; ours carry an offset.
fn encode_token(offset: usize) -> String {
    format!("orgsbx{offset:08x}")
}

fn decode_token(token: &str) -> Option<usize> {
    usize::from_str_radix(token.strip_prefix("orgsbx")?, 16).ok()
}

fn with_token(mut out: Map<String, Value>, next: Option<String>) -> Value {
    if let Some(t) = next {
        out.insert("NextToken".into(), t.into());
    }
    Value::Object(out)
}

fn list_accounts(world: &World, body: &Value) -> Result<Value, ApiError> {
    let (max, start) = paging(body)?;
    let all: Vec<&Account> = world.accounts.values().collect();
    let (items, next) = page(all, max, start)?;
    let mut out = Map::new();
    out.insert(
        "Accounts".into(),
        items
            .into_iter()
            .map(|a| Value::Object(account_json(world, a)))
            .collect(),
    );
    Ok(with_token(out, next))
}

/// A required string member.
fn required<'a>(body: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    body.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_input("INPUT_REQUIRED", format!("You must specify {name}.")))
}

/// A service principal: the model's pattern, and a service's name.
fn service_principal(body: &Value) -> Result<String, ApiError> {
    let sp = required(body, "ServicePrincipal")?;
    if sp.is_empty()
        || sp.len() > 128
        || !sp
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(invalid_input(
            "INVALID_PATTERN",
            format!("You provided a value that doesn't match the required pattern: ServicePrincipal {sp:?}."),
        ));
    }
    if !sp.ends_with(".amazonaws.com") {
        return Err(invalid_input(
            "UNRECOGNIZED_SERVICE_PRINCIPAL",
            format!("You specified an unrecognized service principal: {sp}."),
        ));
    }
    Ok(sp.to_string())
}

fn enable_service_access(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    let sp = service_principal(body)?;
    world.org.service_access.entry(sp).or_insert_with(Utc::now);
    Ok(json!({}))
}

fn list_service_access(world: &World, body: &Value) -> Result<Value, ApiError> {
    let (max, start) = paging(body)?;
    let all: Vec<_> = world.org.service_access.iter().collect();
    let (items, next) = page(all, max, start)?;
    let mut out = Map::new();
    out.insert(
        "EnabledServicePrincipals".into(),
        items
            .into_iter()
            .map(|(sp, at)| json!({"ServicePrincipal": sp, "DateEnabled": epoch(at)}))
            .collect(),
    );
    Ok(with_token(out, next))
}

/// The account named by `AccountId`, which must belong to the organization.
fn member_account<'w>(world: &'w World, body: &Value) -> Result<&'w Account, ApiError> {
    let id = required(body, "AccountId")?;
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_input(
            "INVALID_PATTERN",
            format!("You provided a value that doesn't match the required pattern: AccountId {id:?} must be 12 digits."),
        ));
    }
    world.accounts.get(id).ok_or_else(|| {
        ApiError::new(
            400,
            "AccountNotFoundException",
            "You specified an account that doesn't exist.",
        )
    })
}

fn register_delegated_admin(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    let account = member_account(world, body)?;
    let sp = service_principal(body)?;
    if world.is_management(&account.id) {
        return Err(constraint_violation(
            "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR",
            "You can designate only a member account as a delegated administrator.",
        ));
    }
    if account.status == AccountStatus::Suspended {
        return Err(constraint_violation(
            "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR",
            "You cannot register a suspended account as a delegated administrator.",
        ));
    }
    if !world.org.service_access.contains_key(&sp) {
        return Err(constraint_violation(
            "SERVICE_ACCESS_NOT_ENABLED",
            format!("You attempted to register a delegated administrator before you enabled service access for {sp}. Call the EnableAWSServiceAccess API first."),
        ));
    }
    let key = (sp, account.id.clone());
    if world.org.delegated_admins.contains_key(&key) {
        return Err(ApiError::new(
            400,
            "AccountAlreadyRegisteredException",
            "The provided account is already a delegated administrator for your organization.",
        ));
    }
    world.org.delegated_admins.insert(key, Utc::now());
    Ok(json!({}))
}

fn deregister_delegated_admin(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    let account = member_account(world, body)?.id.clone();
    let sp = service_principal(body)?;
    if world.org.delegated_admins.remove(&(sp, account)).is_none() {
        return Err(ApiError::new(
            400,
            "AccountNotRegisteredException",
            "The provided account is not a registered delegated administrator for your organization.",
        ));
    }
    Ok(json!({}))
}

fn list_delegated_admins(world: &World, body: &Value) -> Result<Value, ApiError> {
    let filter = match body.get("ServicePrincipal") {
        None | Some(Value::Null) => None,
        Some(_) => Some(service_principal(body)?),
    };
    let (max, start) = paging(body)?;
    // One entry per account; its delegation date is the earliest of its services'.
    let mut by_account: std::collections::BTreeMap<&str, DateTime<Utc>> = Default::default();
    for ((sp, account), at) in &world.org.delegated_admins {
        if filter.as_deref().is_some_and(|f| f != sp) {
            continue;
        }
        let e = by_account.entry(account.as_str()).or_insert(*at);
        *e = (*e).min(*at);
    }
    let (items, next) = page(by_account.into_iter().collect(), max, start)?;
    let mut out = Map::new();
    out.insert(
        "DelegatedAdministrators".into(),
        items
            .into_iter()
            .filter_map(|(id, at)| {
                let mut m = account_json(world, world.accounts.get(id)?);
                m.insert("DelegationEnabledDate".into(), epoch(&at));
                Some(Value::Object(m))
            })
            .collect(),
    );
    Ok(with_token(out, next))
}

// ---- roots and policies (the sandbox knows service control policies) ----------------------

/// The largest SCP document (characters, white space included, as Organizations counts).
pub const SCP_MAX_CHARS: usize = 5120;
/// At most five SCPs may be attached to one root, OU or account.
const MAX_SCPS_PER_TARGET: usize = 5;

fn root_arn(world: &World) -> String {
    format!(
        "arn:aws:organizations::{}:root/{}/{}",
        world.org.management, world.org.id, world.org.root_id
    )
}

fn root_json(world: &World) -> Value {
    let types: Vec<Value> = world
        .org
        .policy_types
        .iter()
        .map(|t| json!({"Type": t, "Status": "ENABLED"}))
        .collect();
    json!({"Id": world.org.root_id, "Arn": root_arn(world), "Name": "Root", "PolicyTypes": types})
}

fn list_roots(world: &World, body: &Value) -> Result<Value, ApiError> {
    let (max, start) = paging(body)?;
    let (items, next) = page(vec![root_json(world)], max, start)?;
    let mut out = Map::new();
    out.insert("Roots".into(), items.into());
    Ok(with_token(out, next))
}

/// The policy type named by `key`: one of the model's values, and one the sandbox serves.
fn policy_type(body: &Value, key: &str) -> Result<String, ApiError> {
    const KNOWN: &[&str] = &[
        "SERVICE_CONTROL_POLICY",
        "RESOURCE_CONTROL_POLICY",
        "TAG_POLICY",
        "BACKUP_POLICY",
        "AISERVICES_OPT_OUT_POLICY",
        "CHATBOT_POLICY",
        "DECLARATIVE_POLICY_EC2",
        "SECURITYHUB_POLICY",
    ];
    let t = required(body, key)?;
    if !KNOWN.contains(&t) {
        return Err(invalid_input(
            "INVALID_ENUM_POLICY_TYPE",
            format!("You specified an invalid value for {key}: {t}."),
        ));
    }
    if t != SCP_TYPE {
        return Err(ApiError::new(
            400,
            "UnsupportedAPIEndpointException",
            format!("The sandbox serves service control policies only, not {t}."),
        ));
    }
    Ok(t.to_string())
}

fn root_of(world: &World, body: &Value) -> Result<(), ApiError> {
    let id = required(body, "RootId")?;
    if !id.starts_with("r-") {
        return Err(invalid_input(
            "INVALID_PATTERN",
            format!("You provided a value that doesn't match the required pattern: RootId {id:?}."),
        ));
    }
    if id != world.org.root_id {
        return Err(ApiError::new(
            400,
            "RootNotFoundException",
            "You specified a root that doesn't exist.",
        ));
    }
    Ok(())
}

fn enable_policy_type(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    root_of(world, body)?;
    let t = policy_type(body, "PolicyType")?;
    if world.org.policy_types.contains(&t) {
        return Err(ApiError::new(
            400,
            "PolicyTypeAlreadyEnabledException",
            "The specified policy type is already enabled.",
        ));
    }
    world.org.policy_types.insert(t);
    // Enabling SCPs attaches FullAWSAccess to the root and to every account, so nothing
    // changes until a restricting policy is attached.
    let targets: Vec<String> = std::iter::once(world.org.root_id.clone())
        .chain(world.accounts.keys().cloned())
        .collect();
    for target in targets {
        world
            .org
            .attachments
            .entry(target)
            .or_default()
            .insert(FULL_AWS_ACCESS_ID.to_string());
    }
    Ok(json!({"Root": root_json(world)}))
}

fn disable_policy_type(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    root_of(world, body)?;
    let t = policy_type(body, "PolicyType")?;
    if !world.org.policy_types.remove(&t) {
        return Err(ApiError::new(
            400,
            "PolicyTypeNotEnabledException",
            "This operation can be performed only for enabled policy types.",
        ));
    }
    // Every policy of the type is detached from every target.
    let of_type: Vec<String> = world
        .org
        .policies
        .values()
        .filter(|p| p.policy_type == t)
        .map(|p| p.id.clone())
        .collect();
    for attached in world.org.attachments.values_mut() {
        attached.retain(|id| !of_type.contains(id));
    }
    Ok(json!({"Root": root_json(world)}))
}

fn policy_arn(world: &World, p: &OrgPolicy) -> String {
    if p.aws_managed {
        format!(
            "arn:aws:organizations::aws:policy/{}/{}",
            p.policy_type.to_ascii_lowercase(),
            p.id
        )
    } else {
        format!(
            "arn:aws:organizations::{}:policy/{}/{}/{}",
            world.org.management,
            world.org.id,
            p.policy_type.to_ascii_lowercase(),
            p.id
        )
    }
}

fn summary_json(world: &World, p: &OrgPolicy) -> Value {
    json!({
        "Id": p.id,
        "Arn": policy_arn(world, p),
        "Name": p.name,
        "Description": p.description,
        "Type": p.policy_type,
        "AwsManaged": p.aws_managed,
    })
}

fn policy_json(world: &World, p: &OrgPolicy) -> Value {
    json!({"PolicySummary": summary_json(world, p), "Content": p.content})
}

/// The policy named by `PolicyId`.
fn policy<'w>(world: &'w World, body: &Value) -> Result<&'w OrgPolicy, ApiError> {
    let id = required(body, "PolicyId")?;
    let well_formed = id.strip_prefix("p-").is_some_and(|rest| {
        (8..=128).contains(&rest.len())
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if !well_formed {
        return Err(invalid_input(
            "INVALID_SYNTAX_POLICY_ID",
            format!("You specified an invalid policy ID: {id}."),
        ));
    }
    world.org.policies.get(id).ok_or_else(|| {
        ApiError::new(
            400,
            "PolicyNotFoundException",
            "We can't find a policy with the PolicyId that you specified.",
        )
    })
}

/// Organizations' checks of an SCP document: JSON, a statement list whose statements each have
/// an Effect and an Action or NotAction and name no principal, and the size limit.
fn check_scp(content: &str) -> Result<(), ApiError> {
    if content.chars().count() > SCP_MAX_CHARS {
        return Err(constraint_violation(
            "POLICY_CONTENT_LIMIT_EXCEEDED",
            format!("The provided policy document exceeds the maximum size of {SCP_MAX_CHARS} characters for a service control policy."),
        ));
    }
    let malformed = || {
        ApiError::new(
            400,
            "MalformedPolicyDocumentException",
            "The provided policy document doesn't meet the requirements of the specified policy type.",
        )
    };
    let doc: Value = serde_json::from_str(content).map_err(|_| malformed())?;
    let statements = super::policy::statements(&doc);
    if statements.is_empty() {
        return Err(malformed());
    }
    for st in statements {
        let ok = st.is_object()
            && matches!(
                st.get("Effect").and_then(Value::as_str),
                Some("Allow" | "Deny")
            )
            && (st.get("Action").is_some() != st.get("NotAction").is_some())
            && st.get("Principal").is_none()
            && st.get("NotPrincipal").is_none();
        if !ok {
            return Err(malformed());
        }
    }
    Ok(())
}

fn check_policy_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > 128 {
        return Err(invalid_input(
            "MAX_LENGTH_EXCEEDED",
            "You provided a string parameter that is longer than allowed: Name is 1 to 128 characters.",
        ));
    }
    Ok(())
}

fn check_description(d: &str) -> Result<(), ApiError> {
    if d.len() > 512 {
        return Err(invalid_input(
            "MAX_LENGTH_EXCEEDED",
            "You provided a string parameter that is longer than allowed: Description is at most 512 characters.",
        ));
    }
    Ok(())
}

fn duplicate_name(world: &World, name: &str, except: Option<&str>) -> Result<(), ApiError> {
    let taken = world
        .org
        .policies
        .values()
        .any(|p| p.name == name && Some(p.id.as_str()) != except);
    if taken {
        return Err(ApiError::new(
            400,
            "DuplicatePolicyException",
            "A policy with the same name already exists.",
        ));
    }
    Ok(())
}

fn create_policy(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    let name = required(body, "Name")?.to_string();
    let description = required(body, "Description")?.to_string();
    let content = required(body, "Content")?.to_string();
    let t = policy_type(body, "Type")?;
    check_policy_name(&name)?;
    check_description(&description)?;
    check_scp(&content)?;
    duplicate_name(world, &name, None)?;
    let id = loop {
        let id = format!("p-{}", world.random(LOWER_DIGITS, 8));
        if !world.org.policies.contains_key(&id) {
            break id;
        }
    };
    let p = OrgPolicy {
        id: id.clone(),
        name,
        description,
        policy_type: t,
        content,
        aws_managed: false,
    };
    let out = json!({"Policy": policy_json(world, &p)});
    world.org.policies.insert(id, p);
    Ok(out)
}

fn update_policy(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    let p = policy(world, body)?.clone();
    if p.aws_managed {
        return Err(invalid_input(
            "IMMUTABLE_POLICY",
            "You specified a policy that is managed by AWS and can't be modified.",
        ));
    }
    let str_of = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
    let mut updated = p.clone();
    if let Some(name) = str_of("Name") {
        check_policy_name(&name)?;
        duplicate_name(world, &name, Some(&p.id))?;
        updated.name = name;
    }
    if let Some(d) = str_of("Description") {
        check_description(&d)?;
        updated.description = d;
    }
    if let Some(c) = str_of("Content") {
        check_scp(&c)?;
        updated.content = c;
    }
    let out = json!({"Policy": policy_json(world, &updated)});
    world.org.policies.insert(p.id.clone(), updated);
    Ok(out)
}

fn delete_policy(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    let p = policy(world, body)?.clone();
    if p.aws_managed {
        return Err(invalid_input(
            "IMMUTABLE_POLICY",
            "You specified a policy that is managed by AWS and can't be modified.",
        ));
    }
    if world.org.attachments.values().any(|a| a.contains(&p.id)) {
        return Err(ApiError::new(
            400,
            "PolicyInUseException",
            "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
        ));
    }
    world.org.policies.remove(&p.id);
    Ok(json!({}))
}

fn list_policies(world: &World, body: &Value) -> Result<Value, ApiError> {
    let t = policy_type(body, "Filter")?;
    let (max, start) = paging(body)?;
    let all: Vec<Value> = world
        .org
        .policies
        .values()
        .filter(|p| p.policy_type == t)
        .map(|p| summary_json(world, p))
        .collect();
    let (items, next) = page(all, max, start)?;
    let mut out = Map::new();
    out.insert("Policies".into(), items.into());
    Ok(with_token(out, next))
}

/// The target named by `TargetId`: the root or an account of the organization.
fn target(world: &World, body: &Value) -> Result<(String, &'static str, String, String), ApiError> {
    let id = required(body, "TargetId")?.to_string();
    let not_found = || {
        ApiError::new(
            400,
            "TargetNotFoundException",
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
        )
    };
    if id == world.org.root_id {
        return Ok((id, "ROOT", root_arn(world), "Root".into()));
    }
    if id.starts_with("r-") || id.starts_with("ou-") {
        return Err(not_found());
    }
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_input(
            "INVALID_PATTERN_TARGET_ID",
            format!(
                "You specified a policy target ID that doesn't match the required pattern: {id}."
            ),
        ));
    }
    let a = world.accounts.get(&id).ok_or_else(not_found)?;
    Ok((
        id,
        "ACCOUNT",
        a.arn(&world.org.id, &world.org.management),
        a.name.clone(),
    ))
}

fn attach_policy(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    let p = policy(world, body)?.clone();
    let (target, _, _, _) = target(world, body)?;
    if !world.org.policy_types.contains(&p.policy_type) {
        return Err(ApiError::new(
            400,
            "PolicyTypeNotEnabledException",
            "This operation can be performed only for enabled policy types.",
        ));
    }
    let attached = world.org.attachments.entry(target).or_default();
    if attached.contains(&p.id) {
        return Err(ApiError::new(
            400,
            "DuplicatePolicyAttachmentException",
            "The selected policy is already attached to the specified target.",
        ));
    }
    if attached.len() >= MAX_SCPS_PER_TARGET {
        return Err(constraint_violation(
            "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            format!("You attempted to exceed the number of policies of a certain type that can be attached to an entity ({MAX_SCPS_PER_TARGET})."),
        ));
    }
    attached.insert(p.id);
    Ok(json!({}))
}

fn detach_policy(world: &mut World, body: &Value) -> Result<Value, ApiError> {
    let p = policy(world, body)?.clone();
    let (target, _, _, _) = target(world, body)?;
    let attached = world.org.attachments.entry(target).or_default();
    if !attached.contains(&p.id) {
        return Err(ApiError::new(
            400,
            "PolicyNotAttachedException",
            "The policy isn't attached to the specified target in the specified root.",
        ));
    }
    if attached.len() == 1 && world.org.policy_types.contains(&p.policy_type) {
        return Err(constraint_violation(
            "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            "You attempted to detach a policy from an entity that would leave it with no service control policy attached.",
        ));
    }
    attached.remove(&p.id);
    Ok(json!({}))
}

fn list_policies_for_target(world: &World, body: &Value) -> Result<Value, ApiError> {
    let (target, _, _, _) = target(world, body)?;
    let t = policy_type(body, "Filter")?;
    let (max, start) = paging(body)?;
    let all: Vec<Value> = world
        .org
        .attachments
        .get(&target)
        .into_iter()
        .flatten()
        .filter_map(|id| world.org.policies.get(id))
        .filter(|p| p.policy_type == t)
        .map(|p| summary_json(world, p))
        .collect();
    let (items, next) = page(all, max, start)?;
    let mut out = Map::new();
    out.insert("Policies".into(), items.into());
    Ok(with_token(out, next))
}

fn list_targets_for_policy(world: &World, body: &Value) -> Result<Value, ApiError> {
    let p = policy(world, body)?;
    let (max, start) = paging(body)?;
    let mut all: Vec<Value> = Vec::new();
    for (target_id, attached) in &world.org.attachments {
        if !attached.contains(&p.id) {
            continue;
        }
        let probe = json!({"TargetId": target_id});
        if let Ok((id, kind, arn, name)) = target(world, &probe) {
            all.push(json!({"TargetId": id, "Arn": arn, "Name": name, "Type": kind}));
        }
    }
    let (items, next) = page(all, max, start)?;
    let mut out = Map::new();
    out.insert("Targets".into(), items.into());
    Ok(with_token(out, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_tokens() {
        let (p, next) = page((0..5).collect(), 2, 0).unwrap();
        assert_eq!(p, vec![0, 1]);
        let start = decode_token(next.as_deref().unwrap()).unwrap();
        let (p, next) = page((0..5).collect(), 2, start).unwrap();
        assert_eq!(p, vec![2, 3]);
        let (p, next) = page((0..5).collect(), 2, decode_token(&next.unwrap()).unwrap()).unwrap();
        assert_eq!((p, next), (vec![4], None));
        assert!(page((0..5).collect::<Vec<_>>(), 2, 9).is_err());
        assert_eq!(decode_token("garbage"), None);
    }

    #[test]
    fn max_results_bounds() {
        assert_eq!(paging(&json!({})).unwrap(), (20, 0));
        assert_eq!(paging(&json!({"MaxResults": 1})).unwrap(), (1, 0));
        assert!(paging(&json!({"MaxResults": 0})).is_err());
        assert!(paging(&json!({"MaxResults": 21})).is_err());
        assert!(paging(&json!({"NextToken": "nope"})).is_err());
    }
}
