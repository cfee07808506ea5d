//! The command-line edge of `plan` / `rollout` / `offboard`: flags to settings, the AWS
//! session, Ctrl-C, the progress bar (indicatif, hidden when stderr is not a terminal) and the
//! printed tables. The only part of the flow that prints.

use std::io::Write;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::aws::{AwsOptions, ClientFactory, Session};
use crate::cli::{GlobalArgs, TargetArgs};
use crate::execute::{Reporter, Stop};
use crate::run::Outcome;
use crate::settings::Settings;

/// The AWS options every command shares, from the global flags.
pub fn aws_options(g: &GlobalArgs) -> AwsOptions {
    AwsOptions {
        profile: g.profile.clone(),
        region: g.region.clone(),
        endpoint_url: g.endpoint_url.clone(),
        role_name: g.role_name.clone(),
        external_id: g.external_id.clone(),
        max_attempts: g.max_attempts,
        session_duration: None,
    }
}

pub async fn run(
    global: &GlobalArgs,
    args: &TargetArgs,
    command: super::Command,
    delete_detectors: bool,
) -> anyhow::Result<Outcome> {
    // Every flag is checked before the first AWS call.
    let settings = Settings::from_args(args, delete_detectors)?;
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
    let report = super::run(
        session,
        desired,
        source,
        command,
        &run_settings,
        &progress,
        &stop,
    )
    .await?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", super::render::plan(&report))?;
    if report.execution.is_some() {
        write!(out, "{}", super::render::results(&report))?;
    }
    out.flush()?;
    Ok(report.outcome())
}

/// Progress on stderr: one bar per phase, drawn only on a terminal.
pub struct BarReporter {
    bar: Mutex<Option<ProgressBar>>,
    hidden: bool,
}

impl BarReporter {
    pub fn new(quiet: bool) -> BarReporter {
        use std::io::IsTerminal;
        BarReporter {
            bar: Mutex::new(None),
            hidden: quiet || !std::io::stderr().is_terminal(),
        }
    }
}

impl Reporter for BarReporter {
    fn start(&self, phase: &'static str, total: usize) {
        let bar = if self.hidden {
            ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden())
        } else {
            ProgressBar::new(total as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(phase);
        *self.bar.lock().expect("bar poisoned") = Some(bar);
    }

    fn advance(&self, n: usize) {
        if let Some(b) = self.bar.lock().expect("bar poisoned").as_ref() {
            b.inc(n as u64);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().expect("bar poisoned").take() {
            b.finish_and_clear();
        }
    }
}
