//! `gdorg coverage`: flags checked before any call, the administrator found, every region read,
//! the output to stdout or written atomically to `--output`, failed regions named on stderr,
//! and the exit outcome (3 on unhealthy resources, 2 when a region could not be read).

use super::Ctx;
use crate::cli::coverage::CoverageArgs;
use crate::coverage::render::{self, Format};
use crate::coverage::Options;
use crate::outcome::Outcome;

pub async fn run(ctx: &Ctx, args: &CoverageArgs) -> anyhow::Result<Outcome> {
    let regions = args.regions.resolve()?;
    let limits = args.run.limits()?;
    let admin_account = args.admin.checked()?;
    let opts = Options {
        regions,
        kind: args.resource_type,
        health: args.status,
        concurrency: limits.concurrency,
    };
    let admin = ctx.administrator(admin_account).await?;
    let progress = ctx.printer.progress();
    let coverage = crate::coverage::read(&admin, &opts, &progress, &ctx.stop).await;
    match args.format {
        Format::Table => ctx
            .printer
            .write(args.output.file(), &render::table(&coverage))?,
        Format::Json => ctx
            .printer
            .write(args.output.file(), &render::json(&coverage))?,
        Format::Csv => super::write_csv(ctx, args.output.file(), render::csv_rows(&coverage))?,
    }
    for (region, error) in coverage.failed() {
        ctx.printer.warn(&format!(
            "coverage in {region} (administrator {}): {error}",
            admin.account
        ));
    }
    if coverage.not_read() > 0 {
        ctx.printer.note(&format!(
            "interrupted: {} region(s) not read",
            coverage.not_read()
        ));
    }
    Ok(coverage.outcome(args.fail_on))
}
