//! GuardDuty administrator and member accounts by invitation, through aws-sdk-guardduty with
//! each account's own keys: members, invitations (per region), acceptance, the one-administrator
//! rule, Removed/Resigned and re-invitation, monitoring, batch limits and pagination.

use aws_sdk_guardduty::types::AccountDetail;
use aws_sdk_guardduty::Client;

use crate::support::{self, assert_bad_request, new_detector, unprocessed, Env};

/// One account's GuardDuty client in one region, with its detector.
struct Gd {
    client: Client,
    detector: String,
}

impl Gd {
    async fn new(env: &Env, account: &str, region: &str) -> Gd {
        let client = env.gd(account, region).await;
        let detector = new_detector(&client).await;
        Gd { client, detector }
    }

    /// CreateMembers + InviteMembers of `member`; the unprocessed results of the invitation.
    async fn add_and_invite(&self, env: &Env, member: &str) -> Vec<(String, String)> {
        support::create_member(env, &self.client, &self.detector, member).await;
        self.invite(member).await
    }

    async fn invite(&self, member: &str) -> Vec<(String, String)> {
        let out = self
            .client
            .invite_members()
            .detector_id(&self.detector)
            .account_ids(member)
            .send()
            .await
            .unwrap();
        unprocessed(out.unprocessed_accounts())
    }

    /// Accept the pending invitation from `admin` (the current API).
    async fn accept(&self, admin: &str) {
        let invitation = self.invitation_from(admin).await.expect("an invitation");
        self.client
            .accept_administrator_invitation()
            .detector_id(&self.detector)
            .administrator_id(admin)
            .invitation_id(invitation)
            .send()
            .await
            .unwrap();
    }

    async fn invitation_from(&self, admin: &str) -> Option<String> {
        let list = self.client.list_invitations().send().await.unwrap();
        list.invitations()
            .iter()
            .find(|i| i.account_id() == Some(admin))
            .map(|i| i.invitation_id().unwrap().to_string())
    }

    /// The administrator side's relationship status of `member`.
    async fn status_of(&self, member: &str) -> Option<String> {
        let got = self
            .client
            .get_members()
            .detector_id(&self.detector)
            .account_ids(member)
            .send()
            .await
            .unwrap();
        got.members()
            .first()
            .map(|m| m.relationship_status().unwrap().to_string())
    }

    async fn administrator(&self) -> Option<String> {
        let out = self
            .client
            .get_administrator_account()
            .detector_id(&self.detector)
            .send()
            .await
            .unwrap();
        // GuardDuty answers an account without administrator with an empty 200; the Rust SDK
        // fills the required `administrator` member with an empty value.
        out.administrator()
            .and_then(|a| a.account_id())
            .map(String::from)
    }
}

