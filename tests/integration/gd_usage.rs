//! GuardDuty GetUsageStatistics and GetRemainingFreeTrialDays as the model defines them: every
//! statistic type, criteria, pages, refusals, who may ask for whom, and the 30-day trial a
//! newly enabled feature starts.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{
    DataSource, DetectorFeature, DetectorFeatureConfiguration, FeatureStatus,
    FreeTrialFeatureResult, UsageCriteria, UsageFeature, UsageStatisticType as T, UsageStatistics,
};

use crate::gd_coverage::{det, runtime_org, ADMIN, EAST, M1, M2, OUTSIDER, WEST};
use crate::support::{self, assert_bad_request, Env};

async fn stats(
    gd: &aws_sdk_guardduty::Client,
    det: &str,
    kind: T,
    criteria: UsageCriteria,
) -> UsageStatistics {
    gd.get_usage_statistics()
        .detector_id(det)
        .usage_statistic_type(kind)
        .usage_criteria(criteria)
        .send()
        .await
        .unwrap()
        .usage_statistics()
        .cloned()
        .unwrap()
}

fn all() -> UsageCriteria {
    UsageCriteria::builder().build()
}

#[tokio::test]
async fn sums_by_account_feature_data_source_and_resource() {
    let env = Env::with_spec(runtime_org()).await;
    let gd = support::gd(&env.mgmt, EAST);
    let d = det(&env, ADMIN, EAST).await;

    let by_account: BTreeMap<String, (String, String)> = stats(&gd, &d, T::SumByAccount, all())
        .await
        .sum_by_account()
        .iter()
        .map(|r| {
            let t = r.total().unwrap();
            (
                r.account_id().unwrap().to_string(),
                (
                    t.amount().unwrap().to_string(),
                    t.unit().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let usd = |a: &str| ("USD".to_string(), a.to_string());
    let flip = |m: &BTreeMap<String, (String, String)>, k: &str| {
        m.get(k).map(|(a, u)| (u.clone(), a.clone()))
    };
    assert_eq!(
        by_account.len(),
        3,
        "the outsider is not summed: {by_account:?}"
    );
    assert_eq!(flip(&by_account, ADMIN), Some(usd("1.25")));
    assert_eq!(flip(&by_account, M1), Some(usd("14.25")));
    assert_eq!(flip(&by_account, M2), Some(usd("5.75")));

    let by_feature: BTreeMap<String, String> = stats(&gd, &d, T::SumByFeatures, all())
        .await
        .sum_by_feature()
        .iter()
        .map(|r| {
            (
                r.feature().unwrap().as_str().to_string(),
                r.total().unwrap().amount().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(by_feature["CLOUD_TRAIL"], "3.75");
    assert_eq!(by_feature["S3_DATA_EVENTS"], "10.00");
    assert_eq!(by_feature["EC2_RUNTIME_MONITORING"], "4.50");
    assert_eq!(by_feature["RDS_LOGIN_EVENTS"], "3.00");

    // Data sources: only the features the deprecated view has a name for.
    let by_ds: BTreeMap<String, String> = stats(&gd, &d, T::SumByDataSource, all())
        .await
        .sum_by_data_source()
        .iter()
        .map(|r| {
            (
                r.data_source().unwrap().as_str().to_string(),
                r.total().unwrap().amount().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        by_ds,
        BTreeMap::from([
            ("CLOUD_TRAIL".to_string(), "3.75".to_string()),
            ("S3_LOGS".to_string(), "10.00".to_string()),
        ])
    );

    let top: Vec<(String, String)> = stats(&gd, &d, T::TopResources, all())
        .await
        .top_resources()
        .iter()
        .map(|r| {
            (
                r.resource().unwrap().to_string(),
                r.total().unwrap().amount().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        top,
        [
            ("central-logs".to_string(), "10.00".to_string()),
            ("i-0a1b2c3d4e5f60001-1".to_string(), "4.50".to_string()),
        ]
    );

    // Top accounts per feature, most expensive first; RDS_LOGIN_EVENTS is not in it.
    let tabf = stats(&gd, &d, T::TopAccountsByFeature, all()).await;
    let features: Vec<&str> = tabf
        .top_accounts_by_feature()
        .iter()
        .map(|f| f.feature().unwrap().as_str())
        .collect();
    assert!(!features.contains(&"RDS_LOGIN_EVENTS"), "{features:?}");
    assert!(features.contains(&"S3_DATA_EVENTS"), "{features:?}");
    let ct = tabf
        .top_accounts_by_feature()
        .iter()
        .find(|f| f.feature() == Some(&UsageFeature::CloudTrail))
        .unwrap();
    assert_eq!(ct.accounts().len(), 3);

    // Each region is its own.
    let west = support::gd(&env.mgmt, WEST);
    let w = stats(&west, &det(&env, ADMIN, WEST).await, T::SumByAccount, all()).await;
    assert_eq!(w.sum_by_account().len(), 1);
    assert_eq!(
        w.sum_by_account()[0].total().unwrap().amount(),
        Some("2.00")
    );
}

#[tokio::test]
async fn criteria_pages_and_who_may_ask_for_whom() {
    let env = Env::with_spec(runtime_org()).await;
    let gd = support::gd(&env.mgmt, EAST);
    let d = det(&env, ADMIN, EAST).await;

    let only_m1 = UsageCriteria::builder().account_ids(M1).build();
    let s = stats(&gd, &d, T::SumByAccount, only_m1).await;
    assert_eq!(s.sum_by_account().len(), 1);
    let s3 = UsageCriteria::builder()
        .features(UsageFeature::S3DataEvents)
        .build();
    let s = stats(&gd, &d, T::SumByAccount, s3).await;
    assert_eq!(s.sum_by_account()[0].account_id(), Some(M1));
    // The deprecated dataSources stand for their features.
    #[allow(deprecated)]
    let ds = UsageCriteria::builder()
        .data_sources(DataSource::S3Logs)
        .build();
    let s = stats(&gd, &d, T::SumByFeatures, ds).await;
    assert_eq!(s.sum_by_feature().len(), 1);
    let res = UsageCriteria::builder().resources("central-logs").build();
    let s = stats(&gd, &d, T::SumByResource, res).await;
    assert_eq!(s.sum_by_resource().len(), 1);

    // Pages of 2 over 3 accounts.
    let first = gd
        .get_usage_statistics()
        .detector_id(&d)
        .usage_statistic_type(T::SumByAccount)
        .usage_criteria(all())
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.usage_statistics().unwrap().sum_by_account().len(), 2);
    let second = gd
        .get_usage_statistics()
        .detector_id(&d)
        .usage_statistic_type(T::SumByAccount)
        .usage_criteria(all())
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.usage_statistics().unwrap().sum_by_account().len(), 1);
    assert!(second.next_token().is_none());

    // The outsider is no member; a member cannot ask for its administrator.
    let e = gd
        .get_usage_statistics()
        .detector_id(&d)
        .usage_statistic_type(T::SumByAccount)
        .usage_criteria(UsageCriteria::builder().account_ids(OUTSIDER).build())
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), OUTSIDER);
    let m1 = env.gd(M1, EAST).await;
    let e = m1
        .get_usage_statistics()
        .detector_id(det(&env, M1, EAST).await)
        .usage_statistic_type(T::SumByAccount)
        .usage_criteria(UsageCriteria::builder().account_ids(ADMIN).build())
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), ADMIN);
    // A member's own usage, without naming itself.
    let own = stats(&m1, &det(&env, M1, EAST).await, T::SumByAccount, all()).await;
    assert_eq!(own.sum_by_account().len(), 1);

    for (call, needle) in [
        (
            gd.get_usage_statistics()
                .detector_id(&d)
                .usage_statistic_type(T::SumByAccount)
                .usage_criteria(all())
                .unit("EUR"),
            "unit",
        ),
        (
            gd.get_usage_statistics()
                .detector_id(&d)
                .usage_statistic_type(T::from("SUM_BY_MOOD"))
                .usage_criteria(all()),
            "usageStatisticsType",
        ),
        (
            gd.get_usage_statistics()
                .detector_id(&d)
                .usage_statistic_type(T::SumByAccount)
                .usage_criteria(UsageCriteria::builder().account_ids("12345").build()),
            "accountIds",
        ),
        (
            gd.get_usage_statistics()
                .detector_id(&d)
                .usage_statistic_type(T::SumByAccount)
                .usage_criteria(all())
                .max_results(51),
            "maxResults",
        ),
    ] {
        let e = call.send().await.unwrap_err();
        assert_bad_request(e.as_service_error().unwrap(), needle);
    }
}

fn days(info: &aws_sdk_guardduty::types::AccountFreeTrialInfo) -> BTreeMap<String, i32> {
    info.features()
        .iter()
        .map(|f| {
            (
                f.name().unwrap().as_str().to_string(),
                f.free_trial_days_remaining().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn free_trial_days_per_account_and_feature() {
    let env = Env::with_spec(runtime_org()).await;
    let gd = support::gd(&env.mgmt, EAST);
    let d = det(&env, ADMIN, EAST).await;
    let out = gd
        .get_remaining_free_trial_days()
        .detector_id(&d)
        .account_ids(ADMIN)
        .account_ids(M1)
        .account_ids(M2)
        .account_ids(OUTSIDER)
        .send()
        .await
        .unwrap();
    let unprocessed = support::unprocessed(out.unprocessed_accounts());
    assert_eq!(unprocessed.len(), 1);
    assert_eq!(unprocessed[0].0, OUTSIDER);
    let by: BTreeMap<&str, &aws_sdk_guardduty::types::AccountFreeTrialInfo> = out
        .accounts()
        .iter()
        .map(|a| (a.account_id().unwrap(), a))
        .collect();
    assert_eq!(by.len(), 3);
    // A fresh detector: every enabled feature has its whole trial; Runtime Monitoring runs
    // three (EKS, ECS/Fargate, EC2); features that are off are not listed.
    let admin = days(by[ADMIN]);
    for f in [
        "CLOUD_TRAIL",
        "DNS_LOGS",
        "FLOW_LOGS",
        "S3_DATA_EVENTS",
        "EKS_RUNTIME_MONITORING",
        "EC2_RUNTIME_MONITORING",
        "FARGATE_RUNTIME_MONITORING",
    ] {
        assert_eq!(admin.get(f), Some(&30), "{f}: {admin:?}");
    }
    assert!(!admin.contains_key("LAMBDA_NETWORK_LOGS"), "{admin:?}");
    // Seeded: M1's S3 trial has 5 days left, M2's foundational trials are over.
    assert_eq!(days(by[M1]).get("S3_DATA_EVENTS"), Some(&5));
    let m2 = days(by[M2]);
    assert_eq!(m2.get("CLOUD_TRAIL"), Some(&0));
    assert_eq!(m2.get("S3_DATA_EVENTS"), Some(&30));
    // The deprecated dataSources view says the same.
    #[allow(deprecated)]
    let ds = by[M1].data_sources().unwrap();
    assert_eq!(ds.s3_logs().unwrap().free_trial_days_remaining(), Some(5));
    assert_eq!(
        ds.cloud_trail().unwrap().free_trial_days_remaining(),
        Some(30)
    );

    // Enabling a feature starts its trial.
    let m1 = env.gd(M1, EAST).await;
    let m1_det = det(&env, M1, EAST).await;
    m1.update_detector()
        .detector_id(&m1_det)
        .features(
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::LambdaNetworkLogs)
                .status(FeatureStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let own = m1
        .get_remaining_free_trial_days()
        .detector_id(&m1_det)
        .account_ids(M1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.accounts()[0]
            .features()
            .iter()
            .find(|f| f.name() == Some(&FreeTrialFeatureResult::LambdaNetworkLogs))
            .and_then(|f| f.free_trial_days_remaining()),
        Some(30)
    );
    // A trial runs once: ten days on, turning the feature off and on again starts nothing.
    env.sandbox.world(|w| {
        let end = w
            .cell_mut(M1, EAST)
            .trial_ends
            .get_mut("LAMBDA_NETWORK_LOGS")
            .expect("the trial was recorded when the feature was turned on");
        *end -= chrono::Duration::days(10);
    });
    for status in [FeatureStatus::Disabled, FeatureStatus::Enabled] {
        m1.update_detector()
            .detector_id(&m1_det)
            .features(
                DetectorFeatureConfiguration::builder()
                    .name(DetectorFeature::LambdaNetworkLogs)
                    .status(status)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let again = m1
        .get_remaining_free_trial_days()
        .detector_id(&m1_det)
        .account_ids(M1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.accounts()[0]
            .features()
            .iter()
            .find(|f| f.name() == Some(&FreeTrialFeatureResult::LambdaNetworkLogs))
            .and_then(|f| f.free_trial_days_remaining()),
        Some(20)
    );
    // A member cannot ask for its administrator.
    let refused = m1
        .get_remaining_free_trial_days()
        .detector_id(&m1_det)
        .account_ids(ADMIN)
        .send()
        .await
        .unwrap();
    assert!(refused.accounts().is_empty());
    assert_eq!(refused.unprocessed_accounts().len(), 1);

    // At most 50 accounts at once.
    let mut call = gd.get_remaining_free_trial_days().detector_id(&d);
    for i in 0..51 {
        call = call.account_ids(format!("{:012}", 300_000_000_000u64 + i));
    }
    let e = call.send().await.unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "accountIds");
}
