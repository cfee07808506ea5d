//! Whose detector speaks for the organization: the GuardDuty administrator. With the
//! management account's credentials and a delegated administrator, gdorg assumes the execution
//! role into the administrator; otherwise the caller's own credentials are used (and the
//! archive preflight decides whether they may act).

use aws_config::SdkConfig;

use super::{AwsError, Session};

/// The account whose detectors gdorg reads and acts through, with its config.
#[derive(Debug, Clone)]
pub struct Administrator {
    pub account: String,
    pub config: SdkConfig,
    /// How it was chosen, for the report's scope.
    pub how: &'static str,
}

/// Pick the administrator: `explicit` if given; else the organization's delegated GuardDuty
/// administrator when the caller may list it (the management account); else the caller.
pub async fn administrator(
    session: &Session,
    explicit: Option<&str>,
) -> Result<Administrator, AwsError> {
    let (account, how) = match explicit {
        Some(a) => (a.to_string(), "given with --admin-account"),
        None => match super::organization::delegated_admin(session).await {
            // Any refusal means "not known from here": only the management account may ask.
            Ok(Some(a)) => (a, "the organization's delegated administrator"),
            Ok(None) | Err(_) => (session.caller.clone(), "the caller's own account"),
        },
    };
    Ok(Administrator {
        config: session.config(&account).await?,
        account,
        how,
    })
}

/// The first detector of the account of `gd` in its region, if any (an account has at most
/// one per region).
pub async fn detector(gd: &aws_sdk_guardduty::Client) -> Result<Option<String>, AwsError> {
    let out = gd
        .list_detectors()
        .send()
        .await
        .map_err(AwsError::from_sdk("ListDetectors"))?;
    Ok(out.detector_ids().first().cloned())
}

/// What a read through an account's detector finds in one region: the detector (its id, or
/// what was read through it), or why there is none to read.
pub enum Here<T = String> {
    Detector(T),
    NoDetector,
    /// The account has not enabled the region: nothing to read, and not a failure.
    RegionNotEnabled,
}

/// The account's detector in `gd`'s region, or why there is none to read.
pub async fn detector_here(gd: &aws_sdk_guardduty::Client) -> Result<Here, AwsError> {
    match detector(gd).await {
        Ok(Some(d)) => Ok(Here::Detector(d)),
        Ok(None) => Ok(Here::NoDetector),
        Err(e) if e.is_region_disabled() => Ok(Here::RegionNotEnabled),
        Err(e) => Err(e),
    }
}

/// `read(client, detector id)` in `region` of the account of `config`, where it has a detector
/// there.
pub async fn read_through_detector<T>(
    config: &SdkConfig,
    region: &str,
    read: impl AsyncFnOnce(&aws_sdk_guardduty::Client, &str) -> Result<T, AwsError>,
) -> Result<Here<T>, AwsError> {
    let gd = super::ClientFactory::guardduty(config, region);
    Ok(match detector_here(&gd).await? {
        Here::Detector(d) => Here::Detector(read(&gd, &d).await?),
        Here::NoDetector => Here::NoDetector,
        Here::RegionNotEnabled => Here::RegionNotEnabled,
    })
}
