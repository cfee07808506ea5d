//! The coverage section: per region, which accounts have an enabled detector or are enabled
//! members of the administrator. This module builds a simple one from the administrator's
//! view (its own detector + ListMembers); a richer source (the audit) can fill [`Coverage`]
//! instead, since the report takes only the rows.

use serde::Serialize;

use crate::aws::ClientFactory;
use crate::findings::admin::detector;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Where the rows come from, in words.
    pub source: String,
    /// Sorted by region, then account.
    pub rows: Vec<CoverageRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CoverageRow {
    pub region: String,
    pub account: String,
    /// `Enabled`, `Disabled`, `No detector`, a member relationship status, or an error.
    pub status: String,
}

/// The administrator's own detector and its members' relationship, per region.
pub async fn from_administrator(
    config: &aws_config::SdkConfig,
    administrator: &str,
    regions: &[String],
) -> Coverage {
    let mut rows = Vec::new();
    for region in regions {
        let gd = ClientFactory::guardduty(config, region);
        let row = |account: &str, status: String| CoverageRow {
            region: region.clone(),
            account: account.into(),
            status,
        };
        let det = match detector(&gd).await {
            Ok(Some(d)) => d,
            Ok(None) => {
                rows.push(row(administrator, "No detector".into()));
                continue;
            }
            Err(e) => {
                rows.push(row(administrator, format!("error: {}", e.code)));
                continue;
            }
        };
        let status = match gd.get_detector().detector_id(&det).send().await {
            Ok(d) => d
                .status()
                .map(|s| capitalise(s.as_str()))
                .unwrap_or_else(|| "Unknown".into()),
            Err(e) => format!(
                "error: {}",
                crate::aws::AwsError::from_sdk("GetDetector")(e).code
            ),
        };
        rows.push(row(administrator, status));
        let mut pages = gd
            .list_members()
            .detector_id(&det)
            .only_associated("false")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => {
                    for m in p.members() {
                        rows.push(row(
                            m.account_id().unwrap_or_default(),
                            m.relationship_status().unwrap_or("Unknown").to_string(),
                        ));
                    }
                }
                Err(e) => {
                    rows.push(row(
                        "*",
                        format!(
                            "error: {}",
                            crate::aws::AwsError::from_sdk("ListMembers")(e).code
                        ),
                    ));
                    break;
                }
            }
        }
    }
    rows.sort();
    rows.dedup();
    Coverage {
        source: format!("the administrator ({administrator}): its detectors and ListMembers"),
        rows,
    }
}

fn capitalise(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}
