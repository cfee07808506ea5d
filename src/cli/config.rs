//! The config file, `gdorg.toml`: defaults for any flag, read before the command line is
//! parsed and fed to clap as each argument's default value, so that the command line and the
//! environment still win. Precedence: flag > environment > config > built-in.
//!
//! The file is `--config FILE`, else `$GDORG_CONFIG`, else `gdorg.toml` in the current
//! directory (when there is one). Its tables:
//!
//! | table | applies to |
//! | --- | --- |
//! | `[global]` | the flags every command takes (`region`, `profile`, `role-name`, ...) |
//! | `[defaults]` | a flag of that name in every command that has it |
//! | `[COMMAND]`, `[COMMAND.SUBCOMMAND]` | that command (and its subcommands) only |
//!
//! The more specific table wins: `[findings.export]` over `[findings]` over `[defaults]`.
//! Keys are long flag names (`admin-account` or `admin_account`); a key no flag has, a table
//! no command has, or a value the flag refuses is an error naming the key and the file.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command, CommandFactory, FromArgMatches};

use super::Cli;

/// The file looked for in the current directory.
pub const FILE_NAME: &str = "gdorg.toml";
/// The environment variable naming the file.
pub const ENV: &str = "GDORG_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config {path}: unknown {what} `{key}` in {table}{hint}")]
    Unknown {
        path: PathBuf,
        what: &'static str,
        key: String,
        table: String,
        hint: String,
    },
    #[error("config {path}: {table} {key}: {message}")]
    Value {
        path: PathBuf,
        table: String,
        key: String,
        message: String,
    },
}

/// Where a config default came from: the file and its table.
pub type Origins = BTreeMap<(Vec<String>, String), String>;

/// A parsed config file.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    table: toml::Table,
}

/// The config file for this command line: `--config`, else `$GDORG_CONFIG`, else
/// `./gdorg.toml` if it exists. A file named explicitly must exist.
pub fn locate(args: &[OsString], env: Option<OsString>, cwd: &Path) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let here = cwd.join(FILE_NAME);
    here.is_file().then_some(here)
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Config::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigError::Parse {
                path: path.into(),
                message: e.message().to_string(),
            })?;
        Ok(Config {
            path: path.into(),
            table,
        })
    }

    /// `cmd` with the file's values as defaults, and where each came from.
    pub fn apply(&self, cmd: Command) -> Result<(Command, Origins), ConfigError> {
        let mut plan = Plan::default();
        for (key, value) in &self.table {
            match (key.as_str(), value) {
                ("global", toml::Value::Table(t)) => {
                    for (k, v) in t {
                        let hit = cmd
                            .get_arguments()
                            .find(|a| a.is_global_set() && settable(a, k));
                        let Some(arg) = hit else {
                            return Err(self.unknown("flag", k, "[global]", global_hint(&cmd)));
                        };
                        plan.set(self, &[], arg, "[global]", k, v, 2)?;
                    }
                }
                ("defaults", toml::Value::Table(t)) => {
                    for (k, v) in t {
                        if !plan.everywhere(self, &cmd, &[], "[defaults]", k, v, 0)? {
                            return Err(self.unknown("flag", k, "[defaults]", String::new()));
                        }
                    }
                }
                (name, toml::Value::Table(t)) => match cmd.find_subcommand(name) {
                    Some(sub) => plan.command(self, sub, &[name.to_string()], t)?,
                    None => {
                        return Err(self.unknown(
                            "table",
                            name,
                            "the file",
                            "; tables are [global], [defaults] or a command's name".into(),
                        ))
                    }
                },
                (name, _) => {
                    return Err(self.unknown(
                        "key",
                        name,
                        "the file",
                        "; every key belongs in a table: [global], [defaults] or [COMMAND]".into(),
                    ))
                }
            }
        }
        let origins = plan
            .0
            .iter()
            .map(|(k, v)| (k.clone(), v.origin.clone()))
            .collect();
        Ok((plan.apply(cmd), origins))
    }

    fn unknown(&self, what: &'static str, key: &str, table: &str, hint: String) -> ConfigError {
        ConfigError::Unknown {
            path: self.path.clone(),
            what,
            key: key.into(),
            table: table.into(),
            hint,
        }
    }
}

