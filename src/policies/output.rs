//! The text `gdorg policies` prints: the catalog table, policies in the order people read them,
//! validation issues, the apply plan and the apply report. Pure functions returning strings;
//! the CLI edge writes them.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::apply::ApplyReport;
use super::validate::Issue;
use super::{Kind, Placement, Template};

/// The catalog as a table.
pub fn list(templates: &[Template]) -> String {
    let mut b = tabled::builder::Builder::default();
    b.push_record(["NAME", "KIND", "WHERE", "VARIABLES", "WHAT"]);
    for t in templates {
        let vars = super::render::parse_json(t.text)
            .ok()
            .and_then(|d| super::render::variables_used(&d).ok())
            .unwrap_or_default()
            .join(", ");
        b.push_record([
            t.name.to_string(),
            match t.kind {
                Kind::Permissions => "permissions".into(),
                Kind::Trust => "trust".into(),
                Kind::Scp => "scp".into(),
                Kind::Resource => "resource".into(),
            },
            match (t.placement, t.managed_policy_name) {
                (Placement::Administrator, _) => "administrator".to_string(),
                (Placement::Member, Some(p)) => format!("member: {p}"),
                (Placement::Member, None) => "member: role trust".to_string(),
                (Placement::Organization, _) => "organization: SCP".to_string(),
                (Placement::Resource, _) => "export bucket / key: paste".to_string(),
            },
            vars,
            t.description.to_string(),
        ]);
    }
    let mut table = b.build();
    table.with(tabled::settings::Style::blank());
    format!("{table}\n")
}

/// Rank of a policy element, so output reads Version, Statement / Sid, Effect, Principal,
/// Action, Resource, Condition (serde_json's maps would sort them alphabetically).
fn rank(key: &str) -> usize {
    const ORDER: &[&str] = &[
        "Version",
        "Id",
        "Statement",
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
    ORDER.iter().position(|k| *k == key).unwrap_or(ORDER.len())
}

/// A policy document as indented JSON, elements in the conventional order.
pub fn policy_json(doc: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, doc, 0);
    out.push('\n');
    out
}

fn write_value(out: &mut String, v: &Value, indent: usize) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Object(o) if !o.is_empty() => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_by_key(|k| (rank(k), k.as_str()));
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                let _ = write!(out, "{}{}: ", pad(indent + 1), Value::String((*k).clone()));
                write_value(out, &o[k.as_str()], indent + 1);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}}}", pad(indent));
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                write_value(out, x, indent + 1);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}]", pad(indent));
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Validation issues of one document, one per line, prefixed by where it came from.
pub fn issues(origin: &str, issues: &[Issue]) -> String {
    issues.iter().map(|i| format!("{origin}: {i}\n")).collect()
}

/// The plan (dry run) or the result (apply), grouped by operation and counted, then per
/// account; failures last, each with account, operation and the AWS error.
pub fn report(r: &ApplyReport) -> String {
    let mut out = String::new();
    let total: usize = r.accounts.iter().map(|a| a.steps.len()).sum();
    let done: usize = r.accounts.iter().map(|a| a.done).sum();
    let in_line = r
        .accounts
        .iter()
        .filter(|a| a.steps.is_empty() && a.failure.is_none())
        .count();
    let failed = r.failed().count();
    if r.dry_run {
        let _ = writeln!(
            out,
            "Plan: {total} change(s) in {} account(s); {in_line} already in line; {failed} could not be read",
            r.accounts.len()
        );
    } else {
        let _ = writeln!(
            out,
            "Applied {done} of {total} change(s) in {} account(s); {in_line} already in line; {failed} failed",
            r.accounts.len()
        );
    }
    // Operation -> (steps, accounts).
    let mut by_op: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    for a in &r.accounts {
        let mut seen = std::collections::BTreeSet::new();
        for s in &a.steps {
            let e = by_op.entry(s.operation()).or_default();
            e.0 += 1;
            if seen.insert(s.operation()) {
                e.1 += 1;
            }
        }
    }
    if !by_op.is_empty() {
        let mut ops: Vec<_> = by_op.into_iter().collect();
        ops.sort_by_key(|(op, _)| step_rank(op));
        for (op, (n, accounts)) in ops {
            let _ = writeln!(out, "  {op:<24} {n:>5}  in {accounts} account(s)");
        }
    }
    // Accounts with the same steps and the same progress are shown once, so a thousand
    // fresh accounts make one block, not a thousand.
    let mut groups: Vec<(Vec<String>, Vec<&str>)> = Vec::new();
    for a in r.accounts.iter().filter(|a| !a.steps.is_empty()) {
        let lines: Vec<String> = a
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mark = if r.dry_run {
                    "+"
                } else if i < a.done {
                    "done"
                } else if i == a.done && a.failure.is_some() {
                    "FAILED"
                } else {
                    "skipped"
                };
                format!("  {mark:<7} {:<24} {}", s.operation(), s.subject())
            })
            .collect();
        match groups.iter_mut().find(|(l, _)| *l == lines) {
            Some((_, accounts)) => accounts.push(&a.account),
            None => groups.push((lines, vec![&a.account])),
        }
    }
    for (lines, accounts) in groups {
        let _ = writeln!(out, "{}:", account_list(&accounts));
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
    }
    if failed > 0 {
        let _ = writeln!(out, "Failures:");
        for a in r.failed() {
            if let Some(f) = &a.failure {
                let _ = writeln!(
                    out,
                    "  {}  {}: {}: {}",
                    a.account, f.error.operation, f.error.code, f.error.message
                );
            }
        }
    }
    out
}

