//! `gdorg report` against the sandbox: findings of many members in many regions reach the
//! administrator's report with the right counts; every format renders; attacker strings are
//! escaped in HTML (and no injected script runs in headless Chromium) and neutralised in CSV.

use std::collections::BTreeSet;

use std::sync::Arc;

use guardduty_org::aws::Session;
use guardduty_org::control::{Silent, Stop};
use guardduty_org::findings::source::ReadOptions;
use guardduty_org::report::{self, build::build, Format};

use crate::findings::{self, ADMIN, MEMBERS, OUTSIDER, PER_CELL, REGIONS};
use crate::support::Env;

const HOSTILE: &str = r#"
[[findings]]
accounts = ["200000000002"]
regions = ["eu-west-1"]
types = ["Backdoor:EC2/C&CActivity.B!DNS"]
domain = "<script>document.title='PWNED'</script>evil.example.com"
instance_name = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1')\">"

[[findings]]
accounts = ["200000000003"]
regions = ["us-east-1"]
types = ["Recon:IAMUser/MaliciousIPCaller"]
user_agent = "=cmd|' /C calc'!A0"
domain = "@evil.example.com"
"#;

fn read_args() -> ReadOptions {
    let regions: Vec<String> = REGIONS.iter().map(|r| r.to_string()).collect();
    ReadOptions::through_administrator(&regions)
}

async fn build_report(
    f: guardduty_org::aws::ClientFactory,
    read: &ReadOptions,
    top: usize,
) -> Result<report::Report, report::build::BuildError> {
    let session = Arc::new(Session::new(f).await?);
    Ok(build(session, read, top, &Silent, &Stop::default())
        .await?
        .report)
}

async fn hostile_report() -> (Env, report::Report) {
    let env = Env::with_spec(findings::spec(HOSTILE)).await;
    let f = findings::factory_of(&env, ADMIN).await;
    // Room for every finding (6 cells x PER_CELL + 1) in the top list.
    let rep = build_report(f, &read_args(), 200).await.unwrap();
    (env, rep)
}

