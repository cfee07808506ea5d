//! `findings list|export|count|archive|unarchive|feedback`, `filters sync`,
//! `sample-findings` and `report`: the filter flags, where findings are read, and each
//! command's own options.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use super::{AdminArg, ConcurrencyArg, OutputArg, RegionArgs};
use crate::findings::filter::{Filter, FilterSpec};
use crate::findings::saved::{SavedFilters, DEFAULT_FILE};
use crate::findings::source::ReadOptions;
use crate::settings::SettingsError;

/// Filter flags; each list flag has a `--not-` twin that excludes. Lists take commas.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Filters")]
pub struct FilterArgs {
    /// A saved filter (`[filters.NAME]` of --filters-file); the flags below add to it.
    #[arg(long, value_name = "NAME")]
    pub filter: Option<String>,
    /// The saved-filters file.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_FILE)]
    pub filters_file: PathBuf,
    /// Severity bands to keep: low, medium, high, critical (1.0-3.9, 4.0-6.9, 7.0-8.9,
    /// 9.0-10.0).
    #[arg(long, value_delimiter = ',', value_name = "BANDS")]
    pub severity: Vec<String>,
    /// Severity bands to leave out.
    #[arg(long, value_delimiter = ',', value_name = "BANDS")]
    pub not_severity: Vec<String>,
    /// Lowest severity score (inclusive).
    #[arg(long, value_name = "SCORE")]
    pub min_severity: Option<f64>,
    /// Highest severity score (inclusive).
    #[arg(long, value_name = "SCORE")]
    pub max_severity: Option<f64>,
    /// Finding types to keep; a trailing `*` makes a prefix (`Recon:*`).
    #[arg(long = "type", value_delimiter = ',', value_name = "TYPES")]
    pub finding_type: Vec<String>,
    /// Finding types to leave out; a trailing `*` makes a prefix.
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub not_type: Vec<String>,
    /// Accounts whose findings to keep.
    #[arg(long = "account", value_delimiter = ',', value_name = "IDS")]
    pub account: Vec<String>,
    /// Accounts whose findings to leave out.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub not_account: Vec<String>,
    /// Regions whose findings to leave out (choose regions with --regions).
    #[arg(long, value_delimiter = ',', value_name = "REGIONS")]
    pub not_region: Vec<String>,
    /// Resource types to keep: Instance, AccessKey, S3Bucket, EKSCluster, ...
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub resource_type: Vec<String>,
    /// Resource types to leave out.
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub not_resource_type: Vec<String>,
    /// Action types to keep: AWS_API_CALL, DNS_REQUEST, NETWORK_CONNECTION, PORT_PROBE, ...
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub action_type: Vec<String>,
    /// Action types to leave out.
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub not_action_type: Vec<String>,
    /// current (default), archived or all.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Updated at or after: RFC 3339 time, or a duration back from now (7d, 12h).
    #[arg(long, value_name = "WHEN")]
    pub updated_since: Option<String>,
}

/// Where to read findings from.
#[derive(Debug, Args, Clone, Default)]
pub struct ReadArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub admin: AdminArg,
    /// Read each account's own detector through the assumed role (no administrator needed).
    #[arg(long, help_heading = "Scope")]
    pub direct: bool,
    /// Accounts to read with --direct (default: every active account of the organization).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "IDS",
        help_heading = "Scope"
    )]
    pub accounts: Vec<String>,
    #[command(flatten)]
    pub regions: RegionArgs,
    #[command(flatten)]
    pub run: ConcurrencyArg,
}

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List findings (table by default; highest severity first, up to --limit).
    List(ListArgs),
    /// Stream every matching finding (NDJSON by default) to stdout or --output.
    Export(ListArgs),
    /// Count findings per account and per type with GetFindingsStatistics (exact at any
    /// number of accounts).
    Count(CountArgs),
    /// Archive findings, through the administrator's detector only.
    Archive(ActArgs),
    /// Unarchive findings, through the administrator's detector only.
    Unarchive(ActArgs),
    /// Mark findings useful or not useful, through the administrator's detector.
    Feedback(FeedbackArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Ndjson,
    Csv,
    /// OCSF 1.3.0 Detection Findings (class 2004), one JSON object per line.
    Ocsf,
    /// Parquet files under --output DIR, partitioned `region=R/date=D/part-N.parquet`.
    Parquet,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// table, json, ndjson, csv, ocsf (NDJSON of OCSF Detection Findings) or parquet (a
    /// directory: --output DIR) (list: table; export: ndjson). See docs/exports.md.
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<ListFormat>,
    #[command(flatten)]
    pub output: OutputArg,
    /// Rows of the table format (the highest severities).
    #[arg(long, default_value_t = 100, help_heading = "Output")]
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CountFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct CountArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// table or json.
    #[arg(long, value_enum, default_value = "json", help_heading = "Output")]
    pub format: CountFormat,
}

#[derive(Debug, Args)]
pub struct ActArgs {
    /// Saved filter selecting the findings (from --filters-file).
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "ids",
        required_unless_present = "ids"
    )]
    pub filter: Option<String>,
    /// The saved-filters file.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_FILE)]
    pub filters_file: PathBuf,
    /// Finding ids.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub ids: Vec<String>,
    /// Act as this administrator account, through the execution role (e.g. from the
    /// management account). Without it, the caller's own credentials must be the
    /// administrator's.
    #[arg(long, value_name = "ID", help_heading = "Scope")]
    pub admin_account: Option<String>,
    /// Check and show what would be done; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub regions: RegionArgs,
}

