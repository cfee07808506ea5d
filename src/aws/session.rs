//! A run's view of AWS: the client factory plus who the caller is, so work "as account X" uses
//! the caller's own credentials when X is the caller and the assumed role otherwise.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::SdkConfig;

use super::{AwsError, ClientFactory};

pub struct Session {
    pub factory: ClientFactory,
    /// The caller's account id (from GetCallerIdentity).
    pub caller: String,
    /// (account, region) -> its GuardDuty client, built once: building a client costs more
    /// CPU than the call it makes when a run makes tens of thousands of calls.
    clients: Mutex<HashMap<(String, String), aws_sdk_guardduty::Client>>,
}

impl Session {
    /// Ask STS who the caller is.
    pub async fn new(factory: ClientFactory) -> Result<Session, AwsError> {
        let me = ClientFactory::sts(factory.base())
            .get_caller_identity()
            .send()
            .await
            .map_err(AwsError::from_sdk("GetCallerIdentity"))?;
        let caller = me.account().unwrap_or_default().to_string();
        Ok(Session {
            factory,
            caller,
            clients: Mutex::new(HashMap::new()),
        })
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
}
