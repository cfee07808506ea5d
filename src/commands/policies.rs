//! `gdorg policies list|show|render|validate|apply`: flags into checked settings, the library,
//! and the printed result (policies and reports to stdout, warnings to stderr).

use std::path::Path;

use anyhow::{bail, Context};

use super::{edge, Ctx};
use crate::cli::policies::{PoliciesApplyArgs, PoliciesCommand, ScpApplyArgs, ScpCommand};
use crate::outcome::Outcome;
use crate::policies::apply::{self, ApplyError, ApplyRequest, TemplateSet};
use crate::policies::render::Vars;
use crate::policies::validate::{self, Severity};
use crate::policies::{output, scp, template, TEMPLATES};

pub async fn run(ctx: &Ctx, cmd: PoliciesCommand) -> anyhow::Result<Outcome> {
    let mut out = String::new();
    let warn = |text: &str| {
        if !text.is_empty() {
            ctx.printer.warn(text.trim_end());
        }
    };
    match cmd {
        PoliciesCommand::List => {
            out.push_str(&output::list(TEMPLATES));
        }
        PoliciesCommand::Show { name } => {
            out.push_str(named(&name)?.text);
        }
        PoliciesCommand::Render { name, vars } => {
            let t = named(&name)?;
            let vars = Vars::from_assignments(&vars)?;
            let source = TemplateSet::builtin()
                .sources
                .into_iter()
                .find(|s| s.template.name == t.name)
                .expect("catalog template");
            let (doc, warnings) = apply::render_checked(&source, &vars)?;
            warn(&output::issues(&source.origin, &warnings));
            out.push_str(&output::policy_json(&doc));
        }
        PoliciesCommand::Validate { target, vars } => {
            let vars = Vars::from_assignments(&vars)?.or(&Vars::examples());
            let mut errors = 0;
            let checked = match target {
                None => TEMPLATES
                    .iter()
                    .map(|t| {
                        (
                            format!("policies/{}", t.file),
                            t.text.to_string(),
                            Some(t.kind),
                        )
                    })
                    .collect(),
                Some(name) => match template(&name) {
                    Some(t) => vec![(
                        format!("policies/{}", t.file),
                        t.text.to_string(),
                        Some(t.kind),
                    )],
                    None if Path::new(&name).is_file() => {
                        let text = std::fs::read_to_string(&name)
                            .with_context(|| format!("reading {name}"))?;
                        vec![(name, text, None)]
                    }
                    None => bail!(
                        "no template or file named `{name}` (templates: {})",
                        names()
                    ),
                },
            };
            for (origin, text, kind) in checked {
                let doc = crate::policies::render::render(&text, &vars)
                    .with_context(|| origin.clone())?;
                let kind = kind.unwrap_or_else(|| apply::kind_of(&doc));
                let issues = validate::validate(&doc, kind);
                errors += issues
                    .iter()
                    .filter(|i| i.severity == Severity::Error)
                    .count();
                if issues.is_empty() {
                    out.push_str(&format!("{origin}: ok\n"));
                } else {
                    out.push_str(&output::issues(&origin, &issues));
                }
            }
            ctx.printer.data(&out)?;
            if errors > 0 {
                bail!("{errors} validation error(s)");
            }
            return Ok(Outcome::Success);
        }
        PoliciesCommand::Apply(args) => return apply_cmd(ctx, &args).await,
        PoliciesCommand::Scp(ScpCommand::Apply(args)) => return scp_cmd(ctx, &args).await,
    }
    ctx.printer.data(&out)?;
    Ok(Outcome::Success)
}

async fn apply_cmd(ctx: &Ctx, args: &PoliciesApplyArgs) -> anyhow::Result<Outcome> {
    // Settings first, all checked before any call.
    let vars = Vars::from_assignments(&args.vars)?;
    let templates = match &args.templates {
        Some(dir) => TemplateSet::with_overrides(dir)
            .with_context(|| format!("reading templates from {}", dir.display()))?,
        None => TemplateSet::builtin(),
    };
    let req = ApplyRequest {
        templates,
        vars,
        accounts: args.accounts.clone(),
        dry_run: args.dry_run,
        concurrency: args.run.limits()?.concurrency,
    };
    apply::check_accounts(&req.accounts)?;
    apply::preflight(&req.templates, &req.vars)?;
    let session = ctx.session().await?;
    let progress = ctx.printer.progress();
    let report = apply::apply(&session, &req, &progress, &ctx.stop)
        .await
        .map_err(|e| match e {
            ApplyError::Accounts(e) => edge(e, "listing the organization's accounts"),
            other => other.into(),
        })?;
    for (origin, issue) in &report.warnings {
        ctx.printer
            .warn(output::issues(origin, std::slice::from_ref(issue)).trim_end());
    }
    ctx.printer.data(&output::report(&report))?;
    if report.not_started > 0 {
        ctx.printer.note(&format!(
            "interrupted: {} account(s) not started; run the command again to finish",
            report.not_started
        ));
        return Ok(Outcome::Partial);
    }
    if report.accounts.is_empty() {
        return Ok(Outcome::Success);
    }
    let failed = report.failed().count();
    if failed == report.accounts.len() {
        bail!("apply failed in every account ({failed})");
    }
    Ok(if failed > 0 {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

async fn scp_cmd(ctx: &Ctx, args: &ScpApplyArgs) -> anyhow::Result<Outcome> {
    let vars = Vars::from_assignments(&args.vars)?;
    let templates = match &args.templates {
        Some(dir) => TemplateSet::with_overrides(dir)
            .with_context(|| format!("reading templates from {}", dir.display()))?,
        None => TemplateSet::builtin(),
    };
    let req = scp::ScpRequest {
        templates,
        vars,
        name: args.name.clone(),
        targets: args.targets.clone(),
        dry_run: args.dry_run,
    };
    scp::check_targets(&req.targets)?;
    let session = ctx.session().await?;
    let report = scp::apply(&session, &req).await.map_err(|e| match e {
        scp::ScpError::Observe(e) => edge(
            e,
            &format!(
                "account {}: reading the organization's roots and policies",
                session.caller
            ),
        ),
        other => other.into(),
    })?;
    ctx.printer.data(&scp::report_text(&report))?;
    if report.failure.is_some() {
        bail!(
            "the guard SCP is not fully in place ({} of {} change(s) made)",
            report.done,
            report.steps.len()
        );
    }
    Ok(Outcome::Success)
}

fn named(name: &str) -> anyhow::Result<&'static crate::policies::Template> {
    template(name).with_context(|| format!("no template `{name}` (templates: {})", names()))
}

fn names() -> String {
    TEMPLATES
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}
