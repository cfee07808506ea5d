//! Where findings are read from, resolved once for every findings command: the administrator's
//! detector in each region (the default), or each account's own detector through the assumed
//! role (`--direct`).

use super::collect::{self, Target};
use super::filter::Filter;
use crate::aws::{organization, Administrator, AwsError, Caller, Session};
use crate::settings::Limits;

/// What the user asked to read, validated (no call made yet).
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub filter: Filter,
    /// The filter in words, for the report's scope.
    pub filter_words: String,
    pub regions: Vec<String>,
    pub admin_account: Option<String>,
    /// Read each account's own detector instead of the administrator's.
    pub direct: bool,
    /// The accounts of `direct` (empty: every active account of the organization).
    pub accounts: Vec<String>,
    pub limits: Limits,
}

impl ReadOptions {
    /// Every current finding of `regions` through the administrator (tests and the demo).
    pub fn through_administrator(regions: &[String]) -> ReadOptions {
        ReadOptions {
            filter: Filter::default(),
            filter_words: "current findings".into(),
            regions: regions.to_vec(),
            admin_account: None,
            direct: false,
            accounts: vec![],
            limits: Limits::default(),
        }
    }
}

/// Everything needed to read findings, resolved.
pub struct Reading {
    pub caller: Caller,
    pub admin: Option<Administrator>,
    pub targets: Vec<Target>,
    pub regions: Vec<String>,
    pub filter: Filter,
    pub filter_words: String,
    /// Accounts that could not be reached before reading began (`--direct`).
    pub early_errors: Vec<String>,
}

/// Resolve the administrator (or the accounts of `--direct`) and the targets to read.
pub async fn prepare(session: &Session, read: &ReadOptions) -> Result<Reading, AwsError> {
    let caller = session.identity();
    if read.direct {
        let accounts = if read.accounts.is_empty() {
            organization::list_accounts(session)
                .await?
                .into_iter()
                .filter(|a| a.is_active())
                .map(|a| a.id)
                .collect()
        } else {
            read.accounts.clone()
        };
        let (targets, errs) = collect::direct_targets(session, &accounts, &read.regions).await;
        return Ok(Reading {
            caller,
            admin: None,
            targets,
            regions: read.regions.clone(),
            filter: read.filter.clone(),
            filter_words: read.filter_words.clone(),
            early_errors: errs
                .into_iter()
                .map(|e| format!("{} {}: {}", e.account, e.region, e.error))
                .collect(),
        });
    }
    let adm = crate::aws::admin::administrator(session, read.admin_account.as_deref()).await?;
    let targets = collect::administrator_targets(&adm.account, &adm.config, &read.regions);
    Ok(Reading {
        caller,
        admin: Some(adm),
        targets,
        regions: read.regions.clone(),
        filter: read.filter.clone(),
        filter_words: read.filter_words.clone(),
        early_errors: Vec::new(),
    })
}
