//! GuardDuty findings in the sandbox, through aws-sdk-guardduty over HTTP: sample findings,
//! finding criteria, pagination, statistics, administrator/member visibility, archiving,
//! feedback, and findings seeded by the org file.

// The deprecated condition keys (eq, gt, ...) and COUNT_BY_SEVERITY are still part of the API
// that scripts in the field call, so the sandbox must keep answering them.
#![allow(deprecated)]

use std::collections::{BTreeMap, HashSet};

use aws_sdk_guardduty::types::{
    Condition, Feedback, FindingCriteria, FindingStatisticType, GroupByType, OrderBy, SortCriteria,
};
use aws_sdk_guardduty::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::Utc;
use guardduty_org::sandbox::guardduty::catalog::{self, TYPES};
use guardduty_org::sandbox::guardduty::findings::MEMBER_ARCHIVE_MESSAGE;
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, associate, detector, Env};

pub const REGION: &str = "us-east-1";

/// Every finding id a listing yields, through the SDK paginator.
pub async fn all_ids(
    gd: &Client,
    det: &str,
    criteria: Option<FindingCriteria>,
    sort: Option<SortCriteria>,
) -> Vec<String> {
    gd.list_findings()
        .detector_id(det)
        .set_finding_criteria(criteria)
        .set_sort_criteria(sort)
        .max_results(50)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("listing succeeds")
}

/// GetFindings for any number of ids, 50 at a time, in order.
pub async fn get_all(
    gd: &Client,
    det: &str,
    ids: &[String],
) -> Vec<aws_sdk_guardduty::types::Finding> {
    let mut out = Vec::new();
    for chunk in ids.chunks(50) {
        let got = gd
            .get_findings()
            .detector_id(det)
            .set_finding_ids(Some(chunk.to_vec()))
            .send()
            .await
            .unwrap();
        // GetFindings does not promise request order; restore it.
        let by_id: BTreeMap<String, _> = got
            .findings()
            .iter()
            .map(|f| (f.id().unwrap().to_string(), f.clone()))
            .collect();
        out.extend(chunk.iter().filter_map(|id| by_id.get(id).cloned()));
    }
    out
}

pub fn crit(field: &str, cond: Condition) -> FindingCriteria {
    FindingCriteria::builder().criterion(field, cond).build()
}

/// A sandbox whose management account has one sample finding of every type in us-east-1.
pub async fn with_samples() -> (Env, Client, String) {
    let env = Env::new(1).await;
    let det = detector(&env, &env.management, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);
    support::seed_samples(&gd, &det, &[]).await;
    (env, gd, det)
}

