//! A stateful HTTP fake of the Anthropic and OpenAI admin usage APIs.
//!
//! Both providers are served from one local server (`FakeProviders::url`), under their real
//! paths:
//!
//! * Anthropic: `GET /v1/organizations/usage_report/messages`, `GET /v1/organizations/api_keys`,
//!   `GET /v1/organizations/workspaces` (auth `x-api-key`, header `anthropic-version` required).
//! * OpenAI: `GET /v1/organization/usage/completions`, `GET /v1/organization/projects`,
//!   `GET /v1/organization/projects/{id}/api_keys` (auth `Authorization: Bearer`).
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
//! listings.

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

// ---------------------------------------------------------------------------------------------
// Catalogue: names and groups
// ---------------------------------------------------------------------------------------------

struct AKey {
    id: &'static str,
    name: &'static str,
    workspace_id: Option<&'static str>,
    hint: &'static str,
    created_at: &'static str,
}

struct AWorkspace {
    id: &'static str,
    name: &'static str,
    created_at: &'static str,
    color: &'static str,
}

const WS_RESEARCH: &str = "wrkspc_01Research4GmTq2Wx7ZpKd";
const WS_TRADING: &str = "wrkspc_01TradingDesk6Bn3Yk9Lv";

const A_WORKSPACES: [AWorkspace; 2] = [
    AWorkspace {
        id: WS_RESEARCH,
        name: "Research",
        created_at: "2025-03-04T09:12:44.120331Z",
        color: "#6C5BB9",
    },
    AWorkspace {
        id: WS_TRADING,
        name: "trading-desk",
        created_at: "2025-06-18T15:40:02.551907Z",
        color: "#D97757",
    },
];

const A_KEYS: [AKey; 4] = [
    AKey {
        id: "apikey_01Peakpaws7Qx2mTgW9hZcL4",
        name: "peakpaws-prod",
        workspace_id: None,
        hint: "sk-ant-api03-Pk7...x2AA",
        created_at: "2025-02-11T10:03:17.402211Z",
    },
    AKey {
        id: "apikey_01KanbanBot3Rf8vNq1sYdE6",
        name: "kanban-bot",
        workspace_id: Some(WS_RESEARCH),
        hint: "sk-ant-api03-Kb3...q1AA",
        created_at: "2025-04-02T08:55:40.019833Z",
    },
    AKey {
        id: "apikey_01TradingSig5Hj2pLw8uXa",
        name: "trading-signals",
        workspace_id: Some(WS_TRADING),
        hint: "sk-ant-api03-Tr5...w8AA",
        created_at: "2025-07-21T13:27:09.774120Z",
    },
    AKey {
        id: "apikey_01OpsMisc9Kd4bVz6nTy2Rc",
        name: "ops-misc",
        workspace_id: None,
        hint: "sk-ant-api03-Op9...z6AA",
        created_at: "2025-09-30T17:01:55.310457Z",
    },
];

const A_MODELS: [&str; 5] = [
    "claude-opus-4-6",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-6",
];

#[derive(Clone, Copy, Debug)]
struct AGroup {
    model: &'static str,
    api_key_id: Option<&'static str>,
    workspace_id: Option<&'static str>,
    service_tier: &'static str,
    context_window: &'static str,
    inference_geo: &'static str,
}

impl AGroup {
    fn signature(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.model,
            self.api_key_id.unwrap_or("-"),
            self.workspace_id.unwrap_or("-"),
            self.service_tier,
            self.context_window,
            self.inference_geo
        )
    }
    fn rarity(&self) -> u64 {
        u64::from(self.service_tier != "standard")
            + u64::from(self.context_window != "0-200k")
            + u64::from(self.inference_geo == "us")
    }
}

/// Every valid Anthropic combination, in the order groups are taken: round-robin over models,
/// each model starting with a plain group then one of each rarer variant (batch, 1M context,
/// US inference), then the rest in a fixed pseudo-random order biased towards common values.
fn anthropic_catalog() -> Vec<AGroup> {
    let mut pairs: Vec<(Option<&'static str>, Option<&'static str>)> = A_KEYS
        .iter()
        .map(|k| (Some(k.id), k.workspace_id))
        .collect();
    // Console usage (no key) lands in any workspace, the default one included.
    pairs.extend([
        (None, None),
        (None, Some(WS_RESEARCH)),
        (None, Some(WS_TRADING)),
    ]);
    let mut per_model = Vec::new();
    for model in A_MODELS {
        let geos: &[&'static str] = if model.ends_with("-4-6") {
            &["global", "us"]
        } else {
            &["not_available"]
        };
        let windows: &[&'static str] = if model == "claude-sonnet-4-5-20250929" {
            &["0-200k", "200k-1M"]
        } else {
            &["0-200k"]
        };
        let mut combos = Vec::new();
        for &(api_key_id, workspace_id) in &pairs {
            for service_tier in ["standard", "batch"] {
                for &context_window in windows {
                    for &inference_geo in geos {
                        combos.push(AGroup {
                            model,
                            api_key_id,
                            workspace_id,
                            service_tier,
                            context_window,
                            inference_geo,
                        });
                    }
                }
            }
        }
        combos.sort_by_key(|g| {
            let h = fnv(g.signature().as_bytes());
            (h % 1000 + g.rarity() * 350, h)
        });
        let picks: [fn(&AGroup) -> bool; 4] = [
            |g| g.rarity() == 0,
            |g| g.rarity() == 1 && g.service_tier == "batch",
            |g| g.rarity() == 1 && g.context_window == "200k-1M",
            |g| g.rarity() == 1 && g.inference_geo == "us",
        ];
        let mut ordered = Vec::new();
        for pick in picks {
            if let Some(pos) = combos.iter().position(pick) {
                ordered.push(combos.remove(pos));
            }
        }
        ordered.extend(combos);
        per_model.push(ordered);
    }
    round_robin(per_model)
}

