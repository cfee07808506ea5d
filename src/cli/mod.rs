//! The command line, as clap derives it: every clap type lives in this tree, and doc comments
//! are the help text. These are the raw flags as the user typed them; [`crate::settings`]
//! turns them into validated settings before any call.
//!
//! Each command's help lists its own options first, then the shared ones under headings:
//! "Scope" (accounts and regions), "Run" (limits), "AWS connection" and "Output".
//!
//! | module | owns |
//! | --- | --- |
//! | [`common`] | flags several commands share: regions, concurrency, output file, accounts |
//! | [`rollout`] | `plan`, `rollout`, `offboard` |
//! | [`audit`] | `audit` |
//! | [`coverage`] | `coverage` |
//! | [`usage`] | `usage` |
//! | [`findings`] | `findings ...`, `filters sync`, `sample-findings`, `report` |
//! | [`policies`] | `policies ...` |
//! | [`sandbox`] | `demo`, `sandbox serve` |
//! | [`meta`] | `completions`, `man`, `config show` |
//! | [`config`] | the `gdorg.toml` config file: defaults for any flag |

pub mod audit;
pub mod common;
pub mod config;
pub mod coverage;
pub mod findings;
pub mod meta;
pub mod policies;
pub mod rollout;
pub mod sandbox;
pub mod usage;

use clap::{Args, Parser, Subcommand};

pub use common::{AccountArgs, AdminArg, ConcurrencyArg, OutputArg, RegionArgs};

/// Run Amazon GuardDuty across a whole AWS organization from one administrator account.
#[derive(Debug, Parser)]
#[command(name = "gdorg", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach AWS, and how much to say: valid for every command.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Named profile from the shared AWS config (credentials, SSO, region).
    #[arg(
        long,
        global = true,
        env = "AWS_PROFILE",
        help_heading = "AWS connection"
    )]
    pub profile: Option<String>,
    /// Home region: where STS and organization-wide calls go.
    #[arg(long, global = true, help_heading = "AWS connection")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (e.g. a `gdorg sandbox`). `AWS_ENDPOINT_URL` and
    /// `AWS_ENDPOINT_URL_<SERVICE>` are honoured too.
    #[arg(long, global = true, help_heading = "AWS connection")]
    pub endpoint_url: Option<String>,
    /// Role assumed in every account.
    #[arg(
        long,
        global = true,
        default_value = "OrganizationAccountAccessRole",
        help_heading = "AWS connection"
    )]
    pub role_name: String,
    /// External id required by the role's trust policy.
    #[arg(long, global = true, help_heading = "AWS connection")]
    pub external_id: Option<String>,
    /// Attempts per AWS call (retries with backoff on throttling and server errors).
    #[arg(
        long,
        global = true,
        default_value_t = 5,
        help_heading = "AWS connection"
    )]
    pub max_attempts: u32,
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,
    /// Only data and errors: no progress, no notes.
    #[arg(short, long, global = true, help_heading = "Output")]
    pub quiet: bool,
    /// Defaults for any flag (TOML; see `gdorg config show`). Default: ./gdorg.toml when
    /// present.
    #[arg(
        long,
        global = true,
        env = "GDORG_CONFIG",
        value_name = "FILE",
        help_heading = "Config"
    )]
    pub config: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole story on an in-process sandbox organization (no AWS needed).
    Demo(sandbox::DemoArgs),
    /// The local AWS organization that tests and demos run against.
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
    /// List the GuardDuty commercial regions gdorg knows.
    Regions,
    /// Show what `rollout` would change in every account x region, grouped and counted.
    Plan(rollout::TargetArgs),
    /// Turn GuardDuty on in every account and region, from one administrator account.
    Rollout(rollout::RolloutArgs),
    /// Undo a rollout: disassociate, then delete members (detectors are kept by default).
    Offboard(rollout::OffboardArgs),
    /// Findings across the organization: list, export, count, archive, unarchive, feedback.
    #[command(subcommand)]
    Findings(findings::FindingsCommand),
    /// Saved filters: make them GuardDuty filters on the administrator's detector.
    #[command(subcommand)]
    Filters(findings::FiltersCommand),
    /// Generate GuardDuty sample findings in chosen accounts x regions (drills, training).
    SampleFindings(findings::SampleArgs),
    /// Write the consolidated findings report (HTML, Markdown, JSON, CSV or a table).
    Report(findings::ReportArgs),
    /// Check, read-only, that GuardDuty is on and linked in every account x region; list the
    /// gaps with the commands that fix them. Exit 0 full coverage, 3 gaps (see --fail-on).
    Audit(audit::AuditArgs),
    /// Runtime coverage: the EKS clusters, ECS clusters and EC2 instances GuardDuty's agent
    /// covers in every account x region, and the unhealthy ones with GuardDuty's issue. Exit 0
    /// all healthy, 3 unhealthy resources (see --fail-on), 2 a region could not be read.
    Coverage(coverage::CoverageArgs),
    /// What GuardDuty cost over the last 30 days per account, region and feature, the top
    /// accounts, and the free trials still running.
    Usage(usage::UsageArgs),
    /// IAM policy templates gdorg needs: list, show, render, validate, apply.
    #[command(subcommand)]
    Policies(policies::PoliciesCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(meta::CompletionsArgs),
    /// Print the man page, or write one page per command with --output DIR.
    Man(meta::ManArgs),
    /// The config file (gdorg.toml): show the settings in force and where each comes from.
    #[command(subcommand)]
    Config(meta::ConfigCommand),
}

impl GlobalArgs {
    /// The AWS options every command shares: the one place they are made.
    pub fn aws_options(&self) -> crate::aws::AwsOptions {
        crate::aws::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            role_name: self.role_name.clone(),
            external_id: self.external_id.clone(),
            max_attempts: self.max_attempts,
            session_duration: None,
        }
    }
}
