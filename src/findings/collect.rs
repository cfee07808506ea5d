//! Collection: for every (account, region) target, ListFindings with the server-side criteria,
//! GetFindings in batches of 50 (the API's maximum), the exact filter applied, and each finding
//! handed to one sink. Targets are read concurrently; findings pass through a bounded channel,
//! so memory stays flat whatever the number of findings. Failures of one target are recorded
//! and the others go on.

use std::sync::Arc;

use aws_config::SdkConfig;
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use super::criteria;
use super::filter::Filter;
use super::record::FindingRecord;
use crate::aws::admin::Here;
use crate::aws::{AwsError, ClientFactory, Session};
use crate::control::{Reporter, Stop};

/// GetFindings takes at most 50 ids; ListFindings returns at most 50 per page.
pub const BATCH: usize = 50;

/// The findings of `ids` on `detector` (GetFindings, [`BATCH`] ids a call), in the order
/// GuardDuty returns them.
pub async fn fetch(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
    ids: &[String],
    region: &str,
) -> Result<Vec<FindingRecord>, AwsError> {
    let mut out = Vec::with_capacity(ids.len());
    for batch in ids.chunks(BATCH) {
        let got = gd
            .get_findings()
            .detector_id(detector)
            .set_finding_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(AwsError::from_sdk("GetFindings"))?;
        out.extend(
            got.findings()
                .iter()
                .map(|f| FindingRecord::from_sdk(f, region)),
        );
    }
    Ok(out)
}

/// Findings in flight between readers and the sink; a small multiple of a batch per reader.
const CHANNEL: usize = 4 * BATCH;

/// One place to read: an account's view of a region, with the config to read it with.
#[derive(Debug, Clone)]
pub struct Target {
    /// Whose detector this is (the administrator's, or the account's own with `--direct`).
    pub account: String,
    pub region: String,
    pub config: SdkConfig,
}

/// A target that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetError {
    pub account: String,
    pub region: String,
    pub error: String,
}

/// What a collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CollectSummary {
    /// Findings fetched from GuardDuty.
    pub fetched: u64,
    /// Findings that passed the exact filter and reached the sink.
    pub matched: u64,
    /// (account, region) cells read.
    pub read: Vec<(String, String)>,
    /// (account, region) cells without a detector.
    pub without_detector: Vec<(String, String)>,
    /// (account, region) cells in a region the account has not enabled.
    pub region_not_enabled: Vec<(String, String)>,
    pub errors: Vec<TargetError>,
    /// The run was stopped (Ctrl-C): `partly_read` cells were cut short between pages and
    /// `not_started` cells never read. Everything handed to the sink is complete.
    pub interrupted: bool,
    pub partly_read: Vec<(String, String)>,
    pub not_started: Vec<(String, String)>,
}

/// The administrator's detector in each region.
pub fn administrator_targets(account: &str, config: &SdkConfig, regions: &[String]) -> Vec<Target> {
    regions
        .iter()
        .map(|r| Target {
            account: account.into(),
            region: r.clone(),
            config: config.clone(),
        })
        .collect()
}

/// Each account's own detector in each region, through the assumed role (`--direct`).
/// Accounts whose role cannot be assumed become errors, not a stop.
pub async fn direct_targets(
    session: &Session,
    accounts: &[String],
    regions: &[String],
) -> (Vec<Target>, Vec<TargetError>) {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for account in accounts {
        match session.config(account).await {
            Ok(config) => targets.extend(administrator_targets(account, &config, regions)),
            Err(e) => errors.push(TargetError {
                account: account.clone(),
                region: "*".into(),
                error: e.to_string(),
            }),
        }
    }
    (targets, errors)
}

enum Read {
    Done {
        fetched: u64,
    },
    NoDetector,
    RegionNotEnabled,
    /// The sink stopped taking findings.
    Stopped,
    /// The run was stopped between two pages.
    Interrupted {
        fetched: u64,
    },
}

