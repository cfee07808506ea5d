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
    /// Serve a sandbox organization on 127.0.0.1 and print the environment to reach it.
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
}
