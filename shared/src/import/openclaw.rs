//! OpenClaw transcripts (agent-logs.md §1): one transcript line (a `.jsonl` line or
//! a `transcript_events.event_json`) at a time, with the context a transcript
//! carries from line to line (current model, whether the open turn is a heartbeat),
//! and the session store that names each transcript's key and label.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::{Call, LineOutcome, Skip};
use crate::domain::usage::{SessionType, TokenCounts};

/// What the session store says of one session (`sessions.json` or `session_nodes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionMeta {
    pub key: String,
    pub label: Option<String>,
    pub spawned_by: Option<String>,
    pub heartbeat_base: Option<String>,
}

/// Session id → what the store says of it, for one agent.
pub type SessionIndex = HashMap<String, SessionMeta>;

/// Reads `sessions.json` (a map `sessionKey → SessionEntry`) into `index`; sessions
/// already known (from a SQLite store) keep their entry. Entries' `usageFamilySessionIds`
/// (archived predecessors) map to the same key when nothing else claims them.
pub fn read_sessions_json(path: &Path, index: &mut SessionIndex) -> Result<(), String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err.to_string()),
    };
    let entries: HashMap<String, Value> =
        serde_json::from_slice(&bytes).map_err(|err| format!("not a session store: {err}"))?;
    let mut family = Vec::new();
    for (key, entry) in entries {
        let meta = meta_from_entry(&key, &entry);
        if let Some(ids) = entry.get("usageFamilySessionIds").and_then(Value::as_array) {
            family.extend(
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(|id| (id.to_string(), meta.clone())),
            );
        }
        if let Some(id) = entry.get("sessionId").and_then(Value::as_str) {
            index.entry(id.to_string()).or_insert(meta);
        }
    }
    for (id, meta) in family {
        index.entry(id).or_insert(meta);
    }
    Ok(())
}

/// A `SessionEntry`'s fields that attribution needs.
pub fn meta_from_entry(key: &str, entry: &Value) -> SessionMeta {
    let text = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    SessionMeta {
        key: key.to_string(),
        label: text("label"),
        spawned_by: text("spawnedBy"),
        heartbeat_base: text("heartbeatIsolatedBaseSessionKey"),
    }
}

/// The session type a key (and its store entry) stands for (agent-logs.md §1.4).
pub fn session_type(meta: &SessionMeta) -> SessionType {
    let key = meta.key.to_ascii_lowercase();
    let rest = key
        .strip_prefix("agent:")
        .and_then(|rest| rest.split_once(':').map(|(_, rest)| rest))
        .unwrap_or(&key);
    if rest.starts_with("subagent:") || rest.contains(":subagent:") {
        SessionType::Subagent
    } else if rest.starts_with("cron:") {
        SessionType::Cron
    } else if rest.ends_with(":heartbeat") || meta.heartbeat_base.is_some() {
        SessionType::Heartbeat
    } else if meta.spawned_by.is_some() {
        SessionType::Subagent
    } else {
        SessionType::Main
    }
}

/// The context a transcript carries from line to line; saved in the cursor.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// Lines consumed so far.
    #[serde(default)]
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The open turn's user prompt matched the heartbeat pattern.
    #[serde(default)]
    pub heartbeat_turn: bool,
}

/// What a transcript belongs to.
#[derive(Debug, Clone)]
pub struct Transcript<'a> {
    pub agent: &'a str,
    pub meta: Option<&'a SessionMeta>,
    /// Lower-cased heartbeat pattern (empty = never).
    pub heartbeat_pattern: &'a str,
    /// When the line has no timestamp of its own (file mtime, row `created_at`).
    pub fallback_time: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct RawEntry<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    timestamp: Option<Value>,
    #[serde(rename = "customType")]
    custom_type: Option<String>,
    provider: Option<String>,
    #[serde(rename = "modelId")]
    model_id: Option<String>,
    model: Option<String>,
    data: Option<RawModelData>,
    #[serde(borrow)]
    message: Option<RawMessage<'a>>,
}

