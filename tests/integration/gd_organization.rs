//! GuardDuty with AWS Organizations through aws-sdk-guardduty: the management account
//! designates a delegated administrator per region; the administrator's organization
//! configuration (auto-enable NEW/ALL/NONE, features) and CreateMembers enable organization
//! accounts without invitations.

use aws_sdk_guardduty::types::{
    AccountDetail, AdminStatus, AutoEnableMembers, DetectorFeatureResult, FeatureStatus,
    OrgFeature, OrgFeatureAdditionalConfiguration, OrgFeatureStatus,
    OrganizationAdditionalConfiguration, OrganizationFeatureConfiguration,
};
use aws_sdk_guardduty::Client;
use guardduty_org::sandbox::org_file::{AccountSpec, OrgSpec};
use guardduty_org::sandbox::state::GUARDDUTY_PRINCIPAL;

use crate::support::{self, assert_bad_request, new_detector, Env};

const SUSPENDED: &str = "300000000001";
const EAST_OFF: &str = "300000000002";
const PERMISSION: &str = "do not have required AWS Organization master permission";

fn extra(id: &str, suspended: bool, disabled_regions: &[&str]) -> AccountSpec {
    AccountSpec {
        id: id.into(),
        name: None,
        email: None,
        suspended,
        execution_role: None,
        opt_in_regions: vec![],
        disabled_regions: disabled_regions.iter().map(|r| r.to_string()).collect(),
        ..AccountSpec::default()
    }
}

/// An organization of three generated members (200000000001..3), a suspended account and an
/// account that has turned us-east-1 off.
async fn org_env() -> Env {
    let mut spec = OrgSpec::generated(3);
    spec.accounts.push(extra(SUSPENDED, true, &[]));
    spec.accounts.push(extra(EAST_OFF, false, &["us-east-1"]));
    Env::with_spec(spec).await
}

fn generated(i: usize) -> String {
    OrgSpec::generated_id(i)
}

async fn member_statuses(
    gd: &Client,
    detector: &str,
    only_associated: bool,
) -> Vec<(String, String)> {
    let members: Vec<_> = gd
        .list_members()
        .detector_id(detector)
        .only_associated(only_associated.to_string())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    members
        .iter()
        .map(|m| {
            (
                m.account_id().unwrap().to_string(),
                m.relationship_status().unwrap().to_string(),
            )
        })
        .collect()
}

/// The id of the detector the account has in the client's region.
async fn detector_of(gd: &Client) -> String {
    let ids = gd.list_detectors().send().await.unwrap();
    assert_eq!(ids.detector_ids().len(), 1, "{ids:?}");
    ids.detector_ids()[0].clone()
}

async fn administrator_of(gd: &Client) -> Option<String> {
    let det = detector_of(gd).await;
    gd.get_administrator_account()
        .detector_id(det)
        .send()
        .await
        .unwrap()
        .administrator()
        .and_then(|a| a.account_id())
        .map(String::from)
}

