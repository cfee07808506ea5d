//! The sandbox evaluates identity policies and SCPs as AWS does: each service refuses with its
//! own AccessDenied and AWS's message; AssumeRole needs the caller's policy and the trust
//! policy; enforcement can be switched off in the org file; the Organizations policy
//! operations answer with their documented errors.

use aws_sdk_organizations::types::PolicyType;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::sandbox::Keys;
use serde_json::json;

use crate::support::{self, Env};

/// A user of `account` whose only policy is the inline `doc`; its keys.
async fn user_with(env: &Env, account: &str, name: &str, doc: serde_json::Value) -> Keys {
    let iam = aws_sdk_iam::Client::new(&env.user(account).await);
    iam.create_user().user_name(name).send().await.unwrap();
    iam.put_user_policy()
        .user_name(name)
        .policy_name("only")
        .policy_document(doc.to_string())
        .send()
        .await
        .unwrap();
    let k = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    Keys {
        access_key_id: k.access_key_id().into(),
        secret_access_key: k.secret_access_key().into(),
    }
}

#[tokio::test]
async fn each_service_refuses_what_no_policy_allows_in_its_own_words() {
    let env = Env::new(1).await;
    let mgmt = env.management.clone();
    let keys = user_with(
        &env,
        &mgmt,
        "reader",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "guardduty:List*", "Resource": "*"},
            {"Effect": "Deny", "Action": "guardduty:ListFilters", "Resource": "*"}]}),
    )
    .await;
    let cfg = support::config(&env.sandbox, &keys, None, "eu-west-1").await;
    let arn = format!("arn:aws:iam::{mgmt}:user/reader");

    let gd = support::gd(&cfg, "eu-west-1");
    gd.list_detectors().send().await.expect("allowed");
    let e = gd.create_detector().enable(true).send().await.unwrap_err();
    support::assert_error(
        &e,
        "AccessDeniedException",
        &format!("User: {arn} is not authorized to perform: guardduty:CreateDetector on resource: * because no identity-based policy allows the guardduty:CreateDetector action"),
    );
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
    let e = gd.list_filters().detector_id("d").send().await.unwrap_err();
    support::assert_error(
        &e,
        "AccessDeniedException",
        "with an explicit deny in an identity-based policy",
    );

    let org = aws_sdk_organizations::Client::new(&cfg);
    let e = org.list_accounts().send().await.unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_access_denied_exception(),
        "{e:?}"
    );
    assert!(e.message().unwrap().contains("organizations:ListAccounts"));

    let iam = aws_sdk_iam::Client::new(&cfg);
    let e = iam.get_role().role_name("x").send().await.unwrap_err();
    support::assert_error(
        &e,
        "AccessDenied",
        &format!("iam:GetRole on resource: arn:aws:iam::{mgmt}:role/x"),
    );
    // GetCallerIdentity needs no permission.
    aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap();

    // AssumeRole across accounts: the trust policy lets the management account in, but the
    // user's own policy does not allow sts:AssumeRole.
    let member = &env.members()[0];
    let e = aws_sdk_sts::Client::new(&cfg)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("probe")
        .send()
        .await
        .unwrap_err();
    support::assert_error(
        &e,
        "AccessDenied",
        "because no identity-based policy allows the sts:AssumeRole action",
    );
}

#[tokio::test]
async fn without_enforcement_every_authenticated_call_is_allowed() {
    let mut spec = OrgSpec::generated(1);
    spec.iam.enforce_policies = false;
    spec.iam.member_user_policies = Some(vec!["ReadOnlyAccess".into()]);
    let env = Env::with_spec(spec).await;
    let member = env.members()[0].clone();
    let gd = env.gd(&member, "eu-west-1").await;
    support::new_detector(&gd).await;

    // Enforced (the default), the member's read-only user may read and not write.
    let mut spec = OrgSpec::generated(1);
    spec.iam.member_user_policies = Some(vec!["ReadOnlyAccess".into()]);
    let env = Env::with_spec(spec).await;
    let gd = env.gd(&member, "eu-west-1").await;
    gd.list_detectors().send().await.unwrap();
    let e = gd.create_detector().enable(true).send().await.unwrap_err();
    assert_eq!(support::code(&e), "AccessDeniedException");
}

