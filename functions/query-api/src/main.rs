//! Lambda `query-api`: the REST API behind API Gateway (HTTP API, `/{proxy+}`).
//! Migrations are a deploy step, never run on a cold start.

use shared::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::load().await?;
    if !config.database_url.expose().starts_with("postgres") {
        return Err("query-api requires a postgres:// DATABASE_URL".into());
    }
    let api_key = config
        .api_key
        .clone()
        .ok_or("API_KEY must be set for the query-api Lambda")?;
    let ledger = shared::app::open_ledger(&config, false).await?;
    // POST /admin/collect and /admin/sync-cv go to the collector and cv-sync
    // functions (COLLECTOR_FUNCTION, CV_SYNC_FUNCTION), which hold the keys they need.
    let handoff = shared::handoff::Handoff::from_config(&config).await;
    let mut state = shared::app::app_state(config, ledger, api_key);
    state.handoff = handoff.map(std::sync::Arc::new);
    lambda_http::run(shared::http::router(state)).await
}
