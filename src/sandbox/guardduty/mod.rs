//! GuardDuty (restJson1): routes, and the rules shared by every operation (detector ownership,
//! pagination, time formats). One submodule per group of operations.

pub mod availability;
pub mod catalog;
pub mod coverage;
pub mod criteria;
pub mod destinations;
pub mod detectors;
pub mod filters;
pub mod findings;
pub mod findings_store;
pub mod free_trial;
pub mod invitations;
pub mod matcher;
pub mod member_detectors;
pub mod members;
pub mod organization;
pub mod render;
pub mod seed;
pub mod seed_runtime;
pub mod usage;

use axum::http::Method;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::auth::Caller;
use super::error::ApiError;
use super::state::{Detector, World};

/// A matched GuardDuty route: the operation and its path labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub op: &'static str,
    pub detector_id: Option<String>,
    pub filter_name: Option<String>,
    /// The `{destinationId}` label of the publishing-destination routes.
    pub destination_id: Option<String>,
}

impl Route {
    /// Match a method and path against GuardDuty's REST routes (from the service model).
    pub fn parse(method: &Method, path: &str) -> Option<Route> {
        let segs: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .map(percent_decode)
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let m = method.as_str();
        if let Some((op, detector, destination)) = destinations::route(m, &segs) {
            return Some(Route {
                op,
                detector_id: Some(detector.to_string()),
                filter_name: None,
                destination_id: destination.map(String::from),
            });
        }
        let (op, detector, filter): (&'static str, Option<&str>, Option<&str>) =
            match (m, segs.as_slice()) {
                ("GET", ["detector"]) => ("ListDetectors", None, None),
                ("POST", ["detector"]) => ("CreateDetector", None, None),
                ("GET", ["detector", d]) => ("GetDetector", Some(d), None),
                ("POST", ["detector", d]) => ("UpdateDetector", Some(d), None),
                ("DELETE", ["detector", d]) => ("DeleteDetector", Some(d), None),
                ("POST", ["detector", d, "member"]) => ("CreateMembers", Some(d), None),
                ("GET", ["detector", d, "member"]) => ("ListMembers", Some(d), None),
                ("POST", ["detector", d, "member", "get"]) => ("GetMembers", Some(d), None),
                ("POST", ["detector", d, "member", "invite"]) => ("InviteMembers", Some(d), None),
                ("POST", ["detector", d, "member", "disassociate"]) => {
                    ("DisassociateMembers", Some(d), None)
                }
                ("POST", ["detector", d, "member", "delete"]) => ("DeleteMembers", Some(d), None),
                ("POST", ["detector", d, "member", "start"]) => {
                    ("StartMonitoringMembers", Some(d), None)
                }
                ("POST", ["detector", d, "member", "stop"]) => {
                    ("StopMonitoringMembers", Some(d), None)
                }
                ("POST", ["detector", d, "member", "detector", "get"]) => {
                    ("GetMemberDetectors", Some(d), None)
                }
                ("POST", ["detector", d, "member", "detector", "update"]) => {
                    ("UpdateMemberDetectors", Some(d), None)
                }
                ("GET", ["invitation"]) => ("ListInvitations", None, None),
                ("GET", ["invitation", "count"]) => ("GetInvitationsCount", None, None),
                ("POST", ["invitation", "decline"]) => ("DeclineInvitations", None, None),
                ("POST", ["invitation", "delete"]) => ("DeleteInvitations", None, None),
                ("POST", ["detector", d, "administrator"]) => {
                    ("AcceptAdministratorInvitation", Some(d), None)
                }
                ("GET", ["detector", d, "administrator"]) => {
                    ("GetAdministratorAccount", Some(d), None)
                }
                ("POST", ["detector", d, "administrator", "disassociate"]) => {
                    ("DisassociateFromAdministratorAccount", Some(d), None)
                }
                ("POST", ["detector", d, "master"]) => ("AcceptInvitation", Some(d), None),
                ("GET", ["detector", d, "master"]) => ("GetMasterAccount", Some(d), None),
                ("POST", ["detector", d, "master", "disassociate"]) => {
                    ("DisassociateFromMasterAccount", Some(d), None)
                }
                ("POST", ["admin", "enable"]) => ("EnableOrganizationAdminAccount", None, None),
                ("POST", ["admin", "disable"]) => ("DisableOrganizationAdminAccount", None, None),
                ("GET", ["admin"]) => ("ListOrganizationAdminAccounts", None, None),
                ("GET", ["organization", "statistics"]) => {
                    ("GetOrganizationStatistics", None, None)
                }
                ("GET", ["detector", d, "admin"]) => {
                    ("DescribeOrganizationConfiguration", Some(d), None)
                }
                ("POST", ["detector", d, "admin"]) => {
                    ("UpdateOrganizationConfiguration", Some(d), None)
                }
                ("POST", ["detector", d, "findings", "create"]) => {
                    ("CreateSampleFindings", Some(d), None)
                }
                ("POST", ["detector", d, "findings"]) => ("ListFindings", Some(d), None),
                ("POST", ["detector", d, "findings", "get"]) => ("GetFindings", Some(d), None),
                ("POST", ["detector", d, "findings", "statistics"]) => {
                    ("GetFindingsStatistics", Some(d), None)
                }
                ("POST", ["detector", d, "findings", "archive"]) => {
                    ("ArchiveFindings", Some(d), None)
                }
                ("POST", ["detector", d, "findings", "unarchive"]) => {
                    ("UnarchiveFindings", Some(d), None)
                }
                ("POST", ["detector", d, "findings", "feedback"]) => {
                    ("UpdateFindingsFeedback", Some(d), None)
                }
                ("POST", ["detector", d, "coverage"]) => ("ListCoverage", Some(d), None),
                ("POST", ["detector", d, "coverage", "statistics"]) => {
                    ("GetCoverageStatistics", Some(d), None)
                }
                ("POST", ["detector", d, "usage", "statistics"]) => {
                    ("GetUsageStatistics", Some(d), None)
                }
                ("POST", ["detector", d, "freeTrial", "daysRemaining"]) => {
                    ("GetRemainingFreeTrialDays", Some(d), None)
                }
                ("POST", ["detector", d, "filter"]) => ("CreateFilter", Some(d), None),
                ("GET", ["detector", d, "filter"]) => ("ListFilters", Some(d), None),
                ("GET", ["detector", d, "filter", f]) => ("GetFilter", Some(d), Some(f)),
                ("POST", ["detector", d, "filter", f]) => ("UpdateFilter", Some(d), Some(f)),
                ("DELETE", ["detector", d, "filter", f]) => ("DeleteFilter", Some(d), Some(f)),
                _ => return None,
            };
        Some(Route {
            op,
            detector_id: detector.map(String::from),
            filter_name: filter.map(String::from),
            destination_id: None,
        })
    }
}

fn percent_decode(s: &str) -> String {
    // Path labels are percent-encoded by the SDKs; form_urlencoded decodes %XX (and '+', which
    // never appears in a GuardDuty label).
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// One GuardDuty request.
#[derive(Debug)]
pub struct Request {
    pub route: Route,
    /// Query string parameters.
    pub query: Vec<(String, String)>,
    /// The JSON body (`{}` when there was none).
    pub body: Value,
}

impl Request {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `{detectorId}` path label (every route that has one has it).
    pub fn detector_id(&self) -> &str {
        self.route.detector_id.as_deref().unwrap_or_default()
    }

    /// A string list body member, required.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        match self.body.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| ApiError::invalid_param(name))
                })
                .collect(),
            _ => Err(ApiError::invalid_param(name)),
        }
    }

    /// `maxResults` from the query string or the body, checked against `1..=limit`.
    pub fn max_results(&self, default: usize, limit: usize) -> Result<usize, ApiError> {
        let raw = match self.query("maxResults") {
            Some(v) => Some(
                v.parse::<i64>()
                    .map_err(|_| ApiError::invalid_param("maxResults"))?,
            ),
            None => self.body.get("maxResults").and_then(Value::as_i64),
        };
        match raw {
            None => Ok(default),
            Some(n) if n >= 1 && n as usize <= limit => Ok(n as usize),
            Some(_) => Err(ApiError::invalid_param("maxResults")),
        }
    }

    /// `nextToken` from the query string or the body.
    pub fn next_token(&self) -> Option<&str> {
        self.query("nextToken")
            .or_else(|| self.body.get("nextToken").and_then(Value::as_str))
            .filter(|t| !t.is_empty())
    }

    /// The `tags` of a create call (detector, filter, publishing destination), checked as the
    /// model's TagMap (keys 1 to 128 characters, values up to 256) and AWS's limit of 50 tags
    /// on a resource.
    pub fn tags(&self) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
        match self.body.get("tags") {
            None | Some(Value::Null) => Ok(Default::default()),
            Some(Value::Object(m)) if m.len() <= MAX_TAGS => m
                .iter()
                .map(|(k, v)| {
                    let v = v.as_str().ok_or_else(|| ApiError::invalid_param("tags"))?;
                    if k.is_empty() || k.len() > 128 || v.len() > 256 {
                        return Err(ApiError::invalid_param("tags"));
                    }
                    Ok((k.clone(), v.to_string()))
                })
                .collect(),
            Some(_) => Err(ApiError::invalid_param("tags")),
        }
    }
}

