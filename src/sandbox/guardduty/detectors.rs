//! GuardDuty detectors operations (to be implemented).

use serde_json::Value;

use crate::sandbox::auth::Caller;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::World;

use super::Request;

pub fn handle(_world: &mut World, _caller: &Caller, req: &Request) -> Result<Value, ApiError> {
    Err(ApiError::bad_request(format!(
        "The sandbox does not implement {} yet",
        req.route.op
    )))
}