#[tokio::test]
async fn management_designates_one_delegated_admin_per_region() {
    let env = org_env().await;
    let (admin, other) = (generated(1), generated(2));
    let east = support::gd(&env.mgmt, "us-east-1");
    east.enable_organization_admin_account()
        .admin_account_id(&admin)
        .send()
        .await
        .unwrap();
    // Designating the same account again is a no-op; another account is refused.
    east.enable_organization_admin_account()
        .admin_account_id(&admin)
        .send()
        .await
        .unwrap();
    let err = east
        .enable_organization_admin_account()
        .admin_account_id(&other)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "already has a delegated administrator");

    let admins: Vec<_> = east
        .list_organization_admin_accounts()
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0].admin_account_id(), Some(admin.as_str()));
    assert_eq!(admins[0].admin_status(), Some(&AdminStatus::Enabled));
    let (registered, access) = env.sandbox.world(|w| {
        (
            w.org
                .delegated_admins
                .contains_key(&(GUARDDUTY_PRINCIPAL.to_string(), admin.clone())),
            w.org.service_access.contains_key(GUARDDUTY_PRINCIPAL),
        )
    });
    assert!(registered && access);

    // Regions are independent.
    let west = support::gd(&env.mgmt, "eu-west-1");
    let listed = west
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap();
    assert!(listed.admin_accounts().is_empty());
    west.enable_organization_admin_account()
        .admin_account_id(&other)
        .send()
        .await
        .unwrap();

    // Only the management account may call these, and only for active organization accounts.
    let member = env.gd(&admin, "us-east-1").await;
    let err = member
        .enable_organization_admin_account()
        .admin_account_id(&admin)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, PERMISSION);
    let err = member
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, PERMISSION);
    let err = member
        .disable_organization_admin_account()
        .admin_account_id(&admin)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, PERMISSION);
    let ap = support::gd(&env.mgmt, "ap-southeast-2");
    for bad in ["999999999999", SUSPENDED] {
        let err = ap
            .enable_organization_admin_account()
            .admin_account_id(bad)
            .send()
            .await
            .unwrap_err();
        assert_bad_request(&err, "invalid or out-of-range value");
    }

    // The designated account runs GuardDuty in that region only.
    assert_eq!(detector_of(&member).await.len(), 32);
    let admin_west = env.gd(&admin, "eu-west-1").await;
    let none = admin_west.list_detectors().send().await.unwrap();
    assert!(none.detector_ids().is_empty());

    // Disabling: only the current administrator; the Organizations registration stays (it is
    // removed with Organizations' DeregisterDelegatedAdministrator).
    let err = east
        .disable_organization_admin_account()
        .admin_account_id(&other)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "invalid or out-of-range value");
    east.disable_organization_admin_account()
        .admin_account_id(&admin)
        .send()
        .await
        .unwrap();
    assert!(east
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap()
        .admin_accounts()
        .is_empty());
    let registered: Vec<String> = env.sandbox.world(|w| {
        w.org
            .delegated_admins
            .keys()
            .map(|(_, a)| a.clone())
            .collect()
    });
    assert_eq!(registered, [admin, other]);
}