/// Most tags a GuardDuty resource takes.
const MAX_TAGS: usize = 50;

/// Dispatch one GuardDuty call, with the features not offered in the region left out, and
/// the free trials the call started recorded.
pub fn handle(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    availability::check(world, caller, req)?;
    let out = dispatch(world, caller, req)?;
    free_trial::record_starts(world, caller, req);
    Ok(availability::hide(world, &caller.region, req.route.op, out))
}

fn dispatch(world: &mut World, caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    match req.route.op {
        "ListDetectors" | "CreateDetector" | "GetDetector" | "UpdateDetector"
        | "DeleteDetector" => detectors::handle(world, caller, req),
        "CreateMembers"
        | "ListMembers"
        | "GetMembers"
        | "InviteMembers"
        | "DisassociateMembers"
        | "DeleteMembers"
        | "StartMonitoringMembers"
        | "StopMonitoringMembers" => members::handle(world, caller, req),
        "GetMemberDetectors" | "UpdateMemberDetectors" => {
            member_detectors::handle(world, caller, req)
        }
        "ListInvitations"
        | "GetInvitationsCount"
        | "DeclineInvitations"
        | "DeleteInvitations"
        | "AcceptAdministratorInvitation"
        | "AcceptInvitation"
        | "GetAdministratorAccount"
        | "GetMasterAccount"
        | "DisassociateFromAdministratorAccount"
        | "DisassociateFromMasterAccount" => invitations::handle(world, caller, req),
        "EnableOrganizationAdminAccount"
        | "DisableOrganizationAdminAccount"
        | "ListOrganizationAdminAccounts"
        | "DescribeOrganizationConfiguration"
        | "UpdateOrganizationConfiguration"
        | "GetOrganizationStatistics" => organization::handle(world, caller, req),
        "CreateSampleFindings"
        | "ListFindings"
        | "GetFindings"
        | "GetFindingsStatistics"
        | "ArchiveFindings"
        | "UnarchiveFindings"
        | "UpdateFindingsFeedback" => findings::handle(world, caller, req),
        "CreateFilter" | "ListFilters" | "GetFilter" | "UpdateFilter" | "DeleteFilter" => {
            filters::handle(world, caller, req)
        }
        "CreatePublishingDestination"
        | "ListPublishingDestinations"
        | "DescribePublishingDestination"
        | "UpdatePublishingDestination"
        | "DeletePublishingDestination" => destinations::handle(world, caller, req),
        "ListCoverage" | "GetCoverageStatistics" => coverage::handle(world, caller, req),
        "GetUsageStatistics" => usage::handle(world, caller, req),
        "GetRemainingFreeTrialDays" => free_trial::handle(world, caller, req),
        other => Err(ApiError::bad_request(format!(
            "The sandbox does not implement {other}"
        ))),
    }
}

