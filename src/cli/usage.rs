//! `usage`: where to read, how many top accounts, how to print.

use clap::Args;

use super::{AdminArg, ConcurrencyArg, OutputArg, RegionArgs};
use crate::usage::render::Format;

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// How many of the most expensive accounts to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    pub admin: AdminArg,
    #[command(flatten)]
    pub regions: RegionArgs,
    #[command(flatten)]
    pub run: ConcurrencyArg,
    #[arg(long, value_enum, default_value = "table", help_heading = "Output")]
    pub format: Format,
    #[command(flatten)]
    pub output: OutputArg,
}
