//! Shared test plumbing: start a sandbox, and build real SDK clients pointed at it.

#![allow(dead_code)]

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::sandbox::{Keys, Sandbox};

/// A running sandbox and the management account's config.
pub struct Env {
    pub sandbox: Sandbox,
    pub management: String,
    /// The management account's config (home region us-east-1).
    pub mgmt: SdkConfig,
}

impl Env {
    /// A sandbox of `members` generated member accounts.
    pub async fn new(members: usize) -> Env {
        Env::with_spec(OrgSpec::generated(members)).await
    }

    pub async fn with_spec(spec: OrgSpec) -> Env {
        let sandbox = Sandbox::start(&spec, 0).await.expect("sandbox starts");
        let management = sandbox.management_account();
        let keys = sandbox.keys_of(&management).unwrap();
        let mgmt = config(&sandbox, &keys, None, "us-east-1").await;
        Env {
            sandbox,
            management,
            mgmt,
        }
    }

    /// The config of `account`'s own long-term user key.
    pub async fn user(&self, account: &str) -> SdkConfig {
        let keys = self.sandbox.keys_of(account).expect("account exists");
        config(&self.sandbox, &keys, None, "us-east-1").await
    }

    /// Member account ids, sorted (every account but the management one).
    pub fn members(&self) -> Vec<String> {
        self.sandbox.world(|w| {
            w.accounts
                .keys()
                .filter(|a| **a != w.org.management)
                .cloned()
                .collect()
        })
    }
}

/// An SDK config with explicit keys, pointed at the sandbox, SDK retries off so that tests see
/// every answer as it is.
pub async fn config(
    sandbox: &Sandbox,
    keys: &Keys,
    token: Option<String>,
    region: &str,
) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(sandbox.endpoint())
        .retry_config(RetryConfig::disabled())
        .credentials_provider(Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.clone(),
            token,
            None,
            "test",
        ))
        .load()
        .await
}

/// A GuardDuty client of `config` in `region`.
pub fn gd(config: &SdkConfig, region: &str) -> aws_sdk_guardduty::Client {
    let conf = aws_sdk_guardduty::config::Builder::from(config)
        .region(Region::new(region.to_string()))
        .build();
    aws_sdk_guardduty::Client::from_conf(conf)
}

/// The error code of a failed SDK call.
pub fn code<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_string()
}