#[tokio::test]
async fn invitation_flow_end_to_end() {
    let env = Env::new(1).await;
    let member_id = env.members()[0].clone();
    let admin = Gd::new(&env, &env.management, "us-east-1").await;
    let member = Gd::new(&env, &member_id, "us-east-1").await;

    support::create_member(&env, &admin.client, &admin.detector, &member_id).await;
    assert_eq!(
        admin.status_of(&member_id).await.as_deref(),
        Some("Created")
    );
    // Only associated members are listed by default.
    let listed = admin
        .client
        .list_members()
        .detector_id(&admin.detector)
        .send()
        .await
        .unwrap();
    assert!(listed.members().is_empty());
    let listed = admin
        .client
        .list_members()
        .detector_id(&admin.detector)
        .only_associated("false")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.members().len(), 1);

    let out = admin
        .client
        .invite_members()
        .detector_id(&admin.detector)
        .account_ids(&member_id)
        .disable_email_notification(true)
        .message("please join")
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty());
    assert_eq!(
        admin.status_of(&member_id).await.as_deref(),
        Some("Invited")
    );

    let count = member.client.get_invitations_count().send().await.unwrap();
    assert_eq!(count.invitations_count(), Some(1));
    let invitations = member.client.list_invitations().send().await.unwrap();
    let inv = &invitations.invitations()[0];
    assert_eq!(inv.account_id(), Some(env.management.as_str()));
    assert_eq!(inv.relationship_status(), Some("Invited"));
    assert!(inv.invited_at().is_some());
    let invitation_id = inv.invitation_id().unwrap().to_string();

    // Acceptance needs the caller's own detector, the inviter and the right invitation id.
    let err = member
        .client
        .accept_administrator_invitation()
        .detector_id(&admin.detector)
        .administrator_id(&env.management)
        .invitation_id(&invitation_id)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "not owned by the current account");
    let err = member
        .client
        .accept_administrator_invitation()
        .detector_id(&member.detector)
        .administrator_id(&env.management)
        .invitation_id("0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "does not have an invitation");
    member.accept(&env.management).await;

    let listed = admin
        .client
        .list_members()
        .detector_id(&admin.detector)
        .send()
        .await
        .unwrap();
    let m = &listed.members()[0];
    assert_eq!(m.account_id(), Some(member_id.as_str()));
    assert_eq!(m.relationship_status(), Some("Enabled"));
    assert_eq!(m.detector_id(), Some(member.detector.as_str()));
    assert_eq!(m.administrator_id(), Some(env.management.as_str()));
    assert_eq!(m.master_id(), Some(env.management.as_str()));
    assert_eq!(m.email(), Some(env.email(&member_id).as_str()));
    assert!(m.invited_at().is_some() && m.updated_at().is_some());

    let adm = member
        .client
        .get_administrator_account()
        .detector_id(&member.detector)
        .send()
        .await
        .unwrap();
    let adm = adm.administrator().unwrap();
    assert_eq!(adm.account_id(), Some(env.management.as_str()));
    assert_eq!(adm.invitation_id(), Some(invitation_id.as_str()));
    assert_eq!(adm.relationship_status(), Some("Enabled"));
    #[allow(deprecated)] // the deprecated name still answers, with `master`
    let master = member
        .client
        .get_master_account()
        .detector_id(&member.detector)
        .send()
        .await
        .unwrap();
    assert_eq!(
        master.master().unwrap().account_id(),
        Some(env.management.as_str())
    );
    // The invitation is consumed; the administrator has none itself.
    let count = member.client.get_invitations_count().send().await.unwrap();
    assert_eq!(count.invitations_count(), Some(0));
    assert_eq!(admin.administrator().await, None);
    assert_eq!(
        env.sandbox
            .world(|w| w.visible_accounts(&env.management, "us-east-1")),
        [env.management.clone(), member_id.clone()]
    );
}

#[tokio::test]
async fn an_account_has_one_administrator_per_region() {
    let env = Env::new(3).await;
    let ids = env.members();
    let (a, b, m) = (&ids[0], &ids[1], &ids[2]);
    let admin_a = Gd::new(&env, a, "us-east-1").await;
    let admin_b = Gd::new(&env, b, "us-east-1").await;
    let member = Gd::new(&env, m, "us-east-1").await;
    assert!(admin_a.add_and_invite(&env, m).await.is_empty());
    assert!(admin_b.add_and_invite(&env, m).await.is_empty());
    assert_eq!(
        member
            .client
            .get_invitations_count()
            .send()
            .await
            .unwrap()
            .invitations_count(),
        Some(2)
    );
    member.accept(a).await;
    // The second invitation can no longer be accepted...
    let invitation = member.invitation_from(b).await.unwrap();
    let err = member
        .client
        .accept_administrator_invitation()
        .detector_id(&member.detector)
        .administrator_id(b)
        .invitation_id(invitation)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "already associated with an administrator");
    assert_eq!(member.administrator().await.as_deref(), Some(a.as_str()));
    // ...and a fresh invitation from another administrator is refused per account.
    admin_b
        .client
        .delete_members()
        .detector_id(&admin_b.detector)
        .account_ids(m)
        .send()
        .await
        .unwrap();
    let refused = admin_b.add_and_invite(&env, m).await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, *m);
    assert!(
        refused[0].1.contains("another administrator"),
        "{refused:?}"
    );
    assert_eq!(admin_b.status_of(m).await.as_deref(), Some("Created"));
}

