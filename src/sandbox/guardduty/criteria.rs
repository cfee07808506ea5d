//! `findingCriteria` and `sortCriteria`: parsing and validating them as GuardDuty does, and
//! evaluating them against stored findings.
//!
//! Field names are checked against the list of fields the API reference documents for
//! CreateFilter / ListFindings (`criteria_fields.txt`); anything else is a BadRequestException.
//! The fields clients filter on most (severity, type, archived, updatedAt, ...) are read straight
//! from the compact record; any other documented field is read from the rendered finding, so a
//! criterion always agrees with what GetFindings shows. This is the reference evaluation;
//! queries over many findings compile the criteria first (`matcher.rs`), with the same results.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;

use super::catalog;
use super::findings_store::{encode_id, StoredFinding};
use super::render::{self, Owner};
use crate::sandbox::error::ApiError;

/// Where criteria are used: `matches` / `notMatches` are accepted only by the filter
/// operations (the model documents them as "available only for create-filter and
/// update-filter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Query,
    Filter,
}

/// One field's condition; every given key must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Condition {
    pub equals: Vec<String>,
    pub not_equals: Vec<String>,
    pub greater_than: Option<i64>,
    pub greater_than_or_equal: Option<i64>,
    pub less_than: Option<i64>,
    pub less_than_or_equal: Option<i64>,
    pub matches: Vec<String>,
    pub not_matches: Vec<String>,
    /// Deprecated keys, kept apart because they may be combined with the current ones.
    pub eq: Vec<String>,
    pub neq: Vec<String>,
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
}

/// Parsed `findingCriteria`: (field, condition) pairs, all of which must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    pub conditions: Vec<(String, Condition)>,
}

fn documented_fields() -> &'static HashSet<&'static str> {
    static FIELDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        include_str!("criteria_fields.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Whether `field` is a documented finding criterion field.
pub fn is_documented(field: &str) -> bool {
    documented_fields().contains(field)
}

fn invalid(what: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "The request is rejected because an invalid or out-of-range value is specified as an input parameter: {what}."
    ))
}

fn strings(field: &str, key: &str, v: &Value) -> Result<Vec<String>, ApiError> {
    let items = v
        .as_array()
        .ok_or_else(|| invalid(format!("{field}.{key} must be a list of strings")))?;
    items
        .iter()
        .map(|i| {
            i.as_str()
                .map(String::from)
                .ok_or_else(|| invalid(format!("{field}.{key} must be a list of strings")))
        })
        .collect()
}

fn number(field: &str, key: &str, v: &Value) -> Result<Option<i64>, ApiError> {
    v.as_i64()
        .map(Some)
        .ok_or_else(|| invalid(format!("{field}.{key} must be an integer")))
}

impl Criteria {
    /// Parse a `findingCriteria` body member (absent means: every finding).
    pub fn parse(v: Option<&Value>, usage: Usage) -> Result<Criteria, ApiError> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(Criteria::default());
        };
        let obj = v
            .as_object()
            .ok_or_else(|| invalid("findingCriteria must be an object"))?;
        let criterion = match obj.get("criterion") {
            None | Some(Value::Null) => return Ok(Criteria::default()),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(invalid("findingCriteria.criterion must be a map")),
        };
        let mut conditions = Vec::new();
        for (field, cond) in criterion {
            if !is_documented(field) {
                return Err(invalid(format!("unsupported criterion field {field:?}")));
            }
            let cond_obj = cond
                .as_object()
                .ok_or_else(|| invalid(format!("the condition of {field} must be an object")))?;
            let mut c = Condition::default();
            for (key, val) in cond_obj {
                match key.as_str() {
                    "equals" => c.equals = strings(field, key, val)?,
                    "notEquals" => c.not_equals = strings(field, key, val)?,
                    "eq" => c.eq = strings(field, key, val)?,
                    "neq" => c.neq = strings(field, key, val)?,
                    "matches" | "notMatches" if usage == Usage::Query => {
                        return Err(invalid(format!(
                            "the {key} condition ({field}) is available only for CreateFilter and UpdateFilter"
                        )))
                    }
                    "matches" => c.matches = strings(field, key, val)?,
                    "notMatches" => c.not_matches = strings(field, key, val)?,
                    "greaterThan" => c.greater_than = number(field, key, val)?,
                    "greaterThanOrEqual" => c.greater_than_or_equal = number(field, key, val)?,
                    "lessThan" => c.less_than = number(field, key, val)?,
                    "lessThanOrEqual" => c.less_than_or_equal = number(field, key, val)?,
                    "gt" => c.gt = number(field, key, val)?,
                    "gte" => c.gte = number(field, key, val)?,
                    "lt" => c.lt = number(field, key, val)?,
                    "lte" => c.lte = number(field, key, val)?,
                    other => {
                        return Err(invalid(format!(
                            "unknown condition {other:?} on {field}"
                        )))
                    }
                }
            }
            conditions.push((field.clone(), c));
        }
        Ok(Criteria { conditions })
    }

    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// Whether the finding satisfies every condition.
    pub fn matches(&self, view: &FindingView) -> bool {
        self.conditions
            .iter()
            .all(|(field, cond)| cond.holds(&view.values(field)))
    }
}

