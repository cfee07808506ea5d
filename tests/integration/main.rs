//! All integration tests build into this one binary. Each module drives an in-process sandbox
//! (port 0) over HTTP through the official AWS SDK clients.

mod support;

mod gd_detectors; // GuardDuty detectors, features, ownership
mod gd_members; // GuardDuty members, invitations, administrators by invitation
mod gd_organization; // GuardDuty delegated administrator and organization configuration
mod sandbox_basics; // dispatch, auth, errors, faults
mod sandbox_iam;
mod sandbox_org_file;
mod sandbox_organizations;
mod sandbox_sts; // AssumeRole (trust, external id, expiry, chaining), GetCallerIdentity // organization, accounts, trusted access, delegated administrators // roles, managed policies and versions, attachments // seeding from the org file, and its errors
