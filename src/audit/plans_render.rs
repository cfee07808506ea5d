//! The protection-plans view as text: a terminal table and Markdown. Which grid is drawn is
//! the user's choice (`--plans`): regions x plans for the organization (each cell `on/offered`
//! with the auto-enable of the plan there), accounts x plans for one region, or regions x plans
//! for one account. The plan gaps follow, one line per plan.

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::Style;

use super::model::Audit;
use super::plans::{self, PlanState, Plans, LEGEND};

/// Which grid `--plans` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Regions x plans, counts across accounts.
    Organization,
    /// Accounts x plans in one region.
    Region(String),
    /// Regions x plans of one account.
    Account(String),
}

impl View {
    /// `all` (or nothing), a region of the audit, or a 12-digit account id.
    pub fn parse(text: &str, regions: &[String]) -> Result<View, String> {
        if text.is_empty() || text == "all" {
            Ok(View::Organization)
        } else if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(View::Account(text.into()))
        } else if regions.iter().any(|r| r == text) {
            Ok(View::Region(text.into()))
        } else {
            Err(format!(
                "--plans {text:?}: give `all`, a 12-digit account id, or one of the audited regions ({})",
                regions.join(", ")
            ))
        }
    }
}

/// The grid: a title, column heads and rows of text cells.
struct Grid {
    title: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Grid rows as text: the label, then one symbol per plan.
fn marks(rows: Vec<(&str, Vec<Option<PlanState>>)>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|(label, states)| {
            let mut row = vec![label.to_string()];
            row.extend(
                states
                    .into_iter()
                    .map(|s| s.map_or("·", PlanState::symbol).to_string()),
            );
            row
        })
        .collect()
}

fn grid(a: &Audit, view: &View) -> Grid {
    let p = &a.plans;
    let mut head = vec![match view {
        View::Region(_) => "account".to_string(),
        _ => "region".to_string(),
    }];
    head.extend(p.plans.iter().map(|x| plans::short(x)));
    let (title, rows) = match view {
        View::Organization => (
            "Protection plans: accounts with the plan on / accounts offered it, and auto-enable (new accounts: N new, A all, - none)".to_string(),
            p.regions
                .iter()
                .map(|r| {
                    let mut row = vec![r.region.clone()];
                    row.extend(p.plans.iter().map(|x| {
                        let c = r.counts.get(x).copied().unwrap_or_default();
                        let auto = match r.auto_enable.get(x).map(String::as_str) {
                            Some("NEW") => " N",
                            Some("ALL") => " A",
                            Some("NONE") => " -",
                            _ => "",
                        };
                        if c.on + c.off + c.unknown == 0 {
                            // No running detector offers it here (`·`), or none is offered (`–`).
                            let none = if c.not_available > 0 { "–" } else { "·" };
                            format!("{none}{auto}")
                        } else {
                            format!("{}{auto}", c.ratio())
                        }
                    }));
                    row
                })
                .collect(),
        ),
        View::Region(region) => (
            format!("Protection plans in {region}, per account ({LEGEND})"),
            marks(plans::grid(p, &a.cells, |c| c.region == *region, |c| &c.account)),
        ),
        View::Account(account) => (
            format!("Protection plans of {account}, per region ({LEGEND})"),
            marks(plans::grid(p, &a.cells, |c| c.account == *account, |c| &c.region)),
        ),
    };
    Grid { title, head, rows }
}

/// One line per plan asked for: how many covered cells lack it.
fn gap_lines(p: &Plans) -> Vec<String> {
    p.summary
        .iter()
        .filter(|r| r.wanted)
        .map(|r| {
            if r.gaps == 0 {
                format!("{}: on in every covered cell that offers it", r.plan)
            } else {
                let cells: Vec<String> = p
                    .gaps
                    .iter()
                    .filter(|g| g.plan == r.plan)
                    .take(10)
                    .map(|g| format!("{} {} ({})", g.account, g.region, g.state.label()))
                    .collect();
                let more = if r.gaps > cells.len() {
                    format!(" ... and {} more", r.gaps - cells.len())
                } else {
                    String::new()
                };
                format!("{}: {} gap(s): {}{more}", r.plan, r.gaps, cells.join(", "))
            }
        })
        .collect()
}

/// The plans section for the terminal.
pub fn table(a: &Audit, view: &View) -> String {
    let g = grid(a, view);
    let mut b = Builder::default();
    b.push_record(g.head.clone());
    for r in &g.rows {
        b.push_record(r.clone());
    }
    let mut t = b.build();
    t.with(Style::sharp());
    let mut out = format!("\n{}\n{t}\n", g.title);
    let plans: Vec<String> = a
        .plans
        .plans
        .iter()
        .map(|x| format!("{}={x}", plans::short(x)))
        .collect();
    let _ = writeln!(out, "plans: {}", plans.join(" "));
    out.push_str(&wanted_text(a));
    out
}

/// The plans asked for (`--features`) and their gaps, for the terminal: printed with the
/// audit even without `--plans`, since a plan gap fails it.
pub fn wanted_text(a: &Audit) -> String {
    let mut out = String::new();
    let lines = gap_lines(&a.plans);
    if !lines.is_empty() {
        let _ = writeln!(out, "\nplans asked for (--features):");
        for l in lines {
            let _ = writeln!(out, "  {l}");
        }
    }
    out
}

/// The plans section in Markdown (`cell` escapes each cell).
pub fn markdown(a: &Audit, view: &View, cell: impl Fn(&str) -> String) -> String {
    let g = grid(a, view);
    let mut out = format!("\n## Protection plans\n\n{}\n\n", cell(&g.title));
    let head: Vec<String> = g.head.iter().map(|h| cell(h)).collect();
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
    for r in &g.rows {
        let row: Vec<String> = r.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    let lines = gap_lines(&a.plans);
    if !lines.is_empty() {
        let _ = writeln!(out, "\nPlans asked for:\n");
        for l in lines {
            let _ = writeln!(out, "- {}", cell(&l));
        }
    }
    out
}

/// The organization grid as rows for HTML: (head, rows).
pub fn organization_rows(a: &Audit) -> (Vec<String>, Vec<Vec<String>>) {
    let g = grid(a, &View::Organization);
    (g.head, g.rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_parse_and_refuse_what_is_neither() {
        let regions = vec!["eu-west-1".to_string()];
        assert_eq!(View::parse("all", &regions).unwrap(), View::Organization);
        assert_eq!(
            View::parse("eu-west-1", &regions).unwrap(),
            View::Region("eu-west-1".into())
        );
        assert_eq!(
            View::parse("123456789012", &regions).unwrap(),
            View::Account("123456789012".into())
        );
        let e = View::parse("us-east-1", &regions).unwrap_err();
        assert!(e.contains("audited regions (eu-west-1)"), "{e}");
    }
}
