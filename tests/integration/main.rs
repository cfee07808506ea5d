//! All integration tests build into this one binary. Each module drives an in-process sandbox
//! (port 0) over HTTP through the official AWS SDK clients.

mod support;

mod gd_filters; // GuardDuty saved filters and ARCHIVE suppression
mod gd_findings;
mod sandbox_basics; // dispatch, auth, errors, faults // GuardDuty findings: samples, criteria, pagination, statistics, archive
