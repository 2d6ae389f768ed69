//! Where imported calls go: the local ledger (cursors in the database, committed
//! with the records) or a remote tracker's `POST /api/usage` (cursors in a local
//! state file, saved only after the tracker accepted the records they cover).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::Importer;
use crate::config::Secret;
use crate::domain::usage::UsageRecord;
use crate::ingest::{parse_event_slice, FieldError};
use crate::ledger::Ledger;
use crate::store::{ImportCursor, MessageClaim, WriteStatus};

/// A batch of calls made ready for [`Sink::commit`] by [`Sink::prepare`].
pub enum Prepared {
    /// Validated, priced and attributed: the local ledger's records.
    Records(Vec<UsageRecord>),
    /// The events themselves (a remote tracker validates them on arrival).
    Events(Vec<Value>),
}

/// What one commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Committed {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Why a commit stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Some events failed validation (by index); nothing was stored.
    #[error("{} events were refused", .0.len())]
    Rejected(Vec<FieldError>),
    #[error("{0}")]
    Failed(String),
}

/// A destination for imported calls and the cursors that cover them.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Every cursor of an importer, by location.
    async fn cursors(&self, importer: Importer) -> Result<HashMap<String, ImportCursor>, String>;
    /// Makes push events (`source = import`) ready to store; while one batch is
    /// being committed the next is prepared. `Rejected` leaves `events` in place so
    /// that the caller can drop the refused ones and try again.
    async fn prepare(&self, events: &mut Vec<Value>) -> Result<Prepared, CommitError> {
        Ok(Prepared::Events(std::mem::take(events)))
    }
    /// Stores a prepared batch and then `cursors` and `claims`; the cursors never move
    /// unless the calls are stored. `Rejected` (a remote tracker refused some events)
    /// stores nothing and leaves the batch in place.
    async fn commit(
        &self,
        batch: &mut Prepared,
        cursors: Vec<ImportCursor>,
        claims: Vec<MessageClaim>,
    ) -> Result<Committed, CommitError>;
    /// The message ids main-thread calls claimed in a session in earlier runs (none
    /// for a remote tracker: there replays are recognised within one run only).
    async fn message_claims(
        &self,
        _importer: Importer,
        _session_id: &str,
    ) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }
    /// Called once at the end of a pass (the local ledger folds the rollup deltas the
    /// pass deferred).
    async fn finish(&self) -> Result<(), String> {
        Ok(())
    }
    /// Keeps the run log (the local database only).
    fn ledger(&self) -> Option<&Ledger> {
        None
    }
}

/// The local ledger: records and cursors in one transaction.
pub struct LedgerSink {
    pub ledger: Ledger,
}

#[async_trait]
impl Sink for LedgerSink {
    async fn cursors(&self, importer: Importer) -> Result<HashMap<String, ImportCursor>, String> {
        let cursors = self
            .ledger
            .store()
            .import_cursors(importer.as_str())
            .await
            .map_err(|err| err.to_string())?;
        Ok(cursors
            .into_iter()
            .map(|c| (c.location.clone(), c))
            .collect())
    }

    async fn prepare(&self, events: &mut Vec<Value>) -> Result<Prepared, CommitError> {
        if events.is_empty() {
            return Ok(Prepared::Records(Vec::new()));
        }
        let batch = parse_event_slice(events, chrono::Utc::now()).map_err(CommitError::Rejected)?;
        let records = self
            .ledger
            .resolve_import(batch)
            .await
            .map_err(|err| CommitError::Failed(err.to_string()))?;
        let refused = crate::ledger::oversized(&records);
        if !refused.is_empty() {
            return Err(CommitError::Rejected(refused));
        }
        Ok(Prepared::Records(records))
    }

    async fn commit(
        &self,
        batch: &mut Prepared,
        cursors: Vec<ImportCursor>,
        claims: Vec<MessageClaim>,
    ) -> Result<Committed, CommitError> {
        if let Prepared::Events(events) = batch {
            *batch = self.prepare(events).await?;
        }
        let Prepared::Records(records) = batch else {
            unreachable!("prepare makes records")
        };
        let records = std::mem::take(records);
        let outcomes = self
            .ledger
            .write_import(records, &cursors, &claims)
            .await
            .map_err(|err| CommitError::Failed(err.to_string()))?;
        let mut done = Committed::default();
        for outcome in outcomes {
            match outcome.status {
                WriteStatus::Created => done.created += 1,
                WriteStatus::Updated => done.updated += 1,
                WriteStatus::Unchanged => done.unchanged += 1,
            }
        }
        Ok(done)
    }

