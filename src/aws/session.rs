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
    /// GuardDuty clients by (account, region), the most recently used kept: building one costs
    /// ~35 µs of CPU, but a client takes ~10 KB, and an organization of 5,000 accounts x 32
    /// regions would keep 1.6 GB of them. The administrator's few are reused by every batch
    /// step; a member cell's are used a few times, far apart (observe, then execute).
    clients: Mutex<Recent>,
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
            clients: Mutex::new(Recent::default()),
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
            return Ok(c);
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

/// The clients kept: at most [`Recent::CAPACITY`], the least recently used dropped first.
#[derive(Default)]
struct Recent {
    clients: HashMap<(String, String), (aws_sdk_guardduty::Client, u64)>,
    /// Ticks at each use: the order of last use.
    clock: u64,
}

impl Recent {
    const CAPACITY: usize = 512;

    fn get(&mut self, key: &(String, String)) -> Option<aws_sdk_guardduty::Client> {
        self.clock += 1;
        let (client, used) = self.clients.get_mut(key)?;
        *used = self.clock;
        Some(client.clone())
    }

    fn insert(&mut self, key: (String, String), client: aws_sdk_guardduty::Client) {
        if self.clients.len() >= Self::CAPACITY {
            // Drop the older half at once, so eviction costs O(1) per insert on average.
            let mut ages: Vec<u64> = self.clients.values().map(|(_, used)| *used).collect();
            let (_, median, _) = ages.select_nth_unstable(Self::CAPACITY / 2);
            let median = *median;
            self.clients.retain(|_, (_, used)| *used > median);
        }
        self.clock += 1;
        self.clients.insert(key, (client, self.clock));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> aws_sdk_guardduty::Client {
        let conf = aws_sdk_guardduty::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        aws_sdk_guardduty::Client::from_conf(conf)
    }

    fn key(i: usize) -> (String, String) {
        (format!("{i:012}"), "us-east-1".to_string())
    }

    #[test]
    fn keeps_at_most_its_capacity_and_the_recently_used() {
        let mut recent = Recent::default();
        let c = client();
        recent.insert(key(0), c.clone());
        for i in 1..Recent::CAPACITY * 3 {
            recent.insert(key(i), c.clone());
            // The first key is used all along: it must survive every eviction.
            assert!(recent.get(&key(0)).is_some(), "evicted at {i}");
            assert!(recent.clients.len() <= Recent::CAPACITY);
        }
        assert!(
            recent.get(&key(1)).is_none(),
            "an old, unused client is dropped"
        );
        assert!(recent.get(&key(Recent::CAPACITY * 3 - 1)).is_some());
    }
}
