//! The consolidated findings report: one model, built by streaming findings through an
//! aggregator (bounded memory whatever their number), and renderers that only print it.
//!
//! | module | owns |
//! | --- | --- |
//! | [`model`] | the report's data, with a schema version; sorted and deterministic |
//! | [`aggregate`] | findings -> counts per account x region x band, top types, top-N findings |
//! | [`counted`] | the counts from GetFindingsStatistics and the listed findings only, at any number of findings |
//! | [`coverage`] | every account x region in scope, monitored or not, from the audit's model |
//! | [`build`] | reading, aggregating and the coverage audit: the report model of a scope |
//! | [`table`] | terminal tables (tabled) |
//! | [`json`] | JSON with the schema version |
//! | [`csv`] | CSV, with formula-looking cells neutralised |
//! | [`markdown`] | Markdown, with cell text escaped |
//! | [`manifest`] | `--manifest`: the SHA-256 of each file written, the scope, the version, the caller |
//! | [`svg`] | the HTML's pictures as inline SVG: findings per day and per region by band |
//! | [`html`] | self-contained HTML: inline CSS/JS, sortable and filterable tables, heat map; every string escaped |

pub mod aggregate;
pub mod build;
pub mod counted;
pub mod coverage;
pub mod csv;
pub mod html;
pub mod json;
pub mod manifest;
pub mod markdown;
pub mod model;
pub mod svg;
pub mod table;

pub use aggregate::Aggregator;
pub use model::Report;

/// The output formats of `gdorg report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    #[value(alias = "md")]
    Markdown,
    Html,
}

/// Render `report` in `format`.
pub fn render(report: &Report, format: Format) -> Result<String, RenderError> {
    Ok(match format {
        Format::Table => table::render(report),
        Format::Json => json::render(report)?,
        Format::Csv => csv::render(report)?,
        Format::Markdown => markdown::render(report),
        Format::Html => html::render(report),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("CSV: {0}")]
    CsvInner(String),
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A report with attacker strings in every finding field, for the renderers' tests.
    use super::aggregate::Aggregator;
    use super::model::*;
    use crate::findings::record::tests::record;
    use crate::findings::suppression::{MemberArchive, Owner, Rule, Suppression, Unchecked};

    pub const XSS: &str =
        "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">";

    pub fn report() -> Report {
        let mut agg = Aggregator::new(5);
        let mut a = record(
            "f-1",
            "111111111111",
            "eu-west-1",
            "Backdoor:EC2/C&CActivity.B!DNS",
            9.5,
        );
        a.actor.domain = Some(format!("evil.example{XSS}"));
        a.actor.organization = Some("=HYPERLINK(\"http://x\")".into());
        a.actor.user_agent = Some("@SUM(1+1)".into());
        a.title = format!("Title {XSS}");
        a.resource_id = "+cmd|' /C calc'!A0".into();
        a.threat_lists = vec!["-2+3".into(), "\tTabbed".into()];
        agg.add(&a);
        agg.add(&record(
            "f-2",
            "222222222222",
            "us-east-1",
            "Recon:EC2/PortProbeUnprotectedPort",
            2.0,
        ));
        agg.add(&record(
            "f-3",
            "222222222222",
            "eu-west-1",
            "Recon:EC2/PortProbeUnprotectedPort",
            5.0,
        ));
        let mut arch = record(
            "f-4",
            "111111111111",
            "us-east-1",
            "UnauthorizedAccess:EC2/SSHBruteForce",
            8.0,
        );
        arch.archived = true;
        agg.add(&arch);
        let scope = Scope {
            caller_arn: "arn:aws:iam::999999999999:user/auditor".into(),
            administrator: "999999999999".into(),
            administrator_how: "the caller's own account".into(),
            mode: "administrator".into(),
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            filter: "all findings".into(),
            started_at: "2026-11-23T10:00:00Z".into(),
            finished_at: "2026-11-23T10:00:05Z".into(),
        };
        let coverage = super::coverage::Coverage {
            source: "test".into(),
            rows: vec![
                super::coverage::CoverageRow {
                    account: "111111111111".into(),
                    region: "eu-west-1".into(),
                    status: "monitored".into(),
                    monitored: true,
                    counted: true,
                },
                super::coverage::CoverageRow {
                    account: "333333333333".into(),
                    region: "eu-west-1".into(),
                    status: format!("not monitored: no access ({XSS})"),
                    monitored: false,
                    counted: true,
                },
            ],
            monitored: 1,
            counted: 2,
            plans: vec![super::coverage::PlanWatch {
                plan: "S3_DATA_EVENTS".into(),
                counts: crate::audit::plans::Counts {
                    on: 1,
                    ..Default::default()
                },
            }],
        };
        let mut r = agg.finish(scope, coverage, vec!["ap-south-1: AccessDenied".into()]);
        r.archived.suppression = suppression();
        r
    }

    /// A rule of the administrator, a member's leftover rule whose name and criteria came
    /// from a compromised member, a member archive and a cell the role could not enter.
    fn suppression() -> Suppression {
        Suppression {
            rules: vec![
                Rule {
                    owner: Owner::Administrator,
                    account: "999999999999".into(),
                    region: "us-east-1".into(),
                    name: "suppress-low".into(),
                    description: None,
                    criteria: "severity < 4".into(),
                    archives: Some([("222222222222".to_string(), 3)].into()),
                    count_error: None,
                },
                Rule {
                    owner: Owner::Member,
                    account: "222222222222".into(),
                    region: "eu-west-1".into(),
                    name: format!("=1+1{XSS}"),
                    description: Some(XSS.into()),
                    criteria: format!("type = {XSS}"),
                    archives: None,
                    count_error: Some("GetFindingsStatistics: ThrottlingException".into()),
                },
            ],
            member_archives: vec![MemberArchive {
                account: "222222222222".into(),
                region: "eu-west-1".into(),
                archived: 7,
            }],
            administrator_regions: 2,
            member_cells: 3,
            unchecked: vec![Unchecked {
                account: "333333333333".into(),
                region: "eu-west-1".into(),
                reason: format!("AssumeRole: AccessDenied {XSS}"),
            }],
            not_checked: None,
        }
    }
}
