//! Protection plans across the organization, as a user runs them: `rollout --features` in a
//! region that does not offer one of them, the audit's plans view (organization, region,
//! account), auto-enable per plan, plan gaps and their exit code, drift when a plan goes off.

use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{gdorg, Env};

const REGIONS: &str = "eu-west-1,us-east-1";
const ADMIN: &str = "200000000001";
const PLANS: &str = "S3_DATA_EVENTS,RDS_LOGIN_EVENTS,RUNTIME_MONITORING";

/// A delegated administrator (the first member account) with detectors in both regions,
/// three other members, and RDS Protection not offered in us-east-1.
async fn env() -> (Env, String) {
    let admin = OrgSpec::generated_id(1);
    assert_eq!(admin, ADMIN);
    let text = format!(
        r#"
member_accounts = 4
service_access = ["guardduty.amazonaws.com"]

[guardduty]
admin = "{admin}"
regions = ["eu-west-1", "us-east-1"]

[[detectors]]
accounts = ["{admin}"]
regions = ["eu-west-1", "us-east-1"]

[unavailable_features]
"us-east-1" = ["RDS_LOGIN_EVENTS"]
"#
    );
    (Env::with_spec(OrgSpec::parse(&text).unwrap()).await, admin)
}

/// gdorg as the management account, acting through the delegated administrator.
async fn run(env: &Env, args: &[&str]) -> std::process::Output {
    let mut args = args.to_vec();
    args.extend(["--admin-account", ADMIN]);
    gdorg(env, &env.management, &args).output().await.unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mutating(env: &Env) -> Vec<String> {
    env.sandbox
        .calls()
        .snapshot()
        .into_iter()
        .filter(|c| c.is_mutating())
        .map(|c| format!("{} {} {}", c.operation, c.account, c.region))
        .collect()
}

#[tokio::test]
async fn plans_roll_out_where_offered_and_the_audit_shows_them_with_gaps_and_drift() {
    let (env, admin) = env().await;
    let rollout = ["rollout", "--regions", REGIONS, "--features", PLANS];
    let out = run(&env, &rollout).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("RDS_LOGIN_EVENTS not offered by GuardDuty here"),
        "{}",
        text(&out)
    );
    // Again: nothing to do, not even for the plan us-east-1 lacks.
    env.sandbox.calls().clear();
    let out = run(&env, &rollout).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(mutating(&env), Vec::<String>::new());

    // The audit, asked for the same plans: no plan gap; RDS n/a in us-east-1 only.
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("audit.json");
    let audit = [
        "audit",
        "--regions",
        REGIONS,
        "--features",
        PLANS,
        "--format",
        "json",
        "--output",
    ];
    let mut args = audit.to_vec();
    args.push(baseline.to_str().unwrap());
    let out = run(&env, &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    let plans = &a["plans"];
    assert_eq!(plans["gaps"], serde_json::json!([]));
    let region = |r: &str| {
        plans["regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["region"] == r)
            .unwrap()
            .clone()
    };
    let (eu, us) = (region("eu-west-1"), region("us-east-1"));
    // Five accounts (administrator and four members) in each region.
    assert_eq!(eu["counts"]["RDS_LOGIN_EVENTS"]["on"], 5);
    assert_eq!(us["counts"]["RDS_LOGIN_EVENTS"]["not_available"], 5);
    assert_eq!(us["counts"]["S3_DATA_EVENTS"]["on"], 5);
    // Agent management is reported beside its plan.
    assert!(plans["plans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT"));
    // New accounts get the plans: auto-enable per plan, per region.
    assert_eq!(eu["auto_enable"]["S3_DATA_EVENTS"], "NEW");
    assert_eq!(eu["auto_enable"]["RDS_LOGIN_EVENTS"], "NEW");
    assert!(us["auto_enable"].get("RDS_LOGIN_EVENTS").is_none(), "{us}");

    // A member's S3 Protection goes off (the administrator turns it off for it).
    let member = OrgSpec::generated_id(2);
    let gd = env.gd(&admin, "eu-west-1").await;
    let det = gd.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    gd.update_member_detectors()
        .detector_id(det)
        .account_ids(&member)
        .features(
            aws_sdk_guardduty::types::MemberFeaturesConfiguration::builder()
                .name(aws_sdk_guardduty::types::OrgFeature::S3DataEvents)
                .status(aws_sdk_guardduty::types::FeatureStatus::Disabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = run(
        &env,
        &[
            "audit",
            "--regions",
            REGIONS,
            "--features",
            PLANS,
            "--baseline",
            baseline.to_str().unwrap(),
            "--plans",
            "eu-west-1",
        ],
    )
    .await;
    // A plan gap fails the audit like a coverage gap (exit 3), and is drift against the baseline.
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "S3_DATA_EVENTS: 1 gap(s): {member} eu-west-1 (off)"
        )),
        "{t}"
    );
    assert!(
        t.contains("S3_DATA_EVENTS on") && t.contains("S3_DATA_EVENTS off"),
        "{t}"
    );
    // The region view: one row per account, the member's S3 column off.
    let view = t
        .split("Protection plans in eu-west-1")
        .nth(1)
        .expect("the eu-west-1 plans view");
    let row = view
        .lines()
        .find(|l| l.contains(&member))
        .expect("the member has a row in the eu-west-1 view");
    assert!(row.contains('○'), "{row}");
    // The account view: regions x plans of one account, RDS not offered in us-east-1.
    let out = run(&env, &["audit", "--regions", REGIONS, "--plans", &member]).await;
    let t = text(&out);
    let us_row = t
        .lines()
        .find(|l| l.contains("us-east-1") && l.contains('●'))
        .expect("a us-east-1 row in the account view");
    assert!(us_row.contains('–'), "{us_row}");
    // Not a region of the audit, not an account: refused before any call.
    env.sandbox.calls().clear();
    let out = run(
        &env,
        &["audit", "--regions", REGIONS, "--plans", "ap-south-1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--plans \"ap-south-1\""),
        "{}",
        text(&out)
    );
    assert!(env.sandbox.calls().snapshot().is_empty());
}

#[tokio::test]
async fn runtime_monitoring_and_eks_runtime_monitoring_are_refused_together() {
    let (env, _) = env().await;
    for cmd in ["rollout", "audit", "plan"] {
        let out = run(
            &env,
            &[
                cmd,
                "--features",
                "RUNTIME_MONITORING,EKS_RUNTIME_MONITORING",
            ],
        )
        .await;
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", text(&out));
        assert!(text(&out).contains("exclude"), "{cmd}: {}", text(&out));
    }
    assert!(env.sandbox.calls().snapshot().is_empty());
}

/// After a rollout with every plan on, an auditor reading GuardDuty through boto3 (as
/// third-party checkers do) finds every plan enabled in every region, and every member
/// centrally managed. Skipped where python3 has no boto3.
#[tokio::test]
async fn a_boto3_auditor_finds_every_plan_enabled_after_rollout() {
    let has_boto3 = std::process::Command::new("python3")
        .args(["-c", "import boto3"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_boto3 {
        eprintln!("skipped: python3 with boto3 is not installed");
        return;
    }
    let env = Env::new(2).await;
    // Every plan of the service model but the one RUNTIME_MONITORING includes.
    let all: Vec<&str> = guardduty_org::settings::Feature::all()
        .map(|f| f.as_str())
        .filter(|f| *f != "EKS_RUNTIME_MONITORING")
        .collect();
    let plans = all.join(",");
    let out = gdorg(
        &env,
        &env.management,
        &[
            "rollout",
            "--mode",
            "invitation",
            "--regions",
            REGIONS,
            "--features",
            &plans,
        ],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/integration/tools/guardduty_plans_check.py"
    );
    let mut accounts = env.members();
    accounts.push(env.management.clone());
    for account in accounts {
        let keys = env.sandbox.keys_of(&account).unwrap();
        let role = if account == env.management {
            "administrator"
        } else {
            "member"
        };
        // Async: the sandbox answers on this test's runtime.
        let out = tokio::process::Command::new("python3")
            .args([script, &env.sandbox.endpoint(), REGIONS, &plans, role])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let problems: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        assert!(problems.is_empty(), "{account}: {problems:?}");
    }
}

/// `gdorg demo`, as a new user runs it: the plans view after the rollout (RDS not offered in
/// one region), runtime coverage with the unhealthy agents, the cost summary and free trials.
#[tokio::test]
async fn the_demo_shows_the_plans_view_coverage_and_cost() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gdorg"))
        .args(["demo", "--report", report.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .output()
        .await
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    // After the rollout: every plan asked for is on wherever offered; RDS is not in one region.
    let after = t.split("after the rollout").nth(1).expect("a second audit");
    let grid = after
        .split("Protection plans: accounts with the plan on")
        .nth(1)
        .unwrap();
    let row = grid
        .lines()
        .find(|l| l.contains("ap-northeast-3"))
        .expect("an ap-northeast-3 row");
    assert!(row.contains('–'), "{row}");
    assert!(after.contains("RDS_LOGIN_EVENTS: on in every covered cell that offers it"));
    assert!(after.contains("S3_DATA_EVENTS: on in every covered cell that offers it"));
    // Runtime coverage and cost.
    assert!(t.contains("== gdorg coverage =="), "{t}");
    assert!(t.contains("2 unhealthy"), "{t}");
    assert!(t.contains("== gdorg usage"), "{t}");
    assert!(t.contains("top accounts by cost"), "{t}");
    assert!(t.contains("free trials still running"), "{t}");
    assert!(report.exists());
}

/// `--runtime-agents`: GuardDuty manages the runtime agent too, in every member and for new
/// accounts; once on, a second rollout changes nothing, and the audit asks for it.
#[tokio::test]
async fn runtime_agent_management_rolls_out_with_its_plan_and_is_audited() {
    let (env, admin) = env().await;
    let rollout = [
        "rollout",
        "--regions",
        REGIONS,
        "--features",
        "RUNTIME_MONITORING",
        "--runtime-agents",
    ];
    let out = run(&env, &rollout).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A member's detector, read by its administrator: the plan and its three agents on.
    let gd = env.gd(&admin, "eu-west-1").await;
    let det = gd.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let member = OrgSpec::generated_id(3);
    let got = gd
        .get_member_detectors()
        .detector_id(&det)
        .account_ids(&member)
        .send()
        .await
        .unwrap();
    let runtime = got.member_data_source_configurations()[0]
        .features()
        .iter()
        .find(|f| f.name().map(|n| n.as_str()) == Some("RUNTIME_MONITORING"))
        .unwrap()
        .clone();
    assert_eq!(runtime.status().map(|s| s.as_str()), Some("ENABLED"));
    let agents: Vec<(&str, &str)> = runtime
        .additional_configuration()
        .iter()
        .map(|a| {
            (
                a.name().unwrap().as_str(),
                a.status().map(|s| s.as_str()).unwrap_or_default(),
            )
        })
        .collect();
    for a in [
        "EKS_ADDON_MANAGEMENT",
        "ECS_FARGATE_AGENT_MANAGEMENT",
        "EC2_AGENT_MANAGEMENT",
    ] {
        assert!(agents.contains(&(a, "ENABLED")), "{agents:?}");
    }
    // New accounts get them too.
    let org = gd
        .describe_organization_configuration()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    let rt = org
        .features()
        .iter()
        .find(|f| f.name().map(|n| n.as_str()) == Some("RUNTIME_MONITORING"))
        .unwrap();
    assert!(rt
        .additional_configuration()
        .iter()
        .all(|a| a.auto_enable().map(|s| s.as_str()) == Some("NEW")));
    // Converged: nothing to do.
    env.sandbox.calls().clear();
    let out = run(&env, &rollout).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(mutating(&env), Vec::<String>::new());
    // The audit asks for the agents too: none missing.
    let out = run(
        &env,
        &[
            "audit",
            "--regions",
            REGIONS,
            "--features",
            "RUNTIME_MONITORING",
            "--runtime-agents",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Without --runtime-agents, a plain runtime rollout elsewhere leaves agents as they are:
    // an account whose agent management is turned off is an audit plan gap with the flag.
    gd.update_member_detectors()
        .detector_id(&det)
        .account_ids(&member)
        .features(
            aws_sdk_guardduty::types::MemberFeaturesConfiguration::builder()
                .name(aws_sdk_guardduty::types::OrgFeature::RuntimeMonitoring)
                .additional_configuration(
                    aws_sdk_guardduty::types::MemberAdditionalConfiguration::builder()
                        .name(aws_sdk_guardduty::types::OrgFeatureAdditionalConfiguration::Ec2AgentManagement)
                        .status(aws_sdk_guardduty::types::FeatureStatus::Disabled)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = run(
        &env,
        &[
            "audit",
            "--regions",
            REGIONS,
            "--features",
            "RUNTIME_MONITORING",
            "--runtime-agents",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "RUNTIME_MONITORING.EC2_AGENT_MANAGEMENT: 1 gap(s): {member} eu-west-1 (off)"
        )),
        "{}",
        text(&out)
    );
}
