//! Performs one planned step against GuardDuty: one small function per action, each making the
//! call(s) with the right account's credentials and turning SDK errors and unprocessed accounts
//! into a [`StepOutcome`].

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_guardduty::types::{
    AccountDetail, AutoEnableMembers, DestinationProperties, DestinationType,
    DetectorAdditionalConfiguration, DetectorFeature, DetectorFeatureConfiguration,
    FeatureAdditionalConfiguration, FeatureStatus, FindingPublishingFrequency,
    MemberAdditionalConfiguration, MemberFeaturesConfiguration, OrgFeature,
    OrgFeatureAdditionalConfiguration, OrgFeatureStatus, OrganizationAdditionalConfiguration,
    OrganizationFeatureConfiguration, UnprocessedAccount,
};
use aws_sdk_guardduty::Client;
use futures::future::BoxFuture;

use crate::aws::{AwsError, ClientFactory, Session};
use crate::execute::{Perform, StepOutcome};
use crate::observe::{Observation, Seen};
use crate::plan::Action;
use crate::settings::{Feature, Frequency};

/// The AWS side of the executor.
pub struct Operator {
    session: Arc<Session>,
    /// region -> account -> detector id: seeded from the observation, extended by every
    /// CreateDetector, read by the steps that need an id (members, invitations ...). By region
    /// first, so that each of an organization's hundreds of thousands of cells does not keep
    /// its own copy of the region's name.
    detectors: Mutex<HashMap<String, HashMap<String, String>>>,
    /// (member, region) -> the pending invitation from our administrator seen while observing:
    /// accepting it needs no second ListInvitations.
    invitations: HashMap<(String, String), String>,
    /// Turn on the runtime plans' agent management with them (`--runtime-agents`).
    runtime_agents: bool,
}

impl Operator {
    /// Send the runtime plans' agent management with them.
    pub fn with_runtime_agents(mut self, on: bool) -> Operator {
        self.runtime_agents = on;
        self
    }

    pub fn new(session: Arc<Session>, observed: &Observation, administrator: &str) -> Operator {
        let mut detectors: HashMap<String, HashMap<String, String>> = HashMap::new();
        let mut invitations = HashMap::new();
        for (region, ro) in &observed.regions {
            if let Seen::Read(a) = &ro.admin {
                if let Some(d) = &a.detector {
                    detectors
                        .entry(region.clone())
                        .or_default()
                        .insert(administrator.to_string(), d.id.clone());
                }
                if let Some((mgmt, Some(d))) = &a.management {
                    detectors
                        .entry(region.clone())
                        .or_default()
                        .insert(mgmt.clone(), d.id.clone());
                }
            }
            for (account, seen) in &ro.members {
                if let Seen::Read(m) = seen {
                    if let Some(d) = &m.detector {
                        detectors
                            .entry(region.clone())
                            .or_default()
                            .insert(account.clone(), d.id.clone());
                    }
                    if let Some(inv) = m.invitations.iter().find(|i| i.from == administrator) {
                        invitations.insert((account.clone(), region.clone()), inv.id.clone());
                    }
                }
            }
        }
        Operator {
            session,
            runtime_agents: false,
            detectors: Mutex::new(detectors),
            invitations,
        }
    }

    fn detector(
        &self,
        account: &str,
        region: &str,
        operation: &'static str,
    ) -> Result<String, AwsError> {
        self.detectors
            .lock()
            .expect("detectors poisoned")
            .get(region)
            .and_then(|accounts| accounts.get(account))
            .cloned()
            .ok_or_else(|| AwsError {
                operation,
                code: "NoDetector".into(),
                message: format!("account {account} has no detector in {region}"),
            })
    }

