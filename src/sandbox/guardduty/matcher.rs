//! `Criteria` compiled once per request into checks on the stored record, so that a query over
//! a region of many findings costs a few comparisons per finding and no allocation.
//!
//! A condition is decided where its field's value is decided (`criteria::source`): once per
//! cell (accountId, region, ...: a cell that fails is skipped whole), once per finding type
//! (type, resource.resourceType, ...), once per flag value (service.archived,
//! service.userFeedback), or per finding on a number of the record with the condition's
//! numbers parsed up front. Only conditions on fields read from the rendered JSON (and the
//! id) take the generic path. Every table is filled by `Condition::holds`, the reference
//! semantics, so the two paths cannot drift; the tests compare them.

use super::catalog;
use super::criteria::{
    cell_values, feedback_values, source, type_values, Condition, Criteria, FindingView,
    NumberField, Scalar, Source,
};
use super::findings_store::StoredFinding;
use super::render::Owner;

/// One end of the range a condition's bounds allow: the value, and whether it is excluded.
#[derive(Debug, Clone, Copy)]
struct End {
    at: f64,
    strict: bool,
}

/// A condition on a number of the record, its operands parsed once.
#[derive(Debug)]
struct NumberTest {
    read: NumberField,
    /// `equals` and `eq`, each given one a list the value must be in (a list of text that
    /// parses to no number can never hold: it stays, empty).
    any_of: Vec<Vec<f64>>,
    /// `notEquals` and `neq` together: values the number must not be.
    none_of: Vec<f64>,
    /// The bounds (greaterThan, gte, lessThan, ...) folded into one range.
    low: End,
    high: End,
}

/// How the reference compares a number with a condition's text (`Scalar::equals`).
fn parsed(list: &[String]) -> Vec<f64> {
    list.iter()
        .filter_map(|t| t.trim().parse::<f64>().ok())
        .collect()
}

/// The tighter of two lower ends (`above`) or upper ends: the further value, and on a tie
/// the strict one.
fn tighter(a: End, b: End, above: bool) -> End {
    let further = if above { b.at > a.at } else { b.at < a.at };
    if further || (b.at == a.at && b.strict) {
        b
    } else {
        a
    }
}

impl NumberTest {
    /// None when the condition has patterns (`matches`, `notMatches`), which compare text.
    fn of(read: NumberField, c: &Condition) -> Option<NumberTest> {
        if !c.matches.is_empty() || !c.not_matches.is_empty() {
            return None;
        }
        let any_of = [&c.equals, &c.eq]
            .into_iter()
            .filter(|l| !l.is_empty())
            .map(|l| parsed(l))
            .collect();
        let mut none_of = parsed(&c.not_equals);
        none_of.extend(parsed(&c.neq));
        // Bounds compare with the integer as f64, as the reference does.
        let end = |b: Option<i64>, strict| {
            b.map(|b| End {
                at: b as f64,
                strict,
            })
        };
        let open = |at| End { at, strict: false };
        let low = [
            end(c.greater_than, true),
            end(c.gt, true),
            end(c.greater_than_or_equal, false),
            end(c.gte, false),
        ]
        .into_iter()
        .flatten()
        .fold(open(f64::NEG_INFINITY), |a, b| tighter(a, b, true));
        let high = [
            end(c.less_than, true),
            end(c.lt, true),
            end(c.less_than_or_equal, false),
            end(c.lte, false),
        ]
        .into_iter()
        .flatten()
        .fold(open(f64::INFINITY), |a, b| tighter(a, b, false));
        Some(NumberTest {
            read,
            any_of,
            none_of,
            low,
            high,
        })
    }

    fn holds(&self, f: &StoredFinding) -> bool {
        let n = self.read.read(f);
        (if self.low.strict {
            n > self.low.at
        } else {
            n >= self.low.at
        }) && (if self.high.strict {
            n < self.high.at
        } else {
            n <= self.high.at
        }) && self.any_of.iter().all(|l| l.contains(&n))
            && !self.none_of.contains(&n)
    }
}

/// One per-finding check.
#[derive(Debug)]
enum Check<'c> {
    /// Whether each finding type (by index) passes.
    Type(Vec<bool>),
    /// Whether an unarchived, then an archived, finding passes.
    Archived([bool; 2]),
    /// Whether a finding without feedback, with USEFUL and with NOT_USEFUL passes.
    Feedback([bool; 3]),
    Number(NumberTest),
    /// A number compared as text (patterns): the reference on the one value, no JSON.
    NumberText(NumberField, &'c Condition),
}

