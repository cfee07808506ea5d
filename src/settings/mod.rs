//! Resolved, validated settings: what the organization should look like (the desired state),
//! the regions (one syntax and default for every command) and the limits of a run. The CLI's
//! raw flags become these values before any AWS call, so bad input fails first with a clear
//! message.
//!
//! | module | owns |
//! | --- | --- |
//! | [`accounts`] | the member account list from a CSV file and `--account` flags |
//! | [`export`] | the findings export (bucket and KMS key) of `--export-bucket` / `--export-kms-key` |

pub mod accounts;
pub mod export;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use accounts::{AccountList, AccountsError, MemberAccount};
pub use export::ExportTarget;

/// How members join the administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// CreateMembers + InviteMembers from the administrator, accepted in each member.
    Invitation,
    /// A delegated administrator of the organization, auto-enable and CreateMembers.
    Organizations,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Invitation => "invitation",
            Mode::Organizations => "organizations",
        }
    }
}

/// A GuardDuty protection plan (detector feature) gdorg can turn on: one of the names of the
/// service model the SDK was generated from (`DetectorFeature`), so a plan GuardDuty adds is
/// known by updating the SDK, not by editing a list here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Feature(&'static str);

#[allow(non_upper_case_globals)] // named like the enum variants they replace
impl Feature {
    pub const S3DataEvents: Feature = Feature("S3_DATA_EVENTS");
    pub const EksAuditLogs: Feature = Feature("EKS_AUDIT_LOGS");
    pub const EbsMalwareProtection: Feature = Feature("EBS_MALWARE_PROTECTION");
    pub const RdsLoginEvents: Feature = Feature("RDS_LOGIN_EVENTS");
    pub const LambdaNetworkLogs: Feature = Feature("LAMBDA_NETWORK_LOGS");
    pub const RuntimeMonitoring: Feature = Feature("RUNTIME_MONITORING");
    pub const EksRuntimeMonitoring: Feature = Feature("EKS_RUNTIME_MONITORING");

    /// Every plan the service model knows, in its order.
    /// The agent management GuardDuty can do for a runtime plan (its additional
    /// configurations); none for other plans. The pairing is the GuardDuty API reference's:
    /// the SDK's model lists both names but does not pair them.
    pub fn agents(self) -> &'static [&'static str] {
        match self.0 {
            "RUNTIME_MONITORING" => &[
                "EKS_ADDON_MANAGEMENT",
                "ECS_FARGATE_AGENT_MANAGEMENT",
                "EC2_AGENT_MANAGEMENT",
            ],
            "EKS_RUNTIME_MONITORING" => &["EKS_ADDON_MANAGEMENT"],
            _ => &[],
        }
    }

    pub fn all() -> impl Iterator<Item = Feature> {
        aws_sdk_guardduty::types::DetectorFeature::values()
            .iter()
            .map(|n| Feature(n))
    }

    /// The API name (`S3_DATA_EVENTS` ...).
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl serde::Serialize for Feature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Feature {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Feature, SettingsError> {
        let norm = s.trim().to_ascii_uppercase().replace('-', "_");
        Feature::all().find(|f| f.as_str() == norm).ok_or_else(|| {
            SettingsError(format!(
                "unknown protection plan {s:?}; known: {}",
                Feature::all()
                    .map(Feature::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }
}

/// How often GuardDuty publishes updated findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Frequency {
    #[serde(rename = "FIFTEEN_MINUTES")]
    FifteenMinutes,
    #[serde(rename = "ONE_HOUR")]
    OneHour,
    #[serde(rename = "SIX_HOURS")]
    SixHours,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::FifteenMinutes => "FIFTEEN_MINUTES",
            Frequency::OneHour => "ONE_HOUR",
            Frequency::SixHours => "SIX_HOURS",
        }
    }
}

impl FromStr for Frequency {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Frequency, SettingsError> {
        match s.trim().to_ascii_uppercase().replace('-', "_").as_str() {
            "FIFTEEN_MINUTES" | "15M" => Ok(Frequency::FifteenMinutes),
            "ONE_HOUR" | "1H" => Ok(Frequency::OneHour),
            "SIX_HOURS" | "6H" => Ok(Frequency::SixHours),
            _ => Err(SettingsError(format!(
                "unknown finding publishing frequency {s:?}; use FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS"
            ))),
        }
    }
}

/// Which organization members the delegated administrator enables automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AutoEnable {
    /// Accounts that join later.
    #[serde(rename = "NEW")]
    New,
    /// Every account, now and later.
    #[serde(rename = "ALL")]
    All,
}

impl AutoEnable {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoEnable::New => "NEW",
            AutoEnable::All => "ALL",
        }
    }
}