    async fn run(
        &self,
        action: &Action,
        excluded: &BTreeSet<String>,
    ) -> Result<Vec<UnprocessedAccount>, AwsError> {
        let region = action.region();
        match action {
            Action::CreateDetector {
                account,
                features,
                frequency,
                ..
            } => {
                let gd = self.session.guardduty(account, region).await?;
                let out = gd
                    .create_detector()
                    .enable(true)
                    .set_features(feature_configs(features, self.runtime_agents))
                    .set_finding_publishing_frequency(frequency.map(publishing))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("CreateDetector"))?;
                let id = out.detector_id().unwrap_or_default().to_string();
                self.detectors
                    .lock()
                    .expect("detectors poisoned")
                    .entry(region.to_string())
                    .or_default()
                    .insert(account.clone(), id);
                Ok(vec![])
            }
            Action::EnableDetector {
                account,
                features,
                frequency,
                ..
            }
            | Action::UpdateDetector {
                account,
                features,
                frequency,
                ..
            } => {
                let enable = matches!(action, Action::EnableDetector { .. });
                let gd = self.session.guardduty(account, region).await?;
                let id = self.detector(account, region, "UpdateDetector")?;
                gd.update_detector()
                    .detector_id(id)
                    .set_enable(enable.then_some(true))
                    .set_features(feature_configs(features, self.runtime_agents))
                    .set_finding_publishing_frequency(frequency.map(publishing))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("UpdateDetector"))?;
                Ok(vec![])
            }
            Action::LeaveAdministrator { account, .. } => {
                let gd = self.session.guardduty(account, region).await?;
                let id = self.detector(account, region, "DisassociateFromAdministratorAccount")?;
                gd.disassociate_from_administrator_account()
                    .detector_id(id)
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("DisassociateFromAdministratorAccount"))?;
                Ok(vec![])
            }
            Action::CreateMembers {
                administrator,
                members,
                ..
            } => {
                let gd = self.session.guardduty(administrator, region).await?;
                let id = self.detector(administrator, region, "CreateMembers")?;
                let details = members
                    .iter()
                    .filter(|m| !excluded.contains(&m.id))
                    .map(|m| {
                        AccountDetail::builder()
                            .account_id(&m.id)
                            .email(&m.email)
                            .build()
                    })
                    .collect();
                let out = gd
                    .create_members()
                    .detector_id(id)
                    .set_account_details(Some(details))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("CreateMembers"))?;
                Ok(out.unprocessed_accounts().to_vec())
            }
            Action::InviteMembers {
                administrator,
                accounts,
                email_notification,
                ..
            } => {
                let gd = self.session.guardduty(administrator, region).await?;
                let id = self.detector(administrator, region, "InviteMembers")?;
                let out = gd
                    .invite_members()
                    .detector_id(id)
                    .set_account_ids(Some(kept(accounts, excluded)))
                    .disable_email_notification(!email_notification)
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("InviteMembers"))?;
                Ok(out.unprocessed_accounts().to_vec())
            }
            Action::AcceptInvitation {
                account,
                administrator,
                ..
            } => {
                let gd = self.session.guardduty(account, region).await?;
                let id = self.detector(account, region, "AcceptAdministratorInvitation")?;
                let known = self
                    .invitations
                    .get(&(account.clone(), region.to_string()))
                    .map(String::as_str);
                accept(&gd, &id, administrator, known).await?;
                Ok(vec![])
            }
            Action::EnableOrgAdmin { administrator, .. } => {
                ClientFactory::guardduty(self.session.factory.base(), region)
                    .enable_organization_admin_account()
                    .admin_account_id(administrator)
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("EnableOrganizationAdminAccount"))?;
                Ok(vec![])
            }
            Action::DisableOrgAdmin { administrator, .. } => {
                ClientFactory::guardduty(self.session.factory.base(), region)
                    .disable_organization_admin_account()
                    .admin_account_id(administrator)
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("DisableOrganizationAdminAccount"))?;
                Ok(vec![])
            }
            Action::UpdateOrgConfig {
                administrator,
                auto_enable,
                features,
                ..
            } => {
                let gd = self.session.guardduty(administrator, region).await?;
                let id = self.detector(administrator, region, "UpdateOrganizationConfiguration")?;
                let features = features
                    .iter()
                    .map(|(f, v)| {
                        let extra: Vec<OrganizationAdditionalConfiguration> =
                            agent_names(*f, self.runtime_agents)
                                .map(|a| {
                                    OrganizationAdditionalConfiguration::builder()
                                        .name(OrgFeatureAdditionalConfiguration::from(a))
                                        .auto_enable(OrgFeatureStatus::from(v.as_str()))
                                        .build()
                                })
                                .collect();
                        OrganizationFeatureConfiguration::builder()
                            .name(OrgFeature::from(f.as_str()))
                            .auto_enable(OrgFeatureStatus::from(v.as_str()))
                            .set_additional_configuration((!extra.is_empty()).then_some(extra))
                            .build()
                    })
                    .collect::<Vec<_>>();
                gd.update_organization_configuration()
                    .detector_id(id)
                    .auto_enable_organization_members(AutoEnableMembers::from(auto_enable.as_str()))
                    .set_features((!features.is_empty()).then_some(features))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("UpdateOrganizationConfiguration"))?;
                Ok(vec![])
            }
            Action::UpdateMemberDetectors {
                administrator,
                accounts,
                features,
                ..
            } => {
                let gd = self.session.guardduty(administrator, region).await?;
                let id = self.detector(administrator, region, "UpdateMemberDetectors")?;
                let features = features
                    .iter()
                    .map(|f| {
                        let extra: Vec<MemberAdditionalConfiguration> =
                            agent_names(*f, self.runtime_agents)
                                .map(|a| {
                                    MemberAdditionalConfiguration::builder()
                                        .name(OrgFeatureAdditionalConfiguration::from(a))
                                        .status(FeatureStatus::Enabled)
                                        .build()
                                })
                                .collect();
                        MemberFeaturesConfiguration::builder()
                            .name(OrgFeature::from(f.as_str()))
                            .status(FeatureStatus::Enabled)
                            .set_additional_configuration((!extra.is_empty()).then_some(extra))
                            .build()
                    })
                    .collect();
                let out = gd
                    .update_member_detectors()
                    .detector_id(id)
                    .set_account_ids(Some(kept(accounts, excluded)))
                    .set_features(Some(features))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("UpdateMemberDetectors"))?;
                Ok(out.unprocessed_accounts().to_vec())
            }
            Action::DisassociateMembers {
                administrator,
                accounts,
                ..
            } => {
                let gd = self.session.guardduty(administrator, region).await?;
                let id = self.detector(administrator, region, "DisassociateMembers")?;
                let out = gd
                    .disassociate_members()
                    .detector_id(id)
                    .set_account_ids(Some(kept(accounts, excluded)))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("DisassociateMembers"))?;
                Ok(out.unprocessed_accounts().to_vec())
            }
            Action::DeleteMembers {
                administrator,
                accounts,
                ..
            }
            | Action::ResetMembers {
                administrator,
                accounts,
                ..
            } => {
                let gd = self.session.guardduty(administrator, region).await?;
                let id = self.detector(administrator, region, "DeleteMembers")?;
                let out = gd
                    .delete_members()
                    .detector_id(id)
                    .set_account_ids(Some(kept(accounts, excluded)))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("DeleteMembers"))?;
                Ok(out.unprocessed_accounts().to_vec())
            }
            Action::CreatePublishingDestination {
                administrator,
                bucket_arn,
                kms_key_arn,
                ..
            } => {
                let gd = self.session.guardduty(administrator, region).await?;
                let id = self.detector(administrator, region, "CreatePublishingDestination")?;
                gd.create_publishing_destination()
                    .detector_id(id)
                    .destination_type(DestinationType::S3)
                    .destination_properties(destination(bucket_arn, kms_key_arn))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("CreatePublishingDestination"))?;
                Ok(vec![])
            }
            Action::UpdatePublishingDestination {
                administrator,
                destination_id,
                bucket_arn,
                kms_key_arn,
                ..
            } => {
                let gd = self.session.guardduty(administrator, region).await?;
                let id = self.detector(administrator, region, "UpdatePublishingDestination")?;
                gd.update_publishing_destination()
                    .detector_id(id)
                    .destination_id(destination_id)
                    .destination_properties(destination(bucket_arn, kms_key_arn))
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("UpdatePublishingDestination"))?;
                Ok(vec![])
            }
            Action::DeleteDetector { account, .. } => {
                let gd = self.session.guardduty(account, region).await?;
                let id = self.detector(account, region, "DeleteDetector")?;
                gd.delete_detector()
                    .detector_id(id)
                    .send()
                    .await
                    .map_err(AwsError::from_sdk("DeleteDetector"))?;
                Ok(vec![])
            }
        }
    }
}

