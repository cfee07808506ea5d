//! The client factory.
//!
//! The base config follows the standard chain (`--profile`, environment, SSO, ...) and the
//! standard endpoint overrides (`--endpoint-url`, `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_<SERVICE>`). The factory keeps one config per account, whose credentials
//! come from one AssumeRole through the run's one STS client: STS is called once per account,
//! not once per region, and the SDK's identity cache refreshes the credentials before they
//! expire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::OnceCell;

use super::AwsError;

/// How to reach AWS: the flags and environment every command shares.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    /// The home region: where STS and the management calls go.
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// The role assumed in every account (default `OrganizationAccountAccessRole`).
    pub role_name: String,
    pub external_id: Option<String>,
    /// Attempts per call, first included (SDK standard retry mode, exponential backoff).
    /// Applied by [`ClientFactory::load`]; a config given to `from_config` keeps its own retries.
    pub max_attempts: u32,
    /// Lifetime asked for assumed-role sessions.
    pub session_duration: Option<Duration>,
}

/// The default home region when neither flag, env nor profile gives one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Builds clients: the caller's own, and one assumed-role config per account.
pub struct ClientFactory {
    base: SdkConfig,
    options: AwsOptions,
    /// Account id -> its assumed-role config, built once (the cell serialises concurrent
    /// first uses, so a burst of regions for one account makes a single AssumeRole).
    accounts: Mutex<HashMap<String, Arc<OnceCell<SdkConfig>>>>,
    /// Accounts refused for good (no role, trust policy): tried once, not once per region.
    /// Transient failures (throttling, server errors) are not kept, so a later call retries.
    refused: Mutex<HashMap<String, AwsError>>,
    /// The caller's STS client, shared by every account's role.
    sts: aws_sdk_sts::Client,
}

impl ClientFactory {
    /// Load the base config from the standard chain.
    pub async fn load(options: AwsOptions) -> ClientFactory {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(options.max_attempts.max(1)));
        if let Some(p) = &options.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &options.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &options.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let mut base = loader.load().await;
        if base.region().is_none() {
            base = base
                .into_builder()
                .region(Region::from_static(DEFAULT_REGION))
                .build();
        }
        ClientFactory::from_config(base, options)
    }

    /// A factory over an already built base config (tests and the demo give explicit keys).
    pub fn from_config(base: SdkConfig, options: AwsOptions) -> ClientFactory {
        // One HTTP client (one connection pool, one TLS configuration) for every client the
        // run builds. Left unset, each service client makes its own pool, and thousands of
        // account x region clients each keep idle connections open until the process runs
        // out of files.
        let http = base.http_client().unwrap_or_else(|| {
            use aws_smithy_http_client::tls;
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .build_https()
        });
        let base = base
            .into_builder()
            .http_client(SharedHttpClient::new(BuiltOnce(http)))
            .build();
        ClientFactory {
            sts: aws_sdk_sts::Client::new(&base),
            base,
            options,
            accounts: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
        }
    }

    /// The caller's own config.
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    pub fn home_region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| DEFAULT_REGION.into())
    }

    /// The config of `account`, assuming the execution role on first use.
    pub async fn account(&self, account: &str) -> Result<SdkConfig, AwsError> {
        let cell = self
            .accounts
            .lock()
            .expect("factory poisoned")
            .entry(account.to_string())
            .or_default()
            .clone();
        if let Some(e) = self.refused.lock().expect("factory poisoned").get(account) {
            return Err(e.clone());
        }
        let result = cell.get_or_try_init(|| self.assume(account)).await.cloned();
        if let Err(e) = &result {
            if e.is_access_denied() || e.is_region_disabled() {
                self.refused
                    .lock()
                    .expect("factory poisoned")
                    .insert(account.to_string(), e.clone());
            }
        }
        result
    }

    async fn assume(&self, account: &str) -> Result<SdkConfig, AwsError> {
        let role = AssumedRole {
            sts: self.sts.clone(),
            arn: format!("arn:aws:iam::{account}:role/{}", self.options.role_name),
            external_id: self.options.external_id.clone(),
            duration: self.options.session_duration,
            first: Mutex::new(None),
        };
        // Resolve once now, so an account without the role fails here, named, rather than on
        // its first GuardDuty call in every region. These first credentials are handed to the
        // identity cache (not thrown away), so this is the account's only AssumeRole until
        // they near expiry.
        let first = role.call().await.map_err(|e| {
            let (code, message) = sts_refusal(&e);
            AwsError {
                operation: "AssumeRole",
                code,
                message,
            }
        })?;
        let buffer = refresh_buffer(first.expiry());
        *role.first.lock().expect("role poisoned") = Some(first);
        Ok(self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(role))
            // One cache per account: the lazy cache holds at most 64 partitions, so sharing the
            // base config's cache across hundreds of accounts would evict and re-assume.
            .identity_cache(IdentityCache::lazy().buffer_time(buffer).build())
            .build())
    }

    /// A GuardDuty client of `config` in `region`.
    pub fn guardduty(config: &SdkConfig, region: &str) -> aws_sdk_guardduty::Client {
        let conf = aws_sdk_guardduty::config::Builder::from(config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_guardduty::Client::from_conf(conf)
    }

    /// An Organizations client of `config`.
    pub fn organizations(config: &SdkConfig) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(config)
    }

    /// An STS client of `config`.
    pub fn sts(config: &SdkConfig) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(config)
    }

    /// An IAM client of `config`.
    pub fn iam(config: &SdkConfig) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(config)
    }

    /// An Account Management client of `config` (one global endpoint, like IAM).
    pub fn account_management(config: &SdkConfig) -> aws_sdk_account::Client {
        aws_sdk_account::Client::new(config)
    }
}

