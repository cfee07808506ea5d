//! The audit reads the organization from the administrator first: a converged organization is
//! audited with the administrator's credentials alone (no AssumeRole, GuardDuty calls in pages
//! of 50 accounts per region); members that suspended detectors, left regions, left the
//! administrator or were suspended are reported exactly; regions an account has not enabled
//! are learned with one ListRegions. And the sandbox operations this rests on, through the
//! SDKs: Account Management's ListRegions, GuardDuty's GetOrganizationStatistics and the
//! member statuses GuardDuty reports.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_account::types::RegionOptStatus;
use guardduty_org::audit::{self, Audit, DetectorStatus as D, Relationship as R};
use guardduty_org::aws::{AwsOptions, ClientFactory, Session};
use guardduty_org::control::{Silent, Stop};
use guardduty_org::sandbox::calls::CallRecord;
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::settings::{AccountSource, Desired, MemberAccount, Mode};

use crate::support::{self, assert_error, Env};

const E1: &str = "us-east-1";
const W1: &str = "eu-west-1";
const AF: &str = "af-south-1";
const MGMT: &str = "111111111111";

/// A gdorg session with `account`'s own user keys (no role of any other account).
async fn session_as(env: &Env, account: &str) -> Arc<Session> {
    let keys = env.sandbox.keys_of(account).unwrap();
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(E1))
        .endpoint_url(env.sandbox.endpoint())
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .credentials_provider(Credentials::new(
            keys.access_key_id,
            keys.secret_access_key,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    let factory = ClientFactory::from_config(
        base,
        AwsOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            max_attempts: 1,
            ..Default::default()
        },
    );
    Arc::new(Session::new(factory).await.unwrap())
}

async fn audit_as(env: &Env, caller: &str, desired: Desired, source: &AccountSource) -> Audit {
    let (a, interrupted) = audit::run(
        session_as(env, caller).await,
        desired,
        source,
        8,
        &Silent,
        &Stop::default(),
    )
    .await
    .expect("audit runs");
    assert!(!interrupted);
    a
}

fn calls(env: &Env) -> Vec<CallRecord> {
    env.sandbox.calls().snapshot()
}

fn count(calls: &[CallRecord], op: &str) -> usize {
    calls.iter().filter(|c| c.operation == op).count()
}

