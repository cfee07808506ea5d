//! `gdorg sample-findings`: GuardDuty's CreateSampleFindings in chosen accounts x regions, for
//! drills and training. Each account is reached through the assumed role (the caller's own
//! account with its own credentials); the account's own detector generates the samples, which
//! its administrator then sees.

use serde::Serialize;

use super::admin::detector;
use crate::aws::{AwsError, ClientFactory};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampleResult {
    pub account: String,
    pub region: String,
    /// `created`, `no detector`, or the error.
    pub result: String,
}

/// Generate samples of `types` (all types when empty) in every account x region.
pub async fn create(
    factory: &ClientFactory,
    caller_account: &str,
    accounts: &[String],
    regions: &[String],
    types: &[String],
) -> Vec<SampleResult> {
    let mut out = Vec::new();
    for account in accounts {
        let config = if account == caller_account {
            Ok(factory.base().clone())
        } else {
            factory.account(account).await
        };
        for region in regions {
            let result = match &config {
                Err(e) => e.to_string(),
                Ok(c) => match one(&ClientFactory::guardduty(c, region), types).await {
                    Ok(true) => "created".into(),
                    Ok(false) => "no detector".into(),
                    Err(e) => e.to_string(),
                },
            };
            out.push(SampleResult {
                account: account.clone(),
                region: region.clone(),
                result,
            });
        }
    }
    out
}

async fn one(gd: &aws_sdk_guardduty::Client, types: &[String]) -> Result<bool, AwsError> {
    let Some(det) = detector(gd).await? else {
        return Ok(false);
    };
    gd.create_sample_findings()
        .detector_id(det)
        .set_finding_types((!types.is_empty()).then(|| types.to_vec()))
        .send()
        .await
        .map_err(AwsError::from_sdk("CreateSampleFindings"))?;
    Ok(true)
}
