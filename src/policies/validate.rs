//! Validation of a (rendered) policy document: grammar, action names, wildcards, size.
//!
//! Errors make a document unusable (`apply` refuses it before any call); warnings are printed
//! and do not block. The line between them:
//!
//! - **errors**: not an object; `Version` missing or not `2012-10-17` (the 2008 grammar turns
//!   policy variables into literals); no statements; unknown or misspelt elements; `Effect`
//!   other than Allow/Deny; neither or both of `Action`/`NotAction`; a permissions statement
//!   without `Resource`/`NotResource` or with a `Principal`; a trust statement without a
//!   `Principal` or with a `Resource`; a duplicate or non-alphanumeric `Sid`; an action of a
//!   service gdorg does not use, an unknown action, or a wildcard matching none; a malformed
//!   ARN; an unknown Condition operator or an empty Condition; grants of everything (`Allow`
//!   with `*`, `service:*`, `NotAction` or `NotResource`); a trust policy open to `*` without
//!   a condition; a document over IAM's size limit.
//! - **warnings**: an `Allow` with a partial action wildcard (`guardduty:Get*`: it grows when
//!   AWS adds actions); an `Allow` of an iam or sts action on `Resource: "*"` (those services
//!   support resource-level permissions, so `*` is wider than needed). GuardDuty and
//!   Organizations grants on `*` are not flagged: most of the actions gdorg uses accept no
//!   narrower resource, and the rest name detectors nobody knows before rollout.
//!
//! A `Deny` with wildcards is never flagged: denying more is safe.

use serde_json::{Map, Value};

use super::actions;
use super::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding of the validator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub severity: Severity,
    /// The statement's index in `Statement` (None: the document as a whole).
    pub statement: Option<usize>,
    /// The statement's Sid, when it has one.
    pub sid: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match (self.statement, &self.sid) {
            (Some(i), Some(sid)) => write!(f, "{sev}: Statement[{i}] ({sid}): {}", self.message),
            (Some(i), None) => write!(f, "{sev}: Statement[{i}]: {}", self.message),
            (None, _) => write!(f, "{sev}: {}", self.message),
        }
    }
}

/// Whether any issue is an error.
pub fn has_errors(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.severity == Severity::Error)
}

/// The statements of a document (a single object counts as a list of one).
pub fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

/// The strings of an element that may be a string or a list of strings.
pub fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's limits on document size, in characters without white space.
const MANAGED_POLICY_MAX: usize = 6144;
/// The default quota for role trust policies (raisable to 4096 by a quota request).
const TRUST_POLICY_MAX: usize = 2048;
/// Organizations' limit on a service control policy.
pub const SCP_MAX: usize = 5120;
/// The smaller of the two resource policies gdorg ships: an S3 bucket policy (20 KB; a KMS key
/// policy may hold 32 KB).
pub const RESOURCE_POLICY_MAX: usize = 20_480;

