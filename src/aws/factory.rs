//! The client factory.
//!
//! The base config follows the standard chain (`--profile`, environment, SSO, ...) and the
//! standard endpoint overrides (`--endpoint-url`, `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_<SERVICE>`). The factory keeps one config per account, whose credentials
//! come from one AssumeRole through the run's one STS client: STS is called once per account,
//! not once per region, and the credentials are assumed again before they expire.
//!
//! Work done as one account ([`acting_as`]) can also use the shared member clients, one per
//! region for every account ([`ClientFactory::member_guardduty`]): they sign each call with
//! the credentials of the account the work acts as. Building a service client costs more CPU
//! than the few calls a rollout makes in one account x region, and keeping one per
//! account x region would cost ~10 KB each (1.6 GB at 5,000 accounts x 32 regions).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::future::ProvideCredentials as CredentialsFuture;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
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
    /// The base config signing as the account in scope: the shared member clients' config.
    members: SdkConfig,
    options: AwsOptions,
    accounts: Accounts,
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
        // run builds. Left unset, each service client makes its own pool, and the clients of
        // thousands of accounts (reports, exports) each keep idle connections open until the
        // process runs out of files.
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
            // Request bodies are a few hundred bytes of JSON: watching their upload rate for
            // stalls cost ~5% of a rollout's CPU. Responses are still watched.
            .stalled_stream_protection(
                StalledStreamProtectionConfig::enabled()
                    .upload_enabled(false)
                    .build(),
            )
            .build();
        let accounts = Accounts::default();
        let members = base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(InScope(accounts.clone())))
            // Each account's role keeps its own credentials; a cache here, keyed by provider,
            // would hand one account's credentials to the next.
            .identity_cache(IdentityCache::no_cache())
            .build();
        ClientFactory {
            sts: aws_sdk_sts::Client::new(&base),
            base,
            members,
            options,
            accounts,
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
        let cell = self.assumed(account).await?;
        Ok(cell.get().expect("assumed").config.clone())
    }

    /// Make sure `account`'s role is assumed (the shared member clients need nothing more).
    pub async fn assume_role(&self, account: &str) -> Result<(), AwsError> {
        self.assumed(account).await.map(|_| ())
    }

    async fn assumed(&self, account: &str) -> Result<Arc<OnceCell<Assumed>>, AwsError> {
        let cell = self.accounts.cell(account);
        if cell.initialized() {
            return Ok(cell);
        }
        if let Some(e) = self.refused.lock().expect("factory poisoned").get(account) {
            return Err(e.clone());
        }
        let assumed = cell
            .get_or_try_init(|| self.assume(account))
            .await
            .map(|_| ());
        match assumed {
            Ok(()) => Ok(cell),
            Err(e) => {
                if e.is_access_denied() || e.is_region_disabled() {
                    self.refused
                        .lock()
                        .expect("factory poisoned")
                        .insert(account.to_string(), e.clone());
                }
                Err(e)
            }
        }
    }

    async fn assume(&self, account: &str) -> Result<Assumed, AwsError> {
        let role = AssumedRole {
            sts: self.sts.clone(),
            arn: format!("arn:aws:iam::{account}:role/{}", self.options.role_name),
            external_id: self.options.external_id.clone(),
            duration: self.options.session_duration,
            current: tokio::sync::Mutex::new(None),
        };
        // Resolve once now, so an account without the role fails here, named, rather than on
        // its first GuardDuty call in every region. The role keeps these credentials, so this
        // is the account's only AssumeRole until they near expiry.
        let first = role.credentials().await.map_err(|e| {
            let (code, message) = sts_refusal(&e);
            AwsError {
                operation: "AssumeRole",
                code,
                message,
            }
        })?;
        let role = SharedCredentialsProvider::new(role);
        let config = self
            .base
            .to_builder()
            .credentials_provider(role.clone())
            // One cache per account: the lazy cache holds at most 64 partitions, so sharing the
            // base config's cache across hundreds of accounts would evict and re-assume.
            .identity_cache(
                IdentityCache::lazy()
                    .buffer_time(refresh_buffer(first.expiry()))
                    .build(),
            )
            .build();
        Ok(Assumed { config, role })
    }

    /// A GuardDuty client in `region` for every account whose role was assumed ([`account`]
    /// first): each call signs as the account of the [`acting_as`] it runs in, and fails
    /// outside one.
    ///
    /// [`account`]: ClientFactory::account
    pub fn member_guardduty(&self, region: &str) -> aws_sdk_guardduty::Client {
        ClientFactory::guardduty(&self.members, region)
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
/// check the configuration, and throws it away; with a client per account x region, that check
/// alone cost more CPU than the calls. Connectors for the calls themselves are still built
/// (once per timeout setting) and cached by the inner client.
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

/// Account id -> its assumed role, set up once (the cell serialises concurrent first uses, so
/// a burst of regions for one account makes a single AssumeRole). Shared with [`InScope`].
#[derive(Clone, Default)]
struct Accounts(Arc<Mutex<HashMap<String, Arc<OnceCell<Assumed>>>>>);

impl Accounts {
    fn cell(&self, account: &str) -> Arc<OnceCell<Assumed>> {
        let mut accounts = self.0.lock().expect("accounts poisoned");
        if let Some(cell) = accounts.get(account) {
            return cell.clone();
        }
        accounts.entry(account.to_string()).or_default().clone()
    }

    /// The role of `account`, if it was assumed.
    fn role(&self, account: &str) -> Option<SharedCredentialsProvider> {
        let accounts = self.0.lock().expect("accounts poisoned");
        Some(accounts.get(account)?.get()?.role.clone())
    }
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

/// An account's config (its own clients) and the role behind it (the shared member clients).
#[derive(Clone)]
struct Assumed {
    config: SdkConfig,
    role: SharedCredentialsProvider,
}

tokio::task_local! {
    /// The account the running work acts as: the shared member clients sign as it.
    static ACTING_AS: String;
}

/// Run `work` as `account`: calls it makes through the shared member clients
/// ([`ClientFactory::member_guardduty`]) sign with that account's credentials.
pub fn acting_as<F: Future>(
    account: impl Into<String>,
    work: F,
) -> impl Future<Output = F::Output> {
    ACTING_AS.scope(account.into(), work)
}

/// Whether the running work acts as `account` (inside its [`acting_as`]).
pub fn is_acting_as(account: &str) -> bool {
    ACTING_AS.try_with(|a| a == account).unwrap_or(false)
}

/// The credentials of the account the work in progress acts as.
#[derive(Debug)]
struct InScope(Accounts);

impl ProvideCredentials for InScope {
    fn provide_credentials<'a>(&'a self) -> CredentialsFuture<'a>
    where
        Self: 'a,
    {
        let role = ACTING_AS.try_with(|account| self.0.role(account));
        match role {
            Ok(Some(role)) => {
                CredentialsFuture::new(async move { role.provide_credentials().await })
            }
            Ok(None) => CredentialsFuture::ready(Err(CredentialsError::not_loaded(
                "the account acted as has no assumed role yet",
            ))),
            Err(_) => CredentialsFuture::ready(Err(CredentialsError::not_loaded(
                "a shared member client was called outside acting_as",
            ))),
        }
    }
}

/// An account's assumed role: AssumeRole through the run's one STS client (the SDK's
/// `AssumeRoleProvider` builds an STS client per account, ~10 KB each at 5,000 accounts).
/// Keeps the credentials until they near expiry, then assumes again.
#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    arn: String,
    external_id: Option<String>,
    duration: Option<Duration>,
    /// The credentials, and when to assume again (held while assuming: one call at a time).
    current: tokio::sync::Mutex<Option<(Credentials, SystemTime)>>,
}

impl AssumedRole {
    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let mut current = self.current.lock().await;
        if let Some((c, renew_at)) = current.as_ref() {
            if SystemTime::now() < *renew_at {
                return Ok(c.clone());
            }
        }
        let c = self.call().await?;
        let renew_at = c
            .expiry()
            .map_or(SystemTime::now() + Duration::from_secs(3600), |e| {
                e - refresh_buffer(Some(e))
            });
        *current = Some((c.clone(), renew_at));
        Ok(c)
    }

    async fn call(&self) -> Result<Credentials, CredentialsError> {
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
        let expiry = SystemTime::try_from(*c.expiration()).map_err(CredentialsError::unhandled)?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            Some(expiry),
            "gdorg-assume-role",
        ))
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> CredentialsFuture<'a>
    where
        Self: 'a,
    {
        CredentialsFuture::new(self.credentials())
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