#[tokio::test]
async fn scp_operations_and_their_errors() {
    let env = Env::new(1).await;
    let org = aws_sdk_organizations::Client::new(&env.mgmt);
    let roots = org.list_roots().send().await.unwrap();
    let root = roots.roots()[0].id().unwrap().to_string();
    assert!(roots.roots()[0].policy_types().is_empty());
    let content = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "guardduty:DeleteDetector", "Resource": "*"}]})
    .to_string();
    let p = org
        .create_policy()
        .name("guard")
        .description("d")
        .content(&content)
        .r#type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let id = p
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let e = org
        .create_policy()
        .name("guard")
        .description("d")
        .content(&content)
        .r#type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .unwrap()
        .is_duplicate_policy_exception());
    let e = org
        .attach_policy()
        .policy_id(&id)
        .target_id(&root)
        .send()
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .unwrap()
        .is_policy_type_not_enabled_exception());
    org.enable_policy_type()
        .root_id(&root)
        .policy_type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let e = org
        .enable_policy_type()
        .root_id(&root)
        .policy_type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .unwrap()
        .is_policy_type_already_enabled_exception());
    // FullAWSAccess went on the root and every account.
    let member = env.members()[0].clone();
    let on_member = org
        .list_policies_for_target()
        .target_id(&member)
        .filter(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    assert_eq!(on_member.policies()[0].name(), Some("FullAWSAccess"));
    org.attach_policy()
        .policy_id(&id)
        .target_id(&root)
        .send()
        .await
        .unwrap();
    let e = org
        .attach_policy()
        .policy_id(&id)
        .target_id(&root)
        .send()
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .unwrap()
        .is_duplicate_policy_attachment_exception());
    let e = org
        .create_policy()
        .name("too-big")
        .description("d")
        .content(format!("{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Sid\":\"{}\"}}]}}", "a".repeat(5200)))
        .r#type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error()
            .unwrap()
            .is_constraint_violation_exception(),
        "{e:?}"
    );

    // The SCP binds the member's administrator, not the management account's.
    let gm = env.gd(&member, "eu-west-1").await;
    let det = support::new_detector(&gm).await;
    let e = gm
        .delete_detector()
        .detector_id(&det)
        .send()
        .await
        .unwrap_err();
    support::assert_error(
        &e,
        "AccessDeniedException",
        "with an explicit deny in a service control policy",
    );
    let own = env.gd(&env.management, "eu-west-1").await;
    let own_det = support::new_detector(&own).await;
    own.delete_detector()
        .detector_id(&own_det)
        .send()
        .await
        .unwrap();
    // FullAWSAccess is the member's only SCP: it cannot go. With another in its place, it can,
    // and the member may then do only what that one allows.
    let e = org
        .detach_policy()
        .policy_id("p-FullAWSAccess")
        .target_id(&member)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error()
            .unwrap()
            .is_constraint_violation_exception(),
        "{e:?}"
    );
    let only_iam = org
        .create_policy()
        .name("only-iam")
        .description("d")
        .content(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}).to_string())
        .r#type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let only_iam = only_iam
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    org.attach_policy()
        .policy_id(&only_iam)
        .target_id(&member)
        .send()
        .await
        .unwrap();
    org.detach_policy()
        .policy_id("p-FullAWSAccess")
        .target_id(&member)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let e = gm.list_detectors().send().await.unwrap_err();
    support::assert_error(
        &e,
        "AccessDeniedException",
        "because no service control policy allows the guardduty:ListDetectors action",
    );
}
