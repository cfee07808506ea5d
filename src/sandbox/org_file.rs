//! The org file: a TOML description of the world the sandbox serves — accounts and their
//! state, pre-existing GuardDuty state, faults — and the building of a [`World`] from it.
//! `examples/org.toml` shows and explains every key.
//!
//! Seeded GuardDuty state uses the same representation the GuardDuty handlers keep: the
//! administrator's cell lists `members[member]` with its relationship; an `Enabled` member's
//! cell links back to its administrator; an `Invited` member's cell holds the invitation.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use serde::Deserialize;

use super::faults::FaultConfig;
use super::guardduty::detectors::{self, configurable, FREQUENCIES};
use super::guardduty::organization::AUTO_VALUES as AUTO_ENABLE;
use super::guardduty::seed::{seed_findings, FindingsSeed};
use super::guardduty::seed_runtime::{self, CoverageSeed, FreeTrialSeed, UsageSeed};
use super::state::{
    sandbox_user, Account, AccountStatus, AdministratorLink, Detector, Iam, Invitation, Member,
    Role, World, ADMINISTRATOR_ACCESS, DEFAULT_EXECUTION_ROLE, GUARDDUTY_PRINCIPAL, SANDBOX_USER,
    UPPER_DIGITS,
};

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
    /// The longest lifetime AssumeRole grants, in seconds (caps DurationSeconds).
    #[serde(default = "default_session_lifetime")]
    pub session_lifetime_secs: u64,
    /// Explicitly described accounts.
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    /// Service principals with trusted access enabled in Organizations.
    #[serde(default)]
    pub service_access: Vec<String>,
    /// Delegated administrators registered in Organizations.
    #[serde(default)]
    pub delegated_administrators: Vec<DelegatedAdminSpec>,
    /// The organization's delegated GuardDuty administrator, if one is already set.
    #[serde(default)]
    pub guardduty: Option<GuardDutyOrgSpec>,
    /// Pre-existing GuardDuty detectors.
    #[serde(default)]
    pub detectors: Vec<DetectorSpec>,
    /// Pre-existing GuardDuty memberships (and pending invitations).
    #[serde(default)]
    pub memberships: Vec<MembershipSpec>,
    /// Pre-existing publishing destinations (findings export) on seeded detectors.
    #[serde(default)]
    pub destinations: Vec<DestinationSpec>,
    #[serde(default)]
    pub faults: FaultConfig,
    /// Findings to seed (`[[findings]]` blocks, see `guardduty::seed`).
    #[serde(default)]
    pub findings: Vec<FindingsSeed>,
    /// IAM settings (`[iam]`).
    #[serde(default)]
    pub iam: IamSpec,
    /// Runtime Monitoring coverage: clusters and instances (`[[coverage]]`, see
    /// `guardduty::seed_runtime`).
    #[serde(default)]
    pub coverage: Vec<CoverageSeed>,
    /// Usage cost over the last 30 days (`[[usage]]`).
    #[serde(default)]
    pub usage: Vec<UsageSeed>,
    /// Free-trial days left (`[[free_trial]]`).
    #[serde(default)]
    pub free_trial: Vec<FreeTrialSeed>,
    /// Region -> features GuardDuty does not offer there (`[unavailable_features]`).
    #[serde(default)]
    pub unavailable_features: BTreeMap<String, Vec<String>>,
}

/// `[iam]`: whether the sandbox evaluates identity policies and SCPs, and what each
/// account's user `sandbox-admin` may do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamSpec {
    /// Evaluate identity policies (users' and roles', managed and inline) and SCPs on every
    /// call, as AWS does (default). `false`: every authenticated call is allowed.
    #[serde(default = "default_true")]
    pub enforce_policies: bool,
    /// Managed policies attached to `sandbox-admin` in member accounts (ARNs, or names of
    /// AWS managed policies). Default: AdministratorAccess. The management account's user
    /// always has AdministratorAccess, as the first user AWS creates.
    #[serde(default)]
    pub member_user_policies: Option<Vec<String>>,
    /// Per account: the managed policies of its `sandbox-admin`, over the default.
    #[serde(default)]
    pub user_policies: BTreeMap<String, Vec<String>>,
}

impl Default for IamSpec {
    fn default() -> IamSpec {
        IamSpec {
            enforce_policies: true,
            member_user_policies: None,
            user_policies: BTreeMap::new(),
        }
    }
}

