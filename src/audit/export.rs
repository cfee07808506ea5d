//! The findings export in the audit: the administrator's publishing destination in each
//! region and its status, which of them are gaps (only when the audit was given the export to
//! expect, `--export-bucket` / `--export-kms-key`; otherwise they are notes), their fixes,
//! their drift against a baseline, and the section each renderer prints.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::drift::Change;
use super::model::Fix;
use crate::observe::{Observation, Seen};
use crate::settings::Desired;

/// A destination GuardDuty publishes to.
pub const PUBLISHING: &str = "PUBLISHING";
/// No destination on the administrator's detector (or no detector).
pub const NONE: &str = "none";

/// The administrator's findings export in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionExport {
    pub region: String,
    /// PUBLISHING, PENDING_VERIFICATION, UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY, STOPPED,
    /// `none`, or `unknown` (could not be read: see `reason`).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// Since when GuardDuty cannot publish (RFC 3339), while it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// What is wrong, if anything: no export, cannot publish, another bucket or key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// A problem counts as a gap when the audit expected an export; else it is a note.
    pub gap: bool,
    /// Why the destinations could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The export of every region where the administrator's destinations were read, sorted.
pub fn build(desired: &Desired, obs: &Observation) -> Vec<RegionExport> {
    let want = desired.export.as_ref();
    let mut out = Vec::new();
    for (region, ro) in &obs.regions {
        let Seen::Read(admin) = &ro.admin else {
            continue;
        };
        let Some(read) = &admin.destinations else {
            continue;
        };
        let mut e = RegionExport {
            region: region.clone(),
            status: NONE.into(),
            bucket_arn: None,
            kms_key_arn: None,
            failing_since: None,
            problem: None,
            gap: false,
            reason: None,
        };
        match read {
            Err(err) => {
                e.status = "unknown".into();
                e.reason = Some(format!("{}: {}", err.operation, err.message));
            }
            Ok(found) => {
                // The one matching the expected export, else the first S3 one.
                let s3: Vec<_> = found
                    .iter()
                    .filter(|d| d.destination_type == "S3")
                    .collect();
                let chosen = want
                    .and_then(|w| {
                        s3.iter().find(|d| {
                            d.bucket_arn == w.bucket_arn && d.kms_key_arn == w.kms_key_arn
                        })
                    })
                    .or(s3.first());
                e.problem = match chosen {
                    None => Some("no findings export".to_string()),
                    Some(d) => {
                        e.status = d.status.clone();
                        e.bucket_arn = Some(d.bucket_arn.clone());
                        e.kms_key_arn = Some(d.kms_key_arn.clone());
                        e.failing_since = d
                            .failing_since_ms
                            .and_then(chrono::DateTime::from_timestamp_millis)
                            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                        let elsewhere = want.is_some_and(|w| {
                            d.bucket_arn != w.bucket_arn || d.kms_key_arn != w.kms_key_arn
                        });
                        if matches!(
                            d.status.as_str(),
                            "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY" | "STOPPED"
                        ) {
                            Some(format!("findings export cannot publish ({})", d.status))
                        } else if elsewhere {
                            Some("findings export to another bucket or key".to_string())
                        } else {
                            None
                        }
                    }
                };
                e.gap = want.is_some() && e.problem.is_some();
            }
        }
        out.push(e);
    }
    out
}

/// The fixes of the export gaps: a rollout with the export where one can set it (no export,
/// another bucket or key), the bucket and key policies where GuardDuty cannot publish to the
/// expected destination (a rollout would change nothing there).
pub fn fixes(desired: &Desired, exports: &[RegionExport]) -> Vec<Fix> {
    let Some(want) = &desired.export else {
        return vec![];
    };
    let admin = &desired.administrator;
    let stuck = |e: &RegionExport| {
        e.bucket_arn.as_deref() == Some(want.bucket_arn.as_str())
            && e.kms_key_arn.as_deref() == Some(want.kms_key_arn.as_str())
    };
    let (policy, rollout): (Vec<&RegionExport>, Vec<&RegionExport>) =
        exports.iter().filter(|e| e.gap).partition(|e| stuck(e));
    let regions = |v: &[&RegionExport]| v.iter().map(|e| e.region.clone()).collect::<Vec<_>>();
    let mut out = Vec::new();
    if !rollout.is_empty() {
        let r = regions(&rollout);
        out.push(Fix {
            kind: "export".into(),
            accounts: vec![admin.clone()],
            command: format!(
                "gdorg rollout --mode {} --admin-account {admin} --regions {} --export-bucket {} --export-kms-key {}",
                desired.mode.as_str(),
                r.join(","),
                want.bucket_arn,
                want.kms_key_arn
            ),
            regions: r,
        });
    }
    if !policy.is_empty() {
        let r = regions(&policy);
        out.push(Fix {
            kind: "export_policy".into(),
            accounts: vec![admin.clone()],
            command: format!(
                "let GuardDuty write to {} with {} in {}: apply the statements of `gdorg policies \
                 render export-bucket-policy` and `gdorg policies render export-kms-key-policy` \
                 (with --var bucket_arn=..., kms_key_arn=..., account_id={admin}), then run the \
                 audit again",
                want.bucket_arn,
                want.kms_key_arn,
                r.join(", ")
            ),
            regions: r,
        });
    }
    out
}

