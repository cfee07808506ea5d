//! STS (awsQuery): AssumeRole and GetCallerIdentity, and the evaluation of role trust policies.
//!
//! AssumeRole follows AWS's order: the input is validated first (session name, duration,
//! external id), then the caller must be allowed by the role's trust policy (any refusal —
//! no such account, no such role, suspended account, trust policy — is the same
//! `AccessDenied`, so callers cannot probe which part failed), then the duration is checked
//! against the role's maximum.

use chrono::Utc;
use serde_json::Value;

use super::auth::Caller;
use super::authz::{self, Refusal};
use super::error::{ApiError, Protocol};
use super::policy::{self, Request};
use super::query::Form;
use super::state::{AccountStatus, Credential, Principal, World, ALNUM};
use super::xml::{self, Xml};

pub const OPERATIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

/// AWS's default session lifetime when the caller asks for none.
const DEFAULT_DURATION_SECS: i64 = 3600;
/// The model's bounds of `DurationSeconds`.
const MIN_DURATION_SECS: i64 = 900;
/// Role chaining (assuming a role with assumed-role credentials) is capped at one hour.
const CHAINED_MAX_SECS: i64 = 3600;

pub fn handle(
    world: &mut World,
    caller: &Caller,
    op: &str,
    form: &Form,
) -> Result<Option<String>, ApiError> {
    match op {
        "GetCallerIdentity" => Ok(Some(caller_identity(world, caller))),
        "AssumeRole" => assume_role(world, caller, form).map(Some),
        _ => Err(ApiError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {op} for version 2011-06-15"),
        )),
    }
}

fn caller_identity(world: &World, caller: &Caller) -> String {
    let user_id = match &caller.principal {
        // IAM user ids are `AIDA` + 17 characters; ours is derived from the account so it is
        // stable across calls without being stored.
        Principal::User { .. } => format!("AIDASANDB{}", caller.account),
        Principal::AssumedRole { role, session, .. } => {
            format!("{}:{session}", role_id(world, &caller.account, role))
        }
    };
    let mut x = Xml::new();
    x.el("UserId", user_id)
        .el("Account", &caller.account)
        .el("Arn", &caller.arn);
    x.finish()
}

/// The unique id of role `name` of `account` (the name itself if the role has gone).
fn role_id(world: &World, account: &str, name: &str) -> String {
    world
        .accounts
        .get(account)
        .and_then(|a| a.iam.roles.get(name))
        .map(|r| r.id.clone())
        .unwrap_or_else(|| name.to_string())
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "ValidationError", message)
}

fn constraint(value: &str, member: &str, constraint: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

fn access_denied(caller: &Caller, role_arn: &str) -> ApiError {
    ApiError::new(
        403,
        "AccessDenied",
        format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.arn
        ),
    )
}

/// Whether every character is in `[\w+=,.@-]` plus `extra`.
fn name_chars(s: &str, extra: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) || extra.contains(c))
}

/// `arn:aws:iam::<account>:role/<path><name>` -> (account, path, name).
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role")?;
    if !path_and_name.starts_with('/') {
        return None;
    }
    let cut = path_and_name.rfind('/')? + 1;
    let (path, name) = path_and_name.split_at(cut);
    (!account.is_empty() && !name.is_empty()).then_some((account, path, name))
}

