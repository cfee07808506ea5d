//! `audit`: what to check, how to print it, and when to fail.

use std::path::PathBuf;

use clap::Args;

use super::{AccountArgs, ConcurrencyArg, OutputArg, RegionArgs};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A previous audit's JSON: report what was covered and no longer is, and what is new.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit 3 on: gaps (any gap), drift (a regression against --baseline) or never.
    #[arg(long, value_enum, default_value = "gaps")]
    pub fail_on: crate::audit::FailOn,
    /// The findings export to expect (`--export-bucket`, `--export-kms-key`, as for the
    /// rollout): a region of the administrator without it, or whose destination cannot
    /// publish, is then a gap (otherwise it is only reported).
    #[command(flatten)]
    pub export: super::rollout::ExportArgs,
    #[command(flatten)]
    pub accounts: AccountArgs,
    #[command(flatten)]
    pub regions: RegionArgs,
    #[command(flatten)]
    pub run: ConcurrencyArg,
    /// Protection plans the organization should have on (comma-separated, as for rollout):
    /// a covered cell where one is off is a plan gap, and fails the audit like a gap.
    #[arg(long, value_delimiter = ',', value_name = "PLANS")]
    pub features: Vec<String>,
    /// With --features naming a runtime plan: its agent management (EKS add-on, ECS Fargate,
    /// EC2) should be on too; where it is off, that is a plan gap.
    #[arg(long)]
    pub runtime_agents: bool,
    /// Show the protection plans: `all` (regions x plans, the default), a region (accounts x
    /// plans there) or an account id (regions x plans of that account).
    #[arg(long, value_name = "all|REGION|ACCOUNT", num_args = 0..=1, default_missing_value = "all", help_heading = "Output")]
    pub plans: Option<String>,
    #[arg(long, value_enum, default_value = "table", help_heading = "Output")]
    pub format: crate::audit::render::Format,
    #[command(flatten)]
    pub output: OutputArg,
}

impl AuditArgs {
    /// The accounts, regions and limits, checked before any call.
    pub fn settings(&self) -> Result<crate::settings::Settings, crate::settings::SettingsError> {
        let run = crate::settings::RunSettings {
            concurrency: self.run.limits()?.concurrency,
            journal: None,
        };
        let mut s =
            crate::settings::Settings::new(self.accounts.input(), self.regions.resolve()?, run)?;
        s.desired.features = crate::settings::parse_features(&self.features)?;
        s.desired.runtime_agents = self.runtime_agents;
        s.desired.export = self.export.target()?;
        Ok(s)
    }
}