/// The caller's detector named by the path, or GuardDuty's refusal when the caller does not
/// own a detector of that id in this region.
pub fn owned_detector<'w>(
    world: &'w World,
    caller: &Caller,
    detector_id: &str,
) -> Result<&'w Detector, ApiError> {
    world
        .detector(&caller.account, &caller.region)
        .filter(|d| d.id == detector_id)
        .ok_or_else(not_owned)
}

/// Most ids a GuardDuty batch call (members, invitations) takes at once.
pub const MAX_BATCH: usize = 50;

/// A required list body member of 1..=[`MAX_BATCH`] items, else GuardDuty's refusal.
pub fn batch<'r>(req: &'r Request, name: &str) -> Result<&'r Vec<Value>, ApiError> {
    match req.body.get(name) {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_BATCH => Ok(items),
        _ => Err(ApiError::invalid_param(name)),
    }
}

/// A required list of account ids of 1..=[`MAX_BATCH`] strings.
pub fn account_ids(req: &Request, name: &str) -> Result<Vec<String>, ApiError> {
    batch(req, name)?
        .iter()
        .map(|v| {
            v.as_str()
                .map(String::from)
                .ok_or_else(|| ApiError::invalid_param(name))
        })
        .collect()
}

/// An optional boolean body member; anything but a boolean is refused.
pub fn opt_bool(req: &Request, name: &str) -> Result<Option<bool>, ApiError> {
    match req.body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid_param(name)),
    }
}

