//! Transcript import : reads what OpenClaw and Claude Code
//! already write and stores one record per model call with `source = import`.
//!
//! Each call becomes a push event (`"source":"import"`, its stable id as
//! `event_id`) that goes through the same validation as `POST /api/usage`, into the
//! local ledger ([`sink::LedgerSink`]) or a remote tracker ([`sink::RemoteSink`]), so
//! both routes give the same records. Files are read from their cursors, and a
//! file's records and its cursor are committed together.

pub mod claude;
pub mod files;
pub mod openclaw;
pub mod openclaw_store;
mod run;
pub mod sink;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::domain::usage::{SessionType, TokenCounts};

pub use run::{import_once, ImportOptions};

/// Which agent's transcripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Importer {
    Openclaw,
    ClaudeCode,
}

impl Importer {
    pub fn as_str(self) -> &'static str {
        match self {
            Importer::Openclaw => "openclaw",
            Importer::ClaudeCode => "claude-code",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "openclaw" => Some(Importer::Openclaw),
            "claude-code" => Some(Importer::ClaudeCode),
            _ => None,
        }
    }

    /// The roots read when none are given: OpenClaw's `$OPENCLAW_STATE_DIR` (else
    /// `~/.openclaw`) plus the old `~/.clawdbot` and `~/.moltbot` when they exist;
    /// Claude Code's comma-separated `$CLAUDE_CONFIG_DIR` (else `~/.claude` and
    /// `~/.config/claude`, those that exist, or `~/.claude`).
    pub fn default_roots(self, var: impl Fn(&str) -> Option<String>) -> Vec<String> {
        let home = var("HOME").unwrap_or_else(|| ".".into());
        let exists = |path: &String| std::path::Path::new(path).is_dir();
        match self {
            Importer::Openclaw => {
                let mut roots = vec![var("OPENCLAW_STATE_DIR")
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or_else(|| format!("{home}/.openclaw"))];
                roots.extend(
                    [".clawdbot", ".moltbot"]
                        .iter()
                        .map(|old| format!("{home}/{old}"))
                        .filter(exists),
                );
                roots
            }
            Importer::ClaudeCode => {
                if let Some(dirs) = var("CLAUDE_CONFIG_DIR").filter(|v| !v.trim().is_empty()) {
                    return dirs
                        .split(',')
                        .map(|d| d.trim().to_string())
                        .filter(|d| !d.is_empty())
                        .collect();
                }
                let found: Vec<String> =
                    [format!("{home}/.claude"), format!("{home}/.config/claude")]
                        .into_iter()
                        .filter(exists)
                        .collect();
                if found.is_empty() {
                    vec![format!("{home}/.claude")]
                } else {
                    found
                }
            }
        }
    }
}

/// One model call found in a transcript, before it becomes a push event.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Stable across runs and routes: `openclaw:<agent>:<session>:<entry>`,
    /// `claude-code:<message>:<request>`, …
    pub external_id: String,
    pub recorded_at: DateTime<Utc>,
    /// `None`: not in the transcript (the ledger infers it from the model).
    pub provider: Option<String>,
    pub model: String,
    pub tokens: TokenCounts,
    pub service_tier: Option<String>,
    pub session_type: SessionType,
    pub session_id: Option<String>,
    pub session_label: Option<String>,
    pub agent: Option<String>,
    /// The agent's own cost estimate (`usage.cost`, `costUSD`).
    pub estimated_cost: Option<Decimal>,
    /// The provider's message id, when the transcript has it.
    pub message_id: Option<String>,
    /// A Claude Code sidechain (subagent) line.
    pub sidechain: bool,
    /// Kept in the record's `metadata` (ids, session key, where it was read).
    pub metadata: serde_json::Map<String, Value>,
}

impl Call {
    /// Every token: which of two versions of one call is kept.
    pub fn weight(&self) -> i64 {
        let t = &self.tokens;
        t.input + t.output + t.cache_read + t.cache_write_5m + t.cache_write_1h
    }

    /// The call as a `POST /api/usage` event.
    pub fn into_event(self, importer: Importer) -> Value {
        let mut metadata = self.metadata;
        metadata.insert("importer".into(), importer.as_str().into());
        let mut event = serde_json::Map::new();
        let mut put = |name: &str, value: Value| {
            event.insert(name.into(), value);
        };
        put("source", "import".into());
        put("event_id", self.external_id.into());
        put(
            "recorded_at",
            self.recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
        );
        put("model", self.model.into());
        put("input_tokens", self.tokens.input.into());
        put("output_tokens", self.tokens.output.into());
        put("cache_read_tokens", self.tokens.cache_read.into());
        put("cache_write_tokens", self.tokens.cache_write_5m.into());
        put("cache_write_1h_tokens", self.tokens.cache_write_1h.into());
        put("session_type", self.session_type.as_str().into());
        put("metadata", metadata.into());
        let optional = [
            ("provider", self.provider),
            ("service_tier", self.service_tier),
            ("session_id", self.session_id),
            ("session_label", self.session_label),
            ("agent", self.agent),
            ("estimated_cost", self.estimated_cost.map(|c| c.to_string())),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                put(name, value.into());
            }
        }
        Value::Object(event)
    }
}

