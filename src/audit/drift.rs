//! Drift against a baseline (a previous audit's JSON): cells that were covered and no longer
//! are, cells newly covered, and cells that appear or disappear (accounts or regions added or
//! gone). Only the first, and new cells that are gaps, are regressions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{Audit, Cell, SCHEMA_VERSION};

/// One cell that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub account: String,
    pub region: String,
    /// `covered`, or the problem (`no detector`, `no access` ...), or `region not enabled`.
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Drift {
    /// When the baseline was taken.
    pub baseline_generated_at: String,
    /// Covered in the baseline, a gap now.
    pub lost: Vec<Change>,
    /// A gap in the baseline, covered now.
    pub gained: Vec<Change>,
    /// Not in the baseline (new account or region).
    pub added: Vec<Change>,
    /// In the baseline, not audited now.
    pub removed: Vec<Change>,
    /// A protection plan on in the baseline and off now, in a cell still covered (`before`
    /// and `after` name the plan: `S3_DATA_EVENTS on` -> `S3_DATA_EVENTS off`).
    #[serde(default)]
    pub plans_off: Vec<Change>,
    /// A plan's auto-enable changed in a region (the administrator's row; `NEW` -> `NONE`).
    #[serde(default)]
    pub auto_enable: Vec<Change>,
}

impl Drift {
    /// Every change with its label (`lost`, `gained`, `new`, `gone`), in that order: what every
    /// renderer lists.
    pub fn changes(&self) -> impl Iterator<Item = (&'static str, &Change)> {
        [
            ("lost", &self.lost),
            ("gained", &self.gained),
            ("new", &self.added),
            ("gone", &self.removed),
            ("plan off", &self.plans_off),
            ("auto-enable", &self.auto_enable),
        ]
        .into_iter()
        .flat_map(|(label, list)| list.iter().map(move |c| (label, c)))
    }

    /// Whether coverage regressed: something lost, something new that is not covered, a plan
    /// turned off, or auto-enable of a plan turned off.
    pub fn regressed(&self) -> bool {
        !self.lost.is_empty()
            || !self.plans_off.is_empty()
            || self.auto_enable.iter().any(|c| c.after.ends_with(" NONE"))
            || self
                .added
                .iter()
                .any(|c| c.after != "covered" && c.after != "region not enabled")
    }
}

/// A baseline that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("baseline {path} is not an audit JSON: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("baseline {path} has schema_version {found}; this gdorg reads {SCHEMA_VERSION}")]
    Version { path: String, found: u64 },
}

/// Read and check a baseline file (before any AWS call).
pub fn load(path: &std::path::Path) -> Result<Audit, BaselineError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
        path: p.clone(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| BaselineError::Parse {
            path: p.clone(),
            source,
        })?;
    let found = value
        .get("schema_version")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    if found != u64::from(SCHEMA_VERSION) {
        return Err(BaselineError::Version { path: p, found });
    }
    serde_json::from_value(value).map_err(|source| BaselineError::Parse { path: p, source })
}

fn state(c: &Cell) -> String {
    if c.covered {
        "covered".into()
    } else {
        c.problem()
            .unwrap_or_else(|| c.detector.label().to_string())
    }
}

/// Compare `now` with `baseline`; every list sorted by account, region.
pub fn compare(baseline: &Audit, now: &Audit) -> Drift {
    let key = |c: &Cell| (c.account.clone(), c.region.clone());
    let before: BTreeMap<_, _> = baseline.cells.iter().map(|c| (key(c), c)).collect();
    let after: BTreeMap<_, _> = now.cells.iter().map(|c| (key(c), c)).collect();
    let mut d = Drift {
        baseline_generated_at: baseline.generated_at.clone(),
        ..Drift::default()
    };
    let change = |(a, r): &(String, String), b: String, n: String| Change {
        account: a.clone(),
        region: r.clone(),
        before: b,
        after: n,
    };
    for (k, n) in &after {
        match before.get(k) {
            None => d.added.push(change(k, "absent".into(), state(n))),
            Some(b) if b.covered && n.is_gap() => d.lost.push(change(k, state(b), state(n))),
            Some(b) if b.is_gap() && n.covered => d.gained.push(change(k, state(b), state(n))),
            Some(_) => {}
        }
    }
    for (k, b) in &before {
        if !after.contains_key(k) {
            d.removed.push(change(k, state(b), "absent".into()));
        }
    }
    for (k, n) in &after {
        let Some(b) = before.get(k) else { continue };
        if !(b.covered && n.covered) {
            continue;
        }
        for (plan, on) in &b.features {
            if *on && n.features.get(plan) == Some(&false) {
                d.plans_off
                    .push(change(k, format!("{plan} on"), format!("{plan} off")));
            }
        }
    }
    let org = |a: &Audit| -> BTreeMap<(String, String), String> {
        a.organization
            .iter()
            .flat_map(|o| {
                o.features_auto_enable
                    .iter()
                    .map(|(p, v)| ((o.region.clone(), p.clone()), v.clone()))
            })
            .collect()
    };
    let (was, is) = (org(baseline), org(now));
    for ((region, plan), v) in &is {
        if let Some(old) = was.get(&(region.clone(), plan.clone())).filter(|o| *o != v) {
            d.auto_enable.push(Change {
                account: now.administrator.clone(),
                region: region.clone(),
                before: format!("{plan} {old}"),
                after: format!("{plan} {v}"),
            });
        }
    }
    let (lost, gained) = super::export::drift(&now.administrator, &baseline.export, &now.export);
    d.lost.extend(lost);
    d.gained.extend(gained);
    d
}
