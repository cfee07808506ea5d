//! GuardDuty detectors through aws-sdk-guardduty: create/list/get/update/delete, features and
//! legacy data sources, one detector per account per region, ownership of detector ids.

use aws_sdk_guardduty::types::{
    DataSourceConfigurations, DetectorAdditionalConfiguration, DetectorFeature,
    DetectorFeatureConfiguration, DetectorFeatureResult, DetectorStatus,
    FeatureAdditionalConfiguration, FeatureStatus, FindingPublishingFrequency, S3LogsConfiguration,
};

use crate::support::{self, assert_bad_request, new_detector, Env};

fn feature(name: DetectorFeature, status: FeatureStatus) -> DetectorFeatureConfiguration {
    DetectorFeatureConfiguration::builder()
        .name(name)
        .status(status)
        .build()
}

#[tokio::test]
#[allow(deprecated)] // the legacy dataSources view is part of the API under test
async fn detector_lifecycle_create_get_update_delete() {
    let env = Env::new(1).await;
    let gd = support::gd(&env.mgmt, "us-east-1");
    let id = gd
        .create_detector()
        .enable(true)
        .finding_publishing_frequency(FindingPublishingFrequency::FifteenMinutes)
        .features(feature(
            DetectorFeature::S3DataEvents,
            FeatureStatus::Enabled,
        ))
        .features(
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::RuntimeMonitoring)
                .status(FeatureStatus::Enabled)
                .additional_configuration(
                    DetectorAdditionalConfiguration::builder()
                        .name(FeatureAdditionalConfiguration::Ec2AgentManagement)
                        .status(FeatureStatus::Enabled)
                        .build(),
                )
                .build(),
        )
        .tags("team", "security")
        .send()
        .await
        .unwrap()
        .detector_id()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 32);

    let d = gd.get_detector().detector_id(&id).send().await.unwrap();
    assert_eq!(d.status(), Some(&DetectorStatus::Enabled));
    assert_eq!(
        d.finding_publishing_frequency(),
        Some(&FindingPublishingFrequency::FifteenMinutes)
    );
    assert_eq!(
        d.service_role(),
        Some(
            format!(
                "arn:aws:iam::{}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
                env.management
            )
            .as_str()
        )
    );
    let created = d.created_at().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
    assert_eq!(d.tags().unwrap()["team"], "security");
    let status_of = |out: &aws_sdk_guardduty::operation::get_detector::GetDetectorOutput,
                     name: DetectorFeatureResult| {
        out.features()
            .iter()
            .find(|f| f.name() == Some(&name))
            .and_then(|f| f.status().cloned())
    };
    assert_eq!(
        status_of(&d, DetectorFeatureResult::CloudTrail),
        Some(FeatureStatus::Enabled)
    );
    assert_eq!(
        status_of(&d, DetectorFeatureResult::S3DataEvents),
        Some(FeatureStatus::Enabled)
    );
    assert_eq!(
        status_of(&d, DetectorFeatureResult::RdsLoginEvents),
        Some(FeatureStatus::Disabled)
    );
    let runtime = d
        .features()
        .iter()
        .find(|f| f.name() == Some(&DetectorFeatureResult::RuntimeMonitoring))
        .unwrap();
    assert!(runtime.updated_at().unwrap().secs() > 1_700_000_000);
    let ec2 = runtime
        .additional_configuration()
        .iter()
        .find(|a| a.name() == Some(&FeatureAdditionalConfiguration::Ec2AgentManagement))
        .unwrap();
    assert_eq!(ec2.status(), Some(&FeatureStatus::Enabled));
    let ds = d.data_sources().unwrap();
    assert_eq!(
        ds.s3_logs().unwrap().status(),
        Some(&aws_sdk_guardduty::types::DataSourceStatus::Enabled)
    );

    gd.update_detector()
        .detector_id(&id)
        .enable(false)
        .finding_publishing_frequency(FindingPublishingFrequency::OneHour)
        .features(feature(
            DetectorFeature::RdsLoginEvents,
            FeatureStatus::Enabled,
        ))
        .features(feature(
            DetectorFeature::S3DataEvents,
            FeatureStatus::Disabled,
        ))
        .send()
        .await
        .unwrap();
    let d = gd.get_detector().detector_id(&id).send().await.unwrap();
    assert_eq!(d.status(), Some(&DetectorStatus::Disabled));
    assert_eq!(
        d.finding_publishing_frequency(),
        Some(&FindingPublishingFrequency::OneHour)
    );
    assert_eq!(
        status_of(&d, DetectorFeatureResult::RdsLoginEvents),
        Some(FeatureStatus::Enabled)
    );
    assert_eq!(
        status_of(&d, DetectorFeatureResult::S3DataEvents),
        Some(FeatureStatus::Disabled)
    );

    gd.delete_detector().detector_id(&id).send().await.unwrap();
    let list = gd.list_detectors().send().await.unwrap();
    assert!(list.detector_ids().is_empty());
    let err = gd.get_detector().detector_id(&id).send().await.unwrap_err();
    assert_bad_request(&err, "not owned by the current account");
}

