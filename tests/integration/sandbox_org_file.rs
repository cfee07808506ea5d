//! The org file: what it seeds is what the APIs (and, for GuardDuty, the world) show; bad
//! files are refused naming the problem.

use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::sandbox::{Sandbox, SandboxError};

use crate::support::{code, Env};

const GD: &str = "guardduty.amazonaws.com";

fn example() -> OrgSpec {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/org.toml")).unwrap();
    OrgSpec::parse(&text).unwrap()
}

#[tokio::test]
async fn the_example_org_file_is_served_as_described() {
    let env = Env::with_spec(example()).await;
    assert_eq!(env.management, "111111111111");

    // Accounts, as Organizations lists them.
    let accounts: Vec<_> = aws_sdk_organizations::Client::new(&env.mgmt)
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .flat_map(|p| p.accounts().to_vec())
        .collect();
    let row = |id: &str| {
        accounts
            .iter()
            .find(|a| a.id() == Some(id))
            .unwrap()
            .clone()
    };
    assert_eq!(accounts.len(), 1 + 3 + 4);
    assert_eq!(row("222222222222").name(), Some("security"));
    assert_eq!(
        row("222222222222").email(),
        Some("aws+security@example.com")
    );
    assert_eq!(row("444444444444").status().unwrap().as_str(), "SUSPENDED");
    assert_eq!(
        row("333333333333").joined_method().unwrap().as_str(),
        "INVITED"
    );
    assert_eq!(row("200000000004").name(), Some("member-0004"));

    // Trusted access and delegated administrators (GuardDuty's registered by [guardduty]).
    let org = aws_sdk_organizations::Client::new(&env.mgmt);
    let access = org
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    assert_eq!(access.enabled_service_principals().len(), 2);
    let gd_admins = org
        .list_delegated_administrators()
        .service_principal(GD)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = gd_admins
        .delegated_administrators()
        .iter()
        .map(|d| d.id().unwrap())
        .collect();
    assert_eq!(ids, ["222222222222"]);

    // The execution role exists where it should, and AssumeRole honours it.
    let sts = aws_sdk_sts::Client::new(&env.mgmt);
    for (account, ok) in [
        ("222222222222", true),
        ("200000000001", true),
        ("333333333333", false),
        ("444444444444", false),
    ] {
        let r = sts
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
            ))
            .role_session_name("seed")
            .send()
            .await;
        match (ok, r) {
            (true, r) => {
                r.unwrap();
            }
            (false, r) => assert_eq!(code(&r.unwrap_err()), "AccessDenied", "{account}"),
        }
    }

    // Regions: opt-in enabled for one account, a default region disabled for it.
    let security = env.user("222222222222").await;
    let sts_in = |region: &'static str| {
        let conf = aws_sdk_sts::config::Builder::from(&security)
            .region(aws_config::Region::new(region))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    };
    sts_in("af-south-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    // A region the account has not enabled does not know its credentials.
    let err = sts_in("sa-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
    let err = sts_in("eu-south-2")
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
    let member = env.user("200000000001").await;
    let conf = aws_sdk_sts::config::Builder::from(&member)
        .region(aws_config::Region::new("eu-south-1"))
        .build();
    aws_sdk_sts::Client::from_conf(conf)
        .get_caller_identity()
        .send()
        .await
        .unwrap();

    // GuardDuty state through the GuardDuty API ...
    let gd = |cfg: &aws_config::SdkConfig, region: &str| crate::support::gd(cfg, region);
    let member1 = env.user("200000000001").await;
    let c = gd(&member1, "us-east-1");
    let det = c.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let admin = c
        .get_administrator_account()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    let admin = admin.administrator().unwrap();
    assert_eq!(admin.account_id(), Some("222222222222"));
    assert_eq!(admin.relationship_status(), Some("Enabled"));
    let member2 = env.user("200000000002").await;
    let invitations = gd(&member2, "eu-west-1")
        .list_invitations()
        .send()
        .await
        .unwrap();
    let from: Vec<_> = invitations
        .invitations()
        .iter()
        .map(|i| i.account_id().unwrap())
        .collect();
    assert_eq!(from, ["222222222222"]);
    let c = gd(&security, "eu-west-1");
    let det = c.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    let members = c
        .list_members()
        .detector_id(&det)
        .only_associated("false")
        .send()
        .await
        .unwrap();
    let mut rel: Vec<_> = members
        .members()
        .iter()
        .map(|m| (m.account_id().unwrap(), m.relationship_status().unwrap()))
        .collect();
    rel.sort();
    assert_eq!(
        rel,
        [("200000000001", "Enabled"), ("200000000002", "Invited")]
    );
    let suspended = gd(&env.user("200000000003").await, "us-east-1");
    let det = suspended
        .list_detectors()
        .send()
        .await
        .unwrap()
        .detector_ids()[0]
        .clone();
    let d = suspended
        .get_detector()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status().unwrap().as_str(), "DISABLED");
    let admins = gd(&env.mgmt, "eu-west-1")
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap();
    assert_eq!(
        admins.admin_accounts()[0].admin_account_id(),
        Some("222222222222")
    );

    // ... and in the representation the GuardDuty handlers share.
    env.sandbox.world(|w| {
        for region in ["us-east-1", "eu-west-1"] {
            let org = &w.guardduty_org[region];
            assert_eq!(org.admin.as_deref(), Some("222222222222"));
            assert_eq!(org.config.auto_enable_members, "NEW");
        }
        assert!(!w.guardduty_org.contains_key("us-west-2"));

        let d = w.detector("200000000001", "eu-west-1").unwrap();
        assert!(d.enabled);
        assert_eq!(d.id.len(), 32);
        assert_eq!(d.finding_publishing_frequency, "SIX_HOURS");
        assert_eq!(d.features["S3_DATA_EVENTS"].status, "ENABLED");
        assert_eq!(d.features["CLOUD_TRAIL"].status, "ENABLED");
        assert_eq!(d.features["RDS_LOGIN_EVENTS"].status, "DISABLED");
        assert!(w.detector("200000000001", "us-west-2").is_none());
        assert!(!w.detector("200000000003", "us-east-1").unwrap().enabled);

        // Enabled member of the organization's administrator, in both regions.
        for region in ["us-east-1", "eu-west-1"] {
            let m = &w.cell("222222222222", region).unwrap().members["200000000001"];
            assert_eq!(m.relationship, "Enabled");
            assert_eq!(m.email, "aws+member-0001@example.com");
            assert_eq!(
                w.administrator_of("200000000001", region),
                Some("222222222222")
            );
        }
        // Invited: a pending invitation in eu-west-1 only.
        let admin_cell = w.cell("222222222222", "eu-west-1").unwrap();
        assert_eq!(admin_cell.members["200000000002"].relationship, "Invited");
        let member_cell = w.cell("200000000002", "eu-west-1").unwrap();
        assert!(member_cell.invitations.contains_key("222222222222"));
        assert!(member_cell.administrator.is_none());
        // Enabled member of another administrator in us-east-1.
        assert_eq!(
            w.administrator_of("200000000002", "us-east-1"),
            Some("200000000004")
        );
        assert!(!w
            .cell("222222222222", "us-east-1")
            .unwrap()
            .members
            .contains_key("200000000002"));
        assert!(w
            .visible_accounts("200000000004", "us-east-1")
            .contains(&"200000000002".to_string()));
    });
}

