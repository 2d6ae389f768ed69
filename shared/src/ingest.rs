//! Validation of pushed usage events: JSON in, [`NewUsage`] out, or a
//! list of every bad field. Nothing here touches storage.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::domain::usage::{NewUsage, SessionType, Source, TokenCounts, UsageFacts};

/// Most events one request may carry.
pub const MAX_BATCH: usize = 5_000;
/// How far in the future `recorded_at` may be (clock skew).
pub const MAX_FUTURE: Duration = Duration::minutes(5);
const MAX_TOKENS: u64 = 1_000_000_000_000;
const MAX_TEXT: usize = 500;

/// One invalid field; `index` is the item of a batch (absent for a single object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    pub field: String,
    pub message: String,
}

const TEXT_FIELDS: &[&str] = &[
    "provider",
    "project",
    "agent",
    "session_label",
    "session_id",
    "service_tier",
    "event_id",
];
pub(crate) const KNOWN_FIELDS: &[&str] = &[
    "model",
    "tokens_in",
    "input_tokens",
    "tokens_out",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "web_search_requests",
    "provider",
    "project",
    "agent",
    "session_label",
    "session_type",
    "session_id",
    "service_tier",
    "recorded_at",
    "cost",
    "estimated_cost",
    "event_id",
    "metadata",
    "source",
];

/// Parses a request body: one event object or an array of up to [`MAX_BATCH`].
/// Every problem of every item is reported; nothing is half-accepted.
pub fn parse_events(body: &Value, now: DateTime<Utc>) -> Result<Vec<NewUsage>, Vec<FieldError>> {
    let (items, batched): (Vec<&Value>, bool) = match body {
        Value::Array(items) => (items.iter().collect(), true),
        Value::Object(_) => (vec![body], false),
        _ => {
            return Err(vec![error(
                None,
                "body",
                "must be an event object or an array of event objects",
            )])
        }
    };
    if batched && items.is_empty() {
        return Err(vec![error(None, "body", "the array is empty")]);
    }
    if items.len() > MAX_BATCH {
        return Err(vec![error(
            None,
            "body",
            &format!("at most {MAX_BATCH} events per request"),
        )]);
    }
    parse_items(items, batched, now)
}

/// Parses a batch given as a slice (what the transcript importer sends), exactly as
/// `POST /api/usage` parses an array of at most [`MAX_BATCH`] events.
pub fn parse_event_slice(
    items: &[Value],
    now: DateTime<Utc>,
) -> Result<Vec<NewUsage>, Vec<FieldError>> {
    parse_items(items.iter().collect(), true, now)
}

fn parse_items(
    items: Vec<&Value>,
    batched: bool,
    now: DateTime<Utc>,
) -> Result<Vec<NewUsage>, Vec<FieldError>> {
    let mut events = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let index = batched.then_some(i);
        match parse_event(item, now) {
            Ok(event) => events.push(event),
            Err(problems) => {
                errors.extend(problems.into_iter().map(|(field, message)| FieldError {
                    index,
                    field,
                    message,
                }))
            }
        }
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(errors)
    }
}

fn error(index: Option<usize>, field: &str, message: &str) -> FieldError {
    FieldError {
        index,
        field: field.into(),
        message: message.into(),
    }
}

type Problems = Vec<(String, String)>;

pub use crate::domain::text::{nul_path, NUL_MESSAGE};

