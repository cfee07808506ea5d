//! `gdorg findings list|export|count|archive|unarchive|feedback`. Data goes to stdout (or
//! `--output`, written atomically); notes and warnings to stderr. A Ctrl-C during a listing or
//! an export stops reading after the current page, and the file written holds every finding
//! read until then, whole.

use std::io::Write;

use anyhow::{bail, Context};

use super::{edge, Ctx};
use crate::aws::Session;
use crate::cli::findings::{
    ActArgs, CountArgs, CountFormat, FindingsCommand, ListArgs, ListFormat,
};
use crate::findings::archive::{self, Selection, Verb};
use crate::findings::collect::{self, CollectSummary};
use crate::findings::columnar::ParquetExport;
use crate::findings::record::FindingRecord;
use crate::findings::saved::SavedFilters;
use crate::findings::source::{self, ReadOptions, Reading};
use crate::findings::{criteria, ocsf, stats};
use crate::outcome::Outcome;
use crate::report::{self, coverage::Coverage, Aggregator};

pub async fn run(ctx: &Ctx, cmd: &FindingsCommand) -> anyhow::Result<Outcome> {
    match cmd {
        FindingsCommand::List(a) => list(ctx, a, a.format.unwrap_or(ListFormat::Table)).await,
        FindingsCommand::Export(a) => list(ctx, a, a.format.unwrap_or(ListFormat::Ndjson)).await,
        FindingsCommand::Count(a) => count(ctx, a).await,
        FindingsCommand::Archive(a) => act(ctx, a, Verb::Archive).await,
        FindingsCommand::Unarchive(a) => act(ctx, a, Verb::Unarchive).await,
        FindingsCommand::Feedback(a) => {
            let verb = Verb::Feedback {
                useful: a.useful,
                comments: a.comments.clone(),
            };
            act(ctx, &a.act, verb).await
        }
    }
}

/// Resolve the administrator (or the accounts of --direct) after the flags are checked.
pub async fn prepare(session: &Session, read: &ReadOptions) -> anyhow::Result<Reading> {
    source::prepare(session, read)
        .await
        .map_err(|e| edge(e, "finding the administrator"))
}

