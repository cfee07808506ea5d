//! The sandbox's world: the organization, its accounts, their credentials and IAM, and the
//! GuardDuty state of every (account, region) cell.
//!
//! One `World` sits behind one mutex (see [`super::Shared`]); every handler takes the lock, does
//! its microseconds of work and releases it before anything slow (latency injection, encoding).
//! GuardDuty cells are created lazily, so 1000 accounts x 32 regions cost nothing until touched.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::guardduty::coverage::CoveredResource;
use super::guardduty::findings_store::FindingStore;
use super::guardduty::usage::UsageRecord;

/// The GuardDuty service principal, as Organizations knows it.
pub const GUARDDUTY_PRINCIPAL: &str = "guardduty.amazonaws.com";
/// The role Organizations creates in every account it creates; gdorg's default execution role.
pub const DEFAULT_EXECUTION_ROLE: &str = "OrganizationAccountAccessRole";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Suspended,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Suspended => "SUSPENDED",
        }
    }
}

/// An account of the organization.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    pub status: AccountStatus,
    pub joined: DateTime<Utc>,
    /// Opt-in regions this account has enabled; default regions are always enabled.
    pub opted_in: BTreeSet<String>,
    /// Default regions this account has been made to refuse (a test lever for "disabled region").
    pub disabled: BTreeSet<String>,
    /// Opt-in regions on their way in or out (region -> ENABLING | DISABLING). Neither is
    /// usable yet (or any more): AWS distributes or removes the account's IAM access first.
    pub transitioning: BTreeMap<String, String>,
    pub iam: Iam,
}

impl Account {
    /// Whether calls in `region` are served for this account.
    pub fn region_enabled(&self, region: &str) -> bool {
        if self.disabled.contains(region) || self.transitioning.contains_key(region) {
            return false;
        }
        match super::regions::lookup(region) {
            Some(info) if info.opt_in => self.opted_in.contains(region),
            _ => true,
        }
    }

    /// The opt-in status the Account Management API reports for `region` (ListRegions):
    /// ENABLED_BY_DEFAULT, ENABLED, ENABLING, DISABLING or DISABLED.
    pub fn region_opt_status(&self, region: &str) -> &str {
        if let Some(t) = self.transitioning.get(region) {
            return t;
        }
        let opt_in = super::regions::lookup(region).is_some_and(|r| r.opt_in);
        match (opt_in, self.region_enabled(region)) {
            (false, true) => "ENABLED_BY_DEFAULT",
            (true, true) => "ENABLED",
            (_, false) => "DISABLED",
        }
    }

    pub fn arn(&self, org_id: &str, management: &str) -> String {
        format!(
            "arn:aws:organizations::{management}:account/{org_id}/{}",
            self.id
        )
    }
}

/// IAM entities of one account (IAM is global: not per region).
#[derive(Debug, Clone, Default)]
pub struct Iam {
    pub roles: BTreeMap<String, Role>,
    /// IAM users by name (every account has `sandbox-admin`, whose key the sandbox hands out).
    pub users: BTreeMap<String, User>,
    /// Customer managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
}

/// The user every sandbox account has; its long-term key is what `keys_of` returns.
pub const SANDBOX_USER: &str = "sandbox-admin";
/// The AWS managed policy AWS attaches to the management account's first user and to
/// `OrganizationAccountAccessRole`.
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created: DateTime<Utc>,
    /// Attached managed policy ARNs.
    pub attached: BTreeSet<String>,
    /// Inline policies: name -> document (decoded JSON text).
    pub inline: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub description: Option<String>,
    /// The trust policy, as JSON text (decoded).
    pub trust_policy: String,
    pub max_session_duration: i64,
    pub created: DateTime<Utc>,
    /// Attached managed policy ARNs.
    pub attached: BTreeSet<String>,
    /// Inline policies: name -> document (decoded JSON text).
    pub inline: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub description: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub versions: Vec<PolicyVersion>,
    /// The next version number to hand out (`v{n}`); IAM never reuses a number.
    pub next_version: u32,
    pub attachment_count: u32,
}

