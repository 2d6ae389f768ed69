//! `cost-tracker serve`: the router on HOST:PORT with graceful shutdown.

use anyhow::Context;
use shared::config::Config;

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    // Logs go to stderr, so stdout carries only what a command prints (its JSON report);
    // colours only on a terminal, so container and file logs stay plain text.
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let ledger = shared::app::open_ledger(&config, true)
        .await
        .context("open database")?;
    let api_key = match config.api_key.clone() {
        Some(key) => {
            if let Some(warning) = weak_key_warning(key.expose()) {
                tracing::warn!("{warning}");
            }
            key
        }
        None => {
            let key = shared::app::generate_api_key();
            println!("API_KEY is not set; generated a key for this run (set API_KEY to keep one):\n\n    {}\n", key.expose());
            key
        }
    };
    // A run a killed process left `running` is closed as failed.
    shared::collect::close_stale_runs(ledger.store().as_ref(), chrono::Utc::now()).await;
    // Small pushes defer their rollup deltas to this folder (concurrent
    // pushes must not queue on the current hour's rollup rows).
    ledger.start_rollup_folder();
    let address = format!("{}:{}", config.host, config.port);
    let state = shared::app::app_state(config, ledger.clone(), api_key);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("bind {address}"))?;
    tracing::info!(%address, backend = state.store().backend(), "serving");
    schedule_collection(&state);
    schedule_cv_sync(&state);
    schedule_import(&state);
    schedule_budgets(&state);
    let limits = shared::http::listen::Limits::from_config(&state.config);
    tracing::info!(
        read_timeout_seconds = limits.read_timeout.as_secs(),
        max_connections = limits.max_connections,
        "connection limits"
    );
    shared::http::listen::serve(listener, shared::http::router(state), limits, shutdown()).await;
    // Leave nothing pending (the next start would fold it, and reports count it anyway).
    if let Err(err) = ledger.fold_now().await {
        tracing::warn!(error = %err, "folding pending rollup deltas at shutdown failed");
    }
    Ok(())
}

/// Keys shorter than this can be guessed online in hours.
const MIN_KEY_CHARS: usize = 16;

/// What `serve` says at start about an `API_KEY` too short to be safe on a network.
fn weak_key_warning(key: &str) -> Option<String> {
    let chars = key.chars().count();
    (chars < MIN_KEY_CHARS).then(|| {
        format!(
            "API_KEY has {chars} characters; use at least {MIN_KEY_CHARS} (e.g. `openssl rand -hex 16`) on any address others can reach"
        )
    })
}

/// Runs the normal collection at start-up and then every `COLLECTION_INTERVAL_HOURS`,
/// in the background; one log line and nothing else when no admin key is configured.
/// Budget checks after writes (debounced) and on a schedule.
fn schedule_budgets(state: &shared::http::AppState) {
    let config = &state.config;
    let debounce = std::time::Duration::from_secs(config.budget_debounce_seconds);
    let every = std::time::Duration::from_secs(config.budget_check_interval_seconds);
    tracing::info!(
        debounce_seconds = debounce.as_secs(),
        every_seconds = every.as_secs(),
        "budget checks after writes and on a schedule"
    );
    state
        .ledger
        .budget_watch()
        .start(state.budgets.clone(), debounce, every);
}

fn schedule_collection(state: &shared::http::AppState) {
    use shared::collect::{CollectRequest, Trigger};
    let collector = state.collector.clone();
    let configured = collector.settings().configured();
    if configured.is_empty() {
        tracing::info!("collection off: no ANTHROPIC_ADMIN_KEY or OPENAI_ADMIN_KEY configured");
        return;
    }
    let hours = u64::from(state.config.collection_interval_hours.max(1));
    tracing::info!(providers = ?configured, every_hours = hours, "collection scheduled");
    shared::tasks::spawn_supervised("collection schedule", move || {
        let collector = collector.clone();
        async move {
            let mut ticks = tokio::time::interval(std::time::Duration::from_secs(hours * 3600));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let request = CollectRequest::scheduled(Trigger::Serve);
                match collector.collect_once(request, chrono::Utc::now()).await {
                    Ok(report) if report.succeeded() => {}
                    Ok(report) => {
                        for failure in report.failures() {
                            tracing::warn!(provider = %failure.provider, error = failure.error.as_deref().unwrap_or(""), "scheduled collection failed; the next run retries");
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "scheduled collection refused"),
                }
            }
        }
    });
}