/// A settings problem, found before any call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

impl From<AccountsError> for SettingsError {
    fn from(e: AccountsError) -> SettingsError {
        SettingsError(e.to_string())
    }
}

/// Check the chosen features: RUNTIME_MONITORING already covers EKS, and GuardDuty refuses both.
pub fn validate_features(features: &BTreeSet<Feature>) -> Result<(), SettingsError> {
    if features.contains(&Feature::RuntimeMonitoring)
        && features.contains(&Feature::EksRuntimeMonitoring)
    {
        return Err(SettingsError(
            "RUNTIME_MONITORING and EKS_RUNTIME_MONITORING exclude each other \
             (RUNTIME_MONITORING includes EKS); choose one"
                .into(),
        ));
    }
    Ok(())
}

/// Resolve `--regions` (`all` or a comma list) minus `--exclude-regions`. `all` is the built-in
/// list ([`crate::regions`]); a well-formed name we do not know is accepted, so a new AWS region
/// is usable without a new release.
pub fn resolve_regions(regions: &str, exclude: &[String]) -> Result<Vec<String>, SettingsError> {
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect()
    };
    let chosen: Vec<String> = if regions.trim().eq_ignore_ascii_case("all") {
        crate::regions::all().map(String::from).collect()
    } else {
        split(regions)
    };
    let excluded: Vec<String> = exclude.iter().flat_map(|e| split(e)).collect();
    for r in chosen.iter().chain(&excluded) {
        if !crate::regions::is_well_formed(r) {
            return Err(SettingsError(format!(
                "{r:?} is not a region name (expected e.g. us-east-1); `gdorg regions` lists them"
            )));
        }
    }
    let mut out: Vec<String> = chosen
        .into_iter()
        .filter(|r| !excluded.contains(r))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(SettingsError("no regions left to work on".into()));
    }
    Ok(out)
}

/// Where the member accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    /// Organizations ListAccounts from the caller (the management account).
    Organizations,
    /// A validated list (CSV file and `--account` flags).
    Listed(Vec<MemberAccount>),
}

/// What the organization should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub mode: Mode,
    /// The GuardDuty administrator (invitation mode) or delegated administrator.
    pub administrator: String,
    /// The member accounts (the administrator excluded).
    pub members: Vec<MemberAccount>,
    pub regions: Vec<String>,
    /// Features to have enabled (others are left as they are).
    pub features: BTreeSet<Feature>,
    /// Finding publishing frequency, when the user chose one.
    pub frequency: Option<Frequency>,
    /// Organizations mode: which members are enabled automatically.
    pub auto_enable: AutoEnable,
    /// Disassociate members from another administrator to bring them under ours; in
    /// organizations mode, also disable another delegated administrator to enable ours.
    pub take_over: bool,
    /// Send invitation emails (off by default: one email per member per region otherwise).
    pub email_notification: bool,
    /// Offboard: also delete member detectors (destroys their findings).
    pub delete_detectors: bool,
    /// The administrator's findings export in every region, when asked for.
    pub export: Option<ExportTarget>,
    /// With a runtime plan: GuardDuty manages its security agent (EKS add-on, ECS Fargate,
    /// EC2), i.e. the plan's agent-management additional configurations are on too.
    pub runtime_agents: bool,
}

