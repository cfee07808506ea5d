//! The audit's renderers. Each takes the one [`Audit`] and returns a string; the order is the
//! audit's (sorted), so the same state renders the same bytes but the timestamp.
//!
//! - `table`: summary first, then a compact matrix (one row per account, one column per
//!   region, short region names such as `use1`, one symbol per cell, legend below).
//! - `json`: the [`Audit`] itself (schema-versioned; the `--baseline` format).
//! - `csv`: one row per account x region.
//! - `markdown`: the summary, the organization, the gaps with their fixes and the matrix.
//! - `html`: one self-contained file, everything escaped (its own module, [`super::html`]).

use std::fmt::Write as _;

use std::collections::BTreeMap;
use tabled::builder::Builder;

use tabled::settings::{Padding, Style};

use super::drift::Drift;
use super::model::{Audit, Cell, Coverage, DetectorStatus, Relationship};
use super::plans_render::View;

/// An output format; `--format` parses straight into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The terminal matrix.
    Table,
    /// Schema-versioned JSON: the --baseline format.
    Json,
    Csv,
    #[value(alias = "md")]
    Markdown,
    Html,
}

pub fn render(audit: &Audit, format: Format) -> String {
    render_with_plans(audit, format, None)
}

/// [`render`], with the protection-plans grid `plans` asks for (`--plans`): the table shows it
/// only when asked; Markdown shows the organization grid unless another is asked for; JSON
/// always holds the whole plans model; HTML always shows the organization grid.
pub fn render_with_plans(audit: &Audit, format: Format, plans: Option<&View>) -> String {
    match format {
        Format::Table => {
            let mut out = table(audit);
            match plans {
                Some(v) => out.push_str(&super::plans_render::table(audit, v)),
                None => out.push_str(&super::plans_render::wanted_text(audit)),
            }
            out
        }
        Format::Json => json(audit),
        Format::Csv => csv(audit),
        Format::Markdown => {
            let mut out = markdown(audit);
            let v = plans.cloned().unwrap_or(View::Organization);
            out.push_str(&super::plans_render::markdown(audit, &v, md));
            out
        }
        Format::Html => html(audit),
    }
}

/// AWS's short region code: `us-east-1` -> `use1`, `ap-southeast-2` -> `apse2`.
pub fn short_region(region: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    if parts.len() != 3 {
        return region.to_string();
    }
    let mid = parts[1]
        .replace("north", "n")
        .replace("south", "s")
        .replace("east", "e")
        .replace("west", "w")
        .replace("central", "c");
    format!("{}{mid}{}", parts[0], parts[2])
}

/// One symbol per cell (see [`LEGEND`]).
pub fn symbol(c: &Cell) -> &'static str {
    match c.detector {
        DetectorStatus::RegionNotEnabled => "·",
        DetectorStatus::AccountSuspended => "Z",
        DetectorStatus::NoAccess => "✗",
        DetectorStatus::Missing => "-",
        DetectorStatus::Suspended => "S",
        DetectorStatus::Enabled => match c.relationship {
            Relationship::Administrator => "A",
            Relationship::Enabled => "✓",
            Relationship::Invited => "I",
            Relationship::Created => "C",
            Relationship::Removed => "R",
            Relationship::Resigned => "Q",
            Relationship::EmailVerificationFailed => "E",
            Relationship::Disabled => "D",
            Relationship::NotMember => "N",
            Relationship::OtherAdministrator => "O",
            Relationship::RegionDisabled
            | Relationship::AccountSuspended
            | Relationship::Other
            | Relationship::Unknown => "?",
        },
    }
}

pub const LEGEND: &str = "✓ covered member  A administrator (detector on)  - no detector  \
S detector suspended  ✗ no access  · region not enabled (not counted)  \
Z account suspended (not counted)\n\
detector on but not linked: I invited  C created  R removed  Q resigned  \
E email verification failed  D disabled (not monitored)  N not a member  \
O member of another administrator  ? other";

/// Where the cells were read, in one sentence (every renderer shows it).
pub fn sources(a: &Audit) -> String {
    let s = &a.summary;
    format!(
        "read from the administrator: {} cell(s), no role assumed; from inside the member accounts: {} cell(s)",
        s.from_administrator, s.from_inside
    )
}

