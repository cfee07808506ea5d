//! The member accounts of a run: the validated list the user gave, or the organization's
//! accounts from Organizations ListAccounts (suspended and closing accounts skipped and
//! reported; the administrator is never its own member).

use crate::aws::{AwsError, ClientFactory, Session};
use crate::plan::Notice;
use crate::settings::{AccountSource, MemberAccount};

/// The members of the run and the notices about accounts left out.
pub async fn resolve(
    session: &Session,
    source: &AccountSource,
    administrator: &str,
) -> Result<(Vec<MemberAccount>, Vec<Notice>), AwsError> {
    let listed = match source {
        AccountSource::Listed(l) => return Ok((l.clone(), vec![])),
        AccountSource::Organizations => {
            let org = ClientFactory::organizations(session.factory.base());
            let mut pages = org.list_accounts().into_paginator().send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(AwsError::from_sdk("ListAccounts"))?;
                for a in page.accounts() {
                    out.push((
                        a.id().unwrap_or_default().to_string(),
                        a.email().unwrap_or_default().to_string(),
                        a.status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                    ));
                }
            }
            out
        }
    };
    let mut members = Vec::new();
    let mut notices = Vec::new();
    for (id, email, status) in listed {
        if id == administrator {
            continue;
        }
        if status != "ACTIVE" {
            notices.push(Notice::SuspendedAccount { account: id });
            continue;
        }
        members.push(MemberAccount { id, email });
    }
    members.sort();
    Ok((members, notices))
}
