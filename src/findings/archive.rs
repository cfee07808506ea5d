//! Archive, unarchive and feedback, through the administrator only.
//!
//! GuardDuty lets only the administrator account archive or unarchive findings; a member
//! cannot, not even its own. gdorg checks before sending anything: in every region it reads who
//! the credentials are (GetAdministratorAccount: a member has an administrator), which accounts
//! the caller administers (ListMembers), and which findings are selected; any member
//! relationship or any finding of an account the caller does not administer refuses the whole
//! operation, with zero mutating calls made. Planning reads; `execute` writes.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use serde::Serialize;

use super::collect::BATCH;
use super::criteria;
use super::filter::{Filter, Status};
use super::record::FindingRecord;
use crate::aws::admin::detector;
use crate::aws::{AwsError, Caller, ClientFactory};
use crate::control::{Reporter, Stop};

/// The rule, as gdorg states it in refusals and in the report.
pub const ARCHIVE_RULE: &str = "GuardDuty lets only the administrator account archive or \
unarchive findings: member accounts cannot archive findings, not even their own.";

/// What to do to the selected findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Verb {
    Archive,
    Unarchive,
    Feedback {
        useful: bool,
        comments: Option<String>,
    },
}

impl Verb {
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Archive => "archive",
            Verb::Unarchive => "unarchive",
            Verb::Feedback { .. } => "feedback",
        }
    }
}

/// Which findings.
#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<String>),
    Filter(Box<Filter>),
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("refused before sending anything: {ARCHIVE_RULE} The credentials ({arn}) are of account {account}, a member of administrator {administrator} in {region}. Run gdorg with the administrator's credentials.")]
    Member {
        arn: String,
        account: String,
        administrator: String,
        region: String,
    },
    #[error("refused before sending anything: {ARCHIVE_RULE} Finding {id} in {region} belongs to account {owner}, which account {account} does not administer.")]
    NotAdministratorOf {
        account: String,
        id: String,
        region: String,
        owner: String,
    },
    #[error("refused before sending anything: no detector of account {account} sees finding(s) {ids} in the regions read; only their administrator can {verb} them.")]
    NotFound {
        account: String,
        ids: String,
        verb: &'static str,
    },
    #[error("{region}: {source}")]
    Aws { region: String, source: AwsError },
}

/// The findings of one region to act on.
#[derive(Debug, Clone, Serialize)]
pub struct RegionPlan {
    pub region: String,
    pub detector_id: String,
    pub findings: Vec<FindingRecord>,
}

/// Everything checked; nothing sent yet.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub verb: Verb,
    pub administrator: String,
    pub regions: Vec<RegionPlan>,
}

impl Plan {
    pub fn count(&self) -> usize {
        self.regions.iter().map(|r| r.findings.len()).sum()
    }
}

/// Check the caller may act, and select the findings. Reads only.
pub async fn plan(
    config: &SdkConfig,
    caller: &Caller,
    regions: &[String],
    selection: &Selection,
    verb: Verb,
) -> Result<Plan, ArchiveError> {
    let aws = |region: &str| {
        let region = region.to_string();
        move |source| ArchiveError::Aws { region, source }
    };
    let mut out = Vec::new();
    let mut seen_ids = BTreeSet::new();
    for region in regions {
        let gd = ClientFactory::guardduty(config, region);
        let det = match detector(&gd).await {
            // A region the administrator has not enabled holds none of its findings.
            Err(e) if e.is_region_disabled() => continue,
            other => other.map_err(aws(region))?,
        };
        let Some(det) = det else {
            continue;
        };
        // A member has an administrator; the administrator and standalone accounts have none.
        let admin = gd
            .get_administrator_account()
            .detector_id(&det)
            .send()
            .await
            .map_err(AwsError::from_sdk("GetAdministratorAccount"))
            .map_err(aws(region))?;
        if let Some(a) = admin.administrator().and_then(|a| a.account_id()) {
            return Err(ArchiveError::Member {
                arn: caller.arn.clone(),
                account: caller.account.clone(),
                administrator: a.to_string(),
                region: region.clone(),
            });
        }
        let members = enabled_members(&gd, &det).await.map_err(aws(region))?;
        let findings = match selection {
            Selection::Ids(ids) => get(&gd, &det, ids, region).await.map_err(aws(region))?,
            Selection::Filter(f) => {
                let f = effective_filter(f, &verb);
                list(&gd, &det, &f, region).await.map_err(aws(region))?
            }
        };
        for f in &findings {
            if f.account_id != caller.account && !members.contains(&f.account_id) {
                return Err(ArchiveError::NotAdministratorOf {
                    account: caller.account.clone(),
                    id: f.id.clone(),
                    region: region.clone(),
                    owner: f.account_id.clone(),
                });
            }
            seen_ids.insert(f.id.clone());
        }
        if !findings.is_empty() {
            out.push(RegionPlan {
                region: region.clone(),
                detector_id: det,
                findings,
            });
        }
    }
    if let Selection::Ids(ids) = selection {
        let missing: Vec<&str> = ids
            .iter()
            .filter(|i| !seen_ids.contains(*i))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(ArchiveError::NotFound {
                account: caller.account.clone(),
                ids: missing.join(", "),
                verb: verb.name(),
            });
        }
    }
    Ok(Plan {
        verb,
        administrator: caller.account.clone(),
        regions: out,
    })
}