const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Condition operators IAM knows (each may take `IfExists`, except `Null`, and a set
/// qualifier `ForAllValues:` / `ForAnyValue:`).
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// Whether `op` is a valid Condition operator.
pub fn is_condition_operator(op: &str) -> bool {
    let base = op
        .strip_prefix("ForAllValues:")
        .or_else(|| op.strip_prefix("ForAnyValue:"))
        .unwrap_or(op);
    if OPERATORS.contains(&base) {
        return true;
    }
    base.strip_suffix("IfExists")
        .is_some_and(|b| b != "Null" && OPERATORS.contains(&b))
}

struct Checker {
    issues: Vec<Issue>,
    statement: Option<usize>,
    sid: Option<String>,
}

impl Checker {
    fn push(&mut self, severity: Severity, message: String) {
        self.issues.push(Issue {
            severity,
            statement: self.statement,
            sid: self.sid.clone(),
            message,
        });
    }
    fn error(&mut self, m: impl Into<String>) {
        self.push(Severity::Error, m.into());
    }
    fn warn(&mut self, m: impl Into<String>) {
        self.push(Severity::Warning, m.into());
    }
}

/// Validate `doc` as a policy of `kind`. Issues come sorted by statement, errors first.
pub fn validate(doc: &Value, kind: Kind) -> Vec<Issue> {
    let mut c = Checker {
        issues: Vec::new(),
        statement: None,
        sid: None,
    };
    let Some(top) = doc.as_object() else {
        c.error("a policy must be a JSON object");
        return c.issues;
    };
    for k in top.keys() {
        if !["Version", "Id", "Statement"].contains(&k.as_str()) {
            c.error(format!("unknown top-level element `{k}`"));
        }
    }
    match top.get("Version").and_then(Value::as_str) {
        Some("2012-10-17") => {}
        Some(v) => c.error(format!(
            "Version is `{v}`: use \"2012-10-17\" (older grammars treat ${{...}} variables as text)"
        )),
        None => c.error("Version is missing: add \"Version\": \"2012-10-17\""),
    }
    let list: Vec<&Value> = match top.get("Statement") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        Some(Value::Array(_)) => {
            c.error("Statement is empty");
            Vec::new()
        }
        Some(_) => {
            c.error("Statement must be an object or a list of objects");
            Vec::new()
        }
        None => {
            c.error("Statement is missing");
            Vec::new()
        }
    };
    let mut sids: Vec<String> = Vec::new();
    for (i, st) in list.iter().enumerate() {
        c.statement = Some(i);
        c.sid = st.get("Sid").and_then(Value::as_str).map(str::to_string);
        let Some(st) = st.as_object() else {
            c.error("a statement must be an object");
            continue;
        };
        if let Some(sid) = &c.sid.clone() {
            if sid.is_empty() || !sid.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                c.error(format!("Sid `{sid}` must be letters and digits only"));
            }
            if sids.contains(sid) {
                c.error(format!("Sid `{sid}` is used twice"));
            }
            sids.push(sid.clone());
        } else if st.contains_key("Sid") {
            c.error("Sid must be a string");
        }
        statement(&mut c, st, kind);
    }
    c.statement = None;
    c.sid = None;
    let size = serde_json::to_string(doc)
        .unwrap_or_default()
        .chars()
        .filter(|ch| !ch.is_whitespace())
        .count();
    let max = match kind {
        Kind::Permissions => MANAGED_POLICY_MAX,
        Kind::Trust => TRUST_POLICY_MAX,
        Kind::Scp => SCP_MAX,
        Kind::Resource => RESOURCE_POLICY_MAX,
    };
    if size > max {
        let who = if kind == Kind::Scp {
            "Organizations'"
        } else {
            "IAM's"
        };
        c.error(format!(
            "{size} characters: over {who} limit of {max} for this kind of policy"
        ));
    }
    let mut issues = c.issues;
    issues.sort_by(|a, b| {
        (a.statement, std::cmp::Reverse(a.severity))
            .cmp(&(b.statement, std::cmp::Reverse(b.severity)))
    });
    issues
}

