//! `gdorg filters sync FILE`: each saved filter becomes a GuardDuty filter (NOOP: a saved view;
//! ARCHIVE: a suppression rule) on the administrator's detector in every region. Idempotent: a
//! filter whose action, description, rank and criteria already match is left alone, so a second
//! run sends no mutating call. Only filters GuardDuty can evaluate exactly can be synced; the
//! rest are refused, named, before any call.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::criteria::{self, Criteria};
use super::filter::FilterAction;
use super::saved::SavedFilters;
use crate::aws::admin::detector;
use crate::aws::{AwsError, ClientFactory};
use crate::control::{fan_out, Reporter, Stop};

/// A GuardDuty filter as gdorg wants it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Desired {
    pub name: String,
    pub description: Option<String>,
    pub action: FilterAction,
    pub rank: Option<i32>,
    pub criteria: Criteria,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Saved(#[from] super::saved::SavedError),
    #[error("filter {name:?} cannot become a GuardDuty filter: {why}")]
    NotExpressible { name: String, why: &'static str },
}

/// What sync did (or would do) to one filter in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Change {
    Create,
    Update,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SyncItem {
    pub region: String,
    pub name: String,
    pub change: Change,
}

/// The GuardDuty filters the file asks for; refuses what GuardDuty cannot evaluate.
pub fn desired(saved: &SavedFilters, now: DateTime<Utc>) -> Result<Vec<Desired>, SyncError> {
    let mut out = Vec::new();
    for (name, f) in saved.validate_all(now)? {
        let spec = &saved.filters[&name];
        let refuse = |why| SyncError::NotExpressible {
            name: name.clone(),
            why,
        };
        if !f.regions.is_empty() {
            return Err(refuse(
                "a GuardDuty filter lives in one region; drop `region`",
            ));
        }
        if spec
            .updated_since
            .as_deref()
            .is_some_and(|t| DateTime::parse_from_rfc3339(t.trim()).is_err())
        {
            return Err(refuse(
                "a relative `updated_since` would freeze at sync time; give an RFC 3339 time",
            ));
        }
        let t = criteria::translate(&f);
        if !t.exact {
            return Err(refuse(
                "it needs client-side matching (type prefixes, a gap between severity bands, or fractional scores)",
            ));
        }
        out.push(Desired {
            name,
            description: f.description.clone(),
            action: f.action,
            rank: f.rank,
            criteria: t.criteria,
        });
    }
    Ok(out)
}

/// What a sync did across regions.
#[derive(Debug, Clone, Default)]
pub struct SyncRun {
    /// Every filter x region, sorted.
    pub items: Vec<SyncItem>,
    /// Regions where the administrator has no detector (nothing to sync to).
    pub without_detector: Vec<String>,
    /// Regions the administrator's account has not enabled.
    pub region_not_enabled: Vec<String>,
    /// `region: error` for the regions that failed.
    pub errors: Vec<String>,
    /// Regions never started because the run was stopped.
    pub not_started: usize,
}

/// Make the filters exist in every region of `regions` on the detector of `config`'s account,
/// the regions `concurrency` at a time. With `dry_run`, only reads. Failures of one region are
/// returned with the others' results; a stop starts no new region.
pub async fn sync(
    config: &aws_config::SdkConfig,
    regions: &[String],
    wanted: &[Desired],
    dry_run: bool,
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> SyncRun {
    let done = fan_out(
        regions.to_vec(),
        concurrency,
        "filters",
        reporter,
        stop,
        |region| async move {
            let r = sync_region(config, &region, wanted, dry_run).await;
            (region, r)
        },
    )
    .await;
    let mut run = SyncRun {
        not_started: done.not_started,
        ..SyncRun::default()
    };
    for (region, r) in done.results {
        match r {
            Ok(None) => run.without_detector.push(region),
            Ok(Some(mut v)) => run.items.append(&mut v),
            Err(e) if e.is_region_disabled() => run.region_not_enabled.push(region),
            Err(e) => run.errors.push(format!("{region}: {e}")),
        }
    }
    run.items.sort();
    run.without_detector.sort();
    run.region_not_enabled.sort();
    run.errors.sort();
    run
}

async fn sync_region(
    config: &aws_config::SdkConfig,
    region: &str,
    wanted: &[Desired],
    dry_run: bool,
) -> Result<Option<Vec<SyncItem>>, AwsError> {
    let gd = ClientFactory::guardduty(config, region);
    let Some(det) = detector(&gd).await? else {
        return Ok(None);
    };
    let mut existing = std::collections::BTreeSet::new();
    let mut pages = gd.list_filters().detector_id(&det).into_paginator().send();
    while let Some(page) = pages.next().await {
        existing.extend(
            page.map_err(AwsError::from_sdk("ListFilters"))?
                .filter_names()
                .iter()
                .cloned(),
        );
    }
    let mut out = Vec::new();
    for w in wanted {
        let change = if existing.contains(&w.name) {
            let cur = gd
                .get_filter()
                .detector_id(&det)
                .filter_name(&w.name)
                .send()
                .await
                .map_err(AwsError::from_sdk("GetFilter"))?;
            let same = cur.action().map(|a| a.as_str()) == Some(w.action.as_api())
                && cur.description().unwrap_or_default()
                    == w.description.as_deref().unwrap_or_default()
                && (w.rank.is_none() || cur.rank() == w.rank)
                && criteria::from_sdk(cur.finding_criteria()) == w.criteria;
            if same {
                Change::Unchanged
            } else {
                if !dry_run {
                    gd.update_filter()
                        .detector_id(&det)
                        .filter_name(&w.name)
                        .set_description(w.description.clone())
                        .action(w.action.as_api().into())
                        .set_rank(w.rank)
                        .set_finding_criteria(criteria::to_sdk(&w.criteria).or_else(empty))
                        .send()
                        .await
                        .map_err(AwsError::from_sdk("UpdateFilter"))?;
                }
                Change::Update
            }
        } else {
            if !dry_run {
                gd.create_filter()
                    .detector_id(&det)
                    .name(&w.name)
                    .set_description(w.description.clone())
                    .action(w.action.as_api().into())
                    .set_rank(w.rank)
                    .set_finding_criteria(criteria::to_sdk(&w.criteria).or_else(empty))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("CreateFilter"))?;
            }
            Change::Create
        };
        out.push(SyncItem {
            region: region.into(),
            name: w.name.clone(),
            change,
        });
    }
    Ok(Some(out))
}

/// `findingCriteria` is required by CreateFilter even when it selects everything.
fn empty() -> Option<aws_sdk_guardduty::types::FindingCriteria> {
    Some(aws_sdk_guardduty::types::FindingCriteria::builder().build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-23T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn refuses_what_guardduty_cannot_evaluate() {
        for (text, why) in [
            ("[filters.abc]\ntype = [\"Recon:*\"]", "client-side"),
            ("[filters.abc]\nregion = [\"eu-west-1\"]", "one region"),
            ("[filters.abc]\nupdated_since = \"7d\"", "relative"),
            ("[filters.abc]\nnot_severity = [\"Medium\"]", "client-side"),
        ] {
            let saved = SavedFilters::parse("f.toml", text).unwrap();
            let err = desired(&saved, now()).unwrap_err().to_string();
            assert!(
                err.contains("\"abc\"") && err.contains(why),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn the_example_file_is_syncable_but_for_nothing() {
        let saved =
            SavedFilters::parse("f.toml", include_str!("../../examples/filters.toml")).unwrap();
        let d = desired(&saved, now()).unwrap();
        assert_eq!(d.len(), saved.filters.len());
        let sup = d.iter().find(|d| d.name == "suppress-low-probes").unwrap();
        assert_eq!(sup.action, FilterAction::Archive);
        assert_eq!(sup.criteria["severity"].less_than, Some(4));
    }
}