/// Why a line gave no call although it looked like one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    MalformedJson,
    InvalidUtf8,
    MissingField(&'static str),
    BadField(&'static str),
    ZeroUsage,
    ErrorTurn,
    GatewayInjected,
    Synthetic,
    /// The same call again, with no more tokens than already counted.
    Duplicate,
    /// A sidechain line replaying a parent call (same message id, new request id).
    SidechainReplay,
    /// Refused by the ledger's validation (the message is in the examples).
    Rejected,
}

impl Skip {
    /// The reason as the report names it.
    pub fn name(self) -> String {
        match self {
            Skip::MalformedJson => "malformed_json".into(),
            Skip::InvalidUtf8 => "invalid_utf8".into(),
            Skip::MissingField(field) => format!("missing_field:{field}"),
            Skip::BadField(field) => format!("bad_field:{field}"),
            Skip::ZeroUsage => "zero_usage".into(),
            Skip::ErrorTurn => "error_turn".into(),
            Skip::GatewayInjected => "gateway_injected".into(),
            Skip::Synthetic => "synthetic_model".into(),
            Skip::Duplicate => "duplicate_call".into(),
            Skip::SidechainReplay => "sidechain_replay".into(),
            Skip::Rejected => "rejected".into(),
        }
    }
}

/// What a parser made of one line.
#[derive(Debug)]
pub enum LineOutcome {
    Call(Box<Call>),
    Skip(Skip),
    /// Not a model call (a user message, a summary, a header …).
    Nothing,
}

/// Lines skipped for one reason: how many, and the first few `file:line`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SkipCount {
    pub count: u64,
    pub examples: Vec<String>,
}

/// How many examples each skip reason keeps.
const SKIP_EXAMPLES: usize = 5;

/// A root that could not be read at all, or a file or store that failed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PathError {
    pub path: String,
    pub error: String,
}

/// The report of one import run (printed as JSON by `cost-tracker import`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub importer: String,
    pub roots: Vec<String>,
    /// Roots that could not be read at all (the command then exits non-zero).
    pub unreadable_roots: Vec<PathError>,
    /// Transcript files and SQLite sessions looked at.
    pub files_scanned: u64,
    /// Of those, unchanged since their cursor: not read at all.
    pub files_unchanged: u64,
    /// Of those, read again from the start (they shrank or were replaced).
    pub files_restarted: u64,
    pub lines_read: u64,
    /// Calls found (before deduplication).
    pub calls: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: BTreeMap<String, SkipCount>,
    /// Files or stores that could not be read; the rest went on.
    pub errors: Vec<PathError>,
    pub duration_ms: u64,
}

impl ImportReport {
    fn skip(&mut self, reason: Skip, location: impl FnOnce() -> String) {
        let entry = self.skipped.entry(reason.name()).or_default();
        entry.count += 1;
        if entry.examples.len() < SKIP_EXAMPLES {
            entry.examples.push(location());
        }
    }

    /// Lines skipped for any reason.
    pub fn skipped_lines(&self) -> u64 {
        self.skipped.values().map(|s| s.count).sum()
    }

    /// Whether this pass found anything new (for `--watch`'s one line per pass).
    pub fn found_something(&self) -> bool {
        self.created + self.updated > 0 || !self.errors.is_empty()
    }
}

/// Deduplication across every file of a run (agent-logs.md §2.4): the larger token
/// total of a call wins, and a sidechain line that replays a parent call (same
/// message id, another request id) counts once. Across runs the store does the same
/// by `external_id`.
#[derive(Default)]
pub struct Dedupe {
    weights: HashMap<String, i64>,
    /// message id → whether a non-sidechain call had it.
    messages: HashMap<String, bool>,
    /// Sessions whose earlier runs' claims are loaded into `messages`.
    sessions: std::collections::HashSet<String>,
}

impl Dedupe {
    /// The session whose stored claims must be loaded before `call` is admitted: a
    /// sidechain call may replay a main-thread call imported in an earlier run.
    pub fn session_to_load(&self, call: &Call) -> Option<String> {
        let session = call.session_id.as_ref()?;
        (call.sidechain && call.message_id.is_some() && !self.sessions.contains(session))
            .then(|| session.clone())
    }

    /// Records the message ids main-thread calls claimed in `session` in earlier runs.
    pub fn claimed(&mut self, session: String, message_ids: Vec<String>) {
        for id in message_ids {
            self.messages.insert(id, true);
        }
        self.sessions.insert(session);
    }

    /// Whether `call` should be stored, or why not.
    pub fn admit(&mut self, call: &Call) -> Result<(), Skip> {
        if let Some(message) = &call.message_id {
            match self.messages.get(message) {
                Some(true) if call.sidechain && !self.weights.contains_key(&call.external_id) => {
                    return Err(Skip::SidechainReplay);
                }
                Some(true) => {}
                _ => {
                    self.messages.insert(message.clone(), !call.sidechain);
                }
            }
        }
        let weight = call.weight();
        match self.weights.get_mut(&call.external_id) {
            Some(seen) if *seen >= weight => Err(Skip::Duplicate),
            Some(seen) => {
                *seen = weight;
                Ok(())
            }
            None => {
                self.weights.insert(call.external_id.clone(), weight);
                Ok(())
            }
        }
    }
}

/// A JSON number as an exact decimal (from its text, never through arithmetic).
pub(crate) fn decimal_from_number(number: &serde_json::Number) -> Option<Decimal> {
    let text = number.to_string();
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
        .filter(|d| !d.is_sign_negative())
}
