//! `gdorg audit`: flags checked before any call (the baseline read first), the audit, the
//! rendered output to stdout or written atomically to `--output`, and the exit outcome.

use super::{edge, Ctx};
use crate::audit::plans_render::View;
use crate::audit::render::{render_with_plans, write_json, Format};
use crate::audit::FailOn;
use crate::cli::audit::AuditArgs;
use crate::outcome::Outcome;

pub async fn run(ctx: &Ctx, args: &AuditArgs) -> anyhow::Result<Outcome> {
    let (format, fail_on) = (args.format, args.fail_on);
    let baseline = args
        .baseline
        .as_deref()
        .map(crate::audit::drift::load)
        .transpose()?;
    if fail_on == FailOn::Drift && baseline.is_none() {
        anyhow::bail!("--fail-on drift needs --baseline FILE");
    }
    let settings = args.settings()?;
    let plans = args
        .plans
        .as_deref()
        .map(|v| View::parse(v, &settings.desired.regions))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let session = ctx.session().await?;
    let detected = super::rollout::detect_mode(&session, &settings).await;
    let (desired, source, run_settings) = settings.resolve(&session.caller, detected)?;
    let progress = ctx.printer.progress();
    let (mut audit, interrupted) = crate::audit::run(
        session,
        desired,
        &source,
        run_settings.concurrency,
        &progress,
        &ctx.stop,
    )
    .await
    .map_err(|e| edge(e, "audit"))?;
    if let Some(b) = &baseline {
        audit.drift = Some(crate::audit::drift::compare(b, &audit));
    }
    if format == Format::Json {
        let mut sink = ctx.printer.sink(args.output.file())?;
        write_json(&audit, &mut sink)?;
        sink.finish()?;
    } else {
        ctx.printer.write(
            args.output.file(),
            &render_with_plans(&audit, format, plans.as_ref()),
        )?;
    }
    if interrupted {
        ctx.printer.note(
            "interrupted: the cells not read are marked `not read (stopped)`; nothing was changed",
        );
    }
    Ok(audit.outcome(fail_on, interrupted))
}
