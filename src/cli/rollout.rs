//! `plan`, `rollout` and `offboard`: the desired state and the run's options.

use std::path::PathBuf;

use clap::Args;

use super::{AccountArgs, ConcurrencyArg, RegionArgs};

/// The findings export: a publishing destination on the administrator's detector in every
/// region of the run (created, or updated where it differs).
#[derive(Debug, Args, Clone, Default)]
pub struct ExportArgs {
    /// Export findings to this S3 bucket (or folder): arn:<partition>:s3:::bucket[/prefix/].
    /// Findings of every region may go to one bucket in a commercial region; the bucket policy
    /// must let GuardDuty write (`gdorg policies render export-bucket-policy`). Needs
    /// --export-kms-key.
    #[arg(long, value_name = "ARN", help_heading = "Findings export")]
    pub export_bucket: Option<String>,
    /// The KMS key GuardDuty encrypts exported findings with:
    /// arn:<partition>:kms:<region>:<account>:key/<id>, in the same region as the bucket (AWS
    /// requires it; gdorg does not check it). Its key policy must let GuardDuty use it
    /// (`gdorg policies render export-kms-key-policy`).
    #[arg(long, value_name = "ARN", help_heading = "Findings export")]
    pub export_kms_key: Option<String>,
}

impl ExportArgs {
    /// Both flags or neither, each a well-formed ARN.
    pub fn target(
        &self,
    ) -> Result<Option<crate::settings::ExportTarget>, crate::settings::SettingsError> {
        crate::settings::ExportTarget::from_flags(
            self.export_bucket.as_deref(),
            self.export_kms_key.as_deref(),
        )
    }
}

/// Which accounts and regions, and the GuardDuty settings they should have.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Protection plans to enable (comma-separated), by their GuardDuty API names:
    /// S3_DATA_EVENTS, EKS_AUDIT_LOGS, EBS_MALWARE_PROTECTION, RDS_LOGIN_EVENTS,
    /// LAMBDA_NETWORK_LOGS, RUNTIME_MONITORING (or EKS_RUNTIME_MONITORING), AI_PROTECTION ...:
    /// every plan of the service model gdorg was built with.
    #[arg(long, value_delimiter = ',', value_name = "PLANS")]
    pub features: Vec<String>,
    /// With RUNTIME_MONITORING (or EKS_RUNTIME_MONITORING): let GuardDuty manage its security
    /// agent too (the EKS add-on, the ECS Fargate sidecar, the EC2 agent), in members and, in
    /// organizations mode, for new accounts.
    #[arg(long)]
    pub runtime_agents: bool,
    /// Finding publishing frequency: FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS.
    #[arg(long)]
    pub frequency: Option<String>,
    /// Organizations mode: auto-enable every account (ALL), not only new ones (NEW).
    #[arg(long)]
    pub auto_enable_all: bool,
    /// Move members that belong to another administrator to ours, and in organizations mode
    /// replace another delegated administrator (otherwise both are reported, left alone).
    #[arg(long)]
    pub take_over: bool,
    /// Send invitation emails (off by default: one email per member per region otherwise).
    #[arg(long)]
    pub email_notification: bool,
    #[command(flatten)]
    pub export: ExportArgs,
    #[command(flatten)]
    pub accounts: AccountArgs,
    #[command(flatten)]
    pub regions: RegionArgs,
    #[command(flatten)]
    pub run: ConcurrencyArg,
    /// Write a JSON journal of every step and its outcome to this file (atomically).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub journal: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Only show the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct OffboardArgs {
    /// Only show the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete the member detectors (this destroys their findings). The administrator's
    /// detector and its findings export (publishing destinations) are never touched: stop the
    /// export with `aws guardduty delete-publishing-destination` if it should go too.
    #[arg(long)]
    pub delete_detectors: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

impl TargetArgs {
    /// Every flag checked (the accounts file read), before any call.
    pub fn settings(
        &self,
        delete_detectors: bool,
    ) -> Result<crate::settings::Settings, crate::settings::SettingsError> {
        use crate::settings::{AutoEnable, RunSettings, Settings};
        let run = RunSettings {
            concurrency: self.run.limits()?.concurrency,
            journal: self.journal.clone(),
        };
        let mut s = Settings::new(self.accounts.input(), self.regions.resolve()?, run)?;
        s.desired.features = crate::settings::parse_features(&self.features)?;
        s.desired.frequency = self.frequency.as_deref().map(str::parse).transpose()?;
        s.desired.auto_enable = if self.auto_enable_all {
            AutoEnable::All
        } else {
            AutoEnable::New
        };
        s.desired.take_over = self.take_over;
        s.desired.email_notification = self.email_notification;
        s.desired.delete_detectors = delete_detectors;
        s.desired.export = self.export.target()?;
        s.desired.runtime_agents = self.runtime_agents;
        Ok(s)
    }
}