/// An optional string body member; anything but a string is refused.
pub fn opt_str<'r>(req: &'r Request, name: &str) -> Result<Option<&'r str>, ApiError> {
    match req.body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ApiError::invalid_param(name)),
    }
}

/// A required, non-empty string body member.
pub fn req_str<'r>(req: &'r Request, name: &str) -> Result<&'r str, ApiError> {
    opt_str(req, name)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_param(name))
}

/// Whether `id` looks like an AWS account id (12 digits).
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// One `UnprocessedAccount` entry.
pub fn unprocessed(account_id: &str, result: &str) -> Value {
    serde_json::json!({"accountId": account_id, "result": result})
}

/// The caller's detector id, after checking that the path names it.
pub fn require_owned(world: &World, caller: &Caller, req: &Request) -> Result<String, ApiError> {
    owned_detector(world, caller, req.detector_id()).map(|d| d.id.clone())
}

/// Whether `account` is the organization's delegated GuardDuty administrator in `region`.
pub fn is_delegated_admin(world: &World, account: &str, region: &str) -> bool {
    world
        .guardduty_org
        .get(region)
        .and_then(|o| o.admin.as_deref())
        == Some(account)
}

/// Whether `member`'s membership of `admin` in `region` comes from the organization (the
/// administrator is the delegated administrator and the member an account of the organization)
/// rather than from an invitation.
pub fn via_organization(world: &World, admin: &str, member: &str, region: &str) -> bool {
    is_delegated_admin(world, admin, region) && world.accounts.contains_key(member)
}

/// The refusal GuardDuty gives callers that are not the organization's management account or
/// delegated administrator.
pub fn not_org_permitted() -> ApiError {
    ApiError::bad_request(
        "The request failed because you do not have required AWS Organization master permission.",
    )
}

/// The error GuardDuty gives for a detector id the caller does not own.
pub fn not_owned() -> ApiError {
    ApiError::bad_request(
        "The request is rejected because the input detectorId is not owned by the current account.",
    )
}

/// One page of `items` from the opaque offset token, and the token of the next page.
pub fn page<T: Clone>(
    items: &[T],
    max: usize,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match token {
        None => 0,
        Some(t) => decode_token(t)
            .filter(|s| *s <= items.len())
            .ok_or_else(|| ApiError::invalid_param("nextToken"))?,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| encode_token(end));
    Ok((items[start..end].to_vec(), next))
}

/// One page of `items`, sorted by their unique `key`, after the key the token names (the last
/// one the previous page gave), and the token of the next page. Lists that change between calls
/// (members, invitations, filters) page by key rather than offset: removing an item already
/// listed must not shift an unlisted one back before the next page (a skip), nor adding one
/// shift a listed one into it (a repeat).
pub fn page_after<T: Clone>(
    items: &[T],
    key: impl Fn(&T) -> &str,
    max: usize,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match token {
        None => 0,
        Some(t) => {
            let last = decode_key_token(t).ok_or_else(|| ApiError::invalid_param("nextToken"))?;
            items.partition_point(|i| key(i) <= last.as_str())
        }
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| encode_key_token(key(&items[end - 1])));
    Ok((items[start..end].to_vec(), next))
}

/// [`page_after`] over a map kept sorted by its keys, reading only the page: the entries kept
/// by `keep` after the token's key. An administrator's 5,000 members are listed in 100 pages;
/// collecting every member for each page made listing them quadratic.
pub fn page_of_map<'m, V>(
    map: &'m std::collections::BTreeMap<String, V>,
    keep: impl Fn(&V) -> bool,
    max: usize,
    token: Option<&str>,
) -> Result<(Vec<&'m V>, Option<String>), ApiError> {
    use std::ops::Bound::{Excluded, Unbounded};
    let after = token
        .map(|t| decode_key_token(t).ok_or_else(|| ApiError::invalid_param("nextToken")))
        .transpose()?;
    let from = match &after {
        None => map.range::<str, _>((Unbounded, Unbounded)),
        Some(last) => map.range::<str, _>((Excluded(last.as_str()), Unbounded)),
    };
    // One more than a page tells whether there is a next one.
    let mut page: Vec<(&String, &V)> = from.filter(|(_, v)| keep(v)).take(max + 1).collect();
    let next = (page.len() > max).then(|| {
        page.truncate(max);
        encode_key_token(page[max - 1].0)
    });
    Ok((page.into_iter().map(|(_, v)| v).collect(), next))
}

const KEY_TOKEN_PREFIX: &str = "gdsbk";

