//! Rendering a stored finding as the `Finding` JSON GetFindings returns, member names as the
//! service model's jsonName traits spell them. (`InstanceDetails.iamInstanceProfile` is
//! camelCase; only the attack-sequence shape `Ec2Instance` carries a PascalCase
//! `IamInstanceProfile`, and the sandbox does not render that shape.)
//!
//! Everything not stored in the record (instance, access key, bucket, remote host, ports) is
//! derived from the record's seed and the owning account, so the same finding always renders
//! the same way and an account's findings name a small, stable set of its resources.

use serde_json::{json, Map, Value};

use super::catalog::{self, ActionKind, FindingType, RemoteHost, ResourceKind};
use super::findings_store::StoredFinding;

/// The cell a finding belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub detector_id: &'a str,
}

/// SplitMix64: a cheap, well-mixed hash of one word.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn account_hash(account: &str) -> u64 {
    account.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The generated details of one finding.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// Which of the account's eight instances (or access keys, or buckets) is involved.
    pub resource_no: u64,
    pub host: &'static RemoteHost,
    pub octet: u64,
    pub user: &'static str,
    pub bucket_stem: &'static str,
    pub ephemeral_port: u16,
    pub ua: u32,
}

impl Variant {
    pub fn of(f: &StoredFinding) -> Variant {
        let v = mix64(u64::from(f.seed) ^ (u64::from(f.type_idx) << 40));
        let hosts = catalog::REMOTE_HOSTS;
        Variant {
            resource_no: v % 8,
            host: &hosts[((v >> 8) % hosts.len() as u64) as usize],
            octet: 1 + (v >> 16) % 254,
            user: catalog::USER_NAMES[((v >> 24) % catalog::USER_NAMES.len() as u64) as usize],
            bucket_stem: catalog::BUCKET_STEMS
                [((v >> 32) % catalog::BUCKET_STEMS.len() as u64) as usize],
            ephemeral_port: 32768 + ((v >> 40) % 28000) as u16,
            ua: (v >> 56) as u32,
        }
    }
}

/// Stable per-account resource names.
struct Names {
    h: u64,
}

impl Names {
    fn new(account: &str, resource_no: u64) -> Names {
        Names {
            h: mix64(account_hash(account) ^ resource_no),
        }
    }
    fn instance_id(&self) -> String {
        format!("i-0{:016x}", self.h)
    }
    fn image_id(&self) -> String {
        format!("ami-0{:016x}", mix64(self.h ^ 1) & 0xffff_ffff_ffff)
    }
    fn eni(&self) -> String {
        format!("eni-0{:016x}", mix64(self.h ^ 2))
    }
    fn private_ip(&self) -> String {
        let x = mix64(self.h ^ 3);
        format!(
            "10.{}.{}.{}",
            (x >> 8) & 255,
            (x >> 16) & 255,
            1 + ((x >> 24) % 253)
        )
    }
    fn public_ip(&self) -> String {
        let x = mix64(self.h ^ 4);
        format!(
            "54.{}.{}.{}",
            (x >> 8) & 255,
            (x >> 16) & 255,
            1 + ((x >> 24) % 253)
        )
    }
    fn hex_id(&self, salt: u64, prefix: &str) -> String {
        format!("{prefix}{:016x}", mix64(self.h ^ salt))
    }
    fn key_id(&self) -> String {
        const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut x = mix64(self.h ^ 5);
        let mut s = String::from("ASIA");
        for _ in 0..16 {
            s.push(ALPHA[(x & 31) as usize] as char);
            x >>= 4;
            x ^= mix64(x);
        }
        s
    }
}

/// The access key / instance / bucket a finding is about: (resourceType, resource id).
pub fn resource_id(f: &StoredFinding, owner: &Owner) -> (&'static str, String) {
    let ty = &catalog::TYPES[f.type_idx as usize];
    let v = Variant::of(f);
    let names = Names::new(owner.account, v.resource_no);
    let id = match ty.resource {
        ResourceKind::Instance => names.instance_id(),
        ResourceKind::AccessKey => names.key_id(),
        ResourceKind::S3Bucket => bucket_name(v.bucket_stem, owner.account),
    };
    (ty.resource.as_str(), id)
}

const ZONES: [&str; 3] = ["a", "b", "c"];
const INSTANCE_TYPES: [&str; 4] = ["t3.medium", "m5.large", "c6i.xlarge", "t3.micro"];