impl Perform for Operator {
    fn perform(
        self: Arc<Self>,
        action: Action,
        excluded: BTreeSet<String>,
    ) -> BoxFuture<'static, StepOutcome> {
        Box::pin(async move {
            // A step acts as one account (the administrator for batches).
            let account = action.account().to_string();
            match crate::aws::session::acting_as(account, self.run(&action, &excluded)).await {
                Ok(unprocessed) => StepOutcome {
                    error: None,
                    failed_accounts: unprocessed
                        .iter()
                        .map(|u| {
                            (
                                u.account_id().unwrap_or_default().to_string(),
                                AwsError {
                                    operation: action.operation(),
                                    code: "UnprocessedAccount".into(),
                                    message: u.result().unwrap_or_default().to_string(),
                                },
                            )
                        })
                        .collect(),
                },
                Err(e) => StepOutcome {
                    error: Some(e),
                    failed_accounts: Default::default(),
                },
            }
        })
    }
}

/// Accept the administrator's invitation: the one seen while observing (`known`), else the one
/// ListInvitations finds now (a fresh invitation, or a seen one that was replaced). A missing
/// invitation is reported, not waited for: the next rollout invites again.
async fn accept(
    gd: &Client,
    detector: &str,
    administrator: &str,
    known: Option<&str>,
) -> Result<(), AwsError> {
    if let Some(id) = known {
        let sent = gd
            .accept_administrator_invitation()
            .detector_id(detector)
            .administrator_id(administrator)
            .invitation_id(id)
            .send()
            .await;
        if sent.is_ok() {
            return Ok(());
        }
    }
    let invitations = crate::observe::list_invitations(gd).await?;
    let Some(inv) = invitations.iter().find(|i| i.from == administrator) else {
        return Err(AwsError {
            operation: "ListInvitations",
            code: "InvitationNotFound".into(),
            message: format!(
                "no pending invitation from {administrator} (declined or deleted?); run the rollout again to re-invite"
            ),
        });
    };
    gd.accept_administrator_invitation()
        .detector_id(detector)
        .administrator_id(administrator)
        .invitation_id(&inv.id)
        .send()
        .await
        .map_err(AwsError::from_sdk("AcceptAdministratorInvitation"))?;
    Ok(())
}

