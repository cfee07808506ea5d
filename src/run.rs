//! `run()`: dispatch a parsed command line to its command. Errors come back typed; `main`
//! turns them into a message and an exit code.

use std::io::Write;

use anyhow::Context;

use crate::cli::{Cli, Command, SandboxCommand, ServeArgs};
use crate::sandbox::org_file::OrgSpec;
use crate::sandbox::Sandbox;

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything done (exit 0).
    Success,
    /// Some accounts or regions failed, the rest done (exit 2).
    Partial,
    /// A check found what it looks for (gaps, drift) (exit 3).
    Findings,
    /// Nothing that was attempted worked (exit 1).
    Failed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Partial => 2,
            Outcome::Findings => 3,
            Outcome::Failed => 1,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Demo(args) => crate::demo::run(&args).await,
        Command::Sandbox(SandboxCommand::Serve(args)) => serve(&args).await,
        Command::Plan(args) => {
            crate::rollout::cli::run(&cli.global, &args, crate::rollout::Command::Plan, false).await
        }
        Command::Rollout(args) => {
            let cmd = crate::rollout::Command::Rollout {
                dry_run: args.dry_run,
            };
            crate::rollout::cli::run(&cli.global, &args.target, cmd, false).await
        }
        Command::Offboard(args) => {
            let cmd = crate::rollout::Command::Offboard {
                dry_run: args.dry_run,
            };
            crate::rollout::cli::run(&cli.global, &args.target, cmd, args.delete_detectors).await
        }
        Command::Findings(cmd) => crate::findings_cli::findings(&cli.global, &cmd).await,
        Command::Filters(cmd) => crate::findings_cli::filters(&cli.global, &cmd).await,
        Command::SampleFindings(args) => {
            crate::findings_cli::sample_findings(&cli.global, &args).await
        }
        Command::Report(args) => crate::findings_cli::report(&cli.global, &args).await,
        Command::Audit(args) => crate::audit::cli::run(&cli.global, &args).await,
        Command::Regions => {
            let mut out = std::io::stdout().lock();
            for r in crate::regions::COMMERCIAL {
                writeln!(
                    out,
                    "{}{}",
                    r.name,
                    if r.opt_in { "\t(opt-in)" } else { "" }
                )?;
            }
            Ok(Outcome::Success)
        }
        Command::Policies(cmd) => crate::policies::command::run(&cli.global, cmd).await,
    }
}

async fn serve(args: &ServeArgs) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let mut spec = match &args.org {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading org file {}", path.display()))?;
            OrgSpec::parse(&text)
                .map_err(|e| anyhow::anyhow!("org file {}: {e}", path.display()))?
        }
        None => OrgSpec::generated(10),
    };
    if let Some(n) = args.accounts {
        spec.member_accounts = n;
    }
    let sandbox = Sandbox::start(&spec, args.port)
        .await
        .map_err(|e| match &args.org {
            Some(path) => anyhow::anyhow!("org file {}: {e}", path.display()),
            None => anyhow::anyhow!(e),
        })?;
    let management = sandbox.management_account();
    let keys = sandbox
        .keys_of(&management)
        .context("management account has no keys")?;
    let (accounts, regions) = sandbox.world(|w| (w.accounts.len(), w.regions.len()));
    let ready = started.elapsed();
    let region = crate::aws::factory::DEFAULT_REGION;
    let mut out = std::io::stdout().lock();
    // Shell lines a user can `eval`: the whole point of this command is to hand these out.
    writeln!(out, "export AWS_ENDPOINT_URL={}", sandbox.endpoint())?;
    writeln!(out, "export AWS_ACCESS_KEY_ID={}", keys.access_key_id)?;
    writeln!(
        out,
        "export AWS_SECRET_ACCESS_KEY={}",
        keys.secret_access_key
    )?;
    // A session token left over from real credentials would not match the sandbox's key.
    writeln!(out, "unset AWS_SESSION_TOKEN AWS_PROFILE")?;
    // AWS_REGION for the SDKs, AWS_DEFAULT_REGION for the AWS CLI and boto3.
    writeln!(out, "export AWS_REGION={region}")?;
    writeln!(out, "export AWS_DEFAULT_REGION={region}")?;
    writeln!(
        out,
        "# gdorg sandbox: organization of {accounts} accounts (management {management}) x {regions} regions, ready in {} ms, RSS {}; Ctrl-C stops it",
        ready.as_millis(),
        resident_memory().unwrap_or_else(|| "unknown".into()),
    )?;
    out.flush()?;
    drop(out);
    shutdown_signal().await?;
    sandbox.shutdown().await;
    Ok(Outcome::Success)
}

/// The process's resident memory as the kernel reports it (`VmRSS` of /proc/self/status).
fn resident_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(format!("{:.1} MiB", kib as f64 / 1024.0))
}

/// Ctrl-C, or (on Unix) the SIGTERM that `kill` and service managers send.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
