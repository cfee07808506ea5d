//! Runtime Monitoring coverage: ListCoverage and GetCoverageStatistics.
//!
//! Each account's clusters and instances live in its cell (seeded by the org file). A resource
//! is covered only while the account's detector in that region runs Runtime Monitoring
//! (`RUNTIME_MONITORING`, or the older `EKS_RUNTIME_MONITORING` for EKS clusters): without it
//! GuardDuty lists nothing for the account. An administrator sees its own resources and those
//! of its associated, monitored members; a member sees its own.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::World;

use super::{epoch, page, require_owned, with_next_token, Request};

/// `maxResults` of ListCoverage: the model's limit, and the default.
pub const MAX_RESULTS: usize = 50;
/// Most criteria one `filterCriteria` holds (the model's list limit).
const MAX_CRITERIA: usize = 50;

/// The resource types of the model's `ResourceType`.
pub const RESOURCE_TYPES: &[&str] = &["EKS", "ECS", "EC2"];
pub const STATUSES: &[&str] = &["HEALTHY", "UNHEALTHY"];
pub const MANAGEMENT_TYPES: &[&str] = &["AUTO_MANAGED", "MANUAL", "DISABLED"];

const CRITERION_KEYS: &[&str] = &[
    "ACCOUNT_ID",
    "RESOURCE_TYPE",
    "COVERAGE_STATUS",
    "ADDON_VERSION",
    "CLUSTER_NAME",
    "ECS_CLUSTER_NAME",
    "MANAGEMENT_TYPE",
    "EKS_CLUSTER_NAME",
    "AGENT_VERSION",
    "INSTANCE_ID",
    "CLUSTER_ARN",
];

const SORT_KEYS: &[&str] = &[
    "ACCOUNT_ID",
    "COVERAGE_STATUS",
    "ISSUE",
    "ADDON_VERSION",
    "UPDATED_AT",
    "CLUSTER_NAME",
    "EKS_CLUSTER_NAME",
    "ECS_CLUSTER_NAME",
    "INSTANCE_ID",
];

/// One covered resource of an account in a region.
#[derive(Debug, Clone)]
pub struct CoveredResource {
    pub resource_id: String,
    pub kind: Kind,
    /// HEALTHY | UNHEALTHY
    pub status: String,
    /// Why the agent is unhealthy, as GuardDuty words it.
    pub issue: Option<String>,
    pub updated: DateTime<Utc>,
}

/// What the resource is, with the details GuardDuty reports for its type.
#[derive(Debug, Clone)]
pub enum Kind {
    Eks {
        cluster_name: String,
        covered_nodes: i64,
        compatible_nodes: i64,
        addon_version: String,
        addon_status: String,
        management: String,
    },
    Ecs {
        cluster_name: String,
        fargate_management: String,
        /// Fargate tasks' issues.
        fargate_issues: Vec<String>,
        covered_instances: i64,
        compatible_instances: i64,
    },
    Ec2 {
        instance_id: String,
        instance_type: String,
        /// The ECS cluster the instance runs in, if any.
        cluster_arn: Option<String>,
        agent_version: String,
        management: String,
    },
}

