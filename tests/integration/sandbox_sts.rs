//! STS: AssumeRole (trust policies, external ids, refusals, validation, expiry, chaining) and
//! GetCallerIdentity, through the official STS client and aws-config's AssumeRoleProvider.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sts::operation::assume_role::AssumeRoleOutput;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::sandbox::Keys;

use crate::support::{self, code, Env};

fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

const EXEC_ROLE: &str = "OrganizationAccountAccessRole";

/// The SDK config of the credentials an AssumeRole returned.
async fn assumed_config(env: &Env, out: &AssumeRoleOutput) -> SdkConfig {
    let c = out.credentials().expect("credentials");
    let keys = Keys {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
    };
    support::config(
        &env.sandbox,
        &keys,
        Some(c.session_token().to_string()),
        "us-east-1",
    )
    .await
}

fn set_trust(env: &Env, account: &str, role: &str, policy: serde_json::Value) {
    env.sandbox.world(|w| {
        w.accounts
            .get_mut(account)
            .unwrap()
            .iam
            .roles
            .get_mut(role)
            .unwrap()
            .trust_policy = policy.to_string();
    });
}

#[tokio::test]
async fn assume_role_into_a_member_gives_that_accounts_identity() {
    let env = Env::new(2).await;
    let member = env.members()[1].clone();
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let out = sts
        .assume_role()
        .role_arn(role_arn(&member, EXEC_ROLE))
        .role_session_name("gdorg-test")
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    assert_eq!(creds.access_key_id().len(), 20);
    assert_eq!(creds.secret_access_key().len(), 40);
    assert!(!creds.session_token().is_empty());
    let expires = creds.expiration().secs();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now + 3500..=now + 3601).contains(&expires),
        "default lifetime is one hour: {expires} vs {now}"
    );
    let role_id = env
        .sandbox
        .world(|w| w.accounts[&member].iam.roles[EXEC_ROLE].id.clone());
    let user = out.assumed_role_user().unwrap();
    assert_eq!(user.assumed_role_id(), format!("{role_id}:gdorg-test"));
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{member}:assumed-role/{EXEC_ROLE}/gdorg-test")
    );

    let me = aws_sdk_sts::Client::new(&assumed_config(&env, &out).await)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.account(), Some(member.as_str()));
    assert_eq!(me.arn(), Some(user.arn()));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));

    let mine = sts.get_caller_identity().send().await.unwrap();
    assert!(mine.user_id().unwrap().starts_with("AIDA"), "{mine:?}");
}

#[tokio::test]
async fn refusals_are_access_denied_naming_caller_and_role() {
    let spec = OrgSpec::parse(
        r#"
        [[accounts]]
        id = "300000000001"
        execution_role = false
        [[accounts]]
        id = "300000000002"
        suspended = true
        [[accounts]]
        id = "300000000003"
        "#,
    )
    .unwrap();
    let env = Env::with_spec(spec).await;
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let caller = format!("arn:aws:iam::{}:user/sandbox-admin", env.management);
    // Trusts another account only.
    set_trust(
        &env,
        "300000000003",
        EXEC_ROLE,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]}),
    );
    for (what, arn) in [
        (
            "account without the role",
            role_arn("300000000001", EXEC_ROLE),
        ),
        ("suspended account", role_arn("300000000002", EXEC_ROLE)),
        (
            "trust policy names another account",
            role_arn("300000000003", EXEC_ROLE),
        ),
        (
            "account outside the organization",
            role_arn("123456789012", EXEC_ROLE),
        ),
        (
            "role of another name",
            role_arn("300000000003", "NoSuchRole"),
        ),
        (
            "role under another path",
            "arn:aws:iam::300000000003:role/ops/OrganizationAccountAccessRole".into(),
        ),
    ] {
        let err = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name("s1")
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "AccessDenied", "{what}");
        assert_eq!(
            err.message(),
            Some(
                format!("User: {caller} is not authorized to perform: sts:AssumeRole on resource: {arn}")
                    .as_str()
            ),
            "{what}"
        );
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    }
}

#[tokio::test]
async fn trust_policy_deny_and_external_id() {
    let env = Env::new(1).await;
    let member = env.members()[0].clone();
    let mgmt = env.management.clone();
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let arn = role_arn(&member, EXEC_ROLE);
    let assume = |external_id: Option<&str>| {
        let mut req = sts.assume_role().role_arn(&arn).role_session_name("ext");
        if let Some(id) = external_id {
            req = req.external_id(id);
        }
        req.send()
    };

    set_trust(
        &env,
        &member,
        EXEC_ROLE,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": [format!("arn:aws:iam::{mgmt}:user/sandbox-admin")]},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": "gd-7f3a"}}}]}),
    );
    assert_eq!(code(&assume(None).await.unwrap_err()), "AccessDenied");
    assert_eq!(
        code(&assume(Some("wrong-id")).await.unwrap_err()),
        "AccessDenied"
    );
    assume(Some("gd-7f3a")).await.unwrap();

    // The same policy through aws-config's provider, as gdorg's client factory uses it.
    let provider = aws_config::sts::AssumeRoleProvider::builder(&arn)
        .session_name("provider")
        .external_id("gd-7f3a")
        .configure(&env.mgmt)
        .build()
        .await;
    let cfg = env
        .mgmt
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build();
    let me = aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.account(), Some(member.as_str()));

    // An explicit Deny wins over the Allow.
    set_trust(
        &env,
        &member,
        EXEC_ROLE,
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": mgmt}, "Action": "sts:*"},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]}),
    );
    assert_eq!(code(&assume(None).await.unwrap_err()), "AccessDenied");
}

