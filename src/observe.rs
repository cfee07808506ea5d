//! Read the current GuardDuty state of every account x region the run covers: detectors
//! (status, features, frequency), administrator links, pending invitations, the administrator's
//! member list, and in organizations mode the delegated administrator, auto-enable settings
//! and the members' detector features (read through the administrator).
//!
//! What cannot be read is an observation too: a region the account has not enabled, an account
//! whose role cannot be assumed (with the reason). Only the planner decides what that means.
//!
//! Regions an account has not enabled are learned once per account ([`OptIn`], ListRegions)
//! before any GuardDuty call there. With [`Scope::admin_first`] (the audit), a member cell the
//! administrator's record already answers (an `Enabled` member whose detector features it read,
//! or a member GuardDuty reports as `RegionDisabled` or `AccountSuspended`) is not read from
//! inside the account: no role is assumed for it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_guardduty::Client;

use crate::aws::{organization, AwsError, OptIn, Session};
use crate::control::{Reporter, Stop};
use crate::settings::{AccountSource, Desired, MemberAccount, Mode};

/// A detector's features list as name -> enabled, each feature followed by its additional
/// configurations as `FEATURE.ADDITIONAL` (`RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT`: the agent
/// management GuardDuty does for it). GetDetector and GetMemberDetectors answer with two SDK
/// types that have the same accessors, hence a macro.
macro_rules! feature_map {
    ($features:expr) => {
        $features
            .iter()
            .filter_map(|f| {
                let name = f.name()?.as_str();
                let on = |s: Option<&aws_sdk_guardduty::types::FeatureStatus>| {
                    s.is_some_and(|s| s.as_str() == "ENABLED")
                };
                let mut entries = vec![(name.to_string(), on(f.status()))];
                entries.extend(f.additional_configuration().iter().filter_map(|a| {
                    Some((format!("{name}.{}", a.name()?.as_str()), on(a.status())))
                }));
                Some(entries)
            })
            .flatten()
            .collect::<BTreeMap<String, bool>>()
    };
}

/// The member accounts of a run: the validated list the user gave, or the organization's
/// active accounts (the administrator is never its own member).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    pub members: Vec<MemberAccount>,
    /// Accounts of the organization left out, with their status (SUSPENDED, ...).
    pub inactive: Vec<(String, String)>,
}

/// Resolve the member accounts of `source` (Organizations ListAccounts when not listed).
pub async fn members(
    session: &Session,
    source: &AccountSource,
    administrator: &str,
) -> Result<Members, AwsError> {
    if let AccountSource::Listed(l) = source {
        return Ok(Members {
            members: l.clone(),
            inactive: vec![],
        });
    }
    let mut out = Members::default();
    for a in organization::list_accounts(session).await? {
        if a.id == administrator {
            continue;
        }
        if a.is_active() {
            out.members.push(MemberAccount {
                id: a.id,
                email: a.email,
            });
        } else {
            out.inactive.push((a.id, a.status));
        }
    }
    out.members.sort();
    Ok(out)
}

/// A detector as read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DetectorState {
    pub id: String,
    pub enabled: bool,
    pub frequency: Option<String>,
    /// Feature name -> enabled.
    pub features: BTreeMap<String, bool>,
}

/// The administrator a member is linked to, as the member sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminLink {
    pub account: String,
    pub status: String,
}

/// A pending invitation a member has received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    pub from: String,
    pub id: String,
}

/// One account in one region, as the account itself sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberSide {
    /// Boxed, like the link: a rollout holds one side per member x region (160,000 at 5,000
    /// accounts x 32 regions) while it plans, and a fresh account has neither.
    pub detector: Option<Box<DetectorState>>,
    pub administrator: Option<Box<AdminLink>>,
    pub invitations: Vec<PendingInvitation>,
    /// The account is itself the GuardDuty administrator of members here, so it cannot become
    /// a member (GuardDuty refuses the acceptance). Read only when it is not linked to us.
    pub administers_members: bool,
}

/// A member in the administrator's member list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberRecord {
    /// relationshipStatus: Created, Invited, Enabled, Removed, Resigned, ...
    pub status: String,
    /// The email GuardDuty has for the member (invitations are verified against it).
    pub email: String,
    /// Organizations mode, `Enabled` members: their detector's features (name -> enabled) as
    /// the administrator reads them (GetMemberDetectors). None when not read.
    pub features: Option<BTreeMap<String, bool>>,
}

