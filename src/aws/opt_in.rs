//! Which regions an account has enabled, from the Account Management API (ListRegions): one
//! paged call per account tells every region an account cannot use, where one failing
//! GuardDuty call per region would otherwise find them one by one.
//!
//! Whose credentials ask: the caller's own for its own account; the execution role inside any
//! other account (a run that reads the account from inside holds that role anyway); and only
//! when the role cannot be assumed, the caller naming the account with `AccountId` (allowed to
//! the management account, or a delegated administrator for `account.amazonaws.com`, once
//! trusted access is on). When no way answers, nothing is known and the caller falls back to
//! learning region by region.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::{AwsError, ClientFactory, Session};

/// What ListRegions taught about one account: the regions it cannot use (opt-in status other
/// than ENABLED or ENABLED_BY_DEFAULT), or None when its regions could not be listed.
pub type Unusable = Option<Arc<BTreeSet<String>>>;

/// The regions each account cannot use, asked once per account and shared by every reader.
#[derive(Default)]
pub struct OptIn {
    /// Account -> its answer; the cell makes concurrent first readers share one ListRegions.
    accounts: Mutex<HashMap<String, Arc<OnceCell<Unusable>>>>,
}

impl OptIn {
    pub fn new() -> OptIn {
        OptIn::default()
    }

    /// The regions `account` cannot use, learned on first use.
    pub async fn unusable(&self, session: &Session, account: &str) -> Unusable {
        let cell = self
            .accounts
            .lock()
            .expect("opt-in poisoned")
            .entry(account.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| learn(session, account)).await.clone()
    }

    /// Whether `account` is known not to use `region` (false when unknown).
    pub async fn disabled(&self, session: &Session, account: &str, region: &str) -> bool {
        self.unusable(session, account)
            .await
            .is_some_and(|u| u.contains(region))
    }
}

async fn learn(session: &Session, account: &str) -> Unusable {
    let base = session.factory.base();
    let found = if account == session.caller {
        list_unusable(base, None).await
    } else {
        match session.config(account).await {
            Ok(inside) => list_unusable(&inside, None).await,
            Err(_) => list_unusable(base, Some(account)).await,
        }
    };
    found.ok().map(Arc::new)
}

/// The regions whose opt-in status is anything but enabled, for the account of `config` or,
/// with `member`, for that member account of the organization.
pub async fn list_unusable(
    config: &aws_config::SdkConfig,
    member: Option<&str>,
) -> Result<BTreeSet<String>, AwsError> {
    use aws_sdk_account::types::RegionOptStatus;
    let client = ClientFactory::account_management(config);
    let mut pages = client
        .list_regions()
        .set_account_id(member.map(String::from))
        .max_results(50)
        .into_paginator()
        .send();
    let mut out = BTreeSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListRegions"))?;
        for r in page.regions() {
            let usable = matches!(
                r.region_opt_status(),
                Some(RegionOptStatus::Enabled | RegionOptStatus::EnabledByDefault)
            );
            if let (false, Some(name)) = (usable, r.region_name()) {
                out.insert(name.to_string());
            }
        }
    }
    Ok(out)
}