/// Text for a terminal: control characters (escape sequences from a hostile message) shown
/// as `?` so they cannot move the cursor or recolour the screen.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn pct(c: Coverage) -> String {
    format!("{:.1}%", c.percent())
}

fn features_on(c: &Cell) -> String {
    c.features
        .iter()
        .filter(|(_, on)| **on)
        .map(|(f, _)| f.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

// ---- table ----

pub fn table(a: &Audit) -> String {
    let mut out = String::new();
    let s = &a.summary;
    let _ = writeln!(
        out,
        "GuardDuty audit ({} mode, administrator {}): {} covered ({} of {} cells), {} gaps, {} accounts x {} regions",
        a.mode,
        a.administrator,
        pct(s.overall),
        s.overall.covered,
        s.overall.counted,
        s.gaps,
        a.accounts.len(),
        a.regions.len()
    );
    let _ = writeln!(out, "{}", sources(a));
    let _ = writeln!(out, "\n{}", matrix(a));
    let _ = writeln!(out, "{LEGEND}");
    let regions = a
        .regions
        .iter()
        .map(|r| format!("{}={r}", short_region(r)))
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(out, "regions: {regions}");
    out.push_str(&organization_text(a));
    out.push_str(&super::export::text(&a.export));
    if !a.skipped.is_empty() {
        let _ = writeln!(out, "\nleft out:");
        for sk in &a.skipped {
            let _ = writeln!(out, "  {} ({})", sk.account, sk.reason);
        }
    }
    if s.gaps > 0 || s.export_gaps > 0 {
        if s.gaps > 0 {
            out.push_str(&gaps_text(a));
        }
        let _ = writeln!(out, "\nto fix:");
        for f in &a.fixes {
            let _ = writeln!(out, "  {}", f.command);
        }
    } else {
        let _ = writeln!(
            out,
            "\nno gaps: GuardDuty is on and linked everywhere it can be."
        );
    }
    if let Some(d) = &a.drift {
        out.push_str(&drift_text(d));
    }
    out
}

/// The widest matrix drawn as is; a wider one is transposed when that makes it narrower.
const MATRIX_WIDTH: usize = 120;

/// One row per account, one narrow column per region (short names), coverage at the ends.
/// Few accounts across many regions are transposed (one row per region) to stay narrow.
fn matrix(a: &Audit) -> String {
    let s = &a.summary;
    let mut grid: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["account".to_string()];
    head.extend(a.regions.iter().map(|r| short_region(r)));
    head.push("cover".into());
    grid.push(head);
    for acct in &a.accounts {
        let mut row = vec![acct.clone()];
        for r in &a.regions {
            row.push(a.cell(acct, r).map(symbol).unwrap_or(" ").to_string());
        }
        row.push(pct(s.per_account.get(acct).copied().unwrap_or_default()));
        grid.push(row);
    }
    let mut foot = vec!["cover %".to_string()];
    foot.extend(a.regions.iter().map(|r| {
        format!(
            "{:.0}",
            s.per_region.get(r).copied().unwrap_or_default().percent()
        )
    }));
    foot.push(pct(s.overall));
    grid.push(foot);
    let width = |g: &[Vec<String>]| -> usize {
        (0..g[0].len())
            .map(|col| {
                g.iter()
                    .map(|row| row[col].chars().count())
                    .max()
                    .unwrap_or(0)
                    + 1
            })
            .sum()
    };
    let transposed: Vec<Vec<String>> = (0..grid[0].len())
        .map(|col| grid.iter().map(|row| row[col].clone()).collect())
        .collect();
    if width(&grid) > MATRIX_WIDTH && width(&transposed) < width(&grid) {
        grid = transposed;
        grid[0][0] = "region".into();
    }
    let mut b = Builder::default();
    for row in grid {
        b.push_record(row);
    }
    let mut t = b.build();
    // No rules and one space between columns: 17 regions x 12-digit ids fit in 110 columns.
    t.with(Style::empty()).with(Padding::new(0, 1, 0, 0));
    t.to_string()
}

/// Organization settings per region (only when there are some), and the regions the
/// administrator cannot use, grouped by reason.
fn organization_text(a: &Audit) -> String {
    let mut out = String::new();
    if a.organization
        .iter()
        .any(|r| !r.delegated_admins.is_empty() || r.auto_enable.is_some())
    {
        let totals = a.organization.iter().any(|r| r.statistics.is_some());
        let mut o = Builder::default();
        let mut head = vec!["region", "delegated administrator", "auto-enable"];
        if totals {
            head.push("GuardDuty totals");
        }
        o.push_record(head);
        for r in &a.organization {
            let mut row = vec![
                r.region.clone(),
                if r.delegated_admins.is_empty() {
                    "-".into()
                } else {
                    r.delegated_admins.join(", ")
                },
                r.auto_enable.clone().unwrap_or_else(|| "-".into()),
            ];
            if totals {
                row.push(r.totals().unwrap_or_else(|| "-".into()));
            }
            o.push_record(row);
        }
        let mut o = o.build();
        o.with(Style::psql());
        let _ = writeln!(out, "\norganization per region\n{o}");
    }
    let mut notes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in &a.organization {
        if let Some(why) = &r.reason {
            notes.entry(why).or_default().push(short_region(&r.region));
        }
    }
    for (why, regions) in notes {
        let _ = writeln!(
            out,
            "administrator side: {}: {}",
            plain(why),
            regions.join(" ")
        );
    }
    out
}

/// Gaps that share an account, a problem and a reason, with the regions they are in.
pub struct GapGroup<'a> {
    pub account: &'a str,
    pub problem: String,
    pub reason: Option<&'a str>,
    /// Full region names, sorted.
    pub regions: Vec<String>,
}

/// The gaps grouped as every renderer shows them: one group per account and problem.
pub fn gap_groups(a: &Audit) -> Vec<GapGroup<'_>> {
    let mut groups: BTreeMap<(&str, String, Option<&str>), Vec<String>> = BTreeMap::new();
    for c in a.gaps() {
        groups
            .entry((
                c.account.as_str(),
                c.problem().unwrap_or_default(),
                c.reason.as_deref(),
            ))
            .or_default()
            .push(c.region.clone());
    }
    groups
        .into_iter()
        .map(|((account, problem, reason), regions)| GapGroup {
            account,
            problem,
            reason,
            regions,
        })
        .collect()
}