fn statement(c: &mut Checker, st: &Map<String, Value>, kind: Kind) {
    for k in st.keys() {
        if !STATEMENT_KEYS.contains(&k.as_str()) {
            c.error(format!("unknown element `{k}`"));
        }
    }
    let allow = match st.get("Effect").and_then(Value::as_str) {
        Some("Allow") => true,
        Some("Deny") => false,
        Some(e) => {
            c.error(format!("Effect `{e}` must be \"Allow\" or \"Deny\""));
            false
        }
        None => {
            c.error("Effect is missing");
            false
        }
    };
    // Action / NotAction.
    match (st.get("Action"), st.get("NotAction")) {
        (Some(_), Some(_)) => c.error("has both Action and NotAction"),
        (None, None) => c.error("has neither Action nor NotAction"),
        (Some(a), None) => action_list(c, "Action", a, allow),
        (None, Some(a)) => {
            action_list(c, "NotAction", a, allow);
            if allow {
                c.error("Allow with NotAction grants every other action of every service");
            }
        }
    }
    let has_principal = st.contains_key("Principal") || st.contains_key("NotPrincipal");
    let has_resource = st.contains_key("Resource") || st.contains_key("NotResource");
    match kind {
        Kind::Permissions | Kind::Scp => {
            if has_principal {
                c.error(if kind == Kind::Scp {
                    "a service control policy names no Principal (it applies to every principal of the accounts it is attached to; use a Condition on aws:PrincipalArn)"
                } else {
                    "a permissions policy names no Principal (that is a trust or resource policy)"
                });
            }
            match (st.get("Resource"), st.get("NotResource")) {
                (Some(_), Some(_)) => c.error("has both Resource and NotResource"),
                (None, None) => c.error("has neither Resource nor NotResource"),
                (Some(r), None) => resource_list(c, "Resource", r, allow, st),
                (None, Some(r)) => {
                    resource_list(c, "NotResource", r, allow, st);
                    if allow {
                        c.error("Allow with NotResource grants on every other resource");
                    }
                }
            }
        }
        Kind::Resource => {
            if !has_principal {
                c.error("a resource policy statement needs a Principal (who is granted or denied)");
            }
            if st.contains_key("NotPrincipal") && allow {
                c.error("Allow with NotPrincipal grants every other principal");
            }
            if let Some(p) = st.get("Principal") {
                principal(c, p, allow, st.contains_key("Condition"));
            }
            match (st.get("Resource"), st.get("NotResource")) {
                (Some(_), Some(_)) => c.error("has both Resource and NotResource"),
                (None, None) => c.error("has neither Resource nor NotResource"),
                (Some(r), None) => resource_list(c, "Resource", r, allow, st),
                (None, Some(r)) => {
                    resource_list(c, "NotResource", r, allow, st);
                    if allow {
                        c.error("Allow with NotResource grants on every other resource");
                    }
                }
            }
        }
        Kind::Trust => {
            if has_resource {
                c.error("a trust policy names no Resource (the role is the resource)");
            }
            if st.contains_key("NotPrincipal") {
                c.error("NotPrincipal has no place in a trust policy: name the Principal");
            }
            match st.get("Principal") {
                None => c.error("a trust policy statement needs a Principal"),
                Some(p) => principal(c, p, allow, st.contains_key("Condition")),
            }
        }
    }
    if let Some(cond) = st.get("Condition") {
        condition(c, cond);
    }
}

fn string_list<'a>(c: &mut Checker, name: &str, v: &'a Value) -> Vec<&'a str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) if !a.is_empty() => {
            let out: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
            if out.len() != a.len() {
                c.error(format!("{name} must hold strings only"));
            }
            out
        }
        Value::Array(_) => {
            c.error(format!("{name} is empty"));
            Vec::new()
        }
        _ => {
            c.error(format!("{name} must be a string or a list of strings"));
            Vec::new()
        }
    }
}

fn action_list(c: &mut Checker, name: &str, v: &Value, allow: bool) {
    for a in string_list(c, name, v) {
        if a == "*" {
            if allow && name == "Action" {
                c.error("Allow of Action \"*\" grants everything");
            }
            continue;
        }
        let Some((prefix, action)) = a.split_once(':') else {
            c.error(format!("{name} `{a}` must be service:Action"));
            continue;
        };
        let Some(svc) = actions::service(prefix) else {
            c.error(format!(
                "{name} `{a}`: service `{prefix}` is not one gdorg uses (guardduty, organizations, sts, iam, account, s3, kms)"
            ));
            continue;
        };
        if action.contains(['*', '?']) {
            if actions::expand(a).is_empty() {
                c.error(format!("{name} `{a}` matches no {} action", svc.prefix));
            } else if allow && name == "Action" {
                if action == "*" {
                    c.error(format!("Allow of `{a}` grants every {} action", svc.prefix));
                } else {
                    c.warn(format!(
                        "Allow of `{a}` is a wildcard: it grows when AWS adds actions; list them"
                    ));
                }
            }
        } else if actions::canonical(a).is_none() {
            c.error(format!("{name} `{a}` is not a {} action", svc.prefix));
        }
    }
}

