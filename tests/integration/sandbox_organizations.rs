//! Organizations: the organization, accounts (paginated, suspended ones included), trusted
//! access, delegated administrators, and who may call what.

use aws_sdk_organizations::types::AccountStatus;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{code, Env};

const GD: &str = "guardduty.amazonaws.com";

fn org(cfg: &aws_config::SdkConfig) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::new(cfg)
}

#[tokio::test]
async fn describe_organization_from_management_and_members() {
    let env = Env::new(2).await;
    let (org_id, mgmt) = env
        .sandbox
        .world(|w| (w.org.id.clone(), w.org.management.clone()));
    let out = org(&env.mgmt).describe_organization().send().await.unwrap();
    let o = out.organization().unwrap();
    assert_eq!(o.id(), Some(org_id.as_str()));
    assert!(org_id.starts_with("o-") && org_id.len() == 12, "{org_id}");
    assert_eq!(o.master_account_id(), Some(mgmt.as_str()));
    assert_eq!(o.master_account_email(), Some("aws-management@example.com"));
    assert_eq!(
        o.arn(),
        Some(format!("arn:aws:organizations::{mgmt}:organization/{org_id}").as_str())
    );
    assert_eq!(
        o.master_account_arn(),
        Some(format!("arn:aws:organizations::{mgmt}:account/{org_id}/{mgmt}").as_str())
    );
    assert_eq!(o.feature_set().map(|f| f.as_str()), Some("ALL"));
    // Any account of the organization may describe it.
    let member = env.user(&env.members()[0]).await;
    let theirs = org(&member).describe_organization().send().await.unwrap();
    assert_eq!(theirs.organization().unwrap().id(), Some(org_id.as_str()));
}

#[tokio::test]
async fn list_accounts_paginates_and_includes_suspended_accounts() {
    let spec = OrgSpec::parse(
        r#"
        member_accounts = 44
        [[accounts]]
        id = "300000000009"
        name = "old-sandbox"
        email = "old@example.com"
        suspended = true
        execution_role = false
        "#,
    )
    .unwrap();
    let env = Env::with_spec(spec).await;
    let client = org(&env.mgmt);
    let pages: Vec<_> = client
        .list_accounts()
        .max_results(7)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 7, "46 accounts in pages of 7");
    assert!(pages.iter().all(|p| p.accounts().len() <= 7));
    let accounts: Vec<_> = pages.iter().flat_map(|p| p.accounts().to_vec()).collect();
    assert_eq!(accounts.len(), 46);
    let mut ids: Vec<_> = accounts
        .iter()
        .map(|a| a.id().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 46, "no account twice");

    let old = accounts
        .iter()
        .find(|a| a.id() == Some("300000000009"))
        .unwrap();
    assert_eq!(old.status(), Some(&AccountStatus::Suspended));
    assert_eq!(old.state().map(|s| s.as_str()), Some("SUSPENDED"));
    assert_eq!(old.name(), Some("old-sandbox"));
    assert_eq!(old.email(), Some("old@example.com"));
    assert_eq!(old.joined_method().map(|j| j.as_str()), Some("INVITED"));

    let org_id = env.sandbox.world(|w| w.org.id.clone());
    let m = accounts
        .iter()
        .find(|a| a.id() == Some("200000000001"))
        .unwrap();
    assert_eq!(m.status(), Some(&AccountStatus::Active));
    assert_eq!(m.joined_method().map(|j| j.as_str()), Some("CREATED"));
    assert_eq!(m.name(), Some("member-0001"));
    assert_eq!(
        m.arn(),
        Some(
            format!(
                "arn:aws:organizations::{}:account/{org_id}/200000000001",
                env.management
            )
            .as_str()
        )
    );
    let joined = m.joined_timestamp().unwrap().secs();
    assert!((joined - chrono::Utc::now().timestamp()).abs() < 60);

    // MaxResults bounds and bad tokens.
    for bad in [0, 21] {
        let err = client
            .list_accounts()
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "InvalidInputException", "{bad}");
    }
    let err = client
        .list_accounts()
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInputException");
    assert!(err.message().unwrap().contains("nextToken"));
    // The default page is 20.
    let first = client.list_accounts().send().await.unwrap();
    assert_eq!(first.accounts().len(), 20);
    assert!(first.next_token().is_some());
}

