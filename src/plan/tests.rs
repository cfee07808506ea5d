//! The planner, state by state.

use std::collections::BTreeMap;

use super::*;
use crate::observe::{
    AdminLink, AdminSide, MemberRecord, MemberSide, OrgConfigState, PendingInvitation,
};
use crate::settings::AutoEnable;

const ADMIN: &str = "999999999999";
const R: &str = "us-east-1";

fn member(i: usize) -> MemberAccount {
    MemberAccount {
        id: format!("{:012}", 200_000_000_000u64 + i as u64),
        email: format!("m{i}@example.com"),
    }
}

fn desired(mode: Mode, members: usize) -> Desired {
    let mut d = Desired::new(mode, ADMIN, vec![R.into()]);
    d.members = (1..=members).map(member).collect();
    d
}

fn detector(enabled: bool) -> DetectorState {
    DetectorState {
        id: "det".into(),
        enabled,
        frequency: Some("SIX_HOURS".into()),
        features: BTreeMap::new(),
    }
}

fn admin_with(members: &[(&MemberAccount, &str)]) -> AdminSide {
    AdminSide {
        detector: Some(detector(true)),
        members: members
            .iter()
            .map(|(m, s)| {
                (
                    m.id.clone(),
                    MemberRecord {
                        status: s.to_string(),
                        email: m.email.clone(),
                        features: None,
                    },
                )
            })
            .collect(),
        ..Default::default()
    }
}

fn linked() -> MemberSide {
    MemberSide {
        detector: Some(Box::new(detector(true))),
        administrator: Some(Box::new(AdminLink {
            account: ADMIN.into(),
            status: "Enabled".into(),
        })),
        invitations: vec![],
        administers_members: false,
    }
}

fn obs(admin: Seen<AdminSide>, members: Vec<(&MemberAccount, Seen<MemberSide>)>) -> Observation {
    Observation {
        regions: BTreeMap::from([(
            R.to_string(),
            RegionObservation {
                admin,
                members: members
                    .into_iter()
                    .map(|(m, s)| (m.id.clone(), s))
                    .collect(),
            },
        )]),
    }
}

fn kinds(plan: &Plan) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action.kind()).collect()
}

/// Every step waits only for earlier steps.
fn assert_ordered(plan: &Plan) {
    for s in &plan.steps {
        assert!(s.after.iter().all(|a| *a < s.id), "{s:?}");
    }
}

fn err(code: &str) -> AwsError {
    AwsError {
        operation: "AssumeRole",
        code: code.into(),
        message: "no".into(),
    }
}

#[test]
fn fresh_org_creates_everything_in_order() {
    let d = desired(Mode::Invitation, 2);
    let (a, b) = (member(1), member(2));
    let o = obs(
        Seen::Read(AdminSide::default()),
        vec![
            (&a, Seen::Read(MemberSide::default())),
            (&b, Seen::Read(MemberSide::default())),
        ],
    );
    let p = plan_rollout(&d, &o);
    assert_ordered(&p);
    assert_eq!(
        kinds(&p),
        vec![
            "create detector",
            "create detector",
            "create detector",
            "create members",
            "invite members",
            "accept invitation",
            "accept invitation"
        ]
    );
    // Accepting waits for the member's own detector and the invitation batch.
    let accept = &p.steps[5];
    assert_eq!(accept.after, vec![1, 4]);
    assert_eq!(p.steps[3].after, vec![0]);
    assert_eq!(p.steps[4].after, vec![0, 3]);
    match &p.steps[4].action {
        Action::InviteMembers {
            email_notification, ..
        } => assert!(!email_notification),
        other => panic!("{other:?}"),
    }
    assert!(p.notices.is_empty());
    assert_eq!(
        p.counts(),
        vec![
            ("create detector", 3, 3),
            ("create members", 1, 2),
            ("invite members", 1, 2),
            ("accept invitation", 2, 2)
        ]
    );
}

