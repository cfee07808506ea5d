//! Who the caller is, and whose detector speaks for the organization: the GuardDuty
//! administrator. With the management account's credentials and a delegated administrator,
//! gdorg assumes the execution role into the administrator; otherwise the caller's own
//! credentials are used (and the archive preflight decides whether they may act).

use aws_config::SdkConfig;
use serde::Serialize;

use crate::aws::{AwsError, ClientFactory};

/// The identity behind the credentials (GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

pub async fn caller(config: &SdkConfig) -> Result<Caller, AwsError> {
    let who = ClientFactory::sts(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(AwsError::from_sdk("GetCallerIdentity"))?;
    Ok(Caller {
        account: who.account().unwrap_or_default().to_string(),
        arn: who.arn().unwrap_or_default().to_string(),
    })
}

/// The account whose detectors gdorg reads and acts through, with its config.
#[derive(Debug, Clone)]
pub struct Administrator {
    pub account: String,
    pub config: SdkConfig,
    /// How it was chosen, for the report's scope.
    pub how: &'static str,
}

/// Pick the administrator: `explicit` if given; else the organization's delegated GuardDuty
/// administrator when the caller may list it (the management account); else the caller.
pub async fn administrator(
    factory: &ClientFactory,
    caller: &Caller,
    explicit: Option<&str>,
) -> Result<Administrator, AwsError> {
    let chosen = match explicit {
        Some(a) => Some((a.to_string(), "given with --admin-account")),
        None => delegated_admin(factory)
            .await
            .map(|a| (a, "the organization's delegated administrator")),
    };
    match chosen {
        Some((account, how)) if account != caller.account => Ok(Administrator {
            config: factory.account(&account).await?,
            account,
            how,
        }),
        Some((account, how)) => Ok(Administrator {
            account,
            config: factory.base().clone(),
            how,
        }),
        None => Ok(Administrator {
            account: caller.account.clone(),
            config: factory.base().clone(),
            how: "the caller's own account",
        }),
    }
}

/// The enabled delegated administrator, when the caller is allowed to ask (only the
/// management account is); any refusal means "not known from here".
async fn delegated_admin(factory: &ClientFactory) -> Option<String> {
    let gd = ClientFactory::guardduty(factory.base(), &factory.home_region());
    let out = gd.list_organization_admin_accounts().send().await.ok()?;
    out.admin_accounts()
        .iter()
        .find(|a| {
            a.admin_status()
                .is_some_and(|s| s.as_str().eq_ignore_ascii_case("ENABLED"))
        })
        .and_then(|a| a.admin_account_id())
        .map(str::to_string)
}

/// The first detector of the account of `gd` in its region, if any.
pub async fn detector(gd: &aws_sdk_guardduty::Client) -> Result<Option<String>, AwsError> {
    let out = gd
        .list_detectors()
        .send()
        .await
        .map_err(AwsError::from_sdk("ListDetectors"))?;
    Ok(out.detector_ids().first().cloned())
}
