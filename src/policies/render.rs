//! Rendering a template: `${variable}` substitution on the parsed JSON (never on the text, so a
//! value can not break out of its string), with every value checked before it is used.
//!
//! Rules:
//! - a `${name}` that is not one of [`super::VARIABLES`] is an error naming it; IAM's own policy
//!   variables (`${aws:username}`, anything with a `:`) are left for IAM;
//! - a required variable with neither a value nor a default is an error naming it;
//! - an optional variable left unset (the external id) may only be a whole Condition value:
//!   the key is then left out, an operator left empty goes, and so does an empty Condition.
//!   Rendering `"sts:ExternalId": ""` instead would require an empty external id, which is
//!   either a lockout or, worse, a condition anyone can meet.

use std::collections::BTreeMap;

use serde_json::Value;

/// Values for the template variables (`--var name=value`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    values: BTreeMap<String, String>,
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("unknown variable `${{{name}}}` (known: {known})")]
    UnknownVariable { name: String, known: String },
    #[error("malformed placeholder `{text}`: write `${{name}}` with a lower-case name")]
    MalformedPlaceholder { text: String },
    #[error("missing variable `{name}` ({description}); give it with --var {name}=VALUE")]
    MissingVariable {
        name: String,
        description: &'static str,
    },
    #[error("optional variable `{name}` is unset but used outside a Condition value, at {path}")]
    OptionalOutsideCondition { name: String, path: String },
    #[error("--var {0}: expected NAME=VALUE")]
    BadAssignment(String),
    #[error("invalid value for `{name}`: {reason}")]
    BadValue { name: String, reason: String },
}

impl Vars {
    /// Set `name` to `value`, refusing unknown names and malformed values.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), RenderError> {
        if super::variable(name).is_none() {
            return Err(unknown(name));
        }
        check_value(name, value).map_err(|reason| RenderError::BadValue {
            name: name.to_string(),
            reason,
        })?;
        self.values.insert(name.to_string(), value.to_string());
        Ok(())
    }

    /// Set from `NAME=VALUE`.
    pub fn assign(&mut self, assignment: &str) -> Result<(), RenderError> {
        let (k, v) = assignment
            .split_once('=')
            .ok_or_else(|| RenderError::BadAssignment(assignment.to_string()))?;
        self.set(k.trim(), v)
    }

    /// Vars from `--var` flags.
    pub fn from_assignments<S: AsRef<str>>(items: &[S]) -> Result<Vars, RenderError> {
        let mut vars = Vars::default();
        for a in items {
            vars.assign(a.as_ref())?;
        }
        Ok(vars)
    }

    /// Every variable set to its documented example (what `validate NAME` renders with when
    /// no value is given: the grammar does not depend on the values).
    pub fn examples() -> Vars {
        Vars {
            values: super::VARIABLES
                .iter()
                .map(|v| (v.name.to_string(), v.example.to_string()))
                .collect(),
        }
    }

    /// Fill every variable not set yet from `other`.
    pub fn or(mut self, other: &Vars) -> Vars {
        for (k, v) in &other.values {
            self.values.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self
    }

    /// The value of `name`: given, else its default.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .or_else(|| super::variable(name).and_then(|v| v.default))
    }

    /// Whether a value was given (defaults do not count).
    pub fn is_set(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

fn unknown(name: &str) -> RenderError {
    RenderError::UnknownVariable {
        name: name.to_string(),
        known: super::VARIABLES
            .iter()
            .map(|v| v.name)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Check a value against what IAM accepts where the variable is used. Values end up inside
/// ARNs and conditions: a `*` in a role name would silently widen a grant, so each variable
/// has the character set of the thing it names.
fn check_value(name: &str, value: &str) -> Result<(), String> {
    let all = |ok: &dyn Fn(char) -> bool| value.chars().all(ok);
    match name {
        "partition" => match value {
            "aws" | "aws-cn" | "aws-us-gov" => Ok(()),
            _ => Err(format!(
                "`{value}` is not a partition (aws, aws-cn, aws-us-gov)"
            )),
        },
        "admin_account_id" | "account_id" => {
            if value.len() == 12 && all(&|c| c.is_ascii_digit()) {
                Ok(())
            } else {
                Err(format!("`{value}` is not a 12-digit account id"))
            }
        }
        "member_role_name" => {
            if (1..=64).contains(&value.len())
                && all(&|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            {
                Ok(())
            } else {
                Err(format!(
                    "`{value}` is not an IAM role name (1-64 of letters, digits and +=,.@_-)"
                ))
            }
        }
        "external_id" => {
            // STS: 2-1224 characters of [\w+=,.@:\/-].
            if (2..=1224).contains(&value.len())
                && all(&|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c))
            {
                Ok(())
            } else {
                Err("not an external id (2-1224 of letters, digits and +=,.@:/_-)".into())
            }
        }
        "export_bucket_arn" => {
            // A bucket, not a folder: the templates append `/*` themselves.
            let bucket = value
                .strip_prefix("arn:")
                .and_then(|r| r.split_once(":s3:::"))
                .filter(|(p, _)| matches!(*p, "aws" | "aws-cn" | "aws-us-gov"))
                .map(|(_, b)| b);
            match bucket {
                Some(b)
                    if (3..=63).contains(&b.len())
                        && b.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
                        }) =>
                {
                    Ok(())
                }
                _ => Err(format!(
                    "`{value}` is not a bucket ARN (arn:PARTITION:s3:::BUCKET, without a folder)"
                )),
            }
        }
        "export_kms_key_arn" => {
            let parts: Vec<&str> = value.splitn(6, ':').collect();
            let ok = matches!(parts.as_slice(), ["arn", p, "kms", region, account, key]
            if matches!(*p, "aws" | "aws-cn" | "aws-us-gov")
                && !region.is_empty()
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && key.strip_prefix("key/").is_some_and(|id| {
                    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                }));
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "`{value}` is not a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/ID)"
                ))
            }
        }
        _ => Ok(()),
    }
}

