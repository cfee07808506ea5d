//! GuardDuty detectors: CreateDetector, ListDetectors, GetDetector, UpdateDetector,
//! DeleteDetector, and the detector features (with the legacy `dataSources` view of them).
//!
//! One detector per account per region. A detector's features always list every feature
//! GuardDuty reports; the foundational sources (CloudTrail, DNS logs, flow logs) are always
//! ENABLED, the protection plans are DISABLED unless asked for.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::authz;
use crate::sandbox::error::{ApiError, Protocol};
use crate::sandbox::policy::Request as PolicyRequest;
use crate::sandbox::state::{Detector, FeatureState, Role, World, GUARDDUTY_PRINCIPAL};

use super::{epoch, iso, not_owned, opt_bool, opt_str, page, with_next_token, Request};

/// Features GuardDuty reports on a detector, with the additional configurations each one has.
/// The names are the service model's (`DetectorFeatureResult`, from the SDK crate's copy of
/// the model), so the sandbox learns a new protection plan when the SDK is updated; only which
/// additional configurations belong to which feature is not in the model, and is listed here.
pub static FEATURES: std::sync::LazyLock<Vec<(&'static str, &'static [&'static str])>> =
    std::sync::LazyLock::new(|| {
        aws_sdk_guardduty::types::DetectorFeatureResult::values()
            .iter()
            .map(|name| (*name, additional_configurations(name)))
            .collect()
    });

/// The additional configurations of a feature (the GuardDuty API reference's pairing).
fn additional_configurations(feature: &str) -> &'static [&'static str] {
    match feature {
        "EKS_RUNTIME_MONITORING" => &["EKS_ADDON_MANAGEMENT"],
        "RUNTIME_MONITORING" => &[
            "EKS_ADDON_MANAGEMENT",
            "ECS_FARGATE_AGENT_MANAGEMENT",
            "EC2_AGENT_MANAGEMENT",
        ],
        _ => &[],
    }
}

/// Foundational data sources: always on, and not a feature a caller can configure.
pub const FOUNDATIONAL: &[&str] = &["CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS"];

pub const FREQUENCIES: &[&str] = &["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"];
const DEFAULT_FREQUENCY: &str = "SIX_HOURS";

/// Additional configurations `feature` accepts (None for a name that is not a feature).
pub fn additional_of(feature: &str) -> Option<&'static [&'static str]> {
    FEATURES
        .iter()
        .find(|(n, _)| *n == feature)
        .map(|(_, a)| *a)
}

/// Whether a caller may configure `feature` (on a detector or organization-wide).
pub fn configurable(feature: &str) -> bool {
    additional_of(feature).is_some() && !FOUNDATIONAL.contains(&feature)
}

/// The feature settings of one request: feature -> (status, additional name -> status).
pub type FeatureRequest = BTreeMap<String, (String, BTreeMap<String, String>)>;

/// Parse a `features` list. `status_key` is `status` (detector: ENABLED|DISABLED) or
/// `autoEnable` (organization: NEW|ALL|NONE).
pub fn parse_features(
    value: Option<&Value>,
    status_key: &str,
    allowed: &[&str],
) -> Result<FeatureRequest, ApiError> {
    let mut out = FeatureRequest::new();
    let items = match value {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::invalid_param("features")),
    };
    for item in items {
        let name = item
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| configurable(n))
            .ok_or_else(|| ApiError::invalid_param("features.name"))?;
        let status = match item.get(status_key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_str()
                    .filter(|s| allowed.contains(s))
                    .ok_or_else(|| ApiError::invalid_param(&format!("features.{status_key}")))?,
            ),
        };
        let mut additional = BTreeMap::new();
        if let Some(list) = item.get("additionalConfiguration") {
            let list = list
                .as_array()
                .ok_or_else(|| ApiError::invalid_param("features.additionalConfiguration"))?;
            let valid = additional_of(name).unwrap_or_default();
            for a in list {
                let aname = a
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| valid.contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid_param("features.additionalConfiguration.name")
                    })?;
                let astatus = a
                    .get(status_key)
                    .and_then(Value::as_str)
                    .filter(|s| allowed.contains(s))
                    .ok_or_else(|| {
                        ApiError::invalid_param(&format!(
                            "features.additionalConfiguration.{status_key}"
                        ))
                    })?;
                additional.insert(aname.to_string(), astatus.to_string());
            }
        }
        if out.contains_key(name) {
            return Err(ApiError::bad_request(format!(
                "The request is rejected because the feature {name} is specified more than once."
            )));
        }
        // A feature named only for its additional configuration keeps its own status.
        out.insert(
            name.to_string(),
            (status.unwrap_or_default().to_string(), additional),
        );
    }
    if out.contains_key("EKS_RUNTIME_MONITORING") && out.contains_key("RUNTIME_MONITORING") {
        return Err(ApiError::bad_request(
            "The request is rejected because both EKS_RUNTIME_MONITORING and RUNTIME_MONITORING \
             are specified. Specify RUNTIME_MONITORING only; it includes EKS Runtime Monitoring.",
        ));
    }
    Ok(out)
}

