//! The compiled `query-api` binary under the Lambda Runtime API protocol: a fake
//! runtime hands it real API Gateway HTTP API v2 events, with Postgres behind it.

use std::time::Duration;

use integration_tests::fake_lambda_runtime::{Answer, FakeLambdaRuntime};
use integration_tests::{ledger, postgres_store, TEST_KEY};
use serde_json::Value;
use shared::ingest::parse_events;
use shared::store::WriteMode;

const FIXTURE: &str = include_str!("../../../tests/fixtures/apigw-v2-by-model.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_api_answers_api_gateway_events_through_the_runtime_api() {
    let t = postgres_store().await;
    let events = serde_json::json!([{"event_id": "rt-1", "model": "gpt-4o-mini", "tokens_in": 2000,
        "cache_read_tokens": 1000, "tokens_out": 100, "recorded_at": "2026-11-10T08:00:00Z"}]);
    let batch = parse_events(&events, chrono::Utc::now()).unwrap();
    ledger(&t.store)
        .ingest(batch, WriteMode::InsertOnly)
        .await
        .unwrap();

    let runtime = FakeLambdaRuntime::start().await;
    let log = std::env::temp_dir().join(format!("query-api-{}.log", std::process::id()));
    let function = runtime.spawn(
        env!("CARGO_BIN_EXE_query-api"),
        &[
            ("DATABASE_URL", t.url.clone()),
            ("API_KEY", TEST_KEY.to_string()),
        ],
        &log,
    );
    let event: Value = serde_json::from_str(FIXTURE).unwrap();
    let answer = runtime.invoke(event.clone(), Duration::from_secs(30)).await;
    eprintln!(
        "query-api: exec to first answered invocation {} ms",
        function.started.elapsed().as_millis()
    );
    let Answer::Response(response) = answer else {
        panic!(
            "expected a response, got {answer:?}; log:\n{}",
            function.output()
        )
    };
    assert_eq!(response["statusCode"], 200, "{response}");
    assert!(
        response["headers"]["x-request-id"].is_string(),
        "{response}"
    );
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    // gpt-4o-mini: 2000×0.15 + 1000×0.075 + 100×0.60 = 435 / 1e6 → $0.000435
    assert_eq!(body["total_cost_usd"].to_string(), "0.000435");
    assert_eq!(body["breakdown"][0]["key"], "gpt-4o-mini");

    // The same warm function: a request without the key is a 401 in the JSON envelope.
    let mut anonymous = event;
    anonymous["headers"]
        .as_object_mut()
        .unwrap()
        .remove("x-api-key");
    let Answer::Response(response) = runtime.invoke(anonymous, Duration::from_secs(10)).await
    else {
        panic!("expected a response")
    };
    assert_eq!(response["statusCode"], 401, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(runtime.init_error().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_api_refuses_to_start_without_postgres_and_a_key() {
    let runtime = FakeLambdaRuntime::start().await;
    let log = std::env::temp_dir().join(format!("query-api-bad-{}.log", std::process::id()));
    let mut function = runtime.spawn(
        env!("CARGO_BIN_EXE_query-api"),
        &[("DATABASE_URL", "sqlite://nope.db".to_string())],
        &log,
    );
    for _ in 0..100 {
        if function.exited().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = function.exited().expect("the binary stops");
    assert!(!status.success());
    assert!(
        function
            .output()
            .contains("requires a postgres:// DATABASE_URL"),
        "{}",
        function.output()
    );
}
