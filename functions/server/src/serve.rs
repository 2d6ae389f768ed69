//! `cost-tracker serve`: the router on HOST:PORT with graceful shutdown.

use anyhow::Context;
use shared::config::Config;

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let ledger = shared::app::open_ledger(&config, true)
        .await
        .context("open database")?;
    let api_key = match config.api_key.clone() {
        Some(key) => key,
        None => {
            let key = shared::app::generate_api_key();
            println!("API_KEY is not set; generated a key for this run (set API_KEY to keep one):\n\n    {}\n", key.expose());
            key
        }
    };
    let address = format!("{}:{}", config.host, config.port);
    let state = shared::app::app_state(config, ledger, api_key);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("bind {address}"))?;
    tracing::info!(%address, backend = state.store().backend(), "serving");
    schedule_collection(&state);
    axum::serve(listener, shared::http::router(state))
        .with_graceful_shutdown(shutdown())
        .await
        .context("serve")
}

/// Runs the normal collection at start-up and then every `COLLECTION_INTERVAL_HOURS`,
/// in the background; one log line and nothing else when no admin key is configured.
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
    tokio::spawn(async move {
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
