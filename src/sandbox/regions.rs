//! The sandbox's own region table: the AWS commercial regions where GuardDuty has an endpoint,
//! which of them an account must opt in to, and which services answer in every region from one
//! global endpoint.
//!
//! It is deliberately separate from the client's region list: the sandbox stands in for AWS, so
//! a mistake in the client's list must show up as a failure against the sandbox, not be echoed
//! by it. Source: the `aws` partition of botocore's `endpoints.json` (the `guardduty` service),
//! and the AWS Account Management guide: regions launched after March 20, 2019 are opt-in
//! (disabled until the account enables them); older regions are enabled and cannot be disabled.

/// A region the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub name: &'static str,
    /// Disabled in an account until the account enables it.
    pub opt_in: bool,
}

const fn default(name: &'static str) -> Region {
    Region {
        name,
        opt_in: false,
    }
}

const fn opt_in(name: &'static str) -> Region {
    Region { name, opt_in: true }
}

/// Every commercial region with a GuardDuty endpoint, sorted by name.
pub const REGIONS: &[Region] = &[
    opt_in("af-south-1"),
    opt_in("ap-east-1"),
    opt_in("ap-east-2"),
    default("ap-northeast-1"),
    default("ap-northeast-2"),
    default("ap-northeast-3"),
    default("ap-south-1"),
    opt_in("ap-south-2"),
    default("ap-southeast-1"),
    default("ap-southeast-2"),
    opt_in("ap-southeast-3"),
    opt_in("ap-southeast-4"),
    opt_in("ap-southeast-5"),
    opt_in("ap-southeast-6"),
    opt_in("ap-southeast-7"),
    default("ca-central-1"),
    opt_in("ca-west-1"),
    default("eu-central-1"),
    opt_in("eu-central-2"),
    default("eu-north-1"),
    opt_in("eu-south-1"),
    opt_in("eu-south-2"),
    default("eu-west-1"),
    default("eu-west-2"),
    default("eu-west-3"),
    opt_in("il-central-1"),
    opt_in("me-central-1"),
    opt_in("me-south-1"),
    opt_in("mx-central-1"),
    default("sa-east-1"),
    default("us-east-1"),
    default("us-east-2"),
    default("us-west-1"),
    default("us-west-2"),
];

/// Names of every region the sandbox serves.
pub fn all() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|r| r.name)
}

/// The region called `name`, if it exists.
pub fn lookup(name: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.name == name)
}

/// Services with one global endpoint (IAM, Organizations, Account Management): their state is not per region and
/// an account's region settings do not apply to them. Every other service the sandbox speaks
/// (GuardDuty, STS) has an endpoint per region.
const GLOBAL_SERVICES: &[&str] = &["iam", "organizations", "account"];

/// Whether `service` (a SigV4 signing name) answers per region.
pub fn is_regional(service: &str) -> bool {
    !GLOBAL_SERVICES.contains(&service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_knows_the_opt_in_regions() {
        let names: Vec<_> = all().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 34);
        // The 17 regions that predate opt-in are enabled everywhere.
        assert_eq!(REGIONS.iter().filter(|r| !r.opt_in).count(), 17);
        assert!(lookup("ap-southeast-6").is_some_and(|r| r.opt_in));
        assert!(lookup("ap-northeast-3").is_some_and(|r| !r.opt_in));
        assert!(lookup("mars-north-1").is_none());
    }

    #[test]
    fn only_iam_and_organizations_are_global() {
        assert!(is_regional("guardduty") && is_regional("sts"));
        assert!(!is_regional("iam") && !is_regional("organizations"));
    }
}
