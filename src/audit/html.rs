//! The audit as one self-contained HTML file: the summary; the accounts x regions matrix (a
//! colour and a symbol per cell, headers that stay in view while scrolling, so 50 accounts x
//! 32 regions stay readable); the gaps grouped as the terminal groups them (account, problem,
//! the regions it is in); the fixes; per-region coverage; drift; every cell in detail.
//!
//! No script and no external reference; a Content-Security-Policy allows inline style only.
//! Every string from the audit (account ids, reasons quoting AWS messages, region names) is
//! escaped. A region the administrator never enabled shows "not counted": no member can be
//! linked there until it is, so a percentage would mislead.

use std::fmt::Write as _;

use super::model::{Audit, Cell, Coverage, DetectorStatus, Relationship};
use super::render::{gap_groups, short_region, sources, symbol, LEGEND};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h2{font-size:17px;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}\
th{background:#f3f3f3}code{background:#f5f5f5;padding:1px 4px}\
.scroll{max-height:80vh;max-width:100%;overflow:auto;border:1px solid #ccc}\
.matrix{margin:0;border-collapse:separate;border-spacing:0}\
.matrix th,.matrix td{border:0;border-right:1px solid #e3e3e3;border-bottom:1px solid #e3e3e3}\
.matrix td.c{text-align:center;min-width:2.2em;padding:2px 3px;font-weight:600}\
.matrix thead th{position:sticky;top:0;z-index:2;font-weight:600;text-align:center}\
.matrix tfoot th{position:sticky;bottom:0;z-index:2;text-align:center;font-weight:400}\
.matrix th.acct{position:sticky;left:0;z-index:1;background:#f3f3f3;text-align:left;font-family:ui-monospace,monospace}\
.matrix thead th.acct,.matrix tfoot th.acct{z-index:3}\
.ok{background:#d6f0d6;color:#1b5e20}.adm{background:#b9dcf5;color:#0d3c61}\
.gap{background:#f8caca;color:#8b0000}.off{background:#fde3b5;color:#7a4a00}\
.link{background:#fff1a8;color:#5c4a00}.noacc{background:#555;color:#fff}\
.na{background:#f4f4f4;color:#999}.nc{color:#777;font-style:italic}\
.legend span{display:inline-block;min-width:1.6em;text-align:center;margin-right:.3em;font-weight:600}\
.legend li{list-style:none;margin:2px 0}\
@media print{body{margin:0;font-size:10pt}.scroll{max-height:none;overflow:visible;border:0}\
.matrix thead th,.matrix tfoot th,.matrix th.acct{position:static}thead{display:table-header-group}\
tr,table.gaps{break-inside:avoid}h2{break-after:avoid}\
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/// The colour class of a cell (the symbol says the same, for print and colour blindness).
fn class(c: &Cell) -> &'static str {
    match c.detector {
        DetectorStatus::RegionNotEnabled | DetectorStatus::AccountSuspended => "na",
        DetectorStatus::NoAccess if c.covered => "ok",
        DetectorStatus::NoAccess => "noacc",
        DetectorStatus::Missing => "gap",
        DetectorStatus::Suspended => "off",
        DetectorStatus::Enabled => match c.relationship {
            Relationship::Administrator => "adm",
            _ if c.covered => "ok",
            _ => "link",
        },
    }
}

/// The legend's entries: class, symbol, meaning.
const KEY: &[(&str, &str, &str)] = &[
    ("ok", "✓", "covered: an Enabled member with its detector on"),
    ("adm", "A", "the administrator (detector on)"),
    ("gap", "-", "no detector"),
    ("off", "S", "detector suspended"),
    (
        "link",
        "I C R Q E D N O ?",
        "detector on but not linked (invited, created, removed, resigned, email verification failed, disabled, not a member, member of another administrator, other)",
    ),
    ("noacc", "✗", "no access: could not be read"),
    ("na", "·", "region not enabled by the account: not counted"),
    ("na", "Z", "account suspended in Organizations: not counted"),
];

/// Regions where the administrator's own detector cannot run: the account never enabled them.
fn admin_off<'a>(a: &'a Audit) -> impl Fn(&str) -> bool + 'a {
    move |region| {
        a.cell(&a.administrator, region)
            .is_some_and(|c| c.detector == DetectorStatus::RegionNotEnabled)
    }
}

/// A coverage, or "not counted" when nothing counts there or the administrator is off.
fn coverage(c: Coverage, not_counted: bool) -> (&'static str, String) {
    if not_counted || c.counted == 0 {
        ("nc", "not counted".into())
    } else {
        ("", format!("{:.1}%", c.percent()))
    }
}

pub fn render(a: &Audit) -> String {
    let s = &a.summary;
    let off = admin_off(a);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>GuardDuty audit</title><style>{CSS}</style></head><body>\n"
    );
    let _ = writeln!(
        out,
        "<h1>GuardDuty audit</h1><p>Mode {}, administrator {}, generated {}.</p>\
         <p>Coverage <strong>{}</strong> ({} of {} cells), {} gap(s), {} account(s) x {} region(s).</p>",
        esc(&a.mode),
        esc(&a.administrator),
        esc(&a.generated_at),
        esc(&coverage(s.overall, false).1),
        s.overall.covered,
        s.overall.counted,
        s.gaps,
        a.accounts.len(),
        a.regions.len()
    );
    let _ = writeln!(out, "<p>{}.</p>", esc(&sources(a)));
    matrix(&mut out, a, &off);
    gaps(&mut out, a);
    out.push_str(&super::export::html(&a.export, &esc));
    per_region(&mut out, a, &off);
    plans(&mut out, a);
    if !a.skipped.is_empty() {
        let _ = writeln!(out, "<h2>Left out</h2><ul>");
        for sk in &a.skipped {
            let _ = writeln!(out, "<li>{} ({})</li>", esc(&sk.account), esc(&sk.reason));
        }
        let _ = writeln!(out, "</ul>");
    }
    drift(&mut out, a);
    cells(&mut out, a);
    let _ = writeln!(out, "</body></html>");
    out
}

/// Regions x plans: accounts with the plan on / offered it, and auto-enable.
fn plans(out: &mut String, a: &Audit) {
    let (head, rows) = super::plans_render::organization_rows(a);
    let _ = writeln!(
        out,
        "<h2>Protection plans</h2><p>Accounts with the plan on / accounts offered it; N, A, - :          auto-enable for new accounts (new, all, none); – : not offered in the region.</p>         <table id=\"plans\"><thead><tr>"
    );
    for h in &head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    let _ = writeln!(out, "</tr></thead><tbody>");
    for r in &rows {
        let _ = write!(out, "<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
    let wanted: Vec<_> = a.plans.summary.iter().filter(|r| r.wanted).collect();
    if !wanted.is_empty() {
        let _ = writeln!(out, "<ul class=\"plan-gaps\">");
        for r in wanted {
            let _ = writeln!(out, "<li>{}: {} gap(s)</li>", esc(&r.plan), r.gaps);
        }
        let _ = writeln!(out, "</ul>");
    }
}

fn matrix(out: &mut String, a: &Audit, off: &dyn Fn(&str) -> bool) {
    let s = &a.summary;
    let _ = writeln!(
        out,
        "<h2>Matrix</h2><p>One row per account, one column per region; hover a cell for its detector, relationship and reason.</p>\
         <div class=\"scroll\"><table class=\"matrix\"><thead><tr><th class=\"acct\">account</th>"
    );
    for r in &a.regions {
        let _ = write!(
            out,
            "<th title=\"{}\">{}</th>",
            esc(r),
            esc(&short_region(r))
        );
    }
    let _ = writeln!(out, "<th>coverage</th></tr></thead><tbody>");
    for acct in &a.accounts {
        let _ = write!(out, "<tr><th class=\"acct\">{}</th>", esc(acct));
        for r in &a.regions {
            match a.cell(acct, r) {
                Some(c) => {
                    let _ = write!(
                        out,
                        "<td class=\"c {}\" title=\"{}\">{}</td>",
                        class(c),
                        esc(&tooltip(c)),
                        esc(symbol(c))
                    );
                }
                None => out.push_str("<td class=\"c na\"></td>"),
            }
        }
        let (cls, text) = coverage(s.per_account.get(acct).copied().unwrap_or_default(), false);
        let _ = writeln!(out, "<td class=\"{cls}\">{}</td></tr>", esc(&text));
    }
    let _ = write!(out, "</tbody><tfoot><tr><th class=\"acct\">coverage</th>");
    for r in &a.regions {
        let c = s.per_region.get(r).copied().unwrap_or_default();
        let (cls, text) = if off(r) || c.counted == 0 {
            ("nc", "n/c".to_string())
        } else {
            ("", format!("{:.0}%", c.percent()))
        };
        let _ = write!(
            out,
            "<th class=\"{cls}\" title=\"{}\">{}</th>",
            esc(&format!("{r}: {}", coverage(c, off(r)).1)),
            esc(&text)
        );
    }
    let _ = writeln!(
        out,
        "<th>{}</th></tr></tfoot></table></div>",
        esc(&coverage(s.overall, false).1)
    );
    let _ = writeln!(out, "<ul class=\"legend\">");
    for (cls, sym, meaning) in KEY {
        let _ = writeln!(
            out,
            "<li><span class=\"{cls}\">{}</span>{}</li>",
            esc(sym),
            esc(meaning)
        );
    }
    let _ = writeln!(
        out,
        "<li><span class=\"nc\">n/c</span>not counted: the administrator has not enabled the region</li></ul>"
    );
}

fn tooltip(c: &Cell) -> String {
    let mut t = format!(
        "{} {}: detector {}, {}",
        c.account,
        c.region,
        c.detector.label(),
        c.relationship.label()
    );
    if let Some(o) = &c.other_administrator {
        let _ = write!(t, " ({o})");
    }
    if let Some(f) = &c.frequency {
        let _ = write!(t, ", {f}");
    }
    if let Some(r) = &c.reason {
        let _ = write!(t, "; {r}");
    }
    let _ = write!(t, "; read from: {}", c.source());
    t
}

fn gaps(out: &mut String, a: &Audit) {
    let _ = writeln!(out, "<h2>Gaps ({})</h2>", a.summary.gaps);
    if a.summary.gaps + a.summary.export_gaps == 0 {
        let _ = writeln!(
            out,
            "<p>None: GuardDuty is on and linked everywhere it can be.</p>"
        );
        return;
    }
    let _ = writeln!(
        out,
        "<table class=\"gaps\"><thead><tr><th>account</th><th>problem</th><th>regions</th><th>reason</th></tr></thead><tbody>"
    );
    for g in gap_groups(a) {
        let regions: Vec<String> = g
            .regions
            .iter()
            .map(|r| {
                format!(
                    "<abbr title=\"{}\">{}</abbr>",
                    esc(r),
                    esc(&short_region(r))
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(g.account),
            esc(&g.problem),
            regions.join(" "),
            esc(g.reason.unwrap_or(""))
        );
    }
    let _ = writeln!(out, "</tbody></table><h2>To fix</h2><ol>");
    for f in &a.fixes {
        if f.runnable() {
            let _ = writeln!(out, "<li><code>{}</code></li>", esc(&f.command));
        } else {
            let _ = writeln!(out, "<li>{}</li>", esc(&f.command));
        }
    }
    let _ = writeln!(out, "</ol>");
}

fn per_region(out: &mut String, a: &Audit, off: &dyn Fn(&str) -> bool) {
    let _ = writeln!(out, "<h2>Per region</h2><table><thead><tr><th>region</th><th>coverage</th><th>covered</th><th>counted</th><th>delegated administrator</th><th>auto-enable</th><th>note</th></tr></thead><tbody>");
    for r in &a.organization {
        let c = a
            .summary
            .per_region
            .get(&r.region)
            .copied()
            .unwrap_or_default();
        let (cls, text) = coverage(c, off(&r.region));
        let mut note = r.reason.clone().unwrap_or_default();
        if let Some(t) = r.totals() {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!("GuardDuty totals: {t}"));
        }
        if off(&r.region) {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str("the administrator has not enabled this region: enable it there first");
        }
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"{cls}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.region),
            esc(&text),
            c.covered,
            c.counted,
            esc(&r.delegated_admins.join(", ")),
            esc(r.auto_enable.as_deref().unwrap_or("")),
            esc(&note)
        );
    }
    let _ = writeln!(out, "</tbody></table>");
}

fn drift(out: &mut String, a: &Audit) {
    let Some(d) = &a.drift else { return };
    let _ = writeln!(out, "<h2>Drift since {}</h2><table><thead><tr><th>change</th><th>account</th><th>region</th><th>before</th><th>after</th></tr></thead><tbody>", esc(&d.baseline_generated_at));
    for (label, c) in d.changes() {
        let _ = writeln!(
            out,
            "<tr><td>{label}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.account),
            esc(&c.region),
            esc(&c.before),
            esc(&c.after)
        );
    }
    let _ = writeln!(out, "</tbody></table>");
}

fn cells(out: &mut String, a: &Audit) {
    let _ = writeln!(out, "<h2>Cells</h2><p>{}</p><table><thead><tr><th>account</th><th>region</th><th>detector</th><th>relationship</th><th>frequency</th><th>features on</th><th>reason</th></tr></thead><tbody>", esc(LEGEND).replace('\n', "<br>"));
    for c in &a.cells {
        let features: Vec<&str> = c
            .features
            .iter()
            .filter(|(_, on)| **on)
            .map(|(f, _)| f.as_str())
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.account),
            esc(&c.region),
            esc(c.detector.label()),
            esc(c.relationship.label()),
            esc(c.frequency.as_deref().unwrap_or("")),
            esc(&features.join(";")),
            esc(c.reason.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(out, "</tbody></table>");
}
