//! Authorization: whether the caller's policies let it make this request, as AWS decides it
//! for a principal acting in its own account.
//!
//! The documents that apply (IAM User Guide, "Policy evaluation logic"):
//! - the SCPs of the caller's account, when the organization has SCPs enabled and the account
//!   is not the management account (SCPs never restrict it): at each level (root, account)
//!   some attached SCP must allow the action and none may deny it;
//! - the principal's identity policies: the managed policies attached to the user or role and
//!   its inline policies.
//!
//! An explicit Deny in any of them refuses the request; otherwise the SCPs must allow it and an
//! identity policy must allow it. `sts:GetCallerIdentity` needs no permission (AWS answers it
//! even under an explicit deny). Resource policies (role trust policies) are evaluated by STS
//! itself, which combines them with [`decide`] for cross-account AssumeRole.
//!
//! Every refusal is the calling service's own AccessDenied with AWS's message:
//! `User: <arn> is not authorized to perform: <action> on resource: <resource> because no
//! identity-based policy allows the <action> action` (or `with an explicit deny in a service
//! control policy`, ...).

use serde_json::Value;

use super::auth::Caller;
use super::error::{ApiError, Protocol};
use super::iam::aws_managed_document;
use super::policy::{self, Decision, Request};
use super::state::{Decided, Principal, World};

/// Which kind of policy refused a request, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ScpExplicit,
    ScpImplicit,
    IdentityExplicit,
    IdentityImplicit,
}

impl Refusal {
    /// The end of AWS's message for this refusal.
    fn reason(self, action: &str) -> String {
        match self {
            Refusal::ScpExplicit => "with an explicit deny in a service control policy".into(),
            Refusal::ScpImplicit => {
                format!("because no service control policy allows the {action} action")
            }
            Refusal::IdentityExplicit => "with an explicit deny in an identity-based policy".into(),
            Refusal::IdentityImplicit => {
                format!("because no identity-based policy allows the {action} action")
            }
        }
    }
}

/// The role ARN behind a caller (a session's role, with its path) or the user's ARN: what
/// `aws:PrincipalArn` holds.
pub fn principal_arn(world: &World, caller: &Caller) -> String {
    match &caller.principal {
        Principal::User { .. } => caller.arn.clone(),
        Principal::AssumedRole { role, .. } => world
            .accounts
            .get(&caller.account)
            .and_then(|a| a.iam.roles.get(role))
            .map(|r| r.arn.clone())
            .unwrap_or_else(|| format!("arn:aws:iam::{}:role/{role}", caller.account)),
    }
}

/// The global condition keys of a request from `caller`.
pub fn with_principal(world: &World, caller: &Caller, mut req: Request) -> Request {
    req.set("aws:PrincipalArn", principal_arn(world, caller));
    req.set("aws:PrincipalAccount", caller.account.clone());
    req.set("aws:PrincipalOrgID", world.org.id.clone());
    req.set("aws:RequestedRegion", caller.region.clone());
    match &caller.principal {
        Principal::User { name } => {
            req.set("aws:PrincipalType", "User");
            req.set("aws:username", name.clone());
        }
        Principal::AssumedRole { .. } => req.set("aws:PrincipalType", "AssumedRole"),
    }
    req
}

/// The identity policy documents of the caller's principal (attached managed, then inline).
pub fn identity_documents(world: &World, caller: &Caller) -> Vec<Value> {
    let Some(account) = world.accounts.get(&caller.account) else {
        return Vec::new();
    };
    let (attached, inline) = match &caller.principal {
        Principal::User { name } => match account.iam.users.get(name) {
            Some(u) => (&u.attached, &u.inline),
            None => return Vec::new(),
        },
        Principal::AssumedRole { role, .. } => match account.iam.roles.get(role) {
            Some(r) => (&r.attached, &r.inline),
            None => return Vec::new(),
        },
    };
    let managed = attached.iter().filter_map(|arn| {
        aws_managed_document(arn).map(str::to_string).or_else(|| {
            account.iam.policies.get(arn).and_then(|p| {
                p.versions
                    .iter()
                    .find(|v| v.is_default)
                    .map(|v| v.document.clone())
            })
        })
    });
    managed
        .chain(inline.values().cloned())
        .filter_map(|text| serde_json::from_str(&text).ok())
        .collect()
}