/// Read every target, calling `sink` with each matching finding. A sink error (a closed pipe,
/// a full disk) stops the collection and is returned. A stop starts no new target and cuts
/// the ones in flight short after their current page, so the sink only ever sees whole
/// findings.
pub async fn collect<F>(
    targets: Vec<Target>,
    filter: &Filter,
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
    mut sink: F,
) -> std::io::Result<CollectSummary>
where
    F: FnMut(FindingRecord) -> std::io::Result<()>,
{
    let filter = Arc::new(filter.clone());
    let criteria = criteria::to_sdk(&criteria::translate(&filter).criteria);
    let (tx, mut rx) = mpsc::channel::<FindingRecord>(CHANNEL);
    let targets: Vec<Target> = targets
        .into_iter()
        .filter(|t| filter.wants_region(&t.region))
        .collect();
    let all_cells: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.account.clone(), t.region.clone()))
        .collect();
    reporter.start("findings", targets.len());
    let producer = async move {
        let reads = futures::stream::iter(targets)
            // Asked for the next target only when a slot frees: a stop starts nothing new.
            .take_while(|_| std::future::ready(!stop.is_stopped()))
            .map(|t| {
                let tx = tx.clone();
                let filter = filter.clone();
                let criteria = criteria.clone();
                async move {
                    let r = read_target(&t, &filter, criteria, &tx, stop).await;
                    (t, r)
                }
            })
            .buffer_unordered(concurrency.max(1))
            .inspect(|_| reporter.advance(1))
            .collect::<Vec<_>>()
            .await;
        drop(tx);
        reads
    };
    // The consumer owns the receiver: when the sink fails it drops it, which makes every
    // reader's next send fail and stop, instead of waiting on a full channel.
    let consumer = async move {
        let mut sent = 0u64;
        while let Some(r) = rx.recv().await {
            sink(r)?;
            sent += 1;
        }
        Ok::<u64, std::io::Error>(sent)
    };
    let (reads, sent) = tokio::join!(producer, consumer);
    reporter.finish();
    let sent = sent?;
    let mut summary = CollectSummary {
        matched: sent,
        interrupted: stop.is_stopped(),
        ..CollectSummary::default()
    };
    let mut started = std::collections::BTreeSet::new();
    for (t, r) in reads {
        let cell = (t.account.clone(), t.region.clone());
        started.insert(cell.clone());
        match r {
            Ok(Read::Done { fetched }) => {
                summary.fetched += fetched;
                summary.read.push(cell);
            }
            Ok(Read::NoDetector) => summary.without_detector.push(cell),
            Ok(Read::RegionNotEnabled) => summary.region_not_enabled.push(cell),
            Ok(Read::Stopped) => summary.read.push(cell),
            Ok(Read::Interrupted { fetched }) => {
                summary.fetched += fetched;
                summary.partly_read.push(cell);
            }
            Err(e) => summary.errors.push(TargetError {
                account: t.account,
                region: t.region,
                error: e.to_string(),
            }),
        }
    }
    summary.not_started = all_cells
        .into_iter()
        .filter(|c| !started.contains(c))
        .collect();
    summary.read.sort();
    summary.without_detector.sort();
    summary.region_not_enabled.sort();
    summary.partly_read.sort();
    summary
        .errors
        .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    Ok(summary)
}

async fn read_target(
    t: &Target,
    filter: &Filter,
    criteria: Option<aws_sdk_guardduty::types::FindingCriteria>,
    tx: &mpsc::Sender<FindingRecord>,
    stop: &Stop,
) -> Result<Read, AwsError> {
    let gd = ClientFactory::guardduty(&t.config, &t.region);
    let detector = match crate::aws::admin::detector_here(&gd).await? {
        Here::Detector(d) => d,
        Here::NoDetector => return Ok(Read::NoDetector),
        Here::RegionNotEnabled => return Ok(Read::RegionNotEnabled),
    };
    let mut fetched = 0u64;
    let mut pages = gd
        .list_findings()
        .detector_id(&detector)
        .set_finding_criteria(criteria)
        .max_results(BATCH as i32)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::from_sdk("ListFindings"))?;
        if stop.is_stopped() {
            return Ok(Read::Interrupted { fetched });
        }
        for ids in page.finding_ids().chunks(BATCH) {
            let got = gd
                .get_findings()
                .detector_id(&detector)
                .set_finding_ids(Some(ids.to_vec()))
                .send()
                .await
                .map_err(AwsError::from_sdk("GetFindings"))?;
            for f in got.findings() {
                fetched += 1;
                let r = FindingRecord::from_sdk(f, &t.region);
                if filter.matches(&r) && tx.send(r).await.is_err() {
                    return Ok(Read::Stopped);
                }
            }
        }
    }
    Ok(Read::Done { fetched })
}
