//! What GuardDuty costs across the organization, and who is still in the free trial: read
//! through the administrator's detector in every region (GetUsageStatistics,
//! GetRemainingFreeTrialDays, and ListMembers for the accounts to ask about).
//!
//! The period is GuardDuty's own: usage over the last 30 days (the API takes no dates; for a
//! detector or feature enabled less than 30 days ago it is the usage so far).
//!
//! | module | owns |
//! | --- | --- |
//! | [`model`] | the results type: totals per account, region and feature; the top accounts; trials |
//! | [`read`] | the reading: one region at a time, bounded, a failed region reported, not fatal |
//! | [`render`] | table, JSON, Markdown, and the CSV rows |

pub mod model;
pub mod read;
pub mod render;

pub use model::{TopAccount, Trial, Usage, PERIOD, SCHEMA_VERSION};
pub use read::{read, Options};