/// GetOrganizationStatistics of one region (the delegated administrator's totals).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrgStatistics {
    /// Accounts in the organization.
    pub total: i32,
    /// Organization accounts associated with the administrator.
    pub members: i32,
    /// Of those, accounts that are active.
    pub active: i32,
    /// Accounts that have GuardDuty enabled.
    pub enabled: i32,
    /// Feature name -> accounts with it enabled.
    pub by_feature: BTreeMap<String, i32>,
}

impl MemberRecord {
    /// Whether this record alone says what the audit needs about the member here: an
    /// `Enabled` member with its detector's features read through the administrator, or a
    /// member GuardDuty reports as unable to run here (`RegionDisabled`, `AccountSuspended`).
    pub fn answers(&self) -> bool {
        match self.status.as_str() {
            "Enabled" => self.features.is_some(),
            "RegionDisabled" | "AccountSuspended" => true,
            _ => false,
        }
    }
}

/// The organization-wide settings of one region, when the administrator is delegated there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrgConfigState {
    /// NEW | ALL | NONE
    pub auto_enable: String,
    /// Feature name -> NEW | ALL | NONE
    pub features: BTreeMap<String, String>,
}

/// A publishing destination (findings export) of the administrator's detector, as read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DestinationState {
    pub id: String,
    /// `S3`
    pub destination_type: String,
    /// PENDING_VERIFICATION | PUBLISHING | UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY | STOPPED
    pub status: String,
    pub bucket_arn: String,
    pub kms_key_arn: String,
    /// Epoch milliseconds since when GuardDuty cannot publish (None while it can).
    pub failing_since_ms: Option<i64>,
}

/// The administrator in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdminSide {
    pub detector: Option<DetectorState>,
    pub members: BTreeMap<String, MemberRecord>,
    /// Organizations mode: the delegated administrators of this region (account, status).
    pub delegated: Vec<(String, String)>,
    /// Organizations mode, when our administrator is the delegated one and has a detector.
    pub org_config: Option<OrgConfigState>,
    /// Organizations mode, read with [`Scope::admin_first`] where our administrator is the
    /// delegated one; None when not read or refused (the totals are informative only).
    pub statistics: Option<OrgStatistics>,
    /// Organizations mode, when the caller (management account) is not the administrator: the
    /// caller's account and detector (GuardDuty adds the management account as a member only
    /// once it has a detector of its own).
    pub management: Option<(String, Option<DetectorState>)>,
    /// The publishing destinations of the administrator's detector, when the run reads them
    /// (an export is wanted, or an audit). A failed read is kept here, not failing the side.
    pub destinations: Option<Result<Vec<DestinationState>, AwsError>>,
}

/// What reading one cell gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen<T> {
    Read(T),
    /// The account has not enabled (opted in to) this region.
    RegionDisabled,
    /// The role could not be assumed (no role, trust policy, suspended account ...).
    NoAccess(AwsError),
    /// A call failed for another reason.
    Failed(AwsError),
}

impl<T> Seen<T> {
    pub fn read(&self) -> Option<&T> {
        match self {
            Seen::Read(t) => Some(t),
            _ => None,
        }
    }
}

/// Everything observed in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionObservation {
    pub admin: Seen<AdminSide>,
    /// Member account -> what it shows. Absent when the run did not need to look.
    pub members: BTreeMap<String, Seen<MemberSide>>,
}

/// The whole observation, by region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observation {
    pub regions: BTreeMap<String, RegionObservation>,
}

/// What to read.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// Read each member's own side (needs the role in every member).
    pub members: bool,
    /// Read the members also in regions where the administrator's side could not be read
    /// (the audit reports each account's own state; a rollout could do nothing there).
    pub every_region: bool,
    /// Read the administrator's publishing destinations (findings export).
    pub destinations: bool,
    /// Read from the administrator first: its member list, its members' detectors (in both
    /// modes) and, where delegated, the organization's statistics; a member is read from
    /// inside only where the administrator's record does not answer.
    pub admin_first: bool,
}

impl Scope {
    /// What a rollout or an offboard of `desired` needs to see.
    pub fn for_rollout(desired: &Desired) -> Scope {
        Scope {
            members: desired.mode == Mode::Invitation,
            every_region: false,
            destinations: desired.export.is_some(),
            admin_first: false,
        }
    }

