//! `gdorg findings export --format ocsf|parquet` against the sandbox: every OCSF record has the
//! Detection Finding class's required attributes and agrees with the finding it maps; the
//! Parquet export reads back (with the `parquet` crate's own reader) as exactly the sandbox's
//! findings, each in its `region=/date=` partition; a Ctrl-C leaves only complete files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use guardduty_org::findings::FindingRecord;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::findings::{env, filter, gdorg, read, ADMIN};
use crate::support::{self, interrupt, wait_for_calls, Env};

/// OCSF 1.3.0 Detection Finding (class_uid 2004): the attributes the schema marks required,
/// as dotted paths. Base event: activity_id, category_uid, class_uid, metadata, severity_id,
/// time, type_uid; the Finding category adds finding_info (uid and title required in 1.3.0);
/// metadata requires product (whose vendor_name is required) and version; the `cloud` profile,
/// which the records declare in metadata.profiles, requires cloud, and cloud requires provider.
const REQUIRED: &[&str] = &[
    "activity_id",
    "category_uid",
    "class_uid",
    "finding_info",
    "finding_info.uid",
    "finding_info.title",
    "metadata",
    "metadata.product",
    "metadata.product.vendor_name",
    "metadata.version",
    "severity_id",
    "time",
    "type_uid",
    "cloud",
    "cloud.provider",
];

/// Integer attributes whose values the schema enumerates.
const ENUMS: &[(&str, &[i64])] = &[
    ("activity_id", &[0, 1, 2, 3, 99]),
    ("severity_id", &[0, 1, 2, 3, 4, 5, 6, 99]),
    ("status_id", &[0, 1, 2, 3, 4, 99]),
    ("category_uid", &[2]),
    ("class_uid", &[2004]),
];

fn at<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.')
        .try_fold(v, |v, k| v.get(k))
        .filter(|v| !v.is_null())
}

async fn all_findings(env: &Env) -> BTreeMap<String, FindingRecord> {
    let cfg = env.user(ADMIN).await;
    read(&cfg, &filter(r#"status = "all""#))
        .await
        .into_iter()
        .map(|f| (f.id.clone(), f))
        .collect()
}

#[tokio::test]
async fn ocsf_records_have_the_detection_finding_required_attributes() {
    let env = env().await;
    let want = all_findings(&env).await;
    let out = gdorg(
        &env,
        ADMIN,
        &["findings", "export", "--format", "ocsf", "--status", "all"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut seen = BTreeSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("one JSON object a line");
        for path in REQUIRED {
            assert!(at(&v, path).is_some(), "{path} missing in {line}");
        }
        for (path, allowed) in ENUMS {
            let n = v[path].as_i64().expect("an integer");
            assert!(allowed.contains(&n), "{path} = {n}");
        }
        assert_eq!(v["metadata"]["version"], "1.3.0");
        assert!(v["time"].as_i64().unwrap() > 0);
        assert_eq!(
            v["type_uid"].as_i64().unwrap(),
            2004 * 100 + v["activity_id"].as_i64().unwrap()
        );
        let id = v["finding_info"]["uid"].as_str().unwrap();
        let f = want
            .get(id)
            .unwrap_or_else(|| panic!("unknown finding {id}"));
        assert_eq!(v["finding_info"]["title"], f.title);
        assert_eq!(v["finding_info"]["types"][0], f.finding_type);
        assert_eq!(v["cloud"]["provider"], "AWS");
        assert_eq!(v["cloud"]["region"], f.region);
        assert_eq!(v["cloud"]["account"]["uid"], f.account_id);
        let severity_id = match f.severity {
            s if s >= 9.0 => 5,
            s if s >= 7.0 => 4,
            s if s >= 4.0 => 3,
            s if s >= 1.0 => 2,
            _ => 0,
        };
        assert_eq!(v["severity_id"], severity_id, "{}", f.severity);
        assert_eq!(v["status_id"], if f.archived { 3 } else { 1 });
        assert_eq!(v["unmapped"]["guardduty_severity"], f.severity);
        assert!(seen.insert(id.to_string()), "{id} twice");
    }
    assert_eq!(seen.len(), want.len());
}

/// Every `*.parquet` file under `dir`, and every other (non-directory) entry.
fn files(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut parquet, mut other) = (Vec::new(), Vec::new());
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            let (a, b) = files(&p);
            parquet.extend(a);
            other.extend(b);
        } else if p.extension().is_some_and(|x| x == "parquet") {
            parquet.push(p);
        } else {
            other.push(p);
        }
    }
    parquet.sort();
    (parquet, other)
}

