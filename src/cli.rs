//! The command line, as clap derives it. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run Amazon GuardDuty across a whole AWS organization from one administrator account.
#[derive(Debug, Parser)]
#[command(name = "gdorg", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach AWS, and how much to say.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Named profile from the shared AWS config (credentials, SSO, region).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Home region: where STS and organization-wide calls go.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (e.g. a `gdorg sandbox`). `AWS_ENDPOINT_URL` and
    /// `AWS_ENDPOINT_URL_<SERVICE>` are honoured too.
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Role assumed in every account.
    #[arg(long, global = true, default_value = "OrganizationAccountAccessRole")]
    pub role_name: String,
    /// External id required by the role's trust policy.
    #[arg(long, global = true)]
    pub external_id: Option<String>,
    /// Attempts per AWS call (retries with backoff on throttling and server errors).
    #[arg(long, global = true, default_value_t = 5)]
    pub max_attempts: u32,
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole story on an in-process sandbox organization (no AWS needed).
    Demo(DemoArgs),
    /// The local AWS organization that tests and demos run against.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// List the GuardDuty commercial regions gdorg knows.
    Regions,
    /// Show what `rollout` would change in every account x region, grouped and counted.
    Plan(TargetArgs),
    /// Turn GuardDuty on in every account and region, from one administrator account.
    Rollout(RolloutArgs),
    /// Undo a rollout: disassociate, then delete members (detectors are kept by default).
    Offboard(OffboardArgs),
    /// Findings across the organization: list, export, count, archive, unarchive, feedback.
    #[command(subcommand)]
    Findings(crate::findings_cli::FindingsCommand),
    /// Saved filters: make them GuardDuty filters on the administrator's detector.
    #[command(subcommand)]
    Filters(crate::findings_cli::FiltersCommand),
    /// Generate GuardDuty sample findings in chosen accounts x regions (drills, training).
    SampleFindings(crate::findings_cli::SampleArgs),
    /// Write the consolidated findings report (HTML, Markdown, JSON, CSV or a table).
    Report(crate::findings_cli::ReportArgs),
    /// Check, read-only, that GuardDuty is on and linked in every account x region; list the
    /// gaps with the commands that fix them. Exit 0 full coverage, 3 gaps (see --fail-on).
    Audit(AuditArgs),
    /// IAM policy templates gdorg needs: list, show, render, validate, apply.
    #[command(subcommand)]
    Policies(PoliciesCommand),
}

/// Which accounts and regions, and the GuardDuty settings they should have.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// invitation (CreateMembers + InviteMembers, accepted in each member) or organizations
    /// (delegated administrator + auto-enable). Default: invitation when accounts are given
    /// by --accounts/--account, organizations otherwise.
    #[arg(long, value_parser = ["invitation", "organizations"])]
    pub mode: Option<String>,
    /// CSV file of member accounts, `account_id,email` per line (header optional). Without it
    /// and --account, the organization's accounts are used (Organizations ListAccounts).
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// A member account as `ID,EMAIL` (repeatable).
    #[arg(long = "account")]
    pub account: Vec<String>,
    /// The GuardDuty administrator (delegated administrator in organizations mode); default
    /// the caller's account.
    #[arg(long)]
    pub admin_account: Option<String>,
    /// `all` (every GuardDuty commercial region) or a comma-separated list.
    #[arg(long, env = "GDORG_REGIONS", default_value = "all")]
    pub regions: String,
    /// Regions to leave out (comma-separated, repeatable).
    #[arg(long)]
    pub exclude_regions: Vec<String>,
    /// Protection plans to enable: S3_DATA_EVENTS, EKS_AUDIT_LOGS, EBS_MALWARE_PROTECTION,
    /// RDS_LOGIN_EVENTS, LAMBDA_NETWORK_LOGS, RUNTIME_MONITORING, EKS_RUNTIME_MONITORING.
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
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
    /// Calls in flight at once across all accounts and regions.
    #[arg(long, default_value_t = crate::settings::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Write a JSON journal of every step and its outcome to this file.
    #[arg(long)]
    pub journal: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only show the plan.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct OffboardArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only show the plan.
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete the member detectors (this destroys their findings).
    #[arg(long)]
    pub delete_detectors: bool,
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// List the templates, where each goes and the variables it uses.
    List,
    /// Print a template as shipped, with its ${variables}.
    Show {
        /// Template name (see `gdorg policies list`).
        name: String,
    },
    /// Fill in a template's variables and print the policy.
    Render {
        /// Template name (see `gdorg policies list`).
        name: String,
        /// A variable value, NAME=VALUE (repeatable); see policies/README.md.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
    },
    /// Check templates or a policy file: JSON, grammar, action names, wildcards, size.
    /// Without an argument, every template. Errors exit 1; warnings are printed only.
    Validate {
        /// A template name or a JSON file (placeholders are rendered with --var or examples).
        target: Option<String>,
        /// A variable value, NAME=VALUE (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
    },
    /// Install the member execution role (trust policy) and the member managed policies in
    /// every chosen account, through the assumed role. Idempotent; exit 2 if an account failed.
    Apply(PoliciesApplyArgs),
}

#[derive(Debug, Args)]
pub struct PoliciesApplyArgs {
    /// Account to apply to (repeatable). None: every active account of the organization
    /// except the caller's.
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// A variable value, NAME=VALUE (repeatable); admin_account_id defaults to the caller's.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read every account and print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Accounts worked on at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Directory of edited templates (same file names as policies/); others stay built in.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// invitation or organizations (default: invitation when accounts are given by
    /// --accounts/--account, organizations otherwise).
    #[arg(long, value_parser = ["invitation", "organizations"])]
    pub mode: Option<String>,
    /// CSV file of member accounts, `account_id,email` per line. Without it and --account,
    /// the organization's accounts (suspended ones are listed as left out).
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// A member account as `ID,EMAIL` (repeatable).
    #[arg(long = "account")]
    pub account: Vec<String>,
    /// The GuardDuty administrator; default the caller's account.
    #[arg(long)]
    pub admin_account: Option<String>,
    /// `all` or a comma-separated list.
    #[arg(long, env = "GDORG_REGIONS", default_value = "all")]
    pub regions: String,
    /// Regions to leave out (comma-separated, repeatable).
    #[arg(long)]
    pub exclude_regions: Vec<String>,
    /// Calls in flight at once.
    #[arg(long, default_value_t = crate::settings::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// table (terminal matrix), json (schema-versioned, the --baseline format), csv,
    /// markdown or html.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// A previous audit's JSON: report what was covered and no longer is, and what is new.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Exit 3 on: gaps (any gap), drift (a regression against --baseline) or never.
    #[arg(long, default_value = "gaps", value_parser = ["gaps", "drift", "never"])]
    pub fail_on: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Member accounts of the demo organization.
    #[arg(long, default_value_t = 6)]
    pub accounts: usize,
    /// Where the demo writes its HTML findings report.
    #[arg(long, default_value = "gdorg-demo-report.html")]
    pub report: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve a sandbox organization on 127.0.0.1 and print the environment to reach it.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// Org file (TOML) describing accounts, state and faults; see examples/org.toml.
    #[arg(long)]
    pub org: Option<PathBuf>,
    /// Generated member accounts (added to those of the org file).
    #[arg(long)]
    pub accounts: Option<usize>,
}