#[tokio::test]
async fn invitations_are_per_region() {
    let env = Env::new(1).await;
    let member_id = env.members()[0].clone();
    let admin = Gd::new(&env, &env.management, "us-east-1").await;
    let member_east = Gd::new(&env, &member_id, "us-east-1").await;
    let member_west = Gd::new(&env, &member_id, "eu-west-1").await;
    assert!(admin.add_and_invite(&env, &member_id).await.is_empty());
    assert!(member_west
        .client
        .list_invitations()
        .send()
        .await
        .unwrap()
        .invitations()
        .is_empty());
    let invitation = member_east.invitation_from(&env.management).await.unwrap();
    let err = member_west
        .client
        .accept_administrator_invitation()
        .detector_id(&member_west.detector)
        .administrator_id(&env.management)
        .invitation_id(&invitation)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "does not have an invitation");
    member_east.accept(&env.management).await;
    assert_eq!(member_west.administrator().await, None);
    assert_eq!(
        member_east.administrator().await.as_deref(),
        Some(env.management.as_str())
    );
    // The administrator has no members in the other region.
    let admin_west = Gd::new(&env, &env.management, "eu-west-1").await;
    let listed = admin_west
        .client
        .list_members()
        .detector_id(&admin_west.detector)
        .only_associated("false")
        .send()
        .await
        .unwrap();
    assert!(listed.members().is_empty());
}

#[tokio::test]
#[allow(deprecated)] // AcceptInvitation / DisassociateFromMasterAccount are exercised on purpose
async fn removed_and_resigned_members_can_be_invited_again() {
    let env = Env::new(1).await;
    let member_id = env.members()[0].clone();
    let mgmt = env.management.clone();
    let admin = Gd::new(&env, &mgmt, "us-east-1").await;
    let member = Gd::new(&env, &member_id, "us-east-1").await;
    assert!(admin.add_and_invite(&env, &member_id).await.is_empty());
    // Inviting an invited member again is refused for that account.
    let again = admin.invite(&member_id).await;
    assert!(again[0].1.contains("already invited"), "{again:?}");
    member.accept(&mgmt).await;

    // The administrator removes the member.
    let out = admin
        .client
        .disassociate_members()
        .detector_id(&admin.detector)
        .account_ids(&member_id)
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty());
    assert_eq!(
        admin.status_of(&member_id).await.as_deref(),
        Some("Removed")
    );
    assert_eq!(member.administrator().await, None);

    // Invited again, accepted through the deprecated AcceptInvitation.
    assert!(admin.invite(&member_id).await.is_empty());
    let invitation = member.invitation_from(&mgmt).await.unwrap();
    member
        .client
        .accept_invitation()
        .detector_id(&member.detector)
        .master_id(&mgmt)
        .invitation_id(invitation)
        .send()
        .await
        .unwrap();
    assert_eq!(
        admin.status_of(&member_id).await.as_deref(),
        Some("Enabled")
    );

    // The member leaves on its own.
    member
        .client
        .disassociate_from_administrator_account()
        .detector_id(&member.detector)
        .send()
        .await
        .unwrap();
    assert_eq!(
        admin.status_of(&member_id).await.as_deref(),
        Some("Resigned")
    );
    let err = member
        .client
        .disassociate_from_administrator_account()
        .detector_id(&member.detector)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "not associated with an administrator");
    let empty = member
        .client
        .get_administrator_account()
        .detector_id(&member.detector)
        .send()
        .await
        .unwrap();
    assert!(empty.administrator().and_then(|a| a.account_id()).is_none());

    // Invited a third time; the deprecated DisassociateFromMasterAccount also works.
    assert!(admin.invite(&member_id).await.is_empty());
    member.accept(&mgmt).await;
    member
        .client
        .disassociate_from_master_account()
        .detector_id(&member.detector)
        .send()
        .await
        .unwrap();
    assert_eq!(
        admin.status_of(&member_id).await.as_deref(),
        Some("Resigned")
    );

    // DeleteMembers forgets the member entirely.
    admin
        .client
        .delete_members()
        .detector_id(&admin.detector)
        .account_ids(&member_id)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status_of(&member_id).await, None);
    let again = admin.invite(&member_id).await;
    assert!(again[0].1.contains("not a member"), "{again:?}");
}

