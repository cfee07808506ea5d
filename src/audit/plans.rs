//! The protection-plans view: which GuardDuty plans (detector features, and the agent
//! management some of them do) are on where, what new accounts get (auto-enable per plan), and
//! the gaps per plan the organization asked for (`--features`). Pure: built from the cells and
//! the organization rows of the audit.
//!
//! A plan of a cell is `on`, `off`, `n/a` (GuardDuty reports every plan a region offers on a
//! detector, so one it leaves out is not offered there), or unknown (the detector's plans were
//! not read). Cells without a running detector have no plan state: the coverage matrix says
//! why.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{Cell, DetectorStatus, RegionOrg};
use crate::settings::Feature;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanState {
    On,
    Off,
    NotAvailable,
    Unknown,
}

impl PlanState {
    pub fn symbol(self) -> &'static str {
        match self {
            PlanState::On => "●",
            PlanState::Off => "○",
            PlanState::NotAvailable => "–",
            PlanState::Unknown => "?",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PlanState::On => "on",
            PlanState::Off => "off",
            PlanState::NotAvailable => "n/a",
            PlanState::Unknown => "unknown",
        }
    }
}

pub const LEGEND: &str =
    "● on  ○ off  – not offered in the region  ? not read  · no running detector";

/// The state of `plan` in `cell`; None without a running detector.
pub fn state(cell: &Cell, plan: &str) -> Option<PlanState> {
    if cell.detector != DetectorStatus::Enabled {
        return None;
    }
    if cell.features.is_empty() {
        return Some(PlanState::Unknown);
    }
    Some(match cell.features.get(plan) {
        Some(true) => PlanState::On,
        Some(false) => PlanState::Off,
        None => PlanState::NotAvailable,
    })
}

/// Cells by plan state, for one plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub on: usize,
    pub off: usize,
    pub not_available: usize,
    pub unknown: usize,
}

impl Counts {
    pub fn add(&mut self, s: PlanState) {
        match s {
            PlanState::On => self.on += 1,
            PlanState::Off => self.off += 1,
            PlanState::NotAvailable => self.not_available += 1,
            PlanState::Unknown => self.unknown += 1,
        }
    }

    /// `on/offered`, e.g. `12/14`.
    pub fn ratio(&self) -> String {
        format!("{}/{}", self.on, self.on + self.off + self.unknown)
    }
}

/// One plan across the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRow {
    pub plan: String,
    /// Asked for with `--features`: every cell offering it should have it on.
    pub wanted: bool,
    pub counts: Counts,
    /// Wanted and off (or not read) in a covered cell that offers it.
    pub gaps: usize,
}

/// The plans of one region: counts per plan and auto-enable per plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionPlans {
    pub region: String,
    pub counts: BTreeMap<String, Counts>,
    /// Plan -> NEW | ALL | NONE: what accounts joining get (organizations mode, when our
    /// administrator is the delegated one here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auto_enable: BTreeMap<String, String>,
}

/// A cell whose wanted plan is off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanGap {
    pub account: String,
    pub region: String,
    pub plan: String,
    pub state: PlanState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plans {
    /// The plans, in the service model's order: the detector features, then the agent
    /// management they do (`RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT`) as far as observed.
    pub plans: Vec<String>,
    pub summary: Vec<PlanRow>,
    pub regions: Vec<RegionPlans>,
    pub gaps: Vec<PlanGap>,
}

/// The order plans are shown in: as GuardDuty's console lists them. A plan a newer service
/// model adds comes after these, by name.
const ORDER: &[&str] = &[
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "LAMBDA_NETWORK_LOGS",
    "RUNTIME_MONITORING",
    "EKS_RUNTIME_MONITORING",
    "AI_PROTECTION",
    "AI_ANALYST",
];

