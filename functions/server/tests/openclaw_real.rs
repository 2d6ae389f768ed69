//! The real thing: the published `openclaw` 2026.9.6 (installed from npm by
//! `scripts/ensure-openclaw.sh`) writes a state directory offline against a loopback
//! fake of the Anthropic Messages API (`scripts/openclaw-fixture.sh`: main turns, a
//! HEARTBEAT turn, subagent-, cron- and heartbeat-key turns, a long answer stored
//! zstd-compressed), and `cost-tracker import openclaw` must find exactly the calls
//! the fake answered, with their tokens and session types, on both backends.
//!
//! `OPENCLAW_FIXTURE_DIR` reuses a directory the script already filled (it takes a
//! few minutes); otherwise the test runs the script into a temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use integration_tests::both_stores;
use serde_json::Value;
use shared::store::UsageQuery;

fn fixture() -> PathBuf {
    if let Some(dir) = std::env::var_os("OPENCLAW_FIXTURE_DIR").map(PathBuf::from) {
        if dir.join("expected.json").is_file() {
            return dir;
        }
    }
    let dir = std::env::temp_dir().join(format!("ct-openclaw-{}", uuid::Uuid::new_v4().simple()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/openclaw-fixture.sh");
    let output = Command::new("bash")
        .arg(script)
        .arg(&dir)
        .output()
        .expect("run openclaw-fixture.sh");
    assert!(
        output.status.success(),
        "scripts/openclaw-fixture.sh failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

/// The session type each turn of the script must be imported as.
fn expected_type(turn: &str) -> &'static str {
    match turn {
        "main-1" | "main-2" | "long" => "main",
        "main-heartbeat" | "heartbeat-key" => "heartbeat",
        "subagent" => "subagent",
        "cron" => "cron",
        other => panic!("a turn this test does not know: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_the_real_openclaw_writes_is_imported_exactly() {
    let dir = tokio::task::spawn_blocking(fixture).await.unwrap();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let calls = expected["calls"].as_array().unwrap();
    assert!(
        calls.len() >= 6,
        "the fixture has every kind of turn: {expected}"
    );
    assert!(
        calls.iter().any(|c| c["compressed"] == true),
        "one answer is stored compressed"
    );
    let state = dir.join("state");
    for store in both_stores().await {
        let backend = store.backend;
        let run = || {
            let mut command = Command::new(env!("CARGO_BIN_EXE_cost-tracker"));
            command
                .args(["import", "openclaw", "--root"])
                .arg(&state)
                .env("DATABASE_URL", &store.url)
                .env("RUST_LOG", "warn")
                .env_remove("IMPORT_HEARTBEAT_PATTERN");
            command.output().expect("run cost-tracker import")
        };
        let output = run();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!(
                "{backend}: no report\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        assert!(output.status.success(), "{backend}: {report}");
        assert_eq!(
            report["errors"],
            serde_json::json!([]),
            "{backend}: {report}"
        );
        assert_eq!(
            report["created"].as_u64(),
            Some(calls.len() as u64),
            "{backend}: {report}"
        );

        let query = UsageQuery {
            limit: 1_000,
            ..UsageQuery::default()
        };
        let (records, total) = store.store.list_usage(&query).await.unwrap();
        assert_eq!(
            total as usize,
            calls.len(),
            "{backend}: one record per answered call"
        );
        for call in calls {
            let id = format!(
                "openclaw:main:{}:{}",
                call["session_id"].as_str().unwrap(),
                call["entry_id"].as_str().unwrap()
            );
            let record = records
                .iter()
                .find(|r| r.facts.external_id == id)
                .unwrap_or_else(|| panic!("{backend}: no record {id}"));
            let usage = &call["usage"];
            let int = |name: &str| usage[name].as_i64().unwrap();
            let t = &record.facts.tokens;
            assert_eq!(
                (
                    t.input,
                    t.output,
                    t.cache_read,
                    t.cache_write_5m + t.cache_write_1h,
                    t.cache_write_1h
                ),
                (
                    int("input"),
                    int("output"),
                    int("cacheRead"),
                    int("cacheWrite"),
                    int("cacheWrite1h")
                ),
                "{backend}: tokens of {}",
                call["turn"]
            );
            let turn = call["turn"].as_str().unwrap();
            assert_eq!(
                record.session_type.as_str(),
                expected_type(turn),
                "{backend}: type of {turn}"
            );
            assert_eq!(
                record.facts.session_label.as_deref(),
                call["session_key"].as_str(),
                "{backend}: {turn}"
            );
            assert_eq!(record.agent.as_deref(), Some("main"));
            assert_eq!(record.facts.model, call["model"].as_str().unwrap());
            assert!(
                !record.unpriced,
                "{backend}: {} is in the catalog",
                record.facts.model
            );
            assert_eq!(
                record.facts.raw["metadata"]["response_id"], call["response_id"],
                "{backend}: {turn}"
            );
        }
        let again: Value = serde_json::from_slice(&run().stdout).unwrap();
        assert_eq!(again["lines_read"], 0, "{backend}: nothing new: {again}");
        assert_eq!(again["files_unchanged"], again["files_scanned"]);
    }
}