impl Desired {
    /// Whether `have` (feature and `FEATURE.ADDITIONAL` -> enabled, as observed) lacks plan
    /// `f` as desired: the plan itself, or, with `runtime_agents`, its agent management.
    pub fn lacks(&self, have: &BTreeMap<String, bool>, f: Feature) -> bool {
        have.get(f.as_str()) != Some(&true)
            || (self.runtime_agents
                && f.agents()
                    .iter()
                    .any(|a| have.get(&format!("{f}.{a}")) != Some(&true)))
    }
}

impl Desired {
    /// A minimal desired state (tests and the demo fill in the rest).
    pub fn new(mode: Mode, administrator: &str, regions: Vec<String>) -> Desired {
        Desired {
            mode,
            administrator: administrator.to_string(),
            members: vec![],
            regions,
            features: BTreeSet::new(),
            frequency: None,
            auto_enable: AutoEnable::New,
            take_over: false,
            email_notification: false,
            delete_detectors: false,
            export: None,
            runtime_agents: false,
        }
    }
}

/// The limits and outputs of one run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Calls in flight at once across every account x region.
    pub concurrency: usize,
    /// The JSON run journal, when asked for.
    pub journal: Option<PathBuf>,
}

/// 32 calls in flight: enough to hide per-call latency across many accounts, well under the
/// per-account API rate limits since the work is spread across accounts and regions.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The most calls in flight gdorg allows: past this the client's CPU, not latency, bounds a
/// run, and GuardDuty's per-account rate limits start to bite in the administrator.
pub const MAX_CONCURRENCY: usize = 1024;

/// The limits of a run, validated once for every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Calls in flight at once across every account x region.
    pub concurrency: usize,
}

impl Limits {
    pub fn new(concurrency: usize) -> Result<Limits, SettingsError> {
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(SettingsError(format!(
                "--concurrency {concurrency}: use 1 to {MAX_CONCURRENCY} calls in flight"
            )));
        }
        Ok(Limits { concurrency })
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

impl Default for RunSettings {
    fn default() -> RunSettings {
        RunSettings {
            concurrency: DEFAULT_CONCURRENCY,
            journal: None,
        }
    }
}

/// How the mode was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    /// `--mode` given: used as it is.
    Given(Mode),
    /// Read from the organization (a delegated administrator, or invited members); `fallback`
    /// for an organization where GuardDuty is not set up either way yet.
    Detect { fallback: Mode },
}

/// Validated settings; the administrator may still be "the caller", the mode still to read.
#[derive(Debug)]
pub struct Settings {
    /// The desired state; `administrator` is empty until [`Settings::resolve`] when the user
    /// did not name one, and `mode` is the fallback until then.
    pub desired: Desired,
    pub mode: ModeChoice,
    /// The accounts given by file or flags (None: from Organizations).
    pub listed: Option<AccountList>,
    pub run: RunSettings,
}

/// The flags that choose the member accounts, the administrator and the mode, as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountInput<'a> {
    pub accounts_file: Option<&'a std::path::Path>,
    pub account_lines: &'a [String],
    pub admin_account: Option<&'a str>,
    pub mode: Option<&'a str>,
}

