//! GuardDuty saved filters (CreateFilter, ListFilters, GetFilter, UpdateFilter, DeleteFilter)
//! and suppression rules (filters whose action is ARCHIVE).
//!
//! A suppression rule archives findings as GuardDuty generates them: saving or changing one
//! leaves the findings that already exist as they are. An administrator's rules also cover its
//! members' new findings, and only an administrator or a standalone account may have them: an
//! associated member is refused an ARCHIVE filter (its administrator manages suppression for
//! it), while NOOP filters stay open to every account.

use chrono::Utc;
use serde_json::{json, Value};

use super::criteria::{Criteria, Usage};
use super::matcher::Matcher;
use super::render::Owner;
use super::{epoch, owned_detector, page_after, with_next_token, Request};
use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::{SavedFilter, World};

/// GuardDuty's limit of saved filters per account per region.
pub const MAX_FILTERS: usize = 100;

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    owned_detector(world, caller, req.detector_id())?;
    match req.route.op {
        "CreateFilter" => create(world, caller, req),
        "ListFilters" => list(world, caller, req),
        "GetFilter" => get(world, caller, req),
        "UpdateFilter" => update(world, caller, req),
        "DeleteFilter" => delete(world, caller, req),
        other => Err(ApiError::bad_request(format!(
            "The sandbox does not implement {other}"
        ))),
    }
}

fn invalid(msg: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "The request is rejected because an invalid or out-of-range value is specified as an input parameter: {msg}."
    ))
}

/// Filter names: 3 to 64 of letters, digits, `_`, `.` and `-`.
pub fn validate_name(name: &str) -> Result<(), ApiError> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !(3..=64).contains(&name.len()) || !ok_chars {
        return Err(invalid(format!(
            "filter name {name:?} must be 3 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'"
        )));
    }
    Ok(())
}

fn no_such_filter(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The request is rejected because the input filterName {name} does not exist."
    ))
}

/// The refusal an associated member gets for an ARCHIVE filter. The API reference documents
/// no wording; this follows GuardDuty's style for callers not allowed an action.
pub const MEMBER_SUPPRESSION_MESSAGE: &str = "The request is rejected because the current account is a GuardDuty member account. Only the administrator account can create or update suppression rules (filters whose action is ARCHIVE).";

/// Suppression rules belong to administrators and standalone accounts, not to members.
fn refuse_member_suppression(world: &World, caller: &Caller) -> Result<(), ApiError> {
    match world.administrator_of(&caller.account, &caller.region) {
        Some(_) => Err(ApiError::bad_request(MEMBER_SUPPRESSION_MESSAGE)),
        None => Ok(()),
    }
}

fn action_of(req: &Request) -> Result<Option<String>, ApiError> {
    match req.body.get("action") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(a)) if a == "NOOP" || a == "ARCHIVE" => Ok(Some(a.clone())),
        Some(_) => Err(ApiError::invalid_param("action")),
    }
}

fn rank_of(req: &Request) -> Result<Option<i32>, ApiError> {
    match req.body.get("rank") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(r) if (1..=100).contains(&r) => Ok(Some(r as i32)),
            _ => Err(ApiError::invalid_param("rank")),
        },
    }
}

fn description_of(req: &Request) -> Result<Option<String>, ApiError> {
    match req.body.get("description") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(d)) if d.chars().count() <= 512 => Ok(Some(d.clone())),
        Some(_) => Err(ApiError::invalid_param("description")),
    }
}

/// The criteria of a filter request: required, valid, and naming at least one field.
fn criteria_of(req: &Request) -> Result<Value, ApiError> {
    let raw = req
        .body
        .get("findingCriteria")
        .filter(|v| !v.is_null())
        .ok_or_else(|| ApiError::invalid_param("findingCriteria"))?;
    if Criteria::parse(Some(raw), Usage::Filter)?.is_empty() {
        return Err(invalid("findingCriteria must name at least one criterion"));
    }
    Ok(raw.clone())
}

fn create(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let name = req
        .body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_param("name"))?
        .to_string();
    validate_name(&name)?;
    let description = description_of(req)?;
    let action = action_of(req)?.unwrap_or_else(|| "NOOP".into());
    let rank = rank_of(req)?;
    let criteria = criteria_of(req)?;
    let tags = req.tags()?;
    if action == "ARCHIVE" {
        refuse_member_suppression(world, caller)?;
    }
    let cell = world.cell_mut(&caller.account, &caller.region);
    if cell.filters.contains_key(&name) {
        return Err(ApiError::bad_request(format!(
            "The request is rejected because a filter named {name} already exists."
        )));
    }
    if cell.filters.len() >= MAX_FILTERS {
        return Err(ApiError::bad_request(format!(
            "The request is rejected because the account already has the maximum of {MAX_FILTERS} filters in this Region."
        )));
    }
    let now = Utc::now();
    let rank = rank.unwrap_or(cell.filters.len() as i32 + 1);
    cell.filters.insert(
        name.clone(),
        SavedFilter {
            name: name.clone(),
            description,
            action,
            rank,
            criteria,
            tags,
            created: now,
            updated: now,
            version: 1,
        },
    );
    Ok(json!({ "name": name }))
}

