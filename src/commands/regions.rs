//! `gdorg regions`: the GuardDuty commercial regions gdorg knows, opt-in ones marked.

use super::Ctx;
use crate::outcome::Outcome;

pub fn run(ctx: &Ctx) -> anyhow::Result<Outcome> {
    let mut text = String::new();
    for r in crate::regions::COMMERCIAL {
        text.push_str(r.name);
        if r.opt_in {
            text.push_str("\t(opt-in)");
        }
        text.push('\n');
    }
    ctx.printer.data(&text)?;
    Ok(Outcome::Success)
}
