//! A run's view of AWS: the client factory plus who the caller is (asked once, from STS), so
//! work "as account X" uses the caller's own credentials when X is the caller and the assumed
//! role otherwise. This is the one place that decides how to act as an account.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::SdkConfig;
use serde::Serialize;

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
    /// (account, region) -> its GuardDuty client, built once: building a client costs more
    /// CPU than the call it makes when a run makes tens of thousands of calls.
    clients: Mutex<HashMap<(String, String), aws_sdk_guardduty::Client>>,
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
            clients: Mutex::new(HashMap::new()),
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

    /// A GuardDuty client acting as `account` in `region`.
    pub async fn guardduty(
        &self,
        account: &str,
        region: &str,
    ) -> Result<aws_sdk_guardduty::Client, AwsError> {
        let key = (account.to_string(), region.to_string());
        if let Some(c) = self.clients.lock().expect("clients poisoned").get(&key) {
            return Ok(c.clone());
        }
        let client = ClientFactory::guardduty(&self.config(account).await?, region);
        self.clients
            .lock()
            .expect("clients poisoned")
            .insert(key, client.clone());
        Ok(client)
    }

    /// The caller's own GuardDuty client in its home region.
    pub fn home_guardduty(&self) -> aws_sdk_guardduty::Client {
        ClientFactory::guardduty(self.factory.base(), &self.factory.home_region())
    }
}
