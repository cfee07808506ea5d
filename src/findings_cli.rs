//! The findings commands at the CLI edge: `findings list|export|count|archive|unarchive|
//! feedback`, `filters sync`, `sample-findings` and `report`. Flags are parsed here, resolved
//! into validated settings before any call, handed to the library (`findings`, `report`), and
//! the results printed. Data goes to stdout (or `--output`), progress and warnings to stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};

use crate::aws::{AwsOptions, ClientFactory};
use crate::cli::GlobalArgs;
use crate::findings::admin::{self, Administrator, Caller};
use crate::findings::archive::{self, Selection, Verb};
use crate::findings::collect::{self, CollectSummary, Target};
use crate::findings::filter::{Filter, FilterSpec};
use crate::findings::record::FindingRecord;
use crate::findings::saved::{SavedFilters, DEFAULT_FILE};
use crate::findings::{criteria, sample, stats, sync};
use crate::report::{self, coverage, model::Scope, Aggregator, Format};
use crate::run::Outcome;

/// Filter flags; each list flag has a `--not-` twin that excludes. Lists take commas.
#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// A saved filter (`[filters.NAME]` of --filters-file); the flags below add to it.
    #[arg(long, value_name = "NAME")]
    pub filter: Option<String>,
    /// The saved-filters file.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_FILE)]
    pub filters_file: PathBuf,
    /// Severity bands: low, medium, high, critical (1.0-3.9, 4.0-6.9, 7.0-8.9, 9.0-10.0).
    #[arg(long, value_delimiter = ',')]
    pub severity: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub not_severity: Vec<String>,
    /// Lowest severity score (inclusive).
    #[arg(long)]
    pub min_severity: Option<f64>,
    /// Highest severity score (inclusive).
    #[arg(long)]
    pub max_severity: Option<f64>,
    /// Finding types; a trailing `*` makes a prefix (`Recon:*`).
    #[arg(long = "type", value_delimiter = ',')]
    pub finding_type: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub not_type: Vec<String>,
    /// Accounts whose findings to keep.
    #[arg(long = "account", value_delimiter = ',')]
    pub account: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub not_account: Vec<String>,
    /// Regions to leave out (pick regions with --regions).
    #[arg(long, value_delimiter = ',')]
    pub not_region: Vec<String>,
    /// Resource types: Instance, AccessKey, S3Bucket, ...
    #[arg(long, value_delimiter = ',')]
    pub resource_type: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub not_resource_type: Vec<String>,
    /// Action types: AWS_API_CALL, DNS_REQUEST, NETWORK_CONNECTION, PORT_PROBE, ...
    #[arg(long, value_delimiter = ',')]
    pub action_type: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub not_action_type: Vec<String>,
    /// current (default), archived or all.
    #[arg(long)]
    pub status: Option<String>,
    /// Updated at or after: RFC 3339 time, or a duration back from now (7d, 12h).
    #[arg(long)]
    pub updated_since: Option<String>,
}

