//! Reading coverage through the administrator: in each region its detector, every page of
//! ListCoverage (the filters sent to GuardDuty, so only matching resources travel), and
//! GetCoverageStatistics with the same filters. Regions run `concurrency` at once; a region
//! that fails is reported with its error and the others go on; a stop leaves the regions not
//! yet started as `not read`.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{
    CoverageFilterCondition, CoverageFilterCriteria, CoverageFilterCriterion,
    CoverageFilterCriterionKey, CoverageResource, CoverageStatisticsType,
};
use aws_smithy_types::date_time::Format;

use super::model::{Coverage, Health, RegionStatus, Resource, ResourceKind};
use crate::aws::admin::Administrator;
use crate::aws::admin::{read_through_detector, Here};
use crate::aws::AwsError;
use crate::control::{fan_out, Reporter, Stop};

/// ListCoverage's largest page (the model's limit).
const PAGE: i32 = 50;

/// What to read.
#[derive(Debug, Clone)]
pub struct Options {
    pub regions: Vec<String>,
    /// Only this resource type (sent as a RESOURCE_TYPE criterion).
    pub kind: Option<ResourceKind>,
    /// Only this health (sent as a COVERAGE_STATUS criterion).
    pub health: Option<Health>,
    /// Regions read at once.
    pub concurrency: usize,
}

impl Options {
    /// The filters in words, for the output's header.
    pub fn words(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(k.api().to_string());
        }
        if let Some(h) = self.health {
            parts.push(h.api().to_lowercase());
        }
        if parts.is_empty() {
            "all resources".into()
        } else {
            parts.join(", ")
        }
    }

    fn criteria(&self) -> Option<CoverageFilterCriteria> {
        let one = |key: CoverageFilterCriterionKey, value: &str| {
            CoverageFilterCriterion::builder()
                .criterion_key(key)
                .filter_condition(CoverageFilterCondition::builder().equals(value).build())
                .build()
        };
        let mut list = Vec::new();
        if let Some(k) = self.kind {
            list.push(one(CoverageFilterCriterionKey::ResourceType, k.api()));
        }
        if let Some(h) = self.health {
            list.push(one(CoverageFilterCriterionKey::CoverageStatus, h.api()));
        }
        (!list.is_empty()).then(|| {
            CoverageFilterCriteria::builder()
                .set_filter_criterion(Some(list))
                .build()
        })
    }
}

/// Read every region of `opts` through `admin`.
pub async fn read(
    admin: &Administrator,
    opts: &Options,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Coverage {
    let criteria = opts.criteria();
    let done = fan_out(
        opts.regions.clone(),
        opts.concurrency,
        "coverage",
        reporter,
        stop,
        |region| {
            let criteria = criteria.clone();
            async move {
                let r = read_region(&admin.config, &region, criteria).await;
                (region, r)
            }
        },
    )
    .await;
    let mut regions: BTreeMap<String, RegionStatus> = opts
        .regions
        .iter()
        .map(|r| (r.clone(), RegionStatus::NotRead))
        .collect();
    let mut resources = Vec::new();
    for (region, r) in done.results {
        let status = match r {
            Ok(Here::Detector(RegionRead {
                rows,
                by_type,
                by_status,
            })) => {
                resources.extend(rows);
                RegionStatus::Read { by_type, by_status }
            }
            Ok(Here::NoDetector) => RegionStatus::NoDetector,
            Ok(Here::RegionNotEnabled) => RegionStatus::RegionNotEnabled,
            Err(e) => RegionStatus::Failed {
                error: e.to_string(),
            },
        };
        regions.insert(region, status);
    }
    Coverage::new(admin.account.clone(), opts.words(), regions, resources)
}

/// A region's covered resources and their counts.
struct RegionRead {
    rows: Vec<Resource>,
    by_type: BTreeMap<String, i64>,
    by_status: BTreeMap<String, i64>,
}

async fn read_region(
    config: &aws_config::SdkConfig,
    region: &str,
    criteria: Option<CoverageFilterCriteria>,
) -> Result<Here<RegionRead>, AwsError> {
    read_through_detector(config, region, async |gd, det| {
        read_coverage(gd, det, region, criteria).await
    })
    .await
}

async fn read_coverage(
    gd: &aws_sdk_guardduty::Client,
    det: &str,
    region: &str,
    criteria: Option<CoverageFilterCriteria>,
) -> Result<RegionRead, AwsError> {
    let mut rows = Vec::new();
    let mut token = None;
    loop {
        let page = gd
            .list_coverage()
            .detector_id(det)
            .set_filter_criteria(criteria.clone())
            .max_results(PAGE)
            .set_next_token(token)
            .send()
            .await
            .map_err(AwsError::from_sdk("ListCoverage"))?;
        rows.extend(page.resources().iter().filter_map(|r| resource(region, r)));
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(String::from);
        if token.is_none() {
            break;
        }
    }
    let stats = gd
        .get_coverage_statistics()
        .detector_id(det)
        .set_filter_criteria(criteria)
        .statistics_type(CoverageStatisticsType::CountByResourceType)
        .statistics_type(CoverageStatisticsType::CountByCoverageStatus)
        .send()
        .await
        .map_err(AwsError::from_sdk("GetCoverageStatistics"))?;
    let s = stats.coverage_statistics();
    let by_type = s
        .and_then(|s| s.count_by_resource_type())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().to_string(), *v))
                .collect()
        })
        .unwrap_or_default();
    let by_status = s
        .and_then(|s| s.count_by_coverage_status())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().to_string(), *v))
                .collect()
        })
        .unwrap_or_default();
    Ok(RegionRead {
        rows,
        by_type,
        by_status,
    })
}