/// Build the view from the audit's cells and organization rows; `wanted` are the plans asked
/// for (may be empty: then nothing is a plan gap), with their agent management when
/// `runtime_agents`.
pub fn build(
    cells: &[Cell],
    org: &[RegionOrg],
    wanted: &BTreeSet<Feature>,
    runtime_agents: bool,
) -> Plans {
    let mut plans: Vec<String> = Feature::all().map(|f| f.as_str().to_string()).collect();
    let known: BTreeSet<String> = plans.iter().cloned().collect();
    let extra: BTreeSet<&String> = cells
        .iter()
        .flat_map(|c| c.features.keys())
        .filter(|k| k.contains('.') && known.contains(k.split('.').next().unwrap_or_default()))
        .collect();
    plans.extend(extra.into_iter().cloned());
    plans.sort_by_key(|p| {
        let base = p.split('.').next().unwrap_or_default();
        let i = ORDER.iter().position(|f| *f == base).unwrap_or(ORDER.len());
        (i, p.clone())
    });
    let mut wanted_keys: BTreeSet<String> = wanted.iter().map(|f| f.as_str().into()).collect();
    if runtime_agents {
        for f in wanted {
            wanted_keys.extend(f.agents().iter().map(|a| format!("{f}.{a}")));
        }
    }
    let wanted: BTreeSet<&str> = wanted_keys.iter().map(String::as_str).collect();
    let mut summary: Vec<PlanRow> = plans
        .iter()
        .map(|p| PlanRow {
            plan: p.clone(),
            wanted: wanted.contains(p.as_str()),
            counts: Counts::default(),
            gaps: 0,
        })
        .collect();
    let mut regions: BTreeMap<&str, RegionPlans> = BTreeMap::new();
    let mut gaps = Vec::new();
    for c in cells {
        let region = regions
            .entry(c.region.as_str())
            .or_insert_with(|| RegionPlans {
                region: c.region.clone(),
                counts: BTreeMap::new(),
                auto_enable: BTreeMap::new(),
            });
        for row in summary.iter_mut() {
            let Some(s) = state(c, &row.plan) else {
                continue;
            };
            row.counts.add(s);
            region.counts.entry(row.plan.clone()).or_default().add(s);
            if row.wanted && c.covered && matches!(s, PlanState::Off | PlanState::Unknown) {
                row.gaps += 1;
                gaps.push(PlanGap {
                    account: c.account.clone(),
                    region: c.region.clone(),
                    plan: row.plan.clone(),
                    state: s,
                });
            }
        }
    }
    for o in org {
        if let Some(r) = regions.get_mut(o.region.as_str()) {
            r.auto_enable = o.features_auto_enable.clone();
        }
    }
    gaps.sort_by(|a, b| (&a.plan, &a.region, &a.account).cmp(&(&b.plan, &b.region, &b.account)));
    Plans {
        plans,
        summary,
        regions: regions.into_values().collect(),
        gaps,
    }
}

/// One row per cell `keep` selects, named by `label`, with the state of every plan of
/// `plans.plans` there: accounts x plans for one region, or regions x plans for one account.
pub fn grid<'a>(
    plans: &Plans,
    cells: &'a [Cell],
    keep: impl Fn(&Cell) -> bool,
    label: impl Fn(&'a Cell) -> &'a str,
) -> Vec<(&'a str, Vec<Option<PlanState>>)> {
    cells
        .iter()
        .filter(|c| keep(c))
        .map(|c| (label(c), plans.plans.iter().map(|p| state(c, p)).collect()))
        .collect()
}

