//! A stateful HTTP fake of the Anthropic and OpenAI admin usage APIs.
//!
//! Both providers are served from one local server (`FakeProviders::url`), under their real
//! paths:
//!
//! * Anthropic: `GET /v1/organizations/usage_report/messages`, `GET /v1/organizations/api_keys`,
//!   `GET /v1/organizations/workspaces` (auth `x-api-key`, header `anthropic-version` required).
//! * OpenAI: `GET /v1/organization/usage/completions`, `GET /v1/organization/projects`,
//!   `GET /v1/organization/projects/{id}/api_keys` (auth `Authorization: Bearer`).
//! * The daily cost reports of both (`/v1/organizations/cost_report`, `/v1/organization/costs`),
//!   priced from the same rows at list prices, see [`costs`](self::costs).
//!
//! So the Anthropic base URL is `url` (paths start with `/v1/organizations`) and the OpenAI base
//! URL is `url + "/v1"` (paths start with `/organization`).
//!
//! The data is a pure function of `(hour, group index)` (see [`FakeConfig`]): usage exists only
//! for hours in `[floor_hour(now) - history_days, floor_hour(now))`; every other hour is an empty
//! bucket. [`FakeState::anthropic_rows`] / [`FakeState::openai_rows`] give the ground truth at the
//! finest grain, which the HTTP answers aggregate over the dimensions not grouped by.
//!
//! Faults ([`Fault`]) are injected per provider and apply to usage requests only, never to name
//! listings; cost reports have a queue of their own ([`FakeState::push_cost_fault`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};

mod anthropic;
mod catalog;
mod costs;
mod data;
mod encode;
mod http;
mod openai;

use anthropic::*;
use catalog::*;
pub use costs::Overcharge;
use costs::*;
use data::*;
use encode::*;
use http::*;
use openai::*;

// ---------------------------------------------------------------------------------------------
// Public interface
// ---------------------------------------------------------------------------------------------

/// What the fake holds and how it pages.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// The fake's "now": usage exists only for whole hours ending at or before `floor_hour(now)`.
    pub now: DateTime<Utc>,
    /// Usage exists for hours in `[floor_hour(now) - history_days, floor_hour(now))`.
    pub history_days: u32,
    /// At most this many distinct groups per hour and provider (capped by the size of the
    /// built-in catalogue: 112 Anthropic, 77 OpenAI combinations).
    pub groups_per_hour: usize,
    /// Usage pages hold at most `min(limit, max_buckets_per_page)` buckets.
    pub max_buckets_per_page: usize,
    /// Page size of the name listings (API keys, workspaces, projects, project API keys).
    pub name_page_size: usize,
    /// The Anthropic admin key the fake accepts (`x-api-key`).
    pub anthropic_key: String,
    /// The OpenAI admin key the fake accepts (`Authorization: Bearer`).
    pub openai_key: String,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            now: Utc.with_ymd_and_hms(2026, 11, 20, 12, 34, 56).unwrap(),
            history_days: 35,
            groups_per_hour: 20,
            max_buckets_per_page: 24,
            name_page_size: 2,
            anthropic_key: "sk-ant-admin01-fake".into(),
            openai_key: "sk-admin-fake".into(),
        }
    }
}

impl FakeConfig {
    /// The default configuration with another `now`.
    pub fn with_now(now: DateTime<Utc>) -> Self {
        FakeConfig {
            now,
            ..FakeConfig::default()
        }
    }
}

/// A running fake: its base URL and its state.
pub struct FakeProviders {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    pub state: Arc<FakeState>,
}

impl FakeProviders {
    /// Binds `127.0.0.1:0` and serves the fake on the current tokio runtime.
    pub async fn start(config: FakeConfig) -> FakeProviders {
        Self::start_on_port(config, 0)
            .await
            .expect("bind the fake providers on 127.0.0.1")
    }

