//! `cost-tracker sync-cv`, the real binary, against a fake Context Vault on localhost: it
//! pushes exactly the summaries `GET /costs/daily-summary` shows for the last seven
//! completed days, oldest first; a second run pushes nothing; `--date --force` pushes a
//! new revision; `GET /admin/status` lists each push; the key never shows in its output;
//! without a URL and key it says the sync is not configured.

use std::process::{Command, Output};

use chrono::{DateTime, Days, Utc};
use integration_tests::fake_vault::{FakeVault, VAULT_KEY};
use integration_tests::{app, dec, get, ledger, reported_usage};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use shared::domain::timeframe::{local_day_start, today};
use shared::domain::usage::NewUsage;
use shared::http::query::parse_tz;
use shared::store::WriteMode;

const TZ: &str = "Europe/Berlin";

/// The binary with a clean environment: only these variables, no `.env` (empty directory).
struct Cli {
    dir: std::path::PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Cli {
    async fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cost-tracker"));
        command
            .env_clear()
            .current_dir(&self.dir)
            .args(args)
            .envs(self.env.iter().cloned());
        tokio::task::spawn_blocking(move || command.output().expect("run cost-tracker"))
            .await
            .unwrap()
    }

    /// Starts `cost-tracker serve` on a free port; its output goes to `log`.
    fn serve(&self, log: &std::path::Path) -> Serving {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_cost-tracker"))
            .env_clear()
            .current_dir(&self.dir)
            .arg("serve")
            .envs(self.env.iter().cloned())
            .envs([("PORT", port.to_string()), ("API_KEY", "serve-key".into())])
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start cost-tracker serve");
        Serving(child)
    }

    fn with(&self, name: &'static str, value: &str) -> Cli {
        let mut env: Vec<_> = self
            .env
            .iter()
            .filter(|(n, _)| *n != name)
            .cloned()
            .collect();
        env.push((name, value.to_string()));
        Cli {
            dir: self.dir.clone(),
            env,
        }
    }
}

/// A running `cost-tracker serve`, stopped on drop.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Waits (at most 30 s) until `ready` holds.
async fn eventually(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..300 {
        if ready() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 30 s");
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("sync-cv printed no JSON report:\n{}", text(output)))
}