struct OProject {
    id: &'static str,
    name: &'static str,
    created_at: i64,
}

struct OKey {
    id: &'static str,
    name: &'static str,
    project_id: &'static str,
    redacted: &'static str,
    created_at: i64,
    owner_id: &'static str,
    owner_name: &'static str,
    owner_email: &'static str,
}

const P_WEB: &str = "proj_PeakpawsWeb8f3Kq2Lm9XzTw";
const P_KANBAN: &str = "proj_KanbanBoard4Tn7Vw1RcJy";
const P_DEFAULT: &str = "proj_Default0Hs5Jd2Gy6PbQe";

const O_PROJECTS: [OProject; 3] = [
    OProject {
        id: P_DEFAULT,
        name: "Default project",
        created_at: 1_711_471_533,
    },
    OProject {
        id: P_WEB,
        name: "peakpaws-web",
        created_at: 1_730_132_410,
    },
    OProject {
        id: P_KANBAN,
        name: "kanban-board",
        created_at: 1_746_003_917,
    },
];

const O_KEYS: [OKey; 4] = [
    OKey {
        id: "key_Pw7mQ2xR9tLc4VhN",
        name: "peakpaws-web-prod",
        project_id: P_WEB,
        redacted: "sk-proj-****Xh4A",
        created_at: 1_730_133_002,
        owner_id: "user-Ab3dE6fG9hJk2MnP",
        owner_name: "Sam Peak",
        owner_email: "sam@peakpaws.example",
    },
    OKey {
        id: "key_Pw3nB8yK1sDf6GjM",
        name: "peakpaws-web-staging",
        project_id: P_WEB,
        redacted: "sk-proj-****m9QA",
        created_at: 1_734_555_120,
        owner_id: "user-Ab3dE6fG9hJk2MnP",
        owner_name: "Sam Peak",
        owner_email: "sam@peakpaws.example",
    },
    OKey {
        id: "key_Kb5tZ9wE2qHr7XcA",
        name: "kanban-api",
        project_id: P_KANBAN,
        redacted: "sk-proj-****T2wA",
        created_at: 1_746_004_501,
        owner_id: "user-Cq8rS1tU4vWx7YzB",
        owner_name: "Kim Board",
        owner_email: "kim@kanban.example",
    },
    OKey {
        id: "key_Df1gU6pS4mNv8YkT",
        name: "default-dev",
        project_id: P_DEFAULT,
        redacted: "sk-proj-****8rkA",
        created_at: 1_711_472_000,
        owner_id: "user-Ab3dE6fG9hJk2MnP",
        owner_name: "Sam Peak",
        owner_email: "sam@peakpaws.example",
    },
];

const O_MODELS: [&str; 5] = [
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
    "gpt-5",
    "o3",
    "gpt-4.1",
];

#[derive(Clone, Copy, Debug)]
struct OGroup {
    model: &'static str,
    project_id: &'static str,
    api_key_id: Option<&'static str>,
    batch: bool,
    service_tier: &'static str,
}

impl OGroup {
    fn signature(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.model,
            self.project_id,
            self.api_key_id.unwrap_or("-"),
            self.batch,
            self.service_tier
        )
    }
    fn rarity(&self) -> u64 {
        u64::from(self.batch) + u64::from(self.service_tier != "default")
    }
}

/// Every valid OpenAI combination, ordered like [`anthropic_catalog`].
fn openai_catalog() -> Vec<OGroup> {
    let mut pairs: Vec<(&'static str, Option<&'static str>)> =
        O_KEYS.iter().map(|k| (k.project_id, Some(k.id))).collect();
    // Usage without an API key id (e.g. the Playground), in each project.
    pairs.extend(O_PROJECTS.iter().map(|p| (p.id, None)));
    let mut per_model = Vec::new();
    for model in O_MODELS {
        let mut combos = Vec::new();
        for &(project_id, api_key_id) in &pairs {
            for batch in [false, true] {
                let tiers: &[&'static str] = if model == "o3" && !batch {
                    &["default", "flex"]
                } else {
                    &["default"]
                };
                for &service_tier in tiers {
                    combos.push(OGroup {
                        model,
                        project_id,
                        api_key_id,
                        batch,
                        service_tier,
                    });
                }
            }
        }
        combos.sort_by_key(|g| {
            let h = fnv(g.signature().as_bytes());
            (h % 1000 + g.rarity() * 350, h)
        });
        let picks: [fn(&OGroup) -> bool; 3] = [
            |g| g.rarity() == 0,
            |g| g.batch,
            |g| g.service_tier == "flex",
        ];
        let mut ordered = Vec::new();
        for pick in picks {
            if let Some(pos) = combos.iter().position(pick) {
                ordered.push(combos.remove(pos));
            }
        }
        ordered.extend(combos);
        per_model.push(ordered);
    }
    round_robin(per_model)
}

