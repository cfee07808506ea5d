//! `gdorg plan`, `gdorg rollout` and `gdorg offboard`: flags to settings, the mode read from
//! the organization unless given, the run, and the plan and result tables.

use super::{edge, Ctx};
use crate::aws::organization::{self, Setup};
use crate::aws::Session;
use crate::cli::rollout::TargetArgs;
use crate::outcome::Outcome;
use crate::settings::{Mode, ModeChoice, Settings};

pub async fn run(
    ctx: &Ctx,
    args: &TargetArgs,
    command: crate::rollout::Command,
    delete_detectors: bool,
) -> anyhow::Result<Outcome> {
    // Every flag is checked before the first AWS call.
    let settings = args.settings(delete_detectors)?;
    let session = ctx.session().await?;
    let detected = detect_mode(&session, &settings).await;
    let (desired, source, run_settings) = settings.resolve(&session.caller, detected)?;
    let progress = ctx.printer.progress();
    let report = crate::rollout::run(
        session,
        desired,
        source,
        command,
        &run_settings,
        &progress,
        &ctx.stop,
    )
    .await
    .map_err(|e| match e {
        crate::rollout::RolloutError::Aws(e) => edge(e, command.name()),
        other => other.into(),
    })?;
    let mut text = crate::rollout::render::plan(&report);
    if report.execution.is_some() {
        text.push_str(&crate::rollout::render::results(&report));
    }
    ctx.printer.data(&text)?;
    Ok(report.outcome())
}

/// The mode GuardDuty is set up in, when the user did not choose one.
pub async fn detect_mode(session: &Session, settings: &Settings) -> Option<Mode> {
    if !matches!(settings.mode, ModeChoice::Detect { .. }) {
        return None;
    }
    let admin = match settings.desired.administrator.as_str() {
        "" => session.caller.as_str(),
        a => a,
    };
    organization::detect_setup(session, admin, &settings.desired.regions)
        .await
        .map(|s| match s {
            Setup::DelegatedAdministrator => Mode::Organizations,
            Setup::InvitedMembers => Mode::Invitation,
        })
}