/// A pushed event labelled for `project`'s mapping rule, with a reported cost.
fn event(at: DateTime<Utc>, model: &str, project: &str, usd: Decimal) -> NewUsage {
    let mut usage = reported_usage(&format!("{at}-{model}"), at, model, usd);
    usage.facts.session_label = Some(format!("{project}-agent"));
    usage
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_cv_pushes_each_completed_day_once_and_status_shows_the_pushes() {
    let vault = FakeVault::start().await;
    let unique = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("ct-sync-cv-{}-{unique}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("sync.db").display());
    let store = shared::store::open(&url).await.unwrap();
    store.migrate().await.unwrap();

    // Usage on each of the last nine local days and today; the costs differ per day.
    let tz = parse_tz(TZ).unwrap();
    let today = today(tz, Utc::now());
    let mut events = Vec::new();
    for back in 0..=9u64 {
        let noon = local_day_start(today - Days::new(back), tz) + chrono::Duration::hours(12);
        let cents = i64::try_from(back).unwrap() * 137 + 4_850;
        events.push(event(
            noon,
            "claude-opus-4-6",
            "peakpaws",
            Decimal::new(cents, 2),
        ));
        events.push(event(
            noon,
            "claude-sonnet-4-5",
            "kanban",
            Decimal::new(311, 2),
        ));
    }
    let records = ledger(&store)
        .ingest(events, WriteMode::InsertOnly)
        .await
        .unwrap();

    let cli = Cli {
        dir: dir.clone(),
        env: vec![
            ("DATABASE_URL", url.clone()),
            ("REPORT_TIMEZONE", TZ.into()),
            ("CONTEXT_VAULT_URL", vault.url.clone()),
            ("CONTEXT_VAULT_API_KEY", VAULT_KEY.into()),
            ("RUST_LOG", "debug".into()),
        ],
    };
    let first = cli.run(&["sync-cv"]).await;
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        !text(&first).contains(VAULT_KEY),
        "the key leaked:\n{}",
        text(&first)
    );
    let first = report(&first);
    assert_eq!(
        (first["outcome"].as_str(), first["pushed"].as_i64()),
        (Some("pushed"), Some(7)),
        "{first}"
    );
    assert_eq!(first["trigger"], "cli");

    let want_dates: Vec<String> = (1..=7u64)
        .rev()
        .map(|back| (today - Days::new(back)).to_string())
        .collect();
    let pushed = vault.stored();
    assert_eq!(
        pushed.iter().map(|r| r.date()).collect::<Vec<_>>(),
        want_dates
    );
    let api = app(&store, TZ);
    for memory in &pushed {
        let body = memory.json();
        let date = memory.date();
        assert_eq!(memory.headers["x-api-key"], VAULT_KEY);
        assert_eq!(memory.path, "/memories");
        assert_eq!(body["workspace"], "openclaw_default");
        assert_eq!(body["meta_data"]["revision"], 1);
        // Exactly what the API shows for that day, and the stored costs rounded to cents.
        let shown = get(&api, &format!("/costs/daily-summary?date={date}")).await;
        assert_eq!(
            body["content"].as_str(),
            Some(shown.text.as_str()),
            "{date}"
        );
        let exact: Decimal = records
            .iter()
            .filter(|o| {
                o.record
                    .facts
                    .recorded_at
                    .with_timezone(&tz)
                    .date_naive()
                    .to_string()
                    == date
            })
            .map(|o| o.record.cost.usd())
            .sum();
        let total = exact.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(dec(&body["meta_data"]["total_cost"]), total, "{date}");
        assert_eq!(
            body["meta_data"]["by_project"]["PeakPaws"],
            shown.body["by_project"]["PeakPaws"]
        );
        assert!(body["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("AI spend {date}: ${total} (opus $")));
    }
    eprintln!("one day's memory: {} bytes", pushed[0].body.len());

    let second = cli.run(&["sync-cv"]).await;
    assert!(second.status.success(), "{}", text(&second));
    assert_eq!(report(&second)["outcome"], "already_synced");
    assert_eq!(report(&second)["pushed"], 0);
    assert_eq!(vault.requests().len(), 7, "a second run pushes nothing");

    let yesterday = (today - Days::new(1)).to_string();
    let forced = cli.run(&["sync-cv", "--date", &yesterday, "--force"]).await;
    assert!(forced.status.success(), "{}", text(&forced));
    assert_eq!(report(&forced)["days"][0]["revision"], 2);
    assert_eq!(vault.requests().last().unwrap().revision(), 2);

    let status = get(&api, "/admin/status").await.body;
    let recent = status["context_vault"]["recent_pushes"].as_array().unwrap();
    assert_eq!(recent.len(), 8, "{status}");
    assert_eq!(
        (recent[0]["date"].as_str(), recent[0]["revision"].as_i64()),
        (Some(yesterday.as_str()), Some(2))
    );
    let listed: Vec<&str> = recent[1..]
        .iter()
        .rev()
        .map(|p| p["date"].as_str().unwrap())
        .collect();
    assert_eq!(listed, want_dates);
    assert!(recent
        .iter()
        .all(|p| p["status"] == "pushed" && p["trigger"] == "cli" && p["response_code"] == 201));
    assert_eq!(status["context_vault"]["last_error"], Value::Null);

    // Usage errors, a rejected key, and no configuration: non-zero, with the reason.
    let today_arg = today.to_string();
    for args in [
        vec!["sync-cv", "--force"],
        vec!["sync-cv", "--date", &today_arg],
        vec!["sync-cv", "--date", "1.1.2026"],
    ] {
        let output = cli.run(&args).await;
        assert!(!output.status.success(), "{args:?}");
        assert!(
            text(&output).contains("date"),
            "{args:?}: {}",
            text(&output)
        );
    }
    let wrong = cli
        .with("CONTEXT_VAULT_API_KEY", "cv-not-the-key-9")
        .run(&["sync-cv", "--date", &yesterday, "--force"])
        .await;
    assert!(!wrong.status.success());
    assert_eq!(report(&wrong)["outcome"], "failed");
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("HTTP 401") && stderr.contains("CONTEXT_VAULT_API_KEY"),
        "{stderr}"
    );
    assert!(
        !text(&wrong).contains("cv-not-the-key-9"),
        "{}",
        text(&wrong)
    );
    let off = cli.with("CONTEXT_VAULT_URL", "").run(&["sync-cv"]).await;
    assert!(!off.status.success());
    assert!(
        String::from_utf8_lossy(&off.stderr).contains("not configured"),
        "{}",
        text(&off)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_catches_up_at_start_up_and_logs_one_line_when_not_configured() {
    let vault = FakeVault::start().await;
    let unique = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("ct-serve-cv-{}-{unique}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("serve.db").display());
    let cli = Cli {
        dir: dir.clone(),
        env: vec![
            ("DATABASE_URL", url.clone()),
            ("CONTEXT_VAULT_URL", vault.url.clone()),
            ("CONTEXT_VAULT_API_KEY", VAULT_KEY.into()),
            ("RUST_LOG", "info".into()),
        ],
    };
    let log = dir.join("serve.log");
    let server = cli.serve(&log);
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    eventually("seven pushes from serve", || vault.stored().len() == 7).await;
    drop(server);
    let store = shared::store::open(&url).await.unwrap();
    let pushes = store.cv_pushes(&Default::default(), 100).await.unwrap();
    assert_eq!(pushes.len(), 7);
    assert!(pushes
        .iter()
        .all(|p| p.trigger == shared::store::Trigger::Serve && p.revision == 1));
    assert!(
        read_log().contains("Context Vault sync scheduled daily at 01:00"),
        "{}",
        read_log()
    );
    assert!(!read_log().contains(VAULT_KEY));

    let quiet = cli.with("CONTEXT_VAULT_API_KEY", "");
    let log = dir.join("quiet.log");
    let server = quiet.serve(&log);
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    eventually("the sync-off log line", || {
        read_log().contains("Context Vault sync off")
    })
    .await;
    drop(server);
    let lines: Vec<String> = read_log()
        .lines()
        .filter(|l| l.contains("Context Vault"))
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("Context Vault sync off"), "{lines:?}");
    assert_eq!(vault.requests().len(), 7);
    std::fs::remove_dir_all(&dir).ok();
}