fn resource_list(c: &mut Checker, name: &str, v: &Value, allow: bool, st: &Map<String, Value>) {
    for r in string_list(c, name, v) {
        if r == "*" {
            let scoped_services = strings(st.get("Action"))
                .into_iter()
                .filter_map(|a| a.split_once(':').map(|(p, _)| p.to_ascii_lowercase()))
                .filter(|p| p == "iam" || p == "sts")
                .collect::<std::collections::BTreeSet<_>>();
            // sts:GetCallerIdentity takes no resource: `*` is the only way to write it.
            let only_caller_identity = strings(st.get("Action"))
                .iter()
                .all(|a| a.eq_ignore_ascii_case("sts:GetCallerIdentity"));
            if allow && !scoped_services.is_empty() && !only_caller_identity {
                c.warn(format!(
                    "Allow of {} actions on Resource \"*\": name the roles and policies",
                    scoped_services.into_iter().collect::<Vec<_>>().join("/")
                ));
            }
            continue;
        }
        arn(c, name, r);
    }
}

fn arn(c: &mut Checker, name: &str, r: &str) {
    let parts: Vec<&str> = r.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov" | "*")
        && !parts[2].is_empty()
        && !parts[5].is_empty();
    if !ok {
        c.error(format!(
            "{name} `{r}` is not an ARN (arn:partition:service:region:account:resource)"
        ));
        return;
    }
    let account = parts[4];
    if !(account.is_empty()
        || account == "*"
        || account == "aws"
        || (account.len() == 12 && account.chars().all(|ch| ch.is_ascii_digit())))
    {
        c.error(format!(
            "{name} `{r}`: account `{account}` is not 12 digits"
        ));
    }
}

fn principal(c: &mut Checker, p: &Value, allow: bool, has_condition: bool) {
    let open = match p {
        Value::String(s) if s == "*" => true,
        Value::String(s) => {
            c.error(format!(
                "Principal `{s}` must be \"*\" or an object such as {{\"AWS\": ...}}"
            ));
            false
        }
        Value::Object(o) if o.is_empty() => {
            c.error("Principal is empty");
            false
        }
        Value::Object(o) => {
            let mut open = false;
            for (k, v) in o {
                if !["AWS", "Service", "Federated", "CanonicalUser"].contains(&k.as_str()) {
                    c.error(format!(
                        "Principal type `{k}` is not AWS, Service, Federated or CanonicalUser"
                    ));
                    continue;
                }
                for s in string_list(c, &format!("Principal.{k}"), v) {
                    if s == "*" {
                        open = true;
                    } else if k == "AWS"
                        && !(s.len() == 12 && s.chars().all(|ch| ch.is_ascii_digit()))
                    {
                        arn(c, "Principal.AWS", s);
                    }
                }
            }
            open
        }
        _ => {
            c.error("Principal must be \"*\" or an object");
            false
        }
    };
    if open && allow && !has_condition {
        c.error("Allow open to every principal (\"*\") without a Condition: anyone could assume the role, or use the bucket or key");
    }
}

