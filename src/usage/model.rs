//! The usage results: USD over GuardDuty's 30-day window per account x region and feature x
//! region, the totals and top accounts built from them, the free trials still running, and
//! what each region that gave nothing was.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::outcome::Outcome;

/// Version of the JSON layout. Bump on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;
/// The period every amount covers: GuardDuty's, the API takes none.
pub const PERIOD: &str = "last 30 days";

/// A free trial still running.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Trial {
    pub days_left: i32,
    pub account: String,
    pub region: String,
    /// A free-trial feature (`S3_DATA_EVENTS`, `EC2_RUNTIME_MONITORING`, ...).
    pub feature: String,
}

/// One of the most expensive accounts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopAccount {
    pub account: String,
    pub usd: f64,
}

/// How one region went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RegionStatus {
    Read,
    NoDetector,
    RegionNotEnabled,
    Failed { error: String },
    NotRead,
}

/// One region's answers, as [`super::read`] gathers them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionUsage {
    pub by_account: BTreeMap<String, f64>,
    pub by_feature: BTreeMap<String, f64>,
    pub trials: Vec<Trial>,
}

/// The whole usage read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Usage {
    pub schema_version: u32,
    pub administrator: String,
    pub period: &'static str,
    pub unit: &'static str,
    pub regions: BTreeMap<String, RegionStatus>,
    /// account -> region -> USD.
    pub by_account_region: BTreeMap<String, BTreeMap<String, f64>>,
    /// feature -> region -> USD.
    pub by_feature_region: BTreeMap<String, BTreeMap<String, f64>>,
    pub per_account: BTreeMap<String, f64>,
    pub per_region: BTreeMap<String, f64>,
    pub per_feature: BTreeMap<String, f64>,
    pub total: f64,
    /// The most expensive accounts, most expensive first (ties by account).
    pub top_accounts: Vec<TopAccount>,
    /// Trials with days left, fewest days first.
    pub free_trials: Vec<Trial>,
}

/// Amounts are kept to the micro-dollar: sums of many cents stay exact in what is shown.
fn round(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}

impl Usage {
    pub fn new(
        administrator: String,
        regions: BTreeMap<String, RegionStatus>,
        read: BTreeMap<String, RegionUsage>,
        top_n: usize,
    ) -> Usage {
        let mut u = Usage {
            schema_version: SCHEMA_VERSION,
            administrator,
            period: PERIOD,
            unit: "USD",
            regions,
            by_account_region: BTreeMap::new(),
            by_feature_region: BTreeMap::new(),
            per_account: BTreeMap::new(),
            per_region: BTreeMap::new(),
            per_feature: BTreeMap::new(),
            total: 0.0,
            top_accounts: Vec::new(),
            free_trials: Vec::new(),
        };
        for (region, r) in read {
            for (account, usd) in r.by_account {
                u.by_account_region
                    .entry(account.clone())
                    .or_default()
                    .insert(region.clone(), usd);
                *u.per_account.entry(account).or_default() += usd;
                *u.per_region.entry(region.clone()).or_default() += usd;
                u.total += usd;
            }
            for (feature, usd) in r.by_feature {
                u.by_feature_region
                    .entry(feature.clone())
                    .or_default()
                    .insert(region.clone(), usd);
                *u.per_feature.entry(feature).or_default() += usd;
            }
            u.free_trials.extend(r.trials);
        }
        for v in u
            .per_account
            .values_mut()
            .chain(u.per_region.values_mut())
            .chain(u.per_feature.values_mut())
        {
            *v = round(*v);
        }
        u.total = round(u.total);
        let mut top: Vec<(String, f64)> =
            u.per_account.iter().map(|(a, v)| (a.clone(), *v)).collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(top_n);
        u.top_accounts = top
            .into_iter()
            .map(|(account, usd)| TopAccount { account, usd })
            .collect();
        u.free_trials.sort();
        u
    }

    pub fn failed(&self) -> impl Iterator<Item = (&String, &String)> {
        self.regions.iter().filter_map(|(r, s)| match s {
            RegionStatus::Failed { error } => Some((r, error)),
            _ => None,
        })
    }

    /// 2 when a region failed or was not read, else 0: cost is information, not a check.
    pub fn outcome(&self) -> Outcome {
        let incomplete = self
            .regions
            .values()
            .any(|s| matches!(s, RegionStatus::Failed { .. } | RegionStatus::NotRead));
        Outcome::partial_if(incomplete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_top_accounts_and_trials() {
        let regions = BTreeMap::from([
            ("eu-west-1".to_string(), RegionStatus::Read),
            ("us-east-1".to_string(), RegionStatus::Read),
        ]);
        let trial = |days, account: &str| Trial {
            days_left: days,
            account: account.into(),
            region: "us-east-1".into(),
            feature: "S3_DATA_EVENTS".into(),
        };
        let read = BTreeMap::from([
            (
                "us-east-1".to_string(),
                RegionUsage {
                    by_account: BTreeMap::from([("a".into(), 0.1), ("b".into(), 5.0)]),
                    by_feature: BTreeMap::from([("CLOUD_TRAIL".into(), 5.1)]),
                    trials: vec![trial(20, "a"), trial(3, "b")],
                },
            ),
            (
                "eu-west-1".to_string(),
                RegionUsage {
                    by_account: BTreeMap::from([("a".into(), 0.2)]),
                    by_feature: BTreeMap::from([("CLOUD_TRAIL".into(), 0.2)]),
                    trials: vec![],
                },
            ),
        ]);
        let u = Usage::new("a".into(), regions, read, 1);
        assert_eq!(u.per_account["a"], 0.3, "rounded: 0.1 + 0.2");
        assert_eq!(u.total, 5.3);
        assert_eq!(u.per_feature["CLOUD_TRAIL"], 5.3);
        assert_eq!(
            u.top_accounts,
            [TopAccount {
                account: "b".into(),
                usd: 5.0
            }]
        );
        assert_eq!(u.free_trials[0].days_left, 3, "fewest days first");
        assert_eq!(u.outcome(), Outcome::Success);
    }
}
