//! A run's view of AWS: the client factory plus who the caller is, so work "as account X" uses
//! the caller's own credentials when X is the caller and the assumed role otherwise.

use aws_config::SdkConfig;

use super::{AwsError, ClientFactory};

pub struct Session {
    pub factory: ClientFactory,
    /// The caller's account id (from GetCallerIdentity).
    pub caller: String,
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
        Ok(Session { factory, caller })
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
        Ok(ClientFactory::guardduty(
            &self.config(account).await?,
            region,
        ))
    }
}