impl CoveredResource {
    pub fn resource_type(&self) -> &'static str {
        match self.kind {
            Kind::Eks { .. } => "EKS",
            Kind::Ecs { .. } => "ECS",
            Kind::Ec2 { .. } => "EC2",
        }
    }

    /// The resource's value of a filter or sort key (None: it has no such attribute).
    fn attribute(&self, account: &str, key: &str) -> Option<String> {
        let value = match (key, &self.kind) {
            ("ACCOUNT_ID", _) => account,
            ("RESOURCE_TYPE", _) => self.resource_type(),
            ("COVERAGE_STATUS", _) => &self.status,
            ("ISSUE", _) => self.issue.as_deref().unwrap_or_default(),
            ("UPDATED_AT", _) => return Some(format!("{:020}", self.updated.timestamp_millis())),
            // CLUSTER_NAME is the deprecated name of EKS_CLUSTER_NAME.
            ("CLUSTER_NAME" | "EKS_CLUSTER_NAME", Kind::Eks { cluster_name, .. }) => cluster_name,
            ("ADDON_VERSION", Kind::Eks { addon_version, .. }) => addon_version,
            ("ECS_CLUSTER_NAME", Kind::Ecs { cluster_name, .. }) => cluster_name,
            ("MANAGEMENT_TYPE", Kind::Eks { management, .. })
            | ("MANAGEMENT_TYPE", Kind::Ec2 { management, .. }) => management,
            (
                "MANAGEMENT_TYPE",
                Kind::Ecs {
                    fargate_management, ..
                },
            ) => fargate_management,
            ("AGENT_VERSION", Kind::Ec2 { agent_version, .. }) => agent_version,
            ("INSTANCE_ID", Kind::Ec2 { instance_id, .. }) => instance_id,
            ("CLUSTER_ARN", Kind::Ec2 { cluster_arn, .. }) => cluster_arn.as_deref()?,
            _ => return None,
        };
        Some(value.to_string())
    }

    fn details(&self) -> Value {
        let mut out = Map::new();
        out.insert("resourceType".into(), self.resource_type().into());
        match &self.kind {
            Kind::Eks {
                cluster_name,
                covered_nodes,
                compatible_nodes,
                addon_version,
                addon_status,
                management,
            } => {
                out.insert(
                    "eksClusterDetails".into(),
                    json!({
                        "clusterName": cluster_name,
                        "coveredNodes": covered_nodes,
                        "compatibleNodes": compatible_nodes,
                        "addonDetails": {"addonVersion": addon_version, "addonStatus": addon_status},
                        "managementType": management,
                    }),
                );
            }
            Kind::Ecs {
                cluster_name,
                fargate_management,
                fargate_issues,
                covered_instances,
                compatible_instances,
            } => {
                out.insert(
                    "ecsClusterDetails".into(),
                    json!({
                        "clusterName": cluster_name,
                        "fargateDetails": {
                            "issues": fargate_issues,
                            "managementType": fargate_management,
                        },
                        "containerInstanceDetails": {
                            "coveredContainerInstances": covered_instances,
                            "compatibleContainerInstances": compatible_instances,
                        },
                    }),
                );
            }
            Kind::Ec2 {
                instance_id,
                instance_type,
                cluster_arn,
                agent_version,
                management,
            } => {
                let mut ec2 = json!({
                    "instanceId": instance_id,
                    "instanceType": instance_type,
                    "agentDetails": {"version": agent_version},
                    "managementType": management,
                });
                if let Some(arn) = cluster_arn {
                    ec2["clusterArn"] = arn.as_str().into();
                }
                out.insert("ec2InstanceDetails".into(), ec2);
            }
        }
        Value::Object(out)
    }
}

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.route.op {
        "ListCoverage" => list(world, caller, req),
        "GetCoverageStatistics" => statistics(world, caller, req),
        other => Err(ApiError::internal(format!(
            "{other} is not a coverage operation"
        ))),
    }
}

/// One filter criterion: key, and values that must (or must not) match.
#[derive(Debug)]
struct Criterion {
    key: String,
    equals: Option<Vec<String>>,
    not_equals: Option<Vec<String>>,
}

impl Criterion {
    fn matches(&self, account: &str, r: &CoveredResource) -> bool {
        let value = r.attribute(account, &self.key);
        let is_in = |list: &Vec<String>| value.as_ref().is_some_and(|v| list.contains(v));
        self.equals.as_ref().is_none_or(is_in) && self.not_equals.as_ref().is_none_or(|l| !is_in(l))
    }
}

/// `filterCriteria`, checked as GuardDuty checks it: known keys, a condition with values.
fn criteria(req: &Request) -> Result<Vec<Criterion>, ApiError> {
    let Some(fc) = req.body.get("filterCriteria").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let list = match fc.get("filterCriterion") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(l)) if l.len() <= MAX_CRITERIA => l,
        Some(_) => return Err(ApiError::invalid_param("filterCriteria.filterCriterion")),
    };
    list.iter()
        .map(|c| {
            let key = c
                .get("criterionKey")
                .and_then(Value::as_str)
                .filter(|k| CRITERION_KEYS.contains(k))
                .ok_or_else(|| ApiError::invalid_param("filterCriterion.criterionKey"))?;
            let cond = c
                .get("filterCondition")
                .filter(|v| v.is_object())
                .ok_or_else(|| ApiError::invalid_param("filterCriterion.filterCondition"))?;
            let values = |name: &str| -> Result<Option<Vec<String>>, ApiError> {
                match cond.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Array(items)) if !items.is_empty() => items
                        .iter()
                        .map(|v| v.as_str().map(String::from))
                        .collect::<Option<Vec<_>>>()
                        .map(Some)
                        .ok_or_else(|| ApiError::invalid_param(&format!("filterCondition.{name}"))),
                    Some(_) => Err(ApiError::invalid_param(&format!("filterCondition.{name}"))),
                }
            };
            let (equals, not_equals) = (values("equals")?, values("notEquals")?);
            if equals.is_none() && not_equals.is_none() {
                return Err(ApiError::invalid_param("filterCriterion.filterCondition"));
            }
            Ok(Criterion {
                key: key.to_string(),
                equals,
                not_equals,
            })
        })
        .collect()
}

