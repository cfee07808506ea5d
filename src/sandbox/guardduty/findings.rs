//! GuardDuty findings operations: CreateSampleFindings, ListFindings, GetFindings,
//! GetFindingsStatistics, ArchiveFindings, UnarchiveFindings, UpdateFindingsFeedback.
//!
//! Visibility: a detector sees its own account's findings, and an administrator also those of
//! its Enabled, monitored members in the region (`World::visible_accounts`). Only a member
//! (an account with an Enabled administrator in the region) is refused archiving.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use rand::Rng;
use serde_json::{json, Value};

use super::catalog;
use super::criteria::{source, Criteria, FindingView, Scalar, Sort, Source, Usage};
use super::findings_store::{decode_id, encode_id, Listing, Slot, StoredFinding};
use super::matcher::Matcher;
use super::render::{self, Owner};
use super::{epoch, owned_detector, with_next_token, Request};
use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::World;

/// GuardDuty's batch limit on finding ids.
pub const MAX_IDS: usize = 50;

/// The message a member account gets when it tries to archive or unarchive. GuardDuty's API
/// reference says only that member accounts "don't have permission to archive findings"; this
/// follows the wording its error documentation uses for a caller not allowed to call an API.
pub const MEMBER_ARCHIVE_MESSAGE: &str =
    "The request is rejected because the caller is not authorized to call this API. Only the administrator account can archive or unarchive findings; member accounts cannot.";

pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let detector = owned_detector(world, caller, req.detector_id())?;
    let enabled = detector.enabled;
    match req.route.op {
        "CreateSampleFindings" => create_sample_findings(world, caller, req, enabled),
        "ListFindings" => list_findings(world, caller, req),
        "GetFindings" => get_findings(world, caller, req),
        "GetFindingsStatistics" => statistics(world, caller, req),
        "ArchiveFindings" => set_archived(world, caller, req, true),
        "UnarchiveFindings" => set_archived(world, caller, req, false),
        "UpdateFindingsFeedback" => feedback(world, caller, req),
        other => Err(ApiError::bad_request(format!(
            "The sandbox does not implement {other}"
        ))),
    }
}

/// A cell whose findings a caller sees.
#[derive(Debug, Clone)]
pub struct VisibleCell {
    pub account: String,
    pub detector_id: String,
    /// The salt of the cell's finding ids.
    pub salt: u64,
}

/// Cells whose findings `account` sees in `region`: its own and its Enabled, monitored
/// members', each with findings of its current detector (no detector, no findings).
pub fn visible_cells(world: &World, account: &str, region: &str) -> Vec<VisibleCell> {
    world
        .visible_accounts(account, region)
        .into_iter()
        .filter_map(|a| {
            let cell = world.cell(&a, region)?;
            let detector_id = cell.detector.as_ref()?.id.clone();
            cell.findings.is_current(&detector_id).then(|| VisibleCell {
                salt: cell.findings.salt(),
                account: a,
                detector_id,
            })
        })
        .collect()
}

