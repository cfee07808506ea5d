//! The findings export end to end: `rollout --export-bucket --export-kms-key` gives the
//! administrator a publishing destination in every region (both modes), a second run makes no
//! mutating call, another key is an update; `plan` shows it; the audit reports each region's
//! destination and a destination that cannot publish as a gap; bad ARNs are refused before any
//! call; the AWS CLI lists destinations from `gdorg sandbox serve`.

use std::sync::Arc;

use guardduty_org::aws::Session;
use guardduty_org::control::{Silent, Stop};
use guardduty_org::outcome::Outcome;
use guardduty_org::plan::Action;
use guardduty_org::rollout::{self, Command, Report};
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::settings::{AccountSource, Desired, ExportTarget, Mode, RunSettings};

use crate::support::{self, session, Env};

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];
const BUCKET: &str = "arn:aws:s3:::org-guardduty-findings/export/";
const KEY_1: &str = "arn:aws:kms:eu-west-1:111111111111:key/first-key";
const KEY_2: &str = "arn:aws:kms:eu-west-1:111111111111:key/second-key";

fn desired(admin: &str, mode: Mode, key: &str) -> Desired {
    let mut d = Desired::new(mode, admin, REGIONS.iter().map(|r| r.to_string()).collect());
    d.export = Some(ExportTarget {
        bucket_arn: BUCKET.into(),
        kms_key_arn: key.into(),
    });
    // Plans too: a second rollout with the same plans and export changes nothing.
    d.features = ["S3_DATA_EVENTS", "RUNTIME_MONITORING", "AI_PROTECTION"]
        .iter()
        .map(|f| f.parse().unwrap())
        .collect();
    d.runtime_agents = true;
    d
}

