//! `cargo bench --bench audit_scale`: the audit of a converged organization of 5,000 accounts x
//! 32 regions, read from the administrator. `gdorg sandbox serve` runs the organization in its
//! own process, every call answered after 20 ms (`[faults] latency_ms`); `gdorg audit` (another
//! process) runs as the administrator (the management account, delegated GuardDuty
//! administrator in every region) at `--concurrency 32`. Prints the calls the sandbox answered,
//! the AssumeRole calls among them (must be 0: no role in any member), the wall time and the
//! audit's peak RSS, each against the bound below. `GDORG_BENCH_SIZE=ACCOUNTSxREGIONS` (e.g.
//! `1000x8`) runs another size; under `cargo test --all-targets` a smoke size runs.
//!
//! The minimal-calls bound, defined apart from what gdorg does: in each region, a tool that
//! knows the GuardDuty API cannot avoid one ListDetectors (the administrator's detector id),
//! the administrator's member list in pages of 50 (ListMembers), the members' features in
//! batches of 50 (GetMemberDetectors) and one DescribeOrganizationConfiguration (auto-enable).
//! For M members in R regions that is `R x (2 + 2 x ceil(M / 50))` calls, and at concurrency C
//! and latency L at best `ceil(calls / C) x L` of wall time. Not in the bound, though gdorg
//! makes them: the organization's account list (Organizations ListAccounts, 20 accounts a page,
//! page after page), GetDetector, GetOrganizationStatistics and ListOrganizationAdminAccounts
//! per region, one ListRegions, GetCallerIdentity and the mode's detection.
//!
//! Measured once (2 cores shared with three other builds, load average about 7; release
//! profile, this crate at opt-level 0, 2026-12-02), 5,000 accounts x 32 regions: 6,813 calls
//! against a bound of 6,464 (1.05x: 3,200 ListMembers and 3,200 GetMemberDetectors, 250
//! ListAccounts pages, 32 each of the per-region reads), AssumeRole 0; 50.3 s against a bound
//! of 4.04 s (12.4x); client CPU 7.6 s, client peak RSS 436 MB; the sandbox's CPU while it
//! answered 17.8 s.
//!
//! Again with `cargo bench` (this crate optimised, 2026-12-02, fifth session, the slower
//! machine): 6,845 calls (1.06x), AssumeRole 0; 20.65 s against 4.04 s (5.11x); client CPU
//! 9.5 s; client peak RSS 408 MB (604 MB before the JSON was written as it is serialized: the
//! file is 140 MB); the sandbox's CPU 16.2 s. The time is the sandbox's one thread: ~2.4 ms of
//! CPU a call to build and serialize pages of 50 members and their detectors' features (JSON
//! values), more than 32 calls in flight at 20 ms each leave it. Without that, the floor is the
//! longest chain of calls that must follow one another: a region's 100 member pages (each
//! needs the previous page's token) and its 100 batches of member detectors, ~4 s at 20 ms.

mod common;

const LATENCY_MS: u64 = 20;
const CONCURRENCY: usize = 32;
const MANAGEMENT: &str = "111111111111";
/// GuardDuty's page and batch size for members.
const PER_CALL: usize = 50;

struct Size {
    accounts: usize,
    regions: usize,
}

/// `n` regions, the home region (us-east-1, where the mode is detected) first.
fn regions(n: usize) -> Vec<&'static str> {
    const HOME: &str = "us-east-1";
    std::iter::once(HOME)
        .chain(guardduty_org::regions::all().filter(|r| *r != HOME))
        .take(n)
        .collect()
}

fn org_file(size: &Size) -> String {
    let regions = regions(size.regions);
    let opt_in: Vec<&str> = regions
        .iter()
        .copied()
        .filter(|r| guardduty_org::regions::lookup(r).is_some_and(|i| i.opt_in))
        .collect();
    let members: Vec<String> = (1..size.accounts)
        .map(guardduty_org::sandbox::org_file::OrgSpec::generated_id)
        .collect();
    let mut all = members.clone();
    all.push(MANAGEMENT.into());
    format!(
        "seed = 3\nmember_accounts = {m}\nopt_in_regions = {opt_in:?}\n\n\
         [management]\nid = \"{MANAGEMENT}\"\nopt_in_regions = {opt_in:?}\n\n\
         [guardduty]\nadmin = \"{MANAGEMENT}\"\nregions = {regions:?}\nauto_enable = \"NEW\"\n\n\
         [[detectors]]\naccounts = {all:?}\nregions = {regions:?}\nfeatures = {{ S3_DATA_EVENTS = \"ENABLED\" }}\n\n\
         [[memberships]]\nadministrator = \"{MANAGEMENT}\"\nmembers = {members:?}\nregions = {regions:?}\nstatus = \"Enabled\"\n\n\
         [faults]\nlatency_ms = {LATENCY_MS}\n",
        m = size.accounts - 1,
    )
}