#[derive(Deserialize)]
struct RawModelData {
    provider: Option<String>,
    #[serde(rename = "modelId")]
    model_id: Option<String>,
    model: Option<String>,
}

#[derive(Deserialize)]
struct RawMessage<'a> {
    role: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    #[serde(rename = "modelId")]
    model_id: Option<String>,
    #[serde(rename = "stopReason")]
    stop_reason: Option<String>,
    #[serde(rename = "responseId")]
    response_id: Option<String>,
    timestamp: Option<Value>,
    usage: Option<HashMap<String, Value>>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

/// Turns one transcript line into a call, a reason to skip it, or nothing, updating `state`.
pub fn parse_line(text: &str, state: &mut State, transcript: &Transcript<'_>) -> LineOutcome {
    let interesting = [
        "\"usage\"",
        "model_change",
        "model-snapshot",
        "\"user\"",
        "\"session\"",
    ];
    if !interesting.iter().any(|needle| text.contains(needle)) {
        return LineOutcome::Nothing;
    }
    let entry: RawEntry<'_> = match serde_json::from_str(text) {
        Ok(entry) => entry,
        Err(_) => return LineOutcome::Skip(Skip::MalformedJson),
    };
    match (entry.kind.as_deref(), entry.custom_type.as_deref()) {
        (Some("session"), _) => {
            if let Some(id) = entry.id.filter(|id| !id.is_empty()) {
                state.session_id = Some(id);
            }
            return LineOutcome::Nothing;
        }
        (Some("model_change"), _) | (Some("custom"), Some("model-snapshot")) => {
            let data = entry.data.as_ref();
            let model = entry
                .model_id
                .or(entry.model)
                .or_else(|| data.and_then(|d| d.model_id.clone().or(d.model.clone())));
            let provider = entry
                .provider
                .or_else(|| data.and_then(|d| d.provider.clone()));
            if model.is_some() {
                state.model = model;
            }
            if provider.is_some() {
                state.provider = provider;
            }
            return LineOutcome::Nothing;
        }
        (Some("message"), _) => {}
        _ => return LineOutcome::Nothing,
    }
    let Some(message) = entry.message else {
        return LineOutcome::Nothing;
    };
    match message.role.as_deref() {
        Some("user") => {
            state.heartbeat_turn = !transcript.heartbeat_pattern.is_empty()
                && message
                    .content
                    .map(|content| {
                        prompt_text(content)
                            .to_lowercase()
                            .contains(transcript.heartbeat_pattern)
                    })
                    .unwrap_or(false);
            LineOutcome::Nothing
        }
        Some("assistant") => assistant_call(entry.id, entry.timestamp, message, state, transcript),
        _ => LineOutcome::Nothing,
    }
}

