//! GuardDuty publishing destinations (findings export) in the sandbox, through
//! aws-sdk-guardduty over HTTP: the model's shapes, validation errors, paging, idempotency,
//! ownership, and destinations seeded by the org file (one that cannot publish).

use aws_sdk_guardduty::types::{DestinationProperties, DestinationType, PublishingStatus};
use guardduty_org::sandbox::org_file::OrgSpec;

use crate::support::{self, assert_bad_request, detector, Env};

const REGION: &str = "us-east-1";
const BUCKET: &str = "arn:aws:s3:::org-findings/guardduty/";
const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn props(bucket: &str, key: &str) -> DestinationProperties {
    DestinationProperties::builder()
        .destination_arn(bucket)
        .kms_key_arn(key)
        .build()
}

async fn create(gd: &aws_sdk_guardduty::Client, det: &str, bucket: &str) -> String {
    gd.create_publishing_destination()
        .detector_id(det)
        .destination_type(DestinationType::S3)
        .destination_properties(props(bucket, KEY))
        .send()
        .await
        .unwrap()
        .destination_id()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn destinations_are_created_listed_described_updated_and_deleted() {
    let env = Env::new(0).await;
    let det = detector(&env, &env.management, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);

    let out = gd
        .create_publishing_destination()
        .detector_id(&det)
        .destination_type(DestinationType::S3)
        .destination_properties(props(BUCKET, KEY))
        .tags("team", "secops")
        .send()
        .await
        .unwrap();
    let id = out.destination_id().unwrap().to_string();
    assert_eq!(id.len(), 32, "{id}");

    let listed = gd
        .list_publishing_destinations()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.destinations().len(), 1);
    let d = &listed.destinations()[0];
    assert_eq!(d.destination_id(), Some(id.as_str()));
    assert_eq!(d.destination_type(), Some(&DestinationType::S3));
    assert_eq!(d.status(), Some(&PublishingStatus::Publishing));
    assert_eq!(listed.next_token(), None);

    let got = gd
        .describe_publishing_destination()
        .detector_id(&det)
        .destination_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.destination_id(), Some(id.as_str()));
    assert_eq!(got.status(), Some(&PublishingStatus::Publishing));
    // Required by the model even while nothing fails: 0.
    assert_eq!(got.publishing_failure_start_timestamp(), Some(0));
    let p = got.destination_properties().unwrap();
    assert_eq!(
        (p.destination_arn(), p.kms_key_arn()),
        (Some(BUCKET), Some(KEY))
    );
    assert_eq!(
        got.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("secops")
    );

    let other_key = "arn:aws:kms:eu-west-1:111111111111:key/other";
    gd.update_publishing_destination()
        .detector_id(&det)
        .destination_id(&id)
        .destination_properties(
            DestinationProperties::builder()
                .kms_key_arn(other_key)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let got = gd
        .describe_publishing_destination()
        .detector_id(&det)
        .destination_id(&id)
        .send()
        .await
        .unwrap();
    let p = got.destination_properties().unwrap();
    // Only the member given changes.
    assert_eq!(
        (p.destination_arn(), p.kms_key_arn()),
        (Some(BUCKET), Some(other_key))
    );

    gd.delete_publishing_destination()
        .detector_id(&det)
        .destination_id(&id)
        .send()
        .await
        .unwrap();
    let listed = gd
        .list_publishing_destinations()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    assert!(listed.destinations().is_empty());
    let err = gd
        .describe_publishing_destination()
        .detector_id(&det)
        .destination_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, &format!("destinationId {id} does not exist"));
}

#[tokio::test]
async fn bad_types_arns_and_unknown_destinations_are_refused() {
    let env = Env::new(0).await;
    let det = detector(&env, &env.management, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);
    let attempt = |t: DestinationType, bucket: &str, key: Option<&str>| {
        let mut p = DestinationProperties::builder().destination_arn(bucket);
        if let Some(k) = key {
            p = p.kms_key_arn(k);
        }
        gd.create_publishing_destination()
            .detector_id(&det)
            .destination_type(t)
            .destination_properties(p.build())
            .send()
    };
    let err = attempt(DestinationType::from("SQS"), BUCKET, Some(KEY))
        .await
        .unwrap_err();
    assert_bad_request(&err, "destinationType");
    for bucket in [
        "s3://org-findings",
        "arn:aws:s3:::Org_Findings",
        "arn:aws:s3:::",
    ] {
        let err = attempt(DestinationType::S3, bucket, Some(KEY))
            .await
            .unwrap_err();
        assert_bad_request(&err, "destinationProperties.destinationArn");
    }
    for key in [
        Some("arn:aws:kms:us-east-1:111111111111:alias/findings"),
        Some("1234abcd"),
        None,
    ] {
        let err = attempt(DestinationType::S3, BUCKET, key).await.unwrap_err();
        assert_bad_request(&err, "destinationProperties.kmsKeyArn");
    }
    // Nothing was created by the refusals.
    let listed = gd
        .list_publishing_destinations()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    assert!(listed.destinations().is_empty());

    let id = create(&gd, &det, BUCKET).await;
    let err = gd
        .update_publishing_destination()
        .detector_id(&det)
        .destination_id(&id)
        .destination_properties(props("arn:aws:s3:::ok-bucket", "not-a-key"))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "destinationProperties.kmsKeyArn");
    let unknown = "0123456789abcdef0123456789abcdef";
    let err = gd
        .update_publishing_destination()
        .detector_id(&det)
        .destination_id(unknown)
        .destination_properties(props(BUCKET, KEY))
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "does not exist");
    let err = gd
        .delete_publishing_destination()
        .detector_id(&det)
        .destination_id(unknown)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "does not exist");
}