/// Append findings to (account, region), which must have a detector, and let ARCHIVE
/// filters suppress them, as GuardDuty applies suppression rules to newly generated
/// findings. Returns how many were added.
pub fn add_findings(
    world: &mut World,
    account: &str,
    region: &str,
    findings: Vec<StoredFinding>,
) -> usize {
    let Some(detector_id) = world.detector(account, region).map(|d| d.id.clone()) else {
        return 0;
    };
    let n = findings.len();
    let store = &mut world.cell_mut(account, region).findings;
    store.bind(account, region, &detector_id);
    let from = store.len() as u32;
    store.reserve(n);
    for f in findings {
        store.push(f);
    }
    super::filters::suppress(world, account, region, from);
    n
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn create_sample_findings(
    world: &mut World,
    caller: &Caller,
    req: &Request,
    enabled: bool,
) -> Result<Value, ApiError> {
    let types: Vec<u16> = match req.body.get("findingTypes") {
        None | Some(Value::Null) => (0..catalog::TYPES.len() as u16).collect(),
        Some(_) => {
            let names = req.string_list("findingTypes")?;
            if names.is_empty() {
                (0..catalog::TYPES.len() as u16).collect()
            } else {
                names
                    .iter()
                    .map(|n| {
                        catalog::index_of(n).ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "The request is rejected because an invalid or out-of-range value is specified as an input parameter: unknown finding type {n:?}."
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
        }
    };
    // A suspended detector produces no findings, samples included.
    if !enabled {
        return Ok(json!({}));
    }
    let now = now_ms();
    let findings: Vec<StoredFinding> = types
        .into_iter()
        .map(|t| {
            let mut f = StoredFinding::new(
                t,
                catalog::TYPES[t as usize].severity_tenths,
                now,
                world.rng.random(),
            );
            f.set_sample(true);
            f
        })
        .collect();
    add_findings(world, &caller.account, &caller.region, findings);
    Ok(json!({}))
}

/// Call `each` with every visible finding that `criteria` admits, cell by cell (in `cells`
/// order), oldest first: its cell's position in `cells`, its index there, the record and its
/// owner. Nothing is collected: a statistics query over a million findings holds no list of them.
fn scan<'w>(
    world: &'w World,
    region: &'w str,
    cells: &'w [VisibleCell],
    criteria: &Criteria,
    mut each: impl FnMut(usize, u32, &'w StoredFinding, Owner<'w>),
) {
    let matcher = Matcher::new(criteria);
    for (slot, vc) in cells.iter().enumerate() {
        let owner = Owner {
            account: &vc.account,
            region,
            detector_id: &vc.detector_id,
        };
        // Criteria on the account (such as the exclusions of a query for further groups)
        // settle a whole cell at once.
        if !matcher.admits_cell(&owner) {
            continue;
        }
        let Some(cell) = world.cell(&vc.account, region) else {
            continue;
        };
        for (i, f) in cell.findings.all().iter().enumerate() {
            if matcher.admits(f, owner, vc.salt, i as u32) {
                each(slot, i as u32, f, owner);
            }
        }
    }
}

/// Every visible finding matching `criteria`, in `sort` order (or account, then age order);
/// of a sort on a number, only the first `page` are put in order yet.
fn matching(
    world: &World,
    caller: &Caller,
    criteria: &Criteria,
    sort: Option<&Sort>,
    page: usize,
) -> Listing {
    let region = &caller.region;
    let cells = visible_cells(world, &caller.account, region);
    let accounts = || cells.iter().map(|c| c.account.clone()).collect();
    let salts = || cells.iter().map(|c| c.salt).collect();
    let in_order = |slots| Listing::in_order(accounts(), salts(), slots);
    let Some(sort) = sort else {
        let mut found = Vec::new();
        scan(world, region, &cells, criteria, |slot, i, _, _| {
            found.push((0.0, (slot as u16, i)));
        });
        return in_order(found);
    };
    if let Source::Number(field) = source(&sort.attribute) {
        let mut keyed = Vec::new();
        scan(world, region, &cells, criteria, |slot, i, f, _| {
            keyed.push((field.read(f), (slot as u16, i)));
        });
        return Listing::by_number(accounts(), salts(), keyed, sort.descending, page);
    }
    let mut keyed: Vec<(Option<Scalar>, Slot)> = Vec::new();
    scan(world, region, &cells, criteria, |slot, i, f, owner| {
        let key = FindingView::new(f, owner, cells[slot].salt, i).sort_key(&sort.attribute);
        keyed.push((key, (slot as u16, i)));
    });
    // Stable: equal keys keep account, then creation order.
    keyed.sort_by(|a, b| sort.compare(&a.0, &b.0));
    in_order(keyed.into_iter().map(|(_, s)| (0.0, s)).collect())
}

const LISTING_TOKEN_PREFIX: &str = "gdfl";

fn listing_token(number: u64, offset: usize) -> String {
    format!("{LISTING_TOKEN_PREFIX}{number:x}.{offset:x}")
}

fn parse_listing_token(token: &str) -> Option<(u64, usize)> {
    let (n, off) = token.strip_prefix(LISTING_TOKEN_PREFIX)?.split_once('.')?;
    Some((
        u64::from_str_radix(n, 16).ok()?,
        usize::from_str_radix(off, 16).ok()?,
    ))
}

/// The ids of the listing's entries in `range` (in order).
fn ids_of(listing: &Listing, range: std::ops::Range<usize>) -> Vec<String> {
    listing
        .slots(range)
        .map(|(a, i)| encode_id(listing.salts[a as usize], i))
        .collect()
}

fn list_findings(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let criteria = Criteria::parse(req.body.get("findingCriteria"), Usage::Query)?;
    let sort = Sort::parse(req.body.get("sortCriteria"))?;
    let max = req.max_results(50, 50)?;
    let region = caller.region.clone();

    // Later pages are slices of the listing the first page computed: a whole listing costs
    // one search, not one per page.
    if let Some(token) = req.next_token() {
        let (number, offset) =
            parse_listing_token(token).ok_or_else(|| ApiError::invalid_param("nextToken"))?;
        let store = &mut world.cell_mut(&caller.account, &region).findings;
        let listing = store
            .listing_mut(number)
            .filter(|l| offset <= l.len())
            .ok_or_else(|| ApiError::invalid_param("nextToken"))?;
        let end = (offset + max).min(listing.len());
        listing.order_through(end);
        let ids = ids_of(listing, offset..end);
        let next = if end < listing.len() {
            Some(listing_token(number, end))
        } else {
            store.close_listing(number);
            None
        };
        return Ok(page_json(ids, next));
    }

    let listing = matching(world, caller, &criteria, sort.as_ref(), max);
    let end = max.min(listing.len());
    let ids = ids_of(&listing, 0..end);
    if end == listing.len() {
        return Ok(page_json(ids, None));
    }
    let number = world
        .cell_mut(&caller.account, &region)
        .findings
        .open_listing(listing);
    Ok(page_json(ids, Some(listing_token(number, end))))
}

fn page_json(ids: Vec<String>, next: Option<String>) -> Value {
    with_next_token(json!({ "findingIds": ids }), next)
}

/// The caller's visible cells, indexed by the salt their finding ids carry, so that resolving
/// an id costs one hash lookup however many members the administrator has.
struct Visible {
    cells: Vec<VisibleCell>,
    by_salt: HashMap<u64, usize>,
}

impl Visible {
    fn of(world: &World, caller: &Caller) -> Visible {
        let cells = visible_cells(world, &caller.account, &caller.region);
        let by_salt = cells
            .iter()
            .enumerate()
            .map(|(slot, c)| (c.salt, slot))
            .collect();
        Visible { cells, by_salt }
    }

    /// Resolve an id to (slot in `cells`, index in that account's store).
    fn locate(&self, world: &World, region: &str, id: &str) -> Option<(usize, u32)> {
        let (salt, _) = decode_id(id)?;
        let slot = *self.by_salt.get(&salt)?;
        let store = &world.cell(&self.cells[slot].account, region)?.findings;
        store.index_of(id).map(|i| (slot, i))
    }
}

fn finding_ids(req: &Request) -> Result<Vec<String>, ApiError> {
    let ids = req.string_list("findingIds")?;
    if ids.len() > MAX_IDS {
        return Err(ApiError::bad_request(format!(
            "The request is rejected because the number of finding ids, {}, exceeds the maximum of {MAX_IDS}.",
            ids.len()
        )));
    }
    Ok(ids)
}

fn get_findings(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let ids = finding_ids(req)?;
    let sort = Sort::parse(req.body.get("sortCriteria"))?;
    let visible = Visible::of(world, caller);
    let mut out: Vec<(Option<Scalar>, Value)> = Vec::new();
    for id in &ids {
        // Unknown ids, and ids of findings the caller cannot see, are skipped.
        let Some((slot, index)) = visible.locate(world, &caller.region, id) else {
            continue;
        };
        let VisibleCell {
            account,
            detector_id,
            ..
        } = &visible.cells[slot];
        let store = &world
            .cell(account, &caller.region)
            .expect("located above")
            .findings;
        let f = store.get(index).expect("located above");
        let owner = Owner {
            account,
            region: &caller.region,
            detector_id,
        };
        let view = FindingView::new(f, owner, store.salt(), index);
        let key = sort.as_ref().and_then(|s| view.sort_key(&s.attribute));
        out.push((key, view.json().clone()));
    }
    if let Some(sort) = &sort {
        out.sort_by(|a, b| sort.compare(&a.0, &b.0));
    }
    Ok(json!({ "findings": out.into_iter().map(|(_, v)| v).collect::<Vec<_>>() }))
}

fn set_archived(
    world: &mut World,
    caller: &Caller,
    req: &Request,
    archived: bool,
) -> Result<Value, ApiError> {
    if world
        .administrator_of(&caller.account, &caller.region)
        .is_some()
    {
        return Err(ApiError::bad_request(MEMBER_ARCHIVE_MESSAGE));
    }
    let ids = finding_ids(req)?;
    update_visible(world, caller, &ids, |f| f.set_archived(archived));
    Ok(json!({}))
}

/// Apply `change` to every id the caller can see.
fn update_visible(
    world: &mut World,
    caller: &Caller,
    ids: &[String],
    change: impl Fn(&mut StoredFinding),
) {
    let visible = Visible::of(world, caller);
    for id in ids {
        if let Some((slot, index)) = visible.locate(world, &caller.region, id) {
            let account = &visible.cells[slot].account;
            if let Some(f) = world
                .cell_mut(account, &caller.region)
                .findings
                .get_mut(index)
            {
                change(f);
            }
        }
    }
}

fn feedback(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let ids = finding_ids(req)?;
    let useful = match req.body.get("feedback").and_then(Value::as_str) {
        Some("USEFUL") => true,
        Some("NOT_USEFUL") => false,
        _ => return Err(ApiError::invalid_param("feedback")),
    };
    if let Some(c) = req.body.get("comments") {
        if !c.is_string() {
            return Err(ApiError::invalid_param("comments"));
        }
    }
    update_visible(world, caller, &ids, |f| f.set_feedback(useful));
    Ok(json!({}))
}

/// The group of GetFindingsStatistics a finding falls in, cheap to compute per finding; its
/// text key and members are built once per group at the end.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    /// The position of the finding's cell in the visible cells.
    Account(usize),
    FindingType(u16),
    /// Severity in tenths.
    Severity(u16),
    /// The UTC day of `updatedAt`, in epoch seconds.
    Date(i64),
    /// The cell's position and the resource's id.
    Resource(usize, String),
}

/// Hashes group keys. They are small numbers (and, for RESOURCE, an id) the sandbox makes
/// itself, not text a caller could aim at collisions, so one SplitMix64 step per word is
/// enough, and much cheaper per finding than the default SipHash.
#[derive(Default)]
struct KeyHasher(u64);

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        self.0 = render::mix64(self.0 ^ word);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.mix(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }
    fn write_i64(&mut self, n: i64) {
        self.mix(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }
    fn write_isize(&mut self, n: isize) {
        self.mix(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Tallies = HashMap<GroupKey, Tally, BuildHasherDefault<KeyHasher>>;

/// What a group has counted so far.
struct Tally {
    total: u64,
    last_ms: i64,
    max_severity: f64,
    /// The resource type of the group's first finding (RESOURCE groups).
    resource_type: &'static str,
}

const GROUP_BYS: [&str; 5] = ["ACCOUNT", "DATE", "FINDING_TYPE", "RESOURCE", "SEVERITY"];

/// The matching findings' groups of `group_by` (one of [`GROUP_BYS`]), counted in one pass.
fn tally(
    world: &World,
    region: &str,
    cells: &[VisibleCell],
    criteria: &Criteria,
    group_by: &str,
) -> Tallies {
    let mut tallies = Tallies::default();
    scan(world, region, cells, criteria, |slot, _, f, owner| {
        let mut resource_type = "";
        let key = match group_by {
            "ACCOUNT" => GroupKey::Account(slot),
            "FINDING_TYPE" => GroupKey::FindingType(f.type_idx),
            "DATE" => GroupKey::Date(f.updated_ms.div_euclid(86_400_000) * 86_400),
            "RESOURCE" => {
                let (rtype, rid) = render::resource_id(f, &owner);
                resource_type = rtype;
                GroupKey::Resource(slot, rid)
            }
            _ => GroupKey::Severity(f.severity_tenths),
        };
        let t = tallies.entry(key).or_insert(Tally {
            total: 0,
            last_ms: i64::MIN,
            max_severity: 0.0,
            resource_type,
        });
        t.total += 1;
        t.last_ms = t.last_ms.max(f.updated_ms);
        t.max_severity = t.max_severity.max(f.severity());
    });
    tallies
}

fn statistics(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    let stat_types = match req.body.get("findingStatisticTypes") {
        None | Some(Value::Null) => None,
        Some(_) => Some(req.string_list("findingStatisticTypes")?),
    };
    let group_by = req.body.get("groupBy").and_then(Value::as_str);
    match (&stat_types, group_by) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "The request is rejected because findingStatisticTypes and groupBy cannot both be specified.",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "The request is rejected because one of findingStatisticTypes or groupBy must be specified.",
            ))
        }
        _ => {}
    }
    if let Some(types) = &stat_types {
        if types.is_empty() || types.iter().any(|t| t != "COUNT_BY_SEVERITY") {
            return Err(ApiError::invalid_param("findingStatisticTypes"));
        }
    }
    let criteria = Criteria::parse(req.body.get("findingCriteria"), Usage::Query)?;
    let region = &caller.region;
    let cells = visible_cells(world, &caller.account, region);
    let Some(group_by) = group_by else {
        let counts: BTreeMap<String, u64> = tally(world, region, &cells, &criteria, "SEVERITY")
            .into_iter()
            .map(|(key, t)| {
                let GroupKey::Severity(tenths) = key else {
                    unreachable!("tallied by severity")
                };
                (format!("{:.1}", f64::from(tenths) / 10.0), t.total)
            })
            .collect();
        return Ok(json!({ "findingStatistics": { "countBySeverity": counts } }));
    };
    let descending = match req.body.get("orderBy").and_then(Value::as_str) {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(_) => return Err(ApiError::invalid_param("orderBy")),
    };
    let max = req.max_results(25, 100)?;
    // The model's GroupByType enum, checked before any finding is read.
    if !GROUP_BYS.contains(&group_by) {
        return Err(ApiError::invalid_param("groupBy"));
    }
    let tallies = tally(world, region, &cells, &criteria, group_by);

    // Each group's text key (the tie-break of orderBy) and its own members.
    let mut ordered: Vec<(String, Tally, Value)> = tallies
        .into_iter()
        .map(|(key, t)| {
            let (text, fields) = match key {
                GroupKey::Account(slot) => {
                    let account = &cells[slot].account;
                    (account.clone(), json!({ "accountId": account }))
                }
                GroupKey::FindingType(i) => {
                    let name = catalog::TYPES[i as usize].name;
                    (name.to_string(), json!({ "findingType": name }))
                }
                GroupKey::Severity(tenths) => {
                    let severity = f64::from(tenths) / 10.0;
                    (format!("{severity:05.1}"), json!({ "severity": severity }))
                }
                GroupKey::Date(day) => (format!("{day:012}"), json!({ "date": day as f64 })),
                GroupKey::Resource(slot, rid) => {
                    let account = &cells[slot].account;
                    (
                        format!("{account}/{rid}"),
                        json!({ "accountId": account, "resourceId": rid, "resourceType": t.resource_type }),
                    )
                }
            };
            (text, t, fields)
        })
        .collect();
    // orderBy orders by count; ties go by group key so that the cut at maxResults is stable.
    ordered.sort_by(|a, b| {
        let by_count = a.1.total.cmp(&b.1.total);
        (if descending {
            by_count.reverse()
        } else {
            by_count
        })
        .then_with(|| a.0.cmp(&b.0))
    });
    // GetFindingsStatistics has no nextToken input (the model documents its output nextToken
    // as "currently not supported"), so there is no later page to offer: the answer is the
    // first maxResults groups in orderBy order, and no token.
    ordered.truncate(max);
    let rows: Vec<Value> = ordered
        .into_iter()
        .map(|(_, t, mut row)| {
            row["totalFindings"] = t.total.into();
            if let Some(at) = chrono::DateTime::from_timestamp_millis(t.last_ms) {
                row["lastGeneratedAt"] = epoch(&at);
            }
            if group_by == "DATE" {
                row["severity"] = t.max_severity.into();
            }
            row
        })
        .collect();
    let member = match group_by {
        "ACCOUNT" => "groupedByAccount",
        "DATE" => "groupedByDate",
        "FINDING_TYPE" => "groupedByFindingType",
        "RESOURCE" => "groupedByResource",
        _ => "groupedBySeverity",
    };
    Ok(json!({ "findingStatistics": { member: rows } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_tokens_round_trip() {
        assert_eq!(parse_listing_token(&listing_token(7, 150)), Some((7, 150)));
        assert_eq!(parse_listing_token("gdsbx12"), None);
        assert_eq!(parse_listing_token("gdflzz.1"), None);
    }
}
