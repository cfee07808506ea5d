//! `gdorg coverage` end to end against the sandbox: unhealthy agents reported with GuardDuty's
//! issue and exit 3, the filters sent to GuardDuty, every format, CSV formulas neutralised, a
//! region failing mid-run named while the others finish.

use guardduty_org::sandbox::faults::FaultConfig;
use serde_json::Value;

use crate::gd_coverage::{runtime_org, runtime_org_with, AGENT_ISSUE, M1, M2, OUTSIDER, VPC_ISSUE};
use crate::support::{gdorg, Env};

const REGIONS: &str = "us-east-1,eu-west-1";

fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test]
async fn unhealthy_agents_are_reported_with_their_issue_and_exit_3() {
    let env = Env::with_spec(runtime_org()).await;
    let out = gdorg(&env, &env.management, &["coverage", "--regions", REGIONS])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("8 resources in 3 accounts: 6 healthy, 2 unhealthy"),
        "{stdout}"
    );
    assert!(stdout.contains(AGENT_ISSUE), "{stdout}");
    assert!(stdout.contains(VPC_ISSUE), "{stdout}");
    assert!(
        stdout.contains(&format!("{M1} us-east-1 EKS batch: {AGENT_ISSUE}")),
        "{stdout}"
    );
    assert!(!stdout.contains(OUTSIDER), "{stdout}");
    // Both APIs in both regions, nothing else but the reads it needs.
    let calls = env.sandbox.calls().snapshot();
    for (op, region) in [
        ("ListCoverage", "us-east-1"),
        ("ListCoverage", "eu-west-1"),
        ("GetCoverageStatistics", "us-east-1"),
        ("GetCoverageStatistics", "eu-west-1"),
    ] {
        assert!(
            calls
                .iter()
                .any(|c| c.operation == op && c.region == region),
            "{op} {region}"
        );
    }
    assert!(calls
        .iter()
        .all(|c| !c.is_mutating() || c.operation == "AssumeRole"));

    let never = gdorg(
        &env,
        &env.management,
        &["coverage", "--regions", REGIONS, "--fail-on", "never"],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(never.status.code(), Some(0));
    // Healthy only: nothing to fail on.
    let healthy = gdorg(
        &env,
        &env.management,
        &["coverage", "--regions", REGIONS, "--status", "healthy"],
    )
    .output()
    .await
    .unwrap();
    let (stdout, _) = text(&healthy);
    assert_eq!(healthy.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("no unhealthy resources"), "{stdout}");
}

#[tokio::test]
async fn filters_and_formats() {
    let env = Env::with_spec(runtime_org()).await;
    let out = gdorg(
        &env,
        &env.management,
        &[
            "coverage",
            "--regions",
            REGIONS,
            "--resource-type",
            "ec2",
            "--format",
            "json",
        ],
    )
    .output()
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["filter"], "EC2");
    let rs = v["resources"].as_array().unwrap();
    assert_eq!(rs.len(), 4, "{stdout}");
    assert!(rs.iter().all(|r| r["kind"] == "ec2"));
    assert!(rs.iter().all(|r| r["account"] == M2));
    assert_eq!(v["totals"]["unhealthy"], 1);
    assert_eq!(v["regions"]["us-east-1"]["status"], "read");
    assert_eq!(v["regions"]["us-east-1"]["by_type"]["EC2"], 3);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("unhealthy.csv");
    let out = gdorg(
        &env,
        &env.management,
        &[
            "coverage",
            "--regions",
            REGIONS,
            "--status",
            "unhealthy",
            "--format",
            "csv",
            "--output",
            file.to_str().unwrap(),
        ],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty(), "the data went to the file");
    let csv = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("account,region,type,resource_id"),
        "{csv}"
    );
    assert!(
        csv.contains("UNHEALTHY") && !csv.contains(",HEALTHY,"),
        "{csv}"
    );

    // Bad flags are refused before any call.
    env.sandbox.calls().clear();
    for args in [
        &["coverage", "--resource-type", "lambda"][..],
        &["coverage", "--status", "sick"],
        &["coverage", "--admin-account", "12"],
        &["coverage", "--regions", "mars-north-1"],
    ] {
        let out = gdorg(&env, &env.management, args).output().await.unwrap();
        assert!(!out.status.success(), "{args:?}");
    }
    assert!(env.sandbox.calls().snapshot().is_empty());
}