/// One value of a finding's field.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl Scalar {
    pub fn equals(&self, text: &str) -> bool {
        match self {
            Scalar::Str(s) => s == text,
            Scalar::Num(n) => text.trim().parse::<f64>().is_ok_and(|t| t == *n),
            Scalar::Bool(b) => text.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Scalar::Num(n) => Some(*n),
            Scalar::Str(s) => s.parse().ok(),
            Scalar::Bool(_) => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Num(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }

    /// Ordering for sortCriteria: numbers numerically, everything else as text.
    pub fn cmp_sort(&self, other: &Scalar) -> Ordering {
        match (self, other) {
            (Scalar::Num(a), Scalar::Num(b)) => a.total_cmp(b),
            _ => self.text().cmp(&other.text()),
        }
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    if !text.ends_with(last) {
        return false;
    }
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

impl Condition {
    /// Whether the condition holds for a field with these values (the reference semantics).
    pub fn holds(&self, values: &[Scalar]) -> bool {
        let any_equal = |list: &[String]| values.iter().any(|v| list.iter().any(|e| v.equals(e)));
        let any_match = |list: &[String]| {
            values
                .iter()
                .any(|v| list.iter().any(|p| wildcard(p, &v.text())))
        };
        let numeric = |bound: Option<i64>, ok: fn(f64, f64) -> bool| match bound {
            None => true,
            Some(b) => values
                .iter()
                .filter_map(Scalar::number)
                .any(|n| ok(n, b as f64)),
        };
        (self.equals.is_empty() || any_equal(&self.equals))
            && (self.eq.is_empty() || any_equal(&self.eq))
            && !any_equal(&self.not_equals)
            && !any_equal(&self.neq)
            && (self.matches.is_empty() || any_match(&self.matches))
            && !any_match(&self.not_matches)
            && numeric(self.greater_than, |n, b| n > b)
            && numeric(self.gt, |n, b| n > b)
            && numeric(self.greater_than_or_equal, |n, b| n >= b)
            && numeric(self.gte, |n, b| n >= b)
            && numeric(self.less_than, |n, b| n < b)
            && numeric(self.lt, |n, b| n < b)
            && numeric(self.less_than_or_equal, |n, b| n <= b)
            && numeric(self.lte, |n, b| n <= b)
    }
}

/// A stored finding seen through its owner, rendering its JSON only if a criterion needs it.
pub struct FindingView<'a> {
    pub finding: &'a StoredFinding,
    pub owner: Owner<'a>,
    pub salt: u64,
    pub index: u32,
    rendered: std::cell::OnceCell<Value>,
}

impl<'a> FindingView<'a> {
    pub fn new(finding: &'a StoredFinding, owner: Owner<'a>, salt: u64, index: u32) -> Self {
        FindingView {
            finding,
            owner,
            salt,
            index,
            rendered: std::cell::OnceCell::new(),
        }
    }

    pub fn id(&self) -> String {
        encode_id(self.salt, self.index)
    }

    /// The full JSON (rendered once).
    pub fn json(&self) -> &Value {
        self.rendered
            .get_or_init(|| render::render(self.finding, &self.id(), &self.owner))
    }

    /// The values of a documented field (several when the path crosses a list).
    pub fn values(&self, field: &str) -> Vec<Scalar> {
        let f = self.finding;
        match source(field) {
            Source::Cell => cell_values(field, &self.owner),
            Source::Type => type_values(field, &catalog::TYPES[f.type_idx as usize]),
            Source::Archived => vec![Scalar::Bool(f.archived())],
            Source::Feedback => feedback_values(f.feedback()),
            Source::Number(n) => vec![Scalar::Num(n.read(f))],
            Source::Id => vec![Scalar::Str(self.id())],
            Source::Rendered => {
                let mut out = Vec::new();
                collect(self.json(), &field.split('.').collect::<Vec<_>>(), &mut out);
                out
            }
        }
    }

    /// The first value of `field`, for sorting.
    pub fn sort_key(&self, field: &str) -> Option<Scalar> {
        match source(field) {
            // The common sorts (severity, updatedAt) need no list.
            Source::Number(n) => Some(Scalar::Num(n.read(self.finding))),
            _ => self.values(field).into_iter().next(),
        }
    }
}

/// What a documented field's value depends on. The fields clients filter on most are answered
/// by the stored record; a matcher (`matcher.rs`) uses this to decide a condition once per cell,
/// per type or per flag value instead of once per finding.
#[derive(Clone, Copy)]
pub enum Source {
    /// The same for every finding of a cell: account, region, detector and constants.
    Cell,
    /// Decided by the finding's type.
    Type,
    /// `service.archived`.
    Archived,
    /// `service.userFeedback`: none, USEFUL or NOT_USEFUL.
    Feedback,
    /// A number of the record.
    Number(NumberField),
    /// The finding id (derived from the cell's salt and the finding's index).
    Id,
    /// Read from the rendered JSON.
    Rendered,
}

pub fn source(field: &str) -> Source {
    match field {
        "accountId"
        | "region"
        | "partition"
        | "schemaVersion"
        | "service.serviceName"
        | "service.detectorId" => Source::Cell,
        "type"
        | "service.resourceRole"
        | "resource.resourceType"
        | "service.action.actionType"
        | "service.additionalInfo.threatListName"
        | "service.evidence.threatIntelligenceDetails.threatListName" => Source::Type,
        "service.archived" => Source::Archived,
        "service.userFeedback" => Source::Feedback,
        "severity" => Source::Number(NumberField::Severity),
        "updatedAt" => Source::Number(NumberField::UpdatedAt),
        "createdAt" => Source::Number(NumberField::CreatedAt),
        "service.count" => Source::Number(NumberField::Count),
        "id" => Source::Id,
        _ => Source::Rendered,
    }
}

/// The numbers of the record a criterion can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberField {
    Severity,
    UpdatedAt,
    CreatedAt,
    Count,
}

impl NumberField {
    /// The field's value as the API shows it (severity in units, times in epoch ms).
    #[inline]
    pub fn read(self, f: &StoredFinding) -> f64 {
        match self {
            NumberField::Severity => f.severity(),
            NumberField::UpdatedAt => f.updated_ms as f64,
            NumberField::CreatedAt => f.created_ms as f64,
            NumberField::Count => f64::from(f.count),
        }
    }
}

fn text(v: &str) -> Vec<Scalar> {
    vec![Scalar::Str(v.to_string())]
}

/// The values of a [`Source::Cell`] field.
pub fn cell_values(field: &str, owner: &Owner) -> Vec<Scalar> {
    match field {
        "accountId" => text(owner.account),
        "region" => text(owner.region),
        "service.detectorId" => text(owner.detector_id),
        "partition" => text("aws"),
        "schemaVersion" => text("2.0"),
        "service.serviceName" => text("guardduty"),
        _ => Vec::new(),
    }
}

/// The values of a [`Source::Type`] field for findings of type `ty`.
pub fn type_values(field: &str, ty: &catalog::FindingType) -> Vec<Scalar> {
    match field {
        "type" => text(ty.name),
        "service.resourceRole" => text(ty.resource_role),
        "resource.resourceType" => text(ty.resource.as_str()),
        "service.action.actionType" => text(ty.action.action_type()),
        "service.additionalInfo.threatListName"
        | "service.evidence.threatIntelligenceDetails.threatListName" => {
            ty.threat_list.map(text).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// The values of `service.userFeedback`.
pub fn feedback_values(feedback: Option<&str>) -> Vec<Scalar> {
    feedback.map(text).unwrap_or_default()
}

fn collect(v: &Value, path: &[&str], out: &mut Vec<Scalar>) {
    match v {
        Value::Array(items) => {
            for i in items {
                collect(i, path, out);
            }
        }
        Value::Object(m) => {
            let Some((head, rest)) = path.split_first() else {
                return;
            };
            let child = m.get(*head);
            if let Some(child) = child {
                collect(child, rest, out);
            }
        }
        leaf if path.is_empty() => match leaf {
            Value::String(s) => out.push(Scalar::Str(s.clone())),
            Value::Number(n) => out.push(Scalar::Num(n.as_f64().unwrap_or_default())),
            Value::Bool(b) => out.push(Scalar::Bool(*b)),
            _ => {}
        },
        _ => {}
    }
}

/// Parsed `sortCriteria`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub attribute: String,
    pub descending: bool,
}

impl Sort {
    pub fn parse(v: Option<&Value>) -> Result<Option<Sort>, ApiError> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let attribute = match v.get("attributeName") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(a)) => a.clone(),
            Some(_) => return Err(invalid("sortCriteria.attributeName must be a string")),
        };
        if !is_documented(&attribute) {
            return Err(invalid(format!(
                "unsupported sortCriteria.attributeName {attribute:?}"
            )));
        }
        let descending = match v.get("orderBy").and_then(Value::as_str) {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(other) => return Err(invalid(format!("sortCriteria.orderBy {other:?}"))),
        };
        Ok(Some(Sort {
            attribute,
            descending,
        }))
    }

    /// Compare two findings by this sort; findings without the attribute sort last.
    pub fn compare(&self, a: &Option<Scalar>, b: &Option<Scalar>) -> Ordering {
        let ord = match (a, b) {
            (Some(x), Some(y)) => x.cmp_sort(y),
            (Some(_), None) => return Ordering::Less,
            (None, Some(_)) => return Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if self.descending {
            ord.reverse()
        } else {
            ord
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view_of(type_name: &str, f: &mut StoredFinding) -> Criteria {
        f.type_idx = catalog::index_of(type_name).unwrap();
        Criteria::default()
    }

    fn check(criteria: Value, f: &StoredFinding) -> bool {
        let c = Criteria::parse(Some(&json!({ "criterion": criteria })), Usage::Filter).unwrap();
        let owner = Owner {
            account: "200000000001",
            region: "us-east-1",
            detector_id: "d",
        };
        c.matches(&FindingView::new(f, owner, 7, 0))
    }

    #[test]
    fn conditions_include_and_exclude() {
        let mut f = StoredFinding::new(0, 80, 1_700_000_000_000, 5);
        view_of("CryptoCurrency:EC2/BitcoinTool.B!DNS", &mut f);
        assert!(check(json!({"severity": {"greaterThanOrEqual": 7}}), &f));
        assert!(!check(json!({"severity": {"greaterThan": 8}}), &f));
        assert!(check(json!({"severity": {"gte": 8, "lt": 9}}), &f));
        assert!(!check(json!({"severity": {"lte": 7}}), &f));
        assert!(check(
            json!({"type": {"eq": ["CryptoCurrency:EC2/BitcoinTool.B!DNS"]}}),
            &f
        ));
        assert!(!check(
            json!({"type": {"neq": ["CryptoCurrency:EC2/BitcoinTool.B!DNS"]}}),
            &f
        ));
        assert!(check(
            json!({"type": {"matches": ["CryptoCurrency:*"]}}),
            &f
        ));
        assert!(!check(
            json!({"type": {"notMatches": ["*BitcoinTool*"]}}),
            &f
        ));
        assert!(check(
            json!({"service.archived": {"equals": ["false"]}}),
            &f
        ));
        assert!(check(
            json!({"updatedAt": {"greaterThanOrEqual": 1_700_000_000_000i64}}),
            &f
        ));
        assert!(!check(
            json!({"updatedAt": {"lessThan": 1_700_000_000_000i64}}),
            &f
        ));
        assert!(check(
            json!({"service.action.dnsRequestAction.domain": {"matches": ["*.example.com"]}}),
            &f
        ));
        assert!(check(
            json!({"resource.instanceDetails.iamInstanceProfile.arn": {"matches": ["arn:aws:iam::200000000001:*"]}}),
            &f
        ));
        assert!(check(
            json!({"service.additionalInfo.threatListName": {"equals": ["ProofPoint"]}}),
            &f
        ));
        // A field the finding does not have: equals fails, notEquals holds.
        assert!(!check(
            json!({"resource.accessKeyDetails.userName": {"equals": ["alice"]}}),
            &f
        ));
        assert!(check(
            json!({"resource.accessKeyDetails.userName": {"notEquals": ["alice"]}}),
            &f
        ));
    }

    #[test]
    fn parse_refuses_what_guardduty_refuses() {
        let bad =
            |c: Value, u: Usage| Criteria::parse(Some(&json!({ "criterion": c })), u).is_err();
        assert!(bad(json!({"bogus.field": {"equals": ["x"]}}), Usage::Query));
        assert!(bad(json!({"type": {"matches": ["x*"]}}), Usage::Query));
        assert!(!bad(json!({"type": {"matches": ["x*"]}}), Usage::Filter));
        assert!(bad(json!({"severity": {"gte": "high"}}), Usage::Query));
        assert!(bad(json!({"severity": {"between": [1, 2]}}), Usage::Query));
        assert!(Criteria::parse(None, Usage::Query).unwrap().is_empty());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("a*c", "abc"));
        assert!(wildcard("*", ""));
        assert!(wildcard("*b*", "abc"));
        assert!(!wildcard("a*c", "ab"));
        assert!(wildcard("abc", "abc"));
        assert!(!wildcard("ab*ba", "aba"));
    }
}
