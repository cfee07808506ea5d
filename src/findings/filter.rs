//! The filter model: what the user asks for (`FilterSpec`, from flags or a saved-filters file),
//! validated into a `Filter` before any call is made. Each dimension is a chip that can include
//! or exclude values, like the console's filter bar. `Filter::matches` is the exact, client-side
//! meaning of a filter; `criteria` translates what GuardDuty can evaluate server-side.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::record::FindingRecord;
use super::severity::Band;

/// A filter as written: every field optional, values as text. Field names are the TOML keys
/// of a saved filter; `not_*` excludes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Free text, also used as the GuardDuty filter's description by `filters sync`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What `filters sync` makes of it: `NOOP` (saved filter) or `ARCHIVE` (suppression rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Order of the GuardDuty filter (1-100) for `filters sync`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i32>,
    /// Severity bands: Low, Medium, High, Critical.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_severity: Vec<String>,
    /// Lowest severity score (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<f64>,
    /// Highest severity score (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<f64>,
    /// Finding types; a value ending in `*` is a prefix.
    #[serde(default, rename = "type", skip_serializing_if = "Vec::is_empty")]
    pub finding_type: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_type: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub account: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_account: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub region: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_region: Vec<String>,
    /// Resource types: Instance, AccessKey, S3Bucket, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_type: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_resource_type: Vec<String>,
    /// Action types: AWS_API_CALL, DNS_REQUEST, NETWORK_CONNECTION, PORT_PROBE, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub action_type: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_action_type: Vec<String>,
    /// `current` (default), `archived` or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Updated at or after: an RFC 3339 time or a duration back from now (`7d`, `12h`, `30m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_since: Option<String>,
}

/// Bad filter input, caught before any call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown severity {0:?}: use Low, Medium, High or Critical (or min_severity/max_severity for scores)")]
    Severity(String),
    #[error("severity score {0} is outside 0.0-10.0")]
    Score(f64),
    #[error("min_severity {min} is above max_severity {max}")]
    ScoreRange { min: f64, max: f64 },
    #[error("the filter excludes every severity band")]
    NoBand,
    #[error("{0:?} is not an AWS account id (12 digits)")]
    Account(String),
    #[error("{0:?} is not a region name (like eu-west-1)")]
    Region(String),
    #[error("empty value in {0}")]
    Empty(&'static str),
    #[error("{field}: {value:?} is both included and excluded")]
    Both { field: &'static str, value: String },
    #[error("unknown action type {0:?}: use one of {known}", known = ACTION_TYPES.join(", "))]
    ActionType(String),
    #[error("unknown status {0:?}: use current, archived or all")]
    Status(String),
    #[error("updated_since {0:?}: give an RFC 3339 time (2026-11-01T00:00:00Z) or a duration (7d, 12h, 30m)")]
    Time(String),
    #[error("a `*` may only end a type prefix: {0:?}")]
    Wildcard(String),
    #[error("unknown filter action {0:?}: use NOOP or ARCHIVE")]
    Action(String),
    #[error("rank {0} is outside 1-100")]
    Rank(i32),
}

/// GuardDuty's action types (`service.action.actionType`).
pub const ACTION_TYPES: &[&str] = &[
    "AWS_API_CALL",
    "DNS_REQUEST",
    "NETWORK_CONNECTION",
    "PORT_PROBE",
    "KUBERNETES_API_CALL",
    "KUBERNETES_PERMISSION_CHECKED",
    "KUBERNETES_ROLE_BINDING",
    "KUBERNETES_ROLE",
    "RDS_LOGIN_ATTEMPT",
];

/// Included and excluded values of one dimension. Empty `include` means "any".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chip<T> {
    pub include: Vec<T>,
    pub exclude: Vec<T>,
}

impl<T> Default for Chip<T> {
    fn default() -> Self {
        Chip {
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

impl<T: PartialEq> Chip<T> {
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether a value passes, by `is` deciding when a chip value matches it.
    pub fn allows(&self, is: impl Fn(&T) -> bool) -> bool {
        (self.include.is_empty() || self.include.iter().any(&is)) && !self.exclude.iter().any(is)
    }
}

/// A finding type value: exact, or a prefix (written with a trailing `*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TypePattern {
    Exact(String),
    Prefix(String),
}

impl TypePattern {
    pub fn matches(&self, ty: &str) -> bool {
        match self {
            TypePattern::Exact(e) => e == ty,
            TypePattern::Prefix(p) => ty.starts_with(p.as_str()),
        }
    }
}

/// Which findings by archive state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Status {
    /// Not archived (what the console shows by default).
    #[default]
    Current,
    Archived,
    All,
}

/// What a GuardDuty filter made by `filters sync` does to matching findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum FilterAction {
    #[default]
    Noop,
    Archive,
}