fn default_true() -> bool {
    true
}

/// One account of the org file (`..AccountSpec::default()` fills the rest in code).
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// Opt-in regions the account enabled, was set up in (detectors, memberships), then
    /// disabled again: the GuardDuty state stays, calls there are refused, ListRegions says
    /// DISABLED and its administrator lists it as `RegionDisabled`.
    #[serde(default)]
    pub opted_out_regions: Vec<String>,
    /// Opt-in regions the account is disabling (ListRegions: DISABLING), set up like
    /// `opted_out_regions`.
    #[serde(default)]
    pub disabling_regions: Vec<String>,
    /// Opt-in regions the account is enabling (ListRegions: ENABLING), not usable yet.
    #[serde(default)]
    pub enabling_regions: Vec<String>,
}

/// A delegated administrator registered in Organizations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegatedAdminSpec {
    pub account: String,
    pub service_principal: String,
}

/// The organization's delegated GuardDuty administrator (EnableOrganizationAdminAccount done).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardDutyOrgSpec {
    pub admin: String,
    /// Regions where it is the administrator (default: every region it has enabled).
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// autoEnableOrganizationMembers: NEW, ALL or NONE (default NONE).
    #[serde(default = "default_auto_enable")]
    pub auto_enable: String,
}

/// Detectors of some accounts in some regions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    pub accounts: Vec<String>,
    /// Default: every region the account has enabled.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// ENABLED (default) or DISABLED (suspended).
    #[serde(default = "default_detector_status")]
    pub status: String,
    /// FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS (default).
    #[serde(default = "default_frequency")]
    pub finding_publishing_frequency: String,
    /// Feature name -> ENABLED | DISABLED, over the defaults (foundational sources on, the
    /// rest off, as a new detector has them).
    #[serde(default)]
    pub features: BTreeMap<String, String>,
}

/// GuardDuty memberships of some members to one administrator in some regions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipSpec {
    pub administrator: String,
    pub members: Vec<String>,
    /// Default: every region both accounts have enabled.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Enabled | Disabled (the administrator stopped monitoring it) | Invited | Created |
    /// Removed | Resigned | EmailVerificationFailed.
    pub status: String,
}

/// A publishing destination on the detectors of some accounts in some regions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSpec {
    pub accounts: Vec<String>,
    /// Default: every region where each account has a seeded detector.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// `arn:aws:s3:::bucket[/prefix/]`
    pub bucket_arn: String,
    /// `arn:aws:kms:<region>:<account>:key/<id>`
    pub kms_key_arn: String,
    /// PUBLISHING (default), PENDING_VERIFICATION, UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY
    /// or STOPPED.
    #[serde(default = "default_destination_status")]
    pub status: String,
}

fn default_destination_status() -> String {
    "PUBLISHING".into()
}

/// Relationships a seeded membership may have.
pub const RELATIONSHIPS: &[&str] = &[
    "Enabled",
    "Disabled",
    "Invited",
    "Created",
    "Removed",
    "Resigned",
    "EmailVerificationFailed",
];

fn default_seed() -> u64 {
    7
}

fn default_session_lifetime() -> u64 {
    3600
}

fn default_auto_enable() -> String {
    "NONE".into()
}

fn default_detector_status() -> String {
    "ENABLED".into()
}

