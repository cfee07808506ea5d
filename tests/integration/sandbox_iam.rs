//! IAM: roles, trust policies, managed policies and versions, attachments, with their errors
//! and pagination, through the official IAM client.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::support::{code, Env};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;

fn doc(action: &str) -> String {
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "{action}", "Resource": "*"}}]}}"#
    )
}

fn decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn roles_create_get_update_trust() {
    let env = Env::new(1).await;
    let member = env.members()[0].clone();
    let iam = aws_sdk_iam::Client::new(&env.user(&member).await);
    let created = iam
        .create_role()
        .role_name("GuardDutyOps")
        .path("/security/")
        .description("gdorg operator")
        .max_session_duration(7200)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let role = created.role().unwrap();
    assert_eq!(role.role_name(), "GuardDutyOps");
    assert_eq!(role.path(), "/security/");
    assert_eq!(
        role.arn(),
        format!("arn:aws:iam::{member}:role/security/GuardDutyOps")
    );
    assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21);
    assert_eq!(role.max_session_duration(), Some(7200));

    let got = iam
        .get_role()
        .role_name("GuardDutyOps")
        .send()
        .await
        .unwrap();
    let got = got.role().unwrap();
    assert_eq!(got.role_id(), role.role_id());
    assert_eq!(got.description(), Some("gdorg operator"));
    let trust = got.assume_role_policy_document().unwrap();
    assert!(
        trust.starts_with("%7B%22Version%22"),
        "URL-encoded: {trust}"
    );
    assert_eq!(decode(trust), TRUST);
    // Names are unique regardless of case, and found regardless of case.
    let err = iam
        .create_role()
        .role_name("guarddutyops")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_entity_already_exists_exception());
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 409);
    iam.get_role()
        .role_name("GUARDDUTYOPS")
        .send()
        .await
        .unwrap();

    let err = iam.get_role().role_name("Nope").send().await.unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_no_such_entity_exception());
    assert_eq!(
        err.message(),
        Some("The role with name Nope cannot be found.")
    );
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);

    // The execution role the org file gave the member is there too.
    iam.get_role()
        .role_name("OrganizationAccountAccessRole")
        .send()
        .await
        .unwrap();

    // Trust policy updates are validated and take effect.
    let err = iam
        .update_assume_role_policy()
        .role_name("GuardDutyOps")
        .policy_document("{\"Statement\": ")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_malformed_policy_document_exception());
    let new_trust = TRUST.replace("111111111111:root", "222222222222:root");
    iam.update_assume_role_policy()
        .role_name("GuardDutyOps")
        .policy_document(&new_trust)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_role()
        .role_name("GuardDutyOps")
        .send()
        .await
        .unwrap();
    assert_eq!(
        decode(got.role().unwrap().assume_role_policy_document().unwrap()),
        new_trust
    );
    let err = iam
        .update_assume_role_policy()
        .role_name("Missing")
        .policy_document(TRUST)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn role_input_is_validated() {
    let env = Env::new(0).await;
    let iam = aws_sdk_iam::Client::new(&env.mgmt);
    for (name, path, doc, max, expect) in [
        ("bad name", "/", TRUST, None, "ValidationError"),
        (&*"r".repeat(65), "/", TRUST, None, "ValidationError"),
        ("ok", "no-slash", TRUST, None, "ValidationError"),
        ("ok", "/", TRUST, Some(60), "ValidationError"),
        ("ok", "/", "not json", None, "MalformedPolicyDocument"),
        // A trust policy names a principal.
        ("ok", "/", &*doc("s3:*"), None, "MalformedPolicyDocument"),
    ] {
        let err = iam
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(doc)
            .set_max_session_duration(max)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), expect, "{name} {path} {doc} {max:?}");
    }
}