fn round_robin<T: Copy>(lists: Vec<Vec<T>>) -> Vec<T> {
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for i in 0..longest {
        for list in &lists {
            if let Some(item) = list.get(i) {
                out.push(*item);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Deterministic data
// ---------------------------------------------------------------------------------------------

const SALT_ANTHROPIC: u64 = 0xA17E_0001;
const SALT_OPENAI: u64 = 0x0BE7_0002;

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x1234_5678_9ABC_DEF0, |acc, &p| mix(acc ^ p))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |acc, &b| {
        (acc ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A small deterministic stream of draws.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    /// Percent in 0..100.
    fn pct(&mut self) -> u64 {
        self.next() % 100
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// Whether `hour` has usage at all for the provider (about 1 hour in 7 has none).
fn hour_alive(salt: u64, ts: i64) -> bool {
    hash(&[salt, ts as u64, 0xDEAD]).rem_euclid(7) != 0
}

/// Whether group `index` has usage in the hour (common groups more often than the tail).
fn group_present(salt: u64, ts: i64, index: usize) -> bool {
    let threshold = 90u64.saturating_sub(2 * index.min(20) as u64);
    hash(&[salt, ts as u64, index as u64, 0xF00]) % 100 < threshold
}

fn anthropic_row(hour: DateTime<Utc>, index: usize, group: &AGroup) -> Option<AnthropicRow> {
    let ts = hour.timestamp();
    if !hour_alive(SALT_ANTHROPIC, ts) || !group_present(SALT_ANTHROPIC, ts, index) {
        return None;
    }
    let mut d = Draw(hash(&[SALT_ANTHROPIC, ts as u64, index as u64]));
    let uncached_input_tokens = if d.pct() < 5 { 0 } else { d.range(1, 50_000) };
    let output_tokens = d.range(1, 20_000);
    let cache_read_input_tokens = if d.pct() < 30 { 0 } else { d.range(1, 500_000) };
    let cache_creation_5m = if d.pct() < 40 { 0 } else { d.range(1, 50_000) };
    let cache_creation_1h = if d.pct() < 70 { 0 } else { d.range(1, 50_000) };
    let web_search_requests = if d.pct() < 80 { 0 } else { d.range(1, 5) };
    Some(AnthropicRow {
        hour,
        model: group.model.to_string(),
        api_key_id: group.api_key_id.map(str::to_string),
        workspace_id: group.workspace_id.map(str::to_string),
        service_tier: group.service_tier.to_string(),
        context_window: group.context_window.to_string(),
        inference_geo: group.inference_geo.to_string(),
        uncached_input_tokens,
        cache_creation_5m,
        cache_creation_1h,
        cache_read_input_tokens,
        output_tokens,
        web_search_requests,
    })
}

fn openai_row(hour: DateTime<Utc>, index: usize, group: &OGroup) -> Option<OpenaiRow> {
    let ts = hour.timestamp();
    if !hour_alive(SALT_OPENAI, ts) || !group_present(SALT_OPENAI, ts, index) {
        return None;
    }
    let mut d = Draw(hash(&[SALT_OPENAI, ts as u64, index as u64]));
    let num_model_requests = d.range(1, 300);
    let input_tokens = d.range(num_model_requests, 100_000);
    let cached_pct = if d.pct() < 30 { 0 } else { d.range(1, 80) };
    let input_cached_tokens = input_tokens * cached_pct / 100;
    let output_tokens = d.range(1, 20_000);
    Some(OpenaiRow {
        hour,
        model: group.model.to_string(),
        project_id: Some(group.project_id.to_string()),
        api_key_id: group.api_key_id.map(str::to_string),
        batch: group.batch,
        service_tier: group.service_tier.to_string(),
        input_tokens,
        input_cached_tokens,
        output_tokens,
        num_model_requests,
    })
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

type St = State<Arc<FakeState>>;
type RawPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn router(state: Arc<FakeState>) -> Router {
    Router::new()
        .route(
            "/v1/organizations/usage_report/messages",
            get(anthropic_usage),
        )
        .route("/v1/organizations/api_keys", get(anthropic_api_keys))
        .route("/v1/organizations/workspaces", get(anthropic_workspaces))
        .route("/v1/organization/usage/completions", get(openai_usage))
        .route("/v1/organization/projects", get(openai_projects))
        .route(
            "/v1/organization/projects/{project_id}/api_keys",
            get(openai_project_keys),
        )
        .fallback(not_found)
        .with_state(state)
}

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn floor_to(dt: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let ts = dt.timestamp();
    Utc.timestamp_opt(ts - ts.rem_euclid(secs), 0).unwrap()
}

fn ceil_to(dt: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let floor = floor_to(dt, secs);
    if floor == dt {
        floor
    } else {
        floor + chrono::Duration::seconds(secs)
    }
}

fn rfc3339(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Query pairs with lookup by name, accepting `name`, `name[]` and `name[N]`.
struct Params(Vec<(String, String)>);

impl Params {
    fn matches(key: &str, name: &str) -> bool {
        match key.strip_prefix(name) {
            Some("") => true,
            Some(rest) => rest.starts_with('[') && rest.ends_with(']'),
            None => false,
        }
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| Self::matches(k, name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A bucket's `[start, end)`.
type Bucket = (DateTime<Utc>, DateTime<Utc>);

/// `[(bucket start, bucket end)]` of one page, and where the next page starts.
fn page_buckets(
    first: DateTime<Utc>,
    end: DateTime<Utc>,
    width: i64,
    page_size: usize,
) -> (Vec<Bucket>, Option<DateTime<Utc>>) {
    let step = chrono::Duration::seconds(width);
    let mut buckets = Vec::new();
    let mut start = first;
    while start + step <= end && buckets.len() < page_size {
        buckets.push((start, start + step));
        start += step;
    }
    let next = (start + step <= end).then_some(start);
    (buckets, next)
}

fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).expect("header value"),
    )
}

fn json_response(
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: String,
) -> Response {
    let mut response = (status, body).into_response();
    let map = response.headers_mut();
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in headers {
        map.insert(name, value);
    }
    response
}

fn anthropic_headers(rid: &str) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        header("request-id", rid),
        header(
            "anthropic-organization-id",
            "9f0c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        ),
    ]
}

fn openai_headers(rid: &str) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        header("x-request-id", rid),
        header("openai-version", "2020-10-01"),
        header("openai-organization", "org-fakeCostTracker01"),
    ]
}

fn anthropic_json(status: StatusCode, rid: &str, body: &Value) -> Response {
    json_response(status, anthropic_headers(rid), body.to_string())
}

fn openai_json(status: StatusCode, rid: &str, body: &Value) -> Response {
    json_response(status, openai_headers(rid), body.to_string())
}

fn anthropic_error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        409 => "conflict_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

fn anthropic_error(status: u16, rid: &str, message: &str) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "type": "error",
        "error": {"type": anthropic_error_type(status), "message": message},
        "request_id": rid,
    });
    anthropic_json(status_code, rid, &body)
}

fn openai_error(
    status: u16,
    rid: &str,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "error": {"message": message, "type": kind, "param": param, "code": code}
    });
    openai_json(status_code, rid, &body)
}

