//! Protection plans a region does not offer (`[unavailable_features]`): left out of what
//! GuardDuty reports there, refused when turned on there, offered everywhere else.

use aws_sdk_guardduty::types::{
    DetectorFeature, DetectorFeatureConfiguration, FeatureStatus, FreeTrialFeatureResult,
    OrgFeature, OrgFeatureStatus, OrganizationFeatureConfiguration,
};
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, assert_bad_request, Env};

const ADMIN: &str = "111111111111";
const MEMBER: &str = "200000000001";
const THERE: &str = "sa-east-1";
const ELSEWHERE: &str = "us-east-1";

fn org() -> OrgSpec {
    OrgSpec::parse(&format!(
        r#"
        member_accounts = 1
        [guardduty]
        admin = "{ADMIN}"
        regions = ["{THERE}", "{ELSEWHERE}"]
        [[detectors]]
        accounts = ["{ADMIN}", "{MEMBER}"]
        regions = ["{THERE}", "{ELSEWHERE}"]
        [[memberships]]
        administrator = "{ADMIN}"
        members = ["{MEMBER}"]
        regions = ["{THERE}", "{ELSEWHERE}"]
        status = "Enabled"
        [unavailable_features]
        "{THERE}" = ["RDS_LOGIN_EVENTS", "LAMBDA_NETWORK_LOGS"]
        "#
    ))
    .unwrap()
}

fn det(env: &Env, account: &str, region: &str) -> String {
    env.sandbox
        .world(|w| w.detector(account, region).unwrap().id.clone())
}

fn enable(f: DetectorFeature) -> DetectorFeatureConfiguration {
    DetectorFeatureConfiguration::builder()
        .name(f)
        .status(FeatureStatus::Enabled)
        .build()
}

#[tokio::test]
async fn a_plan_not_offered_in_a_region_is_left_out_and_refused_there_only() {
    let env = Env::with_spec(org()).await;
    let names = |d: &aws_sdk_guardduty::operation::get_detector::GetDetectorOutput| {
        d.features()
            .iter()
            .map(|f| f.name().unwrap().as_str().to_string())
            .collect::<Vec<_>>()
    };
    let there = support::gd(&env.mgmt, THERE);
    let got = there
        .get_detector()
        .detector_id(det(&env, ADMIN, THERE))
        .send()
        .await
        .unwrap();
    let listed = names(&got);
    assert!(
        !listed.contains(&"RDS_LOGIN_EVENTS".to_string()),
        "{listed:?}"
    );
    assert!(listed.contains(&"S3_DATA_EVENTS".to_string()), "{listed:?}");
    let elsewhere = support::gd(&env.mgmt, ELSEWHERE);
    let got = elsewhere
        .get_detector()
        .detector_id(det(&env, ADMIN, ELSEWHERE))
        .send()
        .await
        .unwrap();
    assert!(names(&got).contains(&"RDS_LOGIN_EVENTS".to_string()));

    // Turning it on there is refused; elsewhere it works; turning it off is no harm.
    let e = there
        .update_detector()
        .detector_id(det(&env, ADMIN, THERE))
        .features(enable(DetectorFeature::RdsLoginEvents))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(
        e.as_service_error().unwrap(),
        "RDS_LOGIN_EVENTS is not available in the region sa-east-1",
    );
    elsewhere
        .update_detector()
        .detector_id(det(&env, ADMIN, ELSEWHERE))
        .features(enable(DetectorFeature::RdsLoginEvents))
        .send()
        .await
        .unwrap();
    there
        .update_detector()
        .detector_id(det(&env, ADMIN, THERE))
        .features(
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::RdsLoginEvents)
                .status(FeatureStatus::Disabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let e = there
        .update_member_detectors()
        .detector_id(det(&env, ADMIN, THERE))
        .account_ids(MEMBER)
        .features(
            aws_sdk_guardduty::types::MemberFeaturesConfiguration::builder()
                .name(aws_sdk_guardduty::types::OrgFeature::LambdaNetworkLogs)
                .status(FeatureStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "LAMBDA_NETWORK_LOGS");
    let e = there
        .update_organization_configuration()
        .detector_id(det(&env, ADMIN, THERE))
        .features(
            OrganizationFeatureConfiguration::builder()
                .name(OrgFeature::RdsLoginEvents)
                .auto_enable(OrgFeatureStatus::New)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_bad_request(e.as_service_error().unwrap(), "RDS_LOGIN_EVENTS");

    // The organization's configuration and the members' detectors leave it out too.
    let org = there
        .describe_organization_configuration()
        .detector_id(det(&env, ADMIN, THERE))
        .send()
        .await
        .unwrap();
    assert!(org
        .features()
        .iter()
        .all(|f| f.name().map(|n| n.as_str()) != Some("RDS_LOGIN_EVENTS")));
    let members = there
        .get_member_detectors()
        .detector_id(det(&env, ADMIN, THERE))
        .account_ids(MEMBER)
        .send()
        .await
        .unwrap();
    assert!(members.member_data_source_configurations()[0]
        .features()
        .iter()
        .all(|f| f.name().map(|n| n.as_str()) != Some("LAMBDA_NETWORK_LOGS")));

    // No free trial of a plan the region does not offer, even in a detector that has it on
    // (state from before the region stopped offering it); elsewhere it runs.
    env.sandbox.world(|w| {
        let d = w.cell_mut(ADMIN, THERE).detector.as_mut().unwrap();
        d.features.get_mut("RDS_LOGIN_EVENTS").unwrap().status = "ENABLED".into();
    });
    let has_rds = |out: &aws_sdk_guardduty::operation::get_remaining_free_trial_days::GetRemainingFreeTrialDaysOutput| {
        out.accounts()[0]
            .features()
            .iter()
            .any(|f| f.name() == Some(&FreeTrialFeatureResult::RdsLoginEvents))
    };
    let trial = there
        .get_remaining_free_trial_days()
        .detector_id(det(&env, ADMIN, THERE))
        .account_ids(ADMIN)
        .send()
        .await
        .unwrap();
    assert!(!has_rds(&trial));
    let trial = elsewhere
        .get_remaining_free_trial_days()
        .detector_id(det(&env, ADMIN, ELSEWHERE))
        .account_ids(ADMIN)
        .send()
        .await
        .unwrap();
    assert!(has_rds(&trial));
}

#[test]
fn the_org_file_names_a_bad_entry() {
    for (text, needle) in [
        (
            "[unavailable_features]\n\"mars-1\" = [\"S3_DATA_EVENTS\"]",
            "unknown region",
        ),
        (
            "[unavailable_features]\n\"us-east-1\" = [\"CLOUD_TRAIL\"]",
            "not a feature one can turn on",
        ),
    ] {
        let spec = OrgSpec::parse(text).unwrap();
        let e = guardduty_org::sandbox::org_file::build_world(&spec).unwrap_err();
        assert!(e.contains(needle), "{e}");
    }
}
