//! Rollout benchmark: GuardDuty on across a sandbox organization of N accounts x every region,
//! with a fixed latency per call, and how close the wall time comes to the lower bound.
//!
//! ```text
//! cargo run --release --example rollout_bench -- [ACCOUNTS=1000] [LATENCY_MS=20] [CONCURRENCY=32]
//! ```
//!
//! The lower bound is the larger of (a) the longest chain of calls that must follow one another
//! x latency and (b) all calls / concurrency x latency. The goal is within 1.3x of it.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use guardduty_org::control::{Silent, Stop};
use guardduty_org::rollout::{self, Command};
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::sandbox::Sandbox;
use guardduty_org::settings::{AccountSource, Desired, Mode, RunSettings, DEFAULT_CONCURRENCY};

/// The longest chain of calls that must follow one another on a fresh organization:
/// ListAccounts; the administrator's ListDetectors (regions are read admin first); the member's
/// AssumeRole, ListDetectors and ListInvitations; then the administrator's CreateDetector,
/// CreateMembers and InviteMembers, and the member's ListInvitations and
/// AcceptAdministratorInvitation.
const CHAIN: u32 = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arg = |i: usize, default: u64| -> u64 {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (accounts, latency_ms, concurrency) = (
        arg(1, 1000),
        arg(2, 20),
        arg(3, DEFAULT_CONCURRENCY as u64) as usize,
    );
    let mut spec = OrgSpec::generated(accounts as usize);
    spec.faults.latency_ms = latency_ms;
    let sandbox = Sandbox::start(&spec, 0).await?;
    let session = Arc::new(guardduty_org::commands::demo::sandbox_session(&sandbox).await?);
    let regions: Vec<String> = guardduty_org::regions::all().map(String::from).collect();
    let desired = Desired::new(Mode::Invitation, &session.caller, regions.clone());
    sandbox.calls().clear();
    let started = Instant::now();
    let report = rollout::run(
        session,
        desired,
        AccountSource::Organizations,
        Command::Rollout { dry_run: false },
        &RunSettings {
            concurrency,
            journal: None,
        },
        &Silent,
        &Stop::default(),
    )
    .await?;
    let wall = started.elapsed();
    let by_op = sandbox.calls().count_by_operation();
    let total: usize = by_op.values().sum();
    let latency = Duration::from_millis(latency_ms);
    let chain_bound = latency * CHAIN;
    let throughput_bound = latency.mul_f64(total as f64 / concurrency as f64);
    let bound = chain_bound.max(throughput_bound);
    println!(
        "rollout of {accounts} accounts x {} regions, {latency_ms} ms per call, concurrency {concurrency}",
        regions.len()
    );
    println!("outcome: {:?}", report.outcome());
    for (kind, n) in report.plan.notice_counts() {
        println!("notice: {kind}: {n}");
    }
    if let Some(ex) = &report.execution {
        let problems: Vec<_> = report
            .plan
            .steps
            .iter()
            .zip(&ex.results)
            .filter(|(_, r)| r.error().is_some() || r.failed_accounts().next().is_some())
            .collect();
        println!(
            "steps: {}, with failures: {}",
            ex.results.len(),
            problems.len()
        );
        for (step, r) in problems.iter().take(5) {
            println!(
                "  {} {} {}: {:?} {:?}",
                step.action.kind(),
                step.action.account(),
                step.action.region(),
                r.error(),
                r.failed_accounts().next()
            );
        }
    }
    for n in report
        .plan
        .notices
        .iter()
        .filter(|n| n.is_problem())
        .take(5)
    {
        println!("  {n:?}");
    }
    println!("API calls by operation:");
    for (op, n) in &by_op {
        println!("  {op:<40} {n:>8}");
    }
    println!("  {:<40} {total:>8}", "total");
    println!(
        "wall time:                    {:>8.2} s",
        wall.as_secs_f64()
    );
    println!(
        "bound, dependency chain:      {:>8.2} s ({CHAIN} calls)",
        chain_bound.as_secs_f64()
    );
    println!(
        "bound, calls / concurrency:   {:>8.2} s",
        throughput_bound.as_secs_f64()
    );
    println!(
        "ratio to the bound:           {:>8.2} (goal <= 1.30)",
        wall.as_secs_f64() / bound.as_secs_f64()
    );
    sandbox.shutdown().await;
    Ok(())
}
