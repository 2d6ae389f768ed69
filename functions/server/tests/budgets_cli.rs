//! Budgets through the real binary: `cost-tracker serve` checks after a push (debounced,
//! `BUDGET_DEBOUNCE_SECONDS`) and alerts a fake Slack webhook without anyone calling
//! check; `cost-tracker budgets` prints the table, `cost-tracker budgets check` fires
//! what is due and exits non-zero when an alert could not be delivered, never printing
//! the hook's URL.

use std::process::Command;
use std::time::{Duration, Instant};

use integration_tests::fake_webhook::{FakeWebhook, HOOK_PATH};
use integration_tests::new_sqlite_url;
use integration_tests::serve::Server;
use serde_json::{json, Value};

fn dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ct-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn cli(dir: &std::path::Path, url: &str, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cost-tracker"));
    command
        .env_clear()
        .current_dir(dir)
        .args(args)
        .env("DATABASE_URL", url)
        .env("REPORT_TIMEZONE", "UTC");
    tokio::task::spawn_blocking(move || command.output().expect("run cost-tracker"))
        .await
        .unwrap()
}

#[tokio::test]
async fn serve_alerts_after_a_push_and_the_cli_lists_and_checks() {
    let hook = FakeWebhook::start().await;
    let dir = dir("budgets-cli");
    let url = new_sqlite_url();
    let server = Server::start(
        env!("CARGO_BIN_EXE_cost-tracker"),
        &dir,
        vec![
            ("DATABASE_URL", url.clone()),
            ("BUDGET_DEBOUNCE_SECONDS", "1".into()),
        ],
    );
    server.wait_for("/health", |_| true).await;
    let http = reqwest::Client::new();
    let send = |path: &str, body: Value| {
        http.post(server.url(path))
            .header("x-api-key", &server.key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let created = send(
        "/admin/budgets",
        json!({"name": "peakpaws-daily", "scope": {"dimension": "project", "value": "PeakPaws"},
               "period": "day", "amount_usd": "10",
               "channels": [{"type": "webhook", "url": hook.url}]}),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), 201, "{}", server.log_text());
    let now = chrono::Utc::now().to_rfc3339();
    let pushed = send(
        "/api/usage",
        json!({"event_id": "e1", "recorded_at": now, "model": "claude-sonnet-4-5",
               "project": "PeakPaws", "input_tokens": 10, "output_tokens": 5, "cost": "6"}),
    )
    .await
    .unwrap();
    assert!(pushed.status().is_success(), "{}", server.log_text());
    let deadline = Instant::now() + Duration::from_secs(15);
    while hook.accepted().is_empty() {
        assert!(Instant::now() < deadline, "no alert: {}", server.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hook.accepted()[0]["threshold"], 50);
    assert!(
        !server.log_text().contains(HOOK_PATH),
        "the log never shows the hook URL"
    );
    drop(server);

    // The table; then a check that fires 50 % of a second budget and fails to deliver
    // to a hook nobody listens on.
    let listed = cli(&dir, &url, &["budgets"]).await;
    let table = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{table}");
    assert!(
        table.contains("peakpaws-daily") && table.contains("$6.00") && table.contains("60%"),
        "{table}"
    );
    assert!(table.contains("50% sent"), "{table}");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!(
            "http://{}/hooks/closed-secret-77",
            listener.local_addr().unwrap()
        )
    };
    let budget = shared::budgets::parse_budget(
        &json!({"name": "all", "period": "month", "amount_usd": "11", "channels": [{"type": "webhook", "url": closed}]}),
        None,
    )
    .unwrap();
    let store = shared::store::open(&url).await.unwrap();
    store.save_budget(&budget).await.unwrap();
    let checked = cli(&dir, &url, &["budgets", "check"]).await;
    let (out, err) = (
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr),
    );
    assert!(!checked.status.success(), "{out}");
    assert!(err.contains("not delivered"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["fired"][0]["threshold"], 50, "{out}");
    assert_eq!(report["fired"][0]["status"], "failed", "{out}");
    assert!(
        !out.contains("closed-secret") && !err.contains("closed-secret"),
        "{out}{err}"
    );
    let again = cli(&dir, &url, &["budgets", "check"]).await;
    assert!(again.status.success(), "nothing new fires");
    std::fs::remove_dir_all(&dir).ok();
}
