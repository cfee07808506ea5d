//! The CLI edge of `gdorg policies`: turn flags into checked settings, call the library, print
//! (data to stdout, warnings to stderr) and pick the outcome.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};

use super::apply::{self, ApplyRequest, TemplateSet};
use super::render::Vars;
use super::validate::{self, Severity};
use super::{output, template, TEMPLATES};
use crate::aws::{AwsOptions, ClientFactory};
use crate::cli::{GlobalArgs, PoliciesApplyArgs, PoliciesCommand};
use crate::run::Outcome;

pub async fn run(global: &GlobalArgs, cmd: PoliciesCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match cmd {
        PoliciesCommand::List => {
            out.write_all(output::list(TEMPLATES).as_bytes())?;
        }
        PoliciesCommand::Show { name } => {
            out.write_all(named(&name)?.text.as_bytes())?;
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
            out.write_all(output::policy_json(&doc).as_bytes())?;
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
                let doc = super::render::render(&text, &vars).with_context(|| origin.clone())?;
                let kind = kind.unwrap_or_else(|| apply::kind_of(&doc));
                let issues = validate::validate(&doc, kind);
                errors += issues
                    .iter()
                    .filter(|i| i.severity == Severity::Error)
                    .count();
                if issues.is_empty() {
                    writeln!(out, "{origin}: ok")?;
                } else {
                    out.write_all(output::issues(&origin, &issues).as_bytes())?;
                }
            }
            if errors > 0 {
                bail!("{errors} validation error(s)");
            }
        }
        PoliciesCommand::Apply(args) => return apply_cmd(global, &args, &mut out).await,
    }
    Ok(Outcome::Success)
}

async fn apply_cmd(
    global: &GlobalArgs,
    args: &PoliciesApplyArgs,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
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
        concurrency: args.concurrency,
    };
    apply::check_accounts(&req.accounts)?;
    apply::preflight(&req.templates, &req.vars)?;
    let factory = ClientFactory::load(AwsOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
        role_name: global.role_name.clone(),
        external_id: global.external_id.clone(),
        max_attempts: global.max_attempts,
        session_duration: None,
    })
    .await;
    let report = apply::apply(&factory, &req).await?;
    for (origin, issue) in &report.warnings {
        warn(&output::issues(origin, std::slice::from_ref(issue)));
    }
    out.write_all(output::report(&report).as_bytes())?;
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

fn named(name: &str) -> anyhow::Result<&'static super::Template> {
    template(name).with_context(|| format!("no template `{name}` (templates: {})", names()))
}

fn names() -> String {
    TEMPLATES
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Warnings go to stderr, so stdout stays the policy or the report.
fn warn(text: &str) {
    if !text.is_empty() {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}
