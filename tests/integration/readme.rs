//! The README cannot drift: every ```sh block runs as written, in order, as one shell session
//! would (each block sees the variables the blocks before it exported), each with
//! `bash -euo pipefail` and a timeout, in a scratch directory holding copies of `examples/`
//! and `policies/`, with the `gdorg` under test first in PATH and no AWS credentials. The
//! blocks start their own sandbox (the README's way); whenever one appears, this test reaches
//! it through the environment the README exported, with the SDK (STS GetCallerIdentity,
//! Organizations ListAccounts), and at the end every sandbox the README started must be
//! stopped, its env file gone. Blocks the test does not run (cargo, real AWS, benchmarks) are
//! ```console or ```text; the README's test command must be the one CI runs, and its stated
//! first-build times must meet the bound of issue #14.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

use crate::support::{running, terminate, wait_until};

/// Time a single README block may take (the sandbox makes every call local and fast).
const BLOCK_TIMEOUT: Duration = Duration::from_secs(120);

/// A fenced block of the README.
struct Block {
    /// Line of the opening fence (1-based).
    line: usize,
    /// The heading the block is under.
    heading: String,
    /// The info string's first word: `sh`, `console`, `text`, ...
    info: String,
    body: String,
}

impl Block {
    fn name(&self) -> String {
        format!("README.md:{} (under \"{}\")", self.line, self.heading)
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The fenced blocks of a Markdown text, in order.
fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut heading = String::from("(top)");
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    line: i + 1,
                    heading: heading.clone(),
                    info: info.split_whitespace().next().unwrap_or("").to_string(),
                    body: String::new(),
                })
            }
            (Some(_), Some(_)) => blocks.push(open.take().expect("an open block")),
            (Some(block), None) => {
                block.body.push_str(line);
                block.body.push('\n');
            }
            (None, None) => {
                if line.starts_with('#') {
                    heading = line.trim_start_matches('#').trim().to_string();
                }
            }
        }
    }
    assert!(open.is_none(), "README.md has an unclosed fence");
    blocks
}

/// The code of a shell line, without its comment.
fn code(line: &str) -> &str {
    let cut = line
        .char_indices()
        .find(|&(i, c)| c == '#' && (i == 0 || line[..i].ends_with(char::is_whitespace)))
        .map_or(line.len(), |(i, _)| i);
    line[..cut].trim()
}

/// Copy the files of `from` (one level) into `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Sandboxes the README started: stopped at the end whatever happens, also those of a block
/// that failed or timed out before saying their pid (found by the marker every process of
/// the run inherits).
struct Started {
    pids: BTreeSet<u32>,
    marker: String,
}

impl Drop for Started {
    fn drop(&mut self) {
        let mut pids = self.pids.clone();
        if let Ok(procs) = std::fs::read_dir("/proc") {
            for entry in procs.flatten() {
                let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
                if environ
                    .split(|&b| b == 0)
                    .any(|kv| kv == self.marker.as_bytes())
                {
                    pids.insert(pid);
                }
            }
        }
        for pid in pids {
            if running(pid) {
                terminate(pid);
            }
        }
    }
}

/// What a block left behind, or why it failed.
struct Run {
    ok: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// Run `script` with `bash -euo pipefail` in `dir` with exactly `env`, in its own process
/// group (killed whole at the timeout).
fn run_block(script: &Path, dir: &Path, env: &BTreeMap<String, String>, out: &Path) -> Run {
    use std::os::unix::process::CommandExt;
    let stdout = out.with_extension("out");
    let stderr = out.with_extension("err");
    let mut child = Command::new("bash")
        .args(["-euo", "pipefail"])
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .process_group(0)
        .spawn()
        .expect("bash");
    let deadline = Instant::now() + BLOCK_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // SAFETY: kill(2) of the block's own process group; no memory effects.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    Run {
        ok: status.is_some_and(|s| s.success()),
        status: match status {
            Some(s) => s.to_string(),
            None => format!("timed out after {} s", BLOCK_TIMEOUT.as_secs()),
        },
        stdout: read(&stdout),
        stderr: read(&stderr),
    }
}