#[tokio::test]
async fn one_detector_per_account_per_region() {
    let env = Env::new(1).await;
    let east = support::gd(&env.mgmt, "us-east-1");
    let west = support::gd(&env.mgmt, "eu-west-1");
    let first = new_detector(&east).await;
    let err = east
        .create_detector()
        .enable(true)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "a detector already exists for the current account");
    let other = new_detector(&west).await;
    assert_ne!(first, other);
    assert_eq!(
        east.list_detectors().send().await.unwrap().detector_ids(),
        std::slice::from_ref(&first)
    );
    assert_eq!(
        west.list_detectors().send().await.unwrap().detector_ids(),
        [other]
    );
    // Another account's detector in the same region is its own.
    let member = &env.members()[0];
    let theirs = support::gd(&env.user(member).await, "us-east-1");
    let their_id = new_detector(&theirs).await;
    assert_ne!(their_id, first);
}

#[tokio::test]
#[allow(deprecated)] // the legacy dataSources view is part of the API under test
async fn defaults_and_legacy_data_sources() {
    let env = Env::new(0).await;
    let gd = support::gd(&env.mgmt, "us-east-1");
    let id = gd
        .create_detector()
        .enable(true)
        .data_sources(
            DataSourceConfigurations::builder()
                .s3_logs(S3LogsConfiguration::builder().enable(true).build())
                .build(),
        )
        .send()
        .await
        .unwrap()
        .detector_id()
        .unwrap()
        .to_string();
    let d = gd.get_detector().detector_id(&id).send().await.unwrap();
    assert_eq!(
        d.finding_publishing_frequency(),
        Some(&FindingPublishingFrequency::SixHours)
    );
    let s3 = d
        .features()
        .iter()
        .find(|f| f.name() == Some(&DetectorFeatureResult::S3DataEvents))
        .unwrap();
    assert_eq!(s3.status(), Some(&FeatureStatus::Enabled));
}

#[tokio::test]
#[allow(deprecated)] // the legacy dataSources view is part of the API under test
async fn invalid_detector_input_is_refused() {
    let env = Env::new(0).await;
    let gd = support::gd(&env.mgmt, "us-east-1");
    let err = gd
        .create_detector()
        .enable(true)
        .features(feature(
            DetectorFeature::EksRuntimeMonitoring,
            FeatureStatus::Enabled,
        ))
        .features(feature(
            DetectorFeature::RuntimeMonitoring,
            FeatureStatus::Enabled,
        ))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "EKS_RUNTIME_MONITORING");
    let err = gd
        .create_detector()
        .enable(true)
        .features(feature(
            DetectorFeature::S3DataEvents,
            FeatureStatus::Enabled,
        ))
        .data_sources(
            DataSourceConfigurations::builder()
                .s3_logs(S3LogsConfiguration::builder().enable(true).build())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "both dataSources and features");
    // `enable` is required; the SDK leaves the check to the service.
    let err = gd.create_detector().send().await.unwrap_err();
    assert_bad_request(&err, "enable");
    // Nothing was created by the refused calls.
    assert!(gd
        .list_detectors()
        .send()
        .await
        .unwrap()
        .detector_ids()
        .is_empty());

    let id = new_detector(&gd).await;
    let err = gd
        .update_detector()
        .detector_id(&id)
        .features(feature(
            DetectorFeature::EksRuntimeMonitoring,
            FeatureStatus::Enabled,
        ))
        .features(feature(
            DetectorFeature::RuntimeMonitoring,
            FeatureStatus::Enabled,
        ))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "EKS_RUNTIME_MONITORING");
}

