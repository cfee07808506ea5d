//! Counts per account and per finding type from GetFindingsStatistics, without fetching the
//! findings. Usable only when the filter is exact on the server (see
//! `criteria::Translation::exact`); otherwise counts come from collection.
//!
//! GetFindingsStatistics returns at most 100 groups and has no paging, so one call undercounts
//! an organization of more than 100 accounts. The query is partitioned until every group is
//! counted: each round asks for the largest 100 groups among those not yet counted (the
//! grouping field `notEquals` the keys already seen), and a round that returns fewer than 100
//! groups was the last. Every finding belongs to exactly one group, so the rounds add up to
//! exactly the total, with ceil(groups / 100) calls per region and grouping.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{GroupByType, OrderBy};
use serde::Serialize;

use super::criteria::{self, Criteria};
use crate::aws::admin::{read_through_detector, Here};
use crate::aws::AwsError;
use crate::control::{fan_out, Reporter, Stop};

/// The most groups one call returns (the API's maximum `maxResults`).
pub const MAX_GROUPS: usize = 100;

/// Totals by key, summed over regions, sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub by_account: BTreeMap<String, i64>,
    pub by_type: BTreeMap<String, i64>,
    /// Account -> region -> findings, for the coverage qualification.
    pub by_account_region: BTreeMap<String, BTreeMap<String, i64>>,
    /// Regions without a detector of the administrator.
    pub without_detector: Vec<String>,
    /// Regions the administrator's account has not enabled.
    pub region_not_enabled: Vec<String>,
    /// GetFindingsStatistics calls made.
    pub calls: u64,
    /// Regions never counted because the run was stopped.
    pub not_counted: Vec<String>,
}

impl Counts {
    /// The total over every account.
    pub fn total(&self) -> i64 {
        self.by_account.values().sum()
    }
}

/// A grouping: the API's group-by and the criterion field that excludes its groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Account,
    FindingType,
}

impl Grouping {
    fn api(self) -> GroupByType {
        match self {
            Grouping::Account => GroupByType::Account,
            Grouping::FindingType => GroupByType::FindingType,
        }
    }

    /// The FindingCriteria field whose values are this grouping's keys.
    fn field(self) -> &'static str {
        match self {
            Grouping::Account => "accountId",
            Grouping::FindingType => "type",
        }
    }
}

/// Every group of `grouping` in one region, exact however many there are.
pub async fn groups(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
    criteria: &Criteria,
    grouping: Grouping,
    calls: &mut u64,
) -> Result<BTreeMap<String, i64>, AwsError> {
    let mut out = BTreeMap::new();
    loop {
        let mut round = criteria.clone();
        if !out.is_empty() {
            let cond = round.entry(grouping.field().to_string()).or_default();
            cond.not_equals.extend(out.keys().cloned());
            cond.not_equals.sort();
            cond.not_equals.dedup();
        }
        *calls += 1;
        let got = gd
            .get_findings_statistics()
            .detector_id(detector)
            .set_finding_criteria(criteria::to_sdk(&round))
            .group_by(grouping.api())
            .order_by(OrderBy::Desc)
            .max_results(MAX_GROUPS as i32)
            .send()
            .await
            .map_err(AwsError::from_sdk("GetFindingsStatistics"))?;
        let mut returned = 0usize;
        if let Some(stats) = got.finding_statistics() {
            let pairs: Vec<(String, i64)> = match grouping {
                Grouping::Account => stats
                    .grouped_by_account()
                    .iter()
                    .map(|a| {
                        (
                            a.account_id().unwrap_or_default().to_string(),
                            i64::from(a.total_findings().unwrap_or(0)),
                        )
                    })
                    .collect(),
                Grouping::FindingType => stats
                    .grouped_by_finding_type()
                    .iter()
                    .map(|t| {
                        (
                            t.finding_type().unwrap_or_default().to_string(),
                            i64::from(t.total_findings().unwrap_or(0)),
                        )
                    })
                    .collect(),
            };
            returned = pairs.len();
            for (k, n) in pairs {
                // A key seen again would mean the exclusion was ignored: stop rather than
                // count it twice or loop.
                if out.insert(k.clone(), n).is_some() {
                    return Err(AwsError {
                        operation: "GetFindingsStatistics",
                        code: "InconsistentGroups".into(),
                        message: format!(
                            "group {k:?} came back although excluded; counts would be wrong"
                        ),
                    });
                }
            }
        }
        if returned < MAX_GROUPS {
            return Ok(out);
        }
    }
}