#[test]
fn converged_org_plans_nothing() {
    let mut d = desired(Mode::Invitation, 1);
    d.features = [Feature::S3DataEvents].into();
    d.frequency = Some(Frequency::SixHours);
    let a = member(1);
    let mut admin = admin_with(&[(&a, "Enabled")]);
    admin
        .detector
        .as_mut()
        .unwrap()
        .features
        .insert("S3_DATA_EVENTS".into(), true);
    let mut m = linked();
    m.detector
        .as_mut()
        .unwrap()
        .features
        .insert("S3_DATA_EVENTS".into(), true);
    let p = plan_rollout(&d, &obs(Seen::Read(admin), vec![(&a, Seen::Read(m))]));
    assert!(p.is_empty(), "{p:?}");
    assert!(p.notices.is_empty());
}

#[test]
fn suspended_detector_is_enabled_and_missing_features_added() {
    let mut d = desired(Mode::Invitation, 1);
    d.features = [Feature::S3DataEvents, Feature::RdsLoginEvents].into();
    d.frequency = Some(Frequency::FifteenMinutes);
    let a = member(1);
    let mut m = linked();
    m.detector = Some(Box::new(detector(false)));
    m.detector
        .as_mut()
        .unwrap()
        .features
        .insert("S3_DATA_EVENTS".into(), true);
    let mut admin = admin_with(&[(&a, "Enabled")]);
    admin.detector.as_mut().unwrap().frequency = Some("FIFTEEN_MINUTES".into());
    admin.detector.as_mut().unwrap().features = [
        ("S3_DATA_EVENTS".to_string(), true),
        ("RDS_LOGIN_EVENTS".to_string(), false),
    ]
    .into();
    let p = plan_rollout(&d, &obs(Seen::Read(admin), vec![(&a, Seen::Read(m))]));
    assert_eq!(
        p.steps.iter().map(|s| &s.action).collect::<Vec<_>>(),
        vec![
            &Action::UpdateDetector {
                account: ADMIN.into(),
                region: R.into(),
                features: vec![Feature::RdsLoginEvents],
                frequency: None,
            },
            &Action::EnableDetector {
                account: a.id.clone(),
                region: R.into(),
                features: vec![Feature::RdsLoginEvents],
                frequency: Some(Frequency::FifteenMinutes),
            },
        ]
    );
}

#[test]
fn pending_invitation_is_just_accepted() {
    let d = desired(Mode::Invitation, 1);
    let a = member(1);
    let m = MemberSide {
        detector: Some(Box::new(detector(true))),
        administrator: None,
        invitations: vec![PendingInvitation {
            from: ADMIN.into(),
            id: "inv".into(),
        }],
        administers_members: false,
    };
    let p = plan_rollout(
        &d,
        &obs(
            Seen::Read(admin_with(&[(&a, "Invited")])),
            vec![(&a, Seen::Read(m))],
        ),
    );
    assert_eq!(kinds(&p), vec!["accept invitation"]);
    assert!(p.steps[0].after.is_empty());
}

#[test]
fn invited_without_invitation_is_invited_again() {
    let d = desired(Mode::Invitation, 1);
    let a = member(1);
    let m = MemberSide {
        detector: Some(Box::new(detector(true))),
        ..Default::default()
    };
    let p = plan_rollout(
        &d,
        &obs(
            Seen::Read(admin_with(&[(&a, "Invited")])),
            vec![(&a, Seen::Read(m))],
        ),
    );
    assert_eq!(kinds(&p), vec!["invite members", "accept invitation"]);
}

