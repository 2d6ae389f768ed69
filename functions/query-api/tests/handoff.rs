//! The compiled `query-api` under the Lambda Runtime API fake hands `POST /admin/collect`
//! and `POST /admin/sync-cv` to the collector and cv-sync functions: an asynchronous,
//! SigV4-signed Invoke against a fake of the Lambda API, answered 202, logged, and
//! listed by `GET /admin/status`. The events it sends are the ones those functions'
//! own parsers take.

use std::time::Duration;

use integration_tests::fake_lambda::FakeLambda;
use integration_tests::fake_lambda_runtime::{Answer, FakeLambdaRuntime, LambdaProcess};
use integration_tests::{ledger, postgres_store, test_config, TEST_KEY};
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("../../../tests/fixtures/apigw-v2-by-model.json");
const SECRET_ACCESS_KEY: &str = "fake-secret-access-key-do-not-log";

/// An API Gateway HTTP API v2 event for `method path` with a JSON `body`.
fn request(method: &str, path: &str, body: Option<Value>) -> Value {
    let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!("");
    event
        .as_object_mut()
        .unwrap()
        .remove("queryStringParameters");
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["headers"]["x-api-key"] = json!(TEST_KEY);
    if let Some(body) = body {
        let text = body.to_string();
        event["headers"]["content-type"] = json!("application/json");
        event["headers"]["content-length"] = json!(text.len().to_string());
        event["body"] = json!(text);
    }
    event
}

