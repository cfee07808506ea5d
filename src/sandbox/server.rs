//! The one HTTP endpoint: tell the service and operation from the request, authenticate,
//! inject faults, dispatch to the service module, encode the answer, log the call.
//!
//! How the four services share one port (as on the wire, no guessing): Organizations requests
//! carry `X-Amz-Target: AWSOrganizationsV20161128.<Op>`; STS and IAM are form posts to `/` with
//! `Action` and `Version`; a REST request signed for `account` is the Account Management API;
//! everything else is a GuardDuty REST route.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};

use super::auth::{authenticate, Caller};
use super::calls::CallRecord;
use super::error::{server_fault, throttled, ApiError, Protocol, IAM_XMLNS, STS_XMLNS};
use super::faults::Verdict;
use super::query::Form;
use super::sigv4::Received;
use super::{account, authz, guardduty, iam, organizations, sts, xml, Shared};

const ORGANIZATIONS_TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";
const STS_VERSION: &str = "2011-06-15";
const IAM_VERSION: &str = "2010-05-08";

/// A request, once we know which operation of which service it is. A JSON body is parsed
/// here but refused only after authentication, as AWS checks the signature first.
enum Incoming {
    GuardDuty {
        route: guardduty::Route,
        query: Vec<(String, String)>,
        body: Result<serde_json::Value, ApiError>,
    },
    Organizations {
        op: &'static str,
        body: Result<serde_json::Value, ApiError>,
    },
    Sts {
        op: &'static str,
        form: Form,
    },
    Iam {
        op: &'static str,
        form: Form,
    },
    Account {
        op: &'static str,
        body: Result<serde_json::Value, ApiError>,
    },
}

impl Incoming {
    fn service(&self) -> &'static str {
        match self {
            Incoming::GuardDuty { .. } => "guardduty",
            Incoming::Organizations { .. } => "organizations",
            Incoming::Sts { .. } => "sts",
            Incoming::Iam { .. } => "iam",
            Incoming::Account { .. } => account::SIGNING_NAME,
        }
    }

    fn op(&self) -> &'static str {
        match self {
            Incoming::GuardDuty { route, .. } => route.op,
            Incoming::Organizations { op, .. }
            | Incoming::Sts { op, .. }
            | Incoming::Iam { op, .. }
            | Incoming::Account { op, .. } => op,
        }
    }

    fn protocol(&self) -> Protocol {
        match self {
            Incoming::GuardDuty { .. } | Incoming::Account { .. } => Protocol::RestJson,
            Incoming::Organizations { .. } => Protocol::AwsJson,
            Incoming::Sts { .. } => Protocol::Query { xmlns: STS_XMLNS },
            Incoming::Iam { .. } => Protocol::Query { xmlns: IAM_XMLNS },
        }
    }
}

/// The service's answer to a successful call.
pub enum Reply {
    /// A JSON document (GuardDuty, Organizations).
    Json(serde_json::Value),
    /// The inner XML of `<OpResult>`, or nothing for operations without output (STS, IAM).
    Xml(Option<String>),
}

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A call's latency runs from its arrival: the sandbox's own work is done within it, as a
    // service's is within the time its callers see, so that a busy sandbox does not add its
    // CPU time (and its queue) to every call on top of the latency it was asked for.
    let arrived = std::time::Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let incoming = match classify(&method, &uri, &headers, &body) {
        Ok(i) => i,
        Err((protocol, e)) => return e.into_response(protocol, &request_id),
    };
    let (service, op, protocol) = (incoming.service(), incoming.op(), incoming.protocol());

    let received = Received {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    let caller = {
        let world = shared.world.lock().expect("world poisoned");
        authenticate(&world, received, service, protocol)
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => {
            shared.calls.push(CallRecord {
                service,
                operation: op,
                account: String::new(),
                region: String::new(),
                status: e.status.as_u16(),
            });
            return e.into_response(protocol, &request_id);
        }
    };

    let result = match shared
        .faults
        .judge(service, &caller.account, &caller.region, op)
    {
        Verdict::Serve(latency) => {
            let result = {
                let mut world = shared.world.lock().expect("world poisoned");
                dispatch(&mut world, &caller, incoming)
            };
            shared.clock.until(arrived + latency).await;
            result
        }
        Verdict::Throttle(latency) => {
            shared.clock.until(arrived + latency).await;
            Err(throttled(protocol))
        }
        Verdict::Fail(latency) => {
            shared.clock.until(arrived + latency).await;
            // Account Management's server fault has its own shape name.
            Err(if service == account::SIGNING_NAME {
                ApiError::new(500, "InternalServerException", "Internal service error.")
            } else {
                server_fault(protocol)
            })
        }
    };

    let status = result
        .as_ref()
        .map(|_| 200)
        .unwrap_or_else(|e| e.status.as_u16());
    shared.calls.push(CallRecord {
        service,
        operation: op,
        account: caller.account.clone(),
        region: caller.region.clone(),
        status,
    });
    match result {
        Ok(reply) => encode(reply, op, protocol, &request_id),
        Err(e) => e.into_response(protocol, &request_id),
    }
}

