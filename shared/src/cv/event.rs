//! The `cv-sync` Lambda's event contract: an EventBridge scheduled event is the normal
//! run, `{"action":"sync","date"?,"force"?}` one day (default yesterday), anything
//! else an error. Failures carry an error type saying whether a retry can help
//! (`RetryableSyncError`) or not (`InvalidEvent`, `SyncFailed`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{SyncReport, SyncRequest, Syncer};
use crate::collect::Trigger;

/// A failed invocation: the Lambda `errorType` and `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncFailure {
    pub error_type: &'static str,
    pub message: String,
}

const EXPECTED: &str =
    "expected an EventBridge scheduled event or {\"action\":\"sync\",\"date\"?:\"YYYY-MM-DD\",\"force\"?:true}";

impl SyncFailure {
    fn invalid(message: impl std::fmt::Display) -> Self {
        SyncFailure {
            error_type: "InvalidEvent",
            message: message.to_string(),
        }
    }
}

/// A manual invoke.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManualSync {
    action: String,
    date: Option<String>,
    #[serde(default)]
    force: bool,
}

/// The request an event asks for.
pub fn parse_event(
    syncer: &Syncer,
    event: &Value,
    now: DateTime<Utc>,
) -> Result<SyncRequest, SyncFailure> {
    let field = |key: &str| event.get(key).and_then(Value::as_str);
    if field("source") == Some("aws.events") || event.get("detail-type").is_some() {
        return match field("detail-type") {
            Some("Scheduled Event") => Ok(SyncRequest::scheduled(Trigger::Schedule)),
            other => Err(SyncFailure::invalid(format!(
                "unsupported EventBridge event `{}`: only `Scheduled Event` starts a sync",
                other.unwrap_or("(none)")
            ))),
        };
    }
    if !event.is_object() {
        return Err(SyncFailure::invalid(format!(
            "the event is not a JSON object; {EXPECTED}"
        )));
    }
    let manual: ManualSync = serde_json::from_value(event.clone())
        .map_err(|err| SyncFailure::invalid(format!("{err}; {EXPECTED}")))?;
    if manual.action != "sync" {
        return Err(SyncFailure::invalid(format!(
            "action: `{}` is not supported (expected \"sync\")",
            manual.action
        )));
    }
    SyncRequest::for_day(
        manual.date.as_deref(),
        manual.force,
        Trigger::Manual,
        syncer.settings().timezone,
        now,
    )
    .map_err(SyncFailure::invalid)
}

/// Runs the sync an event asks for: the report, or a failure naming the error.
pub async fn sync_event(
    syncer: &Syncer,
    event: &Value,
    now: DateTime<Utc>,
) -> Result<SyncReport, SyncFailure> {
    let request = parse_event(syncer, event, now)?;
    let report = syncer
        .sync_once(request, now)
        .await
        .map_err(|err| SyncFailure {
            error_type: "RetryableSyncError",
            message: format!("{err}; a retry may help"),
        })?;
    match &report.error {
        None => Ok(report),
        Some(error) if report.retryable => Err(SyncFailure {
            error_type: "RetryableSyncError",
            message: format!("{error}; the next run tries the day again"),
        }),
        Some(error) => Err(SyncFailure {
            error_type: "SyncFailed",
            message: format!("{error}; a retry will not help until the vault accepts the summary"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pricing::PriceCatalog;
    use crate::ledger::Ledger;
    use serde_json::json;

    /// A syncer whose store is never reached: parsing needs only the time zone.
    async fn syncer() -> Syncer {
        let store = crate::store::open("sqlite::memory:").await.unwrap();
        let ledger = Ledger::new(store, PriceCatalog::embedded(), "General");
        let config =
            Config::from_lookup(|name| (name == "REPORT_TIMEZONE").then(|| "Europe/Berlin".into()))
                .unwrap();
        Syncer::from_config(ledger, &config)
    }

    use crate::config::Config;
    use crate::cv::SyncScope;

    fn now() -> DateTime<Utc> {
        "2026-11-22T23:30:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn scheduled_and_manual_events_parse() {
        let syncer = syncer().await;
        let scheduled = json!({
            "version": "0", "id": "53dc4d37", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-22T01:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/cv"], "detail": {}
        });
        assert_eq!(
            parse_event(&syncer, &scheduled, now()).unwrap(),
            SyncRequest::scheduled(Trigger::Schedule)
        );
        let manual = json!({"action": "sync", "date": "2026-11-18", "force": true});
        let request = parse_event(&syncer, &manual, now()).unwrap();
        assert_eq!(request.scope, SyncScope::Day("2026-11-18".parse().unwrap()));
        assert!(request.force);
        assert_eq!(request.trigger, Trigger::Manual);
        // 23:30 UTC is already the 23rd in Berlin: yesterday is the 22nd.
        let plain = parse_event(&syncer, &json!({"action": "sync"}), now()).unwrap();
        assert_eq!(plain.scope, SyncScope::Day("2026-11-22".parse().unwrap()));
        assert!(!plain.force);
    }

    #[tokio::test]
    async fn anything_else_is_an_invalid_event() {
        let syncer = syncer().await;
        for (event, says) in [
            (json!("sync"), "not a JSON object"),
            (json!({}), "missing field `action`"),
            (json!({"action": "collect"}), "`collect` is not supported"),
            (
                json!({"action": "sync", "dates": "2026-11-18"}),
                "unknown field `dates`",
            ),
            (json!({"action": "sync", "force": "yes"}), "invalid type"),
            (
                json!({"action": "sync", "date": "2026-11-23"}),
                "date: 2026-11-23 has not ended",
            ),
            (json!({"action": "sync", "date": "18.11.2026"}), "date:"),
            (
                json!({"source": "aws.events", "detail-type": "EC2 Instance State-change Notification"}),
                "unsupported EventBridge event",
            ),
        ] {
            let failure = parse_event(&syncer, &event, now()).unwrap_err();
            assert_eq!(failure.error_type, "InvalidEvent");
            assert!(
                failure.message.contains(says),
                "{event}: {}",
                failure.message
            );
        }
    }
}
