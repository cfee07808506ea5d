//! The IAM actions of the services gdorg's policies name (guardduty, organizations, sts, iam,
//! account, and s3 / kms for the findings-export resource policies): the
//! static list `validate` checks action names against, and the mapping from SDK method names
//! (`list_detectors`) to actions (`guardduty:ListDetectors`).
//!
//! Where the list comes from: every operation of the AWS SDK crates this build uses (one IAM
//! action per API operation, same name), plus the few actions that exist only as permissions
//! (`iam:PassRole`, `sts:TagSession` ...). Spot-checked against the Service Authorization
//! Reference. A newer SDK may know an operation this list does not: `validate` then refuses the
//! name, and the fix is one line here.

/// A service prefix gdorg knows, with its actions.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// The IAM service prefix (`guardduty`).
    pub prefix: &'static str,
    /// Actions backed by an API operation (the SDK has a method for each).
    pub operations: &'static [&'static str],
    /// Actions that exist only as permissions (no API operation of that name).
    pub permission_only: &'static [&'static str],
}

/// The services, by prefix.
pub const SERVICES: &[Service] = &[
    Service {
        prefix: "guardduty",
        operations: GUARDDUTY_OPERATIONS,
        // Runtime monitoring agents send telemetry with this permission.
        permission_only: &["SendSecurityTelemetry"],
    },
    Service {
        prefix: "organizations",
        operations: ORGANIZATIONS_OPERATIONS,
        permission_only: &[],
    },
    Service {
        prefix: "sts",
        operations: STS_OPERATIONS,
        // Session tags, source identity and context keys are authorised separately from
        // the AssumeRole* call that carries them.
        permission_only: &["SetContext", "SetSourceIdentity", "TagSession"],
    },
    Service {
        prefix: "iam",
        operations: IAM_OPERATIONS,
        // Handing a role to a service is authorised on the role, not an API of its own.
        permission_only: &["PassRole"],
    },
    // gdorg calls neither S3 nor KMS: only the actions its findings-export bucket and key
    // policies name (GuardDuty's, from the GuardDuty "Exporting findings" guide) are listed.
    Service {
        prefix: "s3",
        operations: &["GetBucketLocation", "PutObject"],
        permission_only: &[],
    },
    Service {
        prefix: "kms",
        operations: &["GenerateDataKey"],
        permission_only: &[],
    },
    Service {
        prefix: "account",
        operations: ACCOUNT_OPERATIONS,
        permission_only: &[],
    },
];

/// The service of `prefix` (case-insensitive, as IAM compares prefixes).
pub fn service(prefix: &str) -> Option<&'static Service> {
    SERVICES
        .iter()
        .find(|s| s.prefix.eq_ignore_ascii_case(prefix))
}

/// Every action of every known service, as `prefix:Action`.
pub fn all() -> impl Iterator<Item = String> {
    SERVICES.iter().flat_map(|s| {
        s.operations
            .iter()
            .chain(s.permission_only)
            .map(move |a| format!("{}:{a}", s.prefix))
    })
}

/// The canonical spelling of `prefix:Action` when the action exists (IAM matches action names
/// case-insensitively, so `guardduty:listdetectors` is the same action).
pub fn canonical(action: &str) -> Option<String> {
    let (prefix, name) = action.split_once(':')?;
    let svc = service(prefix)?;
    svc.operations
        .iter()
        .chain(svc.permission_only)
        .find(|a| a.eq_ignore_ascii_case(name))
        .map(|a| format!("{}:{a}", svc.prefix))
}

/// Known actions matched by a pattern with `*` / `?` wildcards (IAM's rules, case-insensitive).
pub fn expand(pattern: &str) -> Vec<String> {
    all().filter(|a| wildcard_match(pattern, a)).collect()
}

/// IAM wildcard matching: `*` any run of characters, `?` one character, case-insensitive.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    // Classic two-pointer glob match with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether an action only reads (by the verbs AWS names read operations with). Anything else,
/// including permission-only actions, counts as able to change something.
pub fn is_read_only(action: &str) -> bool {
    let name = action.split_once(':').map_or(action, |(_, n)| n);
    ["Get", "List", "Describe"]
        .iter()
        .any(|verb| name.starts_with(verb))
}

