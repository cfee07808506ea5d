//! The policy language as IAM evaluates it: statements, `Action`/`NotAction`,
//! `Resource`/`NotResource`, `Principal`/`NotPrincipal` (resource policies) and `Condition`
//! with the common operators, against one request's action, resource and context keys.
//!
//! Pure: [`super::authz`] decides which documents apply to a request and what each decision
//! means; this module only says whether one document allows, denies or says nothing.
//!
//! The rules implemented (IAM User Guide, "Policy evaluation logic" and "Condition operators"):
//! - an action matches case-insensitively, with `*` and `?`;
//! - a resource ARN matches segment by segment (a wildcard does not cross the `:` between
//!   partition, service, region and account; it may inside the resource part), case-sensitively;
//! - every operator block of a Condition and every key in it must hold (AND); a key's values
//!   are alternatives (OR); a key missing from the request makes a positive operator false and a
//!   negated one (`StringNotEquals`, `ArnNotLike` ...) true; `...IfExists` holds when the key is
//!   missing; `Null` tests presence; `ForAnyValue:`/`ForAllValues:` qualify multivalued keys;
//! - an unknown operator never holds, so a condition the sandbox cannot read grants nothing
//!   (and, in a Deny, denies nothing).

use std::collections::BTreeMap;

use serde_json::Value;

/// What one request asks for, as policies see it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `service:Operation`.
    pub action: String,
    /// The resource ARN, or `*` for actions that take no resource.
    pub resource: String,
    /// Context keys (lower-cased) and their values.
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Request {
        Request {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    /// Set context key `key` (case-insensitive, as IAM treats key names) to one value.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Request {
        self.set(key, value);
        self
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.context
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    fn get(&self, key: &str) -> Option<&[String]> {
        self.context
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }
}

/// What one document says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A Deny statement matched: it wins over every Allow.
    ExplicitDeny,
    /// No statement matched.
    NotApplicable,
}

/// Evaluate an identity policy or an SCP (statements name no principal).
pub fn evaluate(doc: &Value, req: &Request) -> Decision {
    evaluate_with(doc, req, |_| true)
}

/// Evaluate a document whose statements may name principals; `principal` says whether a
/// `Principal` element names the caller (a statement without one applies to everyone).
pub fn evaluate_with(doc: &Value, req: &Request, principal: impl Fn(&Value) -> bool) -> Decision {
    let mut allowed = false;
    for s in statements(doc) {
        let who = match (s.get("Principal"), s.get("NotPrincipal")) {
            (Some(p), None) => principal(p),
            (None, Some(p)) => !principal(p),
            (None, None) => true,
            _ => false,
        };
        if !who || !statement_matches(s, req) {
            continue;
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Decision::ExplicitDeny,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::NotApplicable
    }
}

/// The statements of a document (one object counts as a list of one).
pub fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// Whether a statement's action, resource and condition match (principal aside).
fn statement_matches(s: &Value, req: &Request) -> bool {
    let action = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), None) => strings(a).iter().any(|p| action_matches(p, &req.action)),
        (None, Some(a)) => !strings(a).iter().any(|p| action_matches(p, &req.action)),
        _ => false,
    };
    // A statement without Resource (trust policies: the role is the resource) covers it.
    let resource = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), None) => strings(r)
            .iter()
            .any(|p| resource_matches(p, &req.resource)),
        (None, Some(r)) => !strings(r)
            .iter()
            .any(|p| resource_matches(p, &req.resource)),
        (None, None) => true,
        _ => false,
    };
    action && resource && s.get("Condition").is_none_or(|c| conditions_hold(c, req))
}

/// A string or a list of strings, as the grammar allows for most elements.
pub fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// IAM's action match: case-insensitive, `*` and `?`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob(
        &pattern.to_ascii_lowercase().chars().collect::<Vec<_>>(),
        &action.to_ascii_lowercase().chars().collect::<Vec<_>>(),
    )
}

/// A resource pattern against a resource: `*` matches anything; ARNs match segment by segment.
pub fn resource_matches(pattern: &str, resource: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    arn_like(pattern, resource)
}

/// `ArnLike`: the six segments of an ARN each match their pattern (the last one, the
/// resource, may hold `:` and `/`).
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != 6 || a.len() != 6 {
        return glob_exact(pattern, arn);
    }
    p.iter().zip(&a).all(|(p, a)| glob_exact(p, a))
}

