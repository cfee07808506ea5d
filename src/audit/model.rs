//! The audit's one results type: the account x region matrix, the organization settings per
//! region, the coverage summary and the gaps, built purely from an [`Observation`].
//!
//! How cells count: a cell is *covered* when its detector is enabled and the account is the
//! administrator or an `Enabled` member of it. A region the account has not enabled (opt-in
//! or disabled; GuardDuty reports such a member as `RegionDisabled`) is neither covered nor a
//! gap and is left out of every coverage percentage (GuardDuty cannot run there until the
//! account enables it); so is an account suspended in Organizations (`AccountSuspended`: it
//! can run nothing). Every other cell, including one that could not be read (no role, access
//! denied), counts and is a gap when not covered.
//!
//! Where a cell was read: from the administrator's records (its member list and its members'
//! detectors) where they answer, which needs no role in the account, else from inside the
//! account ([`Cell::from_administrator`], counted in [`Summary::from_administrator`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::observe::{AdminSide, DetectorState, MemberRecord, MemberSide, Observation, Seen};
use crate::settings::{Desired, MemberAccount};

/// Version of the JSON layout (the baseline format). Bump on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The detector of one account in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorStatus {
    Enabled,
    Suspended,
    Missing,
    /// The account has not enabled this region: not counted.
    RegionNotEnabled,
    /// The cell could not be read (see the cell's `reason`).
    NoAccess,
    /// The account is suspended in Organizations (closed or closing): not counted.
    AccountSuspended,
}

impl DetectorStatus {
    pub fn label(self) -> &'static str {
        match self {
            DetectorStatus::Enabled => "enabled",
            DetectorStatus::Suspended => "suspended",
            DetectorStatus::Missing => "missing",
            DetectorStatus::RegionNotEnabled => "region not enabled",
            DetectorStatus::NoAccess => "no access",
            DetectorStatus::AccountSuspended => "account suspended",
        }
    }
}

/// The account's relationship to the administrator in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Relationship {
    /// The account is the administrator itself.
    Administrator,
    Enabled,
    Invited,
    Created,
    Removed,
    Resigned,
    EmailVerificationFailed,
    /// Associated, but GuardDuty does not monitor it: the member suspended its detector or the
    /// administrator stopped monitoring it.
    Disabled,
    /// The member has not enabled (or has disabled) the region.
    RegionDisabled,
    /// The member's account is suspended in Organizations.
    AccountSuspended,
    /// Any other status GuardDuty reports.
    Other,
    NotMember,
    /// An `Enabled` member of another administrator (the cell's `other_administrator`).
    OtherAdministrator,
    /// Not known: the cell could not be read or the region is not enabled.
    Unknown,
}

impl Relationship {
    /// From GuardDuty's relationshipStatus.
    pub fn from_status(s: &str) -> Relationship {
        match s {
            "Enabled" => Relationship::Enabled,
            "Invited" => Relationship::Invited,
            "Created" => Relationship::Created,
            "Removed" => Relationship::Removed,
            "Resigned" => Relationship::Resigned,
            "EmailVerificationFailed" => Relationship::EmailVerificationFailed,
            "Disabled" => Relationship::Disabled,
            "RegionDisabled" => Relationship::RegionDisabled,
            "AccountSuspended" => Relationship::AccountSuspended,
            _ => Relationship::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Relationship::Administrator => "administrator",
            Relationship::Enabled => "Enabled",
            Relationship::Invited => "Invited",
            Relationship::Created => "Created",
            Relationship::Removed => "Removed",
            Relationship::Resigned => "Resigned",
            Relationship::EmailVerificationFailed => "EmailVerificationFailed",
            Relationship::Disabled => "Disabled",
            Relationship::RegionDisabled => "RegionDisabled",
            Relationship::AccountSuspended => "AccountSuspended",
            Relationship::Other => "other status",
            Relationship::NotMember => "not a member",
            Relationship::OtherAdministrator => "member of another administrator",
            Relationship::Unknown => "unknown",
        }
    }

    fn linked(self) -> bool {
        matches!(self, Relationship::Administrator | Relationship::Enabled)
    }
}

