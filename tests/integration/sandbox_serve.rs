//! `gdorg sandbox serve`: the real binary prints eval-able lines that point an SDK at it, starts
//! a large organization quickly, refuses bad org files, and stops on SIGTERM; `--detach` returns
//! once it is ready, and `--env-file` hands the environment over in a private file, removed
//! when the sandbox stops.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

use crate::support::{output_within, running, terminate, wait_until};

fn gdorg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gdorg"))
}

#[tokio::test]
async fn serve_prints_an_environment_that_reaches_it() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls.json");
    let mut child = gdorg()
        .args([
            "sandbox",
            "serve",
            "--port",
            "0",
            "--accounts",
            "1000",
            "--calls",
        ])
        .arg(&calls)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut vars = std::collections::BTreeMap::new();
    let banner = loop {
        let line = lines.next().expect("a banner line").unwrap();
        if let Some(rest) = line.strip_prefix("export ") {
            let (k, v) = rest.split_once('=').unwrap();
            vars.insert(k.to_string(), v.to_string());
        } else if line.starts_with('#') {
            break line;
        } else {
            assert_eq!(line, "unset AWS_SESSION_TOKEN AWS_PROFILE");
        }
    };
    let elapsed = started.elapsed();
    assert!(banner.contains("1001 accounts"), "{banner}");
    assert!(banner.contains("RSS "), "{banner}");
    // Generous for a debug build on a shared machine; the release build is far below 1 s.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    for k in [
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ] {
        assert!(vars.contains_key(k), "{k} missing: {vars:?}");
    }
    assert_eq!(vars["GDORG_SANDBOX_PID"], child.id().to_string());

    let cfg = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(vars["AWS_REGION"].clone()))
        .endpoint_url(&vars["AWS_ENDPOINT_URL"])
        .credentials_provider(Credentials::new(
            &vars["AWS_ACCESS_KEY_ID"],
            &vars["AWS_SECRET_ACCESS_KEY"],
            None,
            None,
            "serve",
        ))
        .load()
        .await;
    let accounts = aws_sdk_organizations::Client::new(&cfg)
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let n: usize = accounts.iter().map(|p| p.accounts().len()).sum();
    assert_eq!(n, 1001);
    let out = aws_sdk_sts::Client::new(&cfg)
        .assume_role()
        .role_arn("arn:aws:iam::200000001000:role/OrganizationAccountAccessRole")
        .role_session_name("serve")
        .send()
        .await
        .unwrap();
    assert!(out.credentials().is_some());

    // SIGTERM stops it cleanly.
    let pid = child.id().to_string();
    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    // And it wrote what it answered, per operation and status.
    let counts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&calls).unwrap()).unwrap();
    let pages = 1001_u64.div_ceil(20);
    assert_eq!(counts["by_operation"]["organizations:ListAccounts"], pages);
    assert_eq!(counts["by_operation"]["sts:AssumeRole"], 1);
    assert_eq!(counts["total"], pages + 1);
    assert_eq!(counts["by_status"]["200"], pages + 1);
}

#[test]
fn serve_refuses_a_bad_org_file_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.toml");
    std::fs::write(
        &path,
        "[[accounts]]\nid = \"300000000001\"\nopt_in_regions = [\"xx-nowhere-1\"]\n",
    )
    .unwrap();
    let out = gdorg()
        .args(["sandbox", "serve", "--port", "0", "--org"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown region \"xx-nowhere-1\""), "{err}");
    assert!(err.contains("org.toml"), "{err}");
}

/// The `export K=V` lines of an environment file.
fn exports(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn detached_serve_writes_a_private_env_file_that_reaches_it_and_kill_stops_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    // Through pipes, as `$(...)` reads it: the call must come back although the sandbox runs on.
    let out = output_within(
        gdorg()
            .args(["sandbox", "serve", "--detach", "--env-file", "sb.env"])
            .args(["--port", "0", "--accounts", "5"])
            .current_dir(dir.path()),
        30,
        "gdorg sandbox serve --detach",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    assert!(started.elapsed() < Duration::from_secs(10));
    let path = dir.path().join("sb.env");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let text = std::fs::read_to_string(&path).unwrap();
    let vars = exports(&text);
    assert!(
        text.contains("unset AWS_SESSION_TOKEN AWS_PROFILE\n"),
        "{text}"
    );
    // The secret is in the file only: stdout has the one ready line, naming the file.
    let secret = &vars["AWS_SECRET_ACCESS_KEY"];
    assert!(!secret.is_empty());
    assert!(!stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("# gdorg sandbox: organization of 6 accounts"),
        "{stdout}"
    );
    assert!(stdout.contains("sb.env"), "{stdout}");
    let pid: u32 = vars["GDORG_SANDBOX_PID"].parse().unwrap();
    assert!(running(pid));

    // The file's values reach the sandbox through the SDK: who am I, and the organization.
    let cfg = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(vars["AWS_REGION"].clone()))
        .endpoint_url(&vars["AWS_ENDPOINT_URL"])
        .credentials_provider(Credentials::new(
            &vars["AWS_ACCESS_KEY_ID"],
            secret,
            None,
            None,
            "env-file",
        ))
        .load()
        .await;
    let me = aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let caller = me.account().unwrap().to_string();
    assert!(stdout.contains(&format!("management {caller}")), "{stdout}");
    let accounts = aws_sdk_organizations::Client::new(&cfg)
        .list_accounts()
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.accounts().len(), 6);

    // `kill $GDORG_SANDBOX_PID`: it stops, removes its file, and the port is closed.
    terminate(pid);
    assert!(
        wait_until(10, || !running(pid)),
        "still running after SIGTERM"
    );
    assert!(!path.exists(), "the env file outlived the sandbox");
    let addr = vars["AWS_ENDPOINT_URL"]
        .trim_start_matches("http://")
        .to_string();
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn detached_serve_that_cannot_start_says_why_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("org.toml"),
        "[[accounts]]\nid = \"300000000001\"\nopt_in_regions = [\"xx-nowhere-1\"]\n",
    )
    .unwrap();
    let out = output_within(
        gdorg()
            .args(["sandbox", "serve", "--detach", "--port", "0"])
            .args(["--org", "org.toml", "--env-file", "sb.env"])
            .current_dir(dir.path()),
        30,
        "gdorg sandbox serve --detach with a bad org file",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown region \"xx-nowhere-1\""), "{err}");
    assert!(err.contains("org.toml"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(!dir.path().join("sb.env").exists());
}
