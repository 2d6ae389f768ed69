//! The SQLite-era OpenClaw store, `agents/<agentId>/agent/openclaw-agent.sqlite`
//! (agent-logs.md §1.1, as 2026.9.6 writes it), opened read-only while OpenClaw runs:
//! `transcript_events` (large events zstd-compressed in `event_zstd`),
//! `session_windows` (each transcript's session key) and `session_nodes` (labels,
//! parentage).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Row;

use super::openclaw::{meta_from_entry, SessionIndex, SessionMeta};

/// One event row: its `seq`, its JSON text, its `created_at` in milliseconds when known.
pub struct EventRow {
    pub seq: i64,
    pub json: Result<String, String>,
    pub created_at_ms: Option<i64>,
}

/// A read-only connection to one agent's store.
pub struct AgentStore {
    pool: SqlitePool,
}

impl AgentStore {
    /// Opens the store read-only (never creating or migrating anything).
    pub async fn open(path: &Path) -> Result<Self, String> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|err| format!("cannot open the store: {err}"))?;
        let store = AgentStore { pool };
        // A file that is not a database (or lacks the table) fails here, by path.
        sqlx::query("SELECT 1 FROM transcript_events LIMIT 1")
            .fetch_optional(&store.pool)
            .await
            .map_err(|err| format!("not an OpenClaw store: {err}"))?;
        Ok(store)
    }

    /// Adds every session the store knows to `index` (the store wins over `sessions.json`).
    pub async fn read_index(&self, index: &mut SessionIndex) -> Result<(), String> {
        let mut nodes: HashMap<String, SessionMeta> = HashMap::new();
        let mut current: Vec<(String, String)> = Vec::new();
        if let Ok(rows) = sqlx::query("SELECT session_key, current_session_id, entry_json, label, spawned_by FROM session_nodes")
            .fetch_all(&self.pool)
            .await
        {
            for row in rows {
                let key: String = row.try_get(0).map_err(|e| e.to_string())?;
                let entry: Value = row
                    .try_get::<Option<String>, _>(2)
                    .ok()
                    .flatten()
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or(Value::Null);
                let mut meta = meta_from_entry(&key, &entry);
                let column = |i: usize| row.try_get::<Option<String>, _>(i).ok().flatten().filter(|s| !s.trim().is_empty());
                meta.label = column(3).or(meta.label);
                meta.spawned_by = column(4).or(meta.spawned_by);
                if let Some(id) = column(1) {
                    current.push((id, key.clone()));
                }
                nodes.insert(key, meta);
            }
        }
        let meta_for = |key: &str| {
            nodes.get(key).cloned().unwrap_or_else(|| SessionMeta {
                key: key.to_string(),
                ..SessionMeta::default()
            })
        };
        for (id, key) in current {
            index.insert(id, meta_for(&key));
        }
        if let Ok(rows) = sqlx::query("SELECT session_id, session_key FROM session_windows")
            .fetch_all(&self.pool)
            .await
        {
            for row in rows {
                let id: Option<String> = row.try_get(0).ok();
                let key: Option<String> = row.try_get(1).ok().flatten();
                if let (Some(id), Some(key)) = (id, key.filter(|k: &String| !k.is_empty())) {
                    index.insert(id, meta_for(&key));
                }
            }
        }
        Ok(())
    }

    /// Every session with events: its id and highest `seq`.
    pub async fn sessions(&self) -> Result<Vec<(String, i64)>, String> {
        let rows = sqlx::query("SELECT session_id, MAX(seq) FROM transcript_events GROUP BY session_id ORDER BY session_id")
            .fetch_all(&self.pool)
            .await
            .map_err(|err| err.to_string())?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get(0).map_err(|e| e.to_string())?,
                    row.try_get(1).map_err(|e| e.to_string())?,
                ))
            })
            .collect()
    }

    /// Up to `limit` events of a session after `after_seq`, in order; compressed
    /// events are decompressed (a frame that does not decode is an `Err` in its row).
    pub async fn events(
        &self,
        session_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, String> {
        let rows = sqlx::query(
            "SELECT seq, event_json, event_zstd, created_at FROM transcript_events \
             WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(session_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|err| err.to_string())?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get(0).map_err(|e| e.to_string())?;
                let text: Option<String> = row.try_get(1).ok().flatten();
                let json = match text {
                    Some(text) => Ok(text),
                    None => match row.try_get::<Option<Vec<u8>>, _>(2).ok().flatten() {
                        Some(bytes) => decompress(&bytes),
                        None => Err("the event has neither event_json nor event_zstd".to_string()),
                    },
                };
                let created_at_ms = row.try_get::<Option<i64>, _>(3).ok().flatten().or_else(|| {
                    let text: String = row.try_get::<Option<String>, _>(3).ok().flatten()?;
                    chrono::DateTime::parse_from_rfc3339(&text)
                        .ok()
                        .map(|at| at.timestamp_millis())
                });
                Ok(EventRow {
                    seq,
                    json,
                    created_at_ms,
                })
            })
            .collect()
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Decompresses one zstd frame into UTF-8 text.
fn decompress(bytes: &[u8]) -> Result<String, String> {
    let mut decoder = ruzstd::decoding::StreamingDecoder::new(bytes)
        .map_err(|err| format!("event_zstd: {err}"))?;
    let mut text = String::new();
    decoder
        .read_to_string(&mut text)
        .map_err(|err| format!("event_zstd: {err}"))?;
    Ok(text)
}