/// A short column title: `RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT` -> `runtime+eks-addon`.
pub fn short(plan: &str) -> String {
    let word = |s: &str| -> String {
        match s {
            "S3_DATA_EVENTS" => "s3".into(),
            "EKS_AUDIT_LOGS" => "eks-audit".into(),
            "EBS_MALWARE_PROTECTION" => "ebs-malware".into(),
            "RDS_LOGIN_EVENTS" => "rds".into(),
            "EKS_RUNTIME_MONITORING" => "eks-runtime".into(),
            "LAMBDA_NETWORK_LOGS" => "lambda".into(),
            "RUNTIME_MONITORING" => "runtime".into(),
            "AI_PROTECTION" => "ai".into(),
            "AI_ANALYST" => "ai-analyst".into(),
            "EKS_ADDON_MANAGEMENT" => "eks-agent".into(),
            "ECS_FARGATE_AGENT_MANAGEMENT" => "ecs-agent".into(),
            "EC2_AGENT_MANAGEMENT" => "ec2-agent".into(),
            other => other.to_ascii_lowercase().replace('_', "-"),
        }
    };
    match plan.split_once('.') {
        Some((f, a)) => format!("{}+{}", word(f), word(a)),
        None => word(plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::Relationship;

    fn cell(account: &str, region: &str, features: &[(&str, bool)]) -> Cell {
        Cell {
            account: account.into(),
            region: region.into(),
            detector: DetectorStatus::Enabled,
            relationship: Relationship::Enabled,
            other_administrator: None,
            features: features
                .iter()
                .map(|(f, on)| (f.to_string(), *on))
                .collect(),
            frequency: None,
            reason: None,
            covered: true,
            from_administrator: false,
            administers_members: false,
        }
    }

    #[test]
    fn states_counts_and_gaps_per_plan() {
        let cells = vec![
            cell(
                "1",
                "eu-west-1",
                &[("S3_DATA_EVENTS", true), ("RDS_LOGIN_EVENTS", false)],
            ),
            // RDS not offered here: left out of the detector's list.
            cell("1", "ap-east-1", &[("S3_DATA_EVENTS", false)]),
            cell("2", "eu-west-1", &[]),
            Cell {
                detector: DetectorStatus::Missing,
                covered: false,
                ..cell("3", "eu-west-1", &[])
            },
        ];
        let org = vec![RegionOrg {
            region: "eu-west-1".into(),
            delegated_admins: vec![],
            auto_enable: Some("ALL".into()),
            features_auto_enable: [("S3_DATA_EVENTS".to_string(), "NEW".to_string())].into(),
            statistics: None,
            reason: None,
        }];
        let wanted: BTreeSet<Feature> = [Feature::S3DataEvents, Feature::RdsLoginEvents].into();
        let p = build(&cells, &org, &wanted, false);
        assert_eq!(
            state(&cells[1], "RDS_LOGIN_EVENTS"),
            Some(PlanState::NotAvailable)
        );
        assert_eq!(state(&cells[2], "S3_DATA_EVENTS"), Some(PlanState::Unknown));
        assert_eq!(state(&cells[3], "S3_DATA_EVENTS"), None);
        let s3 = p
            .summary
            .iter()
            .find(|r| r.plan == "S3_DATA_EVENTS")
            .unwrap();
        assert_eq!((s3.counts.on, s3.counts.off, s3.counts.unknown), (1, 1, 1));
        assert_eq!(s3.gaps, 2);
        let rds = p
            .summary
            .iter()
            .find(|r| r.plan == "RDS_LOGIN_EVENTS")
            .unwrap();
        assert_eq!(
            (rds.counts.off, rds.counts.not_available, rds.gaps),
            (1, 1, 2)
        );
        assert_eq!(p.regions[1].region, "eu-west-1");
        assert_eq!(p.regions[1].auto_enable["S3_DATA_EVENTS"], "NEW");
        let one_account = grid(&p, &cells, |c| c.account == "1", |c| &c.region);
        assert_eq!(one_account.len(), 2);
        assert_eq!(one_account[1].0, "ap-east-1");
        assert_eq!(
            grid(&p, &cells, |c| c.region == "eu-west-1", |c| &c.account).len(),
            3
        );
        assert_eq!(
            short("RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT"),
            "runtime+eks-agent"
        );
    }
}
