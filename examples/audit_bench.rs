//! Audit benchmark: `gdorg audit` of a sandbox organization of N accounts x every region, with
//! a fixed latency per call, and how close the wall time comes to the lower bound.
//!
//! ```text
//! cargo run --release --example audit_bench -- [ACCOUNTS=1000] [LATENCY_MS=20] [CONCURRENCY=32]
//! ```
//!
//! The lower bound is the larger of (a) the longest chain of calls that must follow one another
//! x latency and (b) all calls / concurrency x latency.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use guardduty_org::control::{Silent, Stop};
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::sandbox::Sandbox;
use guardduty_org::settings::{AccountSource, Desired, Mode, DEFAULT_CONCURRENCY};

/// The longest chain of calls that must follow one another on a fresh organization:
/// ListAccounts; the administrator's ListDetectors (regions are read administrator first);
/// then a member's AssumeRole, ListDetectors and ListInvitations.
const CHAIN: u32 = 5;

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
    let (audit, _) = guardduty_org::audit::run(
        session,
        desired,
        &AccountSource::Organizations,
        concurrency,
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
        "audit of {accounts} accounts x {} regions, {latency_ms} ms per call, concurrency {concurrency}",
        regions.len()
    );
    println!(
        "cells: {}, counted {}, covered {}, gaps {}",
        audit.cells.len(),
        audit.summary.overall.counted,
        audit.summary.overall.covered,
        audit.summary.gaps
    );
    println!("API calls by operation:");
    for (op, n) in &by_op {
        println!("  {op:<40} {n:>8}");
    }
    let mutating = sandbox
        .calls()
        .snapshot()
        .iter()
        .filter(|c| c.is_mutating())
        .count();
    println!("mutating calls: {mutating}");
    println!("total calls: {total}");
    println!(
        "wall time: {:.2} s; lower bound: {:.2} s (chain {:.2} s, calls/concurrency {:.2} s); ratio {:.2}",
        wall.as_secs_f64(),
        bound.as_secs_f64(),
        chain_bound.as_secs_f64(),
        throughput_bound.as_secs_f64(),
        wall.as_secs_f64() / bound.as_secs_f64()
    );
    sandbox.shutdown().await;
    Ok(())
}
