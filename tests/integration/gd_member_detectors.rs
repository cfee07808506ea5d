//! GetMemberDetectors / UpdateMemberDetectors through aws-sdk-guardduty: the delegated
//! administrator reads and sets its organization members' detector features; accounts that are
//! not associated members come back unprocessed; over 50 ids and a member calling are refused.

use aws_sdk_guardduty::types::{
    AccountDetail, FeatureStatus, MemberFeaturesConfiguration, OrgFeature,
};
use aws_sdk_guardduty::Client;
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, assert_bad_request, Env};

const OUTSIDER: &str = "999999999999";

/// An organization whose delegated administrator (member 1) has members 2 and 3 (organization
/// accounts, Enabled at once) and an outside account (Created, never invited) in us-east-1.
async fn org_with_members() -> (Env, Client, String) {
    let env = Env::new(3).await;
    let admin = OrgSpec::generated_id(1);
    support::gd(&env.mgmt, "us-east-1")
        .enable_organization_admin_account()
        .admin_account_id(&admin)
        .send()
        .await
        .unwrap();
    let gd = support::gd(&env.user(&admin).await, "us-east-1");
    let det = gd.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let details = [
        (OrgSpec::generated_id(2), "m2@example.com"),
        (OrgSpec::generated_id(3), "m3@example.com"),
        (OUTSIDER.to_string(), "outside@example.com"),
    ]
    .into_iter()
    .map(|(id, email)| AccountDetail::builder().account_id(id).email(email).build())
    .collect::<Vec<_>>();
    let out = gd
        .create_members()
        .detector_id(&det)
        .set_account_details(Some(details))
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty(), "{out:?}");
    (env, gd, det)
}

fn s3_on() -> MemberFeaturesConfiguration {
    MemberFeaturesConfiguration::builder()
        .name(OrgFeature::S3DataEvents)
        .status(FeatureStatus::Enabled)
        .build()
}

/// The status of `feature` in the member's detector, as GetMemberDetectors reports it.
async fn member_feature(gd: &Client, det: &str, account: &str, feature: &str) -> String {
    let out = gd
        .get_member_detectors()
        .detector_id(det)
        .account_ids(account)
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty(), "{out:?}");
    let config = &out.member_data_source_configurations()[0];
    assert_eq!(config.account_id(), Some(account));
    config
        .features()
        .iter()
        .find(|f| f.name().map(|n| n.as_str()) == Some(feature))
        .and_then(|f| f.status())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn administrator_sets_member_features() {
    let (env, gd, det) = org_with_members().await;
    let (m2, m3) = (OrgSpec::generated_id(2), OrgSpec::generated_id(3));
    assert_eq!(
        member_feature(&gd, &det, &m2, "S3_DATA_EVENTS").await,
        "DISABLED"
    );
    let out = gd
        .update_member_detectors()
        .detector_id(&det)
        .account_ids(&m2)
        .features(s3_on())
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty(), "{out:?}");
    assert_eq!(
        member_feature(&gd, &det, &m2, "S3_DATA_EVENTS").await,
        "ENABLED"
    );
    // Only the named member changes.
    assert_eq!(
        member_feature(&gd, &det, &m3, "S3_DATA_EVENTS").await,
        "DISABLED"
    );
    // The member's own detector says the same.
    let own = support::gd(&env.user(&m2).await, "us-east-1");
    let own_det = own.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let d = own
        .get_detector()
        .detector_id(own_det)
        .send()
        .await
        .unwrap();
    let s3 = d
        .features()
        .iter()
        .find(|f| f.name().map(|n| n.as_str()) == Some("S3_DATA_EVENTS"))
        .map(|f| f.status().unwrap().as_str().to_string());
    assert_eq!(s3.as_deref(), Some("ENABLED"));
    // The legacy data sources view follows the feature.
    let out = gd
        .get_member_detectors()
        .detector_id(&det)
        .account_ids(&m2)
        .send()
        .await
        .unwrap();
    #[allow(deprecated)]
    let ds = out.member_data_source_configurations()[0]
        .data_sources()
        .unwrap();
    assert_eq!(ds.s3_logs().unwrap().status().unwrap().as_str(), "ENABLED");
}

#[tokio::test]
async fn non_members_and_unassociated_members_are_unprocessed() {
    let (_env, gd, det) = org_with_members().await;
    let m2 = OrgSpec::generated_id(2);
    let stranger = "123456789012";
    let out = gd
        .update_member_detectors()
        .detector_id(&det)
        .account_ids(&m2)
        .account_ids(stranger)
        .account_ids(OUTSIDER)
        .features(s3_on())
        .send()
        .await
        .unwrap();
    let mut unprocessed: Vec<(&str, &str)> = out
        .unprocessed_accounts()
        .iter()
        .map(|u| (u.account_id().unwrap(), u.result().unwrap()))
        .collect();
    unprocessed.sort();
    assert_eq!(unprocessed.len(), 2, "{unprocessed:?}");
    assert_eq!(unprocessed[0].0, stranger);
    assert!(unprocessed[0].1.contains("not a member"), "{unprocessed:?}");
    assert_eq!(unprocessed[1].0, OUTSIDER);
    assert!(
        unprocessed[1].1.contains("not an associated member"),
        "{unprocessed:?}"
    );
    // The member in the same batch was still updated.
    assert_eq!(
        member_feature(&gd, &det, &m2, "S3_DATA_EVENTS").await,
        "ENABLED"
    );
    let got = gd
        .get_member_detectors()
        .detector_id(&det)
        .account_ids(stranger)
        .send()
        .await
        .unwrap();
    assert!(got.member_data_source_configurations().is_empty());
    assert_eq!(got.unprocessed_accounts()[0].account_id(), Some(stranger));
}

#[tokio::test]
async fn more_than_fifty_accounts_and_members_calling_are_refused() {
    let (env, gd, det) = org_with_members().await;
    let many: Vec<String> = (0..51).map(|i| format!("{:012}", 100 + i)).collect();
    let err = gd
        .update_member_detectors()
        .detector_id(&det)
        .set_account_ids(Some(many.clone()))
        .features(s3_on())
        .send()
        .await
        .unwrap_err();
    assert_eq!(support::code(&err), "BadRequestException", "{err:?}");
    let err = gd
        .get_member_detectors()
        .detector_id(&det)
        .set_account_ids(Some(many))
        .send()
        .await
        .unwrap_err();
    assert_eq!(support::code(&err), "BadRequestException", "{err:?}");

    // A member may not manage detectors, not even naming its administrator.
    let m2 = OrgSpec::generated_id(2);
    let member = support::gd(&env.user(&m2).await, "us-east-1");
    let own_det = member.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let err = member
        .update_member_detectors()
        .detector_id(&own_det)
        .account_ids(OrgSpec::generated_id(1))
        .features(s3_on())
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "cannot manage member detectors");
    // Nor may anyone use a detector id that is not its own.
    let err = member
        .update_member_detectors()
        .detector_id(&det)
        .account_ids(OrgSpec::generated_id(3))
        .features(s3_on())
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "not owned");
}