/// The text of a user message's content (a string, or text blocks).
fn prompt_text(content: &RawValue) -> String {
    match serde_json::from_str::<Value>(content.get()) {
        Ok(Value::String(text)) => text,
        Ok(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn assistant_call(
    entry_id: Option<String>,
    line_time: Option<Value>,
    message: RawMessage<'_>,
    state: &State,
    transcript: &Transcript<'_>,
) -> LineOutcome {
    let Some(usage) = message.usage else {
        return LineOutcome::Nothing;
    };
    if message.stop_reason.as_deref() == Some("error") {
        return LineOutcome::Skip(Skip::ErrorTurn);
    }
    let model = message
        .model_id
        .or(message.model)
        .or_else(|| state.model.clone());
    let provider = message.provider.or_else(|| state.provider.clone());
    if model.as_deref() == Some("gateway-injected") || provider.as_deref() == Some("openclaw") {
        return LineOutcome::Skip(Skip::GatewayInjected);
    }
    let int = |names: &[&str]| -> Option<i64> {
        names.iter().find_map(|name| match usage.get(*name) {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            _ => None,
        })
    };
    let input = int(&["input", "inputTokens", "input_tokens", "prompt_tokens"]).unwrap_or(0);
    let output = int(&[
        "output",
        "outputTokens",
        "output_tokens",
        "completion_tokens",
    ])
    .unwrap_or(0);
    let cache_read = int(&["cacheRead", "cache_read_input_tokens", "cached_tokens"]).unwrap_or(0);
    let cache_write = int(&["cacheWrite", "cache_creation_input_tokens"]).unwrap_or(0);
    let write_1h = int(&["cacheWrite1h"])
        .unwrap_or(0)
        .clamp(0, cache_write.max(0));
    let mut tokens = TokenCounts {
        input,
        output,
        cache_read,
        cache_write_5m: cache_write - write_1h,
        cache_write_1h: write_1h,
        web_search_requests: 0,
        requests: 1,
    };
    if [input, output, cache_read, cache_write]
        .iter()
        .any(|n| *n < 0)
    {
        return LineOutcome::Skip(Skip::BadField("message.usage"));
    }
    if input + output + cache_read + cache_write == 0 {
        // Parts all zero but a total: the total is output (as ccusage does).
        match int(&["totalTokens", "total", "total_tokens"]) {
            Some(total) if total > 0 => tokens.output = total,
            _ => return LineOutcome::Skip(Skip::ZeroUsage),
        }
    }
    let Some(model) = model.filter(|m| !m.trim().is_empty()) else {
        return LineOutcome::Skip(Skip::MissingField("message.model"));
    };
    let Some(recorded_at) = instant(message.timestamp.as_ref())
        .or_else(|| instant(line_time.as_ref()))
        .or(transcript.fallback_time)
    else {
        return LineOutcome::Skip(Skip::MissingField("timestamp"));
    };
    let estimated_cost = match usage.get("cost") {
        Some(Value::Object(cost)) => cost.get("total").and_then(Value::as_number).cloned(),
        Some(Value::Number(flat)) => Some(flat.clone()),
        _ => None,
    }
    .and_then(|n| super::decimal_from_number(&n))
    .filter(|cost| !cost.is_zero());
    let session_id = state.session_id.clone().unwrap_or_default();
    let agent = transcript.agent;
    let key = transcript
        .meta
        .map(|m| m.key.clone())
        .unwrap_or_else(|| format!("agent:{agent}:{session_id}"));
    let meta = transcript.meta.cloned().unwrap_or(SessionMeta {
        key: key.clone(),
        ..SessionMeta::default()
    });
    let mut session_type = session_type(&meta);
    if session_type == SessionType::Main && state.heartbeat_turn {
        session_type = SessionType::Heartbeat;
    }
    let external_id = match entry_id.filter(|id| !id.is_empty()) {
        Some(id) => format!("openclaw:{agent}:{session_id}:{id}"),
        None => format!(
            "openclaw:{agent}:{session_id}:{}:{model}:{input}:{output}:{cache_write}:{cache_read}",
            recorded_at.timestamp_millis()
        ),
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("session_key".into(), key.clone().into());
    if let Some(id) = message.response_id.clone() {
        metadata.insert("response_id".into(), id.into());
    }
    if let Some(parent) = &meta.spawned_by {
        metadata.insert("spawned_by".into(), parent.clone().into());
    }
    LineOutcome::Call(Box::new(Call {
        external_id,
        recorded_at,
        provider: normalise_provider(provider.as_deref()),
        model,
        tokens,
        service_tier: None,
        session_type,
        session_id: Some(session_id),
        session_label: Some(meta.label.clone().unwrap_or(key)),
        agent: Some(agent.to_string()),
        estimated_cost,
        message_id: message.response_id,
        sidechain: false,
        metadata,
    }))
}

/// OpenClaw's provider ids as the catalog knows them (`openai-codex` → `openai`).
/// `None` when the transcript names none.
fn normalise_provider(provider: Option<&str>) -> Option<String> {
    let provider = match provider.map(str::to_ascii_lowercase)?.as_str() {
        p if p.starts_with("openai") => "openai".into(),
        p if p.starts_with("anthropic") || p == "claude-cli" => "anthropic".into(),
        p if p.starts_with("moonshot") || p.starts_with("kimi") => "moonshot".into(),
        "" => return None,
        p => p.to_string(),
    };
    Some(provider)
}

/// A timestamp as Unix milliseconds (number or digits) or an RFC 3339 string.
fn instant(value: Option<&Value>) -> Option<DateTime<Utc>> {
    match value? {
        Value::Number(n) => DateTime::from_timestamp_millis(n.as_i64()?),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|at| at.with_timezone(&Utc))
            .ok()
            .or_else(|| DateTime::from_timestamp_millis(s.parse().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str) -> SessionMeta {
        SessionMeta {
            key: key.into(),
            ..SessionMeta::default()
        }
    }

    #[test]
    fn keys_give_session_types() {
        use SessionType::*;
        assert_eq!(session_type(&meta("agent:main:main")), Main);
        assert_eq!(session_type(&meta("agent:main:subagent:7f3c")), Subagent);
        assert_eq!(
            session_type(&meta("agent:main:subagent:a:subagent:b")),
            Subagent
        );
        assert_eq!(session_type(&meta("agent:main:cron:daily")), Cron);
        assert_eq!(session_type(&meta("agent:main:cron:daily:run:1")), Cron);
        assert_eq!(session_type(&meta("cron:daily")), Cron);
        assert_eq!(session_type(&meta("agent:main:main:heartbeat")), Heartbeat);
        assert_eq!(session_type(&meta("agent:main:telegram:direct:123")), Main);
        let spawned = SessionMeta {
            spawned_by: Some("agent:main:main".into()),
            ..meta("agent:codex:acp:abc")
        };
        assert_eq!(session_type(&spawned), Subagent);
    }

    #[test]
    fn model_changes_and_heartbeat_prompts_carry_over_lines() {
        let transcript = Transcript {
            agent: "main",
            meta: None,
            heartbeat_pattern: "heartbeat",
            fallback_time: None,
        };
        let mut state = State {
            session_id: Some("s1".into()),
            ..State::default()
        };
        let lines = [
            r#"{"type":"model_change","provider":"openai-codex","modelId":"gpt-5.2"}"#,
            r#"{"type":"message","id":"u1","message":{"role":"user","content":[{"type":"text","text":"Read HEARTBEAT.md"}]}}"#,
            r#"{"type":"message","id":"a1","message":{"role":"assistant","usage":{"input":10,"output":2,"cacheRead":3,"cacheWrite":5,"cacheWrite1h":4,"cost":{"total":0.5}},"timestamp":1769753935279}}"#,
        ];
        let mut calls = Vec::new();
        for line in lines {
            if let LineOutcome::Call(call) = parse_line(line, &mut state, &transcript) {
                calls.push(call);
            }
        }
        assert_eq!(calls.len(), 1);
        let call = &calls[0];
        assert_eq!(call.model, "gpt-5.2");
        assert_eq!(call.provider.as_deref(), Some("openai"));
        assert_eq!(call.session_type, SessionType::Heartbeat);
        assert_eq!(call.external_id, "openclaw:main:s1:a1");
        assert_eq!(
            (call.tokens.cache_write_5m, call.tokens.cache_write_1h),
            (1, 4)
        );
        assert_eq!(call.session_label.as_deref(), Some("agent:main:s1"));
        assert_eq!(call.estimated_cost, Some("0.5".parse().unwrap()));
    }

    #[test]
    fn error_and_injected_turns_are_skipped() {
        let transcript = Transcript {
            agent: "main",
            meta: None,
            heartbeat_pattern: "",
            fallback_time: None,
        };
        let mut state = State::default();
        let error = r#"{"type":"message","id":"e","message":{"role":"assistant","stopReason":"error","provider":"ollama","model":"q","usage":{"input":0,"output":0}}}"#;
        let injected = r#"{"type":"message","id":"g","message":{"role":"assistant","stopReason":"stop","provider":"openclaw","model":"gateway-injected","usage":{"input":0}}}"#;
        assert!(matches!(
            parse_line(error, &mut state, &transcript),
            LineOutcome::Skip(Skip::ErrorTurn)
        ));
        assert!(matches!(
            parse_line(injected, &mut state, &transcript),
            LineOutcome::Skip(Skip::GatewayInjected)
        ));
    }
}