fn global_hint(cmd: &Command) -> String {
    let names: Vec<&str> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .filter_map(Arg::get_long)
        .filter(|l| *l != "config")
        .collect();
    format!("; [global] takes {}", names.join(", "))
}

/// Whether `arg` is the flag `key` names and a config may set it: an option or a switch,
/// not a positional, help, version or the config file itself.
fn settable(arg: &Arg, key: &str) -> bool {
    let key = key.replace('_', "-");
    arg.get_long() == Some(key.as_str())
        && !arg.is_positional()
        && !matches!(
            arg.get_action(),
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
        )
        && arg.get_id() != "config"
}

/// A default chosen for one argument of one command.
struct Chosen {
    values: Vec<String>,
    append: bool,
    origin: String,
    rank: u8,
}

/// (command path, argument id) -> the default to set; the higher rank wins.
#[derive(Default)]
struct Plan(BTreeMap<(Vec<String>, String), Chosen>);

impl Plan {
    /// The keys of `[a.b]` for command `cmd` at `path`: subtables name subcommands, other keys
    /// name a flag of this command or of any command below it.
    fn command(
        &mut self,
        cfg: &Config,
        cmd: &Command,
        path: &[String],
        table: &toml::Table,
    ) -> Result<(), ConfigError> {
        let label = format!("[{}]", path.join("."));
        for (k, v) in table {
            if let (toml::Value::Table(t), Some(sub)) = (v, cmd.find_subcommand(k)) {
                let mut p = path.to_vec();
                p.push(k.clone());
                self.command(cfg, sub, &p, t)?;
                continue;
            }
            let rank = 1 + path.len() as u8 * 2;
            if !self.everywhere(cfg, cmd, path, &label, k, v, rank)? {
                let global = Cli::command()
                    .get_arguments()
                    .any(|a| a.is_global_set() && settable(a, k));
                let hint = if global {
                    format!("; `{k}` is a flag every command takes: set it in [global]")
                } else {
                    format!("; see `gdorg {} --help`", path.join(" "))
                };
                return Err(cfg.unknown("flag", k, &label, hint));
            }
        }
        Ok(())
    }

