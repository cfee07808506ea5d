//! The planner: a pure function from (desired, observed) to an ordered list of steps, each
//! naming the steps it must wait for, plus the notices (states reported, not acted on).
//!
//! Every observed state either gets a step that moves it forward or a notice; nothing waits or
//! loops. A converged organization plans zero steps, which is what makes a second rollout free.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::aws::AwsError;
use crate::observe::{DetectorState, Observation, RegionObservation, Seen};
use crate::settings::{Desired, Feature, Frequency, MemberAccount, Mode};

pub mod trials;

/// GuardDuty's limit of accounts per CreateMembers / InviteMembers / ... call.
pub const BATCH: usize = crate::aws::ACCOUNTS_PER_CALL;

/// One change. `account`/`administrator` is the account whose credentials make the call,
/// except for the organization-admin steps, which the caller (management account) makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    CreateDetector {
        account: String,
        region: String,
        features: Vec<Feature>,
        frequency: Option<Frequency>,
    },
    /// UpdateDetector with enable=true (a suspended detector), plus missing features.
    EnableDetector {
        account: String,
        region: String,
        features: Vec<Feature>,
        frequency: Option<Frequency>,
    },
    /// UpdateDetector for missing features or another publishing frequency.
    UpdateDetector {
        account: String,
        region: String,
        features: Vec<Feature>,
        frequency: Option<Frequency>,
    },
    /// The member leaves its other administrator (`--take-over`).
    LeaveAdministrator {
        account: String,
        region: String,
        administrator: String,
    },
    /// DeleteMembers of members GuardDuty has under a wrong email (their invitation failed
    /// email verification), so they can be created again with the right one.
    ResetMembers {
        administrator: String,
        region: String,
        accounts: Vec<String>,
    },
    CreateMembers {
        administrator: String,
        region: String,
        members: Vec<MemberAccount>,
    },
    InviteMembers {
        administrator: String,
        region: String,
        accounts: Vec<String>,
        email_notification: bool,
    },
    AcceptInvitation {
        account: String,
        region: String,
        administrator: String,
    },
    EnableOrgAdmin {
        region: String,
        administrator: String,
    },
    UpdateOrgConfig {
        administrator: String,
        region: String,
        auto_enable: String,
        /// Feature -> NEW | ALL | NONE
        features: BTreeMap<Feature, String>,
    },
    /// UpdateMemberDetectors: the administrator turns features on in existing members.
    UpdateMemberDetectors {
        administrator: String,
        region: String,
        accounts: Vec<String>,
        features: Vec<Feature>,
    },
    DisassociateMembers {
        administrator: String,
        region: String,
        accounts: Vec<String>,
    },
    DeleteMembers {
        administrator: String,
        region: String,
        accounts: Vec<String>,
    },
    DeleteDetector {
        account: String,
        region: String,
    },
    DisableOrgAdmin {
        region: String,
        administrator: String,
    },
    /// The administrator's findings export in a region that has none.
    CreatePublishingDestination {
        administrator: String,
        region: String,
        bucket_arn: String,
        kms_key_arn: String,
    },
    /// The administrator's findings export pointed at the desired bucket and key.
    UpdatePublishingDestination {
        administrator: String,
        region: String,
        destination_id: String,
        bucket_arn: String,
        kms_key_arn: String,
    },
}

