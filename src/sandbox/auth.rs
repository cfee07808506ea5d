//! Who is calling: the access key and region from the SigV4 `Authorization` header.
//!
//! Signatures are not verified (the sandbox holds no real secrets worth protecting); the key
//! decides the account, exactly as on AWS, and unknown, mismatched or expired keys are refused
//! with the error each protocol uses.

use axum::http::HeaderMap;
use chrono::Utc;

use super::error::{expired_token, invalid_token, ApiError, Protocol};
use super::state::{AccountStatus, Principal, World};

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: String,
    pub access_key: String,
    /// The caller's ARN (user or assumed role).
    pub arn: String,
    /// The signing region (the only place it is visible behind an endpoint override).
    pub region: String,
    pub principal: Principal,
}

/// The parts of a SigV4 credential scope: `AKID/date/region/service/aws4_request`.
#[derive(Debug, PartialEq, Eq)]
pub struct Scope {
    pub access_key: String,
    pub region: String,
    pub service: String,
}

/// Parse the credential scope out of an `Authorization` header value.
pub fn parse_scope(authorization: &str) -> Option<Scope> {
    let rest = authorization.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let cred = rest
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("Credential="))?;
    let mut parts = cred.split('/');
    let access_key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    (!access_key.is_empty() && !region.is_empty()).then_some(Scope {
        access_key,
        region,
        service,
    })
}

/// Authenticate a request: the key must exist, carry its session token, be unexpired, and
/// belong to an active account.
pub fn authenticate(
    world: &World,
    headers: &HeaderMap,
    protocol: Protocol,
) -> Result<Caller, ApiError> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            )
        })?;
    let scope = parse_scope(auth).ok_or_else(|| {
        ApiError::new(
            403,
            "IncompleteSignatureException",
            "Authorization header requires a SigV4 Credential scope.",
        )
    })?;
    let cred = world
        .keys
        .get(&scope.access_key)
        .ok_or_else(|| invalid_token(protocol))?;
    let token = headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    if cred.session_token.as_deref() != token {
        return Err(invalid_token(protocol));
    }
    if let Principal::AssumedRole { expires, .. } = &cred.principal {
        if *expires <= Utc::now() {
            return Err(expired_token(protocol));
        }
    }
    let account = world
        .accounts
        .get(&cred.account)
        .ok_or_else(|| invalid_token(protocol))?;
    if account.status == AccountStatus::Suspended {
        return Err(invalid_token(protocol));
    }
    Ok(Caller {
        account: cred.account.clone(),
        access_key: scope.access_key,
        arn: cred.arn(),
        region: scope.region,
        principal: cred.principal.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261123/eu-west-1/guardduty/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            parse_scope(h),
            Some(Scope {
                access_key: "AKIAEXAMPLE".into(),
                region: "eu-west-1".into(),
                service: "guardduty".into()
            })
        );
        assert_eq!(parse_scope("Basic Zm9vOmJhcg=="), None);
        assert_eq!(parse_scope("AWS4-HMAC-SHA256 SignedHeaders=host"), None);
    }
}