#[tokio::test]
async fn lists_page_within_1_to_50_and_client_tokens_make_creation_idempotent() {
    let env = Env::new(0).await;
    let det = detector(&env, &env.management, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(create(&gd, &det, &format!("arn:aws:s3:::bucket-{i}")).await);
    }
    ids.sort();
    let pages: Vec<_> = gd
        .list_publishing_destinations()
        .detector_id(&det)
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            p.destinations()
                .iter()
                .map(|d| d.destination_id().unwrap().to_string())
        })
        .collect();
    assert_eq!(listed, ids);
    for bad in [0, 51] {
        let err = gd
            .list_publishing_destinations()
            .detector_id(&det)
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        assert_bad_request(&err, "maxResults");
    }
    let err = gd
        .list_publishing_destinations()
        .detector_id(&det)
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "nextToken");

    // The same client token gives the same destination back, not a second one.
    let with_token = || {
        gd.create_publishing_destination()
            .detector_id(&det)
            .destination_type(DestinationType::S3)
            .destination_properties(props(BUCKET, KEY))
            .client_token("retry-1")
            .send()
    };
    let first = with_token()
        .await
        .unwrap()
        .destination_id()
        .unwrap()
        .to_string();
    let again = with_token()
        .await
        .unwrap()
        .destination_id()
        .unwrap()
        .to_string();
    assert_eq!(first, again);
    let n = gd
        .list_publishing_destinations()
        .detector_id(&det)
        .send()
        .await
        .unwrap()
        .destinations()
        .len();
    assert_eq!(n, 4);
}

#[tokio::test]
async fn only_the_owner_reaches_them_and_they_go_with_the_detector() {
    let env = Env::new(1).await;
    let member = env.members()[0].clone();
    let det = detector(&env, &env.management, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);
    let id = create(&gd, &det, BUCKET).await;

    // Another account naming the management account's detector is refused.
    detector(&env, &member, REGION, true).await;
    let theirs = env.gd(&member, REGION).await;
    let err = theirs
        .list_publishing_destinations()
        .detector_id(&det)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "not owned by the current account");
    let err = theirs
        .describe_publishing_destination()
        .detector_id(&det)
        .destination_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "not owned by the current account");
    // The same detector id in another region is not the caller's either.
    let elsewhere = support::gd(&env.mgmt, "eu-west-1");
    let err = elsewhere
        .list_publishing_destinations()
        .detector_id(&det)
        .send()
        .await
        .unwrap_err();
    assert_bad_request(&err, "not owned by the current account");

    gd.delete_detector().detector_id(&det).send().await.unwrap();
    let fresh = support::new_detector(&gd).await;
    let listed = gd
        .list_publishing_destinations()
        .detector_id(&fresh)
        .send()
        .await
        .unwrap();
    assert!(listed.destinations().is_empty());
}

