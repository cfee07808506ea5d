//! The finding types the sandbox can produce: one entry per GuardDuty finding type, with its
//! severity, the resource it names, the kind of action behind it and the texts the console
//! shows. Also the small tables of remote actors (IPs with their location and network owner)
//! that rendered findings draw from.
//!
//! Severity follows GuardDuty's bands: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9,
//! Critical 9.0-10.0 (attack sequences).

/// The resource a finding is about (`resource.resourceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Instance,
    AccessKey,
    S3Bucket,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Instance => "Instance",
            ResourceKind::AccessKey => "AccessKey",
            ResourceKind::S3Bucket => "S3Bucket",
        }
    }
}

/// What the actor did (`service.action.actionType` and its details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// A network connection; `inbound` when the remote side connected to the instance.
    Network {
        inbound: bool,
        port: u16,
        protocol: &'static str,
    },
    /// An AWS API call.
    ApiCall {
        api: &'static str,
        service: &'static str,
    },
    /// Probes of an unprotected port of the instance.
    PortProbe { port: u16 },
    /// A DNS query of the instance.
    Dns { domain: &'static str },
}

impl ActionKind {
    pub fn action_type(self) -> &'static str {
        match self {
            ActionKind::Network { .. } => "NETWORK_CONNECTION",
            ActionKind::ApiCall { .. } => "AWS_API_CALL",
            ActionKind::PortProbe { .. } => "PORT_PROBE",
            ActionKind::Dns { .. } => "DNS_REQUEST",
        }
    }
}

/// One finding type.
#[derive(Debug, Clone, Copy)]
pub struct FindingType {
    pub name: &'static str,
    /// Severity in tenths (80 = 8.0, High).
    pub severity_tenths: u16,
    pub resource: ResourceKind,
    pub action: ActionKind,
    /// `TARGET` when the resource was acted upon, `ACTOR` when it acted.
    pub resource_role: &'static str,
    /// The threat intelligence list that matched, if the type comes from one.
    pub threat_list: Option<&'static str>,
    pub title: &'static str,
    pub description: &'static str,
}

use ActionKind::*;
use ResourceKind::*;

// One table row per type: positional arguments keep the table readable.
#[allow(clippy::too_many_arguments)]
const fn t(
    name: &'static str,
    severity_tenths: u16,
    resource: ResourceKind,
    action: ActionKind,
    resource_role: &'static str,
    threat_list: Option<&'static str>,
    title: &'static str,
    description: &'static str,
) -> FindingType {
    FindingType {
        name,
        severity_tenths,
        resource,
        action,
        resource_role,
        threat_list,
        title,
        description,
    }
}

const IN: bool = true;
const OUT: bool = false;