fn bucket_name(stem: &str, account: &str) -> String {
    format!("{stem}-{account}")
}

fn is_root(ty: &FindingType) -> bool {
    ty.name == "Policy:IAMUser/RootCredentialUsage"
}

fn port_name(port: u16) -> &'static str {
    match port {
        22 => "SSH",
        25 => "SMTP",
        80 => "HTTP",
        443 => "HTTPS",
        445 => "SMB",
        3389 => "RDP",
        5985 => "WINRM",
        6667 => "IRC",
        _ => "Unknown",
    }
}

/// The second and top level labels of a domain (`domainWithSuffix`).
pub fn domain_with_suffix(domain: &str) -> String {
    let labels: Vec<&str> = domain.trim_end_matches('.').rsplit('.').take(2).collect();
    labels.into_iter().rev().collect::<Vec<_>>().join(".")
}

fn remote_ip(v: &Variant) -> Value {
    let h = v.host;
    json!({
        "city": {"cityName": h.city},
        "country": {"countryCode": h.country_code, "countryName": h.country},
        "geoLocation": {"lat": h.lat, "lon": h.lon},
        "ipAddressV4": format!("{}.{}", h.net, v.octet),
        "organization": {"asn": h.asn, "asnOrg": h.asn_org, "isp": h.isp, "org": h.org}
    })
}

/// The GuardDuty data source behind a finding type (`service.featureName`).
fn feature_name(ty: &FindingType) -> &'static str {
    match (ty.resource, ty.action) {
        (_, ActionKind::Dns { .. }) => "DnsLogs",
        (ResourceKind::S3Bucket, _) => "S3DataEvents",
        (_, ActionKind::ApiCall { .. }) => "CloudTrail",
        _ => "FlowLogs",
    }
}

