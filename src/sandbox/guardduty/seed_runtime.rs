//! The org file's runtime data: `[[coverage]]` (clusters and instances with their agent's
//! health), `[[usage]]` (what GuardDuty cost over the last 30 days), `[[free_trial]]` (days
//! left of a trial) and `[unavailable_features]` (plans a region does not offer). Each block
//! names accounts and regions; regions default to every region where the account has a
//! detector. Checked here, so a bad block names itself.

use chrono::{Duration, Utc};
use serde::Deserialize;

use super::coverage::{CoveredResource, Kind, MANAGEMENT_TYPES, RESOURCE_TYPES, STATUSES};
use super::free_trial;
use super::usage::{self, UsageRecord};
use crate::sandbox::state::World;

/// `[[coverage]]`: resources of one type in some accounts x regions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageSeed {
    pub accounts: Vec<String>,
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// EKS, ECS or EC2.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The cluster name (EKS, ECS) or instance id (EC2); with `count` > 1, `-1`, `-2`, ... is
    /// appended.
    pub name: String,
    #[serde(default = "one")]
    pub count: usize,
    /// HEALTHY (default) or UNHEALTHY.
    #[serde(default = "healthy")]
    pub status: String,
    /// GuardDuty's reason for UNHEALTHY (required then, refused otherwise).
    #[serde(default)]
    pub issue: Option<String>,
    /// The agent's (EC2) or add-on's (EKS) version.
    #[serde(default = "agent_version")]
    pub agent_version: String,
    /// AUTO_MANAGED (default), MANUAL or DISABLED.
    #[serde(default = "auto_managed")]
    pub management: String,
    /// EKS nodes (or ECS container instances): compatible ones, and how many are covered
    /// (default: all when HEALTHY, none when UNHEALTHY).
    #[serde(default = "three")]
    pub nodes: i64,
    #[serde(default)]
    pub covered: Option<i64>,
    /// EC2: the instance type.
    #[serde(default = "instance_type")]
    pub instance_type: String,
    /// EC2: the ECS cluster it runs in.
    #[serde(default)]
    pub cluster_arn: Option<String>,
}

/// `[[usage]]`: a cost line in every account x region named.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageSeed {
    pub accounts: Vec<String>,
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// A usage feature (`S3_DATA_EVENTS`, `EC2_RUNTIME_MONITORING`, ...).
    pub feature: String,
    /// USD over the last 30 days, per account x region.
    pub usd: f64,
    /// The resource the cost is for (bucket, cluster, instance).
    #[serde(default)]
    pub resource: Option<String>,
}

/// `[[free_trial]]`: the days left of a feature's trial (0: over), over the default of 30
/// days from when the feature was enabled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeTrialSeed {
    pub accounts: Vec<String>,
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Free-trial feature names (`S3_DATA_EVENTS`, `EKS_RUNTIME_MONITORING`, ...).
    pub features: Vec<String>,
    pub days: i64,
}

fn one() -> usize {
    1
}
fn three() -> i64 {
    3
}
fn healthy() -> String {
    "HEALTHY".into()
}
fn auto_managed() -> String {
    "AUTO_MANAGED".into()
}
fn agent_version() -> String {
    "1.8.0".into()
}
fn instance_type() -> String {
    "m5.large".into()
}

/// The (account, region) cells of a block: each account must exist; regions given must be
/// known, or default to where the account has a detector.
fn cells(
    world: &World,
    what: &str,
    accounts: &[String],
    regions: Option<&Vec<String>>,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in accounts {
        if !world.accounts.contains_key(a) {
            return Err(format!("{what}: account {a} is not in the organization"));
        }
        match regions {
            Some(list) => {
                for r in list {
                    if !world.regions.contains(r) {
                        return Err(format!("{what}: unknown region {r:?}"));
                    }
                    out.push((a.clone(), r.clone()));
                }
            }
            None => out.extend(
                world
                    .regions
                    .iter()
                    .filter(|r| world.detector(a, r).is_some())
                    .map(|r| (a.clone(), r.clone())),
            ),
        }
    }
    Ok(out)
}

fn one_of(what: &str, field: &str, value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{what}: {field} {value:?} is not one of {allowed:?}"
        ))
    }
}