/// A placeholder found in a string.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Split `s` into text and `${name}` pieces; IAM policy variables (`${aws:username}`) stay text.
fn pieces(s: &str) -> Result<Vec<Piece<'_>>, RenderError> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(RenderError::MalformedPlaceholder {
                text: rest[start..].to_string(),
            });
        };
        let name = &after[..end];
        if name.contains(':') {
            // IAM's own variable: keep it verbatim.
            out.push(Piece::Text(&rest[..start + 2 + end + 1]));
        } else {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(RenderError::MalformedPlaceholder {
                    text: format!("${{{name}}}"),
                });
            }
            if start > 0 {
                out.push(Piece::Text(&rest[..start]));
            }
            out.push(Piece::Var(name));
        }
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// Every variable name used in `doc` (keys and values), each once, in order of appearance.
pub fn variables_used(doc: &Value) -> Result<Vec<String>, RenderError> {
    let mut names = Vec::new();
    let mut err = None;
    walk_strings(doc, &mut |s| match pieces(s) {
        Ok(ps) => {
            for p in ps {
                if let Piece::Var(n) = p {
                    if !names.iter().any(|x| x == n) {
                        names.push(n.to_string());
                    }
                }
            }
        }
        Err(e) => {
            err.get_or_insert(e);
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(names),
    }
}

fn walk_strings(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| walk_strings(x, f)),
        Value::Object(o) => {
            for (k, x) in o {
                f(k);
                walk_strings(x, f);
            }
        }
        _ => {}
    }
}

