//! GuardDuty with AWS Organizations: Enable/DisableOrganizationAdminAccount and
//! ListOrganizationAdminAccounts (management account only), Describe/Update
//! OrganizationConfiguration and GetOrganizationStatistics (the delegated administrator only).
//!
//! Each region has at most one delegated administrator. Designating one enables GuardDuty in
//! that account (this region only), registers it with Organizations for
//! `guardduty.amazonaws.com` and enables trusted access, as GuardDuty does on the management
//! account's behalf; removing it leaves the Organizations registration in place. With `autoEnableOrganizationMembers = ALL` every active
//! organization account becomes an `Enabled` member with a detector.

use chrono::Utc;
use serde_json::{json, Value};

use crate::sandbox::auth::Caller;
use crate::sandbox::authz;
use crate::sandbox::error::{ApiError, Protocol};
use crate::sandbox::policy::Request as PolicyRequest;
use crate::sandbox::state::{AccountStatus, World, GUARDDUTY_PRINCIPAL};

use super::detectors::{apply_features, ensure_detector, parse_features, FeatureRequest, FEATURES};
use super::members::{enable_org_member, member_of, org_auto_features};
use super::{
    is_delegated_admin, not_org_permitted, opt_bool, opt_str, page, req_str, require_owned,
    with_next_token, Request,
};

const INVALID_INPUT: &str =
    "The request is rejected because an invalid or out-of-range value is specified as an input parameter.";
const OTHER_ADMIN: &str = "The request is rejected because the organization already has a delegated administrator for GuardDuty in this Region. Disable it before enabling another account.";
const BOTH_AUTO_ENABLE: &str = "The request is rejected because both autoEnable and autoEnableOrganizationMembers are specified. Specify autoEnableOrganizationMembers only.";
// The API reference: "You must provide a value for either autoEnableOrganizationMembers or
// autoEnable, but not both."
const NEITHER_AUTO_ENABLE: &str = "The request is rejected because neither autoEnable nor autoEnableOrganizationMembers is specified. Specify autoEnableOrganizationMembers.";
/// Most members an administrator can have (GuardDuty's quota for organizations).
const MEMBER_LIMIT: usize = 50_000;
pub const AUTO_VALUES: &[&str] = &["NEW", "ALL", "NONE"];

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.route.op {
        "EnableOrganizationAdminAccount" => enable_admin(world, caller, req),
        "DisableOrganizationAdminAccount" => disable_admin(world, caller, req),
        "ListOrganizationAdminAccounts" => list_admins(world, caller, req),
        "DescribeOrganizationConfiguration" => describe(world, caller, req),
        "UpdateOrganizationConfiguration" => update(world, caller, req),
        "GetOrganizationStatistics" => statistics(world, caller),
        other => Err(ApiError::internal(format!(
            "{other} is not an organization operation"
        ))),
    }
}

fn require_management(world: &World, caller: &Caller) -> Result<(), ApiError> {
    if world.is_management(&caller.account) {
        Ok(())
    } else {
        Err(not_org_permitted())
    }
}

/// What designating the delegated administrator does in Organizations with the caller's own
/// permissions (GuardDuty user guide, "Permissions required to designate a delegated GuardDuty
/// administrator account"): the caller's policies must allow each of these too.
pub const ENABLE_ADMIN_NEEDS: &[&str] = &[
    "organizations:EnableAWSServiceAccess",
    "organizations:RegisterDelegatedAdministrator",
    "organizations:ListDelegatedAdministrators",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:DescribeOrganizationalUnit",
    "organizations:DescribeAccount",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
];

