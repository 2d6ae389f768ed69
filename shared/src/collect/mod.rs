//! Collection: pull hourly usage from the Anthropic and OpenAI admin
//! APIs and upsert each bucket-group by its natural key, so re-runs and
//! overlapping windows converge on the same totals.
//!
//! Every entry point (the `collector` Lambda, `POST /admin/collect`,
//! `cost-tracker collect`, the in-process schedule of `serve`) calls
//! [`Collector::collect_once`].

mod anthropic;
mod client;
mod event;
mod openai;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::domain::usage::NewUsage;
use crate::ledger::Ledger;
use crate::outbound::{RetryPolicy, RunGuard};
pub use crate::store::Trigger;
use crate::store::{CollectionRun, RunStatus, StoreError, WriteMode, WriteStatus};

pub use client::{ProviderAccess, ProviderClient};
pub use event::{collector_event, CollectorFailure};

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

/// One call of [`Collector::collect_once`]: which providers, and an explicit range
/// (both ends) or the normal watermark-based range (neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectRequest {
    /// `None` = every configured provider.
    pub provider: Option<Provider>,
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub trigger: Trigger,
}

/// Longest explicit range one request may ask for.
pub const MAX_MANUAL_DAYS: i64 = 400;

impl CollectRequest {
    /// The normal run: every configured provider, from its watermark.
    pub fn scheduled(trigger: Trigger) -> Self {
        CollectRequest {
            provider: None,
            range: None,
            trigger,
        }
    }

    /// Builds a request from the textual fields every entry point accepts:
    /// `provider` (`anthropic`/`openai`), `start` and `end` (RFC 3339 or
    /// `YYYY-MM-DD` = that UTC midnight). `start` alone runs to now.
    pub fn from_fields(
        provider: Option<&str>,
        start: Option<&str>,
        end: Option<&str>,
        trigger: Trigger,
        now: DateTime<Utc>,
    ) -> Result<Self, RequestError> {
        let provider = provider
            .map(|text| {
                Provider::parse(text).ok_or_else(|| {
                    RequestError::new("provider", format!("`{text}` is not anthropic or openai"))
                })
            })
            .transpose()?;
        let start = start.map(|s| parse_instant("start", s)).transpose()?;
        let end = end.map(|s| parse_instant("end", s)).transpose()?;
        let range = match (start, end) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(RequestError::new("start", "is required when end is given"))
            }
            (Some(start), end) => {
                if start >= now {
                    return Err(RequestError::new("start", "is not in the past"));
                }
                let end = end.unwrap_or(now);
                if end <= start {
                    return Err(RequestError::new("end", "must be after start"));
                }
                if end - start > Duration::days(MAX_MANUAL_DAYS) {
                    return Err(RequestError::new(
                        "end",
                        format!("the range may span at most {MAX_MANUAL_DAYS} days"),
                    ));
                }
                Some((start, end.min(now)))
            }
        };
        Ok(CollectRequest {
            provider,
            range,
            trigger,
        })
    }
}

/// RFC 3339, or a `YYYY-MM-DD` date meaning that UTC midnight.
fn parse_instant(field: &'static str, text: &str) -> Result<DateTime<Utc>, RequestError> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(RequestError::new(
        field,
        format!("`{text}` is not an RFC 3339 time or a YYYY-MM-DD date"),
    ))
}

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

/// What one [`Collector::collect_once`] did, per provider.
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

    fn api(&self, provider: Provider, access: &ProviderAccess) -> Box<dyn UsageApi> {
        let client = ProviderClient::new(
            provider,
            access.clone(),
            self.http.clone(),
            self.settings.retry,
        );
        match provider {
            Provider::Anthropic => Box::new(anthropic::AnthropicApi::new(client)),
            Provider::Openai => Box::new(openai::OpenaiApi::new(client)),
        }
    }

    /// The range of a normal run: from the watermark minus the lookback (first run:
    /// the backfill), whole hours, to now.
    async fn normal_range(
        &self,
        provider: Provider,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), StoreError> {
        let start = match self.ledger.store().watermark(provider.as_str()).await? {
            Some(mark) => mark - Duration::hours(i64::from(self.settings.lookback_hours)),
            None => now - Duration::days(i64::from(self.settings.backfill_days)),
        };
        Ok((floor_hour(start.min(now)), now))
    }

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
        let result = async {
            run.id = store.save_run(&run).await?;
            report.run_id = Some(run.id);
            let mut api = self.api(provider, access);
            api.load_names().await?;
            let mut chunk_start = start;
            while chunk_start < end {
                let chunk_end = (chunk_start + self.settings.chunk).min(end);
                let chunk = api.fetch(chunk_start, chunk_end).await?;
                let outcomes = self.ledger.ingest(chunk.usage, WriteMode::Upsert).await?;
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
                store.save_run(&run).await?;
                chunk_start = chunk_end;
            }
            Ok::<(), CollectError>(())
        }
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
}

