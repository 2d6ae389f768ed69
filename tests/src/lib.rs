//! Test harness: a fresh store per test on each backend (a temporary SQLite file,
//! a new Postgres database), the router over it, and a small request helper.
//!
//! Postgres is reached at `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! if it is unreachable the test fails loudly — it never skips.

pub mod fake_costs;
pub mod fake_lambda;
pub mod fake_lambda_runtime;
pub mod fake_providers;
pub mod fake_vault;
pub mod fake_webhook;
pub mod moto;
pub mod serve;
pub mod tcp_proxy;

use axum::body::Body;
use axum::Router;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use shared::config::{Config, Secret};
use shared::domain::pricing::PriceCatalog;
use shared::ledger::Ledger;
use shared::store::{self, DynStore};
use sqlx::Connection;
use tower::ServiceExt;

pub const TEST_KEY: &str = "test-key-123";

/// A store under test and the backend it runs on.
pub struct TestStore {
    pub backend: &'static str,
    pub store: DynStore,
    /// The `DATABASE_URL` of this store (for binaries run by a test).
    pub url: String,
}

fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The URL of a SQLite database in a new temporary file (created on first open).
pub fn new_sqlite_url() -> String {
    let path = std::env::temp_dir().join(format!("ct-test-{}.db", uuid::Uuid::new_v4()));
    format!("sqlite://{}", path.display())
}

/// The URL of a new, empty Postgres database.
pub async fn new_postgres_url() -> String {
    let admin = admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|err| {
        panic!("Postgres is required for the test suite (TEST_POSTGRES_URL={admin}): {err}. `make test` starts it.")
    });
    let name = format!("ct_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (base, _) = admin.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

async fn migrated(backend: &'static str, url: String) -> TestStore {
    let store = store::open(&url).await.expect("open the test store");
    store.migrate().await.expect("migrate the test store");
    TestStore {
        backend,
        store,
        url,
    }
}

/// A migrated SQLite store in a new temporary file.
pub async fn sqlite_store() -> TestStore {
    migrated("sqlite", new_sqlite_url()).await
}

/// A migrated Postgres store in a new database.
pub async fn postgres_store() -> TestStore {
    migrated("postgres", new_postgres_url().await).await
}

/// One fresh store on each backend.
pub async fn both_stores() -> Vec<TestStore> {
    vec![sqlite_store().await, postgres_store().await]
}

/// Configuration for tests: fixed key, given zone.
pub fn test_config(tz: &str) -> Config {
    let tz = tz.to_string();
    Config::from_lookup(move |name| match name {
        "API_KEY" => Some(TEST_KEY.into()),
        "REPORT_TIMEZONE" => Some(tz.clone()),
        "MAX_BODY_BYTES" => Some("1048576".into()),
        _ => None,
    })
    .expect("test config")
}

/// The full router (UTC) with the test configuration plus these variables (`DASHBOARD_PUBLIC`…).
pub fn app_with_env(store: &DynStore, vars: &[(&str, &str)]) -> Router {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let base = test_config("UTC");
    let config = Config::from_lookup(move |name| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| match name {
                "API_KEY" => Some(TEST_KEY.into()),
                "MAX_BODY_BYTES" => Some(base.max_body_bytes.to_string()),
                _ => None,
            })
    })
    .expect("test config");
    let state = shared::app::app_state(config, ledger(store), Secret::new(TEST_KEY));
    shared::http::router(state)
}

pub fn ledger(store: &DynStore) -> Ledger {
    Ledger::new(store.clone(), PriceCatalog::embedded(), "General")
}

/// The full router over `store`, with report zone `tz`.
pub fn app(store: &DynStore, tz: &str) -> Router {
    let config = test_config(tz);
    let state = shared::app::app_state(config, ledger(store), Secret::new(TEST_KEY));
    shared::http::router(state)
}

/// The full router (UTC) with a given collector behind `POST /admin/collect`.
pub fn app_with_collector(store: &DynStore, collector: shared::collect::Collector) -> Router {
    let mut state =
        shared::app::app_state(test_config("UTC"), ledger(store), Secret::new(TEST_KEY));
    state.collector = collector;
    shared::http::router(state)
}

/// The full router with report zone `tz` and a given syncer behind `POST /admin/sync-cv`.
pub fn app_with_syncer(store: &DynStore, tz: &str, syncer: shared::cv::Syncer) -> Router {
    let mut state = shared::app::app_state(test_config(tz), ledger(store), Secret::new(TEST_KEY));
    state.syncer = syncer;
    shared::http::router(state)
}

/// A pushed event of `model` at `at` with a reported cost of `usd` (so its exact cost is
/// known): 1,000 input and 200 output tokens, 2 requests, no attribution. Set other
/// fields with struct update syntax.
pub fn reported_usage(
    external_id: &str,
    at: chrono::DateTime<chrono::Utc>,
    model: &str,
    usd: rust_decimal::Decimal,
) -> shared::domain::usage::NewUsage {
    use shared::domain::usage::{NewUsage, Source, TokenCounts, UsageFacts};
    NewUsage {
        facts: UsageFacts {
            source: Source::Push,
            external_id: external_id.into(),
            recorded_at: at,
            bucket_seconds: 0,
            model: model.into(),
            tokens: TokenCounts {
                input: 1_000,
                output: 200,
                requests: 2,
                ..Default::default()
            },
            service_tier: None,
            context_window: None,
            inference_geo: None,
            session_label: None,
            session_id: None,
            api_key_id: None,
            api_key_name: None,
            workspace_id: None,
            workspace_name: None,
            raw: serde_json::json!({"event_id": external_id, "model": model, "cost": usd.to_string()}),
        },
        provider: Some("anthropic".into()),
        session_type: None,
        agent: None,
        project: None,
        reported_cost: Some(usd),
        estimated_cost: None,
    }
}

/// A response: status, parsed JSON body (Null when empty or not JSON), headers.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
    pub headers: HeaderMap,
}

/// Sends one request through the router, with the test key unless `key` says otherwise.
pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> Reply {
    let body = body.map(|b| b.to_string());
    send_raw(app, method, uri, body.map(String::into_bytes), key).await
}

/// Like [`call`] with an arbitrary body.
pub async fn send_raw(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Vec<u8>>,
    key: Option<&str>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
        headers,
    }
}

/// GET with the test key.
pub async fn get(app: &Router, uri: &str) -> Reply {
    call(app, Method::GET, uri, None, Some(TEST_KEY)).await
}

/// POST JSON with the test key.
/// The records `GET /api/usage?{query}` lists (panics, with the answer, when it fails).
pub async fn listed_records(app: &Router, query: &str) -> Vec<Value> {
    let reply = get(app, &format!("/api/usage?{query}")).await;
    reply.body["records"]
        .as_array()
        .unwrap_or_else(|| panic!("GET /api/usage?{query}: {}", reply.text))
        .clone()
}

/// `DELETE /api/usage/{id}` with the test key.
pub async fn delete_record(app: &Router, id: i64) -> Reply {
    let uri = format!("/api/usage/{id}");
    call(app, Method::DELETE, &uri, None, Some(TEST_KEY)).await
}

pub async fn post(app: &Router, uri: &str, body: Value) -> Reply {
    call(app, Method::POST, uri, Some(body), Some(TEST_KEY)).await
}

/// Exact decimal of a JSON number (cost fields are written as exact decimal text).
pub fn dec(value: &Value) -> rust_decimal::Decimal {
    value
        .to_string()
        .parse()
        .unwrap_or_else(|_| panic!("not a decimal: {value}"))
}