#[tokio::test]
async fn service_access_and_delegated_administrators() {
    let env = Env::new(3).await;
    let members = env.members();
    let client = org(&env.mgmt);

    // Registering needs trusted access first.
    let err = client
        .register_delegated_administrator()
        .account_id(&members[0])
        .service_principal(GD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ConstraintViolationException");
    assert!(err.message().unwrap().contains("EnableAWSServiceAccess"));

    for sp in [GD, "securityhub.amazonaws.com", GD] {
        client
            .enable_aws_service_access()
            .service_principal(sp)
            .send()
            .await
            .unwrap();
    }
    let err = client
        .enable_aws_service_access()
        .service_principal("not a principal")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInputException");
    let access = client
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    let names: Vec<_> = access
        .enabled_service_principals()
        .iter()
        .map(|p| p.service_principal().unwrap())
        .collect();
    assert_eq!(names, vec![GD, "securityhub.amazonaws.com"]);
    assert!(access.enabled_service_principals()[0]
        .date_enabled()
        .is_some());

    client
        .register_delegated_administrator()
        .account_id(&members[0])
        .service_principal(GD)
        .send()
        .await
        .unwrap();
    client
        .register_delegated_administrator()
        .account_id(&members[1])
        .service_principal("securityhub.amazonaws.com")
        .send()
        .await
        .unwrap();
    let err = client
        .register_delegated_administrator()
        .account_id(&members[0])
        .service_principal(GD)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_account_already_registered_exception());
    let err = client
        .register_delegated_administrator()
        .account_id(&env.management)
        .service_principal(GD)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_constraint_violation_exception());
    let err = client
        .register_delegated_administrator()
        .account_id("123456789012")
        .service_principal(GD)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_account_not_found_exception());

    // The shared state GuardDuty reads.
    assert!(env.sandbox.world(|w| w
        .org
        .delegated_admins
        .contains_key(&(GD.to_string(), members[0].clone()))));

    let all: Vec<_> = client
        .list_delegated_administrators()
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|d| d.id().unwrap()).collect();
    assert_eq!(ids, vec![members[0].as_str(), members[1].as_str()]);
    assert!(all[0].delegation_enabled_date().is_some());
    assert_eq!(all[0].status(), Some(&AccountStatus::Active));
    let gd_only = client
        .list_delegated_administrators()
        .service_principal(GD)
        .send()
        .await
        .unwrap();
    assert_eq!(gd_only.delegated_administrators().len(), 1);
    assert_eq!(
        gd_only.delegated_administrators()[0].id(),
        Some(members[0].as_str())
    );

    // A delegated administrator may list, but not change, the organization.
    let delegated = org(&env.user(&members[0]).await);
    delegated.list_accounts().send().await.unwrap();
    delegated
        .list_delegated_administrators()
        .send()
        .await
        .unwrap();
    delegated
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    let err = delegated
        .enable_aws_service_access()
        .service_principal(GD)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_access_denied_exception());
    // A plain member may not even list.
    let plain = org(&env.user(&members[2]).await);
    let err = plain.list_accounts().send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_access_denied_exception());
    let err = plain
        .list_delegated_administrators()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");

    // Deregistering.
    client
        .deregister_delegated_administrator()
        .account_id(&members[0])
        .service_principal(GD)
        .send()
        .await
        .unwrap();
    let err = client
        .deregister_delegated_administrator()
        .account_id(&members[0])
        .service_principal(GD)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_account_not_registered_exception());
    let err = delegated.list_accounts().send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException", "no longer delegated");
}

#[tokio::test]
async fn assumed_role_in_the_management_account_is_the_management_account() {
    // The management account's own role (here created through IAM) counts as the account.
    let env = Env::new(1).await;
    let iam = aws_sdk_iam::Client::new(&env.mgmt);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}]}}"#,
        env.management
    );
    iam.create_role()
        .role_name("Auditor")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    // The sandbox evaluates identity policies: the role needs one that lets it list accounts.
    iam.attach_role_policy()
        .role_name("Auditor")
        .policy_arn("arn:aws:iam::aws:policy/AWSOrganizationsReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let out = aws_sdk_sts::Client::new(&env.mgmt)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{}:role/Auditor", env.management))
        .role_session_name("audit")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let cfg = crate::support::config(
        &env.sandbox,
        &guardduty_org::sandbox::Keys {
            access_key_id: c.access_key_id().into(),
            secret_access_key: c.secret_access_key().into(),
        },
        Some(c.session_token().into()),
        "us-east-1",
    )
    .await;
    let accounts = org(&cfg).list_accounts().send().await.unwrap();
    assert_eq!(accounts.accounts().len(), 2);
}