fn enable_admin(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_management(world, caller)?;
    let admin = req_str(req, "adminAccountId")?.to_string();
    let needs: Vec<PolicyRequest> = ENABLE_ADMIN_NEEDS
        .iter()
        .map(|a| {
            let r = PolicyRequest::new(*a, "*");
            if a.ends_with("EnableAWSServiceAccess")
                || a.ends_with("RegisterDelegatedAdministrator")
            {
                r.with("organizations:ServicePrincipal", GUARDDUTY_PRINCIPAL)
            } else {
                r
            }
        })
        .collect();
    authz::authorize(world, caller, Protocol::RestJson, &needs)?;
    // Designating the management account itself enables GuardDuty there with the caller's
    // permissions, service-linked role included.
    if admin == caller.account && world.detector(&admin, &caller.region).is_none() {
        super::detectors::create_service_linked_role(world, caller)?;
    }
    let active = world
        .accounts
        .get(&admin)
        .is_some_and(|a| a.status == AccountStatus::Active);
    if !active {
        return Err(ApiError::bad_request(INVALID_INPUT));
    }
    let region = caller.region.clone();
    let org = world.guardduty_org.entry(region.clone()).or_default();
    match org.admin.as_deref() {
        Some(current) if current == admin => return Ok(json!({})),
        Some(_) => return Err(ApiError::bad_request(OTHER_ADMIN)),
        None => org.admin = Some(admin.clone()),
    }
    // GuardDuty enables itself in the designated account, in this region only.
    ensure_detector(world, &admin, &region);
    let now = Utc::now();
    world
        .org
        .service_access
        .entry(GUARDDUTY_PRINCIPAL.to_string())
        .or_insert(now);
    world
        .org
        .delegated_admins
        .entry((GUARDDUTY_PRINCIPAL.to_string(), admin))
        .or_insert(now);
    Ok(json!({}))
}

