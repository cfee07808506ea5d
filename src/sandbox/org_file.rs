//! The org file: a TOML description of the world the sandbox serves (accounts, their state,
//! faults), and the building of a [`World`] from it. `examples/org.toml` shows every key.

use std::collections::BTreeSet;

use chrono::Utc;
use serde::Deserialize;

use super::faults::FaultConfig;
use super::guardduty::seed::{seed_findings, FindingsSeed};
use super::state::{Account, AccountStatus, Iam, Role, World, DEFAULT_EXECUTION_ROLE};

/// The whole org file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSpec {
    /// Seed of every random choice (ids, keys, sample data): same seed, same world.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The management account.
    #[serde(default = "default_management")]
    pub management: AccountSpec,
    /// Generated member accounts, in addition to `accounts`.
    #[serde(default)]
    pub member_accounts: usize,
    /// Opt-in regions the generated accounts have enabled.
    #[serde(default)]
    pub opt_in_regions: Vec<String>,
    /// Lifetime of AssumeRole credentials when the caller asks for none, in seconds.
    #[serde(default = "default_session_lifetime")]
    pub session_lifetime_secs: u64,
    /// Explicitly described accounts.
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    #[serde(default)]
    pub faults: FaultConfig,
    /// Findings to seed (`[[findings]]` blocks, see `guardduty::seed`).
    #[serde(default)]
    pub findings: Vec<FindingsSeed>,
}

/// One account of the org file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// ACTIVE (default) or SUSPENDED.
    #[serde(default)]
    pub suspended: bool,
    /// Whether the account has the execution role (default true, except the management account).
    #[serde(default)]
    pub execution_role: Option<bool>,
    /// Opt-in regions this account has enabled.
    #[serde(default)]
    pub opt_in_regions: Vec<String>,
    /// Regions calls in which fail as in a region the account has not enabled.
    #[serde(default)]
    pub disabled_regions: Vec<String>,
}

fn default_seed() -> u64 {
    7
}

fn default_session_lifetime() -> u64 {
    3600
}

fn default_management() -> AccountSpec {
    AccountSpec {
        id: "111111111111".into(),
        name: Some("management".into()),
        email: Some("aws-management@example.com".into()),
        suspended: false,
        execution_role: Some(false),
        opt_in_regions: vec![],
        disabled_regions: vec![],
    }
}

impl Default for OrgSpec {
    fn default() -> OrgSpec {
        OrgSpec {
            seed: default_seed(),
            management: default_management(),
            member_accounts: 0,
            opt_in_regions: vec![],
            session_lifetime_secs: default_session_lifetime(),
            accounts: vec![],
            faults: FaultConfig::default(),
            findings: vec![],
        }
    }
}

impl OrgSpec {
    /// A generated organization of `members` accounts besides the management account.
    pub fn generated(members: usize) -> OrgSpec {
        OrgSpec {
            member_accounts: members,
            ..OrgSpec::default()
        }
    }

    /// Parse an org file's text.
    pub fn parse(text: &str) -> Result<OrgSpec, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The id of the i-th generated member account (1-based), e.g. `200000000001`.
    pub fn generated_id(i: usize) -> String {
        format!("{:012}", 200_000_000_000u64 + i as u64)
    }
}

/// The execution role's trust policy: the management account may assume it.
pub fn trust_policy_for(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// Build the world an org file describes.
pub fn build_world(spec: &OrgSpec) -> Result<World, String> {
    let regions: Vec<String> = crate::regions::all().map(String::from).collect();
    let management_id = spec.management.id.clone();
    let mut world = World::new(
        spec.seed,
        account_from(&spec.management, &management_id, true)?,
        regions,
    );
    world.session_lifetime = chrono::Duration::seconds(spec.session_lifetime_secs as i64);
    let mut seen: BTreeSet<String> = BTreeSet::from([management_id.clone()]);
    for a in &spec.accounts {
        if !seen.insert(a.id.clone()) {
            return Err(format!("account {} is listed twice", a.id));
        }
        world.add_account(account_from(a, &management_id, false)?);
    }
    let mut i = 0;
    let mut added = 0;
    while added < spec.member_accounts {
        i += 1;
        let id = OrgSpec::generated_id(i);
        if !seen.insert(id.clone()) {
            continue;
        }
        let a = AccountSpec {
            id,
            name: Some(format!("member-{i:04}")),
            email: Some(format!("aws+member-{i:04}@example.com")),
            suspended: false,
            execution_role: None,
            opt_in_regions: spec.opt_in_regions.clone(),
            disabled_regions: vec![],
        };
        world.add_account(account_from(&a, &management_id, false)?);
        added += 1;
    }
    seed_findings(&mut world, &spec.findings, spec.seed)?;
    Ok(world)
}

fn account_from(a: &AccountSpec, management: &str, is_management: bool) -> Result<Account, String> {
    if a.id.len() != 12 || !a.id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("account id {:?} is not 12 digits", a.id));
    }
    for r in a.opt_in_regions.iter().chain(&a.disabled_regions) {
        if crate::regions::lookup(r).is_none() {
            return Err(format!("account {}: unknown region {r:?}", a.id));
        }
    }
    let now = Utc::now();
    let mut iam = Iam::default();
    if a.execution_role.unwrap_or(!is_management) {
        let name = DEFAULT_EXECUTION_ROLE.to_string();
        iam.roles.insert(
            name.clone(),
            Role {
                arn: format!("arn:aws:iam::{}:role/{name}", a.id),
                id: format!("AROA{}", &a.id),
                name,
                path: "/".into(),
                description: None,
                trust_policy: trust_policy_for(management),
                max_session_duration: 3600,
                created: now,
                attached: BTreeSet::new(),
            },
        );
    }
    Ok(Account {
        id: a.id.clone(),
        name: a
            .name
            .clone()
            .unwrap_or_else(|| format!("account-{}", a.id)),
        email: a
            .email
            .clone()
            .unwrap_or_else(|| format!("aws+{}@example.com", a.id)),
        status: if a.suspended {
            AccountStatus::Suspended
        } else {
            AccountStatus::Active
        },
        joined: now,
        opted_in: a.opt_in_regions.iter().cloned().collect(),
        disabled: a.disabled_regions.iter().cloned().collect(),
        iam,
    })
}