fn default_frequency() -> String {
    "SIX_HOURS".into()
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
        opted_out_regions: vec![],
        disabling_regions: vec![],
        enabling_regions: vec![],
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
            service_access: vec![],
            delegated_administrators: vec![],
            guardduty: None,
            detectors: vec![],
            memberships: vec![],
            destinations: vec![],
            faults: FaultConfig::default(),
            findings: vec![],
            iam: IamSpec::default(),
            coverage: vec![],
            usage: vec![],
            free_trial: vec![],
            unavailable_features: BTreeMap::new(),
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

    /// Parse an org file's text (TOML errors name the line and the key).
    pub fn parse(text: &str) -> Result<OrgSpec, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
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

/// Build the world an org file describes; the error names the problem.
pub fn build_world(spec: &OrgSpec) -> Result<World, String> {
    if spec.session_lifetime_secs == 0 {
        return Err("session_lifetime_secs must be at least 1".into());
    }
    check_opt_in("opt_in_regions", &spec.opt_in_regions)?;
    spec.faults.validate()?;
    let regions: Vec<String> = super::regions::all().map(String::from).collect();
    let management_id = spec.management.id.clone();
    if spec.management.suspended {
        return Err("the management account cannot be suspended".into());
    }
    let mut world = World::new(
        spec.seed,
        account_from(&spec.management, &management_id, true)?,
        regions,
    );
    give_role_ids(&mut world, &management_id);
    world.session_lifetime = chrono::Duration::seconds(spec.session_lifetime_secs as i64);
    world.enforce_policies = spec.iam.enforce_policies;
    let mut seen: BTreeSet<String> = BTreeSet::from([management_id.clone()]);
    for a in &spec.accounts {
        if !seen.insert(a.id.clone()) {
            return Err(format!("account {} is listed twice", a.id));
        }
        world.add_account(account_from(a, &management_id, false)?);
        give_role_ids(&mut world, &a.id);
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
            opted_out_regions: vec![],
            disabling_regions: vec![],
            enabling_regions: vec![],
        };
        world.add_account(account_from(&a, &management_id, false)?);
        give_role_ids(&mut world, &a.id);
        added += 1;
    }
    seed_user_policies(&mut world, &spec.iam)?;
    // Before any detector: a detector never holds a plan its region does not offer.
    seed_runtime::unavailable(&mut world, &spec.unavailable_features)?;
    seed_organization(&mut world, spec)?;
    for d in &spec.detectors {
        seed_detectors(&mut world, d)?;
    }
    for m in &spec.memberships {
        seed_memberships(&mut world, m)?;
    }
    check_single_administrator(&world)?;
    seed_runtime::seed(&mut world, &spec.coverage, &spec.usage, &spec.free_trial)?;
    // Findings last: they go to the detectors seeded above, or get an enabled one.
    seed_findings(&mut world, &spec.findings, spec.seed)?;
    // Destinations after the findings: ids drawn here leave the findings' ids as they were.
    for d in &spec.destinations {
        seed_destinations(&mut world, d)?;
    }
    for a in spec.accounts.iter().chain([&spec.management]) {
        leave_regions(&mut world, a);
    }
    Ok(world)
}

/// Once the account's state is seeded: the regions it has since disabled or is disabling
/// stop being enabled, and those it is enabling are on their way.
fn leave_regions(world: &mut World, spec: &AccountSpec) {
    let Some(account) = world.accounts.get_mut(&spec.id) else {
        return;
    };
    for r in spec.opted_out_regions.iter().chain(&spec.disabling_regions) {
        account.opted_in.remove(r);
    }
    for r in &spec.disabling_regions {
        account.transitioning.insert(r.clone(), "DISABLING".into());
    }
    for r in &spec.enabling_regions {
        account.transitioning.insert(r.clone(), "ENABLING".into());
    }
}

/// `[iam] member_user_policies` and `[iam.user_policies]`: what each `sandbox-admin` has.
fn seed_user_policies(world: &mut World, spec: &IamSpec) -> Result<(), String> {
    let arns = |what: &str, list: &[String]| -> Result<BTreeSet<String>, String> {
        list.iter()
            .map(|p| {
                let arn = if p.starts_with("arn:") {
                    p.clone()
                } else {
                    format!("arn:aws:iam::aws:policy/{p}")
                };
                if super::iam::is_aws_managed(&arn) {
                    Ok(arn)
                } else {
                    Err(format!(
                        "{what}: {p:?} is not an AWS managed policy the sandbox knows"
                    ))
                }
            })
            .collect()
    };
    let members = match &spec.member_user_policies {
        Some(list) => Some(arns("iam.member_user_policies", list)?),
        None => None,
    };
    for (account, list) in &spec.user_policies {
        known(world, "iam.user_policies", account)?;
        arns(&format!("iam.user_policies.{account}"), list)?;
    }
    let management = world.org.management.clone();
    for (id, account) in world.accounts.iter_mut() {
        let chosen = match spec.user_policies.get(id) {
            Some(list) => Some(arns("iam.user_policies", list)?),
            None if *id != management => members.clone(),
            None => None,
        };
        if let (Some(chosen), Some(user)) = (chosen, account.iam.users.get_mut(SANDBOX_USER)) {
            user.attached = chosen;
        }
    }
    Ok(())
}

