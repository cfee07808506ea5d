//! All integration tests build into this one binary. Each module drives an in-process sandbox
//! (port 0) over HTTP through the official AWS SDK clients.

mod support;

// apply across accounts (idempotent, versions, failures), orchestrator coverage
mod policies;
// dispatch, auth, errors, faults
mod sandbox_basics;
// roles, managed policies and versions, attachments
mod sandbox_iam;
// seeding from the org file, and its errors
mod sandbox_org_file;
// organization, accounts, trusted access, delegated administrators
mod sandbox_organizations;
// AssumeRole (trust, external id, expiry, chaining), GetCallerIdentity
mod sandbox_sts;
