//! The run journal: one JSON document with every planned step, its outcome and the notices,
//! written atomically (`--journal FILE`), also after Ctrl-C, so a partial run is on record.

use std::path::Path;

use serde::Serialize;

use crate::execute::{Execution, StepResult};
use crate::plan::{Notice, Plan, Step};

/// Bumped when the layout changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Journal<'a> {
    pub schema_version: u32,
    /// `plan`, `rollout`, `rollout --dry-run`, `offboard` ...
    pub command: &'a str,
    pub mode: &'a str,
    pub administrator: &'a str,
    pub regions: &'a [String],
    pub started_at: String,
    pub finished_at: String,
    pub interrupted: bool,
    pub steps: Vec<Entry<'a>>,
    pub notices: &'a [Notice],
}

/// A step and, when it was executed, its result.
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    #[serde(flatten)]
    pub step: &'a Step,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'a StepResult>,
}

impl<'a> Journal<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        command: &'a str,
        mode: &'a str,
        administrator: &'a str,
        regions: &'a [String],
        started_at: chrono::DateTime<chrono::Utc>,
        plan: &'a Plan,
        execution: Option<&'a Execution>,
        interrupted: bool,
    ) -> Journal<'a> {
        Journal {
            schema_version: SCHEMA_VERSION,
            command,
            mode,
            administrator,
            regions,
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            interrupted,
            steps: plan
                .steps
                .iter()
                .map(|step| Entry {
                    step,
                    result: execution.and_then(|e| e.results.get(step.id)),
                })
                .collect(),
            notices: &plan.notices,
        }
    }

    /// Write the journal to `path` atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        crate::fsutil::write_atomic(path, &bytes)
    }
}
