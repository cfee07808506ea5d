//! Our filter -> GuardDuty `FindingCriteria`, for the parts GuardDuty can evaluate itself.
//!
//! The server-side criteria never select fewer findings than the filter means; what they cannot
//! express (a gap between severity bands, fractional scores, type prefixes) is left to
//! `Filter::matches` on the client. `Translation::exact` says whether nothing was left over,
//! which is when server-side counts (GetFindingsStatistics) and GuardDuty saved filters can
//! stand for the filter. Type prefixes stay client-side: the API documents `matches` but not
//! its pattern syntax, so gdorg does not rely on it.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{Condition, FindingCriteria};
use serde::Serialize;

use super::filter::{Chip, Filter, Status, TypePattern};
use super::severity::Band;

/// One field's condition, in the current (non-deprecated) members of `Condition`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cond {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_equals: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub greater_than_or_equal: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub less_than: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub less_than_or_equal: Option<i64>,
}

/// Field path -> condition, sorted so that it prints and compares deterministically.
pub type Criteria = BTreeMap<String, Cond>;

/// The server-side part of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Translation {
    pub criteria: Criteria,
    /// True when the criteria mean exactly the filter (regions aside, which are chosen by
    /// where gdorg reads).
    pub exact: bool,
}

/// Translate a validated filter.
pub fn translate(f: &Filter) -> Translation {
    let mut c = Criteria::new();
    let mut exact = true;

    // Severity: the allowed bands, as one range when they are contiguous, else their hull.
    let allowed: Vec<Band> = Band::ALL
        .into_iter()
        .filter(|b| f.severity.allows(|x| x == b))
        .collect();
    let mut sev = Cond::default();
    if allowed.len() < Band::ALL.len() {
        if let (Some(lo), Some(hi)) = (allowed.first(), allowed.last()) {
            let contiguous = hi.index() - lo.index() + 1 == allowed.len();
            exact &= contiguous;
            sev.greater_than_or_equal = Some(lo.bounds().0);
            sev.less_than = hi.bounds().1;
        }
    }
    if let Some(min) = f.min_severity {
        exact &= min.fract() == 0.0;
        let lo = min.floor() as i64;
        sev.greater_than_or_equal = Some(sev.greater_than_or_equal.map_or(lo, |x| x.max(lo)));
    }
    if let Some(max) = f.max_severity {
        exact &= max.fract() == 0.0;
        sev.less_than_or_equal = Some(max.ceil() as i64);
    }
    if sev != Cond::default() {
        c.insert("severity".into(), sev);
    }

    // Types: exact values server-side, prefixes client-side.
    let mut ty = Cond::default();
    let exact_only = |v: &[TypePattern]| -> Option<Vec<String>> {
        v.iter()
            .map(|p| match p {
                TypePattern::Exact(e) => Some(e.clone()),
                TypePattern::Prefix(_) => None,
            })
            .collect()
    };
    match exact_only(&f.types.include) {
        Some(v) => ty.equals = v,
        None => exact = false,
    }
    for p in &f.types.exclude {
        match p {
            TypePattern::Exact(e) => ty.not_equals.push(e.clone()),
            TypePattern::Prefix(_) => exact = false,
        }
    }
    if ty != Cond::default() {
        c.insert("type".into(), ty);
    }

    strings(&mut c, "accountId", &f.accounts);
    strings(&mut c, "resource.resourceType", &f.resource_types);
    strings(&mut c, "service.action.actionType", &f.action_types);

    match f.status {
        Status::Current => {
            c.insert("service.archived".into(), equals("false"));
        }
        Status::Archived => {
            c.insert("service.archived".into(), equals("true"));
        }
        Status::All => {}
    }
    if let Some(t) = f.updated_since {
        c.insert(
            "updatedAt".into(),
            Cond {
                greater_than_or_equal: Some(t.timestamp_millis()),
                ..Cond::default()
            },
        );
    }
    Translation { criteria: c, exact }
}

fn equals(v: &str) -> Cond {
    Cond {
        equals: vec![v.into()],
        ..Cond::default()
    }
}

fn strings(c: &mut Criteria, field: &str, chip: &Chip<String>) {
    if chip.is_empty() {
        return;
    }
    c.insert(
        field.into(),
        Cond {
            equals: chip.include.clone(),
            not_equals: chip.exclude.clone(),
            ..Cond::default()
        },
    );
}

/// The SDK value; `None` when there is nothing to ask the server for.
pub fn to_sdk(c: &Criteria) -> Option<FindingCriteria> {
    if c.is_empty() {
        return None;
    }
    let mut b = FindingCriteria::builder();
    for (field, cond) in c {
        b = b.criterion(
            field.clone(),
            Condition::builder()
                .set_equals((!cond.equals.is_empty()).then(|| cond.equals.clone()))
                .set_not_equals((!cond.not_equals.is_empty()).then(|| cond.not_equals.clone()))
                .set_greater_than_or_equal(cond.greater_than_or_equal)
                .set_less_than(cond.less_than)
                .set_less_than_or_equal(cond.less_than_or_equal)
                .build(),
        );
    }
    Some(b.build())
}