#[tokio::test]
async fn create_members_reports_unprocessed_accounts() {
    let env = Env::new(2).await;
    let ids = env.members();
    let admin = Gd::new(&env, &env.management, "us-east-1").await;
    let detail =
        |id: &str, email: &str| AccountDetail::builder().account_id(id).email(email).build();
    let out = admin
        .client
        .create_members()
        .detector_id(&admin.detector)
        .account_details(detail(&ids[0], &env.email(&ids[0])))
        .account_details(detail(&env.management, "aws-management@example.com"))
        .account_details(detail("12345", "x@example.com"))
        .account_details(detail(&ids[1], "not-an-email"))
        .send()
        .await
        .unwrap();
    let got = unprocessed(out.unprocessed_accounts());
    let reasons: Vec<&str> = got.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(reasons, [env.management.as_str(), "12345", ids[1].as_str()]);
    assert!(got[0].1.contains("itself"), "{got:?}");
    assert!(got[1].1.contains("account ID is invalid"), "{got:?}");
    assert!(got[2].1.contains("email"), "{got:?}");
    // Creating the same member twice.
    let out = admin
        .client
        .create_members()
        .detector_id(&admin.detector)
        .account_details(detail(&ids[0], &env.email(&ids[0])))
        .send()
        .await
        .unwrap();
    let got = unprocessed(out.unprocessed_accounts());
    assert!(got[0].1.contains("already a member"), "{got:?}");

    // GetMembers of a non-member.
    let out = admin
        .client
        .get_members()
        .detector_id(&admin.detector)
        .account_ids(&ids[0])
        .account_ids(&ids[1])
        .send()
        .await
        .unwrap();
    assert_eq!(out.members().len(), 1);
    assert_eq!(unprocessed(out.unprocessed_accounts())[0].0, ids[1]);

    // An address that is not the account's fails email verification (no invitation sent).
    let out = admin
        .client
        .create_members()
        .detector_id(&admin.detector)
        .account_details(detail(&ids[1], "someone-else@example.com"))
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty());
    assert!(admin.invite(&ids[1]).await.is_empty());
    assert_eq!(
        admin.status_of(&ids[1]).await.as_deref(),
        Some("EmailVerificationFailed")
    );
    let other = support::gd(&env.user(&ids[1]).await, "us-east-1");
    assert!(other
        .list_invitations()
        .send()
        .await
        .unwrap()
        .invitations()
        .is_empty());
}