/// `sortCriteria`: the key (None: GuardDuty's own order) and whether descending.
fn sort(req: &Request) -> Result<(Option<&str>, bool), ApiError> {
    let Some(sc) = req.body.get("sortCriteria").filter(|v| !v.is_null()) else {
        return Ok((None, false));
    };
    let key = match sc.get("attributeName") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .filter(|k| SORT_KEYS.contains(k))
                .ok_or_else(|| ApiError::invalid_param("sortCriteria.attributeName"))?,
        ),
    };
    let desc = match sc.get("orderBy") {
        None | Some(Value::Null) => false,
        Some(v) => match v.as_str() {
            Some("ASC") => false,
            Some("DESC") => true,
            _ => return Err(ApiError::invalid_param("sortCriteria.orderBy")),
        },
    };
    Ok((key, desc))
}

/// Whether the account's detector in `region` runs the agent that covers `r` (a suspended
/// detector monitors nothing).
fn monitored(world: &World, account: &str, region: &str, r: &CoveredResource) -> bool {
    let Some(d) = world.detector(account, region).filter(|d| d.enabled) else {
        return false;
    };
    let on = |f: &str| d.features.get(f).is_some_and(|s| s.status == "ENABLED");
    on("RUNTIME_MONITORING") || (r.resource_type() == "EKS" && on("EKS_RUNTIME_MONITORING"))
}

/// Every resource the caller sees that matches the criteria: (account, detector id, resource).
fn visible<'w>(
    world: &'w World,
    caller: &Caller,
    criteria: &[Criterion],
) -> Vec<(String, String, &'w CoveredResource)> {
    let region = caller.region.as_str();
    let mut out = Vec::new();
    for account in world.visible_accounts(&caller.account, region) {
        let (Some(cell), Some(det)) = (
            world.cell(&account, region),
            world.detector(&account, region),
        ) else {
            continue;
        };
        for r in &cell.coverage {
            if monitored(world, &account, region, r)
                && criteria.iter().all(|c| c.matches(&account, r))
            {
                out.push((account.clone(), det.id.clone(), r));
            }
        }
    }
    out
}

fn list(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let max = req.max_results(MAX_RESULTS, MAX_RESULTS)?;
    let criteria = criteria(req)?;
    let (key, desc) = sort(req)?;
    let mut rows = visible(world, caller, &criteria);
    // A stable base order (account, resource id), so that pages neither skip nor repeat.
    rows.sort_by(|a, b| (&a.0, &a.2.resource_id).cmp(&(&b.0, &b.2.resource_id)));
    if let Some(key) = key {
        rows.sort_by(|a, b| {
            // Resources without the attribute sort last whichever the order.
            let (x, y) = (a.2.attribute(&a.0, key), b.2.attribute(&b.0, key));
            match (x, y) {
                (Some(x), Some(y)) if desc => y.cmp(&x),
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        });
    }
    let (rows, next) = page(&rows, max, req.next_token())?;
    let resources: Vec<Value> = rows
        .iter()
        .map(|(account, det, r)| {
            let mut v = json!({
                "resourceId": r.resource_id,
                "detectorId": det,
                "accountId": account,
                "resourceDetails": r.details(),
                "coverageStatus": r.status,
                "updatedAt": epoch(&r.updated),
            });
            if let Some(issue) = &r.issue {
                v["issue"] = issue.as_str().into();
            }
            v
        })
        .collect();
    Ok(with_next_token(json!({"resources": resources}), next))
}

fn statistics(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let types = match req.body.get("statisticsType") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str()
                    .filter(|t| ["COUNT_BY_RESOURCE_TYPE", "COUNT_BY_COVERAGE_STATUS"].contains(t))
                    .ok_or_else(|| ApiError::invalid_param("statisticsType"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(ApiError::invalid_param("statisticsType")),
    };
    let criteria = criteria(req)?;
    let rows = visible(world, caller, &criteria);
    let count = |field: fn(&CoveredResource) -> &str| {
        let mut m = Map::new();
        for (_, _, r) in &rows {
            let n = m.entry(field(r).to_string()).or_insert(Value::from(0));
            *n = Value::from(n.as_i64().unwrap_or(0) + 1);
        }
        Value::Object(m)
    };
    let mut stats = Map::new();
    if types.contains(&"COUNT_BY_RESOURCE_TYPE") {
        stats.insert(
            "countByResourceType".into(),
            count(CoveredResource::resource_type),
        );
    }
    if types.contains(&"COUNT_BY_COVERAGE_STATUS") {
        stats.insert("countByCoverageStatus".into(), count(|r| r.status.as_str()));
    }
    Ok(json!({"coverageStatistics": stats}))
}
