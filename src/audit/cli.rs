//! The command-line edge of `gdorg audit`: flags checked before any call (baseline read
//! first), the session, Ctrl-C, the rendered output to stdout or written atomically to
//! `--output`, and the exit outcome.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;

use super::render::{render, Format};
use super::FailOn;
use crate::aws::{ClientFactory, Session};
use crate::cli::{AuditArgs, GlobalArgs, TargetArgs};
use crate::execute::Stop;
use crate::rollout::cli::{aws_options, BarReporter};
use crate::run::Outcome;
use crate::settings::Settings;

/// The target flags `Settings` validates, from the audit's own.
fn target(args: &AuditArgs) -> TargetArgs {
    TargetArgs {
        mode: args.mode.clone(),
        accounts: args.accounts.clone(),
        account: args.account.clone(),
        admin_account: args.admin_account.clone(),
        regions: args.regions.clone(),
        exclude_regions: args.exclude_regions.clone(),
        features: vec![],
        frequency: None,
        auto_enable_all: false,
        take_over: false,
        email_notification: false,
        concurrency: args.concurrency,
        journal: None,
    }
}

pub async fn run(global: &GlobalArgs, args: &AuditArgs) -> anyhow::Result<Outcome> {
    // Every flag and the baseline are checked before the first AWS call.
    let format: Format = args.format.parse()?;
    let fail_on: FailOn = args.fail_on.parse()?;
    let baseline = args
        .baseline
        .as_deref()
        .map(super::drift::load)
        .transpose()?;
    if fail_on == FailOn::Drift && baseline.is_none() {
        anyhow::bail!("--fail-on drift needs --baseline FILE");
    }
    let settings = Settings::from_args(&target(args), false)?;
    let factory = ClientFactory::load(aws_options(global)).await;
    let session = Arc::new(Session::new(factory).await?);
    let (desired, source, run_settings) = settings.resolve(&session.caller)?;
    let stop = Stop::default();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.trigger();
        }
    });
    let progress = BarReporter::new(global.quiet);
    let (mut audit, interrupted) = super::run(
        session,
        desired,
        &source,
        run_settings.concurrency,
        &progress,
        &stop,
    )
    .await?;
    if let Some(b) = &baseline {
        audit.drift = Some(super::drift::compare(b, &audit));
    }
    let text = render(&audit, format);
    match &args.output {
        Some(path) => crate::fsutil::write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(audit.outcome(fail_on, interrupted))
}
