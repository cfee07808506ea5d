//! Who is calling: the SigV4 `Authorization` header decides the key (and so the account and
//! principal) and the region; the signature is verified against the key's secret.
//!
//! Checks run in the order AWS's answers imply: a malformed header, a scope naming a region that
//! does not exist or another service, an unknown key, a region the account has not enabled, a
//! wrong session token, a wrong or stale signature, an expired session. Each refusal carries the code the
//! request's protocol uses (see [`super::error`]).

use axum::http::HeaderMap;
use chrono::Utc;

use super::error::{
    expired_token, incomplete_signature, invalid_token, missing_authentication, signature_error,
    ApiError, Protocol,
};
use super::regions;
use super::sigv4::{self, Authorization, Received, Rejection};
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

/// Authenticate a request to `service` (its SigV4 signing name): the signature must be the
/// key's, the key must exist, carry its session token, be unexpired, belong to an active
/// account, and (for a regional service) be used in a region that account has enabled.
pub fn authenticate(
    world: &World,
    req: Received<'_>,
    service: &str,
    protocol: Protocol,
) -> Result<Caller, ApiError> {
    let reject = |r: Rejection| match r {
        Rejection::Incomplete(m) => incomplete_signature(protocol, m),
        Rejection::Mismatch(m) => signature_error(protocol, m),
    };
    let header =
        authorization_header(req.headers).ok_or_else(|| missing_authentication(protocol))?;
    let auth = Authorization::parse(header).map_err(reject)?;
    // AWS's own wording for both, trailing space included.
    if regions::lookup(&auth.region).is_none() {
        return Err(signature_error(
            protocol,
            format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                auth.region
            ),
        ));
    }
    if auth.service != service {
        return Err(signature_error(
            protocol,
            format!("Credential should be scoped to correct service: '{service}'. "),
        ));
    }
    let cred = world
        .keys
        .get(&auth.access_key)
        .ok_or_else(|| invalid_token(protocol))?;
    let account = world
        .accounts
        .get(&cred.account)
        .ok_or_else(|| invalid_token(protocol))?;
    if account.status == AccountStatus::Suspended {
        return Err(invalid_token(protocol));
    }
    // The one rule for regions an account has not enabled, for every regional service: AWS
    // keeps an account's IAM principals out of such a region (enabling a region is what
    // distributes them there; disabling it "removes all IAM access" to it), so the region's
    // endpoints do not recognise the credentials at all and answer as for an unknown key:
    // InvalidClientTokenId (query) or UnrecognizedClientException (JSON), 403, "The security
    // token included in the request is invalid." Global services (IAM, Organizations) have no
    // region to refuse.
    if regions::is_regional(service) && !account.region_enabled(&auth.region) {
        return Err(invalid_token(protocol));
    }
    let token = req
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok());
    if cred.session_token.as_deref() != token {
        return Err(invalid_token(protocol));
    }
    sigv4::verify(&auth, &cred.secret, req, Utc::now()).map_err(reject)?;
    if let Principal::AssumedRole { expires, .. } = &cred.principal {
        if *expires <= Utc::now() {
            return Err(expired_token(protocol));
        }
    }
    Ok(Caller {
        account: cred.account.clone(),
        access_key: auth.access_key,
        arn: cred.arn(),
        region: auth.region,
        principal: cred.principal.clone(),
    })
}

fn authorization_header(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|v| v.to_str().ok())
}