#[tokio::test]
async fn input_is_validated_before_authorisation() {
    let env = Env::new(1).await;
    let member = env.members()[0].clone();
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let arn = role_arn(&member, EXEC_ROLE);
    for (session, duration, expect) in [
        ("x", None, "at 'roleSessionName'"),
        ("has space", None, "regular expression pattern"),
        (&*"a".repeat(65), None, "at 'roleSessionName'"),
        ("ok", Some(899), "greater than or equal to 900"),
        ("ok", Some(3601), "exceeds the MaxSessionDuration"),
    ] {
        let err = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name(session)
            .set_duration_seconds(duration)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "ValidationError", "{session} {duration:?}");
        assert!(
            err.message().unwrap().contains(expect),
            "{:?}",
            err.message()
        );
    }
    // Within bounds: the session name allows [\w+=,.@-] and 64 characters.
    let name = format!("{}a.b@c=d,e+f-", "x".repeat(52));
    assert_eq!(name.len(), 64);
    let out = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name(&name)
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let lifetime = out.credentials().unwrap().expiration().secs() - chrono::Utc::now().timestamp();
    assert!((890..=901).contains(&lifetime), "{lifetime}");
    // A malformed ARN is a validation error, not a denial.
    let err = sts
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:user/someone")
        .role_session_name("ok")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
}

#[tokio::test]
async fn credentials_expire_after_the_session_lifetime() {
    let spec = OrgSpec::parse("member_accounts = 1\nsession_lifetime_secs = 2\n").unwrap();
    let env = Env::with_spec(spec).await;
    let member = env.members()[0].clone();
    let out = aws_sdk_sts::Client::new(&env.mgmt)
        .assume_role()
        .role_arn(role_arn(&member, EXEC_ROLE))
        .role_session_name("short")
        .duration_seconds(3600)
        .send()
        .await
        .unwrap();
    let expires = out.credentials().unwrap().expiration().secs();
    assert!(
        expires <= chrono::Utc::now().timestamp() + 3,
        "capped at the world's lifetime"
    );
    let sts = aws_sdk_sts::Client::new(&assumed_config(&env, &out).await);
    sts.get_caller_identity().send().await.unwrap();
    let gd = support::gd(&assumed_config(&env, &out).await, "eu-west-1");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(code(&err), "ExpiredToken");
    let err = gd.list_detectors().send().await.unwrap_err();
    assert_eq!(code(&err), "ExpiredTokenException");
}

#[tokio::test]
async fn role_chaining_works_as_on_aws() {
    let env = Env::new(2).await;
    let (a, b) = (env.members()[0].clone(), env.members()[1].clone());
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let first = sts
        .assume_role()
        .role_arn(role_arn(&a, EXEC_ROLE))
        .role_session_name("hop1")
        .send()
        .await
        .unwrap();
    let from_a = aws_sdk_sts::Client::new(&assumed_config(&env, &first).await);

    // b's role trusts the management account only: a's session is refused ...
    let err = from_a
        .assume_role()
        .role_arn(role_arn(&b, EXEC_ROLE))
        .role_session_name("hop2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert!(err
        .message()
        .unwrap()
        .contains(&format!("arn:aws:sts::{a}:assumed-role/{EXEC_ROLE}/hop1")));

    // ... until it trusts a's role by its role ARN.
    set_trust(
        &env,
        &b,
        EXEC_ROLE,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": role_arn(&a, EXEC_ROLE)}, "Action": "sts:AssumeRole"}]}),
    );
    // Chained sessions are capped at one hour.
    let err = from_a
        .assume_role()
        .role_arn(role_arn(&b, EXEC_ROLE))
        .role_session_name("hop2")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    assert!(err.message().unwrap().contains("role chaining"));
    let second = from_a
        .assume_role()
        .role_arn(role_arn(&b, EXEC_ROLE))
        .role_session_name("hop2")
        .send()
        .await
        .unwrap();
    let me = aws_sdk_sts::Client::new(&assumed_config(&env, &second).await)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.account(), Some(b.as_str()));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{b}:assumed-role/{EXEC_ROLE}/hop2").as_str())
    );
}

#[tokio::test]
async fn sts_in_a_region_the_account_has_not_enabled_is_refused() {
    let spec = OrgSpec::parse(
        r#"
        member_accounts = 1
        [management]
        id = "111111111111"
        opt_in_regions = ["af-south-1"]
        "#,
    )
    .unwrap();
    let env = Env::with_spec(spec).await;
    // The caller has af-south-1, the member does not: no credentials for it there.
    let conf = aws_sdk_sts::config::Builder::from(&env.mgmt)
        .region(aws_config::Region::new("af-south-1"))
        .build();
    let sts = aws_sdk_sts::Client::from_conf(conf);
    sts.get_caller_identity().send().await.unwrap();
    let err = sts
        .assume_role()
        .role_arn(role_arn(&env.members()[0], EXEC_ROLE))
        .role_session_name("af")
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_region_disabled_exception());
    let member = env.user(&env.members()[0]).await;
    let conf = aws_sdk_sts::config::Builder::from(&member)
        .region(aws_config::Region::new("af-south-1"))
        .build();
    let err = aws_sdk_sts::Client::from_conf(conf)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
}

/// As every regional service does: the credentials are not recognised there.
#[tokio::test]
async fn sts_in_a_region_the_caller_has_not_enabled_is_refused() {
    let env = Env::new(1).await;
    let conf = aws_sdk_sts::config::Builder::from(&env.mgmt)
        .region(aws_config::Region::new("af-south-1"))
        .build();
    let err = aws_sdk_sts::Client::from_conf(conf)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );
}