fn openai_bad_request(rid: &str, message: &str, param: &str, code: &str) -> Response {
    openai_error(
        400,
        rid,
        message,
        "invalid_request_error",
        Some(param),
        Some(code),
    )
}

const MALFORMED_ANTHROPIC: &str = r#"{"data":[{"starting_at":"2026-11-20T00:00:00Z","ending_at":"2026-11-20T01:00:00Z","results":[{"uncached_input_tokens":1204,"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_in"#;
const MALFORMED_OPENAI: &str = r#"{"object":"page","data":[{"object":"bucket","start_time":1795132800,"end_time":1795136400,"results":[{"object":"organization.usage.completions.result","input_tokens":18"#;

fn render_fault(provider: FakeProvider, fault: &Fault, rid: &str) -> Response {
    match provider {
        FakeProvider::Anthropic => match fault {
            Fault::RateLimited { retry_after_secs } => {
                let mut response = anthropic_error(
                    429,
                    rid,
                    "Number of requests has exceeded your rate limit. Please try again later.",
                );
                if let Some(secs) = retry_after_secs {
                    response
                        .headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from(*secs));
                }
                response
            }
            Fault::ServerError(status) => {
                let message = match status {
                    529 => "Overloaded",
                    504 => "Request timed out",
                    503 => "Service unavailable",
                    _ => "Internal server error",
                };
                anthropic_error(*status, rid, message)
            }
            Fault::Malformed => json_response(
                StatusCode::OK,
                anthropic_headers(rid),
                MALFORMED_ANTHROPIC.into(),
            ),
            Fault::Unauthorized => anthropic_error(401, rid, "invalid x-api-key"),
            Fault::Forbidden => anthropic_error(
                403,
                rid,
                "Your API key does not have permission to use the specified resource.",
            ),
            Fault::Delay(_) => unreachable!("Delay is not rendered"),
        },
        FakeProvider::Openai => match fault {
            Fault::RateLimited { retry_after_secs } => {
                let mut response = openai_error(
                    429,
                    rid,
                    "Rate limit reached for requests to the usage API. Please try again later.",
                    "requests",
                    None,
                    Some("rate_limit_exceeded"),
                );
                if let Some(secs) = retry_after_secs {
                    response
                        .headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from(*secs));
                }
                response
            }
            Fault::ServerError(status) => {
                let message = match status {
                    503 => "The server is overloaded or not ready yet.",
                    502 => "Bad gateway.",
                    _ => "The server had an error while processing your request. Sorry about that!",
                };
                openai_error(*status, rid, message, "server_error", None, None)
            }
            Fault::Malformed => json_response(
                StatusCode::OK,
                openai_headers(rid),
                MALFORMED_OPENAI.into(),
            ),
            Fault::Unauthorized => openai_error(
                401,
                rid,
                "Incorrect API key provided: sk-admin*****fake. You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                None,
                Some("invalid_api_key"),
            ),
            Fault::Forbidden => openai_error(
                403,
                rid,
                "You have insufficient permissions for this operation. Missing scopes: api.usage.read. Check that you have the correct role in your organization (Owner), and if you're using a restricted key, that it has the necessary scopes.",
                "invalid_request_error",
                None,
                None,
            ),
            Fault::Delay(_) => unreachable!("Delay is not rendered"),
        },
    }
}

async fn not_found(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/v1/organizations") {
        anthropic_error(404, "req_011CNotFound", "Not found")
    } else {
        openai_error(
            404,
            "req_notfound",
            &format!("Invalid URL (GET {path})"),
            "invalid_request_error",
            None,
            None,
        )
    }
}

// --- Anthropic -------------------------------------------------------------------------------

/// Auth and version checks, in the real API's order.
fn anthropic_check(st: &FakeState, headers: &HeaderMap, rid: &str) -> Result<(), Box<Response>> {
    let fail = |status: u16, message: &str| Err(Box::new(anthropic_error(status, rid, message)));
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        None => return fail(401, "x-api-key header is required"),
        Some(key) if key != st.config.anthropic_key => return fail(401, "invalid x-api-key"),
        Some(_) => {}
    }
    match headers
        .get("anthropic-version")
        .and_then(|v| v.to_str().ok())
    {
        None => fail(400, "anthropic-version: header is required"),
        Some("2023-06-01") | Some("2023-01-01") => Ok(()),
        Some(other) => fail(
            400,
            &format!("anthropic-version: \"{other}\" is not a valid version"),
        ),
    }
}

const A_DIMS: [&str; 6] = [
    "model",
    "api_key_id",
    "workspace_id",
    "service_tier",
    "context_window",
    "inference_geo",
];

fn anthropic_dim(row: &AnthropicRow, dim: usize) -> Option<&str> {
    match dim {
        0 => Some(&row.model),
        1 => row.api_key_id.as_deref(),
        2 => row.workspace_id.as_deref(),
        3 => Some(&row.service_tier),
        4 => Some(&row.context_window),
        _ => Some(&row.inference_geo),
    }
}