/// Translate the deprecated `dataSources` input into the features it stands for.
fn legacy_data_sources(value: Option<&Value>) -> Result<FeatureRequest, ApiError> {
    let mut out = FeatureRequest::new();
    let Some(ds) = value.filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    if !ds.is_object() {
        return Err(ApiError::invalid_param("dataSources"));
    }
    let flag = |v: Option<&Value>, what: &str| -> Result<Option<bool>, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid_param(what)),
        }
    };
    let status = |b: bool| if b { "ENABLED" } else { "DISABLED" }.to_string();
    if let Some(b) = flag(ds.pointer("/s3Logs/enable"), "dataSources.s3Logs.enable")? {
        out.insert("S3_DATA_EVENTS".into(), (status(b), BTreeMap::new()));
    }
    if let Some(b) = flag(
        ds.pointer("/kubernetes/auditLogs/enable"),
        "dataSources.kubernetes.auditLogs.enable",
    )? {
        out.insert("EKS_AUDIT_LOGS".into(), (status(b), BTreeMap::new()));
    }
    if let Some(b) = flag(
        ds.pointer("/malwareProtection/scanEc2InstanceWithFindings/ebsVolumes"),
        "dataSources.malwareProtection.scanEc2InstanceWithFindings.ebsVolumes",
    )? {
        out.insert(
            "EBS_MALWARE_PROTECTION".into(),
            (status(b), BTreeMap::new()),
        );
    }
    Ok(out)
}

/// The features of a request: `features` or the deprecated `dataSources`, not both.
pub fn requested_features(req: &Request) -> Result<FeatureRequest, ApiError> {
    let features = req.body.get("features").filter(|v| !v.is_null());
    let data_sources = req.body.get("dataSources").filter(|v| !v.is_null());
    if features.is_some() && data_sources.is_some() {
        return Err(ApiError::bad_request(
            "The request is rejected because both dataSources and features are specified. \
             Specify features only; dataSources is deprecated.",
        ));
    }
    if features.is_some() {
        parse_features(features, "status", &["ENABLED", "DISABLED"])
    } else {
        legacy_data_sources(data_sources)
    }
}

/// A detector with every feature at its default.
pub fn new_detector(id: String, enabled: bool, now: DateTime<Utc>) -> Detector {
    let features = FEATURES
        .iter()
        .map(|(name, additional)| {
            let on = FOUNDATIONAL.contains(name);
            (
                name.to_string(),
                FeatureState {
                    status: if on { "ENABLED" } else { "DISABLED" }.into(),
                    updated: now,
                    additional: additional
                        .iter()
                        .map(|a| (a.to_string(), "DISABLED".to_string()))
                        .collect(),
                },
            )
        })
        .collect();
    Detector {
        id,
        enabled,
        finding_publishing_frequency: DEFAULT_FREQUENCY.into(),
        features,
        tags: BTreeMap::new(),
        created: now,
        updated: now,
        destinations: BTreeMap::new(),
    }
}

/// Apply requested feature settings (an empty status leaves the feature's own status).
pub fn apply_features(detector: &mut Detector, req: &FeatureRequest, now: DateTime<Utc>) {
    for (name, (status, additional)) in req {
        let state = detector
            .features
            .entry(name.clone())
            .or_insert_with(|| FeatureState {
                status: "DISABLED".into(),
                updated: now,
                additional: BTreeMap::new(),
            });
        if !status.is_empty() {
            state.status = status.clone();
        }
        for (a, s) in additional {
            state.additional.insert(a.clone(), s.clone());
        }
        state.updated = now;
    }
}

