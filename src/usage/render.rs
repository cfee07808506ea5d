//! Usage renderers: the terminal tables, schema-versioned JSON, Markdown, and the rows of the
//! CSV (the command writes them through the crate's formula-neutralising CSV writer). Each
//! takes the one [`Usage`] and is deterministic.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::model::{RegionStatus, Usage};

/// An output format; `--format` parses straight into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    #[value(alias = "md")]
    Markdown,
}

pub fn json(u: &Usage) -> String {
    let mut s = serde_json::to_string_pretty(u).expect("usage serializes");
    s.push('\n');
    s
}

fn usd(v: f64) -> String {
    format!("{v:.2}")
}

/// The sections every text format shows: title, then (heading, header, rows).
type Section = (&'static str, Vec<&'static str>, Vec<Vec<String>>);

fn sections(u: &Usage) -> Vec<Section> {
    let per_account = u
        .per_account
        .iter()
        .map(|(a, v)| {
            let regions = u.by_account_region.get(a).map_or(0, |r| r.len());
            vec![a.clone(), usd(*v), regions.to_string()]
        })
        .collect();
    let per_region = u
        .per_region
        .iter()
        .map(|(r, v)| vec![r.clone(), usd(*v)])
        .collect();
    let per_feature = u
        .per_feature
        .iter()
        .map(|(f, v)| vec![f.clone(), usd(*v)])
        .collect();
    let top = u
        .top_accounts
        .iter()
        .enumerate()
        .map(|(i, t)| vec![(i + 1).to_string(), t.account.clone(), usd(t.usd)])
        .collect();
    // Per account and feature: the fewest days left over its regions, and in how many regions
    // a trial runs (JSON and CSV keep every account x region x feature).
    let mut grouped: BTreeMap<(&str, &str), (i32, usize)> = BTreeMap::new();
    for t in &u.free_trials {
        let e = grouped
            .entry((t.account.as_str(), t.feature.as_str()))
            .or_insert((t.days_left, 0));
        e.0 = e.0.min(t.days_left);
        e.1 += 1;
    }
    let mut trials: Vec<(i32, &str, &str, usize)> = grouped
        .into_iter()
        .map(|((a, f), (d, n))| (d, a, f, n))
        .collect();
    trials.sort();
    let trials = trials
        .into_iter()
        .map(|(d, a, f, n)| vec![a.to_string(), f.to_string(), d.to_string(), n.to_string()])
        .collect();
    vec![
        (
            "per account",
            vec!["account", "USD", "regions"],
            per_account,
        ),
        ("per region", vec!["region", "USD"], per_region),
        ("per feature", vec!["feature", "USD"], per_feature),
        ("top accounts by cost", vec!["#", "account", "USD"], top),
        (
            "free trials still running",
            vec!["account", "feature", "days left (fewest)", "regions"],
            trials,
        ),
    ]
}

fn headline(u: &Usage) -> String {
    format!(
        "GuardDuty usage, {} (administrator {}): {} USD across {} accounts and {} regions",
        u.period,
        u.administrator,
        usd(u.total),
        u.per_account.len(),
        u.per_region.len()
    )
}

/// Regions that gave no usage, with why.
fn region_notes(u: &Usage) -> Vec<String> {
    u.regions
        .iter()
        .filter_map(|(r, s)| match s {
            RegionStatus::Read => None,
            RegionStatus::NoDetector => Some(format!("{r}: no detector of the administrator")),
            RegionStatus::RegionNotEnabled => Some(format!("{r}: region not enabled")),
            RegionStatus::Failed { error } => Some(format!("{r}: FAILED: {error}")),
            RegionStatus::NotRead => Some(format!("{r}: not read (stopped)")),
        })
        .collect()
}

pub fn table(u: &Usage) -> String {
    let mut out = headline(u);
    out.push('\n');
    for (title, header, rows) in sections(u) {
        if rows.is_empty() {
            let _ = writeln!(out, "\n{title}: none");
            continue;
        }
        let mut b = Builder::default();
        b.push_record(header);
        for r in rows {
            b.push_record(r);
        }
        let _ = writeln!(out, "\n{title}:\n{}", b.build().with(Style::psql()));
    }
    let notes = region_notes(u);
    if !notes.is_empty() {
        let _ = writeln!(out, "\nregions without usage data:");
        for n in notes {
            let _ = writeln!(out, "  {n}");
        }
    }
    out
}

use crate::markdown::cell as md;

pub fn markdown(u: &Usage) -> String {
    let mut out = format!("# {}\n", md(&headline(u)));
    for (title, header, rows) in sections(u) {
        let _ = writeln!(out, "\n## {title}\n");
        if rows.is_empty() {
            let _ = writeln!(out, "None.");
            continue;
        }
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(header.len()));
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| md(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    let notes = region_notes(u);
    if !notes.is_empty() {
        let _ = writeln!(out, "\n## Regions without usage data\n");
        for n in notes {
            let _ = writeln!(out, "- {}", md(&n));
        }
    }
    out
}

/// The CSV: a header, then one row per account x region (`account`), feature x region
/// (`feature`) and running trial (`trial`).
pub fn csv_rows(u: &Usage) -> Vec<Vec<String>> {
    let mut rows = vec![[
        "section",
        "account",
        "region",
        "feature",
        "usd",
        "days_left",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for (a, regions) in &u.by_account_region {
        for (r, v) in regions {
            rows.push(vec![
                "account".into(),
                a.clone(),
                r.clone(),
                String::new(),
                usd(*v),
                String::new(),
            ]);
        }
    }
    for (f, regions) in &u.by_feature_region {
        for (r, v) in regions {
            rows.push(vec![
                "feature".into(),
                String::new(),
                r.clone(),
                f.clone(),
                usd(*v),
                String::new(),
            ]);
        }
    }
    for t in &u.free_trials {
        rows.push(vec![
            "trial".into(),
            t.account.clone(),
            t.region.clone(),
            t.feature.clone(),
            String::new(),
            t.days_left.to_string(),
        ]);
    }
    rows
}
