//! What GuardDuty costs: GetUsageStatistics.
//!
//! GuardDuty reports usage over the last 30 days (the API takes no period). Each account's cost
//! in a region lives in its cell as records of (usage feature, resource, USD), seeded by the org
//! file. An administrator sums its own usage and that of its associated, monitored members, and
//! may name any of them in `accountIds`; a member sees its own.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::World;

use super::{is_account_id, page, require_owned, with_next_token, Request, MAX_BATCH};

/// Most rows of a page, and of the top lists (the model's `MaxResults`; "top 50").
pub const MAX_RESULTS: usize = 50;
/// The only unit GuardDuty reports.
pub const UNIT: &str = "USD";

const TYPES: &[&str] = &[
    "SUM_BY_ACCOUNT",
    "SUM_BY_DATA_SOURCE",
    "SUM_BY_RESOURCE",
    "TOP_RESOURCES",
    "SUM_BY_FEATURES",
    "TOP_ACCOUNTS_BY_FEATURE",
];

/// One cost line of an account in a region, over the last 30 days.
#[derive(Debug, Clone)]
pub struct UsageRecord {
    /// A `UsageFeature` name.
    pub feature: String,
    /// The resource the cost is for (bucket, cluster, instance), when GuardDuty names one.
    pub resource: Option<String>,
    pub usd: f64,
}

/// Usage feature names, from the service model the SDK was generated from.
pub fn features() -> &'static [&'static str] {
    aws_sdk_guardduty::types::UsageFeature::values()
}

/// The legacy data source a usage feature is reported under (None: only as a feature).
pub fn data_source_of(feature: &str) -> Option<&'static str> {
    Some(match feature {
        "FLOW_LOGS" => "FLOW_LOGS",
        "CLOUD_TRAIL" => "CLOUD_TRAIL",
        "DNS_LOGS" => "DNS_LOGS",
        "S3_DATA_EVENTS" => "S3_LOGS",
        "EKS_AUDIT_LOGS" => "KUBERNETES_AUDIT_LOGS",
        "EBS_MALWARE_PROTECTION" => "EC2_MALWARE_SCAN",
        _ => return None,
    })
}

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.route.op {
        "GetUsageStatistics" => statistics(world, caller, req),
        other => Err(ApiError::internal(format!(
            "{other} is not a usage operation"
        ))),
    }
}

/// A list of strings from `usageCriteria`, each allowed by `valid`.
fn strings(
    criteria: &Value,
    name: &str,
    valid: impl Fn(&str) -> bool,
) -> Result<Option<Vec<String>>, ApiError> {
    match criteria.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().filter(|s| valid(s)).map(String::from))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| ApiError::invalid_param(&format!("usageCriteria.{name}"))),
        Some(_) => Err(ApiError::invalid_param(&format!("usageCriteria.{name}"))),
    }
}

/// One cost line a request matched.
struct Line<'w> {
    account: &'w str,
    feature: &'w str,
    resource: Option<&'w str>,
    usd: f64,
}

fn total(usd: f64) -> Value {
    json!({"amount": format!("{usd:.2}"), "unit": UNIT})
}