/// The full `Finding` JSON.
pub fn render(f: &StoredFinding, id: &str, owner: &Owner) -> Value {
    let ty = &catalog::TYPES[f.type_idx as usize];
    let v = Variant::of(f);
    let names = Names::new(owner.account, v.resource_no);
    let custom = f.custom.as_deref();
    let instance_id = names.instance_id();
    let bucket = bucket_name(v.bucket_stem, owner.account);
    let user = if is_root(ty) { "Root" } else { v.user };
    let fill = |s: &str| {
        s.replace("{instance}", &instance_id)
            .replace("{user}", user)
            .replace("{bucket}", &bucket)
    };
    let title = if f.sample() {
        format!("[SAMPLE] {}", fill(ty.title))
    } else {
        fill(ty.title)
    };
    let created = iso_ms(f.created_ms);
    let updated = iso_ms(f.updated_ms);

    let mut resource = Map::new();
    resource.insert("resourceType".into(), ty.resource.as_str().into());
    match ty.resource {
        ResourceKind::Instance => {
            let name = custom
                .and_then(|c| c.instance_name.clone())
                .unwrap_or_else(|| format!("app-server-{}", v.resource_no));
            let private_ip = names.private_ip();
            let private_dns = format!(
                "ip-{}.{}.compute.internal",
                private_ip.replace('.', "-"),
                owner.region
            );
            let public_ip = names.public_ip();
            resource.insert(
                "instanceDetails".into(),
                json!({
                    "availabilityZone": format!("{}{}", owner.region, ZONES[(v.resource_no % 3) as usize]),
                    "iamInstanceProfile": {
                        "arn": format!("arn:aws:iam::{}:instance-profile/app-server-role", owner.account),
                        "id": names.hex_id(6, "AIPA").to_uppercase(),
                    },
                    "imageDescription": "Amazon Linux 2023 AMI",
                    "imageId": names.image_id(),
                    "instanceId": instance_id,
                    "instanceState": "running",
                    "instanceType": INSTANCE_TYPES[(v.resource_no % 4) as usize],
                    "launchTime": iso_ms(f.created_ms - 86_400_000 * (1 + v.resource_no as i64 * 7)),
                    "networkInterfaces": [{
                        "ipv6Addresses": [],
                        "networkInterfaceId": names.eni(),
                        "privateDnsName": private_dns,
                        "privateIpAddress": private_ip,
                        "privateIpAddresses": [{"privateDnsName": private_dns, "privateIpAddress": private_ip}],
                        "publicDnsName": format!("ec2-{}.compute-1.amazonaws.com", public_ip.replace('.', "-")),
                        "publicIp": public_ip,
                        "securityGroups": [{"groupId": names.hex_id(7, "sg-0"), "groupName": "app-server-sg"}],
                        "subnetId": names.hex_id(8, "subnet-0"),
                        "vpcId": names.hex_id(9, "vpc-0"),
                    }],
                    "productCodes": [],
                    "tags": [{"key": "Name", "value": name}, {"key": "Environment", "value": "production"}],
                }),
            );
        }
        ResourceKind::AccessKey | ResourceKind::S3Bucket => {
            resource.insert(
                "accessKeyDetails".into(),
                json!({
                    "accessKeyId": names.key_id(),
                    "principalId": names.hex_id(10, "AIDA").to_uppercase(),
                    "userName": user,
                    "userType": if is_root(ty) { "Root" } else { "IAMUser" },
                }),
            );
            if ty.resource == ResourceKind::S3Bucket {
                let public = ty.name.contains("PublicAccess")
                    || ty.name.contains("AnonymousAccess")
                    || ty.name.contains("BlockPublicAccessDisabled");
                resource.insert(
                    "s3BucketDetails".into(),
                    json!([{
                        "arn": format!("arn:aws:s3:::{bucket}"),
                        "name": bucket,
                        "type": "Destination",
                        "createdAt": (f.created_ms / 1000 - 86_400 * 400) as f64,
                        "owner": {"id": format!("{:016x}{:016x}{:016x}{:016x}", names.h, mix64(names.h), mix64(names.h ^ 11), mix64(names.h ^ 12))},
                        "tags": [{"key": "DataClassification", "value": "internal"}],
                        "defaultServerSideEncryption": {"encryptionType": "AES256"},
                        "publicAccess": {
                            "effectivePermission": if public { "PUBLIC" } else { "NOT_PUBLIC" },
                            "permissionConfiguration": {
                                "bucketLevelPermissions": {
                                    "accessControlList": {"allowsPublicReadAccess": public, "allowsPublicWriteAccess": false},
                                    "bucketPolicy": {"allowsPublicReadAccess": public, "allowsPublicWriteAccess": false},
                                    "blockPublicAccess": {"ignorePublicAcls": !public, "restrictPublicBuckets": !public, "blockPublicAcls": !public, "blockPublicPolicy": !public},
                                },
                                "accountLevelPermissions": {
                                    "blockPublicAccess": {"ignorePublicAcls": false, "restrictPublicBuckets": false, "blockPublicAcls": false, "blockPublicPolicy": false},
                                },
                            },
                        },
                    }]),
                );
            }
        }
    }

    let remote = remote_ip(&v);
    let local_ip = names.private_ip();
    let action = match ty.action {
        ActionKind::Network {
            inbound,
            port,
            protocol,
        } => {
            let (local, remote_port) = if inbound {
                (port, v.ephemeral_port)
            } else {
                (v.ephemeral_port, port)
            };
            json!({
                "actionType": "NETWORK_CONNECTION",
                "networkConnectionAction": {
                    "blocked": false,
                    "connectionDirection": if inbound { "INBOUND" } else { "OUTBOUND" },
                    "localPortDetails": {"port": local, "portName": port_name(local)},
                    "protocol": protocol,
                    "localIpDetails": {"ipAddressV4": local_ip},
                    "remoteIpDetails": remote,
                    "remotePortDetails": {"port": remote_port, "portName": port_name(remote_port)},
                }
            })
        }
        ActionKind::PortProbe { port } => json!({
            "actionType": "PORT_PROBE",
            "portProbeAction": {
                "blocked": false,
                "portProbeDetails": [{
                    "localPortDetails": {"port": port, "portName": port_name(port)},
                    "localIpDetails": {"ipAddressV4": local_ip},
                    "remoteIpDetails": remote,
                }]
            }
        }),
        ActionKind::Dns { domain } => {
            let domain = custom
                .and_then(|c| c.domain.clone())
                .unwrap_or_else(|| domain.to_string());
            json!({
                "actionType": "DNS_REQUEST",
                "dnsRequestAction": {
                    "domain": domain,
                    "domainWithSuffix": domain_with_suffix(&domain),
                    "protocol": "UDP",
                    "blocked": false,
                }
            })
        }
        ActionKind::ApiCall { api, service } => {
            let agent = custom
                .and_then(|c| c.user_agent.clone())
                .unwrap_or_else(|| catalog::user_agent(ty.name, v.ua).to_string());
            let mut call = json!({
                "api": api,
                "callerType": "Remote IP",
                "userAgent": agent,
                "remoteIpDetails": remote,
                "serviceName": service,
                "affectedResources": {},
            });
            if let Some(domain) = custom.and_then(|c| c.domain.clone()) {
                call["domainDetails"] = json!({ "domain": domain });
            }
            json!({"actionType": "AWS_API_CALL", "awsApiCallAction": call})
        }
    };

    let mut info = Map::new();
    if let Some(list) = ty.threat_list {
        info.insert("threatListName".into(), list.into());
    }
    if f.sample() {
        info.insert("sample".into(), true.into());
    }
    let mut service = json!({
        "action": action,
        "archived": f.archived(),
        "count": f.count,
        "detectorId": owner.detector_id,
        "eventFirstSeen": created,
        "eventLastSeen": updated,
        "resourceRole": ty.resource_role,
        "serviceName": "guardduty",
        "featureName": feature_name(ty),
        "additionalInfo": {"value": Value::Object(info).to_string(), "type": "default"},
    });
    if let Some(list) = ty.threat_list {
        service["evidence"] = json!({
            "threatIntelligenceDetails": [{"threatListName": list, "threatNames": []}]
        });
    }
    if let Some(feedback) = f.feedback() {
        service["userFeedback"] = feedback.into();
    }

    json!({
        "accountId": owner.account,
        "arn": format!("arn:aws:guardduty:{}:{}:detector/{}/finding/{id}", owner.region, owner.account, owner.detector_id),
        "createdAt": created,
        "description": fill(ty.description),
        "id": id,
        "partition": "aws",
        "region": owner.region,
        "resource": Value::Object(resource),
        "schemaVersion": "2.0",
        "service": service,
        "severity": f.severity(),
        "title": title,
        "type": ty.name,
        "updatedAt": updated,
    })
}

