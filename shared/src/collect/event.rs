//! The `collector` Lambda's event contract: an EventBridge scheduled event is the
//! normal run, `{"action":"collect","provider"?,"start"?,"end"?}` a manual one,
//! anything else an error. Failures carry an error type that says whether a
//! retry can help (`Retryable…`) or not, for Lambda destinations and Step Functions.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{CollectReport, CollectRequest, Collector, Trigger};

/// A failed invocation: the Lambda `errorType` and `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorFailure {
    /// `InvalidEvent` and `CollectionFailed` cannot be fixed by a retry;
    /// `RetryableCollectionError` may be.
    pub error_type: &'static str,
    pub message: String,
}

impl CollectorFailure {
    fn invalid(message: impl Into<String>) -> Self {
        CollectorFailure {
            error_type: "InvalidEvent",
            message: message.into(),
        }
    }
}

/// The request an event asks for.
pub fn parse_event(event: &Value, now: DateTime<Utc>) -> Result<CollectRequest, CollectorFailure> {
    let Some(object) = event.as_object() else {
        return Err(CollectorFailure::invalid(
            "the event must be a JSON object: an EventBridge scheduled event or {\"action\":\"collect\",\"provider\"?,\"start\"?,\"end\"?}",
        ));
    };
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    if text("source") == Some("aws.events") || text("detail-type") == Some("Scheduled Event") {
        if text("detail-type") != Some("Scheduled Event") {
            return Err(CollectorFailure::invalid(format!(
                "unsupported EventBridge event `{}`: only `Scheduled Event` starts a collection",
                text("detail-type").unwrap_or("(none)")
            )));
        }
        return Ok(CollectRequest::scheduled(Trigger::Schedule));
    }
    match object.get("action") {
        Some(Value::String(action)) if action == "collect" => {}
        Some(other) => {
            return Err(CollectorFailure::invalid(format!(
                "action: `{}` is not supported (expected \"collect\")",
                other.as_str().map_or_else(|| other.to_string(), str::to_string)
            )))
        }
        None => {
            return Err(CollectorFailure::invalid(
                "action: missing; send an EventBridge scheduled event or {\"action\":\"collect\",\"provider\"?,\"start\"?,\"end\"?}",
            ))
        }
    }
    for (key, value) in object {
        match key.as_str() {
            "action" => {}
            "provider" | "start" | "end" if value.is_string() || value.is_null() => {}
            "provider" | "start" | "end" => {
                return Err(CollectorFailure::invalid(format!(
                    "{key}: must be a string"
                )))
            }
            other => {
                return Err(CollectorFailure::invalid(format!(
                    "{other}: unknown field (allowed: action, provider, start, end)"
                )))
            }
        }
    }
    CollectRequest::from_fields(
        text("provider"),
        text("start"),
        text("end"),
        Trigger::Manual,
        now,
    )
    .map_err(|err| CollectorFailure::invalid(err.to_string()))
}

/// Runs the collection an event asks for; the report when every provider
/// succeeded (or is not configured), else a failure naming each error.
pub async fn collector_event(
    collector: &Collector,
    event: &Value,
    now: DateTime<Utc>,
) -> Result<CollectReport, CollectorFailure> {
    let request = parse_event(event, now)?;
    let report = collector
        .collect_once(request, now)
        .await
        .map_err(|err| CollectorFailure::invalid(err.to_string()))?;
    let failures = report.failures();
    if failures.is_empty() {
        return Ok(report);
    }
    let retryable = failures.iter().any(|f| f.retryable);
    let errors: Vec<String> = failures
        .iter()
        .map(|f| f.error.clone().unwrap_or_default())
        .collect();
    Err(CollectorFailure {
        error_type: if retryable {
            "RetryableCollectionError"
        } else {
            "CollectionFailed"
        },
        message: format!(
            "{}; {}",
            errors.join("; "),
            if retryable {
                "a retry may help (committed chunks are kept)"
            } else {
                "a retry will not help until the configuration is fixed"
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::Provider;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-11-22T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn scheduled_and_manual_events_parse() {
        let scheduled = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2015-10-08T16:53:06Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"], "detail": {}
        });
        assert_eq!(
            parse_event(&scheduled, now()).unwrap(),
            CollectRequest::scheduled(Trigger::Schedule)
        );
        let manual = json!({"action": "collect", "provider": "anthropic", "start": "2026-11-01", "end": "2026-11-08"});
        let request = parse_event(&manual, now()).unwrap();
        assert_eq!(request.provider, Some(Provider::Anthropic));
        assert_eq!(request.trigger, Trigger::Manual);
        assert!(request.range.is_some());
    }

    #[test]
    fn anything_else_is_an_invalid_event() {
        for (event, says) in [
            (json!([]), "JSON object"),
            (json!({"hello": 1}), "action: missing"),
            (json!({"action": "sync"}), "`sync` is not supported"),
            (
                json!({"action": "collect", "provder": "openai"}),
                "provder: unknown field",
            ),
            (
                json!({"action": "collect", "start": 5}),
                "start: must be a string",
            ),
            (
                json!({"action": "collect", "provider": "azure"}),
                "provider:",
            ),
            (
                json!({"source": "aws.events", "detail-type": "EC2 Instance State-change Notification"}),
                "unsupported EventBridge event",
            ),
        ] {
            let failure = parse_event(&event, now()).unwrap_err();
            assert_eq!(failure.error_type, "InvalidEvent");
            assert!(
                failure.message.contains(says),
                "{event}: {}",
                failure.message
            );
        }
    }
}
