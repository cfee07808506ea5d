//! One finding as gdorg carries it: the fields the filters, the aggregates and the report use,
//! lifted out of the SDK's deep `Finding` shape. Every string here may come from an attacker
//! (domains, user agents, organisation names): renderers must escape them.

use aws_sdk_guardduty::types::{Finding, RemoteIpDetails};
use serde::{Deserialize, Serialize};

use super::severity::Band;

/// The remote party of a finding's action, when GuardDuty names one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// "City, Country" as far as known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The network's organisation (org, else ASN org, else ISP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

impl Actor {
    pub fn is_empty(&self) -> bool {
        self == &Actor::default()
    }

    /// One-line summary: `ip:port domain (location; organisation)`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        match (&self.ip, self.port) {
            (Some(ip), Some(p)) => parts.push(format!("{ip}:{p}")),
            (Some(ip), None) => parts.push(ip.clone()),
            (None, Some(p)) => parts.push(format!("port {p}")),
            (None, None) => {}
        }
        if let Some(d) = &self.domain {
            parts.push(d.clone());
        }
        let extra: Vec<&str> = [&self.location, &self.organization]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !extra.is_empty() {
            parts.push(format!("({})", extra.join("; ")));
        }
        parts.join(" ")
    }
}

/// A finding, flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub id: String,
    pub account_id: String,
    pub region: String,
    #[serde(rename = "type")]
    pub finding_type: String,
    pub severity: f64,
    pub title: String,
    pub archived: bool,
    pub count: i64,
    pub created_at: String,
    pub updated_at: String,
    /// `updated_at` in epoch milliseconds (0 when unparseable), for time filters.
    #[serde(skip)]
    pub updated_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    pub resource_type: String,
    /// The affected resource's identifier (instance id, access key, bucket ...).
    pub resource_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    #[serde(skip_serializing_if = "Actor::is_empty", default)]
    pub actor: Actor,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub threat_lists: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
}

impl FindingRecord {
    pub fn band(&self) -> Option<Band> {
        Band::of(self.severity)
    }

