//! The sandbox's common machinery: authentication by access key, protocol errors, regions.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use guardduty_org::sandbox::Keys;

use crate::support::{self, Env};

#[tokio::test]
async fn caller_identity_names_the_account_of_the_key() {
    let env = Env::new(2).await;
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(env.management.as_str()));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{}:user/sandbox-admin", env.management).as_str())
    );

    let member = &env.members()[0];
    let theirs = aws_sdk_sts::Client::new(&env.user(member).await)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.account(), Some(member.as_str()));
}

#[tokio::test]
async fn unknown_keys_are_refused_per_protocol() {
    let env = Env::new(1).await;
    let bogus = Keys {
        access_key_id: "AKIANOTAREALKEY00000".into(),
        secret_access_key: "x".into(),
    };
    let cfg = support::config(&env.sandbox, &bogus, None, "us-east-1").await;
    let err = aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    let err = support::gd(&cfg, "us-east-1")
        .list_detectors()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
}

#[tokio::test]
async fn opt_in_region_not_enabled_is_refused() {
    let env = Env::new(1).await;
    // af-south-1 is an opt-in region the generated accounts have not enabled.
    let err = support::gd(&env.mgmt, "af-south-1")
        .list_detectors()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
}
