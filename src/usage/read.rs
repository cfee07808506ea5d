//! Reading usage through the administrator: in each region its detector, its associated
//! members (ListMembers), every page of GetUsageStatistics summed by account and by feature,
//! and GetRemainingFreeTrialDays for the administrator and its members, 50 at a time.
//! Regions run `concurrency` at once; a region that fails is reported with its error and the
//! others go on; a stop leaves the regions not yet started as `not read`.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{UsageCriteria, UsageFeature, UsageStatisticType, UsageStatistics};

use super::model::{RegionStatus, RegionUsage, Trial, Usage};
use crate::aws::admin::Administrator;
use crate::aws::admin::{read_through_detector, Here};
use crate::aws::AwsError;
use crate::control::{fan_out, Reporter, Stop};

/// GetUsageStatistics' largest page; GetRemainingFreeTrialDays' largest batch.
const PAGE: i32 = 50;
const BATCH: usize = 50;

/// What to read.
#[derive(Debug, Clone)]
pub struct Options {
    pub regions: Vec<String>,
    /// How many of the most expensive accounts to list.
    pub top: usize,
    /// Regions read at once.
    pub concurrency: usize,
}

/// Read every region of `opts` through `admin`.
pub async fn read(
    admin: &Administrator,
    opts: &Options,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Usage {
    let done = fan_out(
        opts.regions.clone(),
        opts.concurrency,
        "usage",
        reporter,
        stop,
        |region| async move {
            let r = read_region(&admin.config, &admin.account, &region).await;
            (region, r)
        },
    )
    .await;
    let mut regions: BTreeMap<String, RegionStatus> = opts
        .regions
        .iter()
        .map(|r| (r.clone(), RegionStatus::NotRead))
        .collect();
    let mut read = BTreeMap::new();
    for (region, r) in done.results {
        let status = match r {
            Ok(Here::Detector(u)) => {
                read.insert(region.clone(), u);
                RegionStatus::Read
            }
            Ok(Here::NoDetector) => RegionStatus::NoDetector,
            Ok(Here::RegionNotEnabled) => RegionStatus::RegionNotEnabled,
            Err(e) => RegionStatus::Failed {
                error: e.to_string(),
            },
        };
        regions.insert(region, status);
    }
    Usage::new(admin.account.clone(), regions, read, opts.top)
}

async fn read_region(
    config: &aws_config::SdkConfig,
    admin: &str,
    region: &str,
) -> Result<Here<RegionUsage>, AwsError> {
    read_through_detector(config, region, async |gd, det| {
        read_usage(gd, det, admin, region).await
    })
    .await
}

/// The region's costs and free trials, through the administrator's detector `det`.
async fn read_usage(
    gd: &aws_sdk_guardduty::Client,
    det: &str,
    admin: &str,
    region: &str,
) -> Result<RegionUsage, AwsError> {
    let by_account = sums(gd, det, UsageStatisticType::SumByAccount, |s| {
        s.sum_by_account()
            .iter()
            .map(|r| (r.account_id().map(String::from), r.total()))
            .collect()
    })
    .await?;
    let by_feature = sums(gd, det, UsageStatisticType::SumByFeatures, |s| {
        s.sum_by_feature()
            .iter()
            .map(|r| (r.feature().map(|f| f.as_str().to_string()), r.total()))
            .collect()
    })
    .await?;
    let mut accounts = vec![admin.to_string()];
    accounts.extend(associated_members(gd, det).await?);
    let mut trials = Vec::new();
    for chunk in accounts.chunks(BATCH) {
        let out = gd
            .get_remaining_free_trial_days()
            .detector_id(det)
            .set_account_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(AwsError::from_sdk("GetRemainingFreeTrialDays"))?;
        for a in out.accounts() {
            for f in a.features() {
                let (Some(name), Some(days)) = (f.name(), f.free_trial_days_remaining()) else {
                    continue;
                };
                if days > 0 {
                    trials.push(Trial {
                        days_left: days,
                        account: a.account_id().unwrap_or_default().to_string(),
                        region: region.to_string(),
                        feature: name.as_str().to_string(),
                    });
                }
            }
        }
    }
    Ok(RegionUsage {
        by_account,
        by_feature,
        trials,
    })
}

/// Every page of one statistic, as key -> USD. Every usage feature of the model is named in
/// the criteria, so the answer covers them all whatever the service's default.
async fn sums(
    gd: &aws_sdk_guardduty::Client,
    det: &str,
    kind: UsageStatisticType,
    rows: impl Fn(&UsageStatistics) -> Vec<(Option<String>, Option<&aws_sdk_guardduty::types::Total>)>,
) -> Result<BTreeMap<String, f64>, AwsError> {
    let criteria = UsageCriteria::builder()
        .set_features(Some(
            UsageFeature::values()
                .iter()
                .map(|f| UsageFeature::from(*f))
                .collect(),
        ))
        .build();
    let mut out = BTreeMap::new();
    let mut token = None;
    loop {
        let page = gd
            .get_usage_statistics()
            .detector_id(det)
            .usage_statistic_type(kind.clone())
            .usage_criteria(criteria.clone())
            .max_results(PAGE)
            .set_next_token(token)
            .send()
            .await
            .map_err(AwsError::from_sdk("GetUsageStatistics"))?;
        if let Some(s) = page.usage_statistics() {
            for (key, total) in rows(s) {
                let (Some(key), Some(total)) = (key, total) else {
                    continue;
                };
                let usd = amount(total).ok_or_else(|| AwsError {
                    operation: "GetUsageStatistics",
                    code: "UnreadableAmount".into(),
                    message: format!("{key}: amount {:?} {:?}", total.amount(), total.unit()),
                })?;
                *out.entry(key).or_default() += usd;
            }
        }
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(String::from);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// A total in USD (None: not a number, or another unit).
fn amount(t: &aws_sdk_guardduty::types::Total) -> Option<f64> {
    if t.unit().is_some_and(|u| u != "USD") {
        return None;
    }
    t.amount().unwrap_or("0").trim().parse().ok()
}

/// The members associated with the administrator in this region.
async fn associated_members(
    gd: &aws_sdk_guardduty::Client,
    det: &str,
) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = gd
            .list_members()
            .detector_id(det)
            .only_associated("true")
            .max_results(50)
            .set_next_token(token)
            .send()
            .await
            .map_err(AwsError::from_sdk("ListMembers"))?;
        out.extend(
            page.members()
                .iter()
                .filter(|m| m.relationship_status() == Some("Enabled"))
                .filter_map(|m| m.account_id().map(String::from)),
        );
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(String::from);
        if token.is_none() {
            return Ok(out);
        }
    }
}
