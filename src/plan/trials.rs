//! Which account x region cells a plan starts a GuardDuty free trial in: a fresh detector
//! starts one for every data source and plan it turns on, a feature turned on in an existing
//! detector starts that feature's. Pure, like the planner: counted from the steps alone.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Action, Plan};
use crate::settings::Mode;

/// The cells, each at most once in each set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trials {
    /// (account, region) of every detector the plan creates.
    pub new_detectors: BTreeSet<(String, String)>,
    /// (account, region) of existing detectors the plan turns features on in.
    pub new_features: BTreeSet<(String, String)>,
    /// Organizations mode: members the plan adds. GuardDuty turns on a detector in each that
    /// has none (a trial starts there); one that already runs GuardDuty keeps its own.
    pub added_members: BTreeSet<(String, String)>,
}

impl Trials {
    /// Cells sure to start a trial.
    pub fn certain(&self) -> usize {
        self.new_detectors.len() + self.new_features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certain() == 0 && self.added_members.is_empty()
    }
}

/// The cells `plan` (made for `mode`) starts a free trial in.
pub fn trials(plan: &Plan, mode: Mode) -> Trials {
    let mut t = Trials::default();
    let cell = |a: &str, r: &str| (a.to_string(), r.to_string());
    for s in &plan.steps {
        match &s.action {
            Action::CreateDetector {
                account, region, ..
            } => {
                t.new_detectors.insert(cell(account, region));
            }
            Action::EnableDetector {
                account,
                region,
                features,
                ..
            }
            | Action::UpdateDetector {
                account,
                region,
                features,
                ..
            } if !features.is_empty() => {
                t.new_features.insert(cell(account, region));
            }
            Action::UpdateMemberDetectors {
                region,
                accounts,
                features,
                ..
            } if !features.is_empty() => {
                t.new_features
                    .extend(accounts.iter().map(|a| cell(a, region)));
            }
            Action::CreateMembers {
                region, members, ..
            } if mode == Mode::Organizations => {
                t.added_members
                    .extend(members.iter().map(|m| cell(&m.id, region)));
            }
            _ => {}
        }
    }
    // A member whose detector the plan creates itself is counted there.
    let created = t.new_detectors.clone();
    t.added_members.retain(|c| !created.contains(c));
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Step;
    use crate::settings::{Feature, MemberAccount};

    fn step(id: usize, action: Action) -> Step {
        Step {
            id,
            action,
            after: vec![],
        }
    }

    #[test]
    fn fresh_detectors_new_features_and_added_members() {
        let r = "us-east-1".to_string();
        let member = |id: &str| MemberAccount {
            id: id.into(),
            email: format!("{id}@example.com"),
        };
        let plan = Plan {
            steps: vec![
                step(
                    0,
                    Action::CreateDetector {
                        account: "1".into(),
                        region: r.clone(),
                        features: vec![],
                        frequency: None,
                    },
                ),
                step(
                    1,
                    Action::UpdateDetector {
                        account: "2".into(),
                        region: r.clone(),
                        features: vec![],
                        frequency: None,
                    },
                ),
                step(
                    2,
                    Action::UpdateMemberDetectors {
                        administrator: "1".into(),
                        region: r.clone(),
                        accounts: vec!["3".into(), "4".into()],
                        features: vec![Feature::S3DataEvents],
                    },
                ),
                step(
                    3,
                    Action::CreateMembers {
                        administrator: "1".into(),
                        region: r.clone(),
                        members: vec![member("5"), member("1")],
                    },
                ),
            ],
            notices: vec![],
        };
        let t = trials(&plan, Mode::Organizations);
        assert_eq!(t.new_detectors.len(), 1);
        assert_eq!(t.new_features.len(), 2, "a frequency change starts nothing");
        assert_eq!(t.certain(), 3);
        assert_eq!(
            t.added_members.len(),
            1,
            "the created detector is not counted twice"
        );
        // Invitation mode: members get their detectors from CreateDetector steps.
        assert!(trials(&plan, Mode::Invitation).added_members.is_empty());
    }
}
