//! The AWS client side: one base `SdkConfig` loaded once, and a factory that assumes the
//! execution role into each account once and reuses those credentials for every region and
//! service of that account. Everything a command needs to know about who it is and what the
//! organization looks like is read here, once.
//!
//! | module | owns |
//! | --- | --- |
//! | [`factory`] | base config (profile, region, endpoint, retries) and per-account configs |
//! | [`session`] | the caller's identity; acting as an account (own credentials, assumed role, shared member clients) |
//! | [`organization`] | the organization's accounts, its delegated administrator, its setup |
//! | [`opt_in`] | the regions each account has enabled (Account Management ListRegions) |
//! | [`admin`] | the GuardDuty administrator a command reads and acts through |
//! | [`error`] | SDK errors -> our typed [`AwsError`] with operation, code, message and hint |

/// GuardDuty's limit of accounts per member call (CreateMembers, InviteMembers,
/// GetMemberDetectors, UpdateMemberDetectors ...).
pub const ACCOUNTS_PER_CALL: usize = 50;

pub mod admin;
pub mod error;
pub mod factory;
pub mod opt_in;
pub mod organization;
pub mod session;

pub use admin::Administrator;
pub use error::AwsError;
pub use factory::{AwsOptions, ClientFactory};
pub use opt_in::OptIn;
pub use session::{Caller, Session};
