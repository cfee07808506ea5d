//! GuardDuty ListCoverage and GetCoverageStatistics as the model defines them: the shapes of
//! EKS, ECS and EC2 resources, filters, sort, pagination, refusals, and who sees what (an
//! administrator its associated members' resources, a member its own, no one an outsider's;
//! nothing of an account whose detector does not run Runtime Monitoring).

use std::collections::BTreeSet;

use aws_sdk_guardduty::types::{
    CoverageFilterCondition, CoverageFilterCriteria, CoverageFilterCriterion,
    CoverageFilterCriterionKey as Key, CoverageResource, CoverageSortCriteria, CoverageSortKey,
    CoverageStatisticsType, CoverageStatus, DetectorFeature, DetectorFeatureConfiguration,
    FeatureStatus, OrderBy, ResourceType,
};
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, assert_bad_request, Env};

pub const ADMIN: &str = "111111111111";
pub const M1: &str = "200000000001";
pub const M2: &str = "200000000002";
/// Not a member of anyone: its resources are its own business.
pub const OUTSIDER: &str = "200000000003";
pub const EAST: &str = "us-east-1";
pub const WEST: &str = "eu-west-1";
pub const AGENT_ISSUE: &str =
    "No agent reporting. The GuardDuty security agent has stopped sending runtime events.";
pub const VPC_ISSUE: &str = "VPC endpoint creation failed: the VPC has no DNS hostnames enabled.";

/// The management account administers M1 and M2 in us-east-1 and eu-west-1; every detector
/// runs Runtime Monitoring and S3 Protection. Covered: 7 resources in us-east-1 (one EKS
/// cluster unhealthy), 1 unhealthy EC2 instance in eu-west-1, 1 of the outsider. Usage and
/// free-trial days for the cost tests.
pub fn runtime_org() -> OrgSpec {
    runtime_org_with("")
}

/// [`runtime_org`] with more org-file text after it.
pub fn runtime_org_with(extra: &str) -> OrgSpec {
    OrgSpec::parse(&runtime_org_text(extra)).expect("org file parses")
}

/// The org file of [`runtime_org`], with `extra` after it.
pub fn runtime_org_text(extra: &str) -> String {
    format!(
        r#"
        member_accounts = 3
        [[detectors]]
        accounts = ["{ADMIN}", "{M1}", "{M2}"]
        regions = ["{EAST}", "{WEST}"]
        features = {{ RUNTIME_MONITORING = "ENABLED", S3_DATA_EVENTS = "ENABLED" }}
        [[detectors]]
        accounts = ["{OUTSIDER}"]
        regions = ["{EAST}"]
        features = {{ RUNTIME_MONITORING = "ENABLED" }}
        [[memberships]]
        administrator = "{ADMIN}"
        members = ["{M1}", "{M2}"]
        regions = ["{EAST}", "{WEST}"]
        status = "Enabled"

        [[coverage]]
        accounts = ["{ADMIN}"]
        regions = ["{EAST}"]
        type = "EKS"
        name = "platform"
        [[coverage]]
        accounts = ["{M1}"]
        regions = ["{EAST}"]
        type = "EKS"
        name = "prod"
        nodes = 4
        [[coverage]]
        accounts = ["{M1}"]
        regions = ["{EAST}"]
        type = "EKS"
        name = "batch"
        status = "UNHEALTHY"
        issue = "{AGENT_ISSUE}"
        management = "MANUAL"
        agent_version = "1.5.0"
        [[coverage]]
        accounts = ["{M2}"]
        regions = ["{EAST}"]
        type = "ECS"
        name = "web"
        [[coverage]]
        accounts = ["{M2}"]
        regions = ["{EAST}"]
        type = "EC2"
        name = "i-0a1b2c3d4e5f60001"
        count = 3
        cluster_arn = "arn:aws:ecs:us-east-1:{M2}:cluster/web"
        [[coverage]]
        accounts = ["{M2}"]
        regions = ["{WEST}"]
        type = "EC2"
        name = "i-0badbadbadbad0001"
        status = "UNHEALTHY"
        issue = "{VPC_ISSUE}"
        [[coverage]]
        accounts = ["{OUTSIDER}"]
        regions = ["{EAST}"]
        type = "EKS"
        name = "outsider"

        [[usage]]
        accounts = ["{ADMIN}", "{M1}", "{M2}", "{OUTSIDER}"]
        regions = ["{EAST}"]
        feature = "CLOUD_TRAIL"
        usd = 1.25
        [[usage]]
        accounts = ["{M1}"]
        regions = ["{EAST}"]
        feature = "S3_DATA_EVENTS"
        usd = 10.0
        resource = "central-logs"
        [[usage]]
        accounts = ["{M2}"]
        regions = ["{EAST}"]
        feature = "EC2_RUNTIME_MONITORING"
        usd = 4.5
        resource = "i-0a1b2c3d4e5f60001-1"
        [[usage]]
        accounts = ["{M1}"]
        regions = ["{EAST}"]
        feature = "RDS_LOGIN_EVENTS"
        usd = 3.0
        [[usage]]
        accounts = ["{ADMIN}"]
        regions = ["{WEST}"]
        feature = "FLOW_LOGS"
        usd = 2.0

        [[free_trial]]
        accounts = ["{M1}"]
        regions = ["{EAST}"]
        features = ["S3_DATA_EVENTS"]
        days = 5
        [[free_trial]]
        accounts = ["{M2}"]
        features = ["CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS"]
        days = 0
        {extra}
        "#
    )
}

