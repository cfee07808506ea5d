//! Organizations (awsJson1_1) (to be implemented).

use serde_json::Value;

use super::auth::Caller;
use super::error::ApiError;
use super::state::World;

pub const OPERATIONS: &[&str] = &[
    "DescribeOrganization",
    "ListAccounts",
    "EnableAWSServiceAccess",
    "ListAWSServiceAccessForOrganization",
    "RegisterDelegatedAdministrator",
    "DeregisterDelegatedAdministrator",
    "ListDelegatedAdministrators",
];

pub fn handle(
    _world: &mut World,
    _caller: &Caller,
    op: &str,
    _body: &Value,
) -> Result<Value, ApiError> {
    Err(ApiError::new(
        400,
        "UnsupportedAPIEndpointException",
        format!("{op} is not implemented yet"),
    ))
}