/// The run's HTTP client, checked once. The SDK's hyper client builds a whole TLS connector
/// (parsing every root certificate) each time a service client is constructed over it, only to
/// check the configuration, and throws it away; a run builds a client per account x region, so
/// that check alone cost more CPU than the calls. Connectors for the calls themselves are still
/// built (once per timeout setting) and cached by the inner client.
#[derive(Debug)]
struct BuiltOnce(SharedHttpClient);

impl HttpClient for BuiltOnce {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// How long before expiry the cache refreshes assumed-role credentials: a fifth of their
/// lifetime, between 1 s and 5 min. The SDK's default (10 s) would make every call re-assume
/// when sessions are short, and cuts it fine for calls that take long when they are not.
fn refresh_buffer(expiry: Option<std::time::SystemTime>) -> Duration {
    let lifetime = expiry
        .and_then(|e| e.duration_since(std::time::SystemTime::now()).ok())
        .unwrap_or(Duration::from_secs(3600));
    (lifetime / 5).clamp(Duration::from_secs(1), Duration::from_secs(300))
}

/// An account's assumed role: AssumeRole through the run's one STS client (the SDK's
/// `AssumeRoleProvider` builds an STS client per account, ~10 KB each at 5,000 accounts).
/// Hands out the credentials fetched while checking the role once, then assumes again for
/// every refresh the identity cache asks for.
#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    arn: String,
    external_id: Option<String>,
    duration: Option<Duration>,
    first: Mutex<Option<aws_credential_types::Credentials>>,
}

impl AssumedRole {
    async fn call(
        &self,
    ) -> Result<
        aws_credential_types::Credentials,
        aws_credential_types::provider::error::CredentialsError,
    > {
        use aws_credential_types::provider::error::CredentialsError;
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.arn)
            .role_session_name("gdorg")
            .set_external_id(self.external_id.clone())
            .set_duration_seconds(self.duration.map(|d| d.as_secs() as i32))
            .send()
            .await
            .map_err(CredentialsError::provider_error)?;
        let c = out
            .credentials()
            .ok_or_else(|| CredentialsError::unhandled("AssumeRole returned no credentials"))?;
        let expiry = std::time::SystemTime::try_from(*c.expiration())
            .map_err(CredentialsError::unhandled)?;
        Ok(aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            Some(expiry),
            "gdorg-assume-role",
        ))
    }
}

impl aws_credential_types::provider::ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        use aws_credential_types::provider::future::ProvideCredentials as Fut;
        if let Some(first) = self.first.lock().expect("role poisoned").take() {
            let fresh = first
                .expiry()
                .is_none_or(|e| e > std::time::SystemTime::now() + refresh_buffer(Some(e)));
            if fresh {
                return Fut::ready(Ok(first));
            }
        }
        Fut::new(self.call())
    }
}

/// The code and message STS answered, found in a credentials error's source chain; the
/// whole chain (raw response included) is far too much for a report line.
fn sts_refusal(e: &aws_credential_types::provider::error::CredentialsError) -> (String, String) {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(sts) = err.downcast_ref::<AssumeRoleError>() {
            let code = sts.code().unwrap_or("AssumeRoleFailed").to_string();
            return (code, sts.message().unwrap_or_default().to_string());
        }
        source = err.source();
    }
    (
        "AssumeRoleFailed".to_string(),
        aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
    )
}
