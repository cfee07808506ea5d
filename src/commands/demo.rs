//! `gdorg demo`: the whole story on an in-process sandbox organization, through the same client
//! code that talks to AWS: the untidy organization as found, the plan, the rollout, the
//! converged plan, then sample findings and the consolidated HTML report.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

use super::Ctx;
use crate::aws::{AwsOptions, ClientFactory, Session};
use crate::cli::sandbox::DemoArgs;
use crate::control::{Silent, Stop};
use crate::findings::sample::SampleOutcome;
use crate::findings::source::ReadOptions;
use crate::outcome::Outcome;
use crate::sandbox::org_file::OrgSpec;
use crate::sandbox::Sandbox;

/// The organization the demo serves (kept in `examples/` so users can serve it themselves).
const DEMO_ORG: &str = include_str!("../../examples/demo-org.toml");

/// Regions the demo's findings are generated in.
const FINDINGS_REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

/// The protection plans the demo rolls out and audits.
const DEMO_PLANS: [crate::settings::Feature; 5] = [
    crate::settings::Feature::S3DataEvents,
    crate::settings::Feature::EksAuditLogs,
    crate::settings::Feature::EbsMalwareProtection,
    crate::settings::Feature::RdsLoginEvents,
    crate::settings::Feature::RuntimeMonitoring,
];

pub async fn run(ctx: &Ctx, args: &DemoArgs) -> anyhow::Result<Outcome> {
    let mut spec =
        OrgSpec::parse(DEMO_ORG).map_err(|e| anyhow::anyhow!("examples/demo-org.toml: {e}"))?;
    spec.member_accounts = args.accounts;
    let sandbox = Sandbox::start(&spec, 0).await?;
    let management = sandbox.management_account();
    let session = Arc::new(sandbox_session(&sandbox).await?);

    let accounts = sandbox.world(|w| w.accounts.len());
    say(ctx, format_args!(
        "gdorg demo: a sandbox organization of {accounts} accounts at {} (caller {})\n\
         It starts untidy: GuardDuty on by hand in a few places, one detector suspended, an account\n\
         without the execution role, a suspended account, another team's administrator in eu-west-1,\n\
         an invitation never accepted, and a region one account has turned off. gdorg audits it, rolls\n\
         out GuardDuty with five protection plans (one not offered in one region), audits again with\n\
         the plans view, then shows runtime coverage, cost and free trials, and writes a report.",
        sandbox.endpoint(),
        session.caller
    ))?;

    show_audit(ctx, session.clone(), "before the rollout").await?;
    show_rollout(ctx, session.clone()).await?;
    show_audit(ctx, session.clone(), "after the rollout").await?;
    show_runtime_and_cost(ctx, &session).await?;

    // Findings: samples in the administrator and three members, in two regions, then the
    // consolidated HTML report, read through the administrator.
    let mut findings_accounts = vec![management.clone()];
    findings_accounts.extend((1..=3.min(args.accounts)).map(OrgSpec::generated_id));
    let regions: Vec<String> = FINDINGS_REGIONS.iter().map(|r| r.to_string()).collect();
    let report = demo_findings(session.clone(), &findings_accounts, &regions, &args.report).await?;
    say(ctx, format_args!(
        "\nsample findings in {} accounts x {} regions: {} current ({} critical); the administrator's report is in {}",
        findings_accounts.len(),
        regions.len(),
        report.totals.current_total,
        report.totals.current[3],
        args.report.display()
    ))?;
    sandbox.shutdown().await;
    Ok(Outcome::Success)
}

/// A client session of the sandbox's management account, as a user gets one from
/// `eval "$(gdorg sandbox serve)"`: its keys, the endpoint, the default execution role.
/// Benchmarks use it too: it is client code pointed at a sandbox, not part of the sandbox.
pub async fn sandbox_session(sandbox: &Sandbox) -> Result<Session, crate::aws::AwsError> {
    let management = sandbox.management_account();
    let keys = sandbox
        .keys_of(&management)
        .expect("the management account has keys");
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::from_static(crate::aws::factory::DEFAULT_REGION))
        .endpoint_url(sandbox.endpoint())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .credentials_provider(Credentials::new(
            keys.access_key_id,
            keys.secret_access_key,
            None,
            None,
            "gdorg-sandbox",
        ))
        .load()
        .await;
    let options = AwsOptions {
        role_name: crate::sandbox::state::DEFAULT_EXECUTION_ROLE.into(),
        max_attempts: MAX_ATTEMPTS,
        ..Default::default()
    };
    Session::new(ClientFactory::from_config(base, options)).await
}

/// Attempts per call against the sandbox (its faults are off unless an org file sets them).
const MAX_ATTEMPTS: u32 = 3;

fn say(ctx: &Ctx, text: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    ctx.printer.data(&format!("{text}\n"))
}