fn condition(c: &mut Checker, cond: &Value) {
    let Some(ops) = cond.as_object() else {
        c.error("Condition must be an object of operators");
        return;
    };
    if ops.is_empty() {
        c.error("Condition is empty: remove it or give a test");
    }
    for (op, block) in ops {
        if !is_condition_operator(op) {
            c.error(format!("unknown Condition operator `{op}`"));
        }
        match block {
            Value::Object(keys) if !keys.is_empty() => {
                for (key, v) in keys {
                    let ok = match v {
                        Value::String(_) | Value::Bool(_) | Value::Number(_) => true,
                        Value::Array(a) => {
                            !a.is_empty()
                                && a.iter().all(|x| {
                                    matches!(
                                        x,
                                        Value::String(_) | Value::Bool(_) | Value::Number(_)
                                    )
                                })
                        }
                        _ => false,
                    };
                    if !ok {
                        c.error(format!(
                            "Condition {op} `{key}` must be a value or a non-empty list of values"
                        ));
                    }
                    if !key.contains(':') {
                        c.error(format!(
                            "Condition key `{key}` must be service:key (e.g. aws:SourceAccount)"
                        ));
                    }
                }
            }
            _ => c.error(format!("Condition {op} must be a non-empty object of keys")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(doc: Value, kind: Kind) -> Vec<String> {
        validate(&doc, kind)
            .into_iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.to_string())
            .collect()
    }

    fn warnings(doc: Value) -> Vec<String> {
        validate(&doc, Kind::Permissions)
            .into_iter()
            .filter(|i| i.severity == Severity::Warning)
            .map(|i| i.to_string())
            .collect()
    }

    fn perm(st: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [st]})
    }

    #[test]
    fn a_good_policy_has_no_issue() {
        let doc = perm(json!({"Sid": "A1", "Effect": "Allow",
            "Action": ["guardduty:ListDetectors", "organizations:ListAccounts"], "Resource": "*"}));
        assert!(validate(&doc, Kind::Permissions).is_empty());
    }

    #[test]
    fn grammar_errors_name_the_statement() {
        let e = errors(json!([]), Kind::Permissions);
        assert_eq!(e, vec!["error: a policy must be a JSON object"]);
        let e = errors(json!({"Statement": []}), Kind::Permissions);
        assert!(e.iter().any(|m| m.contains("Version is missing")), "{e:?}");
        assert!(e.iter().any(|m| m.contains("Statement is empty")), "{e:?}");
        let e = errors(
            json!({"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}}),
            Kind::Permissions,
        );
        assert!(e.iter().any(|m| m.contains("2008-10-17")), "{e:?}");
        let e = errors(
            perm(json!({"Sid": "Bad-Sid", "Effect": "Permit", "Actions": "x"})),
            Kind::Permissions,
        );
        for want in [
            "Statement[0] (Bad-Sid): Sid `Bad-Sid` must be letters and digits only",
            "unknown element `Actions`",
            "Effect `Permit`",
            "neither Action nor NotAction",
            "neither Resource nor NotResource",
        ] {
            assert!(e.iter().any(|m| m.contains(want)), "{want}: {e:?}");
        }
        let e = errors(
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "A", "Effect": "Allow", "Action": "guardduty:ListDetectors", "Resource": "*"},
                {"Sid": "A", "Effect": "Allow", "Action": "guardduty:ListDetectors", "NotResource": "*", "Resource": "*"}]}),
            Kind::Permissions,
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("error: Statement[1] (A): Sid `A` is used twice")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("both Resource and NotResource")),
            "{e:?}"
        );
    }

    #[test]
    fn resource_policies_name_a_principal_and_a_resource() {
        let st = |extra: Value| {
            let mut st = json!({"Effect": "Allow", "Action": "s3:PutObject",
                "Principal": {"Service": "guardduty.amazonaws.com"},
                "Resource": "arn:aws:s3:::findings/*"});
            for (k, v) in extra.as_object().unwrap() {
                st[k] = v.clone();
            }
            st.as_object_mut().unwrap().retain(|_, v| !v.is_null());
            json!({"Version": "2012-10-17", "Statement": [st]})
        };
        assert!(validate(&st(json!({})), Kind::Resource).is_empty());
        let no_principal = errors(st(json!({"Principal": null})), Kind::Resource);
        assert!(
            no_principal.iter().any(|m| m.contains("needs a Principal")),
            "{no_principal:?}"
        );
        let no_resource = errors(st(json!({"Resource": null})), Kind::Resource);
        assert!(
            no_resource
                .iter()
                .any(|m| m.contains("neither Resource nor NotResource")),
            "{no_resource:?}"
        );
        let open = errors(
            st(json!({"Principal": "*", "Action": "kms:GenerateDataKey"})),
            Kind::Resource,
        );
        assert!(
            open.iter().any(|m| m.contains("open to every principal")),
            "{open:?}"
        );
        // The same statement is refused as a permissions policy (it names a Principal).
        assert!(!errors(st(json!({})), Kind::Permissions).is_empty());
    }

    #[test]
    fn action_names_are_checked_against_the_services() {
        let e = errors(
            perm(json!({"Effect": "Allow", "Resource": "*", "Action": [
                "guardduty:ListDetector", "ec2:RunInstances", "s3:GetObject", "ListDetectors",
                "guardduty:Nothing*"]})),
            Kind::Permissions,
        );
        assert!(
            e.iter()
                .any(|m| m.contains("`guardduty:ListDetector` is not a guardduty action")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("service `ec2` is not one gdorg uses")),
            "{e:?}"
        );
        // s3 is known for the export policies' actions only.
        assert!(
            e.iter()
                .any(|m| m.contains("`s3:GetObject` is not a s3 action")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("`ListDetectors` must be service:Action")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("`guardduty:Nothing*` matches no")),
            "{e:?}"
        );
        // IAM compares action names case-insensitively.
        assert!(errors(
            perm(json!({"Effect": "Allow", "Resource": "*", "Action": "GuardDuty:listDetectors"})),
            Kind::Permissions
        )
        .is_empty());
    }

    #[test]
    fn wildcards_grant_levels() {
        for st in [
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "guardduty:*", "Resource": "*"}),
            json!({"Effect": "Allow", "NotAction": "guardduty:ArchiveFindings", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "guardduty:ListDetectors", "NotResource": "arn:aws:iam::*:role/x"}),
        ] {
            assert!(
                !errors(perm(st.clone()), Kind::Permissions).is_empty(),
                "{st}"
            );
        }
        let w = warnings(perm(
            json!({"Effect": "Allow", "Action": "guardduty:Get*", "Resource": "*"}),
        ));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("wildcard"));
        let w = warnings(perm(
            json!({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}),
        ));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(warnings(perm(
            json!({"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"})
        ))
        .is_empty());
        // Denying broadly is fine.
        assert!(validate(
            &perm(json!({"Effect": "Deny", "Action": "guardduty:*", "Resource": "*"})),
            Kind::Permissions
        )
        .is_empty());
    }

    #[test]
    fn resources_must_be_arns() {
        let e = errors(
            perm(
                json!({"Effect": "Allow", "Action": "iam:GetRole", "Resource": [
                "role/x", "arn:aws:iam::12345:role/x", "arn:aws:iam::123456789012:role/ok"]}),
            ),
            Kind::Permissions,
        );
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn trust_policy_grammar() {
        let good = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}]});
        assert!(validate(&good, Kind::Trust).is_empty());
        // A trust policy is not a permissions policy, and the other way round.
        assert!(!errors(good.clone(), Kind::Permissions).is_empty());
        let e = errors(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                "Action": "sts:AssumeRole", "Resource": "*"}]}),
            Kind::Trust,
        );
        assert!(e.iter().any(|m| m.contains("names no Resource")), "{e:?}");
        assert!(e.iter().any(|m| m.contains("anyone could assume")), "{e:?}");
        let e = errors(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Robot": "x"}, "Action": "sts:AssumeRole"}]}),
            Kind::Trust,
        );
        assert!(
            e.iter().any(|m| m.contains("Principal type `Robot`")),
            "{e:?}"
        );
        let e = errors(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
            Kind::Trust,
        );
        assert!(e.iter().any(|m| m.contains("needs a Principal")), "{e:?}");
    }

    #[test]
    fn condition_operators() {
        for ok in [
            "StringEquals",
            "StringLikeIfExists",
            "ForAnyValue:StringLike",
            "ForAllValues:ArnLikeIfExists",
            "Null",
            "Bool",
        ] {
            assert!(is_condition_operator(ok), "{ok}");
        }
        for bad in [
            "StringEqual",
            "NullIfExists",
            "ForSomeValues:StringLike",
            "stringequals",
        ] {
            assert!(!is_condition_operator(bad), "{bad}");
        }
        let e = errors(
            perm(
                json!({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::*:role/x",
                "Condition": {"StringEqual": {"aws:SourceAccount": "1"}, "StringLike": {}, "Bool": {"nokey": []}}}),
            ),
            Kind::Permissions,
        );
        assert!(
            e.iter()
                .any(|m| m.contains("unknown Condition operator `StringEqual`")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("StringLike must be a non-empty object")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m.contains("`nokey` must be a value")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m.contains("`nokey` must be service:key")),
            "{e:?}"
        );
        let e = errors(
            perm(
                json!({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::*:role/x", "Condition": {}}),
            ),
            Kind::Permissions,
        );
        assert!(e.iter().any(|m| m.contains("Condition is empty")), "{e:?}");
    }

    #[test]
    fn size_limit() {
        let many: Vec<String> = actions::all().collect();
        let doc = perm(json!({"Effect": "Deny", "Action": many, "Resource": "*"}));
        let e = errors(doc, Kind::Permissions);
        assert!(
            e.iter().any(|m| m.contains("over IAM's limit of 6144")),
            "{e:?}"
        );
    }
}
