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
    let state = shared::app::app_state(config, ledger, api_key);
    lambda_http::run(shared::http::router(state)).await
}
