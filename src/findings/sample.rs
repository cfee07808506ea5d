//! `gdorg sample-findings`: GuardDuty's CreateSampleFindings in chosen accounts x regions, for
//! drills and training. Each account is reached through the assumed role (the caller's own
//! account with its own credentials); the account's own detector generates the samples, which
//! its administrator then sees.

use serde::Serialize;

use crate::aws::admin::detector;
use crate::aws::{AwsError, Session};
use crate::control::{fan_out, Reporter, Stop};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampleResult {
    pub account: String,
    pub region: String,
    pub result: SampleOutcome,
}

/// What happened in one account x region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "error")]
pub enum SampleOutcome {
    Created,
    NoDetector,
    /// The account has not enabled the region: nothing to do there.
    RegionNotEnabled,
    Failed(AwsError),
}

impl SampleOutcome {
    /// `created`, `no detector`, `region not enabled`, or the error.
    pub fn label(&self) -> String {
        match self {
            SampleOutcome::Created => "created".into(),
            SampleOutcome::NoDetector => "no detector".into(),
            SampleOutcome::RegionNotEnabled => "region not enabled".into(),
            SampleOutcome::Failed(e) => e.to_string(),
        }
    }

    pub fn failed(&self) -> bool {
        matches!(self, SampleOutcome::Failed(_))
    }
}

/// What `create` did: one result per cell that ran, sorted, and the cells never started.
#[derive(Debug, Clone)]
pub struct SampleRun {
    pub results: Vec<SampleResult>,
    pub not_started: usize,
}

/// Generate samples of `types` (all types when empty) in every account x region, at most
/// `concurrency` cells at once; a stop starts no new cell.
pub async fn create(
    session: &Session,
    accounts: &[String],
    regions: &[String],
    types: &[String],
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> SampleRun {
    let cells: Vec<(String, String)> = accounts
        .iter()
        .flat_map(|a| regions.iter().map(move |r| (a.clone(), r.clone())))
        .collect();
    let run = fan_out(
        cells,
        concurrency,
        "samples",
        reporter,
        stop,
        |(account, region)| async move {
            let result = match session.guardduty(&account, &region).await {
                Err(e) => SampleOutcome::Failed(e),
                Ok(gd) => match one(&gd, types).await {
                    Ok(true) => SampleOutcome::Created,
                    Ok(false) => SampleOutcome::NoDetector,
                    Err(e) if e.is_region_disabled() => SampleOutcome::RegionNotEnabled,
                    Err(e) => SampleOutcome::Failed(e),
                },
            };
            SampleResult {
                account,
                region,
                result,
            }
        },
    )
    .await;
    let mut results = run.results;
    results.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    SampleRun {
        results,
        not_started: run.not_started,
    }
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