    /// Flatten an SDK finding. `region` is where it was read, used when the finding omits it.
    pub fn from_sdk(f: &Finding, region: &str) -> FindingRecord {
        let service = f.service();
        let action = service.and_then(|s| s.action());
        let resource = f.resource();
        let updated_at = f.updated_at().unwrap_or_default().to_string();
        let mut threat_lists: Vec<String> = service
            .and_then(|s| s.evidence())
            .map(|e| {
                e.threat_intelligence_details()
                    .iter()
                    .filter_map(|t| t.threat_list_name().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        threat_lists.sort();
        threat_lists.dedup();
        FindingRecord {
            id: f.id().unwrap_or_default().to_string(),
            account_id: f.account_id().unwrap_or_default().to_string(),
            region: f.region().unwrap_or(region).to_string(),
            finding_type: f.r#type().unwrap_or_default().to_string(),
            severity: f.severity().unwrap_or(0.0),
            title: f.title().unwrap_or_default().to_string(),
            archived: service.and_then(|s| s.archived()).unwrap_or(false),
            count: service.and_then(|s| s.count()).unwrap_or(1) as i64,
            created_at: f.created_at().unwrap_or_default().to_string(),
            updated_ms: epoch_ms(&updated_at).unwrap_or(0),
            updated_at,
            first_seen: service
                .and_then(|s| s.event_first_seen())
                .map(str::to_string),
            last_seen: service
                .and_then(|s| s.event_last_seen())
                .map(str::to_string),
            resource_type: resource
                .and_then(|r| r.resource_type())
                .unwrap_or_default()
                .to_string(),
            resource_id: resource.map(resource_id).unwrap_or_default(),
            action_type: action.and_then(|a| a.action_type()).map(str::to_string),
            actor: action.map(actor).unwrap_or_default(),
            threat_lists,
            feedback: service.and_then(|s| s.user_feedback()).map(str::to_string),
        }
    }
}

/// Parse an ISO-8601 time into epoch milliseconds.
pub fn epoch_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn resource_id(r: &aws_sdk_guardduty::types::Resource) -> String {
    if let Some(inst) = r.instance_details() {
        if let Some(id) = inst.instance_id() {
            // The Name tag helps a reader find the instance; it is set by whoever can tag it.
            let name = inst
                .tags()
                .iter()
                .find(|t| t.key() == Some("Name"))
                .and_then(|t| t.value());
            return match name {
                Some(n) => format!("{id} ({n})"),
                None => id.to_string(),
            };
        }
    }
    if let Some(k) = r.access_key_details() {
        let parts: Vec<&str> = [k.user_name(), k.access_key_id()]
            .into_iter()
            .flatten()
            .collect();
        if !parts.is_empty() {
            return parts.join(" / ");
        }
    }
    let buckets: Vec<&str> = r
        .s3_bucket_details()
        .iter()
        .filter_map(|b| b.name())
        .collect();
    if !buckets.is_empty() {
        return buckets.join(", ");
    }
    if let Some(c) = r.eks_cluster_details().and_then(|c| c.name()) {
        return c.to_string();
    }
    if let Some(l) = r.lambda_details().and_then(|l| l.function_name()) {
        return l.to_string();
    }
    String::new()
}

fn actor(a: &aws_sdk_guardduty::types::Action) -> Actor {
    let mut out = Actor::default();
    let mut remote: Option<&RemoteIpDetails> = None;
    if let Some(api) = a.aws_api_call_action() {
        remote = api.remote_ip_details();
        out.domain = api
            .domain_details()
            .and_then(|d| d.domain())
            .map(str::to_string);
        out.user_agent = api.user_agent().map(str::to_string);
    }
    if let Some(dns) = a.dns_request_action() {
        out.domain = dns.domain().map(str::to_string);
    }
    if let Some(net) = a.network_connection_action() {
        remote = net.remote_ip_details().or(remote);
        out.port = net.remote_port_details().and_then(|p| p.port());
    }
    if let Some(probe) = a.port_probe_action() {
        if let Some(d) = probe.port_probe_details().first() {
            remote = d.remote_ip_details().or(remote);
            out.port = d.local_port_details().and_then(|p| p.port());
        }
    }
    if let Some(ip) = remote {
        out.ip = ip
            .ip_address_v4()
            .or(ip.ip_address_v6())
            .map(str::to_string);
        let loc: Vec<&str> = [
            ip.city().and_then(|c| c.city_name()),
            ip.country().and_then(|c| c.country_name()),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
        if !loc.is_empty() {
            out.location = Some(loc.join(", "));
        }
        out.organization = ip
            .organization()
            .and_then(|o| o.org().or(o.asn_org()).or(o.isp()))
            .map(str::to_string);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A record for unit tests of filters and renderers.
    pub fn record(id: &str, account: &str, region: &str, ty: &str, sev: f64) -> FindingRecord {
        FindingRecord {
            id: id.into(),
            account_id: account.into(),
            region: region.into(),
            finding_type: ty.into(),
            severity: sev,
            title: format!("{ty} in {account}"),
            archived: false,
            count: 1,
            created_at: "2026-11-20T10:00:00.000Z".into(),
            updated_at: "2026-11-21T10:00:00.000Z".into(),
            updated_ms: epoch_ms("2026-11-21T10:00:00.000Z").unwrap(),
            first_seen: Some("2026-11-20T10:00:00.000Z".into()),
            last_seen: Some("2026-11-21T10:00:00.000Z".into()),
            resource_type: "Instance".into(),
            resource_id: "i-0123456789abcdef0".into(),
            action_type: Some("NETWORK_CONNECTION".into()),
            actor: Actor {
                ip: Some("198.51.100.7".into()),
                port: Some(22),
                ..Actor::default()
            },
            threat_lists: vec![],
            feedback: None,
        }
    }

    #[test]
    fn flattens_an_sdk_finding() {
        use aws_sdk_guardduty::types::*;
        let f = Finding::builder()
            .id("f1")
            .account_id("111111111111")
            .region("eu-west-1")
            .r#type("Backdoor:EC2/C&CActivity.B!DNS")
            .severity(8.0)
            .updated_at("2026-11-21T10:00:00.000Z")
            .resource(
                Resource::builder()
                    .resource_type("Instance")
                    .instance_details(InstanceDetails::builder().instance_id("i-1").build())
                    .build(),
            )
            .service(
                Service::builder()
                    .archived(true)
                    .count(3)
                    .action(
                        Action::builder()
                            .action_type("DNS_REQUEST")
                            .dns_request_action(
                                DnsRequestAction::builder().domain("evil.example").build(),
                            )
                            .build(),
                    )
                    .evidence(
                        Evidence::builder()
                            .threat_intelligence_details(
                                ThreatIntelligenceDetail::builder()
                                    .threat_list_name("ProofPoint")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build();
        let r = FindingRecord::from_sdk(&f, "us-east-1");
        assert_eq!(r.region, "eu-west-1");
        assert!(r.archived);
        assert_eq!(r.count, 3);
        assert_eq!(r.resource_id, "i-1");
        assert_eq!(r.actor.domain.as_deref(), Some("evil.example"));
        assert_eq!(r.threat_lists, vec!["ProofPoint".to_string()]);
        assert_eq!(r.band(), Some(Band::High));
        assert!(r.updated_ms > 0);
    }
}
