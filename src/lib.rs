//! gdorg: Amazon GuardDuty across a whole AWS organization, from one administrator account.
//!
//! Data flows one way: **CLI → settings → observe → plan → execute → report**, and no module
//! imports one above it (a test checks the layers, bottom first):
//!
//! | layer | module | owns |
//! | --- | --- | --- |
//! | 0 | [`outcome`] | how a command ended, for the exit code |
//! | 0 | [`control`] | progress callbacks ([`control::Reporter`]) and the Ctrl-C [`control::Stop`]; bounded fan-out |
//! | 0 | [`fsutil`] | atomic file writes |
//! | 0 | [`markdown`] | a literal Markdown table cell (escaping) |
//! | 0 | [`regions`] | the built-in list of GuardDuty commercial regions (the one place it lives) |
//! | 1 | [`aws`] | client factory, the caller, acting as an account, the organization's accounts and administrator, SDK errors |
//! | 2 | [`settings`] | validated settings and the desired state: accounts, regions, features, limits |
//! | 3 | [`observe`] | reading the GuardDuty state of every account x region |
//! | 4 | [`plan`] | the pure planner: (desired, observed) -> ordered steps and notices |
//! | 5 | [`execute`] | bounded, failure-tolerant, stoppable execution of a plan |
//! | 6 | [`journal`] | the JSON run journal |
//! | 7 | [`rollout`] | `plan` / `rollout` / `offboard`: the flow from settings to report |
//! | 7 | [`audit`] | the coverage model of the organization, drift, renderers |
//! | 7 | [`findings`] | findings across the organization: filters, collection, counts, archive through the administrator |
//! | 7 | [`policies`] | IAM policy templates: render, validate, apply in every account |
//! | 7 | [`coverage`] | runtime coverage through the administrator: clusters and instances, agent health |
//! | 7 | [`usage`] | GuardDuty's cost through the administrator: totals, top accounts, free trials |
//! | 8 | [`report`] | the consolidated findings report: one model (findings + the audit's coverage), renderers |
//! | 9 | [`printer`] | all output: data to stdout or atomic files, notes and progress to stderr |
//! | 10 | [`cli`] | the clap definitions; doc comments are the help text |
//! | 11 | [`commands`] | one file per command, and the run machinery they share |
//! | - | [`sandbox`] | the local AWS organization that speaks the STS, Organizations, IAM and GuardDuty wire protocols |
//!
//! The sandbox shares no code path with the client side, so the tests that drive one with the
//! other check the client rather than echo it.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod audit;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod control;
pub mod coverage;
pub mod execute;
pub mod findings;
pub mod fsutil;
pub mod journal;
pub mod markdown;
pub mod observe;
pub mod outcome;
pub mod plan;
pub mod policies;
pub mod printer;
pub mod regions;
pub mod report;
pub mod rollout;
pub mod sandbox;
pub mod settings;
pub mod usage;