/// Every finding type, in a fixed order (a finding stores its index here).
#[rustfmt::skip]
pub static TYPES: &[FindingType] = &[
    // EC2: reconnaissance and access attempts.
    t("Recon:EC2/PortProbeUnprotectedPort", 20, Instance, PortProbe { port: 22 }, "TARGET", None,
      "Unprotected port on EC2 instance {instance} is being probed.",
      "EC2 instance {instance} has an unprotected port which is being probed by a known malicious host."),
    t("Recon:EC2/PortProbeEMRUnprotectedPort", 80, Instance, PortProbe { port: 8088 }, "TARGET", None,
      "Unprotected EMR-related port on EC2 instance {instance} is being probed.",
      "EC2 instance {instance} has an unprotected EMR-related port which is being probed by a known malicious host."),
    t("Recon:EC2/Portscan", 50, Instance, Network { inbound: OUT, port: 445, protocol: "TCP" }, "ACTOR", None,
      "EC2 instance {instance} is performing outbound port scans.",
      "EC2 instance {instance} is performing port scans on remote hosts, which may indicate it is compromised."),
    t("UnauthorizedAccess:EC2/SSHBruteForce", 20, Instance, Network { inbound: IN, port: 22, protocol: "TCP" }, "TARGET", None,
      "SSH brute force attacks against EC2 instance {instance}.",
      "EC2 instance {instance} is the target of SSH brute force attacks from a remote host."),
    t("UnauthorizedAccess:EC2/RDPBruteForce", 20, Instance, Network { inbound: IN, port: 3389, protocol: "TCP" }, "TARGET", None,
      "RDP brute force attacks against EC2 instance {instance}.",
      "EC2 instance {instance} is the target of RDP brute force attacks from a remote host."),
    t("UnauthorizedAccess:EC2/TorClient", 80, Instance, Network { inbound: OUT, port: 9001, protocol: "TCP" }, "ACTOR", Some("TorEntryNodes"),
      "EC2 instance {instance} is communicating with a Tor entry node.",
      "EC2 instance {instance} is making connections to a Tor entry node, which may indicate unauthorized access."),
    t("UnauthorizedAccess:EC2/TorRelay", 80, Instance, Network { inbound: IN, port: 9001, protocol: "TCP" }, "ACTOR", Some("TorRelayNodes"),
      "EC2 instance {instance} is acting as a Tor relay.",
      "EC2 instance {instance} is communicating with Tor nodes in a way that shows it acts as a Tor relay."),
    t("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", 50, Instance, Network { inbound: OUT, port: 80, protocol: "TCP" }, "ACTOR", Some("Custom-ThreatList"),
      "EC2 instance {instance} is communicating with a disallowed IP address.",
      "EC2 instance {instance} is communicating with an IP address on a custom threat list you uploaded."),
    t("UnauthorizedAccess:EC2/MetadataDNSRebind", 80, Instance, Dns { domain: "169.254.169.254.rebind.example.net" }, "ACTOR", None,
      "EC2 instance {instance} is querying a domain that resolves to the metadata IP.",
      "EC2 instance {instance} is performing DNS lookups that resolve to the instance metadata service."),
    // EC2: malware, command and control, crypto mining.
    t("CryptoCurrency:EC2/BitcoinTool.B!DNS", 80, Instance, Dns { domain: "pool.minexmr.example.com" }, "ACTOR", Some("ProofPoint"),
      "EC2 instance {instance} is querying a domain name associated with Bitcoin activity.",
      "EC2 instance {instance} is querying a domain name that is associated with cryptocurrency-related activity."),
    t("CryptoCurrency:EC2/BitcoinTool.B", 80, Instance, Network { inbound: OUT, port: 3333, protocol: "TCP" }, "ACTOR", Some("ProofPoint"),
      "EC2 instance {instance} is communicating with a Bitcoin mining pool.",
      "EC2 instance {instance} is communicating with an IP address associated with cryptocurrency mining."),
    t("Backdoor:EC2/C&CActivity.B!DNS", 80, Instance, Dns { domain: "guarddutyc2activityb.example.com" }, "ACTOR", Some("ProofPoint"),
      "Command and Control server domain name queried by EC2 instance {instance}.",
      "EC2 instance {instance} is querying a domain name associated with a known command and control server."),
    t("Backdoor:EC2/C&CActivity.B", 80, Instance, Network { inbound: OUT, port: 443, protocol: "TCP" }, "ACTOR", Some("ProofPoint"),
      "EC2 instance {instance} is communicating with a command and control server.",
      "EC2 instance {instance} is communicating with an IP address associated with a known command and control server."),
    t("Backdoor:EC2/DenialOfService.Tcp", 80, Instance, Network { inbound: OUT, port: 80, protocol: "TCP" }, "ACTOR", None,
      "EC2 instance {instance} is behaving in a manner that may indicate it is being used to perform a DoS attack.",
      "EC2 instance {instance} is sending a large volume of TCP traffic to a remote host."),
    t("Backdoor:EC2/Spambot", 50, Instance, Network { inbound: OUT, port: 25, protocol: "TCP" }, "ACTOR", None,
      "EC2 instance {instance} is behaving in a manner that may indicate it is sending spam.",
      "EC2 instance {instance} is communicating with a remote host on port 25 in an unusual way."),
    t("Trojan:EC2/DNSDataExfiltration", 80, Instance, Dns { domain: "x7f3a9.exfil.example.org" }, "ACTOR", None,
      "Data exfiltration through DNS queries from EC2 instance {instance}.",
      "EC2 instance {instance} is exfiltrating data through DNS queries."),
    t("Trojan:EC2/BlackholeTraffic", 50, Instance, Network { inbound: OUT, port: 80, protocol: "TCP" }, "ACTOR", Some("Emerging Threats"),
      "EC2 instance {instance} is attempting to communicate with a black hole IP address.",
      "EC2 instance {instance} is attempting to communicate with the IP address of a black hole."),
    t("Trojan:EC2/DropPoint!DNS", 50, Instance, Dns { domain: "droppoint.example.net" }, "ACTOR", Some("Emerging Threats"),
      "EC2 instance {instance} is querying a domain known to hold stolen credentials.",
      "EC2 instance {instance} is querying a domain name associated with a drop point for malware-captured data."),
    t("Trojan:EC2/PhishingDomainRequest!DNS", 50, Instance, Dns { domain: "login-verify.phish.example.com" }, "ACTOR", Some("Emerging Threats"),
      "EC2 instance {instance} is querying a phishing domain.",
      "EC2 instance {instance} is querying a domain name involved in phishing attacks."),
    t("Impact:EC2/WinRMBruteForce", 80, Instance, Network { inbound: OUT, port: 5985, protocol: "TCP" }, "ACTOR", None,
      "EC2 instance {instance} is performing outbound Windows Remote Management brute force attacks.",
      "EC2 instance {instance} is performing WinRM brute force attacks against a remote host."),
    t("Impact:EC2/AbusedDomainRequest.Reputation", 50, Instance, Dns { domain: "free-hosting.abused.example.com" }, "ACTOR", None,
      "EC2 instance {instance} is querying a domain with a low reputation.",
      "EC2 instance {instance} is querying a low reputation domain name associated with abuse."),
    t("Behavior:EC2/NetworkPortUnusual", 50, Instance, Network { inbound: OUT, port: 6667, protocol: "TCP" }, "ACTOR", None,
      "EC2 instance {instance} is communicating on an unusual server port.",
      "EC2 instance {instance} is communicating with a remote host on a port it has not used before."),
    t("Behavior:EC2/TrafficVolumeUnusual", 50, Instance, Network { inbound: OUT, port: 443, protocol: "TCP" }, "ACTOR", None,
      "EC2 instance {instance} is generating unusually large amounts of network traffic.",
      "EC2 instance {instance} is sending far more traffic to a remote host than it usually does."),
    // IAM: credentials used from suspicious places, or in suspicious ways.
    t("UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", 50, AccessKey, ApiCall { api: "DescribeInstances", service: "ec2.amazonaws.com" }, "TARGET", Some("Custom-ThreatList"),
      "API DescribeInstances was invoked from an IP address on a custom threat list.",
      "An API was invoked from an IP address on a custom threat list you uploaded."),
    t("UnauthorizedAccess:IAMUser/TorIPCaller", 50, AccessKey, ApiCall { api: "GetObject", service: "s3.amazonaws.com" }, "TARGET", Some("TorExitNodes"),
      "API GetObject was invoked from a Tor exit node IP address.",
      "An API was invoked from a Tor exit node IP address."),
    t("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", 80, AccessKey, ApiCall { api: "DescribeSnapshots", service: "ec2.amazonaws.com" }, "TARGET", None,
      "Credentials for instance role used from an external IP address.",
      "Credentials created exclusively for an EC2 instance through an instance launch role are being used from an external IP address."),
    t("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", 50, AccessKey, ApiCall { api: "ConsoleLogin", service: "signin.amazonaws.com" }, "TARGET", None,
      "Unusual console logins were seen for principal {user}.",
      "Multiple successful console logins for the same principal were observed from unusual locations."),
    t("Recon:IAMUser/TorIPCaller", 50, AccessKey, ApiCall { api: "ListBuckets", service: "s3.amazonaws.com" }, "TARGET", Some("TorExitNodes"),
      "A reconnaissance API was invoked from a Tor exit node IP address.",
      "API ListBuckets, commonly used in reconnaissance attacks, was invoked from a Tor exit node IP address."),
    t("Recon:IAMUser/MaliciousIPCaller", 50, AccessKey, ApiCall { api: "DescribeSecurityGroups", service: "ec2.amazonaws.com" }, "TARGET", Some("ProofPoint"),
      "A reconnaissance API was invoked from a known malicious IP address.",
      "API DescribeSecurityGroups, commonly used in reconnaissance attacks, was invoked from a known malicious IP address."),
    t("Recon:IAMUser/MaliciousIPCaller.Custom", 50, AccessKey, ApiCall { api: "GetBucketAcl", service: "s3.amazonaws.com" }, "TARGET", Some("Custom-ThreatList"),
      "A reconnaissance API was invoked from an IP address on a custom threat list.",
      "API GetBucketAcl, commonly used in reconnaissance attacks, was invoked from an IP address on a custom threat list."),
    t("Policy:IAMUser/RootCredentialUsage", 20, AccessKey, ApiCall { api: "ListBuckets", service: "s3.amazonaws.com" }, "TARGET", None,
      "API ListBuckets was invoked using root credentials.",
      "The root credentials of the account were used to make an API request."),
    t("PenTest:IAMUser/KaliLinux", 50, AccessKey, ApiCall { api: "DescribeInstances", service: "ec2.amazonaws.com" }, "TARGET", None,
      "API DescribeInstances was invoked from a Kali Linux computer.",
      "An API was invoked from a computer running Kali Linux, a penetration testing distribution."),
    t("PenTest:IAMUser/ParrotLinux", 50, AccessKey, ApiCall { api: "ListUsers", service: "iam.amazonaws.com" }, "TARGET", None,
      "API ListUsers was invoked from a Parrot Security Linux computer.",
      "An API was invoked from a computer running Parrot Security Linux."),
    t("PenTest:IAMUser/PentooLinux", 50, AccessKey, ApiCall { api: "ListRoles", service: "iam.amazonaws.com" }, "TARGET", None,
      "API ListRoles was invoked from a Pentoo Linux computer.",
      "An API was invoked from a computer running Pentoo Linux."),
    t("Stealth:IAMUser/CloudTrailLoggingDisabled", 20, AccessKey, ApiCall { api: "StopLogging", service: "cloudtrail.amazonaws.com" }, "TARGET", None,
      "AWS CloudTrail trail was disabled.",
      "A CloudTrail trail was disabled, which may be an attempt to hide activity."),
    t("Stealth:IAMUser/PasswordPolicyChange", 20, AccessKey, ApiCall { api: "UpdateAccountPasswordPolicy", service: "iam.amazonaws.com" }, "TARGET", None,
      "The account password policy was weakened.",
      "The password policy of the account was changed to a weaker one."),
    t("CredentialAccess:IAMUser/AnomalousBehavior", 50, AccessKey, ApiCall { api: "GetSecretValue", service: "secretsmanager.amazonaws.com" }, "TARGET", None,
      "The APIs commonly used to access credentials were invoked in an unusual way.",
      "APIs used to gain access to secrets were invoked by principal {user} in a way that deviates from its baseline."),
    t("Persistence:IAMUser/AnomalousBehavior", 50, AccessKey, ApiCall { api: "CreateAccessKey", service: "iam.amazonaws.com" }, "TARGET", None,
      "The APIs commonly used to maintain access were invoked in an unusual way.",
      "APIs used to keep unauthorized access were invoked by principal {user} in a way that deviates from its baseline."),
    t("Discovery:IAMUser/AnomalousBehavior", 20, AccessKey, ApiCall { api: "ListAttachedRolePolicies", service: "iam.amazonaws.com" }, "TARGET", None,
      "The APIs commonly used to discover resources were invoked in an unusual way.",
      "APIs used to discover resources were invoked by principal {user} in a way that deviates from its baseline."),
    t("Impact:IAMUser/AnomalousBehavior", 80, AccessKey, ApiCall { api: "DeleteSecurityGroup", service: "ec2.amazonaws.com" }, "TARGET", None,
      "The APIs commonly used to tamper with data or processes were invoked in an unusual way.",
      "APIs used to tamper with the environment were invoked by principal {user} in a way that deviates from its baseline."),
    // S3: bucket policy changes and data access.
    t("Policy:S3/BucketBlockPublicAccessDisabled", 20, S3Bucket, ApiCall { api: "DeleteBucketPublicAccessBlock", service: "s3.amazonaws.com" }, "TARGET", None,
      "Amazon S3 Block Public Access was disabled for S3 bucket {bucket}.",
      "The S3 Block Public Access settings of bucket {bucket} were disabled by principal {user}."),
    t("Policy:S3/BucketAnonymousAccessGranted", 80, S3Bucket, ApiCall { api: "PutBucketAcl", service: "s3.amazonaws.com" }, "TARGET", None,
      "S3 bucket {bucket} was granted access to anonymous users.",
      "Principal {user} changed the ACL of bucket {bucket} to allow access to anonymous users."),
    t("Policy:S3/BucketPublicAccessGranted", 50, S3Bucket, ApiCall { api: "PutBucketPolicy", service: "s3.amazonaws.com" }, "TARGET", None,
      "S3 bucket {bucket} was made publicly accessible.",
      "Principal {user} changed the policy of bucket {bucket} to allow public access."),
    t("Exfiltration:S3/AnomalousBehavior", 80, S3Bucket, ApiCall { api: "GetObject", service: "s3.amazonaws.com" }, "TARGET", None,
      "Unusual data reads from S3 bucket {bucket}.",
      "Principal {user} read objects of bucket {bucket} in a way that deviates from its baseline."),
    t("Exfiltration:S3/MaliciousIPCaller", 80, S3Bucket, ApiCall { api: "GetObject", service: "s3.amazonaws.com" }, "TARGET", Some("ProofPoint"),
      "Objects of S3 bucket {bucket} were read from a known malicious IP address.",
      "An S3 data-reading API was invoked on bucket {bucket} from an IP address on a threat list."),
    t("Impact:S3/AnomalousBehavior.Delete", 80, S3Bucket, ApiCall { api: "DeleteObjects", service: "s3.amazonaws.com" }, "TARGET", None,
      "Unusual deletion of objects of S3 bucket {bucket}.",
      "Principal {user} deleted objects of bucket {bucket} in a way that deviates from its baseline."),
    t("Discovery:S3/TorIPCaller", 50, S3Bucket, ApiCall { api: "ListObjects", service: "s3.amazonaws.com" }, "TARGET", Some("TorExitNodes"),
      "S3 bucket {bucket} was listed from a Tor exit node IP address.",
      "An S3 discovery API was invoked on bucket {bucket} from a Tor exit node IP address."),
    t("Stealth:S3/ServerAccessLoggingDisabled", 20, S3Bucket, ApiCall { api: "PutBucketLogging", service: "s3.amazonaws.com" }, "TARGET", None,
      "Server access logging was disabled for S3 bucket {bucket}.",
      "Principal {user} disabled server access logging of bucket {bucket}."),
    t("UnauthorizedAccess:S3/TorIPCaller", 50, S3Bucket, ApiCall { api: "GetObject", service: "s3.amazonaws.com" }, "TARGET", Some("TorExitNodes"),
      "S3 bucket {bucket} was accessed from a Tor exit node IP address.",
      "An S3 API was invoked on bucket {bucket} from a Tor exit node IP address."),
    // Critical: attack sequences correlating several signals.
    t("AttackSequence:IAM/CompromisedCredentials", 90, AccessKey, ApiCall { api: "CreateUser", service: "iam.amazonaws.com" }, "TARGET", None,
      "Potential credential compromise of principal {user}.",
      "A sequence of suspicious API calls made with the credentials of principal {user} indicates they are compromised."),
    t("AttackSequence:S3/CompromisedData", 95, S3Bucket, ApiCall { api: "GetObject", service: "s3.amazonaws.com" }, "TARGET", None,
      "Potential data compromise of S3 bucket {bucket}.",
      "A sequence of suspicious actions against bucket {bucket} indicates data exfiltration or destruction."),
    t("AttackSequence:EC2/CompromisedInstanceGroup", 100, Instance, Network { inbound: OUT, port: 443, protocol: "TCP" }, "ACTOR", None,
      "Potential compromise of a group of EC2 instances including {instance}.",
      "A sequence of suspicious activity across EC2 instances including {instance} indicates they are compromised."),
];

