//! Repeated wrong keys from one address are slowed down: after 20 in a minute the
//! address is answered 429 with `Retry-After`, even with the right key (no oracle
//! left), on the data API and on the dashboard's session endpoint; other addresses
//! are not affected.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::Extension;
use http::{Method, StatusCode};
use integration_tests::{app, call, sqlite_store, TEST_KEY};
use shared::http::auth::MAX_WRONG_KEYS;

#[tokio::test]
async fn an_address_guessing_keys_is_answered_429() {
    let t = sqlite_store().await;
    let base = app(&t.store, "UTC");
    let from = |ip: &str| {
        let address: SocketAddr = format!("{ip}:40000").parse().unwrap();
        // What `into_make_service_with_connect_info` puts on each request of `serve`.
        base.clone().layer(Extension(ConnectInfo(address)))
    };
    let attacker = from("203.0.113.7");
    for i in 0..MAX_WRONG_KEYS {
        let key = format!("guess-{i}");
        let r = call(&attacker, Method::GET, "/costs/daily", None, Some(&key)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    for (method, uri) in [
        (Method::GET, "/costs/daily"),
        (Method::POST, "/dashboard/session"),
    ] {
        let r = call(&attacker, method.clone(), uri, None, Some(TEST_KEY)).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{method} {uri}: {}",
            r.text
        );
        assert_eq!(r.body["error"]["code"], "rate_limited");
        let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    let neighbour = from("198.51.100.9");
    let r = call(
        &neighbour,
        Method::GET,
        "/costs/daily",
        None,
        Some(TEST_KEY),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Public routes stay open to everyone.
    let r = call(&attacker, Method::GET, "/health", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
}
