//! `cost-tracker collect`, the real binary, against the fake provider APIs: it fills
//! a SQLite database with exactly the fake's costs, a re-run changes nothing, the
//! API reports the figures and the run, and a rejected key fails without showing it.

use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use integration_tests::fake_costs::expected;
use integration_tests::fake_providers::{FakeConfig, FakeProviders};
use integration_tests::serve::Server;
use integration_tests::{app, dec, get};
use serde_json::Value;
use shared::collect::floor_hour;
use shared::store::{Dimension, Filters, Grouping};

/// Runs the binary in an empty directory (no `.env`) with exactly these variables.
async fn cost_tracker(
    dir: &std::path::Path,
    env: Vec<(&'static str, String)>,
    args: &[&str],
) -> Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cost-tracker"));
        command.current_dir(&dir).args(&args);
        for (name, _) in std::env::vars() {
            if name.starts_with("ANTHROPIC_")
                || name.starts_with("OPENAI_")
                || name.starts_with("COLLECTION_")
                || name == "DATABASE_URL"
            {
                command.env_remove(name);
            }
        }
        command.envs(env).output().expect("run cost-tracker")
    })
    .await
    .unwrap()
}

fn report(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|_| {
        panic!(
            "cost-tracker collect printed no JSON report\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_fills_the_database_with_exactly_the_fakes_costs() {
    let fake = FakeProviders::start(FakeConfig::with_now(Utc::now())).await;
    let dir = std::env::temp_dir().join(format!("ct-cli-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("collect.db").display());
    let config = fake.state.config().clone();
    let env = |anthropic_key: &str| {
        vec![
            ("DATABASE_URL", url.clone()),
            ("ANTHROPIC_ADMIN_KEY", anthropic_key.to_string()),
            ("ANTHROPIC_BASE_URL", fake.url.clone()),
            ("OPENAI_ADMIN_KEY", config.openai_key.clone()),
            ("OPENAI_BASE_URL", fake.url.clone()),
            ("RUST_LOG", "warn".to_string()),
        ]
    };

    let first = cost_tracker(&dir, env(&config.anthropic_key), &["collect"]).await;
    assert!(
        first.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    let first = report(&first);
    let start: DateTime<Utc> =
        serde_json::from_value(first["providers"][0]["range_start"].clone()).unwrap();
    let end = floor_hour(config.now);
    for provider in first["providers"].as_array().unwrap() {
        assert_eq!(provider["outcome"], "succeeded");
        assert!(provider["created"].as_i64().unwrap() > 5_000, "{provider}");
    }
    eprintln!(
        "30-day hourly backfill, {} groups/hour, both providers: {} ms",
        config.groups_per_hour, first["duration_ms"]
    );

    let store = shared::store::open(&url).await.unwrap();
    let want = expected(&fake, &store, start, end);
    let by_model: std::collections::BTreeMap<String, rust_decimal::Decimal> = store
        .rollup_totals(
            start,
            end,
            &Filters::default(),
            Grouping::By(Dimension::Model),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|(key, totals)| (key.value.unwrap_or_default(), totals.cost.usd()))
        .collect();
    assert_eq!(by_model, want.by_model);

    let again = report(&cost_tracker(&dir, env(&config.anthropic_key), &["collect"]).await);
    for provider in again["providers"].as_array().unwrap() {
        assert_eq!(
            (provider["created"].as_i64(), provider["updated"].as_i64()),
            (Some(0), Some(0)),
            "{provider}"
        );
    }
    let manual = cost_tracker(
        &dir,
        env(&config.anthropic_key),
        &[
            "collect",
            "--provider",
            "openai",
            "--start",
            &(start + chrono::Duration::days(3))
                .format("%Y-%m-%d")
                .to_string(),
            "--end",
            &(start + chrono::Duration::days(12)).to_rfc3339(),
        ],
    )
    .await;
    let manual = report(&manual);
    assert_eq!(manual["providers"].as_array().unwrap().len(), 1);
    assert_eq!(manual["providers"][0]["created"], 0);
    assert_eq!(manual["providers"][0]["updated"], 0);

    // The API over the same database shows the figures and the runs.
    let api = app(&store, "UTC");
    let range = format!(
        "start={}&end={}",
        start.format("%Y-%m-%d"),
        end.format("%Y-%m-%d")
    );
    let costs = get(&api, &format!("/costs/by-model?{range}")).await.body;
    assert_eq!(
        dec(&costs["total_cost_usd"]),
        shared::domain::money::round_usd(want.total)
    );
    let status = get(&api, "/admin/status").await.body;
    assert_eq!(
        status["providers"]["anthropic"]["last_run"]["status"],
        "succeeded"
    );
    assert_eq!(
        status["providers"]["anthropic"]["last_run"]["trigger"],
        "cli"
    );
    assert_eq!(status["recent_runs"].as_array().unwrap().len(), 5);

    // A rejected key: non-zero exit, the reason, never the key.
    let rejected = cost_tracker(&dir, env("sk-ant-admin01-not-the-right-one"), &["collect"]).await;
    assert!(!rejected.status.success());
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    let stdout = String::from_utf8_lossy(&rejected.stdout);
    assert!(
        stderr.contains("anthropic admin key was rejected"),
        "{stderr}"
    );
    assert!(stderr.contains("ANTHROPIC_ADMIN_KEY"), "{stderr}");
    assert!(!stderr.contains("not-the-right-one") && !stdout.contains("not-the-right-one"));
    assert_eq!(
        report(&rejected)["providers"][1]["outcome"],
        "succeeded",
        "OpenAI still collected"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn collect_without_keys_says_collection_is_off() {
    let dir = std::env::temp_dir().join(format!("ct-cli-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("off.db").display());
    let output = cost_tracker(&dir, vec![("DATABASE_URL", url)], &["collect"]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("collection is off"));
    let output = cost_tracker(&dir, vec![], &["collect", "--start", "yesterday"]).await;
    assert!(String::from_utf8_lossy(&output.stderr).contains("start"));
    std::fs::remove_dir_all(&dir).ok();
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

fn start_server(dir: &std::path::Path, env: Vec<(&'static str, String)>) -> Server {
    Server::start(env!("CARGO_BIN_EXE_cost-tracker"), dir, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_collects_on_its_own_schedule_and_says_when_it_cannot() {
    let fake = FakeProviders::start(FakeConfig::with_now(Utc::now())).await;
    let dir = std::env::temp_dir().join(format!("ct-serve-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = fake.state.config().clone();
    let server = start_server(
        &dir,
        vec![
            (
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("serve.db").display()),
            ),
            ("ANTHROPIC_ADMIN_KEY", config.anthropic_key.clone()),
            ("ANTHROPIC_BASE_URL", fake.url.clone()),
            ("OPENAI_ADMIN_KEY", config.openai_key.clone()),
            ("OPENAI_BASE_URL", fake.url.clone()),
            ("COLLECTION_BACKFILL_DAYS", "2".into()),
        ],
    );
    let status = server
        .wait_for("/admin/status", |s| {
            ["anthropic", "openai"]
                .iter()
                .all(|p| s["providers"][p]["last_run"]["status"] == "succeeded")
        })
        .await;
    for provider in ["anthropic", "openai"] {
        let run = &status["providers"][provider]["last_run"];
        assert_eq!(run["trigger"], "serve", "{status}");
        assert!(run["records"].as_i64().unwrap() > 0, "{status}");
    }
    let costs = server.get("/costs/by-provider").await.unwrap();
    assert!(
        dec(&costs["total_cost_usd"]) > rust_decimal::Decimal::ZERO,
        "{costs}"
    );
    drop(server);

    // Without keys: one log line, no runs.
    let quiet = start_server(
        &dir,
        vec![(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("quiet.db").display()),
        )],
    );
    let status = quiet
        .wait_for("/admin/status", |s| s["providers"].is_object())
        .await;
    assert_eq!(status["providers"]["anthropic"]["configured"], false);
    assert_eq!(status["providers"]["anthropic"]["last_run"], Value::Null);
    let log = quiet.log_text();
    assert_eq!(log.matches("collection off").count(), 1, "{log}");
    drop(quiet);
    std::fs::remove_dir_all(&dir).ok();
}
