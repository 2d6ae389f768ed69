//! The `query-api` Lambda path: a real API Gateway HTTP API v2 event, decoded by
//! `lambda_http`, answered by the same router as the server, on Postgres.

use http::StatusCode;
use http_body_util::BodyExt;
use integration_tests::{app, get, post, postgres_store};
use serde_json::{json, Value};
use tower::ServiceExt;

const FIXTURE: &str = include_str!("../fixtures/apigw-v2-by-model.json");

#[tokio::test]
async fn an_api_gateway_v2_event_is_answered_like_the_server() {
    let t = postgres_store().await;
    let app = app(&t.store, "UTC");
    let created = post(
        &app,
        "/api/usage",
        json!([{"event_id":"l1","model":"gpt-4o-mini","tokens_in":2000,"cache_read_tokens":1000,"tokens_out":100,"recorded_at":"2026-11-10T08:00:00Z"}]),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);

    let request =
        lambda_http::request::from_str(FIXTURE).expect("fixture decodes as a Lambda HTTP request");
    assert_eq!(request.uri().path(), "/costs/by-model");
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let from_lambda: Value = serde_json::from_slice(&bytes).unwrap();

    let from_server = get(
        &app,
        "/costs/by-model?start=2026-11-10&end=2026-11-10&tz=UTC",
    )
    .await
    .body;
    assert_eq!(from_lambda, from_server);
    // gpt-4o-mini: 2000×0.15 + 1000×0.075 + 100×0.60 = 435 / 1e6 → $0.000435
    assert_eq!(from_lambda["total_cost_usd"].to_string(), "0.000435");

    let unauthorised = FIXTURE.replace("\"x-api-key\": \"test-key-123\",", "");
    let request = lambda_http::request::from_str(&unauthorised).unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