pub async fn det(env: &Env, account: &str, region: &str) -> String {
    env.sandbox
        .world(|w| w.detector(account, region).unwrap().id.clone())
}

fn criterion(key: Key, equals: &[&str], not_equals: &[&str]) -> CoverageFilterCriterion {
    let mut cond = CoverageFilterCondition::builder();
    for e in equals {
        cond = cond.equals(*e);
    }
    for n in not_equals {
        cond = cond.not_equals(*n);
    }
    CoverageFilterCriterion::builder()
        .criterion_key(key)
        .filter_condition(cond.build())
        .build()
}

fn criteria(list: Vec<CoverageFilterCriterion>) -> CoverageFilterCriteria {
    CoverageFilterCriteria::builder()
        .set_filter_criterion(Some(list))
        .build()
}

/// Every resource of a listing, following nextToken.
async fn list_all(
    gd: &aws_sdk_guardduty::Client,
    det: &str,
    filter: Option<CoverageFilterCriteria>,
) -> Vec<CoverageResource> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = gd
            .list_coverage()
            .detector_id(det)
            .set_filter_criteria(filter.clone())
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        out.extend(page.resources().iter().cloned());
        token = page.next_token().map(String::from);
        if token.is_none() {
            return out;
        }
    }
}

fn ids(rs: &[CoverageResource]) -> Vec<String> {
    rs.iter()
        .map(|r| r.resource_id().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_administrator_sees_its_members_resources_with_their_details() {
    let env = Env::with_spec(runtime_org()).await;
    let gd = support::gd(&env.mgmt, EAST);
    let admin_det = det(&env, ADMIN, EAST).await;
    let all = list_all(&gd, &admin_det, None).await;
    let got: BTreeSet<String> = ids(&all).into_iter().collect();
    let want: BTreeSet<String> = [
        "platform",
        "prod",
        "batch",
        &format!("arn:aws:ecs:us-east-1:{M2}:cluster/web"),
        "i-0a1b2c3d4e5f60001-1",
        "i-0a1b2c3d4e5f60001-2",
        "i-0a1b2c3d4e5f60001-3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want, "the outsider's cluster stays out");

    let batch = all
        .iter()
        .find(|r| r.resource_id() == Some("batch"))
        .unwrap();
    assert_eq!(batch.account_id(), Some(M1));
    assert_eq!(
        batch.detector_id(),
        Some(det(&env, M1, EAST).await.as_str())
    );
    assert_eq!(batch.coverage_status(), Some(&CoverageStatus::Unhealthy));
    assert_eq!(batch.issue(), Some(AGENT_ISSUE));
    assert!(batch.updated_at().is_some());
    let d = batch.resource_details().unwrap();
    assert_eq!(d.resource_type(), Some(&ResourceType::Eks));
    let eks = d.eks_cluster_details().unwrap();
    assert_eq!(eks.cluster_name(), Some("batch"));
    assert_eq!(
        (eks.covered_nodes(), eks.compatible_nodes()),
        (Some(0), Some(3))
    );
    assert_eq!(
        eks.addon_details().unwrap().addon_version(),
        Some("v1.5.0-eksbuild.1")
    );
    assert_eq!(eks.management_type().unwrap().as_str(), "MANUAL");

    let prod = all
        .iter()
        .find(|r| r.resource_id() == Some("prod"))
        .unwrap();
    assert_eq!(prod.coverage_status(), Some(&CoverageStatus::Healthy));
    assert_eq!(prod.issue(), None);

    let ec2 = all
        .iter()
        .find(|r| r.resource_id() == Some("i-0a1b2c3d4e5f60001-2"))
        .unwrap();
    let e = ec2
        .resource_details()
        .unwrap()
        .ec2_instance_details()
        .unwrap();
    assert_eq!(e.instance_type(), Some("m5.large"));
    assert_eq!(e.agent_details().unwrap().version(), Some("1.8.0"));
    assert_eq!(
        e.cluster_arn(),
        Some(format!("arn:aws:ecs:us-east-1:{M2}:cluster/web").as_str())
    );
    let ecs = all
        .iter()
        .find(|r| r.resource_id().unwrap().ends_with("cluster/web"))
        .unwrap();
    let c = ecs
        .resource_details()
        .unwrap()
        .ecs_cluster_details()
        .unwrap();
    assert_eq!(c.cluster_name(), Some("web"));
    assert_eq!(
        c.container_instance_details()
            .unwrap()
            .covered_container_instances(),
        Some(3)
    );

    // A member sees its own resources only; so does the outsider.
    let m1 = env.gd(M1, EAST).await;
    let own = list_all(&m1, &det(&env, M1, EAST).await, None).await;
    assert_eq!(
        ids(&own).into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from(["batch".to_string(), "prod".to_string()])
    );
    let out = env.gd(OUTSIDER, EAST).await;
    assert_eq!(
        ids(&list_all(&out, &det(&env, OUTSIDER, EAST).await, None).await),
        ["outsider"]
    );
    // Each region is its own: eu-west-1 holds one unhealthy instance.
    let west = support::gd(&env.mgmt, WEST);
    let there = list_all(&west, &det(&env, ADMIN, WEST).await, None).await;
    assert_eq!(ids(&there), ["i-0badbadbadbad0001"]);
    assert_eq!(there[0].issue(), Some(VPC_ISSUE));
}

#[tokio::test]
async fn filters_sort_and_pages() {
    let env = Env::with_spec(runtime_org()).await;
    let gd = support::gd(&env.mgmt, EAST);
    let d = det(&env, ADMIN, EAST).await;
    let with = |list: Vec<CoverageFilterCriterion>| {
        let gd = gd.clone();
        let d = d.clone();
        async move { ids(&list_all(&gd, &d, Some(criteria(list))).await) }
    };
    let mut eks = with(vec![criterion(Key::ResourceType, &["EKS"], &[])]).await;
    eks.sort();
    assert_eq!(eks, ["batch", "platform", "prod"]);
    assert_eq!(
        with(vec![criterion(Key::CoverageStatus, &["UNHEALTHY"], &[])]).await,
        ["batch"]
    );
    // Criteria combine with AND; NOT_EQUALS excludes.
    let mut m2_ec2 = with(vec![
        criterion(Key::AccountId, &[M2], &[]),
        criterion(Key::InstanceId, &[], &["i-0a1b2c3d4e5f60001-2"]),
        criterion(Key::ResourceType, &["EC2"], &[]),
    ])
    .await;
    m2_ec2.sort();
    assert_eq!(m2_ec2, ["i-0a1b2c3d4e5f60001-1", "i-0a1b2c3d4e5f60001-3"]);
    // CLUSTER_NAME is the deprecated name of EKS_CLUSTER_NAME.
    assert_eq!(
        with(vec![criterion(Key::ClusterName, &["prod"], &[])]).await,
        ["prod"]
    );
    assert_eq!(
        with(vec![criterion(Key::EcsClusterName, &["web"], &[])]).await,
        [format!("arn:aws:ecs:us-east-1:{M2}:cluster/web")]
    );
    assert_eq!(
        with(vec![criterion(Key::ManagementType, &["MANUAL"], &[])]).await,
        ["batch"]
    );

    // Sorted by EKS cluster name, descending: the EKS clusters first, the rest after.
    let sorted = gd
        .list_coverage()
        .detector_id(&d)
        .sort_criteria(
            CoverageSortCriteria::builder()
                .attribute_name(CoverageSortKey::EksClusterName)
                .order_by(OrderBy::Desc)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&sorted.resources()[..3]), ["prod", "platform", "batch"]);

    // Pages of 3: 7 resources in 3 pages, none twice.
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = gd
            .list_coverage()
            .detector_id(&d)
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.resources().len() <= 3);
        seen.extend(ids(page.resources()));
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 7);
}