impl FilterAction {
    pub fn as_api(self) -> &'static str {
        match self {
            FilterAction::Noop => "NOOP",
            FilterAction::Archive => "ARCHIVE",
        }
    }
}

/// A validated filter.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Filter {
    pub description: Option<String>,
    pub action: FilterAction,
    pub rank: Option<i32>,
    pub severity: Chip<Band>,
    pub min_severity: Option<f64>,
    pub max_severity: Option<f64>,
    pub types: Chip<TypePattern>,
    pub accounts: Chip<String>,
    pub regions: Chip<String>,
    pub resource_types: Chip<String>,
    pub action_types: Chip<String>,
    pub status: Status,
    pub updated_since: Option<DateTime<Utc>>,
}

impl FilterSpec {
    /// Validate, resolving relative times against `now`.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<Filter, FilterError> {
        let bands = |vals: &[String]| -> Result<Vec<Band>, FilterError> {
            let mut out = vals
                .iter()
                .map(|v| Band::parse(v).ok_or_else(|| FilterError::Severity(v.clone())))
                .collect::<Result<Vec<_>, _>>()?;
            out.sort();
            out.dedup();
            Ok(out)
        };
        let severity = chip(
            "severity",
            bands(&self.severity)?,
            bands(&self.not_severity)?,
        )?;
        if !Band::ALL.iter().any(|b| severity.allows(|x| x == b)) {
            return Err(FilterError::NoBand);
        }
        for s in [self.min_severity, self.max_severity].into_iter().flatten() {
            if !(0.0..=10.0).contains(&s) {
                return Err(FilterError::Score(s));
            }
        }
        if let (Some(min), Some(max)) = (self.min_severity, self.max_severity) {
            if min > max {
                return Err(FilterError::ScoreRange { min, max });
            }
        }
        let types = |field: &'static str, vals: &[String]| {
            vals.iter()
                .map(|v| {
                    let v = v.trim();
                    if v.is_empty() || v == "*" {
                        return Err(FilterError::Empty(field));
                    }
                    match v.strip_suffix('*') {
                        Some(p) if p.contains('*') => Err(FilterError::Wildcard(v.into())),
                        Some(p) => Ok(TypePattern::Prefix(p.into())),
                        None if v.contains('*') => Err(FilterError::Wildcard(v.into())),
                        None => Ok(TypePattern::Exact(v.into())),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let accounts = |vals: &[String]| {
            vals.iter()
                .map(|v| {
                    let v = v.trim();
                    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
                        Ok(v.to_string())
                    } else {
                        Err(FilterError::Account(v.into()))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let regions = |vals: &[String]| {
            vals.iter()
                .map(|v| {
                    let v = v.trim();
                    if crate::regions::is_well_formed(v) {
                        Ok(v.to_string())
                    } else {
                        Err(FilterError::Region(v.into()))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let plain = |field: &'static str, vals: &[String]| {
            vals.iter()
                .map(|v| {
                    let v = v.trim();
                    if v.is_empty() {
                        Err(FilterError::Empty(field))
                    } else {
                        Ok(v.to_string())
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let actions = |vals: &[String]| {
            vals.iter()
                .map(|v| {
                    let up = v.trim().to_ascii_uppercase();
                    if ACTION_TYPES.contains(&up.as_str()) {
                        Ok(up)
                    } else {
                        Err(FilterError::ActionType(v.clone()))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let status = match self.status.as_deref().map(str::trim) {
            None => Status::Current,
            Some(s) if s.eq_ignore_ascii_case("current") => Status::Current,
            Some(s) if s.eq_ignore_ascii_case("archived") => Status::Archived,
            Some(s) if s.eq_ignore_ascii_case("all") => Status::All,
            Some(s) => return Err(FilterError::Status(s.into())),
        };
        let action = match self.action.as_deref().map(str::trim) {
            None => FilterAction::Noop,
            Some(a) if a.eq_ignore_ascii_case("noop") => FilterAction::Noop,
            Some(a) if a.eq_ignore_ascii_case("archive") => FilterAction::Archive,
            Some(a) => return Err(FilterError::Action(a.into())),
        };
        if let Some(r) = self.rank {
            if !(1..=100).contains(&r) {
                return Err(FilterError::Rank(r));
            }
        }
        Ok(Filter {
            description: self.description.clone(),
            action,
            rank: self.rank,
            severity,
            min_severity: self.min_severity,
            max_severity: self.max_severity,
            types: chip(
                "type",
                types("type", &self.finding_type)?,
                types("not_type", &self.not_type)?,
            )?,
            accounts: chip(
                "account",
                accounts(&self.account)?,
                accounts(&self.not_account)?,
            )?,
            regions: chip("region", regions(&self.region)?, regions(&self.not_region)?)?,
            resource_types: chip(
                "resource_type",
                plain("resource_type", &self.resource_type)?,
                plain("not_resource_type", &self.not_resource_type)?,
            )?,
            action_types: chip(
                "action_type",
                actions(&self.action_type)?,
                actions(&self.not_action_type)?,
            )?,
            status,
            updated_since: self
                .updated_since
                .as_deref()
                .map(|t| parse_since(t, now))
                .transpose()?,
        })
    }

    /// Combine two specs (a saved filter and flags): lists are joined, single values of
    /// `other` win.
    pub fn merge(mut self, other: &FilterSpec) -> FilterSpec {
        macro_rules! join {
            ($($f:ident),*) => { $( self.$f.extend(other.$f.iter().cloned()); )* };
        }
        join!(
            severity,
            not_severity,
            finding_type,
            not_type,
            account,
            not_account,
            region,
            not_region,
            resource_type,
            not_resource_type,
            action_type,
            not_action_type
        );
        macro_rules! over {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f.clone(); } )* };
        }
        over!(
            description,
            action,
            rank,
            min_severity,
            max_severity,
            status,
            updated_since
        );
        self
    }
}

fn chip<T: PartialEq + std::fmt::Debug>(
    field: &'static str,
    mut include: Vec<T>,
    mut exclude: Vec<T>,
) -> Result<Chip<T>, FilterError> {
    dedup(&mut include);
    dedup(&mut exclude);
    if let Some(v) = include.iter().find(|v| exclude.contains(v)) {
        return Err(FilterError::Both {
            field,
            value: format!("{v:?}").trim_matches('"').to_string(),
        });
    }
    Ok(Chip { include, exclude })
}

fn dedup<T: PartialEq>(v: &mut Vec<T>) {
    let mut i = 0;
    while i < v.len() {
        if v[..i].contains(&v[i]) {
            v.remove(i);
        } else {
            i += 1;
        }
    }
}

/// An RFC 3339 time, or a duration back from `now` (`90s`, `30m`, `12h`, `7d`, `2w`).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, FilterError> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    let bad = || FilterError::Time(text.into());
    let split = t.len().checked_sub(1).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    if n < 0 {
        return Err(bad());
    }
    now.checked_sub_signed(d).ok_or_else(bad)
}

impl Filter {
    /// The exact meaning of the filter, evaluated on one finding.
    pub fn matches(&self, f: &FindingRecord) -> bool {
        let band = f.band();
        self.severity.allows(|b| Some(*b) == band)
            && self.min_severity.is_none_or(|m| f.severity >= m)
            && self.max_severity.is_none_or(|m| f.severity <= m)
            && self.types.allows(|p| p.matches(&f.finding_type))
            && self.accounts.allows(|a| *a == f.account_id)
            && self.regions.allows(|r| *r == f.region)
            && self.resource_types.allows(|r| *r == f.resource_type)
            && self
                .action_types
                .allows(|a| Some(a.as_str()) == f.action_type.as_deref())
            && match self.status {
                Status::Current => !f.archived,
                Status::Archived => f.archived,
                Status::All => true,
            }
            && self
                .updated_since
                .is_none_or(|t| f.updated_ms >= t.timestamp_millis())
    }

    /// Whether to read `region` at all (regions are chosen client-side).
    pub fn wants_region(&self, region: &str) -> bool {
        self.regions.allows(|r| r == region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::record::tests::record;

    fn now() -> DateTime<Utc> {
        "2026-11-23T00:00:00Z".parse().unwrap()
    }

    fn spec(toml_text: &str) -> FilterSpec {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn bad_input_is_named() {
        let cases = [
            (r#"severity = ["severe"]"#, "unknown severity \"severe\""),
            (r#"account = ["123"]"#, "not an AWS account id"),
            (r#"region = ["moon-1"]"#, "not a region name"),
            (r#"status = "gone""#, "unknown status"),
            (r#"updated_since = "yesterday""#, "updated_since"),
            (
                "min_severity = 8.0\nmax_severity = 2.0",
                "above max_severity",
            ),
            (r#"type = ["Recon:*EC2"]"#, "may only end"),
            (r#"action_type = ["TELEPATHY"]"#, "unknown action type"),
            (
                "severity = [\"High\"]\nnot_severity = [\"high\"]",
                "both included and excluded",
            ),
            (
                r#"not_severity = ["Low","Medium","High","Critical"]"#,
                "every severity band",
            ),
        ];
        for (text, want) in cases {
            let err = spec(text).validate(now()).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        assert!(toml::from_str::<FilterSpec>("sevrity = []").is_err());
    }

    #[test]
    fn relative_and_absolute_times() {
        let f = spec(r#"updated_since = "7d""#).validate(now()).unwrap();
        assert_eq!(
            f.updated_since.unwrap(),
            "2026-11-16T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let f = spec(r#"updated_since = "2026-11-01T12:00:00+01:00""#)
            .validate(now())
            .unwrap();
        assert_eq!(
            f.updated_since.unwrap().to_rfc3339(),
            "2026-11-01T11:00:00+00:00"
        );
    }

    #[test]
    fn every_chip_includes_and_excludes() {
        let r = record("f", "111111111111", "eu-west-1", "Recon:EC2/PortProbe", 7.5);
        let yes = |t: &str| spec(t).validate(now()).unwrap().matches(&r);
        assert!(yes(r#"severity = ["high"]"#));
        assert!(!yes(r#"not_severity = ["High"]"#));
        assert!(!yes(r#"severity = ["Critical"]"#));
        assert!(yes("min_severity = 7.5"));
        assert!(!yes("min_severity = 7.6"));
        assert!(!yes("max_severity = 7.4"));
        assert!(yes(r#"type = ["Recon:*"]"#));
        assert!(!yes(r#"not_type = ["Recon:*"]"#));
        assert!(yes(r#"type = ["Recon:EC2/PortProbe"]"#));
        assert!(!yes(r#"type = ["Recon:EC2"]"#));
        assert!(yes(r#"account = ["111111111111"]"#));
        assert!(!yes(r#"not_account = ["111111111111"]"#));
        assert!(yes(r#"region = ["eu-west-1"]"#));
        assert!(!yes(r#"not_region = ["eu-west-1"]"#));
        assert!(yes(r#"resource_type = ["Instance"]"#));
        assert!(!yes(r#"not_resource_type = ["Instance"]"#));
        assert!(yes(r#"action_type = ["network_connection"]"#));
        assert!(!yes(r#"not_action_type = ["NETWORK_CONNECTION"]"#));
        assert!(yes(r#"updated_since = "2026-11-21T10:00:00Z""#));
        assert!(!yes(r#"updated_since = "2026-11-21T10:00:01Z""#));
        // Archived findings are never current.
        let mut a = r.clone();
        a.archived = true;
        let f = FilterSpec::default().validate(now()).unwrap();
        assert!(!f.matches(&a));
        assert!(spec(r#"status = "archived""#)
            .validate(now())
            .unwrap()
            .matches(&a));
        assert!(spec(r#"status = "all""#)
            .validate(now())
            .unwrap()
            .matches(&a));
    }

    #[test]
    fn merge_joins_lists_and_overrides_values() {
        let a = spec("severity = [\"High\"]\nstatus = \"all\"");
        let b = spec("severity = [\"Critical\"]\nstatus = \"archived\"");
        let m = a.merge(&b);
        assert_eq!(m.severity, vec!["High", "Critical"]);
        assert_eq!(m.status.as_deref(), Some("archived"));
    }
}
