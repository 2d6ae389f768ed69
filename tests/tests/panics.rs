//! A handler that panics answers 500 in the error envelope, and the server goes on
//! answering (the long-running server unwinds; only the Lambda packages abort).

use axum::routing::get;
use axum::Router;
use http::{Method, StatusCode};
use integration_tests::{call, ledger, sqlite_store, test_config, TEST_KEY};
use shared::config::Secret;

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_next_request_200() {
    let t = sqlite_store().await;
    let state = shared::app::app_state(test_config("UTC"), ledger(&t.store), Secret::new(TEST_KEY));
    let extra: Router<shared::http::AppState> = Router::new().route(
        "/test/panic",
        get(|| async { panic!("a bug in a handler") as &'static str }),
    );
    let app = shared::http::router_with(state, extra);
    for _ in 0..2 {
        let boom = call(&app, Method::GET, "/test/panic", None, None).await;
        assert_eq!(
            boom.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}",
            boom.text
        );
        assert_eq!(boom.body["error"]["code"], "internal", "{}", boom.text);
        assert!(
            !boom.text.contains("a bug in a handler"),
            "the panic message stays in the log"
        );
        assert!(boom.body["request_id"].is_string(), "{}", boom.text);
        let health = call(&app, Method::GET, "/health", None, None).await;
        assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    }
}