#[derive(Debug, Clone)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    pub is_default: bool,
    pub created: DateTime<Utc>,
}

/// Who holds an access key.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A long-term key of an IAM user of the account (the sandbox gives each account one).
    User { name: String },
    /// Temporary credentials from STS AssumeRole.
    AssumedRole {
        role: String,
        session: String,
        expires: DateTime<Utc>,
    },
}

#[derive(Clone)]
pub struct Credential {
    pub account: String,
    /// The secret access key: requests are signed with it, so it never goes into Debug output.
    pub secret: String,
    pub session_token: Option<String>,
    pub principal: Principal,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("account", &self.account)
            .field("secret", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("principal", &self.principal)
            .finish()
    }
}

impl Credential {
    pub fn arn(&self) -> String {
        match &self.principal {
            Principal::User { name } => format!("arn:aws:iam::{}:user/{name}", self.account),
            Principal::AssumedRole { role, session, .. } => {
                format!(
                    "arn:aws:sts::{}:assumed-role/{role}/{session}",
                    self.account
                )
            }
        }
    }
}

/// The organization's own settings (Organizations is global).
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: String,
    pub management: String,
    /// Service principals with trusted access enabled, with the date enabled.
    pub service_access: BTreeMap<String, DateTime<Utc>>,
    /// (service principal, account id) -> date delegated.
    pub delegated_admins: BTreeMap<(String, String), DateTime<Utc>>,
    /// The organization's one root (`r-` + 4 characters).
    pub root_id: String,
    /// Policy types enabled on the root (`SERVICE_CONTROL_POLICY`).
    pub policy_types: BTreeSet<String>,
    /// Organization policies (customer and AWS managed) by id.
    pub policies: BTreeMap<String, OrgPolicy>,
    /// Target id (root or account) -> ids of the policies attached to it.
    pub attachments: BTreeMap<String, BTreeSet<String>>,
}

/// The policy type of service control policies.
pub const SCP_TYPE: &str = "SERVICE_CONTROL_POLICY";
/// The id of the AWS managed SCP that allows everything.
pub const FULL_AWS_ACCESS_ID: &str = "p-FullAWSAccess";

/// An Organizations policy (the sandbox knows SCPs).
#[derive(Debug, Clone)]
pub struct OrgPolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub policy_type: String,
    pub content: String,
    pub aws_managed: bool,
}

impl Organization {
    /// The SCPs in force for `account` (None: SCPs do not apply to it), by level: the root's,
    /// then the account's own. An action must be allowed at every level and denied at none.
    pub fn scp_levels(&self, account: &str) -> Option<Vec<Vec<&OrgPolicy>>> {
        if account == self.management || !self.policy_types.contains(SCP_TYPE) {
            return None;
        }
        let level = |target: &str| -> Vec<&OrgPolicy> {
            self.attachments
                .get(target)
                .into_iter()
                .flatten()
                .filter_map(|id| self.policies.get(id))
                .filter(|p| p.policy_type == SCP_TYPE)
                .collect()
        };
        Some(vec![level(&self.root_id), level(account)])
    }
}

/// A GuardDuty detector.
#[derive(Debug, Clone)]
pub struct Detector {
    pub id: String,
    pub enabled: bool,
    pub finding_publishing_frequency: String,
    /// Feature name -> (status ENABLED|DISABLED, updated).
    pub features: BTreeMap<String, FeatureState>,
    pub tags: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Publishing destinations (findings export) by id: they belong to the detector and go
    /// with it.
    pub destinations: BTreeMap<String, PublishingDestination>,
}

