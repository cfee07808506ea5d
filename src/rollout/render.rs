//! Text rendering of a run: the plan grouped by action with counts, the notices, and at the end
//! the results by action and every failure with account, region, operation and AWS error.
//! Returns strings; the CLI decides where they go.

use std::collections::BTreeMap;
use std::fmt::Write;

use tabled::settings::object::Columns;
use tabled::settings::{Style, Width};
use tabled::{Table, Tabled};

use super::{Command, Report};
use crate::execute::Status;
use crate::plan::Notice;

#[derive(Tabled)]
struct PlanRow {
    action: &'static str,
    calls: usize,
    accounts: usize,
}

#[derive(Tabled)]
struct NoticeRow {
    notice: &'static str,
    account: String,
    region: String,
    detail: String,
}

#[derive(Tabled)]
struct ResultRow {
    action: &'static str,
    done: usize,
    partial: usize,
    failed: usize,
    skipped: usize,
    #[tabled(rename = "not started")]
    not_started: usize,
}

#[derive(Tabled)]
struct FailureRow {
    account: String,
    region: String,
    operation: &'static str,
    error: String,
}

/// Widest a detail or error column gets before it wraps (AWS messages can run long).
const DETAIL_WIDTH: usize = 100;

fn table<T: Tabled>(rows: Vec<T>) -> String {
    Table::new(rows)
        .with(Style::sharp())
        .modify(Columns::last(), Width::wrap(DETAIL_WIDTH).keep_words(true))
        .to_string()
}

/// An AWS error for a table cell: the code, AWS's message, and what to do when gdorg knows.
fn with_hint(e: &crate::aws::AwsError) -> String {
    match e.hint() {
        Some(h) => format!("{}: {} (what to do: {h})", e.code, e.message),
        None => format!("{}: {}", e.code, e.message),
    }
}

/// The plan: what would change, grouped and counted, and the states reported instead.
pub fn plan(report: &Report) -> String {
    let mut out = String::new();
    let d = &report.desired;
    let _ = writeln!(
        out,
        "{} ({} mode): administrator {}, {} member accounts x {} regions",
        report.command.name(),
        d.mode.as_str(),
        d.administrator,
        d.members.len(),
        d.regions.len()
    );
    if report.interrupted && report.execution.is_none() {
        let _ = writeln!(
            out,
            "Interrupted while reading: nothing was changed. The plan below covers only what \
             was read before the stop; run the command again to finish."
        );
    }
    let counts = report.plan.counts();
    let problems = report
        .plan
        .notices
        .iter()
        .filter(|n| n.is_problem())
        .count();
    if counts.is_empty() && problems > 0 {
        let _ = writeln!(
            out,
            "Nothing planned, but {problems} place(s) could not be read or need a person \
             (below): the organization is not known to be as desired."
        );
    } else if counts.is_empty() && !report.interrupted {
        let _ = writeln!(out, "Nothing to change: the organization is as desired.");
    } else if counts.is_empty() {
        let _ = writeln!(out, "Nothing planned in what was read.");
    } else {
        let rows = counts
            .into_iter()
            .map(|(action, calls, accounts)| PlanRow {
                action,
                calls,
                accounts,
            })
            .collect();
        let _ = writeln!(out, "{}", table(rows));
    }
    if let Some(line) = trials_line(report) {
        let _ = writeln!(out, "{line}");
    }
    if !report.plan.notices.is_empty() {
        let _ = writeln!(out, "{}", notices(&report.plan.notices));
    }
    out
}

/// How many account x region cells the plan starts a 30-day free trial in (None: none).
fn trials_line(report: &Report) -> Option<String> {
    if !matches!(report.command, Command::Plan | Command::Rollout { .. }) {
        return None;
    }
    let t = crate::plan::trials::trials(&report.plan, report.desired.mode);
    if t.is_empty() {
        return None;
    }
    let mut line = format!(
        "Free trial: {} account x region cell(s) will start a 30-day GuardDuty free trial ({} new detector(s), {} with features newly enabled)",
        t.certain(),
        t.new_detectors.len(),
        t.new_features.len()
    );
    if !t.added_members.is_empty() {
        let _ = write!(
            line,
            "; and up to {} more: members added without a detector, which GuardDuty turns on",
            t.added_members.len()
        );
    }
    line.push('.');
    Some(line)
}

