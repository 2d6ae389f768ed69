//! The [`Collector`]: runs a [`CollectRequest`] provider by provider, chunk by chunk,
//! logging each run and moving a provider's watermark only past committed chunks.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::request::{chunks, floor_hour, normal_range};
use super::{
    anthropic, bill, openai, CollectError, CollectReport, CollectRequest, Outcome, Provider,
    ProviderAccess, ProviderClient, ProviderReport, RequestError,
};
use crate::config::Config;
use crate::domain::usage::NewUsage;
use crate::ledger::Ledger;
use crate::outbound::{RetryPolicy, RunGuard};
use crate::store::{BillChunk, CollectionRun, Coverage, RunStatus, StoreError, WriteStatus};

/// Settings of collection, taken from [`Config`].
#[derive(Debug, Clone)]
pub struct CollectSettings {
    pub anthropic: Option<ProviderAccess>,
    pub openai: Option<ProviderAccess>,
    pub backfill_days: u32,
    pub lookback_hours: u32,
    /// Longest range fetched and committed as one unit (7 days).
    pub chunk: Duration,
    pub retry: RetryPolicy,
}

impl CollectSettings {
    pub fn from_config(config: &Config) -> Self {
        let access = |key: &Option<crate::config::Secret>, base: &str| {
            key.clone().map(|key| ProviderAccess {
                base_url: base.to_string(),
                key,
            })
        };
        CollectSettings {
            anthropic: access(&config.anthropic_admin_key, &config.anthropic_base_url),
            openai: access(&config.openai_admin_key, &config.openai_base_url),
            backfill_days: config.collection_backfill_days,
            lookback_hours: config.collection_lookback_hours,
            chunk: Duration::days(7),
            retry: RetryPolicy::default(),
        }
    }

    fn access(&self, provider: Provider) -> Option<&ProviderAccess> {
        match provider {
            Provider::Anthropic => self.anthropic.as_ref(),
            Provider::Openai => self.openai.as_ref(),
        }
    }

    /// Providers with a key.
    pub fn configured(&self) -> Vec<Provider> {
        Provider::ALL
            .into_iter()
            .filter(|p| self.access(*p).is_some())
            .collect()
    }
}

/// One fetched chunk: the bucket-groups it holds and what it took.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    pub usage: Vec<NewUsage>,
    pub pages: i64,
    pub buckets: i64,
}

/// A provider's usage API, as collection needs it.
#[async_trait]
pub(crate) trait UsageApi: Send + Sync {
    /// Fetches the id → name listings used to label records (once per run).
    async fn load_names(&mut self) -> Result<(), CollectError>;
    /// Every bucket-group of the hourly buckets in `[start, end)`, all pages.
    async fn fetch(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Chunk, CollectError>;
}

/// Runs collections; cheap to clone, one run at a time per process.
#[derive(Clone)]
pub struct Collector {
    ledger: Ledger,
    settings: Arc<CollectSettings>,
    http: reqwest::Client,
    running: RunGuard,
}

impl Collector {
    pub fn new(ledger: Ledger, settings: CollectSettings) -> Self {
        Collector {
            ledger,
            settings: Arc::new(settings),
            http: crate::outbound::outbound_client(),
            running: RunGuard::default(),
        }
    }

    pub fn from_config(ledger: Ledger, config: &Config) -> Self {
        Self::new(ledger, CollectSettings::from_config(config))
    }

    pub fn settings(&self) -> &CollectSettings {
        &self.settings
    }

    /// Collects as asked. Provider failures are in the report (one failing provider
    /// does not stop the other); only a request naming an unconfigured provider is an error.
    #[tracing::instrument(skip_all, fields(provider = ?request.provider), err(level = "info"))]
    pub async fn collect_once(
        &self,
        request: CollectRequest,
        now: DateTime<Utc>,
    ) -> Result<CollectReport, RequestError> {
        close_stale_runs(self.ledger.store().as_ref(), now).await;
        if let Some(provider) = request.provider {
            if self.settings.access(provider).is_none() {
                return Err(RequestError::new(
                    "provider",
                    format!(
                        "{provider} is not configured (set {})",
                        provider.key_variable()
                    ),
                ));
            }
        }
        let _one_at_a_time = self.running.start().await;
        let clock = Instant::now();
        let started_at = Utc::now();
        let mut providers = Vec::new();
        for provider in Provider::ALL {
            if request.provider.is_some_and(|p| p != provider) {
                continue;
            }
            let report = match self.settings.access(provider) {
                Some(access) => self.run_provider(provider, access, &request, now).await,
                None => ProviderReport::not_configured(provider),
            };
            providers.push(report);
        }
        Ok(CollectReport {
            trigger: request.trigger,
            started_at,
            duration_ms: clock.elapsed().as_millis() as i64,
            providers,
        })
    }

    fn client(&self, provider: Provider, access: &ProviderAccess) -> ProviderClient {
        ProviderClient::new(
            provider,
            access.clone(),
            self.http.clone(),
            self.settings.retry,
        )
    }

    fn api(&self, provider: Provider, access: &ProviderAccess) -> Box<dyn UsageApi> {
        let client = self.client(provider, access);
        match provider {
            Provider::Anthropic => Box::new(anthropic::AnthropicApi::new(client)),
            Provider::Openai => Box::new(openai::OpenaiApi::new(client)),
        }
    }

    /// The range of a normal run, from the provider's watermark.
    #[tracing::instrument(level = "debug", skip_all, fields(provider = %provider), err)]
    async fn normal_range(
        &self,
        provider: Provider,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), StoreError> {
        let watermark = self.ledger.store().watermark(provider.as_str()).await?;
        Ok(normal_range(
            watermark,
            Duration::hours(i64::from(self.settings.lookback_hours)),
            Duration::days(i64::from(self.settings.backfill_days)),
            now,
        ))
    }

