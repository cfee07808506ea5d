//! `gdorg report`: the consolidated findings report, with the audit's coverage of the same
//! scope, to stdout or written atomically to `--output`.

use super::{edge, Ctx};
use crate::cli::findings::ReportArgs;
use crate::outcome::Outcome;
use crate::report::build::BuildError;
use crate::report::manifest::{self, FileDigest};

pub async fn run(ctx: &Ctx, a: &ReportArgs) -> anyhow::Result<Outcome> {
    let read = a.read.resolve()?;
    if a.manifest && a.output.file().is_none() {
        anyhow::bail!(
            "--manifest describes the files written: give the report a file with --output FILE"
        );
    }
    let session = ctx.session().await?;
    let progress = ctx.printer.progress();
    let built = crate::report::build::build(session, &read, a.top, &progress, &ctx.stop)
        .await
        .map_err(|e| match e {
            BuildError::Aws(e) => edge(e, "report"),
            other => other.into(),
        })?;
    let rep = &built.report;
    let text = crate::report::render(rep, a.format)?;
    ctx.printer.write(a.output.file(), &text)?;
    if let (true, Some(file)) = (a.manifest, a.output.file()) {
        // Hashed from the bytes written, and written after the report is in place.
        let digest = FileDigest::of(file, text.as_bytes());
        let m = manifest::Manifest::new(&rep.scope, vec![digest]);
        let path = manifest::path_for(file);
        ctx.printer.write(Some(&path), &m.to_json())?;
        ctx.printer
            .note(&format!("manifest written to {}", path.display()));
    }
    for e in &rep.errors {
        ctx.printer.warn(&format!("not read: {e}"));
    }
    if let Some(p) = a.output.file() {
        ctx.printer.note(&format!(
            "report written to {}: {} current finding(s), {} archived; {} of {} account x region cells monitored",
            p.display(),
            rep.totals.current_total,
            rep.totals.archived_total,
            rep.coverage.monitored,
            rep.coverage.counted
        ));
    }
    if built.interrupted {
        ctx.printer.note("interrupted: the report holds what was read before the stop (its errors section says what was not)");
        return Ok(Outcome::Partial);
    }
    Ok(Outcome::partial_if(!rep.errors.is_empty()))
}