#[tokio::test]
async fn csv_neutralises_formulas_in_what_guardduty_reports() {
    let env = Env::with_spec(runtime_org_with(&format!(
        r#"
        [[coverage]]
        accounts = ["{M1}"]
        regions = ["us-east-1"]
        type = "EC2"
        name = "i-0formula"
        status = "UNHEALTHY"
        issue = "=HYPERLINK(\"http://evil.example\")"
        "#
    )))
    .await;
    let out = gdorg(
        &env,
        &env.management,
        &["coverage", "--regions", "us-east-1", "--format", "csv"],
    )
    .output()
    .await
    .unwrap();
    let (stdout, _) = text(&out);
    assert!(stdout.contains("'=HYPERLINK"), "{stdout}");
    assert!(
        !stdout.contains(",=HYPERLINK") && !stdout.contains(",\"=HYPERLINK"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_region_failing_mid_run_is_named_and_the_others_finish() {
    let env = Env::with_spec(runtime_org()).await;
    env.sandbox.faults().set(FaultConfig {
        error_rate: 0.99,
        operations: vec!["ListCoverage".into()],
        regions: vec!["eu-west-1".into()],
        seed: 1,
        ..FaultConfig::default()
    });
    let out = gdorg(
        &env,
        &env.management,
        &[
            "coverage",
            "--regions",
            REGIONS,
            "--max-attempts",
            "1",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    )
    .output()
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["regions"]["eu-west-1"]["status"], "failed");
    assert!(
        v["regions"]["eu-west-1"]["error"]
            .as_str()
            .unwrap()
            .contains("ListCoverage"),
        "{stdout}"
    );
    assert_eq!(v["regions"]["us-east-1"]["status"], "read");
    assert_eq!(v["resources"].as_array().unwrap().len(), 7);
    assert!(
        stderr.contains("eu-west-1") && stderr.contains("ListCoverage"),
        "{stderr}"
    );
}

/// The AWS CLI (botocore's own serializers and parsers) reads coverage, usage and free-trial
/// days from `gdorg sandbox serve`. Skips, saying so, when the CLI is not installed.
#[test]
fn the_aws_cli_reads_coverage_and_usage_from_sandbox_serve() {
    use std::process::Command;
    if Command::new("aws").arg("--version").output().is_err() {
        println!("SKIPPED: no aws CLI on PATH (pip install awscli)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("org.toml"),
        crate::gd_coverage::runtime_org_text(""),
    )
    .unwrap();
    let out = crate::support::output_within(
        Command::new(env!("CARGO_BIN_EXE_gdorg"))
            .args(["sandbox", "serve", "--detach", "--port", "0"])
            .args(["--org", "org.toml", "--env-file", "sb.env"])
            .current_dir(dir.path()),
        30,
        "gdorg sandbox serve --detach",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env_text = std::fs::read_to_string(dir.path().join("sb.env")).unwrap();
    let vars: std::collections::BTreeMap<String, String> = env_text
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let pid: u32 = vars["GDORG_SANDBOX_PID"].parse().unwrap();
    let aws = |args: &[&str]| -> Value {
        let mut cmd = Command::new("aws");
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
            cmd.env_remove(k);
        }
        let out = cmd
            .args(args)
            .args(["--output", "json", "--region", "us-east-1"])
            .env("AWS_ENDPOINT_URL", &vars["AWS_ENDPOINT_URL"])
            .env("AWS_ACCESS_KEY_ID", &vars["AWS_ACCESS_KEY_ID"])
            .env("AWS_SECRET_ACCESS_KEY", &vars["AWS_SECRET_ACCESS_KEY"])
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .output()
            .expect("aws runs");
        assert!(
            out.status.success(),
            "aws {args:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let result = std::panic::catch_unwind(|| {
        let det = aws(&["guardduty", "list-detectors"])["DetectorIds"][0]
            .as_str()
            .unwrap()
            .to_string();
        // The CLI pages through nextToken itself (page size 2 makes it).
        let listed = aws(&[
            "guardduty",
            "list-coverage",
            "--detector-id",
            &det,
            "--page-size",
            "2",
            "--filter-criteria",
            r#"{"FilterCriterion":[{"CriterionKey":"COVERAGE_STATUS","FilterCondition":{"Equals":["UNHEALTHY"]}}]}"#,
        ]);
        let resources = listed["Resources"].as_array().unwrap();
        assert_eq!(resources.len(), 1, "{listed}");
        assert_eq!(resources[0]["ResourceId"], "batch");
        assert_eq!(resources[0]["Issue"], AGENT_ISSUE);
        assert_eq!(
            resources[0]["ResourceDetails"]["EksClusterDetails"]["CompatibleNodes"],
            3
        );
        let all = aws(&[
            "guardduty",
            "list-coverage",
            "--detector-id",
            &det,
            "--page-size",
            "2",
        ]);
        assert_eq!(all["Resources"].as_array().unwrap().len(), 7, "{all}");
        let stats = aws(&[
            "guardduty",
            "get-coverage-statistics",
            "--detector-id",
            &det,
            "--statistics-type",
            "COUNT_BY_RESOURCE_TYPE",
        ]);
        assert_eq!(stats["CoverageStatistics"]["CountByResourceType"]["EC2"], 3);
        let usage = aws(&[
            "guardduty",
            "get-usage-statistics",
            "--detector-id",
            &det,
            "--usage-statistic-type",
            "SUM_BY_ACCOUNT",
            "--usage-criteria",
            "{}",
        ]);
        let sums = usage["UsageStatistics"]["SumByAccount"].as_array().unwrap();
        let m1 = sums.iter().find(|s| s["AccountId"] == M1).unwrap();
        assert_eq!(
            m1["Total"],
            serde_json::json!({"Amount": "14.25", "Unit": "USD"})
        );
        let trial = aws(&[
            "guardduty",
            "get-remaining-free-trial-days",
            "--detector-id",
            &det,
            "--account-ids",
            M1,
        ]);
        let features = trial["Accounts"][0]["Features"].as_array().unwrap();
        assert!(features
            .iter()
            .any(|f| f["Name"] == "S3_DATA_EVENTS" && f["FreeTrialDaysRemaining"] == 5));
    });
    crate::support::terminate(pid);
    assert!(crate::support::wait_until(10, || !crate::support::running(
        pid
    )));
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// The demo organization, once rolled out with Runtime Monitoring, shows coverage (an
/// unhealthy EKS add-on and an unhealthy instance) and cost: what `gdorg demo` can call.
#[tokio::test]
async fn the_demo_organization_shows_coverage_and_cost_after_a_runtime_rollout() {
    let org = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/demo-org.toml"
    ))
    .unwrap();
    let spec = guardduty_org::sandbox::org_file::OrgSpec::parse(&org).unwrap();
    let env = Env::with_spec(spec).await;
    let regions = "us-east-1,eu-west-1";
    // Before: nobody runs Runtime Monitoring, so GuardDuty lists nothing.
    let out = gdorg(&env, &env.management, &["coverage", "--regions", regions])
        .output()
        .await
        .unwrap();
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(": 0 resources"), "{stdout}");
    // The untidy organization leaves some cells partial (exit 2); the rest converge.
    let out = gdorg(
        &env,
        &env.management,
        &[
            "rollout",
            "--mode",
            "invitation",
            "--regions",
            regions,
            "--features",
            "RUNTIME_MONITORING,S3_DATA_EVENTS",
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 2)), "{:?}", text(&out));
    let out = gdorg(&env, &env.management, &["coverage", "--regions", regions])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 unhealthy"), "{stdout}");
    assert!(
        stdout.contains("batch-jobs") && stdout.contains("i-0deadbeef000001"),
        "{stdout}"
    );
    let out = gdorg(&env, &env.management, &["usage", "--regions", regions])
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("S3_DATA_EVENTS"), "{stdout}");
    assert!(stdout.contains("free trials still running"), "{stdout}");
}

