//! Lambda `cv-sync`: an EventBridge scheduled event pushes every completed day not yet in
//! Context Vault, `{"action":"sync","date"?,"force"?}` one day. Failures set `errorType`
//! to `InvalidEvent` or `SyncFailed` (a retry cannot help) or `RetryableSyncError` (it
//! may). Migrations are a deploy step, never run here.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use shared::config::Config;
use shared::cv::Syncer;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::load().await?;
    let ledger = shared::app::open_ledger(&config, false).await?;
    let syncer = Syncer::from_config(ledger, &config);
    if !syncer.configured() {
        tracing::warn!("Context Vault sync off: set CONTEXT_VAULT_URL and CONTEXT_VAULT_API_KEY");
    }
    let syncer = &syncer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        shared::cv::sync_event(syncer, &event.payload, chrono::Utc::now())
            .await
            .map(|report| serde_json::to_value(report).unwrap_or(Value::Null))
            .map_err(|failure| Diagnostic {
                error_type: failure.error_type.to_string(),
                error_message: failure.message,
            })
    }))
    .await
}
