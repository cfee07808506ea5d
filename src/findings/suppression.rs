//! Everything that can hide a finding from the administrator's current view, and who owns it:
//! suppression rules (GuardDuty filters whose action is ARCHIVE, which archive matching new
//! findings as they arrive) and findings archived in a member's own detector.
//!
//! GuardDuty lets only an administrator or a standalone account create suppression rules or
//! archive, but an account that was standalone, or the administrator of others, before it
//! joined keeps what it made then. So this reads the administrator's rules in every region and,
//! through the member role, every associated member's own detector there: its rules and its
//! archived findings. Each rule comes with what it archives: the archived findings its criteria
//! match in its owner's detector, counted on the server (GetFindingsStatistics).

use std::collections::BTreeMap;

use serde::Serialize;

use super::criteria::{self, Cond, Criteria};
use super::stats::{self, Grouping};
use crate::aws::admin::detector;
use crate::aws::{AwsError, Session};
use crate::control::{fan_out, Reporter, Stop};

/// Who owns a rule or an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Administrator,
    Member,
}

impl Owner {
    pub fn label(self) -> &'static str {
        match self {
            Owner::Administrator => "administrator",
            Owner::Member => "member",
        }
    }
}

/// A suppression rule: a filter with the ARCHIVE action on `account`'s detector in `region`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub owner: Owner,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What it matches, in words (`everything` for empty criteria).
    pub criteria: String,
    /// Archived findings its criteria match in the owner's detector, per account; `None` when
    /// they could not be counted (see `count_error`).
    pub archives: Option<BTreeMap<String, i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count_error: Option<String>,
}

impl Rule {
    /// The archived findings it matches, over every account.
    pub fn archived(&self) -> Option<i64> {
        self.archives.as_ref().map(|m| m.values().sum())
    }
}

/// A member whose own detector holds archived findings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MemberArchive {
    pub account: String,
    pub region: String,
    pub archived: i64,
}

/// A cell that could not be checked, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unchecked {
    pub account: String,
    pub region: String,
    pub reason: String,
}

/// What was found, sorted (administrator's rules first, then members', by account, region).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub rules: Vec<Rule>,
    pub member_archives: Vec<MemberArchive>,
    /// Administrator regions and member cells read.
    pub administrator_regions: usize,
    pub member_cells: usize,
    pub unchecked: Vec<Unchecked>,
    /// Set when the check did not run or was cut short, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<String>,
}

impl Suppression {
    /// A check that did not run, with the reason.
    pub fn skipped(why: impl Into<String>) -> Suppression {
        Suppression {
            not_checked: Some(why.into()),
            ..Suppression::default()
        }
    }

    /// What was found, in one sentence for every renderer.
    pub fn summary(&self) -> String {
        if let Some(why) = &self.not_checked {
            if self.administrator_regions + self.member_cells == 0 {
                return format!("Suppression rules and member archives: {why}.");
            }
        }
        let members = self
            .rules
            .iter()
            .filter(|r| r.owner == Owner::Member)
            .count();
        let mut s = format!(
            "Checked the administrator in {} region(s) and {} member detector(s) through the member role: {} suppression rule(s) ({} of the administrator, {members} of members); {} member detector(s) hold archived findings of their own",
            self.administrator_regions,
            self.member_cells,
            self.rules.len(),
            self.rules.len() - members,
            self.member_archives.len(),
        );
        if !self.unchecked.is_empty() {
            s.push_str(&format!("; {} could not be checked", self.unchecked.len()));
        }
        if let Some(why) = &self.not_checked {
            s.push_str(&format!("; {why}"));
        }
        s.push('.');
        s
    }

