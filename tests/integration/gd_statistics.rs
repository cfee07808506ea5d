//! GuardDuty GetFindingsStatistics as the API defines it: no nextToken input and no usable
//! nextToken output ("currently not supported"), groups in orderBy order cut at maxResults
//! (default 25, at most 100), so a client sees the 100-group limit rather than a page loop.

use aws_sdk_guardduty::types::{GroupByType, OrderBy};
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, assert_bad_request, Env};

const REGION: &str = "us-east-1";
const MANAGEMENT: &str = "111111111111";
const MEMBERS: usize = 120;

/// The management account administers 120 members in us-east-1; every member has one
/// finding there and the management account six, so grouping by account gives 121 groups.
async fn many_accounts() -> Env {
    let members: Vec<String> = (1..=MEMBERS)
        .map(|i| format!("\"{}\"", OrgSpec::generated_id(i)))
        .collect();
    let members = members.join(", ");
    let spec = OrgSpec::parse(&format!(
        r#"
        member_accounts = {MEMBERS}
        [[detectors]]
        accounts = ["{MANAGEMENT}", {members}]
        regions = ["{REGION}"]
        [[memberships]]
        administrator = "{MANAGEMENT}"
        members = [{members}]
        regions = ["{REGION}"]
        status = "Enabled"
        [[findings]]
        accounts = "all"
        regions = ["{REGION}"]
        per_cell = 1
        types = ["Recon:EC2/Portscan"]
        [[findings]]
        accounts = ["{MANAGEMENT}"]
        regions = ["{REGION}"]
        per_cell = 5
        types = ["Recon:EC2/Portscan"]
        "#
    ))
    .expect("org file parses");
    Env::with_spec(spec).await
}

#[tokio::test]
async fn statistics_stop_at_max_results_and_offer_no_next_page() {
    let env = many_accounts().await;
    let gd = support::gd(&env.mgmt, REGION);
    let det = env
        .sandbox
        .world(|w| w.detector(MANAGEMENT, REGION).unwrap().id.clone());
    let by_account = |order: OrderBy, max: Option<i32>| {
        gd.get_findings_statistics()
            .detector_id(&det)
            .group_by(GroupByType::Account)
            .order_by(order)
            .set_max_results(max)
    };
    let groups = |out: &aws_sdk_guardduty::operation::get_findings_statistics::GetFindingsStatisticsOutput| {
        out.finding_statistics()
            .unwrap()
            .grouped_by_account()
            .iter()
            .map(|g| {
                (
                    g.account_id().unwrap().to_string(),
                    g.total_findings().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };

    // The default is 25 groups, and no token.
    let out = by_account(OrderBy::Desc, None).send().await.unwrap();
    assert_eq!(groups(&out).len(), 25);
    assert_eq!(out.next_token(), None);

    // At most 100 of the 121 groups, largest first; asking again gives the same answer, still
    // without a token: a client that loops on nextToken stops.
    let first = by_account(OrderBy::Desc, Some(100)).send().await.unwrap();
    let top = groups(&first);
    assert_eq!(top.len(), 100);
    assert_eq!(top[0], (MANAGEMENT.to_string(), 6));
    assert_eq!(top.iter().map(|(_, n)| n).sum::<i32>(), 6 + 99);
    assert_eq!(first.next_token(), None);
    let again = by_account(OrderBy::Desc, Some(100)).send().await.unwrap();
    assert_eq!((groups(&again), again.next_token()), (top, None));

    // Ascending, the management account's group is past the cut.
    let low = by_account(OrderBy::Asc, Some(100)).send().await.unwrap();
    let low = groups(&low);
    assert_eq!(low.len(), 100);
    assert!(
        low.iter().all(|(a, n)| a != MANAGEMENT && *n == 1),
        "{low:?}"
    );

    // 100 is the model's maximum.
    let err = by_account(OrderBy::Desc, Some(101))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "maxResults");
}
