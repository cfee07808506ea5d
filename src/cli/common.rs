//! Flags several commands share, each defined once so that every command reads them the same
//! way: regions, concurrency, the output file and the member accounts.

use std::path::PathBuf;

use clap::Args;

use crate::settings::{self, Limits, SettingsError};

/// Which regions: the same syntax and default in every command.
#[derive(Debug, Args, Clone)]
pub struct RegionArgs {
    /// `all` (every GuardDuty commercial region, see `gdorg regions`) or a comma-separated
    /// list. Regions an account has not enabled are reported as such, not as failures.
    #[arg(
        long,
        env = "GDORG_REGIONS",
        default_value = "all",
        value_name = "REGIONS",
        help_heading = "Scope"
    )]
    pub regions: String,
    /// Regions to leave out (comma-separated, repeatable).
    #[arg(long, value_name = "REGIONS", help_heading = "Scope")]
    pub exclude_regions: Vec<String>,
}

impl Default for RegionArgs {
    fn default() -> RegionArgs {
        RegionArgs {
            regions: "all".into(),
            exclude_regions: vec![],
        }
    }
}

impl RegionArgs {
    /// The validated, sorted regions.
    pub fn resolve(&self) -> Result<Vec<String>, SettingsError> {
        settings::resolve_regions(&self.regions, &self.exclude_regions)
    }

    /// Explicit regions (tests and the demo).
    pub fn list(regions: &[String]) -> RegionArgs {
        RegionArgs {
            regions: regions.join(","),
            exclude_regions: vec![],
        }
    }
}

/// How much runs at once: one name, one default, one check in every command.
#[derive(Debug, Args, Clone, Copy)]
pub struct ConcurrencyArg {
    /// AWS calls in flight at once, across every account and region (1 to 1024).
    #[arg(
        long,
        default_value_t = settings::DEFAULT_CONCURRENCY,
        value_name = "N",
        help_heading = "Run"
    )]
    pub concurrency: usize,
}

impl Default for ConcurrencyArg {
    fn default() -> ConcurrencyArg {
        ConcurrencyArg {
            concurrency: settings::DEFAULT_CONCURRENCY,
        }
    }
}

impl ConcurrencyArg {
    pub fn limits(self) -> Result<Limits, SettingsError> {
        Limits::new(self.concurrency)
    }
}

/// Where a command's data goes.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArg {
    /// Write to this file (atomically: complete or not at all) instead of stdout; `-` is
    /// stdout.
    #[arg(long, short, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
}

impl OutputArg {
    /// The file to write, or None for stdout.
    pub fn file(&self) -> Option<&std::path::Path> {
        self.output.as_deref().filter(|p| p.as_os_str() != "-")
    }
}

/// Which member accounts, and which administrator: `plan`, `rollout`, `offboard`, `audit`.
#[derive(Debug, Args, Clone, Default)]
pub struct AccountArgs {
    /// CSV file of member accounts, `account_id,email` per line (header optional). Without it
    /// and --account, the organization's accounts are used (Organizations ListAccounts).
    #[arg(long, value_name = "FILE", help_heading = "Scope")]
    pub accounts: Option<PathBuf>,
    /// A member account as `ID,EMAIL` (repeatable).
    #[arg(long = "account", value_name = "ID,EMAIL", help_heading = "Scope")]
    pub account: Vec<String>,
    /// The GuardDuty administrator (delegated administrator in organizations mode); default
    /// the caller's account.
    #[arg(long, value_name = "ID", help_heading = "Scope")]
    pub admin_account: Option<String>,
    /// invitation (CreateMembers + InviteMembers, accepted in each member) or organizations
    /// (delegated administrator + auto-enable). Default: read from the organization (a
    /// delegated administrator means organizations); for one not yet set up, invitation
    /// when accounts are listed with --accounts/--account, organizations otherwise.
    #[arg(long, value_parser = ["invitation", "organizations"], help_heading = "Scope")]
    pub mode: Option<String>,
}

impl AccountArgs {
    /// The flags as settings read them.
    pub fn input(&self) -> settings::AccountInput<'_> {
        settings::AccountInput {
            accounts_file: self.accounts.as_deref(),
            account_lines: &self.account,
            admin_account: self.admin_account.as_deref(),
            mode: self.mode.as_deref(),
        }
    }
}

/// `--admin-account`: the administrator whose detectors a command reads or acts through.
#[derive(Debug, Args, Clone, Default)]
pub struct AdminArg {
    /// The GuardDuty administrator account (default: the organization's delegated
    /// administrator when the caller is the management account, else the caller).
    #[arg(long, value_name = "ID", help_heading = "Scope")]
    pub admin_account: Option<String>,
}

impl AdminArg {
    /// The account id given, checked before any call.
    pub fn checked(&self) -> Result<Option<&str>, settings::SettingsError> {
        if let Some(a) = &self.admin_account {
            settings::check_account_id(a)?;
        }
        Ok(self.admin_account.as_deref())
    }
}
