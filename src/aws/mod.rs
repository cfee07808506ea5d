//! The AWS client side: one base `SdkConfig` loaded once, and a factory that assumes the
//! execution role into each account once and reuses those credentials for every region and
//! service of that account.
//!
//! | module | owns |
//! | --- | --- |
//! | [`factory`] | base config (profile, region, endpoint, retries) and per-account configs |
//! | [`error`] | SDK errors -> our typed [`AwsError`] with operation, code and message |

pub mod error;
pub mod factory;

pub use error::AwsError;
pub use factory::{AwsOptions, ClientFactory};
