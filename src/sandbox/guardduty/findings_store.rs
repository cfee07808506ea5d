//! The findings of one (account, region) cell, stored compactly (to be implemented).

/// Findings of one account in one region.
#[derive(Debug, Default)]
pub struct FindingStore {}
