//! The CLI's habits: completion scripts for every shell, the man pages, and the config file
//! `gdorg.toml` with its precedence (flag > environment > config > built-in), each level shown
//! by `gdorg config show` and one seen by a real command against the sandbox.

use std::path::Path;

use crate::findings::{env, ADMIN};
use crate::support;

/// The gdorg binary in `dir`, with nothing from the environment but PATH and `vars`.
async fn gdorg_in(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_gdorg"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test]
async fn completion_scripts_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_gdorg()"),
        ("zsh", "#compdef gdorg"),
        ("fish", "complete -c gdorg"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let text = stdout(&gdorg_in(dir.path(), &["completions", shell], &[]).await);
        assert!(text.contains(marker), "{shell}: no {marker:?}");
        // Subcommands and their flags are completed (fish spells a long flag `-l NAME`).
        let flag = |name: &str| match shell {
            "fish" => format!("-l {name}"),
            _ => format!("--{name}"),
        };
        for word in [
            "findings".into(),
            "export".into(),
            flag("format"),
            flag("regions"),
        ] {
            assert!(text.contains(&word), "{shell}: no {word}");
        }
        assert!(text.contains("parquet"), "{shell}: the formats' values");
    }
    let bad = gdorg_in(dir.path(), &["completions", "tcsh"], &[]).await;
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn man_pages_to_stdout_and_one_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let page = stdout(&gdorg_in(dir.path(), &["man"], &[]).await);
    assert!(page.contains(".TH gdorg 1"), "{page}");
    assert!(page.contains("findings"));
    let out = dir.path().join("man");
    stdout(&gdorg_in(dir.path(), &["man", "--output", out.to_str().unwrap()], &[]).await);
    for name in [
        "gdorg.1",
        "gdorg-report.1",
        "gdorg-findings.1",
        "gdorg-findings-export.1",
        "gdorg-config-show.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(".TH"), "{name}");
    }
    assert!(std::fs::read_to_string(out.join("gdorg-findings-export.1"))
        .unwrap()
        .contains("parquet"));
}

/// `regions` and `top` of `gdorg report`, as `config show` says them: (value, source).
fn setting(text: &str, name: &str) -> (String, String) {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{name} = ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"));
    let (value, source) = line[name.len() + 3..].split_once("  # ").unwrap();
    (value.trim_matches('"').to_string(), source.to_string())
}

const CONFIG: &str = "[defaults]\nregions = [\"eu-west-1\", \"us-east-1\"]\n[report]\ntop = 7\n";

#[tokio::test]
async fn precedence_built_in() {
    let dir = tempfile::tempdir().unwrap();
    let text = stdout(&gdorg_in(dir.path(), &["config", "show", "report"], &[]).await);
    assert!(text.contains("# config file: none"), "{text}");
    assert_eq!(setting(&text, "regions"), ("all".into(), "built-in".into()));
    assert_eq!(setting(&text, "top"), ("50".into(), "built-in".into()));
    assert_eq!(setting(&text, "role-name").1, "built-in");
}

#[tokio::test]
async fn precedence_config_over_built_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gdorg.toml"), CONFIG).unwrap();
    let text = stdout(&gdorg_in(dir.path(), &["config", "show", "report"], &[]).await);
    let (value, source) = setting(&text, "regions");
    assert_eq!(value, "eu-west-1,us-east-1");
    assert!(
        source.starts_with("config ") && source.ends_with("gdorg.toml [defaults]"),
        "{source}"
    );
    let (value, source) = setting(&text, "top");
    assert_eq!(value, "7");
    assert!(source.ends_with("gdorg.toml [report]"), "{source}");
    // The same file named with --config and with GDORG_CONFIG, from elsewhere.
    let file = dir.path().join("gdorg.toml");
    let elsewhere = tempfile::tempdir().unwrap();
    let by_flag = stdout(
        &gdorg_in(
            elsewhere.path(),
            &[
                "--config",
                file.to_str().unwrap(),
                "config",
                "show",
                "report",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(setting(&by_flag, "top").0, "7");
    let by_env = stdout(
        &gdorg_in(
            elsewhere.path(),
            &["config", "show", "report"],
            &[("GDORG_CONFIG", file.to_str().unwrap())],
        )
        .await,
    );
    assert_eq!(setting(&by_env, "top").0, "7");
    assert_eq!(setting(&by_env, "config").1, "env GDORG_CONFIG");
}

#[tokio::test]
async fn precedence_environment_over_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gdorg.toml"), CONFIG).unwrap();
    let text = stdout(
        &gdorg_in(
            dir.path(),
            &["config", "show", "report"],
            &[("GDORG_REGIONS", "ap-south-1")],
        )
        .await,
    );
    assert_eq!(
        setting(&text, "regions"),
        ("ap-south-1".into(), "env GDORG_REGIONS".into())
    );
    assert!(setting(&text, "top").1.ends_with("[report]"));
}

#[tokio::test]
async fn precedence_flag_over_environment_and_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gdorg.toml"), CONFIG).unwrap();
    let text = stdout(
        &gdorg_in(
            dir.path(),
            &[
                "config",
                "show",
                "report",
                "--top",
                "3",
                "--regions",
                "sa-east-1",
            ],
            &[("GDORG_REGIONS", "ap-south-1")],
        )
        .await,
    );
    assert_eq!(
        setting(&text, "regions"),
        ("sa-east-1".into(), "flag".into())
    );
    assert_eq!(setting(&text, "top"), ("3".into(), "flag".into()));
}

#[tokio::test]
async fn a_bad_config_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gdorg.toml"), "[report]\ntopp = 3\n").unwrap();
    let out = gdorg_in(dir.path(), &["regions"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown flag `topp` in [report]"), "{err}");
    assert!(err.contains("gdorg.toml"), "{err}");
    // A file named explicitly must exist.
    let out = gdorg_in(dir.path(), &["--config", "missing.toml", "regions"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

/// The config reaches a real command: `[findings.export] format = "ocsf"` makes the export
/// OCSF, and a flag still overrides it.
#[tokio::test]
async fn a_real_command_takes_its_defaults_from_the_config() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gdorg.toml"),
        "[defaults]\nregions = \"eu-west-1\"\n[findings.export]\nformat = \"ocsf\"\n",
    )
    .unwrap();
    let run = |args: &'static [&'static str]| {
        let mut c = support::gdorg(&env, ADMIN, args);
        c.current_dir(dir.path());
        c
    };
    let out = run(&["findings", "export"]).output().await.unwrap();
    let text = stdout(&out);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["class_uid"], 2004);
    assert!(text.lines().all(|l| l.contains("\"region\":\"eu-west-1\"")));
    let out = run(&["findings", "export", "--format", "ndjson"])
        .output()
        .await
        .unwrap();
    let first: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert!(first.get("class_uid").is_none() && first["id"].is_string());
}
