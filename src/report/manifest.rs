//! Evidence for auditors: `report --manifest` writes `<output>.manifest.json` beside the report,
//! naming each file written with its SHA-256 and size, the scope of the report, gdorg's version
//! and the caller, so that a reader can check later that the report is the one gdorg wrote.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::Digest as _;

use super::model::Scope;

/// The manifest's own format version.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub gdorg_version: String,
    /// Who ran the report (the caller's ARN).
    pub caller: String,
    pub generated_at: String,
    pub scope: Scope,
    pub files: Vec<FileDigest>,
}

/// One file the report wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDigest {
    /// The file's name, relative to the manifest's directory.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

impl FileDigest {
    /// The digest of `bytes`, written as `path`.
    pub fn of(path: &Path, bytes: &[u8]) -> FileDigest {
        FileDigest {
            path: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: hex(&sha2::Sha256::digest(bytes)),
            bytes: bytes.len() as u64,
        }
    }
}

impl Manifest {
    pub fn new(scope: &Scope, files: Vec<FileDigest>) -> Manifest {
        Manifest {
            manifest_version: VERSION,
            gdorg_version: env!("CARGO_PKG_VERSION").into(),
            caller: scope.caller_arn.clone(),
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            scope: scope.clone(),
            files,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest serializes") + "\n"
    }
}

/// Where the manifest of `report` goes: `report.html` -> `report.html.manifest.json`.
pub fn path_for(report: &Path) -> PathBuf {
    let mut name = report.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_the_bytes_and_names_the_file_beside_it() {
        let d = FileDigest::of(Path::new("/tmp/out/report.html"), b"abc");
        assert_eq!(d.path, "report.html");
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.bytes, 3);
        assert_eq!(
            path_for(Path::new("out/r.html")),
            PathBuf::from("out/r.html.manifest.json")
        );
    }
}
