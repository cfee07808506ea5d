//! `gdorg usage`: flags checked before any call, the administrator found, every region read,
//! the output to stdout or written atomically to `--output`, failed regions named on stderr,
//! and the exit outcome (2 when a region could not be read).

use super::Ctx;
use crate::cli::usage::UsageArgs;
use crate::outcome::Outcome;
use crate::usage::render::{self, Format};
use crate::usage::Options;

pub async fn run(ctx: &Ctx, args: &UsageArgs) -> anyhow::Result<Outcome> {
    let regions = args.regions.resolve()?;
    let limits = args.run.limits()?;
    let admin_account = args.admin.checked()?;
    if args.top == 0 {
        anyhow::bail!("--top must be at least 1");
    }
    let opts = Options {
        regions,
        top: args.top,
        concurrency: limits.concurrency,
    };
    let admin = ctx.administrator(admin_account).await?;
    let progress = ctx.printer.progress();
    let usage = crate::usage::read(&admin, &opts, &progress, &ctx.stop).await;
    let file = args.output.file();
    match args.format {
        Format::Table => ctx.printer.write(file, &render::table(&usage))?,
        Format::Json => ctx.printer.write(file, &render::json(&usage))?,
        Format::Markdown => ctx.printer.write(file, &render::markdown(&usage))?,
        Format::Csv => super::write_csv(ctx, file, render::csv_rows(&usage))?,
    }
    for (region, error) in usage.failed() {
        ctx.printer.warn(&format!(
            "usage in {region} (administrator {}): {error}",
            admin.account
        ));
    }
    Ok(usage.outcome())
}