/// One account in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub account: String,
    pub region: String,
    pub detector: DetectorStatus,
    pub relationship: Relationship,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_administrator: Option<String>,
    /// Feature name -> enabled (empty without a detector).
    #[serde(default)]
    pub features: BTreeMap<String, bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
    /// Why the cell could not be read (operation, code, message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub covered: bool,
    /// Read from the administrator's records (member list, members' detectors), not from
    /// inside the account: no role was assumed for it. The detector's publishing frequency
    /// is then not known; its features are when the administrator read them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_administrator: bool,
    /// The account is the GuardDuty administrator of members of its own here: GuardDuty will
    /// not make it a member until it lets them go.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub administers_members: bool,
}

impl Cell {
    /// Counted in coverage: everything but a region the account has not enabled and a
    /// suspended account.
    pub fn counts(&self) -> bool {
        !matches!(
            self.detector,
            DetectorStatus::RegionNotEnabled | DetectorStatus::AccountSuspended
        )
    }

    pub fn is_gap(&self) -> bool {
        self.counts() && !self.covered
    }

    /// Where the cell was read: `administrator` (its records), `account` (the account's own
    /// view, or its region list), or `not read`.
    pub fn source(&self) -> &'static str {
        if self.from_administrator {
            "administrator"
        } else if self.detector == DetectorStatus::NoAccess {
            "not read"
        } else {
            "account"
        }
    }

    /// What is wrong, in a few words (None when covered or not counted).
    pub fn problem(&self) -> Option<String> {
        if !self.is_gap() {
            return None;
        }
        Some(match self.detector {
            DetectorStatus::NoAccess => "no access".to_string(),
            DetectorStatus::Missing => "no detector".to_string(),
            DetectorStatus::Suspended => "detector suspended".to_string(),
            _ => match (self.relationship, &self.other_administrator) {
                (Relationship::OtherAdministrator, Some(a)) => {
                    format!("member of another administrator ({a})")
                }
                _ if self.administers_members => {
                    "administers GuardDuty members of its own".to_string()
                }
                (r, _) => format!("detector on, relationship: {}", r.label()),
            },
        })
    }
}

/// The organization level of one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionOrg {
    pub region: String,
    /// The delegated GuardDuty administrators here (organizations mode), `account (STATUS)`.
    #[serde(default)]
    pub delegated_admins: Vec<String>,
    /// autoEnableOrganizationMembers (NEW, ALL, NONE) when our administrator is delegated here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_enable: Option<String>,
    /// Per protection plan: NEW | ALL | NONE (same condition as `auto_enable`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub features_auto_enable: BTreeMap<String, String>,
    /// Why the administrator's side could not be read here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// GuardDuty's organization totals here (GetOrganizationStatistics), when our
    /// administrator is the delegated one and may read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<OrgTotals>,
}

impl RegionOrg {
    /// GuardDuty's own totals in a few words, when read.
    pub fn totals(&self) -> Option<String> {
        self.statistics.as_ref().map(|s| {
            format!(
                "{} of {} accounts enabled, {} members",
                s.enabled_accounts, s.total_accounts, s.member_accounts
            )
        })
    }
}

/// GetOrganizationStatistics of one region, as GuardDuty counts (it may lag up to a day
/// behind the cells, which are read live).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrgTotals {
    /// Accounts in the organization.
    pub total_accounts: i32,
    /// Organization accounts associated with the administrator.
    pub member_accounts: i32,
    /// Of those, active accounts.
    pub active_accounts: i32,
    /// Accounts with GuardDuty enabled.
    pub enabled_accounts: i32,
    /// Feature -> accounts with it enabled.
    #[serde(default)]
    pub by_feature: BTreeMap<String, i32>,
}

/// Covered cells out of counted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Coverage {
    pub covered: usize,
    pub counted: usize,
}

impl Coverage {
    /// Percentage; 100 when nothing counts (nothing to cover).
    pub fn percent(self) -> f64 {
        if self.counted == 0 {
            100.0
        } else {
            self.covered as f64 * 100.0 / self.counted as f64
        }
    }

