//! GuardDuty saved filters in the sandbox, through aws-sdk-guardduty over HTTP: CRUD, limits,
//! pagination, and ARCHIVE filters (suppression rules) archiving new findings as they arrive,
//! owned by administrators and standalone accounts only.

use aws_sdk_guardduty::types::{Condition, FilterAction, FindingCriteria};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use guardduty_org::sandbox::guardduty::catalog::TYPES;
use guardduty_org::sandbox::guardduty::filters::MEMBER_SUPPRESSION_MESSAGE;

use crate::gd_findings::{all_ids, crit, get_all, with_samples, REGION};
use crate::support::{self, associate, detector, Env};

fn high() -> FindingCriteria {
    crit(
        "severity",
        Condition::builder().greater_than_or_equal(7).build(),
    )
}

#[tokio::test]
async fn filters_are_created_listed_read_updated_and_deleted() {
    let env = Env::new(0).await;
    let det = detector(&env, &env.management, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);

    for (i, name) in ["high-sev", "recon.only", "noisy_scanner"]
        .iter()
        .enumerate()
    {
        let out = gd
            .create_filter()
            .detector_id(&det)
            .name(*name)
            .description(format!("filter {i}"))
            .action(FilterAction::Noop)
            .rank(i as i32 + 1)
            .finding_criteria(high())
            .tags("team", "secops")
            .send()
            .await
            .unwrap();
        assert_eq!(out.name(), Some(*name));
    }
    let names: Vec<String> = gd
        .list_filters()
        .detector_id(&det)
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let mut expected = vec!["high-sev", "noisy_scanner", "recon.only"];
    expected.sort_unstable();
    assert_eq!(names, expected);

    let got = gd
        .get_filter()
        .detector_id(&det)
        .filter_name("high-sev")
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), Some("high-sev"));
    assert_eq!(got.description(), Some("filter 0"));
    assert_eq!(got.action(), Some(&FilterAction::Noop));
    assert_eq!(got.rank(), Some(1));
    assert_eq!(got.finding_criteria(), Some(&high()));
    assert_eq!(
        got.tags().unwrap().get("team").map(String::as_str),
        Some("secops")
    );
    assert_eq!(got.version(), Some(1));
    assert!(got.created_at().is_some());

    let criteria = crit("type", Condition::builder().matches("Recon:*").build());
    gd.update_filter()
        .detector_id(&det)
        .filter_name("high-sev")
        .description("now recon")
        .rank(5)
        .finding_criteria(criteria.clone())
        .send()
        .await
        .unwrap();
    let got = gd
        .get_filter()
        .detector_id(&det)
        .filter_name("high-sev")
        .send()
        .await
        .unwrap();
    assert_eq!(got.description(), Some("now recon"));
    assert_eq!(got.rank(), Some(5));
    assert_eq!(got.finding_criteria(), Some(&criteria));
    assert_eq!(got.version(), Some(2));

    gd.delete_filter()
        .detector_id(&det)
        .filter_name("high-sev")
        .send()
        .await
        .unwrap();
    let err = gd
        .get_filter()
        .detector_id(&det)
        .filter_name("high-sev")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
    let err = gd
        .delete_filter()
        .detector_id(&det)
        .filter_name("high-sev")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
}

#[tokio::test]
async fn bad_filters_are_refused() {
    let env = Env::new(0).await;
    let det = detector(&env, &env.management, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);
    let create = |name: &str, criteria: FindingCriteria| {
        gd.create_filter()
            .detector_id(&det)
            .name(name)
            .finding_criteria(criteria)
    };
    create("dup-name", high()).send().await.unwrap();
    let refused = [
        create("dup-name", high()),
        create("ab", high()),
        create(&"x".repeat(65), high()),
        create("with space", high()),
        create(
            "bad-field",
            crit("nope.nothing", Condition::builder().equals("x").build()),
        ),
        create("empty-criteria", FindingCriteria::builder().build()),
        create("bad-rank", high()).rank(101),
    ];
    for req in refused {
        let err = req.send().await.unwrap_err();
        assert_eq!(err.code(), Some("BadRequestException"), "{err:?}");
    }
    // At most 100 filters per account per region.
    for i in 1..100 {
        create(&format!("filter-{i:03}"), high())
            .send()
            .await
            .unwrap();
    }
    let err = create("one-too-many", high()).send().await.unwrap_err();
    assert_eq!(err.code(), Some("BadRequestException"));
    assert!(err.message().unwrap().contains("100"));
    // Another region has its own budget.
    let other = detector(&env, &env.management, "eu-west-1", true).await;
    support::gd(&env.mgmt, "eu-west-1")
        .create_filter()
        .detector_id(&other)
        .name("one-too-many")
        .finding_criteria(high())
        .send()
        .await
        .unwrap();
}