#[test]
fn created_removed_resigned_members_are_reinvited_not_recreated() {
    let d = desired(Mode::Invitation, 3);
    let ms: Vec<MemberAccount> = (1..=3).map(member).collect();
    let statuses = ["Created", "Removed", "Resigned"];
    let admin = admin_with(&ms.iter().zip(statuses).collect::<Vec<_>>());
    let sides: Vec<_> = ms
        .iter()
        .map(|m| {
            let mut side = linked();
            // The member's side of a removed/resigned link is not an association.
            side.administrator.as_mut().unwrap().status = "Removed".into();
            (m, Seen::Read(side))
        })
        .collect();
    let p = plan_rollout(&d, &obs(Seen::Read(admin), sides));
    assert_eq!(
        kinds(&p),
        vec![
            "invite members",
            "accept invitation",
            "accept invitation",
            "accept invitation"
        ]
    );
    match &p.steps[0].action {
        Action::InviteMembers { accounts, .. } => assert_eq!(accounts.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn email_verification_failed_with_a_wrong_email_recreates_the_member() {
    let d = desired(Mode::Invitation, 2);
    let (a, b) = (member(1), member(2));
    let mut admin = admin_with(&[(&a, "EmailVerificationFailed"), (&b, "Enabled")]);
    // GuardDuty has another address for `a` than the one we were given (case aside).
    admin.members.get_mut(&a.id).unwrap().email = "old@example.com".into();
    let p = plan_rollout(
        &d,
        &obs(
            Seen::Read(admin.clone()),
            vec![(&a, Seen::Read(linked_none())), (&b, Seen::Read(linked()))],
        ),
    );
    assert_ordered(&p);
    assert_eq!(
        kinds(&p),
        vec![
            "delete members (wrong email)",
            "create members",
            "invite members",
            "accept invitation"
        ]
    );
    assert_eq!(p.steps[0].action.batch(), vec![a.id.as_str()]);
    assert_eq!(p.steps[0].action.operation(), "DeleteMembers");
    match &p.steps[1].action {
        Action::CreateMembers { members, .. } => assert_eq!(members, &vec![a.clone()]),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.steps[1].after, vec![0]);
    assert_eq!(p.steps[2].after, vec![1]);
    assert_eq!(p.steps[3].after, vec![2]);
    assert!(p.notices.is_empty(), "{:?}", p.notices);

    // The same address in another case is the same address: not recreated.
    admin.members.get_mut(&a.id).unwrap().email = a.email.to_uppercase();
    let p = plan_rollout(
        &d,
        &obs(Seen::Read(admin), vec![(&a, Seen::Read(linked_none()))]),
    );
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn email_verification_failed_with_the_right_email_is_reported_not_reinvited() {
    let d = desired(Mode::Invitation, 1);
    let a = member(1);
    let admin = admin_with(&[(&a, "EmailVerificationFailed")]);
    let p = plan_rollout(
        &d,
        &obs(Seen::Read(admin), vec![(&a, Seen::Read(linked_none()))]),
    );
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        p.notices,
        vec![Notice::EmailVerificationFailed {
            account: a.id.clone(),
            region: R.into(),
            email: a.email.clone(),
        }]
    );
    assert!(p.notices[0].is_problem());
    assert_eq!(problem_accounts(&p), BTreeSet::from([a.id.clone()]));
}

#[test]
fn member_of_another_administrator_is_reported_unless_take_over() {
    let mut d = desired(Mode::Invitation, 1);
    let a = member(1);
    let mut m = linked();
    m.administrator.as_mut().unwrap().account = "333333333333".into();
    let o = obs(Seen::Read(admin_with(&[])), vec![(&a, Seen::Read(m))]);
    let p = plan_rollout(&d, &o);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        p.notices,
        vec![Notice::OtherAdministrator {
            account: a.id.clone(),
            region: R.into(),
            administrator: "333333333333".into()
        }]
    );
    assert!(p.notices[0].is_problem());

    d.take_over = true;
    let p = plan_rollout(&d, &o);
    assert_ordered(&p);
    assert_eq!(
        kinds(&p),
        vec![
            "leave other administrator",
            "create members",
            "invite members",
            "accept invitation"
        ]
    );
    assert_eq!(p.steps[3].after, vec![0, 2]);
}

#[test]
fn region_not_enabled_and_no_access_are_notices() {
    let d = desired(Mode::Invitation, 3);
    let (a, b, c) = (member(1), member(2), member(3));
    let o = obs(
        Seen::Read(admin_with(&[])),
        vec![
            (&a, Seen::RegionDisabled),
            (&b, Seen::NoAccess(err("AccessDenied"))),
            (&c, Seen::Failed(err("InternalServerErrorException"))),
        ],
    );
    let p = plan_rollout(&d, &o);
    assert!(p.is_empty(), "{p:?}");
    let kinds: Vec<_> = p.notices.iter().map(|n| n.kind()).collect();
    assert_eq!(
        kinds,
        vec!["region not enabled", "could not read", "no access (role)"]
    );
    assert!(!p.notices[0].is_problem());
    assert!(p.notices[1].is_problem());
}

#[test]
fn admin_region_disabled_skips_the_region() {
    let d = desired(Mode::Invitation, 1);
    let a = member(1);
    let p = plan_rollout(
        &d,
        &obs(
            Seen::RegionDisabled,
            vec![(&a, Seen::Read(MemberSide::default()))],
        ),
    );
    assert!(p.is_empty());
    assert_eq!(p.notices.len(), 1);
}

#[test]
fn no_access_is_reported_once_per_account() {
    let mut d = desired(Mode::Invitation, 1);
    d.regions = vec!["us-east-1".into(), "us-west-2".into()];
    let a = member(1);
    let region = |r: &str| {
        (
            r.to_string(),
            RegionObservation {
                admin: Seen::Read(admin_with(&[])),
                members: [(a.id.clone(), Seen::NoAccess(err("AccessDenied")))].into(),
            },
        )
    };
    let o = Observation {
        regions: [region("us-east-1"), region("us-west-2")].into(),
    };
    let p = plan_rollout(&d, &o);
    assert_eq!(p.notices.len(), 1);
}

#[test]
fn batches_hold_at_most_fifty() {
    let d = desired(Mode::Invitation, 120);
    let ms: Vec<MemberAccount> = (1..=120).map(member).collect();
    let o = obs(
        Seen::Read(admin_with(&[])),
        ms.iter().map(|m| (m, Seen::Read(linked_none()))).collect(),
    );
    let p = plan_rollout(&d, &o);
    assert_ordered(&p);
    let sizes: Vec<usize> = p
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::CreateMembers { .. }))
        .map(|s| s.action.batch().len())
        .collect();
    assert_eq!(sizes, vec![50, 50, 20]);
    // The 51st member's acceptance waits for the second invitation batch.
    let invites: Vec<usize> = p
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::InviteMembers { .. }))
        .map(|s| s.id)
        .collect();
    assert_eq!(invites.len(), 3);
    let accept51 = p
        .steps
        .iter()
        .find(|s| {
            matches!(&s.action, Action::AcceptInvitation { account, .. } if *account == member(51).id)
        })
        .unwrap();
    assert!(accept51.after.contains(&invites[1]), "{accept51:?}");
}