#[tokio::test]
async fn refusals_are_bad_requests() {
    let env = Env::with_spec(runtime_org()).await;
    let gd = support::gd(&env.mgmt, EAST);
    let d = det(&env, ADMIN, EAST).await;
    let e = gd
        .list_coverage()
        .detector_id(&d)
        .max_results(51)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "maxResults");
    let e = gd
        .list_coverage()
        .detector_id(&d)
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "nextToken");
    let e = gd
        .list_coverage()
        .detector_id(&d)
        .filter_criteria(criteria(vec![criterion(
            Key::from("NO_SUCH_KEY"),
            &["x"],
            &[],
        )]))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "criterionKey");
    // A criterion without values.
    let e = gd
        .list_coverage()
        .detector_id(&d)
        .filter_criteria(criteria(vec![criterion(Key::AccountId, &[], &[])]))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "filterCondition");
    let e = gd
        .get_coverage_statistics()
        .detector_id(&d)
        .statistics_type(CoverageStatisticsType::from("COUNT_BY_COLOUR"))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "statisticsType");
    // Another account's detector.
    let other = det(&env, M1, EAST).await;
    let e = gd
        .list_coverage()
        .detector_id(&other)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "not owned");
}

#[tokio::test]
async fn statistics_count_what_the_listing_holds() {
    let env = Env::with_spec(runtime_org()).await;
    let gd = support::gd(&env.mgmt, EAST);
    let d = det(&env, ADMIN, EAST).await;
    let stats = gd
        .get_coverage_statistics()
        .detector_id(&d)
        .statistics_type(CoverageStatisticsType::CountByResourceType)
        .statistics_type(CoverageStatisticsType::CountByCoverageStatus)
        .send()
        .await
        .unwrap();
    let s = stats.coverage_statistics().unwrap();
    let by_type = s.count_by_resource_type().unwrap();
    assert_eq!(by_type.get(&ResourceType::Eks), Some(&3));
    assert_eq!(by_type.get(&ResourceType::Ecs), Some(&1));
    assert_eq!(by_type.get(&ResourceType::Ec2), Some(&3));
    let by_status = s.count_by_coverage_status().unwrap();
    assert_eq!(by_status.get(&CoverageStatus::Healthy), Some(&6));
    assert_eq!(by_status.get(&CoverageStatus::Unhealthy), Some(&1));
    // Filtered like the listing, and only the statistics asked for.
    let m1 = gd
        .get_coverage_statistics()
        .detector_id(&d)
        .statistics_type(CoverageStatisticsType::CountByCoverageStatus)
        .filter_criteria(criteria(vec![criterion(Key::AccountId, &[M1], &[])]))
        .send()
        .await
        .unwrap();
    let s = m1.coverage_statistics().unwrap();
    assert!(s.count_by_resource_type().is_none());
    let by_status = s.count_by_coverage_status().unwrap();
    assert_eq!(
        (
            by_status.get(&CoverageStatus::Healthy),
            by_status.get(&CoverageStatus::Unhealthy)
        ),
        (Some(&1), Some(&1))
    );
}

