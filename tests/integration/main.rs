//! All integration tests build into this one binary. Each module drives a sandbox over HTTP
//! through the official AWS SDK clients: an in-process one on port 0, or (`sandbox_serve`,
//! `readme`) the one the `gdorg` binary serves.

mod support;

mod admin_first; // the audit reads from the administrator first: no role for a converged organization, every member status, ListRegions, GetOrganizationStatistics
mod audit; // gdorg audit: every status, coverage, fixes, drift, read-only, formats, exit codes
mod cli_habits; // completions, man pages, gdorg.toml and its precedence (flag > env > config > built-in)
mod coverage; // gdorg coverage: unhealthy agents and their issue, filters, formats, a failing region
mod export_dest; // rollout --export-bucket/--export-kms-key in both modes, idempotent; the audit's export gaps; the AWS CLI
mod exports; // findings export --format ocsf|parquet: OCSF required attributes, Parquet read back, Ctrl-C
mod findings; // gdorg findings: filters, collection, statistics, filters sync, archive through the administrator only
mod gd_availability; // GuardDuty features a region does not offer: left out there, refused there
mod gd_coverage; // GuardDuty ListCoverage and GetCoverageStatistics: shapes, filters, pages, who sees what
mod gd_destinations; // GuardDuty publishing destinations: shapes, errors, paging, ownership, org-file seeding
mod gd_detectors; // GuardDuty detectors, features, ownership
mod gd_filters; // GuardDuty saved filters and ARCHIVE suppression
mod gd_findings; // GuardDuty findings: samples, criteria, pagination, statistics, archive
mod gd_member_detectors; // GuardDuty Get/UpdateMemberDetectors: the administrator and its members' features
mod gd_members; // GuardDuty members, invitations, administrators by invitation
mod gd_organization; // GuardDuty delegated administrator and organization configuration
mod gd_statistics; // GuardDuty GetFindingsStatistics: maxResults cut, orderBy, no nextToken loop
mod gd_usage; // GuardDuty GetUsageStatistics and GetRemainingFreeTrialDays: statistic types, criteria, trials
mod layers; // no module imports a layer above it: the data flows one way
mod least_privilege; // the shipped policies under the sandbox's evaluation: every command, every action, auditor, guard SCP
mod one_product; // one edge and one model: regions, limits, errors, Ctrl-C, exact counts, coverage
mod plans; // protection plans: rollout where offered, the audit's plans view, auto-enable, plan gaps, drift
mod policies; // policies apply across accounts (idempotent, versions, failures), orchestrator coverage
mod readme; // the README runs as written: its sh blocks against its sandbox, CI's command, build times, layout
mod report; // gdorg report: many members x regions, formats, escaping (HTML in headless Chromium), CSV formulas
mod rollout; // plan / rollout / offboard end to end
mod sandbox_auth; // SigV4 verification, invalid and not-enabled regions, the AWS CLI's signer
mod sandbox_authz; // identity policies and SCPs evaluated: each service's AccessDenied, AssumeRole, the org-file switch, SCP operations
mod sandbox_basics; // dispatch, auth, errors, faults
mod sandbox_boundary; // the sandbox uses no client code; the client reaches it from entry points only
mod sandbox_faults; // throttling, 5xx, latency, targeting; SDK retries recover
mod sandbox_iam; // roles, managed policies and versions, attachments
mod sandbox_org_file; // seeding from the org file, and its errors
mod sandbox_organizations; // organization, accounts, trusted access, delegated administrators
mod sandbox_serve; // the `gdorg sandbox serve` binary: environment lines, 1000 accounts, SIGTERM
mod sandbox_sts; // AssumeRole (trust, external id, expiry, chaining), GetCallerIdentity
mod usage; // gdorg usage: totals, top accounts, free trials, formats, a failing region