impl Settings {
    /// Validate the accounts, administrator and mode flags (reads the accounts file). No AWS
    /// call. The caller fills in the rest of `desired`.
    pub fn new(
        input: AccountInput<'_>,
        regions: Vec<String>,
        run: RunSettings,
    ) -> Result<Settings, SettingsError> {
        let mut listed = AccountList::default();
        if let Some(path) = input.accounts_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                SettingsError(format!("reading accounts file {}: {e}", path.display()))
            })?;
            listed.add_csv(&path.display().to_string(), &text)?;
        }
        for (i, a) in input.account_lines.iter().enumerate() {
            listed.add_line(&format!("--account #{}", i + 1), a)?;
        }
        let given = input.accounts_file.is_some() || !input.account_lines.is_empty();
        let fallback = if given {
            Mode::Invitation
        } else {
            Mode::Organizations
        };
        let mode = match input.mode {
            Some("invitation") => ModeChoice::Given(Mode::Invitation),
            Some("organizations") => ModeChoice::Given(Mode::Organizations),
            Some(other) => return Err(SettingsError(format!("unknown mode {other:?}"))),
            None => ModeChoice::Detect { fallback },
        };
        if let Some(admin) = input.admin_account {
            check_account_id(admin).map_err(|e| SettingsError(format!("--admin-account: {e}")))?;
        }
        let initial = match mode {
            ModeChoice::Given(m) => m,
            ModeChoice::Detect { fallback } => fallback,
        };
        Ok(Settings {
            desired: Desired::new(initial, input.admin_account.unwrap_or_default(), regions),
            mode,
            listed: given.then_some(listed),
            run,
        })
    }

    /// Fill in the administrator (the caller unless named), the mode (`detected` from the
    /// organization when the user did not choose) and finish the account list.
    pub fn resolve(
        self,
        caller: &str,
        detected: Option<Mode>,
    ) -> Result<(Desired, AccountSource, RunSettings), SettingsError> {
        let mut desired = self.desired;
        if desired.administrator.is_empty() {
            desired.administrator = caller.to_string();
        }
        desired.mode = match self.mode {
            ModeChoice::Given(m) => m,
            ModeChoice::Detect { fallback } => detected.unwrap_or(fallback),
        };
        let source = match self.listed {
            Some(list) => AccountSource::Listed(list.finish(&desired.administrator)?),
            None => AccountSource::Organizations,
        };
        Ok((desired, source, self.run))
    }
}

/// Check a 12-digit account id.
pub fn check_account_id(id: &str) -> Result<(), SettingsError> {
    if accounts::is_account_id(id) {
        Ok(())
    } else {
        Err(SettingsError(format!(
            "{id:?} is not an account id (12 digits)"
        )))
    }
}

/// Parse and check `--features`.
pub fn parse_features(given: &[String]) -> Result<BTreeSet<Feature>, SettingsError> {
    let features = given
        .iter()
        .filter(|f| !f.trim().is_empty())
        .map(|f| f.parse())
        .collect::<Result<BTreeSet<Feature>, _>>()?;
    validate_features(&features)?;
    Ok(features)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_all_list_and_exclude() {
        let all = resolve_regions("all", &[]).unwrap();
        assert_eq!(all.len(), crate::regions::COMMERCIAL.len());
        let some =
            resolve_regions("eu-west-1, us-east-1,eu-west-1", &["us-east-1".to_string()]).unwrap();
        assert_eq!(some, vec!["eu-west-1"]);
        let ex = resolve_regions("all", &["us-east-1,us-west-2".into()]).unwrap();
        assert_eq!(ex.len(), all.len() - 2);
        // An unknown but well-formed region is allowed (AWS adds regions).
        assert_eq!(
            resolve_regions("xx-newplace-1", &[]).unwrap(),
            vec!["xx-newplace-1"]
        );
        assert!(resolve_regions("us_east_1", &[])
            .unwrap_err()
            .0
            .contains("us_east_1"));
        assert!(resolve_regions("us-east-1", &["us-east-1".into()]).is_err());
    }

    #[test]
    fn features_parse_and_exclude_each_other() {
        assert_eq!(
            "s3-data-events".parse::<Feature>().unwrap(),
            Feature::S3DataEvents
        );
        assert!("FLOW".parse::<Feature>().is_err());
        // The service model's plans, new ones included, are known without a list of ours.
        assert_eq!(
            "ai_protection".parse::<Feature>().unwrap().as_str(),
            "AI_PROTECTION"
        );
        assert!(Feature::all().count() >= 9);
        let both: BTreeSet<_> = [Feature::RuntimeMonitoring, Feature::EksRuntimeMonitoring].into();
        assert!(validate_features(&both).unwrap_err().0.contains("exclude"));
        let one: BTreeSet<_> = [Feature::RuntimeMonitoring, Feature::S3DataEvents].into();
        assert!(validate_features(&one).is_ok());
        assert_eq!("1h".parse::<Frequency>().unwrap(), Frequency::OneHour);
        assert!("daily".parse::<Frequency>().is_err());
    }
}
