//! `coverage`: which resources, where, how to print them, and when to fail.

use clap::Args;

use super::{AdminArg, ConcurrencyArg, OutputArg, RegionArgs};
use crate::coverage::render::Format;
use crate::coverage::{FailOn, Health, ResourceKind};

#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Only this resource type: eks (clusters), ecs (clusters) or ec2 (instances).
    #[arg(long, value_enum)]
    pub resource_type: Option<ResourceKind>,
    /// Only resources whose agent is healthy or unhealthy.
    #[arg(long, value_enum)]
    pub status: Option<Health>,
    /// Exit 3 on: unhealthy (any unhealthy resource shown) or never.
    #[arg(long, value_enum, default_value = "unhealthy")]
    pub fail_on: FailOn,
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