fn parse_event(item: &Value, now: DateTime<Utc>) -> Result<NewUsage, Problems> {
    let Value::Object(obj) = item else {
        return Err(vec![("body".into(), "must be an object".into())]);
    };
    let mut problems = Problems::new();
    let mut bad =
        |field: &str, message: &str| problems.push((field.to_string(), message.to_string()));
    for (key, value) in obj {
        if !KNOWN_FIELDS.contains(&key.as_str()) {
            bad(key, "unknown field");
        } else if let Some(path) = nul_path(value) {
            // Postgres text cannot hold U+0000; refused alike on both backends.
            bad(&format!("{key}{path}"), NUL_MESSAGE);
        }
    }
    let model = match obj.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() && m.len() <= 200 => {
            Some(m.trim().to_string())
        }
        Some(Value::String(_)) => {
            bad(
                "model",
                "must be a non-empty string of at most 200 characters",
            );
            None
        }
        Some(_) => {
            bad("model", "must be a string");
            None
        }
        None => {
            bad("model", "is required");
            None
        }
    };
    let mut text = |field: &str| -> Option<String> {
        match obj.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() <= MAX_TEXT => {
                Some(s.trim().to_string()).filter(|s| !s.is_empty())
            }
            Some(Value::String(_)) => {
                bad(field, &format!("must be at most {MAX_TEXT} characters"));
                None
            }
            Some(_) => {
                bad(field, "must be a string");
                None
            }
        }
    };
    let texts: Vec<Option<String>> = TEXT_FIELDS.iter().map(|f| text(f)).collect();
    let [provider, project, agent, session_label, session_id, service_tier, event_id]: [Option<
        String,
    >; 7] = texts.try_into().expect("seven text fields");

    let mut count = |names: &[&str]| -> i64 {
        let present: Vec<&&str> = names
            .iter()
            .filter(|n| obj.get(**n).is_some_and(|v| !v.is_null()))
            .collect();
        if present.len() > 1 {
            bad(
                present[1],
                &format!("give only one of {}", names.join(" or ")),
            );
            return 0;
        }
        let Some(name) = present.first() else {
            return 0;
        };
        match obj[**name].as_u64() {
            Some(n) if n <= MAX_TOKENS => n as i64,
            Some(_) => {
                bad(name, "is too large");
                0
            }
            None => {
                bad(name, "must be a non-negative integer");
                0
            }
        }
    };
    let tokens = TokenCounts {
        input: count(&["tokens_in", "input_tokens"]),
        output: count(&["tokens_out", "output_tokens"]),
        cache_read: count(&["cache_read_tokens"]),
        cache_write_5m: count(&["cache_write_tokens"]),
        cache_write_1h: count(&["cache_write_1h_tokens"]),
        web_search_requests: count(&["web_search_requests"]),
        requests: 1,
    };

    let session_type = match obj.get("session_type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match SessionType::parse(s) {
            Some(t) => Some(t),
            None => {
                bad(
                    "session_type",
                    "must be one of main, subagent, heartbeat, cron, other",
                );
                None
            }
        },
        Some(_) => {
            bad("session_type", "must be a string");
            None
        }
    };
    let recorded_at = match obj.get("recorded_at") {
        None | Some(Value::Null) => now,
        Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(at) if at.with_timezone(&Utc) > now + MAX_FUTURE => {
                bad("recorded_at", "is more than 5 minutes in the future");
                now
            }
            Ok(at) => at.with_timezone(&Utc),
            Err(_) => {
                bad(
                    "recorded_at",
                    "must be an RFC 3339 timestamp such as 2026-11-21T14:30:00Z",
                );
                now
            }
        },
        Some(_) => {
            bad("recorded_at", "must be an RFC 3339 timestamp string");
            now
        }
    };
    let mut money = |field: &str| match obj.get(field) {
        None | Some(Value::Null) => None,
        Some(value @ (Value::Number(_) | Value::String(_))) => {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match text
                .parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(&text))
            {
                Ok(cost) if cost.is_sign_negative() => {
                    bad(field, "must not be negative");
                    None
                }
                Ok(cost) if cost > Decimal::from(1_000_000) => {
                    bad(field, "must be at most 1000000 USD per event");
                    None
                }
                Ok(cost) => Some(cost),
                Err(_) => {
                    bad(field, "must be a number of US dollars");
                    None
                }
            }
        }
        Some(_) => {
            bad(field, "must be a number of US dollars");
            None
        }
    };
    let reported_cost = money("cost");
    let estimated_cost = money("estimated_cost");
    let source = match obj.get("source") {
        None | Some(Value::Null) => Source::Push,
        Some(Value::String(s)) if s == "push" => Source::Push,
        Some(Value::String(s)) if s == "import" => {
            if event_id.is_none() {
                bad(
                    "event_id",
                    "is required when source is import (the call's stable id)",
                );
            }
            Source::Import
        }
        Some(_) => {
            bad("source", "must be push or import");
            Source::Push
        }
    };
    if let Some(meta) = obj.get("metadata") {
        if !meta.is_object() && !meta.is_null() {
            bad("metadata", "must be an object");
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let model = model.expect("model checked above");
    Ok(NewUsage {
        facts: UsageFacts {
            source,
            external_id: event_id.unwrap_or_else(|| format!("auto-{}", uuid::Uuid::new_v4())),
            recorded_at,
            bucket_seconds: 0,
            model,
            tokens,
            service_tier,
            context_window: None,
            inference_geo: None,
            session_label,
            session_id,
            api_key_id: None,
            api_key_name: None,
            workspace_id: None,
            workspace_name: None,
            raw: Value::Object(obj.clone()),
        },
        provider,
        session_type,
        agent,
        project,
        reported_cost,
        estimated_cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-11-21T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_full_event_maps_every_field() {
        let body = json!({"model":"claude-opus-4-5","tokens_in":10,"tokens_out":20,"cache_read_tokens":30,
            "cache_write_tokens":40,"cache_write_1h_tokens":50,"web_search_requests":2,"agent":"openclaw",
            "session_label":"peakpaws-x","session_type":"subagent","event_id":"e1","cost":"0.5",
            "recorded_at":"2026-11-21T11:00:00-01:00","metadata":{"k":1}});
        let events = parse_events(&body, now()).unwrap();
        let e = &events[0];
        assert_eq!(
            e.facts.tokens,
            TokenCounts {
                input: 10,
                output: 20,
                cache_read: 30,
                cache_write_5m: 40,
                cache_write_1h: 50,
                web_search_requests: 2,
                requests: 1
            }
        );
        // Not given: the ledger takes it from the catalog when it prices the event.
        assert_eq!(e.provider, None);
        assert_eq!(e.facts.external_id, "e1");
        assert_eq!(e.facts.recorded_at, now());
        assert_eq!(e.session_type, Some(SessionType::Subagent));
        assert_eq!(e.reported_cost, Some("0.5".parse().unwrap()));
    }

    #[test]
    fn every_bad_field_of_every_item_is_reported() {
        let body = json!([
            {"model":"gpt-4o","tokens_in":1},
            {"model":"gpt-4o","tokens_in":-1,"session_type":"boss","colour":"red"},
            {"tokens_out":1.5,"recorded_at":"2026-11-21T13:00:00Z"}
        ]);
        let errors = parse_events(&body, now()).unwrap_err();
        let got: Vec<(Option<usize>, &str)> =
            errors.iter().map(|e| (e.index, e.field.as_str())).collect();
        assert!(got.contains(&(Some(1), "tokens_in")));
        assert!(got.contains(&(Some(1), "session_type")));
        assert!(got.contains(&(Some(1), "colour")));
        assert!(got.contains(&(Some(2), "model")));
        assert!(got.contains(&(Some(2), "tokens_out")));
        assert!(got.contains(&(Some(2), "recorded_at")));
        assert!(!got.iter().any(|(i, _)| *i == Some(0)));
    }

    #[test]
    fn aliases_conflict_and_shapes_are_checked() {
        let errors =
            parse_events(&json!({"model":"m","tokens_in":1,"input_tokens":1}), now()).unwrap_err();
        assert_eq!(errors[0].field, "input_tokens");
        assert!(parse_events(&json!("text"), now()).is_err());
        assert!(parse_events(&json!([]), now()).is_err());
        assert_eq!(
            parse_events(&json!({"model":"m","cost":-1}), now()).unwrap_err()[0].field,
            "cost"
        );
    }

    #[test]
    fn providers_are_inferred_from_models() {
        let infer_provider = crate::domain::usage::provider_from_name;
        assert_eq!(infer_provider("claude-sonnet-4-5-20250929"), "anthropic");
        assert_eq!(infer_provider("gpt-4o-mini"), "openai");
        assert_eq!(infer_provider("kimi-k2-0905-preview"), "moonshot");
        assert_eq!(infer_provider("mystery"), "unknown");
    }
}
