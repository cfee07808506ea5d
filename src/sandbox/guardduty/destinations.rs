//! GuardDuty publishing destinations (findings export): CreatePublishingDestination,
//! ListPublishingDestinations, DescribePublishingDestination, UpdatePublishingDestination and
//! DeletePublishingDestination, on the caller's own detector.
//!
//! The sandbox has no S3 or KMS behind it, so it cannot check that GuardDuty may write to the
//! bucket with the key: a well-formed destination publishes (PUBLISHING), and a destination
//! that cannot is seeded by the org file. An update is taken as the fix (GuardDuty verifies the
//! new properties; here they always verify). GuardDuty's quotas page lists no limit of
//! destinations per detector, so none is enforced.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{owned_detector, page_after, with_next_token, Request};
use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::{PublishingDestination, World};

/// The only destination type GuardDuty has (`DestinationType`).
pub const DESTINATION_TYPES: &[&str] = &["S3"];

/// `PublishingStatus` values.
pub const STATUSES: &[&str] = &[
    "PENDING_VERIFICATION",
    "PUBLISHING",
    "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY",
    "STOPPED",
];

/// `MaxResults` of ListPublishingDestinations: 1..=50.
const MAX_RESULTS: usize = 50;

/// The publishing-destination routes, `/detector/{id}/publishingDestination[/{destinationId}]`:
/// (operation, detector id, destination id).
pub fn route<'s>(
    method: &str,
    segs: &[&'s str],
) -> Option<(&'static str, &'s str, Option<&'s str>)> {
    match (method, segs) {
        ("POST", ["detector", d, "publishingDestination"]) => {
            Some(("CreatePublishingDestination", d, None))
        }
        ("GET", ["detector", d, "publishingDestination"]) => {
            Some(("ListPublishingDestinations", d, None))
        }
        ("GET", ["detector", d, "publishingDestination", x]) => {
            Some(("DescribePublishingDestination", d, Some(x)))
        }
        ("POST", ["detector", d, "publishingDestination", x]) => {
            Some(("UpdatePublishingDestination", d, Some(x)))
        }
        ("DELETE", ["detector", d, "publishingDestination", x]) => {
            Some(("DeletePublishingDestination", d, Some(x)))
        }
        _ => None,
    }
}

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    owned_detector(world, caller, req.detector_id())?;
    match req.route.op {
        "CreatePublishingDestination" => create(world, caller, req),
        "ListPublishingDestinations" => list(world, caller, req),
        "DescribePublishingDestination" => describe(world, caller, req),
        "UpdatePublishingDestination" => update(world, caller, req),
        "DeletePublishingDestination" => delete(world, caller, req),
        other => Err(ApiError::internal(format!(
            "{other} is not a publishing-destination operation"
        ))),
    }
}

/// Whether `arn` names an S3 bucket, or a folder of one: `arn:<partition>:s3:::<bucket>[/<prefix>]`.
pub fn is_bucket_arn(arn: &str) -> bool {
    let Some((partition, rest)) = arn
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(":s3:::"))
    else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    valid_partition(partition) && valid_bucket(bucket)
}

/// Whether `arn` names a KMS key: `arn:<partition>:kms:<region>:<account>:key/<key id>`.
pub fn is_key_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    *arn_ == "arn"
        && valid_partition(partition)
        && *service == "kms"
        && !region.is_empty()
        && super::is_account_id(account)
        && resource
            .strip_prefix("key/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

fn valid_partition(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

/// S3's bucket naming rules: 3 to 63 of lowercase letters, digits, `.` and `-`, starting and
/// ending with a letter or digit.
fn valid_bucket(b: &str) -> bool {
    let edge = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        && edge(b.bytes().next())
        && edge(b.bytes().last())
}

fn no_such_destination(id: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The request is rejected because the input destinationId {id} does not exist."
    ))
}

/// The members of a `destinationProperties`: (destinationArn, kmsKeyArn), each optional.
type Properties = (Option<String>, Option<String>);

/// `destinationProperties`, its members checked when present.
fn properties(req: &Request) -> Result<Option<Properties>, ApiError> {
    let props = match req.body.get("destinationProperties") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(p)) => p,
        Some(_) => return Err(ApiError::invalid_param("destinationProperties")),
    };
    let member = |name: &str, valid: fn(&str) -> bool| -> Result<Option<String>, ApiError> {
        match props.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if valid(s) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_param(&format!(
                "destinationProperties.{name}"
            ))),
        }
    };
    Ok(Some((
        member("destinationArn", is_bucket_arn)?,
        member("kmsKeyArn", is_key_arn)?,
    )))
}

fn destinations_mut<'w>(
    world: &'w mut World,
    caller: &Caller,
) -> Result<&'w mut BTreeMap<String, PublishingDestination>, ApiError> {
    world
        .cell_mut(&caller.account, &caller.region)
        .detector
        .as_mut()
        .map(|d| &mut d.destinations)
        .ok_or_else(super::not_owned)
}