#[tokio::test]
async fn auto_enable_all_makes_every_active_account_a_member() {
    let env = org_env().await;
    let admin_id = generated(1);
    support::gd(&env.mgmt, "us-east-1")
        .enable_organization_admin_account()
        .admin_account_id(&admin_id)
        .send()
        .await
        .unwrap();
    let admin = env.gd(&admin_id, "us-east-1").await;
    let det = detector_of(&admin).await;
    // generated(2) already runs GuardDuty; generated(3) does not.
    let second = env.gd(&generated(2), "us-east-1").await;
    let second_det = new_detector(&second).await;

    let conf = admin
        .describe_organization_configuration()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    assert_eq!(
        conf.auto_enable_organization_members(),
        Some(&AutoEnableMembers::None)
    );
    assert_eq!(conf.member_account_limit_reached(), Some(false));
    let s3 = conf
        .features()
        .iter()
        .find(|f| f.name() == Some(&OrgFeature::S3DataEvents))
        .unwrap();
    assert_eq!(s3.auto_enable(), Some(&OrgFeatureStatus::None));

    #[allow(deprecated)] // giving the deprecated autoEnable too is the error under test
    let err = admin
        .update_organization_configuration()
        .detector_id(&det)
        .auto_enable(true)
        .auto_enable_organization_members(AutoEnableMembers::All)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "both autoEnable and autoEnableOrganizationMembers");
    // One of the two is required: features alone are refused.
    let err = admin
        .update_organization_configuration()
        .detector_id(&det)
        .features(
            OrganizationFeatureConfiguration::builder()
                .name(OrgFeature::S3DataEvents)
                .auto_enable(OrgFeatureStatus::New)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "neither autoEnable nor autoEnableOrganizationMembers");
    // A member account is not the delegated administrator, even with its own detector.
    let err = second
        .describe_organization_configuration()
        .detector_id(&second_det)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, PERMISSION);
    let err = second
        .update_organization_configuration()
        .detector_id(&second_det)
        .auto_enable_organization_members(AutoEnableMembers::All)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, PERMISSION);

    admin
        .update_organization_configuration()
        .detector_id(&det)
        .auto_enable_organization_members(AutoEnableMembers::All)
        .features(
            OrganizationFeatureConfiguration::builder()
                .name(OrgFeature::S3DataEvents)
                .auto_enable(OrgFeatureStatus::All)
                .build(),
        )
        .features(
            OrganizationFeatureConfiguration::builder()
                .name(OrgFeature::RuntimeMonitoring)
                .auto_enable(OrgFeatureStatus::New)
                .additional_configuration(
                    OrganizationAdditionalConfiguration::builder()
                        .name(OrgFeatureAdditionalConfiguration::EksAddonManagement)
                        .auto_enable(OrgFeatureStatus::New)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let conf = admin
        .describe_organization_configuration()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    assert_eq!(
        conf.auto_enable_organization_members(),
        Some(&AutoEnableMembers::All)
    );
    #[allow(deprecated)]
    let auto = conf.auto_enable();
    assert_eq!(auto, Some(true));
    let runtime = conf
        .features()
        .iter()
        .find(|f| f.name() == Some(&OrgFeature::RuntimeMonitoring))
        .unwrap();
    assert_eq!(runtime.auto_enable(), Some(&OrgFeatureStatus::New));
    assert_eq!(
        runtime.additional_configuration()[0].auto_enable(),
        Some(&OrgFeatureStatus::New)
    );

    // Every active account that has the region on became an Enabled member; not the suspended
    // one, not the one with us-east-1 off, not the management account (no detector).
    let members = member_statuses(&admin, &det, true).await;
    assert_eq!(
        members,
        [
            (generated(2), "Enabled".to_string()),
            (generated(3), "Enabled".to_string())
        ]
    );
    let third = env.gd(&generated(3), "us-east-1").await;
    let third_det = third.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let got = admin
        .get_members()
        .detector_id(&det)
        .account_ids(generated(3))
        .send()
        .await
        .unwrap();
    assert_eq!(got.members()[0].detector_id(), Some(third_det.as_str()));
    for (gd, d) in [(&second, &second_det), (&third, &third_det)] {
        let out = gd.get_detector().detector_id(d).send().await.unwrap();
        let s3 = out
            .features()
            .iter()
            .find(|f| f.name() == Some(&DetectorFeatureResult::S3DataEvents))
            .unwrap();
        assert_eq!(s3.status(), Some(&FeatureStatus::Enabled));
        assert_eq!(
            administrator_of(gd).await.as_deref(),
            Some(admin_id.as_str())
        );
    }

    // With ALL, organization members cannot be let go, nor leave, nor stop being monitored.
    let out = admin
        .disassociate_members()
        .detector_id(&det)
        .account_ids(generated(2))
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts()[0]
        .result()
        .unwrap()
        .contains("ALL"));
    let out = admin
        .stop_monitoring_members()
        .detector_id(&det)
        .account_ids(generated(2))
        .send()
        .await
        .unwrap();
    let refused = support::unprocessed(out.unprocessed_accounts());
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, generated(2));
    assert!(refused[0].1.contains("ALL"), "{refused:?}");
    assert_eq!(
        member_statuses(&admin, &det, true).await,
        [
            (generated(2), "Enabled".to_string()),
            (generated(3), "Enabled".to_string())
        ]
    );
    let err = second
        .disassociate_from_administrator_account()
        .detector_id(&second_det)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "delegated administrator");

    // A protection plan set to ALL holds members as well.
    admin
        .update_organization_configuration()
        .detector_id(&det)
        .auto_enable_organization_members(AutoEnableMembers::New)
        .send()
        .await
        .unwrap();
    let out = admin
        .delete_members()
        .detector_id(&det)
        .account_ids(generated(2))
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts()[0]
        .result()
        .unwrap()
        .contains("ALL"));

    // With NEW everywhere, the administrator can remove one, and bring it back with
    // CreateMembers.
    admin
        .update_organization_configuration()
        .detector_id(&det)
        .auto_enable_organization_members(AutoEnableMembers::New)
        .features(
            OrganizationFeatureConfiguration::builder()
                .name(OrgFeature::S3DataEvents)
                .auto_enable(OrgFeatureStatus::New)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = admin
        .disassociate_members()
        .detector_id(&det)
        .account_ids(generated(2))
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty());
    assert_eq!(administrator_of(&second).await, None);
    support::create_member(&env, &admin, &det, &generated(2)).await;
    assert_eq!(
        administrator_of(&second).await.as_deref(),
        Some(admin_id.as_str())
    );
    // ... and stop monitoring one.
    let out = admin
        .stop_monitoring_members()
        .detector_id(&det)
        .account_ids(generated(3))
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty(), "{out:?}");
    assert!(member_statuses(&admin, &det, true)
        .await
        .contains(&(generated(3), "Disabled".to_string())));
}

