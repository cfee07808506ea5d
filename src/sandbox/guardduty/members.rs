//! GuardDuty members as their administrator manages them: CreateMembers, ListMembers,
//! GetMembers, InviteMembers, DisassociateMembers, DeleteMembers, Start/StopMonitoringMembers.
//!
//! Relationship lifecycle (administrator side): `Created` -> InviteMembers -> `Invited` (or
//! `EmailVerificationFailed` when the email is not the account's) -> the member accepts ->
//! `Enabled`; Stop/StartMonitoringMembers toggle `Disabled`/`Enabled` (and a member that
//! suspends its own detector reads `Disabled`); DisassociateMembers ->
//! `Removed`; the member leaving on its own (disassociating, declining, deleting its detector)
//! -> `Resigned`. The member's account decides two more: `AccountSuspended` (suspended in
//! Organizations) and `RegionDisabled` (the region is not enabled in it). `Removed`,
//! `Resigned` and `EmailVerificationFailed` members can be invited again.
//! The organization's delegated administrator skips invitations: CreateMembers of an
//! organization account makes it `Enabled` at once, with a detector if it had none.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{json, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::{AccountStatus, AdministratorLink, Invitation, Member, World};

use super::detectors::{apply_features, ensure_detector, FeatureRequest};
use super::{
    account_ids, batch, is_account_id, is_delegated_admin, iso, opt_bool, opt_str, page_of_map,
    require_owned, unprocessed, via_organization, with_next_token, Request,
};

pub const NOT_MEMBER: &str =
    "The request is rejected because the given account ID is not a member of the current account.";
pub const ALREADY_MEMBER: &str = "The request is rejected because the given account ID is already a member or associated member of the current account.";
pub const ALREADY_INVITED: &str = "The request is rejected because the current account has already invited or is already the GuardDuty master of the given member account ID.";
// GuardDuty's own wording, grammar included.
pub const NOT_ASSOCIATED: &str = "The request is rejected because the given account ID is not an associated member of account the current account.";
pub const OTHER_ADMINISTRATOR: &str = "The request is rejected because the given account ID is already associated with another administrator account.";
const INVALID_ACCOUNT: &str = "The request is rejected because the given account ID is invalid.";
const INVALID_EMAIL: &str = "The request is rejected because the given email address is invalid.";
const SELF_MEMBER: &str =
    "The request is rejected because the current account cannot add itself as a member.";
const MANAGEMENT_WITHOUT_DETECTOR: &str =
    "Operation failed because your organization master must first enable GuardDuty to be added as a member";
const SUSPENDED: &str = "The request is rejected because the given account is suspended.";
const REGION_DISABLED: &str =
    "The request is rejected because the given account has not enabled the current Region.";
const ORG_NOT_INVITABLE: &str = "The request is rejected because the given account is a member of your organization. Add it with CreateMembers instead of inviting it.";
const MEMBER_CANNOT_INVITE: &str = "The request is rejected because the current account is a member of a GuardDuty administrator account and cannot invite members.";
const AUTO_ENABLE_ALL: &str = "The request is rejected because the organization configuration auto-enables GuardDuty or a protection plan for ALL members. Change it to NEW or NONE before disassociating, deleting or stopping monitoring of organization members.";

/// Relationships in which the member is associated with its administrator.
pub const ASSOCIATED: &[&str] = &["Enabled", "Disabled"];
/// Relationships from which a member can be invited (again).
const INVITABLE: &[&str] = &["Created", "Removed", "Resigned", "EmailVerificationFailed"];

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.route.op {
        "CreateMembers" => create(world, caller, req),
        "ListMembers" => list(world, caller, req),
        "GetMembers" => get(world, caller, req),
        "InviteMembers" => invite(world, caller, req),
        "DisassociateMembers" => disassociate(world, caller, req, false),
        "DeleteMembers" => disassociate(world, caller, req, true),
        "StartMonitoringMembers" => monitoring(world, caller, req, true),
        "StopMonitoringMembers" => monitoring(world, caller, req, false),
        other => Err(ApiError::internal(format!(
            "{other} is not a members operation"
        ))),
    }
}

/// `admin`'s record of member `account` in `region`, if it has one.
pub fn member_of<'w>(
    world: &'w World,
    admin: &str,
    region: &str,
    account: &str,
) -> Option<&'w Member> {
    world
        .cell(admin, region)
        .and_then(|c| c.members.get(account))
}