/// Archiving selects current findings and unarchiving archived ones, unless the filter says
/// otherwise.
fn effective_filter(f: &Filter, verb: &Verb) -> Filter {
    let mut f = f.clone();
    if *verb == Verb::Unarchive && f.status == Status::Current {
        f.status = Status::Archived;
    }
    if let Verb::Feedback { .. } = verb {
        if f.status == Status::Current {
            f.status = Status::All;
        }
    }
    f
}

/// What was done, per region.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// Region -> finding ids acted on.
    pub done: BTreeMap<String, Vec<String>>,
    pub errors: Vec<String>,
    /// Findings not sent because the run was stopped first.
    pub not_sent: usize,
}

/// Send the plan's calls, in batches of 50; keep going past a failed region. A stop sends no
/// new batch (those not sent are counted).
pub async fn execute(
    config: &SdkConfig,
    plan: &Plan,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Outcome {
    let mut out = Outcome::default();
    reporter.start(plan.verb.name(), plan.count());
    for rp in &plan.regions {
        let gd = ClientFactory::guardduty(config, &rp.region);
        let ids: Vec<String> = rp.findings.iter().map(|f| f.id.clone()).collect();
        for batch in ids.chunks(BATCH) {
            if stop.is_stopped() {
                out.not_sent += batch.len();
                continue;
            }
            let batch = batch.to_vec();
            let sent = match &plan.verb {
                Verb::Archive => gd
                    .archive_findings()
                    .detector_id(&rp.detector_id)
                    .set_finding_ids(Some(batch.clone()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(AwsError::from_sdk("ArchiveFindings")),
                Verb::Unarchive => gd
                    .unarchive_findings()
                    .detector_id(&rp.detector_id)
                    .set_finding_ids(Some(batch.clone()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(AwsError::from_sdk("UnarchiveFindings")),
                Verb::Feedback { useful, comments } => gd
                    .update_findings_feedback()
                    .detector_id(&rp.detector_id)
                    .set_finding_ids(Some(batch.clone()))
                    .feedback(if *useful {
                        aws_sdk_guardduty::types::Feedback::Useful
                    } else {
                        aws_sdk_guardduty::types::Feedback::NotUseful
                    })
                    .set_comments(comments.clone())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(AwsError::from_sdk("UpdateFindingsFeedback")),
            };
            reporter.advance(batch.len());
            match sent {
                Ok(()) => out.done.entry(rp.region.clone()).or_default().extend(batch),
                Err(e) => out.errors.push(format!("{}: {e}", rp.region)),
            }
        }
    }
    reporter.finish();
    out
}

/// Accounts the detector's owner administers with an enabled relationship.
async fn enabled_members(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
) -> Result<BTreeSet<String>, AwsError> {
    let mut out = BTreeSet::new();
    let mut pages = gd
        .list_members()
        .detector_id(detector)
        .only_associated("true")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListMembers"))?;
        for m in page.members() {
            if m.relationship_status()
                .is_some_and(|s| s.eq_ignore_ascii_case("Enabled"))
            {
                if let Some(a) = m.account_id() {
                    out.insert(a.to_string());
                }
            }
        }
    }
    Ok(out)
}

async fn get(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
    ids: &[String],
    region: &str,
) -> Result<Vec<FindingRecord>, AwsError> {
    let mut out = super::collect::fetch(gd, detector, ids, region).await?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

async fn list(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
    filter: &Filter,
    region: &str,
) -> Result<Vec<FindingRecord>, AwsError> {
    if !filter.wants_region(region) {
        return Ok(Vec::new());
    }
    let crit = criteria::to_sdk(&criteria::translate(filter).criteria);
    let mut ids = Vec::new();
    let mut pages = gd
        .list_findings()
        .detector_id(detector)
        .set_finding_criteria(crit)
        .max_results(BATCH as i32)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        ids.extend(
            page.map_err(AwsError::from_sdk("ListFindings"))?
                .finding_ids()
                .iter()
                .cloned(),
        );
    }
    let mut found = get(gd, detector, &ids, region).await?;
    found.retain(|f| filter.matches(f));
    Ok(found)
}
