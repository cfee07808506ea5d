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
use super::state::{Account, AccountStatus, World, DEFAULT_EXECUTION_ROLE};

pub const OPERATIONS: &[&str] = &[
    "DescribeOrganization",
    "ListAccounts",
    "EnableAWSServiceAccess",
    "ListAWSServiceAccessForOrganization",
    "RegisterDelegatedAdministrator",
    "DeregisterDelegatedAdministrator",
    "ListDelegatedAdministrators",
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
        "ListAccounts" | "ListAWSServiceAccessForOrganization" | "ListDelegatedAdministrators" => {
            Access::ManagementOrDelegated
        }
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
