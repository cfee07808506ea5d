//! STS (awsQuery): AssumeRole, GetCallerIdentity (to be implemented).

use super::auth::Caller;
use super::error::ApiError;
use super::query::Form;
use super::state::World;

pub const OPERATIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

pub fn handle(
    _world: &mut World,
    caller: &Caller,
    op: &str,
    _form: &Form,
) -> Result<Option<String>, ApiError> {
    match op {
        "GetCallerIdentity" => {
            let mut x = super::xml::Xml::new();
            x.el("UserId", &caller.access_key)
                .el("Account", &caller.account)
                .el("Arn", &caller.arn);
            Ok(Some(x.finish()))
        }
        _ => Err(ApiError::new(
            400,
            "InvalidAction",
            format!("{op} is not implemented yet"),
        )),
    }
}