/// The relationship GuardDuty reports for `m` in `region`: the recorded one, unless the
/// member's account or its detector says otherwise. An account suspended in Organizations
/// reads `AccountSuspended`; a member that has not enabled (or has disabled) the region reads
/// `RegionDisabled`; an associated member whose own detector is suspended reads `Disabled`,
/// as a member the administrator stopped monitoring does.
pub fn reported_status<'w>(world: &'w World, region: &str, m: &'w Member) -> &'w str {
    match world.accounts.get(&m.account_id) {
        Some(a) if a.status == AccountStatus::Suspended => return "AccountSuspended",
        Some(a) if !a.region_enabled(region) => return "RegionDisabled",
        _ => {}
    }
    let suspended = world
        .detector(&m.account_id, region)
        .is_some_and(|d| !d.enabled);
    if m.relationship == "Enabled" && suspended {
        "Disabled"
    } else {
        &m.relationship
    }
}

/// A `Member` as GuardDuty returns it, seen by `admin` in `region`.
pub fn member_json(world: &World, admin: &str, region: &str, m: &Member) -> Value {
    let mut v = json!({
        "accountId": m.account_id,
        "masterId": admin,
        "administratorId": admin,
        "email": m.email,
        "relationshipStatus": reported_status(world, region, m),
        "updatedAt": iso(&m.updated),
    });
    if let Some(d) = world.detector(&m.account_id, region) {
        v["detectorId"] = d.id.clone().into();
    }
    if let Some(t) = &m.invited_at {
        v["invitedAt"] = iso(t).into();
    }
    v
}

fn valid_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && email.len() <= 64
        }
        None => false,
    }
}

fn create(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let (admin, region) = (caller.account.as_str(), caller.region.as_str());
    let mut details = Vec::new();
    for d in batch(req, "accountDetails")? {
        let id = d.get("accountId").and_then(Value::as_str);
        let email = d.get("email").and_then(Value::as_str);
        match (id, email) {
            (Some(id), Some(email)) => details.push((id.to_string(), email.to_string())),
            _ => return Err(ApiError::invalid_param("accountDetails")),
        }
    }
    let delegated = is_delegated_admin(world, admin, region);
    let mut out = Vec::new();
    for (account, email) in details {
        let reason = if !is_account_id(&account) {
            Some(INVALID_ACCOUNT)
        } else if account == admin {
            Some(SELF_MEMBER)
        } else if !valid_email(&email) {
            Some(INVALID_EMAIL)
        } else {
            let org = delegated && world.accounts.contains_key(&account);
            let existing =
                member_of(world, admin, region, &account).map(|m| m.relationship.clone());
            match existing {
                // An organization account the delegated administrator let go of comes back
                // through CreateMembers (it cannot be invited).
                Some(r) if !(org && (r == "Removed" || r == "Resigned")) => Some(ALREADY_MEMBER),
                _ if org => enable_org_member(world, admin, region, &account, &email).err(),
                _ => {
                    world.cell_mut(admin, region).members.insert(
                        account.clone(),
                        Member {
                            account_id: account.clone(),
                            email: email.clone(),
                            relationship: "Created".into(),
                            invited_at: None,
                            updated: Utc::now(),
                            monitoring: true,
                        },
                    );
                    None
                }
            }
        };
        if let Some(r) = reason {
            out.push(unprocessed(&account, r));
        }
    }
    Ok(json!({"unprocessedAccounts": out}))
}

