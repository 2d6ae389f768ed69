//! `/dashboard` through the router: what loads with and without the key under both
//! settings of `DASHBOARD_PUBLIC`, the unlocking cookie, and the headers that keep the
//! page to its own files.

use axum::body::Body;
use axum::Router;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use integration_tests::{app, app_with_env, sqlite_store, TEST_KEY};
use tower::ServiceExt;

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn is_dashboard(body: &str) -> bool {
    body.contains("src=\"/dashboard/app.js\"") && body.contains("id=\"chart\"")
}

#[tokio::test]
async fn a_locked_dashboard_opens_only_with_the_key() {
    let t = sqlite_store().await;
    let app = app(&t.store, "UTC");
    let (status, headers, body) = send(&app, Method::GET, "/dashboard", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("data-page=\"key\"")
            && body.contains("/dashboard/key.js")
            && !is_dashboard(&body),
        "{body}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let (status, _, body) = send(&app, Method::GET, "/dashboard/app.js", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("\"unauthorized\""));
    for (path, content_type) in [
        ("/dashboard/key.js", "text/javascript; charset=utf-8"),
        ("/dashboard/style.css", "text/css; charset=utf-8"),
    ] {
        let (status, headers, _) = send(&app, Method::GET, path, &[]).await;
        assert_eq!(
            (status, &headers["content-type"]),
            (StatusCode::OK, &content_type.parse().unwrap()),
            "{path}"
        );
    }

    let wrong = send(
        &app,
        Method::POST,
        "/dashboard/session",
        &[("x-api-key", "nope")],
    )
    .await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert!(!wrong.1.contains_key("set-cookie"));
    let (status, headers, _) = send(
        &app,
        Method::POST,
        "/dashboard/session",
        &[("x-api-key", TEST_KEY)],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cookie = headers["set-cookie"].to_str().unwrap().to_string();
    for part in [
        "Path=/dashboard",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=2592000",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(
        !cookie.contains(TEST_KEY) && !cookie.contains("Secure"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();

    let (status, headers, body) = send(&app, Method::GET, "/dashboard", &[("cookie", &pair)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(is_dashboard(&body));
    assert_eq!(headers["cache-control"], "private, no-cache");
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (status, _, body) = send(
        &app,
        Method::GET,
        "/dashboard",
        &[("cookie", &pair), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_MODIFIED, ""));
    let (status, headers, _) = send(
        &app,
        Method::GET,
        "/dashboard/app.js",
        &[("cookie", &format!("theme=dark; {pair}"))],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    let (_, _, body) = send(&app, Method::GET, "/dashboard", &[("x-api-key", TEST_KEY)]).await;
    assert!(is_dashboard(&body), "the header unlocks the page too");

    let forged = send(
        &app,
        Method::GET,
        "/dashboard",
        &[("cookie", "ct_dashboard=0123")],
    )
    .await;
    assert!(!is_dashboard(&forged.2));
    let (status, _, _) = send(&app, Method::GET, "/costs/daily", &[("cookie", &pair)]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the cookie never opens data"
    );

    let https = send(
        &app,
        Method::POST,
        "/dashboard/session",
        &[("x-api-key", TEST_KEY), ("x-forwarded-proto", "https")],
    )
    .await;
    assert!(https.1["set-cookie"]
        .to_str()
        .unwrap()
        .ends_with("; Secure"));
    let (status, headers, _) = send(&app, Method::DELETE, "/dashboard/session", &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(headers["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("ct_dashboard=; Path=/dashboard; Max-Age=0"));
}

#[tokio::test]
async fn a_public_dashboard_loads_without_the_key_but_its_data_does_not() {
    let t = sqlite_store().await;
    let app = app_with_env(&t.store, &[("DASHBOARD_PUBLIC", "true")]);
    let (status, headers, body) = send(&app, Method::GET, "/dashboard", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(is_dashboard(&body));
    assert_eq!(headers["cache-control"], "no-cache");
    let (status, _, _) = send(&app, Method::GET, "/dashboard/app.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/costs/range", "/admin/status", "/costs/by-model"] {
        let (status, _, _) = send(&app, Method::GET, path, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

/// The cookie is an HMAC of the key under a random secret the database keeps: the
/// same key gives another cookie on another database (no bare digest to brute-force
/// offline), every instance on one database accepts it, and a new API_KEY replaces
/// the secret, so the old cookie no longer opens the page.
#[tokio::test]
async fn the_cookie_is_an_hmac_under_a_secret_that_rotates_with_the_key() {
    let mut cookies = Vec::new();
    for t in integration_tests::both_stores().await {
        let b = t.backend;
        let open = |app: Router, key: &'static str| async move {
            let (status, headers, _) = send(
                &app,
                Method::POST,
                "/dashboard/session",
                &[("x-api-key", key)],
            )
            .await;
            assert_eq!(status, StatusCode::NO_CONTENT);
            let cookie = headers["set-cookie"].to_str().unwrap().to_string();
            cookie.split(';').next().unwrap().to_string()
        };
        let with_key = |key: &'static str| {
            let state = shared::app::app_state(
                integration_tests::test_config("UTC"),
                integration_tests::ledger(&t.store),
                shared::config::Secret::new(key),
            );
            shared::http::router(state)
        };
        let opens = |app: Router, pair: String| async move {
            let (status, _, body) =
                send(&app, Method::GET, "/dashboard", &[("cookie", &pair)]).await;
            status == StatusCode::OK && is_dashboard(&body)
        };
        let pair = open(app(&t.store, "UTC"), TEST_KEY).await;
        // Another instance on the same database (another Lambda) accepts it.
        assert!(opens(app(&t.store, "UTC"), pair.clone()).await, "{b}");
        assert_eq!(
            open(app(&t.store, "UTC"), TEST_KEY).await,
            pair,
            "{b}: one secret"
        );
        cookies.push(pair.clone());

        // A new API_KEY: a new secret; the old cookie no longer opens the page.
        const NEW_KEY: &str = "rotated-key-0123456789abcdef";
        assert!(!opens(with_key(NEW_KEY), pair.clone()).await, "{b}");
        let rotated = open(with_key(NEW_KEY), NEW_KEY).await;
        assert!(opens(with_key(NEW_KEY), rotated.clone()).await, "{b}");
        let (secret, _) = t
            .store
            .server_secret("dashboard_cookie")
            .await
            .unwrap()
            .unwrap();
        assert!(!pair.contains(&secret) && !rotated.contains(&secret), "{b}");
    }
    assert_ne!(
        cookies[0], cookies[1],
        "the same key on two databases gives two cookies: a random secret, not a digest"
    );
}