fn glob(p: &[char], v: &[char]) -> bool {
    // Two pointers, backtracking to the last `*`.
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Case-sensitive wildcard match (condition values and resources keep their case).
pub fn glob_exact(pattern: &str, value: &str) -> bool {
    glob(
        &pattern.chars().collect::<Vec<_>>(),
        &value.chars().collect::<Vec<_>>(),
    )
}

fn conditions_hold(cond: &Value, req: &Request) -> bool {
    let Some(ops) = cond.as_object() else {
        return false;
    };
    ops.iter().all(|(op, block)| {
        let Some(block) = block.as_object() else {
            return false;
        };
        block.iter().all(|(key, expected)| {
            let expected: Vec<String> = match expected {
                Value::Array(items) => items.iter().filter_map(scalar).collect(),
                v => scalar(v).into_iter().collect(),
            };
            operator_holds(op, req.get(key), &expected)
        })
    })
}

/// Condition values may be strings, numbers or booleans; all compare as text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn operator_holds(op: &str, actual: Option<&[String]>, expected: &[String]) -> bool {
    let (set, op) = if let Some(rest) = op.strip_prefix("ForAnyValue:") {
        (Some(true), rest)
    } else if let Some(rest) = op.strip_prefix("ForAllValues:") {
        (Some(false), rest)
    } else {
        (None, op)
    };
    if op == "Null" {
        let present = actual.is_some_and(|v| !v.is_empty());
        return expected.iter().any(|e| (e == "true") != present);
    }
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (op, false),
    };
    let Some(base) = Operator::parse(op) else {
        return false;
    };
    let values = match actual {
        Some(v) if !v.is_empty() => v,
        // A missing key: true for IfExists, ForAllValues and negated operators; false else.
        _ => return if_exists || set == Some(false) || base.negated,
    };
    let one = |v: &str| base.holds(v, expected);
    match set {
        Some(true) => values.iter().any(|v| one(v)),
        Some(false) => values.iter().all(|v| one(v)),
        None => values.iter().any(|v| one(v)),
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    ArnEquals,
    ArnLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    Bool,
}

#[derive(Debug, Clone, Copy)]
struct Operator {
    kind: Kind,
    /// The `Not` form: true when no expected value matches.
    negated: bool,
}

impl Operator {
    fn parse(op: &str) -> Option<Operator> {
        let (kind, negated) = match op {
            "StringEquals" => (Kind::StringEquals, false),
            "StringNotEquals" => (Kind::StringEquals, true),
            "StringEqualsIgnoreCase" => (Kind::StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Kind::StringEqualsIgnoreCase, true),
            "StringLike" => (Kind::StringLike, false),
            "StringNotLike" => (Kind::StringLike, true),
            "ArnEquals" => (Kind::ArnEquals, false),
            "ArnNotEquals" => (Kind::ArnEquals, true),
            "ArnLike" => (Kind::ArnLike, false),
            "ArnNotLike" => (Kind::ArnLike, true),
            "NumericEquals" => (Kind::NumericEquals, false),
            "NumericNotEquals" => (Kind::NumericEquals, true),
            "NumericLessThan" => (Kind::NumericLessThan, false),
            "NumericLessThanEquals" => (Kind::NumericLessThanEquals, false),
            "NumericGreaterThan" => (Kind::NumericGreaterThan, false),
            "NumericGreaterThanEquals" => (Kind::NumericGreaterThanEquals, false),
            "Bool" => (Kind::Bool, false),
            _ => return None,
        };
        Some(Operator { kind, negated })
    }

