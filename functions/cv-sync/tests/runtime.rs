//! The compiled `cv-sync` binary under the Lambda Runtime API protocol: the real
//! EventBridge scheduled event pushes the last seven completed days to a fake Context
//! Vault, a manual payload re-pushes one day, a bad payload is an `InvalidEvent`, and a
//! vault that refuses the summary is a `SyncFailed` that names the vault's answer.

use std::time::Duration;

use chrono::Utc;
use integration_tests::fake_lambda_runtime::{Answer, FakeLambdaRuntime};
use integration_tests::fake_vault::{FakeVault, Fault, VAULT_KEY};
use integration_tests::postgres_store;
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cv_sync_runs_scheduled_and_manual_events_through_the_runtime_api() {
    let t = postgres_store().await;
    let vault = FakeVault::start().await;
    let runtime = FakeLambdaRuntime::start().await;
    let log = std::env::temp_dir().join(format!("cv-sync-{}.log", std::process::id()));
    let function = runtime.spawn(
        env!("CARGO_BIN_EXE_cv-sync"),
        &[
            ("DATABASE_URL", t.url.clone()),
            ("CONTEXT_VAULT_URL", vault.url.clone()),
            ("CONTEXT_VAULT_API_KEY", VAULT_KEY.into()),
        ],
        &log,
    );
    let invoke = |event: Value| runtime.invoke(event, Duration::from_secs(60));

    let Answer::Response(report) = invoke(fixture("eventbridge-scheduled.json")).await else {
        panic!("expected a report; log:\n{}", function.output())
    };
    assert_eq!(
        (report["trigger"].as_str(), report["pushed"].as_i64()),
        (Some("schedule"), Some(7)),
        "{report}"
    );
    let yesterday = (Utc::now().date_naive() - chrono::Days::new(1)).to_string();
    assert_eq!(vault.stored().last().unwrap().date(), yesterday);

    let manual = json!({"action": "sync", "date": yesterday, "force": true});
    let Answer::Response(report) = invoke(manual.clone()).await else {
        panic!("expected a report; log:\n{}", function.output())
    };
    assert_eq!(
        (
            report["trigger"].as_str(),
            report["days"][0]["revision"].as_i64()
        ),
        (Some("manual"), Some(2))
    );

    let Answer::Error {
        error_type,
        error_message,
        ..
    } = invoke(json!({"action": "sync", "when": "now"})).await
    else {
        panic!("a bad payload must be an error")
    };
    assert_eq!(error_type, "InvalidEvent");
    assert!(error_message.contains("when"), "{error_message}");

    vault.fail_next(
        1,
        Fault::Rejected {
            status: 422,
            text: "meta_data too large".into(),
        },
    );
    let Answer::Error {
        error_type,
        error_message,
        ..
    } = invoke(manual).await
    else {
        panic!("a refused push must be an error")
    };
    assert_eq!(error_type, "SyncFailed");
    assert!(
        error_message.contains("meta_data too large"),
        "{error_message}"
    );
    assert!(
        !function.output().contains(VAULT_KEY),
        "the key leaked:\n{}",
        function.output()
    );
}