/// Read criteria back from the SDK (a GuardDuty filter), folding the deprecated members into
/// the current ones so that a filter written by another tool compares by meaning.
#[allow(deprecated)]
pub fn from_sdk(fc: Option<&FindingCriteria>) -> Criteria {
    let mut out = Criteria::new();
    let Some(map) = fc.and_then(|f| f.criterion()) else {
        return out;
    };
    for (field, c) in map {
        let mut cond = Cond {
            equals: [c.equals(), c.eq()].concat(),
            not_equals: [c.not_equals(), c.neq()].concat(),
            greater_than_or_equal: c.greater_than_or_equal().or(c.gte().map(i64::from)),
            less_than: c.less_than().or(c.lt().map(i64::from)),
            less_than_or_equal: c.less_than_or_equal().or(c.lte().map(i64::from)),
        };
        if let Some(gt) = c.greater_than().or(c.gt().map(i64::from)) {
            cond.greater_than_or_equal = Some(gt + 1);
        }
        out.insert(field.clone(), cond);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::filter::FilterSpec;

    fn tr(toml_text: &str) -> Translation {
        let spec: FilterSpec = toml::from_str(toml_text).unwrap();
        translate(
            &spec
                .validate("2026-11-23T00:00:00Z".parse().unwrap())
                .unwrap(),
        )
    }

    fn json(t: &Translation) -> String {
        serde_json::to_string(&t.criteria).unwrap()
    }

    #[test]
    fn default_is_current_findings_only() {
        let t = tr("");
        assert!(t.exact);
        assert_eq!(json(&t), r#"{"service.archived":{"equals":["false"]}}"#);
        assert_eq!(
            json(&tr(r#"status = "archived""#)),
            r#"{"service.archived":{"equals":["true"]}}"#
        );
        assert_eq!(json(&tr(r#"status = "all""#)), "{}");
        assert!(to_sdk(&tr(r#"status = "all""#).criteria).is_none());
    }

    #[test]
    fn severity_bands_become_ranges() {
        let t = tr(r#"severity = ["High", "Critical"]"#);
        assert!(t.exact);
        assert_eq!(
            serde_json::to_string(&t.criteria["severity"]).unwrap(),
            r#"{"greaterThanOrEqual":7}"#
        );
        let t = tr(r#"severity = ["Medium", "high"]"#);
        assert_eq!(t.criteria["severity"].greater_than_or_equal, Some(4));
        assert_eq!(t.criteria["severity"].less_than, Some(9));
        assert!(t.exact);
        // Critical only: 9.0-10.0.
        let t = tr(r#"severity = ["Critical"]"#);
        assert_eq!(t.criteria["severity"].less_than, None);
        // Excluding a middle band leaves a gap: hull server-side, exact client-side.
        let t = tr(r#"not_severity = ["Medium"]"#);
        assert!(!t.exact);
        assert_eq!(t.criteria["severity"].greater_than_or_equal, Some(1));
        // Excluding an edge band narrows the range exactly.
        let t = tr(r#"not_severity = ["Low"]"#);
        assert!(t.exact);
        assert_eq!(t.criteria["severity"].greater_than_or_equal, Some(4));
        assert_eq!(t.criteria["severity"].less_than, None);
    }

    #[test]
    fn numeric_bounds() {
        let t = tr("min_severity = 5.0\nmax_severity = 8.0");
        assert!(t.exact);
        assert_eq!(t.criteria["severity"].greater_than_or_equal, Some(5));
        assert_eq!(t.criteria["severity"].less_than_or_equal, Some(8));
        let t = tr("min_severity = 5.5");
        assert!(!t.exact);
        assert_eq!(t.criteria["severity"].greater_than_or_equal, Some(5));
        let t = tr("severity = [\"High\"]\nmin_severity = 8.0");
        assert_eq!(t.criteria["severity"].greater_than_or_equal, Some(8));
        assert_eq!(t.criteria["severity"].less_than, Some(9));
    }

    #[test]
    fn every_field_include_and_exclude() {
        let t = tr(r#"
            type = ["Recon:EC2/PortProbeUnprotectedPort"]
            not_type = ["Backdoor:EC2/Spambot"]
            account = ["111111111111"]
            not_account = ["222222222222"]
            resource_type = ["Instance"]
            not_resource_type = ["S3Bucket"]
            action_type = ["PORT_PROBE"]
            not_action_type = ["DNS_REQUEST"]
            updated_since = "2026-11-22T00:00:00Z"
            region = ["eu-west-1"]
        "#);
        assert!(t.exact);
        insta::assert_snapshot!(serde_json::to_string_pretty(&t.criteria).unwrap());
    }

    #[test]
    fn type_prefixes_stay_client_side() {
        let t = tr(r#"type = ["Recon:*", "Backdoor:EC2/Spambot"]"#);
        assert!(!t.exact);
        assert!(!t.criteria.contains_key("type"));
        let t = tr(r#"not_type = ["Recon:*", "Backdoor:EC2/Spambot"]"#);
        assert!(!t.exact);
        assert_eq!(t.criteria["type"].not_equals, vec!["Backdoor:EC2/Spambot"]);
    }

    #[test]
    #[allow(deprecated)]
    fn round_trips_through_the_sdk() {
        let t = tr(r#"
            severity = ["High"]
            account = ["111111111111"]
            not_type = ["Backdoor:EC2/Spambot"]
            updated_since = "2026-11-22T00:00:00Z"
        "#);
        let sdk = to_sdk(&t.criteria).unwrap();
        assert_eq!(from_sdk(Some(&sdk)), t.criteria);
        // Deprecated members read as their current equivalents.
        let old = FindingCriteria::builder()
            .criterion("severity", Condition::builder().gt(6).build())
            .build();
        assert_eq!(
            from_sdk(Some(&old))["severity"].greater_than_or_equal,
            Some(7)
        );
    }
}