/// The index of a finding type by name.
pub fn index_of(name: &str) -> Option<u16> {
    TYPES.iter().position(|t| t.name == name).map(|i| i as u16)
}

/// The console's label of a severity value.
pub fn severity_label(severity: f64) -> &'static str {
    match severity {
        s if s >= 9.0 => "Critical",
        s if s >= 7.0 => "High",
        s if s >= 4.0 => "Medium",
        _ => "Low",
    }
}

/// A remote actor: an address and what geolocation and ASN databases say about it.
#[derive(Debug, Clone, Copy)]
pub struct RemoteHost {
    /// The first three octets; the last one varies per finding.
    pub net: &'static str,
    pub city: &'static str,
    pub country_code: &'static str,
    pub country: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub asn: &'static str,
    pub asn_org: &'static str,
    pub isp: &'static str,
    pub org: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn h(
    net: &'static str,
    city: &'static str,
    country_code: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    asn: &'static str,
    org: &'static str,
) -> RemoteHost {
    RemoteHost {
        net,
        city,
        country_code,
        country,
        lat,
        lon,
        asn,
        asn_org: org,
        isp: org,
        org,
    }
}

/// Remote hosts, in documentation address ranges (RFC 5737) so that no real host is named.
#[rustfmt::skip]
pub static REMOTE_HOSTS: &[RemoteHost] = &[
    h("198.51.100", "Moscow", "RU", "Russia", 55.7527, 37.6172, "48666", "Example Hosting RU"),
    h("203.0.113", "Amsterdam", "NL", "Netherlands", 52.3740, 4.8897, "60781", "Example Cloud NL"),
    h("192.0.2", "Sao Paulo", "BR", "Brazil", -23.5475, -46.6361, "28573", "Example Telecom BR"),
    h("198.51.100", "Frankfurt am Main", "DE", "Germany", 50.1155, 8.6842, "24940", "Example Datacenter DE"),
    h("203.0.113", "Lagos", "NG", "Nigeria", 6.4541, 3.3947, "37148", "Example Networks NG"),
    h("192.0.2", "Beijing", "CN", "China", 39.9075, 116.3972, "4808", "Example Unicom CN"),
    h("198.51.100", "Ashburn", "US", "United States", 39.0437, -77.4875, "14618", "Example Web Services US"),
    h("203.0.113", "Bucharest", "RO", "Romania", 44.4323, 26.1063, "9009", "Example VPN RO"),
];

/// User agents seen on API calls; PenTest types use the one of their distribution.
pub fn user_agent(type_name: &str, variant: u32) -> &'static str {
    if type_name.contains("KaliLinux") {
        return "Boto3/1.34.0 Python/3.11.8 Linux/6.6.9-amd64 kali Botocore/1.34.0";
    }
    if type_name.contains("ParrotLinux") {
        return "aws-cli/2.15.0 Python/3.11.2 Linux/6.5.0-parrot-amd64 exe/x86_64.parrot";
    }
    if type_name.contains("PentooLinux") {
        return "aws-cli/2.15.0 Python/3.11.2 Linux/6.6.0-pentoo exe/x86_64.pentoo";
    }
    const AGENTS: &[&str] = &[
        "aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2",
        "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.12.2",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36",
        "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64",
    ];
    AGENTS[variant as usize % AGENTS.len()]
}