    pub fn for_offboard(desired: &Desired) -> Scope {
        Scope {
            members: desired.delete_detectors,
            every_region: false,
            // Offboard leaves the administrator's export alone.
            destinations: false,
            admin_first: false,
        }
    }
}

/// Read every cell, `concurrency` cells at a time. Stops starting new reads once `stop` fires
/// (the cells not read are left out, and the caller sees `stop` fired).
pub async fn observe(
    session: Arc<Session>,
    desired: &Desired,
    scope: Scope,
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Observation {
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let opt_in = Arc::new(OptIn::new());
    let members: Vec<String> = if scope.members {
        desired.members.iter().map(|m| m.id.clone()).collect()
    } else {
        vec![]
    };
    reporter.start("observe", desired.regions.len() * (1 + members.len()));
    // The administrator's side first: a region it cannot use is skipped whole, without reading
    // every member there (the planner could do nothing with them).
    let admin_cells: Vec<(String, Option<String>)> =
        desired.regions.iter().map(|r| (r.clone(), None)).collect();
    let mut admins: BTreeMap<String, Seen<AdminSide>> = BTreeMap::new();
    let mut cells: BTreeMap<String, BTreeMap<String, Seen<MemberSide>>> = BTreeMap::new();
    read_cells(
        &session,
        &opt_in,
        desired,
        scope,
        admin_cells,
        &sem,
        reporter,
        stop,
        &mut admins,
        &mut cells,
    )
    .await;
    let member_cells = member_cells(desired, scope, &admins, &members);
    let skipped = desired.regions.len() * (1 + members.len()) - admins.len() - member_cells.len();
    reporter.advance(skipped);
    read_cells(
        &session,
        &opt_in,
        desired,
        scope,
        member_cells,
        &sem,
        reporter,
        stop,
        &mut admins,
        &mut cells,
    )
    .await;
    reporter.finish();
    assemble(admins, cells)
}

/// [`observe`] while the member accounts are still being listed (`listing`: Organizations
/// ListAccounts, 20 accounts a page, one page after another): the administrator's side does
/// not depend on them and is read meanwhile. Progress shows the two phases one after the other.
/// Returns the members listed with the observation, or the listing's error.
#[allow(clippy::too_many_arguments)]
pub async fn observe_listing<F>(
    session: Arc<Session>,
    desired: &Desired,
    listing: F,
    scope: Scope,
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Result<(Members, Observation), AwsError>
where
    F: std::future::Future<Output = Result<Members, AwsError>>,
{
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let opt_in = Arc::new(OptIn::new());
    let admin_cells: Vec<(String, Option<String>)> =
        desired.regions.iter().map(|r| (r.clone(), None)).collect();
    let mut admins: BTreeMap<String, Seen<AdminSide>> = BTreeMap::new();
    let mut cells: BTreeMap<String, BTreeMap<String, Seen<MemberSide>>> = BTreeMap::new();
    reporter.start("observe", admin_cells.len());
    let (found, ()) = tokio::join!(
        listing,
        read_cells(
            &session,
            &opt_in,
            desired,
            scope,
            admin_cells,
            &sem,
            reporter,
            stop,
            &mut admins,
            &mut cells,
        )
    );
    reporter.finish();
    let found = found?;
    let members: Vec<String> = if scope.members {
        found.members.iter().map(|m| m.id.clone()).collect()
    } else {
        vec![]
    };
    let todo = member_cells(desired, scope, &admins, &members);
    reporter.start("members", todo.len());
    read_cells(
        &session,
        &opt_in,
        desired,
        scope,
        todo,
        &sem,
        reporter,
        stop,
        &mut admins,
        &mut cells,
    )
    .await;
    reporter.finish();
    Ok((found, assemble(admins, cells)))
}

/// The member cells to read from inside: every member in every region the administrator could
/// be read in (in every region with `every_region`), but, with `admin_first`, none the
/// administrator's record answers.
fn member_cells(
    desired: &Desired,
    scope: Scope,
    admins: &BTreeMap<String, Seen<AdminSide>>,
    members: &[String],
) -> Vec<(String, Option<String>)> {
    // An account GuardDuty reports suspended in one region is suspended in all of them.
    let suspended: BTreeSet<&String> = if scope.admin_first {
        suspended_accounts(admins.values())
    } else {
        BTreeSet::new()
    };
    desired
        .regions
        .iter()
        .filter(|r| scope.every_region || matches!(admins.get(*r), Some(Seen::Read(_))))
        .flat_map(|r| members.iter().map(move |m| (r.clone(), m.clone())))
        .filter(|(r, m)| {
            let answered = scope.admin_first
                && (suspended.contains(m)
                    || admins
                        .get(r)
                        .and_then(Seen::read)
                        .and_then(|a| a.members.get(m))
                        .is_some_and(MemberRecord::answers));
            !answered
        })
        .map(|(r, m)| (r, Some(m)))
        .collect()
}

fn assemble(
    admins: BTreeMap<String, Seen<AdminSide>>,
    mut cells: BTreeMap<String, BTreeMap<String, Seen<MemberSide>>>,
) -> Observation {
    let regions = admins
        .into_iter()
        .map(|(region, admin)| {
            let members = cells.remove(&region).unwrap_or_default();
            (region, RegionObservation { admin, members })
        })
        .collect();
    Observation { regions }
}

/// Read `todo` (region, member or None for the administrator), at most as many at once as
/// `sem` has permits, into `admins` and `cells`.
#[allow(clippy::too_many_arguments)]
async fn read_cells(
    session: &Arc<Session>,
    opt_in: &Arc<OptIn>,
    desired: &Desired,
    scope: Scope,
    todo: Vec<(String, Option<String>)>,
    sem: &Arc<tokio::sync::Semaphore>,
    reporter: &dyn Reporter,
    stop: &Stop,
    admins: &mut BTreeMap<String, Seen<AdminSide>>,
    cells: &mut BTreeMap<String, BTreeMap<String, Seen<MemberSide>>>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    // A finished task keeps its whole future's memory until joined: join as we go, so the
    // memory of a run is that of the cells in flight, not of every cell of the organization.
    let record =
        |done: Result<(String, Option<String>, Cell), tokio::task::JoinError>,
         admins: &mut BTreeMap<String, Seen<AdminSide>>,
         cells: &mut BTreeMap<String, BTreeMap<String, Seen<MemberSide>>>| {
            let (region, member, cell) = done.expect("observe task panicked");
            reporter.advance(1);
            match (member, cell) {
                (_, Cell::Admin(seen)) => {
                    admins.insert(region, *seen);
                }
                (Some(m), Cell::Member(seen)) => {
                    cells.entry(region).or_default().insert(m, seen);
                }
                (None, Cell::Member(_)) => unreachable!("member cells carry their account"),
            }
        };
    for (region, member) in todo {
        while let Some(done) = tasks.try_join_next() {
            record(done, admins, cells);
        }
        // Owned permit moved into the task: at most `concurrency` cells are read at once.
        // Biased, stop first: once stopped, no new read starts even when a permit is free.
        let permit = tokio::select! {
            biased;
            _ = stop.stopped() => break,
            p = sem.clone().acquire_owned() => p.expect("semaphore open"),
        };
        let session = session.clone();
        let opt_in = opt_in.clone();
        let admin = desired.administrator.clone();
        let mode = desired.mode;
        // An invitation from our administrator exists only where it has a member record: where
        // its list was read and holds none, there is nothing to look for in the member.
        let may_be_invited = match (&member, admins.get(&region)) {
            (Some(m), Some(Seen::Read(a))) => a.members.contains_key(m),
            _ => true,
        };
        let account = member.clone().unwrap_or_else(|| admin.clone());
        tasks.spawn(crate::aws::session::acting_as(account, async move {
            let _permit = permit;
            let account = member.as_deref().unwrap_or(&admin);
            // Learned once per account: no GuardDuty call goes to a region it cannot use.
            let disabled = opt_in.disabled(&session, account, &region).await;
            match member {
                None if disabled => (region, None, Cell::Admin(Box::new(Seen::RegionDisabled))),
                None => {
                    let mut seen = read_admin(&session, &admin, mode, scope, &region).await;
                    if let (true, Seen::Read(side)) = (scope.destinations, &mut seen) {
                        read_export(&session, &admin, &region, side).await;
                    }
                    (region, None, Cell::Admin(Box::new(seen)))
                }
                Some(m) if disabled => (region, Some(m), Cell::Member(Seen::RegionDisabled)),
                Some(m) => {
                    let seen = read_member(&session, &m, &admin, &region, may_be_invited).await;
                    (region, Some(m), Cell::Member(seen))
                }
            }
        }));
    }
    while let Some(done) = tasks.join_next().await {
        record(done, admins, cells);
    }
}

/// One finished read; the administrator's side is boxed (a region's member list is large).
enum Cell {
    Admin(Box<Seen<AdminSide>>),
    Member(Seen<MemberSide>),
}

/// Classify a failed read: a disabled region is an observation, anything else a failure.
fn classify<T>(e: AwsError) -> Seen<T> {
    if e.is_region_disabled() {
        Seen::RegionDisabled
    } else {
        Seen::Failed(e)
    }
}

async fn client(session: &Session, account: &str, region: &str) -> Result<Client, Seen<()>> {
    session
        .guardduty(account, region)
        .await
        .map_err(Seen::NoAccess)
}

fn cast<A, B>(s: Seen<A>) -> Seen<B> {
    match s {
        Seen::Read(_) => unreachable!("only failures are cast"),
        Seen::RegionDisabled => Seen::RegionDisabled,
        Seen::NoAccess(e) => Seen::NoAccess(e),
        Seen::Failed(e) => Seen::Failed(e),
    }
}

async fn read_admin(
    session: &Session,
    admin: &str,
    mode: Mode,
    scope: Scope,
    region: &str,
) -> Seen<AdminSide> {
    let mut side = AdminSide::default();
    // The caller is the administrator but not the management account: only the management
    // account may list the delegated administrators, so the administrator's own answers decide.
    let mut delegation_unknown = false;
    if mode == Mode::Organizations {
        // The delegated administrator is the management account's to see.
        let mgmt = crate::aws::ClientFactory::guardduty(session.factory.base(), region);
        match organization::delegated_admins(&mgmt).await {
            Ok(d) => side.delegated = d,
            Err(e) if session.caller == admin && refused(&e) => delegation_unknown = true,
            Err(e) => return classify(e),
        }
        if session.caller != admin {
            match read_detector(&mgmt).await {
                Ok(d) => side.management = Some((session.caller.clone(), d)),
                Err(e) => return classify(e),
            }
        }
    }
    let gd = match client(session, admin, region).await {
        Ok(c) => c,
        Err(s) => return cast(s),
    };
    match read_detector(&gd).await {
        Ok(d) => side.detector = d,
        Err(e) => return classify(e),
    }
    let Some(det) = side.detector.clone() else {
        return Seen::Read(side);
    };
    match list_members(&gd, &det.id).await {
        Ok(m) => side.members = m,
        Err(e) => return classify(e),
    }
    if delegation_unknown {
        // DescribeOrganizationConfiguration answers the delegated administrator only.
        match describe_org_config(&gd, &det.id).await {
            Ok(c) => {
                side.delegated = vec![(admin.to_string(), "ENABLED".to_string())];
                side.org_config = Some(c);
            }
            Err(e) if refused(&e) => {}
            Err(e) => return classify(e),
        }
    }
    let delegated_here = side
        .delegated
        .iter()
        .any(|(a, s)| a == admin && s == "ENABLED");
    if mode == Mode::Organizations && delegated_here {
        if side.org_config.is_none() {
            match describe_org_config(&gd, &det.id).await {
                Ok(c) => side.org_config = Some(c),
                Err(e) => return classify(e),
            }
        }
        if scope.admin_first {
            side.statistics = organization_statistics(&gd).await.ok();
        }
    }
    // The planner needs the features of organization members; the audit wants them for
    // every member (a refusal then only means those members are read from inside).
    let needed = mode == Mode::Organizations && delegated_here;
    if needed || scope.admin_first {
        if let Err(e) = read_member_features(&gd, &det.id, &mut side.members).await {
            if needed {
                return classify(e);
            }
        }
    }
    Seen::Read(side)
}

/// Fill in the administrator's publishing destinations (List, then Describe each).
async fn read_export(session: &Session, admin: &str, region: &str, side: &mut AdminSide) {
    let Some(det) = &side.detector else {
        side.destinations = Some(Ok(vec![]));
        return;
    };
    let read = match session.guardduty(admin, region).await {
        Ok(gd) => list_destinations(&gd, &det.id).await,
        Err(e) => Err(e),
    };
    side.destinations = Some(read);
}

/// Every publishing destination of `detector`, described.
pub async fn list_destinations(
    gd: &Client,
    detector: &str,
) -> Result<Vec<DestinationState>, AwsError> {
    let mut ids = Vec::new();
    let mut pages = gd
        .list_publishing_destinations()
        .detector_id(detector)
        .max_results(50)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListPublishingDestinations"))?;
        ids.extend(
            page.destinations()
                .iter()
                .filter_map(|d| d.destination_id().map(String::from)),
        );
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let d = gd
            .describe_publishing_destination()
            .detector_id(detector)
            .destination_id(&id)
            .send()
            .await
            .map_err(AwsError::from_sdk("DescribePublishingDestination"))?;
        let props = d.destination_properties();
        out.push(DestinationState {
            id,
            destination_type: d
                .destination_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            status: d
                .status()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            bucket_arn: props
                .and_then(|p| p.destination_arn())
                .unwrap_or_default()
                .to_string(),
            kms_key_arn: props
                .and_then(|p| p.kms_key_arn())
                .unwrap_or_default()
                .to_string(),
            failing_since_ms: d.publishing_failure_start_timestamp().filter(|t| *t > 0),
        });
    }
    Ok(out)
}

/// A refusal to answer (not permitted, access denied) rather than a failure.
fn refused(e: &AwsError) -> bool {
    e.is_access_denied() || e.code == "BadRequestException"
}

/// GetOrganizationStatistics of the client's region.
async fn organization_statistics(gd: &Client) -> Result<OrgStatistics, AwsError> {
    let out = gd
        .get_organization_statistics()
        .send()
        .await
        .map_err(AwsError::from_sdk("GetOrganizationStatistics"))?;
    let Some(s) = out
        .organization_details()
        .and_then(|d| d.organization_statistics())
    else {
        return Ok(OrgStatistics::default());
    };
    Ok(OrgStatistics {
        total: s.total_accounts_count().unwrap_or_default(),
        members: s.member_accounts_count().unwrap_or_default(),
        active: s.active_accounts_count().unwrap_or_default(),
        enabled: s.enabled_accounts_count().unwrap_or_default(),
        by_feature: s
            .count_by_feature()
            .iter()
            .filter_map(|f| {
                Some((
                    f.name()?.as_str().to_string(),
                    f.enabled_accounts_count().unwrap_or_default(),
                ))
            })
            .collect(),
    })
}

async fn read_member(
    session: &Session,
    account: &str,
    admin: &str,
    region: &str,
    may_be_invited: bool,
) -> Seen<MemberSide> {
    let gd = match client(session, account, region).await {
        Ok(c) => c,
        Err(s) => return cast(s),
    };
    let mut side = MemberSide::default();
    match read_detector(&gd).await {
        Ok(d) => side.detector = d.map(Box::new),
        Err(e) => return classify(e),
    }
    if let Some(det) = &side.detector {
        match gd
            .get_administrator_account()
            .detector_id(&det.id)
            .send()
            .await
        {
            Ok(out) => {
                side.administrator = out.administrator().and_then(|a| {
                    Some(Box::new(AdminLink {
                        account: a.account_id()?.to_string(),
                        status: a.relationship_status().unwrap_or_default().to_string(),
                    }))
                })
            }
            Err(e) => return classify(AwsError::from_sdk("GetAdministratorAccount")(e)),
        }
    }
    let linked = side
        .administrator
        .as_ref()
        .is_some_and(|l| l.account == admin && l.status == "Enabled");
    if !linked && may_be_invited {
        match list_invitations(&gd).await {
            Ok(i) => side.invitations = i,
            Err(e) => return classify(e),
        }
    }
    if !linked {
        if let Some(det) = &side.detector {
            match gd
                .list_members()
                .detector_id(&det.id)
                .only_associated("false")
                .max_results(1)
                .send()
                .await
            {
                Ok(out) => side.administers_members = !out.members().is_empty(),
                Err(e) => return classify(AwsError::from_sdk("ListMembers")(e)),
            }
        }
    }
    Seen::Read(side)
}

/// The account's detector in the client's region, if any (an account has at most one).
pub async fn read_detector(gd: &Client) -> Result<Option<DetectorState>, AwsError> {
    let ids = gd
        .list_detectors()
        .send()
        .await
        .map_err(AwsError::from_sdk("ListDetectors"))?;
    let Some(id) = ids.detector_ids().first() else {
        return Ok(None);
    };
    let d = gd
        .get_detector()
        .detector_id(id)
        .send()
        .await
        .map_err(AwsError::from_sdk("GetDetector"))?;
    Ok(Some(DetectorState {
        id: id.clone(),
        enabled: d.status().is_some_and(|s| s.as_str() == "ENABLED"),
        frequency: d
            .finding_publishing_frequency()
            .map(|f| f.as_str().to_string()),
        features: feature_map!(d.features()),
    }))
}

async fn list_members(
    gd: &Client,
    detector: &str,
) -> Result<BTreeMap<String, MemberRecord>, AwsError> {
    let mut out = BTreeMap::new();
    let mut pages = gd
        .list_members()
        .detector_id(detector)
        .only_associated("false")
        .max_results(50)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListMembers"))?;
        for m in page.members() {
            if let Some(id) = m.account_id() {
                out.insert(
                    id.to_string(),
                    MemberRecord {
                        status: m.relationship_status().unwrap_or_default().to_string(),
                        email: m.email().unwrap_or_default().to_string(),
                        features: None,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Pending invitations the client's account has received.
pub async fn list_invitations(gd: &Client) -> Result<Vec<PendingInvitation>, AwsError> {
    let mut out = Vec::new();
    let mut pages = gd
        .list_invitations()
        .max_results(50)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListInvitations"))?;
        for i in page.invitations() {
            if let (Some(from), Some(id)) = (i.account_id(), i.invitation_id()) {
                out.push(PendingInvitation {
                    from: from.to_string(),
                    id: id.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Fill in the features of the `Enabled` members' detectors (GetMemberDetectors, in batches of
/// 50). Accounts GuardDuty does not process keep `features: None`.
async fn read_member_features(
    gd: &Client,
    detector: &str,
    members: &mut BTreeMap<String, MemberRecord>,
) -> Result<(), AwsError> {
    let enabled: Vec<String> = members
        .iter()
        .filter(|(_, r)| r.status == "Enabled")
        .map(|(a, _)| a.clone())
        .collect();
    for chunk in enabled.chunks(crate::aws::ACCOUNTS_PER_CALL) {
        let out = gd
            .get_member_detectors()
            .detector_id(detector)
            .set_account_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(AwsError::from_sdk("GetMemberDetectors"))?;
        for c in out.member_data_source_configurations() {
            let Some(record) = c.account_id().and_then(|a| members.get_mut(a)) else {
                continue;
            };
            record.features = Some(feature_map!(c.features()));
        }
    }
    Ok(())
}

async fn describe_org_config(gd: &Client, detector: &str) -> Result<OrgConfigState, AwsError> {
    let mut state = OrgConfigState::default();
    let mut pages = gd
        .describe_organization_configuration()
        .detector_id(detector)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("DescribeOrganizationConfiguration"))?;
        if let Some(a) = page.auto_enable_organization_members() {
            state.auto_enable = a.as_str().to_string();
        }
        for f in page.features() {
            if let Some(name) = f.name() {
                state.features.insert(
                    name.as_str().to_string(),
                    f.auto_enable()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                );
                // Agent management, beside its plan: `RUNTIME_MONITORING.EKS_ADDON_MANAGEMENT`.
                for a in f.additional_configuration() {
                    if let Some(a_name) = a.name() {
                        state.features.insert(
                            format!("{}.{}", name.as_str(), a_name.as_str()),
                            a.auto_enable()
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_default(),
                        );
                    }
                }
            }
        }
    }
    if state.auto_enable.is_empty() {
        state.auto_enable = "NONE".into();
    }
    Ok(state)
}

/// Accounts some administrator record reports as `AccountSuspended` (suspended in
/// Organizations: the state of the account, not of one region).
pub fn suspended_accounts<'a>(
    admins: impl IntoIterator<Item = &'a Seen<AdminSide>>,
) -> BTreeSet<&'a String> {
    admins
        .into_iter()
        .filter_map(Seen::read)
        .flat_map(|a| a.members.iter())
        .filter(|(_, r)| r.status == "AccountSuspended")
        .map(|(a, _)| a)
        .collect()
}

/// The accounts the observation could not reach, for reporting.
pub fn unreachable_accounts(obs: &Observation) -> BTreeSet<String> {
    obs.regions
        .values()
        .flat_map(|r| r.members.iter())
        .filter(|(_, s)| matches!(s, Seen::NoAccess(_)))
        .map(|(a, _)| a.clone())
        .collect()
}