    fn add(&mut self, cell: &Cell) {
        if cell.counts() {
            self.counted += 1;
            self.covered += usize::from(cell.covered);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub overall: Coverage,
    pub per_region: BTreeMap<String, Coverage>,
    pub per_account: BTreeMap<String, Coverage>,
    pub gaps: usize,
    /// Cells read from the administrator's records (no role assumed in the account).
    #[serde(default)]
    pub from_administrator: usize,
    /// Member cells read from inside the account (its own view, through the role).
    #[serde(default)]
    pub from_inside: usize,
    /// Regions whose findings export is a gap (only when the audit expected one).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub export_gaps: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A command that closes a group of gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// `rollout`, `take_over` (a command to run), `grant_access` or `enable_region` (a thing
    /// to do by hand first).
    pub kind: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// What to run (or do, when no gdorg command can).
    pub command: String,
}

impl Fix {
    /// Whether `command` is a gdorg command line (else a sentence).
    pub fn runnable(&self) -> bool {
        matches!(self.kind.as_str(), "rollout" | "take_over" | "export")
    }
}

/// An account left out of the audit (suspended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub account: String,
    pub reason: String,
}

/// The whole audit; also the JSON (and baseline) layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    pub schema_version: u32,
    /// RFC 3339; the only field that changes between two audits of the same state.
    pub generated_at: String,
    pub mode: String,
    pub administrator: String,
    pub regions: Vec<String>,
    /// The administrator and the members, sorted.
    pub accounts: Vec<String>,
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    pub organization: Vec<RegionOrg>,
    pub summary: Summary,
    /// Every account x region, sorted by account then region.
    pub cells: Vec<Cell>,
    pub fixes: Vec<Fix>,
    /// Protection plans: per plan and region, auto-enable, and gaps of the plans asked for.
    #[serde(default)]
    pub plans: super::plans::Plans,
    /// The administrator's findings export per region, where it was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export: Vec<super::export::RegionExport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<super::drift::Drift>,
}

impl Audit {
    pub fn gaps(&self) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(|c| c.is_gap())
    }

    pub fn cell(&self, account: &str, region: &str) -> Option<&Cell> {
        self.cells
            .binary_search_by(|c| (c.account.as_str(), c.region.as_str()).cmp(&(account, region)))
            .ok()
            .map(|i| &self.cells[i])
    }
}

/// Build the audit of `desired` (administrator, members, regions) from what was observed.
/// `skipped` are accounts left out (suspended). Pure: same input, same output but the time.
/// The observation is consumed: what the administrator read about its members moves into
/// their cells rather than being copied (at 5,000 accounts x 32 regions that is most of it).
pub fn build(
    desired: &Desired,
    mut obs: Observation,
    skipped: Vec<Skipped>,
    generated_at: String,
) -> Audit {
    let admin = desired.administrator.as_str();
    let mut accounts: Vec<String> = desired.members.iter().map(|m| m.id.clone()).collect();
    accounts.push(admin.to_string());
    accounts.sort();
    accounts.dedup();
    let mut regions = desired.regions.clone();
    regions.sort();
    let mut cells = Vec::new();
    let mut organization = Vec::new();
    // Read before the regions are taken apart below.
    let export = super::export::build(desired, &obs);
    let suspended: std::collections::BTreeSet<String> =
        crate::observe::suspended_accounts(obs.regions.values().map(|r| &r.admin))
            .into_iter()
            .cloned()
            .collect();
    for region in &regions {
        let mut ro = obs.regions.remove(region);
        let (admin_seen, members) = match &mut ro {
            Some(r) => (Some(&mut r.admin), Some(&r.members)),
            None => (None, None),
        };
        organization.push(region_org(region, admin, admin_seen.as_deref()));
        let mut admin_seen = admin_seen;
        for account in &accounts {
            let member = members.and_then(|m| m.get(account));
            let cell = if account == admin {
                admin_cell(admin, region, admin_seen.as_deref())
            } else if member.is_none() && suspended.contains(account) {
                // Suspended in Organizations, as the administrator reports in some region.
                finish(Cell {
                    relationship: Relationship::AccountSuspended,
                    from_administrator: true,
                    ..blank(account, region, DetectorStatus::AccountSuspended)
                })
            } else if let Some(record) = member
                .is_none()
                .then(|| answering_record(admin_seen.as_deref_mut(), account))
                .flatten()
            {
                from_record(account, region, record)
            } else {
                member_cell(account, region, admin, admin_seen.as_deref(), member)
            };
            cells.push(cell);
        }
    }
    cells.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    let mut summary = summarize(&cells, admin);
    summary.export_gaps = super::export::gaps(&export);
    let mut fixes = super::fixes::fixes(desired, &cells);
    fixes.extend(super::export::fixes(desired, &export));
    let plans = super::plans::build(
        &cells,
        &organization,
        &desired.features,
        desired.runtime_agents,
    );
    let mut skipped = skipped;
    skipped.sort_by(|a, b| a.account.cmp(&b.account));
    Audit {
        schema_version: SCHEMA_VERSION,
        generated_at,
        mode: desired.mode.as_str().to_string(),
        administrator: admin.to_string(),
        regions,
        accounts,
        skipped,
        organization,
        summary,
        cells,
        fixes,
        plans,
        export,
        drift: None,
    }
}

