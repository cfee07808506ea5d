//! `gdorg completions`, `gdorg man` and `gdorg config show`: gdorg describing itself. None of
//! them calls AWS.

use std::ffi::OsString;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{ArgMatches, Command, CommandFactory};

use super::Ctx;
use crate::cli::config::{self, Origins};
use crate::cli::meta::{CompletionsArgs, ConfigShowArgs, ManArgs};
use crate::cli::Cli;
use crate::outcome::Outcome;

pub fn completions(ctx: &Ctx, a: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "gdorg", &mut buf);
    ctx.printer.data(&String::from_utf8(buf)?)?;
    Ok(Outcome::Success)
}

pub fn man(ctx: &Ctx, a: &ManArgs) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Built, every subcommand knows its full name (`gdorg-findings-export`).
    cmd.build();
    match &a.output {
        None => ctx.printer.data(&roff(&cmd)?)?,
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let n = write_pages(&cmd, dir)?;
            ctx.printer
                .note(&format!("{n} man page(s) written to {}", dir.display()));
        }
    }
    Ok(Outcome::Success)
}

fn roff(cmd: &Command) -> std::io::Result<String> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    String::from_utf8(buf).map_err(std::io::Error::other)
}

/// One page per command, each written atomically; how many.
fn write_pages(cmd: &Command, dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        n += write_pages(sub, dir)?;
    }
    let name = clap_mangen::Man::new(cmd.clone()).get_filename();
    crate::fsutil::write_atomic(&dir.join(name), roff(cmd)?.as_bytes())?;
    Ok(n + 1)
}

pub fn config_show(ctx: &Ctx, a: &ConfigShowArgs) -> anyhow::Result<Outcome> {
    let mut args: Vec<OsString> = vec!["gdorg".into()];
    // `gdorg --config F config show ...`: explain with F (from the environment it is read
    // again, and shown as such).
    if let Some(p) = &ctx.global.config {
        if std::env::var_os(config::ENV).as_deref() != Some(p.as_os_str()) {
            args.push("--config".into());
            args.push(p.into());
        }
    }
    args.extend(a.command.iter().map(OsString::from));
    let (cmd, cfg, origins) = config::configured(&args)?;
    let cmd = cmd.subcommand_required(false);
    let m = cmd.clone().try_get_matches_from(&args)?;
    let mut text = match &cfg {
        Some(c) => format!("# config file: {}\n", c.path.display()),
        None => format!(
            "# config file: none (no --config, ${}, or ./{})\n",
            config::ENV,
            config::FILE_NAME
        ),
    };
    text.push_str("[global]\n");
    text.push_str(&lines(&cmd, &m, &[], &origins, true));
    // Walk down the subcommands the command line names.
    let (mut cmd, mut m, mut path) = (&cmd, &m, Vec::<String>::new());
    while let Some((name, sub_m)) = m.subcommand() {
        let Some(sub) = cmd.find_subcommand(name) else {
            break;
        };
        path.push(name.to_string());
        (cmd, m) = (sub, sub_m);
        let own = lines(cmd, m, &path, &origins, false);
        if !own.is_empty() {
            text.push_str(&format!("[{}]\n{own}", path.join(".")));
        }
    }
    ctx.printer.data(&text)?;
    Ok(Outcome::Success)
}

/// `name = value  # source` for each option of `cmd` (the global ones, or its own).
fn lines(
    cmd: &Command,
    m: &ArgMatches,
    path: &[String],
    origins: &Origins,
    global: bool,
) -> String {
    let mut out = String::new();
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if arg.is_global_set() != global || matches!(long, "help" | "version") {
            continue;
        }
        let id = arg.get_id().as_str();
        let values: Vec<String> = m
            .get_raw(id)
            .map(|v| v.map(|s| s.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let source = match m.value_source(id) {
            Some(ValueSource::CommandLine) => "flag".to_string(),
            Some(ValueSource::EnvVariable) => format!(
                "env {}",
                arg.get_env()
                    .map(|e| e.to_string_lossy())
                    .unwrap_or_default()
            ),
            Some(ValueSource::DefaultValue) => origins
                .get(&(path.to_vec(), id.to_string()))
                .cloned()
                .unwrap_or_else(|| "built-in".into()),
            _ => "built-in".into(),
        };
        let value = match values.as_slice() {
            [] => {
                out.push_str(&format!("# {long} = (unset)  # {source}\n"));
                continue;
            }
            [one] => toml_string(one),
            many => format!(
                "[{}]",
                many.iter()
                    .map(|v| toml_string(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        out.push_str(&format!("{long} = {value}  # {source}\n"));
    }
    out
}

/// A value as a TOML basic string, so the output can be pasted into gdorg.toml.
fn toml_string(v: &str) -> String {
    toml::Value::String(v.to_string()).to_string()
}
