//! The administrator's view of its members' detectors: GetMemberDetectors (which features and
//! data sources each member's detector has) and UpdateMemberDetectors (the administrator sets
//! them).
//!
//! Only an administrator reaches its members' detectors, and only those of members associated
//! with it (`Enabled` to change them); any other account of the batch comes back unprocessed.
//! An account that is itself a member of another administrator is refused as a whole.

use chrono::Utc;
use serde_json::{json, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::World;

use super::detectors::{apply_features, data_sources_json, features_json, requested_features};
use super::members::{member_of, ASSOCIATED, NOT_ASSOCIATED, NOT_MEMBER};
use super::{account_ids, require_owned, unprocessed, Request};

const MEMBER_CANNOT_MANAGE: &str = "The request is rejected because the current account is a member of a GuardDuty administrator account and cannot manage member detectors.";

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.route.op {
        "GetMemberDetectors" => get(world, caller, req),
        "UpdateMemberDetectors" => update(world, caller, req),
        other => Err(ApiError::internal(format!(
            "{other} is not a member detector operation"
        ))),
    }
}

/// The caller's owned detector, that it is no member itself, and the batch of account ids.
fn checked(world: &World, caller: &Caller, req: &Request) -> Result<Vec<String>, ApiError> {
    require_owned(world, caller, req)?;
    let ids = account_ids(req, "accountIds")?;
    if world
        .administrator_of(&caller.account, &caller.region)
        .is_some()
    {
        return Err(ApiError::bad_request(MEMBER_CANNOT_MANAGE));
    }
    Ok(ids)
}

/// Why `account` is not one whose detector the caller may reach (None: it may). `statuses` are
/// the relationships that allow it.
fn refusal(world: &World, caller: &Caller, account: &str, statuses: &[&str]) -> Option<Value> {
    match member_of(world, &caller.account, &caller.region, account) {
        None => Some(unprocessed(account, NOT_MEMBER)),
        Some(m) if !statuses.contains(&m.relationship.as_str()) => {
            Some(unprocessed(account, NOT_ASSOCIATED))
        }
        // An associated member always has a detector; one deleted since leaves the link.
        Some(_) if world.detector(account, &caller.region).is_none() => {
            Some(unprocessed(account, NOT_ASSOCIATED))
        }
        Some(_) => None,
    }
}

fn get(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let ids = checked(world, caller, req)?;
    let (mut configs, mut out) = (Vec::new(), Vec::new());
    for account in ids {
        if let Some(u) = refusal(world, caller, &account, ASSOCIATED) {
            out.push(u);
            continue;
        }
        let d = world
            .detector(&account, &caller.region)
            .expect("refusal checks the detector");
        // The two parts of the detector's view a member's configuration has, built straight
        // into it (a batch of 50 is built per call).
        let mut config = serde_json::Map::new();
        config.insert("dataSources".into(), data_sources_json(d, &account));
        config.insert("features".into(), features_json(d));
        config.insert("accountId".into(), Value::String(account));
        configs.push(Value::Object(config));
    }
    // The model names the list memberDataSourceConfigurations; on the wire it is `members`.
    Ok(json!({"members": configs, "unprocessedAccounts": out}))
}

fn update(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let ids = checked(world, caller, req)?;
    let features = requested_features(req)?;
    let now = Utc::now();
    let mut out = Vec::new();
    for account in ids {
        if let Some(u) = refusal(world, caller, &account, &["Enabled"]) {
            out.push(u);
            continue;
        }
        let d = world
            .cell_mut(&account, &caller.region)
            .detector
            .as_mut()
            .expect("refusal checks the detector");
        apply_features(d, &features, now);
        d.updated = now;
    }
    Ok(json!({"unprocessedAccounts": out}))
}
