//! gdorg: Amazon GuardDuty across a whole AWS organization, from one administrator account.
//!
//! Data flows one way: **CLI → settings → observe → plan → execute → report**.
//!
//! | module | owns |
//! | --- | --- |
//! | [`cli`] | the clap definitions; doc comments are the help text |
//! | [`regions`] | the built-in list of GuardDuty commercial regions (the one place it lives) |
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

pub mod aws;
pub mod cli;
pub mod demo;
pub mod findings;
pub mod findings_cli;
pub mod fsutil;
pub mod policies;
pub mod regions;
pub mod report;
pub mod run;
pub mod sandbox;
