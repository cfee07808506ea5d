//! A run's view of AWS: the client factory plus who the caller is (asked once, from STS), so
//! work "as account X" uses the caller's own credentials when X is the caller and the assumed
//! role otherwise. This is the one place that decides how to act as an account.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::SdkConfig;
use serde::Serialize;

pub use super::factory::acting_as;
use super::factory::is_acting_as;
use super::{AwsError, AwsOptions, ClientFactory};

/// The identity behind the credentials (GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

pub struct Session {
    pub factory: ClientFactory,
    /// The caller's account id (from GetCallerIdentity).
    pub caller: String,
    /// The caller's ARN (user or assumed role), for reports.
    pub caller_arn: String,
    /// GuardDuty clients by region: the caller's own, and the shared member clients.
    own: Clients,
    members: Clients,
}

impl Session {
    /// Load the standard credential chain with `options`, then ask STS who the caller is.
    pub async fn connect(options: AwsOptions) -> Result<Session, AwsError> {
        Session::new(ClientFactory::load(options).await).await
    }

    /// Ask STS who the caller of `factory` is.
    pub async fn new(factory: ClientFactory) -> Result<Session, AwsError> {
        let me = ClientFactory::sts(factory.base())
            .get_caller_identity()
            .send()
            .await
            .map_err(AwsError::from_sdk("GetCallerIdentity"))?;
        Ok(Session {
            caller: me.account().unwrap_or_default().to_string(),
            caller_arn: me.arn().unwrap_or_default().to_string(),
            factory,
            own: Clients::default(),
            members: Clients::default(),
        })
    }

    /// The caller's identity.
    pub fn identity(&self) -> Caller {
        Caller {
            account: self.caller.clone(),
            arn: self.caller_arn.clone(),
        }
    }

    /// The config to act as `account`: the caller's own, or the role assumed into it.
    pub async fn config(&self, account: &str) -> Result<SdkConfig, AwsError> {
        if account == self.caller {
            Ok(self.factory.base().clone())
        } else {
            self.factory.account(account).await
        }
    }

    /// A GuardDuty client acting as `account` in `region`. Inside [`acting_as`] that account
    /// (the commands' per-account work), the region's shared member client; otherwise a
    /// client of the account's own.
    pub async fn guardduty(
        &self,
        account: &str,
        region: &str,
    ) -> Result<aws_sdk_guardduty::Client, AwsError> {
        if account == self.caller {
            return Ok(self.own.get(region, || {
                ClientFactory::guardduty(self.factory.base(), region)
            }));
        }
        if is_acting_as(account) {
            self.factory.assume_role(account).await?;
            Ok(self
                .members
                .get(region, || self.factory.member_guardduty(region)))
        } else {
            let config = self.factory.account(account).await?;
            Ok(ClientFactory::guardduty(&config, region))
        }
    }

    /// The caller's own GuardDuty client in its home region.
    pub fn home_guardduty(&self) -> aws_sdk_guardduty::Client {
        let region = self.factory.home_region();
        self.own.get(&region, || {
            ClientFactory::guardduty(self.factory.base(), &region)
        })
    }
}

/// GuardDuty clients by region, each built once.
#[derive(Default)]
struct Clients(Mutex<HashMap<String, aws_sdk_guardduty::Client>>);

impl Clients {
    fn get(
        &self,
        region: &str,
        build: impl FnOnce() -> aws_sdk_guardduty::Client,
    ) -> aws_sdk_guardduty::Client {
        let mut clients = self.0.lock().expect("clients poisoned");
        if let Some(c) = clients.get(region) {
            return c.clone();
        }
        let c = build();
        clients.insert(region.to_string(), c.clone());
        c
    }
}