/// The SDK method name of an operation, as the Rust SDK generates it
/// (`EnableAWSServiceAccess` -> `enable_aws_service_access`).
pub fn sdk_method_name(operation: &str) -> String {
    let chars: Vec<char> = operation.chars().collect();
    let mut out = String::with_capacity(operation.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            // A word starts at an upper-case letter after a lower-case letter or digit
            // (`listDetectors`), or at the last capital of an acronym followed by a lower-case
            // letter (`AWSService` -> `aws_service`).
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `guardduty`: every operation of aws-sdk-guardduty (each is an IAM action of the same name).
const GUARDDUTY_OPERATIONS: &[&str] = &[
    "AcceptAdministratorInvitation",
    "AcceptInvitation",
    "ArchiveFindings",
    "CreateCustomDetectionRuleAssociation",
    "CreateCustomDetectionRuleOrgConfiguration",
    "CreateDetector",
    "CreateFilter",
    "CreateIPSet",
    "CreateInvestigation",
    "CreateMalwareProtectionPlan",
    "CreateMembers",
    "CreatePublishingDestination",
    "CreateSampleFindings",
    "CreateThreatEntitySet",
    "CreateThreatIntelSet",
    "CreateTrustedEntitySet",
    "DeclineInvitations",
    "DeleteCustomDetectionRuleAssociation",
    "DeleteCustomDetectionRuleOrgConfiguration",
    "DeleteDetector",
    "DeleteFilter",
    "DeleteIPSet",
    "DeleteInvitations",
    "DeleteMalwareProtectionPlan",
    "DeleteMembers",
    "DeletePublishingDestination",
    "DeleteThreatEntitySet",
    "DeleteThreatIntelSet",
    "DeleteTrustedEntitySet",
    "DescribeMalwareScans",
    "DescribeOrganizationConfiguration",
    "DescribePublishingDestination",
    "DisableOrganizationAdminAccount",
    "DisassociateFromAdministratorAccount",
    "DisassociateFromMasterAccount",
    "DisassociateMembers",
    "EnableOrganizationAdminAccount",
    "GetAdministratorAccount",
    "GetCoverageStatistics",
    "GetCustomDetectionRule",
    "GetCustomDetectionRuleAssociation",
    "GetCustomDetectionRuleOrgConfiguration",
    "GetDetector",
    "GetFilter",
    "GetFindings",
    "GetFindingsStatistics",
    "GetIPSet",
    "GetInvestigation",
    "GetInvitationsCount",
    "GetMalwareProtectionPlan",
    "GetMalwareScan",
    "GetMalwareScanSettings",
    "GetMasterAccount",
    "GetMemberDetectors",
    "GetMembers",
    "GetOrganizationStatistics",
    "GetRemainingFreeTrialDays",
    "GetThreatEntitySet",
    "GetThreatIntelSet",
    "GetTrustedEntitySet",
    "GetUsageStatistics",
    "InviteMembers",
    "ListCoverage",
    "ListCustomDetectionRuleAssociations",
    "ListCustomDetectionRuleOrgConfigurations",
    "ListCustomDetectionRules",
    "ListDetectors",
    "ListFilters",
    "ListFindings",
    "ListIPSets",
    "ListInvestigations",
    "ListInvitations",
    "ListMalwareProtectionPlans",
    "ListMalwareScans",
    "ListMembers",
    "ListOrganizationAdminAccounts",
    "ListPublishingDestinations",
    "ListTagsForResource",
    "ListThreatEntitySets",
    "ListThreatIntelSets",
    "ListTrustedEntitySets",
    "SendObjectMalwareScan",
    "StartMalwareScan",
    "StartMonitoringMembers",
    "StopMonitoringMembers",
    "TagResource",
    "UnarchiveFindings",
    "UntagResource",
    "UpdateCustomDetectionRuleAssociation",
    "UpdateCustomDetectionRuleOrgConfiguration",
    "UpdateDetector",
    "UpdateFilter",
    "UpdateFindingsFeedback",
    "UpdateIPSet",
    "UpdateMalwareProtectionPlan",
    "UpdateMalwareScanSettings",
    "UpdateMemberDetectors",
    "UpdateOrganizationConfiguration",
    "UpdatePublishingDestination",
    "UpdateThreatEntitySet",
    "UpdateThreatIntelSet",
    "UpdateTrustedEntitySet",
];

/// `organizations`: every operation of aws-sdk-organizations (each is an IAM action of the same name).
const ORGANIZATIONS_OPERATIONS: &[&str] = &[
    "AcceptHandshake",
    "AttachPolicy",
    "CancelHandshake",
    "CloseAccount",
    "CreateAccount",
    "CreateGovCloudAccount",
    "CreateOrganization",
    "CreateOrganizationalUnit",
    "CreatePolicy",
    "DeclineHandshake",
    "DeleteOrganization",
    "DeleteOrganizationalUnit",
    "DeletePolicy",
    "DeleteResourcePolicy",
    "DeregisterDelegatedAdministrator",
    "DescribeAccount",
    "DescribeCreateAccountStatus",
    "DescribeEffectivePolicy",
    "DescribeHandshake",
    "DescribeOrganization",
    "DescribeOrganizationalUnit",
    "DescribePolicy",
    "DescribeResourcePolicy",
    "DescribeResponsibilityTransfer",
    "DetachPolicy",
    "DisableAWSServiceAccess",
    "DisablePolicyType",
    "EnableAWSServiceAccess",
    "EnableAllFeatures",
    "EnablePolicyType",
    "InviteAccountToOrganization",
    "InviteOrganizationToTransferResponsibility",
    "LeaveOrganization",
    "ListAWSServiceAccessForOrganization",
    "ListAccounts",
    "ListAccountsForParent",
    "ListAccountsWithInvalidEffectivePolicy",
    "ListChildren",
    "ListCreateAccountStatus",
    "ListDelegatedAdministrators",
    "ListDelegatedServicesForAccount",
    "ListEffectivePolicyValidationErrors",
    "ListHandshakesForAccount",
    "ListHandshakesForOrganization",
    "ListInboundResponsibilityTransfers",
    "ListOrganizationalUnitsForParent",
    "ListOutboundResponsibilityTransfers",
    "ListParents",
    "ListPolicies",
    "ListPoliciesForTarget",
    "ListRoots",
    "ListTagsForResource",
    "ListTargetsForPolicy",
    "MoveAccount",
    "PutResourcePolicy",
    "RegisterDelegatedAdministrator",
    "RemoveAccountFromOrganization",
    "TagResource",
    "TerminateResponsibilityTransfer",
    "UntagResource",
    "UpdateOrganizationalUnit",
    "UpdatePolicy",
    "UpdateResponsibilityTransfer",
];

/// `sts`: every operation of aws-sdk-sts (each is an IAM action of the same name).
/// The Account Management API (aws-sdk-account).
const ACCOUNT_OPERATIONS: &[&str] = &[
    "AcceptPrimaryEmailUpdate",
    "DeleteAlternateContact",
    "DisableRegion",
    "EnableRegion",
    "GetAccountInformation",
    "GetAlternateContact",
    "GetContactInformation",
    "GetGovCloudAccountInformation",
    "GetPrimaryEmail",
    "GetPrimaryEmailUpdateStatus",
    "GetRegionOptStatus",
    "ListRegions",
    "PutAccountName",
    "PutAlternateContact",
    "PutContactInformation",
    "SendPhoneNumberVerification",
    "StartPrimaryEmailUpdate",
    "VerifyPhoneNumber",
];

const STS_OPERATIONS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "DecodeAuthorizationMessage",
    "GetAccessKeyInfo",
    "GetCallerIdentity",
    "GetDelegatedAccessToken",
    "GetFederationToken",
    "GetSessionToken",
    "GetWebIdentityToken",
];

/// `iam`: every operation of aws-sdk-iam (each is an IAM action of the same name).
const IAM_OPERATIONS: &[&str] = &[
    "AcceptDelegationRequest",
    "AcquireRole",
    "AddClientIDToOpenIDConnectProvider",
    "AddRoleToInstanceProfile",
    "AddUserToGroup",
    "AssociateDelegationRequest",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "AttachUserPolicy",
    "ChangePassword",
    "CreateAccessKey",
    "CreateAccountAlias",
    "CreateDelegationRequest",
    "CreateGroup",
    "CreateInstanceProfile",
    "CreateLoginProfile",
    "CreateOpenIDConnectProvider",
    "CreatePolicy",
    "CreatePolicyVersion",
    "CreateRole",
    "CreateSAMLProvider",
    "CreateServiceLinkedRole",
    "CreateServiceSpecificCredential",
    "CreateUser",
    "CreateVirtualMFADevice",
    "DeactivateMFADevice",
    "DeleteAccessKey",
    "DeleteAccountAlias",
    "DeleteAccountPasswordPolicy",
    "DeleteGroup",
    "DeleteGroupPolicy",
    "DeleteInstanceProfile",
    "DeleteLoginProfile",
    "DeleteOpenIDConnectProvider",
    "DeletePolicy",
    "DeletePolicyVersion",
    "DeleteRole",
    "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy",
    "DeleteSAMLProvider",
    "DeleteSSHPublicKey",
    "DeleteServerCertificate",
    "DeleteServiceLinkedRole",
    "DeleteServiceSpecificCredential",
    "DeleteSigningCertificate",
    "DeleteUser",
    "DeleteUserPermissionsBoundary",
    "DeleteUserPolicy",
    "DeleteVirtualMFADevice",
    "DetachGroupPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "DisableOrganizationsRootCredentialsManagement",
    "DisableOrganizationsRootSessions",
    "DisableOutboundWebIdentityFederation",
    "EnableMFADevice",
    "EnableOrganizationsRootCredentialsManagement",
    "EnableOrganizationsRootSessions",
    "EnableOutboundWebIdentityFederation",
    "GenerateCredentialReport",
    "GenerateOrganizationsAccessReport",
    "GenerateServiceLastAccessedDetails",
    "GetAccessKeyLastUsed",
    "GetAccountAuthorizationDetails",
    "GetAccountPasswordPolicy",
    "GetAccountProperties",
    "GetAccountSummary",
    "GetContextKeysForCustomPolicy",
    "GetContextKeysForPrincipalPolicy",
    "GetCredentialReport",
    "GetDelegationRequest",
    "GetGroup",
    "GetGroupPolicy",
    "GetHumanReadableSummary",
    "GetInstanceProfile",
    "GetLoginProfile",
    "GetMFADevice",
    "GetOpenIDConnectProvider",
    "GetOrganizationsAccessReport",
    "GetOutboundWebIdentityFederationInfo",
    "GetPolicy",
    "GetPolicyVersion",
    "GetRole",
    "GetRolePolicy",
    "GetRoleTemplateVersion",
    "GetSAMLProvider",
    "GetSSHPublicKey",
    "GetServerCertificate",
    "GetServiceLastAccessedDetails",
    "GetServiceLastAccessedDetailsWithEntities",
    "GetServiceLinkedRoleDeletionStatus",
    "GetUser",
    "GetUserPolicy",
    "ListAccessKeys",
    "ListAccountAliases",
    "ListAttachedGroupPolicies",
    "ListAttachedRolePolicies",
    "ListAttachedUserPolicies",
    "ListDelegationRequests",
    "ListEntitiesForPolicy",
    "ListGroupPolicies",
    "ListGroups",
    "ListGroupsForUser",
    "ListInstanceProfileTags",
    "ListInstanceProfiles",
    "ListInstanceProfilesForRole",
    "ListMFADeviceTags",
    "ListMFADevices",
    "ListOpenIDConnectProviderTags",
    "ListOpenIDConnectProviders",
    "ListOrganizationsFeatures",
    "ListPolicies",
    "ListPoliciesGrantingServiceAccess",
    "ListPolicyTags",
    "ListPolicyVersions",
    "ListRolePolicies",
    "ListRoleTags",
    "ListRoles",
    "ListSAMLProviderTags",
    "ListSAMLProviders",
    "ListSSHPublicKeys",
    "ListServerCertificateTags",
    "ListServerCertificates",
    "ListServiceSpecificCredentials",
    "ListSigningCertificates",
    "ListUserPolicies",
    "ListUserTags",
    "ListUsers",
    "ListVirtualMFADevices",
    "PutAccountProperties",
    "PutGroupPolicy",
    "PutRolePermissionsBoundary",
    "PutRolePolicy",
    "PutUserPermissionsBoundary",
    "PutUserPolicy",
    "RejectDelegationRequest",
    "RemoveClientIDFromOpenIDConnectProvider",
    "RemoveRoleFromInstanceProfile",
    "RemoveUserFromGroup",
    "ResetServiceSpecificCredential",
    "ResyncMFADevice",
    "SendDelegationToken",
    "SetDefaultPolicyVersion",
    "SetSecurityTokenServicePreferences",
    "SimulateCustomPolicy",
    "SimulatePrincipalPolicy",
    "TagInstanceProfile",
    "TagMFADevice",
    "TagOpenIDConnectProvider",
    "TagPolicy",
    "TagRole",
    "TagSAMLProvider",
    "TagServerCertificate",
    "TagUser",
    "UntagInstanceProfile",
    "UntagMFADevice",
    "UntagOpenIDConnectProvider",
    "UntagPolicy",
    "UntagRole",
    "UntagSAMLProvider",
    "UntagServerCertificate",
    "UntagUser",
    "UpdateAccessKey",
    "UpdateAccountPasswordPolicy",
    "UpdateAssumeRolePolicy",
    "UpdateDelegationRequest",
    "UpdateGroup",
    "UpdateLoginProfile",
    "UpdateOpenIDConnectProviderThumbprint",
    "UpdateRole",
    "UpdateRoleDescription",
    "UpdateSAMLProvider",
    "UpdateSSHPublicKey",
    "UpdateServerCertificate",
    "UpdateServiceSpecificCredential",
    "UpdateSigningCertificate",
    "UpdateUser",
    "UploadSSHPublicKey",
    "UploadServerCertificate",
    "UploadSigningCertificate",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_method_names_follow_the_generator() {
        // Pairs read from the generated crates (src/operation/<name>.rs).
        for (op, method) in [
            ("ListDetectors", "list_detectors"),
            ("EnableAWSServiceAccess", "enable_aws_service_access"),
            (
                "ListAWSServiceAccessForOrganization",
                "list_aws_service_access_for_organization",
            ),
            ("AssumeRoleWithSAML", "assume_role_with_saml"),
            (
                "CreateOpenIDConnectProvider",
                "create_open_id_connect_provider",
            ),
            ("GetMalwareScanSettings", "get_malware_scan_settings"),
            ("ListIPSets", "list_ip_sets"),
            ("CreateSAMLProvider", "create_saml_provider"),
            ("GetSSHPublicKey", "get_ssh_public_key"),
            (
                "UpdateOrganizationConfiguration",
                "update_organization_configuration",
            ),
        ] {
            assert_eq!(sdk_method_name(op), method, "{op}");
        }
    }

    #[test]
    fn lists_are_sorted_unique_and_pascal_case() {
        for s in SERVICES {
            let mut sorted = s.operations.to_vec();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted, s.operations, "{}", s.prefix);
            for a in s.operations.iter().chain(s.permission_only) {
                assert!(a.starts_with(|c: char| c.is_ascii_uppercase()), "{a}");
                assert!(!s.operations.contains(a) || !s.permission_only.contains(a));
            }
        }
    }

    #[test]
    fn canonical_is_case_insensitive_and_knows_permission_only_actions() {
        assert_eq!(
            canonical("GuardDuty:listdetectors").as_deref(),
            Some("guardduty:ListDetectors")
        );
        assert_eq!(canonical("iam:PassRole").as_deref(), Some("iam:PassRole"));
        assert_eq!(canonical("guardduty:ListDetector"), None);
        assert_eq!(canonical("s3:GetObject"), None);
        assert_eq!(canonical("ListDetectors"), None);
    }

    #[test]
    fn wildcards_match_like_iam() {
        assert!(wildcard_match("guardduty:Get*", "guardduty:GetFindings"));
        assert!(wildcard_match("GUARDDUTY:get*", "guardduty:GetFindings"));
        assert!(wildcard_match(
            "guardduty:*Findings",
            "guardduty:ArchiveFindings"
        ));
        assert!(wildcard_match("sts:AssumeRol?", "sts:AssumeRole"));
        assert!(!wildcard_match("sts:AssumeRol?", "sts:AssumeRoleWithSAML"));
        assert!(wildcard_match("*", "iam:PassRole"));
        assert!(!wildcard_match("guardduty:Get*", "guardduty:ListFindings"));
        assert!(expand("guardduty:Archive*").contains(&"guardduty:ArchiveFindings".to_string()));
        assert!(expand("guardduty:Nope*").is_empty());
    }

    #[test]
    fn read_only_by_verb() {
        assert!(is_read_only("guardduty:GetFindings"));
        assert!(is_read_only("organizations:ListAccounts"));
        assert!(is_read_only("organizations:DescribeOrganization"));
        for w in [
            "guardduty:ArchiveFindings",
            "guardduty:CreateDetector",
            "iam:PassRole",
            "sts:AssumeRole",
            "sts:TagSession",
        ] {
            assert!(!is_read_only(w), "{w}");
        }
    }
}
