//! SDK errors, converted at the boundary into one typed error that says which call failed and
//! what AWS answered (code + message), so the user sees account, region, operation and reason.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A failed AWS call.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq, serde::Serialize)]
#[error("{operation} failed: {code}: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    /// The AWS error code (`AccessDenied`, `BadRequestException` ...) or a transport class
    /// (`Timeout`, `Dispatch`, `Response`) when the call never got an AWS answer.
    pub code: String,
    pub message: String,
}

impl AwsError {
    /// Convert any SDK error. Used as `.map_err(AwsError::from_sdk("ListDetectors"))`.
    pub fn from_sdk<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        move |err| {
            let (code, message) = match &err {
                SdkError::ServiceError(se) => {
                    let e = se.err();
                    (
                        e.code().unwrap_or("Unknown").to_string(),
                        e.message().unwrap_or_default().to_string(),
                    )
                }
                SdkError::TimeoutError(_) => ("Timeout".into(), "the request timed out".into()),
                SdkError::DispatchFailure(d) => (
                    "Dispatch".into(),
                    format!("could not send the request: {d:?}"),
                ),
                SdkError::ResponseError(_) => {
                    ("Response".into(), "the response could not be read".into())
                }
                SdkError::ConstructionFailure(_) => (
                    "Construction".into(),
                    "the request could not be built".into(),
                ),
                _ => (
                    "Unknown".into(),
                    aws_smithy_types::error::display::DisplayErrorContext(&err).to_string(),
                ),
            };
            AwsError {
                operation,
                code,
                message,
            }
        }
    }

    /// Access was refused (no role, trust policy, missing permission).
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_str(),
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
        )
    }

    /// The region is not enabled for the account (opt-in region, or disabled).
    pub fn is_region_disabled(&self) -> bool {
        matches!(
            self.code.as_str(),
            "UnrecognizedClientException" | "RegionDisabledException" | "InvalidClientTokenId"
        )
    }
}