/// Combine the decisions of a set of documents: a Deny wins, then any Allow.
fn combine(docs: &[Value], req: &Request) -> Decision {
    let mut out = Decision::NotApplicable;
    for d in docs {
        match policy::evaluate(d, req) {
            Decision::ExplicitDeny => return Decision::ExplicitDeny,
            Decision::Allow => out = Decision::Allow,
            Decision::NotApplicable => {}
        }
    }
    out
}

/// The SCPs' verdict on `req` for a principal of `account`: None when SCPs do not apply.
pub fn scp_decision(world: &World, account: &str, req: &Request) -> Option<Decision> {
    let levels = world.org.scp_levels(account)?;
    let mut all_allow = true;
    for level in levels {
        let docs: Vec<Value> = level
            .iter()
            .filter_map(|p| serde_json::from_str(&p.content).ok())
            .collect();
        match combine(&docs, req) {
            Decision::ExplicitDeny => return Some(Decision::ExplicitDeny),
            Decision::Allow => {}
            Decision::NotApplicable => all_allow = false,
        }
    }
    Some(if all_allow {
        Decision::Allow
    } else {
        Decision::NotApplicable
    })
}

/// The verdict of the caller's SCPs and identity policies on `req` (the global keys are
/// added here). `Ok` when enforcement is off.
pub fn decide(world: &World, caller: &Caller, req: &Request) -> Result<(), Refusal> {
    if !world.enforce_policies {
        return Ok(());
    }
    let req = with_principal(world, caller, req.clone());
    let scp = scp_decision(world, &caller.account, &req);
    let identity = combine(&identity_documents(world, caller), &req);
    let verdict = match (scp, identity) {
        (Some(Decision::ExplicitDeny), _) => Err(Refusal::ScpExplicit),
        (_, Decision::ExplicitDeny) => Err(Refusal::IdentityExplicit),
        (Some(Decision::NotApplicable), _) => Err(Refusal::ScpImplicit),
        (_, Decision::NotApplicable) => Err(Refusal::IdentityImplicit),
        _ => Ok(()),
    };
    if let Some(log) = &world.decisions {
        log.borrow_mut().push(Decided {
            principal: principal_arn(world, caller),
            action: req.action.clone(),
            resource: req.resource.clone(),
            allowed: verdict.is_ok(),
        });
    }
    verdict
}

/// The AccessDenied of `protocol` for `refusal` of `req` by `caller`.
pub fn access_denied(
    protocol: Protocol,
    caller: &Caller,
    req: &Request,
    refusal: Refusal,
) -> ApiError {
    let message = format!(
        "User: {} is not authorized to perform: {} on resource: {} {}",
        caller.arn,
        req.action,
        req.resource,
        refusal.reason(&req.action)
    );
    match protocol {
        Protocol::RestJson => ApiError::new(403, "AccessDeniedException", message),
        Protocol::AwsJson => ApiError::new(400, "AccessDeniedException", message),
        Protocol::Query { .. } => ApiError::new(403, "AccessDenied", message),
    }
}

/// Authorize every request of `reqs` (an operation on two resources needs both), answering
/// with the service's AccessDenied for the first refused.
pub fn authorize(
    world: &World,
    caller: &Caller,
    protocol: Protocol,
    reqs: &[Request],
) -> Result<(), ApiError> {
    for req in reqs {
        decide(world, caller, req).map_err(|r| access_denied(protocol, caller, req, r))?;
    }
    Ok(())
}

// ---- what each service's operations ask for ------------------------------------------------

/// A GuardDuty request: `guardduty:<Operation>` on the detector, filter or publishing
/// destination (`filter` carries either name) the operation authorises on (Service
/// Authorization Reference), else on `*`.
pub fn guardduty_request(
    caller: &Caller,
    op: &str,
    detector: Option<&str>,
    filter: Option<&str>,
) -> Request {
    let base = format!("arn:aws:guardduty:{}:{}", caller.region, caller.account);
    let resource = match (op, detector, filter) {
        ("GetDetector" | "UpdateDetector" | "DeleteDetector", Some(d), _) => {
            format!("{base}:detector/{d}")
        }
        ("CreateFilter" | "GetFilter" | "UpdateFilter" | "DeleteFilter", Some(d), Some(f)) => {
            format!("{base}:detector/{d}/filter/{f}")
        }
        ("CreatePublishingDestination" | "ListPublishingDestinations", Some(d), _) => {
            format!("{base}:detector/{d}")
        }
        (
            "DescribePublishingDestination"
            | "UpdatePublishingDestination"
            | "DeletePublishingDestination",
            Some(d),
            Some(x),
        ) => format!("{base}:detector/{d}/publishingDestination/{x}"),
        _ => "*".to_string(),
    };
    Request::new(format!("guardduty:{op}"), resource)
}