#[derive(Default)]
struct ASums {
    uncached: i64,
    cw5m: i64,
    cw1h: i64,
    cache_read: i64,
    output: i64,
    web: i64,
}

fn parse_rfc3339(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

fn anthropic_usage_body(st: &FakeState, q: &Params) -> Result<Value, String> {
    let width = match q.get("bucket_width").unwrap_or("1d") {
        "1h" => HOUR,
        "1d" => DAY,
        "1m" => return Err("bucket_width: '1m' is not supported by this fake".into()),
        other => {
            return Err(format!(
                "bucket_width: Input should be '1d', '1h' or '1m' (got '{other}')"
            ))
        }
    };
    let (default_limit, max_limit) = if width == HOUR { (24, 168) } else { (7, 31) };
    let limit = match q.get("limit") {
        None => default_limit,
        Some(raw) => {
            let limit: i64 = raw
                .parse()
                .map_err(|_| format!("limit: Input should be a valid integer (got '{raw}')"))?;
            if limit < 1 {
                return Err("limit: Input should be greater than or equal to 1".into());
            }
            if limit > max_limit {
                return Err(format!(
                    "limit: Input should be less than or equal to {max_limit}"
                ));
            }
            limit
        }
    };
    let raw_start = q.get("starting_at").ok_or("starting_at: Field required")?;
    let start = parse_rfc3339(raw_start).ok_or_else(|| {
        format!("starting_at: Input should be a valid RFC 3339 datetime (got '{raw_start}')")
    })?;
    let first = floor_to(start, width);
    let end = match q.get("ending_at") {
        None => first + chrono::Duration::seconds(width * limit),
        Some(raw) => {
            let end = parse_rfc3339(raw).ok_or_else(|| {
                format!("ending_at: Input should be a valid RFC 3339 datetime (got '{raw}')")
            })?;
            if end <= start {
                return Err("Invalid date range: ending date must be after starting date".into());
            }
            end
        }
    };
    let mut grouped = [false; 6];
    for (i, value) in q.all("group_by").into_iter().enumerate() {
        let dim = A_DIMS.iter().position(|d| *d == value).ok_or_else(|| {
            format!(
                "group_by[{i}]: Input should be one of 'api_key_id', 'workspace_id', 'model', 'service_tier', 'context_window', 'inference_geo' (got '{value}')"
            )
        })?;
        grouped[dim] = true;
    }
    let filters: [Vec<&str>; 6] = [
        q.all("models"),
        q.all("api_key_ids"),
        q.all("workspace_ids"),
        q.all("service_tiers"),
        [q.all("context_window"), q.all("context_windows")].concat(),
        q.all("inference_geos"),
    ];
    let page_start = match q.get("page") {
        None => first,
        Some(token) => {
            let at = token
                .strip_prefix("page_")
                .and_then(b64_decode)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| parse_rfc3339(&text))
                .ok_or("page: Invalid page token (is it URL-encoded?)")?;
            if at < first || at >= end || floor_to(at, width) != at {
                return Err("page: Page token does not belong to this query".into());
            }
            at
        }
    };
    let page_size = (limit as usize).min(st.config.max_buckets_per_page.max(1));
    let (buckets, next) = page_buckets(page_start, end, width, page_size);

    let mut data = Vec::with_capacity(buckets.len());
    for (bucket_start, bucket_end) in buckets {
        let mut sums: BTreeMap<[Option<&str>; 6], ASums> = BTreeMap::new();
        let rows = st.anthropic_rows(bucket_start, bucket_end);
        for row in &rows {
            let values: [Option<&str>; 6] = std::array::from_fn(|d| anthropic_dim(row, d));
            let wanted = filters.iter().zip(values).all(|(filter, value)| {
                filter.is_empty() || value.is_some_and(|v| filter.contains(&v))
            });
            if !wanted {
                continue;
            }
            let key: [Option<&str>; 6] =
                std::array::from_fn(|d| if grouped[d] { values[d] } else { None });
            let sum = sums.entry(key).or_default();
            sum.uncached += row.uncached_input_tokens;
            sum.cw5m += row.cache_creation_5m;
            sum.cw1h += row.cache_creation_1h;
            sum.cache_read += row.cache_read_input_tokens;
            sum.output += row.output_tokens;
            sum.web += row.web_search_requests;
        }
        let results: Vec<Value> = sums
            .into_iter()
            .map(|(key, s)| {
                json!({
                    "uncached_input_tokens": s.uncached,
                    "cache_creation": {
                        "ephemeral_1h_input_tokens": s.cw1h,
                        "ephemeral_5m_input_tokens": s.cw5m,
                    },
                    "cache_read_input_tokens": s.cache_read,
                    "output_tokens": s.output,
                    "server_tool_use": {"web_search_requests": s.web},
                    "api_key_id": key[1],
                    "workspace_id": key[2],
                    "model": key[0],
                    "service_tier": key[3],
                    "context_window": key[4],
                    "inference_geo": key[5],
                })
            })
            .collect();
        data.push(json!({
            "starting_at": rfc3339(bucket_start),
            "ending_at": rfc3339(bucket_end),
            "results": results,
        }));
    }
    let next_page = next.map(|at| format!("page_{}", b64_encode(rfc3339(at).as_bytes())));
    Ok(json!({
        "data": data,
        "has_more": next_page.is_some(),
        "next_page": next_page,
    }))
}