/// Where a detector exports its findings (an S3 bucket, encrypted with a KMS key).
#[derive(Debug, Clone)]
pub struct PublishingDestination {
    pub id: String,
    /// `S3`, the only type GuardDuty has.
    pub destination_type: String,
    pub destination_arn: String,
    pub kms_key_arn: String,
    /// PENDING_VERIFICATION | PUBLISHING | UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY | STOPPED
    pub status: String,
    /// When GuardDuty first failed to publish (while it cannot).
    pub failing_since: Option<DateTime<Utc>>,
    pub tags: BTreeMap<String, String>,
    /// The `clientToken` of the CreatePublishingDestination that made it (a retry with the
    /// same token gets this destination back instead of a second one).
    pub client_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FeatureState {
    pub status: String,
    pub updated: DateTime<Utc>,
    /// Additional configuration name -> status.
    pub additional: BTreeMap<String, String>,
}

/// A member account as its administrator sees it (one region).
#[derive(Debug, Clone)]
pub struct Member {
    pub account_id: String,
    pub email: String,
    /// Created, Invited, Enabled, Disabled, Removed, Resigned, EmailVerificationFailed ...
    pub relationship: String,
    pub invited_at: Option<DateTime<Utc>>,
    pub updated: DateTime<Utc>,
    /// Whether the administrator monitors the member (StopMonitoringMembers turns it off).
    pub monitoring: bool,
}

/// An invitation a member account has received (one region).
#[derive(Debug, Clone)]
pub struct Invitation {
    pub administrator: String,
    pub invitation_id: String,
    pub invited_at: DateTime<Utc>,
}

/// The administrator a member account is associated with (one region).
#[derive(Debug, Clone)]
pub struct AdministratorLink {
    pub account_id: String,
    pub invitation_id: String,
    pub invited_at: DateTime<Utc>,
    /// Enabled while associated.
    pub relationship: String,
}

/// A saved GuardDuty filter.
#[derive(Debug, Clone)]
pub struct SavedFilter {
    pub name: String,
    pub description: Option<String>,
    pub action: String,
    pub rank: i32,
    /// The `findingCriteria` JSON exactly as given.
    pub criteria: serde_json::Value,
    pub tags: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub version: i64,
}

/// Organization-wide GuardDuty settings of one region, held by the delegated administrator.
#[derive(Debug, Clone, Default)]
pub struct OrgConfig {
    /// NEW | ALL | NONE
    pub auto_enable_members: String,
    /// Feature name -> NEW | ALL | NONE
    pub features: BTreeMap<String, String>,
    /// (feature name, additional configuration name) -> NEW | ALL | NONE
    pub additional: BTreeMap<(String, String), String>,
}

/// GuardDuty state of one account in one region.
#[derive(Debug, Default, Clone)]
pub struct Cell {
    pub detector: Option<Detector>,
    /// Members this account administers, by account id.
    pub members: BTreeMap<String, Member>,
    /// Invitations received, by inviting administrator.
    pub invitations: BTreeMap<String, Invitation>,
    /// The administrator this account is associated with, if any.
    pub administrator: Option<AdministratorLink>,
    pub filters: BTreeMap<String, SavedFilter>,
    pub findings: FindingStore,
    /// Runtime Monitoring coverage: this account's clusters and instances in this region.
    pub coverage: Vec<CoveredResource>,
    /// What this account's GuardDuty cost in this region over the last 30 days.
    pub usage: Vec<UsageRecord>,
    /// Free-trial end per usage feature, when set by the org file; otherwise a feature's
    /// trial runs 30 days from when it was enabled.
    pub trial_ends: BTreeMap<String, DateTime<Utc>>,
}

/// GuardDuty's organization settings of one region.
#[derive(Debug, Default, Clone)]
pub struct GuardDutyOrgRegion {
    /// The delegated GuardDuty administrator of the organization in this region.
    pub admin: Option<String>,
    pub config: OrgConfig,
}

/// Everything the sandbox serves (Clone: tests take a copy and serve it again).
#[derive(Debug, Clone)]
pub struct World {
    pub org: Organization,
    pub accounts: BTreeMap<String, Account>,
    /// Access key id -> credential.
    pub keys: HashMap<String, Credential>,
    /// Account id -> the long-term access key id of its IAM user `sandbox-admin`.
    pub user_keys: BTreeMap<String, String>,
    /// Regions the sandbox serves.
    pub regions: Vec<String>,
    cells: HashMap<(String, String), Cell>,
    pub guardduty_org: HashMap<String, GuardDutyOrgRegion>,
    /// The longest lifetime AssumeRole grants (caps DurationSeconds; tests set seconds).
    pub session_lifetime: chrono::Duration,
    /// Seeded randomness: ids, keys, sample data. The same seed gives the same world.
    pub rng: ChaCha8Rng,
    /// Whether identity policies and SCPs are evaluated (org file `[iam] enforce_policies`).
    pub enforce_policies: bool,
    /// When set, every authorization decision is recorded here (tests ask which actions a
    /// principal used). Off by default: a long-running sandbox would grow it without end.
    pub decisions: Option<std::cell::RefCell<Vec<Decided>>>,
    /// Region -> GuardDuty features not offered there (see `guardduty::availability`).
    pub unavailable_features: BTreeMap<String, BTreeSet<String>>,
}

/// One authorization decision, as recorded when [`World::decisions`] is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// `aws:PrincipalArn` of the caller (a user's ARN, or a session's role ARN).
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub allowed: bool,
}