    /// One provider's part of a run: its range, fetched and stored, logged as a run.
    async fn run_provider(
        &self,
        provider: Provider,
        access: &ProviderAccess,
        request: &CollectRequest,
        now: DateTime<Utc>,
    ) -> ProviderReport {
        let clock = Instant::now();
        let store = self.ledger.store();
        let mut report = ProviderReport::not_configured(provider);
        report.outcome = Outcome::Failed;
        let (start, end) = match request.range {
            Some((start, end)) => (floor_hour(start), end),
            None => match self.normal_range(provider, now).await {
                Ok(range) => range,
                Err(err) => return report.failed(CollectError::from(err), clock),
            },
        };
        report.range_start = Some(start);
        report.range_end = Some(end);
        let mut run = CollectionRun {
            id: 0,
            provider: provider.as_str().to_string(),
            trigger: request.trigger,
            status: RunStatus::Running,
            started_at: Utc::now(),
            finished_at: None,
            range_start: start,
            range_end: end,
            chunks: 0,
            pages: 0,
            buckets: 0,
            records: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            error: None,
            duration_ms: None,
        };
        let result = self
            .collect_chunks(provider, access, request, &mut run, &mut report, clock)
            .await;
        run.finished_at = Some(Utc::now());
        run.duration_ms = Some(clock.elapsed().as_millis() as i64);
        match &result {
            Ok(()) => run.status = RunStatus::Succeeded,
            Err(err) => {
                run.status = RunStatus::Failed;
                run.error = Some(err.to_string());
            }
        }
        if run.id != 0 {
            if let Err(err) = store.save_run(&run).await {
                tracing::error!(provider = %provider, error = %err, "could not log the collection run");
            }
        }
        report.chunks = run.chunks;
        report.pages = run.pages;
        report.buckets = run.buckets;
        report.records = run.records;
        report.created = run.created;
        report.updated = run.updated;
        report.unchanged = run.unchanged;
        report.watermark = store.watermark(provider.as_str()).await.ok().flatten();
        let report = match result {
            Ok(()) => {
                report.outcome = Outcome::Succeeded;
                report.duration_ms = clock.elapsed().as_millis() as i64;
                report
            }
            Err(err) => report.failed(err, clock),
        };
        tracing::info!(
            provider = %provider,
            trigger = request.trigger.as_str(),
            start = %start,
            end = %end,
            pages = report.pages,
            records = report.records,
            created = report.created,
            updated = report.updated,
            status = ?report.outcome,
            error = report.error.as_deref().unwrap_or(""),
            duration_ms = report.duration_ms,
            "collection run"
        );
        report
    }

    /// Logs `run`, then fetches and stores its range chunk by chunk; after each
    /// committed chunk the watermark may move past it and the run's counts are saved.
    #[tracing::instrument(level = "debug", skip_all, fields(provider = %provider), err)]
    async fn collect_chunks(
        &self,
        provider: Provider,
        access: &ProviderAccess,
        request: &CollectRequest,
        run: &mut CollectionRun,
        report: &mut ProviderReport,
        clock: Instant,
    ) -> Result<(), CollectError> {
        let store = self.ledger.store();
        run.id = store.save_run(run).await?;
        report.run_id = Some(run.id);
        let mut api = self.api(provider, access);
        let billing = self.client(provider, access);
        api.load_names().await?;
        for (chunk_start, chunk_end) in chunks(run.range_start, run.range_end, self.settings.chunk)
        {
            let chunk = api.fetch(chunk_start, chunk_end).await?;
            // The bill of the whole days that end in this chunk, stored with its usage.
            let days = bill::bill_days(run.range_start, (chunk_start, chunk_end));
            let lines = match days {
                Some(days) => bill::fetch_bill(&billing, days).await?,
                None => Vec::new(),
            };
            let bill = BillChunk {
                provider: provider.as_str().to_string(),
                days,
                lines,
            };
            let coverage = Coverage::of_range(
                provider.as_str(),
                chunk_start.timestamp(),
                chunk_end.timestamp(),
            );
            let outcomes = self
                .ledger
                .ingest_collected_billed(chunk.usage, &coverage, &bill)
                .await?;
            // Committed: only now may the watermark move past this chunk.
            if request.range.is_none() {
                store
                    .advance_watermark(provider.as_str(), floor_hour(chunk_end))
                    .await?;
            }
            run.chunks += 1;
            run.pages += chunk.pages;
            run.buckets += chunk.buckets;
            for outcome in &outcomes {
                match outcome.status {
                    WriteStatus::Created => run.created += 1,
                    WriteStatus::Updated => run.updated += 1,
                    WriteStatus::Unchanged => run.unchanged += 1,
                }
            }
            run.records += outcomes.len() as i64;
            run.duration_ms = Some(clock.elapsed().as_millis() as i64);
            store.save_run(run).await?;
        }
        Ok(())
    }
}

/// A run still `running` this long after it started is dead: a collector Lambda is
/// stopped at 15 minutes, and a server's run saves its progress chunk by chunk.
pub const STALE_RUN_AFTER: Duration = Duration::hours(1);

/// Closes as failed the runs whose process died (next start or run); a failure to
/// do so is logged, never a reason not to run.
pub async fn close_stale_runs(store: &dyn crate::store::Store, now: DateTime<Utc>) {
    match store.close_stale_runs(now - STALE_RUN_AFTER).await {
        Ok(0) => {}
        Ok(closed) => tracing::warn!(closed, "closed runs left running by a process that ended"),
        Err(err) => tracing::warn!(error = %err, "could not close stale runs"),
    }
}
