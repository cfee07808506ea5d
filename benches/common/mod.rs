//! What the benchmarks share: `gdorg sandbox serve` in its own process from an org file (the
//! environment it exports, and the calls it answered, written with `--calls` when it stops),
//! gdorg run against it as a user would, and a child's exit status, CPU time and peak RSS
//! from the kernel (wait4).
#![allow(dead_code)] // each benchmark uses its part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A finished child process, as the kernel accounted for it.
pub struct Usage {
    pub status: i32,
    /// User + system CPU seconds.
    pub cpu_s: f64,
    pub max_rss_kb: i64,
}

impl Usage {
    pub fn rss_mb(&self) -> f64 {
        self.max_rss_kb as f64 / 1024.0
    }
}

/// Wait for `pid` (our own child) and return what the kernel says of it.
pub fn wait_with_rusage(pid: i32) -> Usage {
    let mut status = 0;
    // SAFETY: wait4 writes into the two out-pointers we own; pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Usage {
        status: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        cpu_s: secs(usage.ru_utime) + secs(usage.ru_stime),
        max_rss_kb: usage.ru_maxrss,
    }
}

/// The calls the sandbox answered (its `--calls` file).
pub struct Calls {
    pub total: u64,
    by_operation: serde_json::Value,
}

impl Calls {
    /// Calls of `op`, as `service:Operation` (`guardduty:GetFindings`, `sts:AssumeRole`).
    pub fn of(&self, op: &str) -> u64 {
        self.by_operation[op].as_u64().unwrap_or(0)
    }
}

/// A sandbox organization served in its own process.
pub struct Served {
    child: Child,
    /// What `sandbox serve` exported: endpoint, keys, region.
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    calls: PathBuf,
}

impl Served {
    /// Serve the organization of `org` (org-file text); back once the sandbox is ready.
    // Reaped by `stop` (wait4), which also gives its CPU time.
    #[allow(clippy::zombie_processes)]
    pub fn start(bin: &str, org: &str) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let org_path = dir.path().join("org.toml");
        let calls = dir.path().join("calls.json");
        std::fs::write(&org_path, org).unwrap();
        let mut child = Command::new(bin)
            .args(["sandbox", "serve", "--port", "0", "--org"])
            .arg(&org_path)
            .arg("--calls")
            .arg(&calls)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut env = Vec::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some(kv) = line.strip_prefix("export ") {
                let (k, v) = kv.split_once('=').unwrap();
                env.push((k.to_string(), v.to_string()));
            }
            if line.starts_with("# gdorg sandbox") {
                break;
            }
        }
        Served {
            child,
            env,
            dir,
            calls,
        }
    }

    /// A scratch directory that lives as long as the sandbox.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `gdorg ARGS` against the sandbox, with its environment only (no profile, no metadata).
    pub fn gdorg(&self, bin: &str, args: &[&str]) -> Command {
        let mut c = Command::new(bin);
        c.args(args)
            .env_clear()
            .envs(self.env.iter().cloned())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_EC2_METADATA_DISABLED", "true");
        c
    }

    /// Run `command` to the end: its usage, with the wall time in seconds.
    // Reaped by wait4, which also gives the CPU time and peak RSS.
    #[allow(clippy::zombie_processes)]
    pub fn measure(&self, mut command: Command) -> (Usage, f64) {
        let started = std::time::Instant::now();
        let child = command.spawn().unwrap();
        let usage = wait_with_rusage(child.id() as i32);
        (usage, started.elapsed().as_secs_f64())
    }

    /// The sandbox's CPU seconds so far (fields 14 and 15 of /proc/PID/stat).
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The command name may hold spaces: fields are counted after its closing parenthesis.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<f64> = rest
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0.0))
            .collect();
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        fields
            .get(11)
            .zip(fields.get(12))
            .map_or(0.0, |(u, s)| (u + s) / ticks)
    }

    /// Stop the sandbox (SIGTERM: it writes its call counts) and return them with its usage.
    pub fn stop(self) -> (Calls, Usage) {
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let usage = wait_with_rusage(self.child.id() as i32);
        let counts: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&self.calls).unwrap()).unwrap();
        let calls = Calls {
            total: counts["total"].as_u64().unwrap(),
            by_operation: counts["by_operation"].clone(),
        };
        (calls, usage)
    }
}