fn state(e: &RegionExport) -> String {
    format!("findings export {}", e.status)
}

fn publishing(e: &RegionExport) -> bool {
    e.status == PUBLISHING && e.problem.is_none()
}

/// Export changes against a baseline: (lost, gained), each on the administrator's row.
pub fn drift(
    administrator: &str,
    before: &[RegionExport],
    now: &[RegionExport],
) -> (Vec<Change>, Vec<Change>) {
    let (mut lost, mut gained) = (Vec::new(), Vec::new());
    for n in now {
        let Some(b) = before.iter().find(|b| b.region == n.region) else {
            continue;
        };
        let change = || Change {
            account: administrator.to_string(),
            region: n.region.clone(),
            before: state(b),
            after: state(n),
        };
        match (publishing(b), publishing(n)) {
            (true, false) => lost.push(change()),
            (false, true) => gained.push(change()),
            _ => {}
        }
    }
    (lost, gained)
}

/// How many regions are export gaps.
pub fn gaps(exports: &[RegionExport]) -> usize {
    exports.iter().filter(|e| e.gap).count()
}

fn detail(e: &RegionExport) -> String {
    let mut d = match (&e.bucket_arn, &e.kms_key_arn) {
        (Some(b), Some(k)) => format!("{b} (key {k})"),
        _ if e.status == NONE => "no publishing destination".to_string(),
        _ => String::new(),
    };
    if let Some(since) = &e.failing_since {
        let _ = write!(d, ", failing since {since}");
    }
    if let Some(r) = &e.reason {
        d.push_str(r);
    }
    d
}

fn verdict(e: &RegionExport) -> &'static str {
    match (&e.problem, e.gap) {
        (None, _) => "ok",
        (Some(_), true) => "gap",
        (Some(_), false) => "note",
    }
}

/// The terminal section: one line per region (empty when nothing was read).
pub fn text(exports: &[RegionExport]) -> String {
    let mut out = String::new();
    if exports.is_empty() {
        return out;
    }
    // Not asked for and nowhere set up: one line, not one per region.
    if exports.iter().all(|e| e.status == NONE && !e.gap) {
        let _ = writeln!(
            out,
            "\nfindings export: no publishing destination in any of the {} region(s) read \
             (--export-bucket/--export-kms-key to set one up and check it)",
            exports.len()
        );
        return out;
    }
    let _ = writeln!(out, "\nfindings export of the administrator per region");
    let w = exports.iter().map(|e| e.region.len()).max().unwrap_or(0);
    for e in exports {
        let _ = writeln!(
            out,
            "  {:<w$}  {:<4}  {}  {}",
            e.region,
            verdict(e),
            e.status,
            detail(e)
        );
    }
    out
}

/// The CSV columns (`export`, `export_destination`) of a cell: filled on the administrator's
/// row of each region whose export was read.
pub fn csv_columns(a: &super::Audit, account: &str, region: &str) -> [String; 2] {
    match a.export.iter().find(|e| e.region == region) {
        Some(e) if account == a.administrator => [e.status.clone(), detail(e)],
        _ => [String::new(), String::new()],
    }
}

/// The Markdown section; `md` escapes a string.
pub fn markdown(exports: &[RegionExport], md: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    if exports.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n## Findings export per region\n\n| region | verdict | status | destination | problem |\n|---|---|---|---|---|"
    );
    for e in exports {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(&e.region),
            verdict(e),
            md(&e.status),
            md(&detail(e)),
            md(e.problem.as_deref().unwrap_or(""))
        );
    }
    out
}

/// The HTML section; `esc` escapes a string.
pub fn html(exports: &[RegionExport], esc: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    if exports.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "<h2>Findings export per region</h2><table><tr><th>region</th><th>verdict</th>\
         <th>status</th><th>destination</th><th>problem</th></tr>"
    );
    for e in exports {
        let class = match verdict(e) {
            "ok" => "ok",
            "gap" => "gap",
            _ => "link",
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"{class}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.region),
            verdict(e),
            esc(&e.status),
            esc(&detail(e)),
            esc(e.problem.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(out, "</table>");
    out
}
