//! The member side of GuardDuty's administrator relationship: ListInvitations,
//! GetInvitationsCount, AcceptAdministratorInvitation (and the deprecated AcceptInvitation),
//! DeclineInvitations, DeleteInvitations, GetAdministratorAccount (and GetMasterAccount),
//! DisassociateFromAdministratorAccount (and DisassociateFromMasterAccount).
//!
//! Invitations are per region: each lives in the invited account's cell of the region it was
//! sent in. An account has at most one administrator per region.

use chrono::Utc;
use serde_json::{json, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::{AdministratorLink, World};

use super::members::{member_of, ASSOCIATED};
use super::{
    account_ids, iso, page_after, req_str, require_owned, unprocessed, with_next_token, Request,
};

const NO_INVITATION: &str = "The request is rejected because the current account does not have an invitation from the requested master account.";
const ALREADY_ASSOCIATED: &str = "The request is rejected because the current account is already associated with an administrator account. Disassociate from it before accepting another invitation.";
const IS_ADMINISTRATOR: &str = "The request is rejected because the current account is the administrator of invited or associated members and cannot also be a member account.";
const NOT_ASSOCIATED: &str =
    "The request is rejected because the current account is not associated with an administrator account.";
const ORG_MEMBER: &str = "The request is rejected because the current account is a member of the organization's delegated administrator. Only the administrator account can disassociate it.";

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.route.op {
        "ListInvitations" => list(world, caller, req),
        "GetInvitationsCount" => Ok(json!({"invitationsCount": pending(world, caller).len()})),
        "AcceptAdministratorInvitation" => accept(world, caller, req, "administratorId"),
        "AcceptInvitation" => accept(world, caller, req, "masterId"),
        "DeclineInvitations" | "DeleteInvitations" => decline(world, caller, req),
        "GetAdministratorAccount" => administrator(world, caller, req, "administrator"),
        "GetMasterAccount" => administrator(world, caller, req, "master"),
        "DisassociateFromAdministratorAccount" | "DisassociateFromMasterAccount" => {
            leave(world, caller, req)
        }
        other => Err(ApiError::internal(format!(
            "{other} is not an invitations operation"
        ))),
    }
}

/// The caller's pending invitations in its region, as GuardDuty lists them.
fn pending(world: &World, caller: &Caller) -> Vec<Value> {
    world
        .cell(&caller.account, &caller.region)
        .map(|c| {
            c.invitations
                .values()
                .map(|i| {
                    json!({
                        "accountId": i.administrator,
                        "invitationId": i.invitation_id,
                        "relationshipStatus": "Invited",
                        "invitedAt": iso(&i.invited_at),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn list(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let max = req.max_results(50, 50)?;
    let all = pending(world, caller);
    let (items, next) = page_after(
        &all,
        |i| i["accountId"].as_str().unwrap_or_default(),
        max,
        req.next_token(),
    )?;
    Ok(with_next_token(json!({"invitations": items}), next))
}

/// Set the administrator side's record of `member` to `relationship` (the member's own doing).
fn set_member_status(world: &mut World, admin: &str, region: &str, member: &str, status: &str) {
    if admin == member {
        return;
    }
    if let Some(m) = world.cell_mut(admin, region).members.get_mut(member) {
        m.relationship = status.to_string();
        m.monitoring = status == "Enabled";
        m.updated = Utc::now();
    }
}

fn accept(
    world: &mut World,
    caller: &Caller,
    req: &Request,
    admin_key: &str,
) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let admin = req_str(req, admin_key)?.to_string();
    let invitation_id = req_str(req, "invitationId")?.to_string();
    let (account, region) = (caller.account.as_str(), caller.region.as_str());
    let cell = world.cell_mut(account, region);
    if cell.administrator.is_some() {
        return Err(ApiError::bad_request(ALREADY_ASSOCIATED));
    }
    // An account is an administrator or a member, not both.
    if cell
        .members
        .values()
        .any(|m| ASSOCIATED.contains(&m.relationship.as_str()) || m.relationship == "Invited")
    {
        return Err(ApiError::bad_request(IS_ADMINISTRATOR));
    }
    let invitation = match cell.invitations.get(&admin) {
        Some(i) if i.invitation_id == invitation_id => cell
            .invitations
            .remove(&admin)
            .expect("present: checked above"),
        _ => return Err(ApiError::bad_request(NO_INVITATION)),
    };
    cell.administrator = Some(AdministratorLink {
        account_id: admin.clone(),
        invitation_id: invitation.invitation_id,
        invited_at: invitation.invited_at,
        relationship: "Enabled".into(),
    });
    set_member_status(world, &admin, region, account, "Enabled");
    Ok(json!({}))
}

fn decline(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let ids = account_ids(req, "accountIds")?;
    let (account, region) = (caller.account.as_str(), caller.region.as_str());
    let mut out = Vec::new();
    for admin in ids {
        let removed = world
            .cell_mut(account, region)
            .invitations
            .remove(&admin)
            .is_some();
        if removed {
            set_member_status(world, &admin, region, account, "Resigned");
        } else {
            out.push(unprocessed(&admin, NO_INVITATION));
        }
    }
    Ok(json!({"unprocessedAccounts": out}))
}

fn administrator(
    world: &mut World,
    caller: &Caller,
    req: &Request,
    key: &str,
) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let link = world
        .cell(&caller.account, &caller.region)
        .and_then(|c| c.administrator.as_ref());
    // An account without an administrator gets a 200 with nothing in it.
    Ok(match link {
        None => json!({}),
        Some(l) => json!({ key: {
            "accountId": l.account_id,
            "invitationId": l.invitation_id,
            "relationshipStatus": l.relationship,
            "invitedAt": iso(&l.invited_at),
        }}),
    })
}

fn leave(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_owned(world, caller, req)?;
    let (account, region) = (caller.account.as_str(), caller.region.as_str());
    let Some(admin) = world
        .cell(account, region)
        .and_then(|c| c.administrator.as_ref())
        .map(|l| l.account_id.clone())
    else {
        return Err(ApiError::bad_request(NOT_ASSOCIATED));
    };
    let associated = member_of(world, &admin, region, account)
        .is_some_and(|m| ASSOCIATED.contains(&m.relationship.as_str()));
    if associated && super::via_organization(world, &admin, account, region) {
        return Err(ApiError::bad_request(ORG_MEMBER));
    }
    world.cell_mut(account, region).administrator = None;
    set_member_status(world, &admin, region, account, "Resigned");
    Ok(json!({}))
}
