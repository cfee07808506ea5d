//! IAM (awsQuery) (to be implemented).

use super::auth::Caller;
use super::error::ApiError;
use super::query::Form;
use super::state::World;

pub const OPERATIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "UpdateAssumeRolePolicy",
    "CreatePolicy",
    "GetPolicy",
    "CreatePolicyVersion",
    "ListPolicyVersions",
    "DeletePolicyVersion",
    "AttachRolePolicy",
    "ListAttachedRolePolicies",
];

pub fn handle(
    _world: &mut World,
    _caller: &Caller,
    op: &str,
    _form: &Form,
) -> Result<Option<String>, ApiError> {
    Err(ApiError::new(
        400,
        "InvalidAction",
        format!("{op} is not implemented yet"),
    ))
}
