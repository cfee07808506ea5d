//! The report's coverage section: every account x region in scope with whether GuardDuty was
//! watching it, taken from the audit's model (the same observation `gdorg audit` prints), so an
//! auditor never reads "no findings" for a cell nobody was watching.

use serde::Serialize;

use crate::audit::plans::{self, Counts};
use crate::audit::{Audit, DetectorStatus};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Where the rows come from, in words.
    pub source: String,
    /// Sorted by region, then account.
    pub rows: Vec<CoverageRow>,
    /// Cells monitored, out of those counted (regions an account has not enabled are not).
    pub monitored: usize,
    pub counted: usize,
    /// What the monitored cells were watching: each protection plan's state over them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<PlanWatch>,
}

/// Column headings of [`Coverage::plan_rows`]: monitored cells per plan state.
pub const PLAN_COLUMNS: [&str; 5] = ["Protection plan", "On", "Off", "Not read", "Not offered"];

/// One protection plan over the monitored cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanWatch {
    pub plan: String,
    /// Monitored cells by the plan's state there.
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CoverageRow {
    pub region: String,
    pub account: String,
    /// `monitored`, or why not (`no detector`, `detector suspended`, `not a member`, `no
    /// access`, ...), or `region not enabled` (not counted).
    pub status: String,
    /// GuardDuty was on and reporting to the administrator here: its findings are complete.
    pub monitored: bool,
    /// Counted in coverage (false for a region the account has not enabled).
    pub counted: bool,
}

impl Coverage {
    /// The rows from an audit of the same scope.
    pub fn from_audit(audit: &Audit) -> Coverage {
        let mut rows: Vec<CoverageRow> = audit
            .cells
            .iter()
            .map(|c| CoverageRow {
                region: c.region.clone(),
                account: c.account.clone(),
                status: if c.covered {
                    "monitored".into()
                } else if c.detector == DetectorStatus::RegionNotEnabled {
                    "region not enabled (not counted)".into()
                } else if c.detector == DetectorStatus::AccountSuspended {
                    "account suspended (not counted)".into()
                } else {
                    let why = c.problem().unwrap_or_else(|| "not monitored".into());
                    match &c.reason {
                        Some(r) => format!("not monitored: {why} ({r})"),
                        None => format!("not monitored: {why}"),
                    }
                },
                monitored: c.covered,
                counted: c.counts(),
            })
            .collect();
        rows.extend(audit.skipped.iter().flat_map(|s| {
            audit.regions.iter().map(move |r| CoverageRow {
                region: r.clone(),
                account: s.account.clone(),
                status: format!("not monitored: account {}", s.reason),
                monitored: false,
                counted: true,
            })
        }));
        rows.sort();
        let plans = audit
            .plans
            .plans
            .iter()
            .filter(|p| !p.contains('.'))
            .map(|p| {
                let mut counts = Counts::default();
                for c in audit.cells.iter().filter(|c| c.covered) {
                    if let Some(s) = plans::state(c, p) {
                        counts.add(s);
                    }
                }
                PlanWatch {
                    plan: p.clone(),
                    counts,
                }
            })
            .collect();
        Coverage {
            plans,
            source: format!(
                "gdorg audit of the organization ({} mode, administrator {}): every account x region",
                audit.mode, audit.administrator
            ),
            monitored: rows.iter().filter(|r| r.monitored).count(),
            counted: rows.iter().filter(|r| r.counted).count(),
            rows,
        }
    }

    /// Coverage that could not be gathered, and why.
    pub fn unavailable(why: impl Into<String>) -> Coverage {
        Coverage {
            source: why.into(),
            ..Coverage::default()
        }
    }

    /// The row of one cell.
    pub fn row(&self, account: &str, region: &str) -> Option<&CoverageRow> {
        self.rows
            .binary_search_by(|r| (r.region.as_str(), r.account.as_str()).cmp(&(region, account)))
            .ok()
            .map(|i| &self.rows[i])
    }

    /// The protection plans of the monitored cells as table rows (see [`PLAN_COLUMNS`]).
    pub fn plan_rows(&self) -> Vec<[String; 5]> {
        self.plans
            .iter()
            .map(|p| {
                let c = &p.counts;
                [
                    p.plan.clone(),
                    c.on.to_string(),
                    c.off.to_string(),
                    c.unknown.to_string(),
                    c.not_available.to_string(),
                ]
            })
            .collect()
    }

    /// Cells counted but not monitored: their findings counts are not the whole story.
    pub fn not_monitored(&self) -> impl Iterator<Item = &CoverageRow> {
        self.rows.iter().filter(|r| r.counted && !r.monitored)
    }
}