/// Make organization account `account` an `Enabled` member of the delegated administrator
/// `admin` in `region`, enabling GuardDuty in it with the organization's auto-enable features.
pub fn enable_org_member(
    world: &mut World,
    admin: &str,
    region: &str,
    account: &str,
    email: &str,
) -> Result<(), &'static str> {
    let acct = world.accounts.get(account).ok_or(INVALID_ACCOUNT)?;
    if acct.status == AccountStatus::Suspended {
        return Err(SUSPENDED);
    }
    if !acct.region_enabled(region) {
        return Err(REGION_DISABLED);
    }
    if world
        .administrator_of(account, region)
        .is_some_and(|a| a != admin)
    {
        return Err(OTHER_ADMINISTRATOR);
    }
    if world.is_management(account) && world.detector(account, region).is_none() {
        return Err(MANAGEMENT_WITHOUT_DETECTOR);
    }
    ensure_detector(world, account, region);
    let features = org_auto_features(world, region, &["NEW", "ALL"]);
    let invitation_id = world.new_hex_id();
    let now = Utc::now();
    let (admin_cell, member_cell) = world.cell_pair_mut(region, admin, account);
    if let Some(d) = member_cell.detector.as_mut() {
        apply_features(d, &features, now);
    }
    admin_cell.members.insert(
        account.to_string(),
        Member {
            account_id: account.to_string(),
            email: email.to_string(),
            relationship: "Enabled".into(),
            invited_at: None,
            updated: now,
            monitoring: true,
        },
    );
    member_cell.invitations.remove(admin);
    member_cell.administrator = Some(AdministratorLink {
        account_id: admin.to_string(),
        invitation_id,
        invited_at: now,
        relationship: "Enabled".into(),
    });
    Ok(())
}

/// The detector features the organization configuration of `region` turns on for members,
/// counting the feature settings whose auto-enable value is one of `values`.
pub fn org_auto_features(world: &World, region: &str, values: &[&str]) -> FeatureRequest {
    let mut out = FeatureRequest::new();
    let Some(org) = world.guardduty_org.get(region) else {
        return out;
    };
    for (name, auto) in &org.config.features {
        if values.contains(&auto.as_str()) {
            out.entry(name.clone()).or_default().0 = "ENABLED".into();
        }
    }
    for ((feature, additional), auto) in &org.config.additional {
        if values.contains(&auto.as_str()) {
            out.entry(feature.clone())
                .or_default()
                .1
                .insert(additional.clone(), "ENABLED".into());
        }
    }
    out
}

fn list(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let max = req.max_results(50, 50)?;
    let only_associated = match req.query("onlyAssociated") {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(ApiError::invalid_param("onlyAssociated")),
    };
    let region = caller.region.as_str();
    let keep = |m: &Member| !only_associated || ASSOCIATED.contains(&m.relationship.as_str());
    let none = BTreeMap::new();
    let members = world
        .cell(&caller.account, region)
        .map_or(&none, |c| &c.members);
    let (items, next) = page_of_map(members, keep, max, req.next_token())?;
    let items: Vec<Value> = items
        .into_iter()
        .map(|m| member_json(world, &caller.account, region, m))
        .collect();
    Ok(with_next_token(json!({"members": items}), next))
}

fn get(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let ids = account_ids(req, "accountIds")?;
    let region = caller.region.as_str();
    let (mut members, mut missing) = (Vec::new(), Vec::new());
    for id in ids {
        match member_of(world, &caller.account, region, &id) {
            Some(m) => members.push(member_json(world, &caller.account, region, m)),
            None => missing.push(unprocessed(&id, NOT_MEMBER)),
        }
    }
    Ok(json!({"members": members, "unprocessedAccounts": missing}))
}

fn invite(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let ids = account_ids(req, "accountIds")?;
    opt_bool(req, "disableEmailNotification")?;
    if opt_str(req, "message")?.is_some_and(|m| m.len() > 1000) {
        return Err(ApiError::invalid_param("message"));
    }
    let (admin, region) = (caller.account.as_str(), caller.region.as_str());
    if world.administrator_of(admin, region).is_some() {
        return Err(ApiError::bad_request(MEMBER_CANNOT_INVITE));
    }
    let mut out = Vec::new();
    for account in ids {
        let Some(m) = member_of(world, admin, region, &account) else {
            out.push(unprocessed(&account, NOT_MEMBER));
            continue;
        };
        if !INVITABLE.contains(&m.relationship.as_str()) {
            out.push(unprocessed(&account, ALREADY_INVITED));
            continue;
        }
        if via_organization(world, admin, &account, region) {
            out.push(unprocessed(&account, ORG_NOT_INVITABLE));
            continue;
        }
        if world
            .administrator_of(&account, region)
            .is_some_and(|a| a != admin)
        {
            out.push(unprocessed(&account, OTHER_ADMINISTRATOR));
            continue;
        }
        // GuardDuty checks the address against the account's own before the invitation
        // reaches it; accounts outside the sandbox can never verify.
        let verified = world
            .accounts
            .get(&account)
            .is_some_and(|a| a.email.eq_ignore_ascii_case(&m.email));
        let invitation_id = world.new_hex_id();
        let now = Utc::now();
        let (admin_cell, member_cell) = world.cell_pair_mut(region, admin, &account);
        let m = admin_cell.members.get_mut(&account).expect("checked above");
        m.updated = now;
        if verified {
            m.relationship = "Invited".into();
            m.invited_at = Some(now);
            member_cell.invitations.insert(
                admin.to_string(),
                Invitation {
                    administrator: admin.to_string(),
                    invitation_id,
                    invited_at: now,
                },
            );
        } else {
            m.relationship = "EmailVerificationFailed".into();
        }
    }
    Ok(json!({"unprocessedAccounts": out}))
}