#[tokio::test]
async fn batch_calls_take_one_to_fifty_accounts() {
    let env = Env::new(0).await;
    let admin = Gd::new(&env, &env.management, "us-east-1").await;
    let many: Vec<String> = (0..51)
        .map(|i| format!("{:012}", 300_000_000_000u64 + i))
        .collect();
    let details: Vec<AccountDetail> = many
        .iter()
        .map(|a| {
            AccountDetail::builder()
                .account_id(a)
                .email("a@example.com")
                .build()
        })
        .collect();
    let err = admin
        .client
        .create_members()
        .detector_id(&admin.detector)
        .set_account_details(Some(details))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "accountDetails");
    let d = &admin.detector;
    let c = &admin.client;
    let errs = [
        c.invite_members()
            .detector_id(d)
            .set_account_ids(Some(many.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
        c.get_members()
            .detector_id(d)
            .set_account_ids(Some(many.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
        c.disassociate_members()
            .detector_id(d)
            .set_account_ids(Some(many.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
        c.delete_members()
            .detector_id(d)
            .set_account_ids(Some(many.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
        c.start_monitoring_members()
            .detector_id(d)
            .set_account_ids(Some(many.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
        c.stop_monitoring_members()
            .detector_id(d)
            .set_account_ids(Some(many.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
        c.decline_invitations()
            .set_account_ids(Some(many.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
        c.delete_invitations()
            .set_account_ids(Some(many.clone()))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
        c.get_members()
            .detector_id(d)
            .set_account_ids(Some(vec![]))
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .to_string(),
    ];
    for e in errs {
        assert!(e.contains("accountIds has an invalid value"), "{e}");
    }
    // Fifty is fine.
    let out = c
        .get_members()
        .detector_id(d)
        .set_account_ids(Some(many[..50].to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.unprocessed_accounts().len(), 50);
}

#[tokio::test]
async fn decline_and_delete_invitations() {
    let env = Env::new(3).await;
    let ids = env.members();
    let (a, b, m) = (&ids[0], &ids[1], &ids[2]);
    let admin_a = Gd::new(&env, a, "us-east-1").await;
    let admin_b = Gd::new(&env, b, "us-east-1").await;
    let member = support::gd(&env.user(m).await, "us-east-1");
    assert!(admin_a.add_and_invite(&env, m).await.is_empty());
    assert!(admin_b.add_and_invite(&env, m).await.is_empty());
    let out = member
        .decline_invitations()
        .account_ids(a)
        .account_ids("999999999999")
        .send()
        .await
        .unwrap();
    let got = unprocessed(out.unprocessed_accounts());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "999999999999");
    assert!(got[0].1.contains("does not have an invitation"), "{got:?}");
    assert_eq!(admin_a.status_of(m).await.as_deref(), Some("Resigned"));
    let out = member
        .delete_invitations()
        .account_ids(b)
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty());
    assert_eq!(
        member
            .get_invitations_count()
            .send()
            .await
            .unwrap()
            .invitations_count(),
        Some(0)
    );
    // A declined member can be invited again.
    assert!(admin_a.invite(m).await.is_empty());
    assert_eq!(admin_a.status_of(m).await.as_deref(), Some("Invited"));
}

#[tokio::test]
async fn stop_and_start_monitoring_members() {
    let env = Env::new(2).await;
    let ids = env.members();
    let admin = Gd::new(&env, &env.management, "us-east-1").await;
    let member = Gd::new(&env, &ids[0], "us-east-1").await;
    assert!(admin.add_and_invite(&env, &ids[0]).await.is_empty());
    member.accept(&env.management).await;
    let d = &admin.detector;
    let out = admin
        .client
        .stop_monitoring_members()
        .detector_id(d)
        .account_ids(&ids[0])
        .account_ids(&ids[1])
        .send()
        .await
        .unwrap();
    let got = unprocessed(out.unprocessed_accounts());
    assert_eq!(got.len(), 1);
    assert!(got[0].1.contains("not an associated member"), "{got:?}");
    assert_eq!(admin.status_of(&ids[0]).await.as_deref(), Some("Disabled"));
    assert_eq!(
        env.sandbox
            .world(|w| w.visible_accounts(&env.management, "us-east-1")),
        std::slice::from_ref(&env.management)
    );
    // Still associated: listed by default and still administered.
    let listed = admin
        .client
        .list_members()
        .detector_id(d)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.members().len(), 1);
    assert_eq!(
        member.administrator().await.as_deref(),
        Some(env.management.as_str())
    );
    admin
        .client
        .start_monitoring_members()
        .detector_id(d)
        .account_ids(&ids[0])
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status_of(&ids[0]).await.as_deref(), Some("Enabled"));
}

#[tokio::test]
async fn members_and_invitations_paginate() {
    let env = Env::new(5).await;
    let ids = env.members();
    let admin = Gd::new(&env, &env.management, "us-east-1").await;
    let mut req = admin.client.create_members().detector_id(&admin.detector);
    for id in &ids {
        req = req.account_details(
            AccountDetail::builder()
                .account_id(id)
                .email(env.email(id))
                .build(),
        );
    }
    req.send().await.unwrap();
    let members: Vec<_> = admin
        .client
        .list_members()
        .detector_id(&admin.detector)
        .only_associated("false")
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let got: Vec<&str> = members.iter().map(|m| m.account_id().unwrap()).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let err = admin
        .client
        .list_members()
        .detector_id(&admin.detector)
        .only_associated("maybe")
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "onlyAssociated");

    // One member invited by three administrators lists three invitations, two per page.
    let target = ids[4].clone();
    for admin_id in &ids[..3] {
        let a = Gd::new(&env, admin_id, "us-east-1").await;
        assert!(a.add_and_invite(&env, &target).await.is_empty());
    }
    let member = support::gd(&env.user(&target).await, "us-east-1");
    let invitations: Vec<_> = member
        .list_invitations()
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let from: Vec<&str> = invitations
        .iter()
        .map(|i| i.account_id().unwrap())
        .collect();
    assert_eq!(
        from,
        ids[..3].iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn deleting_a_listed_member_between_pages_skips_no_other_member() {
    let env = Env::new(3).await;
    let ids = env.members();
    let admin = Gd::new(&env, &env.management, "us-east-1").await;
    for id in &ids {
        support::create_member(&env, &admin.client, &admin.detector, id).await;
    }
    let list = || {
        admin
            .client
            .list_members()
            .detector_id(&admin.detector)
            .only_associated("false")
            .max_results(2)
    };
    let first = list().send().await.unwrap();
    let listed: Vec<&str> = first
        .members()
        .iter()
        .map(|m| m.account_id().unwrap())
        .collect();
    assert_eq!(listed, [ids[0].as_str(), ids[1].as_str()]);
    let out = admin
        .client
        .delete_members()
        .detector_id(&admin.detector)
        .account_ids(&ids[0])
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_accounts().is_empty());
    let token = first.next_token().expect("a second page").to_string();
    let second = list().next_token(token).send().await.unwrap();
    let rest: Vec<&str> = second
        .members()
        .iter()
        .map(|m| m.account_id().unwrap())
        .collect();
    assert_eq!(rest, [ids[2].as_str()]);
    assert_eq!(second.next_token(), None);
}

#[tokio::test]
async fn administrators_cannot_also_be_members() {
    let env = Env::new(2).await;
    let ids = env.members();
    let mgmt = env.management.clone();
    let admin = Gd::new(&env, &mgmt, "us-east-1").await;
    let member = Gd::new(&env, &ids[0], "us-east-1").await;
    let other = Gd::new(&env, &ids[1], "us-east-1").await;
    assert!(admin.add_and_invite(&env, &ids[0]).await.is_empty());
    member.accept(&mgmt).await;
    // Another account invites the administrator: the invitation arrives, acceptance is refused.
    assert!(other.add_and_invite(&env, &mgmt).await.is_empty());
    let invitation = admin.invitation_from(&ids[1]).await.unwrap();
    let err = admin
        .client
        .accept_administrator_invitation()
        .detector_id(&admin.detector)
        .administrator_id(&ids[1])
        .invitation_id(invitation)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "cannot also be a member");
    assert_eq!(admin.administrator().await, None);
    // Nor can a member administer others.
    support::create_member(&env, &member.client, &member.detector, &ids[1]).await;
    let err = member
        .client
        .invite_members()
        .detector_id(&member.detector)
        .account_ids(&ids[1])
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "cannot invite members");
}