impl Action {
    /// The human label steps are grouped by.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::CreateDetector { .. } => "create detector",
            Action::EnableDetector { .. } => "enable suspended detector",
            Action::UpdateDetector { .. } => "update detector features",
            Action::LeaveAdministrator { .. } => "leave other administrator",
            Action::ResetMembers { .. } => "delete members (wrong email)",
            Action::CreateMembers { .. } => "create members",
            Action::InviteMembers { .. } => "invite members",
            Action::AcceptInvitation { .. } => "accept invitation",
            Action::EnableOrgAdmin { .. } => "enable org admin",
            Action::UpdateOrgConfig { .. } => "update org auto-enable",
            Action::UpdateMemberDetectors { .. } => "update member features",
            Action::DisassociateMembers { .. } => "disassociate members",
            Action::DeleteMembers { .. } => "delete members",
            Action::DeleteDetector { .. } => "delete detector",
            Action::DisableOrgAdmin { .. } => "disable org admin",
            Action::CreatePublishingDestination { .. } => "create findings export",
            Action::UpdatePublishingDestination { .. } => "update findings export",
        }
    }

    /// The GuardDuty operation the step calls (its last one, for steps that read first).
    pub fn operation(&self) -> &'static str {
        match self {
            Action::CreateDetector { .. } => "CreateDetector",
            Action::EnableDetector { .. } | Action::UpdateDetector { .. } => "UpdateDetector",
            Action::LeaveAdministrator { .. } => "DisassociateFromAdministratorAccount",
            Action::ResetMembers { .. } => "DeleteMembers",
            Action::CreateMembers { .. } => "CreateMembers",
            Action::InviteMembers { .. } => "InviteMembers",
            Action::AcceptInvitation { .. } => "AcceptAdministratorInvitation",
            Action::EnableOrgAdmin { .. } => "EnableOrganizationAdminAccount",
            Action::UpdateOrgConfig { .. } => "UpdateOrganizationConfiguration",
            Action::UpdateMemberDetectors { .. } => "UpdateMemberDetectors",
            Action::DisassociateMembers { .. } => "DisassociateMembers",
            Action::DeleteMembers { .. } => "DeleteMembers",
            Action::DeleteDetector { .. } => "DeleteDetector",
            Action::DisableOrgAdmin { .. } => "DisableOrganizationAdminAccount",
            Action::CreatePublishingDestination { .. } => "CreatePublishingDestination",
            Action::UpdatePublishingDestination { .. } => "UpdatePublishingDestination",
        }
    }

    pub fn region(&self) -> &str {
        match self {
            Action::CreateDetector { region, .. }
            | Action::EnableDetector { region, .. }
            | Action::UpdateDetector { region, .. }
            | Action::LeaveAdministrator { region, .. }
            | Action::ResetMembers { region, .. }
            | Action::CreateMembers { region, .. }
            | Action::InviteMembers { region, .. }
            | Action::AcceptInvitation { region, .. }
            | Action::EnableOrgAdmin { region, .. }
            | Action::UpdateOrgConfig { region, .. }
            | Action::UpdateMemberDetectors { region, .. }
            | Action::DisassociateMembers { region, .. }
            | Action::DeleteMembers { region, .. }
            | Action::DeleteDetector { region, .. }
            | Action::DisableOrgAdmin { region, .. }
            | Action::CreatePublishingDestination { region, .. }
            | Action::UpdatePublishingDestination { region, .. } => region,
        }
    }

    /// The account the step is about (for batches, the administrator).
    pub fn account(&self) -> &str {
        match self {
            Action::CreateDetector { account, .. }
            | Action::EnableDetector { account, .. }
            | Action::UpdateDetector { account, .. }
            | Action::LeaveAdministrator { account, .. }
            | Action::AcceptInvitation { account, .. }
            | Action::DeleteDetector { account, .. } => account,
            Action::ResetMembers { administrator, .. }
            | Action::CreateMembers { administrator, .. }
            | Action::InviteMembers { administrator, .. }
            | Action::EnableOrgAdmin { administrator, .. }
            | Action::UpdateOrgConfig { administrator, .. }
            | Action::UpdateMemberDetectors { administrator, .. }
            | Action::DisassociateMembers { administrator, .. }
            | Action::DeleteMembers { administrator, .. }
            | Action::DisableOrgAdmin { administrator, .. }
            | Action::CreatePublishingDestination { administrator, .. }
            | Action::UpdatePublishingDestination { administrator, .. } => administrator,
        }
    }

    /// The member accounts of a batch step (empty for single-account steps).
    pub fn batch(&self) -> Vec<&str> {
        match self {
            Action::CreateMembers { members, .. } => {
                members.iter().map(|m| m.id.as_str()).collect()
            }
            Action::ResetMembers { accounts, .. }
            | Action::InviteMembers { accounts, .. }
            | Action::UpdateMemberDetectors { accounts, .. }
            | Action::DisassociateMembers { accounts, .. }
            | Action::DeleteMembers { accounts, .. } => {
                accounts.iter().map(String::as_str).collect()
            }
            _ => vec![],
        }
    }

    /// How many accounts the step changes (a batch counts each member).
    pub fn weight(&self) -> usize {
        self.batch().len().max(1)
    }
}

