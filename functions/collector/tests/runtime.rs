//! The compiled `collector` binary under the Lambda Runtime API protocol: the real
//! EventBridge scheduled event, a manual payload and a bad one, with Postgres and
//! the fake provider APIs behind it.

use std::time::Duration;

use integration_tests::fake_lambda_runtime::{Answer, FakeLambdaRuntime};
use integration_tests::fake_providers::{FakeConfig, FakeProviders};
use integration_tests::postgres_store;
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collector_runs_scheduled_and_manual_events_through_the_runtime_api() {
    let t = postgres_store().await;
    let fake = FakeProviders::start(FakeConfig::with_now(chrono::Utc::now())).await;
    let config = fake.state.config().clone();
    let runtime = FakeLambdaRuntime::start().await;
    let log = std::env::temp_dir().join(format!("collector-{}.log", std::process::id()));
    let function = runtime.spawn(
        env!("CARGO_BIN_EXE_collector"),
        &[
            ("DATABASE_URL", t.url.clone()),
            ("ANTHROPIC_ADMIN_KEY", config.anthropic_key.clone()),
            ("ANTHROPIC_BASE_URL", fake.url.clone()),
            ("OPENAI_ADMIN_KEY", config.openai_key.clone()),
            ("OPENAI_BASE_URL", fake.url.clone()),
            ("COLLECTION_BACKFILL_DAYS", "3".into()),
        ],
        &log,
    );

    let answer = runtime
        .invoke(
            fixture("eventbridge-scheduled.json"),
            Duration::from_secs(60),
        )
        .await;
    let Answer::Response(report) = answer else {
        panic!(
            "expected a report, got {answer:?}; log:\n{}",
            function.output()
        )
    };
    assert_eq!(report["trigger"], "schedule", "{report}");
    for provider in report["providers"].as_array().unwrap() {
        assert_eq!(provider["outcome"], "succeeded", "{provider}");
        assert!(provider["created"].as_i64().unwrap() > 0, "{provider}");
    }

    let manual = json!({"action": "collect", "provider": "openai",
        "start": (chrono::Utc::now() - chrono::Duration::days(2)).format("%Y-%m-%d").to_string()});
    let Answer::Response(report) = runtime.invoke(manual, Duration::from_secs(60)).await else {
        panic!("expected a report; log:\n{}", function.output())
    };
    assert_eq!(report["trigger"], "manual");
    assert_eq!(report["providers"].as_array().unwrap().len(), 1);
    assert_eq!(
        report["providers"][0]["created"], 0,
        "already collected: {report}"
    );

    let answer = runtime
        .invoke(
            json!({"action": "collect", "provider": "gemini"}),
            Duration::from_secs(10),
        )
        .await;
    let Answer::Error {
        error_type,
        error_message,
        ..
    } = answer
    else {
        panic!("a bad payload must be an error, got {answer:?}")
    };
    assert_eq!(error_type, "InvalidEvent");
    assert!(error_message.contains("provider"), "{error_message}");

    let runs = t.store.recent_runs(None, 10).await.unwrap();
    assert_eq!(runs.len(), 3, "two scheduled runs and one manual");
    let output = function.output();
    assert!(
        !output.contains(&config.anthropic_key) && !output.contains(&config.openai_key),
        "keys leaked:\n{output}"
    );
}