/// Parse JSON text, with the position of a syntax error.
pub fn parse_json(text: &str) -> Result<Value, RenderError> {
    serde_json::from_str(text).map_err(|e| RenderError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Render a template text with `vars`.
pub fn render(text: &str, vars: &Vars) -> Result<Value, RenderError> {
    let mut doc = parse_json(text)?;
    let used = variables_used(&doc)?;
    for name in &used {
        if super::variable(name).is_none() {
            return Err(unknown(name));
        }
    }
    for name in &used {
        let var = super::variable(name).expect("checked above");
        if !var.optional && vars.get(name).is_none() {
            return Err(RenderError::MissingVariable {
                name: name.clone(),
                description: var.description,
            });
        }
    }
    let unset: Vec<&str> = used
        .iter()
        .map(String::as_str)
        .filter(|n| super::variable(n).is_some_and(|v| v.optional) && vars.get(n).is_none())
        .collect();
    if !unset.is_empty() {
        drop_unset_conditions(&mut doc, &unset);
        if let Some((name, path)) = find_var(&doc, &unset, "$") {
            return Err(RenderError::OptionalOutsideCondition { name, path });
        }
    }
    substitute(&mut doc, vars);
    Ok(doc)
}

/// Whether `v` (a condition value: string or list of strings) is made only of whole
/// placeholders of unset optional variables.
fn only_unset_placeholders(v: &Value, unset: &[&str]) -> bool {
    let is_unset =
        |s: &str| matches!(pieces(s).as_deref(), Ok([Piece::Var(n)]) if unset.contains(n));
    match v {
        Value::String(s) => is_unset(s),
        Value::Array(a) => !a.is_empty() && a.iter().all(|x| x.as_str().is_some_and(is_unset)),
        _ => false,
    }
}

fn drop_unset_conditions(doc: &mut Value, unset: &[&str]) {
    let statements: Vec<&mut Value> = match doc.get_mut("Statement") {
        Some(Value::Array(a)) => a.iter_mut().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => return,
    };
    for st in statements {
        let Some(obj) = st.as_object_mut() else {
            continue;
        };
        let Some(Value::Object(cond)) = obj.get_mut("Condition") else {
            continue;
        };
        for block in cond.values_mut() {
            if let Value::Object(keys) = block {
                keys.retain(|_, v| !only_unset_placeholders(v, unset));
            }
        }
        cond.retain(|_, block| !matches!(block, Value::Object(k) if k.is_empty()));
        if cond.is_empty() {
            obj.remove("Condition");
        }
    }
}

/// The first use of one of `names`, with a JSON path to it.
fn find_var(v: &Value, names: &[&str], path: &str) -> Option<(String, String)> {
    let hit = |s: &str| -> Option<String> {
        pieces(s).ok()?.into_iter().find_map(|p| match p {
            Piece::Var(n) if names.contains(&n) => Some(n.to_string()),
            _ => None,
        })
    };
    match v {
        Value::String(s) => hit(s).map(|n| (n, path.to_string())),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| find_var(x, names, &format!("{path}[{i}]"))),
        Value::Object(o) => o.iter().find_map(|(k, x)| {
            let p = format!("{path}.{k}");
            hit(k)
                .map(|n| (n, p.clone()))
                .or_else(|| find_var(x, names, &p))
        }),
        _ => None,
    }
}

fn substitute_str(s: &str, vars: &Vars) -> String {
    match pieces(s) {
        Ok(ps) => ps
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t.to_string(),
                Piece::Var(n) => vars.get(n).unwrap_or_default().to_string(),
            })
            .collect(),
        Err(_) => s.to_string(),
    }
}