    fn holds(&self, actual: &str, expected: &[String]) -> bool {
        let num = |s: &str| s.trim().parse::<f64>().ok();
        let any = expected.iter().any(|e| match self.kind {
            Kind::StringEquals => actual == e,
            Kind::StringEqualsIgnoreCase => actual.eq_ignore_ascii_case(e),
            Kind::StringLike => glob_exact(e, actual),
            // ArnEquals and ArnLike behave alike: both take wildcards, segment by segment.
            Kind::ArnEquals | Kind::ArnLike => arn_like(e, actual),
            Kind::Bool => actual.eq_ignore_ascii_case(e),
            Kind::NumericEquals
            | Kind::NumericLessThan
            | Kind::NumericLessThanEquals
            | Kind::NumericGreaterThan
            | Kind::NumericGreaterThanEquals => match (num(actual), num(e)) {
                (Some(a), Some(e)) => match self.kind {
                    Kind::NumericEquals => a == e,
                    Kind::NumericLessThan => a < e,
                    Kind::NumericLessThanEquals => a <= e,
                    Kind::NumericGreaterThan => a > e,
                    _ => a >= e,
                },
                _ => false,
            },
        });
        any != self.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn req(action: &str, resource: &str) -> Request {
        Request::new(action, resource)
            .with(
                "aws:PrincipalArn",
                "arn:aws:iam::222222222222:role/GdorgExecutionRole",
            )
            .with("aws:RequestedRegion", "eu-west-1")
    }

    #[test]
    fn actions_match_case_insensitively_with_wildcards_and_not_action() {
        let d = doc(
            json!([{"Effect": "Allow", "Action": ["guardduty:Get*", "IAM:listroles"], "Resource": "*"}]),
        );
        assert_eq!(
            evaluate(&d, &req("guardduty:GetDetector", "*")),
            Decision::Allow
        );
        assert_eq!(evaluate(&d, &req("iam:ListRoles", "*")), Decision::Allow);
        assert_eq!(
            evaluate(&d, &req("guardduty:ListDetectors", "*")),
            Decision::NotApplicable
        );
        let not = doc(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}));
        assert_eq!(
            evaluate(&not, &req("guardduty:ListDetectors", "*")),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&not, &req("iam:GetRole", "*")),
            Decision::NotApplicable
        );
    }

    #[test]
    fn resources_match_by_segment_and_not_resource() {
        let d = doc(
            json!({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::*:role/Gdorg*"}),
        );
        let role = "arn:aws:iam::222222222222:role/GdorgExecutionRole";
        assert_eq!(evaluate(&d, &req("iam:GetRole", role)), Decision::Allow);
        assert_eq!(
            evaluate(
                &d,
                &req("iam:GetRole", "arn:aws:iam::222222222222:role/Other")
            ),
            Decision::NotApplicable
        );
        // A specific ARN does not cover an action that authorises on `*`.
        assert_eq!(
            evaluate(&d, &req("iam:GetRole", "*")),
            Decision::NotApplicable
        );
        // The account segment's wildcard does not reach into the resource.
        assert!(!arn_like(
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::1:2:role/x"
        ));
        let not = doc(
            json!({"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:iam::*:policy/gdorg/*"}),
        );
        assert_eq!(
            evaluate(&not, &req("iam:GetPolicy", "arn:aws:iam::1:policy/gdorg/p")),
            Decision::NotApplicable
        );
        assert_eq!(
            evaluate(&not, &req("iam:GetPolicy", "arn:aws:iam::1:policy/x")),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn deny_wins_over_allow() {
        let d = doc(json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "guardduty:DeleteDetector", "Resource": "*"}
        ]));
        assert_eq!(
            evaluate(&d, &req("guardduty:DeleteDetector", "*")),
            Decision::ExplicitDeny
        );
        assert_eq!(
            evaluate(&d, &req("guardduty:GetDetector", "*")),
            Decision::Allow
        );
    }

    #[test]
    fn conditions_and_missing_keys() {
        let cond = |c: Value| {
            doc(json!({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": c}))
        };
        let r = req("guardduty:DeleteDetector", "*");
        let denies = |c: Value| evaluate(&cond(c), &r) == Decision::ExplicitDeny;
        assert!(!denies(
            json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/GdorgExecutionRole"}})
        ));
        assert!(denies(
            json!({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Other"}})
        ));
        assert!(denies(
            json!({"StringEquals": {"aws:requestedregion": ["us-east-1", "eu-west-1"]}})
        ));
        assert!(denies(
            json!({"StringLike": {"aws:RequestedRegion": "eu-*"}})
        ));
        // Missing keys: positive operators fail, negated ones hold, IfExists holds.
        assert!(!denies(
            json!({"StringEquals": {"iam:PassedToService": "guardduty.amazonaws.com"}})
        ));
        assert!(denies(
            json!({"StringNotEquals": {"iam:PassedToService": "guardduty.amazonaws.com"}})
        ));
        assert!(denies(
            json!({"StringEqualsIfExists": {"iam:PassedToService": "x"}})
        ));
        assert!(denies(json!({"Null": {"iam:PassedToService": "true"}})));
        assert!(!denies(json!({"Null": {"aws:RequestedRegion": "true"}})));
        // Every block must hold.
        assert!(!denies(json!({
            "StringLike": {"aws:RequestedRegion": "eu-*"},
            "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}
        })));
        // An operator the sandbox does not know never holds.
        assert!(!denies(
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
        ));
        assert!(!denies(json!({"Bool": {"aws:ViaAWSService": "false"}})));
    }

    #[test]
    fn principals_in_resource_policies() {
        let d = doc(
            json!({"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}),
        );
        let r = Request::new("sts:AssumeRole", "arn:aws:iam::2:role/r");
        assert_eq!(
            evaluate_with(&d, &r, |p| p["AWS"] == "111111111111"),
            Decision::Allow
        );
        assert_eq!(evaluate_with(&d, &r, |_| false), Decision::NotApplicable);
    }
}
