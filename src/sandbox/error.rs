//! Errors as each AWS protocol puts them on the wire.
//!
//! The SDKs decide error-vs-success by HTTP status alone and read the error code from
//! `x-amzn-errortype` (JSON protocols) or `<Error><Code>` (query protocol), so every
//! `ApiError` carries a non-2xx status and the code the SDK's error shapes expect.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::xml;

/// The wire protocol a request came in on; it decides how errors and results are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// GuardDuty: restJson1.
    RestJson,
    /// Organizations: awsJson1_1.
    AwsJson,
    /// STS and IAM: awsQuery; the namespace of the response envelope.
    Query { xmlns: &'static str },
}

pub const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
pub const IAM_XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// An AWS error: HTTP status, the error code the SDK matches on, and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Extra members of a JSON error body (e.g. Organizations' `Reason`).
    pub extra: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(status).expect("valid status"),
            code: code.to_string(),
            message: message.into(),
            extra: Vec::new(),
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> ApiError {
        self.extra.push((key.to_string(), value.to_string()));
        self
    }

    /// GuardDuty's only client error shape.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequestException", message)
    }

    /// GuardDuty's refusal of a malformed or out-of-range parameter.
    pub fn invalid_param(name: &str) -> ApiError {
        ApiError::bad_request(format!(
            "The request is rejected because the parameter {name} has an invalid value."
        ))
    }

    /// GuardDuty's server fault shape.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalServerErrorException", message)
    }

    /// Encode for `protocol`, with `request_id` in the header and (query protocol) the body.
    pub fn into_response(self, protocol: Protocol, request_id: &str) -> Response {
        let mut resp = match protocol {
            Protocol::RestJson | Protocol::AwsJson => {
                let message_key = if protocol == Protocol::RestJson {
                    "message"
                } else {
                    "Message"
                };
                let mut body = serde_json::Map::new();
                body.insert("__type".into(), self.code.clone().into());
                body.insert(message_key.into(), self.message.clone().into());
                for (k, v) in &self.extra {
                    body.insert(k.clone(), v.clone().into());
                }
                let ct = if protocol == Protocol::RestJson {
                    "application/json"
                } else {
                    "application/x-amz-json-1.1"
                };
                let mut r =
                    (self.status, serde_json::Value::Object(body).to_string()).into_response();
                r.headers_mut()
                    .insert("content-type", HeaderValue::from_static(ct));
                if let Ok(v) = HeaderValue::from_str(&self.code) {
                    r.headers_mut().insert("x-amzn-errortype", v);
                }
                r
            }
            Protocol::Query { xmlns } => {
                let kind = if self.status.is_server_error() {
                    "Receiver"
                } else {
                    "Sender"
                };
                let body = format!(
                    "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                    xml::escape(&self.code),
                    xml::escape(&self.message)
                );
                let mut r = (self.status, body).into_response();
                r.headers_mut()
                    .insert("content-type", HeaderValue::from_static("text/xml"));
                r
            }
        };
        if let Ok(v) = HeaderValue::from_str(request_id) {
            resp.headers_mut().insert("x-amzn-requestid", v);
        }
        resp
    }
}

/// The credential was not recognised (unknown key, wrong session token, disabled region).
pub fn invalid_token(protocol: Protocol) -> ApiError {
    let msg = "The security token included in the request is invalid.";
    match protocol {
        Protocol::Query { .. } => ApiError::new(403, "InvalidClientTokenId", msg),
        _ => ApiError::new(403, "UnrecognizedClientException", msg),
    }
}

/// No `Authorization` header at all.
pub fn missing_authentication(protocol: Protocol) -> ApiError {
    let msg = "Missing Authentication Token";
    match protocol {
        Protocol::Query { .. } => ApiError::new(403, "MissingAuthenticationToken", msg),
        _ => ApiError::new(403, "MissingAuthenticationTokenException", msg),
    }
}

/// A SigV4 `Authorization` header that lacks a part, or a request without a date.
pub fn incomplete_signature(protocol: Protocol, message: impl Into<String>) -> ApiError {
    match protocol {
        Protocol::Query { .. } => ApiError::new(400, "IncompleteSignature", message),
        _ => ApiError::new(400, "IncompleteSignatureException", message),
    }
}

/// A signature that is wrong, or signed for a scope (region, service, date) that cannot be.
pub fn signature_error(protocol: Protocol, message: impl Into<String>) -> ApiError {
    match protocol {
        Protocol::Query { .. } => ApiError::new(403, "SignatureDoesNotMatch", message),
        _ => ApiError::new(403, "InvalidSignatureException", message),
    }
}

/// The temporary credential has expired.
pub fn expired_token(protocol: Protocol) -> ApiError {
    let msg = "The security token included in the request is expired";
    match protocol {
        Protocol::Query { .. } => ApiError::new(400, "ExpiredToken", msg),
        Protocol::AwsJson => ApiError::new(400, "ExpiredTokenException", msg),
        Protocol::RestJson => ApiError::new(403, "ExpiredTokenException", msg),
    }
}

/// The throttling error each protocol's SDK retries.
pub fn throttled(protocol: Protocol) -> ApiError {
    match protocol {
        Protocol::Query { .. } => ApiError::new(400, "Throttling", "Rate exceeded"),
        Protocol::AwsJson => ApiError::new(400, "TooManyRequestsException", "Rate exceeded"),
        Protocol::RestJson => ApiError::new(429, "TooManyRequestsException", "Rate exceeded"),
    }
}

/// A server fault each protocol's SDK retries.
pub fn server_fault(protocol: Protocol) -> ApiError {
    match protocol {
        Protocol::Query { xmlns } if xmlns == STS_XMLNS => {
            ApiError::new(500, "InternalFailure", "The request processing has failed because of an unknown error.")
        }
        Protocol::Query { .. } => ApiError::new(500, "ServiceFailure", "The request processing has failed because of an unknown error."),
        Protocol::AwsJson => ApiError::new(500, "ServiceException", "AWS Organizations can't complete your request because of an internal service error. Try again later."),
        Protocol::RestJson => ApiError::internal("The request processing has failed because of an unknown error, exception or failure."),
    }
}