fn linked_none() -> MemberSide {
    MemberSide {
        detector: Some(Box::new(detector(true))),
        ..Default::default()
    }
}

#[test]
fn organizations_mode_fresh_and_converged() {
    let mut d = desired(Mode::Organizations, 2);
    d.features = [Feature::S3DataEvents].into();
    d.auto_enable = AutoEnable::All;
    let p = plan_rollout(&d, &obs(Seen::Read(AdminSide::default()), vec![]));
    assert_ordered(&p);
    assert_eq!(
        kinds(&p),
        vec![
            "create detector",
            "enable org admin",
            "update org auto-enable",
            "create members"
        ]
    );
    // Members are added once the organization's settings they get are in place.
    assert_eq!(p.steps[3].after, vec![0, 1, 2]);

    let (a, b) = (member(1), member(2));
    let mut admin = admin_with(&[(&a, "Enabled"), (&b, "Enabled")]);
    admin
        .detector
        .as_mut()
        .unwrap()
        .features
        .insert("S3_DATA_EVENTS".into(), true);
    admin.delegated = vec![(ADMIN.into(), "ENABLED".into())];
    admin.org_config = Some(OrgConfigState {
        auto_enable: "ALL".into(),
        features: [("S3_DATA_EVENTS".to_string(), "ALL".to_string())].into(),
    });
    let p = plan_rollout(&d, &obs(Seen::Read(admin.clone()), vec![]));
    assert!(p.is_empty(), "{p:?}");

    // Auto-enable NEW instead of ALL is drift.
    d.auto_enable = AutoEnable::New;
    assert_eq!(
        kinds(&plan_rollout(&d, &obs(Seen::Read(admin.clone()), vec![]))),
        vec!["update org auto-enable"]
    );

    admin.delegated = vec![("333333333333".into(), "ENABLED".into())];
    let p = plan_rollout(&d, &obs(Seen::Read(admin), vec![]));
    assert!(p.is_empty());
    assert_eq!(p.notices[0].kind(), "another delegated administrator");
}