#[tokio::test]
async fn the_administrators_report_counts_every_member_and_region() {
    let (env, rep) = hostile_report().await;
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    let cells: BTreeSet<(String, String)> = rep
        .cells
        .iter()
        .map(|c| (c.account.clone(), c.region.clone()))
        .collect();
    let mut want = BTreeSet::new();
    for a in [ADMIN, MEMBERS[0], MEMBERS[1]] {
        for r in REGIONS {
            want.insert((a.to_string(), r.to_string()));
        }
    }
    assert_eq!(cells, want);
    assert!(!rep.totals.accounts.contains(&OUTSIDER.to_string()));
    // Totals agree with a plain read of current and archived findings.
    let cfg = env.user(ADMIN).await;
    let current = findings::read(&cfg, &findings::filter("")).await;
    let archived = findings::read(&cfg, &findings::filter(r#"status = "archived""#)).await;
    assert_eq!(rep.totals.current_total as usize, current.len());
    assert_eq!(rep.totals.archived_total as usize, archived.len());
    assert_eq!(
        rep.totals.current_total + rep.totals.archived_total,
        (6 * PER_CELL + 2) as u64
    );
    let critical = current.iter().filter(|f| f.severity >= 9.0).count() as u64;
    assert_eq!(rep.totals.current[3], critical);
    // The top list is sorted by severity and holds no archived finding.
    assert!(rep
        .top_findings
        .windows(2)
        .all(|w| w[0].severity >= w[1].severity));
    assert!(rep.top_findings.iter().all(|f| !f.archived));
    assert!(rep.archived.listed.iter().all(|f| f.archived));
    assert!(rep.archived.rule.contains("only the administrator account"));
    // Coverage: the administrator and its enabled members are monitored in every region
    // (the members as the administrator sees them: its role cannot enter them); the account
    // that is nobody's member is not.
    for r in REGIONS {
        for a in [ADMIN, MEMBERS[0], MEMBERS[1]] {
            let row = rep
                .coverage
                .row(a, r)
                .expect("every account x region is listed");
            assert!(row.monitored, "{row:?}");
        }
        let outsider = rep.coverage.row(OUTSIDER, r).unwrap();
        assert!(!outsider.monitored, "{outsider:?}");
    }
    assert!(rep.scope.caller_arn.contains(ADMIN));
}

#[tokio::test]
async fn attacker_strings_are_escaped_and_neutralised_in_every_format() {
    let (_env, rep) = hostile_report().await;
    let hostile = rep
        .top_findings
        .iter()
        .chain(&rep.archived.listed)
        .find(|f| {
            f.actor
                .domain
                .as_deref()
                .is_some_and(|d| d.contains("PWNED"))
        })
        .expect("the hostile finding is among the listed ones");
    assert!(
        hostile.resource_id.contains("<img"),
        "{}",
        hostile.resource_id
    );
    assert!(rep
        .top_findings
        .iter()
        .chain(&rep.archived.listed)
        .any(|f| f.actor.user_agent.as_deref() == Some("=cmd|' /C calc'!A0")));

    let html = report::render(&rep, Format::Html).unwrap();
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;"));

    let md = report::render(&rep, Format::Markdown).unwrap();
    assert!(!md.contains("<script") && !md.contains("<img"));

    let csv_text = report::render(&rep, Format::Csv).unwrap();
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let mut saw = false;
    for rec in rd.records() {
        for cell in rec.unwrap().iter() {
            assert!(
                !matches!(
                    cell.as_bytes().first(),
                    Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
                ),
                "{cell:?}"
            );
            saw |= cell.starts_with("'=cmd|");
        }
    }
    assert!(saw, "the user agent cell is present, neutralised");

    let json = report::render(&rep, Format::Json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], 1);
    let table = report::render(&rep, Format::Table).unwrap();
    assert!(table.contains("current ("));
}

/// Open the HTML report in headless Chromium: our own script runs (CSP allows it by hash),
/// no injected one does. Skips, saying so, when Chromium is not installed.
#[tokio::test]
async fn no_injected_script_runs_in_headless_chromium() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| which(b))
    else {
        println!("SKIPPED: no chromium on PATH (apt-get install -y chromium)");
        return;
    };
    let (_env, rep) = hostile_report().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    std::fs::write(&path, report::render(&rep, Format::Html).unwrap()).unwrap();
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("data-gdorg=\"ready\""),
        "our script did not run: {dom:.2000}"
    );
    assert!(!dom.contains("data-pwned=\"1\""), "an injected handler ran");
    assert!(!dom.contains("<title>PWNED"), "an injected script ran");
    assert!(dom.contains("PWNED"), "the hostile text is shown, as text");
}