#[tokio::test]
async fn without_runtime_monitoring_an_account_has_no_coverage() {
    let env = Env::with_spec(runtime_org()).await;
    let m2 = env.gd(M2, EAST).await;
    m2.update_detector()
        .detector_id(det(&env, M2, EAST).await)
        .features(
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::RuntimeMonitoring)
                .status(FeatureStatus::Disabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let gd = support::gd(&env.mgmt, EAST);
    let mut left = ids(&list_all(&gd, &det(&env, ADMIN, EAST).await, None).await);
    left.sort();
    assert_eq!(left, ["batch", "platform", "prod"]);
    // EKS Runtime Monitoring, its predecessor, covers EKS clusters only: M1 keeps its clusters.
    let m1 = env.gd(M1, EAST).await;
    let m1_det = det(&env, M1, EAST).await;
    m1.update_detector()
        .detector_id(&m1_det)
        .features(
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::RuntimeMonitoring)
                .status(FeatureStatus::Disabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&list_all(&m1, &m1_det, None).await).len(), 0);
    m1.update_detector()
        .detector_id(&m1_det)
        .features(
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::EksRuntimeMonitoring)
                .status(FeatureStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&list_all(&m1, &m1_det, None).await).len(), 2);
    // A suspended detector monitors nothing.
    m1.update_detector()
        .detector_id(&m1_det)
        .enable(false)
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&list_all(&m1, &m1_det, None).await).len(), 0);
}
