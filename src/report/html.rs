//! Self-contained HTML: inline CSS and JS, no network needed to open it; sortable and
//! filterable tables; a severity heat map of accounts x regions.
//!
//! Finding fields come from attackers. Markup is built with [`Html`], which takes raw markup
//! only as `&'static str` (text written in this file) and every run-time string through
//! `Html::text`, which escapes: forgetting to escape cannot compile. A Content-Security-Policy
//! allows only this file's own script (by hash) as a second wall.

use base64::Engine as _;
use sha2::Digest as _;

use super::coverage::PLAN_COLUMNS;
use super::model::{Cell, Report};
use crate::findings::record::FindingRecord;
use crate::findings::severity::Band;
use crate::findings::suppression::{Suppression, RULE_COLUMNS};

/// An HTML document under construction.
pub struct Html {
    buf: String,
}

impl Html {
    fn new() -> Html {
        Html {
            buf: String::with_capacity(64 * 1024),
        }
    }

    /// Markup written in this source file; only `'static` text can be raw.
    fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.buf.push_str(markup);
        self
    }

    /// Any run-time text, escaped for element content and quoted attribute values.
    fn text(&mut self, s: &str) -> &mut Html {
        escape_into(&mut self.buf, s);
        self
    }

    /// `<tag>text</tag>`, tag from this file.
    fn el(&mut self, open: &'static str, s: &str, close: &'static str) -> &mut Html {
        self.raw(open).text(s).raw(close)
    }

    /// A picture from [`super::svg`], which escapes its own strings.
    fn svg(&mut self, m: &super::svg::Markup) -> &mut Html {
        self.buf.push_str(m.as_str());
        self
    }

    fn td(&mut self, s: &str) -> &mut Html {
        self.el("<td>", s, "</td>")
    }

    /// A numeric cell, sorted as a number.
    fn td_num(&mut self, n: impl std::fmt::Display) -> &mut Html {
        let s = n.to_string();
        self.raw("<td class=\"num\" data-sort=\"")
            .text(&s)
            .raw("\">")
            .text(&s)
            .raw("</td>")
    }
}