fn substitute(v: &mut Value, vars: &Vars) {
    match v {
        Value::String(s) => *s = substitute_str(s, vars),
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, vars)),
        Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut x) in old {
                substitute(&mut x, vars);
                o.insert(substitute_str(&k, vars), x);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[&str]) -> Vars {
        Vars::from_assignments(pairs).unwrap()
    }

    #[test]
    fn substitutes_inside_strings_and_keeps_iam_variables() {
        let doc = render(
            r#"{"A": "arn:${partition}:iam::${admin_account_id}:user/${aws:username}"}"#,
            &vars(&["admin_account_id=123456789012"]),
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"A": "arn:aws:iam::123456789012:user/${aws:username}"})
        );
    }

    #[test]
    fn unknown_and_missing_variables_are_named() {
        let e = render(r#"{"A": "${nope}"}"#, &Vars::default()).unwrap_err();
        assert!(matches!(&e, RenderError::UnknownVariable { name, .. } if name == "nope"));
        assert!(e.to_string().contains("${nope}"), "{e}");
        let e = render(r#"{"A": "${admin_account_id}"}"#, &Vars::default()).unwrap_err();
        assert!(
            matches!(&e, RenderError::MissingVariable { name, .. } if name == "admin_account_id")
        );
        assert!(e.to_string().contains("--var admin_account_id="), "{e}");
        let e = Vars::default().assign("color=blue").unwrap_err();
        assert!(matches!(e, RenderError::UnknownVariable { .. }));
        assert!(matches!(
            Vars::default().assign("novalue"),
            Err(RenderError::BadAssignment(_))
        ));
    }

    #[test]
    fn values_are_checked() {
        let mut v = Vars::default();
        for bad in [
            "admin_account_id=12345",
            "admin_account_id=12345678901x",
            "partition=aws-mars",
            "member_role_name=*",
            "member_role_name=a/b",
            "external_id=x",
            "external_id=has space",
        ] {
            assert!(
                matches!(v.assign(bad), Err(RenderError::BadValue { .. })),
                "{bad}"
            );
        }
        v.assign("external_id=abc:def/ghi").unwrap();
        assert_eq!(v.get("partition"), Some("aws"), "defaults apply");
        assert!(!v.is_set("partition"));
    }

    #[test]
    fn values_cannot_break_out_of_their_string() {
        // Values are checked, and substitution happens on parsed strings anyway.
        let mut v = Vars::default();
        assert!(v.set("external_id", "a\",\"Effect\":\"Allow").is_err());
    }

    #[test]
    fn malformed_placeholders_are_refused() {
        for t in [
            r#"{"A": "${Partition}"}"#,
            r#"{"A": "${partition"}"#,
            r#"{"A": "${}"}"#,
        ] {
            assert!(
                matches!(
                    render(t, &Vars::default()),
                    Err(RenderError::MalformedPlaceholder { .. })
                ),
                "{t}"
            );
        }
    }

    #[test]
    fn unset_optional_drops_its_condition_and_only_there() {
        let text = r#"{"Statement": [{"Effect": "Allow", "Condition": {
            "StringEquals": {"sts:ExternalId": "${external_id}", "aws:PrincipalAccount": "1"},
            "StringLike": {"sts:ExternalId": ["${external_id}"]}}}]}"#;
        let doc = render(text, &Vars::default()).unwrap();
        assert_eq!(
            doc["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:PrincipalAccount": "1"}})
        );
        let only = r#"{"Statement": {"Effect": "Allow", "Condition": {"StringEquals": {"sts:ExternalId": "${external_id}"}}}}"#;
        let doc = render(only, &Vars::default()).unwrap();
        assert_eq!(doc["Statement"], json!({"Effect": "Allow"}));
        // Part of a longer string, or outside a condition: an error, not a silent blank.
        for bad in [
            r#"{"Statement": [{"Condition": {"StringEquals": {"k": "id-${external_id}"}}}]}"#,
            r#"{"Statement": [{"Resource": "${external_id}"}]}"#,
        ] {
            let e = render(bad, &Vars::default()).unwrap_err();
            assert!(
                matches!(&e, RenderError::OptionalOutsideCondition { name, .. } if name == "external_id"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn json_errors_have_a_position() {
        let e = render("{\n  \"A\": [1,\n}", &Vars::default()).unwrap_err();
        assert!(matches!(e, RenderError::Json { line: 3, .. }), "{e:?}");
    }

    #[test]
    fn lists_used_variables_once() {
        let doc = json!({"a": "${partition}${partition}", "${account_id}": ["${partition}"]});
        assert_eq!(
            variables_used(&doc).unwrap(),
            vec!["account_id".to_string(), "partition".to_string()]
        );
    }
}