/// Status and parsed body of the function's answer.
async fn call(runtime: &FakeLambdaRuntime, function: &LambdaProcess, event: Value) -> (u64, Value) {
    match runtime.invoke(event, Duration::from_secs(30)).await {
        Answer::Response(response) => (
            response["statusCode"].as_u64().unwrap(),
            serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap(),
        ),
        other => panic!(
            "expected a response, got {other:?}; log:\n{}",
            function.output()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_runs_are_handed_to_their_functions_and_shown_in_status() {
    let t = postgres_store().await;
    let lambda = FakeLambda::start(&["ct-collector", "ct-cv-sync"]).await;
    let runtime = FakeLambdaRuntime::start().await;
    let log = std::env::temp_dir().join(format!("query-api-handoff-{}.log", std::process::id()));
    let function = runtime.spawn(
        env!("CARGO_BIN_EXE_query-api"),
        &[
            ("DATABASE_URL", t.url.clone()),
            ("API_KEY", TEST_KEY.to_string()),
            ("COLLECTOR_FUNCTION", "ct-collector".into()),
            ("CV_SYNC_FUNCTION", "ct-cv-sync".into()),
            // What Lambda gives a function: its role's temporary credentials.
            ("AWS_ACCESS_KEY_ID", "ASIAFAKEKEYID".into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
            ("AWS_SESSION_TOKEN", "fake-session-token".into()),
            ("AWS_ENDPOINT_URL_LAMBDA", lambda.url.clone()),
        ],
        &log,
    );

    // A collection: 202 at once, with what was started.
    let body = json!({"provider": "anthropic", "start": "2026-11-01T00:00:00Z", "end": "2026-11-03T00:00:00Z"});
    let (status, answer) = call(
        &runtime,
        &function,
        request("POST", "/admin/collect", Some(body)),
    )
    .await;
    assert_eq!(status, 202, "{answer}; log:\n{}", function.output());
    let sent = lambda.accepted();
    assert_eq!(sent.len(), 1);
    let invocation = &sent[0];
    assert_eq!(invocation.function, "ct-collector");
    assert_eq!(
        invocation.invocation_type, "Event",
        "asynchronous, not RequestResponse"
    );
    assert!(
        invocation
            .authorization
            .starts_with("AWS4-HMAC-SHA256 Credential=ASIAFAKEKEYID/")
            && invocation
                .authorization
                .contains("/us-east-1/lambda/aws4_request"),
        "{}",
        invocation.authorization
    );
    assert_eq!(
        invocation.security_token.as_deref(),
        Some("fake-session-token")
    );
    assert_eq!(
        invocation.payload,
        json!({"action": "collect", "provider": "anthropic",
               "start": "2026-11-01T00:00:00+00:00", "end": "2026-11-03T00:00:00+00:00"})
    );
    assert_eq!(answer["handoff"]["job"], "collect");
    assert_eq!(answer["handoff"]["function"], "ct-collector");
    assert_eq!(answer["handoff"]["status"], "started");
    assert_eq!(
        answer["handoff"]["request_id"],
        json!(invocation.request_id)
    );
    assert_eq!(answer["handoff"]["payload"], invocation.payload);
    assert_eq!(answer["status_url"], "/admin/status");
    // The collector takes that event as a manual run of that range.
    let now = chrono::Utc::now();
    let asked = shared::collect::parse_event(&invocation.payload, now).unwrap();
    assert_eq!(asked.provider, Some(shared::collect::Provider::Anthropic));
    assert_eq!(
        asked.range.map(|(s, e)| (s.to_rfc3339(), e.to_rfc3339())),
        Some((
            "2026-11-01T00:00:00+00:00".to_string(),
            "2026-11-03T00:00:00+00:00".to_string()
        ))
    );

    // A Context Vault push of one day; the default day is resolved here.
    let (status, answer) = call(
        &runtime,
        &function,
        request("POST", "/admin/sync-cv", Some(json!({}))),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string();
    let invocation = lambda.accepted()[1].clone();
    assert_eq!(invocation.function, "ct-cv-sync");
    assert_eq!(
        invocation.payload,
        json!({"action": "sync", "date": yesterday, "force": false})
    );
    let syncer = shared::cv::Syncer::from_config(ledger(&t.store), &test_config("UTC"));
    let asked = shared::cv::parse_event(&syncer, &invocation.payload, chrono::Utc::now()).unwrap();
    assert_eq!(
        asked.scope,
        shared::cv::SyncScope::Day(yesterday.parse().unwrap())
    );

    // A bad request is a 400 naming the field, and nothing is invoked.
    let (status, answer) = call(
        &runtime,
        &function,
        request(
            "POST",
            "/admin/collect",
            Some(json!({"provider": "mistral"})),
        ),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["details"][0]["field"], "provider",
        "{answer}"
    );
    assert_eq!(lambda.calls(), 2);

    // A throttled Invoke is retried by the SDK: one event, still a 202.
    lambda.throttle(1);
    let (status, answer) = call(
        &runtime,
        &function,
        request("POST", "/admin/collect", Some(json!({}))),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!((lambda.calls(), lambda.accepted().len()), (4, 3));
    assert_eq!(lambda.accepted()[2].payload, json!({"action": "collect"}));

    // Status: where the work goes, and the handoffs, newest first.
    let (status, answer) = call(&runtime, &function, request("GET", "/admin/status", None)).await;
    assert_eq!(status, 200, "{answer}");
    let handoff = &answer["handoff"];
    assert_eq!(handoff["collect_function"], "ct-collector");
    assert_eq!(handoff["sync_cv_function"], "ct-cv-sync");
    let jobs: Vec<&str> = handoff["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["job"].as_str().unwrap())
        .collect();
    assert_eq!(jobs, ["collect", "sync-cv", "collect"]);
    // query-api holds no provider or vault key: it does not claim to know.
    assert_eq!(answer["providers"]["anthropic"]["configured"], Value::Null);
    assert_eq!(answer["context_vault"]["configured"], Value::Null);
    assert!(!function.output().contains(SECRET_ACCESS_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_lambda_refuses_is_a_502_and_logged_as_failed() {
    let t = postgres_store().await;
    // No such function: the name was mistyped in the deployment.
    let lambda = FakeLambda::start(&[]).await;
    let runtime = FakeLambdaRuntime::start().await;
    let log = std::env::temp_dir().join(format!("query-api-refused-{}.log", std::process::id()));
    let function = runtime.spawn(
        env!("CARGO_BIN_EXE_query-api"),
        &[
            ("DATABASE_URL", t.url.clone()),
            ("API_KEY", TEST_KEY.to_string()),
            ("COLLECTOR_FUNCTION", "ct-colector".into()),
            ("AWS_ACCESS_KEY_ID", "ASIAFAKEKEYID".into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
            ("AWS_ENDPOINT_URL_LAMBDA", lambda.url.clone()),
        ],
        &log,
    );
    let (status, answer) = call(
        &runtime,
        &function,
        request("POST", "/admin/collect", Some(json!({}))),
    )
    .await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["error"]["code"], "upstream_failed");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ct-colector") && message.contains("ResourceNotFoundException"),
        "{message}"
    );
    let (_, status) = call(&runtime, &function, request("GET", "/admin/status", None)).await;
    let recent = &status["handoff"]["recent"];
    assert_eq!(recent[0]["status"], "failed", "{status}");
    assert!(recent[0]["error"]
        .as_str()
        .unwrap()
        .contains("Function not found"));
    // Only collections are handed off here: the vault push still runs in-process
    // (and says it is not configured).
    assert_eq!(status["handoff"]["sync_cv_function"], Value::Null);
    let (code, answer) = call(
        &runtime,
        &function,
        request("POST", "/admin/sync-cv", Some(json!({}))),
    )
    .await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["report"]["outcome"], "not_configured", "{answer}");
}