async fn anthropic_usage(State(st): St, headers: HeaderMap, query: RawPairs) -> Response {
    let rid = st.next_request_id();
    let (pairs, bad_query) = match query {
        Ok(Query(pairs)) => (pairs, None),
        Err(err) => (Vec::new(), Some(err.body_text())),
    };
    st.record_usage_request(FakeProvider::Anthropic, pairs.clone());
    if let Some(response) = st.pre_fault(FakeProvider::Anthropic, &rid).await {
        return response;
    }
    if let Err(response) = anthropic_check(&st, &headers, &rid) {
        return *response;
    }
    if let Some(message) = bad_query {
        return anthropic_error(400, &rid, &message);
    }
    match anthropic_usage_body(&st, &Params(pairs)) {
        Ok(body) => st.finish_page(FakeProvider::Anthropic, &rid, body),
        Err(message) => anthropic_error(400, &rid, &message),
    }
}

/// Cursor pagination over `items` by id (`after`/`before`), `limit` capped at `cap`.
fn id_page<'a, T>(
    items: &'a [T],
    id: impl Fn(&T) -> &str,
    after: Option<&str>,
    before: Option<&str>,
    limit: usize,
    cap: usize,
) -> Result<(&'a [T], bool), String> {
    let size = limit.min(cap.max(1));
    let position = |wanted: &str, name: &str| {
        items
            .iter()
            .position(|item| id(item) == wanted)
            .ok_or_else(|| format!("{name}: no object with id '{wanted}'"))
    };
    if let Some(after) = after {
        let from = position(after, "after_id")? + 1;
        let to = (from + size).min(items.len());
        Ok((&items[from..to], to < items.len()))
    } else if let Some(before) = before {
        let to = position(before, "before_id")?;
        let from = to.saturating_sub(size);
        Ok((&items[from..to], from > 0))
    } else {
        let to = size.min(items.len());
        Ok((&items[..to], to < items.len()))
    }
}

fn anthropic_list_limit(q: &Params) -> Result<usize, String> {
    match q.get("limit") {
        None => Ok(20),
        Some(raw) => match raw.parse::<usize>() {
            Ok(limit) if (1..=1000).contains(&limit) => Ok(limit),
            _ => Err(format!(
                "limit: Input should be an integer between 1 and 1000 (got '{raw}')"
            )),
        },
    }
}

fn anthropic_list_body<T>(
    st: &FakeState,
    q: &Params,
    items: &[T],
    id: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
) -> Result<Value, String> {
    let limit = anthropic_list_limit(q)?;
    let (page, has_more) = id_page(
        items,
        &id,
        q.get("after_id"),
        q.get("before_id"),
        limit,
        st.config.name_page_size,
    )?;
    Ok(json!({
        "data": page.iter().map(render).collect::<Vec<_>>(),
        "first_id": page.first().map(&id),
        "last_id": page.last().map(&id),
        "has_more": has_more,
    }))
}

async fn anthropic_api_keys(State(st): St, headers: HeaderMap, query: RawPairs) -> Response {
    let rid = st.next_request_id();
    st.record_name_request(FakeProvider::Anthropic);
    if let Err(response) = anthropic_check(&st, &headers, &rid) {
        return *response;
    }
    let q = Params(query.map(|Query(q)| q).unwrap_or_default());
    let workspace = q.get("workspace_id");
    let status = q.get("status");
    let keys: Vec<&AKey> = A_KEYS
        .iter()
        .filter(|k| workspace.is_none() || k.workspace_id == workspace)
        .filter(|_| status.is_none() || status == Some("active"))
        .collect();
    let body = anthropic_list_body(
        &st,
        &q,
        &keys,
        |k| k.id,
        |k| {
            json!({
                "id": k.id,
                "type": "api_key",
                "name": k.name,
                "created_at": k.created_at,
                "created_by": {"id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "type": "user"},
                "partial_key_hint": k.hint,
                "status": "active",
                "workspace_id": k.workspace_id,
                "expires_at": null,
                "principal": {"id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "type": "user"},
            })
        },
    );
    match body {
        Ok(body) => anthropic_json(StatusCode::OK, &rid, &body),
        Err(message) => anthropic_error(400, &rid, &message),
    }
}

async fn anthropic_workspaces(State(st): St, headers: HeaderMap, query: RawPairs) -> Response {
    let rid = st.next_request_id();
    st.record_name_request(FakeProvider::Anthropic);
    if let Err(response) = anthropic_check(&st, &headers, &rid) {
        return *response;
    }
    let q = Params(query.map(|Query(q)| q).unwrap_or_default());
    let body = anthropic_list_body(
        &st,
        &q,
        &A_WORKSPACES,
        |w| w.id,
        |w| {
            json!({
                "id": w.id,
                "type": "workspace",
                "name": w.name,
                "created_at": w.created_at,
                "archived_at": null,
                "display_color": w.color,
            })
        },
    );
    match body {
        Ok(body) => anthropic_json(StatusCode::OK, &rid, &body),
        Err(message) => anthropic_error(400, &rid, &message),
    }
}

// --- OpenAI ----------------------------------------------------------------------------------

fn openai_check(st: &FakeState, headers: &HeaderMap, rid: &str) -> Result<(), Box<Response>> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let (message, code) = match auth {
        None => (
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.".to_string(),
            None,
        ),
        Some(key) if key.trim() != st.config.openai_key => {
            let key = key.trim();
            let masked = if key.len() > 12 && key.is_ascii() {
                format!("{}*****{}", &key[..8], &key[key.len() - 4..])
            } else {
                "*****".to_string()
            };
            (
                format!("Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."),
                Some("invalid_api_key"),
            )
        }
        Some(_) => return Ok(()),
    };
    Err(Box::new(openai_error(
        401,
        rid,
        &message,
        "invalid_request_error",
        None,
        code,
    )))
}

const O_DIMS: [&str; 6] = [
    "project_id",
    "user_id",
    "api_key_id",
    "model",
    "batch",
    "service_tier",
];

fn openai_dim(row: &OpenaiRow, dim: usize) -> Option<&str> {
    match dim {
        0 => row.project_id.as_deref(),
        1 => None,
        2 => row.api_key_id.as_deref(),
        3 => Some(&row.model),
        4 => Some(if row.batch { "true" } else { "false" }),
        _ => Some(&row.service_tier),
    }
}

#[derive(Default)]
struct OSums {
    input: i64,
    cached: i64,
    output: i64,
    requests: i64,
}

/// A 400 of the OpenAI kind: (message, param, code).
type OError = (String, &'static str, &'static str);

fn openai_int(q: &Params, name: &'static str) -> Result<Option<i64>, OError> {
    match q.get(name) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| {
            (
                format!("Invalid value for '{name}': expected an integer, got '{raw}'."),
                name,
                "invalid_value",
            )
        }),
    }
}