fn summarize(cells: &[Cell], admin: &str) -> Summary {
    let mut s = Summary::default();
    for c in cells {
        s.overall.add(c);
        s.per_region.entry(c.region.clone()).or_default().add(c);
        s.per_account.entry(c.account.clone()).or_default().add(c);
        s.gaps += usize::from(c.is_gap());
        match c.source() {
            "administrator" => s.from_administrator += 1,
            "account" if c.account != admin => s.from_inside += 1,
            _ => {}
        }
    }
    s
}

/// Why a cell could not be read, short and stable: the operation and AWS's error code (the
/// SDK's messages for a refused AssumeRole carry request ids and whole responses), plus the
/// service's own message for other failures, cut to one line.
fn reason<T>(seen: &Seen<T>) -> Option<String> {
    match seen {
        Seen::NoAccess(e) => Some(format!(
            "cannot act in the account: {} {}",
            e.operation, e.code
        )),
        Seen::Failed(e) => {
            let msg: String = e
                .message
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(160)
                .collect();
            Some(format!("{} {}: {msg}", e.operation, e.code))
        }
        _ => None,
    }
}

fn region_org(region: &str, admin: &str, seen: Option<&Seen<AdminSide>>) -> RegionOrg {
    let mut org = RegionOrg {
        region: region.to_string(),
        delegated_admins: vec![],
        auto_enable: None,
        features_auto_enable: BTreeMap::new(),
        reason: None,
        statistics: None,
    };
    match seen {
        None => org.reason = Some("not read (stopped)".into()),
        Some(Seen::Read(side)) => {
            let mut d: Vec<String> = side
                .delegated
                .iter()
                .map(|(a, s)| format!("{a} ({s})"))
                .collect();
            d.sort();
            org.delegated_admins = d;
            org.auto_enable = side.org_config.as_ref().map(|c| c.auto_enable.clone());
            org.features_auto_enable = side
                .org_config
                .as_ref()
                .map(|c| c.features.clone())
                .unwrap_or_default();
            org.statistics = side.statistics.as_ref().map(|s| OrgTotals {
                total_accounts: s.total,
                member_accounts: s.members,
                active_accounts: s.active,
                enabled_accounts: s.enabled,
                by_feature: s.by_feature.clone(),
            });
        }
        Some(Seen::RegionDisabled) => {
            org.reason = Some(format!("region not enabled for the administrator {admin}"))
        }
        Some(other) => org.reason = reason(other),
    }
    org
}

fn blank(account: &str, region: &str, detector: DetectorStatus) -> Cell {
    Cell {
        account: account.to_string(),
        region: region.to_string(),
        detector,
        relationship: Relationship::Unknown,
        other_administrator: None,
        features: BTreeMap::new(),
        frequency: None,
        reason: None,
        covered: false,
        from_administrator: false,
        administers_members: false,
    }
}

fn with_detector(mut cell: Cell, det: Option<&DetectorState>) -> Cell {
    match det {
        None => cell.detector = DetectorStatus::Missing,
        Some(d) => {
            cell.detector = if d.enabled {
                DetectorStatus::Enabled
            } else {
                DetectorStatus::Suspended
            };
            cell.features = d.features.clone();
            cell.frequency = d.frequency.clone();
        }
    }
    cell
}

fn finish(mut cell: Cell) -> Cell {
    cell.covered = cell.detector == DetectorStatus::Enabled && cell.relationship.linked();
    cell
}