fn assume_role(world: &mut World, caller: &Caller, form: &Form) -> Result<String, ApiError> {
    let role_arn = form.require("RoleArn")?.to_string();
    let session = form.require("RoleSessionName")?.to_string();
    if role_arn.len() < 20 || role_arn.len() > 2048 {
        return Err(constraint(
            &role_arn,
            "roleArn",
            "Member must have length greater than or equal to 20 and less than or equal to 2048",
        ));
    }
    if session.len() < 2 || session.len() > 64 {
        return Err(constraint(
            &session,
            "roleSessionName",
            "Member must have length greater than or equal to 2 and less than or equal to 64",
        ));
    }
    if !name_chars(&session, "") {
        return Err(constraint(
            &session,
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    let requested = match form.get("DurationSeconds") {
        None => None,
        Some(v) => {
            let n: i64 = v
                .parse()
                .map_err(|_| constraint(v, "durationSeconds", "Member must be an integer"))?;
            if n < MIN_DURATION_SECS {
                return Err(constraint(
                    v,
                    "durationSeconds",
                    "Member must have value greater than or equal to 900",
                ));
            }
            Some(n)
        }
    };
    let external_id = form.get("ExternalId");
    if let Some(id) = external_id {
        if id.len() < 2 || id.len() > 1224 {
            return Err(constraint(
                id,
                "externalId",
                "Member must have length greater than or equal to 2 and less than or equal to 1224",
            ));
        }
        if !name_chars(id, ":/") {
            return Err(constraint(
                id,
                "externalId",
                "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
            ));
        }
    }
    let packed_policy_size = match form.get("Policy") {
        Some(p) => {
            serde_json::from_str::<Value>(p).map_err(|_| {
                ApiError::new(
                    400,
                    "MalformedPolicyDocument",
                    "The policy is not in the valid JSON format.",
                )
            })?;
            // A rough figure of how much of the packed-policy allowance the policy uses.
            Some((p.len() * 100 / 2048).clamp(1, 100))
        }
        None => None,
    };

    let (account_id, path, name) = parse_role_arn(&role_arn).ok_or_else(|| {
        validation(format!(
            "{role_arn} is invalid: a role ARN looks like arn:aws:iam::<account id>:role/<name>"
        ))
    })?;
    let role = world
        .accounts
        .get(account_id)
        .filter(|a| a.status == AccountStatus::Active)
        .and_then(|a| a.iam.roles.get(name))
        .filter(|r| r.path == path)
        .ok_or_else(|| access_denied(caller, &role_arn))?
        .clone();

    let policy: Value =
        serde_json::from_str(&role.trust_policy).map_err(|_| access_denied(caller, &role_arn))?;
    let ctx = TrustContext {
        principals: caller_principals(world, caller),
        account: &caller.account,
        caller_arn: &caller.arn,
        org_id: &world.org.id,
        external_id,
    };
    let trust = evaluate(&policy, &ctx, "sts:AssumeRole");
    if trust != Decision::Allow {
        return Err(access_denied(caller, &role_arn));
    }
    // The caller's own policies (identity and SCPs) must allow sts:AssumeRole on the role too,
    // except where the trust policy names the caller's own principal in its own account: a
    // resource policy that grants a principal of the same account directly is enough there.
    let request = Request::new("sts:AssumeRole", role_arn.clone());
    let named_directly = account_id == caller.account
        && evaluate(
            &policy,
            &TrustContext {
                principals: ctx.principals.clone(),
                account: "",
                ..ctx
            },
            "sts:AssumeRole",
        ) == Decision::Allow;
    match authz::decide(world, caller, &request) {
        Ok(()) => {}
        Err(Refusal::IdentityImplicit) if named_directly => {}
        Err(refusal) => {
            return Err(authz::access_denied(
                Protocol::Query {
                    xmlns: super::error::STS_XMLNS,
                },
                caller,
                &request,
                refusal,
            ))
        }
    }

    // Regional STS issues credentials only for accounts that have the region enabled.
    if !world.accounts[account_id].region_enabled(&caller.region) {
        return Err(ApiError::new(
            403,
            "RegionDisabledException",
            format!(
                "STS is not activated in this region for account:{account_id}. Your account administrator can activate STS in this region using the IAM Console."
            ),
        ));
    }

    let chained = matches!(caller.principal, Principal::AssumedRole { .. });
    if let Some(n) = requested {
        if chained && n > CHAINED_MAX_SECS {
            return Err(validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            ));
        }
        if n > role.max_session_duration {
            return Err(validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
    }
    // The world's session lifetime caps every grant, so tests can make credentials expire in
    // seconds whatever the client asks for.
    let granted_ms = (requested.unwrap_or(DEFAULT_DURATION_SECS) * 1000)
        .min(world.session_lifetime.num_milliseconds().max(1));
    let expires = Utc::now() + chrono::Duration::milliseconds(granted_ms);

    let key = world.new_access_key("ASIA");
    let secret = world.random(ALNUM, 40);
    let token = format!("FwoGZXIvYXdzEsbx{}", world.random(ALNUM, 180));
    world.keys.insert(
        key.clone(),
        Credential {
            account: account_id.to_string(),
            secret: secret.clone(),
            session_token: Some(token.clone()),
            principal: Principal::AssumedRole {
                role: role.name.clone(),
                session: session.clone(),
                expires,
            },
        },
    );

    let mut x = Xml::new();
    x.nest("Credentials", |x| {
        x.el("AccessKeyId", &key)
            .el("SecretAccessKey", &secret)
            .el("SessionToken", &token)
            .el("Expiration", xml::time(&expires));
    })
    .nest("AssumedRoleUser", |x| {
        x.el("AssumedRoleId", format!("{}:{session}", role.id)).el(
            "Arn",
            format!(
                "arn:aws:sts::{account_id}:assumed-role/{}/{session}",
                role.name
            ),
        );
    });
    if let Some(size) = packed_policy_size {
        x.el("PackedPolicySize", size.to_string());
    }
    Ok(x.finish())
}

/// The principal strings a trust policy may name the caller by, besides the account.
fn caller_principals(world: &World, caller: &Caller) -> Vec<String> {
    let mut out = vec![caller.arn.clone()];
    if let Principal::AssumedRole { role, .. } = &caller.principal {
        // A trust policy names an assumed role by its role ARN (with path).
        if let Some(r) = world
            .accounts
            .get(&caller.account)
            .and_then(|a| a.iam.roles.get(role))
        {
            out.push(r.arn.clone());
        }
    }
    out
}

/// What a trust policy is evaluated against.
#[derive(Debug)]
pub struct TrustContext<'a> {
    /// ARNs that name the caller exactly (user ARN; assumed-role session ARN and role ARN).
    pub principals: Vec<String>,
    /// The caller's account id.
    pub account: &'a str,
    pub caller_arn: &'a str,
    pub org_id: &'a str,
    pub external_id: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit Deny statement matched.
    Deny,
    /// No statement allowed the call.
    ImplicitDeny,
}

/// Evaluate a resource policy for `action` (the shared policy engine, with the trust
/// policy's own context keys): an explicit Deny wins over any Allow.
pub fn evaluate(policy: &Value, ctx: &TrustContext, action: &str) -> Decision {
    let mut req = Request::new(action, "*")
        .with("aws:PrincipalAccount", ctx.account)
        .with("aws:PrincipalArn", ctx.caller_arn)
        .with("aws:PrincipalOrgID", ctx.org_id);
    if let Some(id) = ctx.external_id {
        req.set("sts:ExternalId", id);
    }
    // A statement with a Principal names callers; one without (never valid in a trust policy)
    // names nobody.
    let names_caller = |p: &Value| principal_matches(p, ctx);
    let has_principal = policy::statements(policy)
        .iter()
        .all(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some());
    if !has_principal {
        return Decision::ImplicitDeny;
    }
    match policy::evaluate_with(policy, &req, names_caller) {
        policy::Decision::Allow => Decision::Allow,
        policy::Decision::ExplicitDeny => Decision::Deny,
        policy::Decision::NotApplicable => Decision::ImplicitDeny,
    }
}

fn principal_matches(p: &Value, ctx: &TrustContext) -> bool {
    if p.as_str() == Some("*") {
        return true;
    }
    let Some(aws) = p.get("AWS") else {
        return false; // Service / Federated principals never name a sandbox caller
    };
    let root = format!("arn:aws:iam::{}:root", ctx.account);
    policy::strings(aws).iter().any(|name| {
        *name == "*"
            || (!ctx.account.is_empty() && (*name == ctx.account || *name == root))
            || ctx.principals.iter().any(|arn| arn == name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(external_id: Option<&'static str>) -> TrustContext<'static> {
        TrustContext {
            principals: vec!["arn:aws:iam::111111111111:user/sandbox-admin".into()],
            account: "111111111111",
            caller_arn: "arn:aws:iam::111111111111:user/sandbox-admin",
            org_id: "o-abc",
            external_id,
        }
    }

    fn allow(principal: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
    }

    #[test]
    fn principals_by_account_root_arn_list_and_star() {
        for p in [
            json!({"AWS": "111111111111"}),
            json!({"AWS": "arn:aws:iam::111111111111:root"}),
            json!({"AWS": "arn:aws:iam::111111111111:user/sandbox-admin"}),
            json!({"AWS": ["arn:aws:iam::999999999999:root", "111111111111"]}),
            json!({"AWS": "*"}),
            json!("*"),
        ] {
            assert_eq!(
                evaluate(&allow(p.clone()), &ctx(None), "sts:AssumeRole"),
                Decision::Allow,
                "{p}"
            );
        }
        for p in [
            json!({"AWS": "222222222222"}),
            json!({"AWS": "arn:aws:iam::111111111111:user/someone-else"}),
            json!({"Service": "ec2.amazonaws.com"}),
        ] {
            assert_eq!(
                evaluate(&allow(p.clone()), &ctx(None), "sts:AssumeRole"),
                Decision::ImplicitDeny,
                "{p}"
            );
        }
    }

    #[test]
    fn actions_match_with_wildcards_and_lists() {
        for a in [
            json!("sts:AssumeRole"),
            json!("sts:*"),
            json!("*"),
            json!(["sts:TagSession", "STS:assumerole"]),
            json!("sts:Assume?ole"),
        ] {
            let p = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": a}});
            assert_eq!(
                evaluate(&p, &ctx(None), "sts:AssumeRole"),
                Decision::Allow,
                "{a}"
            );
        }
        let p = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithSAML"}});
        assert_eq!(
            evaluate(&p, &ctx(None), "sts:AssumeRole"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn deny_wins() {
        let p = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "111111111111"}, "Action": "sts:*"}]});
        assert_eq!(evaluate(&p, &ctx(None), "sts:AssumeRole"), Decision::Deny);
    }

    #[test]
    fn external_id_condition() {
        let p = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "111111111111"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": ["a1", "b2"]}}}});
        assert_eq!(
            evaluate(&p, &ctx(Some("b2")), "sts:AssumeRole"),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&p, &ctx(Some("zz")), "sts:AssumeRole"),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(&p, &ctx(None), "sts:AssumeRole"),
            Decision::ImplicitDeny
        );
        let unknown = json!({"Statement": {"Effect": "Allow", "Principal": "*",
            "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}});
        assert_eq!(
            evaluate(&unknown, &ctx(None), "sts:AssumeRole"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn parses_role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"),
            Some(("111111111111", "/", "OrganizationAccountAccessRole"))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::111111111111:role/ops/team/r"),
            Some(("111111111111", "/ops/team/", "r"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::111111111111:user/u"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::111111111111:role/"), None);
        assert_eq!(parse_role_arn("not-an-arn"), None);
    }
}