    /// The rules as table rows: owner, account, region, name, matches, archived findings.
    pub fn rule_rows(&self) -> Vec<[String; 6]> {
        self.rules
            .iter()
            .map(|r| {
                [
                    r.owner.label().into(),
                    r.account.clone(),
                    r.region.clone(),
                    r.name.clone(),
                    r.criteria.clone(),
                    match (r.archives.as_ref(), &r.count_error) {
                        (Some(m), _) => format!(
                            "{} in {} account(s)",
                            m.values().sum::<i64>(),
                            m.values().filter(|n| **n > 0).count()
                        ),
                        (None, Some(e)) => format!("not counted: {e}"),
                        (None, None) => "not counted".into(),
                    },
                ]
            })
            .collect()
    }
}

/// Column headings of [`Suppression::rule_rows`].
pub const RULE_COLUMNS: [&str; 6] = [
    "Owner",
    "Account",
    "Region",
    "Rule",
    "Archives findings matching",
    "Archived now",
];

/// One detector's side: its rules and its own archived findings.
#[derive(Default)]
struct Side {
    rules: Vec<Rule>,
    archived: i64,
}

/// Read the administrator's rules in `regions`, and through the member role every associated
/// member's own rules and archived findings, `concurrency` detectors at once.
pub async fn check(
    session: &Session,
    administrator: &str,
    regions: &[String],
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Suppression {
    let mut out = Suppression::default();
    // The administrator: its rules, and its associated members per region.
    let admin = fan_out(
        regions.to_vec(),
        concurrency,
        "suppression (administrator)",
        reporter,
        stop,
        |region| async move {
            let r = administrator_region(session, administrator, &region).await;
            (region, r)
        },
    )
    .await;
    let mut cells = Vec::new();
    for (region, r) in admin.results {
        match r {
            Ok(None) => {}
            Ok(Some((side, members))) => {
                out.administrator_regions += 1;
                out.rules.extend(side.rules);
                cells.extend(members.into_iter().map(|m| (m, region.clone())));
            }
            Err(e) if e.is_region_disabled() => {}
            Err(e) => out.unchecked.push(Unchecked {
                account: administrator.into(),
                region,
                reason: e.to_string(),
            }),
        }
    }
    // Each member's own detector, through its role.
    let members = fan_out(
        cells,
        concurrency,
        "suppression (members)",
        reporter,
        stop,
        |(account, region)| async move {
            let r = member_cell(session, &account, &region).await;
            (account, region, r)
        },
    )
    .await;
    for (account, region, r) in members.results {
        match r {
            Ok(side) => {
                out.member_cells += 1;
                out.rules.extend(side.rules);
                if side.archived > 0 {
                    out.member_archives.push(MemberArchive {
                        account,
                        region,
                        archived: side.archived,
                    });
                }
            }
            Err(e) => out.unchecked.push(Unchecked {
                account,
                region,
                reason: e.to_string(),
            }),
        }
    }
    if admin.not_started + members.not_started > 0 {
        out.not_checked = Some(format!(
            "cut short: {} detector(s) not read because the run was stopped",
            admin.not_started + members.not_started
        ));
    }
    out.rules.sort_by(|a, b| {
        (a.owner, &a.account, &a.region, &a.name).cmp(&(b.owner, &b.account, &b.region, &b.name))
    });
    out.member_archives.sort();
    out.unchecked.sort();
    out
}

/// The administrator's rules in `region` and its associated members there; `None` without a
/// detector.
async fn administrator_region(
    session: &Session,
    administrator: &str,
    region: &str,
) -> Result<Option<(Side, Vec<String>)>, AwsError> {
    let gd = session.guardduty(administrator, region).await?;
    let Some(det) = detector(&gd).await? else {
        return Ok(None);
    };
    let side = read_side(
        &gd,
        &det,
        Owner::Administrator,
        administrator,
        region,
        false,
    )
    .await?;
    let mut members = Vec::new();
    let mut pages = gd.list_members().detector_id(&det).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListMembers"))?;
        members.extend(
            page.members()
                .iter()
                .filter(|m| m.relationship_status() == Some("Enabled"))
                .filter_map(|m| m.account_id().map(String::from)),
        );
    }
    Ok(Some((side, members)))
}

