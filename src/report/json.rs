//! JSON: the model as-is, under its `schema_version`, pretty-printed with a final newline.

use super::model::Report;

pub fn render(report: &Report) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_schema_version_and_round_trips() {
        let r = super::super::fixture::report();
        let text = super::render(&r).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["totals"]["archived_total"], 1);
        assert_eq!(v["top_findings"][0]["id"], "f-1");
        insta::assert_snapshot!(text);
    }
}
