//! SDK errors, converted at the boundary into one typed error that says which call failed and
//! what AWS answered (code + message), so the user sees account, region, operation and reason,
//! and [`AwsError::hint`] says what to do about the common ones.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A failed AWS call.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq, serde::Serialize)]
#[error("{operation} failed: {code}: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    /// The AWS error code (`AccessDenied`, `BadRequestException` ...), `HTTP <status>` when
    /// the endpoint answered without one, or a transport class (`NoCredentials`, `Timeout`,
    /// `Dispatch`, `Response`) when the call never got an AWS answer.
    pub code: String,
    pub message: String,
}

/// The code of a call that could not be signed: no credentials anywhere in the chain.
pub const NO_CREDENTIALS: &str = "NoCredentials";

impl AwsError {
    /// Convert any SDK error. Used as `.map_err(AwsError::from_sdk("ListDetectors"))`.
    pub fn from_sdk<E>(
        operation: &'static str,
    ) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        move |err| {
            let (code, message) = match &err {
                SdkError::ServiceError(se) => match se.err().code() {
                    Some(code) => (
                        code.to_string(),
                        se.err().message().unwrap_or_default().to_string(),
                    ),
                    // Another emulator, a proxy or an older partition: the status is all
                    // there is, so say what it means.
                    None => http_status(se.raw().status().as_u16(), se.err().message()),
                },
                SdkError::TimeoutError(_) => ("Timeout".into(), "the request timed out".into()),
                _ if lacks_credentials(&err) => (
                    NO_CREDENTIALS.into(),
                    "no AWS credentials were found".into(),
                ),
                SdkError::DispatchFailure(_) => (
                    "Dispatch".into(),
                    format!("could not send the request: {}", innermost(&err)),
                ),
                SdkError::ResponseError(_) => (
                    "Response".into(),
                    format!("the response could not be read: {}", innermost(&err)),
                ),
                SdkError::ConstructionFailure(_) => (
                    "Construction".into(),
                    format!("the request could not be built: {}", innermost(&err)),
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

    /// What to do about it, for the errors users meet most.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self.code.as_str() {
            NO_CREDENTIALS => NO_CREDENTIALS_HINT,
            "ExpiredToken" | "ExpiredTokenException" => {
                "the session has expired: log in again (e.g. `aws sso login`) and re-run"
            }
            "AccessDenied" | "AccessDeniedException" if self.operation == "AssumeRole" => {
                "create the execution role in that account (`gdorg policies apply`), or give its name with --role-name and its trust policy's --external-id"
            }
            "AccessDenied" | "AccessDeniedException" => {
                "the credentials lack this permission: see policies/README.md for the policy gdorg needs"
            }
            "UnrecognizedClientException" | "InvalidClientTokenId" => {
                "the region is not enabled for this account, or the credentials are not valid there"
            }
            "ThrottlingException" | "TooManyRequestsException" | "Throttling" => {
                "AWS throttled the calls: re-run with a lower --concurrency or a higher --max-attempts"
            }
            "Dispatch" | "Timeout" => {
                "check the network and the endpoint (--endpoint-url, AWS_ENDPOINT_URL)"
            }
            c if c.starts_with("HTTP ") => {
                "the endpoint does not speak this AWS operation: check --endpoint-url"
            }
            _ => return None,
        })
    }
}

/// What to do when no credentials are found, and where the SDK looked.
pub const NO_CREDENTIALS_HINT: &str = "no AWS credentials were found (looked in: the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables, the profile's credentials and config files under ~/.aws, SSO, web identity, and the ECS/EC2 instance metadata). Use --profile NAME or AWS_PROFILE, run `aws sso login`, or try gdorg locally with `gdorg sandbox serve`";

/// `HTTP <status>` and what the status means for an AWS call.
fn http_status(status: u16, message: Option<&str>) -> (String, String) {
    let meaning = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found: the endpoint does not implement this operation",
        405 => "Method Not Allowed: the endpoint does not implement this operation",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented: the endpoint does not implement this operation",
        502 => "Bad Gateway: a proxy could not reach the service",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "the endpoint answered without an AWS error code",
    };
    let message = match message.filter(|m| !m.is_empty()) {
        Some(m) => format!("{meaning} ({m})"),
        None => meaning.to_string(),
    };
    (format!("HTTP {status}"), message)
}

/// Whether the call failed for want of credentials (the SDK reports it as a dispatch or
/// construction failure whose cause says so).
fn lacks_credentials<E: std::error::Error + 'static>(err: &SdkError<E, HttpResponse>) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(c) = e.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
        {
            return matches!(
                c,
                aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_)
            );
        }
        let text = e.to_string();
        if text.contains("no providers in chain provided credentials")
            || text.contains("the credential provider was not enabled")
            || text.contains("failed to load credentials")
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// The innermost cause's text: the part of a long SDK chain that says what happened.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        last = e.to_string();
        source = e.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_without_a_code_says_what_it_means() {
        let (code, message) = http_status(404, None);
        assert_eq!(code, "HTTP 404");
        assert!(message.contains("does not implement"), "{message}");
        let (_, message) = http_status(502, Some("upstream"));
        assert!(message.contains("(upstream)"), "{message}");
    }

    #[test]
    fn hints_name_what_to_do() {
        let e = |op, code: &str| AwsError {
            operation: op,
            code: code.into(),
            message: String::new(),
        };
        assert!(e("AssumeRole", "AccessDenied")
            .hint()
            .unwrap()
            .contains("--role-name"));
        assert!(e("ListDetectors", NO_CREDENTIALS)
            .hint()
            .unwrap()
            .contains("sandbox serve"));
        assert!(e("ListCoverage", "HTTP 404")
            .hint()
            .unwrap()
            .contains("--endpoint-url"));
        assert_eq!(e("GetDetector", "BadRequestException").hint(), None);
    }
}