fn list(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let max = req.max_results(50, 50)?;
    let names: Vec<String> = world
        .cell(&caller.account, &caller.region)
        .map(|c| c.filters.keys().cloned().collect())
        .unwrap_or_default();
    let (names, next) = page_after(&names, String::as_str, max, req.next_token())?;
    Ok(with_next_token(json!({ "filterNames": names }), next))
}

fn filter_name(req: &Request) -> &str {
    req.route.filter_name.as_deref().unwrap_or_default()
}

fn get(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let name = filter_name(req);
    let f = world
        .cell(&caller.account, &caller.region)
        .and_then(|c| c.filters.get(name))
        .ok_or_else(|| no_such_filter(name))?;
    let mut out = json!({
        "name": f.name,
        "action": f.action,
        "rank": f.rank,
        "findingCriteria": f.criteria,
        "tags": f.tags,
        "createdAt": epoch(&f.created),
        "updatedAt": epoch(&f.updated),
        "version": f.version,
    });
    if let Some(d) = &f.description {
        out["description"] = d.clone().into();
    }
    Ok(out)
}

fn update(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let name = filter_name(req).to_string();
    let description = description_of(req)?;
    let action = action_of(req)?;
    let rank = rank_of(req)?;
    let criteria = match req.body.get("findingCriteria") {
        None | Some(Value::Null) => None,
        Some(_) => Some(criteria_of(req)?),
    };
    if action.as_deref() == Some("ARCHIVE") {
        refuse_member_suppression(world, caller)?;
    }
    let f = world
        .cell_mut(&caller.account, &caller.region)
        .filters
        .get_mut(&name)
        .ok_or_else(|| no_such_filter(&name))?;
    if let Some(d) = description {
        f.description = Some(d);
    }
    if let Some(a) = action {
        f.action = a;
    }
    if let Some(r) = rank {
        f.rank = r;
    }
    if let Some(c) = criteria {
        f.criteria = c;
    }
    f.updated = Utc::now();
    f.version += 1;
    Ok(json!({ "name": name }))
}

fn delete(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let name = filter_name(req);
    world
        .cell_mut(&caller.account, &caller.region)
        .filters
        .remove(name)
        .ok_or_else(|| no_such_filter(name))?;
    Ok(json!({}))
}

/// Indexes of the findings of (account, region) from `from` on that any of `rules` matches.
fn matched(world: &World, account: &str, region: &str, from: u32, rules: &[Criteria]) -> Vec<u32> {
    let (Some(cell), Some(detector)) =
        (world.cell(account, region), world.detector(account, region))
    else {
        return Vec::new();
    };
    let owner = Owner {
        account,
        region,
        detector_id: &detector.id,
    };
    let store = &cell.findings;
    // Rules compiled once; a rule that cannot match this cell (its account) is dropped.
    let matchers: Vec<Matcher> = rules
        .iter()
        .map(Matcher::new)
        .filter(|m| m.admits_cell(&owner))
        .collect();
    if matchers.is_empty() {
        return Vec::new();
    }
    (from..store.len() as u32)
        .filter(|&i| {
            let f = store.get(i).expect("in range");
            !f.archived() && matchers.iter().any(|m| m.admits(f, owner, store.salt(), i))
        })
        .collect()
}

fn archive(world: &mut World, account: &str, region: &str, indexes: Vec<u32>) {
    let store = &mut world.cell_mut(account, region).findings;
    for i in indexes {
        if let Some(f) = store.get_mut(i) {
            f.set_archived(true);
        }
    }
}

/// Archive the findings of (account, region) from index `from` on that an ARCHIVE filter of
/// the account, or of its administrator, matches. Called whenever findings are generated.
pub fn suppress(world: &mut World, account: &str, region: &str, from: u32) {
    let mut owners = vec![account.to_string()];
    if let Some(admin) = world.administrator_of(account, region) {
        owners.push(admin.to_string());
    }
    let rules: Vec<Criteria> = owners
        .iter()
        .filter_map(|o| world.cell(o, region))
        .flat_map(|c| c.filters.values())
        .filter(|f| f.action == "ARCHIVE")
        .filter_map(|f| Criteria::parse(Some(&f.criteria), Usage::Filter).ok())
        .collect();
    if rules.is_empty() {
        return;
    }
    let hits = matched(world, account, region, from, &rules);
    archive(world, account, region, hits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_model() {
        assert!(validate_name("high-sev_v1.2").is_ok());
        assert!(validate_name("ab").is_err());
        assert!(validate_name(&"x".repeat(65)).is_err());
        assert!(validate_name("has space").is_err());
        assert!(validate_name("semi;colon").is_err());
    }
}
