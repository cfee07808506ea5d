//! Authentication as AWS does it, through the real SDKs: SigV4 signatures are verified (a wrong
//! secret, a tampered body or a stale signature is refused, with each protocol's code), a
//! credential scoped to a region that does not exist is a signature error, and a region the
//! account has not enabled does not know its credentials. The AWS CLI (botocore's signer) is
//! checked too when it is installed.

use std::time::{Duration, SystemTime};

use aws_sdk_guardduty::types::{Condition, FindingCriteria};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::sdk_config::TimeSource;
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::sandbox::sigv4::MISMATCH_MESSAGE;
use guardduty_org::sandbox::Keys;

use crate::support::{self, Env};

const REGION: &str = "us-east-1";
const EXEC_ROLE: &str = "OrganizationAccountAccessRole";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

/// How a call was refused: error code, message, HTTP status.
#[derive(Debug, PartialEq)]
struct Refusal {
    code: String,
    message: String,
    status: u16,
}

fn refusal<E: ProvideErrorMetadata>(err: SdkError<E, Response>) -> Refusal {
    Refusal {
        code: err.code().unwrap_or("<none>").to_string(),
        message: err.message().unwrap_or_default().to_string(),
        status: err.raw_response().map_or(0, |r| r.status().as_u16()),
    }
}

fn refused(code: &str, message: &str) -> Refusal {
    Refusal {
        code: code.into(),
        message: message.into(),
        status: 403,
    }
}

/// One call to each service with `config`; each refusal, or `None` where the call succeeded.
async fn every_service(config: &aws_config::SdkConfig, region: &str) -> [Option<Refusal>; 4] {
    let sts = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .err()
        .map(refusal);
    let iam = aws_sdk_iam::Client::new(config)
        .list_attached_role_policies()
        .role_name(EXEC_ROLE)
        .send()
        .await
        .err()
        .map(refusal);
    let organizations = aws_sdk_organizations::Client::new(config)
        .describe_organization()
        .send()
        .await
        .err()
        .map(refusal);
    let guardduty = support::gd(config, region)
        .list_detectors()
        .send()
        .await
        .err()
        .map(refusal);
    [sts, iam, organizations, guardduty]
}

