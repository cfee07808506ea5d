//! Protection plans not offered in a region. GuardDuty launches plans region by region, so a
//! feature of the service model may not exist in some region: the sandbox leaves it out of what
//! it reports there (GetDetector, GetMemberDetectors, DescribeOrganizationConfiguration, the
//! free trial) and refuses to turn it on there in an existing detector or the organization
//! settings; a new detector is created without it. The org file names them
//! (`[unavailable_features]`, region -> features); by default every feature is everywhere.

use serde_json::Value;

use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::World;

use super::Request;

/// Whether `feature` is offered in `region`.
pub fn available(world: &World, region: &str, feature: &str) -> bool {
    !world
        .unavailable_features
        .get(region)
        .is_some_and(|f| f.contains(feature))
}

/// Refuse a request that turns on a feature not offered in the caller's region.
pub fn check(world: &World, caller: &Caller, req: &Request) -> Result<(), ApiError> {
    let on: &[&str] = match req.route.op {
        // A new detector leaves them out instead (`World::set_detector`): what GuardDuty does
        // with them at creation is not documented, and a first rollout into a region must not
        // fail before gdorg can see what the region offers.
        "UpdateDetector" | "UpdateMemberDetectors" => &["ENABLED"],
        "UpdateOrganizationConfiguration" => &["NEW", "ALL"],
        _ => return Ok(()),
    };
    let key = if req.route.op == "UpdateOrganizationConfiguration" {
        "autoEnable"
    } else {
        "status"
    };
    let Some(Value::Array(features)) = req.body.get("features") else {
        return Ok(());
    };
    for f in features {
        let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
        let status = f.get(key).and_then(Value::as_str).unwrap_or_default();
        if on.contains(&status) && !available(world, &caller.region, name) {
            return Err(ApiError::bad_request(format!(
                "The request is rejected because the feature {name} is not available in the region {}.",
                caller.region
            )));
        }
    }
    Ok(())
}

/// Leave the features not offered in `region` out of an answer that lists features.
pub fn hide(world: &World, region: &str, op: &str, mut out: Value) -> Value {
    if !world.unavailable_features.contains_key(region) {
        return out;
    }
    let keep = |list: &mut Value| {
        if let Value::Array(items) = list {
            items.retain(|f| {
                f.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(|n| available(world, region, n))
            });
        }
    };
    match op {
        "GetDetector" | "DescribeOrganizationConfiguration" => {
            if let Some(list) = out.get_mut("features") {
                keep(list);
            }
        }
        "GetMemberDetectors" => {
            if let Some(Value::Array(members)) = out.get_mut("members") {
                for m in members {
                    if let Some(list) = m.get_mut("features") {
                        keep(list);
                    }
                }
            }
        }
        _ => {}
    }
    out
}