async fn list(ctx: &Ctx, a: &ListArgs, format: ListFormat) -> anyhow::Result<Outcome> {
    let read = a.read.resolve()?;
    if format == ListFormat::Parquet {
        return parquet(ctx, a, read).await;
    }
    let session = ctx.session().await?;
    let mut r = prepare(&session, &read).await?;
    let targets = std::mem::take(&mut r.targets);
    let mut out = ctx.printer.sink(a.output.file())?;
    let progress = ctx.printer.progress();
    let (stop, limit) = (&ctx.stop, read.limits.concurrency);
    let summary = match format {
        ListFormat::Parquet => unreachable!("written above"),
        ListFormat::Ocsf => {
            collect::collect(targets, &r.filter, limit, &progress, stop, |f| {
                serde_json::to_writer(&mut out, &ocsf::detection_finding(&f))?;
                out.write_all(b"\n")
            })
            .await?
        }
        ListFormat::Ndjson => {
            collect::collect(targets, &r.filter, limit, &progress, stop, |f| {
                serde_json::to_writer(&mut out, &f)?;
                out.write_all(b"\n")
            })
            .await?
        }
        ListFormat::Json => {
            let mut first = true;
            out.write_all(b"[")?;
            let s = collect::collect(targets, &r.filter, limit, &progress, stop, |f| {
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
            let s = collect::collect(targets, &r.filter, limit, &progress, stop, |f| {
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
            let s = collect::collect(targets, &r.filter, limit, &progress, stop, |f| {
                agg.add(&f);
                Ok(())
            })
            .await?;
            let scope = report::build::scope_of(&r, &s, "", "");
            let rep = agg.finish(scope, Coverage::default(), vec![]);
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
    // Whether complete or cut short by a stop, what was read is whole: put it in place.
    out.finish()?;
    Ok(summarize(ctx, &summary, &r.early_errors, a.output.file()))
}

/// `--format parquet`: a directory of Hive-partitioned files, each put in place whole.
async fn parquet(ctx: &Ctx, a: &ListArgs, read: ReadOptions) -> anyhow::Result<Outcome> {
    let Some(dir) = a.output.file() else {
        bail!("--format parquet writes a directory of files: give it with --output DIR");
    };
    // Checked before any call: the directory must be new or empty.
    let mut export = ParquetExport::create(dir)?;
    let session = ctx.session().await?;
    let mut r = prepare(&session, &read).await?;
    let targets = std::mem::take(&mut r.targets);
    let progress = ctx.printer.progress();
    let summary = collect::collect(
        targets,
        &r.filter,
        read.limits.concurrency,
        &progress,
        &ctx.stop,
        |f| export.push(f).map_err(std::io::Error::other),
    )
    .await?;
    // Interrupted or not, every buffered row is written and every file closed whole.
    let written = export.finish()?;
    ctx.printer.note(&format!(
        "{} finding(s) in {} Parquet file(s) under {}",
        summary.matched,
        written.len(),
        dir.display()
    ));
    Ok(summarize(ctx, &summary, &r.early_errors, Some(dir)))
}

/// Say what a collection did not read, and pick the outcome.
fn summarize(
    ctx: &Ctx,
    s: &CollectSummary,
    early: &[String],
    file: Option<&std::path::Path>,
) -> Outcome {
    let mut failed = !early.is_empty();
    for e in early {
        ctx.printer.warn(&format!("not read: {e}"));
    }
    for e in &s.errors {
        failed = true;
        ctx.printer.warn(&format!(
            "not read: {} {}: {}",
            e.account, e.region, e.error
        ));
    }
    if !s.region_not_enabled.is_empty() {
        let regions: Vec<&str> = s
            .region_not_enabled
            .iter()
            .map(|(_, r)| r.as_str())
            .collect();
        ctx.printer.note(&format!(
            "{} region(s) not enabled, nothing to read there: {}",
            regions.len(),
            regions.join(",")
        ));
    }
    if s.interrupted {
        let whole = match file {
            Some(p) => format!("{} holds", p.display()),
            None => "the output holds".into(),
        };
        ctx.printer.note(&format!(
            "interrupted: {whole} the {} finding(s) read before the stop, each complete; {} account x region cell(s) were cut short and {} not read. Run the command again for all of them.",
            s.matched,
            s.partly_read.len(),
            s.not_started.len()
        ));
        return Outcome::Partial;
    }
    Outcome::partial_if(failed)
}

async fn count(ctx: &Ctx, a: &CountArgs) -> anyhow::Result<Outcome> {
    let read = a.read.resolve()?;
    let t = criteria::translate(&read.filter);
    if !t.exact || !read.filter.regions.is_empty() {
        bail!("this filter needs client-side matching (type prefixes, gaps between bands or fractional scores), which GetFindingsStatistics cannot do; use `gdorg report` or `findings list` for exact counts");
    }
    if read.direct {
        bail!("count reads the administrator's statistics; --direct is not supported here");
    }
    let session = ctx.session().await?;
    let r = prepare(&session, &read).await?;
    let adm = r.admin.as_ref().expect("administrator mode");
    let progress = ctx.printer.progress();
    let counts = stats::count(
        &adm.config,
        &read.regions,
        &t.criteria,
        read.limits.concurrency,
        &progress,
        &ctx.stop,
    )
    .await
    .map_err(|(region, e)| edge(e, &format!("counting in {region} through {}", adm.account)))?;
    // Qualify the counts with the coverage the audit would report for the same scope.
    let coverage = if ctx.stop.is_stopped() {
        Coverage::unavailable("not gathered: the run was stopped")
    } else {
        crate::report::build::coverage_for(
            session.clone(),
            &adm.account,
            &read.regions,
            read.limits.concurrency,
            &progress,
            &ctx.stop,
        )
        .await
    };
    let result = CountResult::new(&adm.account, &read.regions, counts, coverage);
    let text = match a.format {
        CountFormat::Json => serde_json::to_string_pretty(&result)? + "\n",
        CountFormat::Table => result.table(),
    };
    ctx.printer.data(&text)?;
    if !result.not_counted.is_empty() {
        ctx.printer.note(&format!(
            "interrupted: {} region(s) not counted: {}",
            result.not_counted.len(),
            result.not_counted.join(",")
        ));
        return Ok(Outcome::Partial);
    }
    Ok(Outcome::Success)
}

/// What `findings count` prints: exact totals, and which cells nobody was watching.
#[derive(Debug, serde::Serialize)]
pub struct CountResult {
    pub administrator: String,
    pub regions: Vec<String>,
    pub total: i64,
    pub by_account: std::collections::BTreeMap<String, i64>,
    pub by_type: std::collections::BTreeMap<String, i64>,
    pub without_detector: Vec<String>,
    pub region_not_enabled: Vec<String>,
    pub not_counted: Vec<String>,
    /// Where the coverage comes from, and the account x region cells not monitored (their
    /// counts are not the whole story).
    pub coverage: String,
    pub not_monitored: Vec<NotMonitored>,
}

#[derive(Debug, serde::Serialize)]
pub struct NotMonitored {
    pub account: String,
    pub region: String,
    pub status: String,
    pub findings: i64,
}

impl CountResult {
    fn new(
        administrator: &str,
        regions: &[String],
        c: stats::Counts,
        coverage: Coverage,
    ) -> CountResult {
        let not_monitored = coverage
            .not_monitored()
            .map(|r| NotMonitored {
                account: r.account.clone(),
                region: r.region.clone(),
                status: r.status.clone(),
                findings: c
                    .by_account_region
                    .get(&r.account)
                    .and_then(|m| m.get(&r.region))
                    .copied()
                    .unwrap_or(0),
            })
            .collect();
        CountResult {
            administrator: administrator.into(),
            regions: regions.to_vec(),
            total: c.total(),
            by_account: c.by_account,
            by_type: c.by_type,
            without_detector: c.without_detector,
            region_not_enabled: c.region_not_enabled,
            not_counted: c.not_counted,
            coverage: coverage.source,
            not_monitored,
        }
    }

    fn table(&self) -> String {
        let mut out = format!(
            "{} finding(s) through administrator {} in {} region(s), {} account(s)\n",
            self.total,
            self.administrator,
            self.regions.len(),
            self.by_account.len()
        );
        for (a, n) in &self.by_account {
            out.push_str(&format!("  {a}  {n}\n"));
        }
        out.push_str("by type:\n");
        let mut types: Vec<_> = self.by_type.iter().collect();
        types.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (t, n) in types {
            out.push_str(&format!("  {n:>6}  {t}\n"));
        }
        if !self.not_monitored.is_empty() {
            out.push_str(&format!(
                "not monitored ({} cells; their counts are not complete):\n",
                self.not_monitored.len()
            ));
            for m in &self.not_monitored {
                out.push_str(&format!("  {} {}: {}\n", m.account, m.region, m.status));
            }
        }
        out
    }
}

async fn act(ctx: &Ctx, a: &ActArgs, verb: Verb) -> anyhow::Result<Outcome> {
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
    let regions = a.regions.resolve()?;
    if let Some(id) = &a.admin_account {
        crate::settings::check_account_id(id)?;
    }
    let session = ctx.session().await?;
    // Archive acts with the caller's own credentials, or the administrator's role when named;
    // either way the preflight refuses unless they are the administrator's.
    let (config, caller) = match &a.admin_account {
        Some(id) if *id != session.caller => {
            let config = session
                .config(id)
                .await
                .map_err(|e| edge(e, &format!("acting as administrator {id}")))?;
            let acting = Session::new(crate::aws::ClientFactory::from_config(
                config.clone(),
                ctx.global.aws_options(),
            ))
            .await
            .map_err(|e| edge(e, &format!("acting as administrator {id}")))?;
            (config, acting.identity())
        }
        _ => (session.factory.base().clone(), session.identity()),
    };
    let plan = archive::plan(&config, &caller, &regions, &selection, verb).await?;
    ctx.printer.note(&format!(
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
    ));
    if a.dry_run {
        let mut text = String::new();
        for rp in &plan.regions {
            for f in &rp.findings {
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}\n",
                    rp.region, f.account_id, f.id, f.finding_type
                ));
            }
        }
        ctx.printer.data(&text)?;
        return Ok(Outcome::Success);
    }
    let progress = ctx.printer.progress();
    let done = archive::execute(&config, &plan, &progress, &ctx.stop).await;
    let mut text = String::new();
    for (region, ids) in &done.done {
        for id in ids {
            text.push_str(&format!("{region}\t{id}\t{}\n", plan.verb.name()));
        }
    }
    ctx.printer.data(&text)?;
    for e in &done.errors {
        ctx.printer.warn(e);
    }
    if done.not_sent > 0 {
        ctx.printer.note(&format!(
            "interrupted: {} finding(s) not sent; the ones listed were done. Run the command again for the rest.",
            done.not_sent
        ));
        return Ok(Outcome::Partial);
    }
    Ok(Outcome::partial_if(!done.errors.is_empty()))
}