/// The environment `env -0` wrote.
fn parse_env(bytes: &[u8]) -> BTreeMap<String, String> {
    bytes
        .split(|&b| b == 0)
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv);
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Reach the sandbox the README's environment points at, as any SDK user would: who am I,
/// and the organization's accounts. Returns the number of accounts.
async fn reach(env: &BTreeMap<String, String>) -> usize {
    let cfg = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(env["AWS_REGION"].clone()))
        .endpoint_url(&env["AWS_ENDPOINT_URL"])
        .credentials_provider(Credentials::new(
            &env["AWS_ACCESS_KEY_ID"],
            &env["AWS_SECRET_ACCESS_KEY"],
            None,
            None,
            "readme",
        ))
        .load()
        .await;
    let me = aws_sdk_sts::Client::new(&cfg)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity through the README's environment");
    let org = aws_sdk_organizations::Client::new(&cfg);
    let described = org.describe_organization().send().await.unwrap();
    assert_eq!(
        me.account(),
        described.organization().unwrap().master_account_id(),
        "the README's keys are the management account's"
    );
    let pages = org
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    pages.iter().map(|p| p.accounts().len()).sum()
}

#[test]
fn every_sh_block_of_the_readme_runs_as_written() {
    let readme = readme();
    let blocks: Vec<Block> = blocks(&readme)
        .into_iter()
        .filter(|b| b.info == "sh")
        .collect();
    assert!(blocks.len() >= 3, "the README has its sh blocks");
    let work = tempfile::tempdir().unwrap();
    let harness = tempfile::tempdir().unwrap();
    for dir in ["examples", "policies"] {
        copy_dir(&root().join(dir), &work.path().join(dir));
    }
    let home = harness.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let gdorg = PathBuf::from(env!("CARGO_BIN_EXE_gdorg"));
    let path = format!(
        "{}:{}",
        gdorg.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // No AWS credentials or config from the machine running the tests: only what the README
    // sets up itself.
    let mut env: BTreeMap<String, String> = [
        ("PATH", path.as_str()),
        ("HOME", home.to_str().unwrap()),
        ("LANG", "C.UTF-8"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let marker = format!("GDORG_README_RUN={}", harness.path().display());
    let (k, v) = marker.split_once('=').unwrap();
    env.insert(k.to_string(), v.to_string());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut reached = BTreeSet::new();
    let mut started = Started {
        pids: BTreeSet::new(),
        marker,
    };

    for (i, block) in blocks.iter().enumerate() {
        let script = harness.path().join(format!("block-{i}.sh"));
        let state = harness.path().join(format!("block-{i}.env"));
        // The variables the block leaves, for the next block, and for the clean-up if it fails.
        std::fs::write(
            &script,
            format!(
                "trap 'env -0 > \"$GDORG_README_STATE\"' EXIT\n{}",
                block.body
            ),
        )
        .unwrap();
        let mut block_env = env.clone();
        block_env.insert("GDORG_README_STATE".into(), state.display().to_string());
        let run = run_block(&script, work.path(), &block_env, &script);
        let left = parse_env(&std::fs::read(&state).unwrap_or_default());
        if let Some(pid) = left.get("GDORG_SANDBOX_PID").and_then(|p| p.parse().ok()) {
            started.pids.insert(pid);
        }
        assert!(
            run.ok,
            "{} failed: {}\n--- block\n{}--- stdout\n{}--- stderr\n{}",
            block.name(),
            run.status,
            block.body,
            run.stdout,
            run.stderr
        );
        env = left;
        env.remove("GDORG_README_STATE");
        // A sandbox the block started: reach it through the environment it exported.
        if let Some(pid) = env.get("GDORG_SANDBOX_PID") {
            let pid: u32 = pid.parse().expect("GDORG_SANDBOX_PID is a pid");
            if reached.insert(pid) && running(pid) {
                let accounts = runtime.block_on(reach(&env));
                assert!(accounts > 1, "{}: {accounts} accounts", block.name());
            }
        }
        // Secrets stay out of what the README prints.
        if let Some(secret) = env.get("AWS_SECRET_ACCESS_KEY") {
            assert!(
                !run.stderr.contains(secret.as_str()),
                "{} logged the secret key",
                block.name()
            );
        }
    }

    assert!(!reached.is_empty(), "the README starts a sandbox");
    for &pid in &started.pids {
        assert!(
            wait_until(10, || !running(pid)),
            "the README leaves sandbox {pid} running: it must say how to stop it"
        );
    }
    for entry in std::fs::read_dir(work.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            !text.contains("GDORG_SANDBOX_PID="),
            "{} outlived its sandbox",
            path.display()
        );
    }
}

/// Durations written `N min M s` or `M s`, in order, in seconds.
fn durations(text: &str) -> Vec<u64> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 1 < words.len() {
        let n = words[i].parse::<u64>();
        match (n, words[i + 1]) {
            (Ok(m), "min") => {
                let s = match (words.get(i + 2).map(|w| w.parse::<u64>()), words.get(i + 3)) {
                    (Some(Ok(s)), Some(&"s")) => {
                        i += 2;
                        s
                    }
                    _ => 0,
                };
                found.push(m * 60 + s);
                i += 2;
            }
            (Ok(s), "s") => {
                found.push(s);
                i += 2;
            }
            _ => i += 1,
        }
    }
    found
}

#[test]
fn the_readme_s_first_commands_are_ci_s_and_meet_the_build_bound() {
    let readme = readme();
    let all = blocks(&readme);
    let fresh = all
        .iter()
        .find(|b| b.heading == "On a fresh machine")
        .expect("an \"On a fresh machine\" block");
    let commands: Vec<&str> = fresh.body.lines().map(code).collect();
    assert_eq!(
        commands,
        [
            "cargo run --release -- demo",
            "cargo test --release --all-targets"
        ]
    );
    // CI runs exactly the README's test command, and lints on the same (release) build.
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let ci: Vec<&str> = ci.lines().map(code).collect();
    assert!(ci.contains(&commands[1]), "{ci:?}");
    assert!(ci.contains(&"cargo fmt --all -- --check"), "{ci:?}");
    assert!(
        ci.contains(&"cargo clippy --release --all-targets -- -D warnings"),
        "{ci:?}"
    );
    // The sh blocks run under the test: none may build.
    for b in all.iter().filter(|b| b.info == "sh") {
        for line in b.body.lines() {
            assert!(
                !code(line).split_whitespace().any(|w| w == "cargo"),
                "{} runs cargo: mark it ```console",
                b.name()
            );
        }
    }
    // The measured first-build times: the second command at most a fifth of the first.
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("On a fresh machine"))
        .unwrap();
    let paragraph = section
        .split("\n\n")
        .find(|p| p.contains("First build"))
        .expect("the measured first-build times");
    assert!(paragraph.contains("2-core"), "{paragraph}");
    let times = durations(paragraph);
    assert!(times.len() >= 2, "two durations in: {paragraph}");
    let (first, second) = (times[0], times[1]);
    assert!(
        second * 5 <= first,
        "the tests' first build ({second} s) is more than a fifth of the demo's ({first} s)"
    );
}

#[test]
fn the_readme_layout_names_what_exists() {
    let readme = readme();
    let layout = blocks(&readme)
        .into_iter()
        .find(|b| b.heading == "Layout")
        .expect("a Layout block");
    let mut named = 0;
    for line in layout.body.lines() {
        let path = line.split_whitespace().next().unwrap_or("");
        assert!(
            root().join(path).exists(),
            "the README's layout names {path}, which does not exist"
        );
        named += 1;
    }
    assert!(named > 10);
    // Every module of src/ is in the layout.
    for entry in std::fs::read_dir(root().join("src")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let module = |p: &str| p.trim_end_matches('/').trim_end_matches(".rs").to_string();
        let listed = layout.body.lines().any(|l| {
            let p = l.split_whitespace().next().unwrap_or("");
            p.strip_prefix("src/")
                .is_some_and(|p| module(p) == module(&name))
        });
        assert!(listed, "src/{name} is missing from the README's layout");
    }
}

#[test]
fn durations_read_minutes_and_seconds() {
    assert_eq!(
        durations("the demo 6 min 10 s, then the tests 58 s (2 min)"),
        [370, 58, 120]
    );
}