fn disassociate(
    world: &mut World,
    caller: &Caller,
    req: &Request,
    delete: bool,
) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let ids = account_ids(req, "accountIds")?;
    let (admin, region) = (caller.account.as_str(), caller.region.as_str());
    let mut out = Vec::new();
    for account in ids {
        let Some(m) = member_of(world, admin, region, &account) else {
            out.push(unprocessed(&account, NOT_MEMBER));
            continue;
        };
        if held_by_auto_enable_all(world, admin, region, m) {
            out.push(unprocessed(&account, AUTO_ENABLE_ALL));
            continue;
        }
        let now = Utc::now();
        let (admin_cell, member_cell) = world.cell_pair_mut(region, admin, &account);
        if member_cell
            .administrator
            .as_ref()
            .is_some_and(|l| l.account_id == admin)
        {
            member_cell.administrator = None;
        }
        member_cell.invitations.remove(admin);
        if delete {
            admin_cell.members.remove(&account);
        } else if let Some(m) = admin_cell.members.get_mut(&account) {
            m.relationship = "Removed".into();
            m.monitoring = false;
            m.updated = now;
        }
    }
    Ok(json!({"unprocessedAccounts": out}))
}

/// Whether the organization configuration holds `m` to `admin`: the API reference says that
/// with `autoEnableOrganizationMembers` set to ALL, disassociating (DisassociateMembers),
/// disabling (DeleteMembers) or stopping monitoring of (StopMonitoringMembers) an organization
/// member is an error. The sandbox holds members the same way while any auto-enable setting
/// (members, or a protection plan) is ALL; members by invitation are not held.
fn held_by_auto_enable_all(world: &World, admin: &str, region: &str, m: &Member) -> bool {
    let auto_all = world.guardduty_org.get(region).is_some_and(|o| {
        o.config.auto_enable_members == "ALL"
            || o.config.features.values().any(|v| v == "ALL")
            || o.config.additional.values().any(|v| v == "ALL")
    });
    auto_all
        && ASSOCIATED.contains(&m.relationship.as_str())
        && via_organization(world, admin, &m.account_id, region)
}

fn monitoring(
    world: &mut World,
    caller: &Caller,
    req: &Request,
    start: bool,
) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let ids = account_ids(req, "accountIds")?;
    let (admin, region) = (caller.account.as_str(), caller.region.as_str());
    let held: Vec<String> = if start {
        Vec::new()
    } else {
        ids.iter()
            .filter(|a| {
                member_of(world, admin, region, a)
                    .is_some_and(|m| held_by_auto_enable_all(world, admin, region, m))
            })
            .cloned()
            .collect()
    };
    let now = Utc::now();
    let cell = world.cell_mut(admin, region);
    let mut out = Vec::new();
    for account in ids {
        if held.contains(&account) {
            out.push(unprocessed(&account, AUTO_ENABLE_ALL));
            continue;
        }
        match cell.members.get_mut(&account) {
            Some(m) if ASSOCIATED.contains(&m.relationship.as_str()) => {
                m.relationship = if start { "Enabled" } else { "Disabled" }.into();
                m.monitoring = start;
                m.updated = now;
            }
            _ => out.push(unprocessed(&account, NOT_ASSOCIATED)),
        }
    }
    Ok(json!({"unprocessedAccounts": out}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(valid_email("aws+member-0001@example.com"));
        for bad in ["", "nobody", "@example.com", "a@b", "a@b@c.com"] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