/// Escape `&`, `<`, `>`, `"` and `'`.
pub fn escape_into(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f6;cursor:pointer;user-select:none}th.sorted-asc::after{content:" \25B2"}th.sorted-desc::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
input.filter{margin:6px 0;padding:3px 6px;width:320px}
.b-Low{color:#446}.b-Medium{color:#a60}.b-High{color:#c30;font-weight:600}.b-Critical{color:#fff;background:#900;font-weight:700}
.heat td.h{text-align:center;min-width:52px}
.h0{background:#fafafa;color:#999}.h1{background:#e8f0fb}.h2{background:#ffe9b3}.h3{background:#ffb38a}.h4{background:#d7301f;color:#fff}
.rule{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 12px}
.partial{background:#fdecea;border-left:4px solid #c00;padding:8px 12px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px}dt{font-weight:600}dd{margin:0}
svg.chart{display:block;max-width:100%;height:auto;font-size:11px;fill:#1d1d1f}svg.chart .grid{stroke:#e2e2e6}
@media print{
body{margin:0;font-size:10pt}input.filter{display:none}th{cursor:auto}th.sorted-asc::after,th.sorted-desc::after{content:none}
h2{break-after:avoid}table,svg.chart,dl{break-inside:avoid}thead{display:table-header-group}tr{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

/// Sorting (click a header) and filtering (type in the box above a table). Reads and moves
/// DOM nodes only; it never turns text into markup.
const SCRIPT: &str = r#"
(function(){
document.documentElement.setAttribute('data-gdorg','ready');
function key(td){var s=td.getAttribute('data-sort');var t=s!==null?s:td.textContent;var n=parseFloat(t);return isNaN(n)||!/^-?[0-9.]+$/.test(t.trim())?t.toLowerCase():n;}
document.querySelectorAll('table.sortable').forEach(function(table){
 var ths=table.querySelectorAll('thead th');
 ths.forEach(function(th,i){th.addEventListener('click',function(){
  var asc=!th.classList.contains('sorted-asc');
  ths.forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
  th.classList.add(asc?'sorted-asc':'sorted-desc');
  var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);if(typeof x!==typeof y){x=String(x);y=String(y);}return (x<y?-1:x>y?1:0)*(asc?1:-1);});
  rows.forEach(function(r){body.appendChild(r);});
 });});
});
document.querySelectorAll('input.filter').forEach(function(input){
 var table=document.getElementById(input.getAttribute('data-table'));
 input.addEventListener('input',function(){
  var q=input.value.toLowerCase();
  Array.prototype.forEach.call(table.tBodies[0].rows,function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?'':'none';});
 });
});
})();
"#;

fn script_hash() -> String {
    let digest = sha2::Sha256::digest(SCRIPT.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

pub fn render(r: &Report) -> String {
    let mut h = Html::new();
    h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'sha256-")
        .text(&script_hash())
        .raw("'\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
        .raw("<title>GuardDuty findings report</title><style>")
        .raw(STYLE)
        .raw("</style></head><body>\n<h1>GuardDuty findings report</h1>\n");
    scope(&mut h, r);
    if !r.errors.is_empty() {
        h.raw("<div class=\"partial\"><strong>Partial report.</strong> Not read:<ul>");
        for e in &r.errors {
            h.el("<li>", e, "</li>");
        }
        h.raw("</ul></div>\n");
    }
    totals(&mut h, r);
    h.raw("<h2>Findings per day</h2>\n<p>Current findings per day of their last update (UTC), stacked by severity.</p>\n")
        .svg(&super::svg::per_day(&r.days))
        .raw("<h2>Findings per region</h2>\n")
        .svg(&super::svg::per_region(&r.regions));
    heat_map(&mut h, r);
    h.raw("<h2>Counts per account and region</h2>\n");
    filter_box(&mut h, "cells");
    h.raw("<table id=\"cells\" class=\"sortable\"><thead><tr><th>Account</th><th>Region</th><th>Low</th><th>Medium</th><th>High</th><th>Critical</th><th>Current</th><th>Archived</th></tr></thead><tbody>\n");
    for c in &r.cells {
        h.raw("<tr>").td(&c.account).td(&c.region);
        for n in c.current {
            h.td_num(n);
        }
        h.td_num(c.current_total())
            .td_num(c.archived)
            .raw("</tr>\n");
    }
    h.raw("</tbody></table>\n<h2>Top finding types</h2>\n");
    filter_box(&mut h, "types");
    h.raw("<table id=\"types\" class=\"sortable\"><thead><tr><th>Type</th><th>Current</th><th>Archived</th><th>Max severity</th></tr></thead><tbody>\n");
    for t in &r.top_types {
        h.raw("<tr>")
            .td(&t.finding_type)
            .td_num(t.current)
            .td_num(t.archived)
            .td_num(format!("{:.1}", t.max_severity))
            .raw("</tr>\n");
    }
    h.raw("</tbody></table>\n<h2>Highest-severity findings</h2>\n");
    findings(&mut h, "top", &r.top_findings);
    h.raw("<h2>Archived findings</h2>\n<p class=\"rule\">")
        .text(&r.archived.rule)
        .raw("</p>\n<p>")
        .text(&r.archived.total.to_string())
        .raw(" archived finding(s); the highest-severity ones:</p>\n");
    findings(&mut h, "archived", &r.archived.listed);
    suppression(&mut h, &r.archived.suppression);
    coverage(&mut h, r);
    h.raw("<script>")
        .raw(SCRIPT)
        .raw("</script>\n</body></html>\n");
    h.buf
}

fn filter_box(h: &mut Html, table: &'static str) {
    h.raw("<input class=\"filter\" type=\"search\" placeholder=\"Filter rows\" data-table=\"")
        .raw(table)
        .raw("\">\n");
}

fn scope(h: &mut Html, r: &Report) {
    let s = &r.scope;
    h.raw("<h2>Scope</h2>\n<dl>");
    let item = |h: &mut Html, k: &'static str, v: &str| {
        h.raw("<dt>").raw(k).raw("</dt><dd>").text(v).raw("</dd>");
    };
    item(h, "Run by", &s.caller_arn);
    item(
        h,
        "Read through",
        &format!(
            "{} ({}), {} mode",
            s.administrator, s.administrator_how, s.mode
        ),
    );
    item(h, "Regions", &s.regions.join(", "));
    item(h, "Accounts with findings", &r.totals.accounts.join(", "));
    item(h, "Filter", &s.filter);
    item(h, "Started", &s.started_at);
    item(h, "Finished", &s.finished_at);
    h.raw("</dl>\n");
}

fn totals(h: &mut Html, r: &Report) {
    let t = &r.totals;
    h.raw("<h2>Totals</h2>\n<table><thead><tr><th>Low</th><th>Medium</th><th>High</th><th>Critical</th><th>Current</th><th>Archived</th></tr></thead><tbody><tr>");
    for n in t.current {
        h.td_num(n);
    }
    h.td_num(t.current_total)
        .td_num(t.archived_total)
        .raw("</tr></tbody></table>\n");
}

/// Heat class of a cell: its highest band present (h0 = none).
fn heat(c: &Cell) -> &'static str {
    match c.current.iter().rposition(|n| *n > 0) {
        None => "h0",
        Some(0) => "h1",
        Some(1) => "h2",
        Some(2) => "h3",
        Some(_) => "h4",
    }
}

fn heat_map(h: &mut Html, r: &Report) {
    h.raw("<h2>Severity heat map</h2>\n<p>Current findings per account and region; the colour is the highest band present (Low, Medium, High, Critical).</p>\n");
    let regions = &r.scope.regions;
    let mut accounts: Vec<&str> = r.cells.iter().map(|c| c.account.as_str()).collect();
    accounts.dedup();
    h.raw("<table class=\"heat sortable\" id=\"heat\"><thead><tr><th>Account</th>");
    for reg in regions {
        h.el("<th>", reg, "</th>");
    }
    h.raw("</tr></thead><tbody>\n");
    for a in accounts {
        h.raw("<tr>").td(a);
        for reg in regions {
            let cell = r.cells.iter().find(|c| c.account == a && &c.region == reg);
            match cell {
                Some(c) => {
                    let n = c.current_total();
                    h.raw("<td class=\"h ")
                        .raw(heat(c))
                        .raw("\" data-sort=\"")
                        .text(&n.to_string())
                        .raw("\">")
                        .text(&n.to_string())
                        .raw("</td>");
                }
                None => {
                    h.raw("<td class=\"h h0\" data-sort=\"0\">0</td>");
                }
            }
        }
        h.raw("</tr>\n");
    }
    h.raw("</tbody></table>\n");
}

fn band_class(b: Option<Band>) -> &'static str {
    match b {
        Some(Band::Low) => "b-Low",
        Some(Band::Medium) => "b-Medium",
        Some(Band::High) => "b-High",
        Some(Band::Critical) => "b-Critical",
        None => "",
    }
}

/// Everything that can hide a finding, and who owns it.
fn suppression(h: &mut Html, s: &Suppression) {
    h.raw("<h3>What can hide a finding</h3>\n<p id=\"suppression\">")
        .text(&s.summary())
        .raw("</p>\n");
    if !s.rules.is_empty() {
        h.raw("<table id=\"rules\" class=\"sortable\"><thead><tr>");
        for c in RULE_COLUMNS {
            h.raw("<th>").text(c).raw("</th>");
        }
        h.raw("</tr></thead><tbody>\n");
        for row in s.rule_rows() {
            h.raw("<tr>");
            for c in &row {
                h.td(c);
            }
            h.raw("</tr>\n");
        }
        h.raw("</tbody></table>\n");
    }
    if !s.member_archives.is_empty() {
        h.raw("<table id=\"member-archives\"><thead><tr><th>Member</th><th>Region</th><th>Archived in its own detector</th></tr></thead><tbody>\n");
        for a in &s.member_archives {
            h.raw("<tr>")
                .td(&a.account)
                .td(&a.region)
                .td_num(a.archived)
                .raw("</tr>\n");
        }
        h.raw("</tbody></table>\n");
    }
    if !s.unchecked.is_empty() {
        h.raw("<ul class=\"unchecked\">");
        for u in &s.unchecked {
            h.raw("<li>")
                .text(&format!(
                    "not checked {} {}: {}",
                    u.account, u.region, u.reason
                ))
                .raw("</li>");
        }
        h.raw("</ul>\n");
    }
}

fn findings(h: &mut Html, id: &'static str, list: &[FindingRecord]) {
    filter_box(h, id);
    h.raw("<table class=\"sortable\" id=\"")
        .raw(id)
        .raw("\"><thead><tr><th>Severity</th><th>Type</th><th>Account</th><th>Region</th><th>Resource</th><th>Action</th><th>Actor IP</th><th>Port</th><th>Domain</th><th>Location</th><th>Organisation</th><th>User agent</th><th>Threat lists</th><th>Count</th><th>First seen</th><th>Last seen</th><th>Title</th><th>Id</th></tr></thead><tbody>\n");
    for f in list {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let band = f.band();
        h.raw("<tr><td class=\"num ")
            .raw(band_class(band))
            .raw("\" data-sort=\"")
            .text(&format!("{:.1}", f.severity))
            .raw("\">")
            .text(&format!(
                "{:.1} {}",
                f.severity,
                band.map(Band::name).unwrap_or("")
            ))
            .raw("</td>")
            .td(&f.finding_type)
            .td(&f.account_id)
            .td(&f.region)
            .td(&format!("{} {}", f.resource_type, f.resource_id))
            .td(&o(&f.action_type))
            .td(&o(&f.actor.ip))
            .td(&f.actor.port.map(|p| p.to_string()).unwrap_or_default())
            .td(&o(&f.actor.domain))
            .td(&o(&f.actor.location))
            .td(&o(&f.actor.organization))
            .td(&o(&f.actor.user_agent))
            .td(&f.threat_lists.join(", "))
            .td_num(f.count)
            .td(&o(&f.first_seen))
            .td(&o(&f.last_seen))
            .td(&f.title)
            .td(&f.id)
            .raw("</tr>\n");
    }
    h.raw("</tbody></table>\n");
}

fn coverage(h: &mut Html, r: &Report) {
    h.raw("<h2>Coverage</h2>\n<p>Source: ")
        .text(&r.coverage.source)
        .raw("</p>\n");
    if r.coverage.counted > 0 {
        h.raw("<p><strong>")
            .text(&format!(
                "{} of {} account x region cells monitored",
                r.coverage.monitored, r.coverage.counted
            ))
            .raw("</strong>: findings counts of the others are not complete (nobody was watching).</p>\n");
    }
    if !r.coverage.plans.is_empty() {
        h.raw("<h3>What the monitored cells were watching</h3>\n<table id=\"plans\"><thead><tr>");
        for c in PLAN_COLUMNS {
            h.raw("<th>").text(c).raw("</th>");
        }
        h.raw("</tr></thead><tbody>\n");
        for row in r.coverage.plan_rows() {
            h.raw("<tr>").td(&row[0]);
            for n in &row[1..] {
                h.td_num(n);
            }
            h.raw("</tr>\n");
        }
        h.raw("</tbody></table>\n");
    }
    filter_box(h, "coverage");
    h.raw("<table id=\"coverage\" class=\"sortable\"><thead><tr><th>Region</th><th>Account</th><th>Status</th></tr></thead><tbody>\n");
    for c in &r.coverage.rows {
        h.raw("<tr>")
            .td(&c.region)
            .td(&c.account)
            .td(&c.status)
            .raw("</tr>\n");
    }
    h.raw("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_attacker_string() {
        let text = render(&super::super::fixture::report());
        // The only <script> is ours, at the end.
        assert_eq!(text.matches("<script").count(), 1, "{text}");
        assert!(!text.contains("<img"));
        assert!(!text.contains("onerror=\""));
        assert!(text.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
        assert!(text.contains("Backdoor:EC2/C&amp;CActivity.B!DNS"));
        // No network: nothing fetched from anywhere.
        for bad in ["http://", "https://", "src=\"", "href=\""] {
            let n = text.matches(bad).count();
            // The only URL-looking text is the escaped attacker string in a cell.
            assert!(n == 0 || bad == "http://", "{bad} x{n}");
        }
        assert!(text.contains(&script_hash()));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn escape_covers_quotes() {
        assert_eq!(
            escape(r#"<a href='x'>"&"#),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;"
        );
    }
}
