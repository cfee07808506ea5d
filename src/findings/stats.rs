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
use crate::aws::admin::detector;
use crate::aws::{AwsError, ClientFactory};
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
            Ok(Region::NotEnabled) => out.region_not_enabled.push(region),
            Ok(Region::NoDetector) => out.without_detector.push(region),
            Ok(Region::Counted {
                accounts,
                types,
                calls,
            }) => {
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

enum Region {
    NotEnabled,
    NoDetector,
    Counted {
        accounts: BTreeMap<String, i64>,
        types: BTreeMap<String, i64>,
        calls: u64,
    },
}

async fn count_region(
    config: &aws_config::SdkConfig,
    region: &str,
    criteria: &Criteria,
) -> Result<Region, AwsError> {
    let gd = ClientFactory::guardduty(config, region);
    let det = match detector(&gd).await {
        Err(e) if e.is_region_disabled() => return Ok(Region::NotEnabled),
        other => other?,
    };
    let Some(det) = det else {
        return Ok(Region::NoDetector);
    };
    let mut calls = 0;
    let accounts = groups(&gd, &det, criteria, Grouping::Account, &mut calls).await?;
    let types = groups(&gd, &det, criteria, Grouping::FindingType, &mut calls).await?;
    Ok(Region::Counted {
        accounts,
        types,
        calls,
    })
}
