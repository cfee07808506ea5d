//! The GuardDuty commercial regions: the one place in the code that lists them.
//!
//! The list can be overridden at run time (`GDORG_REGIONS` or `--regions`), so a region AWS adds
//! later is usable without a new release.

/// A GuardDuty commercial region and whether accounts must opt in to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionInfo {
    pub name: &'static str,
    /// Opt-in regions are disabled in an account until someone enables them; calls there fail.
    pub opt_in: bool,
}

const fn r(name: &'static str, opt_in: bool) -> RegionInfo {
    RegionInfo { name, opt_in }
}

/// Every commercial region where GuardDuty is available, sorted by name.
pub const COMMERCIAL: &[RegionInfo] = &[
    r("af-south-1", true),
    r("ap-east-1", true),
    r("ap-east-2", true),
    r("ap-northeast-1", false),
    r("ap-northeast-2", false),
    r("ap-northeast-3", false),
    r("ap-south-1", false),
    r("ap-south-2", true),
    r("ap-southeast-1", false),
    r("ap-southeast-2", false),
    r("ap-southeast-3", true),
    r("ap-southeast-4", true),
    r("ap-southeast-5", true),
    r("ap-southeast-6", true),
    r("ap-southeast-7", true),
    r("ca-central-1", false),
    r("ca-west-1", true),
    r("eu-central-1", false),
    r("eu-central-2", true),
    r("eu-north-1", false),
    r("eu-south-1", true),
    r("eu-south-2", true),
    r("eu-west-1", false),
    r("eu-west-2", false),
    r("eu-west-3", false),
    r("il-central-1", true),
    r("me-central-1", true),
    r("me-south-1", true),
    r("mx-central-1", true),
    r("sa-east-1", false),
    r("us-east-1", false),
    r("us-east-2", false),
    r("us-west-1", false),
    r("us-west-2", false),
];

/// Names of every commercial region.
pub fn all() -> impl Iterator<Item = &'static str> {
    COMMERCIAL.iter().map(|r| r.name)
}

/// Names of the regions enabled in every account by default (no opt-in needed).
pub fn default_enabled() -> impl Iterator<Item = &'static str> {
    COMMERCIAL.iter().filter(|r| !r.opt_in).map(|r| r.name)
}

/// Whether `name` is a known commercial region.
pub fn lookup(name: &str) -> Option<&'static RegionInfo> {
    COMMERCIAL.iter().find(|r| r.name == name)
}

/// Whether `name` has the shape of an AWS region name (`xx-name-N`), known to us or not.
pub fn is_well_formed(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_unique_and_well_formed() {
        let names: Vec<_> = all().collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert!(names.iter().all(|n| is_well_formed(n)), "{names:?}");
        assert_eq!(default_enabled().count(), 17);
    }

    #[test]
    fn rejects_malformed_names() {
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us_east_1",
            "useast1",
            "us-east-1a",
            "us--1",
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
        assert!(is_well_formed("ap-southeast-9"));
    }
}
