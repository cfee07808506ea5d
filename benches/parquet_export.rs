//! Findings of a whole organization into Parquet: `gdorg sandbox serve` seeds accounts x 17
//! regions x 59 findings in its own process, and `gdorg findings export --format parquet`
//! (another process) reads them all through the administrator and writes the partitioned
//! files. Prints throughput and the export process's peak RSS at ~100k and ~1M findings; the
//! goal is a peak RSS under 150 MB, flat as the count grows. `GDORG_BENCH_SIZES=100` runs only
//! the small size; under `cargo test` a smoke run of a few accounts checks the bench works.

mod common;

use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};

const REGIONS: usize = 17;
const PER_CELL: usize = 59;
const GOAL_MB: f64 = 150.0;

fn org_file(accounts: usize) -> String {
    let regions: Vec<&str> = guardduty_org::regions::default_enabled()
        .take(REGIONS)
        .collect();
    common::enabled_org(
        accounts,
        &regions,
        &format!(
            "[[findings]]\naccounts = \"all\"\nregions = {regions:?}\nper_cell = {PER_CELL}\narchived_fraction = 0.1\n"
        ),
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
    let served = common::Served::start(bin, &org_file(accounts));
    let out = served.dir().join("lake");
    let mut export = served.gdorg(
        bin,
        &[
            "findings",
            "export",
            "--format",
            "parquet",
            "--status",
            "all",
            "--concurrency",
            "8",
            "--output",
        ],
    );
    export.arg(&out).env(
        "GDORG_REGIONS",
        guardduty_org::regions::default_enabled()
            .take(REGIONS)
            .collect::<Vec<_>>()
            .join(","),
    );
    let (client, seconds) = served.measure(export);
    assert_eq!(client.status, 0, "gdorg findings export failed");
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
    served.stop();
    Run {
        findings: accounts * REGIONS * PER_CELL,
        rows,
        files: files.len(),
        bytes,
        seconds,
        peak_rss_mb: client.rss_mb(),
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