#[test]
fn organizations_mode_leaves_members_createmembers_cannot_change() {
    let d = desired(Mode::Organizations, 4);
    let ms: Vec<MemberAccount> = (1..=4).map(member).collect();
    let mut admin = admin_with(&[
        (&ms[0], "Disabled"),
        (&ms[1], "RegionDisabled"),
        (&ms[2], "AccountSuspended"),
    ]);
    admin.delegated = vec![(ADMIN.into(), "ENABLED".into())];
    admin.org_config = Some(OrgConfigState {
        auto_enable: "NEW".into(),
        features: BTreeMap::new(),
    });
    let p = plan_rollout(&d, &obs(Seen::Read(admin), vec![]));
    // Only the account that is no member at all is created.
    let created: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::CreateMembers { .. }))
        .flat_map(|s| s.action.batch())
        .collect();
    assert_eq!(created, vec![ms[3].id.as_str()]);
    let notices: Vec<&str> = p.notices.iter().map(|n| n.kind()).collect();
    assert!(notices.contains(&"region not enabled"), "{notices:?}");
    assert!(
        p.notices.iter().any(|n| matches!(
            n,
            Notice::SuspendedAccount { account } if *account == ms[2].id
        )),
        "{notices:?}"
    );
}

#[test]
fn offboard_disassociates_then_deletes() {
    let mut d = desired(Mode::Invitation, 3);
    let ms: Vec<MemberAccount> = (1..=3).map(member).collect();
    let admin = admin_with(&[(&ms[0], "Enabled"), (&ms[1], "Removed")]);
    let o = obs(
        Seen::Read(admin.clone()),
        vec![(&ms[0], Seen::Read(linked()))],
    );
    let p = plan_offboard(&d, &o);
    assert_ordered(&p);
    assert_eq!(kinds(&p), vec!["disassociate members", "delete members"]);
    assert_eq!(p.steps[0].action.batch(), vec![ms[0].id.as_str()]);
    assert_eq!(p.steps[1].action.batch().len(), 2);

    d.delete_detectors = true;
    let p = plan_offboard(&d, &o);
    assert_eq!(
        kinds(&p),
        vec!["disassociate members", "delete members", "delete detector"]
    );
    assert_eq!(p.steps[2].after, vec![1]);

    // Nothing left: nothing to do.
    let p = plan_offboard(&d, &obs(Seen::Read(admin_with(&[])), vec![]));
    assert!(p.is_empty());
}

#[test]
fn offboard_organizations_turns_off_auto_enable_first_and_undelegates_last() {
    let d = desired(Mode::Organizations, 1);
    let a = member(1);
    let mut admin = admin_with(&[(&a, "Enabled")]);
    admin.delegated = vec![(ADMIN.into(), "ENABLED".into())];
    admin.org_config = Some(OrgConfigState {
        auto_enable: "ALL".into(),
        features: [("S3_DATA_EVENTS".to_string(), "ALL".to_string())].into(),
    });
    let p = plan_offboard(&d, &obs(Seen::Read(admin), vec![]));
    assert_ordered(&p);
    assert_eq!(
        kinds(&p),
        vec![
            "update org auto-enable",
            "disassociate members",
            "delete members",
            "disable org admin"
        ]
    );
    assert_eq!(p.steps[1].after, vec![0]);
    assert_eq!(p.steps[3].after, vec![0, 1, 2]);
}

