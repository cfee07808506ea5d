//! Policy documents as IAM hands them back, and when two of them mean the same thing.
//!
//! IAM returns documents (`AssumeRolePolicyDocument`, `PolicyVersion.Document`) URL-encoded,
//! and keeps them as they were sent: white space, key order, a string versus a one-element
//! list. Comparing text would make every re-apply create a new version; comparing the decoded,
//! normalised JSON makes re-apply a no-op.

use serde_json::Value;

/// Decode a document IAM returned: percent-decode (RFC 3986; `+` stays `+`), then parse.
/// Text that is already plain JSON is accepted too.
pub fn decode(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    let decoded = percent_decode(text)?;
    serde_json::from_str(&decoded).ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Elements whose value may be one string or a list of strings, in any order.
const SET_ELEMENTS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];

/// The normal form: `Statement` always a list; Action/Resource (and their Not forms),
/// Principal values and Condition values always sorted, de-duplicated lists.
pub fn normalize(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let Some(top) = doc.as_object_mut() else {
        return doc;
    };
    if let Some(st) = top.get_mut("Statement") {
        if st.is_object() {
            *st = Value::Array(vec![st.take()]);
        }
        if let Value::Array(list) = st {
            for s in list.iter_mut().filter_map(Value::as_object_mut) {
                for k in SET_ELEMENTS {
                    if let Some(v) = s.get_mut(*k) {
                        *v = as_set(v);
                    }
                }
                for k in ["Principal", "NotPrincipal"] {
                    if let Some(Value::Object(p)) = s.get_mut(k) {
                        p.values_mut().for_each(|v| *v = as_set(v));
                    }
                }
                if let Some(Value::Object(c)) = s.get_mut("Condition") {
                    for block in c.values_mut().filter_map(Value::as_object_mut) {
                        block.values_mut().for_each(|v| *v = as_set(v));
                    }
                }
            }
        }
    }
    doc
}

/// A scalar or list as a sorted, de-duplicated list (scalars compared by their JSON text).
fn as_set(v: &Value) -> Value {
    let mut items: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    items.sort_by_key(|x| x.to_string());
    items.dedup();
    Value::Array(items)
}

/// Whether two documents grant the same (by their normal forms).
pub fn same(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// The text sent to IAM: compact JSON (IAM counts characters against its size limits).
pub fn to_wire(doc: &Value) -> String {
    serde_json::to_string(doc).expect("a JSON value serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_what_iam_returns() {
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "iam:GetRole", "Resource": "arn:aws:iam::*:role/a+b c"}]});
        // IAM's encoding: RFC 3986, so spaces are %20 and a plus sign is %2B.
        let encoded: String = to_wire(&doc)
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        assert_eq!(decode(&encoded), Some(doc.clone()));
        assert_eq!(decode(&to_wire(&doc)), Some(doc));
        assert_eq!(decode("%7B%zz"), None);
        assert_eq!(decode("not json"), None);
    }

    #[test]
    fn same_ignores_form_not_meaning() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Action": "guardduty:ListDetectors", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}}});
        let b = json!({"Statement": [{"Resource": ["*"], "Effect": "Allow",
            "Action": ["guardduty:ListDetectors", "guardduty:ListDetectors"],
            "Condition": {"StringEquals": {"aws:SourceAccount": ["1"]}}}], "Version": "2012-10-17"});
        assert!(same(&a, &b));
        let c = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Action": ["guardduty:ListDetectors", "guardduty:GetDetector"], "Resource": "*"}});
        assert!(!same(&a, &c));
        let order1 = json!({"Statement": [{"Action": ["b:B", "a:A"]}]});
        let order2 = json!({"Statement": [{"Action": ["a:A", "b:B"]}]});
        assert!(same(&order1, &order2));
    }
}
