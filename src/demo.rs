//! `gdorg demo`: start a sandbox organization in-process and show what it serves, through the
//! same client code that talks to AWS.

use std::io::Write;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

use crate::aws::{AwsOptions, ClientFactory};
use crate::cli::DemoArgs;
use crate::run::Outcome;
use crate::sandbox::org_file::OrgSpec;
use crate::sandbox::Sandbox;

pub async fn run(args: &DemoArgs) -> anyhow::Result<Outcome> {
    let spec = OrgSpec::generated(args.accounts);
    let sandbox = Sandbox::start(&spec, 0).await?;
    let management = sandbox.management_account();
    let keys = sandbox.keys_of(&management).expect("management keys");
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::from_static(crate::aws::factory::DEFAULT_REGION))
        .endpoint_url(sandbox.endpoint())
        .credentials_provider(Credentials::new(
            keys.access_key_id,
            keys.secret_access_key,
            None,
            None,
            "gdorg-demo",
        ))
        .load()
        .await;
    let factory = ClientFactory::from_config(
        base,
        AwsOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            max_attempts: 3,
            ..Default::default()
        },
    );
    let base_again = factory.base().clone();
    let who = ClientFactory::sts(factory.base())
        .get_caller_identity()
        .send()
        .await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "sandbox at {}; caller {}",
        sandbox.endpoint(),
        who.arn().unwrap_or_default()
    )?;
    drop(out);
    show_audit(factory.base(), "before the rollout").await?;
    show_rollout(factory).await?;
    show_audit(&base_again, "after the rollout").await?;
    sandbox.shutdown().await;
    Ok(Outcome::Success)
}

/// Plan, then roll out GuardDuty (invitation mode, default regions) across the demo org and
/// print what changed; a second plan shows the organization converged.
async fn show_rollout(factory: ClientFactory) -> anyhow::Result<()> {
    use crate::execute::{Silent, Stop};
    use crate::rollout::{render, Command};
    use crate::settings::{AccountSource, Desired, Mode, RunSettings};

    let session = std::sync::Arc::new(crate::aws::Session::new(factory).await?);
    let regions = crate::regions::default_enabled()
        .map(String::from)
        .collect();
    let mut desired = Desired::new(Mode::Invitation, &session.caller, regions);
    desired.features = [crate::settings::Feature::S3DataEvents].into();
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
        let mut out = std::io::stdout().lock();
        write!(out, "\n{}", render::plan(&report))?;
        write!(out, "{}", render::results(&report))?;
    }
    Ok(())
}

/// `gdorg audit` of the demo org (default regions), as a terminal matrix.
async fn show_audit(base: &aws_config::SdkConfig, when: &str) -> anyhow::Result<()> {
    use crate::execute::{Silent, Stop};
    use crate::settings::{AccountSource, Desired, Mode, DEFAULT_CONCURRENCY};

    let factory = ClientFactory::from_config(
        base.clone(),
        AwsOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            max_attempts: 3,
            ..Default::default()
        },
    );
    let session = std::sync::Arc::new(crate::aws::Session::new(factory).await?);
    let regions = crate::regions::default_enabled()
        .map(String::from)
        .collect();
    let desired = Desired::new(Mode::Invitation, &session.caller, regions);
    let (audit, _) = crate::audit::run(
        session,
        desired,
        &AccountSource::Organizations,
        DEFAULT_CONCURRENCY,
        &Silent,
        &Stop::default(),
    )
    .await?;
    let mut out = std::io::stdout().lock();
    write!(
        out,
        "\n== gdorg audit, {when} ==\n{}",
        crate::audit::render::table(&audit)
    )?;
    Ok(())
}