fn check_opt_in(what: &str, regions: &[String]) -> Result<(), String> {
    for r in regions {
        match super::regions::lookup(r) {
            None => return Err(format!("{what}: unknown region {r:?}")),
            Some(info) if !info.opt_in => {
                return Err(format!(
                    "{what}: {r} is enabled by default, not an opt-in region"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn account_from(a: &AccountSpec, management: &str, is_management: bool) -> Result<Account, String> {
    if a.id.len() != 12 || !a.id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("account id {:?} is not 12 digits", a.id));
    }
    for (what, list) in [
        ("opt_in_regions", &a.opt_in_regions),
        ("opted_out_regions", &a.opted_out_regions),
        ("disabling_regions", &a.disabling_regions),
        ("enabling_regions", &a.enabling_regions),
    ] {
        check_opt_in(&format!("account {}: {what}", a.id), list)?;
    }
    let mut claimed = BTreeSet::new();
    for r in a
        .opt_in_regions
        .iter()
        .chain(&a.opted_out_regions)
        .chain(&a.disabling_regions)
        .chain(&a.enabling_regions)
    {
        if !claimed.insert(r) {
            return Err(format!(
                "account {}: region {r} is given two opt-in states",
                a.id
            ));
        }
    }
    for r in &a.disabled_regions {
        if super::regions::lookup(r).is_none() {
            return Err(format!(
                "account {}: disabled_regions: unknown region {r:?}",
                a.id
            ));
        }
    }
    if let Some(email) = &a.email {
        if !email.contains('@') {
            return Err(format!(
                "account {}: email {email:?} is not an email address",
                a.id
            ));
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
                id: String::new(), // given by `give_role_ids`, from the world's generator
                name,
                path: "/".into(),
                description: None,
                trust_policy: trust_policy_for(management),
                max_session_duration: 3600,
                created: now,
                attached: BTreeSet::from([ADMINISTRATOR_ACCESS.to_string()]),
                inline: BTreeMap::new(),
            },
        );
    }
    iam.users.insert(
        SANDBOX_USER.to_string(),
        sandbox_user(&a.id, [ADMINISTRATOR_ACCESS.to_string()]),
    );
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
        // Regions left later count as enabled while the file's state is seeded.
        opted_in: a
            .opt_in_regions
            .iter()
            .chain(&a.opted_out_regions)
            .chain(&a.disabling_regions)
            .cloned()
            .collect(),
        disabled: a.disabled_regions.iter().cloned().collect(),
        transitioning: BTreeMap::new(),
        iam,
    })
}

/// Role ids are `AROA` + 17 characters, drawn from the seeded generator.
fn give_role_ids(world: &mut World, account: &str) {
    let names: Vec<String> = world.accounts[account].iam.roles.keys().cloned().collect();
    for name in names {
        let id = format!("AROA{}", world.random(UPPER_DIGITS, 17));
        if let Some(r) = world
            .accounts
            .get_mut(account)
            .and_then(|a| a.iam.roles.get_mut(&name))
        {
            r.id = id;
        }
    }
}

/// The account `id` must be in the world.
fn known<'w>(world: &'w World, what: &str, id: &str) -> Result<&'w Account, String> {
    world
        .accounts
        .get(id)
        .ok_or_else(|| format!("{what}: account {id} is not in the organization"))
}

/// The regions of an entry: those given (each known and enabled in every account named), or
/// by default every region all of them have enabled.
fn regions_of(
    world: &World,
    what: &str,
    given: Option<&Vec<String>>,
    accounts: &[&str],
) -> Result<Vec<String>, String> {
    let enabled_in_all = |r: &str| {
        accounts
            .iter()
            .all(|a| world.accounts.get(*a).is_some_and(|a| a.region_enabled(r)))
    };
    match given {
        None => Ok(world
            .regions
            .iter()
            .filter(|r| enabled_in_all(r))
            .cloned()
            .collect()),
        Some(list) => {
            for r in list {
                if super::regions::lookup(r).is_none() {
                    return Err(format!("{what}: unknown region {r:?}"));
                }
                if let Some(a) = accounts
                    .iter()
                    .find(|a| !world.accounts[**a].region_enabled(r))
                {
                    return Err(format!("{what}: account {a} has not enabled region {r}"));
                }
            }
            Ok(list.clone())
        }
    }
}

