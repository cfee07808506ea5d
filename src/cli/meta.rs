//! gdorg about itself: `completions`, `man` and `config show`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `gdorg completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    pub shell: clap_complete::Shell,
}

/// `gdorg man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (`gdorg.1`, `gdorg-findings-export.1`, ...) into this
    /// directory instead of printing gdorg's own page to stdout.
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the settings a command line would run with, and where each comes from: flag,
    /// environment, config file (and table) or built-in.
    Show(ConfigShowArgs),
}

#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    /// The command line to explain, without `gdorg` (e.g. `report --top 5`); without one,
    /// the flags every command takes.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}
