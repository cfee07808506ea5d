//! Building the report of a scope: read the findings (streaming, through the aggregator), and
//! audit the same accounts x regions for the coverage section, so the report and `gdorg
//! audit` say the same thing about who was being watched.

use std::sync::Arc;

use super::coverage::Coverage;
use super::model::{Report, Scope};
use super::Aggregator;
use crate::aws::admin::Here;
use crate::aws::{organization, AwsError, Session};
use crate::control::fan_out;
use crate::control::{Reporter, Stop};
use crate::findings::collect::{self, CollectSummary, TargetError};
use crate::findings::criteria;
use crate::findings::filter::Status;
use crate::findings::source::{self, ReadOptions, Reading};
use crate::findings::suppression::{self, Suppression};
use crate::settings::{AccountSource, Desired, Mode};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("reading findings: {0}")]
    Io(#[from] std::io::Error),
}

/// A report and whether a stop cut it short.
pub struct Built {
    pub report: Report,
    pub interrupted: bool,
}

/// Read `read`'s findings (current and archived, counted apart), keep the `top` highest, audit
/// the same scope for coverage, and check what can hide a finding (suppression rules and
/// members' own archives).
pub async fn build(
    session: Arc<Session>,
    read: &ReadOptions,
    top: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Result<Built, BuildError> {
    let started = now();
    let mut r = source::prepare(&session, read).await?;
    // The report shows current and archived findings side by side.
    r.filter.status = Status::All;
    r.filter_words = format!("{}; current and archived counted apart", r.filter_words).replacen(
        "current findings",
        "all findings",
        1,
    );
    let mut agg = Aggregator::new(top);
    let translation = criteria::translate(&r.filter);
    let summary = match (&r.admin, translation.exact) {
        // The server can count exactly what the filter means: read counts, not findings.
        (Some(admin), true) => {
            let regions: Vec<String> = r
                .regions
                .iter()
                .filter(|x| r.filter.wants_region(x))
                .cloned()
                .collect();
            let (config, base) = (&admin.config, &translation.criteria);
            counted(
                config,
                &admin.account,
                regions,
                base,
                top,
                read,
                &mut agg,
                reporter,
                stop,
            )
            .await
        }
        _ => {
            let targets = std::mem::take(&mut r.targets);
            collect::collect(
                targets,
                &r.filter,
                read.limits.concurrency,
                reporter,
                stop,
                |f| {
                    agg.add(&f);
                    Ok(())
                },
            )
            .await?
        }
    };
    let coverage = if stop.is_stopped() {
        Coverage::unavailable("not gathered: the run was stopped")
    } else {
        coverage(session.clone(), &r, read, reporter, stop).await
    };
    let suppression = match &r.admin {
        _ if stop.is_stopped() => Suppression::skipped("not checked: the run was stopped"),
        None => Suppression::skipped("not checked with --direct"),
        Some(admin) => {
            suppression::check(
                &session,
                &admin.account,
                &r.regions,
                read.limits.concurrency,
                reporter,
                stop,
            )
            .await
        }
    };
    let errors = summary_errors(&summary, &r.early_errors);
    let scope = scope_of(&r, &summary, &started, &now());
    let mut report = agg.finish(scope, coverage, errors);
    report.archived.suppression = suppression;
    Ok(Built {
        interrupted: stop.is_stopped(),
        report,
    })
}

/// Count every region of the administrator's view into `agg` from statistics, then give the
/// listed types their highest severity; what was read, as a collection would say it.
#[allow(clippy::too_many_arguments)]
async fn counted(
    config: &aws_config::SdkConfig,
    administrator: &str,
    regions: Vec<String>,
    base: &criteria::Criteria,
    top: usize,
    read: &ReadOptions,
    agg: &mut Aggregator,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> CollectSummary {
    let all = regions.clone();
    let done = fan_out(
        regions,
        read.limits.concurrency,
        "findings",
        reporter,
        stop,
        |region| async move {
            let got = super::counted::read_region(config, &region, base, top).await;
            (region, got)
        },
    )
    .await;
    let mut s = CollectSummary::default();
    let cell = |region: &str| (administrator.to_string(), region.to_string());
    let mut counted = Vec::new();
    for (region, got) in done.results {
        match got {
            Ok(Here::Detector(c)) => {
                counted.push(region.clone());
                agg.add_counts(*c);
                s.read.push(cell(&region));
            }
            Ok(Here::NoDetector) => s.without_detector.push(cell(&region)),
            Ok(Here::RegionNotEnabled) => s.region_not_enabled.push(cell(&region)),
            Err(e) => s.errors.push(TargetError {
                account: administrator.to_string(),
                region,
                error: e.to_string(),
            }),
        }
    }
    let types = agg.listed_types();
    if !types.is_empty() && !stop.is_stopped() {
        let done = fan_out(
            counted,
            read.limits.concurrency,
            "types",
            reporter,
            stop,
            |region| {
                let types = &types;
                async move {
                    let got = super::counted::max_severities(config, &region, base, types).await;
                    (region, got)
                }
            },
        )
        .await;
        for (region, got) in done.results {
            match got {
                Ok((found, _)) => {
                    for (ty, sev) in found {
                        agg.raise_max_severity(&ty, sev);
                    }
                }
                Err(e) => s.errors.push(TargetError {
                    account: administrator.to_string(),
                    region,
                    error: e.to_string(),
                }),
            }
        }
    }
    s.interrupted = stop.is_stopped();
    let started: std::collections::BTreeSet<(String, String)> = s
        .read
        .iter()
        .chain(&s.without_detector)
        .chain(&s.region_not_enabled)
        .cloned()
        .chain(
            s.errors
                .iter()
                .map(|e| (e.account.clone(), e.region.clone())),
        )
        .collect();
    s.not_started = all
        .iter()
        .map(|r| cell(r))
        .filter(|c| !started.contains(c))
        .collect();
    s.read.sort();
    s.without_detector.sort();
    s.region_not_enabled.sort();
    s.errors.sort_by(|a, b| a.region.cmp(&b.region));
    s
}

/// The audit of the report's scope, as its coverage section.
async fn coverage(
    session: Arc<Session>,
    r: &Reading,
    read: &ReadOptions,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Coverage {
    match &r.admin {
        None => Coverage::unavailable("not gathered with --direct"),
        Some(admin) => {
            coverage_for(
                session,
                &admin.account,
                &r.regions,
                read.limits.concurrency,
                reporter,
                stop,
            )
            .await
        }
    }
}

/// The audit of every organization account x `regions` under `administrator`, as coverage
/// rows; `gdorg findings count` qualifies its counts with it too. Needs the organization's
/// account list (the management account's view); without it, says so rather than guess.
pub async fn coverage_for(
    session: Arc<Session>,
    administrator: &str,
    regions: &[String],
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Coverage {
    let mode = match organization::detect_setup(&session, administrator, regions).await {
        Some(organization::Setup::DelegatedAdministrator) => Mode::Organizations,
        _ => Mode::Invitation,
    };
    let desired = Desired::new(mode, administrator, regions.to_vec());
    match crate::audit::run(
        session,
        desired,
        &AccountSource::Organizations,
        concurrency,
        reporter,
        stop,
    )
    .await
    {
        Ok((audit, _)) => Coverage::from_audit(&audit),
        Err(e) => Coverage::unavailable(format!(
            "not gathered: the organization's accounts could not be listed ({e}); run with the management account's credentials to see every account"
        )),
    }
}

fn summary_errors(s: &CollectSummary, early: &[String]) -> Vec<String> {
    let mut out: Vec<String> = early.to_vec();
    out.extend(
        s.errors
            .iter()
            .map(|e| format!("{} {}: {}", e.account, e.region, e.error)),
    );
    if s.interrupted {
        out.push(format!(
            "interrupted: {} account x region cell(s) cut short, {} not read",
            s.partly_read.len(),
            s.not_started.len()
        ));
    }
    out
}

/// The report's scope: who read what, through which administrator, with which filter.
pub fn scope_of(r: &Reading, s: &CollectSummary, started: &str, finished: &str) -> Scope {
    let (administrator, how, mode) = match &r.admin {
        Some(a) => (a.account.clone(), a.how.to_string(), "administrator"),
        None => (
            "each account's own detector".into(),
            "assumed role per account".into(),
            "direct",
        ),
    };
    let mut regions = r.regions.clone();
    // Regions the administrator has not enabled hold none of its findings: leave them out of
    // the scope's list (the coverage section shows them as not enabled).
    if r.admin.is_some() {
        let disabled: Vec<&str> = s
            .region_not_enabled
            .iter()
            .map(|(_, region)| region.as_str())
            .collect();
        regions.retain(|x| !disabled.contains(&x.as_str()));
    }
    Scope {
        caller_arn: r.caller.arn.clone(),
        administrator,
        administrator_how: how,
        mode: mode.into(),
        regions,
        filter: r.filter_words.clone(),
        started_at: started.into(),
        finished_at: finished.into(),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
