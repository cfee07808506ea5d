//! Runtime coverage across the organization: which EKS clusters, ECS clusters and EC2 instances
//! have a healthy GuardDuty runtime agent, read through the administrator's detector in every
//! region (ListCoverage, GetCoverageStatistics).
//!
//! | module | owns |
//! | --- | --- |
//! | [`model`] | the results type: resources, per account x region counts, regions not read |
//! | [`read`] | the reading: one region at a time, bounded, a failed region reported, not fatal |
//! | [`render`] | table, JSON, Markdown, and the CSV rows |

pub mod model;
pub mod read;
pub mod render;

pub use model::{Coverage, FailOn, Health, ResourceKind, SCHEMA_VERSION};
pub use read::{read, Options};