fn dispatch(
    world: &mut super::state::World,
    caller: &Caller,
    incoming: Incoming,
) -> Result<Reply, ApiError> {
    let protocol = incoming.protocol();
    match incoming {
        Incoming::GuardDuty { route, query, body } => {
            let body = body?;
            let created_filter = (route.op == "CreateFilter")
                .then(|| body.get("name").and_then(|v| v.as_str()).map(String::from))
                .flatten();
            let filter = route
                .filter_name
                .clone()
                .or(created_filter)
                .or(route.destination_id.clone());
            let request = authz::guardduty_request(
                caller,
                route.op,
                route.detector_id.as_deref(),
                filter.as_deref(),
            );
            authz::authorize(world, caller, protocol, &[request])?;
            guardduty::handle(world, caller, &guardduty::Request { route, query, body })
                .map(Reply::Json)
        }
        Incoming::Organizations { op, body } => {
            let body = body?;
            let requests = authz::organizations_requests(world, op, &body);
            authz::authorize(world, caller, protocol, &requests)?;
            organizations::handle(world, caller, op, &body).map(Reply::Json)
        }
        // AssumeRole weighs the trust policy with the caller's policies itself; GetCallerIdentity
        // needs no permission.
        Incoming::Sts { op, form } => sts::handle(world, caller, op, &form).map(Reply::Xml),
        Incoming::Iam { op, form } => {
            let request = authz::iam_request(world, caller, op, &|k| form.get(k).map(String::from));
            authz::authorize(world, caller, protocol, &[request])?;
            iam::handle(world, caller, op, &form).map(Reply::Xml)
        }
        Incoming::Account { op, body } => {
            let body = body?;
            let request = account::policy_request(world, caller, op, &body);
            authz::authorize(world, caller, protocol, &[request])?;
            account::handle(world, caller, op, &body).map(Reply::Json)
        }
    }
}

fn classify(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Incoming, (Protocol, ApiError)> {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let protocol = Protocol::AwsJson;
        let name = target
            .strip_prefix(ORGANIZATIONS_TARGET_PREFIX)
            .ok_or_else(|| {
                (
                    protocol,
                    ApiError::new(
                        400,
                        "UnknownOperationException",
                        format!("Unknown target {target}"),
                    ),
                )
            })?;
        let op = organizations::OPERATIONS
            .iter()
            .copied()
            .find(|o| *o == name)
            .ok_or_else(|| {
                (
                    protocol,
                    ApiError::new(
                        400,
                        "UnknownOperationException",
                        format!("The sandbox does not implement {name}"),
                    ),
                )
            })?;
        let body = parse_json(body);
        return Ok(Incoming::Organizations { op, body });
    }
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if *method == Method::POST && uri.path() == "/" && is_form {
        let form = Form::parse(body);
        let action = form.get("Action").unwrap_or_default().to_string();
        return match form.get("Version") {
            Some(STS_VERSION) => {
                let protocol = Protocol::Query { xmlns: STS_XMLNS };
                let op = sts::OPERATIONS
                    .iter()
                    .copied()
                    .find(|o| *o == action)
                    .ok_or_else(|| (protocol, invalid_action(&action)))?;
                Ok(Incoming::Sts { op, form })
            }
            Some(IAM_VERSION) => {
                let protocol = Protocol::Query { xmlns: IAM_XMLNS };
                let op = iam::OPERATIONS
                    .iter()
                    .copied()
                    .find(|o| *o == action)
                    .ok_or_else(|| (protocol, invalid_action(&action)))?;
                Ok(Incoming::Iam { op, form })
            }
            other => Err((
                Protocol::Query { xmlns: STS_XMLNS },
                ApiError::new(
                    400,
                    "InvalidParameterValue",
                    format!("Unsupported API version {}", other.unwrap_or("(none)")),
                ),
            )),
        };
    }
    let protocol = Protocol::RestJson;
    if signing_service(headers) == Some(account::SIGNING_NAME) {
        let op = account::route(method.as_str(), uri.path()).ok_or_else(|| {
            (
                protocol,
                ApiError::new(
                    404,
                    "UnknownOperationException",
                    format!("No operation at {method} {}", uri.path()),
                ),
            )
        })?;
        return Ok(Incoming::Account {
            op,
            body: parse_json(body),
        });
    }
    let route = guardduty::Route::parse(method, uri.path()).ok_or_else(|| {
        (
            protocol,
            ApiError::new(
                404,
                "UnknownOperationException",
                format!("No operation at {method} {}", uri.path()),
            ),
        )
    })?;
    let query = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let body = parse_json(body);
    Ok(Incoming::GuardDuty { route, query, body })
}

/// The service named in the SigV4 credential scope (`Credential=key/date/region/SERVICE/...`):
/// two REST services share paths' shape, and this is what tells them apart on the wire.
fn signing_service(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?;
    scope.split(['/', ',']).nth(3)
}

fn invalid_action(action: &str) -> ApiError {
    ApiError::new(
        400,
        "InvalidAction",
        format!("Could not find operation {action} for version"),
    )
}

fn parse_json(body: &Bytes) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            400,
            "SerializationException",
            format!("Malformed JSON body: {e}"),
        )
    })
}

fn encode(reply: Reply, op: &str, protocol: Protocol, request_id: &str) -> Response {
    let (content_type, body) = match (reply, protocol) {
        (Reply::Json(v), Protocol::AwsJson) => ("application/x-amz-json-1.1", v.to_string()),
        (Reply::Json(v), _) => ("application/json", v.to_string()),
        (Reply::Xml(inner), Protocol::Query { xmlns }) => (
            "text/xml",
            xml::envelope(op, xmlns, inner.as_deref(), request_id),
        ),
        (Reply::Xml(inner), _) => ("text/xml", inner.unwrap_or_default()),
    };
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}
