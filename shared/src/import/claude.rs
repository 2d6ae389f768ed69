//! Claude Code transcripts (agent-logs.md §2): `projects/<project>/<session>.jsonl`,
//! nested `<session>/…/*.jsonl`, `subagents/agent-*.jsonl` with their
//! `agent-*.meta.json`, inline `isSidechain` lines and `type:"progress"` lines.
//!
//! One call per `(message.id, requestId)`; `message.id` scoped by session when the
//! request id is missing. The deduplication across lines and files is the
//! importer's ([`super::Dedupe`]); this module turns one line into at most one call.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Call, LineOutcome, Skip};
use crate::domain::usage::{SessionType, TokenCounts};

/// What a Claude Code file is, from its path under `projects/`.
#[derive(Debug, Clone)]
pub struct FileContext {
    /// The project directory's name (`-Users-me-repo`).
    pub project_dir: String,
    /// The session id the path names (file stem, or the directory of nested files).
    pub session_from_path: String,
    /// Under a `subagents/` directory.
    pub subagent_file: bool,
    /// `agentType` of the sibling `agent-*.meta.json`, when there is one.
    pub agent_type: Option<String>,
}

/// Every `*.jsonl` under `projects/` (or under the root itself when it has no
/// `projects/`), main-session files first so a parent call is seen before the
/// sidechain lines that replay it.
pub fn files(root: &Path) -> (PathBuf, Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let projects = root.join("projects");
    let base = if projects.is_dir() {
        projects
    } else {
        root.to_path_buf()
    };
    let (mut files, errors) = super::files::walk(&base, &|path| {
        path.extension().is_some_and(|e| e == "jsonl")
    });
    files.sort_by_key(|path| (path.components().count(), path.clone()));
    (base, files, errors)
}

