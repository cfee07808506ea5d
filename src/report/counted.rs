//! The report's numbers from the server: GetFindingsStatistics counts current findings per
//! account x region x band, archived ones per account, both per type, and current ones per day
//! and band, exact past 100 groups (see `findings::stats`). Only the findings the report lists
//! are fetched: in each region the highest-severity ones, as ListFindings sorts them on the
//! server (`sortCriteria`), then GetFindings. The calls depend on accounts x regions x types,
//! never on the number of findings; `findings export` still reads every finding.
//!
//! Used when the filter is exact on the server (`criteria::Translation::exact`) and findings
//! are read through the administrator; otherwise the report streams every finding.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{OrderBy, SortCriteria};

use super::model::BandCounts;
use crate::aws::admin::{read_through_detector, Here};
use crate::aws::{AwsError, ClientFactory};
use crate::findings::collect;
use crate::findings::criteria::{self, Cond, Criteria};
use crate::findings::record::FindingRecord;
use crate::findings::severity::Band;
use crate::findings::stats::{self, Grouping};

/// ListFindings returns at most 50 ids a page and GetFindings takes at most 50.
const PAGE: usize = 50;

/// One region's counts and its candidates for the listed findings.
#[derive(Debug, Default)]
pub struct RegionCounts {
    pub region: String,
    /// Account -> current findings by band.
    pub current: BTreeMap<String, BandCounts>,
    /// Account -> current findings scored below every band.
    pub unbanded: BTreeMap<String, u64>,
    /// Account -> archived findings.
    pub archived: BTreeMap<String, u64>,
    pub types_current: BTreeMap<String, u64>,
    pub types_archived: BTreeMap<String, u64>,
    /// Day of last update -> current findings by band.
    pub days: BTreeMap<chrono::NaiveDate, BandCounts>,
    /// The region's highest-severity current findings (at most the report's top N).
    pub top: Vec<FindingRecord>,
    /// The region's highest-severity archived findings.
    pub archived_top: Vec<FindingRecord>,
    /// Calls made.
    pub calls: u64,
}

fn with_status(base: &Criteria, archived: bool) -> Criteria {
    let mut c = base.clone();
    c.insert(
        "service.archived".into(),
        Cond {
            equals: vec![archived.to_string()],
            ..Cond::default()
        },
    );
    c
}

fn as_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Count `region` through `config`'s detector there, under `base` (the filter's exact server
/// criteria, without a status), and fetch its `top` highest current and archived findings.
pub async fn read_region(
    config: &aws_config::SdkConfig,
    region: &str,
    base: &Criteria,
    top: usize,
) -> Result<Here<Box<RegionCounts>>, AwsError> {
    read_through_detector(config, region, async |gd, det| {
        count_region(gd, det, region, base, top).await
    })
    .await
}

async fn count_region(
    gd: &aws_sdk_guardduty::Client,
    det: &str,
    region: &str,
    base: &Criteria,
    top: usize,
) -> Result<Box<RegionCounts>, AwsError> {
    let mut r = RegionCounts {
        region: region.to_string(),
        ..RegionCounts::default()
    };
    let current = with_status(base, false);
    let archived = with_status(base, true);
    for band in Band::ALL {
        let Some(c) = stats::in_band(&current, band) else {
            continue;
        };
        for (account, n) in stats::groups(gd, det, &c, Grouping::Account, &mut r.calls).await? {
            r.current.entry(account).or_default()[band.index()] += as_u64(n);
        }
        for (day, n) in stats::days(gd, det, &c, &mut r.calls).await? {
            r.days.entry(day).or_default()[band.index()] += as_u64(n);
        }
    }
    // Below the lowest band: never scored by GuardDuty, but counted apart rather than lost.
    if let Some(c) = stats::in_severity(&current, i64::MIN, Some(Band::Low.bounds().0)) {
        for (account, n) in stats::groups(gd, det, &c, Grouping::Account, &mut r.calls).await? {
            r.unbanded.insert(account, as_u64(n));
        }
    }
    for (account, n) in stats::groups(gd, det, &archived, Grouping::Account, &mut r.calls).await? {
        r.archived.insert(account, as_u64(n));
    }
    for (ty, n) in stats::groups(gd, det, &current, Grouping::FindingType, &mut r.calls).await? {
        r.types_current.insert(ty, as_u64(n));
    }
    for (ty, n) in stats::groups(gd, det, &archived, Grouping::FindingType, &mut r.calls).await? {
        r.types_archived.insert(ty, as_u64(n));
    }
    r.top = highest(gd, det, region, &current, top, &mut r.calls).await?;
    r.archived_top = highest(gd, det, region, &archived, top, &mut r.calls).await?;
    Ok(Box::new(r))
}

/// The `n` highest-severity findings matching `criteria`, sorted by the server, with their
/// details. Findings tied at the cut are those the server lists first.
async fn highest(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
    region: &str,
    criteria: &Criteria,
    n: usize,
    calls: &mut u64,
) -> Result<Vec<FindingRecord>, AwsError> {
    let mut ids: Vec<String> = Vec::new();
    let mut token = None;
    while ids.len() < n {
        *calls += 1;
        let page = gd
            .list_findings()
            .detector_id(detector)
            .set_finding_criteria(criteria::to_sdk(criteria))
            .sort_criteria(
                SortCriteria::builder()
                    .attribute_name("severity")
                    .order_by(OrderBy::Desc)
                    .build(),
            )
            .max_results((n - ids.len()).min(PAGE) as i32)
            .set_next_token(token)
            .send()
            .await
            .map_err(AwsError::from_sdk("ListFindings"))?;
        ids.extend(page.finding_ids().iter().cloned());
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(String::from);
        if token.is_none() || page.finding_ids().is_empty() {
            break;
        }
    }
    ids.truncate(n);
    *calls += ids.len().div_ceil(collect::BATCH) as u64;
    collect::fetch(gd, detector, &ids, region).await
}

/// The highest severity of each of `types` in `region` (current and archived alike), for the
/// report's type table. ListFindings of the types not yet seen, sorted by severity on the
/// server, then GetFindings of that page: the first finding of a type is its highest, and each
/// round sees at least one more type, so a round or a few cover the whole table (each costs the
/// server one search, however many findings there are).
pub async fn max_severities(
    config: &aws_config::SdkConfig,
    region: &str,
    base: &Criteria,
    types: &[String],
) -> Result<(Vec<(String, f64)>, u64), AwsError> {
    let gd = ClientFactory::guardduty(config, region);
    let mut calls = 1;
    let Some(det) = crate::aws::admin::detector(&gd).await? else {
        return Ok((vec![], calls));
    };
    let mut remaining: std::collections::BTreeSet<String> = types.iter().cloned().collect();
    let mut out = Vec::new();
    while !remaining.is_empty() {
        let mut c = base.clone();
        c.insert(
            "type".into(),
            Cond {
                equals: remaining.iter().cloned().collect(),
                ..Cond::default()
            },
        );
        let found = highest(&gd, &det, region, &c, PAGE, &mut calls).await?;
        if found.is_empty() {
            break;
        }
        let mut sorted = found;
        // GetFindings does not keep ListFindings' order: sort again, highest first.
        sorted.sort_by(|a, b| b.severity.total_cmp(&a.severity));
        for f in sorted {
            if remaining.remove(&f.finding_type) {
                out.push((f.finding_type, f.severity));
            }
        }
    }
    Ok((out, calls))
}