#[test]
fn organizations_mode_gives_the_management_account_a_detector_before_adding_it() {
    let mut d = desired(Mode::Organizations, 1);
    let mgmt = MemberAccount {
        id: "111111111111".into(),
        email: "mgmt@example.com".into(),
    };
    d.members.push(mgmt.clone());
    let mut admin = admin_with(&[(&member(1), "Enabled")]);
    admin.delegated = vec![(ADMIN.into(), "ENABLED".into())];
    admin.org_config = Some(OrgConfigState {
        auto_enable: "NEW".into(),
        features: BTreeMap::new(),
    });
    admin.management = Some((mgmt.id.clone(), None));
    let p = plan_rollout(&d, &obs(Seen::Read(admin.clone()), vec![]));
    assert_ordered(&p);
    assert_eq!(kinds(&p), vec!["create detector", "create members"]);
    assert_eq!(p.steps[0].action.account(), mgmt.id);
    assert_eq!(p.steps[1].after, vec![0]);
    // Once it is a member, nothing more.
    admin.members.insert(
        mgmt.id.clone(),
        MemberRecord {
            status: "Enabled".into(),
            ..Default::default()
        },
    );
    admin.management = Some((mgmt.id.clone(), Some(detector(true))));
    assert!(plan_rollout(&d, &obs(Seen::Read(admin), vec![])).is_empty());
}

/// A delegated administrator (ours) with auto-enable NEW for `features`, and `members` Enabled
/// with the detector features given.
fn org_admin(features: &[&str], members: &[(&MemberAccount, &[&str])]) -> AdminSide {
    let mut admin = admin_with(
        &members
            .iter()
            .map(|(m, _)| (*m, "Enabled"))
            .collect::<Vec<_>>(),
    );
    for (m, on) in members {
        admin.members.get_mut(&m.id).unwrap().features = Some(
            ["S3_DATA_EVENTS", "EKS_AUDIT_LOGS"]
                .iter()
                .map(|f| (f.to_string(), on.contains(f)))
                .collect(),
        );
    }
    let det = admin.detector.as_mut().unwrap();
    for f in features {
        det.features.insert(f.to_string(), true);
    }
    admin.delegated = vec![(ADMIN.into(), "ENABLED".into())];
    admin.org_config = Some(OrgConfigState {
        auto_enable: "NEW".into(),
        features: features
            .iter()
            .map(|f| (f.to_string(), "NEW".to_string()))
            .collect(),
    });
    admin
}