/// `a, b, c` or, for many, the first few and how many more.
fn account_list(accounts: &[&str]) -> String {
    const SHOWN: usize = 5;
    if accounts.len() <= SHOWN {
        return accounts.join(", ");
    }
    format!(
        "{} and {} more ({} accounts)",
        accounts[..SHOWN].join(", "),
        accounts.len() - SHOWN,
        accounts.len()
    )
}

fn step_rank(op: &str) -> usize {
    [
        "CreateRole",
        "UpdateAssumeRolePolicy",
        "CreatePolicy",
        "DeletePolicyVersion",
        "CreatePolicyVersion",
        "AttachRolePolicy",
    ]
    .iter()
    .position(|o| *o == op)
    .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::apply::{AccountFailure, AccountResult, Step};
    use super::*;
    use crate::aws::AwsError;
    use serde_json::json;

    #[test]
    fn policy_json_reads_in_the_conventional_order_and_round_trips() {
        let doc = json!({"Statement": [{"Resource": "*", "Effect": "Allow", "Sid": "A",
            "Action": ["guardduty:ListDetectors"]}], "Version": "2012-10-17"});
        let text = policy_json(&doc);
        let v = text.find("Version").unwrap();
        let st = text.find("Statement").unwrap();
        let sid = text.find("Sid").unwrap();
        let eff = text.find("Effect").unwrap();
        let act = text.find("Action").unwrap();
        let res = text.find("Resource").unwrap();
        assert!(v < st && sid < eff && eff < act && act < res, "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
    }

    #[test]
    fn report_groups_counts_and_names_failures() {
        let step = |role: &str| Step::CreateRole {
            role: role.into(),
            trust: json!({}),
        };
        let r = ApplyReport {
            dry_run: false,
            warnings: Vec::new(),
            not_started: 0,
            accounts: vec![
                AccountResult {
                    account: "111111111111".into(),
                    steps: vec![
                        step("R"),
                        Step::AttachRolePolicy {
                            role: "R".into(),
                            name: "p".into(),
                            arn: "arn".into(),
                        },
                    ],
                    done: 2,
                    failure: None,
                },
                AccountResult {
                    account: "222222222222".into(),
                    steps: vec![step("R")],
                    done: 0,
                    failure: Some(AccountFailure {
                        account: "222222222222".into(),
                        error: AwsError {
                            operation: "CreateRole",
                            code: "AccessDenied".into(),
                            message: "not allowed".into(),
                        },
                    }),
                },
                AccountResult {
                    account: "333333333333".into(),
                    steps: vec![],
                    done: 0,
                    failure: None,
                },
            ],
        };
        let text = report(&r);
        assert!(
            text.starts_with(
                "Applied 2 of 3 change(s) in 3 account(s); 1 already in line; 1 failed"
            ),
            "{text}"
        );
        assert!(
            text.contains("CreateRole                   2  in 2 account(s)"),
            "{text}"
        );
        assert!(text.contains("FAILED  CreateRole"), "{text}");
        assert!(
            text.contains("222222222222  CreateRole: AccessDenied: not allowed"),
            "{text}"
        );
    }

    #[test]
    fn identical_account_plans_are_shown_once() {
        let accounts = (1..=7)
            .map(|i| AccountResult {
                account: format!("{i:012}"),
                steps: vec![Step::CreateRole {
                    role: "R".into(),
                    trust: json!({}),
                }],
                done: 0,
                failure: None,
            })
            .collect();
        let text = report(&ApplyReport {
            dry_run: true,
            warnings: Vec::new(),
            not_started: 0,
            accounts,
        });
        let header = "000000000001, 000000000002, 000000000003, 000000000004, \
                      000000000005 and 2 more (7 accounts):\n  +       CreateRole";
        assert!(text.contains(header), "{text}");
        assert_eq!(text.matches("CreateRole").count(), 2, "{text}");
    }
}