    /// Set `key` on every command at or below `cmd` that has it; whether any had it.
    #[allow(clippy::too_many_arguments)]
    fn everywhere(
        &mut self,
        cfg: &Config,
        cmd: &Command,
        path: &[String],
        table: &str,
        key: &str,
        value: &toml::Value,
        rank: u8,
    ) -> Result<bool, ConfigError> {
        let mut first_err = None;
        let found = self.each(cfg, cmd, path, table, key, value, rank, &mut first_err);
        match first_err {
            // A flag of the same name may take other values in another command (`format`):
            // the value is wrong only if no command below the table takes it.
            Some(e) if !found => Err(e),
            _ => Ok(found),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn each(
        &mut self,
        cfg: &Config,
        cmd: &Command,
        path: &[String],
        table: &str,
        key: &str,
        value: &toml::Value,
        rank: u8,
        first_err: &mut Option<ConfigError>,
    ) -> bool {
        let mut found = false;
        if let Some(arg) = cmd.get_arguments().find(|a| settable(a, key)) {
            match self.set(cfg, path, arg, table, key, value, rank) {
                Ok(()) => found = true,
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        for sub in cmd.get_subcommands() {
            let mut p = path.to_vec();
            p.push(sub.get_name().to_string());
            found |= self.each(cfg, sub, &p, table, key, value, rank, first_err);
        }
        found
    }

    #[allow(clippy::too_many_arguments)]
    fn set(
        &mut self,
        cfg: &Config,
        path: &[String],
        arg: &Arg,
        table: &str,
        key: &str,
        value: &toml::Value,
        rank: u8,
    ) -> Result<(), ConfigError> {
        let err = |message: String| ConfigError::Value {
            path: cfg.path.clone(),
            table: table.into(),
            key: key.into(),
            message,
        };
        let append = matches!(arg.get_action(), ArgAction::Append);
        let mut values = strings(value).map_err(err)?;
        if !append && values.len() != 1 {
            // A single-valued flag given a list takes it comma-separated (`regions`).
            values = vec![values.join(",")];
        }
        for v in &values {
            check(arg, v).map_err(err)?;
        }
        let slot = (path.to_vec(), arg.get_id().to_string());
        if self.0.get(&slot).is_some_and(|c| c.rank > rank) {
            return Ok(());
        }
        let origin = format!("config {} {table}", cfg.path.display());
        self.0.insert(
            slot,
            Chosen {
                values,
                append,
                origin,
                rank,
            },
        );
        Ok(())
    }

    fn apply(&self, mut root: Command) -> Command {
        for ((path, id), chosen) in &self.0 {
            root = at(root, path, &|c: Command| {
                c.mut_arg(id, |a| {
                    if chosen.append {
                        a.default_values(chosen.values.clone())
                    } else {
                        a.default_value(chosen.values[0].clone())
                    }
                })
            });
        }
        root
    }
}

/// Apply `f` to the subcommand at `path` of `cmd`.
fn at(cmd: Command, path: &[String], f: &dyn Fn(Command) -> Command) -> Command {
    match path.split_first() {
        None => f(cmd),
        Some((name, rest)) => cmd.mut_subcommand(name, |s| at(s, rest, f)),
    }
}

/// A TOML value as the strings a command line would carry.
fn strings(value: &toml::Value) -> Result<Vec<String>, String> {
    fn scalar(v: &toml::Value) -> Result<String, String> {
        Ok(match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Datetime(d) => d.to_string(),
            toml::Value::Array(_) | toml::Value::Table(_) => {
                return Err("expected a string, number, boolean or a list of them".into())
            }
        })
    }
    match value {
        toml::Value::Array(items) => items.iter().map(scalar).collect(),
        v => scalar(v).map(|s| vec![s]),
    }
}

/// Check `value` with the flag's own parser, so a bad value is reported against the file.
fn check(arg: &Arg, value: &str) -> Result<(), String> {
    let id = arg.get_id().clone();
    let probe = match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => Arg::new(id)
            .long("v")
            .value_parser(clap::value_parser!(bool)),
        ArgAction::Count => Arg::new(id).long("v").value_parser(clap::value_parser!(u8)),
        _ => Arg::new(id)
            .long("v")
            .value_parser(arg.get_value_parser().clone())
            .value_delimiter(arg.get_value_delimiter()),
    };
    Command::new("gdorg")
        .arg(probe.action(ArgAction::Append))
        .try_get_matches_from([OsString::from("gdorg"), format!("--v={value}").into()])
        .map(|_| ())
        .map_err(|e| {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            line.trim_start_matches("error: ")
                .replace("'--v <", "'<")
                .replace(" for '--v'", "")
        })
}

/// The clap command with the config file's defaults applied, the config used (if any) and
/// where each default came from.
pub fn configured(args: &[OsString]) -> Result<(Command, Option<Config>, Origins), ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let cmd = Cli::command();
    match locate(args, std::env::var_os(ENV), &cwd) {
        None => Ok((cmd, None, Origins::new())),
        Some(path) => {
            let cfg = Config::load(&path)?;
            let (cmd, origins) = cfg.apply(cmd)?;
            Ok((cmd, Some(cfg), origins))
        }
    }
}

/// Parse the process's command line with the config file's defaults. clap's own errors
/// (and `--help`) exit as clap does; a bad config file is returned.
pub fn parse() -> Result<Cli, ConfigError> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let (cmd, _, _) = configured(&args)?;
    let matches = cmd.get_matches_from(args);
    Ok(Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(text: &str, args: &[&str]) -> Result<Cli, String> {
        let cfg = Config::parse(Path::new("gdorg.toml"), text).map_err(|e| e.to_string())?;
        let (cmd, _) = cfg.apply(Cli::command()).map_err(|e| e.to_string())?;
        let m = cmd
            .try_get_matches_from(std::iter::once("gdorg").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        Cli::from_arg_matches(&m).map_err(|e| e.to_string())
    }

    fn report(cli: Cli) -> crate::cli::findings::ReportArgs {
        match cli.command {
            crate::cli::Command::Report(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn specific_tables_win_and_flags_win_over_the_file() {
        let text = "[global]\nregion = \"eu-west-1\"\n[defaults]\nconcurrency = 3\ntop = 9\n\
                    [report]\ntop = 7\nseverity = [\"high\", \"critical\"]\ndirect = true\n";
        let cli = parse_with(text, &["report"]).unwrap();
        assert_eq!(cli.global.region.as_deref(), Some("eu-west-1"));
        let r = report(cli);
        assert_eq!(r.top, 7);
        assert_eq!(r.read.run.concurrency, 3);
        assert_eq!(r.read.filter.severity, ["high", "critical"]);
        assert!(r.read.direct);
        let r = report(parse_with(text, &["report", "--top", "2"]).unwrap());
        assert_eq!(r.top, 2);
    }

    #[test]
    fn nested_command_tables_and_list_values() {
        let text = "[findings]\nregions = [\"eu-west-1\", \"us-east-1\"]\n\
                    [findings.export]\nformat = \"csv\"\n";
        let cli = parse_with(text, &["findings", "export"]).unwrap();
        let crate::cli::Command::Findings(crate::cli::findings::FindingsCommand::Export(a)) =
            cli.command
        else {
            panic!()
        };
        assert_eq!(a.format, Some(crate::cli::findings::ListFormat::Csv));
        assert_eq!(a.read.regions.regions, "eu-west-1,us-east-1");
        // `list` shares [findings] but not [findings.export].
        let cli = parse_with(text, &["findings", "list"]).unwrap();
        let crate::cli::Command::Findings(crate::cli::findings::FindingsCommand::List(a)) =
            cli.command
        else {
            panic!()
        };
        assert_eq!(a.format, None);
    }

    #[test]
    fn unknown_keys_tables_and_bad_values_name_the_key_and_the_file() {
        for (text, needle) in [
            ("[report]\ntopp = 3\n", "unknown flag `topp` in [report]"),
            ("[report]\nregion = \"eu-west-1\"\n", "set it in [global]"),
            ("[global]\ntop = 3\n", "unknown flag `top` in [global]"),
            (
                "[defaults]\nnope = 1\n",
                "unknown flag `nope` in [defaults]",
            ),
            ("[reprt]\ntop = 3\n", "unknown table `reprt`"),
            ("top = 3\n", "unknown key `top`"),
            (
                "[report]\ntop = \"many\"\n",
                "[report] top: invalid value 'many'",
            ),
            (
                "[report]\nformat = \"pdf\"\n",
                "[report] format: invalid value 'pdf'",
            ),
            ("[report\n", "config gdorg.toml: "),
        ] {
            let err = parse_with(text, &["report"]).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
            assert!(err.contains("gdorg.toml"), "{err}");
        }
    }

    #[test]
    fn the_file_is_the_flag_then_the_environment_then_the_current_directory() {
        let dir = tempfile::tempdir().unwrap();
        let args = |v: &[&str]| -> Vec<OsString> { v.iter().map(OsString::from).collect() };
        assert_eq!(locate(&args(&["gdorg", "regions"]), None, dir.path()), None);
        std::fs::write(dir.path().join(FILE_NAME), "").unwrap();
        assert_eq!(
            locate(&args(&["gdorg"]), None, dir.path()),
            Some(dir.path().join(FILE_NAME))
        );
        assert_eq!(
            locate(&args(&["gdorg"]), Some("e.toml".into()), dir.path()),
            Some("e.toml".into())
        );
        for a in [
            &["gdorg", "--config", "f.toml"][..],
            &["gdorg", "--config=f.toml"],
        ] {
            assert_eq!(
                locate(&args(a), Some("e.toml".into()), dir.path()),
                Some("f.toml".into())
            );
        }
    }
}