struct Run {
    calls: u64,
    assume_role: u64,
    list_members: u64,
    member_detectors: u64,
    seconds: f64,
    cpu_seconds: f64,
    /// The sandbox process's CPU seconds while it answered the audit, from /proc.
    sandbox_cpu: f64,
    peak_rss_mb: f64,
}

fn run(bin: &str, size: &Size) -> Run {
    let served = common::Served::start(bin, &org_file(size));
    let out = served.dir().join("audit.json");
    let seeded_cpu = served.cpu_seconds();
    let concurrency = CONCURRENCY.to_string();
    let regions = regions(size.regions).join(",");
    let mut audit = served.gdorg(
        bin,
        &[
            "audit",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--concurrency",
            &concurrency,
            "--regions",
            &regions,
            "--output",
        ],
    );
    audit.arg(&out);
    let (client, seconds) = served.measure(audit);
    let sandbox_cpu = served.cpu_seconds() - seeded_cpu;
    assert_eq!(client.status, 0, "gdorg audit failed");
    let audit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let summary = &audit["summary"];
    assert_eq!(summary["gaps"], 0, "a converged organization has no gap");
    assert_eq!(
        summary["from_administrator"].as_u64().unwrap() as usize,
        (size.accounts - 1) * size.regions,
        "every member cell is read from the administrator"
    );
    let (calls, _) = served.stop();
    Run {
        calls: calls.total,
        assume_role: calls.of("sts:AssumeRole"),
        list_members: calls.of("guardduty:ListMembers"),
        member_detectors: calls.of("guardduty:GetMemberDetectors"),
        seconds,
        cpu_seconds: client.cpu_s,
        sandbox_cpu,
        peak_rss_mb: client.rss_mb(),
    }
}

/// The minimal-calls bound of the module's doc comment: (calls, seconds).
fn bound(size: &Size) -> (usize, f64) {
    let members = size.accounts - 1;
    let calls = size.regions * (2 + 2 * members.div_ceil(PER_CALL));
    let seconds = calls.div_ceil(CONCURRENCY) as f64 * LATENCY_MS as f64 / 1000.0;
    (calls, seconds)
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_gdorg");
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it, and
    // then a smoke run of a small organization checks the benchmark still works.
    let benching = std::env::args().any(|a| a == "--bench");
    let size = match std::env::var("GDORG_BENCH_SIZE") {
        Ok(s) => {
            let (a, r) = s
                .split_once('x')
                .expect("GDORG_BENCH_SIZE=ACCOUNTSxREGIONS");
            Size {
                accounts: a.trim().parse().unwrap(),
                regions: r.trim().parse().unwrap(),
            }
        }
        Err(_) if benching => Size {
            accounts: 5000,
            regions: 32,
        },
        Err(_) => Size {
            accounts: 60,
            regions: 3,
        },
    };
    let r = run(bin, &size);
    let (bound_calls, bound_seconds) = bound(&size);
    println!(
        "audit_scale: {} accounts x {} regions at concurrency {CONCURRENCY}, {LATENCY_MS} ms a call",
        size.accounts, size.regions
    );
    println!(
        "audit_scale: {} calls, bound {bound_calls} ({:.2}x); AssumeRole {}",
        r.calls,
        r.calls as f64 / bound_calls as f64,
        r.assume_role
    );
    println!(
        "audit_scale: {:.2} s, bound {bound_seconds:.2} s ({:.2}x); client CPU {:.2} s; peak RSS {:.1} MB; sandbox CPU {:.2} s",
        r.seconds,
        r.seconds / bound_seconds,
        r.cpu_seconds,
        r.peak_rss_mb,
        r.sandbox_cpu
    );
    println!(
        "audit_scale: ListMembers {}, GetMemberDetectors {} (pages of 50)",
        r.list_members, r.member_detectors
    );
    assert_eq!(r.assume_role, 0, "the audit assumed a role in a member");
}