/// Runs the Context Vault sync at start-up (catching up missed days) and then daily at
/// 01:00 in REPORT_TIMEZONE, in the background; one log line and nothing else when the
/// vault URL or key is missing.
fn schedule_cv_sync(state: &shared::http::AppState) {
    use shared::collect::Trigger;
    use shared::cv::{next_daily_run, SyncRequest};
    let syncer = state.syncer.clone();
    if !syncer.configured() {
        tracing::info!("Context Vault sync off: set CONTEXT_VAULT_URL and CONTEXT_VAULT_API_KEY");
        return;
    }
    let tz = syncer.settings().timezone;
    tracing::info!(
        timezone = tz.name(),
        "Context Vault sync scheduled daily at 01:00"
    );
    shared::tasks::spawn_supervised("Context Vault schedule", move || {
        let syncer = syncer.clone();
        async move {
            loop {
                let request = SyncRequest::scheduled(Trigger::Serve);
                match syncer.sync_once(request, chrono::Utc::now()).await {
                    Ok(report) if report.succeeded() => {}
                    Ok(report) => tracing::warn!(
                        error = report.error.as_deref().unwrap_or(""),
                        "scheduled Context Vault sync failed; the next run retries"
                    ),
                    Err(err) => {
                        tracing::warn!(error = %err, "scheduled Context Vault sync failed; the next run retries")
                    }
                }
                let now = chrono::Utc::now();
                let wait = (next_daily_run(now, tz) - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
            }
        }
    });
}

/// Imports the transcripts under `IMPORT_OPENCLAW_ROOTS` / `IMPORT_CLAUDE_CODE_ROOTS`
/// at start-up and then every `IMPORT_INTERVAL_SECONDS`, in the background; one log
/// line and nothing else when neither is set.
fn schedule_import(state: &shared::http::AppState) {
    use shared::import::sink::LedgerSink;
    use shared::import::{import_once, ImportOptions, Importer};
    let config = &state.config;
    let jobs: Vec<ImportOptions> = [
        (Importer::Openclaw, &config.import_openclaw_roots),
        (Importer::ClaudeCode, &config.import_claude_code_roots),
    ]
    .into_iter()
    .filter(|(_, roots)| !roots.is_empty())
    .map(|(importer, roots)| ImportOptions {
        importer,
        roots: roots.clone(),
        heartbeat_pattern: config.import_heartbeat_pattern.clone(),
        trigger: shared::store::Trigger::Serve,
    })
    .collect();
    if jobs.is_empty() {
        tracing::info!(
            "transcript import off: set IMPORT_OPENCLAW_ROOTS and/or IMPORT_CLAUDE_CODE_ROOTS"
        );
        return;
    }
    let seconds = config.import_interval_seconds.max(1);
    tracing::info!(every_seconds = seconds, "transcript import scheduled");
    let sink: std::sync::Arc<dyn shared::import::sink::Sink> = std::sync::Arc::new(LedgerSink {
        ledger: state.ledger.clone(),
    });
    let jobs = std::sync::Arc::new(jobs);
    shared::tasks::spawn_supervised("import schedule", move || {
        let (jobs, sink) = (jobs.clone(), sink.clone());
        async move {
            let mut ticks = tokio::time::interval(std::time::Duration::from_secs(seconds));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                for job in jobs.iter() {
                    let report = import_once(std::sync::Arc::clone(&sink), job).await;
                    if report.found_something() || !report.unreadable_roots.is_empty() {
                        tracing::info!(
                            importer = %report.importer,
                            created = report.created,
                            updated = report.updated,
                            errors = report.errors.len() + report.unreadable_roots.len(),
                            "transcript import"
                        );
                    }
                }
            }
        }
    });
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_key_is_warned_about_without_showing_it() {
        let warning = weak_key_warning("a").expect("one character is too short");
        assert!(
            warning.contains("1 characters") && !warning.contains("`a`"),
            "{warning}"
        );
        assert!(weak_key_warning("ct_0123456789abcdef").is_none());
        assert!(weak_key_warning("fifteen-chars-x").is_some());
    }
}
