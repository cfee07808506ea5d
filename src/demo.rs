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

    // Findings: samples in the management account and two members, in two regions, then
    // the consolidated HTML report through the administrator.
    let mut accounts = vec![management.clone()];
    accounts.extend(
        sandbox
            .world(|w| w.accounts.keys().cloned().collect::<Vec<_>>())
            .into_iter()
            .filter(|a| *a != management)
            .take(2),
    );
    let regions = vec!["eu-west-1".to_string(), "us-east-1".to_string()];
    let rep =
        crate::findings_cli::demo_findings(&factory, &accounts, &regions, &args.report).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "sample findings in {} account(s) x {} region(s): {} current ({} critical), report written to {}",
        accounts.len(),
        regions.len(),
        rep.totals.current_total,
        rep.totals.current[3],
        args.report.display()
    )?;
    drop(out);
    sandbox.shutdown().await;
    Ok(Outcome::Success)
}