fn kept(accounts: &[String], excluded: &BTreeSet<String>) -> Vec<String> {
    accounts
        .iter()
        .filter(|a| !excluded.contains(*a))
        .cloned()
        .collect()
}

fn feature_configs(
    features: &[Feature],
    agents: bool,
) -> Option<Vec<DetectorFeatureConfiguration>> {
    (!features.is_empty()).then(|| {
        features
            .iter()
            .map(|f| {
                let extra: Vec<DetectorAdditionalConfiguration> = agent_names(*f, agents)
                    .map(|a| {
                        DetectorAdditionalConfiguration::builder()
                            .name(FeatureAdditionalConfiguration::from(a))
                            .status(FeatureStatus::Enabled)
                            .build()
                    })
                    .collect();
                DetectorFeatureConfiguration::builder()
                    .name(DetectorFeature::from(f.as_str()))
                    .status(FeatureStatus::Enabled)
                    .set_additional_configuration((!extra.is_empty()).then_some(extra))
                    .build()
            })
            .collect()
    })
}

/// The agent-management configurations to send with `f` (none unless `agents`).
fn agent_names(f: Feature, agents: bool) -> impl Iterator<Item = &'static str> {
    f.agents().iter().copied().filter(move |_| agents)
}

fn destination(bucket_arn: &str, kms_key_arn: &str) -> DestinationProperties {
    DestinationProperties::builder()
        .destination_arn(bucket_arn)
        .kms_key_arn(kms_key_arn)
        .build()
}

fn publishing(f: Frequency) -> FindingPublishingFrequency {
    FindingPublishingFrequency::from(f.as_str())
}
