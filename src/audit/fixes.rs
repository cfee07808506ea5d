//! The commands that close the gaps: accounts with the same gap regions and the same kind of
//! fix share one `gdorg rollout` line, so 50 accounts missing the same opt-in region give one
//! command, not 50.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Cell, DetectorStatus, Fix, Relationship};
use crate::settings::Desired;

/// What closes a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A plain rollout (missing or suspended detector, not a member, pending invitation ...).
    Rollout,
    /// The member belongs to another administrator: a rollout with `--take-over`.
    TakeOver,
    /// The account could not be read: access must be granted first.
    Access,
    /// The administrator has not enabled the region: nothing can be linked there until it does.
    AdminRegion,
    /// The account administers members of its own: GuardDuty refuses to make it a member (and
    /// the planner refuses to try) until it lets them go.
    OwnMembers,
}

fn kind(cell: &Cell) -> Kind {
    match (cell.detector, cell.relationship) {
        (DetectorStatus::NoAccess, _) => Kind::Access,
        (_, Relationship::OtherAdministrator) => Kind::TakeOver,
        _ if cell.administers_members => Kind::OwnMembers,
        _ => Kind::Rollout,
    }
}

/// One fix per (kind, region set), accounts sorted; fixes sorted by kind, regions, accounts.
pub fn fixes(desired: &Desired, cells: &[Cell]) -> Vec<Fix> {
    let emails = super::model::emails(&desired.members);
    // An account with any member-of-another-administrator gap gets one --take-over rollout
    // for all its rollout gaps (a take-over rollout also does the plain work).
    let admin = desired.administrator.as_str();
    let admin_off: BTreeSet<&str> = cells
        .iter()
        .filter(|c| c.account == admin && c.detector == DetectorStatus::RegionNotEnabled)
        .map(|c| c.region.as_str())
        .collect();
    let taken: BTreeSet<&str> = cells
        .iter()
        .filter(|c| c.is_gap() && kind(c) == Kind::TakeOver)
        .map(|c| c.account.as_str())
        .collect();
    let mut per_account: BTreeMap<(&str, Kind), BTreeSet<&str>> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.is_gap()) {
        let k = match kind(c) {
            Kind::Rollout | Kind::TakeOver if admin_off.contains(c.region.as_str()) => {
                Kind::AdminRegion
            }
            Kind::Rollout if taken.contains(c.account.as_str()) => Kind::TakeOver,
            k => k,
        };
        per_account
            .entry((c.account.as_str(), k))
            .or_default()
            .insert(c.region.as_str());
    }
    let mut groups: BTreeMap<(Kind, Vec<&str>), Vec<&str>> = BTreeMap::new();
    for ((account, k), regions) in per_account {
        groups
            .entry((k, regions.into_iter().collect()))
            .or_default()
            .push(account);
    }
    groups
        .into_iter()
        .map(|((k, regions), accounts)| {
            let command = match k {
                Kind::Access => format!(
                    "grant access: the role cannot be assumed or the calls are refused in {} \
                     (install the execution role, e.g. with StackSets, then re-run the audit)",
                    accounts.join(", ")
                ),
                Kind::OwnMembers => format!(
                    "first, in {acc}: disassociate and delete the GuardDuty members it administers in {reg} \
                     (`aws guardduty list-members`, `disassociate-members`, `delete-members` as that account), \
                     or keep it as a separate administrator on purpose; then run `gdorg rollout --mode {mode} \
                     --admin-account {admin} --regions {reg}`",
                    acc = accounts.join(", "),
                    reg = regions.join(","),
                    mode = desired.mode.as_str(),
                ),
                Kind::AdminRegion => format!(
                    "enable {} for the administrator {admin} (an opt-in region), then run the \
                     rollout there for {}",
                    regions.join(", "),
                    accounts.join(", ")
                ),
                Kind::Rollout | Kind::TakeOver => {
                    let mut cmd = format!(
                        "gdorg rollout --mode {} --admin-account {admin}",
                        desired.mode.as_str()
                    );
                    // The administrator is never its own member: a rollout of the region
                    // turns its detector on whatever the accounts.
                    for a in accounts.iter().filter(|a| **a != admin) {
                        cmd.push_str(&format!(
                            " --account {a},{}",
                            emails.get(a).copied().unwrap_or_default()
                        ));
                    }
                    cmd.push_str(&format!(" --regions {}", regions.join(",")));
                    if k == Kind::TakeOver {
                        cmd.push_str(" --take-over");
                    }
                    cmd
                }
            };
            Fix {
                kind: match k {
                    Kind::Rollout => "rollout",
                    Kind::TakeOver => "take_over",
                    Kind::Access => "grant_access",
                    Kind::AdminRegion => "enable_region",
                    Kind::OwnMembers => "release_own_members",
                }
                .to_string(),
                accounts: accounts.iter().map(|a| a.to_string()).collect(),
                regions: regions.iter().map(|r| r.to_string()).collect(),
                command,
            }
        })
        .collect()
}