/// The notices, one row each, sorted; regions not enabled are summarised per account.
pub fn notices(notices: &[Notice]) -> String {
    let mut disabled: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut rows: Vec<NoticeRow> = Vec::new();
    for n in notices {
        let row = |account: &str, region: &str, detail: String| NoticeRow {
            notice: n.kind(),
            account: account.to_string(),
            region: region.to_string(),
            detail,
        };
        match n {
            Notice::RegionNotEnabled { account, region } => {
                disabled.entry(account).or_default().push(region);
            }
            Notice::NoAccess { account, error } => rows.push(row(
                account,
                "*",
                format!("{}: {}", error.operation, with_hint(error)),
            )),
            Notice::OtherAdministrator {
                account,
                region,
                administrator,
            } => rows.push(row(
                account,
                region,
                format!("administrator {administrator}; --take-over to move it"),
            )),
            Notice::AdministersMembers { account, region } => rows.push(row(
                account,
                region,
                "it administers GuardDuty members of its own here, and an administrator cannot \
                 be a member: disassociate its members first"
                    .into(),
            )),
            Notice::OtherDelegatedAdmin {
                region,
                administrator,
            } => rows.push(row(
                administrator,
                region,
                "delegated administrator; --take-over to replace it".into(),
            )),
            Notice::ObserveFailed {
                account,
                region,
                error,
            } => rows.push(row(
                account,
                region,
                format!("{}: {}", error.operation, with_hint(error)),
            )),
            Notice::SuspendedAccount { account } => rows.push(row(account, "*", "skipped".into())),
            Notice::FeaturesUnavailable { region, features } => rows.push(row(
                "*",
                region,
                format!(
                    "{} not offered by GuardDuty here: left out",
                    features
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Notice::EmailVerificationFailed {
                account,
                region,
                email,
            } => rows.push(row(
                account,
                region,
                format!(
                    "GuardDuty could not verify {email}; not re-invited: check that it is the \
                     account's email and correct it in the accounts file or Organizations \
                     (the next run then re-creates the member with it)"
                ),
            )),
            Notice::ExportNotPublishing {
                account,
                region,
                status,
            } => rows.push(row(
                account,
                region,
                format!(
                    "{status}: GuardDuty cannot write to the bucket with the key; check the \
                     bucket and key policies (`gdorg policies render export-bucket-policy`, \
                     `export-kms-key-policy`)"
                ),
            )),
        }
    }
    for (account, regions) in disabled {
        rows.push(NoticeRow {
            notice: "region not enabled",
            account: account.to_string(),
            region: format!("{} region(s)", regions.len()),
            detail: regions.join(","),
        });
    }
    rows.sort_by(|a, b| (a.notice, &a.account, &a.region).cmp(&(b.notice, &b.account, &b.region)));
    table(rows)
}

/// The results by action, then every failure.
pub fn results(report: &Report) -> String {
    let mut out = String::new();
    let Some(ex) = &report.execution else {
        return out;
    };
    let mut rows: Vec<ResultRow> = Vec::new();
    let mut failures: Vec<FailureRow> = Vec::new();
    for (step, r) in report.plan.steps.iter().zip(&ex.results) {
        let kind = step.action.kind();
        let row = match rows.iter_mut().position(|row| row.action == kind) {
            Some(i) => &mut rows[i],
            None => {
                rows.push(ResultRow {
                    action: kind,
                    done: 0,
                    partial: 0,
                    failed: 0,
                    skipped: 0,
                    not_started: 0,
                });
                rows.last_mut().expect("just pushed")
            }
        };
        match r.status {
            Status::Done => row.done += 1,
            Status::Partial => row.partial += 1,
            Status::Failed => row.failed += 1,
            Status::Skipped => row.skipped += 1,
            Status::NotStarted => row.not_started += 1,
        }
        if let Some(e) = r.error() {
            failures.push(FailureRow {
                account: step.action.account().to_string(),
                region: step.action.region().to_string(),
                operation: e.operation,
                error: with_hint(e),
            });
        }
        for (account, e) in r.failed_accounts() {
            failures.push(FailureRow {
                account: account.clone(),
                region: step.action.region().to_string(),
                operation: e.operation,
                error: with_hint(e),
            });
        }
    }
    if rows.is_empty() {
        let _ = writeln!(out, "No changes made.");
    } else {
        let _ = writeln!(out, "{}", table(rows));
    }
    if !failures.is_empty() {
        failures.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        let _ = writeln!(out, "Failures:\n{}", table(failures));
    }
    let _ = writeln!(
        out,
        "{} in {:.1}s{}",
        report.command.name(),
        report.elapsed.as_secs_f64(),
        if report.interrupted {
            " (interrupted: the rest was not started)"
        } else {
            ""
        }
    );
    out
}
