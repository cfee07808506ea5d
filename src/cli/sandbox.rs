//! `demo` and `sandbox serve`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Member accounts of the demo organization.
    #[arg(long, default_value_t = 6)]
    pub accounts: usize,
    /// Where the demo writes its HTML findings report.
    #[arg(long, default_value = "gdorg-demo-report.html", value_name = "FILE")]
    pub report: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve a sandbox organization on 127.0.0.1 and print the environment to reach it
    /// (`export` lines to `eval`, or a file with --env-file); --detach returns once it is ready.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// Org file (TOML) describing accounts, state and faults; see examples/org.toml.
    #[arg(long, value_name = "FILE")]
    pub org: Option<PathBuf>,
    /// Generated member accounts (added to those of the org file).
    #[arg(long, value_name = "N")]
    pub accounts: Option<usize>,
    /// Write the environment (the `export` lines, with the management account's secret key,
    /// and GDORG_SANDBOX_PID) to FILE, readable by its owner only, once the sandbox is ready,
    /// instead of printing it. The sandbox removes the file when it stops.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Run in the background: return once the sandbox is ready, after printing what it
    /// prints (so `eval "$(gdorg sandbox serve --detach)"` works). `kill $GDORG_SANDBOX_PID`
    /// stops it.
    #[arg(long)]
    pub detach: bool,
    /// When the sandbox stops, write how many calls it answered, per `service:Operation` and
    /// per HTTP status, to FILE (JSON): what benchmarks count against.
    #[arg(long, value_name = "FILE")]
    pub calls: Option<PathBuf>,
}
