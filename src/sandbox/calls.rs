//! The call log: every request the sandbox answered, for tests and benchmarks to count
//! (e.g. "a second rollout makes zero mutating calls").

use std::collections::BTreeMap;
use std::sync::Mutex;

/// One answered request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// `guardduty`, `organizations`, `sts` or `iam`.
    pub service: &'static str,
    pub operation: &'static str,
    /// The calling account (empty when authentication failed).
    pub account: String,
    pub region: String,
    pub status: u16,
}

impl CallRecord {
    pub fn is_mutating(&self) -> bool {
        is_mutating(self.operation)
    }
}

/// Whether an operation changes state (by the verbs AWS names its mutating operations with).
pub fn is_mutating(operation: &str) -> bool {
    const READ_ONLY: &[&str] = &["Get", "List", "Describe"];
    const NEUTRAL: &[&str] = &["AssumeRole"];
    !READ_ONLY.iter().any(|p| operation.starts_with(p)) && !NEUTRAL.contains(&operation)
}

#[derive(Debug, Default)]
pub struct CallLog {
    records: Mutex<Vec<CallRecord>>,
}

impl CallLog {
    pub fn push(&self, record: CallRecord) {
        self.records.lock().expect("call log poisoned").push(record);
    }

    /// A copy of every record so far.
    pub fn snapshot(&self) -> Vec<CallRecord> {
        self.records.lock().expect("call log poisoned").clone()
    }

    /// Forget every record (e.g. between a first and a second rollout).
    pub fn clear(&self) {
        self.records.lock().expect("call log poisoned").clear();
    }

    /// Number of calls by operation name.
    pub fn count_by_operation(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for r in self.records.lock().expect("call log poisoned").iter() {
            *out.entry(r.operation).or_default() += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn classifies_operations() {
        for op in [
            "CreateDetector",
            "AcceptAdministratorInvitation",
            "ArchiveFindings",
            "AttachRolePolicy",
            "StopMonitoringMembers",
        ] {
            assert!(super::is_mutating(op), "{op}");
        }
        for op in [
            "ListDetectors",
            "GetDetector",
            "DescribeOrganization",
            "AssumeRole",
            "GetCallerIdentity",
        ] {
            assert!(!super::is_mutating(op), "{op}");
        }
    }
}
