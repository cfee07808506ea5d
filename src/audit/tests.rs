//! Unit and snapshot tests of the audit model, fixes, drift and renderers, on a hand-made
//! observation (fixed time, so the snapshots are stable).

use std::collections::BTreeMap;

use super::drift;
use super::model::{build, Audit, DetectorStatus as D, Relationship as R};
use super::render::{self, Format};
use super::FailOn;
use crate::aws::AwsError;
use crate::observe::{
    AdminLink, AdminSide, DetectorState, MemberRecord, MemberSide, Observation, PendingInvitation,
    RegionObservation, Seen,
};
use crate::outcome::Outcome;
use crate::settings::{Desired, MemberAccount, Mode};

const ADMIN: &str = "111111111111";
const A: &str = "200000000001";
const B: &str = "200000000002";
const C: &str = "200000000003";

fn det(enabled: bool) -> DetectorState {
    DetectorState {
        id: "d".into(),
        enabled,
        frequency: Some("SIX_HOURS".into()),
        features: [
            ("S3_DATA_EVENTS".to_string(), true),
            ("EKS_AUDIT_LOGS".to_string(), false),
        ]
        .into(),
    }
}

fn record(status: impl Into<String>) -> MemberRecord {
    MemberRecord {
        status: status.into(),
        email: String::new(),
        features: None,
    }
}

fn desired() -> Desired {
    let mut d = Desired::new(
        Mode::Invitation,
        ADMIN,
        vec!["us-east-1".into(), "eu-west-1".into(), "af-south-1".into()],
    );
    d.members = [A, B, C]
        .iter()
        .map(|id| MemberAccount {
            id: id.to_string(),
            email: format!("aws+{id}@example.com"),
        })
        .collect();
    d
}

fn member(detector: Option<DetectorState>, admin: Option<(&str, &str)>) -> Seen<MemberSide> {
    Seen::Read(MemberSide {
        detector: detector.map(Box::new),
        administrator: admin.map(|(a, s)| {
            Box::new(AdminLink {
                account: a.into(),
                status: s.into(),
            })
        }),
        invitations: vec![],
        administers_members: false,
    })
}

/// us-east-1: A covered, B suspended, C no access (with a hostile message).
/// eu-west-1: A invited (pending invitation only), B other administrator, C missing.
/// af-south-1: the administrator has not enabled it; A has, no detector; B, C have not.
fn observation() -> Observation {
    let admin = |members: &[(&str, &str)]| {
        Seen::Read(AdminSide {
            detector: Some(det(true)),
            members: members
                .iter()
                .map(|(a, s)| (a.to_string(), record(s.to_string())))
                .collect(),
            ..AdminSide::default()
        })
    };
    let mut regions = BTreeMap::new();
    regions.insert(
        "us-east-1".to_string(),
        RegionObservation {
            admin: admin(&[(A, "Enabled"), (B, "Enabled")]),
            members: [
                (
                    A.to_string(),
                    member(Some(det(true)), Some((ADMIN, "Enabled"))),
                ),
                (
                    B.to_string(),
                    member(Some(det(false)), Some((ADMIN, "Enabled"))),
                ),
                (
                    C.to_string(),
                    Seen::Failed(AwsError {
                        operation: "ListDetectors",
                        code: "AccessDeniedException".into(),
                        message: "<script>alert(1)</script>, \"=cmd|' /C calc'!A0\"".into(),
                    }),
                ),
            ]
            .into(),
        },
    );
    let mut invited = MemberSide {
        detector: Some(Box::new(det(true))),
        ..MemberSide::default()
    };
    invited.invitations.push(PendingInvitation {
        from: ADMIN.into(),
        id: "i".into(),
    });
    regions.insert(
        "eu-west-1".to_string(),
        RegionObservation {
            admin: admin(&[]),
            members: [
                (A.to_string(), Seen::Read(invited)),
                (
                    B.to_string(),
                    member(Some(det(true)), Some(("999999999999", "Enabled"))),
                ),
                (C.to_string(), member(None, None)),
            ]
            .into(),
        },
    );
    regions.insert(
        "af-south-1".to_string(),
        RegionObservation {
            admin: Seen::RegionDisabled,
            members: [
                (A.to_string(), member(None, None)),
                (B.to_string(), Seen::RegionDisabled),
                (C.to_string(), Seen::RegionDisabled),
            ]
            .into(),
        },
    );
    Observation { regions }
}