fn openai_usage_body(st: &FakeState, q: &Params) -> Result<Value, OError> {
    let (width, default_limit, max_limit) = match q.get("bucket_width").unwrap_or("1d") {
        "1h" => (HOUR, 24, 168),
        "1d" => (DAY, 7, 31),
        other => {
            return Err((
                format!("Invalid value for 'bucket_width': '{other}' is not supported (this fake serves '1h' and '1d')."),
                "bucket_width",
                "invalid_value",
            ))
        }
    };
    let limit = openai_int(q, "limit")?.unwrap_or(default_limit);
    if !(1..=max_limit).contains(&limit) {
        return Err((
            format!("Invalid value for 'limit': must be between 1 and {max_limit} for bucket_width '{}'.", q.get("bucket_width").unwrap_or("1d")),
            "limit",
            "invalid_value",
        ));
    }
    let start = openai_int(q, "start_time")?.ok_or((
        "Missing required parameter: 'start_time'.".to_string(),
        "start_time",
        "missing_required_parameter",
    ))?;
    let start = Utc.timestamp_opt(start, 0).single().ok_or((
        "Invalid value for 'start_time'.".to_string(),
        "start_time",
        "invalid_value",
    ))?;
    let first = floor_to(start, width);
    let end = match openai_int(q, "end_time")? {
        None => first + chrono::Duration::seconds(width * limit),
        Some(end) => Utc
            .timestamp_opt(end, 0)
            .single()
            .filter(|end| *end > start)
            .ok_or((
                "Invalid value for 'end_time': must be after 'start_time'.".to_string(),
                "end_time",
                "invalid_value",
            ))?,
    };
    let mut grouped = [false; 6];
    for value in q.all("group_by") {
        let dim = O_DIMS.iter().position(|d| *d == value).ok_or((
            format!("Invalid value for 'group_by': '{value}'. Supported values are: project_id, user_id, api_key_id, model, batch, service_tier."),
            "group_by",
            "invalid_value",
        ))?;
        grouped[dim] = true;
    }
    let batch_filter = match q.get("batch") {
        None => None,
        Some("true") => Some("true"),
        Some("false") => Some("false"),
        Some(other) => {
            return Err((
                format!("Invalid value for 'batch': expected a boolean, got '{other}'."),
                "batch",
                "invalid_value",
            ))
        }
    };
    let filters: [Vec<&str>; 6] = [
        q.all("project_ids"),
        q.all("user_ids"),
        q.all("api_key_ids"),
        q.all("models"),
        batch_filter.into_iter().collect(),
        Vec::new(),
    ];
    let bad_page = || {
        (
            "Invalid value for 'page': invalid page token (is it URL-encoded?).".to_string(),
            "page",
            "invalid_value",
        )
    };
    let page_start = match q.get("page") {
        None => first,
        Some(token) => {
            let bytes = token
                .strip_prefix("page_")
                .and_then(b64_decode)
                .filter(|b| b.len() == 20)
                .ok_or_else(bad_page)?;
            let at = i64::from_be_bytes(bytes[0..8].try_into().unwrap());
            let origin = i64::from_be_bytes(bytes[12..20].try_into().unwrap());
            let at = Utc.timestamp_opt(at, 0).single().ok_or_else(bad_page)?;
            if origin != first.timestamp() || at < first || at >= end || floor_to(at, width) != at {
                return Err(bad_page());
            }
            at
        }
    };
    let page_size = (limit as usize).min(st.config.max_buckets_per_page.max(1));
    let (buckets, next) = page_buckets(page_start, end, width, page_size);

    let mut data = Vec::with_capacity(buckets.len());
    for (bucket_start, bucket_end) in buckets {
        let mut sums: BTreeMap<[Option<&str>; 6], OSums> = BTreeMap::new();
        let rows = st.openai_rows(bucket_start, bucket_end);
        for row in &rows {
            let values: [Option<&str>; 6] = std::array::from_fn(|d| openai_dim(row, d));
            let wanted = filters.iter().zip(values).all(|(filter, value)| {
                filter.is_empty() || value.is_some_and(|v| filter.contains(&v))
            });
            if !wanted {
                continue;
            }
            let key: [Option<&str>; 6] =
                std::array::from_fn(|d| if grouped[d] { values[d] } else { None });
            let sum = sums.entry(key).or_default();
            sum.input += row.input_tokens;
            sum.cached += row.input_cached_tokens;
            sum.output += row.output_tokens;
            sum.requests += row.num_model_requests;
        }
        let results: Vec<Value> = sums
            .into_iter()
            .map(|(key, s)| {
                json!({
                    "object": "organization.usage.completions.result",
                    "input_tokens": s.input,
                    "input_cached_tokens": s.cached,
                    "output_tokens": s.output,
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "num_model_requests": s.requests,
                    "project_id": key[0],
                    "user_id": key[1],
                    "api_key_id": key[2],
                    "model": key[3],
                    "batch": key[4].map(|b| b == "true"),
                    "service_tier": key[5],
                })
            })
            .collect();
        data.push(json!({
            "object": "bucket",
            "start_time": bucket_start.timestamp(),
            "end_time": bucket_end.timestamp(),
            "results": results,
        }));
    }
    let next_page = next.map(|at| {
        let mut bytes = Vec::with_capacity(20);
        bytes.extend_from_slice(&at.timestamp().to_be_bytes());
        bytes.extend_from_slice(&(fnv(b"openai-usage") as u32).to_be_bytes());
        bytes.extend_from_slice(&first.timestamp().to_be_bytes());
        format!("page_{}", b64_encode(&bytes))
    });
    Ok(json!({
        "object": "page",
        "data": data,
        "has_more": next_page.is_some(),
        "next_page": next_page,
    }))
}

