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
use futures::StreamExt;

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

/// Resolve the member accounts of `source` (Organizations ListAccounts when not listed),
/// handing each page of active members to `listed` as it comes (a list the user gave is one
/// page). Returns them all, sorted.
async fn members(
    session: &Session,
    source: &AccountSource,
    administrator: &str,
    mut listed: impl FnMut(&[MemberAccount]),
) -> Result<Members, AwsError> {
    if let AccountSource::Listed(l) = source {
        listed(l);
        return Ok(Members {
            members: l.clone(),
            inactive: vec![],
        });
    }
    let mut out = Members::default();
    organization::list_accounts_paged(session, |page| {
        let first = out.members.len();
        for a in page {
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
        listed(&out.members[first..]);
    })
    .await?;
    out.members.sort();
    out.inactive.sort();
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

/// Read every cell of `desired`'s regions, `concurrency` cells at a time, with the member
/// accounts of `source`: the administrator's side first, while the accounts are being listed
/// (Organizations ListAccounts: 20 a page, one page after another, ~250 pages at 5,000
/// accounts), then each member's cells as soon as its page is listed. Stops starting new reads
/// once `stop` fires (the cells not read are left out, and the caller sees `stop` fired).
/// Returns the members listed with the observation, or the listing's error.
pub async fn observe(
    session: Arc<Session>,
    desired: &Desired,
    source: &AccountSource,
    scope: Scope,
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Result<(Members, Observation), AwsError> {
    let read = Reader {
        session: session.clone(),
        opt_in: Arc::new(OptIn::new()),
        admin: desired.administrator.as_str().into(),
        mode: desired.mode,
        scope,
    };
    let (pages_in, pages) = futures::channel::mpsc::unbounded::<Vec<String>>();
    let listing = async move {
        let found = members(&session, source, &desired.administrator, |page| {
            let ids = page.iter().map(|m| m.id.clone()).collect();
            // The reader may have stopped, or need no members: then its end is gone.
            let _ = pages_in.unbounded_send(ids);
        })
        .await;
        // `pages_in` goes here: the members' phase ends with the last page.
        found
    };
    let reading = async {
        // The administrator's side first: a region it cannot use is skipped whole, without
        // reading every member there (the planner could do nothing with them).
        reporter.start("observe", desired.regions.len());
        let mut admins: BTreeMap<String, Seen<AdminSide>> = BTreeMap::new();
        let todo = futures::stream::iter(desired.regions.iter().map(|r| (r.clone(), None)));
        read.cells(
            todo,
            &BTreeMap::new(),
            concurrency,
            stop,
            |region, _, cell| {
                reporter.advance(1);
                if let Cell::Admin(seen) = cell {
                    admins.insert(region, *seen);
                }
            },
        )
        .await;
        reporter.finish();
        let mut cells: BTreeMap<String, BTreeMap<String, Seen<MemberSide>>> = BTreeMap::new();
        if !scope.members {
            return (admins, cells);
        }

        // Then the members, as they are listed; the bar grows with the pages. Every page
        // listed by then is taken at once, its cells region by region: a cell waits for its
        // account's first calls (AssumeRole, ListRegions), so the reads in flight had better
        // belong to many accounts than to the 20 of one page. The listing runs ahead of the
        // reads: past the first pages, each batch holds hundreds of accounts.
        reporter.start("members", 0);
        let suspended = if scope.admin_first {
            suspended_accounts(admins.values())
        } else {
            BTreeSet::new()
        };
        let todo = pages.ready_chunks(PAGES_AT_ONCE).flat_map(|pages| {
            let todo = member_cells(desired, scope, &admins, &suspended, &pages.concat());
            reporter.grow(todo.len());
            futures::stream::iter(todo)
        });
        read.cells(todo, &admins, concurrency, stop, |region, member, cell| {
            reporter.advance(1);
            if let (Some(m), Cell::Member(seen)) = (member, cell) {
                cells.entry(region).or_default().insert(m, seen);
            }
        })
        .await;
        reporter.finish();
        (admins, cells)
    };
    let (found, (admins, cells)) = tokio::join!(listing, reading);
    Ok((found?, assemble(admins, cells)))
}

/// The most pages of members read as one batch: 5,000 accounts, the most GuardDuty allows.
const PAGES_AT_ONCE: usize = 250;

/// The member cells of `page` to read from inside: each member in every region the
/// administrator could be read in (in every region with `every_region`), but, with
/// `admin_first`, none the administrator's record answers.
fn member_cells(
    desired: &Desired,
    scope: Scope,
    admins: &BTreeMap<String, Seen<AdminSide>>,
    suspended: &BTreeSet<&String>,
    page: &[String],
) -> Vec<(String, Option<String>)> {
    desired
        .regions
        .iter()
        .filter(|r| scope.every_region || matches!(admins.get(*r), Some(Seen::Read(_))))
        .flat_map(|r| page.iter().map(move |m| (r, m)))
        .filter(|(r, m)| {
            // An account GuardDuty reports suspended in one region is suspended in all of them.
            let answered = scope.admin_first
                && (suspended.contains(m)
                    || admins
                        .get(*r)
                        .and_then(Seen::read)
                        .and_then(|a| a.members.get(*m))
                        .is_some_and(MemberRecord::answers));
            !answered
        })
        .map(|(r, m)| (r.clone(), Some(m.clone())))
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

/// What every cell's read shares; each read holds a copy (a spawned task owns its data).
#[derive(Clone)]
struct Reader {
    session: Arc<Session>,
    /// The regions each account has not enabled, learned once per account.
    opt_in: Arc<OptIn>,
    admin: Arc<str>,
    mode: Mode,
    scope: Scope,
}

impl Reader {
    /// Read each of `todo` (region, member or None for the administrator) as it comes, at
    /// most `concurrency` at once, handing each cell to `record` as it is read. Stops
    /// starting reads once `stop` fires.
    async fn cells(
        &self,
        todo: impl futures::Stream<Item = (String, Option<String>)>,
        admins: &BTreeMap<String, Seen<AdminSide>>,
        concurrency: usize,
        stop: &Stop,
        mut record: impl FnMut(String, Option<String>, Cell),
    ) {
        let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        let mut todo = std::pin::pin!(todo);
        loop {
            // A finished task keeps its whole future's memory until joined: join as we go,
            // so the memory of a run is that of the cells in flight.
            while let Some(done) = tasks.try_join_next() {
                let (region, member, cell) = done.expect("observe task panicked");
                record(region, member, cell);
            }
            // Biased, stop first: once stopped, no new read starts.
            let next = tokio::select! {
                biased;
                _ = stop.stopped() => break,
                next = todo.next() => next,
            };
            let Some((region, member)) = next else { break };
            // Owned permit moved into the task: at most `concurrency` cells are read at once.
            let permit = tokio::select! {
                biased;
                _ = stop.stopped() => break,
                p = sem.clone().acquire_owned() => p.expect("semaphore open"),
            };
            // An invitation from our administrator exists only where it has a member record:
            // where its list was read and holds none, there is nothing to look for.
            let may_be_invited = match (&member, admins.get(&region)) {
                (Some(m), Some(Seen::Read(a))) => a.members.contains_key(m),
                _ => true,
            };
            let account = member.clone().unwrap_or_else(|| self.admin.to_string());
            let read = self.clone();
            tasks.spawn(crate::aws::session::acting_as(account, async move {
                let _permit = permit;
                read.cell(region, member, may_be_invited).await
            }));
        }
        while let Some(done) = tasks.join_next().await {
            let (region, member, cell) = done.expect("observe task panicked");
            record(region, member, cell);
        }
    }

    async fn cell(
        &self,
        region: String,
        member: Option<String>,
        may_be_invited: bool,
    ) -> (String, Option<String>, Cell) {
        let (session, admin) = (&*self.session, &*self.admin);
        let account = member.as_deref().unwrap_or(admin);
        // Learned once per account: no GuardDuty call goes to a region it cannot use. Boxed:
        // inline, the ListRegions call's future makes this one too deep for rustc to lay out.
        let disabled = Box::pin(self.opt_in.disabled(session, account, &region)).await;
        match member {
            None if disabled => (region, None, Cell::Admin(Box::new(Seen::RegionDisabled))),
            None => {
                let mut seen = read_admin(session, admin, self.mode, self.scope, &region).await;
                if let (true, Seen::Read(side)) = (self.scope.destinations, &mut seen) {
                    read_export(session, admin, &region, side).await;
                }
                (region, None, Cell::Admin(Box::new(seen)))
            }
            Some(m) if disabled => (region, Some(m), Cell::Member(Seen::RegionDisabled)),
            Some(m) => {
                let seen = read_member(session, &m, admin, &region, may_be_invited).await;
                (region, Some(m), Cell::Member(seen))
            }
        }
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