/// A member's own detector in `region`: its rules and archived findings (none without one).
async fn member_cell(session: &Session, account: &str, region: &str) -> Result<Side, AwsError> {
    crate::aws::session::acting_as(account, async {
        let gd = session.guardduty(account, region).await?;
        match detector(&gd).await? {
            None => Ok(Side::default()),
            Some(det) => read_side(&gd, &det, Owner::Member, account, region, true).await,
        }
    })
    .await
}

async fn read_side(
    gd: &aws_sdk_guardduty::Client,
    det: &str,
    owner: Owner,
    account: &str,
    region: &str,
    count_archived: bool,
) -> Result<Side, AwsError> {
    let mut names = Vec::new();
    let mut pages = gd.list_filters().detector_id(det).into_paginator().send();
    while let Some(page) = pages.next().await {
        names.extend(
            page.map_err(AwsError::from_sdk("ListFilters"))?
                .filter_names()
                .iter()
                .cloned(),
        );
    }
    let mut side = Side::default();
    for name in names {
        let f = gd
            .get_filter()
            .detector_id(det)
            .filter_name(&name)
            .send()
            .await
            .map_err(AwsError::from_sdk("GetFilter"))?;
        if f.action().map(|a| a.as_str()) != Some("ARCHIVE") {
            continue;
        }
        let matched = criteria::from_sdk(f.finding_criteria());
        let (archives, count_error) =
            match stats::groups(gd, det, &archived(&matched), Grouping::Account, &mut 0).await {
                Ok(m) => (Some(m), None),
                Err(e) => (None, Some(e.to_string())),
            };
        side.rules.push(Rule {
            owner,
            account: account.into(),
            region: region.into(),
            name,
            description: f.description().filter(|d| !d.is_empty()).map(Into::into),
            criteria: in_words(&matched),
            archives,
            count_error,
        });
    }
    if count_archived {
        let by_account = stats::groups(
            gd,
            det,
            &archived(&Criteria::new()),
            Grouping::Account,
            &mut 0,
        )
        .await?;
        side.archived = by_account.values().sum();
    }
    Ok(side)
}

/// `c`, narrowed to archived findings.
fn archived(c: &Criteria) -> Criteria {
    let mut c = c.clone();
    c.insert(
        "service.archived".into(),
        Cond {
            equals: vec!["true".into()],
            ..Cond::default()
        },
    );
    c
}

/// Criteria in words: `severity < 4 and type = A, B`.
pub fn in_words(c: &Criteria) -> String {
    let mut parts = Vec::new();
    for (field, cond) in c {
        if !cond.equals.is_empty() {
            parts.push(format!("{field} = {}", cond.equals.join(", ")));
        }
        if !cond.not_equals.is_empty() {
            parts.push(format!("{field} != {}", cond.not_equals.join(", ")));
        }
        if let Some(n) = cond.greater_than_or_equal {
            parts.push(format!("{field} >= {n}"));
        }
        if let Some(n) = cond.less_than {
            parts.push(format!("{field} < {n}"));
        }
        if let Some(n) = cond.less_than_or_equal {
            parts.push(format!("{field} <= {n}"));
        }
    }
    if parts.is_empty() {
        "everything".into()
    } else {
        parts.join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_read_as_words() {
        let mut c = Criteria::new();
        assert_eq!(in_words(&c), "everything");
        c.insert(
            "severity".into(),
            Cond {
                less_than: Some(4),
                ..Cond::default()
            },
        );
        c.insert(
            "type".into(),
            Cond {
                equals: vec!["A".into(), "B".into()],
                not_equals: vec!["C".into()],
                ..Cond::default()
            },
        );
        assert_eq!(in_words(&c), "severity < 4 and type = A, B and type != C");
    }

    #[test]
    fn counting_what_a_rule_archives_narrows_to_archived_findings() {
        let c = archived(&Criteria::new());
        assert_eq!(c["service.archived"].equals, vec!["true".to_string()]);
    }
}