    fn ledger(&self) -> Option<&Ledger> {
        Some(&self.ledger)
    }

    async fn message_claims(
        &self,
        importer: Importer,
        session_id: &str,
    ) -> Result<Vec<String>, String> {
        self.ledger
            .store()
            .message_claims(importer.as_str(), session_id)
            .await
            .map_err(|err| err.to_string())
    }
}

/// A remote tracker: events POSTed in batches (at most [`crate::ingest::MAX_BATCH`]),
/// cursors kept in a JSON state file written atomically after each accepted batch.
pub struct RemoteSink {
    client: reqwest::Client,
    endpoint: String,
    api_key: Secret,
    state_file: PathBuf,
    cursors: tokio::sync::Mutex<HashMap<String, ImportCursor>>,
}

/// Attempts per batch before a commit fails (5xx, 429, transport errors).
const REMOTE_ATTEMPTS: u32 = 5;

impl RemoteSink {
    /// A sink for the tracker at `base_url` (its `/api/usage`), keeping cursors in `state_file`.
    pub fn new(base_url: &str, api_key: Secret, state_file: PathBuf) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|err| err.to_string())?;
        let cursors = match std::fs::read(&state_file) {
            Ok(bytes) => {
                let list: Vec<ImportCursor> = serde_json::from_slice(&bytes).map_err(|err| {
                    format!("{}: not an import state file: {err}", state_file.display())
                })?;
                list.into_iter()
                    .map(|c| (format!("{}\u{0}{}", c.importer, c.location), c))
                    .collect()
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(err) => return Err(format!("{}: {err}", state_file.display())),
        };
        Ok(RemoteSink {
            client,
            endpoint: format!("{}/api/usage", base_url.trim_end_matches('/')),
            api_key,
            state_file,
            cursors: tokio::sync::Mutex::new(cursors),
        })
    }

    /// The default state file: `$XDG_STATE_HOME/cost-tracker/import-state.json`
    /// (else `~/.local/state/…`).
    pub fn default_state_file(var: impl Fn(&str) -> Option<String>) -> PathBuf {
        let base = var("XDG_STATE_HOME")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(var("HOME").unwrap_or_else(|| ".".into())).join(".local/state")
            });
        base.join("cost-tracker").join("import-state.json")
    }

    async fn post(&self, events: &[Value]) -> Result<Committed, CommitError> {
        let body =
            serde_json::to_vec(events).map_err(|err| CommitError::Failed(err.to_string()))?;
        let mut delay = Duration::from_millis(500);
        let mut last_error = String::new();
        for attempt in 1..=REMOTE_ATTEMPTS {
            let answer = self
                .client
                .post(&self.endpoint)
                .header("X-API-Key", self.api_key.expose())
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match answer {
                Ok(response) if response.status().is_success() => {
                    let bytes = response.bytes().await.map_err(|err| {
                        CommitError::Failed(format!("{}: unreadable answer: {err}", self.endpoint))
                    })?;
                    let value: Value = serde_json::from_slice(&bytes).map_err(|err| {
                        CommitError::Failed(format!(
                            "{}: the answer is not JSON: {err}",
                            self.endpoint
                        ))
                    })?;
                    let count = |name: &str| value.get(name).and_then(Value::as_u64).unwrap_or(0);
                    return Ok(Committed {
                        created: count("created"),
                        updated: count("updated"),
                        unchanged: count("unchanged"),
                    });
                }
                Ok(response)
                    if response.status().as_u16() == 422 || response.status().as_u16() == 400 =>
                {
                    let bytes = response.bytes().await.unwrap_or_default();
                    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    let details = value
                        .pointer("/error/details")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let errors: Vec<FieldError> = details
                        .iter()
                        .filter_map(|d| {
                            Some(FieldError {
                                index: d.get("index").and_then(Value::as_u64).map(|i| i as usize),
                                field: d.get("field")?.as_str()?.to_string(),
                                message: d
                                    .get("message")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                            })
                        })
                        .collect();
                    if errors.iter().any(|e| e.index.is_some()) {
                        return Err(CommitError::Rejected(errors));
                    }
                    let message = value
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    return Err(CommitError::Failed(format!(
                        "{} refused the batch: {message}",
                        self.endpoint
                    )));
                }
                Ok(response)
                    if response.status().as_u16() == 429 || response.status().is_server_error() =>
                {
                    let wait = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(60)));
                    last_error = format!("{} answered {}", self.endpoint, response.status());
                    if attempt < REMOTE_ATTEMPTS {
                        tokio::time::sleep(wait.unwrap_or(delay)).await;
                    }
                }
                Ok(response) => {
                    let status = response.status();
                    return Err(CommitError::Failed(match status.as_u16() {
                        401 | 403 => format!(
                            "{} refused the API key ({status}): check --api-key or COST_TRACKER_API_KEY",
                            self.endpoint
                        ),
                        _ => format!("{} answered {status}", self.endpoint),
                    }));
                }
                Err(err) => {
                    last_error = format!("{}: {}", self.endpoint, without_url(err));
                    if attempt < REMOTE_ATTEMPTS {
                        tokio::time::sleep(delay).await;
                    }
                }
            }
            delay = (delay * 2).min(Duration::from_secs(8));
        }
        Err(CommitError::Failed(format!(
            "{last_error} (after {REMOTE_ATTEMPTS} attempts)"
        )))
    }

    async fn save_cursors(&self, cursors: Vec<ImportCursor>) -> Result<(), CommitError> {
        let mut all = self.cursors.lock().await;
        for cursor in cursors {
            all.insert(
                format!("{}\u{0}{}", cursor.importer, cursor.location),
                cursor,
            );
        }
        let mut list: Vec<&ImportCursor> = all.values().collect();
        list.sort_by(|a, b| (&a.importer, &a.location).cmp(&(&b.importer, &b.location)));
        let text =
            serde_json::to_vec_pretty(&list).map_err(|err| CommitError::Failed(err.to_string()))?;
        let failed = |err: std::io::Error| {
            CommitError::Failed(format!("{}: {err}", self.state_file.display()))
        };
        if let Some(dir) = self.state_file.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let temporary = self.state_file.with_extension("json.tmp");
        std::fs::write(&temporary, text).map_err(failed)?;
        std::fs::rename(&temporary, &self.state_file).map_err(failed)?;
        Ok(())
    }
}

