//! The organization as the caller sees it: its accounts (Organizations ListAccounts), the
//! delegated GuardDuty administrator, and how GuardDuty is set up (the mode). Each is read
//! here, once, for every command.

use aws_sdk_guardduty::types::AdminStatus;

use super::{AwsError, ClientFactory, Session};

/// An account of the organization.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrgAccount {
    pub id: String,
    pub email: String,
    /// ACTIVE, SUSPENDED, PENDING_CLOSURE, ... An account the API reports without a status is
    /// taken as ACTIVE: Organizations only leaves it out for accounts in good standing.
    pub status: String,
}

impl OrgAccount {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// Every account of the organization, sorted by id (the caller must be allowed to list them:
/// the management account, or a delegated administrator of Organizations).
pub async fn list_accounts(session: &Session) -> Result<Vec<OrgAccount>, AwsError> {
    let mut out = Vec::new();
    list_accounts_paged(session, |page| out.extend(page)).await?;
    out.sort();
    Ok(out)
}

/// Every account of the organization, handed to `page` one page at a time as Organizations
/// answers (20 accounts a page at most, in its order), so that work on the first accounts
/// need not wait for the last page.
pub async fn list_accounts_paged(
    session: &Session,
    mut page: impl FnMut(Vec<OrgAccount>),
) -> Result<(), AwsError> {
    let org = ClientFactory::organizations(session.factory.base());
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(answer) = pages.next().await {
        let answer = answer.map_err(AwsError::from_sdk("ListAccounts"))?;
        page(
            answer
                .accounts()
                .iter()
                .map(|a| {
                    #[allow(deprecated)] // Status is deprecated in favour of State; read both.
                    let status = a
                        .state()
                        .map(|s| s.as_str().to_string())
                        .or_else(|| a.status().map(|s| s.as_str().to_string()))
                        .unwrap_or_else(|| "ACTIVE".into());
                    OrgAccount {
                        id: a.id().unwrap_or_default().to_string(),
                        email: a.email().unwrap_or_default().to_string(),
                        status,
                    }
                })
                .collect(),
        );
    }
    Ok(())
}

/// The enabled delegated GuardDuty administrator, when the caller may ask (only the
/// management account may): Ok(None) when there is none, Err when the caller may not know.
pub async fn delegated_admin(session: &Session) -> Result<Option<String>, AwsError> {
    Ok(delegated_admins(&session.home_guardduty())
        .await?
        .into_iter()
        .find(|(_, status)| status == AdminStatus::Enabled.as_str())
        .map(|(account, _)| account))
}

/// Every delegated GuardDuty administrator `gd`'s region knows, with its status (ENABLED,
/// DISABLE_IN_PROGRESS).
pub async fn delegated_admins(
    gd: &aws_sdk_guardduty::Client,
) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    let mut pages = gd
        .list_organization_admin_accounts()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListOrganizationAdminAccounts"))?;
        for a in page.admin_accounts() {
            if let Some(id) = a.admin_account_id() {
                let status = a.admin_status().map(|s| s.as_str()).unwrap_or_default();
                out.push((id.to_string(), status.to_string()));
            }
        }
    }
    Ok(out)
}

/// How GuardDuty is set up across the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// A delegated administrator is enabled (the Organizations flow).
    DelegatedAdministrator,
    /// No delegated administrator, and the administrator has members (the invitation flow).
    InvitedMembers,
}

/// How GuardDuty is set up, read rather than assumed: None when neither flow is set up yet
/// (or the caller cannot tell). Members are looked for in the first of `regions` (the home
/// region first) where the administrator has a detector.
pub async fn detect_setup(
    session: &Session,
    administrator: &str,
    regions: &[String],
) -> Option<Setup> {
    // Only the management account may list the delegated administrators; when the caller
    // may not, the administrator itself says whether it is one (below).
    let listed = delegated_admin(session).await;
    if let Ok(Some(_)) = listed {
        return Some(Setup::DelegatedAdministrator);
    }
    let ask_administrator = listed.is_err() && administrator == session.caller;
    let home = session.factory.home_region();
    let order = std::iter::once(&home).chain(regions.iter().filter(|r| **r != home));
    for region in order {
        let Ok(gd) = session.guardduty(administrator, region).await else {
            return None;
        };
        let Ok(Some(detector)) = super::admin::detector(&gd).await else {
            continue;
        };
        // DescribeOrganizationConfiguration answers the delegated administrator only.
        if ask_administrator
            && gd
                .describe_organization_configuration()
                .detector_id(&detector)
                .send()
                .await
                .is_ok()
        {
            return Some(Setup::DelegatedAdministrator);
        }
        let members = gd
            .list_members()
            .detector_id(detector)
            .only_associated("false")
            .max_results(1)
            .send()
            .await
            .ok()?;
        return (!members.members().is_empty()).then_some(Setup::InvitedMembers);
    }
    None
}
