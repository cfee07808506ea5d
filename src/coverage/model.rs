//! The coverage results: one row per covered resource, counts per account x region, and what
//! each region that gave no rows was (no detector, region not enabled, failed, not read).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::outcome::Outcome;

/// Version of the JSON layout. Bump on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// A resource type GuardDuty's runtime agent covers; `--resource-type` parses into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// EKS clusters (the EKS add-on agent).
    Eks,
    /// ECS clusters (Fargate tasks and container instances).
    Ecs,
    /// EC2 instances (the EC2 agent).
    Ec2,
}

impl ResourceKind {
    /// The API's `ResourceType` value.
    pub fn api(self) -> &'static str {
        match self {
            ResourceKind::Eks => "EKS",
            ResourceKind::Ecs => "ECS",
            ResourceKind::Ec2 => "EC2",
        }
    }

    pub fn from_api(s: &str) -> Option<ResourceKind> {
        [ResourceKind::Eks, ResourceKind::Ecs, ResourceKind::Ec2]
            .into_iter()
            .find(|k| k.api() == s)
    }
}

/// A coverage status; `--status` parses into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    Unhealthy,
}

impl Health {
    /// The API's `CoverageStatus` value.
    pub fn api(self) -> &'static str {
        match self {
            Health::Healthy => "HEALTHY",
            Health::Unhealthy => "UNHEALTHY",
        }
    }
}

/// When `coverage` exits 3 ([`Outcome::Findings`]); `--fail-on` parses into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Any unhealthy resource among those shown (the default).
    #[default]
    Unhealthy,
    /// Never: exit 0 whatever is found.
    Never,
}

/// One covered resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub account: String,
    pub region: String,
    pub kind: ResourceKind,
    /// GuardDuty's resource id (cluster name, ECS cluster ARN, instance id).
    pub resource_id: String,
    /// The cluster name or instance id.
    pub name: String,
    pub health: Health,
    /// Why it is unhealthy, in GuardDuty's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// Covered / compatible nodes (EKS) or container instances (ECS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatible: Option<i64>,
    /// The agent's (EC2) or the add-on's (EKS) version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    /// AUTO_MANAGED, MANUAL or DISABLED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management: Option<String>,
    /// RFC 3339, when GuardDuty last updated the status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// Resources of one account in one region, by type and health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub eks: u64,
    pub ecs: u64,
    pub ec2: u64,
    pub healthy: u64,
    pub unhealthy: u64,
}

impl Counts {
    pub fn add(&mut self, r: &Resource) {
        match r.kind {
            ResourceKind::Eks => self.eks += 1,
            ResourceKind::Ecs => self.ecs += 1,
            ResourceKind::Ec2 => self.ec2 += 1,
        }
        match r.health {
            Health::Healthy => self.healthy += 1,
            Health::Unhealthy => self.unhealthy += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.healthy + self.unhealthy
    }
}

/// How one region went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RegionStatus {
    /// Read: GetCoverageStatistics' totals (which count what the listing holds).
    Read {
        by_type: BTreeMap<String, i64>,
        by_status: BTreeMap<String, i64>,
    },
    /// The administrator has no detector here.
    NoDetector,
    /// The administrator's account has not enabled the region.
    RegionNotEnabled,
    /// A call failed: the operation and what AWS said.
    Failed { error: String },
    /// The run was stopped before the region was read.
    NotRead,
}

/// The whole coverage read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub schema_version: u32,
    pub administrator: String,
    /// The filters applied, in words (`all resources`, `EKS, unhealthy`).
    pub filter: String,
    pub regions: BTreeMap<String, RegionStatus>,
    /// Sorted by account, region, type, resource id.
    pub resources: Vec<Resource>,
    /// account -> region -> counts.
    pub by_account_region: BTreeMap<String, BTreeMap<String, Counts>>,
    pub totals: Counts,
}

impl Coverage {
    pub fn new(
        administrator: String,
        filter: String,
        regions: BTreeMap<String, RegionStatus>,
        mut resources: Vec<Resource>,
    ) -> Coverage {
        resources.sort_by(|a, b| {
            (&a.account, &a.region, a.kind, &a.resource_id).cmp(&(
                &b.account,
                &b.region,
                b.kind,
                &b.resource_id,
            ))
        });
        let mut by_account_region: BTreeMap<String, BTreeMap<String, Counts>> = BTreeMap::new();
        let mut totals = Counts::default();
        for r in &resources {
            by_account_region
                .entry(r.account.clone())
                .or_default()
                .entry(r.region.clone())
                .or_default()
                .add(r);
            totals.add(r);
        }
        Coverage {
            schema_version: SCHEMA_VERSION,
            administrator,
            filter,
            regions,
            resources,
            by_account_region,
            totals,
        }
    }

    pub fn unhealthy(&self) -> impl Iterator<Item = &Resource> {
        self.resources
            .iter()
            .filter(|r| r.health == Health::Unhealthy)
    }

    /// Regions whose read failed, with the error.
    pub fn failed(&self) -> impl Iterator<Item = (&String, &String)> {
        self.regions.iter().filter_map(|(r, s)| match s {
            RegionStatus::Failed { error } => Some((r, error)),
            _ => None,
        })
    }

    pub fn not_read(&self) -> usize {
        self.regions
            .values()
            .filter(|s| matches!(s, RegionStatus::NotRead))
            .count()
    }

    /// Exit 3 on unhealthy resources (under `fail_on`), else 2 when a region failed or was
    /// not read, else 0. Unhealthy wins: it is true of the regions read, whatever the others.
    pub fn outcome(&self, fail_on: FailOn) -> Outcome {
        if fail_on == FailOn::Unhealthy && self.unhealthy().next().is_some() {
            Outcome::Findings
        } else {
            Outcome::partial_if(self.failed().next().is_some() || self.not_read() > 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(account: &str, kind: ResourceKind, health: Health) -> Resource {
        Resource {
            account: account.into(),
            region: "us-east-1".into(),
            kind,
            resource_id: format!("{kind:?}"),
            name: format!("{kind:?}"),
            health,
            issue: None,
            covered: None,
            compatible: None,
            agent_version: None,
            management: None,
            updated_at: None,
        }
    }

    #[test]
    fn counts_and_the_exit_outcome() {
        let regions = BTreeMap::from([(
            "us-east-1".to_string(),
            RegionStatus::Read {
                by_type: BTreeMap::new(),
                by_status: BTreeMap::new(),
            },
        )]);
        let c = Coverage::new(
            "111111111111".into(),
            "all resources".into(),
            regions.clone(),
            vec![
                res("2", ResourceKind::Ec2, Health::Healthy),
                res("1", ResourceKind::Eks, Health::Unhealthy),
            ],
        );
        assert_eq!(c.resources[0].account, "1", "sorted by account");
        assert_eq!(c.totals.total(), 2);
        assert_eq!(c.by_account_region["1"]["us-east-1"].unhealthy, 1);
        assert_eq!(c.outcome(FailOn::Unhealthy), Outcome::Findings);
        assert_eq!(c.outcome(FailOn::Never), Outcome::Success);
        let mut failed = regions;
        failed.insert(
            "eu-west-1".into(),
            RegionStatus::Failed {
                error: "boom".into(),
            },
        );
        let c = Coverage::new("1".into(), String::new(), failed, vec![]);
        assert_eq!(c.outcome(FailOn::Unhealthy), Outcome::Partial);
    }
}
