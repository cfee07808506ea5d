//! A finding as an OCSF Detection Finding (class 2004, schema 1.3.0, with the `cloud`
//! profile): what `findings export --format ocsf` writes, one JSON object per line. The mapping
//! is documented field by field in `docs/exports.md`; what OCSF has no place for goes under
//! `unmapped`, so nothing GuardDuty said is lost.

use serde_json::{json, Map, Value};

use super::record::{epoch_ms, FindingRecord};
use super::severity::Band;

/// The OCSF schema version every record states in `metadata.version`.
pub const VERSION: &str = "1.3.0";
pub const CLASS_UID: u32 = 2004;
pub const CATEGORY_UID: u32 = 2;

/// OCSF `activity_id`: 1 Create (GuardDuty has not updated the finding since it made it),
/// 2 Update.
fn activity(r: &FindingRecord) -> (u32, &'static str) {
    if r.created_at == r.updated_at {
        (1, "Create")
    } else {
        (2, "Update")
    }
}

/// GuardDuty's bands onto OCSF `severity_id`: Low 2, Medium 3, High 4, Critical 5; a score
/// outside every band (below 1.0) is 0 Unknown.
fn severity(r: &FindingRecord) -> (u32, &'static str) {
    match r.band() {
        Some(Band::Low) => (2, "Low"),
        Some(Band::Medium) => (3, "Medium"),
        Some(Band::High) => (4, "High"),
        Some(Band::Critical) => (5, "Critical"),
        None => (0, "Unknown"),
    }
}

/// Milliseconds since the epoch of a GuardDuty time, or nothing.
fn ms(t: &str) -> Option<i64> {
    epoch_ms(t)
}

/// Insert `value` when there is one: OCSF leaves out what is unknown rather than nulls it.
fn put(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.insert(key.into(), v);
    }
}

/// The OCSF Detection Finding of `r`.
pub fn detection_finding(r: &FindingRecord) -> Value {
    let (activity_id, activity_name) = activity(r);
    let (severity_id, severity_name) = severity(r);
    // GuardDuty's archive is its suppression: an archived finding was reviewed and set aside.
    let (status_id, status) = if r.archived {
        (3, "Suppressed")
    } else {
        (1, "New")
    };
    let created = ms(&r.created_at);
    let updated = ms(&r.updated_at).or(created).unwrap_or(0);

    let mut info = Map::new();
    info.insert("uid".into(), json!(r.id));
    info.insert("title".into(), json!(r.title));
    info.insert("types".into(), json!([r.finding_type]));
    put(&mut info, "created_time", created.map(Value::from));
    info.insert("modified_time".into(), json!(updated));
    put(
        &mut info,
        "first_seen_time",
        r.first_seen.as_deref().and_then(ms).map(Value::from),
    );
    put(
        &mut info,
        "last_seen_time",
        r.last_seen.as_deref().and_then(ms).map(Value::from),
    );
    info.insert("product_uid".into(), json!("aws-guardduty"));

    let mut resource = Map::new();
    resource.insert("type".into(), json!(r.resource_type));
    if !r.resource_id.is_empty() {
        resource.insert("uid".into(), json!(r.resource_id));
    }
    resource.insert("region".into(), json!(r.region));
    resource.insert("cloud_partition".into(), json!("aws"));

    let mut out = Map::new();
    out.insert("class_uid".into(), json!(CLASS_UID));
    out.insert("class_name".into(), json!("Detection Finding"));
    out.insert("category_uid".into(), json!(CATEGORY_UID));
    out.insert("category_name".into(), json!("Findings"));
    out.insert("activity_id".into(), json!(activity_id));
    out.insert("activity_name".into(), json!(activity_name));
    out.insert("type_uid".into(), json!(CLASS_UID * 100 + activity_id));
    out.insert(
        "type_name".into(),
        json!(format!("Detection Finding: {activity_name}")),
    );
    out.insert("time".into(), json!(updated));
    out.insert("severity_id".into(), json!(severity_id));
    out.insert("severity".into(), json!(severity_name));
    out.insert("status_id".into(), json!(status_id));
    out.insert("status".into(), json!(status));
    out.insert("is_alert".into(), json!(!r.archived));
    out.insert("message".into(), json!(r.title));
    out.insert("count".into(), json!(r.count));
    put(
        &mut out,
        "start_time",
        r.first_seen.as_deref().and_then(ms).map(Value::from),
    );
    put(
        &mut out,
        "end_time",
        r.last_seen.as_deref().and_then(ms).map(Value::from),
    );
    out.insert("finding_info".into(), Value::Object(info));
    out.insert(
        "metadata".into(),
        json!({
            "version": VERSION,
            "profiles": ["cloud"],
            "product": {
                "name": "Amazon GuardDuty",
                "vendor_name": "AWS",
                "feature": {"name": "gdorg", "version": env!("CARGO_PKG_VERSION")},
            },
            "log_provider": "gdorg",
            "event_code": r.finding_type,
            "uid": r.id,
        }),
    );
    out.insert(
        "cloud".into(),
        json!({
            "provider": "AWS",
            "region": r.region,
            "account": {"uid": r.account_id, "type": "AWS Account", "type_id": 10},
        }),
    );
    out.insert("resources".into(), json!([resource]));
    if let Some(e) = evidence(r) {
        out.insert("evidences".into(), json!([e]));
    }
    out.insert("unmapped".into(), unmapped(r));
    Value::Object(out)
}