/// Where to read findings from.
#[derive(Debug, Args, Clone)]
pub struct ReadArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Regions to read (default: $GDORG_REGIONS, else the regions enabled by default).
    #[arg(long, value_delimiter = ',', env = "GDORG_REGIONS")]
    pub regions: Vec<String>,
    /// The GuardDuty administrator account (default: the organization's delegated
    /// administrator when the caller is the management account, else the caller).
    #[arg(long)]
    pub admin_account: Option<String>,
    /// Read each account's own detector through the assumed role (no administrator needed).
    #[arg(long)]
    pub direct: bool,
    /// Accounts to read with --direct (default: every active account of the organization).
    #[arg(long, value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// (account, region) cells read at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List findings (table by default; newest highest-severity first up to --limit).
    List(ListArgs),
    /// Stream every matching finding (NDJSON by default) to stdout or --output.
    Export(ListArgs),
    /// Count findings per account and per type with GetFindingsStatistics.
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
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    #[arg(long, value_enum)]
    pub format: Option<ListFormat>,
    /// Write here (atomically) instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Rows of the table format (the highest severities).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct CountArgs {
    #[command(flatten)]
    pub read: ReadArgs,
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
    #[arg(long, value_name = "FILE", default_value = DEFAULT_FILE)]
    pub filters_file: PathBuf,
    /// Finding ids.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub ids: Vec<String>,
    /// Regions to act in (default: $GDORG_REGIONS, else the regions enabled by default).
    #[arg(long, value_delimiter = ',', env = "GDORG_REGIONS")]
    pub regions: Vec<String>,
    /// Act as this administrator account, through the execution role (e.g. from the
    /// management account). Without it, the caller's own credentials must be the
    /// administrator's.
    #[arg(long)]
    pub admin_account: Option<String>,
    /// Check and show what would be done; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct FeedbackArgs {
    #[command(flatten)]
    pub act: ActArgs,
    #[arg(
        long,
        conflicts_with = "not_useful",
        required_unless_present = "not_useful"
    )]
    pub useful: bool,
    #[arg(long)]
    pub not_useful: bool,
    #[arg(long)]
    pub comments: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum FiltersCommand {
    /// Make every filter of FILE a GuardDuty filter on the administrator's detector in every
    /// region (NOOP or ARCHIVE), idempotently.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    pub file: PathBuf,
    #[arg(long, value_delimiter = ',', env = "GDORG_REGIONS")]
    pub regions: Vec<String>,
    #[arg(long)]
    pub admin_account: Option<String>,
    /// Show what would change; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Accounts to generate in (default: the caller's).
    #[arg(long, value_delimiter = ',')]
    pub accounts: Vec<String>,
    #[arg(long, value_delimiter = ',', env = "GDORG_REGIONS")]
    pub regions: Vec<String>,
    /// Finding types (default: one of every type).
    #[arg(long = "type", value_delimiter = ',')]
    pub types: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    #[arg(long, value_enum, default_value = "html")]
    pub format: Format,
    /// Write here (atomically) instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Highest-severity findings listed with details (current, and archived).
    #[arg(long, default_value_t = 50)]
    pub top: usize,
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

    /// The saved filter (if any) plus the flags, validated. No call is made before this.
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
        let words = describe(&spec, &name);
        Ok((filter, words))
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

/// Validate region names, or pick the defaults.
pub fn resolve_regions(given: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = given
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if out.is_empty() {
        out = crate::regions::default_enabled()
            .map(str::to_string)
            .collect();
    }
    for r in &out {
        if !crate::regions::is_well_formed(r) {
            bail!("{r:?} is not a region name (like eu-west-1)");
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub async fn factory(g: &GlobalArgs) -> ClientFactory {
    ClientFactory::load(AwsOptions {
        profile: g.profile.clone(),
        region: g.region.clone(),
        endpoint_url: g.endpoint_url.clone(),
        role_name: g.role_name.clone(),
        external_id: g.external_id.clone(),
        max_attempts: g.max_attempts,
        session_duration: None,
    })
    .await
}

/// Everything needed to read findings, resolved.
pub struct Reading {
    pub caller: Caller,
    pub admin: Option<Administrator>,
    pub targets: Vec<Target>,
    pub regions: Vec<String>,
    pub filter: Filter,
    pub filter_words: String,
    pub early_errors: Vec<String>,
}

pub async fn prepare(factory: &ClientFactory, read: &ReadArgs) -> anyhow::Result<Reading> {
    let (filter, filter_words) = read.filter.resolve()?;
    let regions = resolve_regions(&read.regions)?;
    let caller = admin::caller(factory.base()).await?;
    if read.direct {
        let accounts = if read.accounts.is_empty() {
            org_accounts(factory).await?
        } else {
            read.accounts.clone()
        };
        let (targets, errs) = collect::direct_targets(factory, &accounts, &regions).await;
        return Ok(Reading {
            caller,
            admin: None,
            targets,
            regions,
            filter,
            filter_words,
            early_errors: errs
                .into_iter()
                .map(|e| format!("{} {}: {}", e.account, e.region, e.error))
                .collect(),
        });
    }
    let adm = admin::administrator(factory, &caller, read.admin_account.as_deref()).await?;
    let targets = collect::administrator_targets(&adm.account, &adm.config, &regions);
    Ok(Reading {
        caller,
        admin: Some(adm),
        targets,
        regions,
        filter,
        filter_words,
        early_errors: Vec::new(),
    })
}

async fn org_accounts(factory: &ClientFactory) -> anyhow::Result<Vec<String>> {
    let org = ClientFactory::organizations(factory.base());
    let mut pages = org.list_accounts().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(crate::aws::AwsError::from_sdk("ListAccounts"))?;
        for a in page.accounts() {
            if a.status().is_none_or(|s| s.as_str() == "ACTIVE") {
                out.extend(a.id().map(str::to_string));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn summary_errors(s: &CollectSummary, early: &[String]) -> Vec<String> {
    let mut out: Vec<String> = early.to_vec();
    out.extend(
        s.errors
            .iter()
            .map(|e| format!("{} {}: {}", e.account, e.region, e.error)),
    );
    out
}

fn warn_errors(errors: &[String]) {
    for e in errors {
        tracing::warn!("not read: {e}");
    }
}

/// A sink writing to stdout or, atomically, to a file.
enum Out {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File(std::io::BufWriter<tempfile::NamedTempFile>, PathBuf),
}

impl Out {
    fn open(path: Option<&Path>) -> anyhow::Result<Out> {
        Ok(match path {
            None => Out::Stdout(std::io::BufWriter::new(std::io::stdout())),
            Some(p) => {
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let tmp = tempfile::NamedTempFile::new_in(dir)
                    .with_context(|| format!("creating a file in {}", dir.display()))?;
                Out::File(std::io::BufWriter::new(tmp), p.to_path_buf())
            }
        })
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Out::Stdout(mut w) => w.flush()?,
            Out::File(w, path) => {
                let tmp = w.into_inner().map_err(|e| e.into_error())?;
                tmp.as_file().sync_all()?;
                tmp.persist(&path)
                    .map_err(|e| e.error)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::Stdout(w) => w.write(buf),
            Out::File(w, _) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::Stdout(w) => w.flush(),
            Out::File(w, _) => w.flush(),
        }
    }
}

pub async fn findings(g: &GlobalArgs, cmd: &FindingsCommand) -> anyhow::Result<Outcome> {
    match cmd {
        FindingsCommand::List(a) => list(g, a, a.format.unwrap_or(ListFormat::Table)).await,
        FindingsCommand::Export(a) => list(g, a, a.format.unwrap_or(ListFormat::Ndjson)).await,
        FindingsCommand::Count(a) => count(g, a).await,
        FindingsCommand::Archive(a) => act(g, a, Verb::Archive).await,
        FindingsCommand::Unarchive(a) => act(g, a, Verb::Unarchive).await,
        FindingsCommand::Feedback(a) => {
            act(
                g,
                &a.act,
                Verb::Feedback {
                    useful: a.useful,
                    comments: a.comments.clone(),
                },
            )
            .await
        }
    }
}

async fn list(g: &GlobalArgs, a: &ListArgs, format: ListFormat) -> anyhow::Result<Outcome> {
    // Check the flags before the first call.
    let _ = a.read.filter.resolve()?;
    resolve_regions(&a.read.regions)?;
    let factory = factory(g).await;
    let mut r = prepare(&factory, &a.read).await?;
    let targets = std::mem::take(&mut r.targets);
    let mut out = Out::open(a.output.as_deref())?;
    let summary = match format {
        ListFormat::Ndjson => {
            collect::collect(targets, &r.filter, a.read.concurrency, |f| {
                serde_json::to_writer(&mut out, &f)?;
                out.write_all(b"\n")
            })
            .await?
        }
        ListFormat::Json => {
            let mut first = true;
            out.write_all(b"[")?;
            let s = collect::collect(targets, &r.filter, a.read.concurrency, |f| {
                out.write_all(if first { b"\n" } else { b",\n" })?;
                first = false;
                serde_json::to_writer(&mut out, &f).map_err(std::io::Error::from)
            })
            .await?;
            out.write_all(b"\n]\n")?;
            s
        }
        ListFormat::Csv => {
            let mut w = report::csv::SafeWriter::new(&mut out);
            w.row(report::csv::header()).map_err(std::io::Error::from)?;
            let s = collect::collect(targets, &r.filter, a.read.concurrency, |f| {
                w.row(report::csv::finding_cells("finding", &f))
                    .map_err(std::io::Error::from)
            })
            .await?;
            w.flush()?;
            drop(w);
            s
        }
        ListFormat::Table => {
            let mut agg = Aggregator::new(a.limit);
            let s = collect::collect(targets, &r.filter, a.read.concurrency, |f| {
                agg.add(&f);
                Ok(())
            })
            .await?;
            let rep = agg.finish(scope_of(&r, "", ""), coverage::Coverage::default(), vec![]);
            let mut rows: Vec<FindingRecord> = rep.top_findings;
            rows.extend(rep.archived.listed);
            rows.truncate(a.limit);
            writeln!(out, "{}", report::table::findings(&rows))?;
            writeln!(
                out,
                "{} matching finding(s) ({} current, {} archived); {} shown",
                s.matched,
                rep.totals.current_total,
                rep.totals.archived_total,
                rows.len()
            )?;
            s
        }
    };
    out.finish()?;
    let errors = summary_errors(&summary, &r.early_errors);
    warn_errors(&errors);
    Ok(if errors.is_empty() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}

fn scope_of(r: &Reading, started: &str, finished: &str) -> Scope {
    let (administrator, how, mode) = match &r.admin {
        Some(a) => (a.account.clone(), a.how.to_string(), "administrator"),
        None => (
            "each account's own detector".into(),
            "assumed role per account".into(),
            "direct",
        ),
    };
    Scope {
        caller_arn: r.caller.arn.clone(),
        administrator,
        administrator_how: how,
        mode: mode.into(),
        regions: r.regions.clone(),
        filter: r.filter_words.clone(),
        started_at: started.into(),
        finished_at: finished.into(),
    }
}

async fn count(g: &GlobalArgs, a: &CountArgs) -> anyhow::Result<Outcome> {
    let (filter, _) = a.read.filter.resolve()?;
    let t = criteria::translate(&filter);
    if !t.exact || !filter.regions.is_empty() {
        bail!("this filter needs client-side matching (type prefixes, gaps between bands or fractional scores), which GetFindingsStatistics cannot do; use `gdorg report` or `findings list` for exact counts");
    }
    if a.read.direct {
        bail!("count reads the administrator's statistics; --direct is not supported here");
    }
    let regions = resolve_regions(&a.read.regions)?;
    let factory = factory(g).await;
    let caller = admin::caller(factory.base()).await?;
    let adm = admin::administrator(&factory, &caller, a.read.admin_account.as_deref()).await?;
    let counts = stats::count(&adm.config, &regions, &t.criteria)
        .await
        .map_err(|(region, e)| anyhow::anyhow!("{region}: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&counts)?)?;
    Ok(Outcome::Success)
}

async fn act(g: &GlobalArgs, a: &ActArgs, verb: Verb) -> anyhow::Result<Outcome> {
    let selection = match &a.filter {
        Some(name) => {
            let saved = SavedFilters::load(&a.filters_file)?;
            let f = saved
                .get(name)?
                .validate(chrono::Utc::now())
                .with_context(|| format!("filter {name:?}"))?;
            Selection::Filter(Box::new(f))
        }
        None => {
            if a.ids.iter().any(|i| i.trim().is_empty()) {
                bail!("--ids: empty finding id");
            }
            Selection::Ids(a.ids.clone())
        }
    };
    let regions = resolve_regions(&a.regions)?;
    let factory = factory(g).await;
    let mut caller = admin::caller(factory.base()).await?;
    // Archive acts with the caller's own credentials, or the administrator's role when named;
    // either way the preflight refuses unless they are the administrator's.
    let config = match &a.admin_account {
        Some(id) if *id != caller.account => {
            let c = factory.account(id).await?;
            caller = admin::caller(&c).await?;
            c
        }
        _ => factory.base().clone(),
    };
    let plan = archive::plan(&config, &caller, &regions, &selection, verb).await?;
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{} {} finding(s) through administrator {} in {} region(s){}",
        plan.verb.name(),
        plan.count(),
        plan.administrator,
        plan.regions.len(),
        if a.dry_run {
            " (dry run: nothing sent)"
        } else {
            ""
        }
    )?;
    drop(err);
    if a.dry_run {
        let mut out = std::io::stdout().lock();
        for rp in &plan.regions {
            for f in &rp.findings {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    rp.region, f.account_id, f.id, f.finding_type
                )?;
            }
        }
        return Ok(Outcome::Success);
    }
    let done = archive::execute(&config, &plan).await;
    let mut out = std::io::stdout().lock();
    for (region, ids) in &done.done {
        for id in ids {
            writeln!(out, "{region}\t{id}\t{}", plan.verb.name())?;
        }
    }
    drop(out);
    warn_errors(&done.errors);
    Ok(if done.errors.is_empty() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}

pub async fn filters(g: &GlobalArgs, cmd: &FiltersCommand) -> anyhow::Result<Outcome> {
    let FiltersCommand::Sync(a) = cmd;
    let saved = SavedFilters::load(&a.file)?;
    let wanted = sync::desired(&saved, chrono::Utc::now())?;
    let regions = resolve_regions(&a.regions)?;
    let factory = factory(g).await;
    let caller = admin::caller(factory.base()).await?;
    let adm = admin::administrator(&factory, &caller, a.admin_account.as_deref()).await?;
    let (items, errors) = sync::sync(&adm.config, &regions, &wanted, a.dry_run).await;
    let mut out = std::io::stdout().lock();
    for i in &items {
        writeln!(out, "{}\t{}\t{:?}", i.region, i.name, i.change)?;
    }
    let changed = items
        .iter()
        .filter(|i| i.change != sync::Change::Unchanged)
        .count();
    drop(out);
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{} filter(s) x {} region(s): {changed} to create or update{}",
        wanted.len(),
        regions.len(),
        if a.dry_run {
            " (dry run: nothing sent)"
        } else {
            ""
        }
    )?;
    drop(err);
    warn_errors(&errors);
    Ok(if errors.is_empty() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}

pub async fn sample_findings(g: &GlobalArgs, a: &SampleArgs) -> anyhow::Result<Outcome> {
    let regions = resolve_regions(&a.regions)?;
    let factory = factory(g).await;
    let caller = admin::caller(factory.base()).await?;
    let accounts = if a.accounts.is_empty() {
        vec![caller.account.clone()]
    } else {
        a.accounts.clone()
    };
    let results = sample::create(&factory, &caller.account, &accounts, &regions, &a.types).await;
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for r in &results {
        if r.result != "created" && r.result != "no detector" {
            failed += 1;
        }
        writeln!(out, "{}\t{}\t{}", r.account, r.region, r.result)?;
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}

/// Build the report model: read, aggregate, add coverage. Shared with the demo.
pub async fn build_report(
    factory: &ClientFactory,
    read: &ReadArgs,
    top: usize,
) -> anyhow::Result<report::Report> {
    let started = now();
    let mut r = prepare(factory, read).await?;
    // The report shows current and archived findings side by side.
    r.filter.status = crate::findings::filter::Status::All;
    r.filter_words = format!("{}; current and archived counted apart", r.filter_words).replacen(
        "current findings (",
        "all findings (",
        1,
    );
    let mut agg = Aggregator::new(top);
    let targets = std::mem::take(&mut r.targets);
    let summary = collect::collect(targets, &r.filter, read.concurrency, |f| {
        agg.add(&f);
        Ok(())
    })
    .await?;
    let coverage = match &r.admin {
        Some(a) => coverage::from_administrator(&a.config, &a.account, &r.regions).await,
        None => coverage::Coverage {
            source: "not gathered with --direct".into(),
            rows: Vec::new(),
        },
    };
    let errors = summary_errors(&summary, &r.early_errors);
    let scope = scope_of(&r, &started, &now());
    Ok(agg.finish(scope, coverage, errors))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub async fn report(g: &GlobalArgs, a: &ReportArgs) -> anyhow::Result<Outcome> {
    let _ = a.read.filter.resolve()?;
    resolve_regions(&a.read.regions)?;
    let factory = factory(g).await;
    let rep = build_report(&factory, &a.read, a.top).await?;
    let text = report::render(&rep, a.format)?;
    match &a.output {
        Some(p) => crate::fsutil::write_atomic(p, text.as_bytes())
            .with_context(|| format!("writing {}", p.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    warn_errors(&rep.errors);
    Ok(if rep.errors.is_empty() {
        Outcome::Success
    } else {
        Outcome::Partial
    })
}

/// The findings part of `gdorg demo`: sample findings in some accounts x regions, then the
/// HTML report through the administrator, written to `output`. Cells without a detector get
/// one first, so the step stands on its own whatever the demo did before.
pub async fn demo_findings(
    factory: &ClientFactory,
    accounts: &[String],
    regions: &[String],
    output: &Path,
) -> anyhow::Result<report::Report> {
    let caller = admin::caller(factory.base()).await?;
    for account in accounts {
        let config = if *account == caller.account {
            factory.base().clone()
        } else {
            factory.account(account).await?
        };
        for region in regions {
            let gd = ClientFactory::guardduty(&config, region);
            if admin::detector(&gd).await?.is_none() {
                gd.create_detector()
                    .enable(true)
                    .send()
                    .await
                    .map_err(crate::aws::AwsError::from_sdk("CreateDetector"))?;
            }
        }
    }
    let made = sample::create(factory, &caller.account, accounts, regions, &[]).await;
    if let Some(bad) = made.iter().find(|r| r.result != "created") {
        bail!(
            "sample findings in {} {}: {}",
            bad.account,
            bad.region,
            bad.result
        );
    }
    let read = ReadArgs {
        filter: FilterArgs::default(),
        regions: regions.to_vec(),
        admin_account: None,
        direct: false,
        accounts: Vec::new(),
        concurrency: 8,
    };
    let rep = build_report(factory, &read, 50).await?;
    crate::fsutil::write_atomic(output, report::html::render(&rep).as_bytes())
        .with_context(|| format!("writing {}", output.display()))?;
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_default_validate_and_sort() {
        assert_eq!(resolve_regions(&[]).unwrap().len(), 17);
        assert_eq!(
            resolve_regions(&["us-east-1".into(), " eu-west-1".into(), "us-east-1".into()])
                .unwrap(),
            ["eu-west-1", "us-east-1"]
        );
        let err = resolve_regions(&["moon-1".into()]).unwrap_err().to_string();
        assert!(err.contains("moon-1"), "{err}");
    }

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
