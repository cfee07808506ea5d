//! `usage`: where to read, how many top accounts, how to print.

use clap::Args;

use super::{ConcurrencyArg, OutputArg, RegionArgs};
use crate::usage::render::Format;

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// How many of the most expensive accounts to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// The GuardDuty administrator account (default: the organization's delegated
    /// administrator when the caller is the management account, else the caller).
    #[arg(long, value_name = "ID", help_heading = "Scope")]
    pub admin_account: Option<String>,
    #[command(flatten)]
    pub regions: RegionArgs,
    #[command(flatten)]
    pub run: ConcurrencyArg,
    #[arg(long, value_enum, default_value = "table", help_heading = "Output")]
    pub format: Format,
    #[command(flatten)]
    pub output: OutputArg,
}