#[tokio::test]
async fn policies_and_their_versions() {
    let env = Env::new(0).await;
    let iam = aws_sdk_iam::Client::new(&env.mgmt);
    let acct = env.management.clone();
    let p = iam
        .create_policy()
        .policy_name("gdorg-admin")
        .path("/gdorg/")
        .description("what gdorg needs")
        .policy_document(doc("guardduty:*"))
        .send()
        .await
        .unwrap();
    let p = p.policy().unwrap();
    let arn = p.arn().unwrap().to_string();
    assert_eq!(arn, format!("arn:aws:iam::{acct}:policy/gdorg/gdorg-admin"));
    assert_eq!(p.default_version_id(), Some("v1"));
    assert_eq!(p.attachment_count(), Some(0));
    assert!(p.policy_id().unwrap().starts_with("ANPA"));
    let err = iam
        .create_policy()
        .policy_name("GDORG-ADMIN")
        .policy_document(doc("guardduty:*"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
    for bad in [
        "{",
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}]}"#,
    ] {
        let err = iam
            .create_policy()
            .policy_name("other")
            .policy_document(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "MalformedPolicyDocument", "{bad}");
    }

    // Versions v2..v5; the sixth is refused.
    for i in 2..=5 {
        let v = iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(doc(&format!("guardduty:Get{i}")))
            .set_as_default(i == 3)
            .send()
            .await
            .unwrap();
        let v = v.policy_version().unwrap();
        assert_eq!(v.version_id(), Some(format!("v{i}").as_str()));
        assert_eq!(v.is_default_version(), i == 3);
    }
    let err = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(doc("guardduty:List*"))
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_limit_exceeded_exception());
    let got = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(got.policy().unwrap().default_version_id(), Some("v3"));
    let v3 = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        decode(v3.policy_version().unwrap().document().unwrap()),
        doc("guardduty:Get3")
    );

    // Listing, newest first, in pages.
    let pages: Vec<_> = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .max_items(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages[0].is_truncated() && !pages[2].is_truncated());
    let ids: Vec<_> = pages
        .iter()
        .flat_map(|p| {
            p.versions()
                .iter()
                .map(|v| v.version_id().unwrap().to_string())
        })
        .collect();
    assert_eq!(ids, ["v5", "v4", "v3", "v2", "v1"]);

    // The default version cannot go; others can, and numbers are not reused.
    let err = iam
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v3")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_delete_conflict_exception());
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    let err = iam
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let v6 = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(doc("guardduty:List*"))
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    assert_eq!(v6.policy_version().unwrap().version_id(), Some("v6"));

    // Unknown and foreign policies.
    let err = iam
        .get_policy()
        .policy_arn(format!("arn:aws:iam::{acct}:policy/nope"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .get_policy()
        .policy_arn("not-an-arn")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");
    let managed = iam
        .get_policy()
        .policy_arn("arn:aws:iam::aws:policy/AmazonGuardDutyReadOnlyAccess")
        .send()
        .await
        .unwrap();
    assert_eq!(
        managed.policy().unwrap().policy_name(),
        Some("AmazonGuardDutyReadOnlyAccess")
    );
    let err = iam
        .create_policy_version()
        .policy_arn("arn:aws:iam::aws:policy/AmazonGuardDutyReadOnlyAccess")
        .policy_document(doc("*"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
}

#[tokio::test]
async fn attaching_policies_to_roles() {
    let env = Env::new(0).await;
    let iam = aws_sdk_iam::Client::new(&env.mgmt);
    iam.create_role()
        .role_name("ops")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let mut arns = vec![];
    for i in 0..7 {
        let p = iam
            .create_policy()
            .policy_name(format!("p{i}"))
            .path(if i % 2 == 0 { "/even/" } else { "/" })
            .policy_document(doc("guardduty:Get*"))
            .send()
            .await
            .unwrap();
        arns.push(p.policy().unwrap().arn().unwrap().to_string());
    }
    arns.push("arn:aws:iam::aws:policy/AmazonGuardDutyFullAccess".into());
    arns.push("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".into());
    for arn in &arns {
        iam.attach_role_policy()
            .role_name("ops")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    // Attaching twice changes nothing.
    iam.attach_role_policy()
        .role_name("ops")
        .policy_arn(&arns[0])
        .send()
        .await
        .unwrap();
    let p0 = iam.get_policy().policy_arn(&arns[0]).send().await.unwrap();
    assert_eq!(p0.policy().unwrap().attachment_count(), Some(1));

    let attached: Vec<_> = iam
        .list_attached_role_policies()
        .role_name("ops")
        .max_items(4)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let mut got: Vec<_> = attached
        .iter()
        .map(|a| a.policy_arn().unwrap().to_string())
        .collect();
    got.sort();
    let mut want = arns.clone();
    want.sort();
    assert_eq!(got, want);
    let even = iam
        .list_attached_role_policies()
        .role_name("ops")
        .path_prefix("/even/")
        .send()
        .await
        .unwrap();
    assert_eq!(even.attached_policies().len(), 4);
    assert!(!even.is_truncated());

    // The tenth attachment is the quota; the eleventh is refused.
    let extra = "arn:aws:iam::aws:policy/SecurityAudit";
    iam.attach_role_policy()
        .role_name("ops")
        .policy_arn(extra)
        .send()
        .await
        .unwrap();
    let err = iam
        .attach_role_policy()
        .role_name("ops")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");

    // Unknown role or policy.
    let err = iam
        .attach_role_policy()
        .role_name("ghost")
        .policy_arn(&arns[0])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .attach_role_policy()
        .role_name("ops")
        .policy_arn("arn:aws:iam::aws:policy/NoSuchManagedPolicy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .list_attached_role_policies()
        .role_name("ghost")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");

    // Detaching.
    iam.detach_role_policy()
        .role_name("ops")
        .policy_arn(&arns[0])
        .send()
        .await
        .unwrap();
    let err = iam
        .detach_role_policy()
        .role_name("ops")
        .policy_arn(&arns[0])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let p0 = iam.get_policy().policy_arn(&arns[0]).send().await.unwrap();
    assert_eq!(p0.policy().unwrap().attachment_count(), Some(0));
}
