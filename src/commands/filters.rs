//! `gdorg filters sync FILE`: saved filters made GuardDuty filters on the administrator's
//! detector in every region, idempotently.

use super::Ctx;
use crate::cli::findings::{FiltersCommand, SyncArgs};
use crate::findings::saved::SavedFilters;
use crate::findings::sync;
use crate::outcome::Outcome;

pub async fn run(ctx: &Ctx, cmd: &FiltersCommand) -> anyhow::Result<Outcome> {
    let FiltersCommand::Sync(a) = cmd;
    sync_cmd(ctx, a).await
}

async fn sync_cmd(ctx: &Ctx, a: &SyncArgs) -> anyhow::Result<Outcome> {
    let saved = SavedFilters::load(&a.file)?;
    let wanted = sync::desired(&saved, chrono::Utc::now())?;
    let regions = a.regions.resolve()?;
    let limits = a.run.limits()?;
    let admin_account = a.admin.checked()?;
    let adm = ctx.administrator(admin_account).await?;
    let progress = ctx.printer.progress();
    let run = sync::sync(
        &adm.config,
        &regions,
        &wanted,
        a.dry_run,
        limits.concurrency,
        &progress,
        &ctx.stop,
    )
    .await;
    let mut text = String::new();
    for i in &run.items {
        text.push_str(&format!("{}\t{}\t{:?}\n", i.region, i.name, i.change));
    }
    ctx.printer.data(&text)?;
    let changed = run
        .items
        .iter()
        .filter(|i| i.change != sync::Change::Unchanged)
        .count();
    ctx.printer.note(&format!(
        "{} filter(s) x {} region(s) of administrator {}: {changed} to create or update{}",
        wanted.len(),
        regions.len(),
        adm.account,
        if a.dry_run {
            " (dry run: nothing sent)"
        } else {
            ""
        }
    ));
    if !run.without_detector.is_empty() {
        ctx.printer.note(&format!(
            "no detector of the administrator (nothing synced) in: {}",
            run.without_detector.join(",")
        ));
    }
    if !run.region_not_enabled.is_empty() {
        ctx.printer.note(&format!(
            "region(s) not enabled for the administrator: {}",
            run.region_not_enabled.join(",")
        ));
    }
    for e in &run.errors {
        ctx.printer.warn(&format!("not synced: {e}"));
    }
    if run.not_started > 0 {
        ctx.printer.note(&format!(
            "interrupted: {} region(s) not started; run the command again to finish",
            run.not_started
        ));
        return Ok(Outcome::Partial);
    }
    Ok(Outcome::partial_if(!run.errors.is_empty()))
}
