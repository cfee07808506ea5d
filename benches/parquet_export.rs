//! Findings of a whole organization into Parquet: `gdorg sandbox serve` seeds accounts x 17
//! regions x 59 findings in its own process, and `gdorg findings export --format parquet`
//! (another process) reads them all through the administrator and writes the partitioned
//! files. Prints throughput and the export process's peak RSS at ~100k and ~1M findings; the
//! goal is a peak RSS under 150 MB, flat as the count grows. `GDORG_BENCH_SIZES=100` runs only
//! the small size; under `cargo test` a smoke run of a few accounts checks the bench works.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use parquet::file::reader::{FileReader, SerializedFileReader};

const REGIONS: usize = 17;
const PER_CELL: usize = 59;
const GOAL_MB: f64 = 150.0;
const MANAGEMENT: &str = "111111111111";

fn org_file(accounts: usize) -> String {
    let regions: Vec<&str> = guardduty_org::regions::default_enabled()
        .take(REGIONS)
        .collect();
    let members: Vec<String> = (1..accounts)
        .map(guardduty_org::sandbox::org_file::OrgSpec::generated_id)
        .collect();
    let mut all = members.clone();
    all.push(MANAGEMENT.into());
    format!(
        "seed = 3\nmember_accounts = {m}\n\n[[detectors]]\naccounts = {all:?}\nregions = {regions:?}\n\n\
         [[memberships]]\nadministrator = \"{MANAGEMENT}\"\nmembers = {members:?}\nregions = {regions:?}\nstatus = \"Enabled\"\n\n\
         [[findings]]\naccounts = \"all\"\nregions = {regions:?}\nper_cell = {PER_CELL}\narchived_fraction = 0.1\n",
        m = accounts - 1,
    )
}

struct Run {
    findings: usize,
    rows: i64,
    files: usize,
    bytes: u64,
    seconds: f64,
    peak_rss_mb: f64,
}

fn run(bin: &str, accounts: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.toml");
    std::fs::write(&org, org_file(accounts)).unwrap();
    let mut sandbox = Command::new(bin)
        .args(["sandbox", "serve", "--port", "0", "--org"])
        .arg(&org)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut env = Vec::new();
    for line in BufReader::new(sandbox.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(kv) = line.strip_prefix("export ") {
            let (k, v) = kv.split_once('=').unwrap();
            env.push((k.to_string(), v.to_string()));
        }
        if line.starts_with("# gdorg sandbox") {
            break;
        }
    }
    let out = dir.path().join("lake");
    let started = Instant::now();
    // Reaped by wait4 below, which also gives the peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(bin)
        .args([
            "findings",
            "export",
            "--format",
            "parquet",
            "--status",
            "all",
            "--concurrency",
            "8",
            "--output",
        ])
        .arg(&out)
        .env_clear()
        .envs(env)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "GDORG_REGIONS",
            guardduty_org::regions::default_enabled()
                .take(REGIONS)
                .collect::<Vec<_>>()
                .join(","),
        )
        .spawn()
        .unwrap();
    let (status, rss_kb) = wait_with_rusage(child.id() as i32);
    let seconds = started.elapsed().as_secs_f64();
    // The sandbox is our child: stop it by its own pid.
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    assert_eq!(status, 0, "gdorg findings export failed");
    let mut files = Vec::new();
    parquet_files(&out, &mut files);
    // The footers alone give the row counts: every file is complete and readable.
    let rows = files
        .iter()
        .map(|p| {
            SerializedFileReader::new(std::fs::File::open(p).unwrap())
                .unwrap()
                .metadata()
                .file_metadata()
                .num_rows()
        })
        .sum();
    let bytes = files
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    Run {
        findings: accounts * REGIONS * PER_CELL,
        rows,
        files: files.len(),
        bytes,
        seconds,
        peak_rss_mb: rss_kb as f64 / 1024.0,
    }
}

fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            parquet_files(&p, out);
        } else {
            assert_eq!(
                p.extension().and_then(|x| x.to_str()),
                Some("parquet"),
                "{}",
                p.display()
            );
            out.push(p);
        }
    }
}

/// Wait for `pid` and return its exit status and peak RSS (KiB) from the kernel.
fn wait_with_rusage(pid: i32) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: wait4 writes into the two out-pointers we own; pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_gdorg");
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it, and
    // then a smoke run of a few accounts checks the benchmark still works without its cost.
    let benching = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = std::env::var("GDORG_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').map(|n| n.trim().parse().unwrap()).collect())
        .unwrap_or_else(|| if benching { vec![100, 1000] } else { vec![3] });
    let mut runs = Vec::new();
    for accounts in sizes {
        let r = run(bin, accounts);
        assert_eq!(r.rows as usize, r.findings, "every finding exported once");
        println!(
            "parquet_export: {:>9} findings ({accounts} accounts x {REGIONS} regions x {PER_CELL}) in {:>7.1} s = {:>8.0} findings/s; {} files, {:.1} MB; peak RSS {:>6.1} MB ({:.2} of the {GOAL_MB} MB goal)",
            r.findings,
            r.seconds,
            r.findings as f64 / r.seconds,
            r.files,
            r.bytes as f64 / 1e6,
            r.peak_rss_mb,
            r.peak_rss_mb / GOAL_MB,
        );
        runs.push(r);
    }
    if let [small, .., large] = runs.as_slice() {
        println!(
            "parquet_export: {:.1}x the findings, {:.2}x the peak RSS",
            large.findings as f64 / small.findings as f64,
            large.peak_rss_mb / small.peak_rss_mb
        );
    }
    let worst = runs.iter().map(|r| r.peak_rss_mb).fold(0.0, f64::max);
    assert!(
        worst < GOAL_MB,
        "peak RSS {worst:.1} MB is over the {GOAL_MB} MB goal"
    );
}