async fn openai_usage(State(st): St, headers: HeaderMap, query: RawPairs) -> Response {
    let rid = st.next_request_id();
    let (pairs, bad_query) = match query {
        Ok(Query(pairs)) => (pairs, None),
        Err(err) => (Vec::new(), Some(err.body_text())),
    };
    st.record_usage_request(FakeProvider::Openai, pairs.clone());
    if let Some(response) = st.pre_fault(FakeProvider::Openai, &rid).await {
        return response;
    }
    if let Err(response) = openai_check(&st, &headers, &rid) {
        return *response;
    }
    if let Some(message) = bad_query {
        return openai_error(400, &rid, &message, "invalid_request_error", None, None);
    }
    match openai_usage_body(&st, &Params(pairs)) {
        Ok(body) => st.finish_page(FakeProvider::Openai, &rid, body),
        Err((message, param, code)) => openai_bad_request(&rid, &message, param, code),
    }
}

fn openai_list_limit(q: &Params) -> Result<usize, OError> {
    match q.get("limit") {
        None => Ok(20),
        Some(raw) => match raw.parse::<usize>() {
            Ok(limit) if (1..=100).contains(&limit) => Ok(limit),
            _ => Err((
                format!(
                    "Invalid value for 'limit': must be an integer between 1 and 100, got '{raw}'."
                ),
                "limit",
                "invalid_value",
            )),
        },
    }
}

fn openai_list_body<T>(
    st: &FakeState,
    q: &Params,
    items: &[T],
    id: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
) -> Result<Value, OError> {
    let limit = openai_list_limit(q)?;
    let (page, has_more) = id_page(
        items,
        &id,
        q.get("after"),
        None,
        limit,
        st.config.name_page_size,
    )
    .map_err(|message| {
        (
            message.replace("after_id", "after"),
            "after",
            "invalid_value",
        )
    })?;
    Ok(json!({
        "object": "list",
        "data": page.iter().map(render).collect::<Vec<_>>(),
        "first_id": page.first().map(&id),
        "last_id": page.last().map(&id),
        "has_more": has_more,
    }))
}

async fn openai_projects(State(st): St, headers: HeaderMap, query: RawPairs) -> Response {
    let rid = st.next_request_id();
    st.record_name_request(FakeProvider::Openai);
    if let Err(response) = openai_check(&st, &headers, &rid) {
        return *response;
    }
    let q = Params(query.map(|Query(q)| q).unwrap_or_default());
    let body = openai_list_body(
        &st,
        &q,
        &O_PROJECTS,
        |p| p.id,
        |p| {
            json!({
                "id": p.id,
                "object": "organization.project",
                "name": p.name,
                "created_at": p.created_at,
                "archived_at": null,
                "status": "active",
            })
        },
    );
    match body {
        Ok(body) => openai_json(StatusCode::OK, &rid, &body),
        Err((message, param, code)) => openai_bad_request(&rid, &message, param, code),
    }
}

async fn openai_project_keys(
    State(st): St,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    query: RawPairs,
) -> Response {
    let rid = st.next_request_id();
    st.record_name_request(FakeProvider::Openai);
    if let Err(response) = openai_check(&st, &headers, &rid) {
        return *response;
    }
    if !O_PROJECTS.iter().any(|p| p.id == project_id) {
        return openai_error(
            404,
            &rid,
            &format!("No such project: '{project_id}'"),
            "invalid_request_error",
            None,
            None,
        );
    }
    let q = Params(query.map(|Query(q)| q).unwrap_or_default());
    let keys: Vec<&OKey> = O_KEYS
        .iter()
        .filter(|k| k.project_id == project_id)
        .collect();
    let body = openai_list_body(
        &st,
        &q,
        &keys,
        |k| k.id,
        |k| {
            json!({
                "object": "organization.project.api_key",
                "id": k.id,
                "name": k.name,
                "redacted_value": k.redacted,
                "created_at": k.created_at,
                "last_used_at": st.config.now.timestamp() - 600,
                "owner_project_access": "active",
                "owner": {
                    "type": "user",
                    "user": {
                        "object": "organization.project.user",
                        "id": k.owner_id,
                        "name": k.owner_name,
                        "email": k.owner_email,
                        "role": "owner",
                        "added_at": k.created_at - 86_400,
                    }
                }
            })
        },
    );
    match body {
        Ok(body) => openai_json(StatusCode::OK, &rid, &body),
        Err((message, param, code)) => openai_bad_request(&rid, &message, param, code),
    }
}

// ---------------------------------------------------------------------------------------------
// Small encoders
// ---------------------------------------------------------------------------------------------

fn b64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn b64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

fn base62(mut n: u64) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    for _ in 0..11 {
        out.push(ALPHABET[(n % 62) as usize]);
        n /= 62;
    }
    String::from_utf8(out).expect("ascii")
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