/// One SDK resource as a row (None: a type or status this gdorg does not know).
fn resource(region: &str, r: &CoverageResource) -> Option<Resource> {
    let details = r.resource_details()?;
    let kind = ResourceKind::from_api(details.resource_type()?.as_str())?;
    let health = match r.coverage_status()?.as_str() {
        "HEALTHY" => Health::Healthy,
        "UNHEALTHY" => Health::Unhealthy,
        _ => return None,
    };
    let resource_id = r.resource_id().unwrap_or_default().to_string();
    let mut row = Resource {
        account: r.account_id().unwrap_or_default().to_string(),
        region: region.to_string(),
        kind,
        name: resource_id.clone(),
        resource_id,
        health,
        issue: r.issue().filter(|i| !i.is_empty()).map(String::from),
        covered: None,
        compatible: None,
        agent_version: None,
        management: None,
        updated_at: r.updated_at().and_then(|t| t.fmt(Format::DateTime).ok()),
    };
    match kind {
        ResourceKind::Eks => {
            if let Some(e) = details.eks_cluster_details() {
                row.name = e.cluster_name().unwrap_or(&row.name).to_string();
                row.covered = e.covered_nodes();
                row.compatible = e.compatible_nodes();
                row.agent_version = e
                    .addon_details()
                    .and_then(|a| a.addon_version())
                    .map(String::from);
                row.management = e.management_type().map(|m| m.as_str().to_string());
            }
        }
        ResourceKind::Ecs => {
            if let Some(e) = details.ecs_cluster_details() {
                row.name = e.cluster_name().unwrap_or(&row.name).to_string();
                if let Some(ci) = e.container_instance_details() {
                    row.covered = ci.covered_container_instances();
                    row.compatible = ci.compatible_container_instances();
                }
                if let Some(f) = e.fargate_details() {
                    row.management = f.management_type().map(|m| m.as_str().to_string());
                    // Fargate's issues, when the resource itself states none.
                    if row.issue.is_none() && !f.issues().is_empty() {
                        row.issue = Some(f.issues().join("; "));
                    }
                }
            }
        }
        ResourceKind::Ec2 => {
            if let Some(e) = details.ec2_instance_details() {
                row.name = e.instance_id().unwrap_or(&row.name).to_string();
                row.agent_version = e
                    .agent_details()
                    .and_then(|a| a.version())
                    .map(String::from);
                row.management = e.management_type().map(|m| m.as_str().to_string());
            }
        }
    }
    Some(row)
}
