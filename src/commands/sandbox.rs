//! `gdorg sandbox serve`: a sandbox organization on 127.0.0.1, and the environment that points
//! the AWS CLI, the SDKs and gdorg at it: printed as `export` lines, or written to a private
//! `--env-file` once the sandbox is ready. `--detach` runs it in the background and returns
//! once it is ready; SIGTERM (`kill $GDORG_SANDBOX_PID`) or Ctrl-C stops it.

use std::fmt::Write;
use std::path::Path;
use std::process::Stdio;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::Ctx;
use crate::cli::sandbox::ServeArgs;
use crate::outcome::Outcome;
use crate::sandbox::org_file::OrgSpec;
use crate::sandbox::Sandbox;

pub async fn serve(ctx: &Ctx, args: &ServeArgs) -> anyhow::Result<Outcome> {
    if args.detach {
        return detach(ctx, args).await;
    }
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
    let terminate = Terminate::listen().context("listening for SIGTERM")?;
    let ready = started.elapsed();
    let region = crate::aws::factory::DEFAULT_REGION;
    let pid = std::process::id();
    let mut env = String::new();
    // Shell lines a user can `eval` or source: the whole point of this command is to hand
    // these out. They hold the management account's secret key, so they go to stdout or to
    // the private --env-file, never to stderr or a log.
    writeln!(env, "export AWS_ENDPOINT_URL={}", sandbox.endpoint())?;
    writeln!(env, "export AWS_ACCESS_KEY_ID={}", keys.access_key_id)?;
    writeln!(
        env,
        "export AWS_SECRET_ACCESS_KEY={}",
        keys.secret_access_key
    )?;
    // A session token left over from real credentials would not match the sandbox's key.
    writeln!(env, "unset AWS_SESSION_TOKEN AWS_PROFILE")?;
    // AWS_REGION for the SDKs, AWS_DEFAULT_REGION for the AWS CLI and boto3.
    writeln!(env, "export AWS_REGION={region}")?;
    writeln!(env, "export AWS_DEFAULT_REGION={region}")?;
    writeln!(env, "export {PID_VAR}={pid}")?;
    let mut banner = format!(
        "# gdorg sandbox: organization of {accounts} accounts (management {management}) x {regions} regions at {}, ready in {} ms, RSS {}",
        sandbox.endpoint(),
        ready.as_millis(),
        resident_memory().unwrap_or_else(|| "unknown".into()),
    );
    if let Some(path) = &args.env_file {
        write!(
            banner,
            "; environment in {} (`. {}`)",
            path.display(),
            sourceable(path)
        )?;
    }
    writeln!(banner, "; `kill ${PID_VAR}` (pid {pid}) or Ctrl-C stops it")?;
    match &args.env_file {
        Some(path) => {
            ctx.printer.write_private(path, &format!("{env}{banner}"))?;
            // The banner is the line a detaching parent waits for: it comes last.
            ctx.printer.data(&banner)?;
        }
        None => ctx.printer.data(&format!("{env}{banner}"))?,
    }
    terminate.or_stop(&ctx.stop).await;
    ctx.printer
        .note(&calls_answered(&sandbox.calls().count_by_operation()));
    sandbox.shutdown().await;
    if let Some(path) = &args.env_file {
        remove_env_file(ctx, path, pid);
    }
    Ok(Outcome::Success)
}

/// What the sandbox answered, by operation, as one line for stderr when it stops: what a
/// benchmark driving it from another process counts.
fn calls_answered(by_operation: &std::collections::BTreeMap<&'static str, usize>) -> String {
    let total: usize = by_operation.values().sum();
    let each: Vec<String> = by_operation
        .iter()
        .map(|(op, n)| format!("{op}={n}"))
        .collect();
    format!("gdorg sandbox: answered {total} calls: {}", each.join(" "))
}

/// The variable of the environment that names the sandbox's process.
const PID_VAR: &str = "GDORG_SANDBOX_PID";

/// `path` as the `.` builtin finds it: a bare file name would be looked up in PATH.
fn sourceable(path: &Path) -> String {
    if path.components().count() == 1 && path.is_relative() {
        format!("./{}", path.display())
    } else {
        path.display().to_string()
    }
}

/// Remove the env file of this sandbox when it stops, so nobody sources a dead endpoint; a
/// file another sandbox has written since (another pid) is left alone.
fn remove_env_file(ctx: &Ctx, path: &Path, pid: u32) {
    let ours = format!("export {PID_VAR}={pid}\n");
    match std::fs::read_to_string(path) {
        Ok(text) if text.contains(&ours) => {
            if let Err(e) = std::fs::remove_file(path) {
                ctx.printer
                    .warn(&format!("removing {}: {e}", path.display()));
            }
        }
        _ => {}
    }
}

/// `--detach`: run the same command without it as a child in its own process group (so the
/// terminal's Ctrl-C and the end of a command substitution leave it alone), wait until it
/// says it is ready, print what it printed, and return. A sandbox that fails to start is
/// reported with its own error.
async fn detach(ctx: &Ctx, args: &ServeArgs) -> anyhow::Result<Outcome> {
    let exe = std::env::current_exe().context("finding the gdorg executable")?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args(["sandbox", "serve", "--port", &args.port.to_string()]);
    if let Some(org) = &args.org {
        cmd.arg("--org").arg(org);
    }
    if let Some(n) = args.accounts {
        cmd.args(["--accounts", &n.to_string()]);
    }
    if let Some(path) = &args.env_file {
        cmd.arg("--env-file").arg(path);
    }
    if ctx.global.quiet {
        cmd.arg("--quiet");
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .context("starting the sandbox in the background")?;
    let stdout = child.stdout.take().context("the sandbox's stdout")?;
    let mut stderr = child.stderr.take().context("the sandbox's stderr")?;
    // Errors come before readiness, and are short; read them alongside.
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = String::new();
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line.context("reading the sandbox's output")?,
            _ = ctx.stop.stopped() => {
                let _ = child.start_kill();
                anyhow::bail!("interrupted before the sandbox was ready; it was stopped");
            }
        };
        match line {
            Some(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if line.starts_with("# gdorg sandbox") {
                    break;
                }
            }
            None => {
                let status = child.wait().await?;
                let text = errors.await.unwrap_or_default();
                let reason = text
                    .lines()
                    .filter_map(|l| l.strip_prefix("error: "))
                    .collect::<Vec<_>>()
                    .join("; ");
                if reason.is_empty() {
                    anyhow::bail!("the sandbox exited before it was ready ({status})");
                }
                anyhow::bail!("{reason}");
            }
        }
    }
    ctx.printer.data(&printed)?;
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

/// SIGTERM, the signal `kill` and service managers send, listened for from before the sandbox
/// says it is ready, so that a `kill` right after never finds it unprepared.
struct Terminate {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Terminate {
    fn listen() -> std::io::Result<Terminate> {
        Ok(Terminate {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    /// Ctrl-C (the run's stop) or SIGTERM.
    async fn or_stop(mut self, stop: &crate::control::Stop) {
        #[cfg(unix)]
        tokio::select! {
            _ = stop.stopped() => {}
            _ = self.signal.recv() => {}
        }
        #[cfg(not(unix))]
        stop.stopped().await;
    }
}