async fn rollout(s: &Arc<Session>, d: &Desired) -> Report {
    rollout::run(
        s.clone(),
        d.clone(),
        AccountSource::Organizations,
        Command::Rollout { dry_run: false },
        &RunSettings::default(),
        &Silent,
        &Stop::default(),
    )
    .await
    .expect("run starts")
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

/// The administrator's destinations in `region`: (id, bucket, key, status).
fn destinations(env: &Env, admin: &str, region: &str) -> Vec<(String, String, String, String)> {
    env.sandbox.world(|w| {
        w.detector(admin, region)
            .map(|d| {
                d.destinations
                    .values()
                    .map(|x| {
                        (
                            x.id.clone(),
                            x.destination_arn.clone(),
                            x.kms_key_arn.clone(),
                            x.status.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

#[tokio::test]
async fn rollout_exports_in_every_region_in_both_modes_once_and_updates_another_key() {
    for mode in [Mode::Invitation, Mode::Organizations] {
        let env = Env::new(2).await;
        let s = session(&env, 3).await;
        // Organizations mode: a delegated member account administers (reached through the role).
        let admin = match mode {
            Mode::Invitation => env.management.clone(),
            Mode::Organizations => env.members()[0].clone(),
        };
        let d = desired(&admin, mode, KEY_1);
        let report = rollout(&s, &d).await;
        assert_eq!(
            report.outcome(),
            Outcome::Success,
            "{mode:?}: {:?}",
            report.plan
        );
        let creates = report
            .plan
            .steps
            .iter()
            .filter(|st| matches!(st.action, Action::CreatePublishingDestination { .. }))
            .count();
        assert_eq!(creates, REGIONS.len(), "{mode:?}");
        let mut ids = Vec::new();
        for region in REGIONS {
            let found = destinations(&env, &admin, region);
            assert_eq!(found.len(), 1, "{mode:?} {region}: {found:?}");
            let (id, bucket, key, status) = &found[0];
            assert_eq!(
                (bucket.as_str(), key.as_str(), status.as_str()),
                (BUCKET, KEY_1, "PUBLISHING")
            );
            ids.push(id.clone());
        }

        // The same export again: read, nothing changed.
        env.sandbox.calls().clear();
        let again = rollout(&s, &d).await;
        assert!(again.plan.is_empty(), "{mode:?}: {:?}", again.plan);
        assert_eq!(mutating(&env), Vec::<String>::new(), "{mode:?}");
        let ops = env.sandbox.calls().count_by_operation();
        assert_eq!(ops.get("ListPublishingDestinations"), Some(&REGIONS.len()));
        assert_eq!(
            ops.get("DescribePublishingDestination"),
            Some(&REGIONS.len())
        );

        // Another key: the same destinations, updated in place.
        env.sandbox.calls().clear();
        let rekeyed = rollout(&s, &desired(&admin, mode, KEY_2)).await;
        assert_eq!(rekeyed.outcome(), Outcome::Success, "{mode:?}");
        let mut changed = mutating(&env);
        changed.sort();
        let expected: Vec<String> = REGIONS
            .iter()
            .map(|r| format!("UpdatePublishingDestination {admin} {r}"))
            .collect();
        assert_eq!(changed, expected, "{mode:?}");
        for (region, id) in REGIONS.iter().zip(&ids) {
            let found = destinations(&env, &admin, region);
            assert_eq!(found.len(), 1);
            assert_eq!((&found[0].0, found[0].2.as_str()), (id, KEY_2));
        }
    }
}

/// An organization whose management account administers alone (no members, so no cell
/// gaps), with a detector in both regions: eu-west-1 exports to a destination GuardDuty cannot
/// publish to, us-east-1 does not export.
fn stuck_spec() -> OrgSpec {
    let m = OrgSpec::default().management.id;
    OrgSpec::parse(&format!(
        r#"
        [[detectors]]
        accounts = ["{m}"]
        regions = ["us-east-1", "eu-west-1"]

        [[destinations]]
        accounts = ["{m}"]
        regions = ["eu-west-1"]
        bucket_arn = "{BUCKET}"
        kms_key_arn = "{KEY_1}"
        status = "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"
        "#
    ))
    .unwrap()
}

#[tokio::test]
async fn the_audit_reports_each_region_and_a_destination_that_cannot_publish_is_a_gap() {
    let env = Env::with_spec(stuck_spec()).await;
    let mgmt = env.management.clone();
    let audit_as = |format: &'static str, extra: &[&str]| {
        let mut args = vec![
            "audit",
            "--mode",
            "invitation",
            "--regions",
            "eu-west-1,us-east-1",
            "--format",
            format,
        ];
        args.extend_from_slice(extra);
        support::gdorg(&env, &mgmt, &args)
    };
    let audit = |extra: &[&str]| audit_as("json", extra);

    // Not asked for: both regions reported, no gap, exit 0.
    let out = audit(&[]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let export = json["export"].as_array().unwrap();
    assert_eq!(export.len(), 2, "{json}");
    assert_eq!(export[0]["region"], "eu-west-1");
    assert_eq!(
        export[0]["status"],
        "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"
    );
    assert_eq!(export[0]["bucket_arn"], BUCKET);
    assert!(export[0]["failing_since"].is_string(), "{json}");
    assert_eq!(export[0]["gap"], false);
    assert_eq!(export[1]["status"], "none");
    assert_eq!(export[1]["gap"], false);

    // Asked for: both are gaps, exit 3, and the fixes say what closes each.
    let flags = ["--export-bucket", BUCKET, "--export-kms-key", KEY_1];
    let out = audit(&flags).output().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["export_gaps"], 2);
    assert_eq!(json["export"][0]["gap"], true);
    assert_eq!(
        json["export"][0]["problem"],
        "findings export cannot publish (UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY)"
    );
    let fixes = json["fixes"].as_array().unwrap();
    let fix = |kind: &str| {
        fixes
            .iter()
            .find(|f| f["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind} in {fixes:?}"))
    };
    assert_eq!(fix("export")["regions"], serde_json::json!(["us-east-1"]));
    assert!(fix("export")["command"]
        .as_str()
        .unwrap()
        .contains(&format!(
            "--export-bucket {BUCKET} --export-kms-key {KEY_1}"
        )));
    assert_eq!(
        fix("export_policy")["regions"],
        serde_json::json!(["eu-west-1"])
    );

    // The table says the same to a person.
    let out = audit_as("table", &flags).output().await.unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("findings export of the administrator per region"),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.contains("eu-west-1")
            && l.contains("gap")
            && l.contains("UNABLE_TO_PUBLISH")),
        "{table}"
    );

    // The audit's fix closes the missing one; the stuck one stays for a person (a notice).
    let command = fix("export")["command"].as_str().unwrap().to_string();
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let out = support::gdorg(&env, &mgmt, &args).output().await.unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(destinations(&env, &mgmt, "us-east-1").len(), 1, "{text}");
    let out = audit(&flags).output().await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["export_gaps"], 1, "{json}");
    env.sandbox.calls().clear();
    let out = support::gdorg(
        &env,
        &mgmt,
        &[
            "rollout",
            "--mode",
            "invitation",
            "--regions",
            "eu-west-1",
            "--export-bucket",
            BUCKET,
            "--export-kms-key",
            KEY_1,
        ],
    )
    .output()
    .await
    .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("findings export not publishing"), "{text}");
    assert_eq!(mutating(&env), Vec::<String>::new());
}

#[tokio::test]
async fn plan_shows_the_export_and_bad_arns_are_refused_before_any_call() {
    let env = Env::new(0).await;
    let mgmt = env.management.clone();
    let common = ["--mode", "invitation", "--regions", "eu-west-1,us-east-1"];
    let out = support::gdorg(
        &env,
        &mgmt,
        &[
            &["plan"],
            &common[..],
            &["--export-bucket", BUCKET, "--export-kms-key", KEY_1],
        ]
        .concat(),
    )
    .output()
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("create findings export") && l.contains('2')),
        "{stdout}"
    );
    assert!(mutating(&env).is_empty());

    env.sandbox.calls().clear();
    for (flags, needle) in [
        (
            vec![
                "--export-bucket",
                "s3://org-findings",
                "--export-kms-key",
                KEY_1,
            ],
            "--export-bucket",
        ),
        (
            vec![
                "--export-bucket",
                BUCKET,
                "--export-kms-key",
                "alias/findings",
            ],
            "--export-kms-key",
        ),
        (vec!["--export-bucket", BUCKET], "--export-kms-key"),
        (vec!["--export-kms-key", KEY_1], "--export-bucket"),
    ] {
        for command in ["rollout", "audit"] {
            let args = [&[command], &common[..], &flags[..]].concat();
            let out = support::gdorg(&env, &mgmt, &args).output().await.unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?}");
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
        }
    }
    assert!(
        env.sandbox.calls().snapshot().is_empty(),
        "{:?}",
        env.sandbox.calls().snapshot()
    );
}

/// `aws guardduty create/list/describe-publishing-destination(s)` against the real
/// `gdorg sandbox serve`; skipped, saying so, when the CLI is not installed.
#[test]
fn the_aws_cli_lists_publishing_destinations_from_sandbox_serve() {
    if std::process::Command::new("aws")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: no aws CLI on PATH (pip install awscli)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = support::output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_gdorg"))
            .args(["sandbox", "serve", "--detach", "--env-file", "sb.env"])
            .args(["--port", "0", "--accounts", "1"])
            .current_dir(dir.path()),
        30,
        "gdorg sandbox serve --detach",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("sb.env")).unwrap();
    let vars: std::collections::BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let pid: u32 = vars["GDORG_SANDBOX_PID"].parse().unwrap();
    let aws = |args: &[&str]| -> serde_json::Value {
        let mut cmd = std::process::Command::new("aws");
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
            cmd.env_remove(k);
        }
        for k in [
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            cmd.env(k, &vars[k]);
        }
        let out = cmd
            .args(args)
            .args(["--output", "json"])
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    };
    let det = aws(&["guardduty", "create-detector", "--enable"])["DetectorId"]
        .as_str()
        .unwrap()
        .to_string();
    let created = aws(&[
        "guardduty",
        "create-publishing-destination",
        "--detector-id",
        &det,
        "--destination-type",
        "S3",
        "--destination-properties",
        &format!("DestinationArn={BUCKET},KmsKeyArn={KEY_1}"),
    ]);
    let id = created["DestinationId"].as_str().unwrap().to_string();
    let listed = aws(&[
        "guardduty",
        "list-publishing-destinations",
        "--detector-id",
        &det,
    ]);
    assert_eq!(listed["Destinations"][0]["DestinationId"], id.as_str());
    assert_eq!(listed["Destinations"][0]["Status"], "PUBLISHING");
    let described = aws(&[
        "guardduty",
        "describe-publishing-destination",
        "--detector-id",
        &det,
        "--destination-id",
        &id,
    ]);
    assert_eq!(described["DestinationProperties"]["KmsKeyArn"], KEY_1);
    assert_eq!(described["PublishingFailureStartTimestamp"], 0);
    support::terminate(pid);
    assert!(support::wait_until(10, || !support::running(pid)));
}