/// The rows of one file as column name -> value.
fn rows(path: &Path) -> Vec<BTreeMap<String, Field>> {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let declared = reader.metadata().file_metadata().num_rows();
    let out: Vec<BTreeMap<String, Field>> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect();
    assert_eq!(out.len() as i64, declared, "{}", path.display());
    out
}

fn partition(path: &Path) -> (String, String) {
    let date = path.parent().unwrap();
    let region = date.parent().unwrap();
    let value = |p: &Path, key: &str| {
        p.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_prefix(key)
            .unwrap_or_else(|| panic!("{} is not {key}...", p.display()))
            .to_string()
    };
    (value(region, "region="), value(date, "date="))
}

#[tokio::test]
async fn parquet_reads_back_as_the_sandbox_findings_partitioned_by_region_and_date() {
    let env = env().await;
    let want = all_findings(&env).await;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("lake");
    let out = gdorg(
        &env,
        ADMIN,
        &[
            "findings",
            "export",
            "--format",
            "parquet",
            "--status",
            "all",
            "--output",
            out_dir.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (parquet, other) = files(&out_dir);
    assert!(other.is_empty(), "not Parquet: {other:?}");
    assert!(!parquet.is_empty());
    let mut seen = BTreeSet::new();
    let mut partitions = BTreeSet::new();
    for file in &parquet {
        let (region, date) = partition(file);
        partitions.insert((region.clone(), date.clone()));
        assert!(file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("part-"));
        for row in rows(file) {
            let Some(Field::Str(id)) = row.get("id") else {
                panic!("{row:?}")
            };
            let f = want
                .get(id)
                .unwrap_or_else(|| panic!("unknown finding {id}"));
            assert_eq!(f.region, region);
            assert_eq!(&f.created_at[..10], date);
            assert_eq!(row["account_id"], Field::Str(f.account_id.clone()));
            assert_eq!(row["type"], Field::Str(f.finding_type.clone()));
            assert_eq!(row["severity"], Field::Double(f.severity));
            assert_eq!(row["archived"], Field::Bool(f.archived));
            assert_eq!(row["count"], Field::Long(f.count));
            assert_eq!(row["title"], Field::Str(f.title.clone()));
            assert_eq!(
                row["updated_at"],
                Field::TimestampMillis(f.updated_ms),
                "{id}"
            );
            assert!(seen.insert(id.clone()), "{id} twice");
        }
    }
    assert_eq!(seen.len(), want.len(), "every finding once");
    let regions: BTreeSet<&str> = partitions.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(regions, ["eu-west-1", "us-east-1"].into());

    // A second export into the same, now full, directory is refused before any call.
    let again = gdorg(
        &env,
        ADMIN,
        &[
            "findings",
            "export",
            "--format",
            "parquet",
            "--output",
            out_dir.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty"));
    // And without --output there is nowhere to write a directory.
    let none = gdorg(&env, ADMIN, &["findings", "export", "--format", "parquet"]).await;
    assert!(String::from_utf8_lossy(&none.stderr).contains("--output DIR"));
}

/// Ctrl-C during a Parquet export: every file in the directory is complete (its footer reads
/// and its rows count), no `part-*` file is half written, and the rows are the findings read.
#[tokio::test]
async fn ctrl_c_during_a_parquet_export_leaves_only_complete_files() {
    let faults = r#"
[faults]
latency_ms = 60
operations = ["GetFindings", "ListFindings"]
"#;
    let env = Env::with_spec(crate::one_product::invited_org(20, 60, faults)).await;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("lake");
    let mut child = support::gdorg(
        &env,
        &env.management.clone(),
        &[
            "findings",
            "export",
            "--format",
            "parquet",
            "--regions",
            "eu-west-1",
            "--concurrency",
            "2",
            "--output",
            out_dir.to_str().unwrap(),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_calls(&env, "GetFindings", 3, 60).await;
    interrupt(&child);
    let status = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait())
        .await
        .expect("gdorg stops soon after Ctrl-C")
        .unwrap();
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let (parquet, other) = files(&out_dir);
    assert!(other.is_empty(), "left behind: {other:?}");
    let total: usize = parquet.iter().map(|p| rows(p).len()).sum();
    assert!(total > 0 && total < 21 * 60, "{total} rows; {stderr}");
    assert!(
        stderr.contains(&format!("the {total} finding(s) read before the stop")),
        "{stderr}"
    );
}
