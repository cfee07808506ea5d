//! The wall between the sandbox and the client side, checked in the source: the sandbox uses
//! nothing of the client (it stands in for AWS, so it must not echo the client's mistakes), and
//! the client reaches the sandbox only from its entry points (`gdorg sandbox`, `gdorg demo`).

use std::path::{Path, PathBuf};

/// Client-side files allowed to use the sandbox: the commands that start one (tests and
/// benchmarks use it too, from outside `src/`).
const SANDBOX_ENTRY_POINTS: &[&str] = &["src/commands/demo.rs", "src/commands/sandbox.rs"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively, as paths relative to the crate root.
fn rust_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root()).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// The code of a file without its comments (`//` to the end of a line, `/* */` blocks), so
/// prose that names a module does not count as using it.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let line_comment = rest.find("//");
        let block_comment = rest.find("/*");
        match (line_comment, block_comment) {
            (Some(l), b) if b.is_none_or(|b| l < b) => {
                out.push_str(&rest[..l]);
                rest = rest[l..].find('\n').map_or("", |n| &rest[l + n..]);
            }
            (_, Some(b)) => {
                out.push_str(&rest[..b]);
                rest = rest[b..].find("*/").map_or("", |e| &rest[b + e + 2..]);
            }
            _ => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    out
}

/// The paths that follow `prefix::` in `code`: `crate::a::b` gives `a::b`, and a group
/// `crate::{a, b::c}` gives `a` and `b::c`.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let needle = format!("{prefix}::");
    let mut out = Vec::new();
    for (at, _) in code.match_indices(&needle) {
        // `xcrate::` or `my_guardduty_org::` is another name.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let tail = code[at + needle.len()..].trim_start();
        if let Some(group) = tail.strip_prefix('{') {
            out.extend(group_items(group));
        } else {
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            out.push(tail[..end].to_string());
        }
    }
    out
}

/// The top-level items of a `{...}` group whose `{` is already consumed: `a, b::{c, d}}`
/// gives `a` and `b::{c, d}`.
fn group_items(group: &str) -> Vec<String> {
    let (mut items, mut current, mut depth) = (Vec::new(), String::new(), 0usize);
    for c in group.chars() {
        match c {
            '}' if depth == 0 => break,
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            '{' => {
                depth += 1;
                current.push(c);
            }
            '}' => {
                depth -= 1;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    items.push(current);
    items
        .into_iter()
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .collect()
}

fn first_segment(path: &str) -> &str {
    path.split("::").next().unwrap_or_default().trim()
}

fn read(file: &str) -> String {
    code_of(&std::fs::read_to_string(root().join(file)).unwrap())
}

#[test]
fn sandbox_uses_nothing_of_the_client_side() {
    let files = rust_files(&root().join("src/sandbox"));
    assert!(files.len() > 10, "found the sandbox's sources: {files:?}");
    let mut offences = Vec::new();
    for file in &files {
        let code = read(file);
        for path in paths_after(&code, "crate") {
            if first_segment(&path) != "sandbox" {
                offences.push(format!("{file}: crate::{path}"));
            }
        }
        // The library's own name reaches the whole crate as well.
        for path in paths_after(&code, "guardduty_org") {
            offences.push(format!("{file}: guardduty_org::{path}"));
        }
        // In the sandbox's root module, `super` is the crate root.
        if file == "src/sandbox/mod.rs" {
            for path in paths_after(&code, "super") {
                offences.push(format!("{file}: super::{path}"));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the sandbox must not use client-side code:\n{}",
        offences.join("\n")
    );
}

#[test]
fn only_the_entry_points_use_the_sandbox() {
    let files: Vec<String> = rust_files(&root().join("src"))
        .into_iter()
        .filter(|f| !f.starts_with("src/sandbox/"))
        .collect();
    assert!(files.iter().any(|f| f == "src/lib.rs"), "{files:?}");
    let mut offences = Vec::new();
    for file in &files {
        if SANDBOX_ENTRY_POINTS.contains(&file.as_str()) {
            continue;
        }
        let code = read(file);
        let uses = ["crate", "guardduty_org", "super"]
            .into_iter()
            .flat_map(|prefix| {
                paths_after(&code, prefix)
                    .into_iter()
                    .filter(|p| first_segment(p) == "sandbox")
                    .map(move |p| format!("{prefix}::{p}"))
            })
            .collect::<Vec<_>>();
        offences.extend(uses.into_iter().map(|u| format!("{file}: {u}")));
    }
    assert!(
        offences.is_empty(),
        "only {SANDBOX_ENTRY_POINTS:?} may use the sandbox:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_checks_see_through_groups_and_comments() {
    let code = code_of(
        "use crate::{sandbox::{state, error}, regions};\n// crate::audit in prose\nlet x = crate::sandbox::Sandbox::start; /* crate::plan */ let y = guardduty_org::sandbox::Keys;",
    );
    assert_eq!(
        paths_after(&code, "crate"),
        [
            "sandbox::{state, error}",
            "regions",
            "sandbox::Sandbox::start"
        ]
    );
    assert_eq!(paths_after(&code, "guardduty_org"), ["sandbox::Keys"]);
    assert!(paths_after("notcrate::x", "crate").is_empty());
}