/// The remote party as an OCSF evidence's `src_endpoint`.
fn evidence(r: &FindingRecord) -> Option<Value> {
    let a = &r.actor;
    if a.ip.is_none() && a.domain.is_none() && a.port.is_none() && a.location.is_none() {
        return None;
    }
    let mut ep = Map::new();
    put(&mut ep, "ip", a.ip.clone().map(Value::from));
    put(&mut ep, "port", a.port.map(Value::from));
    put(&mut ep, "domain", a.domain.clone().map(Value::from));
    put(
        &mut ep,
        "location",
        a.location.clone().map(|l| json!({ "desc": l })),
    );
    put(
        &mut ep,
        "autonomous_system",
        a.organization.clone().map(|o| json!({ "name": o })),
    );
    Some(json!({ "src_endpoint": ep }))
}

/// What GuardDuty says that OCSF 1.3.0 has no attribute for.
fn unmapped(r: &FindingRecord) -> Value {
    let mut m = Map::new();
    m.insert("guardduty_severity".into(), json!(r.severity));
    m.insert("archived".into(), json!(r.archived));
    put(
        &mut m,
        "action_type",
        r.action_type.clone().map(Value::from),
    );
    put(
        &mut m,
        "user_agent",
        r.actor.user_agent.clone().map(Value::from),
    );
    if !r.threat_lists.is_empty() {
        m.insert("threat_lists".into(), json!(r.threat_lists));
    }
    put(&mut m, "feedback", r.feedback.clone().map(Value::from));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::record::tests::record;

    #[test]
    fn maps_severity_status_activity_and_the_cloud() {
        let mut r = record("f1", "111111111111", "eu-west-1", "Recon:EC2/Portscan", 9.2);
        let v = detection_finding(&r);
        assert_eq!(v["class_uid"], 2004);
        assert_eq!(v["type_uid"], 200402);
        assert_eq!(v["severity_id"], 5);
        assert_eq!(v["status_id"], 1);
        assert_eq!(v["metadata"]["version"], VERSION);
        assert_eq!(v["cloud"]["account"]["uid"], "111111111111");
        assert_eq!(v["finding_info"]["uid"], "f1");
        assert_eq!(v["evidences"][0]["src_endpoint"]["port"], 22);
        assert_eq!(v["time"].as_i64(), epoch_ms("2026-11-21T10:00:00.000Z"));
        r.archived = true;
        r.severity = 0.5;
        r.created_at = r.updated_at.clone();
        r.actor = Default::default();
        let v = detection_finding(&r);
        assert_eq!(v["type_uid"], 200401);
        assert_eq!(v["severity_id"], 0);
        assert_eq!(v["status_id"], 3);
        assert_eq!(v["is_alert"], false);
        assert!(v.get("evidences").is_none());
    }
}