fn audit() -> Audit {
    build(
        &desired(),
        observation(),
        vec![],
        "2026-01-01T00:00:00Z".into(),
    )
}

#[test]
fn cells_coverage_and_fixes() {
    let a = audit();
    let st = |acct: &str, r: &str| {
        let c = a.cell(acct, r).unwrap();
        (c.detector, c.relationship)
    };
    assert_eq!(st(ADMIN, "us-east-1"), (D::Enabled, R::Administrator));
    assert_eq!(st(ADMIN, "af-south-1"), (D::RegionNotEnabled, R::Unknown));
    assert_eq!(st(A, "us-east-1"), (D::Enabled, R::Enabled));
    assert_eq!(st(A, "eu-west-1"), (D::Enabled, R::Invited));
    assert_eq!(st(A, "af-south-1"), (D::Missing, R::NotMember));
    assert_eq!(st(B, "us-east-1"), (D::Suspended, R::Enabled));
    assert_eq!(st(B, "eu-west-1"), (D::Enabled, R::OtherAdministrator));
    assert_eq!(st(C, "us-east-1"), (D::NoAccess, R::Unknown));
    assert_eq!(st(C, "eu-west-1"), (D::Missing, R::NotMember));
    // Counted: 12 cells - 3 region-not-enabled = 9; covered: admin x2 + A us-east-1.
    assert_eq!(a.summary.overall.counted, 9);
    assert_eq!(a.summary.overall.covered, 3);
    assert_eq!(a.summary.gaps, 6);
    assert_eq!(a.summary.per_region["af-south-1"].counted, 1);
    assert_eq!(a.outcome(FailOn::Gaps, false), Outcome::Findings);
    assert_eq!(a.outcome(FailOn::Never, true), Outcome::Partial);
    assert_eq!(a.outcome(FailOn::Drift, false), Outcome::Success);
    let cmds: Vec<&str> = a.fixes.iter().map(|f| f.command.as_str()).collect();
    assert_eq!(cmds.len(), 4, "{cmds:?}");
    assert!(cmds
        .iter()
        .any(|c| c.contains(B) && c.ends_with("--take-over")));
    assert!(cmds
        .iter()
        .any(|c| c.starts_with("grant access") && c.contains(C)));
    // Sorted, whatever the order of the observation.
    let keys: Vec<_> = a.cells.iter().map(|c| (&c.account, &c.region)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn drift_lost_gained_added_removed() {
    let before = audit();
    let mut obs = observation();
    // A loses us-east-1 (detector suspended); C gains eu-west-1; us-east-1 of B disappears
    // from the audit (region dropped for B is not possible: drop the whole region instead).
    let r = obs.regions.get_mut("us-east-1").unwrap();
    r.members
        .insert(A.into(), member(Some(det(false)), Some((ADMIN, "Enabled"))));
    let r = obs.regions.get_mut("eu-west-1").unwrap();
    r.members
        .insert(C.into(), member(Some(det(true)), Some((ADMIN, "Enabled"))));
    if let Seen::Read(side) = &mut r.admin {
        side.members.insert(C.into(), record("Enabled"));
    }
    let mut d = desired();
    d.regions = vec!["us-east-1".into(), "eu-west-1".into(), "us-west-2".into()];
    let now = build(&d, obs, vec![], "2026-01-02T00:00:00Z".into());
    let drift = drift::compare(&before, &now);
    let ids = |l: &[drift::Change]| {
        l.iter()
            .map(|c| format!("{} {}", c.account, c.region))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&drift.lost), vec![format!("{A} us-east-1")]);
    assert_eq!(ids(&drift.gained), vec![format!("{C} eu-west-1")]);
    assert_eq!(drift.added.len(), 4); // us-west-2, not observed: no access (not read)
    assert_eq!(drift.removed.len(), 4); // af-south-1
    assert!(drift.regressed());
}

#[test]
fn short_region_names() {
    assert_eq!(render::short_region("us-east-1"), "use1");
    assert_eq!(render::short_region("ap-southeast-2"), "apse2");
    assert_eq!(render::short_region("eu-central-1"), "euc1");
    assert_eq!(render::short_region("ap-northeast-3"), "apne3");
    assert_eq!(render::short_region("weird"), "weird");
}

#[test]
fn html_and_markdown_escape_csv_defuses() {
    let a = audit();
    let html = render::render(&a, Format::Html);
    assert!(!html.contains("<script>"), "raw script in HTML");
    assert!(html.contains("&lt;script&gt;"));
    let md = render::render(&a, Format::Markdown);
    assert!(!md.contains("<script>"));
    let csv = render::render(&a, Format::Csv);
    // The reason field is quoted (it holds a comma and quotes) and starts safely.
    let line = csv.lines().find(|l| l.contains("no access")).unwrap();
    assert!(
        line.contains("\"ListDetectors AccessDeniedException: <script>"),
        "{line}"
    );
    let mut hostile = a.clone();
    hostile.cells[0].detector = D::NoAccess;
    hostile.cells[0].reason = Some("x\u{1b}[2Jy".into());
    hostile.summary.gaps = 1;
    assert!(!render::table(&hostile).contains('\u{1b}'));
    let json: serde_json::Value = serde_json::from_str(&render::render(&a, Format::Json)).unwrap();
    assert_eq!(json["schema_version"], super::SCHEMA_VERSION);
}

#[test]
fn snapshot_table() {
    insta::assert_snapshot!(render::render(&audit(), Format::Table));
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!(render::render(&audit(), Format::Json));
}

#[test]
fn snapshot_csv() {
    insta::assert_snapshot!(render::render(&audit(), Format::Csv));
}

#[test]
fn snapshot_markdown() {
    insta::assert_snapshot!(render::render(&audit(), Format::Markdown));
}

#[test]
fn snapshot_html() {
    insta::assert_snapshot!(render::render(&audit(), Format::Html));
}

#[test]
fn snapshot_drift_table() {
    let before = audit();
    let mut now = audit();
    now.generated_at = "2026-01-02T00:00:00Z".into();
    now.cells.retain(|c| c.region != "af-south-1");
    now.drift = Some(drift::compare(&before, &now));
    insta::assert_snapshot!(render::render(&now, Format::Table));
}

#[test]
fn a_wide_matrix_of_few_accounts_is_transposed() {
    let regions: Vec<String> = crate::regions::all().map(String::from).collect();
    let mut d = desired();
    d.regions = regions.clone();
    let a = build(&d, Observation::default(), vec![], "t".into());
    let table = render::table(&a);
    let lines: Vec<&str> = table.lines().collect();
    // One row per region, one column per account.
    let head = lines
        .iter()
        .find(|l| l.starts_with("region "))
        .expect(&table);
    assert!(head.contains(ADMIN) && head.contains(C), "{head}");
    assert!(lines.iter().any(|l| l.starts_with("use1 ")), "{table}");
    assert!(head.chars().count() <= 120, "{head}");
    // Many accounts stay one row per account.
    let mut many = desired();
    many.members = (0..40)
        .map(|i| MemberAccount {
            id: format!("2000000001{i:02}"),
            email: String::new(),
        })
        .collect();
    many.regions = regions;
    let a = build(&many, Observation::default(), vec![], "t".into());
    assert!(render::table(&a).lines().any(|l| l.starts_with("account ")));
}

#[test]
fn html_says_not_counted_where_the_administrator_never_enabled_the_region() {
    let html = render::render(&audit(), Format::Html);
    // af-south-1: the administrator's region is not enabled; A's gap there is real, but a
    // percentage would mislead.
    let row = html
        .lines()
        .find(|l| l.starts_with("<tr><td>af-south-1</td>"))
        .expect("a per-region row");
    assert!(row.contains("not counted"), "{row}");
    assert!(!row.contains("0.0%"), "{row}");
    assert!(row.contains("enable it there first"), "{row}");
    assert!(html.contains("title=\"af-south-1: not counted\">n/c</th>"));
    // The gaps are grouped as the terminal groups them, and the fixes follow.
    let a = audit();
    let groups = render::gap_groups(&a);
    let gaps = &html[html.find("<table class=\"gaps\">").unwrap()..];
    let gaps = &gaps[..gaps.find("</table>").unwrap()];
    assert_eq!(gaps.matches("<tr><td>").count(), groups.len());
    assert!(html.contains("<h2>To fix</h2>"));
    // Sticky headers, no script, no network.
    assert!(html.contains("position:sticky"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[test]
fn html_matrix_of_50_accounts_by_32_regions_stays_compact() {
    let regions: Vec<String> = crate::regions::all().take(32).map(String::from).collect();
    assert_eq!(regions.len(), 32);
    let mut d = desired();
    d.members = (0..49)
        .map(|i| MemberAccount {
            id: format!("2000000001{i:02}"),
            email: String::new(),
        })
        .collect();
    d.regions = regions;
    let a = build(&d, Observation::default(), vec![], "t".into());
    let html = render::html(&a);
    let matrix = &html[html.find("<table class=\"matrix\">").unwrap()..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    // 50 accounts, the header and the coverage footer.
    assert_eq!(matrix.matches("<tr><th class=\"acct\">").count(), 50 + 2);
    assert_eq!(matrix.matches("<td class=\"c ").count(), 50 * 32);
    // Short region names in the header keep 32 columns narrow; the full name is the title.
    assert!(matrix.contains("<th title=\"us-east-1\">use1</th>"));
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
}

#[test]
fn export_is_a_gap_only_when_expected_and_its_fix_depends_on_the_cause() {
    use crate::observe::DestinationState;
    use crate::settings::ExportTarget;
    let bucket = "arn:aws:s3:::findings";
    let key = "arn:aws:kms:us-east-1:111111111111:key/k";
    let mut o = observation();
    let set = |o: &mut Observation, region: &str, found: Vec<DestinationState>| {
        if let Seen::Read(a) = &mut o.regions.get_mut(region).unwrap().admin {
            a.destinations = Some(Ok(found));
        }
    };
    set(&mut o, "us-east-1", vec![]);
    set(
        &mut o,
        "eu-west-1",
        vec![DestinationState {
            id: "x".into(),
            destination_type: "S3".into(),
            status: "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY".into(),
            bucket_arn: bucket.into(),
            kms_key_arn: key.into(),
            failing_since_ms: Some(1_767_225_600_000),
        }],
    );
    // Not asked: reported, no gap.
    let a = build(&desired(), o.clone(), vec![], "t".into());
    assert_eq!(a.export.len(), 2);
    assert_eq!(a.summary.export_gaps, 0);
    assert!(a.export.iter().all(|e| e.problem.is_some() && !e.gap));
    // Asked: both regions are gaps; the missing one gets a rollout, the stuck one policies.
    let mut d = desired();
    d.export = Some(ExportTarget {
        bucket_arn: bucket.into(),
        kms_key_arn: key.into(),
    });
    let a = build(&d, o, vec![], "t".into());
    assert_eq!(a.summary.export_gaps, 2);
    assert_eq!(
        a.outcome(super::FailOn::Gaps, false),
        crate::outcome::Outcome::Findings
    );
    let eu = a.export.iter().find(|e| e.region == "eu-west-1").unwrap();
    assert_eq!(eu.status, "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY");
    assert_eq!(eu.failing_since.as_deref(), Some("2026-01-01T00:00:00Z"));
    let export_fix = a.fixes.iter().find(|f| f.kind == "export").unwrap();
    assert_eq!(export_fix.regions, vec!["us-east-1"]);
    assert!(export_fix.command.ends_with(&format!(
        "--regions us-east-1 --export-bucket {bucket} --export-kms-key {key}"
    )));
    let policy_fix = a.fixes.iter().find(|f| f.kind == "export_policy").unwrap();
    assert_eq!(policy_fix.regions, vec!["eu-west-1"]);
    // Every renderer shows the section.
    for f in [Format::Table, Format::Markdown, Format::Html] {
        // Markdown escapes the underscores.
        let out = render::render(&a, f).replace('\\', "");
        assert!(
            out.contains("UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"),
            "{f:?}"
        );
    }
    let csv = render::render(&a, Format::Csv);
    let admin_eu = csv
        .lines()
        .find(|l| l.starts_with(&format!("{ADMIN},eu-west-1,")))
        .unwrap();
    assert!(
        admin_eu.starts_with(&format!(
            "{ADMIN},eu-west-1,true,enabled,administrator,,SIX_HOURS,S3_DATA_EVENTS,,"
        )) && admin_eu.contains(",UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY,"),
        "{admin_eu}"
    );
    let json: serde_json::Value = serde_json::from_str(&render::render(&a, Format::Json)).unwrap();
    assert_eq!(json["summary"]["export_gaps"], 2);
    assert_eq!(json["export"][1]["status"], "none");
    // Drift: a region that published and no longer does is lost.
    let mut before = a.clone();
    before.export[0].status = "PUBLISHING".into();
    before.export[0].problem = None;
    let d = super::drift::compare(&before, &a);
    assert_eq!(d.lost.len(), 1);
    assert_eq!(d.lost[0].region, "eu-west-1");
    assert_eq!(
        d.lost[0].after,
        "findings export UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"
    );
}

/// Cells the administrator's records answer, with no read from inside the account: an
/// Enabled member whose features it read, a member in a region it disabled, a suspended
/// account (in every region, though reported in one); a record that does not answer is not
/// taken for the cell.
#[test]
fn cells_from_the_administrator_alone() {
    let mut enabled = record("Enabled");
    enabled.features = Some([("S3_DATA_EVENTS".to_string(), true)].into());
    assert!(enabled.answers());
    assert!(record("RegionDisabled").answers() && record("AccountSuspended").answers());
    for other in [
        "Enabled", "Disabled", "Invited", "Removed", "Resigned", "Created",
    ] {
        assert!(!record(other).answers(), "{other}");
    }
    let side = Seen::Read(AdminSide {
        detector: Some(det(true)),
        members: [
            (A.to_string(), enabled),
            (B.to_string(), record("RegionDisabled")),
            (C.to_string(), record("AccountSuspended")),
        ]
        .into(),
        ..AdminSide::default()
    });
    let mut regions = BTreeMap::new();
    regions.insert(
        "us-east-1".to_string(),
        RegionObservation {
            admin: side,
            members: BTreeMap::new(),
        },
    );
    regions.insert(
        "eu-west-1".to_string(),
        RegionObservation {
            admin: Seen::Read(AdminSide {
                detector: Some(det(true)),
                ..AdminSide::default()
            }),
            members: [(A.to_string(), member(None, None))].into(),
        },
    );
    let mut d = desired();
    d.regions = vec!["us-east-1".into(), "eu-west-1".into()];
    let a = build(&d, Observation { regions }, vec![], "t".into());
    let cell = |acct: &str, r: &str| a.cell(acct, r).unwrap().clone();
    let ca = cell(A, "us-east-1");
    assert_eq!((ca.detector, ca.relationship), (D::Enabled, R::Enabled));
    assert!(ca.covered && ca.from_administrator && ca.features["S3_DATA_EVENTS"]);
    let cb = cell(B, "us-east-1");
    assert_eq!(
        (cb.detector, cb.relationship),
        (D::RegionNotEnabled, R::RegionDisabled)
    );
    assert!(!cb.counts() && cb.from_administrator);
    for r in ["us-east-1", "eu-west-1"] {
        let cc = cell(C, r);
        assert_eq!(
            (cc.detector, cc.relationship),
            (D::AccountSuspended, R::AccountSuspended)
        );
        assert!(!cc.counts() && !cc.is_gap(), "{cc:?}");
    }
    // Read from inside: a member without a detector, not a member.
    let inside = cell(A, "eu-west-1");
    assert_eq!(
        (inside.detector, inside.relationship),
        (D::Missing, R::NotMember)
    );
    assert_eq!(inside.source(), "account");
    // B in eu-west-1 was not read at all (a stop, say): no record answers for it.
    assert_eq!(cell(B, "eu-west-1").detector, D::NoAccess);
    assert_eq!(
        (a.summary.from_administrator, a.summary.from_inside),
        (4, 1)
    );
}
