//! `gdorg usage` end to end against the sandbox: totals per account, region and feature, the
//! top accounts, the free trials still running, every format, a region failing mid-run named
//! while the others finish.

use guardduty_org::sandbox::faults::FaultConfig;
use serde_json::Value;

use crate::gd_coverage::{runtime_org, ADMIN, M1, M2, OUTSIDER};
use crate::support::{gdorg, Env};

const REGIONS: &str = "us-east-1,eu-west-1,us-west-2";

async fn run(env: &Env, args: &[&str]) -> (Option<i32>, String, String) {
    let out = gdorg(env, &env.management, args).output().await.unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn totals_top_accounts_and_free_trials() {
    let env = Env::with_spec(runtime_org()).await;
    let (code, stdout, stderr) = run(
        &env,
        &[
            "usage",
            "--regions",
            REGIONS,
            "--format",
            "json",
            "--top",
            "2",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["period"], "last 30 days");
    assert_eq!(v["unit"], "USD");
    assert_eq!(v["total"], 23.25);
    assert_eq!(v["per_account"][ADMIN], 3.25);
    assert_eq!(v["per_account"][M1], 14.25);
    assert_eq!(v["per_account"][M2], 5.75);
    assert!(v["per_account"].get(OUTSIDER).is_none(), "not a member");
    assert_eq!(v["per_region"]["eu-west-1"], 2.0);
    assert_eq!(v["per_feature"]["S3_DATA_EVENTS"], 10.0);
    assert_eq!(v["by_account_region"][M1]["us-east-1"], 14.25);
    assert_eq!(
        v["top_accounts"],
        serde_json::json!([{"account": M1, "usd": 14.25}, {"account": M2, "usd": 5.75}])
    );
    assert_eq!(v["regions"]["us-west-2"]["status"], "no_detector");
    // Trials: fewest days first; an ended one is not listed.
    let trials = v["free_trials"].as_array().unwrap();
    assert_eq!(
        trials[0],
        serde_json::json!({"days_left": 5, "account": M1, "region": "us-east-1", "feature": "S3_DATA_EVENTS"})
    );
    assert!(!trials
        .iter()
        .any(|t| t["account"] == M2 && t["feature"] == "CLOUD_TRAIL"));
    assert!(trials.iter().any(|t| t["account"] == M2
        && t["feature"] == "EC2_RUNTIME_MONITORING"
        && t["days_left"] == 30));

    // The table says the same in words; Markdown and CSV too.
    let (code, table, _) = run(&env, &["usage", "--regions", REGIONS]).await;
    assert_eq!(code, Some(0));
    assert!(
        table.contains("23.25 USD across 3 accounts and 2 regions"),
        "{table}"
    );
    assert!(table.contains("top accounts by cost"), "{table}");
    assert!(table.contains("us-west-2: no detector"), "{table}");
    let (_, md, _) = run(
        &env,
        &["usage", "--regions", REGIONS, "--format", "markdown"],
    )
    .await;
    assert!(md.starts_with("# GuardDuty usage"), "{md}");
    assert!(md.contains("| 1 | 200000000001 | 14.25 |"), "{md}");
    let (_, csv, _) = run(&env, &["usage", "--regions", REGIONS, "--format", "csv"]).await;
    assert!(
        csv.starts_with("section,account,region,feature,usd,days_left\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("account,{M1},us-east-1,,14.25,")),
        "{csv}"
    );
    assert!(csv.contains("feature,,eu-west-1,FLOW_LOGS,2.00,"), "{csv}");
    assert!(
        csv.contains(&format!("trial,{M1},us-east-1,S3_DATA_EVENTS,,5")),
        "{csv}"
    );

    // Only reads.
    let calls = env.sandbox.calls().snapshot();
    assert!(calls
        .iter()
        .all(|c| !c.is_mutating() || c.operation == "AssumeRole"));
    for op in [
        "GetUsageStatistics",
        "GetRemainingFreeTrialDays",
        "ListMembers",
    ] {
        assert!(calls.iter().any(|c| c.operation == op), "{op}");
    }
}

#[tokio::test]
async fn a_region_failing_mid_run_is_named_and_the_others_finish() {
    let env = Env::with_spec(runtime_org()).await;
    env.sandbox.faults().set(FaultConfig {
        error_rate: 0.99,
        operations: vec!["GetRemainingFreeTrialDays".into()],
        regions: vec!["us-east-1".into()],
        seed: 3,
        ..FaultConfig::default()
    });
    let (code, stdout, stderr) = run(
        &env,
        &[
            "usage",
            "--regions",
            REGIONS,
            "--format",
            "json",
            "--max-attempts",
            "1",
        ],
    )
    .await;
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["regions"]["us-east-1"]["status"], "failed");
    assert_eq!(v["regions"]["eu-west-1"]["status"], "read");
    assert_eq!(v["total"], 2.0, "eu-west-1 still counted");
    assert!(
        stderr.contains("us-east-1") && stderr.contains("GetRemainingFreeTrialDays"),
        "{stderr}"
    );

    // Bad flags are refused before any call.
    env.sandbox.calls().clear();
    for args in [
        &["usage", "--top", "0"][..],
        &["usage", "--format", "pdf"],
        &["usage", "--admin-account", "x"],
    ] {
        let (code, _, _) = run(&env, args).await;
        assert_ne!(code, Some(0), "{args:?}");
    }
    assert!(env.sandbox.calls().snapshot().is_empty());
}

#[tokio::test]
async fn plan_counts_the_cells_that_start_a_free_trial() {
    let env = Env::new(2).await;
    let regions = "us-east-1,eu-west-1";
    // A fresh organization: the administrator's two detectors are certain; the members get
    // theirs from GuardDuty when added.
    let (code, stdout, stderr) = run(&env, &["plan", "--regions", regions]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("Free trial: 2 account x region cell(s) will start a 30-day GuardDuty free trial (2 new detector(s), 0 with features newly enabled); and up to 4 more"),
        "{stdout}"
    );
    let (code, _, stderr) = run(&env, &["rollout", "--regions", regions]).await;
    assert_eq!(code, Some(0), "{stderr}");
    // Converged: no trial starts.
    let (_, stdout, _) = run(&env, &["plan", "--regions", regions]).await;
    assert!(!stdout.contains("Free trial"), "{stdout}");
    // A plan turned on everywhere: 3 accounts x 2 regions start its trial.
    let (_, stdout, _) = run(
        &env,
        &["plan", "--regions", regions, "--features", "S3_DATA_EVENTS"],
    )
    .await;
    assert!(
        stdout.contains("Free trial: 6 account x region cell(s) will start a 30-day GuardDuty free trial (0 new detector(s), 6 with features newly enabled)."),
        "{stdout}"
    );
    // After the rollout the trials are running, as `usage` lists them.
    let (_, _, stderr) = run(
        &env,
        &[
            "rollout",
            "--regions",
            regions,
            "--features",
            "S3_DATA_EVENTS",
        ],
    )
    .await;
    let (code, stdout, _) = run(&env, &["usage", "--regions", regions, "--format", "json"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let s3 = v["free_trials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["feature"] == "S3_DATA_EVENTS" && t["days_left"] == 30)
        .count();
    assert_eq!(s3, 6, "{stdout}");
}

/// Past 50 accounts: usage pages and free-trial batches of 50 cover every account.
#[tokio::test]
async fn sixty_members_are_all_summed_and_asked_about() {
    let members: Vec<String> = (1..=60)
        .map(|i| {
            format!(
                "\"{}\"",
                guardduty_org::sandbox::org_file::OrgSpec::generated_id(i)
            )
        })
        .collect();
    let members = members.join(", ");
    let spec = guardduty_org::sandbox::org_file::OrgSpec::parse(&format!(
        r#"
        member_accounts = 60
        [[detectors]]
        accounts = ["{ADMIN}", {members}]
        regions = ["us-east-1"]
        [[memberships]]
        administrator = "{ADMIN}"
        members = [{members}]
        regions = ["us-east-1"]
        status = "Enabled"
        [[usage]]
        accounts = ["{ADMIN}", {members}]
        regions = ["us-east-1"]
        feature = "DNS_LOGS"
        usd = 0.5
        "#
    ))
    .unwrap();
    let env = Env::with_spec(spec).await;
    let (code, stdout, stderr) = run(
        &env,
        &["usage", "--regions", "us-east-1", "--format", "json"],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["per_account"].as_object().unwrap().len(), 61);
    assert_eq!(v["total"], 30.5);
    let trial_accounts: std::collections::BTreeSet<&str> = v["free_trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account"].as_str().unwrap())
        .collect();
    assert_eq!(trial_accounts.len(), 61);
    let calls = env.sandbox.calls().snapshot();
    let n = |op: &str| calls.iter().filter(|c| c.operation == op).count();
    assert_eq!(n("GetRemainingFreeTrialDays"), 2);
    // SUM_BY_ACCOUNT in two pages, SUM_BY_FEATURES in one.
    assert_eq!(n("GetUsageStatistics"), 3);
}
