//! All integration tests build into this one binary. Each module drives an in-process sandbox
//! (port 0) over HTTP through the official AWS SDK clients.

mod support;

mod gd_detectors;
mod gd_members;
mod gd_organization;
mod sandbox_basics; // dispatch, auth, errors, faults // GuardDuty detectors, features, ownership // GuardDuty members, invitations, administrators by invitation // GuardDuty delegated administrator and organization configuration