/// Sums by key, largest first (ties by key).
fn ranked(sums: BTreeMap<String, f64>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = sums.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn statistics(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let kind = req
        .body
        .get("usageStatisticsType")
        .and_then(Value::as_str)
        .filter(|t| TYPES.contains(t))
        .ok_or_else(|| ApiError::invalid_param("usageStatisticsType"))?;
    let criteria = req
        .body
        .get("usageCriteria")
        .filter(|v| v.is_object())
        .ok_or_else(|| ApiError::invalid_param("usageCriteria"))?;
    match req.body.get("unit") {
        None | Some(Value::Null) => {}
        Some(Value::String(u)) if u == UNIT => {}
        Some(_) => return Err(ApiError::invalid_param("unit")),
    }
    let max = req.max_results(MAX_RESULTS, MAX_RESULTS)?;
    let visible = world.visible_accounts(&caller.account, &caller.region);
    let accounts = match strings(criteria, "accountIds", is_account_id)? {
        None => visible,
        Some(ids) if ids.is_empty() || ids.len() > MAX_BATCH => {
            return Err(ApiError::invalid_param("usageCriteria.accountIds"))
        }
        Some(ids) => {
            if let Some(other) = ids.iter().find(|a| !visible.contains(a)) {
                return Err(ApiError::bad_request(format!(
                    "The request is rejected because the account {other} is not the current \
                     account or one of its associated members."
                )));
            }
            ids
        }
    };
    let mut wanted = strings(criteria, "features", |f| features().contains(&f))?;
    let data_sources = strings(criteria, "dataSources", |d| {
        aws_sdk_guardduty::types::DataSource::values().contains(&d)
    })?;
    if let Some(ds) = data_sources {
        // The deprecated data sources stand for the features reported under them.
        let from_ds = features()
            .iter()
            .filter(|f| data_source_of(f).is_some_and(|d| ds.iter().any(|x| x == d)))
            .map(|f| f.to_string());
        wanted.get_or_insert_with(Vec::new).extend(from_ds);
    }
    let resources = strings(criteria, "resources", |_| true)?;

    // Every matching cost line of the region.
    let mut lines: Vec<Line> = Vec::new();
    for account in &accounts {
        let Some(cell) = world.cell(account, &caller.region) else {
            continue;
        };
        for u in &cell.usage {
            let feature_ok = wanted.as_ref().is_none_or(|w| w.contains(&u.feature));
            let resource_ok = resources
                .as_ref()
                .is_none_or(|rs| u.resource.as_ref().is_some_and(|r| rs.contains(r)));
            if feature_ok && resource_ok {
                lines.push(Line {
                    account,
                    feature: &u.feature,
                    resource: u.resource.as_deref(),
                    usd: u.usd,
                });
            }
        }
    }
    let sum_by = |key: &dyn Fn(&Line) -> Option<String>| {
        let mut sums: BTreeMap<String, f64> = BTreeMap::new();
        for l in &lines {
            if let Some(k) = key(l) {
                *sums.entry(k).or_default() += l.usd;
            }
        }
        sums
    };
    let (member, rows): (&str, Vec<Value>) = match kind {
        "SUM_BY_ACCOUNT" => (
            "sumByAccount",
            sum_by(&|l| Some(l.account.to_string()))
                .into_iter()
                .map(|(a, usd)| json!({"accountId": a, "total": total(usd)}))
                .collect(),
        ),
        "SUM_BY_DATA_SOURCE" => (
            "sumByDataSource",
            sum_by(&|l| data_source_of(l.feature).map(String::from))
                .into_iter()
                .map(|(d, usd)| json!({"dataSource": d, "total": total(usd)}))
                .collect(),
        ),
        "SUM_BY_FEATURES" => (
            "sumByFeature",
            sum_by(&|l| Some(l.feature.to_string()))
                .into_iter()
                .map(|(f, usd)| json!({"feature": f, "total": total(usd)}))
                .collect(),
        ),
        "SUM_BY_RESOURCE" => (
            "sumByResource",
            sum_by(&|l| l.resource.map(String::from))
                .into_iter()
                .map(|(r, usd)| json!({"resource": r, "total": total(usd)}))
                .collect(),
        ),
        "TOP_RESOURCES" => (
            "topResources",
            ranked(sum_by(&|l| l.resource.map(String::from)))
                .into_iter()
                .take(MAX_RESULTS)
                .map(|(r, usd)| json!({"resource": r, "total": total(usd)}))
                .collect(),
        ),
        _ => {
            // TOP_ACCOUNTS_BY_FEATURE: GuardDuty leaves RDS_LOGIN_EVENTS out of it.
            let mut by_feature: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
            for l in lines.iter().filter(|l| l.feature != "RDS_LOGIN_EVENTS") {
                *by_feature
                    .entry(l.feature)
                    .or_default()
                    .entry(l.account.to_string())
                    .or_default() += l.usd;
            }
            (
                "topAccountsByFeature",
                by_feature
                    .into_iter()
                    .map(|(f, sums)| {
                        let top: Vec<Value> = ranked(sums)
                            .into_iter()
                            .take(MAX_RESULTS)
                            .map(|(a, usd)| json!({"accountId": a, "total": total(usd)}))
                            .collect();
                        json!({"feature": f, "accounts": top})
                    })
                    .collect(),
            )
        }
    };
    let (rows, next) = page(&rows, max, req.next_token())?;
    Ok(with_next_token(
        json!({"usageStatistics": {member: rows}}),
        next,
    ))
}