#[tokio::test]
async fn sample_findings_one_per_type_as_the_console_shows_them() {
    let (env, gd, det) = with_samples().await;
    let ids = all_ids(&gd, &det, None, None).await;
    assert_eq!(ids.len(), TYPES.len());
    let findings = get_all(&gd, &det, &ids).await;
    assert_eq!(findings.len(), TYPES.len());
    let mut seen = HashSet::new();
    for f in &findings {
        let ty = TYPES.iter().find(|t| Some(t.name) == f.r#type()).unwrap();
        assert!(seen.insert(ty.name), "one finding per type");
        assert!(
            f.title().unwrap().starts_with("[SAMPLE] "),
            "{:?}",
            f.title()
        );
        assert!(!f.description().unwrap().is_empty());
        assert_eq!(f.schema_version(), Some("2.0"));
        assert_eq!(f.account_id(), Some(env.management.as_str()));
        assert_eq!(f.region(), Some(REGION));
        assert_eq!(f.severity(), Some(f64::from(ty.severity_tenths) / 10.0));
        assert_eq!(
            f.arn().unwrap(),
            format!(
                "arn:aws:guardduty:{REGION}:{}:detector/{det}/finding/{}",
                env.management,
                f.id().unwrap()
            )
        );
        assert!(chrono::DateTime::parse_from_rfc3339(f.created_at().unwrap()).is_ok());
        assert!(chrono::DateTime::parse_from_rfc3339(f.updated_at().unwrap()).is_ok());
        let resource = f.resource().unwrap();
        assert_eq!(resource.resource_type(), Some(ty.resource.as_str()));
        match ty.resource {
            catalog::ResourceKind::Instance => {
                let inst = resource.instance_details().unwrap();
                assert!(inst.instance_id().unwrap().starts_with("i-"));
                assert!(inst.iam_instance_profile().unwrap().arn().is_some());
                assert!(!inst.network_interfaces().is_empty());
                assert!(!inst.tags().is_empty());
            }
            catalog::ResourceKind::AccessKey => {
                assert!(resource.access_key_details().unwrap().user_name().is_some());
            }
            catalog::ResourceKind::S3Bucket => {
                assert!(resource.s3_bucket_details()[0].name().is_some());
            }
        }
        let service = f.service().unwrap();
        assert_eq!(service.archived(), Some(false));
        assert_eq!(service.detector_id(), Some(det.as_str()));
        assert!(service.count().unwrap() >= 1);
        assert!(service.event_first_seen().is_some() && service.event_last_seen().is_some());
        let action = service.action().unwrap();
        assert_eq!(action.action_type(), Some(ty.action.action_type()));
        let remote = match ty.action {
            catalog::ActionKind::Network { .. } => action
                .network_connection_action()
                .unwrap()
                .remote_ip_details(),
            catalog::ActionKind::ApiCall { api, .. } => {
                let call = action.aws_api_call_action().unwrap();
                assert_eq!(call.api(), Some(api));
                assert!(call.user_agent().is_some());
                call.remote_ip_details()
            }
            catalog::ActionKind::PortProbe { .. } => {
                action.port_probe_action().unwrap().port_probe_details()[0].remote_ip_details()
            }
            catalog::ActionKind::Dns { .. } => {
                assert!(action.dns_request_action().unwrap().domain().is_some());
                None
            }
        };
        if let Some(r) = remote {
            assert!(r.ip_address_v4().is_some());
            assert!(r.city().unwrap().city_name().is_some());
            assert!(r.country().unwrap().country_name().is_some());
            assert!(r.geo_location().unwrap().lat().is_some());
            assert!(r.organization().unwrap().asn().is_some());
        } else {
            assert!(matches!(ty.action, catalog::ActionKind::Dns { .. }));
        }
        if let Some(list) = ty.threat_list {
            let ev = service.evidence().unwrap();
            assert_eq!(
                ev.threat_intelligence_details()[0].threat_list_name(),
                Some(list)
            );
            assert!(service
                .additional_info()
                .unwrap()
                .value()
                .unwrap()
                .contains(list));
        }
    }

    // Named types only; an unknown type is refused.
    support::seed_samples(
        &gd,
        &det,
        &[
            "Recon:EC2/PortProbeUnprotectedPort",
            "Policy:IAMUser/RootCredentialUsage",
        ],
    )
    .await;
    assert_eq!(all_ids(&gd, &det, None, None).await.len(), TYPES.len() + 2);
    let err = gd
        .create_sample_findings()
        .detector_id(&det)
        .finding_types("Nope:EC2/NotAType")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
}

#[tokio::test]
async fn a_suspended_detector_produces_no_findings() {
    let env = Env::new(0).await;
    let det = detector(&env, &env.management, REGION, false).await;
    let gd = support::gd(&env.mgmt, REGION);
    support::seed_samples(&gd, &det, &[]).await;
    assert!(all_ids(&gd, &det, None, None).await.is_empty());
    // A detector id the caller does not own is refused.
    let err = gd
        .list_findings()
        .detector_id("0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
}

#[tokio::test]
async fn every_criterion_kind_includes_and_excludes() {
    let (env, gd, det) = with_samples().await;
    let n = TYPES.len();
    let count_sev = |p: fn(u16) -> bool| TYPES.iter().filter(|t| p(t.severity_tenths)).count();
    let cases: Vec<(&str, Condition, usize)> = vec![
        (
            "type",
            Condition::builder()
                .equals("Recon:IAMUser/TorIPCaller")
                .build(),
            1,
        ),
        (
            "type",
            Condition::builder()
                .not_equals("Recon:IAMUser/TorIPCaller")
                .build(),
            n - 1,
        ),
        (
            "type",
            Condition::builder()
                .eq("Backdoor:EC2/C&CActivity.B!DNS")
                .eq("Trojan:EC2/DNSDataExfiltration")
                .build(),
            2,
        ),
        (
            "type",
            Condition::builder()
                .neq("Backdoor:EC2/C&CActivity.B!DNS")
                .build(),
            n - 1,
        ),
        (
            "severity",
            Condition::builder().greater_than_or_equal(7).build(),
            count_sev(|s| s >= 70),
        ),
        (
            "severity",
            Condition::builder().greater_than(8).build(),
            count_sev(|s| s > 80),
        ),
        (
            "severity",
            Condition::builder().less_than(4).build(),
            count_sev(|s| s < 40),
        ),
        (
            "severity",
            Condition::builder().less_than_or_equal(5).build(),
            count_sev(|s| s <= 50),
        ),
        (
            "severity",
            Condition::builder().gte(9).build(),
            count_sev(|s| s >= 90),
        ),
        (
            "severity",
            Condition::builder().gt(2).lt(8).build(),
            count_sev(|s| s > 20 && s < 80),
        ),
        (
            "severity",
            Condition::builder().lte(2).build(),
            count_sev(|s| s <= 20),
        ),
        (
            "updatedAt",
            Condition::builder()
                .greater_than_or_equal(Utc::now().timestamp_millis() - 3_600_000)
                .build(),
            n,
        ),
        (
            "updatedAt",
            Condition::builder()
                .greater_than(Utc::now().timestamp_millis() + 3_600_000)
                .build(),
            0,
        ),
        (
            "service.archived",
            Condition::builder().equals("false").build(),
            n,
        ),
        (
            "service.archived",
            Condition::builder().equals("true").build(),
            0,
        ),
        (
            "accountId",
            Condition::builder().equals(env.management.clone()).build(),
            n,
        ),
        (
            "accountId",
            Condition::builder()
                .not_equals(env.management.clone())
                .build(),
            0,
        ),
        ("region", Condition::builder().equals(REGION).build(), n),
        (
            "resource.resourceType",
            Condition::builder().equals("AccessKey").build(),
            TYPES
                .iter()
                .filter(|t| t.resource == catalog::ResourceKind::AccessKey)
                .count(),
        ),
        (
            "service.action.actionType",
            Condition::builder().equals("DNS_REQUEST").build(),
            TYPES
                .iter()
                .filter(|t| t.action.action_type() == "DNS_REQUEST")
                .count(),
        ),
        (
            "service.action.actionType",
            Condition::builder().equals("PORT_PROBE").build(),
            2,
        ),
        (
            "service.additionalInfo.threatListName",
            Condition::builder().equals("TorExitNodes").build(),
            TYPES
                .iter()
                .filter(|t| t.threat_list == Some("TorExitNodes"))
                .count(),
        ),
        (
            "service.action.awsApiCallAction.api",
            Condition::builder().equals("StopLogging").build(),
            1,
        ),
        (
            "service.action.dnsRequestAction.domain",
            Condition::builder()
                .equals("guarddutyc2activityb.example.com")
                .build(),
            1,
        ),
        (
            "service.resourceRole",
            Condition::builder().equals("ACTOR").build(),
            TYPES.iter().filter(|t| t.resource_role == "ACTOR").count(),
        ),
        (
            "service.count",
            Condition::builder().greater_than_or_equal(1).build(),
            n,
        ),
        (
            "resource.accessKeyDetails.userName",
            Condition::builder().equals("Root").build(),
            1,
        ),
    ];
    for (field, cond, expected) in cases {
        let got = all_ids(&gd, &det, Some(crit(field, cond.clone())), None).await;
        assert_eq!(got.len(), expected, "{field} {cond:?}");
    }

    // Fields read from the rendered finding: pick values off one finding and filter on them.
    let ids = all_ids(
        &gd,
        &det,
        Some(crit(
            "type",
            Condition::builder()
                .equals("UnauthorizedAccess:EC2/SSHBruteForce")
                .build(),
        )),
        None,
    )
    .await;
    let f = &get_all(&gd, &det, &ids).await[0];
    let instance = f
        .resource()
        .unwrap()
        .instance_details()
        .unwrap()
        .instance_id()
        .unwrap()
        .to_string();
    let ip = f
        .service()
        .unwrap()
        .action()
        .unwrap()
        .network_connection_action()
        .unwrap()
        .remote_ip_details()
        .unwrap()
        .ip_address_v4()
        .unwrap()
        .to_string();
    let by_instance = all_ids(
        &gd,
        &det,
        Some(crit(
            "resource.instanceDetails.instanceId",
            Condition::builder().equals(instance.clone()).build(),
        )),
        None,
    )
    .await;
    assert!(by_instance.contains(&ids[0]));
    let everyone_else = all_ids(
        &gd,
        &det,
        Some(crit(
            "resource.instanceDetails.instanceId",
            Condition::builder().not_equals(instance).build(),
        )),
        None,
    )
    .await;
    assert_eq!(by_instance.len() + everyone_else.len(), n);
    let by_ip = all_ids(
        &gd,
        &det,
        Some(crit(
            "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
            Condition::builder().equals(ip).build(),
        )),
        None,
    )
    .await;
    assert!(by_ip.contains(&ids[0]));
    let by_id = all_ids(
        &gd,
        &det,
        Some(crit(
            "id",
            Condition::builder().equals(ids[0].clone()).build(),
        )),
        None,
    )
    .await;
    assert_eq!(by_id, ids);
    // Several fields: all must hold.
    let both = FindingCriteria::builder()
        .criterion(
            "severity",
            Condition::builder().greater_than_or_equal(7).build(),
        )
        .criterion(
            "resource.resourceType",
            Condition::builder().equals("S3Bucket").build(),
        )
        .build();
    let expected = TYPES
        .iter()
        .filter(|t| t.severity_tenths >= 70 && t.resource == catalog::ResourceKind::S3Bucket)
        .count();
    assert_eq!(all_ids(&gd, &det, Some(both), None).await.len(), expected);

    // What GuardDuty refuses: an undocumented field, and matches outside the filter APIs.
    for (field, cond) in [
        (
            "resource.instanceDetails.favouriteColour",
            Condition::builder().equals("x").build(),
        ),
        ("type", Condition::builder().matches("Recon:*").build()),
    ] {
        let err = gd
            .list_findings()
            .detector_id(&det)
            .finding_criteria(crit(field, cond))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("BadRequestException"), "{field}");
        assert!(
            err.message().unwrap().contains(field),
            "{:?}",
            err.message()
        );
    }
}

fn seeded_spec(text: &str) -> OrgSpec {
    OrgSpec::parse(text).expect("org file parses")
}

#[tokio::test]
async fn pagination_is_exact_and_follows_the_sort() {
    let env = Env::with_spec(seeded_spec(
        r#"
        member_accounts = 0
        [[findings]]
        accounts = "all"
        regions = ["us-east-1"]
        per_cell = 1234
        archived_fraction = 0.1
        "#,
    ))
    .await;
    let det = env
        .sandbox
        .world(|w| w.detector(&env.management, REGION).unwrap().id.clone());
    let gd = support::gd(&env.mgmt, REGION);

    let ids = all_ids(&gd, &det, None, None).await;
    assert_eq!(ids.len(), 1234);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        1234,
        "no duplicates"
    );

    let sort = SortCriteria::builder()
        .attribute_name("severity")
        .order_by(OrderBy::Desc)
        .build();
    let sorted = all_ids(&gd, &det, None, Some(sort)).await;
    assert_eq!(sorted.len(), 1234);
    assert_eq!(
        sorted.iter().collect::<HashSet<_>>(),
        ids.iter().collect::<HashSet<_>>()
    );
    let sev: Vec<f64> = get_all(&gd, &det, &sorted)
        .await
        .iter()
        .map(|f| f.severity().unwrap())
        .collect();
    assert_eq!(sev.len(), 1234);
    assert!(
        sev.windows(2).all(|w| w[0] >= w[1]),
        "descending across pages"
    );

    let sort = SortCriteria::builder()
        .attribute_name("updatedAt")
        .order_by(OrderBy::Asc)
        .build();
    let active = crit(
        "service.archived",
        Condition::builder().equals("false").build(),
    );
    let by_time = all_ids(&gd, &det, Some(active), Some(sort)).await;
    assert_eq!(by_time.len(), 1234 - 123);
    let times: Vec<String> = get_all(&gd, &det, &by_time)
        .await
        .iter()
        .map(|f| f.updated_at().unwrap().to_string())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "ascending updatedAt"
    );

    // Pages honour maxResults; out-of-range values and forged tokens are refused.
    let first = gd
        .list_findings()
        .detector_id(&det)
        .max_results(7)
        .send()
        .await
        .unwrap();
    assert_eq!(first.finding_ids().len(), 7);
    assert!(first.next_token().is_some());
    let default = gd.list_findings().detector_id(&det).send().await.unwrap();
    assert_eq!(default.finding_ids().len(), 50);
    let err = gd
        .list_findings()
        .detector_id(&det)
        .max_results(51)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
    let err = gd
        .list_findings()
        .detector_id(&det)
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
    let err = gd
        .list_findings()
        .detector_id(&det)
        .sort_criteria(SortCriteria::builder().attribute_name("nonsense").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
}

