//! `policies list|show|render|validate|apply`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::ConcurrencyArg;

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
    /// The guard SCP (guardduty-guard-scp) in Organizations.
    #[command(subcommand)]
    Scp(ScpCommand),
}

#[derive(Debug, Subcommand)]
pub enum ScpCommand {
    /// Enable SCPs on the root, create or update the guard SCP (found by name) and attach it
    /// to the targets, as the caller (the management account). It denies every principal of
    /// the member accounts, except the execution role and the GuardDuty administrator
    /// account, what would stop GuardDuty or hide findings. Idempotent: a second run changes
    /// nothing.
    Apply(ScpApplyArgs),
}

#[derive(Debug, Args)]
pub struct ScpApplyArgs {
    /// Where to attach it (repeatable): a root (r-...), an OU (ou-...) or an account id.
    /// Default: the root, so every account but the management account (SCPs never apply to
    /// it).
    #[arg(long = "target", value_name = "ID")]
    pub targets: Vec<String>,
    /// A variable value, NAME=VALUE (repeatable): member_role_name, admin_account_id
    /// (default: the organization's delegated GuardDuty administrator, else the caller's
    /// account), partition.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// The policy's name in Organizations (how a later run finds it).
    #[arg(long, default_value = "gdorg-guardduty-guard")]
    pub name: String,
    /// Read the organization and print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Directory of edited templates (guardduty-guard-scp.json there replaces the built-in).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
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
    /// Directory of edited templates (same file names as policies/); others stay built in.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    #[command(flatten)]
    pub run: ConcurrencyArg,
}