    /// Binds `127.0.0.1:port` (0 = any free port) and serves the fake on the current runtime.
    pub async fn start_on_port(config: FakeConfig, port: u16) -> std::io::Result<FakeProviders> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(FakeState::new(config));
        let app = router(state.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("fake providers server stopped: {err}");
            }
        });
        Ok(FakeProviders {
            url: format!("http://{addr}"),
            state,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FakeProvider {
    Anthropic,
    Openai,
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with the provider's error body; `retry-after` header (seconds) when `Some`.
    RateLimited { retry_after_secs: Option<u64> },
    /// This status (e.g. 500, 503, 529) with the provider's error body.
    ServerError(u16),
    /// Sleep this long, then answer normally.
    Delay(Duration),
    /// 200, `application/json`, truncated body.
    Malformed,
    /// 401 authentication error body.
    Unauthorized,
    /// 403 permission error body.
    Forbidden,
}

/// One Anthropic usage row at the finest grain (one hour, every dimension).
#[derive(Clone, Debug, PartialEq)]
pub struct AnthropicRow {
    pub hour: DateTime<Utc>,
    pub model: String,
    pub api_key_id: Option<String>,
    pub workspace_id: Option<String>,
    pub service_tier: String,
    pub context_window: String,
    pub inference_geo: String,
    pub uncached_input_tokens: i64,
    pub cache_creation_5m: i64,
    pub cache_creation_1h: i64,
    pub cache_read_input_tokens: i64,
    pub output_tokens: i64,
    pub web_search_requests: i64,
}

/// One OpenAI completions usage row at the finest grain (one hour, every dimension).
#[derive(Clone, Debug, PartialEq)]
pub struct OpenaiRow {
    pub hour: DateTime<Utc>,
    pub model: String,
    pub project_id: Option<String>,
    pub api_key_id: Option<String>,
    pub batch: bool,
    pub service_tier: String,
    /// Includes the cached tokens.
    pub input_tokens: i64,
    pub input_cached_tokens: i64,
    pub output_tokens: i64,
    pub num_model_requests: i64,
}

/// The fake's data catalogue, counters and fault queues.
pub struct FakeState {
    config: FakeConfig,
    anthropic_groups: Vec<AGroup>,
    openai_groups: Vec<OGroup>,
    inner: Mutex<Inner>,
    request_seq: AtomicU64,
}

#[derive(Default)]
struct Inner {
    anthropic: Counters,
    openai: Counters,
    overcharges: Vec<Overcharge>,
}

#[derive(Default)]
struct Counters {
    faults: VecDeque<Fault>,
    /// (pages_served threshold, status): once `pages_served >= threshold`, every usage request fails.
    fail_after: Option<(usize, u16)>,
    usage_requests: usize,
    pages_served: usize,
    last_query: Option<Vec<(String, String)>>,
    name_requests: usize,
    /// Faults, requests and pages of the cost reports, apart from usage's.
    cost_faults: VecDeque<Fault>,
    cost_requests: usize,
    cost_pages_served: usize,
    last_cost_query: Option<Vec<(String, String)>>,
}

impl Counters {
    fn failing_status(&self) -> Option<u16> {
        match self.fail_after {
            Some((threshold, status)) if self.pages_served >= threshold => Some(status),
            _ => None,
        }
    }
}

impl FakeState {
    pub fn new(config: FakeConfig) -> FakeState {
        let mut anthropic_groups = anthropic_catalog();
        anthropic_groups.truncate(config.groups_per_hour);
        let mut openai_groups = openai_catalog();
        openai_groups.truncate(config.groups_per_hour);
        FakeState {
            config,
            anthropic_groups,
            openai_groups,
            inner: Mutex::new(Inner::default()),
            request_seq: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> &FakeConfig {
        &self.config
    }

    /// `[first hour with data, end of data)`: `[floor_hour(now) - history_days, floor_hour(now))`.
    pub fn data_range(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = floor_to(self.config.now, HOUR);
        let start = end - chrono::Duration::days(i64::from(self.config.history_days));
        (start, end)
    }

    /// Queues a one-shot fault for the next usage request of `provider`.
    pub fn push_fault(&self, provider: FakeProvider, fault: Fault) {
        self.lock().get(provider).faults.push_back(fault);
    }

    /// After `pages` more successful usage pages, every usage request of `provider` answers
    /// `status` until [`FakeState::clear_faults`].
    pub fn fail_after_pages(&self, provider: FakeProvider, pages: usize, status: u16) {
        let mut inner = self.lock();
        let counters = inner.get(provider);
        counters.fail_after = Some((counters.pages_served + pages, status));
    }

    /// Drops every queued fault and `fail_after_pages` of both providers.
    pub fn clear_faults(&self) {
        let mut guard = self.lock();
        let inner: &mut Inner = &mut guard;
        for counters in [&mut inner.anthropic, &mut inner.openai] {
            counters.faults.clear();
            counters.cost_faults.clear();
            counters.fail_after = None;
        }
    }

    /// Usage requests received, faulted and rejected ones included.
    pub fn usage_requests(&self, provider: FakeProvider) -> usize {
        self.lock().get(provider).usage_requests
    }

    /// Usage pages answered 200 with a well-formed body.
    pub fn usage_pages_served(&self, provider: FakeProvider) -> usize {
        self.lock().get(provider).pages_served
    }

    /// The decoded query pairs of the last usage request.
    pub fn last_usage_query(&self, provider: FakeProvider) -> Option<Vec<(String, String)>> {
        self.lock().get(provider).last_query.clone()
    }

    /// Name listing requests received (API keys, workspaces, projects, project API keys).
    pub fn name_requests(&self, provider: FakeProvider) -> usize {
        self.lock().get(provider).name_requests
    }

    /// Every non-empty Anthropic row for hours `h` with `start <= h < end`, at the finest grain,
    /// ordered by hour then group.
    pub fn anthropic_rows(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<AnthropicRow> {
        let mut rows = Vec::new();
        for hour in self.data_hours(start, end) {
            for (index, group) in self.anthropic_groups.iter().enumerate() {
                if let Some(row) = anthropic_row(hour, index, group) {
                    rows.push(row);
                }
            }
        }
        rows
    }

    /// Every non-empty OpenAI row for hours `h` with `start <= h < end`, at the finest grain,
    /// ordered by hour then group.
    pub fn openai_rows(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<OpenaiRow> {
        let mut rows = Vec::new();
        for hour in self.data_hours(start, end) {
            for (index, group) in self.openai_groups.iter().enumerate() {
                if let Some(row) = openai_row(hour, index, group) {
                    rows.push(row);
                }
            }
        }
        rows
    }

    pub fn anthropic_key_names(&self) -> HashMap<String, String> {
        A_KEYS
            .iter()
            .map(|k| (k.id.to_string(), k.name.to_string()))
            .collect()
    }

    pub fn anthropic_workspace_names(&self) -> HashMap<String, String> {
        A_WORKSPACES
            .iter()
            .map(|w| (w.id.to_string(), w.name.to_string()))
            .collect()
    }

    pub fn openai_project_names(&self) -> HashMap<String, String> {
        O_PROJECTS
            .iter()
            .map(|p| (p.id.to_string(), p.name.to_string()))
            .collect()
    }

    pub fn openai_key_names(&self) -> HashMap<String, String> {
        O_KEYS
            .iter()
            .map(|k| (k.id.to_string(), k.name.to_string()))
            .collect()
    }

    // --- internals -----------------------------------------------------------------------

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hour starts `h` with `start <= h < end`, clipped to the data range.
    fn data_hours(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let (data_start, data_end) = self.data_range();
        let first = ceil_to(start, HOUR).max(data_start);
        let end = end.min(data_end);
        let mut hours = Vec::new();
        let mut hour = first;
        while hour < end {
            hours.push(hour);
            hour += chrono::Duration::hours(1);
        }
        hours
    }

    fn next_request_id(&self) -> String {
        let n = self.request_seq.fetch_add(1, Ordering::Relaxed);
        let mut id = String::from("req_011C");
        id.push_str(&base62(mix(2 * n)));
        id.push_str(&base62(mix(2 * n + 1)));
        id.truncate(28);
        id
    }

    fn record_usage_request(&self, provider: FakeProvider, query: Vec<(String, String)>) {
        let mut inner = self.lock();
        let counters = inner.get(provider);
        counters.usage_requests += 1;
        counters.last_query = Some(query);
    }

    fn record_name_request(&self, provider: FakeProvider) {
        self.lock().get(provider).name_requests += 1;
    }

    /// Applies the next queued fault (or the `fail_after_pages` failure). `Some` = answer this.
    async fn pre_fault(&self, provider: FakeProvider, rid: &str) -> Option<Response> {
        let fault = {
            let mut inner = self.lock();
            let counters = inner.get(provider);
            counters
                .faults
                .pop_front()
                .or_else(|| counters.failing_status().map(Fault::ServerError))
        };
        match fault {
            None => None,
            Some(Fault::Delay(duration)) => {
                tokio::time::sleep(duration).await;
                None
            }
            Some(fault) => Some(render_fault(provider, &fault, rid)),
        }
    }

    /// Serves a successful page unless `fail_after_pages` kicked in meanwhile; counts it.
    fn finish_page(&self, provider: FakeProvider, rid: &str, body: Value) -> Response {
        {
            let mut inner = self.lock();
            let counters = inner.get(provider);
            if let Some(status) = counters.failing_status() {
                drop(inner);
                return render_fault(provider, &Fault::ServerError(status), rid);
            }
            counters.pages_served += 1;
        }
        match provider {
            FakeProvider::Anthropic => anthropic_json(StatusCode::OK, rid, &body),
            FakeProvider::Openai => openai_json(StatusCode::OK, rid, &body),
        }
    }
}

impl Inner {
    fn get(&mut self, provider: FakeProvider) -> &mut Counters {
        match provider {
            FakeProvider::Anthropic => &mut self.anthropic,
            FakeProvider::Openai => &mut self.openai,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"2026-11-20T13:00:00Z"] {
            assert_eq!(b64_decode(&b64_encode(data)).unwrap(), data);
        }
        assert_eq!(
            b64_encode(b"2025-05-14T00:00:00Z"),
            "MjAyNS0wNS0xNFQwMDowMDowMFo="
        );
    }

    #[test]
    fn catalogues_are_distinct_and_valid() {
        let groups = anthropic_catalog();
        let signatures: std::collections::HashSet<_> =
            groups.iter().map(AGroup::signature).collect();
        assert_eq!(signatures.len(), groups.len());
        for g in &groups {
            assert!(g.context_window == "0-200k" || g.model == "claude-sonnet-4-5-20250929");
            assert_eq!(
                g.inference_geo == "not_available",
                !g.model.ends_with("-4-6")
            );
        }
        let groups = openai_catalog();
        let signatures: std::collections::HashSet<_> =
            groups.iter().map(OGroup::signature).collect();
        assert_eq!(signatures.len(), groups.len());
        assert!(groups
            .iter()
            .all(|g| g.service_tier == "default" || (g.model == "o3" && !g.batch)));
    }
}
