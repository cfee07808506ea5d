//! Streaming aggregation: each finding updates counts and bounded top-N heaps and is dropped,
//! so memory depends on the number of accounts x regions and finding types, never on the
//! number of findings.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use super::coverage::Coverage;
use super::model::*;
use crate::findings::archive::ARCHIVE_RULE;
use crate::findings::record::FindingRecord;
use crate::findings::suppression::Suppression;

/// How many finding types the report lists.
pub const TOP_TYPES: usize = 20;

/// The longest window whose empty days are filled in (GuardDuty keeps findings 90 days);
/// past it only the days with findings are listed.
pub const MAX_WINDOW_DAYS: i64 = 366;

/// A finding ranked for the top-N: higher severity first, then the most recently updated,
/// then the smaller id (so ties break the same way in every run).
struct Ranked(FindingRecord);

impl Ranked {
    fn key(&self) -> (f64, i64, Reverse<&str>) {
        (
            self.0.severity,
            self.0.updated_ms,
            Reverse(self.0.id.as_str()),
        )
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.key(), other.key());
        a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
    }
}

/// The N best, kept in a min-heap so each insert costs log N.
struct TopN {
    n: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl TopN {
    fn new(n: usize) -> TopN {
        TopN {
            n,
            heap: BinaryHeap::with_capacity(n + 1),
        }
    }

    fn offer(&mut self, f: &FindingRecord) {
        if self.n == 0 {
            return;
        }
        if self.heap.len() == self.n {
            let worst = &self.heap.peek().expect("full heap").0;
            let cand = Ranked(f.clone());
            if cand <= *worst {
                return;
            }
            self.heap.pop();
            self.heap.push(Reverse(cand));
        } else {
            self.heap.push(Reverse(Ranked(f.clone())));
        }
    }

    fn into_sorted(self) -> Vec<FindingRecord> {
        let mut v: Vec<Ranked> = self.heap.into_iter().map(|r| r.0).collect();
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter().map(|r| r.0).collect()
    }
}

#[derive(Default)]
struct TypeAgg {
    current: u64,
    archived: u64,
    max_severity: f64,
}

/// Folds findings into a [`Report`].
pub struct Aggregator {
    cells: BTreeMap<(String, String), Cell>,
    types: HashMap<String, TypeAgg>,
    top: TopN,
    archived_top: TopN,
    totals: Totals,
    accounts: BTreeSet<String>,
    days: BTreeMap<chrono::NaiveDate, BandCounts>,
}

impl Aggregator {
    /// Keep the `top_n` highest-severity findings (current, and archived) with details.
    pub fn new(top_n: usize) -> Aggregator {
        Aggregator {
            cells: BTreeMap::new(),
            types: HashMap::new(),
            top: TopN::new(top_n),
            archived_top: TopN::new(top_n),
            totals: Totals::default(),
            accounts: BTreeSet::new(),
            days: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, f: &FindingRecord) {
        if !self.accounts.contains(&f.account_id) {
            self.accounts.insert(f.account_id.clone());
        }
        let key = (f.account_id.clone(), f.region.clone());
        let cell = self.cells.entry(key).or_insert_with(|| Cell {
            account: f.account_id.clone(),
            region: f.region.clone(),
            ..Cell::default()
        });
        let t = match self.types.get_mut(&f.finding_type) {
            Some(t) => t,
            None => self.types.entry(f.finding_type.clone()).or_default(),
        };
        t.max_severity = t.max_severity.max(f.severity);
        if f.archived {
            // Archived findings are counted apart, never as current.
            cell.archived += 1;
            t.archived += 1;
            self.totals.archived_total += 1;
            self.archived_top.offer(f);
            return;
        }
        t.current += 1;
        match f.band() {
            Some(b) => {
                if let Some(day) = utc_day(f.updated_ms) {
                    self.days.entry(day).or_default()[b.index()] += 1;
                }
                cell.current[b.index()] += 1;
                self.totals.current[b.index()] += 1;
                self.totals.current_total += 1;
            }
            None => self.totals.unbanded += 1,
        }
        self.top.offer(f);
    }

    /// Fold in one region's server-side counts and its candidates for the listed findings.
    pub fn add_counts(&mut self, r: super::counted::RegionCounts) {
        for (account, bands) in &r.current {
            let c = cell_of(&mut self.cells, account, &r.region);
            for (sum, n) in c.current.iter_mut().zip(bands) {
                *sum += n;
            }
        }
        for (account, n) in &r.archived {
            cell_of(&mut self.cells, account, &r.region).archived += n;
        }
        for account in r.unbanded.keys() {
            cell_of(&mut self.cells, account, &r.region);
        }
        for (account, bands) in &r.current {
            for (sum, n) in self.totals.current.iter_mut().zip(bands) {
                *sum += n;
            }
            self.totals.current_total += bands.iter().sum::<u64>();
            self.accounts.insert(account.clone());
        }
        self.totals.unbanded += r.unbanded.values().sum::<u64>();
        self.totals.archived_total += r.archived.values().sum::<u64>();
        self.accounts.extend(r.archived.keys().cloned());
        self.accounts.extend(r.unbanded.keys().cloned());
        for (ty, n) in r.types_current {
            self.types.entry(ty).or_default().current += n;
        }
        for (ty, n) in r.types_archived {
            self.types.entry(ty).or_default().archived += n;
        }
        for (day, bands) in r.days {
            for (sum, n) in self.days.entry(day).or_default().iter_mut().zip(bands) {
                *sum += n;
            }
        }
        for f in &r.top {
            self.top.offer(f);
        }
        for f in &r.archived_top {
            self.archived_top.offer(f);
        }
    }

    /// The types the report lists (the most frequent current ones), for their highest severity.
    pub fn listed_types(&self) -> Vec<String> {
        let mut v: Vec<(&String, &TypeAgg)> =
            self.types.iter().filter(|(_, t)| t.current > 0).collect();
        v.sort_by(|a, b| b.1.current.cmp(&a.1.current).then_with(|| a.0.cmp(b.0)));
        v.into_iter()
            .take(TOP_TYPES)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Raise a type's highest severity to `severity` (read from the server per region).
    pub fn raise_max_severity(&mut self, finding_type: &str, severity: f64) {
        if let Some(t) = self.types.get_mut(finding_type) {
            t.max_severity = t.max_severity.max(severity);
        }
    }

    pub fn finish(self, scope: Scope, coverage: Coverage, mut errors: Vec<String>) -> Report {
        let mut totals = self.totals;
        let archived_total = totals.archived_total;
        totals.accounts = self.accounts.into_iter().collect();
        let mut top_types: Vec<TypeCount> = self
            .types
            .into_iter()
            .filter(|(_, t)| t.current > 0)
            .map(|(k, t)| TypeCount {
                finding_type: k,
                current: t.current,
                archived: t.archived,
                max_severity: t.max_severity,
            })
            .collect();
        top_types.sort_by(|a, b| {
            b.current
                .cmp(&a.current)
                .then_with(|| a.finding_type.cmp(&b.finding_type))
        });
        top_types.truncate(TOP_TYPES);
        errors.sort();
        let regions = scope
            .regions
            .iter()
            .map(|region| {
                let mut current = BandCounts::default();
                for c in self.cells.values().filter(|c| &c.region == region) {
                    for (sum, n) in current.iter_mut().zip(c.current) {
                        *sum += n;
                    }
                }
                RegionCount {
                    region: region.clone(),
                    current,
                }
            })
            .collect();
        Report {
            days: window(&self.days),
            regions,
            schema_version: SCHEMA_VERSION,
            scope,
            coverage,
            totals,
            cells: self.cells.into_values().collect(),
            top_types,
            top_findings: self.top.into_sorted(),
            archived: Archived {
                rule: ARCHIVE_RULE.into(),
                total: archived_total,
                listed: self.archived_top.into_sorted(),
                suppression: Suppression::skipped("not checked"),
            },
            errors,
        }
    }
}

fn cell_of<'a>(
    cells: &'a mut BTreeMap<(String, String), Cell>,
    account: &str,
    region: &str,
) -> &'a mut Cell {
    cells
        .entry((account.to_string(), region.to_string()))
        .or_insert_with(|| Cell {
            account: account.to_string(),
            region: region.to_string(),
            ..Cell::default()
        })
}

fn utc_day(ms: i64) -> Option<chrono::NaiveDate> {
    (ms > 0)
        .then(|| chrono::DateTime::from_timestamp_millis(ms))
        .flatten()
        .map(|t| t.date_naive())
}

/// Every day from the first to the last with findings, the empty ones as zeros.
fn window(days: &BTreeMap<chrono::NaiveDate, BandCounts>) -> Vec<DayCount> {
    let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
        return vec![];
    };
    let fill = (*last - *first).num_days() < MAX_WINDOW_DAYS;
    let mut out = Vec::new();
    let mut d = *first;
    while d <= *last {
        match days.get(&d) {
            Some(c) => out.push(DayCount {
                day: d.to_string(),
                current: *c,
            }),
            None if fill => out.push(DayCount {
                day: d.to_string(),
                current: BandCounts::default(),
            }),
            None => {}
        }
        d = match d.succ_opt() {
            Some(n) => n,
            None => break,
        };
        if !fill {
            // Jump straight to the next day present.
            match days.range(d..).next() {
                Some((n, _)) => d = *n,
                None => break,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::record::tests::record;

    #[test]
    fn archived_is_never_current_and_critical_is_its_own_band() {
        let mut agg = Aggregator::new(2);
        agg.add(&record("a", "111111111111", "eu-west-1", "T1", 9.0));
        agg.add(&record("b", "111111111111", "eu-west-1", "T1", 8.9));
        let mut c = record("c", "111111111111", "eu-west-1", "T2", 9.9);
        c.archived = true;
        agg.add(&c);
        agg.add(&record("d", "222222222222", "us-east-1", "T2", 3.0));
        let r = agg.finish(
            super::super::fixture::report().scope,
            Coverage::default(),
            vec![],
        );
        assert_eq!(r.totals.current, [1, 0, 1, 1]);
        assert_eq!(r.totals.current_total, 3);
        assert_eq!(r.totals.archived_total, 1);
        assert_eq!(r.cells[0].current, [0, 0, 1, 1]);
        assert_eq!(r.cells[0].archived, 1);
        let ids: Vec<_> = r.top_findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(r.archived.listed[0].id, "c");
        // T2 has one current and one archived finding; T1 two current.
        assert_eq!(r.top_types[0].finding_type, "T1");
        assert_eq!(r.top_types[1].archived, 1);
    }

    #[test]
    fn top_n_is_bounded_and_deterministic() {
        let mut agg = Aggregator::new(3);
        for i in 0..1000 {
            let sev = 1.0 + (i % 90) as f64 / 10.0;
            agg.add(&record(
                &format!("f{i:04}"),
                "111111111111",
                "eu-west-1",
                "T",
                sev,
            ));
        }
        let r = agg.finish(
            super::super::fixture::report().scope,
            Coverage::default(),
            vec![],
        );
        let got: Vec<_> = r
            .top_findings
            .iter()
            .map(|f| (f.id.as_str(), f.severity))
            .collect();
        // Severity 9.9 is reached by i % 90 == 89; ties broken by the smaller id.
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|(_, s)| (*s - 9.9).abs() < 1e-9));
        assert_eq!(got[0].0, "f0089");
        assert_eq!(got[1].0, "f0179");
    }
}