fn seed_organization(world: &mut World, spec: &OrgSpec) -> Result<(), String> {
    let now = Utc::now();
    for sp in &spec.service_access {
        if !sp.ends_with(".amazonaws.com") {
            return Err(format!("service_access: {sp:?} is not a service principal"));
        }
        world.org.service_access.insert(sp.clone(), now);
    }
    for d in &spec.delegated_administrators {
        let what = "delegated_administrators";
        known(world, what, &d.account)?;
        if world.is_management(&d.account) {
            return Err(format!(
                "{what}: the management account {} cannot be a delegated administrator",
                d.account
            ));
        }
        if !world.org.service_access.contains_key(&d.service_principal) {
            return Err(format!(
                "{what}: {} needs trusted access first: add it to service_access",
                d.service_principal
            ));
        }
        world
            .org
            .delegated_admins
            .insert((d.service_principal.clone(), d.account.clone()), now);
    }
    if let Some(gd) = &spec.guardduty {
        let what = "guardduty";
        known(world, what, &gd.admin)?;
        if !AUTO_ENABLE.contains(&gd.auto_enable.as_str()) {
            return Err(format!(
                "{what}: auto_enable {:?} is not one of {AUTO_ENABLE:?}",
                gd.auto_enable
            ));
        }
        for region in regions_of(world, what, gd.regions.as_ref(), &[gd.admin.as_str()])? {
            let org = world.guardduty_org.entry(region).or_default();
            org.admin = Some(gd.admin.clone());
            org.config.auto_enable_members = gd.auto_enable.clone();
        }
        world
            .org
            .service_access
            .entry(GUARDDUTY_PRINCIPAL.to_string())
            .or_insert(now);
        if !world.is_management(&gd.admin) {
            world
                .org
                .delegated_admins
                .entry((GUARDDUTY_PRINCIPAL.to_string(), gd.admin.clone()))
                .or_insert(now);
        }
    }
    Ok(())
}

fn seed_detectors(world: &mut World, spec: &DetectorSpec) -> Result<(), String> {
    let what = "detectors";
    let enabled = match spec.status.as_str() {
        "ENABLED" => true,
        "DISABLED" => false,
        other => {
            return Err(format!(
                "{what}: status {other:?} is not ENABLED or DISABLED"
            ))
        }
    };
    if !FREQUENCIES.contains(&spec.finding_publishing_frequency.as_str()) {
        return Err(format!(
            "{what}: finding_publishing_frequency {:?} is not one of {FREQUENCIES:?}",
            spec.finding_publishing_frequency
        ));
    }
    for (name, status) in &spec.features {
        if !configurable(name) {
            let names: Vec<&str> = detectors::FEATURES
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| configurable(n))
                .collect();
            return Err(format!(
                "{what}: unknown feature {name:?}; features are {names:?}"
            ));
        }
        if status != "ENABLED" && status != "DISABLED" {
            return Err(format!(
                "{what}: feature {name} status {status:?} is not ENABLED or DISABLED"
            ));
        }
    }
    for account in &spec.accounts {
        known(world, what, account)?;
        for region in regions_of(world, what, spec.regions.as_ref(), &[account.as_str()])? {
            if world.detector(account, &region).is_some() {
                return Err(format!(
                    "{what}: account {account} has two detectors in {region}"
                ));
            }
            let id = world.new_hex_id();
            let detector = new_detector(id, enabled, spec);
            world.set_detector(account, &region, detector);
            detectors::add_service_linked_role(world, account);
        }
    }
    Ok(())
}

/// A detector as CreateDetector makes one, with the file's frequency and feature statuses.
fn new_detector(id: String, enabled: bool, spec: &DetectorSpec) -> Detector {
    let mut d = detectors::new_detector(id, enabled, Utc::now());
    d.finding_publishing_frequency = spec.finding_publishing_frequency.clone();
    for (name, status) in &spec.features {
        if let Some(f) = d.features.get_mut(name) {
            f.status = status.clone();
        }
    }
    d
}