#[derive(Debug, Args)]
pub struct FeedbackArgs {
    /// The findings are useful.
    #[arg(
        long,
        conflicts_with = "not_useful",
        required_unless_present = "not_useful"
    )]
    pub useful: bool,
    /// The findings are not useful.
    #[arg(long)]
    pub not_useful: bool,
    /// A comment sent with the feedback.
    #[arg(long)]
    pub comments: Option<String>,
    #[command(flatten)]
    pub act: ActArgs,
}

#[derive(Debug, Subcommand)]
pub enum FiltersCommand {
    /// Make every filter of FILE a GuardDuty filter on the administrator's detector in every
    /// region (NOOP or ARCHIVE), idempotently.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The saved-filters file (TOML).
    pub file: PathBuf,
    #[command(flatten)]
    pub admin: AdminArg,
    /// Show what would change; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub regions: RegionArgs,
    #[command(flatten)]
    pub run: ConcurrencyArg,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Finding types (default: one of every type).
    #[arg(long = "type", value_delimiter = ',', value_name = "TYPES")]
    pub types: Vec<String>,
    /// Accounts to generate in (default: the caller's).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "IDS",
        help_heading = "Scope"
    )]
    pub accounts: Vec<String>,
    #[command(flatten)]
    pub regions: RegionArgs,
    #[command(flatten)]
    pub run: ConcurrencyArg,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Highest-severity findings listed with details (current, and archived).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    pub read: ReadArgs,
    #[arg(long, value_enum, default_value = "html", help_heading = "Output")]
    pub format: crate::report::Format,
    #[command(flatten)]
    pub output: OutputArg,
    /// Also write `<output>.manifest.json`: the SHA-256 of each file written, the scope, the
    /// gdorg version and the caller (evidence for auditors). Needs --output.
    #[arg(long, help_heading = "Output")]
    pub manifest: bool,
}

impl FilterArgs {
    fn spec(&self) -> FilterSpec {
        FilterSpec {
            severity: self.severity.clone(),
            not_severity: self.not_severity.clone(),
            min_severity: self.min_severity,
            max_severity: self.max_severity,
            finding_type: self.finding_type.clone(),
            not_type: self.not_type.clone(),
            account: self.account.clone(),
            not_account: self.not_account.clone(),
            not_region: self.not_region.clone(),
            resource_type: self.resource_type.clone(),
            not_resource_type: self.not_resource_type.clone(),
            action_type: self.action_type.clone(),
            not_action_type: self.not_action_type.clone(),
            status: self.status.clone(),
            updated_since: self.updated_since.clone(),
            ..FilterSpec::default()
        }
    }

    /// The saved filter (if any) plus the flags, validated, and the filter in words (for the
    /// report's scope). No call is made before this.
    pub fn resolve(&self) -> anyhow::Result<(Filter, String)> {
        let flags = self.spec();
        let (spec, name) = match &self.filter {
            Some(name) => {
                let saved = SavedFilters::load(&self.filters_file)?;
                (
                    saved.get(name)?.clone().merge(&flags),
                    format!("saved filter {name:?} + flags"),
                )
            }
            None => (flags, "flags".into()),
        };
        let filter = spec.validate(chrono::Utc::now()).context("filter")?;
        Ok((filter, describe(&spec, &name)))
    }
}

/// The filter in words, for the report's scope.
fn describe(spec: &FilterSpec, source: &str) -> String {
    let toml = toml::to_string(spec).unwrap_or_default();
    let parts: Vec<&str> = toml.lines().filter(|l| !l.trim().is_empty()).collect();
    if parts.is_empty() {
        format!("current findings ({source})")
    } else {
        format!("{} ({source})", parts.join("; "))
    }
}

impl ReadArgs {
    /// Every flag checked: the filter, the regions, the accounts and the limits.
    pub fn resolve(&self) -> anyhow::Result<ReadOptions> {
        let (filter, filter_words) = self.filter.resolve()?;
        let regions = self.regions.resolve()?;
        let admin_account = self.admin.checked()?.map(String::from);
        for a in &self.accounts {
            crate::settings::check_account_id(a)?;
        }
        if !self.accounts.is_empty() && !self.direct {
            return Err(SettingsError("--accounts chooses the accounts of --direct; without --direct, findings are read through the administrator (filter accounts with --account)".into()).into());
        }
        Ok(ReadOptions {
            filter,
            filter_words,
            regions,
            admin_account,
            direct: self.direct,
            accounts: self.accounts.clone(),
            limits: self.run.limits()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_filter_and_flags_combine() {
        let args = FilterArgs {
            filter: Some("high-and-critical".into()),
            filters_file: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/filters.toml"
            )),
            not_resource_type: vec!["S3Bucket".into()],
            ..FilterArgs::default()
        };
        let (f, words) = args.resolve().unwrap();
        assert_eq!(f.severity.include.len(), 2);
        assert_eq!(f.resource_types.exclude, ["S3Bucket"]);
        assert!(
            words.contains("saved filter \"high-and-critical\""),
            "{words}"
        );
        let bad = FilterArgs {
            severity: vec!["urgent".into()],
            ..FilterArgs::default()
        };
        assert!(bad.resolve().unwrap_err().to_string().contains("filter"));
    }
}