/// An organization of `members` generated accounts whose delegated GuardDuty administrator is
/// the first of them, in `regions`, with every other account (the management one included) an
/// Enabled member with S3 protection on: the state a finished organizations-mode rollout leaves.
fn converged(members: usize, regions: &[&str]) -> (OrgSpec, String) {
    let admin = OrgSpec::generated_id(1);
    let all: Vec<String> = std::iter::once(MGMT.to_string())
        .chain((1..=members).map(OrgSpec::generated_id))
        .collect();
    let others: Vec<&String> = all.iter().filter(|a| **a != admin).collect();
    let quoted = |list: &[&String]| {
        list.iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let everyone: Vec<&String> = all.iter().collect();
    let regions = regions
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(",");
    let text = format!(
        r#"
member_accounts = {members}
[guardduty]
admin = "{admin}"
regions = [{regions}]
auto_enable = "NEW"
[[detectors]]
accounts = [{}]
regions = [{regions}]
features = {{ S3_DATA_EVENTS = "ENABLED" }}
[[memberships]]
administrator = "{admin}"
members = [{}]
regions = [{regions}]
status = "Enabled"
"#,
        quoted(&everyone),
        quoted(&others),
    );
    (OrgSpec::parse(&text).unwrap(), admin)
}

#[tokio::test]
async fn a_converged_organization_is_audited_from_the_administrator_alone() {
    let regions = [E1, W1, "eu-central-1"];
    let members = 120;
    let (spec, admin) = converged(members, &regions);
    let env = Env::with_spec(spec).await;
    env.sandbox.calls().clear();
    let desired = Desired::new(
        Mode::Organizations,
        &admin,
        regions.iter().map(|r| r.to_string()).collect(),
    );
    let a = audit_as(&env, &admin, desired, &AccountSource::Organizations).await;
    let log = calls(&env);

    // Every account of the organization, covered, each member read from the administrator.
    assert_eq!(
        a.accounts.len(),
        members + 1,
        "the members and the management account"
    );
    assert_eq!(a.summary.gaps, 0, "{:?}", a.gaps().collect::<Vec<_>>());
    assert_eq!(a.summary.overall.counted, (members + 1) * regions.len());
    let member_cells = members * regions.len();
    assert_eq!(a.summary.from_administrator, member_cells);
    assert_eq!(a.summary.from_inside, 0);
    for c in a.cells.iter().filter(|c| c.account != admin) {
        assert!(c.from_administrator && c.covered, "{c:?}");
        assert_eq!(c.features.get("S3_DATA_EVENTS"), Some(&true), "{c:?}");
    }
    // The organization as the delegated administrator sees it, though it may not list the
    // delegated administrators (only the management account may).
    for r in &a.organization {
        assert_eq!(r.delegated_admins, vec![format!("{admin} (ENABLED)")]);
        assert_eq!(r.auto_enable.as_deref(), Some("NEW"));
        let s = r.statistics.as_ref().expect("statistics read");
        assert_eq!(s.total_accounts as usize, members + 1);
        assert_eq!(s.member_accounts as usize, members);
        assert_eq!(s.enabled_accounts as usize, members);
        assert_eq!(s.by_feature["S3_DATA_EVENTS"] as usize, members);
    }

    // No role in any member: every call is the administrator's own.
    assert_eq!(count(&log, "AssumeRole"), 0);
    assert!(
        log.iter().all(|c| c.account == admin),
        "a call as another account"
    );
    // GuardDuty calls, per region: ListOrganizationAdminAccounts (refused: only the management
    // account may ask), ListDetectors, GetDetector, DescribeOrganizationConfiguration (which
    // answers instead), GetOrganizationStatistics, and the member list and the members'
    // detectors in pages of 50, and the findings export (ListPublishingDestinations: none here).
    let pages = members.div_ceil(50);
    let guardduty: Vec<&CallRecord> = log.iter().filter(|c| c.service == "guardduty").collect();
    assert_eq!(
        guardduty.len(),
        regions.len() * (4 + 1 + 2 * pages + 1),
        "{guardduty:?}"
    );
    assert_eq!(count(&log, "ListMembers"), regions.len() * pages);
    assert_eq!(count(&log, "GetMemberDetectors"), regions.len() * pages);
    assert_eq!(count(&log, "ListDetectors"), regions.len());
    // The administrator's own regions, once.
    assert_eq!(count(&log, "ListRegions"), 1);
}

#[tokio::test]
async fn the_delegated_administrator_runs_gdorg_audit_with_its_own_keys() {
    let (spec, admin) = converged(10, &[E1, W1]);
    let env = Env::with_spec(spec).await;
    env.sandbox.calls().clear();
    let out = support::gdorg(
        &env,
        &admin,
        &[
            "audit",
            "--regions",
            "us-east-1,eu-west-1",
            "--format",
            "json",
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The mode is read from the administrator itself (only the management account may list
    // the delegated administrators).
    assert_eq!(a["mode"], "organizations");
    assert_eq!(a["administrator"], admin.as_str());
    assert_eq!(a["summary"]["gaps"], 0);
    assert_eq!(a["summary"]["from_administrator"], 20);
    assert_eq!(count(&calls(&env), "AssumeRole"), 0);
    // And the table says where the cells were read.
    let out = support::gdorg(&env, &admin, &["audit", "--regions", "us-east-1"])
        .output()
        .await
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("read from the administrator: 10 cell(s), no role assumed"),
        "{table}"
    );
    // With GuardDuty's own totals beside the organization's settings.
    assert!(
        table.contains("10 of 11 accounts enabled, 10 members"),
        "{table}"
    );
}

/// Members in every state GuardDuty reports, administrator the management account (invitation
/// mode), the accounts listed (a suspended account is audited, not skipped).
const STATUSES: &str = r#"
seed = 5
[management]
id = "111111111111"
opt_in_regions = ["af-south-1"]

[[accounts]]
id = "300000000001"
opt_in_regions = ["af-south-1"]
[[accounts]]
id = "300000000002"
[[accounts]]
id = "300000000003"
opted_out_regions = ["af-south-1"]
[[accounts]]
id = "300000000004"
suspended = true
[[accounts]]
id = "300000000005"
[[accounts]]
id = "300000000006"
[[accounts]]
id = "300000000007"
[[accounts]]
id = "300000000008"
[[accounts]]
id = "300000000009"
[[accounts]]
id = "300000000010"
[[accounts]]
id = "300000000011"

[[detectors]]
accounts = ["111111111111", "300000000001", "300000000003"]
regions = ["us-east-1", "af-south-1"]
features = { S3_DATA_EVENTS = "ENABLED" }
[[detectors]]
accounts = ["300000000004", "300000000005", "300000000006", "300000000007", "300000000008", "300000000009", "300000000010", "300000000011"]
regions = ["us-east-1"]
[[detectors]]
accounts = ["300000000002"]
regions = ["us-east-1"]
status = "DISABLED"

[[memberships]]
administrator = "111111111111"
members = ["300000000001", "300000000003"]
regions = ["us-east-1", "af-south-1"]
status = "Enabled"
[[memberships]]
administrator = "111111111111"
members = ["300000000002", "300000000004"]
regions = ["us-east-1"]
status = "Enabled"
[[memberships]]
administrator = "111111111111"
members = ["300000000005"]
regions = ["us-east-1"]
status = "Removed"
[[memberships]]
administrator = "111111111111"
members = ["300000000006"]
regions = ["us-east-1"]
status = "Resigned"
[[memberships]]
administrator = "111111111111"
members = ["300000000007"]
regions = ["us-east-1"]
status = "Invited"
[[memberships]]
administrator = "111111111111"
members = ["300000000008"]
regions = ["us-east-1"]
status = "Created"
[[memberships]]
administrator = "111111111111"
members = ["300000000009"]
regions = ["us-east-1"]
status = "EmailVerificationFailed"
[[memberships]]
administrator = "111111111111"
members = ["300000000010"]
regions = ["us-east-1"]
status = "Disabled"
"#;

#[tokio::test]
async fn members_that_suspended_left_or_were_suspended_are_reported_exactly() {
    let env = Env::with_spec(OrgSpec::parse(STATUSES).unwrap()).await;
    let listed: Vec<MemberAccount> = (1..=11)
        .map(|i| {
            let id = format!("3000000000{i:02}");
            MemberAccount {
                email: env.email(&id),
                id,
            }
        })
        .collect();
    env.sandbox.calls().clear();
    let mut desired = Desired::new(Mode::Invitation, MGMT, vec![E1.into(), AF.into()]);
    desired.members = listed.clone();
    let a = audit_as(&env, MGMT, desired, &AccountSource::Listed(listed)).await;
    let log = calls(&env);

    // The audit JSON, as a user reads it.
    let json: serde_json::Value = serde_json::from_str(&audit::render::json(&a)).unwrap();
    let cell = |account: &str, region: &str| -> serde_json::Value {
        json["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["account"] == account && c["region"] == region)
            .unwrap_or_else(|| panic!("no cell {account} {region}"))
            .clone()
    };
    // (account, region, detector, relationship, covered, read from the administrator)
    let expect = [
        ("300000000001", E1, "enabled", "Enabled", true, true),
        ("300000000001", AF, "enabled", "Enabled", true, true),
        // It suspended its own detector: GuardDuty says Disabled; read inside for the detail.
        ("300000000002", E1, "suspended", "Disabled", false, false),
        ("300000000003", E1, "enabled", "Enabled", true, true),
        // It disabled af-south-1 after joining: RegionDisabled, not counted, no role needed.
        (
            "300000000003",
            AF,
            "region_not_enabled",
            "RegionDisabled",
            false,
            true,
        ),
        // Suspended in Organizations: not counted, in every region.
        (
            "300000000004",
            E1,
            "account_suspended",
            "AccountSuspended",
            false,
            true,
        ),
        (
            "300000000004",
            AF,
            "account_suspended",
            "AccountSuspended",
            false,
            true,
        ),
        ("300000000005", E1, "enabled", "Removed", false, false),
        ("300000000006", E1, "enabled", "Resigned", false, false),
        ("300000000007", E1, "enabled", "Invited", false, false),
        ("300000000008", E1, "enabled", "Created", false, false),
        (
            "300000000009",
            E1,
            "enabled",
            "EmailVerificationFailed",
            false,
            false,
        ),
        // The administrator stopped monitoring it.
        ("300000000010", E1, "enabled", "Disabled", false, false),
        ("300000000011", E1, "enabled", "NotMember", false, false),
        // Never opted in to af-south-1: learned from ListRegions.
        (
            "300000000011",
            AF,
            "region_not_enabled",
            "Unknown",
            false,
            false,
        ),
    ];
    for (account, region, detector, relationship, covered, from_admin) in expect {
        let c = cell(account, region);
        assert_eq!(c["detector"], detector, "{c}");
        assert_eq!(c["relationship"], relationship, "{c}");
        assert_eq!(c["covered"], covered, "{c}");
        assert_eq!(
            c.get("from_administrator")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            from_admin,
            "{c}"
        );
    }
    let counted = |account: &str, region: &str| a.cell(account, region).unwrap().counts();
    assert!(!counted("300000000003", AF) && !counted("300000000004", E1));
    assert!(counted("300000000002", E1) && a.cell("300000000002", E1).unwrap().is_gap());
    assert_eq!(
        a.cell("300000000002", E1).unwrap().problem().as_deref(),
        Some("detector suspended")
    );
    assert_eq!(
        (a.summary.from_administrator, a.summary.gaps),
        (6, 8),
        "{:?}",
        a.gaps()
            .map(|c| (&c.account, &c.region))
            .collect::<Vec<_>>()
    );

    // No call as the suspended account, nor in af-south-1 as the accounts that have not it on.
    let suspended = "300000000004";
    assert!(log.iter().all(|c| c.account != suspended), "{log:?}");
    for account in ["300000000003", "300000000011"] {
        let gd_af: Vec<_> = log
            .iter()
            .filter(|c| c.account == account && c.region == AF && c.service == "guardduty")
            .collect();
        assert!(gd_af.is_empty(), "{account}: {gd_af:?}");
    }
    // One ListRegions per account read from inside (and the administrator's own).
    let listed_regions: BTreeSet<&str> = log
        .iter()
        .filter(|c| c.operation == "ListRegions")
        .map(|c| c.account.as_str())
        .collect();
    assert_eq!(count(&log, "ListRegions"), listed_regions.len(), "{log:?}");
    assert!(listed_regions.contains("300000000011") && listed_regions.contains(MGMT));
    // Accounts answered by the administrator in every region are not entered at all.
    assert!(!listed_regions.contains("300000000001") && !listed_regions.contains("300000000003"));
    let assumed: BTreeSet<&str> = log
        .iter()
        .filter(|c| c.operation == "AssumeRole")
        .map(|c| c.account.as_str())
        .collect();
    assert_eq!(
        assumed,
        BTreeSet::from([MGMT]),
        "AssumeRole is called by the caller"
    );
    assert_eq!(
        count(&log, "AssumeRole"),
        8,
        "2, 5-11: the accounts the administrator cannot answer"
    );
}

#[tokio::test]
async fn an_audit_learns_disabled_opt_in_regions_with_one_list_regions_per_account() {
    let env = Env::new(2).await;
    let member = OrgSpec::generated_id(1);
    env.sandbox.calls().clear();
    // Two opt-in regions none of them has enabled, and one enabled everywhere.
    let regions = vec![E1.to_string(), AF.to_string(), "ap-east-1".to_string()];
    let desired = Desired::new(Mode::Invitation, MGMT, regions);
    let a = audit_as(&env, MGMT, desired, &AccountSource::Organizations).await;
    let log = calls(&env);
    for account in [MGMT, member.as_str()] {
        let list: Vec<_> = log
            .iter()
            .filter(|c| c.operation == "ListRegions" && c.account == account)
            .collect();
        assert_eq!(list.len(), 1, "{account}: {list:?}");
        let gd: Vec<_> = log
            .iter()
            .filter(|c| c.service == "guardduty" && c.account == account && c.region != E1)
            .collect();
        assert!(gd.is_empty(), "{account}: {gd:?}");
        for r in [AF, "ap-east-1"] {
            assert_eq!(a.cell(account, r).unwrap().detector, D::RegionNotEnabled);
        }
    }
    assert_eq!(a.cell(&member, E1).unwrap().relationship, R::NotMember);
}

#[tokio::test]
async fn an_audit_without_list_regions_learns_region_by_region() {
    // The member role may not list its regions: the audit falls back, with the same result.
    let mut spec = OrgSpec::generated(1);
    spec.iam.enforce_policies = true;
    let env = Env::with_spec(spec).await;
    let member = OrgSpec::generated_id(1);
    env.sandbox.world(|w| {
        let role = w
            .accounts
            .get_mut(&member)
            .unwrap()
            .iam
            .roles
            .get_mut("OrganizationAccountAccessRole")
            .unwrap();
        role.attached = BTreeSet::from(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()]);
    });
    env.sandbox.calls().clear();
    let desired = Desired::new(Mode::Invitation, MGMT, vec![E1.into(), AF.into()]);
    let a = audit_as(&env, MGMT, desired, &AccountSource::Organizations).await;
    let log = calls(&env);
    let refused: Vec<_> = log
        .iter()
        .filter(|c| c.operation == "ListRegions" && c.account == member)
        .map(|c| c.status)
        .collect();
    assert_eq!(refused, vec![403]);
    assert_eq!(a.cell(&member, AF).unwrap().detector, D::RegionNotEnabled);
    assert_eq!(a.cell(&member, E1).unwrap().detector, D::Missing);
    // Learned by trying: GuardDuty in af-south-1 does not know the member's credentials (a
    // refusal at authentication, which the call log records without account or region).
    assert!(log
        .iter()
        .any(|c| c.service == "guardduty" && c.status == 403 && c.account.is_empty()));
}

/// The detector the org file gave the client's account in its region.
async fn detector_of(gd: &aws_sdk_guardduty::Client) -> String {
    let out = gd.list_detectors().send().await.unwrap();
    out.detector_ids()[0].clone()
}

// ---- the sandbox, through the SDKs -----------------------------------------------------------

const REGIONS: &str = r#"
service_access = ["account.amazonaws.com"]
[[accounts]]
id = "300000000001"
opt_in_regions = ["af-south-1"]
opted_out_regions = ["ap-east-1"]
disabling_regions = ["me-south-1"]
enabling_regions = ["il-central-1"]
[[accounts]]
id = "300000000002"
[[accounts]]
id = "300000000003"
[iam.user_policies]
300000000003 = ["ReadOnlyAccess"]
"#;

fn account_client(config: &aws_config::SdkConfig) -> aws_sdk_account::Client {
    aws_sdk_account::Client::new(config)
}

async fn all_regions(
    client: &aws_sdk_account::Client,
    member: Option<&str>,
) -> Vec<(String, RegionOptStatus)> {
    let mut pages = client
        .list_regions()
        .set_account_id(member.map(String::from))
        .max_results(7)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        for r in page.unwrap().regions() {
            out.push((
                r.region_name().unwrap().to_string(),
                r.region_opt_status().unwrap().clone(),
            ));
        }
    }
    out
}

#[tokio::test]
async fn list_regions_reports_each_accounts_opt_in_state() {
    let env = Env::with_spec(OrgSpec::parse(REGIONS).unwrap()).await;
    let member = "300000000001";
    let own = account_client(&env.user(member).await);
    let regions = all_regions(&own, None).await;
    // Pages of 7 neither skip nor repeat: every region the sandbox serves, once, sorted.
    let names: Vec<&str> = regions.iter().map(|(n, _)| n.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), guardduty_org::sandbox::regions::REGIONS.len());
    let status = |r: &str| regions.iter().find(|(n, _)| n == r).unwrap().1.clone();
    assert_eq!(status(E1), RegionOptStatus::EnabledByDefault);
    assert_eq!(status(AF), RegionOptStatus::Enabled);
    assert_eq!(status("ap-east-1"), RegionOptStatus::Disabled);
    assert_eq!(status("me-south-1"), RegionOptStatus::Disabling);
    assert_eq!(status("il-central-1"), RegionOptStatus::Enabling);
    assert_eq!(status("eu-south-1"), RegionOptStatus::Disabled);

    // The filter keeps the statuses named.
    let out = own
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::Enabling)
        .send()
        .await
        .unwrap();
    let got: Vec<&str> = out
        .regions()
        .iter()
        .map(|r| r.region_name().unwrap())
        .collect();
    assert_eq!(got, [AF, "il-central-1"]);
    assert!(out.next_token().is_none());

    // The management account names a member (trusted access for account.amazonaws.com is on).
    let mgmt = account_client(&env.mgmt);
    assert_eq!(all_regions(&mgmt, Some(member)).await, regions);
    // ... but not itself, and not an account outside the organization.
    let e = mgmt
        .list_regions()
        .account_id(MGMT)
        .send()
        .await
        .unwrap_err();
    assert_error(
        e.as_service_error().unwrap(),
        "ValidationException",
        "cannot name itself",
    );
    let e = mgmt
        .list_regions()
        .account_id("999999999999")
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_access_denied_exception(),
        "{e:?}"
    );
    // A member may not name another account.
    let other = account_client(&env.user("300000000002").await);
    let e = other
        .list_regions()
        .account_id(member)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error().unwrap().is_access_denied_exception(),
        "{e:?}"
    );
    // Out-of-range page sizes are refused as the model bounds them (1..=50).
    for bad in [0, 51] {
        let e = own
            .list_regions()
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        assert!(
            e.as_service_error().unwrap().is_validation_exception(),
            "{bad}: {e:?}"
        );
    }
    // Without account:ListRegions in its policies, a user is refused.
    let ro = account_client(&env.user("300000000003").await);
    let e = ro.list_regions().send().await.unwrap_err();
    assert_error(
        e.as_service_error().unwrap(),
        "AccessDeniedException",
        "account:ListRegions",
    );
}