fn seed_destinations(world: &mut World, spec: &DestinationSpec) -> Result<(), String> {
    use super::guardduty::destinations::{is_bucket_arn, is_key_arn, STATUSES};
    let what = "destinations";
    if !is_bucket_arn(&spec.bucket_arn) {
        return Err(format!(
            "{what}: bucket_arn {:?} is not arn:<partition>:s3:::<bucket>[/<prefix>]",
            spec.bucket_arn
        ));
    }
    if !is_key_arn(&spec.kms_key_arn) {
        return Err(format!(
            "{what}: kms_key_arn {:?} is not arn:<partition>:kms:<region>:<account>:key/<id>",
            spec.kms_key_arn
        ));
    }
    if !STATUSES.contains(&spec.status.as_str()) {
        return Err(format!(
            "{what}: status {:?} is not one of {STATUSES:?}",
            spec.status
        ));
    }
    for account in &spec.accounts {
        known(world, what, account)?;
        let regions: Vec<String> = match &spec.regions {
            Some(r) => regions_of(world, what, Some(r), &[account.as_str()])?,
            None => world
                .regions
                .iter()
                .filter(|r| world.detector(account, r).is_some())
                .cloned()
                .collect(),
        };
        for region in regions {
            let id = world.new_hex_id();
            // A destination that cannot publish has been failing for a day.
            let failing_since = (spec.status == "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY")
                .then(|| Utc::now() - chrono::Duration::days(1));
            let detector = world
                .cell_mut(account, &region)
                .detector
                .as_mut()
                .ok_or_else(|| {
                    format!(
                        "{what}: account {account} has no detector in {region}; add it to [[detectors]]"
                    )
                })?;
            detector.destinations.insert(
                id.clone(),
                super::state::PublishingDestination {
                    id,
                    destination_type: "S3".into(),
                    destination_arn: spec.bucket_arn.clone(),
                    kms_key_arn: spec.kms_key_arn.clone(),
                    status: spec.status.clone(),
                    failing_since,
                    tags: BTreeMap::new(),
                    client_token: None,
                },
            );
        }
    }
    Ok(())
}

fn seed_memberships(world: &mut World, spec: &MembershipSpec) -> Result<(), String> {
    let admin = spec.administrator.as_str();
    let what = format!("memberships of administrator {admin}");
    known(world, &what, admin)?;
    let status = spec.status.as_str();
    if !RELATIONSHIPS.contains(&status) {
        return Err(format!(
            "{what}: status {status:?} is not one of {RELATIONSHIPS:?}"
        ));
    }
    for member in &spec.members {
        let member = member.as_str();
        let email = known(world, &what, member)?.email.clone();
        if member == admin {
            return Err(format!("{what}: an account cannot be its own member"));
        }
        for region in regions_of(world, &what, spec.regions.as_ref(), &[admin, member])? {
            if world.detector(admin, &region).is_none() {
                return Err(format!(
                    "{what}: the administrator has no detector in {region}; add it to [[detectors]]"
                ));
            }
            let associated = status == "Enabled" || status == "Disabled";
            if associated && world.detector(member, &region).is_none() {
                return Err(format!(
                    "{what}: {status} member {member} has no detector in {region}; add it to [[detectors]]"
                ));
            }
            if world
                .cell(admin, &region)
                .is_some_and(|c| c.members.contains_key(member))
            {
                return Err(format!("{what}: {member} is listed twice in {region}"));
            }
            let now = Utc::now();
            let invitation_id = world.new_hex_id();
            let (admin_cell, member_cell) = world.cell_pair_mut(&region, admin, member);
            admin_cell.members.insert(
                member.to_string(),
                Member {
                    account_id: member.to_string(),
                    email: email.clone(),
                    relationship: status.to_string(),
                    invited_at: (status != "Created").then_some(now),
                    updated: now,
                    monitoring: status == "Enabled",
                },
            );
            match status {
                "Enabled" | "Disabled" => {
                    if let Some(other) = member_cell.administrator.as_ref() {
                        return Err(format!(
                            "{what}: {member} is already an Enabled member of {} in {region}; an account has at most one administrator",
                            other.account_id
                        ));
                    }
                    member_cell.administrator = Some(AdministratorLink {
                        account_id: admin.to_string(),
                        invitation_id,
                        invited_at: now,
                        relationship: "Enabled".into(),
                    });
                }
                "Invited" => {
                    member_cell.invitations.insert(
                        admin.to_string(),
                        Invitation {
                            administrator: admin.to_string(),
                            invitation_id,
                            invited_at: now,
                        },
                    );
                }
                // Created, Removed, Resigned, EmailVerificationFailed: only the
                // administrator remembers the member.
                _ => {}
            }
        }
    }
    Ok(())
}