fn which(bin: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// `report --manifest`: `<output>.manifest.json` beside the report names it with the SHA-256
/// and size of the bytes on disk, the scope, gdorg's version and the caller; without --output
/// it is refused.
#[tokio::test]
async fn the_manifest_holds_the_reports_hash_scope_version_and_caller() {
    use sha2::Digest as _;
    let env = findings::env().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    let out = findings::gdorg(
        &env,
        ADMIN,
        &["report", "--output", file.to_str().unwrap(), "--manifest"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let manifest_path = dir.path().join("report.html.manifest.json");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["path"], "report.html");
    assert_eq!(files[0]["sha256"], sha);
    assert_eq!(files[0]["bytes"], bytes.len() as u64);
    assert_eq!(m["gdorg_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        m["caller"].as_str().unwrap().contains(ADMIN),
        "{}",
        m["caller"]
    );
    assert_eq!(m["scope"]["administrator"], ADMIN);
    assert_eq!(m["scope"]["regions"], serde_json::json!(REGIONS));
    // Only the report and its manifest: no temporary file is left beside them.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    let out = findings::gdorg(&env, ADMIN, &["report", "--manifest"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output FILE"));
}

/// The archive section checks the rule: the administrator's suppression rules with what each
/// archives, and, through the member role, a member's own rule and archive left from its time
/// as a standalone account. The administrator's own role cannot enter members: said, per cell.
#[tokio::test]
async fn the_archive_section_lists_every_rule_and_member_archive_with_its_owner() {
    use aws_sdk_guardduty::types::{Condition, FilterAction, FindingCriteria};
    let env = findings::env().await;
    let region = REGIONS[0];
    let criteria =
        |field: &str, c: Condition| FindingCriteria::builder().criterion(field, c).build();
    // While standalone, the outsider made a rule and archived two of its findings.
    let go = env.gd(OUTSIDER, region).await;
    let det_o = go.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    go.create_filter()
        .detector_id(&det_o)
        .name("hide-probes")
        .action(FilterAction::Archive)
        .finding_criteria(criteria(
            "type",
            Condition::builder()
                .equals("Recon:EC2/PortProbeUnprotectedPort")
                .build(),
        ))
        .send()
        .await
        .unwrap();
    let current = go
        .list_findings()
        .detector_id(&det_o)
        .finding_criteria(criteria(
            "service.archived",
            Condition::builder().equals("false").build(),
        ))
        .max_results(2)
        .send()
        .await
        .unwrap();
    let two = current.finding_ids().to_vec();
    assert_eq!(two.len(), 2);
    go.archive_findings()
        .detector_id(&det_o)
        .set_finding_ids(Some(two))
        .send()
        .await
        .unwrap();
    let mut own_archived = 0;
    let mut pages = go
        .list_findings()
        .detector_id(&det_o)
        .finding_criteria(criteria(
            "service.archived",
            Condition::builder().equals("true").build(),
        ))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        own_archived += page.unwrap().finding_ids().len();
    }
    assert!(own_archived >= 2);
    // Then it joined: the administrator adds it (an organization account: Enabled at once).
    let ga = env.gd(ADMIN, region).await;
    let det_a = ga.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    crate::support::create_member(&env, &ga, &det_a, OUTSIDER).await;
    // The administrator's own rule: low-severity findings.
    ga.create_filter()
        .detector_id(&det_a)
        .name("suppress-low")
        .action(FilterAction::Archive)
        .finding_criteria(criteria(
            "severity",
            Condition::builder().less_than(4).build(),
        ))
        .send()
        .await
        .unwrap();
    // A NOOP filter hides nothing and is not listed.
    ga.create_filter()
        .detector_id(&det_a)
        .name("saved-view")
        .action(FilterAction::Noop)
        .finding_criteria(criteria(
            "severity",
            Condition::builder().greater_than_or_equal(7).build(),
        ))
        .send()
        .await
        .unwrap();
    let low_archived = findings::read(
        &env.user(ADMIN).await,
        &findings::filter("status = \"archived\"\nseverity = [\"low\"]"),
    )
    .await
    .into_iter()
    .filter(|f| f.region == region)
    .count() as i64;
    assert!(low_archived > 0, "the seed archives some low findings");

    // As the management account (an auditor's view): the members are read through the role.
    let session = crate::support::session(&env, 1).await;
    let rep = build(session, &read_args(), 10, &Silent, &Stop::default())
        .await
        .unwrap()
        .report;
    // What the monitored cells were watching: every plan's state over exactly those cells.
    let s3 = rep
        .coverage
        .plans
        .iter()
        .find(|p| p.plan == "S3_DATA_EVENTS")
        .expect("the report summarises the protection plans");
    let c = s3.counts;
    assert_eq!(
        c.on + c.off + c.unknown + c.not_available,
        rep.coverage.monitored
    );
    assert!(rep.coverage.monitored > 0);
    let s = &rep.archived.suppression;
    assert!(s.unchecked.is_empty(), "{:?}", s.unchecked);
    assert_eq!(s.administrator_regions, 2);
    // Members: two in each region, the outsider in one.
    assert_eq!(s.member_cells, 5);
    let names: Vec<(&str, &str, &str)> = s
        .rules
        .iter()
        .map(|r| (r.owner.label(), r.account.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("administrator", ADMIN, "suppress-low"),
            ("member", OUTSIDER, "hide-probes")
        ]
    );
    assert_eq!(s.rules[0].criteria, "severity < 4");
    assert_eq!(s.rules[0].archived(), Some(low_archived));
    assert_eq!(
        s.rules[1].criteria,
        "type = Recon:EC2/PortProbeUnprotectedPort"
    );
    // The member's archive: exactly what its own detector holds archived.
    let outsider = s
        .member_archives
        .iter()
        .find(|a| a.account == OUTSIDER)
        .expect("the outsider's archive is listed");
    assert_eq!(outsider.archived, own_archived as i64);
    assert_eq!(outsider.region, region);
    // Every renderer says it.
    for format in [Format::Markdown, Format::Html, Format::Table, Format::Csv] {
        let text = report::render(&rep, format).unwrap();
        assert!(
            text.contains("hide-probes") && text.contains("suppress-low"),
            "{format:?}"
        );
        assert!(text.contains(OUTSIDER), "{format:?}");
    }

    // The administrator's own credentials cannot enter the members: each such cell is named.
    let rep = build_report(findings::factory_of(&env, ADMIN).await, &read_args(), 10)
        .await
        .unwrap();
    let s = &rep.archived.suppression;
    assert_eq!(s.unchecked.len(), 5, "{:?}", s.unchecked);
    assert!(s.unchecked.iter().all(|u| u.account != ADMIN));
    assert!(
        s.summary().contains("5 could not be checked"),
        "{}",
        s.summary()
    );
    assert_eq!(s.rules.len(), 1, "the administrator's rule is still read");
}

/// At any number of findings the report counts on the server: with many findings and a short
/// top list, GetFindings is called only for the listed findings (current and archived, per
/// region) and the highest severity of the listed types, and every count still equals what
/// reading every finding gives.
#[tokio::test]
async fn the_report_counts_on_the_server_and_fetches_only_what_it_lists() {
    const MANY: &str = r#"
[[findings]]
accounts = ["200000000001", "200000000002", "200000000003"]
regions = ["us-east-1", "eu-west-1"]
per_cell = 1000
archived_fraction = 0.1
"#;
    const TOP: usize = 7;
    let env = Env::with_spec(findings::spec(MANY)).await;
    let f = findings::factory_of(&env, ADMIN).await;
    env.sandbox.calls().clear();
    let rep = build_report(f, &read_args(), TOP).await.unwrap();
    let calls = env.sandbox.calls().snapshot();
    let count = |op: &str| calls.iter().filter(|c| c.operation == op).count();
    // Per region: one GetFindings for the current top list, one for the archived one (each
    // well under 50 ids), and at most one a listed type for the types' highest severities;
    // reading every finding would take more than 6,000 / 50.
    let bound = REGIONS.len() * (2 + report::aggregate::TOP_TYPES);
    assert!(
        count("GetFindings") <= bound,
        "{} GetFindings calls, more than {bound}",
        count("GetFindings")
    );
    assert!(count("GetFindingsStatistics") > 0);
    let failed: Vec<_> = calls
        .iter()
        .filter(|c| c.operation.contains("Finding") && c.status != 200)
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert_eq!(rep.top_findings.len(), TOP);
    assert_eq!(rep.archived.listed.len(), TOP);

    // The oracle: every finding, read and aggregated on the client.
    let cfg = env.user(ADMIN).await;
    let all = findings::read(&cfg, &findings::filter(r#"status = "all""#)).await;
    assert!(all.len() > 6000, "{} findings", all.len());
    let mut oracle = report::Aggregator::new(TOP);
    for f in &all {
        oracle.add(f);
    }
    let want = oracle.finish(rep.scope.clone(), rep.coverage.clone(), vec![]);
    assert_eq!(rep.totals, want.totals);
    assert_eq!(rep.cells, want.cells);
    assert_eq!(rep.days, want.days);
    assert_eq!(rep.regions, want.regions);
    assert_eq!(rep.top_types, want.top_types);
    assert_eq!(rep.archived.total, want.archived.total);
    // The listed findings: the same severities, highest first (ties at the cut may be other
    // findings of the same score), and each one really is among the findings.
    let sev = |v: &[guardduty_org::findings::FindingRecord]| -> Vec<f64> {
        v.iter().map(|f| f.severity).collect()
    };
    assert_eq!(sev(&rep.top_findings), sev(&want.top_findings));
    assert_eq!(sev(&rep.archived.listed), sev(&want.archived.listed));
    let ids: BTreeSet<&str> = all.iter().map(|f| f.id.as_str()).collect();
    assert!(rep
        .top_findings
        .iter()
        .chain(&rep.archived.listed)
        .all(|f| ids.contains(f.id.as_str())));
}
