//! Lambda `collector`: an EventBridge scheduled event runs the normal collection,
//! `{"action":"collect","provider"?,"start"?,"end"?}` a manual range. Failures set
//! `errorType` to `InvalidEvent` or `CollectionFailed` (a retry cannot help) or
//! `RetryableCollectionError` (it may). Migrations are a deploy step, never run here.
//!
//! Budgets are checked after every collection (its chunks move the totals), and
//! `{"action":"check-budgets"}` (an EventBridge rule every 5 minutes) checks them
//! alone: a Lambda keeps no task running to check after pushes.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use shared::collect::Collector;
use shared::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::load().await?;
    let ledger = shared::app::open_ledger(&config, false).await?;
    let checker = shared::budgets::Checker::from_config(ledger.clone(), &config);
    let collector = Collector::from_config(ledger, &config);
    if collector.settings().configured().is_empty() {
        tracing::warn!("collection off: no ANTHROPIC_ADMIN_KEY or OPENAI_ADMIN_KEY configured");
    }
    let (collector, checker) = (&collector, &checker);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        if event.payload.get("action").and_then(Value::as_str) == Some("check-budgets") {
            return checker
                .check(chrono::Utc::now(), "schedule")
                .await
                .map(|report| serde_json::to_value(report).unwrap_or(Value::Null))
                .map_err(|err| Diagnostic {
                    error_type: "BudgetCheckFailed".to_string(),
                    error_message: err.to_string(),
                });
        }
        let collected =
            shared::collect::collector_event(collector, &event.payload, chrono::Utc::now()).await;
        // Committed chunks count even when a provider failed later.
        if let Err(err) = checker.check(chrono::Utc::now(), "collection").await {
            tracing::warn!(error = %err, "budget check after the collection failed; the schedule retries");
        }
        collected
            .map(|report| serde_json::to_value(report).unwrap_or(Value::Null))
            .map_err(|failure| Diagnostic {
                error_type: failure.error_type.to_string(),
                error_message: failure.message,
            })
    }))
    .await
}