/// The gaps, one line per account and problem, with the regions it is in.
fn gaps_text(a: &Audit) -> String {
    let mut g = Builder::default();
    g.push_record(["account", "problem", "regions"]);
    let mut reasons = Vec::new();
    for group in gap_groups(a) {
        let problem = match group.reason {
            Some(r) => {
                reasons.push(format!("{}: {}", group.account, plain(r)));
                format!("{} [{}]", group.problem, reasons.len())
            }
            None => group.problem.clone(),
        };
        let regions: Vec<String> = group.regions.iter().map(|r| short_region(r)).collect();
        g.push_record([
            group.account.to_string(),
            plain(&problem),
            regions.join(" "),
        ]);
    }
    let mut g = g.build();
    g.with(Style::psql());
    let mut out = format!("\ngaps ({})\n{g}\n", a.summary.gaps);
    for (i, r) in reasons.iter().enumerate() {
        let _ = writeln!(out, "[{}] {r}", i + 1);
    }
    out
}

fn drift_text(d: &Drift) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ndrift since {}: {} lost, {} gained, {} new, {} gone",
        d.baseline_generated_at,
        d.lost.len(),
        d.gained.len(),
        d.added.len(),
        d.removed.len()
    );
    for (label, c) in d.changes() {
        let _ = writeln!(
            out,
            "  {label:<6} {} {}: {} -> {}",
            c.account,
            c.region,
            plain(&c.before),
            plain(&c.after)
        );
    }
    out
}

// ---- json ----