/// The findings part of the demo: sample findings in some accounts x regions, then the HTML
/// report through the administrator, written to `output`. Cells without a detector get one
/// first, so the step stands on its own whatever the demo did before.
async fn demo_findings(
    session: Arc<Session>,
    accounts: &[String],
    regions: &[String],
    output: &Path,
) -> anyhow::Result<crate::report::Report> {
    for account in accounts {
        for region in regions {
            let gd = session.guardduty(account, region).await?;
            if crate::aws::admin::detector(&gd).await?.is_none() {
                gd.create_detector()
                    .enable(true)
                    .send()
                    .await
                    .map_err(crate::aws::AwsError::from_sdk("CreateDetector"))?;
            }
        }
    }
    let stop = Stop::default();
    let made =
        crate::findings::sample::create(&session, accounts, regions, &[], 8, &Silent, &stop).await;
    if let Some(bad) = made
        .results
        .iter()
        .find(|r| r.result != SampleOutcome::Created)
    {
        bail!(
            "sample findings in {} {}: {}",
            bad.account,
            bad.region,
            bad.result.label()
        );
    }
    let read = ReadOptions::through_administrator(regions);
    let built = crate::report::build::build(session, &read, 50, &Silent, &stop).await?;
    crate::fsutil::write_atomic(
        output,
        crate::report::html::render(&built.report).as_bytes(),
    )
    .map_err(|e| anyhow::anyhow!("writing {}: {e}", output.display()))?;
    Ok(built.report)
}

/// Plan, then roll out GuardDuty (invitation mode, default regions) across the demo org and
/// print what changed and what needs a person; a second plan shows what is left.
async fn show_rollout(ctx: &Ctx, session: Arc<Session>) -> anyhow::Result<()> {
    use crate::rollout::{render, Command};
    use crate::settings::{AccountSource, Desired, Mode, RunSettings};

    let regions = crate::regions::default_enabled()
        .map(String::from)
        .collect();
    let mut desired = Desired::new(Mode::Invitation, &session.caller, regions);
    desired.features = DEMO_PLANS.into();
    desired.runtime_agents = true;
    let settings = RunSettings::default();
    for command in [
        Command::Plan,
        Command::Rollout { dry_run: false },
        Command::Plan,
    ] {
        let report = crate::rollout::run(
            session.clone(),
            desired.clone(),
            AccountSource::Organizations,
            command,
            &settings,
            &Silent,
            &Stop::default(),
        )
        .await?;
        ctx.printer.data(&format!(
            "\n{}{}",
            render::plan(&report),
            render::results(&report)
        ))?;
    }
    Ok(())
}

/// `gdorg coverage` (the runtime agents Runtime Monitoring now covers, unhealthy ones with
/// GuardDuty's issue) and `gdorg usage` (what it costs, who is still in a free trial), read
/// through the administrator in the default regions.
async fn show_runtime_and_cost(ctx: &Ctx, session: &Session) -> anyhow::Result<()> {
    let admin = crate::aws::admin::administrator(session, None).await?;
    let regions: Vec<String> = crate::regions::default_enabled()
        .map(String::from)
        .collect();
    let stop = Stop::default();
    let coverage = crate::coverage::read(
        &admin,
        &crate::coverage::Options {
            regions: regions.clone(),
            kind: None,
            health: None,
            concurrency: 8,
        },
        &Silent,
        &stop,
    )
    .await;
    let usage = crate::usage::read(
        &admin,
        &crate::usage::Options {
            regions,
            top: 5,
            concurrency: 8,
        },
        &Silent,
        &stop,
    )
    .await;
    ctx.printer.data(&format!(
        "\n== gdorg coverage ==\n{}\n== gdorg usage --top 5 ==\n{}",
        crate::coverage::render::table(&coverage),
        crate::usage::render::table(&usage)
    ))?;
    Ok(())
}

/// `gdorg audit` of the demo org (default regions), as a terminal matrix.
async fn show_audit(ctx: &Ctx, session: Arc<Session>, when: &str) -> anyhow::Result<()> {
    use crate::settings::{AccountSource, Desired, Mode, DEFAULT_CONCURRENCY};

    let regions = crate::regions::default_enabled()
        .map(String::from)
        .collect();
    let mut desired = Desired::new(Mode::Invitation, &session.caller, regions);
    desired.features = DEMO_PLANS.into();
    desired.runtime_agents = true;
    let (audit, _) = crate::audit::run(
        session,
        desired,
        &AccountSource::Organizations,
        DEFAULT_CONCURRENCY,
        &Silent,
        &Stop::default(),
    )
    .await?;
    ctx.printer.data(&format!(
        "\n== gdorg audit --features {} --runtime-agents --plans, {when} ==\n{}{}",
        DEMO_PLANS.map(|f| f.as_str()).join(","),
        crate::audit::render::table(&audit),
        crate::audit::plans_render::table(&audit, &crate::audit::plans_render::View::Organization)
    ))?;
    Ok(())
}