fn admin_cell(admin: &str, region: &str, seen: Option<&Seen<AdminSide>>) -> Cell {
    match seen {
        None => Cell {
            reason: Some("not read (stopped)".into()),
            ..blank(admin, region, DetectorStatus::NoAccess)
        },
        Some(Seen::RegionDisabled) => blank(admin, region, DetectorStatus::RegionNotEnabled),
        Some(Seen::Read(side)) => {
            let mut cell = with_detector(
                blank(admin, region, DetectorStatus::Missing),
                side.detector.as_ref(),
            );
            cell.relationship = Relationship::Administrator;
            finish(cell)
        }
        Some(other) => Cell {
            reason: reason(other),
            ..blank(admin, region, DetectorStatus::NoAccess)
        },
    }
}

fn member_cell(
    account: &str,
    region: &str,
    admin: &str,
    admin_seen: Option<&Seen<AdminSide>>,
    seen: Option<&Seen<MemberSide>>,
) -> Cell {
    let listed = admin_seen
        .and_then(Seen::read)
        .and_then(|a| a.members.get(account));
    let side = match seen {
        Some(Seen::Read(side)) => side,
        Some(Seen::RegionDisabled) => {
            return blank(account, region, DetectorStatus::RegionNotEnabled)
        }
        Some(other) => {
            let relationship = listed
                .map(|m| Relationship::from_status(&m.status))
                .unwrap_or(Relationship::Unknown);
            // The administrator sees an Enabled member: GuardDuty is on there and reports to
            // it, whether or not gdorg can get inside the account.
            if relationship == Relationship::Enabled {
                return Cell {
                    reason: reason(other).map(|r| format!("read from the administrator; {r}")),
                    relationship,
                    covered: true,
                    from_administrator: true,
                    ..blank(account, region, DetectorStatus::Enabled)
                };
            }
            return Cell {
                reason: reason(other),
                relationship,
                ..blank(account, region, DetectorStatus::NoAccess)
            };
        }
        None => {
            // The member was not read: the administrator's side failed here, or a stop.
            let why = match admin_seen {
                Some(Seen::RegionDisabled) => {
                    format!("not read: region not enabled for the administrator {admin}")
                }
                Some(s @ (Seen::NoAccess(_) | Seen::Failed(_))) => format!(
                    "not read: the administrator's side failed ({})",
                    reason(s).unwrap_or_default()
                ),
                _ => "not read (stopped)".to_string(),
            };
            return Cell {
                reason: Some(why),
                ..blank(account, region, DetectorStatus::NoAccess)
            };
        }
    };
    let mut cell = with_detector(
        blank(account, region, DetectorStatus::Missing),
        side.detector.as_deref(),
    );
    cell.administers_members = side.administers_members;
    let link = side.administrator.as_ref();
    cell.relationship = match (link, listed) {
        (Some(l), _) if l.account != admin && l.status == "Enabled" => {
            cell.other_administrator = Some(l.account.clone());
            Relationship::OtherAdministrator
        }
        (_, Some(m)) => Relationship::from_status(&m.status),
        (Some(l), None) if l.account == admin => Relationship::from_status(&l.status),
        _ if side.invitations.iter().any(|i| i.from == admin) => Relationship::Invited,
        _ => Relationship::NotMember,
    };
    finish(cell)
}

/// The administrator's record of `account` when it answers for the cell alone (see
/// [`MemberRecord::answers`]), to be moved into the cell.
fn answering_record<'a>(
    admin_seen: Option<&'a mut Seen<AdminSide>>,
    account: &str,
) -> Option<&'a mut MemberRecord> {
    match admin_seen {
        Some(Seen::Read(side)) => side.members.get_mut(account).filter(|m| m.answers()),
        _ => None,
    }
}

/// A member cell from the administrator's record alone; its features move into the cell.
fn from_record(account: &str, region: &str, m: &mut MemberRecord) -> Cell {
    let relationship = Relationship::from_status(&m.status);
    let detector = match relationship {
        Relationship::RegionDisabled => DetectorStatus::RegionNotEnabled,
        Relationship::AccountSuspended => DetectorStatus::AccountSuspended,
        _ => DetectorStatus::Enabled,
    };
    finish(Cell {
        relationship,
        features: m.features.take().unwrap_or_default(),
        from_administrator: true,
        ..blank(account, region, detector)
    })
}

/// The e-mail of each member, for the fix commands.
pub fn emails(members: &[MemberAccount]) -> BTreeMap<&str, &str> {
    members
        .iter()
        .map(|m| (m.id.as_str(), m.email.as_str()))
        .collect()
}