/// The context of `path`, a file under `base` (the `projects/` directory).
pub fn context(base: &Path, path: &Path) -> FileContext {
    let relative = path.strip_prefix(base).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let project_dir = if parts.len() > 1 {
        parts[0].clone()
    } else {
        String::new()
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let session_from_path = if parts.len() > 2 {
        parts[1].clone()
    } else {
        stem.clone()
    };
    let subagent_file = parts.iter().rev().skip(1).any(|p| p == "subagents");
    let agent_type = subagent_file
        .then(|| path.with_file_name(format!("{stem}.meta.json")))
        .and_then(|meta| std::fs::read(meta).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|meta| meta.get("agentType")?.as_str().map(str::to_string))
        .filter(|t| !t.trim().is_empty());
    FileContext {
        project_dir,
        session_from_path,
        subagent_file,
        agent_type,
    }
}

#[derive(Deserialize)]
struct RawLine {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
    timestamp: Option<String>,
    cwd: Option<String>,
    #[serde(rename = "isSidechain")]
    is_sidechain: Option<bool>,
    #[serde(rename = "requestId")]
    request_id: Option<String>,
    #[serde(rename = "costUSD")]
    cost_usd: Option<serde_json::Number>,
    message: Option<RawMessage>,
    data: Option<RawProgress>,
}

#[derive(Deserialize)]
struct RawProgress {
    message: Option<Box<RawLine>>,
}

#[derive(Deserialize)]
struct RawMessage {
    id: Option<String>,
    model: Option<String>,
    usage: Option<RawUsage>,
}

#[derive(Deserialize)]
struct RawUsage {
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cache_creation_input_tokens: Option<i64>,
    cache_read_input_tokens: Option<i64>,
    cache_creation: Option<RawCacheCreation>,
    service_tier: Option<String>,
    speed: Option<String>,
}

#[derive(Deserialize)]
struct RawCacheCreation {
    ephemeral_5m_input_tokens: Option<i64>,
    ephemeral_1h_input_tokens: Option<i64>,
}

/// Turns one line into a call, a reason to skip it, or nothing (a line without usage).
pub fn parse_line(text: &str, file: &FileContext) -> LineOutcome {
    if !text.contains("\"usage\"") {
        return LineOutcome::Nothing;
    }
    let line: RawLine = match serde_json::from_str(text) {
        Ok(line) => line,
        Err(_) => return LineOutcome::Skip(Skip::MalformedJson),
    };
    // A progress line nests a subagent's assistant line under `data.message`.
    if line.kind.as_deref() == Some("progress") {
        let outer = Outer {
            session_id: line.session_id,
            timestamp: line.timestamp,
            cwd: line.cwd,
        };
        return match line.data.and_then(|data| data.message) {
            Some(inner) => call_from(*inner, true, outer, file),
            None => LineOutcome::Nothing,
        };
    }
    call_from(line, false, Outer::default(), file)
}

#[derive(Default)]
struct Outer {
    session_id: Option<String>,
    timestamp: Option<String>,
    cwd: Option<String>,
}

fn call_from(line: RawLine, progress: bool, outer: Outer, file: &FileContext) -> LineOutcome {
    let Some(message) = line.message else {
        return LineOutcome::Nothing;
    };
    let Some(usage) = message.usage else {
        return LineOutcome::Nothing;
    };
    let model = match message.model.as_deref().map(str::trim) {
        Some("<synthetic>") => return LineOutcome::Skip(Skip::Synthetic),
        Some(model) if !model.is_empty() => model.to_string(),
        _ => return LineOutcome::Skip(Skip::MissingField("message.model")),
    };
    let Some(timestamp) = line.timestamp.or(outer.timestamp) else {
        return LineOutcome::Skip(Skip::MissingField("timestamp"));
    };
    let Ok(recorded_at) = DateTime::parse_from_rfc3339(&timestamp) else {
        return LineOutcome::Skip(Skip::BadField("timestamp"));
    };
    let recorded_at = recorded_at.with_timezone(&Utc);
    let count = |n: Option<i64>| n.unwrap_or(0);
    let (write_5m, write_1h) = match &usage.cache_creation {
        Some(split) => (
            count(split.ephemeral_5m_input_tokens),
            count(split.ephemeral_1h_input_tokens),
        ),
        None => (count(usage.cache_creation_input_tokens), 0),
    };
    let tokens = TokenCounts {
        input: count(usage.input_tokens),
        output: count(usage.output_tokens),
        cache_read: count(usage.cache_read_input_tokens),
        cache_write_5m: write_5m,
        cache_write_1h: write_1h,
        web_search_requests: 0,
        requests: 1,
    };
    if [
        tokens.input,
        tokens.output,
        tokens.cache_read,
        write_5m,
        write_1h,
    ]
    .iter()
    .any(|n| *n < 0)
    {
        return LineOutcome::Skip(Skip::BadField("message.usage"));
    }
    if tokens.input + tokens.output + tokens.cache_read + write_5m + write_1h == 0 {
        return LineOutcome::Skip(Skip::ZeroUsage);
    }
    let session_id = line
        .session_id
        .or(outer.session_id)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| file.session_from_path.clone());
    let message_id = message.id.filter(|s| !s.is_empty());
    let request_id = line.request_id.filter(|s| !s.is_empty());
    let sidechain = line.is_sidechain.unwrap_or(false) || progress || file.subagent_file;
    let external_id = match (&message_id, &request_id) {
        (Some(m), Some(r)) => format!("claude-code:{m}:{r}"),
        (Some(m), None) => format!("claude-code:{session_id}:{m}"),
        _ => format!(
            "claude-code:{session_id}:{}:{model}:{}:{}:{}:{}:{}",
            recorded_at.timestamp_millis(),
            tokens.input,
            tokens.output,
            tokens.cache_read,
            write_5m,
            write_1h
        ),
    };
    let cwd = line.cwd.or(outer.cwd);
    let label = cwd
        .as_deref()
        .and_then(|cwd| cwd.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next())
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .or_else(|| (!file.project_dir.is_empty()).then(|| file.project_dir.clone()));
    let agent = match (&file.agent_type, sidechain) {
        (Some(agent_type), true) => agent_type.clone(),
        _ => "claude-code".to_string(),
    };
    let mut metadata = serde_json::Map::new();
    if let Some(m) = &message_id {
        metadata.insert("message_id".into(), m.clone().into());
    }
    if let Some(r) = &request_id {
        metadata.insert("request_id".into(), r.clone().into());
    }
    if sidechain {
        metadata.insert("sidechain".into(), true.into());
    }
    if let Some(speed) = usage.speed.filter(|s| !s.is_empty()) {
        metadata.insert("speed".into(), speed.into());
    }
    LineOutcome::Call(Box::new(Call {
        external_id,
        recorded_at,
        provider: Some("anthropic".into()),
        model,
        tokens,
        service_tier: usage.service_tier.filter(|t| !t.is_empty()),
        session_type: if sidechain {
            SessionType::Subagent
        } else {
            SessionType::Main
        },
        session_id: Some(session_id),
        session_label: label,
        agent: Some(agent),
        estimated_cost: line.cost_usd.and_then(|n| super::decimal_from_number(&n)),
        message_id,
        sidechain,
        metadata,
    }))
}