impl Check<'_> {
    fn holds(&self, f: &StoredFinding) -> bool {
        match self {
            Check::Type(pass) => pass[f.type_idx as usize],
            Check::Archived(pass) => pass[usize::from(f.archived())],
            Check::Feedback(pass) => {
                pass[match f.feedback() {
                    None => 0,
                    Some("USEFUL") => 1,
                    Some(_) => 2,
                }]
            }
            Check::Number(t) => t.holds(f),
            Check::NumberText(read, c) => c.holds(&[Scalar::Num(read.read(f))]),
        }
    }
}

/// Criteria ready to test many findings.
#[derive(Debug)]
pub struct Matcher<'c> {
    /// Conditions decided once per cell.
    cell: Vec<(&'c str, &'c Condition)>,
    /// Checks on the record, cheapest first.
    checks: Vec<Check<'c>>,
    /// Conditions that need the finding's view (id, rendered fields).
    generic: Vec<(&'c str, &'c Condition)>,
}

impl<'c> Matcher<'c> {
    pub fn new(criteria: &'c Criteria) -> Matcher<'c> {
        let mut m = Matcher {
            cell: Vec::new(),
            checks: Vec::new(),
            generic: Vec::new(),
        };
        for (field, c) in &criteria.conditions {
            let field = field.as_str();
            match source(field) {
                Source::Cell => m.cell.push((field, c)),
                Source::Type => m.checks.push(Check::Type(
                    catalog::TYPES
                        .iter()
                        .map(|ty| c.holds(&type_values(field, ty)))
                        .collect(),
                )),
                Source::Archived => m.checks.push(Check::Archived(
                    [false, true].map(|a| c.holds(&[Scalar::Bool(a)])),
                )),
                Source::Feedback => m.checks.push(Check::Feedback(
                    [None, Some("USEFUL"), Some("NOT_USEFUL")]
                        .map(|fb| c.holds(&feedback_values(fb))),
                )),
                Source::Number(read) => m.checks.push(match NumberTest::of(read, c) {
                    Some(t) => Check::Number(t),
                    None => Check::NumberText(read, c),
                }),
                Source::Id | Source::Rendered => m.generic.push((field, c)),
            }
        }
        // Table lookups before arithmetic before text.
        m.checks.sort_by_key(|c| match c {
            Check::Type(_) | Check::Archived(_) | Check::Feedback(_) => 0,
            Check::Number(_) => 1,
            Check::NumberText(..) => 2,
        });
        m
    }

    /// Whether findings of the cell of `owner` can match at all.
    pub fn admits_cell(&self, owner: &Owner) -> bool {
        self.cell
            .iter()
            .all(|(field, c)| c.holds(&cell_values(field, owner)))
    }

    /// Whether the finding at `index` of a cell that [`Matcher::admits_cell`] matches.
    pub fn admits(&self, f: &StoredFinding, owner: Owner, salt: u64, index: u32) -> bool {
        self.checks.iter().all(|c| c.holds(f))
            && (self.generic.is_empty() || {
                let view = FindingView::new(f, owner, salt, index);
                self.generic
                    .iter()
                    .all(|(field, c)| c.holds(&view.values(field)))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::guardduty::criteria::Usage;
    use serde_json::{json, Value};

    const ACCOUNTS: [&str; 2] = ["200000000001", "200000000002"];

    /// Findings that differ in every field the record holds.
    fn findings() -> Vec<StoredFinding> {
        let mut out = Vec::new();
        for i in 0..catalog::TYPES.len() * 3 {
            let ty = (i % catalog::TYPES.len()) as u16;
            let mut f = StoredFinding::new(
                ty,
                [10u16, 20, 39, 40, 55, 69, 70, 80, 89, 90][i % 10],
                1_700_000_000_000 + (i as i64 % 7) * 86_400_000,
                i as u32,
            );
            f.updated_ms = f.created_ms + (i as i64 % 4) * 1_000;
            f.count = (i % 5) as u32 + 1;
            f.set_archived(i % 3 == 0);
            match i % 3 {
                0 => {}
                1 => f.set_feedback(true),
                _ => f.set_feedback(false),
            }
            out.push(f);
        }
        out
    }

    /// The conditions to try on `field`, with values `near` (some of which the findings hold).
    fn conditions(near: &[Value]) -> Vec<Value> {
        let mut out = Vec::new();
        for key in ["equals", "notEquals", "eq", "neq", "matches", "notMatches"] {
            out.push(json!({ key: near }));
            out.push(json!({ key: [near[0].clone()] }));
        }
        for key in [
            "greaterThan",
            "greaterThanOrEqual",
            "lessThan",
            "lessThanOrEqual",
            "gt",
            "gte",
            "lt",
            "lte",
        ] {
            for b in [0i64, 5, 7, 1_700_000_000_000, 1_700_000_172_800_000, 2] {
                out.push(json!({ key: b }));
            }
        }
        out.push(json!({"gte": 4, "lt": 7}));
        out.push(json!({"gte": 5, "gt": 5, "lte": 8, "lessThan": 8}));
        out.push(json!({"greaterThan": 4, "gte": 5, "lt": 9, "lessThanOrEqual": 7}));
        out.push(json!({"gt": 7, "lt": 4}));
        out.push(json!({"greaterThanOrEqual": 4, "lessThanOrEqual": 8, "notEquals": ["5.5"]}));
        out.push(json!({"equals": near, "gt": 3}));
        out
    }

    fn fields() -> Vec<(&'static str, Vec<Value>)> {
        let t0 = catalog::TYPES[0].name;
        let t1 = catalog::TYPES[1].name;
        vec![
            (
                "severity",
                vec![
                    json!("5.5"),
                    json!("8"),
                    json!(" 2.0 "),
                    json!("high"),
                    json!("*.5"),
                ],
            ),
            (
                "updatedAt",
                vec![json!("1700000001000"), json!("1700000000000"), json!("17*")],
            ),
            (
                "createdAt",
                vec![json!("1700000086400000"), json!("1.7e12"), json!("x")],
            ),
            ("service.count", vec![json!("3"), json!("1"), json!("2*")]),
            (
                "service.archived",
                vec![json!("true"), json!("FALSE"), json!("t*")],
            ),
            (
                "service.userFeedback",
                vec![json!("USEFUL"), json!("NOT_USEFUL"), json!("*USEFUL")],
            ),
            (
                "type",
                vec![json!(t0), json!(t1), json!("Recon:*"), json!("*EC2*")],
            ),
            (
                "resource.resourceType",
                vec![json!("Instance"), json!("S3Bucket"), json!("*Key")],
            ),
            (
                "service.resourceRole",
                vec![json!("TARGET"), json!("ACTOR")],
            ),
            (
                "service.action.actionType",
                vec![
                    json!("NETWORK_CONNECTION"),
                    json!("AWS_API_CALL"),
                    json!("*CALL"),
                ],
            ),
            (
                "service.additionalInfo.threatListName",
                vec![json!("ProofPoint"), json!("*")],
            ),
            (
                "accountId",
                vec![json!(ACCOUNTS[0]), json!("2*1"), json!("999999999999")],
            ),
            ("region", vec![json!("us-east-1"), json!("eu-*")]),
            ("service.detectorId", vec![json!("d1"), json!("d2")]),
            ("partition", vec![json!("aws"), json!("aws-cn")]),
            (
                "resource.instanceDetails.instanceType",
                vec![json!("t3.micro"), json!("m5.*")],
            ),
        ]
    }

    /// Every condition on every field, alone and paired with a severity range, decides every
    /// finding of two cells as the generic path does.
    #[test]
    fn the_matcher_agrees_with_the_reference() {
        let findings = findings();
        let mut compared = 0usize;
        let mut held = 0usize;
        let mut criteria = Vec::new();
        for (field, near) in fields() {
            for cond in conditions(&near) {
                criteria.push(json!({ field: cond.clone() }));
                criteria.push(json!({ field: cond, "severity": {"gte": 4}, "service.archived": {"equals": ["false"]} }));
            }
        }
        for raw in criteria {
            let Ok(c) = Criteria::parse(Some(&json!({ "criterion": raw })), Usage::Filter) else {
                continue;
            };
            let m = Matcher::new(&c);
            for (n, account) in ACCOUNTS.into_iter().enumerate() {
                let detector = ["d1", "d2"][n];
                let owner = Owner {
                    account,
                    region: "us-east-1",
                    detector_id: detector,
                };
                let cell = m.admits_cell(&owner);
                for (i, f) in findings.iter().enumerate() {
                    let view = FindingView::new(f, owner, 7 + n as u64, i as u32);
                    let reference = c.matches(&view);
                    let fast = cell && m.admits(f, owner, 7 + n as u64, i as u32);
                    assert_eq!(fast, reference, "{raw} on finding {i} of {account}: {f:?}");
                    compared += 1;
                    held += usize::from(reference);
                }
            }
        }
        // The comparison saw both answers plenty of times.
        assert!(
            held > compared / 10 && held < compared * 9 / 10,
            "{held} of {compared}"
        );
    }

    #[test]
    fn cells_are_decided_once() {
        let c = Criteria::parse(
            Some(&json!({"criterion": {"accountId": {"notEquals": ["200000000001"]}, "severity": {"gte": 7}}})),
            Usage::Query,
        )
        .unwrap();
        let m = Matcher::new(&c);
        let owner = |account| Owner {
            account,
            region: "us-east-1",
            detector_id: "d",
        };
        assert!(!m.admits_cell(&owner("200000000001")));
        assert!(m.admits_cell(&owner("200000000002")));
        assert_eq!(m.checks.len(), 1);
        assert!(m.generic.is_empty());
    }
}
