//! Fault injection seen through the SDKs: throttling answered with each protocol's code and
//! recovered by SDK retries, a rate of 5xx errors, latency, and restricting faults to some calls.

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use guardduty_org::sandbox::faults::FaultConfig;
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, code, Env};

/// `cfg` with the SDK's standard retries (short backoff so tests stay quick).
fn with_retries(cfg: &SdkConfig, attempts: u32) -> SdkConfig {
    cfg.to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_millis(200)),
        )
        .build()
}

/// A limit of one call per `per` seconds and account x region x operation, no burst.
fn throttle(per: f64) -> FaultConfig {
    FaultConfig {
        rate_limit_per_second: 1.0 / per,
        rate_limit_burst: Some(1.0),
        ..Default::default()
    }
}

#[tokio::test]
async fn throttling_uses_each_protocols_code_without_retries() {
    let env = Env::new(1).await;
    env.sandbox.faults().set(throttle(3600.0));
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let org = aws_sdk_organizations::Client::new(&env.mgmt);
    let iam = aws_sdk_iam::Client::new(&env.mgmt);
    let gd = support::gd(&env.mgmt, "us-east-1");

    sts.get_caller_identity().send().await.unwrap();
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(code(&err), "Throttling");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);

    org.list_accounts().send().await.unwrap();
    let err = org.list_accounts().send().await.unwrap_err();
    assert!(err
        .as_service_error()
        .unwrap()
        .is_too_many_requests_exception());

    let _ = iam.get_role().role_name("x").send().await; // first call passes (NoSuchEntity)
    let err = iam.get_role().role_name("x").send().await.unwrap_err();
    assert_eq!(code(&err), "Throttling");

    let _ = gd.list_detectors().send().await; // whatever the GuardDuty handler answers
    let err = gd.list_detectors().send().await.unwrap_err();
    assert_eq!(code(&err), "TooManyRequestsException");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 429);

    // The bucket is per account x region x operation: another operation still passes.
    sts.assume_role()
        .role_arn(format!(
            "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
            env.members()[0]
        ))
        .role_session_name("other-op")
        .send()
        .await
        .unwrap();
    // And so does another region of the same operation.
    let conf = aws_sdk_sts::config::Builder::from(&env.mgmt)
        .region(aws_config::Region::new("eu-west-1"))
        .build();
    aws_sdk_sts::Client::from_conf(conf)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn sdk_retries_recover_from_throttling() {
    let env = Env::new(1).await;
    // One call per 50 ms: back-to-back calls are throttled until the bucket refills.
    env.sandbox.faults().set(throttle(0.05));
    let cfg = with_retries(&env.mgmt, 10);
    let sts = aws_sdk_sts::Client::new(&cfg);
    let org = aws_sdk_organizations::Client::new(&cfg);
    let iam = aws_sdk_iam::Client::new(&cfg);
    for _ in 0..4 {
        sts.get_caller_identity().send().await.unwrap();
        org.list_accounts().send().await.unwrap();
        // The management account has no such role: NoSuchEntity is a served answer too.
        let answer = iam
            .get_role()
            .role_name("OrganizationAccountAccessRole")
            .send()
            .await;
        if let Err(e) = answer {
            assert_eq!(code(&e), "NoSuchEntity");
        }
    }
    let calls = env.sandbox.calls().snapshot();
    let throttled = calls.iter().filter(|c| c.status == 400).count();
    let served = calls.iter().filter(|c| c.status != 400).count();
    assert!(throttled > 0, "some calls were throttled and retried");
    assert_eq!(served, 12, "every call eventually served: {calls:?}");
}

#[tokio::test]
async fn server_errors_at_the_configured_rate_and_retries_absorb_them() {
    let env = Env::new(1).await;
    env.sandbox.faults().set(FaultConfig {
        error_rate: 0.25,
        seed: 42,
        ..Default::default()
    });
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    let mut failed = 0;
    for _ in 0..200 {
        if let Err(e) = sts.get_caller_identity().send().await {
            assert_eq!(code(&e), "InternalFailure");
            assert_eq!(e.raw_response().unwrap().status().as_u16(), 500);
            failed += 1;
        }
    }
    assert!((30..=70).contains(&failed), "about 25% of 200: {failed}");

    let org = aws_sdk_organizations::Client::new(&env.mgmt);
    let err = loop {
        if let Err(e) = org.list_accounts().send().await {
            break e;
        }
    };
    assert!(err.as_service_error().unwrap().is_service_exception());

    // With the SDK's retries every call succeeds.
    let cfg = with_retries(&env.mgmt, 8);
    let sts = aws_sdk_sts::Client::new(&cfg);
    for _ in 0..50 {
        sts.get_caller_identity().send().await.unwrap();
    }
}

#[tokio::test]
async fn latency_is_applied_only_where_targeted() {
    let spec = OrgSpec::parse(
        r#"
        member_accounts = 1
        [faults]
        latency_ms = 300
        jitter_ms = 50
        services = ["iam"]
        "#,
    )
    .unwrap();
    let env = Env::with_spec(spec).await;
    let iam = aws_sdk_iam::Client::new(&env.mgmt);
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    // Warm the connection so its setup does not count.
    sts.get_caller_identity().send().await.unwrap();

    let t = Instant::now();
    let _ = iam.get_role().role_name("none").send().await;
    let slow = t.elapsed();
    assert!(slow >= Duration::from_millis(300), "{slow:?}");

    let t = Instant::now();
    sts.get_caller_identity().send().await.unwrap();
    let fast = t.elapsed();
    assert!(fast < slow, "untargeted STS {fast:?} vs IAM {slow:?}");

    // Operation targeting: only ListAccounts is throttled.
    env.sandbox.faults().set(FaultConfig {
        operations: vec!["ListAccounts".into()],
        ..throttle(3600.0)
    });
    let org = aws_sdk_organizations::Client::new(&env.mgmt);
    org.list_accounts().send().await.unwrap();
    assert_eq!(
        code(&org.list_accounts().send().await.unwrap_err()),
        "TooManyRequestsException"
    );
    for _ in 0..3 {
        org.describe_organization().send().await.unwrap();
    }
}
