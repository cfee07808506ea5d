//! `gdorg sandbox serve`: a sandbox organization on 127.0.0.1, and the environment that points
//! the AWS CLI, the SDKs and gdorg at it.

use std::fmt::Write;

use anyhow::Context;

use super::Ctx;
use crate::cli::sandbox::ServeArgs;
use crate::outcome::Outcome;
use crate::sandbox::org_file::OrgSpec;
use crate::sandbox::Sandbox;

pub async fn serve(ctx: &Ctx, args: &ServeArgs) -> anyhow::Result<Outcome> {
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
    let mut out = String::new();
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
    ctx.printer.data(&out)?;
    shutdown_signal(&ctx.stop).await?;
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

/// Ctrl-C (the run's stop), or (on Unix) the SIGTERM that `kill` and service managers send.
async fn shutdown_signal(stop: &crate::control::Stop) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = stop.stopped() => Ok(()),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        stop.stopped().await;
        Ok(())
    }
}
