//! CSV: one table, one `section` column (`cell`, `type`, `finding`, `archived`,
//! `suppression_rule`, `member_archive`), quoted by the csv crate. Finding fields come from attackers; a cell starting with `=`, `+`, `-`, `@`, tab
//! or carriage return would run as a formula in a spreadsheet, so it gets a leading `'`.

use super::model::Report;
use crate::findings::record::FindingRecord;

const HEADER: &[&str] = &[
    "section",
    "account",
    "region",
    "type",
    "low",
    "medium",
    "high",
    "critical",
    "current",
    "archived",
    "id",
    "severity",
    "title",
    "resource_type",
    "resource",
    "action_type",
    "actor_ip",
    "actor_port",
    "actor_domain",
    "actor_location",
    "actor_organization",
    "user_agent",
    "threat_lists",
    "count",
    "first_seen",
    "last_seen",
    "updated_at",
];

/// Neutralise a cell a spreadsheet would read as a formula.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A CSV writer whose every cell passes through [`neutralise`].
pub struct SafeWriter<W: std::io::Write> {
    inner: csv::Writer<W>,
}

impl<W: std::io::Write> SafeWriter<W> {
    pub fn new(w: W) -> SafeWriter<W> {
        SafeWriter {
            inner: csv::Writer::from_writer(w),
        }
    }

    pub fn row<I, S>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.inner.write_record(
            cells
                .into_iter()
                .map(|c| neutralise(c.as_ref()).into_owned()),
        )
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }

    pub fn into_inner(self) -> Result<W, String> {
        self.inner.into_inner().map_err(|e| e.to_string())
    }
}

/// The columns of one finding, for the report and for `findings export --format csv`.
pub fn finding_cells(section: &str, f: &FindingRecord) -> Vec<String> {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        section.into(),
        f.account_id.clone(),
        f.region.clone(),
        f.finding_type.clone(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        f.archived.to_string(),
        f.id.clone(),
        format!("{:.1}", f.severity),
        f.title.clone(),
        f.resource_type.clone(),
        f.resource_id.clone(),
        o(&f.action_type),
        o(&f.actor.ip),
        f.actor.port.map(|p| p.to_string()).unwrap_or_default(),
        o(&f.actor.domain),
        o(&f.actor.location),
        o(&f.actor.organization),
        o(&f.actor.user_agent),
        f.threat_lists.join("; "),
        f.count.to_string(),
        o(&f.first_seen),
        o(&f.last_seen),
        f.updated_at.clone(),
    ]
}

pub fn header() -> &'static [&'static str] {
    HEADER
}

pub fn render(r: &Report) -> Result<String, super::RenderError> {
    let mut w = SafeWriter::new(Vec::new());
    w.row(HEADER)?;
    let blank = |n: usize| std::iter::repeat_n(String::new(), n);
    for c in &r.cells {
        let mut row = vec![
            "cell".into(),
            c.account.clone(),
            c.region.clone(),
            String::new(),
        ];
        row.extend(c.current.iter().map(u64::to_string));
        row.push(c.current_total().to_string());
        row.push(c.archived.to_string());
        row.extend(blank(HEADER.len() - row.len()));
        w.row(row)?;
    }
    for t in &r.top_types {
        let mut row: Vec<String> = vec![
            "type".into(),
            String::new(),
            String::new(),
            t.finding_type.clone(),
        ];
        row.extend(blank(4));
        row.push(t.current.to_string());
        row.push(t.archived.to_string());
        row.push(String::new());
        row.push(format!("{:.1}", t.max_severity));
        row.extend(blank(HEADER.len() - row.len()));
        w.row(row)?;
    }
    for f in &r.top_findings {
        w.row(finding_cells("finding", f))?;
    }
    for f in &r.archived.listed {
        w.row(finding_cells("archived", f))?;
    }
    // What can hide a finding: rules (name in `type`, owner and criteria in `title`, what it
    // archives now in `archived`) and members' own archives.
    let sup = &r.archived.suppression;
    for rule in &sup.rules {
        let mut row = vec![
            "suppression_rule".to_string(),
            rule.account.clone(),
            rule.region.clone(),
            rule.name.clone(),
        ];
        row.extend(blank(5));
        row.push(rule.archived().map(|n| n.to_string()).unwrap_or_default());
        row.push(String::new());
        row.push(String::new());
        row.push(format!("{} rule: {}", rule.owner.label(), rule.criteria));
        row.extend(blank(HEADER.len() - row.len()));
        w.row(row)?;
    }
    for a in &sup.member_archives {
        let mut row = vec![
            "member_archive".to_string(),
            a.account.clone(),
            a.region.clone(),
        ];
        row.extend(blank(6));
        row.push(a.archived.to_string());
        row.extend(blank(HEADER.len() - row.len()));
        w.row(row)?;
    }
    let bytes = w.into_inner().map_err(super::RenderError::CsvInner)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("fine"), "fine");
        let text = render(&super::super::fixture::report()).unwrap();
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        for rec in rd.records() {
            for cell in rec.unwrap().iter() {
                assert!(
                    !matches!(
                        cell.as_bytes().first(),
                        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
                    ),
                    "{cell:?}"
                );
            }
        }
        assert!(text.contains("'=HYPERLINK"));
        assert!(text.contains("'+cmd|"));
        insta::assert_snapshot!(text);
    }
}
