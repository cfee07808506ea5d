//! The free trial: GetRemainingFreeTrialDays.
//!
//! Every feature of a detector starts a 30-day free trial when it is first turned on (the
//! foundational sources when the detector is created), in each account and region separately,
//! once: turning a feature off and on again, or naming it again while on, starts nothing. The
//! org file may set a trial's end instead (`[[free_trial]]`). The answer lists the account's enabled
//! features with the days left (0 once the trial is over), under the feature names of the
//! model's `FreeTrialFeatureResult`, and the deprecated `dataSources` view of the same days.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::{Detector, World};

use super::members::{member_of, NOT_MEMBER};
use super::{account_ids, require_owned, unprocessed, Request};

/// How long a free trial lasts.
pub const TRIAL_DAYS: i64 = 30;

/// Free-trial feature names, from the service model the SDK was generated from.
pub fn features() -> &'static [&'static str] {
    aws_sdk_guardduty::types::FreeTrialFeatureResult::values()
}

/// The detector features whose being on runs `trial_feature` (Runtime Monitoring covers EC2,
/// Fargate and EKS; EKS Runtime Monitoring, its predecessor, EKS only).
pub fn detector_features(trial_feature: &str) -> Vec<&str> {
    match trial_feature {
        "EC2_RUNTIME_MONITORING" | "FARGATE_RUNTIME_MONITORING" => vec!["RUNTIME_MONITORING"],
        "EKS_RUNTIME_MONITORING" => vec!["EKS_RUNTIME_MONITORING", "RUNTIME_MONITORING"],
        other => vec![other],
    }
}

/// When `trial_feature` was turned on in `d` (None: it is off, or not offered in `region`).
fn enabled_since(
    world: &World,
    region: &str,
    d: &Detector,
    trial_feature: &str,
) -> Option<DateTime<Utc>> {
    detector_features(trial_feature)
        .into_iter()
        .filter(|f| super::availability::available(world, region, f))
        .filter_map(|f| d.features.get(f))
        .filter(|s| s.status == "ENABLED")
        .map(|s| s.updated)
        .min()
}

/// Whole days left until `end` (a part-day counts as a day), never below 0.
pub fn days_left(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let secs = (end - now).num_seconds().max(0);
    (secs + 86_399) / 86_400
}

/// The days left of each enabled trial feature of `account` in `region`.
pub fn remaining(
    world: &World,
    account: &str,
    region: &str,
    now: DateTime<Utc>,
) -> Vec<(&'static str, i64)> {
    let Some(d) = world.detector(account, region) else {
        return Vec::new();
    };
    let seeded = world.cell(account, region).map(|c| &c.trial_ends);
    features()
        .iter()
        .filter_map(|f| {
            let since = enabled_since(world, region, d, f)?;
            let end = seeded
                .and_then(|s| s.get(*f).copied())
                .unwrap_or(since + Duration::days(TRIAL_DAYS));
            Some((*f, days_left(end, now)))
        })
        .collect()
}

/// After a call that may turn features on (a detector created or updated, members' detectors
/// updated, members added, which gives them a detector), record the trial of every feature now
/// on that has none yet, so that later updates do not start it again.
pub fn record_starts(world: &mut World, caller: &Caller, req: &Request) {
    let accounts: Vec<String> = match req.route.op {
        "CreateDetector" | "UpdateDetector" => vec![caller.account.clone()],
        "UpdateMemberDetectors" => strings(req.body.get("accountIds")),
        "CreateMembers" => match req.body.get("accountDetails") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|d| d.get("accountId").and_then(Value::as_str))
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        },
        _ => return,
    };
    let region = caller.region.as_str();
    for account in accounts {
        let started: Vec<(&'static str, DateTime<Utc>)> = match world.detector(&account, region) {
            Some(d) => features()
                .iter()
                .filter(|f| {
                    world
                        .cell(&account, region)
                        .is_none_or(|c| !c.trial_ends.contains_key(**f))
                })
                .filter_map(|f| enabled_since(world, region, d, f).map(|t| (*f, t)))
                .collect(),
            None => continue,
        };
        let cell = world.cell_mut(&account, region);
        for (f, since) in started {
            cell.trial_ends
                .insert(f.to_string(), since + Duration::days(TRIAL_DAYS));
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let ids = account_ids(req, "accountIds")?;
    let now = Utc::now();
    let (mut accounts, mut refused) = (Vec::new(), Vec::new());
    for id in ids {
        let reachable = id == caller.account
            || member_of(world, &caller.account, &caller.region, &id).is_some()
                && world.detector(&id, &caller.region).is_some();
        if !reachable {
            refused.push(unprocessed(&id, NOT_MEMBER));
            continue;
        }
        let days = remaining(world, &id, &caller.region, now);
        let features: Vec<Value> = days
            .iter()
            .map(|(f, n)| json!({"name": f, "freeTrialDaysRemaining": n}))
            .collect();
        accounts.push(json!({
            "accountId": id,
            "features": features,
            "dataSources": data_sources(&days),
        }));
    }
    Ok(json!({"accounts": accounts, "unprocessedAccounts": refused}))
}

/// The deprecated `dataSources` view: the same days under the data source members.
fn data_sources(days: &[(&str, i64)]) -> Value {
    let day = |f: &str| {
        days.iter()
            .find(|(n, _)| *n == f)
            .map(|(_, d)| json!({"freeTrialDaysRemaining": d}))
    };
    let mut out = Map::new();
    for (member, feature) in [
        ("cloudTrail", "CLOUD_TRAIL"),
        ("dnsLogs", "DNS_LOGS"),
        ("flowLogs", "FLOW_LOGS"),
        ("s3Logs", "S3_DATA_EVENTS"),
    ] {
        if let Some(v) = day(feature) {
            out.insert(member.into(), v);
        }
    }
    if let Some(v) = day("EKS_AUDIT_LOGS") {
        out.insert("kubernetes".into(), json!({"auditLogs": v}));
    }
    if let Some(v) = day("EBS_MALWARE_PROTECTION") {
        out.insert(
            "malwareProtection".into(),
            json!({"scanEc2InstanceWithFindings": v}),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_day_counts_and_an_ended_trial_is_zero() {
        let now = Utc::now();
        assert_eq!(days_left(now + Duration::days(30), now), 30);
        assert_eq!(days_left(now + Duration::hours(1), now), 1);
        assert_eq!(days_left(now - Duration::days(3), now), 0);
    }

    #[test]
    fn runtime_monitoring_runs_three_trials() {
        assert_eq!(
            detector_features("FARGATE_RUNTIME_MONITORING"),
            ["RUNTIME_MONITORING"]
        );
        assert!(features().contains(&"EC2_RUNTIME_MONITORING"));
    }
}