/// A member account's own keys with the secret replaced.
fn wrong_secret(keys: &Keys) -> Keys {
    Keys {
        access_key_id: keys.access_key_id.clone(),
        secret_access_key: format!("{}x", &keys.secret_access_key[1..]),
    }
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_every_service_and_the_right_one_is_not() {
    let env = Env::new(1).await;
    // A member account: it has the execution role, so the IAM call succeeds with the right key.
    let member = &env.members()[0];
    let keys = env.sandbox.keys_of(member).unwrap();

    let right = support::config(&env.sandbox, &keys, None, REGION).await;
    assert_eq!(
        every_service(&right, REGION).await,
        [None, None, None, None]
    );

    let wrong = support::config(&env.sandbox, &wrong_secret(&keys), None, REGION).await;
    assert_eq!(
        every_service(&wrong, REGION).await,
        [
            Some(refused("SignatureDoesNotMatch", MISMATCH_MESSAGE)),
            Some(refused("SignatureDoesNotMatch", MISMATCH_MESSAGE)),
            Some(refused("InvalidSignatureException", MISMATCH_MESSAGE)),
            Some(refused("InvalidSignatureException", MISMATCH_MESSAGE)),
        ]
    );
}

#[tokio::test]
async fn temporary_credentials_are_checked_with_their_own_secret() {
    let env = Env::new(1).await;
    let member = &env.members()[0];
    let creds = aws_sdk_sts::Client::new(&env.mgmt)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{member}:role/{EXEC_ROLE}"))
        .role_session_name("sigv4")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let keys = Keys {
        access_key_id: creds.access_key_id().into(),
        secret_access_key: creds.secret_access_key().into(),
    };
    let token = Some(creds.session_token().to_string());

    let right = support::config(&env.sandbox, &keys, token.clone(), REGION).await;
    assert_eq!(
        every_service(&right, REGION).await,
        [None, None, None, None]
    );

    let wrong = support::config(&env.sandbox, &wrong_secret(&keys), token, REGION).await;
    let codes = every_service(&wrong, REGION)
        .await
        .map(|r| r.map(|r| (r.code, r.status)));
    assert_eq!(
        codes,
        [
            Some(("SignatureDoesNotMatch".into(), 403)),
            Some(("SignatureDoesNotMatch".into(), 403)),
            Some(("InvalidSignatureException".into(), 403)),
            Some(("InvalidSignatureException".into(), 403)),
        ]
    );
}

/// Rewrites the body after the SDK signed it, as a man in the middle would.
#[derive(Debug)]
struct Tamper {
    from: &'static str,
    to: &'static str,
}

impl Intercept for Tamper {
    fn name(&self) -> &'static str {
        "Tamper"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let body = std::str::from_utf8(request.body().bytes().ok_or("body in memory")?)?;
        assert!(body.contains(self.from), "{body}");
        // Same length, so Content-Length (signed) still describes the body.
        assert_eq!(self.from.len(), self.to.len());
        let tampered = body.replacen(self.from, self.to, 1);
        *request.body_mut() = SdkBody::from(tampered);
        Ok(())
    }
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    let env = Env::new(1).await;
    let gd = support::gd(&env.mgmt, REGION);
    let det = support::new_detector(&gd).await;

    // GuardDuty (restJson1): the filter named in the signed body is not the one created.
    let conf = aws_sdk_guardduty::config::Builder::from(&env.mgmt)
        .region(aws_config::Region::new(REGION))
        .interceptor(Tamper {
            from: "signed-name",
            to: "forged-name",
        })
        .build();
    let err = aws_sdk_guardduty::Client::from_conf(conf)
        .create_filter()
        .detector_id(&det)
        .name("signed-name")
        .finding_criteria(
            FindingCriteria::builder()
                .criterion("severity", Condition::builder().greater_than(4).build())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(err),
        refused("InvalidSignatureException", MISMATCH_MESSAGE)
    );
    let names = gd.list_filters().detector_id(&det).send().await.unwrap();
    assert!(names.filter_names().is_empty(), "{names:?}");

    // STS (awsQuery): a form field changed after signing.
    let member = &env.members()[0];
    let conf = aws_sdk_sts::config::Builder::from(&env.mgmt)
        .interceptor(Tamper {
            from: "RoleSessionName=signed",
            to: "RoleSessionName=forged",
        })
        .build();
    let err = aws_sdk_sts::Client::from_conf(conf)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{member}:role/{EXEC_ROLE}"))
        .role_session_name("signed")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(err),
        refused("SignatureDoesNotMatch", MISMATCH_MESSAGE)
    );
}

/// A clock 20 minutes behind: what a request captured and replayed later looks like.
#[derive(Debug)]
struct TwentyMinutesAgo;

impl TimeSource for TwentyMinutesAgo {
    fn now(&self) -> SystemTime {
        SystemTime::now() - Duration::from_secs(20 * 60)
    }
}

#[tokio::test]
async fn a_request_signed_more_than_fifteen_minutes_ago_is_refused() {
    let env = Env::new(0).await;
    let sts = aws_sdk_sts::config::Builder::from(&env.mgmt)
        .time_source(TwentyMinutesAgo)
        .build();
    let err = aws_sdk_sts::Client::from_conf(sts)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    let r = refusal(err);
    assert_eq!((r.code.as_str(), r.status), ("SignatureDoesNotMatch", 403));
    assert!(r.message.starts_with("Signature expired: "), "{r:?}");
    let gd = aws_sdk_guardduty::config::Builder::from(&env.mgmt)
        .region(aws_config::Region::new(REGION))
        .time_source(TwentyMinutesAgo)
        .build();
    let err = aws_sdk_guardduty::Client::from_conf(gd)
        .list_detectors()
        .send()
        .await
        .unwrap_err();
    let r = refusal(err);
    assert_eq!(
        (r.code.as_str(), r.status),
        ("InvalidSignatureException", 403)
    );
    assert!(r.message.contains("15 min."), "{r:?}");
}

#[tokio::test]
async fn a_credential_scoped_to_a_region_that_does_not_exist_is_a_signature_error() {
    let env = Env::new(1).await;
    let keys = env.sandbox.keys_of(&env.management).unwrap();
    let config = support::config(&env.sandbox, &keys, None, "mars-north-1").await;
    // AWS's sentence, trailing space included.
    let message = "Credential should be scoped to a valid region, not 'mars-north-1'. ";
    assert_eq!(
        every_service(&config, "mars-north-1").await,
        [
            Some(refused("SignatureDoesNotMatch", message)),
            Some(refused("SignatureDoesNotMatch", message)),
            Some(refused("InvalidSignatureException", message)),
            Some(refused("InvalidSignatureException", message)),
        ]
    );
}

