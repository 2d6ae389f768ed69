//! Lambda `collector`: an EventBridge scheduled event runs the normal collection,
//! `{"action":"collect","provider"?,"start"?,"end"?}` a manual range. Failures set
//! `errorType` to `InvalidEvent` or `CollectionFailed` (a retry cannot help) or
//! `RetryableCollectionError` (it may). Migrations are a deploy step, never run here.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use shared::collect::Collector;
use shared::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::load().await?;
    let ledger = shared::app::open_ledger(&config, false).await?;
    let collector = Collector::from_config(ledger, &config);
    if collector.settings().configured().is_empty() {
        tracing::warn!("collection off: no ANTHROPIC_ADMIN_KEY or OPENAI_ADMIN_KEY configured");
    }
    let collector = &collector;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        shared::collect::collector_event(collector, &event.payload, chrono::Utc::now())
            .await
            .map(|report| serde_json::to_value(report).unwrap_or(Value::Null))
            .map_err(|failure| Diagnostic {
                error_type: failure.error_type.to_string(),
                error_message: failure.message,
            })
    }))
    .await
}