#[tokio::test]
async fn statistics_group_findings_with_known_counts() {
    let env = Env::with_spec(seeded_spec(
        r#"
        member_accounts = 1
        [[findings]]
        accounts = "all"
        regions = ["us-east-1"]
        per_cell = 6
        types = ["Recon:EC2/PortProbeUnprotectedPort", "CryptoCurrency:EC2/BitcoinTool.B!DNS", "AttackSequence:S3/CompromisedData"]
        "#,
    ))
    .await;
    let member = env.members()[0].clone();
    associate(&env, &env.management, &member, REGION).await;
    let det = env
        .sandbox
        .world(|w| w.detector(&env.management, REGION).unwrap().id.clone());
    let gd = support::gd(&env.mgmt, REGION);

    let stats = gd
        .get_findings_statistics()
        .detector_id(&det)
        .finding_statistic_types(FindingStatisticType::CountBySeverity)
        .send()
        .await
        .unwrap();
    let by_sev = stats
        .finding_statistics()
        .unwrap()
        .count_by_severity()
        .unwrap();
    assert_eq!(by_sev.get("2.0"), Some(&4));
    assert_eq!(by_sev.get("8.0"), Some(&4));
    assert_eq!(by_sev.get("9.5"), Some(&4));

    let group = |g: GroupByType| gd.get_findings_statistics().detector_id(&det).group_by(g);
    let s = group(GroupByType::Account).send().await.unwrap();
    let accounts = s.finding_statistics().unwrap().grouped_by_account();
    assert_eq!(accounts.len(), 2);
    assert!(accounts
        .iter()
        .all(|a| a.total_findings() == Some(6) && a.last_generated_at().is_some()));

    let s = group(GroupByType::FindingType).send().await.unwrap();
    let types = s.finding_statistics().unwrap().grouped_by_finding_type();
    assert_eq!(types.len(), 3);
    assert!(types.iter().all(|t| t.total_findings() == Some(4)));

    let s = group(GroupByType::Severity).send().await.unwrap();
    let sev: BTreeMap<String, i32> = s
        .finding_statistics()
        .unwrap()
        .grouped_by_severity()
        .iter()
        .map(|g| {
            (
                format!("{:.1}", g.severity().unwrap()),
                g.total_findings().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sev,
        BTreeMap::from([("2.0".into(), 4), ("8.0".into(), 4), ("9.5".into(), 4)])
    );

    let s = group(GroupByType::Resource).send().await.unwrap();
    let res = s.finding_statistics().unwrap().grouped_by_resource();
    assert_eq!(
        res.iter().map(|r| r.total_findings().unwrap()).sum::<i32>(),
        12
    );
    assert!(res.iter().all(|r| r.resource_id().is_some()
        && r.resource_type().is_some()
        && r.account_id().is_some()));

    let s = group(GroupByType::Date).send().await.unwrap();
    let dates = s.finding_statistics().unwrap().grouped_by_date();
    assert_eq!(
        dates
            .iter()
            .map(|d| d.total_findings().unwrap())
            .sum::<i32>(),
        12
    );
    assert!(dates
        .iter()
        .all(|d| d.date().is_some() && d.severity().is_some()));

    // Criteria narrow the statistics; orderBy and maxResults shape them.
    let s = group(GroupByType::FindingType)
        .finding_criteria(crit(
            "severity",
            Condition::builder().greater_than_or_equal(7).build(),
        ))
        .order_by(OrderBy::Asc)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let types = s.finding_statistics().unwrap().grouped_by_finding_type();
    assert_eq!(types.len(), 1);
    assert_ne!(
        types[0].finding_type(),
        Some("Recon:EC2/PortProbeUnprotectedPort")
    );

    let err = group(GroupByType::Account)
        .finding_statistic_types(FindingStatisticType::CountBySeverity)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));

    // Excluding an account (as a query for further groups does) leaves the others' counts.
    let s = group(GroupByType::Account)
        .finding_criteria(crit(
            "accountId",
            Condition::builder()
                .not_equals(env.management.clone())
                .build(),
        ))
        .send()
        .await
        .unwrap();
    let accounts = s.finding_statistics().unwrap().grouped_by_account();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].account_id(), Some(member.as_str()));
    assert_eq!(accounts[0].total_findings(), Some(6));

    // A groupBy outside the model's enum is refused, even when nothing would match.
    let err = group(GroupByType::from("BY_REGION"))
        .finding_criteria(crit(
            "severity",
            Condition::builder().greater_than(10).build(),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
}

/// Management account administers member 0; member 1 is on its own. Five findings each.
async fn org_with_members() -> (Env, String, String) {
    let env = Env::with_spec(seeded_spec(
        r#"
        member_accounts = 2
        [[findings]]
        accounts = "all"
        regions = ["us-east-1"]
        per_cell = 5
        "#,
    ))
    .await;
    let members = env.members();
    associate(&env, &env.management, &members[0], REGION).await;
    (env, members[0].clone(), members[1].clone())
}

fn det_of(env: &Env, account: &str) -> String {
    env.sandbox
        .world(|w| w.detector(account, REGION).unwrap().id.clone())
}

#[tokio::test]
async fn administrator_sees_its_members_and_a_member_only_itself() {
    let (env, member, outsider) = org_with_members().await;
    let admin = support::gd(&env.mgmt, REGION);
    let admin_det = det_of(&env, &env.management);
    let ids = all_ids(&admin, &admin_det, None, None).await;
    assert_eq!(ids.len(), 10);
    let accounts: HashSet<String> = get_all(&admin, &admin_det, &ids)
        .await
        .iter()
        .map(|f| f.account_id().unwrap().to_string())
        .collect();
    assert_eq!(
        accounts,
        HashSet::from([env.management.clone(), member.clone()])
    );
    let only_member = all_ids(
        &admin,
        &admin_det,
        Some(crit(
            "accountId",
            Condition::builder().equals(member.clone()).build(),
        )),
        None,
    )
    .await;
    assert_eq!(only_member.len(), 5);

    let gm = env.gd(&member, REGION).await;
    let member_det = det_of(&env, &member);
    let own = all_ids(&gm, &member_det, None, None).await;
    assert_eq!(own.len(), 5);
    assert_eq!(
        own.iter().collect::<HashSet<_>>(),
        only_member.iter().collect::<HashSet<_>>()
    );
    // A member cannot read its administrator's findings, nor an outsider a member's.
    let admin_own: Vec<String> = ids.iter().filter(|i| !own.contains(i)).cloned().collect();
    let got = gm
        .get_findings()
        .detector_id(&member_det)
        .set_finding_ids(Some(admin_own))
        .send()
        .await
        .unwrap();
    assert!(got.findings().is_empty());
    let go = env.gd(&outsider, REGION).await;
    let got = go
        .get_findings()
        .detector_id(det_of(&env, &outsider))
        .set_finding_ids(Some(own.clone()))
        .send()
        .await
        .unwrap();
    assert!(got.findings().is_empty());

    // Once the administrator stops monitoring the member, its findings drop out of view.
    admin
        .stop_monitoring_members()
        .detector_id(&admin_det)
        .account_ids(member.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(all_ids(&admin, &admin_det, None, None).await.len(), 5);
}

#[tokio::test]
async fn administrator_archives_member_findings_and_members_are_refused() {
    let (env, member, _) = org_with_members().await;
    let admin = support::gd(&env.mgmt, REGION);
    let admin_det = det_of(&env, &env.management);
    let gm = env.gd(&member, REGION).await;
    let member_det = det_of(&env, &member);
    let theirs = all_ids(&gm, &member_det, None, None).await;

    // A member may not archive, not even its own findings: refused by the server.
    for archive in [true, false] {
        let err = if archive {
            gm.archive_findings()
                .detector_id(&member_det)
                .set_finding_ids(Some(theirs.clone()))
                .send()
                .await
                .unwrap_err()
                .into_service_error()
                .meta()
                .clone()
        } else {
            gm.unarchive_findings()
                .detector_id(&member_det)
                .set_finding_ids(Some(theirs.clone()))
                .send()
                .await
                .unwrap_err()
                .into_service_error()
                .meta()
                .clone()
        };
        assert_eq!(err.code(), Some("BadRequestException"));
        assert_eq!(err.message(), Some(MEMBER_ARCHIVE_MESSAGE));
    }

    admin
        .archive_findings()
        .detector_id(&admin_det)
        .set_finding_ids(Some(theirs[..2].to_vec()))
        .send()
        .await
        .unwrap();
    let archived = crit(
        "service.archived",
        Condition::builder().equals("true").build(),
    );
    let seen_by_member = all_ids(&gm, &member_det, Some(archived.clone()), None).await;
    assert_eq!(
        seen_by_member.iter().collect::<HashSet<_>>(),
        theirs[..2].iter().collect::<HashSet<_>>()
    );
    let f = get_all(&gm, &member_det, &theirs[..1]).await;
    assert_eq!(f[0].service().unwrap().archived(), Some(true));

    admin
        .unarchive_findings()
        .detector_id(&admin_det)
        .finding_ids(theirs[0].clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        all_ids(&gm, &member_det, Some(archived), None).await,
        vec![theirs[1].clone()]
    );

    // Batch limit: 50 ids.
    let many: Vec<String> = (0..51).map(|i| format!("{i:032x}")).collect();
    let err = admin
        .archive_findings()
        .detector_id(&admin_det)
        .set_finding_ids(Some(many.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
    let err = admin
        .get_findings()
        .detector_id(&admin_det)
        .set_finding_ids(Some(many))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
}

#[tokio::test]
async fn feedback_is_recorded_on_findings() {
    let (_env, gd, det) = with_samples().await;
    let ids = all_ids(&gd, &det, None, None).await;
    gd.update_findings_feedback()
        .detector_id(&det)
        .finding_ids(ids[0].clone())
        .feedback(Feedback::Useful)
        .comments("true positive")
        .send()
        .await
        .unwrap();
    gd.update_findings_feedback()
        .detector_id(&det)
        .finding_ids(ids[1].clone())
        .feedback(Feedback::NotUseful)
        .send()
        .await
        .unwrap();
    let got = get_all(&gd, &det, &ids[..3]).await;
    assert_eq!(got[0].service().unwrap().user_feedback(), Some("USEFUL"));
    assert_eq!(
        got[1].service().unwrap().user_feedback(),
        Some("NOT_USEFUL")
    );
    assert_eq!(got[2].service().unwrap().user_feedback(), None);
    let useful = all_ids(
        &gd,
        &det,
        Some(crit(
            "service.userFeedback",
            Condition::builder().equals("USEFUL").build(),
        )),
        None,
    )
    .await;
    assert_eq!(useful, vec![ids[0].clone()]);
    let err = gd
        .update_findings_feedback()
        .detector_id(&det)
        .finding_ids(ids[0].clone())
        .feedback(Feedback::from("MAYBE"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
}

#[tokio::test]
async fn org_file_findings_carry_attacker_controlled_strings_intact() {
    let env = Env::with_spec(seeded_spec(
        r#"
        member_accounts = 1
        [[findings]]
        accounts = "all"
        regions = ["us-east-1", "eu-west-1"]
        per_cell = 3
        types = ["Recon:EC2/PortProbeUnprotectedPort"]

        [[findings]]
        accounts = ["200000000001"]
        regions = ["eu-west-1"]
        types = ["Backdoor:EC2/C&CActivity.B!DNS", "PenTest:IAMUser/KaliLinux"]
        per_cell = 2
        domain = "<script>alert('x')</script>.evil.example.com"
        user_agent = "=cmd|' /C calc'!A0"
        instance_name = "\"><img src=x onerror=alert(1)>,=HYPERLINK(\"http://x\")"
        "#,
    ))
    .await;
    let member = "200000000001";
    let gd = env.gd(member, "eu-west-1").await;
    let det = env
        .sandbox
        .world(|w| w.detector(member, "eu-west-1").unwrap().id.clone());
    let ids = all_ids(&gd, &det, None, None).await;
    assert_eq!(ids.len(), 5);
    let findings = get_all(&gd, &det, &ids).await;
    let dns = findings
        .iter()
        .find(|f| f.r#type() == Some("Backdoor:EC2/C&CActivity.B!DNS"))
        .unwrap();
    let action = dns.service().unwrap().action().unwrap();
    assert_eq!(
        action.dns_request_action().unwrap().domain(),
        Some("<script>alert('x')</script>.evil.example.com")
    );
    let tags = dns.resource().unwrap().instance_details().unwrap().tags();
    assert_eq!(
        tags[0].value(),
        Some("\"><img src=x onerror=alert(1)>,=HYPERLINK(\"http://x\")")
    );
    let kali = findings
        .iter()
        .find(|f| f.r#type() == Some("PenTest:IAMUser/KaliLinux"))
        .unwrap();
    let call = kali
        .service()
        .unwrap()
        .action()
        .unwrap()
        .aws_api_call_action()
        .unwrap();
    assert_eq!(call.user_agent(), Some("=cmd|' /C calc'!A0"));
    assert_eq!(
        call.domain_details().unwrap().domain(),
        Some("<script>alert('x')</script>.evil.example.com")
    );
    // Seeded findings are not samples, and every seeded cell got an enabled detector.
    assert!(findings
        .iter()
        .all(|f| !f.title().unwrap().starts_with("[SAMPLE]")));
    for account in [env.management.as_str(), member] {
        for region in ["us-east-1", "eu-west-1"] {
            assert!(env
                .sandbox
                .world(|w| w.detector(account, region).unwrap().enabled));
        }
    }
    let mgmt_ids = all_ids(
        &support::gd(&env.mgmt, "us-east-1"),
        &det_of(&env, &env.management),
        None,
        None,
    )
    .await;
    assert_eq!(mgmt_ids.len(), 3);
}

/// The scale the findings benchmark uses: a million findings over 1000 accounts x 17 regions,
/// and one administrator listing a whole region (~59k findings) page by page. Ignored by
/// default (it takes seconds); run with `cargo test --test integration scale -- --ignored`.
#[tokio::test]
#[ignore]
async fn a_million_findings_list_in_linear_time() {
    let regions: Vec<&str> = guardduty_org::regions::default_enabled().take(17).collect();
    let members: Vec<String> = (1..=999).map(OrgSpec::generated_id).collect();
    // Every member is an Enabled member of the management account in us-east-1.
    let text = format!(
        "member_accounts = 999\n\
         [[detectors]]\naccounts = {all:?}\nregions = [\"{REGION}\"]\n\
         [[memberships]]\nadministrator = \"111111111111\"\nmembers = {members:?}\nregions = [\"{REGION}\"]\nstatus = \"Enabled\"\n\
         [[findings]]\naccounts = \"all\"\nregions = {regions:?}\nper_cell = 59\n",
        all = std::iter::once("111111111111".to_string())
            .chain(members.iter().cloned())
            .collect::<Vec<_>>(),
    );
    let started = std::time::Instant::now();
    let env = Env::with_spec(seeded_spec(&text)).await;
    let seeded = started.elapsed();
    let total: usize = env.sandbox.world(|w| {
        w.accounts
            .keys()
            .flat_map(|a| regions.iter().map(move |r| (a.clone(), *r)))
            .map(|(a, r)| w.cell(&a, r).map_or(0, |c| c.findings.len()))
            .sum()
    });
    assert_eq!(total, 1000 * 17 * 59);
    let det = det_of(&env, &env.management);
    let gd = support::gd(&env.mgmt, REGION);
    let started = std::time::Instant::now();
    let ids = all_ids(&gd, &det, None, None).await;
    let listed = started.elapsed();
    assert_eq!(ids.len(), 1000 * 59);
    let started = std::time::Instant::now();
    let sort = SortCriteria::builder()
        .attribute_name("severity")
        .order_by(OrderBy::Desc)
        .build();
    let high = crit(
        "severity",
        Condition::builder().greater_than_or_equal(7).build(),
    );
    let sorted = all_ids(&gd, &det, Some(high), Some(sort)).await;
    let sorted_time = started.elapsed();
    assert!(!sorted.is_empty());
    let started = std::time::Instant::now();
    let some = get_all(&gd, &det, &ids[..5000]).await;
    assert_eq!(some.len(), 5000);
    let got = started.elapsed();
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS")).map(String::from))
        .unwrap_or_default();
    eprintln!(
        "{rss}; seeded {total} findings in {seeded:?}; listed {} in {listed:?}; {} high sorted in {sorted_time:?}; 5000 GetFindings in {got:?}",
        ids.len(),
        sorted.len()
    );
}

#[tokio::test]
async fn findings_go_with_their_detector() {
    let (_env, gd, det) = with_samples().await;
    let old = all_ids(&gd, &det, None, None).await;
    assert_eq!(old.len(), TYPES.len());
    gd.delete_detector().detector_id(&det).send().await.unwrap();
    let new = support::new_detector(&gd).await;
    assert!(all_ids(&gd, &new, None, None).await.is_empty());
    let got = gd
        .get_findings()
        .detector_id(&new)
        .set_finding_ids(Some(old[..10].to_vec()))
        .send()
        .await
        .unwrap();
    assert!(got.findings().is_empty());
    // New findings get new ids.
    support::seed_samples(&gd, &new, &["Recon:EC2/PortProbeUnprotectedPort"]).await;
    let fresh = all_ids(&gd, &new, None, None).await;
    assert_eq!(fresh.len(), 1);
    assert!(!old.contains(&fresh[0]));
}