fn disable_admin(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_management(world, caller)?;
    let admin = req_str(req, "adminAccountId")?.to_string();
    let region = caller.region.clone();
    if !is_delegated_admin(world, &admin, &region) {
        return Err(ApiError::bad_request(INVALID_INPUT));
    }
    // The organization's accounts stop being members of the former administrator.
    let org_members: Vec<String> = world
        .cell(&admin, &region)
        .map(|c| {
            c.members
                .keys()
                .filter(|m| world.accounts.contains_key(*m))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let now = Utc::now();
    for member in org_members {
        let (admin_cell, member_cell) = world.cell_pair_mut(&region, &admin, &member);
        if let Some(m) = admin_cell.members.get_mut(&member) {
            m.relationship = "Removed".into();
            m.monitoring = false;
            m.updated = now;
        }
        if member_cell
            .administrator
            .as_ref()
            .is_some_and(|l| l.account_id == admin)
        {
            member_cell.administrator = None;
        }
    }
    if let Some(org) = world.guardduty_org.get_mut(&region) {
        org.admin = None;
    }
    // The registration with Organizations stays: removing it is Organizations'
    // DeregisterDelegatedAdministrator, a separate, global step.
    Ok(json!({}))
}

fn list_admins(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_management(world, caller)?;
    let max = req.max_results(50, 50)?;
    let admins: Vec<Value> = world
        .guardduty_org
        .get(&caller.region)
        .and_then(|o| o.admin.clone())
        .map(|a| vec![json!({"adminAccountId": a, "adminStatus": "ENABLED"})])
        .unwrap_or_default();
    let (items, next) = page(&admins, max, req.next_token())?;
    Ok(with_next_token(json!({"adminAccounts": items}), next))
}

/// The delegated administrator's own detector named in the path, or the refusal.
fn require_delegated(world: &World, caller: &Caller, req: &Request) -> Result<(), ApiError> {
    require_owned(world, caller, req)?;
    if is_delegated_admin(world, &caller.account, &caller.region) {
        Ok(())
    } else {
        Err(not_org_permitted())
    }
}

fn describe(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_delegated(world, caller, req)?;
    req.max_results(50, 50)?;
    let config = world
        .guardduty_org
        .get(&caller.region)
        .map(|o| o.config.clone())
        .unwrap_or_default();
    let members = world
        .cell(&caller.account, &caller.region)
        .map_or(0, |c| c.members.len());
    let auto = |v: Option<&String>| v.map_or("NONE", String::as_str).to_string();
    let members_auto = match config.auto_enable_members.as_str() {
        "" => "NONE".to_string(),
        v => v.to_string(),
    };
    let features: Vec<Value> = FEATURES
        .iter()
        .filter(|(name, _)| super::detectors::configurable(name))
        .map(|(name, additional)| {
            let mut v = json!({"name": name, "autoEnable": auto(config.features.get(*name))});
            if !additional.is_empty() {
                v["additionalConfiguration"] = additional
                    .iter()
                    .map(|a| {
                        let key = (name.to_string(), a.to_string());
                        json!({"name": a, "autoEnable": auto(config.additional.get(&key))})
                    })
                    .collect();
            }
            v
        })
        .collect();
    let on = |f: &str| config.features.get(f).is_some_and(|v| v != "NONE");
    Ok(json!({
        "autoEnable": members_auto != "NONE",
        "autoEnableOrganizationMembers": members_auto,
        "memberAccountLimitReached": members >= MEMBER_LIMIT,
        "dataSources": {
            "s3Logs": {"autoEnable": on("S3_DATA_EVENTS")},
            "kubernetes": {"auditLogs": {"autoEnable": on("EKS_AUDIT_LOGS")}},
            "malwareProtection": {"scanEc2InstanceWithFindings": {"ebsVolumes": {"autoEnable": on("EBS_MALWARE_PROTECTION")}}},
        },
        "features": features,
    }))
}

/// GetOrganizationStatistics: the delegated administrator's counts of the organization's
/// accounts in the caller's region. Members count when they are accounts of the organization
/// associated with the administrator (`Enabled` or `Disabled` as recorded); active ones when
/// their account is active; enabled ones when their detector runs. Features count over the
/// enabled members. The sandbox computes them on demand, so `updatedAt` is the call's time.
fn statistics(world: &mut World, caller: &Caller) -> Result<Value, ApiError> {
    let (admin, region) = (caller.account.as_str(), caller.region.as_str());
    if !is_delegated_admin(world, admin, region) {
        return Err(not_org_permitted());
    }
    let associated: Vec<&str> = world
        .cell(admin, region)
        .map(|c| {
            c.members
                .values()
                .filter(|m| super::members::ASSOCIATED.contains(&m.relationship.as_str()))
                .filter(|m| world.accounts.contains_key(&m.account_id))
                .map(|m| m.account_id.as_str())
                .collect()
        })
        .unwrap_or_default();
    let active: Vec<&str> = associated
        .iter()
        .copied()
        .filter(|a| world.accounts[*a].status == AccountStatus::Active)
        .collect();
    let enabled: Vec<&crate::sandbox::state::Detector> = active
        .iter()
        .filter(|a| world.accounts[**a].region_enabled(region))
        .filter_map(|a| world.detector(a, region))
        .filter(|d| d.enabled)
        .collect();
    let org_features = aws_sdk_guardduty::types::OrgFeature::values();
    let by_feature: Vec<Value> = FEATURES
        .iter()
        .filter(|(name, _)| org_features.contains(name))
        .map(|(name, additional)| {
            let on = |d: &&&crate::sandbox::state::Detector| {
                d.features.get(*name).is_some_and(|f| f.status == "ENABLED")
            };
            let mut v = json!({
                "name": name,
                "enabledAccountsCount": enabled.iter().filter(on).count(),
            });
            if !additional.is_empty() {
                v["additionalConfiguration"] = additional
                    .iter()
                    .map(|a| {
                        let count = enabled
                            .iter()
                            .filter(on)
                            .filter(|d| {
                                d.features[*name].additional.get(*a).map(String::as_str)
                                    == Some("ENABLED")
                            })
                            .count();
                        json!({"name": a, "enabledAccountsCount": count})
                    })
                    .collect();
            }
            v
        })
        .collect();
    Ok(json!({
        "organizationDetails": {
            "updatedAt": super::epoch(&Utc::now()),
            "organizationStatistics": {
                "totalAccountsCount": world.accounts.len(),
                "memberAccountsCount": associated.len(),
                "activeAccountsCount": active.len(),
                "enabledAccountsCount": enabled.len(),
                "countByFeature": by_feature,
            },
        },
    }))
}

/// The deprecated `dataSources` of UpdateOrganizationConfiguration, as feature settings.
fn legacy_org_data_sources(req: &Request) -> Result<FeatureRequest, ApiError> {
    let mut out = FeatureRequest::new();
    let Some(ds) = req.body.get("dataSources").filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    let paths = [
        ("/s3Logs/autoEnable", "S3_DATA_EVENTS"),
        ("/kubernetes/auditLogs/autoEnable", "EKS_AUDIT_LOGS"),
        (
            "/malwareProtection/scanEc2InstanceWithFindings/ebsVolumes/autoEnable",
            "EBS_MALWARE_PROTECTION",
        ),
    ];
    for (path, feature) in paths {
        match ds.pointer(path) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => {
                let v = if *b { "NEW" } else { "NONE" };
                out.insert(feature.into(), (v.into(), Default::default()));
            }
            Some(_) => return Err(ApiError::invalid_param("dataSources")),
        }
    }
    Ok(out)
}

fn update(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    require_delegated(world, caller, req)?;
    let auto_enable = opt_bool(req, "autoEnable")?;
    let members_auto = opt_str(req, "autoEnableOrganizationMembers")?;
    match (auto_enable, members_auto) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request(BOTH_AUTO_ENABLE)),
        (None, None) => return Err(ApiError::bad_request(NEITHER_AUTO_ENABLE)),
        _ => {}
    }
    if members_auto.is_some_and(|v| !AUTO_VALUES.contains(&v)) {
        return Err(ApiError::invalid_param("autoEnableOrganizationMembers"));
    }
    let has_features = req.body.get("features").is_some_and(|v| !v.is_null());
    let has_sources = req.body.get("dataSources").is_some_and(|v| !v.is_null());
    if has_features && has_sources {
        return Err(ApiError::bad_request(
            "The request is rejected because both dataSources and features are specified. \
             Specify features only; dataSources is deprecated.",
        ));
    }
    let features = if has_features {
        parse_features(req.body.get("features"), "autoEnable", AUTO_VALUES)?
    } else {
        legacy_org_data_sources(req)?
    };
    let members_auto = members_auto
        .map(String::from)
        .or(auto_enable.map(|b| if b { "NEW" } else { "NONE" }.to_string()));

    let (admin, region) = (caller.account.clone(), caller.region.clone());
    let org = world.guardduty_org.entry(region.clone()).or_default();
    if let Some(v) = members_auto {
        org.config.auto_enable_members = v;
    }
    for (name, (auto, additional)) in &features {
        if !auto.is_empty() {
            org.config.features.insert(name.clone(), auto.clone());
        }
        for (a, v) in additional {
            org.config
                .additional
                .insert((name.clone(), a.clone()), v.clone());
        }
    }
    let all_members = org.config.auto_enable_members == "ALL";

    if all_members {
        let accounts: Vec<(String, String)> = world
            .accounts
            .values()
            .filter(|a| a.id != admin)
            .map(|a| (a.id.clone(), a.email.clone()))
            .collect();
        for (account, email) in accounts {
            let already = member_of(world, &admin, &region, &account)
                .is_some_and(|m| super::members::ASSOCIATED.contains(&m.relationship.as_str()));
            if !already {
                // Accounts GuardDuty cannot enable (suspended, region off, another
                // administrator, management account without a detector) are left as they are.
                let _ = enable_org_member(world, &admin, &region, &account, &email);
            }
        }
    }
    // Feature settings of ALL reach every existing member's detector now.
    let for_all = org_auto_features(world, &region, &["ALL"]);
    if !for_all.is_empty() {
        let members: Vec<String> = world
            .cell(&admin, &region)
            .map(|c| {
                c.members
                    .values()
                    .filter(|m| super::members::ASSOCIATED.contains(&m.relationship.as_str()))
                    .map(|m| m.account_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        let now = Utc::now();
        for member in members {
            if let Some(d) = world.cell_mut(&member, &region).detector.as_mut() {
                apply_features(d, &for_all, now);
            }
        }
    }
    Ok(json!({}))
}