impl World {
    /// An empty world: an organization whose only account is `management`.
    pub fn new(seed: u64, management: Account, regions: Vec<String>) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let org_id = format!("o-{}", random_chars(&mut rng, LOWER_DIGITS, 10));
        // Derived from the organization id, not drawn: the seeded generator's sequence (and so
        // every id and key of a seed) stays what it was before roots existed.
        let root_id = format!("r-{}", &org_id[org_id.len() - 4..]);
        let mut world = World {
            org: Organization {
                id: org_id,
                management: management.id.clone(),
                service_access: BTreeMap::new(),
                delegated_admins: BTreeMap::new(),
                root_id,
                policy_types: BTreeSet::new(),
                policies: BTreeMap::from([(
                    FULL_AWS_ACCESS_ID.to_string(),
                    OrgPolicy {
                        id: FULL_AWS_ACCESS_ID.into(),
                        name: "FullAWSAccess".into(),
                        description: "Allows access to every operation".into(),
                        policy_type: SCP_TYPE.into(),
                        content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into(),
                        aws_managed: true,
                    },
                )]),
                attachments: BTreeMap::new(),
            },
            accounts: BTreeMap::new(),
            keys: HashMap::new(),
            user_keys: BTreeMap::new(),
            regions,
            cells: HashMap::new(),
            guardduty_org: HashMap::new(),
            session_lifetime: chrono::Duration::hours(1),
            rng,
            enforce_policies: true,
            decisions: None,
            unavailable_features: BTreeMap::new(),
        };
        world.add_account(management);
        world
    }

    /// Adds an account with a long-term key of its user `sandbox-admin` (created with
    /// AdministratorAccess attached when the account does not bring one).
    pub fn add_account(&mut self, mut account: Account) {
        account
            .iam
            .users
            .entry(SANDBOX_USER.to_string())
            .or_insert_with(|| sandbox_user(&account.id, [ADMINISTRATOR_ACCESS.to_string()]));
        let key = self.new_access_key("AKIA");
        let secret = random_chars(&mut self.rng, ALNUM, 40);
        self.keys.insert(
            key.clone(),
            Credential {
                account: account.id.clone(),
                secret,
                session_token: None,
                principal: Principal::User {
                    name: SANDBOX_USER.into(),
                },
            },
        );
        self.user_keys.insert(account.id.clone(), key);
        self.accounts.insert(account.id.clone(), account);
    }

    /// A fresh access key id with the given prefix (`AKIA` long-term, `ASIA` temporary).
    pub fn new_access_key(&mut self, prefix: &str) -> String {
        loop {
            let key = format!("{prefix}{}", random_chars(&mut self.rng, UPPER_DIGITS, 16));
            if !self.keys.contains_key(&key) {
                return key;
            }
        }
    }

    /// `n` random characters of `alphabet`, from the world's seeded generator.
    pub fn random(&mut self, alphabet: &[u8], n: usize) -> String {
        random_chars(&mut self.rng, alphabet, n)
    }

    /// A GuardDuty-style 32-hex-character id (detectors, findings, invitations).
    pub fn new_hex_id(&mut self) -> String {
        random_chars(&mut self.rng, HEX, 32)
    }

    /// The GuardDuty cell of (account, region), created on first use.
    pub fn cell_mut(&mut self, account: &str, region: &str) -> &mut Cell {
        self.cells
            .entry((account.to_string(), region.to_string()))
            .or_default()
    }

    /// Give `account` the detector `d` in `region`, without the features the region does not
    /// offer: GuardDuty reports only the plans a region has.
    pub fn set_detector(&mut self, account: &str, region: &str, mut d: Detector) {
        if let Some(gone) = self.unavailable_features.get(region) {
            d.features.retain(|name, _| !gone.contains(name));
        }
        self.cell_mut(account, region).detector = Some(d);
    }

    /// The GuardDuty cell of (account, region), if it was ever touched.
    pub fn cell(&self, account: &str, region: &str) -> Option<&Cell> {
        self.cells.get(&(account.to_string(), region.to_string()))
    }

    /// Two distinct cells of one region mutably (administrator and member).
    pub fn cell_pair_mut(&mut self, region: &str, a: &str, b: &str) -> (&mut Cell, &mut Cell) {
        assert_ne!(a, b, "a cell cannot pair with itself");
        self.cell_mut(a, region);
        self.cell_mut(b, region);
        let [x, y] = self.cells.get_disjoint_mut([
            &(a.to_string(), region.to_string()),
            &(b.to_string(), region.to_string()),
        ]);
        (x.expect("created above"), y.expect("created above"))
    }

    /// The account's detector in `region`, if it has one.
    pub fn detector(&self, account: &str, region: &str) -> Option<&Detector> {
        self.cell(account, region).and_then(|c| c.detector.as_ref())
    }

    /// Accounts whose findings `account` sees in `region`: itself, then its members whose
    /// relationship is Enabled (associated) and monitored.
    pub fn visible_accounts(&self, account: &str, region: &str) -> Vec<String> {
        let mut out = vec![account.to_string()];
        if let Some(cell) = self.cell(account, region) {
            out.extend(
                cell.members
                    .values()
                    .filter(|m| m.relationship == "Enabled" && m.monitoring)
                    .map(|m| m.account_id.clone()),
            );
        }
        out
    }

    /// The administrator `account` is associated with in `region`, if any.
    pub fn administrator_of(&self, account: &str, region: &str) -> Option<&str> {
        self.cell(account, region)
            .and_then(|c| c.administrator.as_ref())
            .filter(|l| l.relationship == "Enabled")
            .map(|l| l.account_id.as_str())
    }

    /// Every touched cell of `region` (for the organization-wide views).
    pub fn cells_in_region<'a>(
        &'a self,
        region: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Cell)> + 'a {
        self.cells
            .iter()
            .filter(move |((_, r), _)| r == region)
            .map(|((a, _), c)| (a.as_str(), c))
    }

    /// Whether `account` is the organization's management account.
    pub fn is_management(&self, account: &str) -> bool {
        self.org.management == account
    }
}

/// The sandbox user of `account` with `attached` managed policies. Its id is derived from the
/// account (`AIDA` + 17 characters), so it is stable without drawing from the generator.
pub fn sandbox_user(account: &str, attached: impl IntoIterator<Item = String>) -> User {
    User {
        name: SANDBOX_USER.into(),
        id: format!("AIDASANDB{account}"),
        path: "/".into(),
        arn: format!("arn:aws:iam::{account}:user/{SANDBOX_USER}"),
        created: Utc::now(),
        attached: attached.into_iter().collect(),
        inline: BTreeMap::new(),
    }
}

pub const HEX: &[u8] = b"0123456789abcdef";
pub const LOWER_DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub fn random_chars(rng: &mut ChaCha8Rng, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_keep_their_secrets_out_of_debug_output() {
        let cred = Credential {
            account: "111111111111".into(),
            secret: "s3cr3t-VALUE".into(),
            session_token: Some("t0ken-VALUE".into()),
            principal: Principal::User {
                name: "sandbox-admin".into(),
            },
        };
        let shown = format!("{cred:?}");
        assert!(shown.contains("111111111111"), "{shown}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0ken"),
            "{shown}"
        );
    }
}
