//! The report's data. Everything a renderer needs is here, already sorted; renderers add no
//! logic of their own. Serialized as-is for JSON, under [`SCHEMA_VERSION`].

use serde::Serialize;

use super::coverage::Coverage;
use crate::findings::record::FindingRecord;
use crate::findings::suppression::Suppression;

/// Bumped whenever a field is renamed or removed (adding fields keeps it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub scope: Scope,
    pub coverage: Coverage,
    pub totals: Totals,
    /// Counts per account x region, sorted by account then region.
    pub cells: Vec<Cell>,
    /// Current findings per UTC day of their last update, oldest first, every day from the
    /// first to the last present (the report's window).
    pub days: Vec<DayCount>,
    /// Current findings per region by band, in the scope's region order.
    pub regions: Vec<RegionCount>,
    /// The most frequent current finding types, most first (ties by name).
    pub top_types: Vec<TypeCount>,
    /// The highest-severity current findings (severity, then last update, then id).
    pub top_findings: Vec<FindingRecord>,
    pub archived: Archived,
    /// Targets that could not be read: the report is partial when this is not empty.
    pub errors: Vec<String>,
}

/// What was looked at, when, and by whom.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scope {
    /// Who ran it: the caller's ARN.
    pub caller_arn: String,
    /// The account whose detectors were read (or `per account` with `--direct`).
    pub administrator: String,
    pub administrator_how: String,
    /// `administrator` or `direct`.
    pub mode: String,
    pub regions: Vec<String>,
    /// The filter, in words.
    pub filter: String,
    pub started_at: String,
    pub finished_at: String,
}

/// Counts by band: index by `Band::index()` (Low, Medium, High, Critical).
pub type BandCounts = [u64; 4];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Current (not archived) findings by band.
    pub current: BandCounts,
    pub current_total: u64,
    pub archived_total: u64,
    /// Findings with a score below every band (never produced by GuardDuty; counted apart).
    pub unbanded: u64,
    /// Accounts with at least one finding.
    pub accounts: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub account: String,
    pub region: String,
    pub current: BandCounts,
    pub archived: u64,
}

impl Cell {
    pub fn current_total(&self) -> u64 {
        self.current.iter().sum()
    }
}

/// Current findings of one day, by band.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub current: BandCounts,
}

/// Current findings of one region, by band.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegionCount {
    pub region: String,
    pub current: BandCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeCount {
    #[serde(rename = "type")]
    pub finding_type: String,
    pub current: u64,
    pub archived: u64,
    pub max_severity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Archived {
    /// The rule gdorg enforces, stated.
    pub rule: String,
    pub total: u64,
    /// The highest-severity archived findings (bounded like `top_findings`).
    pub listed: Vec<FindingRecord>,
    /// Everything that can hide a finding, and who owns it: the administrator's and the
    /// members' suppression rules, and findings archived in members' own detectors.
    pub suppression: Suppression,
}
