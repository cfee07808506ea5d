//! gdorg: Amazon GuardDuty across a whole AWS organization, from one administrator account.
//!
//! Data flows one way: **CLI → settings → observe → plan → execute → report**.
//!
//! | module | owns |
//! | --- | --- |
//! | [`cli`] | the clap definitions; doc comments are the help text |
//! | [`regions`] | the built-in list of GuardDuty commercial regions (the one place it lives) |
//! | [`settings`] | validated settings and the desired state: accounts, regions, features, limits |
//! | [`observe`] | reading the GuardDuty state of every account x region |
//! | [`plan`] | the pure planner: (desired, observed) -> ordered steps and notices |
//! | [`execute`] | bounded, failure-tolerant, stoppable execution of a plan; the `Reporter` trait |
//! | [`journal`] | the JSON run journal |
//! | [`rollout`] | `plan` / `rollout` / `offboard`: the flow from settings to report |
//! | [`audit`] | `gdorg audit`: read-only coverage matrix, gaps and fixes, drift, renderers |
//! | [`aws`] | the client factory (base config, one assumed role per account) and SDK error mapping |
//! | [`sandbox`] | the local AWS organization that speaks the STS, Organizations, IAM and GuardDuty wire protocols |
//! | [`demo`] | `gdorg demo`: the main story, on an in-process sandbox |
//! | [`fsutil`] | atomic file writes |
//! | [`findings`] | findings across the organization: filters, collection, archive through the administrator |
//! | [`findings_cli`] | the findings, filters, sample-findings and report commands at the CLI edge |
//! | [`report`] | the consolidated findings report: one model, renderers (table, JSON, CSV, Markdown, HTML) |
//! | [`policies`] | IAM policy templates: render, validate, apply in every account |
//!
//! The sandbox shares no code path with the client side, so the tests that drive one with the
//! other check the client rather than echo it.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod audit;
pub mod aws;
pub mod cli;
pub mod demo;
pub mod execute;
pub mod findings;
pub mod findings_cli;
pub mod fsutil;
pub mod journal;
pub mod observe;
pub mod plan;
pub mod policies;
pub mod regions;
pub mod report;
pub mod rollout;
pub mod run;
pub mod sandbox;
pub mod settings;