/// Seed every block into `world` (after its detectors).
pub fn seed(
    world: &mut World,
    coverage: &[CoverageSeed],
    usage: &[UsageSeed],
    trials: &[FreeTrialSeed],
) -> Result<(), String> {
    for c in coverage {
        seed_coverage(world, c)?;
    }
    for u in usage {
        let what = "usage";
        one_of(what, "feature", &u.feature, usage::features())?;
        if !u.usd.is_finite() || u.usd < 0.0 {
            return Err(format!("{what}: usd {} must be 0 or more", u.usd));
        }
        for (a, r) in cells(world, what, &u.accounts, u.regions.as_ref())? {
            world.cell_mut(&a, &r).usage.push(UsageRecord {
                feature: u.feature.clone(),
                resource: u.resource.clone(),
                usd: u.usd,
            });
        }
    }
    let now = Utc::now();
    for t in trials {
        let what = "free_trial";
        for f in &t.features {
            one_of(what, "feature", f, free_trial::features())?;
        }
        if !(0..=free_trial::TRIAL_DAYS).contains(&t.days) {
            return Err(format!(
                "{what}: days {} must be 0 to {}",
                t.days,
                free_trial::TRIAL_DAYS
            ));
        }
        for (a, r) in cells(world, what, &t.accounts, t.regions.as_ref())? {
            let cell = world.cell_mut(&a, &r);
            for f in &t.features {
                cell.trial_ends
                    .insert(f.clone(), now + Duration::days(t.days));
            }
        }
    }
    Ok(())
}

/// `[unavailable_features]`: region -> features GuardDuty does not offer there.
pub fn unavailable(
    world: &mut World,
    spec: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    let what = "unavailable_features";
    for (region, features) in spec {
        if !world.regions.contains(region) {
            return Err(format!("{what}: unknown region {region:?}"));
        }
        for f in features {
            if !super::detectors::configurable(f) {
                return Err(format!(
                    "{what}.{region}: {f:?} is not a feature one can turn on"
                ));
            }
        }
        world
            .unavailable_features
            .entry(region.clone())
            .or_default()
            .extend(features.iter().cloned());
    }
    Ok(())
}

fn seed_coverage(world: &mut World, c: &CoverageSeed) -> Result<(), String> {
    let what = "coverage";
    one_of(what, "type", &c.resource_type, RESOURCE_TYPES)?;
    one_of(what, "status", &c.status, STATUSES)?;
    one_of(what, "management", &c.management, MANAGEMENT_TYPES)?;
    let unhealthy = c.status == "UNHEALTHY";
    match (&c.issue, unhealthy) {
        (None, true) => {
            return Err(format!(
                "{what} {}: an UNHEALTHY resource needs its issue",
                c.name
            ))
        }
        (Some(_), false) => {
            return Err(format!(
                "{what} {}: only an UNHEALTHY resource has an issue",
                c.name
            ))
        }
        _ => {}
    }
    if c.count == 0 || c.nodes < 0 {
        return Err(format!(
            "{what} {}: count and nodes must be positive",
            c.name
        ));
    }
    let covered = c.covered.unwrap_or(if unhealthy { 0 } else { c.nodes });
    if !(0..=c.nodes).contains(&covered) {
        return Err(format!(
            "{what} {}: covered {covered} is not within 0..={}",
            c.name, c.nodes
        ));
    }
    let now = Utc::now();
    for (account, region) in cells(world, what, &c.accounts, c.regions.as_ref())? {
        for i in 1..=c.count {
            let name = if c.count == 1 {
                c.name.clone()
            } else {
                format!("{}-{i}", c.name)
            };
            let (resource_id, kind) = match c.resource_type.as_str() {
                "EKS" => (
                    name.clone(),
                    Kind::Eks {
                        cluster_name: name,
                        covered_nodes: covered,
                        compatible_nodes: c.nodes,
                        addon_version: format!("v{}-eksbuild.1", c.agent_version),
                        addon_status: if unhealthy { "DEGRADED" } else { "ACTIVE" }.into(),
                        management: c.management.clone(),
                    },
                ),
                "ECS" => (
                    format!("arn:aws:ecs:{region}:{account}:cluster/{name}"),
                    Kind::Ecs {
                        cluster_name: name,
                        fargate_management: c.management.clone(),
                        fargate_issues: c.issue.iter().cloned().collect(),
                        covered_instances: covered,
                        compatible_instances: c.nodes,
                    },
                ),
                _ => (
                    name.clone(),
                    Kind::Ec2 {
                        instance_id: name,
                        instance_type: c.instance_type.clone(),
                        cluster_arn: c.cluster_arn.clone(),
                        agent_version: c.agent_version.clone(),
                        management: c.management.clone(),
                    },
                ),
            };
            let cell = world.cell_mut(&account, &region);
            if cell.coverage.iter().any(|r| r.resource_id == resource_id) {
                return Err(format!(
                    "{what}: {resource_id} is listed twice in {account} {region}"
                ));
            }
            cell.coverage.push(CoveredResource {
                resource_id,
                kind,
                status: c.status.clone(),
                issue: c.issue.clone(),
                updated: now,
            });
        }
    }
    Ok(())
}
