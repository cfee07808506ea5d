//! Coverage renderers: the terminal table, schema-versioned JSON, and the rows of the CSV (the
//! command writes them through the crate's formula-neutralising CSV writer). Each takes the one
//! [`Coverage`] and is deterministic: the same state renders the same bytes.

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::model::{Coverage, Health, RegionStatus, Resource};

/// An output format; `--format` parses straight into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

pub fn json(c: &Coverage) -> String {
    let mut s = serde_json::to_string_pretty(c).expect("coverage serializes");
    s.push('\n');
    s
}

fn nodes(r: &Resource) -> String {
    match (r.covered, r.compatible) {
        (Some(c), Some(t)) => format!("{c}/{t}"),
        _ => String::new(),
    }
}

fn health(h: Health) -> &'static str {
    match h {
        Health::Healthy => "healthy",
        Health::Unhealthy => "UNHEALTHY",
    }
}

pub fn table(c: &Coverage) -> String {
    let mut out = String::new();
    let t = &c.totals;
    let _ = writeln!(
        out,
        "GuardDuty runtime coverage (administrator {}, {}): {} resources in {} accounts: {} healthy, {} unhealthy (EKS {}, ECS {}, EC2 {})",
        c.administrator,
        c.filter,
        t.total(),
        c.by_account_region.len(),
        t.healthy,
        t.unhealthy,
        t.eks,
        t.ecs,
        t.ec2
    );
    if !c.by_account_region.is_empty() {
        let mut b = Builder::default();
        b.push_record([
            "account",
            "region",
            "EKS",
            "ECS",
            "EC2",
            "healthy",
            "unhealthy",
        ]);
        for (account, regions) in &c.by_account_region {
            for (region, n) in regions {
                b.push_record([
                    account.clone(),
                    region.clone(),
                    n.eks.to_string(),
                    n.ecs.to_string(),
                    n.ec2.to_string(),
                    n.healthy.to_string(),
                    n.unhealthy.to_string(),
                ]);
            }
        }
        let _ = writeln!(out, "\n{}", b.build().with(Style::psql()));

        let mut b = Builder::default();
        b.push_record([
            "account", "region", "type", "name", "health", "nodes", "agent", "issue",
        ]);
        for r in &c.resources {
            b.push_record([
                r.account.clone(),
                r.region.clone(),
                r.kind.api().to_string(),
                r.name.clone(),
                health(r.health).to_string(),
                nodes(r),
                r.agent_version.clone().unwrap_or_default(),
                r.issue.clone().unwrap_or_default(),
            ]);
        }
        let _ = writeln!(out, "\n{}", b.build().with(Style::psql()));
    }
    let unhealthy: Vec<&Resource> = c.unhealthy().collect();
    if unhealthy.is_empty() {
        let _ = writeln!(out, "\nno unhealthy resources.");
    } else {
        let _ = writeln!(out, "\nunhealthy ({}):", unhealthy.len());
        for r in unhealthy {
            let _ = writeln!(
                out,
                "  {} {} {} {}: {}",
                r.account,
                r.region,
                r.kind.api(),
                r.name,
                r.issue.as_deref().unwrap_or("(no issue given)")
            );
        }
    }
    let mut notes = Vec::new();
    for (region, s) in &c.regions {
        match s {
            RegionStatus::Read { .. } => {}
            RegionStatus::NoDetector => {
                notes.push(format!("  {region}: no detector of the administrator"))
            }
            RegionStatus::RegionNotEnabled => notes.push(format!("  {region}: region not enabled")),
            RegionStatus::Failed { error } => notes.push(format!("  {region}: FAILED: {error}")),
            RegionStatus::NotRead => notes.push(format!("  {region}: not read (stopped)")),
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nregions without coverage data:");
        for n in notes {
            let _ = writeln!(out, "{n}");
        }
    }
    out
}

/// The CSV: a header, then one row per resource.
pub fn csv_rows(c: &Coverage) -> Vec<Vec<String>> {
    let mut rows = vec![[
        "account",
        "region",
        "type",
        "resource_id",
        "name",
        "health",
        "issue",
        "covered",
        "compatible",
        "agent_version",
        "management",
        "updated_at",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()];
    for r in &c.resources {
        let opt = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        rows.push(vec![
            r.account.clone(),
            r.region.clone(),
            r.kind.api().to_string(),
            r.resource_id.clone(),
            r.name.clone(),
            r.health.api().to_string(),
            r.issue.clone().unwrap_or_default(),
            opt(r.covered),
            opt(r.compatible),
            r.agent_version.clone().unwrap_or_default(),
            r.management.clone().unwrap_or_default(),
            r.updated_at.clone().unwrap_or_default(),
        ]);
    }
    rows
}
