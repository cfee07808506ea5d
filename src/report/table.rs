//! Terminal tables (tabled): totals, counts per account x region, top types, top findings.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::model::Report;
use crate::findings::severity::Band;
use crate::findings::suppression::RULE_COLUMNS;

/// Finding fields may carry terminal control sequences; show them as `?`.
fn clean(s: String) -> String {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect()
    } else {
        s
    }
}

fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut b = Builder::default();
    b.push_record(header.iter().map(|s| s.to_string()));
    for r in rows {
        b.push_record(r.into_iter().map(clean));
    }
    let mut t = b.build();
    t.with(Style::sharp());
    t.to_string()
}

pub fn render(r: &Report) -> String {
    let t = &r.totals;
    let mut out = format!(
        "GuardDuty findings, read through {} by {}\n{} current (Low {}, Medium {}, High {}, Critical {}), {} archived, {} account(s), {} region(s)\n\n",
        r.scope.administrator,
        r.scope.caller_arn,
        t.current_total,
        t.current[0],
        t.current[1],
        t.current[2],
        t.current[3],
        t.archived_total,
        t.accounts.len(),
        r.scope.regions.len(),
    );
    if !r.coverage.plans.is_empty() {
        let on: Vec<String> = r
            .coverage
            .plans
            .iter()
            .map(|p| {
                let c = &p.counts;
                format!("{} {}/{}", p.plan, c.on, c.on + c.off + c.unknown)
            })
            .collect();
        out.push_str(&format!(
            "Protection plans on, of the monitored cells offering them: {}\n\n",
            on.join(", ")
        ));
    }
    let unwatched: Vec<_> = r.coverage.not_monitored().collect();
    if !unwatched.is_empty() {
        out.push_str(&format!(
            "Not monitored: {} of {} account x region cells; their findings counts are not complete:\n",
            unwatched.len(),
            r.coverage.counted
        ));
        for c in unwatched.iter().take(20) {
            let why = c.status.trim_start_matches("not monitored: ");
            out.push_str(&format!("  {} {}: {why}\n", c.account, c.region));
        }
        if unwatched.len() > 20 {
            out.push_str(&format!("  ... and {} more\n", unwatched.len() - 20));
        }
        out.push('\n');
    }
    out.push_str(&table(
        &[
            "Account", "Region", "Low", "Medium", "High", "Critical", "Archived",
        ],
        r.cells
            .iter()
            .map(|c| {
                let mut v = vec![c.account.clone(), c.region.clone()];
                v.extend(c.current.iter().map(u64::to_string));
                v.push(c.archived.to_string());
                v
            })
            .collect(),
    ));
    out.push_str("\n\n");
    out.push_str(&table(
        &["Type", "Current", "Archived", "Max severity"],
        r.top_types
            .iter()
            .map(|t| {
                vec![
                    t.finding_type.clone(),
                    t.current.to_string(),
                    t.archived.to_string(),
                    format!("{:.1}", t.max_severity),
                ]
            })
            .collect(),
    ));
    out.push_str("\n\n");
    out.push_str(&findings(&r.top_findings));
    out.push('\n');
    let sup = &r.archived.suppression;
    out.push_str(&format!("\n{}\n", sup.summary()));
    if !sup.rules.is_empty() {
        out.push_str(&table(
            &RULE_COLUMNS,
            sup.rule_rows().into_iter().map(Vec::from).collect(),
        ));
        out.push('\n');
    }
    for a in &sup.member_archives {
        out.push_str(&format!(
            "  member {} {}: {} finding(s) archived in its own detector\n",
            a.account, a.region, a.archived
        ));
    }
    for u in &sup.unchecked {
        out.push_str(&format!(
            "  not checked {} {}: {}\n",
            u.account, u.region, u.reason
        ));
    }
    if !r.errors.is_empty() {
        out.push_str("\nNot read (the report is partial):\n");
        for e in &r.errors {
            out.push_str(&format!("  {e}\n"));
        }
    }
    out
}

/// A table of findings (also `gdorg findings list`).
pub fn findings(list: &[crate::findings::record::FindingRecord]) -> String {
    table(
        &[
            "Severity", "Type", "Account", "Region", "Resource", "Actor", "Archived", "Id",
        ],
        list.iter()
            .map(|f| {
                vec![
                    format!(
                        "{:.1} {}",
                        f.severity,
                        f.band().map(Band::name).unwrap_or("-")
                    ),
                    f.finding_type.clone(),
                    f.account_id.clone(),
                    f.region.clone(),
                    format!("{} {}", f.resource_type, f.resource_id),
                    f.actor.summary(),
                    f.archived.to_string(),
                    f.id.clone(),
                ]
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_counts() {
        let text = super::render(&super::super::fixture::report());
        assert!(
            text.contains("3 current (Low 1, Medium 1, High 0, Critical 1), 1 archived"),
            "{text}"
        );
        insta::assert_snapshot!(text);
    }
}
