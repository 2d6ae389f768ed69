//! `/dashboard` in headless Chromium, against the real `cost-tracker serve` with the demo
//! month: tests/browser/dashboard.mjs enters the key, checks the headline and the tables
//! against the API to the cent, switches the stacking, changes the range, looks at it at
//! phone width and saves screenshots under `target/`. Chromium and playwright-core are
//! installed by scripts/ensure-browser.sh; when they cannot run, the test fails.

use std::process::Command;

use integration_tests::dec;
use integration_tests::serve::{repo_root, Server};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

/// Runs a command to the end; panics with its output when it fails.
async fn run(mut command: Command, what: &str) -> String {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|err| panic!("{what}: could not start: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({})\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `$1,334.13`: the API's figure as the page shows it.
fn cents(usd: Decimal) -> String {
    let cents = usd.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{cents:.2}");
    let (whole, frac) = text.split_once('.').unwrap();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("${grouped}.{frac}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_demo_month_as_the_api_does() {
    let root = repo_root();
    run(
        Command::new(root.join("scripts/ensure-browser.sh")),
        "scripts/ensure-browser.sh",
    )
    .await;

    let dir = std::env::temp_dir().join(format!("ct-dashboard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("dashboard.db").display());
    let binary = env!("CARGO_BIN_EXE_cost-tracker");
    let mut demo = Command::new(binary);
    demo.current_dir(&dir)
        .arg("demo")
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn");
    run(demo, "cost-tracker demo").await;

    let server = Server::start(binary, &dir, vec![("DATABASE_URL", url)]);
    server
        .wait_for("/admin/status", |s| s["database"] == "sqlite")
        .await;
    let shots = root.join("target");
    let mut browser = Command::new("node");
    browser
        .arg(root.join("tests/browser/dashboard.mjs"))
        .env("BASE_URL", server.url(""))
        .env("API_KEY", &server.key)
        .env("SCREENSHOT_DIR", &shots);
    let started = std::time::Instant::now();
    let output = tokio::task::spawn_blocking(move || browser.output())
        .await
        .unwrap()
        .expect("run node tests/browser/dashboard.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser test failed\nstdout: {stdout}\nstderr: {}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log_text()
    );
    eprintln!(
        "browser run: {} ms; {stdout}",
        started.elapsed().as_millis()
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("no JSON summary: {stdout}"));
    assert_eq!(summary["ok"], true);

    // The same figures, asked of the API by this test, to the cent.
    for range in ["thirty_days", "seven_days"] {
        let shown = &summary[range];
        let path = format!(
            "/costs/range?start={}&end={}&tz={}",
            shown["start"].as_str().unwrap(),
            shown["end"].as_str().unwrap(),
            shown["tz"].as_str().unwrap()
        );
        let api = server.get(&path).await.unwrap();
        assert_eq!(
            shown["total"].as_str().unwrap(),
            cents(dec(&api["total_cost_usd"])),
            "{range}: {path}"
        );
    }
    for shot in ["dashboard.png", "dashboard-phone.png"] {
        let size = std::fs::metadata(shots.join(shot)).map_or(0, |m| m.len());
        assert!(size > 20_000, "{shot}: {size} bytes");
    }
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cents_are_grouped_and_rounded_like_the_page() {
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    assert_eq!(cents(d("1334.128241")), "$1,334.13");
    assert_eq!(cents(d("0.005")), "$0.01");
    assert_eq!(cents(d("1234567.5")), "$1,234,567.50");
    assert_eq!(cents(d("12")), "$12.00");
}