/// More resources than a page: every page is read (ListCoverage gives 50 at most).
#[tokio::test]
async fn every_page_is_read() {
    let env = Env::with_spec(runtime_org_with(&format!(
        r#"
        [[coverage]]
        accounts = ["{M1}"]
        regions = ["us-east-1"]
        type = "EC2"
        name = "i-0many"
        count = 120
        "#
    )))
    .await;
    let out = gdorg(
        &env,
        &env.management,
        &[
            "coverage",
            "--regions",
            "us-east-1",
            "--resource-type",
            "ec2",
            "--format",
            "json",
        ],
    )
    .output()
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["resources"].as_array().unwrap().len(), 123);
    assert_eq!(v["regions"]["us-east-1"]["by_type"]["EC2"], 123);
    let pages = env
        .sandbox
        .calls()
        .snapshot()
        .iter()
        .filter(|c| c.operation == "ListCoverage")
        .count();
    assert_eq!(pages, 3);
}

/// Through a delegated administrator: the management account's gdorg assumes the role into
/// it and reads its members' coverage and cost.
#[tokio::test]
async fn through_the_delegated_administrator() {
    let admin = "200000000001";
    let member = "200000000002";
    let spec = guardduty_org::sandbox::org_file::OrgSpec::parse(&format!(
        r#"
        member_accounts = 2
        [guardduty]
        admin = "{admin}"
        regions = ["us-east-1"]
        [[detectors]]
        accounts = ["{admin}", "{member}"]
        regions = ["us-east-1"]
        features = {{ RUNTIME_MONITORING = "ENABLED" }}
        [[memberships]]
        administrator = "{admin}"
        members = ["{member}"]
        regions = ["us-east-1"]
        status = "Enabled"
        [[coverage]]
        accounts = ["{member}"]
        type = "ECS"
        name = "orders"
        status = "UNHEALTHY"
        issue = "Fargate tasks are not reporting."
        [[usage]]
        accounts = ["{member}"]
        feature = "FARGATE_RUNTIME_MONITORING"
        usd = 6.0
        "#
    ))
    .unwrap();
    let env = Env::with_spec(spec).await;
    let out = gdorg(
        &env,
        &env.management,
        &["coverage", "--regions", "us-east-1", "--format", "json"],
    )
    .output()
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["administrator"], admin);
    assert_eq!(v["resources"][0]["account"], member);
    assert_eq!(
        v["resources"][0]["issue"],
        "Fargate tasks are not reporting."
    );
    let out = gdorg(
        &env,
        &env.management,
        &["usage", "--regions", "us-east-1", "--format", "json"],
    )
    .output()
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["administrator"], admin);
    assert_eq!(v["per_account"][member], 6.0);
    // The calls went to the administrator's detector, as the administrator.
    let calls = env.sandbox.calls().snapshot();
    assert!(calls
        .iter()
        .filter(|c| c.operation == "ListCoverage" || c.operation == "GetUsageStatistics")
        .all(|c| c.account == admin));
}

/// Ctrl-C during a read: the regions read are written, whole, the others marked `not read`,
/// and the exit is partial.
#[tokio::test]
async fn ctrl_c_writes_what_was_read_and_marks_the_rest() {
    let env = Env::with_spec(runtime_org_with(
        "[faults]\nlatency_ms = 150\noperations = [\"ListDetectors\"]",
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("coverage.json");
    let mut child = gdorg(
        &env,
        &env.management,
        &[
            "coverage",
            "--concurrency",
            "1",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--output",
            file.to_str().unwrap(),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    crate::support::wait_for_calls(&env, "ListDetectors", 2, 60).await;
    crate::support::interrupt(&child);
    let status = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait())
        .await
        .expect("gdorg stops soon after Ctrl-C")
        .unwrap();
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let statuses: Vec<&str> = v["regions"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    let not_read = statuses.iter().filter(|s| **s == "not_read").count();
    assert!(not_read > 0 && not_read < statuses.len(), "{statuses:?}");
}