/// Give `account` an enabled detector in `region` if it has none; returns its id. (GuardDuty
/// does this for accounts an organization's delegated administrator adds as members.)
pub fn ensure_detector(world: &mut World, account: &str, region: &str) -> String {
    if let Some(d) = world.detector(account, region) {
        return d.id.clone();
    }
    add_service_linked_role(world, account);
    let id = world.new_hex_id();
    let detector = new_detector(id.clone(), true, Utc::now());
    world.set_detector(account, region, detector);
    id
}

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.route.op {
        "CreateDetector" => create(world, caller, req),
        "ListDetectors" => list(world, caller, req),
        "GetDetector" => get(world, caller, req),
        "UpdateDetector" => update(world, caller, req),
        "DeleteDetector" => delete(world, caller, req),
        other => Err(ApiError::internal(format!(
            "{other} is not a detector operation"
        ))),
    }
}

fn frequency(req: &Request) -> Result<Option<String>, ApiError> {
    match opt_str(req, "findingPublishingFrequency")? {
        None => Ok(None),
        Some(f) if FREQUENCIES.contains(&f) => Ok(Some(f.to_string())),
        Some(_) => Err(ApiError::invalid_param("findingPublishingFrequency")),
    }
}

/// The name and path of GuardDuty's service-linked role.
pub const SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForAmazonGuardDuty";
pub const SERVICE_LINKED_ROLE_PATH: &str = "/aws-service-role/guardduty.amazonaws.com/";

/// GuardDuty's service-linked role in `account`, added if missing (GuardDuty creates it the
/// first time it is enabled in the account; it is one per account, for every region).
pub fn add_service_linked_role(world: &mut World, account: &str) {
    let Some(a) = world.accounts.get_mut(account) else {
        return;
    };
    if a.iam.roles.contains_key(SERVICE_LINKED_ROLE) {
        return;
    }
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": GUARDDUTY_PRINCIPAL}, "Action": "sts:AssumeRole"}]});
    a.iam.roles.insert(
        SERVICE_LINKED_ROLE.to_string(),
        Role {
            name: SERVICE_LINKED_ROLE.to_string(),
            // Derived, not drawn: the seeded generator's sequence stays as it was.
            id: format!("AROASLRGD{account}"),
            path: SERVICE_LINKED_ROLE_PATH.to_string(),
            arn: service_role(account),
            description: Some(
                "A service-linked role required for Amazon GuardDuty to access your resources."
                    .into(),
            ),
            trust_policy: trust.to_string(),
            max_session_duration: 3600,
            created: Utc::now(),
            attached: BTreeSet::new(),
            inline: BTreeMap::new(),
        },
    );
}

/// Enabling GuardDuty in the caller's own account creates the service-linked role with the
/// caller's permissions the first time: it needs `iam:CreateServiceLinkedRole` on the role,
/// for `iam:AWSServiceName` guardduty.amazonaws.com (GuardDuty user guide, "Service-linked
/// role permissions").
pub fn create_service_linked_role(world: &mut World, caller: &Caller) -> Result<(), ApiError> {
    let exists = world
        .accounts
        .get(&caller.account)
        .is_some_and(|a| a.iam.roles.contains_key(SERVICE_LINKED_ROLE));
    if exists {
        return Ok(());
    }
    let req = PolicyRequest::new("iam:CreateServiceLinkedRole", service_role(&caller.account))
        .with("iam:AWSServiceName", GUARDDUTY_PRINCIPAL);
    authz::authorize(world, caller, Protocol::RestJson, &[req])?;
    add_service_linked_role(world, &caller.account);
    Ok(())
}