#[tokio::test]
async fn the_org_file_seeds_destinations_including_one_that_cannot_publish() {
    let mut spec = OrgSpec::parse(&format!(
        r#"
        [[detectors]]
        accounts = ["{m}"]
        regions = ["us-east-1", "eu-west-1"]

        [[destinations]]
        accounts = ["{m}"]
        regions = ["eu-west-1"]
        bucket_arn = "{BUCKET}"
        kms_key_arn = "{KEY}"
        status = "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"

        [[destinations]]
        accounts = ["{m}"]
        regions = ["us-east-1"]
        bucket_arn = "{BUCKET}"
        kms_key_arn = "{KEY}"
        "#,
        m = OrgSpec::default().management.id
    ))
    .unwrap();
    spec.member_accounts = 0;
    let env = Env::with_spec(spec).await;
    let seen = |region: &'static str| {
        let env = &env;
        async move {
            let gd = support::gd(&env.mgmt, region);
            let det = gd.list_detectors().send().await.unwrap().detector_ids()[0].clone();
            let listed = gd
                .list_publishing_destinations()
                .detector_id(&det)
                .send()
                .await
                .unwrap();
            let id = listed.destinations()[0]
                .destination_id()
                .unwrap()
                .to_string();
            gd.describe_publishing_destination()
                .detector_id(&det)
                .destination_id(id)
                .send()
                .await
                .unwrap()
        }
    };
    let stuck = seen("eu-west-1").await;
    assert_eq!(
        stuck.status(),
        Some(&PublishingStatus::UnableToPublishFixDestinationProperty)
    );
    let failing_for =
        chrono::Utc::now().timestamp_millis() - stuck.publishing_failure_start_timestamp().unwrap();
    assert!((0..2 * 86_400_000).contains(&failing_for), "{failing_for}");
    let fine = seen("us-east-1").await;
    assert_eq!(fine.status(), Some(&PublishingStatus::Publishing));
    assert_eq!(fine.publishing_failure_start_timestamp(), Some(0));

    // A destination without a detector, or with a bad ARN or status, is refused by name.
    for (extra, needle) in [
        (
            format!("[[destinations]]\naccounts = [\"{}\"]\nregions = [\"ap-south-1\"]\nbucket_arn = \"{BUCKET}\"\nkms_key_arn = \"{KEY}\"", env.management),
            "has no detector in ap-south-1",
        ),
        (
            format!("[[destinations]]\naccounts = [\"{}\"]\nbucket_arn = \"s3://x\"\nkms_key_arn = \"{KEY}\"", env.management),
            "bucket_arn",
        ),
        (
            format!("[[destinations]]\naccounts = [\"{}\"]\nbucket_arn = \"{BUCKET}\"\nkms_key_arn = \"{KEY}\"\nstatus = \"BROKEN\"", env.management),
            "status \"BROKEN\"",
        ),
    ] {
        let spec = OrgSpec::parse(&extra).unwrap();
        let err = guardduty_org::sandbox::org_file::build_world(&spec).unwrap_err();
        assert!(err.contains(needle), "{err}");
    }
}

/// Describe, Update and Delete authorise on the destination's ARN, Create and List on the
/// detector's (the Service Authorization Reference's resource types): a policy naming one
/// destination reaches that one only.
#[tokio::test]
async fn identity_policies_scope_to_the_detector_and_the_destination() {
    let env = Env::new(0).await;
    let mgmt = env.management.clone();
    let det = detector(&env, &mgmt, REGION, true).await;
    let gd = support::gd(&env.mgmt, REGION);
    let mine = create(&gd, &det, BUCKET).await;
    let other = create(&gd, &det, "arn:aws:s3:::other-bucket").await;
    let base = format!("arn:aws:guardduty:{REGION}:{mgmt}:detector/{det}");
    let iam = aws_sdk_iam::Client::new(&env.user(&mgmt).await);
    iam.create_user()
        .user_name("exporter")
        .send()
        .await
        .unwrap();
    let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "guardduty:ListPublishingDestinations", "Resource": base},
        {"Effect": "Allow",
         "Action": ["guardduty:DescribePublishingDestination", "guardduty:UpdatePublishingDestination"],
         "Resource": format!("{base}/publishingDestination/{mine}")}]});
    iam.put_user_policy()
        .user_name("exporter")
        .policy_name("only")
        .policy_document(doc.to_string())
        .send()
        .await
        .unwrap();
    let k = iam
        .create_access_key()
        .user_name("exporter")
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    let keys = guardduty_org::sandbox::Keys {
        access_key_id: k.access_key_id().into(),
        secret_access_key: k.secret_access_key().into(),
    };
    let cfg = support::config(&env.sandbox, &keys, None, REGION).await;
    let scoped = support::gd(&cfg, REGION);

    let listed = scoped
        .list_publishing_destinations()
        .detector_id(&det)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.destinations().len(), 2);
    scoped
        .describe_publishing_destination()
        .detector_id(&det)
        .destination_id(&mine)
        .send()
        .await
        .unwrap();
    let e = scoped
        .describe_publishing_destination()
        .detector_id(&det)
        .destination_id(&other)
        .send()
        .await
        .unwrap_err();
    support::assert_error(
        &e,
        "AccessDeniedException",
        &format!(
            "guardduty:DescribePublishingDestination on resource: {base}/publishingDestination/{other}"
        ),
    );
    let e = scoped
        .create_publishing_destination()
        .detector_id(&det)
        .destination_type(DestinationType::S3)
        .destination_properties(props(BUCKET, KEY))
        .send()
        .await
        .unwrap_err();
    support::assert_error(
        &e,
        "AccessDeniedException",
        &format!("guardduty:CreatePublishingDestination on resource: {base}"),
    );
    let e = scoped
        .delete_publishing_destination()
        .detector_id(&det)
        .destination_id(&mine)
        .send()
        .await
        .unwrap_err();
    support::assert_error(&e, "AccessDeniedException", "DeletePublishingDestination");
}
