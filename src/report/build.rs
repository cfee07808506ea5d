//! Building the report of a scope: read the findings (streaming, through the aggregator), and
//! audit the same accounts x regions for the coverage section, so the report and `gdorg
//! audit` say the same thing about who was being watched.

use std::sync::Arc;

use super::coverage::Coverage;
use super::model::{Report, Scope};
use super::Aggregator;
use crate::aws::{organization, AwsError, Session};
use crate::control::{Reporter, Stop};
use crate::findings::collect::{self, CollectSummary};
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
    let targets = std::mem::take(&mut r.targets);
    let summary = collect::collect(
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
    .await?;
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
