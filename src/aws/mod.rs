//! The AWS client side: one base `SdkConfig` loaded once, and a factory that assumes the
//! execution role into each account once and reuses those credentials for every region and
//! service of that account.
//!
//! | module | owns |
//! | --- | --- |
//! | [`factory`] | base config (profile, region, endpoint, retries) and per-account configs |
//! | [`session`] | the caller's identity; acting as an account (own credentials or assumed role) |
//! | [`error`] | SDK errors -> our typed [`AwsError`] with operation, code and message |

pub mod error;
pub mod factory;
pub mod session;

pub use error::AwsError;
pub use factory::{AwsOptions, ClientFactory};
pub use session::Session;