#[tokio::test]
async fn relationships_other_than_enabled_and_invited_stay_with_the_administrator() {
    let spec = OrgSpec::parse(
        r#"
        member_accounts = 5
        [[detectors]]
        accounts = ["200000000001"]
        regions = ["eu-central-1"]
        [[memberships]]
        administrator = "200000000001"
        members = ["200000000002"]
        regions = ["eu-central-1"]
        status = "Created"
        [[memberships]]
        administrator = "200000000001"
        members = ["200000000003"]
        regions = ["eu-central-1"]
        status = "Removed"
        [[memberships]]
        administrator = "200000000001"
        members = ["200000000004"]
        regions = ["eu-central-1"]
        status = "Resigned"
        [[memberships]]
        administrator = "200000000001"
        members = ["200000000005"]
        regions = ["eu-central-1"]
        status = "EmailVerificationFailed"
        "#,
    )
    .unwrap();
    let env = Env::with_spec(spec).await;
    env.sandbox.world(|w| {
        let admin = w.cell("200000000001", "eu-central-1").unwrap();
        let statuses: Vec<_> = admin
            .members
            .values()
            .map(|m| (m.account_id.as_str(), m.relationship.as_str()))
            .collect();
        assert_eq!(
            statuses,
            [
                ("200000000002", "Created"),
                ("200000000003", "Removed"),
                ("200000000004", "Resigned"),
                ("200000000005", "EmailVerificationFailed"),
            ]
        );
        assert!(admin.members["200000000002"].invited_at.is_none());
        for m in [
            "200000000002",
            "200000000003",
            "200000000004",
            "200000000005",
        ] {
            let cell = w.cell(m, "eu-central-1");
            assert!(cell.is_none_or(|c| c.administrator.is_none() && c.invitations.is_empty()));
        }
        assert_eq!(
            w.visible_accounts("200000000001", "eu-central-1"),
            ["200000000001"]
        );
    });
}

#[tokio::test]
async fn a_bad_org_file_is_refused_naming_the_problem() {
    for (text, expect) in [
        ("member_accounts = 2\nregion = \"us-east-1\"", "unknown field `region`"),
        ("[[accounts]]\nid = \"1234\"", "\"1234\" is not 12 digits"),
        (
            "[[accounts]]\nid = \"300000000001\"\n[[accounts]]\nid = \"300000000001\"",
            "listed twice",
        ),
        (
            "[[accounts]]\nid = \"300000000001\"\ndisabled_regions = [\"us-east-9\"]",
            "unknown region \"us-east-9\"",
        ),
        (
            "member_accounts = 1\n[guardduty]\nadmin = \"200000000001\"\nauto_enable = \"SOME\"",
            "auto_enable \"SOME\"",
        ),
        (
            "member_accounts = 1\n[[delegated_administrators]]\naccount = \"200000000001\"\nservice_principal = \"guardduty.amazonaws.com\"",
            "add it to service_access",
        ),
        ("[faults]\nservices = [\"ec2\"]", "unknown service \"ec2\""),
    ] {
        let e = match OrgSpec::parse(text) {
            Err(e) => e,
            Ok(spec) => match Sandbox::start(&spec, 0).await {
                Err(SandboxError::Spec(e)) => e,
                Err(other) => panic!("{text}: {other}"),
                Ok(_) => panic!("{text}: accepted"),
            },
        };
        assert!(e.contains(expect), "{text}\n=> {e}");
    }
}