/// A transport error's text without the URL's query (never a key there, but be plain).
fn without_url(err: reqwest::Error) -> String {
    let timeout = err.is_timeout();
    let text = err.without_url().to_string();
    if timeout {
        format!("timed out ({text})")
    } else {
        text
    }
}

#[async_trait]
impl Sink for RemoteSink {
    async fn cursors(&self, importer: Importer) -> Result<HashMap<String, ImportCursor>, String> {
        let all = self.cursors.lock().await;
        Ok(all
            .values()
            .filter(|c| c.importer == importer.as_str())
            .map(|c| (c.location.clone(), c.clone()))
            .collect())
    }

    async fn commit(
        &self,
        batch: &mut Prepared,
        cursors: Vec<ImportCursor>,
        _claims: Vec<MessageClaim>,
    ) -> Result<Committed, CommitError> {
        let Prepared::Events(events) = batch else {
            return Err(CommitError::Failed(
                "a remote tracker takes events, not records".into(),
            ));
        };
        let mut done = Committed::default();
        let mut offset = 0;
        for chunk in events.chunks(crate::ingest::MAX_BATCH) {
            let part = self.post(chunk).await.map_err(|err| match err {
                CommitError::Rejected(errors) => CommitError::Rejected(
                    errors
                        .into_iter()
                        .map(|e| FieldError {
                            index: e.index.map(|i| i + offset),
                            ..e
                        })
                        .collect(),
                ),
                other => other,
            })?;
            done.created += part.created;
            done.updated += part.updated;
            done.unchanged += part.unchanged;
            offset += chunk.len();
        }
        self.save_cursors(cursors).await?;
        Ok(done)
    }
}