#[tokio::test]
async fn list_regions_for_members_needs_trusted_access() {
    let env = Env::new(1).await;
    let mgmt = account_client(&env.mgmt);
    let e = mgmt
        .list_regions()
        .account_id(OrgSpec::generated_id(1))
        .send()
        .await
        .unwrap_err();
    assert_error(
        e.as_service_error().unwrap(),
        "AccessDeniedException",
        "Trusted access",
    );
    // Its own regions need no AccountId and no trusted access.
    assert!(!all_regions(&mgmt, None).await.is_empty());
}

#[tokio::test]
async fn organization_statistics_answer_the_delegated_administrator_only() {
    let (spec, admin) = converged(4, &[E1]);
    let env = Env::with_spec(spec).await;
    // One member suspends its detector: still a member, no longer enabled.
    let quiet = OrgSpec::generated_id(2);
    let gd = env.gd(&quiet, E1).await;
    let det = detector_of(&gd).await;
    gd.update_detector()
        .detector_id(&det)
        .enable(false)
        .send()
        .await
        .unwrap();

    let out = env
        .gd(&admin, E1)
        .await
        .get_organization_statistics()
        .send()
        .await
        .unwrap();
    let details = out.organization_details().unwrap();
    assert!(details.updated_at().is_some());
    let s = details.organization_statistics().unwrap();
    assert_eq!(
        s.total_accounts_count(),
        Some(5),
        "4 generated + management"
    );
    assert_eq!(s.member_accounts_count(), Some(4));
    assert_eq!(s.active_accounts_count(), Some(4));
    assert_eq!(s.enabled_accounts_count(), Some(3));
    let s3 = s
        .count_by_feature()
        .iter()
        .find(|f| f.name().map(|n| n.as_str()) == Some("S3_DATA_EVENTS"))
        .unwrap();
    assert_eq!(s3.enabled_accounts_count(), Some(3));
    let rt = s
        .count_by_feature()
        .iter()
        .find(|f| f.name().map(|n| n.as_str()) == Some("RUNTIME_MONITORING"))
        .unwrap();
    assert_eq!(rt.additional_configuration().len(), 3);

    // The management account and a member are refused, as GuardDuty refuses them.
    for who in [MGMT.to_string(), quiet.clone()] {
        let e = env
            .gd(&who, E1)
            .await
            .get_organization_statistics()
            .send()
            .await
            .unwrap_err();
        support::assert_bad_request(
            e.as_service_error().unwrap(),
            "Organization master permission",
        );
    }
    // Not delegated in eu-west-1.
    let e = env
        .gd(&admin, W1)
        .await
        .get_organization_statistics()
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_bad_request_exception());
}