fn encode_key_token(key: &str) -> String {
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{KEY_TOKEN_PREFIX}{hex}")
}

fn decode_key_token(token: &str) -> Option<String> {
    let hex = token.strip_prefix(KEY_TOKEN_PREFIX)?;
    if hex.is_empty() || hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// A list operation's answer `out`, with `nextToken` set when there is a next page (GuardDuty
/// omits the member on the last page).
pub fn with_next_token(mut out: Value, next: Option<String>) -> Value {
    if let Some(t) = next {
        out["nextToken"] = t.into();
    }
    out
}

/// Offsets travel as opaque tokens, so clients cannot come to depend on their shape.
pub fn encode_token(offset: usize) -> String {
    format!("gdsbx{offset:x}")
}

pub fn decode_token(token: &str) -> Option<usize> {
    usize::from_str_radix(token.strip_prefix("gdsbx")?, 16).ok()
}

/// GuardDuty's string-typed dates: ISO-8601 with milliseconds.
pub fn iso(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Model `timestamp` members: epoch seconds as a JSON number.
pub fn epoch(t: &DateTime<Utc>) -> Value {
    Value::from(t.timestamp_millis() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_the_model() {
        let r = Route::parse(&Method::POST, "/detector/abc/member/invite").unwrap();
        assert_eq!(
            (r.op, r.detector_id.as_deref()),
            ("InviteMembers", Some("abc"))
        );
        let r = Route::parse(&Method::GET, "/detector/abc/filter/my%20filter").unwrap();
        assert_eq!(
            (r.op, r.filter_name.as_deref()),
            ("GetFilter", Some("my filter"))
        );
        assert_eq!(
            Route::parse(&Method::GET, "/admin").unwrap().op,
            "ListOrganizationAdminAccounts"
        );
        assert!(Route::parse(&Method::PUT, "/detector").is_none());
    }

    #[test]
    fn pages_round_trip() {
        let items: Vec<u32> = (0..5).collect();
        let (p1, t1) = page(&items, 2, None).unwrap();
        let (p2, t2) = page(&items, 2, t1.as_deref()).unwrap();
        let (p3, t3) = page(&items, 2, t2.as_deref()).unwrap();
        assert_eq!((p1, p2, p3, t3), (vec![0, 1], vec![2, 3], vec![4], None));
        assert!(page(&items, 2, Some("bogus")).is_err());
    }

    #[test]
    fn keyed_pages_neither_skip_nor_repeat_when_the_list_changes() {
        fn id<'a>(s: &'a &str) -> &'a str {
            s
        }
        let items = ["a", "b", "c", "d"];
        let (p1, t1) = page_after(&items, id, 2, None).unwrap();
        assert_eq!(p1, ["a", "b"]);
        // "a" goes and "ab" arrives (before the token's key): the next page is still "c", "d".
        let changed = ["ab", "b", "c", "d"];
        let (p2, t2) = page_after(&changed, id, 2, t1.as_deref()).unwrap();
        assert_eq!((p2, t2), (vec!["c", "d"], None));
        // Keys of any characters survive the token.
        let odd = ["my filter/ü", "z"];
        let (_, t) = page_after(&odd, id, 1, None).unwrap();
        let (p, _) = page_after(&odd, id, 1, t.as_deref()).unwrap();
        assert_eq!(p, ["z"]);
        for bad in ["bogus", "gdsbk", "gdsbkzz", "gdsbk6", "gdsbkff"] {
            assert!(page_after(&items, id, 2, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn map_pages_keep_only_what_is_asked_and_match_the_slice_pages() {
        let map: std::collections::BTreeMap<String, u32> =
            (1..=7).map(|n| (format!("k{n}"), n)).collect();
        let odd = |n: &u32| n % 2 == 1;
        let (p1, t1) = page_of_map(&map, odd, 2, None).unwrap();
        assert_eq!(p1, [&1, &3]);
        let (p2, t2) = page_of_map(&map, odd, 2, t1.as_deref()).unwrap();
        assert_eq!(p2, [&5, &7]);
        // Exactly a page left: no token for an empty page after it.
        assert_eq!(t2, None);
        // The same tokens as the slice pages, so either reads the other's.
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        let (_, slice_token) = page_after(&keys, |k| k, 3, None).unwrap();
        let (from_slice, _) = page_of_map(&map, |_| true, 1, slice_token.as_deref()).unwrap();
        assert_eq!(from_slice, [&4]);
        assert!(page_of_map(&map, odd, 2, Some("bogus")).is_err());
    }
}