/// An administrator cannot itself be an associated member of another administrator.
fn check_single_administrator(world: &World) -> Result<(), String> {
    for region in &world.regions {
        for (account, cell) in world.cells_in_region(region) {
            let administers = cell.members.values().any(|m| m.relationship == "Enabled");
            if let (true, Some(link)) = (administers, cell.administrator.as_ref()) {
                return Err(format!(
                    "memberships: {account} administers members in {region} and is itself an Enabled member of {}",
                    link.account_id
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match OrgSpec::parse(text) {
            Err(e) => e,
            Ok(spec) => build_world(&spec).expect_err("the file is refused"),
        }
    }

    #[test]
    fn the_example_file_builds() {
        let text = include_str!("../../examples/org.toml");
        let spec = OrgSpec::parse(text).unwrap();
        build_world(&spec).unwrap();
        spec.faults.validate().unwrap();
    }

    #[test]
    fn errors_name_the_problem() {
        for (text, expect) in [
            ("acounts = []", "unknown field `acounts`"),
            ("[[accounts]]\nid = \"12\"", "\"12\" is not 12 digits"),
            (
                "[[accounts]]\nid = \"300000000001\"\n[[accounts]]\nid = \"300000000001\"",
                "account 300000000001 is listed twice",
            ),
            (
                "[[accounts]]\nid = \"300000000001\"\nopt_in_regions = [\"mars-north-1\"]",
                "unknown region \"mars-north-1\"",
            ),
            (
                "[[accounts]]\nid = \"300000000001\"\nopt_in_regions = [\"us-east-1\"]",
                "not an opt-in region",
            ),
            (
                "[[accounts]]\nid = \"300000000001\"\nnmae = \"x\"",
                "unknown field `nmae`",
            ),
            ("[[detectors]]\naccounts = [\"999999999999\"]", "999999999999 is not in the organization"),
            (
                "member_accounts = 1\n[[detectors]]\naccounts = [\"200000000001\"]\nregions = [\"af-south-1\"]",
                "has not enabled region af-south-1",
            ),
            (
                "member_accounts = 1\n[[detectors]]\naccounts = [\"200000000001\"]\nfeatures = { S3 = \"ENABLED\" }",
                "unknown feature \"S3\"",
            ),
            (
                "member_accounts = 2\n[[memberships]]\nadministrator = \"200000000001\"\nmembers = [\"200000000002\"]\nstatus = \"Enabled\"",
                "the administrator has no detector",
            ),
            (
                "member_accounts = 2\n[[memberships]]\nadministrator = \"200000000001\"\nmembers = [\"200000000002\"]\nstatus = \"Friends\"",
                "status \"Friends\" is not one of",
            ),
            ("session_lifetime_secs = 0", "session_lifetime_secs must be at least 1"),
            ("[faults]\nerror_rate = 2.0", "faults.error_rate must be in [0, 1)"),
        ] {
            let e = err(text);
            assert!(e.contains(expect), "{text}\n=> {e}");
        }
    }

    #[test]
    fn one_administrator_per_member_and_region() {
        let e = err(r#"
            member_accounts = 3
            [[detectors]]
            accounts = ["200000000001", "200000000002", "200000000003"]
            regions = ["us-east-1"]
            [[memberships]]
            administrator = "200000000001"
            members = ["200000000003"]
            regions = ["us-east-1"]
            status = "Enabled"
            [[memberships]]
            administrator = "200000000002"
            members = ["200000000003"]
            regions = ["us-east-1"]
            status = "Enabled"
        "#);
        assert!(e.contains("at most one administrator"), "{e}");
    }

    #[test]
    fn generated_accounts_skip_explicit_ids() {
        let spec = OrgSpec::parse(
            "member_accounts = 2\n[[accounts]]\nid = \"200000000001\"\nname = \"mine\"",
        )
        .unwrap();
        let w = build_world(&spec).unwrap();
        let ids: Vec<_> = w.accounts.keys().cloned().collect();
        assert_eq!(
            ids,
            [
                "111111111111",
                "200000000001",
                "200000000002",
                "200000000003"
            ]
        );
        assert_eq!(w.accounts["200000000001"].name, "mine");
    }
}