#[tokio::test]
async fn a_region_the_account_has_not_enabled_does_not_know_its_credentials() {
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
    let member = &env.members()[0];
    let keys = env.sandbox.keys_of(member).unwrap();
    let config = support::config(&env.sandbox, &keys, None, "af-south-1").await;
    // STS and GuardDuty are regional: one rule, each protocol's invalid-token code. IAM and
    // Organizations are global: the region of the signature does not matter to them.
    assert_eq!(
        every_service(&config, "af-south-1").await,
        [
            Some(refused("InvalidClientTokenId", INVALID_TOKEN)),
            None,
            None,
            Some(refused("UnrecognizedClientException", INVALID_TOKEN)),
        ]
    );
    // The management account has enabled the region: the same calls work for it.
    let mgmt = env.sandbox.keys_of(&env.management).unwrap();
    let config = support::config(&env.sandbox, &mgmt, None, "af-south-1").await;
    let [sts, _, organizations, guardduty] = every_service(&config, "af-south-1").await;
    assert_eq!((sts, organizations, guardduty), (None, None, None));
}

/// Run the AWS CLI against `endpoint` with `keys` and nothing else from the environment:
/// (success, stdout, stderr).
async fn aws_cli(endpoint: &str, keys: &Keys, args: &[&str]) -> (bool, String, String) {
    let mut cmd = tokio::process::Command::new("aws");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
        cmd.env_remove(k);
    }
    let out = cmd
        .args(args)
        .args(["--output", "json"])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_PAGER", "")
        .output()
        .await
        .expect("aws runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The JSON a successful CLI call printed.
fn succeeded((success, stdout, stderr): (bool, String, String)) -> serde_json::Value {
    assert!(success, "stdout: {stdout}\nstderr: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_default()
}

/// The AWS CLI (botocore's signer: its own header set, query encoding and payload hash) is
/// accepted with the right secret and refused with a wrong one. Skips, saying so, when the
/// CLI is not installed (`pip install awscli`).
#[tokio::test]
async fn the_aws_cli_signs_requests_the_sandbox_accepts() {
    if std::process::Command::new("aws")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: no aws CLI on PATH (pip install awscli)");
        return;
    }
    let env = Env::new(1).await;
    let endpoint = env.sandbox.endpoint();
    let keys = env.sandbox.keys_of(&env.management).unwrap();
    let aws = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let (endpoint, keys) = (endpoint.clone(), keys.clone());
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            aws_cli(&endpoint, &keys, &args).await
        }
    };

    let me = succeeded(aws(&["sts", "get-caller-identity"]).await);
    assert_eq!(me["Account"], env.management.as_str());
    succeeded(aws(&["organizations", "describe-organization"]).await);
    // A form body with a URL-encoded JSON document in it.
    succeeded(
        aws(&[
            "iam",
            "create-role",
            "--role-name",
            "cli-role",
            "--assume-role-policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"guardduty.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        ])
        .await,
    );
    let created = succeeded(aws(&["guardduty", "create-detector", "--enable"]).await);
    let det = created["DetectorId"].as_str().unwrap().to_string();
    // Query parameters, then a JSON body, then a path label.
    succeeded(
        aws(&[
            "guardduty",
            "list-members",
            "--detector-id",
            &det,
            "--only-associated",
            "false",
            "--page-size",
            "5",
        ])
        .await,
    );
    succeeded(
        aws(&[
            "guardduty",
            "create-filter",
            "--detector-id",
            &det,
            "--name",
            "cli.filter-1",
            "--finding-criteria",
            r#"{"Criterion":{"severity":{"GreaterThanOrEqual":7}}}"#,
        ])
        .await,
    );
    let filter = succeeded(
        aws(&[
            "guardduty",
            "get-filter",
            "--detector-id",
            &det,
            "--filter-name",
            "cli.filter-1",
        ])
        .await,
    );
    assert_eq!(filter["Name"], "cli.filter-1");

    let wrong = wrong_secret(&keys);
    for (args, code) in [
        (&["sts", "get-caller-identity"][..], "SignatureDoesNotMatch"),
        (
            &["guardduty", "list-detectors"][..],
            "InvalidSignatureException",
        ),
    ] {
        let (success, _, stderr) = aws_cli(&endpoint, &wrong, args).await;
        assert!(!success && stderr.contains(code), "{args:?}: {stderr}");
    }
}