/// IAM user names that findings name as the principal.
pub static USER_NAMES: &[&str] = &[
    "alice",
    "bob",
    "ci-deploy",
    "data-pipeline",
    "backup-operator",
    "GeneratedFindingUserName",
];

/// Bucket name stems (the account id is appended, as bucket names are global).
pub static BUCKET_STEMS: &[&str] = &["app-logs", "customer-exports", "backups", "static-site"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_spans_families_and_severities() {
        assert!(TYPES.len() >= 30, "{} types", TYPES.len());
        let mut names: Vec<&str> = TYPES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TYPES.len(), "type names are unique");
        for label in ["Low", "Medium", "High", "Critical"] {
            assert!(TYPES
                .iter()
                .any(|t| severity_label(t.severity_tenths as f64 / 10.0) == label));
        }
        for kind in [Instance, AccessKey, S3Bucket] {
            assert!(TYPES.iter().any(|t| t.resource == kind));
        }
        for action in [
            "NETWORK_CONNECTION",
            "AWS_API_CALL",
            "PORT_PROBE",
            "DNS_REQUEST",
        ] {
            assert!(TYPES.iter().any(|t| t.action.action_type() == action));
        }
        assert!(TYPES.iter().all(|t| t.severity_tenths <= 100));
        assert_eq!(index_of("Recon:EC2/PortProbeUnprotectedPort"), Some(0));
        assert_eq!(index_of("Nope:EC2/Nothing"), None);
    }
}