/// An Organizations request: `organizations:<Operation>` on the policy, root or account it
/// names (each a request of its own), with `organizations:ServicePrincipal` and
/// `organizations:PolicyType` when the input carries them.
pub fn organizations_requests(world: &World, op: &str, body: &Value) -> Vec<Request> {
    let action = format!("organizations:{op}");
    let org = &world.org;
    let str_of = |k: &str| body.get(k).and_then(Value::as_str);
    let mut resources = Vec::new();
    if let Some(id) = str_of("PolicyId") {
        resources.push(match org.policies.get(id) {
            Some(p) if p.aws_managed => format!(
                "arn:aws:organizations::aws:policy/{}/{id}",
                p.policy_type.to_ascii_lowercase()
            ),
            _ => format!(
                "arn:aws:organizations::{}:policy/{}/service_control_policy/{id}",
                org.management, org.id
            ),
        });
    }
    for key in ["TargetId", "RootId"] {
        if let Some(t) = str_of(key) {
            resources.push(if t.starts_with("r-") {
                format!(
                    "arn:aws:organizations::{}:root/{}/{t}",
                    org.management, org.id
                )
            } else if t.starts_with("ou-") {
                format!(
                    "arn:aws:organizations::{}:ou/{}/{t}",
                    org.management, org.id
                )
            } else {
                format!(
                    "arn:aws:organizations::{}:account/{}/{t}",
                    org.management, org.id
                )
            });
        }
    }
    if resources.is_empty() {
        resources.push("*".to_string());
    }
    resources
        .into_iter()
        .map(|r| {
            let mut req = Request::new(action.clone(), r);
            if let Some(sp) = str_of("ServicePrincipal") {
                req.set("organizations:ServicePrincipal", sp);
            }
            let named_type = str_of("PolicyId")
                .and_then(|id| org.policies.get(id))
                .map(|p| p.policy_type.as_str());
            if let Some(t) = str_of("PolicyType")
                .or(str_of("Type"))
                .or(str_of("Filter"))
                .or(named_type)
            {
                req.set("organizations:PolicyType", t);
            }
            req
        })
        .collect()
}

/// An IAM request: `iam:<Operation>` on the role, user or policy it names.
pub fn iam_request(
    world: &World,
    caller: &Caller,
    op: &str,
    get: &dyn Fn(&str) -> Option<String>,
) -> Request {
    let account = world.accounts.get(&caller.account);
    let base = format!("arn:aws:iam::{}", caller.account);
    let path_of_role = |name: &str| {
        account
            .and_then(|a| {
                a.iam
                    .roles
                    .values()
                    .find(|r| r.name.eq_ignore_ascii_case(name))
            })
            .map(|r| r.path.clone())
    };
    let path_of_user = |name: &str| {
        account
            .and_then(|a| {
                a.iam
                    .users
                    .values()
                    .find(|u| u.name.eq_ignore_ascii_case(name))
            })
            .map(|u| u.path.clone())
    };
    let caller_user = match &caller.principal {
        Principal::User { name } => Some(name.clone()),
        Principal::AssumedRole { .. } => None,
    };
    let resource = if let Some(arn) =
        get("PolicyArn").filter(|_| !op.ends_with("RolePolicy") && !op.ends_with("UserPolicy"))
    {
        arn
    } else if let Some(role) = get("RoleName") {
        let path = get("Path")
            .filter(|_| op == "CreateRole")
            .or_else(|| path_of_role(&role))
            .unwrap_or_else(|| "/".into());
        format!("{base}:role{path}{role}")
    } else if let Some(user) =
        get("UserName").or(caller_user.filter(|_| op == "CreateAccessKey" || op == "GetUser"))
    {
        let path = get("Path")
            .filter(|_| op == "CreateUser")
            .or_else(|| path_of_user(&user))
            .unwrap_or_else(|| "/".into());
        format!("{base}:user{path}{user}")
    } else if let Some(name) = get("PolicyName").filter(|_| op == "CreatePolicy") {
        let path = get("Path").unwrap_or_else(|| "/".into());
        format!("{base}:policy{path}{name}")
    } else {
        "*".to_string()
    };
    let mut req = Request::new(format!("iam:{op}"), resource);
    if op.starts_with("Attach") || op.starts_with("Detach") {
        if let Some(arn) = get("PolicyArn") {
            req.set("iam:PolicyARN", arn);
        }
    }
    req
}
