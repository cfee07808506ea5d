//! `gdorg audit`: a read-only check that GuardDuty is on in every account x region and linked
//! to the administrator, with the gaps, the commands that close them, and drift against a
//! previous audit. It shares the rollout's observation ([`crate::observe`]) and makes no
//! mutating call.
//!
//! | module | owns |
//! | --- | --- |
//! | [`model`] | the results type: matrix, organization per region, coverage, gaps |
//! | [`plans`] | the protection-plans view: plans per cell, per region, auto-enable, plan gaps |
//! | [`plans_render`] | the plans grids for the terminal, Markdown and HTML |
//! | [`fixes`] | the grouped commands that close the gaps |
//! | [`drift`] | the baseline file and the comparison with it |
//! | [`export`] | the administrator's findings export per region: gaps or notes, fixes, drift, sections |
//! | [`render`] | the renderers: terminal matrix, JSON, CSV, Markdown |
//! | [`html`] | the self-contained HTML: sticky matrix, grouped gaps, fixes |

pub mod drift;
pub mod export;
pub mod fixes;
pub mod html;
pub mod model;
pub mod plans;
pub mod plans_render;
pub mod render;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use model::{Audit, Cell, DetectorStatus, Relationship, SCHEMA_VERSION};

use crate::aws::Session;
use crate::control::{Reporter, Stop};
use crate::observe::{observe, Scope};
use crate::outcome::Outcome;
use crate::settings::{AccountSource, Desired};

/// When the audit exits non-zero ([`Outcome::Findings`]); `--fail-on` parses straight into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Any gap (the default).
    #[default]
    Gaps,
    /// Only a regression against the baseline (needs `--baseline`).
    Drift,
    /// Never: exit 0 whatever is found.
    Never,
}

impl Audit {
    /// The exit outcome under `fail_on`. A stopped audit is partial.
    pub fn outcome(&self, fail_on: FailOn, interrupted: bool) -> Outcome {
        let found = match fail_on {
            FailOn::Gaps => {
                self.summary.gaps + self.summary.export_gaps > 0 || !self.plans.gaps.is_empty()
            }
            FailOn::Drift => self.drift.as_ref().is_some_and(|d| d.regressed()),
            FailOn::Never => false,
        };
        if found {
            Outcome::Findings
        } else if interrupted {
            Outcome::Partial
        } else {
            Outcome::Success
        }
    }
}

/// Audit `desired` (its members filled from `source`), reading `concurrency` cells at once.
/// Returns the audit and whether a stop cut it short.
pub async fn run(
    session: Arc<Session>,
    mut desired: Desired,
    source: &AccountSource,
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Result<(Audit, bool), crate::aws::AwsError> {
    let generated_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Every account x region, in both modes: from the administrator's records where they
    // answer, from inside the account where they do not. The administrator's side is read
    // while the organization's accounts are still being listed, each member's as it is listed.
    let (found, obs) = observe(
        session.clone(),
        &desired,
        source,
        Scope {
            members: true,
            every_region: true,
            admin_first: true,
            destinations: true,
        },
        concurrency,
        reporter,
        stop,
    )
    .await?;
    desired.members = found.members;
    let skipped = found
        .inactive
        .into_iter()
        .map(|(account, status)| model::Skipped {
            account,
            reason: status.to_ascii_lowercase().replace('_', " "),
        })
        .collect();
    Ok((
        model::build(&desired, obs, skipped, generated_at),
        stop.is_stopped(),
    ))
}