#[tokio::test]
async fn detectors_of_other_accounts_are_not_owned() {
    let env = Env::new(1).await;
    let mine = support::gd(&env.mgmt, "us-east-1");
    let id = new_detector(&mine).await;
    let member = &env.members()[0];
    let theirs = support::gd(&env.user(member).await, "us-east-1");
    new_detector(&theirs).await;
    let needle = "not owned by the current account";
    let err = theirs
        .get_detector()
        .detector_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, needle);
    let err = theirs
        .update_detector()
        .detector_id(&id)
        .enable(false)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, needle);
    let err = theirs
        .delete_detector()
        .detector_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, needle);
    let err = theirs
        .list_members()
        .detector_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, needle);
    // The same account's detector id is not valid in another region either.
    let west = support::gd(&env.mgmt, "eu-west-1");
    let err = west
        .get_detector()
        .detector_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, needle);
    // And the owner's detector is untouched.
    let d = mine.get_detector().detector_id(&id).send().await.unwrap();
    assert_eq!(d.status(), Some(&DetectorStatus::Enabled));
}

#[tokio::test]
async fn list_detectors_paginates_and_bounds_max_results() {
    let env = Env::new(0).await;
    let gd = support::gd(&env.mgmt, "us-east-1");
    let id = new_detector(&gd).await;
    let ids: Vec<String> = gd
        .list_detectors()
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, [id]);
    let err = gd
        .list_detectors()
        .max_results(51)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "maxResults");
    let err = gd
        .list_detectors()
        .next_token("bogus")
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "nextToken");
}

#[tokio::test]
async fn delete_detector_is_refused_while_members_remain() {
    let env = Env::new(1).await;
    let member = env.members()[0].clone();
    let admin = support::gd(&env.mgmt, "us-east-1");
    let mine = new_detector(&admin).await;
    let theirs = support::gd(&env.user(&member).await, "us-east-1");
    let their_id = new_detector(&theirs).await;
    support::create_member(&env, &admin, &mine, &member).await;
    admin
        .invite_members()
        .detector_id(&mine)
        .account_ids(&member)
        .send()
        .await
        .unwrap();
    let err = admin
        .delete_detector()
        .detector_id(&mine)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(
        &err,
        "cannot delete detector while it has invited or associated members",
    );

    // The member accepts, then deletes its own detector: it leaves the administrator.
    let inv = theirs.list_invitations().send().await.unwrap();
    let inv = &inv.invitations()[0];
    theirs
        .accept_administrator_invitation()
        .detector_id(&their_id)
        .administrator_id(inv.account_id().unwrap())
        .invitation_id(inv.invitation_id().unwrap())
        .send()
        .await
        .unwrap();
    theirs
        .delete_detector()
        .detector_id(&their_id)
        .send()
        .await
        .unwrap();
    let got = admin
        .get_members()
        .detector_id(&mine)
        .account_ids(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(got.members()[0].relationship_status(), Some("Resigned"));
    assert!(got.members()[0].detector_id().is_none());
    assert!(env
        .sandbox
        .world(|w| w.administrator_of(&member, "us-east-1").is_none()));

    // With the member gone, the administrator can delete its detector.
    admin
        .delete_members()
        .detector_id(&mine)
        .account_ids(&member)
        .send()
        .await
        .unwrap();
    admin
        .delete_detector()
        .detector_id(&mine)
        .send()
        .await
        .unwrap();
}