impl ProviderReport {
    fn not_configured(provider: Provider) -> Self {
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

    fn failed(mut self, err: CollectError, clock: Instant) -> Self {
        self.outcome = Outcome::Failed;
        self.retryable = err.retryable();
        self.error = Some(err.to_string());
        self.duration_ms = clock.elapsed().as_millis() as i64;
        self
    }
}

/// The start of the UTC hour holding `at`.
pub fn floor_hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// Id → name listings, with the label used when an id is absent.
#[derive(Debug, Default, Clone)]
pub(crate) struct Names(pub HashMap<String, String>);

impl Names {
    pub fn get(&self, id: Option<&str>) -> Option<String> {
        id.and_then(|id| self.0.get(id).cloned())
    }
}

/// Reads a non-negative integer counter; absent or null is 0.
pub(crate) fn counter(
    provider: Provider,
    endpoint: &'static str,
    value: &serde_json::Value,
    path: &[&str],
) -> Result<i64, CollectError> {
    let mut at = value;
    for key in path {
        match at.get(key) {
            Some(next) => at = next,
            None => return Ok(0),
        }
    }
    if at.is_null() {
        return Ok(0);
    }
    at.as_i64()
        .filter(|n| *n >= 0)
        .ok_or_else(|| CollectError::Malformed {
            provider,
            endpoint,
            detail: format!("`{}` is not a non-negative integer", path.join(".")),
        })
}

/// Reads an optional string dimension; null or absent is `None`.
pub(crate) fn dimension(
    provider: Provider,
    endpoint: &'static str,
    value: &serde_json::Value,
    key: &str,
) -> Result<Option<String>, CollectError> {
    match value.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(CollectError::Malformed {
            provider,
            endpoint,
            detail: format!("`{key}` is not a string ({other})"),
        }),
    }
}

/// Follows a paginated listing or report: guards against a cursor that repeats
/// or a provider that never stops.
pub(crate) struct Pager {
    provider: Provider,
    endpoint: &'static str,
    seen: std::collections::HashSet<String>,
}

/// More pages than any real range needs (a 7-day chunk is one page of 168 buckets).
const MAX_PAGES: usize = 10_000;

impl Pager {
    pub fn new(provider: Provider, endpoint: &'static str) -> Self {
        Pager {
            provider,
            endpoint,
            seen: Default::default(),
        }
    }

    /// Accepts the next cursor; an error when it was already followed.
    pub fn next(&mut self, cursor: String) -> Result<String, CollectError> {
        if !self.seen.insert(cursor.clone()) || self.seen.len() > MAX_PAGES {
            return Err(self.malformed("pagination does not end (a cursor repeated)"));
        }
        Ok(cursor)
    }

    pub fn malformed(&self, detail: impl Into<String>) -> CollectError {
        CollectError::Malformed {
            provider: self.provider,
            endpoint: self.endpoint,
            detail: detail.into(),
        }
    }
}

/// Reads a bucket's `[start, end)` (each provider writes them its own way).
pub(crate) type BucketBounds =
    fn(&Pager, &serde_json::Value) -> Result<(DateTime<Utc>, DateTime<Utc>), CollectError>;

