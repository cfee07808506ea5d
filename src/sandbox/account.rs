//! The Account Management API (service `account`, restJson1, SigV4 signing name `account`,
//! one global endpoint): ListRegions, the opt-in status of every region for one account.
//!
//! Whose regions: the caller's own account, or with `AccountId` a member account of the
//! organization, which only the management account or a delegated administrator for
//! `account.amazonaws.com` may name, once trusted access for that principal is on. The
//! management account names itself by leaving `AccountId` out. Members' request names are
//! PascalCase on the wire (the model gives them no jsonName); errors are restJson1's.

use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::policy::Request as PolicyRequest;
use super::state::World;

/// The signing name requests to this service carry in their credential scope.
pub const SIGNING_NAME: &str = "account";
/// The service principal of trusted access and delegated administration.
pub const PRINCIPAL: &str = "account.amazonaws.com";
/// ListRegions' page size limit (`ListRegionsRequestMaxResultsInteger`: 1..=50).
const MAX_RESULTS: i64 = 50;
/// The statuses `RegionOptStatusContains` may name (`RegionOptStatus`).
const STATUSES: &[&str] = &[
    "ENABLED",
    "ENABLING",
    "DISABLING",
    "DISABLED",
    "ENABLED_BY_DEFAULT",
];

/// The operation at `method path`, if this service has one there.
pub fn route(method: &str, path: &str) -> Option<&'static str> {
    match (method, path.trim_end_matches('/')) {
        ("POST", "/listRegions") => Some("ListRegions"),
        _ => None,
    }
}

/// What the caller's policies must allow: `account:<Op>` on the account it acts on (the
/// Service Authorization Reference's `account` and `accountInOrganization` resources).
pub fn policy_request(world: &World, caller: &Caller, op: &str, body: &Value) -> PolicyRequest {
    let resource = match body.get("AccountId").and_then(Value::as_str) {
        Some(member) => format!(
            "arn:aws:account::{}:account/{}/{member}",
            world.org.management, world.org.id
        ),
        None => format!("arn:aws:account::{}:account", caller.account),
    };
    PolicyRequest::new(format!("account:{op}"), resource)
}

pub fn handle(world: &World, caller: &Caller, op: &str, body: &Value) -> Result<Value, ApiError> {
    match op {
        "ListRegions" => list_regions(world, caller, body),
        other => Err(ApiError::new(
            500,
            "InternalServerException",
            format!("{other} is not an Account Management operation"),
        )),
    }
}

/// The model's ValidationException for one field.
fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::new(400, "ValidationException", format!("{field}: {message}"))
        .with("reason", "fieldValidationFailed")
}

fn denied(message: impl Into<String>) -> ApiError {
    ApiError::new(403, "AccessDeniedException", message)
}

fn list_regions(world: &World, caller: &Caller, body: &Value) -> Result<Value, ApiError> {
    let max = match body.get("MaxResults") {
        None | Some(Value::Null) => MAX_RESULTS,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=MAX_RESULTS).contains(&n) => n,
            _ => return Err(invalid("MaxResults", "must be between 1 and 50")),
        },
    } as usize;
    let start = match body.get("NextToken").and_then(Value::as_str) {
        None | Some("") => 0,
        Some(t) => decode_token(t).ok_or_else(|| invalid("NextToken", "is not valid"))?,
    };
    let wanted: Vec<&str> = match body.get("RegionOptStatusContains") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| {
                v.as_str().filter(|s| STATUSES.contains(s)).ok_or_else(|| {
                    invalid(
                        "RegionOptStatusContains",
                        "each value must be one of ENABLED, ENABLING, DISABLING, DISABLED, ENABLED_BY_DEFAULT",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid("RegionOptStatusContains", "must be a list")),
    };
    let target = target_account(world, caller, body)?;
    let account = world
        .accounts
        .get(target)
        .ok_or_else(|| denied(format!("Account {target} is not in the organization.")))?;
    let mut regions: Vec<(&str, &str)> = world
        .regions
        .iter()
        .map(|r| (r.as_str(), account.region_opt_status(r)))
        .filter(|(_, s)| wanted.is_empty() || wanted.contains(s))
        .collect();
    regions.sort_unstable();
    let start = start.min(regions.len());
    let end = (start + max).min(regions.len());
    let page: Vec<Value> = regions[start..end]
        .iter()
        .map(|(name, status)| json!({"RegionName": name, "RegionOptStatus": status}))
        .collect();
    let mut out = json!({ "Regions": page });
    if end < regions.len() {
        out["NextToken"] = encode_token(end).into();
    }
    Ok(out)
}

/// The account whose regions are asked for: the caller's own, or `AccountId` when the caller
/// may act on members of the organization.
fn target_account<'a>(
    world: &World,
    caller: &'a Caller,
    body: &'a Value,
) -> Result<&'a str, ApiError> {
    let member = match body.get("AccountId") {
        None | Some(Value::Null) => return Ok(caller.account.as_str()),
        Some(v) => v
            .as_str()
            .filter(|s| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| invalid("AccountId", "must be a 12-digit account ID"))?,
    };
    let management = world.is_management(&caller.account);
    if management && member == caller.account {
        return Err(invalid(
            "AccountId",
            "the management account cannot name itself; call the operation without AccountId",
        ));
    }
    let delegated = world
        .org
        .delegated_admins
        .contains_key(&(PRINCIPAL.to_string(), caller.account.clone()));
    if !management && !delegated {
        return Err(denied(format!(
            "Account {} is neither the management account nor a delegated administrator for {PRINCIPAL}, so it cannot act on account {member}.",
            caller.account
        )));
    }
    if !world.org.service_access.contains_key(PRINCIPAL) {
        return Err(denied(format!(
            "Trusted access for {PRINCIPAL} is not enabled in the organization."
        )));
    }
    if !world.accounts.contains_key(member) {
        return Err(denied(format!(
            "Account {member} is not a member of the organization."
        )));
    }
    Ok(member)
}

/// Offsets travel as opaque tokens.
fn encode_token(offset: usize) -> String {
    format!("acctr{offset:x}")
}

fn decode_token(token: &str) -> Option<usize> {
    usize::from_str_radix(token.strip_prefix("acctr")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_tokens() {
        assert_eq!(route("POST", "/listRegions"), Some("ListRegions"));
        assert_eq!(route("GET", "/listRegions"), None);
        assert_eq!(decode_token(&encode_token(34)), Some(34));
        assert_eq!(decode_token("bogus"), None);
    }
}