fn archived() -> FindingCriteria {
    crit(
        "service.archived",
        Condition::builder().equals("true").build(),
    )
}

fn recon_types() -> usize {
    TYPES
        .iter()
        .filter(|t| t.name.starts_with("Recon:"))
        .count()
}

fn current() -> FindingCriteria {
    crit(
        "service.archived",
        Condition::builder().equals("false").build(),
    )
}

/// The types of the findings `ids` names.
async fn types_of(gd: &aws_sdk_guardduty::Client, det: &str, ids: &[String]) -> Vec<String> {
    get_all(gd, det, ids)
        .await
        .iter()
        .map(|f| f.r#type().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn archive_filters_suppress_new_findings_and_leave_existing_ones() {
    let (_env, gd, det) = with_samples().await;

    // A NOOP filter archives nothing.
    gd.create_filter()
        .detector_id(&det)
        .name("just-looking")
        .action(FilterAction::Noop)
        .finding_criteria(high())
        .send()
        .await
        .unwrap();
    assert!(all_ids(&gd, &det, Some(archived()), None).await.is_empty());

    // An ARCHIVE filter (a suppression rule) leaves the findings that already match current ...
    gd.create_filter()
        .detector_id(&det)
        .name("suppress-recon")
        .action(FilterAction::Archive)
        .finding_criteria(crit(
            "type",
            Condition::builder().matches("Recon:*").build(),
        ))
        .send()
        .await
        .unwrap();
    assert!(all_ids(&gd, &det, Some(archived()), None).await.is_empty());
    assert_eq!(
        all_ids(&gd, &det, Some(current()), None).await.len(),
        TYPES.len()
    );
    assert!(recon_types() > 0);

    // ... and archives the matching findings generated from now on, only those.
    support::seed_samples(&gd, &det, &["Recon:EC2/Portscan", "Backdoor:EC2/Spambot"]).await;
    let gone = all_ids(&gd, &det, Some(archived()), None).await;
    assert_eq!(types_of(&gd, &det, &gone).await, ["Recon:EC2/Portscan"]);
    assert_eq!(
        all_ids(&gd, &det, Some(current()), None).await.len(),
        TYPES.len() + 1
    );

    // Turning a NOOP filter into ARCHIVE changes nothing that exists either; it suppresses
    // what arrives next (notMatches keeps EC2 findings).
    gd.update_filter()
        .detector_id(&det)
        .filter_name("just-looking")
        .action(FilterAction::Archive)
        .finding_criteria(crit(
            "type",
            Condition::builder().not_matches("*EC2*").build(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(all_ids(&gd, &det, Some(archived()), None).await.len(), 1);
    support::seed_samples(
        &gd,
        &det,
        &["PenTest:IAMUser/KaliLinux", "Backdoor:EC2/Spambot"],
    )
    .await;
    let gone = all_ids(&gd, &det, Some(archived()), None).await;
    let mut types = types_of(&gd, &det, &gone).await;
    types.sort();
    assert_eq!(types, ["PenTest:IAMUser/KaliLinux", "Recon:EC2/Portscan"]);
}

#[tokio::test]
async fn only_an_administrator_or_a_standalone_account_may_suppress() {
    let env = Env::new(2).await;
    let (member, standalone) = (env.members()[0].clone(), env.members()[1].clone());
    associate(&env, &env.management, &member, REGION).await;
    let archive_filter = |gd: &aws_sdk_guardduty::Client, det: &str, name: &str| {
        gd.create_filter()
            .detector_id(det)
            .name(name)
            .action(FilterAction::Archive)
            .finding_criteria(high())
    };

    // An associated member may keep NOOP filters, but not suppression rules.
    let gm = env.gd(&member, REGION).await;
    let member_det = detector(&env, &member, REGION, true).await;
    let err = archive_filter(&gm, &member_det, "member-rule")
        .send()
        .await
        .unwrap_err();
    support::assert_bad_request(&err, MEMBER_SUPPRESSION_MESSAGE);
    gm.create_filter()
        .detector_id(&member_det)
        .name("member-view")
        .action(FilterAction::Noop)
        .finding_criteria(high())
        .send()
        .await
        .unwrap();
    let err = gm
        .update_filter()
        .detector_id(&member_det)
        .filter_name("member-view")
        .action(FilterAction::Archive)
        .send()
        .await
        .unwrap_err();
    support::assert_bad_request(&err, MEMBER_SUPPRESSION_MESSAGE);
    let view = gm
        .get_filter()
        .detector_id(&member_det)
        .filter_name("member-view")
        .send()
        .await
        .unwrap();
    assert_eq!(view.action(), Some(&FilterAction::Noop));

    // The administrator and an account on its own may.
    let admin_det = detector(&env, &env.management, REGION, true).await;
    archive_filter(&support::gd(&env.mgmt, REGION), &admin_det, "admin-rule")
        .send()
        .await
        .unwrap();
    let standalone_det = detector(&env, &standalone, REGION, true).await;
    archive_filter(
        &env.gd(&standalone, REGION).await,
        &standalone_det,
        "own-rule",
    )
    .send()
    .await
    .unwrap();
}

#[tokio::test]
async fn an_administrators_archive_filter_covers_its_members_new_findings() {
    let env = Env::new(1).await;
    let member = env.members()[0].clone();
    let admin_det = detector(&env, &env.management, REGION, true).await;
    let member_det = detector(&env, &member, REGION, true).await;
    associate(&env, &env.management, &member, REGION).await;
    let admin = support::gd(&env.mgmt, REGION);
    admin
        .create_filter()
        .detector_id(&admin_det)
        .name("root-is-expected")
        .action(FilterAction::Archive)
        .finding_criteria(crit(
            "type",
            Condition::builder()
                .equals("Policy:IAMUser/RootCredentialUsage")
                .build(),
        ))
        .send()
        .await
        .unwrap();
    let gm = env.gd(&member, REGION).await;
    support::seed_samples(
        &gm,
        &member_det,
        &[
            "Policy:IAMUser/RootCredentialUsage",
            "PenTest:IAMUser/KaliLinux",
        ],
    )
    .await;
    let archived_ids = all_ids(&gm, &member_det, Some(archived()), None).await;
    assert_eq!(archived_ids.len(), 1);
    let f = &get_all(&gm, &member_det, &archived_ids).await[0];
    assert_eq!(f.r#type(), Some("Policy:IAMUser/RootCredentialUsage"));
    assert_eq!(all_ids(&admin, &admin_det, None, None).await.len(), 2);
}

#[tokio::test]
async fn a_filter_created_between_pages_repeats_no_filter() {
    let env = Env::new(0).await;
    let det = detector(&env, &env.management, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);
    let create = |name: &'static str| {
        gd.create_filter()
            .detector_id(&det)
            .name(name)
            .finding_criteria(high())
            .send()
    };
    for name in ["bbb", "ccc", "ddd"] {
        create(name).await.unwrap();
    }
    let list = || gd.list_filters().detector_id(&det).max_results(2);
    let first = list().send().await.unwrap();
    assert_eq!(first.filter_names(), ["bbb", "ccc"]);
    // A name that sorts before the page already read arrives in between.
    create("aaa").await.unwrap();
    let token = first.next_token().expect("a second page").to_string();
    let second = list().next_token(token).send().await.unwrap();
    assert_eq!(second.filter_names(), ["ddd"]);
    assert_eq!(second.next_token(), None);
}