fn create(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let enable = opt_bool(req, "enable")?.ok_or_else(|| ApiError::invalid_param("enable"))?;
    let frequency = frequency(req)?;
    // Plans the region does not offer are left out of the new detector rather than refused:
    // the detector reports only what the region has (see `World::set_detector`). Turning one
    // on in an existing detector is refused (`availability::check`).
    let features = requested_features(req)?;
    let tags = req.tags()?;
    if world.detector(&caller.account, &caller.region).is_some() {
        return Err(ApiError::bad_request(
            "The request is rejected because a detector already exists for the current account.",
        ));
    }
    create_service_linked_role(world, caller)?;
    let now = Utc::now();
    let id = world.new_hex_id();
    let mut detector = new_detector(id.clone(), enable, now);
    if let Some(f) = frequency {
        detector.finding_publishing_frequency = f;
    }
    apply_features(&mut detector, &features, now);
    detector.tags = tags;
    world.set_detector(&caller.account, &caller.region, detector);
    Ok(json!({"detectorId": id}))
}

fn list(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let max = req.max_results(50, 50)?;
    let ids: Vec<String> = world
        .detector(&caller.account, &caller.region)
        .map(|d| vec![d.id.clone()])
        .unwrap_or_default();
    let (items, next) = page(&ids, max, req.next_token())?;
    Ok(with_next_token(json!({"detectorIds": items}), next))
}

fn owned<'w>(
    world: &'w mut World,
    caller: &Caller,
    req: &Request,
) -> Result<&'w mut Detector, ApiError> {
    world
        .cell_mut(&caller.account, &caller.region)
        .detector
        .as_mut()
        .filter(|d| d.id == req.detector_id())
        .ok_or_else(not_owned)
}

/// The service-linked role GuardDuty uses in `account`.
pub fn service_role(account: &str) -> String {
    format!(
        "arn:aws:iam::{account}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty"
    )
}

fn get(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let d = owned(world, caller, req)?.clone();
    Ok(detector_json(&d, &caller.account))
}

fn feature_status(d: &Detector, name: &str) -> String {
    d.features
        .get(name)
        .map(|f| f.status.clone())
        .unwrap_or_else(|| "DISABLED".into())
}

/// GetDetector's answer for `d` of `account`.
pub fn detector_json(d: &Detector, account: &str) -> Value {
    let tags: Map<String, Value> = d
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    let mut out = json!({
        "createdAt": iso(&d.created),
        "updatedAt": iso(&d.updated),
        "findingPublishingFrequency": d.finding_publishing_frequency,
        "serviceRole": service_role(account),
        "status": if d.enabled { "ENABLED" } else { "DISABLED" },
    });
    // Assigned rather than written into `json!`, which would copy each value once more.
    out["dataSources"] = data_sources_json(d, account);
    out["features"] = features_json(d);
    out["tags"] = Value::Object(tags);
    out
}

/// The detector's features, as GetDetector and GetMemberDetectors list them.
pub fn features_json(d: &Detector) -> Value {
    FEATURES
        .iter()
        .filter_map(|(name, _)| d.features.get(*name).map(|f| (name, f)))
        .map(|(name, f)| {
            let mut v = json!({"name": name, "status": f.status, "updatedAt": epoch(&f.updated)});
            if !f.additional.is_empty() {
                v["additionalConfiguration"] = f
                    .additional
                    .iter()
                    .map(|(a, s)| json!({"name": a, "status": s, "updatedAt": epoch(&f.updated)}))
                    .collect();
            }
            v
        })
        .collect()
}

/// The detector's deprecated `dataSources` view of its features.
pub fn data_sources_json(d: &Detector, account: &str) -> Value {
    let status = |s: String| json!({"status": s});
    let ebs = feature_status(d, "EBS_MALWARE_PROTECTION");
    let mut ebs_result = json!({"status": ebs});
    if ebs == "DISABLED" {
        ebs_result["reason"] = "Feature is not enabled".into();
    }
    let mut malware = json!({
        "serviceRole": format!("arn:aws:iam::{account}:role/aws-service-role/malware-protection.guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDutyMalwareProtection"),
    });
    malware["scanEc2InstanceWithFindings"] = json!({});
    malware["scanEc2InstanceWithFindings"]["ebsVolumes"] = ebs_result;
    let mut out = serde_json::Map::new();
    out.insert(
        "cloudTrail".into(),
        status(feature_status(d, "CLOUD_TRAIL")),
    );
    out.insert("dnsLogs".into(), status(feature_status(d, "DNS_LOGS")));
    out.insert("flowLogs".into(), status(feature_status(d, "FLOW_LOGS")));
    out.insert("s3Logs".into(), status(feature_status(d, "S3_DATA_EVENTS")));
    let mut kubernetes = serde_json::Map::new();
    kubernetes.insert(
        "auditLogs".into(),
        status(feature_status(d, "EKS_AUDIT_LOGS")),
    );
    out.insert("kubernetes".into(), Value::Object(kubernetes));
    out.insert("malwareProtection".into(), malware);
    Value::Object(out)
}

