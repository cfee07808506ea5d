//! Markdown: headings and pipe tables. Markdown viewers render inline HTML, so cell text is
//! escaped (`<`, `>`, `&`, `|`, backticks, newlines) by one function every cell goes through.

use std::fmt::Write;

use super::coverage::PLAN_COLUMNS;
use super::model::Report;
use crate::findings::record::FindingRecord;
use crate::findings::severity::Band;
use crate::findings::suppression::{Suppression, RULE_COLUMNS};

/// Escape text for a Markdown table cell.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '`' | '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn row(out: &mut String, cells: &[String]) {
    let escaped: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    let _ = writeln!(out, "| {} |", escaped.join(" | "));
}

fn head(out: &mut String, cols: &[&str]) {
    let _ = writeln!(out, "| {} |", cols.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(cols.len()));
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let s = &r.scope;
    let _ = writeln!(o, "# GuardDuty findings report\n");
    let _ = writeln!(o, "## Scope\n");
    head(&mut o, &["", ""]);
    for (k, v) in [
        ("Run by", s.caller_arn.clone()),
        (
            "Read through",
            format!(
                "{} ({}), {} mode",
                s.administrator, s.administrator_how, s.mode
            ),
        ),
        ("Regions", s.regions.join(", ")),
        ("Accounts with findings", r.totals.accounts.join(", ")),
        ("Filter", s.filter.clone()),
        ("Started", s.started_at.clone()),
        ("Finished", s.finished_at.clone()),
    ] {
        row(&mut o, &[k.into(), v]);
    }
    let _ = writeln!(o, "\n## Totals\n");
    head(
        &mut o,
        &["Low", "Medium", "High", "Critical", "Current", "Archived"],
    );
    let t = &r.totals;
    let mut cells: Vec<String> = t.current.iter().map(u64::to_string).collect();
    cells.push(t.current_total.to_string());
    cells.push(t.archived_total.to_string());
    row(&mut o, &cells);

    let _ = writeln!(o, "\n## Coverage\n\nSource: {}\n", cell(&r.coverage.source));
    if r.coverage.counted > 0 {
        let _ = writeln!(
            o,
            "**{} of {} account x region cells monitored**: findings counts of the others are not complete (nobody was watching).\n",
            r.coverage.monitored, r.coverage.counted
        );
    }
    if !r.coverage.plans.is_empty() {
        let _ = writeln!(o, "What the monitored cells were watching:\n");
        head(&mut o, &PLAN_COLUMNS);
        for p in r.coverage.plan_rows() {
            row(&mut o, &p);
        }
        o.push('\n');
    }
    head(&mut o, &["Region", "Account", "Status"]);
    for c in &r.coverage.rows {
        row(
            &mut o,
            &[c.region.clone(), c.account.clone(), c.status.clone()],
        );
    }

    let _ = writeln!(o, "\n## Current findings per account and region\n");
    head(
        &mut o,
        &[
            "Account", "Region", "Low", "Medium", "High", "Critical", "Archived",
        ],
    );
    for c in &r.cells {
        let mut cells = vec![c.account.clone(), c.region.clone()];
        cells.extend(c.current.iter().map(u64::to_string));
        cells.push(c.archived.to_string());
        row(&mut o, &cells);
    }

    let _ = writeln!(o, "\n## Top finding types\n");
    head(&mut o, &["Type", "Current", "Archived", "Max severity"]);
    for t in &r.top_types {
        row(
            &mut o,
            &[
                t.finding_type.clone(),
                t.current.to_string(),
                t.archived.to_string(),
                format!("{:.1}", t.max_severity),
            ],
        );
    }

    let _ = writeln!(o, "\n## Highest-severity findings\n");
    findings(&mut o, &r.top_findings);

    let _ = writeln!(o, "\n## Archived findings\n\n{}\n", cell(&r.archived.rule));
    let _ = writeln!(
        o,
        "{} archived finding(s); the highest-severity ones:\n",
        r.archived.total
    );
    findings(&mut o, &r.archived.listed);
    suppression(&mut o, &r.archived.suppression);

    if !r.errors.is_empty() {
        let _ = writeln!(o, "\n## Not read (the report is partial)\n");
        for e in &r.errors {
            let _ = writeln!(o, "- {}", cell(e));
        }
    }
    o
}

fn suppression(o: &mut String, s: &Suppression) {
    let _ = writeln!(
        o,
        "\n### What can hide a finding\n\n{}\n",
        cell(&s.summary())
    );
    if !s.rules.is_empty() {
        head(o, &RULE_COLUMNS);
        for r in s.rule_rows() {
            row(o, &r);
        }
    }
    if !s.member_archives.is_empty() {
        let _ = writeln!(o, "\nFindings archived in members' own detectors:\n");
        head(o, &["Account", "Region", "Archived"]);
        for a in &s.member_archives {
            row(
                o,
                &[a.account.clone(), a.region.clone(), a.archived.to_string()],
            );
        }
    }
    if !s.unchecked.is_empty() {
        let _ = writeln!(o, "\nNot checked:\n");
        for u in &s.unchecked {
            let _ = writeln!(o, "- {} {}: {}", u.account, u.region, cell(&u.reason));
        }
    }
}

fn findings(o: &mut String, list: &[FindingRecord]) {
    head(
        o,
        &[
            "Severity",
            "Type",
            "Account",
            "Region",
            "Resource",
            "Action",
            "Actor",
            "Threat lists",
            "Count",
            "First seen",
            "Last seen",
            "Id",
        ],
    );
    for f in list {
        row(
            o,
            &[
                format!(
                    "{:.1} {}",
                    f.severity,
                    f.band().map(Band::name).unwrap_or("-")
                ),
                f.finding_type.clone(),
                f.account_id.clone(),
                f.region.clone(),
                format!("{} {}", f.resource_type, f.resource_id),
                f.action_type.clone().unwrap_or_default(),
                f.actor.summary(),
                f.threat_lists.join(", "),
                f.count.to_string(),
                f.first_seen.clone().unwrap_or_default(),
                f.last_seen.clone().unwrap_or_default(),
                f.id.clone(),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn attacker_strings_are_escaped() {
        let text = super::render(&super::super::fixture::report());
        assert!(!text.contains("<script"), "{text}");
        assert!(!text.contains("<img"), "{text}");
        assert!(text.contains("&lt;script&gt;"));
        insta::assert_snapshot!(text);
    }
}
