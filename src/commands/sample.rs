//! `gdorg sample-findings`: sample findings in chosen accounts x regions.

use super::Ctx;
use crate::cli::findings::SampleArgs;
use crate::outcome::Outcome;

pub async fn run(ctx: &Ctx, a: &SampleArgs) -> anyhow::Result<Outcome> {
    let regions = a.regions.resolve()?;
    for id in &a.accounts {
        crate::settings::check_account_id(id)?;
    }
    let limits = a.run.limits()?;
    let session = ctx.session().await?;
    let accounts = if a.accounts.is_empty() {
        vec![session.caller.clone()]
    } else {
        a.accounts.clone()
    };
    let progress = ctx.printer.progress();
    let run = crate::findings::sample::create(
        &session,
        &accounts,
        &regions,
        &a.types,
        limits.concurrency,
        &progress,
        &ctx.stop,
    )
    .await;
    let mut text = String::new();
    for r in &run.results {
        text.push_str(&format!(
            "{}\t{}\t{}\n",
            r.account,
            r.region,
            r.result.label()
        ));
    }
    ctx.printer.data(&text)?;
    if run.not_started > 0 {
        ctx.printer.note(&format!(
            "interrupted: {} account x region cell(s) not started",
            run.not_started
        ));
        return Ok(Outcome::Partial);
    }
    Ok(Outcome::partial_if(
        run.results.iter().any(|r| r.result.failed()),
    ))
}