/// An organization of `accounts` (the management account `111111111111` administers every
/// other as an Enabled member) in `regions`, with `extra` org-file text after it.
pub fn enabled_org(accounts: usize, regions: &[&str], extra: &str) -> String {
    let members: Vec<String> = (1..accounts)
        .map(guardduty_org::sandbox::org_file::OrgSpec::generated_id)
        .collect();
    let mut all = members.clone();
    all.push("111111111111".into());
    format!(
        "seed = 3\nmember_accounts = {m}\n\n[[detectors]]\naccounts = {all:?}\nregions = {regions:?}\n\n\
         [[memberships]]\nadministrator = \"111111111111\"\nmembers = {members:?}\nregions = {regions:?}\nstatus = \"Enabled\"\n\n{extra}",
        m = accounts - 1,
    )
}

/// A bare SDK client on this machine.
pub struct SdkFloor {
    /// Its CPU per call, in µs.
    pub cpu_us: f64,
    /// Its wall time against its own bound (calls / concurrency x latency): how close a client
    /// that makes independent calls, one after another on one thread, gets to that bound here.
    pub wall_ratio: f64,
}

/// What a bare SDK client spends per call on this machine: `calls` GuardDuty reads
/// as the management account of a small organization served with `latency_ms` per call
/// (ListDetectors, GetDetector, GetMembers and ListInvitations in turn, a few hundred bytes
/// each way like a rollout's calls), `concurrency` at a time on one thread, with the SDK's
/// default config. Measured in this process while nothing else runs in it: the baseline of the
/// same run that gdorg's CPU per call is set against, since that figure moves with the machine
/// (the same gdorg used 91 µs a call on one machine and ~200 on another).
pub fn sdk_floor(bin: &str, calls: usize, concurrency: usize, latency_ms: u64) -> SdkFloor {
    let served = Served::start(
        bin,
        &enabled_org(
            2,
            &["us-east-1"],
            &format!("[faults]\nlatency_ms = {latency_ms}\n"),
        ),
    );
    let (cpu_us, wall_s) = served.sdk_floor(calls, concurrency);
    served.stop();
    let bound_s = calls as f64 / concurrency as f64 * latency_ms as f64 / 1000.0;
    SdkFloor {
        cpu_us,
        wall_ratio: wall_s / bound_s,
    }
}

impl Served {
    /// CPU µs per call, and wall seconds, of the calls.
    fn sdk_floor(&self, calls: usize, concurrency: usize) -> (f64, f64) {
        use futures::StreamExt;
        let env = |k: &str| {
            self.env
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("sandbox did not export {k}"))
        };
        let config = aws_sdk_guardduty::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .endpoint_url(env("AWS_ENDPOINT_URL"))
            .region(aws_config::Region::new(env("AWS_REGION")))
            .credentials_provider(aws_credential_types::Credentials::new(
                env("AWS_ACCESS_KEY_ID"),
                env("AWS_SECRET_ACCESS_KEY"),
                None,
                None,
                "sandbox",
            ))
            .build();
        let gd = aws_sdk_guardduty::Client::from_conf(config);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let detector = gd.list_detectors().send().await.unwrap().detector_ids()[0].clone();
            let started = cpu_seconds_of_this_process();
            let wall = std::time::Instant::now();
            let member = guardduty_org::sandbox::org_file::OrgSpec::generated_id(1);
            let (detector, member, gd) = (&detector, &member, &gd);
            futures::stream::iter(0..calls)
                .map(|i| async move {
                    let ok = match i % 4 {
                        0 => gd.list_detectors().send().await.is_ok(),
                        1 => gd.get_detector().detector_id(detector).send().await.is_ok(),
                        2 => gd
                            .get_members()
                            .detector_id(detector)
                            .account_ids(member.as_str())
                            .send()
                            .await
                            .is_ok(),
                        _ => gd.list_invitations().send().await.is_ok(),
                    };
                    assert!(ok, "the SDK baseline's call {i} failed");
                })
                .buffer_unordered(concurrency)
                .for_each(|()| async {})
                .await;
            let wall_s = wall.elapsed().as_secs_f64();
            let cpu_us = (cpu_seconds_of_this_process() - started) / calls as f64 * 1e6;
            (cpu_us, wall_s)
        })
    }
}

/// User + system CPU seconds of this whole process so far.
fn cpu_seconds_of_this_process() -> f64 {
    // SAFETY: getrusage writes into the struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