#[tokio::test]
async fn delegated_admin_create_members_enables_org_accounts_at_once() {
    let env = org_env().await;
    let admin_id = generated(1);
    support::gd(&env.mgmt, "us-east-1")
        .enable_organization_admin_account()
        .admin_account_id(&admin_id)
        .send()
        .await
        .unwrap();
    let admin = env.gd(&admin_id, "us-east-1").await;
    let det = detector_of(&admin).await;
    let detail = |id: &str| {
        AccountDetail::builder()
            .account_id(id)
            .email(format!("aws+{id}@example.com"))
            .build()
    };
    let out = admin
        .create_members()
        .detector_id(&det)
        .account_details(detail(&generated(2)))
        .account_details(detail(&env.management))
        .account_details(detail("999999999999"))
        .account_details(detail(SUSPENDED))
        .send()
        .await
        .unwrap();
    let unprocessed = support::unprocessed(out.unprocessed_accounts());
    assert_eq!(unprocessed.len(), 2, "{unprocessed:?}");
    assert_eq!(unprocessed[0].0, env.management);
    assert!(unprocessed[0].1.contains("must first enable GuardDuty"));
    assert_eq!(unprocessed[1].0, SUSPENDED);
    assert!(unprocessed[1].1.contains("suspended"));
    assert_eq!(
        member_statuses(&admin, &det, false).await,
        [
            (generated(2), "Enabled".to_string()),
            ("999999999999".to_string(), "Created".to_string())
        ]
    );
    // The organization account got a detector and its administrator, without an invitation.
    let second = env.gd(&generated(2), "us-east-1").await;
    assert_eq!(
        second
            .list_detectors()
            .send()
            .await
            .unwrap()
            .detector_ids()
            .len(),
        1
    );
    assert_eq!(
        administrator_of(&second).await.as_deref(),
        Some(admin_id.as_str())
    );
    assert_eq!(
        second
            .get_invitations_count()
            .send()
            .await
            .unwrap()
            .invitations_count(),
        Some(0)
    );

    // An organization account let go of comes back through CreateMembers, not invitations.
    admin
        .disassociate_members()
        .detector_id(&det)
        .account_ids(generated(2))
        .send()
        .await
        .unwrap();
    let out = admin
        .invite_members()
        .detector_id(&det)
        .account_ids(generated(2))
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts()[0]
        .result()
        .unwrap()
        .contains("CreateMembers"));
    assert_eq!(administrator_of(&second).await, None);

    // Once the management account runs GuardDuty it can be added too.
    let mgmt = support::gd(&env.mgmt, "us-east-1");
    new_detector(&mgmt).await;
    let out = admin
        .create_members()
        .detector_id(&det)
        .account_details(detail(&env.management))
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty());
    assert_eq!(
        administrator_of(&mgmt).await.as_deref(),
        Some(admin_id.as_str())
    );
}

#[tokio::test]
async fn disabling_the_delegated_admin_releases_org_members() {
    let env = org_env().await;
    let admin_id = generated(1);
    let mgmt = support::gd(&env.mgmt, "us-east-1");
    mgmt.enable_organization_admin_account()
        .admin_account_id(&admin_id)
        .send()
        .await
        .unwrap();
    let admin = env.gd(&admin_id, "us-east-1").await;
    let det = detector_of(&admin).await;
    admin
        .update_organization_configuration()
        .detector_id(&det)
        .auto_enable_organization_members(AutoEnableMembers::All)
        .send()
        .await
        .unwrap();
    assert_eq!(member_statuses(&admin, &det, true).await.len(), 2);
    mgmt.disable_organization_admin_account()
        .admin_account_id(&admin_id)
        .send()
        .await
        .unwrap();
    assert!(member_statuses(&admin, &det, true).await.is_empty());
    let all = member_statuses(&admin, &det, false).await;
    assert!(all.iter().all(|(_, s)| s == "Removed"), "{all:?}");
    let third = env.gd(&generated(3), "us-east-1").await;
    assert_eq!(administrator_of(&third).await, None);
    assert_eq!(env.sandbox.world(|w| w.org.delegated_admins.len()), 1);
    let err = admin
        .describe_organization_configuration()
        .detector_id(&det)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, PERMISSION);
}