/// A step: an action and the steps (by id) it must wait for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub id: usize,
    #[serde(flatten)]
    pub action: Action,
    pub after: Vec<usize>,
}

/// A state reported instead of acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    /// The account has not enabled (opted in to) the region: not a failure.
    RegionNotEnabled { account: String, region: String },
    /// The role could not be assumed into the account (every region of it is skipped).
    NoAccess { account: String, error: AwsError },
    /// The member belongs to another administrator (left alone without `--take-over`).
    OtherAdministrator {
        account: String,
        region: String,
        administrator: String,
    },
    /// The account administers GuardDuty members of its own here; GuardDuty will not make an
    /// administrator a member, so it is left for a person to untangle.
    AdministersMembers { account: String, region: String },
    /// Another account is the organization's delegated GuardDuty administrator here (left
    /// alone without `--take-over`).
    OtherDelegatedAdmin {
        region: String,
        administrator: String,
    },
    /// Reading the account failed; nothing is planned for it there.
    ObserveFailed {
        account: String,
        region: String,
        error: AwsError,
    },
    /// A suspended organization account, skipped.
    SuspendedAccount { account: String },
    /// Protection plans GuardDuty does not offer in the region (its detectors do not report
    /// them): left out there, not a failure.
    FeaturesUnavailable {
        region: String,
        features: Vec<Feature>,
    },
    /// GuardDuty could not verify the member's email although it is the one we were given:
    /// inviting again would fail the same way, so the member is left for a person to check.
    EmailVerificationFailed {
        account: String,
        region: String,
        email: String,
    },
    /// The administrator exports to the desired bucket and key, but GuardDuty reports that it
    /// cannot publish there (or stopped): the bucket or key policy needs a person.
    ExportNotPublishing {
        account: String,
        region: String,
        status: String,
    },
}

impl Notice {
    /// Whether the notice means the organization is not where it should be (partial run).
    pub fn is_problem(&self) -> bool {
        !matches!(
            self,
            Notice::RegionNotEnabled { .. }
                | Notice::SuspendedAccount { .. }
                | Notice::FeaturesUnavailable { .. }
        )
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Notice::RegionNotEnabled { .. } => "region not enabled",
            Notice::NoAccess { .. } => "no access (role)",
            Notice::OtherAdministrator { .. } => "member of another administrator",
            Notice::AdministersMembers { .. } => "administrator of other accounts",
            Notice::OtherDelegatedAdmin { .. } => "another delegated administrator",
            Notice::ObserveFailed { .. } => "could not read",
            Notice::SuspendedAccount { .. } => "suspended account",
            Notice::EmailVerificationFailed { .. } => "email verification failed",
            Notice::FeaturesUnavailable { .. } => "plan not available in region",
            Notice::ExportNotPublishing { .. } => "findings export not publishing",
        }
    }
}

/// The plan: steps in a valid order (every step after the steps it waits for) and notices.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub notices: Vec<Notice>,
}

impl Plan {
    fn push(&mut self, action: Action, after: Vec<usize>) -> usize {
        let id = self.steps.len();
        self.steps.push(Step { id, action, after });
        id
    }

