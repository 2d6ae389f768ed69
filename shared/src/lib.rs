//! AI Cost Tracker library: every piece of logic, testable without Lambda.

pub mod app;
pub mod bill_check;
pub mod budgets;
pub mod collect;
pub mod config;
pub mod cv;
pub mod demo;
pub mod domain;
pub mod handoff;
pub mod http;
pub mod import;
pub mod ingest;
pub mod ledger;
pub mod outbound;
pub mod prices;
pub mod reconciliation;
pub mod reports;
pub mod secrets;
pub mod store;
pub mod tasks;