/// Findings per UTC day (of their last update) in one region, exact however many days: a
/// DATE query has no key to exclude, so a range answered with the full 100 groups is split in
/// two halves of `updatedAt` and each half asked again.
pub async fn days(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
    criteria: &Criteria,
    calls: &mut u64,
) -> Result<BTreeMap<chrono::NaiveDate, i64>, AwsError> {
    const DAY_MS: i64 = 86_400_000;
    let since = criteria
        .get("updatedAt")
        .and_then(|c| c.greater_than_or_equal)
        .unwrap_or(0);
    let until = chrono::Utc::now().timestamp_millis() + DAY_MS;
    let mut out = BTreeMap::new();
    // Whole days, so that no day is split between two ranges.
    let mut todo = vec![(since.div_euclid(DAY_MS), until.div_euclid(DAY_MS) + 1)];
    while let Some((from, to)) = todo.pop() {
        let mut round = criteria.clone();
        let cond = round.entry("updatedAt".to_string()).or_default();
        cond.greater_than_or_equal = Some(from * DAY_MS);
        cond.less_than = Some(to * DAY_MS);
        *calls += 1;
        let got = gd
            .get_findings_statistics()
            .detector_id(detector)
            .set_finding_criteria(criteria::to_sdk(&round))
            .group_by(GroupByType::Date)
            .order_by(OrderBy::Desc)
            .max_results(MAX_GROUPS as i32)
            .send()
            .await
            .map_err(AwsError::from_sdk("GetFindingsStatistics"))?;
        let rows = got
            .finding_statistics()
            .map(|s| s.grouped_by_date())
            .unwrap_or_default();
        if rows.len() >= MAX_GROUPS && to - from > 1 {
            let mid = from + (to - from) / 2;
            todo.push((from, mid));
            todo.push((mid, to));
            continue;
        }
        for row in rows {
            let day = row
                .date()
                .and_then(|d| chrono::DateTime::from_timestamp(d.secs(), 0))
                .map(|t| t.date_naive());
            if let Some(day) = day {
                *out.entry(day).or_default() += i64::from(row.total_findings().unwrap_or(0));
            }
        }
    }
    Ok(out)
}

/// `criteria` narrowed to findings of `band` (intersected with any severity range it has);
/// `None` when nothing of the band can match.
pub fn in_band(criteria: &Criteria, band: super::severity::Band) -> Option<Criteria> {
    let (lo, hi) = band.bounds();
    in_severity(criteria, lo, hi)
}

/// `criteria` narrowed to severities in `lo..hi` (`hi` None: no upper bound); `None` when the
/// range is empty.
pub fn in_severity(criteria: &Criteria, lo: i64, hi: Option<i64>) -> Option<Criteria> {
    let mut out = criteria.clone();
    let cond = out.entry("severity".to_string()).or_default();
    let lo = cond.greater_than_or_equal.map_or(lo, |x| x.max(lo));
    cond.greater_than_or_equal = Some(lo);
    cond.less_than = match (cond.less_than, hi) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let empty =
        cond.less_than.is_some_and(|h| h <= lo) || cond.less_than_or_equal.is_some_and(|h| h < lo);
    (!empty).then_some(out)
}

/// Count the findings matching `criteria` in every region (`concurrency` regions at once),
/// grouped by account and by type. A failed region fails the count: a count with a region
/// missing would be wrong, not partial.
pub async fn count(
    config: &aws_config::SdkConfig,
    regions: &[String],
    criteria: &Criteria,
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Result<Counts, (String, AwsError)> {
    let done = fan_out(
        regions.to_vec(),
        concurrency,
        "count",
        reporter,
        stop,
        |region| async move {
            let r = count_region(config, &region, criteria).await;
            (region, r)
        },
    )
    .await;
    let mut out = Counts::default();
    let mut counted = std::collections::BTreeSet::new();
    for (region, r) in done.results {
        counted.insert(region.clone());
        match r {
            Ok(Here::RegionNotEnabled) => out.region_not_enabled.push(region),
            Ok(Here::NoDetector) => out.without_detector.push(region),
            Ok(Here::Detector(RegionCounts {
                accounts,
                types,
                calls,
            })) => {
                out.calls += calls;
                for (a, n) in accounts {
                    *out.by_account.entry(a.clone()).or_default() += n;
                    out.by_account_region
                        .entry(a)
                        .or_default()
                        .insert(region.clone(), n);
                }
                for (t, n) in types {
                    *out.by_type.entry(t).or_default() += n;
                }
            }
            Err(e) => return Err((region, e)),
        }
    }
    out.not_counted = regions
        .iter()
        .filter(|r| !counted.contains(*r))
        .cloned()
        .collect();
    out.without_detector.sort();
    out.region_not_enabled.sort();
    Ok(out)
}

/// A region's counts per account and per type.
struct RegionCounts {
    accounts: BTreeMap<String, i64>,
    types: BTreeMap<String, i64>,
    calls: u64,
}

async fn count_region(
    config: &aws_config::SdkConfig,
    region: &str,
    criteria: &Criteria,
) -> Result<Here<RegionCounts>, AwsError> {
    read_through_detector(config, region, async |gd, det| {
        let mut calls = 0;
        let accounts = groups(gd, det, criteria, Grouping::Account, &mut calls).await?;
        let types = groups(gd, det, criteria, Grouping::FindingType, &mut calls).await?;
        Ok(RegionCounts {
            accounts,
            types,
            calls,
        })
    })
    .await
}