#[tokio::test]
async fn the_administrator_sees_members_disable_their_detector_leave_a_region_or_be_suspended() {
    let (spec, admin) = converged(3, &[E1]);
    let env = Env::with_spec(spec).await;
    let gd = env.gd(&admin, E1).await;
    let det = detector_of(&gd).await;
    let status = |gd: aws_sdk_guardduty::Client, det: String, account: String| async move {
        let out = gd
            .get_members()
            .detector_id(det)
            .account_ids(account)
            .send()
            .await
            .unwrap();
        out.members()[0].relationship_status().unwrap().to_string()
    };
    let member = OrgSpec::generated_id(2);
    assert_eq!(
        status(gd.clone(), det.clone(), member.clone()).await,
        "Enabled"
    );
    // The member suspends its own detector, then turns it back on.
    let own = env.gd(&member, E1).await;
    let own_det = detector_of(&own).await;
    own.update_detector()
        .detector_id(&own_det)
        .enable(false)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status(gd.clone(), det.clone(), member.clone()).await,
        "Disabled"
    );
    own.update_detector()
        .detector_id(&own_det)
        .enable(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status(gd.clone(), det.clone(), member.clone()).await,
        "Enabled"
    );
    // Its account is suspended in Organizations.
    env.sandbox.world(|w| {
        w.accounts.get_mut(&member).unwrap().status =
            guardduty_org::sandbox::state::AccountStatus::Suspended
    });
    assert_eq!(
        status(gd.clone(), det.clone(), member.clone()).await,
        "AccountSuspended"
    );
    // Another member stops using the region (the default region lever of the sandbox).
    let other = OrgSpec::generated_id(3);
    env.sandbox.world(|w| {
        w.accounts
            .get_mut(&other)
            .unwrap()
            .disabled
            .insert(E1.into());
    });
    let listed = gd
        .list_members()
        .detector_id(&det)
        .only_associated("true")
        .send()
        .await
        .unwrap();
    let of = |a: &str| {
        listed
            .members()
            .iter()
            .find(|m| m.account_id() == Some(a))
            .and_then(|m| m.relationship_status())
            .map(String::from)
    };
    assert_eq!(of(&other).as_deref(), Some("RegionDisabled"));
    assert_eq!(of(MGMT).as_deref(), Some("Enabled"));
}
