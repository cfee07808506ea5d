//! `gdorg sandbox serve`: the real binary prints eval-able lines that point an SDK at it, starts
//! a large organization quickly, refuses bad org files, and stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

fn gdorg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gdorg"))
}

#[tokio::test]
async fn serve_prints_an_environment_that_reaches_it() {
    let started = Instant::now();
    let mut child = gdorg()
        .args(["sandbox", "serve", "--port", "0", "--accounts", "1000"])
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