    /// Steps grouped by kind: (kind, calls, accounts changed), in first-appearance order.
    pub fn counts(&self) -> Vec<(&'static str, usize, usize)> {
        let mut out: Vec<(&'static str, usize, usize)> = Vec::new();
        for s in &self.steps {
            let k = s.action.kind();
            match out.iter_mut().find(|(kind, _, _)| *kind == k) {
                Some(row) => {
                    row.1 += 1;
                    row.2 += s.action.weight();
                }
                None => out.push((k, 1, s.action.weight())),
            }
        }
        out
    }

    /// Notices grouped by kind: (kind, count).
    pub fn notice_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for n in &self.notices {
            *out.entry(n.kind()).or_default() += 1;
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Accounts that could not be assumed, once each (not once per region).
#[derive(Default)]
struct NoAccess(BTreeMap<String, AwsError>);

/// The step that brings a detector to the desired state, if one is needed.
fn detector_action(
    account: &str,
    region: &str,
    detector: Option<&DetectorState>,
    desired: &Desired,
) -> Option<Action> {
    let (account, region) = (account.to_string(), region.to_string());
    let Some(d) = detector else {
        return Some(Action::CreateDetector {
            account,
            region,
            features: desired.features.iter().copied().collect(),
            frequency: desired.frequency,
        });
    };
    let features: Vec<Feature> = desired
        .features
        .iter()
        .copied()
        .filter(|f| desired.lacks(&d.features, *f))
        .collect();
    let frequency = desired
        .frequency
        .filter(|f| d.frequency.as_deref() != Some(f.as_str()));
    if !d.enabled {
        Some(Action::EnableDetector {
            account,
            region,
            features,
            frequency,
        })
    } else if !features.is_empty() || frequency.is_some() {
        Some(Action::UpdateDetector {
            account,
            region,
            features,
            frequency,
        })
    } else {
        None
    }
}

/// What the planner does with the administrator's side of a region that could not be read.
fn admin_side<'a>(
    plan: &mut Plan,
    no_access: &mut NoAccess,
    desired: &Desired,
    region: &str,
    ro: &'a RegionObservation,
) -> Option<&'a crate::observe::AdminSide> {
    let account = desired.administrator.clone();
    match &ro.admin {
        Seen::Read(a) => return Some(a),
        Seen::RegionDisabled => plan.notices.push(Notice::RegionNotEnabled {
            account,
            region: region.into(),
        }),
        Seen::NoAccess(e) => {
            no_access.0.entry(account).or_insert_with(|| e.clone());
        }
        Seen::Failed(e) => plan.notices.push(Notice::ObserveFailed {
            account,
            region: region.into(),
            error: e.clone(),
        }),
    }
    None
}

/// Plan a rollout of `desired` over `observed`.
pub fn plan_rollout(desired: &Desired, observed: &Observation) -> Plan {
    let mut plan = Plan::default();
    // A first rollout makes two steps per member cell (a detector, then accepting) and a few
    // per region. Room for three is reserved up front, so the list (hundreds of thousands of
    // steps) is never copied into a larger one as it grows; pages no step fills are never
    // touched, so they cost address space, not memory.
    let cells: usize = observed.regions.values().map(|r| r.members.len()).sum();
    plan.steps.reserve(3 * cells + 16 * observed.regions.len());
    let mut no_access = NoAccess::default();
    for (region, ro) in &observed.regions {
        // Plans the region does not offer are left out of its desired state.
        let regional;
        let desired = match unavailable(desired, ro) {
            Some(features) => {
                regional = Desired {
                    features: desired
                        .features
                        .iter()
                        .filter(|f| !features.contains(f))
                        .copied()
                        .collect(),
                    ..desired.clone()
                };
                plan.notices.push(Notice::FeaturesUnavailable {
                    region: region.clone(),
                    features,
                });
                &regional
            }
            None => desired,
        };
        match desired.mode {
            Mode::Invitation => invitation_region(&mut plan, &mut no_access, desired, region, ro),
            Mode::Organizations => {
                organizations_region(&mut plan, &mut no_access, desired, region, ro)
            }
        }
    }
    finish(plan, no_access)
}

/// The desired features a region does not offer, as its administrator's detector shows: GuardDuty
/// reports every plan a region has on a detector, enabled or not, so one it leaves out is not
/// available there. None when all are offered or the detector was not read.
fn unavailable(desired: &Desired, ro: &RegionObservation) -> Option<Vec<Feature>> {
    let Seen::Read(admin) = &ro.admin else {
        return None;
    };
    let reported = &admin.detector.as_ref()?.features;
    let missing: Vec<Feature> = desired
        .features
        .iter()
        .filter(|f| !reported.is_empty() && !reported.contains_key(f.as_str()))
        .copied()
        .collect();
    (!missing.is_empty()).then_some(missing)
}

fn finish(mut plan: Plan, no_access: NoAccess) -> Plan {
    for (account, error) in no_access.0 {
        plan.notices.push(Notice::NoAccess { account, error });
    }
    plan
}

/// Batches of at most [`BATCH`], each after `after`; returns (step id, its accounts).
fn batches<T: Clone>(
    plan: &mut Plan,
    items: &[T],
    after: &[usize],
    make: impl Fn(Vec<T>) -> Action,
) -> Vec<usize> {
    items
        .chunks(BATCH)
        .map(|chunk| plan.push(make(chunk.to_vec()), after.to_vec()))
        .collect()
}

/// The step that makes the administrator's detector export findings to the desired bucket
/// and key in `region` (after `after`, its detector's step), if one is needed: a destination
/// already there is updated rather than a second one made.
fn export_step(
    plan: &mut Plan,
    desired: &Desired,
    region: &str,
    admin: &crate::observe::AdminSide,
    after: &[usize],
) {
    let Some(want) = &desired.export else {
        return;
    };
    let account = desired.administrator.clone();
    let found = match &admin.destinations {
        None => return,
        Some(Err(e)) => {
            plan.notices.push(Notice::ObserveFailed {
                account,
                region: region.into(),
                error: e.clone(),
            });
            return;
        }
        Some(Ok(found)) => found,
    };
    let s3: Vec<_> = found
        .iter()
        .filter(|d| d.destination_type == "S3")
        .collect();
    let same = s3
        .iter()
        .find(|d| d.bucket_arn == want.bucket_arn && d.kms_key_arn == want.kms_key_arn);
    let action = match (same, s3.first()) {
        (Some(d), _) => {
            if matches!(
                d.status.as_str(),
                "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY" | "STOPPED"
            ) {
                plan.notices.push(Notice::ExportNotPublishing {
                    account,
                    region: region.into(),
                    status: d.status.clone(),
                });
            }
            return;
        }
        (None, Some(d)) => Action::UpdatePublishingDestination {
            administrator: account,
            region: region.into(),
            destination_id: d.id.clone(),
            bucket_arn: want.bucket_arn.clone(),
            kms_key_arn: want.kms_key_arn.clone(),
        },
        (None, None) => Action::CreatePublishingDestination {
            administrator: account,
            region: region.into(),
            bucket_arn: want.bucket_arn.clone(),
            kms_key_arn: want.kms_key_arn.clone(),
        },
    };
    plan.push(action, after.to_vec());
}

fn invitation_region(
    plan: &mut Plan,
    no_access: &mut NoAccess,
    desired: &Desired,
    region: &str,
    ro: &RegionObservation,
) {
    let Some(admin) = admin_side(plan, no_access, desired, region, ro) else {
        return;
    };
    let admin_id = desired.administrator.as_str();
    let admin_step = detector_action(admin_id, region, admin.detector.as_ref(), desired)
        .map(|a| plan.push(a, vec![]));
    let admin_after: Vec<usize> = admin_step.into_iter().collect();
    export_step(plan, desired, region, admin, &admin_after);
    let mut to_reset: Vec<String> = Vec::new();
    let mut to_create: Vec<MemberAccount> = Vec::new();
    let mut to_invite: Vec<String> = Vec::new();
    // (member, steps of its own the acceptance waits for)
    let mut to_accept: Vec<(String, Vec<usize>)> = Vec::new();
    for m in &desired.members {
        let side = match ro.members.get(&m.id) {
            None => continue, // not read (the run was stopped)
            Some(Seen::Read(side)) => side,
            Some(Seen::RegionDisabled) => {
                plan.notices.push(Notice::RegionNotEnabled {
                    account: m.id.clone(),
                    region: region.into(),
                });
                continue;
            }
            Some(Seen::NoAccess(e)) => {
                no_access.0.entry(m.id.clone()).or_insert_with(|| e.clone());
                continue;
            }
            Some(Seen::Failed(e)) => {
                plan.notices.push(Notice::ObserveFailed {
                    account: m.id.clone(),
                    region: region.into(),
                    error: e.clone(),
                });
                continue;
            }
        };
        let mut own: Vec<usize> = detector_action(&m.id, region, side.detector.as_deref(), desired)
            .map(|a| plan.push(a, vec![]))
            .into_iter()
            .collect();
        let associated = |status: &str| status == "Enabled";
        match &side.administrator {
            Some(l) if l.account == admin_id && associated(&l.status) => continue,
            Some(l) if l.account != admin_id && associated(&l.status) => {
                if !desired.take_over {
                    plan.notices.push(Notice::OtherAdministrator {
                        account: m.id.clone(),
                        region: region.into(),
                        administrator: l.account.clone(),
                    });
                    continue;
                }
                own.push(plan.push(
                    Action::LeaveAdministrator {
                        account: m.id.clone(),
                        region: region.into(),
                        administrator: l.account.clone(),
                    },
                    own.clone(),
                ));
            }
            _ => {}
        }
        if side.administers_members {
            plan.notices.push(Notice::AdministersMembers {
                account: m.id.clone(),
                region: region.into(),
            });
            continue;
        }
        let pending = side.invitations.iter().any(|i| i.from == admin_id);
        let record = admin.members.get(&m.id);
        match record.map(|r| r.status.as_str()) {
            None => {
                to_create.push(m.clone());
                to_invite.push(m.id.clone());
            }
            // Invited, and the invitation is waiting in the member: accepting is enough.
            Some("Invited") if pending => {}
            // GuardDuty checks the invitation against the email it has for the member. A wrong
            // one is replaced (a member's email cannot be changed in place); the right one
            // failing again would loop, so it is reported instead.
            Some("EmailVerificationFailed") => {
                let had = record.map(|r| r.email.as_str()).unwrap_or_default();
                if had.eq_ignore_ascii_case(&m.email) {
                    plan.notices.push(Notice::EmailVerificationFailed {
                        account: m.id.clone(),
                        region: region.into(),
                        email: m.email.clone(),
                    });
                    continue;
                }
                to_reset.push(m.id.clone());
                to_create.push(m.clone());
                to_invite.push(m.id.clone());
            }
            // Created (never invited), Invited but the invitation is gone, Removed, Resigned,
            // Disabled, or Enabled while the member says otherwise:
            // a new invitation moves each of them forward.
            Some(_) => to_invite.push(m.id.clone()),
        }
        to_accept.push((m.id.clone(), own));
    }
    let resets = batches(plan, &to_reset, &admin_after, |accounts| {
        Action::ResetMembers {
            administrator: admin_id.into(),
            region: region.into(),
            accounts,
        }
    });
    let create_after: Vec<usize> = admin_after.iter().chain(&resets).copied().collect();
    let creates = batches(plan, &to_create, &create_after, |members| {
        Action::CreateMembers {
            administrator: admin_id.into(),
            region: region.into(),
            members,
        }
    });
    let invite_after: Vec<usize> = admin_after.iter().chain(&creates).copied().collect();
    let invites = batches(plan, &to_invite, &invite_after, |accounts| {
        Action::InviteMembers {
            administrator: admin_id.into(),
            region: region.into(),
            accounts,
            email_notification: desired.email_notification,
        }
    });
    let invite_of: BTreeMap<&str, usize> = to_invite
        .chunks(BATCH)
        .zip(&invites)
        .flat_map(|(chunk, id)| chunk.iter().map(move |a| (a.as_str(), *id)))
        .collect();
    for (account, mut after) in to_accept {
        after.extend(invite_of.get(account.as_str()));
        plan.push(
            Action::AcceptInvitation {
                account,
                region: region.into(),
                administrator: admin_id.into(),
            },
            after,
        );
    }
}

fn organizations_region(
    plan: &mut Plan,
    no_access: &mut NoAccess,
    desired: &Desired,
    region: &str,
    ro: &RegionObservation,
) {
    let Some(admin) = admin_side(plan, no_access, desired, region, ro) else {
        return;
    };
    let admin_id = desired.administrator.as_str();
    // A region has one delegated administrator: another one is removed first (`--take-over`),
    // which lets its organization members go, or left alone and reported.
    let mut replaced: Vec<usize> = Vec::new();
    if let Some((other, _)) = admin.delegated.iter().find(|(a, _)| a != admin_id) {
        if !desired.take_over {
            plan.notices.push(Notice::OtherDelegatedAdmin {
                region: region.into(),
                administrator: other.clone(),
            });
            return;
        }
        replaced.push(plan.push(
            Action::DisableOrgAdmin {
                region: region.into(),
                administrator: other.clone(),
            },
            vec![],
        ));
    }
    // The administrator needs its own detector before it is delegated and adds members.
    let mut after: Vec<usize> = detector_action(admin_id, region, admin.detector.as_ref(), desired)
        .map(|a| plan.push(a, vec![]))
        .into_iter()
        .collect();
    export_step(plan, desired, region, admin, &after);
    let delegated = admin
        .delegated
        .iter()
        .any(|(a, s)| a == admin_id && s == "ENABLED");
    if !delegated {
        let id = plan.push(
            Action::EnableOrgAdmin {
                region: region.into(),
                administrator: admin_id.into(),
            },
            after.iter().chain(&replaced).copied().collect(),
        );
        after.push(id);
    }
    let auto = desired.auto_enable.as_str();
    let wanted: BTreeMap<Feature, String> = desired
        .features
        .iter()
        .map(|f| (*f, auto.to_string()))
        .collect();
    // With runtime agents, new members get the plan's agent management too.
    let agents = |f: &Feature| -> Vec<String> {
        if desired.runtime_agents {
            f.agents().iter().map(|a| format!("{f}.{a}")).collect()
        } else {
            vec![]
        }
    };
    let converged = admin.org_config.as_ref().is_some_and(|c| {
        c.auto_enable == auto
            && wanted.iter().all(|(f, v)| {
                c.features.get(f.as_str()) == Some(v)
                    && agents(f).iter().all(|k| c.features.get(k) == Some(v))
            })
    });
    if !converged {
        // Members added from here on get the organization's settings as they are when
        // GuardDuty adds them: they wait for the new ones.
        let id = plan.push(
            Action::UpdateOrgConfig {
                administrator: admin_id.into(),
                region: region.into(),
                auto_enable: auto.into(),
                features: wanted,
            },
            after.clone(),
        );
        after.push(id);
    }
    // CreateMembers adds an organization account that is not an associated member yet. A
    // member GuardDuty reports Disabled is associated (its detector or monitoring is off); one
    // in a region it has not enabled, or whose account is suspended, cannot be added.
    let mut to_create: Vec<MemberAccount> = Vec::new();
    for m in &desired.members {
        match admin.members.get(&m.id).map(|r| r.status.as_str()) {
            Some("Enabled" | "Disabled") => {}
            Some("RegionDisabled") => plan.notices.push(Notice::RegionNotEnabled {
                account: m.id.clone(),
                region: region.into(),
            }),
            Some("AccountSuspended") => {
                let notice = Notice::SuspendedAccount {
                    account: m.id.clone(),
                };
                if !plan.notices.contains(&notice) {
                    plan.notices.push(notice);
                }
            }
            _ => to_create.push(m.clone()),
        }
    }
    // The management account joins only once it runs GuardDuty itself.
    if let Some((mgmt, detector)) = &admin.management {
        if to_create.iter().any(|m| m.id == *mgmt) {
            if let Some(a) = detector_action(mgmt, region, detector.as_ref(), desired) {
                after.push(plan.push(a, vec![]));
            }
        }
    }
    batches(plan, &to_create, &after, |members| Action::CreateMembers {
        administrator: admin_id.into(),
        region: region.into(),
        members,
    });
    // Members that already exist keep the features they had: auto-enable only reaches new
    // ones (or all, with ALL). The administrator sets the missing ones in their detectors.
    let stale: Vec<String> = desired
        .members
        .iter()
        .filter(|m| {
            admin.members.get(&m.id).is_some_and(|r| {
                r.status == "Enabled"
                    && r.features.as_ref().is_some_and(|have| {
                        desired.features.iter().any(|f| desired.lacks(have, *f))
                    })
            })
        })
        .map(|m| m.id.clone())
        .collect();
    batches(plan, &stale, &after, |accounts| {
        Action::UpdateMemberDetectors {
            administrator: admin_id.into(),
            region: region.into(),
            accounts,
            features: desired.features.iter().copied().collect(),
        }
    });
}

/// Plan undoing a rollout: disassociate then delete members; member detectors only with
/// `delete_detectors`; in organizations mode also auto-enable and the delegated administrator.
pub fn plan_offboard(desired: &Desired, observed: &Observation) -> Plan {
    let mut plan = Plan::default();
    let mut no_access = NoAccess::default();
    for (region, ro) in &observed.regions {
        let Some(admin) = admin_side(&mut plan, &mut no_access, desired, region, ro) else {
            continue;
        };
        let admin_id = desired.administrator.as_str();
        let mut first: Vec<usize> = Vec::new();
        if desired.mode == Mode::Organizations {
            // Auto-enable ALL forbids disassociating organization members: turn it off first.
            if let Some(c) = &admin.org_config {
                let on = c.auto_enable != "NONE" || c.features.values().any(|v| v != "NONE");
                if on {
                    // Only the features that are on: naming both runtime monitoring features
                    // in one call is refused, even to turn them off.
                    let features = c
                        .features
                        .iter()
                        .filter(|(_, v)| *v != "NONE")
                        .filter_map(|(f, _)| f.parse::<Feature>().ok())
                        .map(|f| (f, "NONE".to_string()))
                        .collect();
                    first.push(plan.push(
                        Action::UpdateOrgConfig {
                            administrator: admin_id.into(),
                            region: region.clone(),
                            auto_enable: "NONE".into(),
                            features,
                        },
                        vec![],
                    ));
                }
            }
        }
        let ours: Vec<&MemberAccount> = desired
            .members
            .iter()
            .filter(|m| admin.members.contains_key(&m.id))
            .collect();
        let associated: Vec<String> = ours
            .iter()
            .filter(|m| {
                !matches!(
                    admin.members[&m.id].status.as_str(),
                    "Removed" | "Resigned" | "Created"
                )
            })
            .map(|m| m.id.clone())
            .collect();
        let all: Vec<String> = ours.iter().map(|m| m.id.clone()).collect();
        let disassociations = batches(&mut plan, &associated, &first, |accounts| {
            Action::DisassociateMembers {
                administrator: admin_id.into(),
                region: region.clone(),
                accounts,
            }
        });
        let delete_after: Vec<usize> = first.iter().chain(&disassociations).copied().collect();
        let deletions = batches(&mut plan, &all, &delete_after, |accounts| {
            Action::DeleteMembers {
                administrator: admin_id.into(),
                region: region.clone(),
                accounts,
            }
        });
        if desired.delete_detectors {
            let deleted_in: BTreeMap<&str, usize> = all
                .chunks(BATCH)
                .zip(&deletions)
                .flat_map(|(chunk, id)| chunk.iter().map(move |a| (a.as_str(), *id)))
                .collect();
            for m in &ours {
                if let Some(Seen::Read(side)) = ro.members.get(&m.id) {
                    if side.detector.is_some() {
                        plan.push(
                            Action::DeleteDetector {
                                account: m.id.clone(),
                                region: region.clone(),
                            },
                            deleted_in.get(m.id.as_str()).copied().into_iter().collect(),
                        );
                    }
                }
            }
        }
        if desired.mode == Mode::Organizations && admin.delegated.iter().any(|(a, _)| a == admin_id)
        {
            let after = delete_after.iter().chain(&deletions).copied().collect();
            plan.push(
                Action::DisableOrgAdmin {
                    region: region.clone(),
                    administrator: admin_id.into(),
                },
                after,
            );
        }
    }
    finish(plan, no_access)
}

/// Accounts with a problem notice, for the result summary.
pub fn problem_accounts(plan: &Plan) -> BTreeSet<String> {
    plan.notices
        .iter()
        .filter(|n| n.is_problem())
        .filter_map(|n| match n {
            Notice::NoAccess { account, .. }
            | Notice::OtherAdministrator { account, .. }
            | Notice::AdministersMembers { account, .. }
            | Notice::ObserveFailed { account, .. }
            | Notice::EmailVerificationFailed { account, .. }
            | Notice::ExportNotPublishing { account, .. } => Some(account.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
