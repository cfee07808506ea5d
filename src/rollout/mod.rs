//! `gdorg plan`, `gdorg rollout` and `gdorg offboard`: the flow from settings to report,
//! **settings → observe → plan → execute → report**, the same for both modes.
//!
//! | module | owns |
//! | --- | --- |
//! | [`operate`] | performing one planned step against GuardDuty |
//! | [`render`] | the plan and result tables |

pub mod operate;
pub mod render;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::aws::Session;
use crate::control::{Reporter, Stop};
use crate::execute::{execute, Execution, Status};
use crate::journal::Journal;
use crate::observe::{observe, Scope};
use crate::outcome::Outcome;
use crate::plan::{plan_offboard, plan_rollout, Notice, Plan};
use crate::settings::{AccountSource, Desired, RunSettings};

/// What the run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Show what a rollout would change.
    Plan,
    /// Bring the organization to the desired state (`dry_run`: plan only).
    Rollout { dry_run: bool },
    /// Undo a rollout (`dry_run`: plan only).
    Offboard { dry_run: bool },
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Plan => "plan",
            Command::Rollout { dry_run: false } => "rollout",
            Command::Rollout { dry_run: true } => "rollout --dry-run",
            Command::Offboard { dry_run: false } => "offboard",
            Command::Offboard { dry_run: true } => "offboard --dry-run",
        }
    }

    fn executes(self) -> bool {
        matches!(
            self,
            Command::Rollout { dry_run: false } | Command::Offboard { dry_run: false }
        )
    }

    fn offboard(self) -> bool {
        matches!(self, Command::Offboard { .. })
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    pub command: Command,
    pub desired: Desired,
    pub plan: Plan,
    /// Present when the plan was executed.
    pub execution: Option<Execution>,
    pub elapsed: Duration,
    /// Whether a stop (Ctrl-C) cut the run short.
    pub interrupted: bool,
}

impl Report {
    /// Success when everything planned was done and nothing needs attention; failed when
    /// steps were planned and none succeeded; partial otherwise.
    pub fn outcome(&self) -> Outcome {
        let problems = self.plan.notices.iter().any(Notice::is_problem);
        match &self.execution {
            None if self.interrupted => Outcome::Partial,
            None => {
                if problems {
                    Outcome::Partial
                } else {
                    Outcome::Success
                }
            }
            Some(ex) => {
                let good = ex.count(Status::Done) + ex.count(Status::Partial);
                let bad = ex.results.len() - ex.count(Status::Done);
                if !ex.results.is_empty() && good == 0 {
                    Outcome::Failed
                } else if bad > 0 || problems || self.interrupted {
                    Outcome::Partial
                } else {
                    Outcome::Success
                }
            }
        }
    }
}

/// Errors that stop a run before it starts (the per-account ones are in the report).
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error("writing the journal {path}: {source}")]
    Journal {
        path: String,
        source: std::io::Error,
    },
}

/// Run `command` for `desired` (its members are filled from `source`).
pub async fn run(
    session: Arc<Session>,
    mut desired: Desired,
    source: AccountSource,
    command: Command,
    settings: &RunSettings,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Result<Report, RolloutError> {
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let scope = if command.offboard() {
        Scope::for_offboard(&desired)
    } else {
        Scope::for_rollout(&desired)
    };
    // The members are observed as they are listed (the listing's pages one after another).
    let (found, observation) = observe(
        session.clone(),
        &desired,
        &source,
        scope,
        settings.concurrency,
        reporter,
        stop,
    )
    .await?;
    desired.members = found.members;
    // Each phase's time at -v: where a slow run spent it.
    tracing::info!(
        "listed and observed {} member accounts by {:.1?}",
        desired.members.len(),
        started.elapsed()
    );
    let mut notices: Vec<Notice> = found
        .inactive
        .into_iter()
        .map(|(account, _)| Notice::SuspendedAccount { account })
        .collect();
    let mut plan = if command.offboard() {
        plan_offboard(&desired, &observation)
    } else {
        plan_rollout(&desired, &observation)
    };
    tracing::info!(
        "planned {} steps by {:.1?}",
        plan.steps.len(),
        started.elapsed()
    );
    notices.append(&mut plan.notices);
    plan.notices = notices;
    let execution = if command.executes() && !stop.is_stopped() {
        let operator = Arc::new(
            operate::Operator::new(session.clone(), &observation, &desired.administrator)
                .with_runtime_agents(desired.runtime_agents),
        );
        // The plan and the operator hold what the steps need: free every cell's observation
        // before the longest phase.
        drop(observation);
        let execution = execute(&plan, operator, settings.concurrency, reporter, stop).await;
        tracing::info!("applied by {:.1?}", started.elapsed());
        Some(execution)
    } else {
        None
    };
    let report = Report {
        command,
        interrupted: stop.is_stopped(),
        desired,
        plan,
        execution,
        elapsed: started.elapsed(),
    };
    if let Some(path) = &settings.journal {
        Journal::new(
            command.name(),
            report.desired.mode.as_str(),
            &report.desired.administrator,
            &report.desired.regions,
            started_at,
            &report.plan,
            report.execution.as_ref(),
            report.interrupted,
        )
        .write(path)
        .map_err(|source| RolloutError::Journal {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::StepResult;
    use crate::plan::{Action, Step};
    use crate::settings::Mode;

    fn report(statuses: &[Status], notices: Vec<Notice>) -> Report {
        let steps = statuses
            .iter()
            .enumerate()
            .map(|(id, _)| Step {
                id,
                action: Action::DeleteDetector {
                    account: format!("{id:012}"),
                    region: "us-east-1".into(),
                },
                after: vec![],
            })
            .collect();
        let results = statuses.iter().map(|s| StepResult::of(*s)).collect();
        Report {
            command: Command::Rollout { dry_run: false },
            desired: Desired::new(Mode::Invitation, "999999999999", vec![]),
            plan: Plan { steps, notices },
            execution: Some(Execution {
                results,
                interrupted: false,
            }),
            elapsed: Duration::ZERO,
            interrupted: false,
        }
    }

    #[test]
    fn outcome_tells_success_partial_and_failed_apart() {
        assert_eq!(report(&[], vec![]).outcome(), Outcome::Success);
        assert_eq!(
            report(&[Status::Done, Status::Done], vec![]).outcome(),
            Outcome::Success
        );
        assert_eq!(
            report(&[Status::Done, Status::Failed], vec![]).outcome(),
            Outcome::Partial
        );
        assert_eq!(
            report(&[Status::Failed, Status::Skipped], vec![]).outcome(),
            Outcome::Failed
        );
        let no_role = Notice::NoAccess {
            account: "1".into(),
            error: crate::aws::AwsError {
                operation: "AssumeRole",
                code: "AccessDenied".into(),
                message: String::new(),
            },
        };
        assert_eq!(
            report(&[Status::Done], vec![no_role]).outcome(),
            Outcome::Partial
        );
        let opt_in = Notice::RegionNotEnabled {
            account: "1".into(),
            region: "af-south-1".into(),
        };
        assert_eq!(
            report(&[Status::Done], vec![opt_in]).outcome(),
            Outcome::Success
        );
    }
}
