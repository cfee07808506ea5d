//! One file per command: each turns its flags into settings (every check before the first
//! call), calls the library, and prints through the [`Printer`]. [`run`] dispatches; [`Ctx`]
//! is the run machinery every command shares: the printer, the Ctrl-C stop, the AWS session.
//!
//! | module | command |
//! | --- | --- |
//! | [`rollout`] | `plan`, `rollout`, `offboard` |
//! | [`audit`] | `audit` |
//! | [`coverage`] | `coverage` |
//! | [`usage`] | `usage` |
//! | [`findings`] | `findings list|export|count|archive|unarchive|feedback` |
//! | [`filters`] | `filters sync` |
//! | [`sample`] | `sample-findings` |
//! | [`report`] | `report` |
//! | [`policies`] | `policies ...` |
//! | [`demo`] | `demo` |
//! | [`sandbox`] | `sandbox serve` |
//! | [`regions`] | `regions` |
//! | [`meta`] | `completions`, `man`, `config show` |

pub mod audit;
pub mod coverage;
pub mod demo;
pub mod filters;
pub mod findings;
pub mod meta;
pub mod policies;
pub mod regions;
pub mod report;
pub mod rollout;
pub mod sample;
pub mod sandbox;
pub mod usage;

use std::sync::Arc;

use crate::aws::{Administrator, AwsError, Session};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::control::Stop;
use crate::outcome::Outcome;
use crate::printer::Printer;

/// What every command runs with.
pub struct Ctx {
    pub global: GlobalArgs,
    pub printer: Printer,
    /// Fired by the first Ctrl-C: no new work starts, calls in flight finish, and the command
    /// writes what it has and says what was not done.
    pub stop: Stop,
}

impl Ctx {
    pub fn new(global: GlobalArgs) -> Ctx {
        let printer = Printer::new(global.quiet);
        let stop = Stop::default();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_signal.trigger();
                printer.note(
                    "interrupted: finishing the calls in flight, then writing what was done (Ctrl-C again to quit at once)",
                );
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        Ctx {
            global,
            printer,
            stop,
        }
    }

    /// Connect to AWS: the credential chain, then who the caller is.
    pub async fn session(&self) -> anyhow::Result<Arc<Session>> {
        Session::connect(self.global.aws_options())
            .await
            .map(Arc::new)
            .map_err(|e| edge(e, "connecting to AWS"))
    }

    /// The administrator a command reads or acts through: `admin` (checked already), or the
    /// organization's delegated administrator, or the caller.
    pub async fn administrator(&self, admin: Option<&str>) -> anyhow::Result<Administrator> {
        let session = self.session().await?;
        crate::aws::admin::administrator(&session, admin)
            .await
            .map_err(|e| edge(e, "finding the administrator"))
    }
}

/// An AWS error as the user sees it at the edge: where, what AWS said, and what to do.
pub fn edge(e: AwsError, doing: &str) -> anyhow::Error {
    if e.code == crate::aws::error::NO_CREDENTIALS {
        return anyhow::anyhow!("{}", crate::aws::error::NO_CREDENTIALS_HINT);
    }
    match e.hint() {
        Some(hint) => anyhow::anyhow!("{doing}: {e}; {hint}"),
        None => anyhow::anyhow!("{doing}: {e}"),
    }
}

/// Write CSV `rows` (header first) to stdout or, atomically, to `file`, every cell through the
/// formula-neutralising writer the findings outputs use.
pub fn write_csv(
    ctx: &Ctx,
    file: Option<&std::path::Path>,
    rows: Vec<Vec<String>>,
) -> anyhow::Result<()> {
    let mut sink = ctx.printer.sink(file)?;
    {
        let mut w = crate::report::csv::SafeWriter::new(&mut sink);
        for r in rows {
            w.row(r)?;
        }
        w.flush()?;
    }
    sink.finish()?;
    Ok(())
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let ctx = Ctx::new(cli.global);
    match cli.command {
        Command::Demo(args) => demo::run(&ctx, &args).await,
        Command::Sandbox(crate::cli::sandbox::SandboxCommand::Serve(args)) => {
            sandbox::serve(&ctx, &args).await
        }
        Command::Regions => regions::run(&ctx),
        Command::Plan(args) => {
            rollout::run(&ctx, &args, crate::rollout::Command::Plan, false).await
        }
        Command::Rollout(args) => {
            let cmd = crate::rollout::Command::Rollout {
                dry_run: args.dry_run,
            };
            rollout::run(&ctx, &args.target, cmd, false).await
        }
        Command::Offboard(args) => {
            let cmd = crate::rollout::Command::Offboard {
                dry_run: args.dry_run,
            };
            rollout::run(&ctx, &args.target, cmd, args.delete_detectors).await
        }
        Command::Findings(cmd) => findings::run(&ctx, &cmd).await,
        Command::Filters(cmd) => filters::run(&ctx, &cmd).await,
        Command::SampleFindings(args) => sample::run(&ctx, &args).await,
        Command::Report(args) => report::run(&ctx, &args).await,
        Command::Audit(args) => audit::run(&ctx, &args).await,
        Command::Coverage(args) => coverage::run(&ctx, &args).await,
        Command::Usage(args) => usage::run(&ctx, &args).await,
        Command::Policies(cmd) => policies::run(&ctx, cmd).await,
        Command::Completions(args) => meta::completions(&ctx, &args),
        Command::Man(args) => meta::man(&ctx, &args),
        Command::Config(crate::cli::meta::ConfigCommand::Show(args)) => {
            meta::config_show(&ctx, &args)
        }
    }
}
