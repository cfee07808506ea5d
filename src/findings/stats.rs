//! Counts per account and per finding type from GetFindingsStatistics: one call per region and
//! grouping instead of fetching every finding. Usable only when the filter is exact on the
//! server (see `criteria::Translation::exact`); otherwise counts come from collection.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{GroupByType, OrderBy};
use serde::Serialize;

use super::admin::detector;
use super::criteria::{self, Criteria};
use crate::aws::{AwsError, ClientFactory};

/// The most groups one call returns (the API's maximum page).
const MAX_GROUPS: i32 = 100;

/// Totals by key, summed over regions, sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub by_account: BTreeMap<String, i64>,
    pub by_type: BTreeMap<String, i64>,
    /// Regions without a detector of the administrator.
    pub without_detector: Vec<String>,
}

/// Count the findings matching `criteria` in every region, grouped by account and by type.
pub async fn count(
    config: &aws_config::SdkConfig,
    regions: &[String],
    criteria: &Criteria,
) -> Result<Counts, (String, AwsError)> {
    let mut out = Counts::default();
    let fc = criteria::to_sdk(criteria);
    for region in regions {
        let gd = ClientFactory::guardduty(config, region);
        let err = |e| (region.clone(), e);
        let Some(det) = detector(&gd).await.map_err(err)? else {
            out.without_detector.push(region.clone());
            continue;
        };
        for group in [GroupByType::Account, GroupByType::FindingType] {
            let got = gd
                .get_findings_statistics()
                .detector_id(&det)
                .set_finding_criteria(fc.clone())
                .group_by(group.clone())
                .order_by(OrderBy::Desc)
                .max_results(MAX_GROUPS)
                .send()
                .await
                .map_err(AwsError::from_sdk("GetFindingsStatistics"))
                .map_err(err)?;
            let Some(stats) = got.finding_statistics() else {
                continue;
            };
            for a in stats.grouped_by_account() {
                *out.by_account
                    .entry(a.account_id().unwrap_or_default().to_string())
                    .or_default() += i64::from(a.total_findings().unwrap_or(0));
            }
            for t in stats.grouped_by_finding_type() {
                *out.by_type
                    .entry(t.finding_type().unwrap_or_default().to_string())
                    .or_default() += i64::from(t.total_findings().unwrap_or(0));
            }
        }
    }
    Ok(out)
}