#[test]
fn organizations_mode_sets_missing_features_in_existing_members() {
    let mut d = desired(Mode::Organizations, 3);
    d.features = [Feature::S3DataEvents, Feature::EksAuditLogs].into();
    let ms: Vec<MemberAccount> = (1..=3).map(member).collect();
    let both: &[&str] = &["S3_DATA_EVENTS", "EKS_AUDIT_LOGS"];
    let admin = org_admin(
        both,
        &[(&ms[0], both), (&ms[1], &["S3_DATA_EVENTS"]), (&ms[2], &[])],
    );
    let p = plan_rollout(&d, &obs(Seen::Read(admin.clone()), vec![]));
    assert_ordered(&p);
    assert_eq!(kinds(&p), vec!["update member features"]);
    match &p.steps[0].action {
        Action::UpdateMemberDetectors {
            accounts, features, ..
        } => {
            assert_eq!(accounts, &vec![ms[1].id.clone(), ms[2].id.clone()]);
            assert_eq!(
                features,
                &vec![Feature::EksAuditLogs, Feature::S3DataEvents]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.steps[0].action.operation(), "UpdateMemberDetectors");

    // Members whose features were not read (unprocessed) are not guessed at.
    let mut unread = admin.clone();
    for r in unread.members.values_mut() {
        r.features = None;
    }
    assert!(plan_rollout(&d, &obs(Seen::Read(unread), vec![])).is_empty());

    // Converged: nothing.
    let all = org_admin(both, &[(&ms[0], both), (&ms[1], both), (&ms[2], both)]);
    assert!(plan_rollout(&d, &obs(Seen::Read(all), vec![])).is_empty());
}

#[test]
fn organizations_mode_batches_member_feature_updates_by_fifty() {
    let mut d = desired(Mode::Organizations, 120);
    d.features = [Feature::S3DataEvents].into();
    let ms: Vec<MemberAccount> = (1..=120).map(member).collect();
    let none: &[&str] = &[];
    let admin = org_admin(
        &["S3_DATA_EVENTS"],
        &ms.iter().map(|m| (m, none)).collect::<Vec<_>>(),
    );
    let p = plan_rollout(&d, &obs(Seen::Read(admin), vec![]));
    let sizes: Vec<usize> = p.steps.iter().map(|s| s.action.batch().len()).collect();
    assert_eq!(sizes, vec![50, 50, 20]);
    assert!(p
        .steps
        .iter()
        .all(|s| s.action.kind() == "update member features"));
}

#[test]
fn organizations_mode_takes_over_another_delegated_administrator_only_when_asked() {
    let mut d = desired(Mode::Organizations, 1);
    let a = member(1);
    let mut admin = admin_with(&[]);
    admin.delegated = vec![("333333333333".into(), "ENABLED".into())];
    let p = plan_rollout(&d, &obs(Seen::Read(admin.clone()), vec![]));
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        p.notices,
        vec![Notice::OtherDelegatedAdmin {
            region: R.into(),
            administrator: "333333333333".into(),
        }]
    );

    d.take_over = true;
    let p = plan_rollout(&d, &obs(Seen::Read(admin), vec![]));
    assert_ordered(&p);
    assert!(p.notices.is_empty(), "{:?}", p.notices);
    assert_eq!(
        kinds(&p),
        vec![
            "disable org admin",
            "enable org admin",
            "update org auto-enable",
            "create members"
        ]
    );
    assert_eq!(
        p.steps[0].action,
        Action::DisableOrgAdmin {
            region: R.into(),
            administrator: "333333333333".into(),
        }
    );
    // Ours is enabled only once the other one is gone, and members come after.
    assert_eq!(p.steps[1].after, vec![0]);
    assert_eq!(p.steps[3].after, vec![1, 2]);
    assert_eq!(p.steps[3].action.batch(), vec![a.id.as_str()]);
}

#[test]
fn an_administrator_of_other_members_is_reported_not_invited() {
    let d = desired(Mode::Invitation, 1);
    let a = member(1);
    let m = MemberSide {
        detector: Some(Box::new(detector(true))),
        administers_members: true,
        ..Default::default()
    };
    let p = plan_rollout(
        &d,
        &obs(Seen::Read(admin_with(&[])), vec![(&a, Seen::Read(m))]),
    );
    assert!(kinds(&p).is_empty(), "{:?}", kinds(&p));
    assert_eq!(
        p.notices,
        vec![Notice::AdministersMembers {
            account: a.id.clone(),
            region: R.into()
        }]
    );
    assert!(p.notices[0].is_problem());
}

// ---- findings export ----

const BUCKET: &str = "arn:aws:s3:::findings/org/";
const KEY: &str = "arn:aws:kms:us-east-1:999999999999:key/k1";

fn exporting(mode: Mode) -> Desired {
    let mut d = desired(mode, 0);
    d.export = Some(crate::settings::ExportTarget {
        bucket_arn: BUCKET.into(),
        kms_key_arn: KEY.into(),
    });
    d
}

fn destination(bucket: &str, key: &str, status: &str) -> crate::observe::DestinationState {
    crate::observe::DestinationState {
        id: "dest-1".into(),
        destination_type: "S3".into(),
        status: status.into(),
        bucket_arn: bucket.into(),
        kms_key_arn: key.into(),
        failing_since_ms: None,
    }
}

fn admin_exporting(found: Vec<crate::observe::DestinationState>) -> AdminSide {
    AdminSide {
        destinations: Some(Ok(found)),
        ..admin_with(&[])
    }
}

#[test]
fn export_is_created_after_the_administrator_detector_in_both_modes() {
    for mode in [Mode::Invitation, Mode::Organizations] {
        let d = exporting(mode);
        let admin = AdminSide {
            detector: None,
            destinations: Some(Ok(vec![])),
            ..AdminSide::default()
        };
        let p = plan_rollout(&d, &obs(Seen::Read(admin), vec![]));
        let create = p
            .steps
            .iter()
            .find(|s| s.action.kind() == "create findings export")
            .unwrap_or_else(|| panic!("{mode:?}: {p:?}"));
        assert_eq!(create.after, vec![0], "{mode:?}");
        assert_eq!(p.steps[0].action.kind(), "create detector");
        assert_eq!(
            create.action,
            Action::CreatePublishingDestination {
                administrator: ADMIN.into(),
                region: R.into(),
                bucket_arn: BUCKET.into(),
                kms_key_arn: KEY.into(),
            }
        );
    }
}

#[test]
fn export_already_there_plans_nothing_and_another_key_is_updated() {
    let d = exporting(Mode::Invitation);
    let same = admin_exporting(vec![destination(BUCKET, KEY, "PUBLISHING")]);
    assert!(plan_rollout(&d, &obs(Seen::Read(same), vec![])).is_empty());
    let other_key = "arn:aws:kms:us-east-1:999999999999:key/old";
    let old = admin_exporting(vec![destination(BUCKET, other_key, "PUBLISHING")]);
    let p = plan_rollout(&d, &obs(Seen::Read(old), vec![]));
    assert_eq!(
        p.steps.iter().map(|s| &s.action).collect::<Vec<_>>(),
        vec![&Action::UpdatePublishingDestination {
            administrator: ADMIN.into(),
            region: R.into(),
            destination_id: "dest-1".into(),
            bucket_arn: BUCKET.into(),
            kms_key_arn: KEY.into(),
        }]
    );
}

#[test]
fn export_that_cannot_publish_is_a_notice_and_a_failed_read_is_reported() {
    let d = exporting(Mode::Organizations);
    let stuck = admin_exporting(vec![destination(
        BUCKET,
        KEY,
        "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY",
    )]);
    let p = plan_rollout(&d, &obs(Seen::Read(stuck), vec![]));
    assert!(!p
        .steps
        .iter()
        .any(|s| s.action.operation().contains("PublishingDestination")));
    assert!(p.notices.iter().any(|n| matches!(n,
        Notice::ExportNotPublishing { status, .. } if status == "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY")));
    let unread = AdminSide {
        destinations: Some(Err(err("AccessDeniedException"))),
        ..admin_with(&[])
    };
    let p = plan_rollout(&d, &obs(Seen::Read(unread), vec![]));
    assert!(p
        .notices
        .iter()
        .any(|n| matches!(n, Notice::ObserveFailed { .. })));
    assert!(!p
        .steps
        .iter()
        .any(|s| s.action.operation().contains("PublishingDestination")));
}

#[test]
fn no_export_asked_touches_no_destination() {
    let d = desired(Mode::Invitation, 0);
    let other = admin_exporting(vec![destination(
        BUCKET,
        "arn:aws:kms:us-east-1:999999999999:key/x",
        "STOPPED",
    )]);
    let p = plan_rollout(&d, &obs(Seen::Read(other), vec![]));
    assert!(p.is_empty() && p.notices.is_empty(), "{p:?}");
}