/// Epoch milliseconds as GuardDuty's ISO-8601 string dates.
pub fn iso_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| super::iso(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner<'static> {
        Owner {
            account: "200000000001",
            region: "eu-west-1",
            detector_id: "d0",
        }
    }

    #[test]
    fn every_type_renders_its_resource_and_action() {
        for (i, ty) in catalog::TYPES.iter().enumerate() {
            let f = StoredFinding::new(i as u16, ty.severity_tenths, 1_700_000_000_000, 42);
            let j = render(&f, "abc", &owner());
            assert_eq!(j["type"], ty.name);
            assert_eq!(j["resource"]["resourceType"], ty.resource.as_str());
            assert_eq!(
                j["service"]["action"]["actionType"],
                ty.action.action_type()
            );
            assert!(!j["title"].as_str().unwrap().contains('{'), "{}", ty.name);
            assert!(!j["description"].as_str().unwrap().contains('{'));
            if ty.resource == ResourceKind::Instance {
                assert!(j["resource"]["instanceDetails"]["iamInstanceProfile"]["arn"].is_string());
                assert_eq!(
                    j["resource"]["instanceDetails"]["instanceId"]
                        .as_str()
                        .unwrap(),
                    resource_id(&f, &owner()).1
                );
            }
        }
    }

    #[test]
    fn custom_strings_replace_generated_ones() {
        let idx = catalog::index_of("Backdoor:EC2/C&CActivity.B!DNS").unwrap();
        let mut f = StoredFinding::new(idx, 80, 0, 1);
        f.custom = Some(Box::new(super::super::findings_store::CustomStrings {
            domain: Some("<script>alert(1)</script>.evil.example".into()),
            user_agent: None,
            instance_name: Some("=cmd|' /C calc'!A0".into()),
        }));
        let j = render(&f, "x", &owner());
        assert_eq!(
            j["service"]["action"]["dnsRequestAction"]["domain"],
            "<script>alert(1)</script>.evil.example"
        );
        assert_eq!(
            j["resource"]["instanceDetails"]["tags"][0]["value"],
            "=cmd|' /C calc'!A0"
        );
        assert_eq!(domain_with_suffix("a.b.example.com"), "example.com");
    }
}
