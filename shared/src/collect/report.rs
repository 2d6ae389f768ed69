//! What a run did, per provider: the answer of every entry point (JSON of the
//! Lambda, `POST /admin/collect` and `cost-tracker collect`).

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{CollectError, Provider, Trigger};

/// How one provider's part of a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    NotConfigured,
}

/// One provider's part of a run, as answered by every entry point.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderReport {
    pub provider: Provider,
    pub outcome: Outcome,
    /// The logged run (`collection_runs.id`); `None` when nothing ran.
    pub run_id: Option<i64>,
    pub range_start: Option<DateTime<Utc>>,
    pub range_end: Option<DateTime<Utc>>,
    pub chunks: i64,
    pub pages: i64,
    pub buckets: i64,
    /// Bucket-groups upserted: created + updated + unchanged.
    pub records: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// The provider's watermark after the run.
    pub watermark: Option<DateTime<Utc>>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// Whether running again later may fix the error without a change of configuration.
    pub retryable: bool,
}

/// What one [`Collector::collect_once`](super::Collector::collect_once) did, per provider.
#[derive(Debug, Clone, Serialize)]
pub struct CollectReport {
    pub trigger: Trigger,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub providers: Vec<ProviderReport>,
}

impl CollectReport {
    /// True when no provider failed.
    pub fn succeeded(&self) -> bool {
        self.providers.iter().all(|p| p.outcome != Outcome::Failed)
    }

    /// The failures, for a one-line summary.
    pub fn failures(&self) -> Vec<&ProviderReport> {
        self.providers
            .iter()
            .filter(|p| p.outcome == Outcome::Failed)
            .collect()
    }
}

impl ProviderReport {
    /// The report of a provider without a key: nothing ran.
    pub(super) fn not_configured(provider: Provider) -> Self {
        ProviderReport {
            provider,
            outcome: Outcome::NotConfigured,
            run_id: None,
            range_start: None,
            range_end: None,
            chunks: 0,
            pages: 0,
            buckets: 0,
            records: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            watermark: None,
            duration_ms: 0,
            error: None,
            retryable: false,
        }
    }

    /// Marks the report failed with `err`, timed from `clock`.
    pub(super) fn failed(mut self, err: CollectError, clock: Instant) -> Self {
        self.outcome = Outcome::Failed;
        self.retryable = err.retryable();
        self.error = Some(err.to_string());
        self.duration_ms = clock.elapsed().as_millis() as i64;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_succeeds_unless_a_provider_failed() {
        let failed = ProviderReport::not_configured(Provider::Openai).failed(
            CollectError::Malformed {
                provider: Provider::Openai,
                endpoint: "GET /u",
                detail: "`data` is not a list".into(),
            },
            Instant::now(),
        );
        assert!(failed.retryable);
        let mut report = CollectReport {
            trigger: Trigger::Api,
            started_at: Utc::now(),
            duration_ms: 0,
            providers: vec![ProviderReport::not_configured(Provider::Anthropic)],
        };
        assert!(report.succeeded());
        report.providers.push(failed);
        assert!(!report.succeeded());
        assert_eq!(report.failures().len(), 1);
        assert_eq!(report.failures()[0].provider, Provider::Openai);
    }
}