pub fn json(a: &Audit) -> String {
    let mut out = Vec::new();
    write_json(a, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// The audit as JSON, written as it is serialized: at 5,000 accounts x 32 regions the text is
/// ~140 MB, which a String would hold whole (and, growing, twice for a moment) beside the audit.
pub fn write_json(a: &Audit, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, a)?;
    out.write_all(b"\n")
}

// ---- csv ----

/// Quote a CSV field, and defuse spreadsheet formulas (a leading = + - @ is prefixed with ').
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn csv(a: &Audit) -> String {
    let mut out = String::from(
        "account,region,covered,detector,relationship,other_administrator,frequency,features_enabled,reason,read_from,export,export_destination\n",
    );
    for c in &a.cells {
        let row = [
            c.account.clone(),
            c.region.clone(),
            c.covered.to_string(),
            c.detector.label().to_string(),
            c.relationship.label().to_string(),
            c.other_administrator.clone().unwrap_or_default(),
            c.frequency.clone().unwrap_or_default(),
            features_on(c),
            c.reason.clone().unwrap_or_default(),
            c.source().to_string(),
        ];
        let [export, destination] = super::export::csv_columns(a, &c.account, &c.region);
        let row: Vec<String> = row.into_iter().chain([export, destination]).collect();
        let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

// ---- markdown ----

use crate::markdown::cell as md;

pub fn markdown(a: &Audit) -> String {
    let s = &a.summary;
    let mut out = String::new();
    let _ = writeln!(out, "# GuardDuty audit\n");
    let _ = writeln!(
        out,
        "- mode: {}\n- administrator: {}\n- generated: {}\n- coverage: **{}** ({} of {} cells), {} gaps\n- {}\n",
        md(&a.mode),
        md(&a.administrator),
        md(&a.generated_at),
        pct(s.overall),
        s.overall.covered,
        s.overall.counted,
        s.gaps,
        md(&sources(a))
    );
    let _ = writeln!(out, "## Coverage per region\n\n| region | covered | counted | % | delegated administrator | auto-enable | note |\n|---|---:|---:|---:|---|---|---|");
    for r in &a.organization {
        let c = s.per_region.get(&r.region).copied().unwrap_or_default();
        let note = match (r.reason.as_deref(), r.totals()) {
            (Some(why), Some(t)) => format!("{why}; GuardDuty totals: {t}"),
            (Some(why), None) => why.to_string(),
            (None, Some(t)) => format!("GuardDuty totals: {t}"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md(&r.region),
            c.covered,
            c.counted,
            pct(c),
            md(&r.delegated_admins.join(", ")),
            md(r.auto_enable.as_deref().unwrap_or("")),
            md(&note)
        );
    }
    let _ = writeln!(
        out,
        "\n## Coverage per account\n\n| account | covered | counted | % |\n|---|---:|---:|---:|"
    );
    for (acct, c) in &s.per_account {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            md(acct),
            c.covered,
            c.counted,
            pct(*c)
        );
    }
    out.push_str(&super::export::markdown(&a.export, &md));
    let _ = writeln!(out, "\n## Gaps\n");
    if s.gaps + s.export_gaps == 0 {
        let _ = writeln!(out, "None.");
    } else {
        let _ = writeln!(
            out,
            "| account | region | problem | reason |\n|---|---|---|---|"
        );
        for c in a.gaps() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md(&c.account),
                md(&c.region),
                md(&c.problem().unwrap_or_default()),
                md(c.reason.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(out, "\n### To fix\n");
        for f in &a.fixes {
            if f.runnable() {
                // Inside a code span only a backtick needs care; commands hold none.
                let _ = writeln!(out, "- `{}`", f.command.replace('`', "'"));
            } else {
                let _ = writeln!(out, "- {}", md(&f.command));
            }
        }
    }
    if let Some(d) = &a.drift {
        let _ = writeln!(out, "\n## Drift since {}\n", md(&d.baseline_generated_at));
        let _ = writeln!(
            out,
            "| change | account | region | before | after |\n|---|---|---|---|---|"
        );
        for (label, c) in d.changes() {
            let _ = writeln!(
                out,
                "| {label} | {} | {} | {} | {} |",
                md(&c.account),
                md(&c.region),
                md(&c.before),
                md(&c.after)
            );
        }
    }
    let _ = writeln!(out, "\n## Matrix\n");
    let _ = write!(out, "| account |");
    for r in &a.regions {
        let _ = write!(out, " {} |", md(&short_region(r)));
    }
    let _ = write!(out, "\n|---|");
    for _ in &a.regions {
        let _ = write!(out, ":-:|");
    }
    out.push('\n');
    for acct in &a.accounts {
        let _ = write!(out, "| {} |", md(acct));
        for r in &a.regions {
            let _ = write!(out, " {} |", md(a.cell(acct, r).map(symbol).unwrap_or("")));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\n{}", md(LEGEND).replace('\n', "  \n"));
    out
}

// ---- html ----

/// The self-contained HTML (see [`super::html`]).
pub fn html(a: &Audit) -> String {
    super::html::render(a)
}
