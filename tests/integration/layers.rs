//! The data flows one way (CLI → settings → observe → plan → execute → report): no module
//! of the client side imports a module of a layer above it, so there is no import cycle. The
//! layers are the table of `src/lib.rs`; this test reads the sources and checks every
//! `crate::` path against them.

use std::collections::BTreeMap;
use std::path::Path;

/// Top-level module -> layer, bottom first (the table of `src/lib.rs`).
const LAYERS: &[(&str, u8)] = &[
    ("outcome", 0),
    ("control", 0),
    ("fsutil", 0),
    ("markdown", 0),
    ("regions", 0),
    ("aws", 1),
    ("settings", 2),
    ("observe", 3),
    ("plan", 4),
    ("execute", 5),
    ("journal", 6),
    ("rollout", 7),
    ("audit", 7),
    ("findings", 7),
    ("policies", 7),
    ("coverage", 7),
    ("usage", 7),
    ("report", 8),
    ("printer", 9),
    ("cli", 10),
    ("commands", 11),
];

/// The client side may reach the sandbox only from its entry points.
const SANDBOX_ENTRY_POINTS: &[&str] = &["commands"];

fn layer(name: &str) -> Option<u8> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

/// Every `crate::NAME` (and `crate::{NAME, ...}`) in `text`.
fn imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = 0;
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().to_string();
        let top = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if matches!(top.as_str(), "main" | "lib" | "sandbox") {
            continue; // the root, and the sandbox (checked on its own: it imports nothing)
        }
        let mine = layer(&top).unwrap_or_else(|| panic!("{rel}: module {top} has no layer"));
        seen += 1;
        for name in imports(&std::fs::read_to_string(&f).unwrap()) {
            if name == top {
                continue;
            }
            let allowed = match (name.as_str(), layer(&name)) {
                ("sandbox", _) => SANDBOX_ENTRY_POINTS.contains(&top.as_str()),
                (_, Some(theirs)) => theirs < mine,
                (_, None) => panic!("{rel}: crate::{name} is not a known module"),
            };
            if !allowed {
                violations.entry(rel.clone()).or_default().push(name);
            }
        }
    }
    assert!(seen > 50, "only {seen} files read");
    assert!(
        violations.is_empty(),
        "imports of a layer above (or beside) the importer: {violations:#?}"
    );
}

#[test]
fn the_layers_are_the_ones_lib_rs_documents() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    for (name, layer) in LAYERS {
        let row = format!("| {layer} | [`{name}`] |");
        assert!(lib.contains(&row), "src/lib.rs lacks the row {row}");
    }
}