fn create(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.body.get("destinationType") {
        Some(Value::String(t)) if DESTINATION_TYPES.contains(&t.as_str()) => {}
        _ => return Err(ApiError::invalid_param("destinationType")),
    }
    let (arn, key) = properties(req)?.unwrap_or_default();
    // Both are needed to publish: GuardDuty encrypts every export with the key.
    let arn = arn.ok_or_else(|| ApiError::invalid_param("destinationProperties.destinationArn"))?;
    let key = key.ok_or_else(|| ApiError::invalid_param("destinationProperties.kmsKeyArn"))?;
    let token = match req.body.get("clientToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if t.len() <= 64 => Some(t.clone()),
        Some(_) => return Err(ApiError::invalid_param("clientToken")),
    };
    let tags = req.tags()?;
    if let Some(t) = &token {
        let existing = destinations_mut(world, caller)?
            .values()
            .find(|d| d.client_token.as_deref() == Some(t.as_str()))
            .map(|d| d.id.clone());
        if let Some(id) = existing {
            return Ok(json!({ "destinationId": id }));
        }
    }
    let id = world.new_hex_id();
    let destination = PublishingDestination {
        id: id.clone(),
        destination_type: "S3".into(),
        destination_arn: arn,
        kms_key_arn: key,
        status: "PUBLISHING".into(),
        failing_since: None,
        tags,
        client_token: token,
    };
    destinations_mut(world, caller)?.insert(id.clone(), destination);
    Ok(json!({ "destinationId": id }))
}

fn list(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let max = req.max_results(MAX_RESULTS, MAX_RESULTS)?;
    let all: Vec<&PublishingDestination> = destinations_mut(world, caller)?
        .values()
        .collect::<Vec<_>>();
    let (page, next) = page_after(&all, |d| d.id.as_str(), max, req.next_token())?;
    let items: Vec<Value> = page
        .iter()
        .map(|d| {
            json!({
                "destinationId": d.id,
                "destinationType": d.destination_type,
                "status": d.status,
            })
        })
        .collect();
    Ok(with_next_token(json!({ "destinations": items }), next))
}

/// The destination the path names.
fn named<'w>(
    world: &'w mut World,
    caller: &Caller,
    req: &Request,
) -> Result<&'w mut PublishingDestination, ApiError> {
    let id = req.route.destination_id.as_deref().unwrap_or_default();
    destinations_mut(world, caller)?
        .get_mut(id)
        .ok_or_else(|| no_such_destination(id))
}

/// Epoch milliseconds (`Long`): when publishing started to fail, 0 while it does not.
fn failure_start(t: Option<DateTime<Utc>>) -> Value {
    Value::from(t.map(|t| t.timestamp_millis()).unwrap_or(0))
}

fn describe(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let d = named(world, caller, req)?;
    let mut out = json!({
        "destinationId": d.id,
        "destinationType": d.destination_type,
        "status": d.status,
        "publishingFailureStartTimestamp": failure_start(d.failing_since),
        "destinationProperties": {
            "destinationArn": d.destination_arn,
            "kmsKeyArn": d.kms_key_arn,
        },
    });
    if !d.tags.is_empty() {
        out["tags"] = json!(d.tags);
    }
    Ok(out)
}

fn update(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let props = properties(req)?;
    let d = named(world, caller, req)?;
    if let Some((arn, key)) = props {
        if let Some(arn) = arn {
            d.destination_arn = arn;
        }
        if let Some(key) = key {
            d.kms_key_arn = key;
        }
        // GuardDuty verifies the new properties; the sandbox's always verify.
        d.status = "PUBLISHING".into();
        d.failing_since = None;
    }
    Ok(json!({}))
}

fn delete(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let id = named(world, caller, req)?.id.clone();
    destinations_mut(world, caller)?.remove(&id);
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_follow_s3_and_kms_forms() {
        for ok in [
            "arn:aws:s3:::my-findings",
            "arn:aws:s3:::my.findings/guardduty/",
            "arn:aws-us-gov:s3:::b12",
        ] {
            assert!(is_bucket_arn(ok), "{ok}");
        }
        for bad in [
            "arn:aws:s3:::",
            "arn:aws:s3:::My-Bucket",
            "arn:aws:s3:::-lead",
            "arn:aws:s3:us-east-1::bucket",
            "s3://bucket",
            "arn:aws:kms:us-east-1:111111111111:key/abc",
        ] {
            assert!(!is_bucket_arn(bad), "{bad}");
        }
        assert!(is_key_arn(
            "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab"
        ));
        for bad in [
            "arn:aws:kms:eu-west-1:1111:key/abc",
            "arn:aws:kms:eu-west-1:111111111111:alias/abc",
            "arn:aws:kms::111111111111:key/abc",
            "arn:aws:kms:eu-west-1:111111111111:key/",
            "arn:aws:s3:::bucket",
        ] {
            assert!(!is_key_arn(bad), "{bad}");
        }
    }

    #[test]
    fn routes_match_the_model() {
        assert_eq!(
            route("POST", &["detector", "d", "publishingDestination"]),
            Some(("CreatePublishingDestination", "d", None))
        );
        assert_eq!(
            route("DELETE", &["detector", "d", "publishingDestination", "x"]),
            Some(("DeletePublishingDestination", "d", Some("x")))
        );
        assert_eq!(
            route("PUT", &["detector", "d", "publishingDestination"]),
            None
        );
    }
}
