//! Findings across the organization: filters, collection, and acting on findings through the
//! administrator only.
//!
//! | module | owns |
//! | --- | --- |
//! | [`severity`] | the documented severity bands (Critical is its own) |
//! | [`filter`] | the filter model: include/exclude chips, validation, exact client-side matching |
//! | [`criteria`] | filter -> GuardDuty `FindingCriteria` where the API can evaluate it |
//! | [`saved`] | the saved-filters TOML file (`--filter NAME`) |
//! | [`record`] | one finding, flattened from the SDK shape |
//! | [`ocsf`] | one finding as an OCSF Detection Finding (`export --format ocsf`) |
//! | [`columnar`] | the Parquet export: Hive partitions, row groups while streaming, atomic files |
//! | [`collect`] | ListFindings -> GetFindings (batches of 50) -> a sink, streaming, bounded memory |
//! | [`source`] | where findings are read: the administrator's detectors, or each account's (`--direct`) |
//! | [`archive`] | archive / unarchive / feedback, refused unless the caller is the administrator |
//! | [`sync`] | `filters sync`: saved filters -> GuardDuty filters, idempotently |
//! | [`sample`] | `sample-findings`: CreateSampleFindings in chosen accounts x regions |
//! | [`stats`] | per-account / per-type counts from GetFindingsStatistics |

pub mod archive;
pub mod collect;
pub mod columnar;
pub mod criteria;
pub mod filter;
pub mod ocsf;
pub mod record;
pub mod sample;
pub mod saved;
pub mod severity;
pub mod source;
pub mod stats;
pub mod suppression;
pub mod sync;

pub use filter::{Filter, FilterError, FilterSpec};
pub use record::FindingRecord;
pub use severity::Band;