fn update(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    owned(world, caller, req)?;
    let enable = opt_bool(req, "enable")?;
    let frequency = frequency(req)?;
    let features = requested_features(req)?;
    let now = Utc::now();
    let d = owned(world, caller, req)?;
    if let Some(e) = enable {
        d.enabled = e;
    }
    if let Some(f) = frequency {
        d.finding_publishing_frequency = f;
    }
    apply_features(d, &features, now);
    d.updated = now;
    Ok(json!({}))
}

/// Relationships that keep a detector from being deleted.
const BLOCKING: &[&str] = &[
    "Invited",
    "Enabled",
    "Disabled",
    "EmailVerificationInProgress",
];

fn delete(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let (account, region) = (caller.account.clone(), caller.region.clone());
    owned(world, caller, req)?;
    let cell = world.cell_mut(&account, &region);
    if cell
        .members
        .values()
        .any(|m| BLOCKING.contains(&m.relationship.as_str()))
    {
        return Err(ApiError::bad_request(
            "The request is rejected because the current account cannot delete detector while \
             it has invited or associated members.",
        ));
    }
    cell.detector = None;
    // Members never invited or already gone go with the detector.
    cell.members.clear();
    // The account leaves its administrator, as if it had disassociated itself, and its pending
    // invitations go: it has no detector left to accept them with.
    let link = cell.administrator.take();
    let inviters: Vec<String> = std::mem::take(&mut cell.invitations).into_keys().collect();
    let now = Utc::now();
    for admin in link.map(|l| l.account_id).into_iter().chain(inviters) {
        if admin == account {
            continue;
        }
        if let Some(m) = world.cell_mut(&admin, &region).members.get_mut(&account) {
            m.relationship = "Resigned".into();
            m.monitoring = false;
            m.updated = now;
        }
    }
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_monitoring_twice_is_refused() {
        let v = json!([{"name": "EKS_RUNTIME_MONITORING", "status": "ENABLED"},
                       {"name": "RUNTIME_MONITORING", "status": "ENABLED"}]);
        assert!(parse_features(Some(&v), "status", &["ENABLED", "DISABLED"]).is_err());
    }

    #[test]
    fn features_are_checked_by_name_and_additional_configuration() {
        let ok = json!([{"name": "RUNTIME_MONITORING", "status": "ENABLED",
            "additionalConfiguration": [{"name": "EC2_AGENT_MANAGEMENT", "status": "ENABLED"}]}]);
        let parsed = parse_features(Some(&ok), "status", &["ENABLED", "DISABLED"]).unwrap();
        assert_eq!(
            parsed["RUNTIME_MONITORING"].1["EC2_AGENT_MANAGEMENT"],
            "ENABLED"
        );
        for bad in [
            json!([{"name": "CLOUD_TRAIL", "status": "ENABLED"}]),
            json!([{"name": "S3_DATA_EVENTS", "status": "ON"}]),
            json!([{"name": "S3_DATA_EVENTS", "status": "ENABLED",
                "additionalConfiguration": [{"name": "EC2_AGENT_MANAGEMENT", "status": "ENABLED"}]}]),
        ] {
            assert!(
                parse_features(Some(&bad), "status", &["ENABLED", "DISABLED"]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn new_detectors_have_foundational_sources_on_and_plans_off() {
        let d = new_detector("d".into(), true, Utc::now());
        assert_eq!(d.features["CLOUD_TRAIL"].status, "ENABLED");
        assert_eq!(d.features["S3_DATA_EVENTS"].status, "DISABLED");
        assert_eq!(d.features["RUNTIME_MONITORING"].additional.len(), 3);
    }
}
