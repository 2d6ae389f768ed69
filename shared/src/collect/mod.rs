//! Collection: pull hourly usage from the Anthropic and OpenAI admin
//! APIs and upsert each bucket-group by its natural key, so re-runs and
//! overlapping windows converge on the same totals.
//!
//! Every entry point (the `collector` Lambda, `POST /admin/collect`,
//! `cost-tracker collect`, the in-process schedule of `serve`) calls
//! [`Collector::collect_once`]. The parts: `request` plans what a run covers,
//! `collector` runs it, `anthropic` and `openai` read each provider's responses
//! (typed in `response`), `paging` follows their pages, `client` sends the
//! requests, `report` says what happened and `event` is the Lambda's contract;
//! `bill` pulls the providers' daily cost reports with each chunk (the bill check).

mod anthropic;
pub(crate) mod bill;
mod client;
mod collector;
mod event;
mod openai;
mod paging;
mod report;
mod request;
mod response;

use serde::Serialize;

use crate::store::StoreError;
pub use crate::store::Trigger;

pub use client::{ProviderAccess, ProviderClient};
pub use collector::{close_stale_runs, CollectSettings, Collector, STALE_RUN_AFTER};
pub use event::{collector_event, parse_event, CollectorFailure};
pub use report::{CollectReport, Outcome, ProviderReport};
pub use request::{floor_hour, CollectRequest, MAX_MANUAL_DAYS};

/// A provider with an admin usage API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Anthropic,
    Openai,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Anthropic, Provider::Openai];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::Openai => "openai",
        }
    }

    pub fn parse(text: &str) -> Option<Provider> {
        match text.trim().to_ascii_lowercase().as_str() {
            "anthropic" => Some(Provider::Anthropic),
            "openai" => Some(Provider::Openai),
            _ => None,
        }
    }

    /// The variable holding this provider's admin key (named in errors, never its value).
    pub fn key_variable(self) -> &'static str {
        match self {
            Provider::Anthropic => "ANTHROPIC_ADMIN_KEY",
            Provider::Openai => "OPENAI_ADMIN_KEY",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one provider's collection stopped. Messages name the endpoint and the key's
/// variable, never the key.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{provider} admin key was rejected by {endpoint} (HTTP {status}: {message}); check {}", provider.key_variable())]
    KeyRejected {
        provider: Provider,
        endpoint: &'static str,
        status: u16,
        message: String,
    },
    #[error("{provider} {endpoint} is unavailable after {attempts} attempt(s): {}{message}", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
    Unavailable {
        provider: Provider,
        endpoint: &'static str,
        status: Option<u16>,
        message: String,
        attempts: u32,
    },
    #[error("{provider} {endpoint} rejected the request (HTTP {status}: {message})")]
    Rejected {
        provider: Provider,
        endpoint: &'static str,
        status: u16,
        message: String,
    },
    #[error("{provider} {endpoint} sent a malformed response: {detail}")]
    Malformed {
        provider: Provider,
        endpoint: &'static str,
        detail: String,
    },
    #[error("storing collected usage failed: {0}")]
    Store(#[from] StoreError),
}

impl CollectError {
    /// Whether running again later may succeed without anyone changing anything.
    pub fn retryable(&self) -> bool {
        match self {
            CollectError::KeyRejected { .. } | CollectError::Rejected { .. } => false,
            CollectError::Unavailable { .. }
            | CollectError::Malformed { .. }
            | CollectError::Store(_) => true,
        }
    }
}

/// A request that cannot run as asked (a 4xx at the API, a usage error at the CLI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RequestError {
    pub field: &'static str,
    pub message: String,
}

impl RequestError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        RequestError {
            field,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_are_retryable() {
        let rejected = CollectError::KeyRejected {
            provider: Provider::Anthropic,
            endpoint: "GET /x",
            status: 401,
            message: "authentication_error: invalid x-api-key".into(),
        };
        assert!(!rejected.retryable());
        assert!(rejected.to_string().contains("ANTHROPIC_ADMIN_KEY"));
        let unavailable = CollectError::Unavailable {
            provider: Provider::Openai,
            endpoint: "GET /y",
            status: Some(503),
            message: "overloaded".into(),
            attempts: 5,
        };
        assert!(unavailable.retryable());
        assert_eq!(
            unavailable.to_string(),
            "openai GET /y is unavailable after 5 attempt(s): HTTP 503: overloaded"
        );
    }
}