/// Follows a usage report from its first page to the last and turns every result row
/// of every bucket into a record with `record(bucket_start, bucket_seconds, bucket, row)`.
/// `bounds` reads a bucket's start and end (the providers write them differently).
pub(crate) async fn fetch_buckets(
    client: &ProviderClient,
    (endpoint, path): (&'static str, &str),
    base: Vec<(String, String)>,
    bounds: BucketBounds,
    record: impl Fn(
        DateTime<Utc>,
        i32,
        &serde_json::Value,
        &serde_json::Value,
    ) -> Result<Option<NewUsage>, CollectError>,
) -> Result<Chunk, CollectError> {
    use serde_json::Value;
    let provider = client.provider();
    let mut chunk = Chunk::default();
    let mut pager = Pager::new(provider, endpoint);
    let mut page: Option<String> = None;
    loop {
        let mut query = base.clone();
        if let Some(page) = &page {
            query.push(("page".into(), page.clone()));
        }
        let body = client.get(endpoint, path, &query).await?;
        chunk.pages += 1;
        let buckets = body
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| pager.malformed("`data` is not a list"))?;
        for bucket in buckets {
            let (bucket_start, bucket_end) = bounds(&pager, bucket)?;
            let seconds = (bucket_end - bucket_start).num_seconds();
            if seconds <= 0 || seconds > 86_400 {
                return Err(
                    pager.malformed(format!("bucket {bucket_start} has a width of {seconds} s"))
                );
            }
            chunk.buckets += 1;
            let results = bucket
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| pager.malformed("bucket `results` is not a list"))?;
            for row in results {
                if let Some(usage) = record(bucket_start, seconds as i32, bucket, row)? {
                    chunk.usage.push(usage);
                }
            }
        }
        if !body
            .get("has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            return Ok(chunk);
        }
        let next = dimension(provider, endpoint, &body, "next_page")?
            .ok_or_else(|| pager.malformed("`has_more` is true but `next_page` is missing"))?;
        page = Some(pager.next(next)?);
    }
}

/// Follows a cursor listing (`after_id` for Anthropic, `after` for OpenAI) to its
/// end, collecting `id → name` into `names`.
pub(crate) async fn list_names(
    client: &ProviderClient,
    (endpoint, path): (&'static str, &str),
    query: &[(&str, &str)],
    cursor: &str,
    names: &mut Names,
) -> Result<(), CollectError> {
    use serde_json::Value;
    let provider = client.provider();
    let mut pager = Pager::new(provider, endpoint);
    let mut after: Option<String> = None;
    loop {
        let mut page: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(after) = &after {
            page.push((cursor.to_string(), after.clone()));
        }
        let body = client.get(endpoint, path, &page).await?;
        let data = body
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| pager.malformed("`data` is not a list"))?;
        for item in data {
            let id = dimension(provider, endpoint, item, "id")?;
            let name = dimension(provider, endpoint, item, "name")?;
            if let (Some(id), Some(name)) = (id, name) {
                names.0.insert(id, name);
            }
        }
        if !body
            .get("has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            return Ok(());
        }
        let last = dimension(provider, endpoint, &body, "last_id")?
            .ok_or_else(|| pager.malformed("`has_more` is true but `last_id` is missing"))?;
        after = Some(pager.next(last)?);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn requests_parse_dates_and_check_ranges() {
        let now = at("2026-11-22T10:30:00Z");
        let request = CollectRequest::from_fields(
            Some("OpenAI"),
            Some("2026-11-01"),
            Some("2026-11-02T06:00:00Z"),
            Trigger::Api,
            now,
        )
        .unwrap();
        assert_eq!(request.provider, Some(Provider::Openai));
        assert_eq!(
            request.range,
            Some((at("2026-11-01T00:00:00Z"), at("2026-11-02T06:00:00Z")))
        );
        let open_ended =
            CollectRequest::from_fields(None, Some("2026-11-20"), None, Trigger::Cli, now).unwrap();
        assert_eq!(open_ended.range.unwrap().1, now);
        let err = |p, s, e| {
            CollectRequest::from_fields(p, s, e, Trigger::Api, now)
                .unwrap_err()
                .field
        };
        assert_eq!(err(Some("azure"), None, None), "provider");
        assert_eq!(err(None, None, Some("2026-11-02")), "start");
        assert_eq!(err(None, Some("yesterday"), None), "start");
        assert_eq!(err(None, Some("2026-11-02"), Some("2026-11-01")), "end");
        assert_eq!(err(None, Some("2026-12-01"), None), "start");
        assert_eq!(err(None, Some("2024-01-01"), None), "end");
    }

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

    #[test]
    fn counters_reject_what_is_not_a_count() {
        let row = serde_json::json!({"a": 5, "b": {"c": -1}, "d": null, "e": "7"});
        let read = |path: &[&str]| counter(Provider::Anthropic, "GET /z", &row, path);
        assert_eq!(read(&["a"]).unwrap(), 5);
        assert_eq!(read(&["d"]).unwrap(), 0);
        assert_eq!(read(&["missing"]).unwrap(), 0);
        assert!(read(&["b", "c"]).unwrap_err().to_string().contains("`b.c`"));
        assert!(read(&["e"]).is_err());
    }

    #[test]
    fn a_repeated_cursor_stops_pagination() {
        let mut pager = Pager::new(Provider::Openai, "GET /p");
        assert_eq!(pager.next("page_1".into()).unwrap(), "page_1");
        assert!(pager.next("page_1".into()).is_err());
    }
}
