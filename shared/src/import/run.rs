//! One import pass over a set of roots: find the transcripts, read each from its
//! cursor, and commit its calls with the cursor that covers them.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::claude::{self, FileContext};
use super::files::{self, LineReader, Plan};
use super::openclaw::{self, SessionIndex, State, Transcript};
use super::openclaw_store::AgentStore;
use super::sink::{CommitError, Prepared, Sink};
use super::{Dedupe, ImportReport, Importer, LineOutcome, PathError, Skip};
use crate::store::{ImportCursor, ImportRun, MessageClaim, RunStatus, Trigger};

/// Calls committed per transaction, with the cursors of every file they come from:
/// many small files share a transaction (and their rollup deltas are summed once).
const COMMIT_EVERY: usize = 5_000;

/// Lines read between two yields to the async runtime (`serve` runs imports beside
/// its requests).
const YIELD_EVERY: u64 = 1_024;

/// Events read per query from an OpenClaw SQLite session.
const EVENT_PAGE: i64 = 2_000;

/// What to import, and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub importer: Importer,
    pub roots: Vec<String>,
    /// A main-session turn whose prompt contains this (case-insensitive) is a heartbeat.
    pub heartbeat_pattern: String,
    /// `Cli`, `Watch` or `Serve` (the run log's trigger).
    pub trigger: Trigger,
}

/// Runs one import pass; never fails as a whole (errors are in the report).
#[tracing::instrument(skip_all, fields(importer = options.importer.as_str(), trigger = options.trigger.as_str()))]
pub async fn import_once(sink: Arc<dyn Sink>, options: &ImportOptions) -> ImportReport {
    let clock = Instant::now();
    let mut pass = Pass {
        sink: Arc::clone(&sink),
        in_flight: None,
        importer: options.importer,
        report: ImportReport {
            importer: options.importer.as_str().into(),
            roots: options.roots.clone(),
            ..ImportReport::default()
        },
        cursors: HashMap::new(),
        dedupe: Dedupe::default(),
        queue: Queue::default(),
        heartbeat_pattern: options.heartbeat_pattern.trim().to_lowercase(),
        stopped: false,
    };
    match sink.cursors(options.importer).await {
        Ok(cursors) => pass.cursors = cursors,
        Err(err) => {
            pass.report.errors.push(PathError {
                path: "(cursors)".into(),
                error: err,
            });
            pass.report.duration_ms = clock.elapsed().as_millis() as u64;
            return pass.report;
        }
    }
    for root in &options.roots {
        let started_at = Utc::now();
        let root_clock = Instant::now();
        let before = pass.report.clone();
        let path = Path::new(root);
        let readable = std::fs::read_dir(path)
            .map(|_| ())
            .map_err(|err| err.to_string());
        match readable {
            Err(error) => pass.report.unreadable_roots.push(PathError {
                path: root.clone(),
                error,
            }),
            Ok(()) => {
                match options.importer {
                    Importer::ClaudeCode => pass.claude_root(path).await,
                    Importer::Openclaw => pass.openclaw_root(path).await,
                }
                if !pass.stopped {
                    pass.flush().await;
                }
                pass.settle().await;
                // What a stopped root queued is not stored (its cursors did not move).
                pass.queue = Queue::default();
            }
        }
        pass.log_run(root, options.trigger, &before, started_at, root_clock)
            .await;
        pass.stopped = false;
    }
    if let Err(error) = sink.finish().await {
        pass.report.errors.push(PathError {
            path: "(rollups)".into(),
            error,
        });
    }
    pass.report.duration_ms = clock.elapsed().as_millis() as u64;
    pass.report
}

/// The state of one pass.
struct Pass {
    sink: Arc<dyn Sink>,
    /// The commit running while the next calls are read (at most one, in order).
    in_flight: Option<tokio::task::JoinHandle<Settled>>,
    importer: Importer,
    report: ImportReport,
    cursors: HashMap<String, ImportCursor>,
    dedupe: Dedupe,
    queue: Queue,
    heartbeat_pattern: String,
    /// A commit failed (the database or the remote is down): stop this root.
    stopped: bool,
}

/// Calls waiting for a commit: their events, and the message claim of each
/// main-thread Claude Code call.
/// A call seen again before its commit (a streamed answer is written several times)
/// replaces its queued version, so it is written once, not inserted then updated.
#[derive(Default)]
struct Queue {
    events: Vec<Value>,
    claims: Vec<Option<MessageClaim>>,
    positions: HashMap<String, usize>,
    /// The cursors these calls bring files to, by location (the latest of each).
    cursors: HashMap<String, ImportCursor>,
}

impl Queue {
    fn len(&self) -> usize {
        self.events.len()
    }

    /// Queues an admitted call (a larger version of a queued one takes its place).
    fn push(&mut self, external_id: String, event: Value, claim: Option<MessageClaim>) {
        match self.positions.get(&external_id) {
            Some(&at) => {
                self.events[at] = event;
                if claim.is_some() {
                    self.claims[at] = claim;
                }
            }
            None => {
                self.positions.insert(external_id, self.events.len());
                self.events.push(event);
                self.claims.push(claim);
            }
        }
    }
}

/// How a file's lines become calls, and the context saved in its cursor.
trait LineParser {
    fn restore(&mut self, state: &str);
    fn parse(&mut self, text: &str) -> LineOutcome;
    fn save(&self, line: u64) -> String;
}

struct ClaudeParser(FileContext);

impl LineParser for ClaudeParser {
    fn restore(&mut self, _state: &str) {}
    fn parse(&mut self, text: &str) -> LineOutcome {
        claude::parse_line(text, &self.0)
    }
    fn save(&self, line: u64) -> String {
        serde_json::json!({ "line": line }).to_string()
    }
}

struct OpenclawParser<'i> {
    agent: String,
    index: &'i SessionIndex,
    state: State,
    pattern: String,
    fallback_time: Option<DateTime<Utc>>,
}

impl LineParser for OpenclawParser<'_> {
    fn restore(&mut self, state: &str) {
        if let Ok(state) = serde_json::from_str::<State>(state) {
            self.state = state;
        }
    }
    fn parse(&mut self, text: &str) -> LineOutcome {
        let meta = self
            .state
            .session_id
            .as_ref()
            .and_then(|id| self.index.get(id));
        let transcript = Transcript {
            agent: &self.agent,
            meta,
            heartbeat_pattern: &self.pattern,
            fallback_time: self.fallback_time,
        };
        openclaw::parse_line(text, &mut self.state, &transcript)
    }
    fn save(&self, line: u64) -> String {
        let mut state = self.state.clone();
        state.line = line;
        serde_json::to_string(&state).unwrap_or_else(|_| "{}".into())
    }
}

impl Pass {
    async fn claude_root(&mut self, root: &Path) {
        let (base, paths, errors) = claude::files(root);
        self.walk_errors(errors);
        for path in paths {
            if self.stopped {
                break;
            }
            let mut parser = ClaudeParser(claude::context(&base, &path));
            self.import_file(&path, &mut parser).await;
        }
    }

    async fn openclaw_root(&mut self, root: &Path) {
        let agents = root.join("agents");
        let mut agent_dirs: Vec<_> = match std::fs::read_dir(&agents) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect(),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => {
                self.report.errors.push(PathError {
                    path: agents.display().to_string(),
                    error: err.to_string(),
                });
                Vec::new()
            }
        };
        agent_dirs.sort();
        for dir in agent_dirs {
            if self.stopped {
                break;
            }
            let agent = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut index = SessionIndex::new();
            // The SQLite store first: its rows win over a migrated JSONL left on disk.
            let store_path = dir.join("agent").join("openclaw-agent.sqlite");
            if store_path.is_file() {
                self.openclaw_store(&agent, &store_path, &mut index).await;
            }
            let sessions_json = dir.join("sessions").join("sessions.json");
            if let Err(error) = openclaw::read_sessions_json(&sessions_json, &mut index) {
                self.report.errors.push(PathError {
                    path: sessions_json.display().to_string(),
                    error,
                });
            }
            let (paths, errors) = files::walk(&dir, &|path| is_transcript(path));
            self.walk_errors(errors);
            for path in paths {
                if self.stopped {
                    break;
                }
                let fallback_time = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(DateTime::<Utc>::from);
                let mut parser = OpenclawParser {
                    agent: agent.clone(),
                    index: &index,
                    state: State {
                        session_id: Some(session_id_of(&path)),
                        ..State::default()
                    },
                    pattern: self.heartbeat_pattern.clone(),
                    fallback_time,
                };
                self.import_file(&path, &mut parser).await;
            }
        }
    }

    /// Imports every session of one agent's SQLite store (a session is one cursor).
    async fn openclaw_store(&mut self, agent: &str, path: &Path, index: &mut SessionIndex) {
        let location = path.display().to_string();
        let store = match AgentStore::open(path).await {
            Ok(store) => store,
            Err(error) => {
                self.report.errors.push(PathError {
                    path: location,
                    error,
                });
                return;
            }
        };
        if let Err(error) = store.read_index(index).await {
            self.report.errors.push(PathError {
                path: location.clone(),
                error,
            });
        }
        let sessions = match store.sessions().await {
            Ok(sessions) => sessions,
            Err(error) => {
                self.report.errors.push(PathError {
                    path: location,
                    error,
                });
                store.close().await;
                return;
            }
        };
        for (session_id, max_seq) in sessions {
            if self.stopped {
                break;
            }
            self.report.files_scanned += 1;
            let session_location = format!("{location}#{session_id}");
            let cursor = self.cursors.get(&session_location);
            let mut parser = OpenclawParser {
                agent: agent.to_string(),
                index: &*index,
                state: State {
                    session_id: Some(session_id.clone()),
                    ..State::default()
                },
                pattern: self.heartbeat_pattern.clone(),
                fallback_time: None,
            };
            let (mut after, mut line) = match cursor {
                Some(c) if c.size == max_seq => {
                    self.report.files_unchanged += 1;
                    continue;
                }
                Some(c) if c.size < max_seq && c.position <= max_seq => {
                    parser.restore(&c.state);
                    (c.position, parser.state.line)
                }
                Some(_) => {
                    self.report.files_restarted += 1;
                    (i64::MIN, 0)
                }
                None => (i64::MIN, 0),
            };
            loop {
                let rows = match store.events(&session_id, after, EVENT_PAGE).await {
                    Ok(rows) => rows,
                    Err(error) => {
                        self.report.errors.push(PathError {
                            path: session_location.clone(),
                            error,
                        });
                        break;
                    }
                };
                let Some(last) = rows.last() else { break };
                let page_end = last.seq;
                for row in rows {
                    self.report.lines_read += 1;
                    line += 1;
                    let place = format!("{session_location}:seq {}", row.seq);
                    parser.fallback_time =
                        row.created_at_ms.and_then(DateTime::from_timestamp_millis);
                    match row.json {
                        Ok(text) => {
                            let outcome = parser.parse(&text);
                            self.take(outcome, &place).await;
                        }
                        Err(error) => {
                            self.report
                                .skip(Skip::BadField("event_zstd"), || place.clone());
                            tracing::debug!(%error, %place, "undecodable event");
                        }
                    }
                }
                after = page_end;
                let cursor = ImportCursor {
                    importer: self.importer.as_str().into(),
                    location: session_location.clone(),
                    identity: "sqlite:seq".into(),
                    size: if after >= max_seq { max_seq } else { after },
                    position: after,
                    state: parser.save(line),
                };
                if !self.advance(cursor).await {
                    break;
                }
            }
        }
        store.close().await;
    }

    /// Reads one file from its cursor, committing calls and cursor together.
    async fn import_file(&mut self, path: &Path, parser: &mut (dyn LineParser + Send)) {
        self.report.files_scanned += 1;
        let location = path.display().to_string();
        let opened = File::open(path).and_then(|mut file| {
            let meta = file.metadata()?;
            let plan = files::plan(&mut file, &meta, self.cursors.get(&location))?;
            Ok((file, meta, plan))
        });
        let (mut file, meta, plan) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                self.report.errors.push(PathError {
                    path: location,
                    error: err.to_string(),
                });
                return;
            }
        };
        let compressed = path.extension().is_some_and(|e| e == "zst");
        let (position, line) = match plan {
            Plan::Unchanged => {
                self.report.files_unchanged += 1;
                return;
            }
            Plan::Resume { .. } if compressed => {
                self.report.files_restarted += 1;
                (0, 0)
            }
            Plan::Resume {
                position,
                state,
                line,
            } => {
                parser.restore(&state);
                (position, line)
            }
            Plan::FromStart { reason } => {
                self.report.files_restarted += u64::from(reason != "new");
                (0, 0)
            }
        };
        let reader = file
            .try_clone()
            .and_then(|clone| LineReader::open(clone, path, position, line));
        let mut reader = match reader {
            Ok(reader) => reader,
            Err(err) => {
                self.report.errors.push(PathError {
                    path: location,
                    error: err.to_string(),
                });
                return;
            }
        };
        let (mut consumed, mut consumed_line, mut read_to) = (position, line, position);
        let mut failed = None;
        loop {
            let next = match reader.next_line() {
                Ok(next) => next,
                Err(err) => {
                    failed = Some(err.to_string());
                    break;
                }
            };
            let Some(current) = next else { break };
            self.report.lines_read += 1;
            if self.report.lines_read.is_multiple_of(YIELD_EVERY) {
                // Reading is CPU work between awaits: let the server's requests run.
                tokio::task::yield_now().await;
            }
            read_to = current.end;
            let (number, end, complete) = (current.number, current.end, current.complete);
            let place = format!("{location}:{number}");
            let outcome = match std::str::from_utf8(current.bytes) {
                Ok(text) if text.trim().is_empty() => LineOutcome::Nothing,
                // The parsers look only at lines that may hold a call; anything that is
                // not even shaped like a JSON object is reported here.
                Ok(text) if complete && !looks_like_object(text) => {
                    LineOutcome::Skip(Skip::MalformedJson)
                }
                Ok(text) if complete => parser.parse(text),
                // A last line without its newline may still be being written: it counts
                // when it is already a whole JSON object, but the cursor stays before it.
                Ok(text) if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() => {
                    parser.parse(text)
                }
                Ok(_) => LineOutcome::Nothing,
                Err(_) if complete => LineOutcome::Skip(Skip::InvalidUtf8),
                Err(_) => LineOutcome::Nothing,
            };
            let with_place = match outcome {
                LineOutcome::Call(mut call) => {
                    call.metadata.insert("file".into(), location.clone().into());
                    call.metadata.insert("line".into(), number.into());
                    LineOutcome::Call(call)
                }
                other => other,
            };
            self.take(with_place, &place).await;
            if complete {
                consumed = end;
                consumed_line = number;
            }
            if self.queue.len() >= COMMIT_EVERY {
                // Mid-file: the cursor's size is where it stands, so a crash resumes here.
                let cursor = self.file_cursor(
                    &location,
                    &mut file,
                    consumed,
                    consumed as i64,
                    parser.save(consumed_line),
                );
                if !self.advance(cursor).await {
                    return;
                }
            }
        }
        if let Some(error) = failed {
            self.report.errors.push(PathError {
                path: location.clone(),
                error,
            });
        }
        let size = if compressed {
            meta.len()
        } else {
            read_to.max(meta.len())
        };
        let position = if compressed { meta.len() } else { consumed };
        let cursor = self.file_cursor(
            &location,
            &mut file,
            position,
            size as i64,
            parser.save(consumed_line),
        );
        self.advance(cursor).await;
    }

    /// Queues a file's cursor with the calls read before it, committing when enough
    /// calls wait. False when a commit failed (the pass stops).
    async fn advance(&mut self, cursor: ImportCursor) -> bool {
        self.queue.cursors.insert(cursor.location.clone(), cursor);
        if self.queue.len() >= COMMIT_EVERY {
            return self.flush().await;
        }
        true
    }

    fn file_cursor(
        &self,
        location: &str,
        file: &mut File,
        position: u64,
        size: i64,
        state: String,
    ) -> ImportCursor {
        let identity = file
            .metadata()
            .and_then(|meta| files::identity(file, &meta, position))
            .unwrap_or_default();
        ImportCursor {
            importer: self.importer.as_str().into(),
            location: location.into(),
            identity,
            size,
            position: position as i64,
            state,
        }
    }

    /// Counts a parser outcome and queues its call when the run has not seen it.
    async fn take(&mut self, outcome: LineOutcome, place: &str) {
        match outcome {
            LineOutcome::Call(call) => {
                self.report.calls += 1;
                if let Some(session) = self.dedupe.session_to_load(&call) {
                    match self.sink.message_claims(self.importer, &session).await {
                        Ok(ids) => self.dedupe.claimed(session, ids),
                        Err(error) => self.report.errors.push(PathError {
                            path: place.to_string(),
                            error,
                        }),
                    }
                }
                match self.dedupe.admit(&call) {
                    Ok(()) => {
                        let claim = match (&call.message_id, &call.session_id) {
                            (Some(message), Some(session))
                                if !call.sidechain && self.importer == Importer::ClaudeCode =>
                            {
                                Some(MessageClaim {
                                    importer: self.importer.as_str().into(),
                                    session_id: session.clone(),
                                    message_id: message.clone(),
                                    external_id: call.external_id.clone(),
                                })
                            }
                            _ => None,
                        };
                        let external_id = call.external_id.clone();
                        let event = call.into_event(self.importer);
                        self.queue.push(external_id, event, claim);
                    }
                    Err(skip) => self.report.skip(skip, || place.to_string()),
                }
            }
            LineOutcome::Skip(skip) => self.report.skip(skip, || place.to_string()),
            LineOutcome::Nothing => {}
        }
    }

    /// Prepares the queued calls (validated and priced) and hands them with their
    /// cursors to a commit that runs while the next files are read; commits stay one
    /// at a time and in order. Refused events are dropped (and counted) and the rest
    /// go on. False when this or an earlier commit failed (the pass stops, and what
    /// was queued since is not stored).
    async fn flush(&mut self) -> bool {
        if !self.settle().await {
            return false;
        }
        let Queue {
            mut events,
            mut claims,
            cursors,
            ..
        } = std::mem::take(&mut self.queue);
        if events.is_empty() && cursors.is_empty() {
            return true;
        }
        let cursors: Vec<ImportCursor> = cursors.into_values().collect();
        let location = batch_location(&cursors);
        let mut prepared = None;
        for _ in 0..2 {
            match self.sink.prepare(&mut events).await {
                Ok(batch) => {
                    prepared = Some(batch);
                    break;
                }
                Err(CommitError::Rejected(errors)) => {
                    let (examples, dropped) =
                        drop_rejected(&mut events, &mut claims, &errors, &location);
                    for example in examples {
                        self.report.skip(Skip::Rejected, || example);
                    }
                    if !dropped {
                        break;
                    }
                }
                Err(CommitError::Failed(error)) => {
                    self.report.errors.push(PathError {
                        path: location,
                        error,
                    });
                    self.stopped = true;
                    return false;
                }
            }
        }
        let Some(batch) = prepared else {
            self.report.errors.push(PathError {
                path: location,
                error: "the tracker refused the batch".into(),
            });
            self.stopped = true;
            return false;
        };
        drop(events);
        let sink = Arc::clone(&self.sink);
        self.in_flight = Some(tokio::spawn(commit(sink, batch, claims, cursors, location)));
        true
    }

    /// Waits for the commit in flight and takes its outcome into the report. False
    /// when it (or an earlier one) failed.
    async fn settle(&mut self) -> bool {
        let Some(handle) = self.in_flight.take() else {
            return !self.stopped;
        };
        let settled = handle.await.unwrap_or_else(|err| Settled {
            error: Some(PathError {
                path: "(commit)".into(),
                error: err.to_string(),
            }),
            ..Settled::default()
        });
        self.report.created += settled.done.created;
        self.report.updated += settled.done.updated;
        self.report.unchanged += settled.done.unchanged;
        for example in settled.rejected {
            self.report.skip(Skip::Rejected, || example);
        }
        for cursor in settled.cursors {
            self.cursors.insert(cursor.location.clone(), cursor);
        }
        if let Some(error) = settled.error {
            self.report.errors.push(error);
            self.stopped = true;
        }
        !self.stopped
    }

    fn walk_errors(&mut self, errors: Vec<(std::path::PathBuf, String)>) {
        for (path, error) in errors {
            self.report.errors.push(PathError {
                path: path.display().to_string(),
                error,
            });
        }
    }

    /// Logs this root's part of the run (local database only).
    async fn log_run(
        &self,
        root: &str,
        trigger: Trigger,
        before: &ImportReport,
        started_at: DateTime<Utc>,
        clock: Instant,
    ) {
        let Some(ledger) = self.sink.ledger() else {
            return;
        };
        let now = &self.report;
        let unreadable = now.unreadable_roots.len() > before.unreadable_roots.len();
        let errors: Vec<String> = now.errors[before.errors.len()..]
            .iter()
            .chain(now.unreadable_roots[before.unreadable_roots.len()..].iter())
            .map(|e| format!("{}: {}", e.path, e.error))
            .collect();
        let run = ImportRun {
            id: 0,
            importer: self.importer.as_str().into(),
            root: root.into(),
            trigger,
            status: if unreadable || self.stopped {
                RunStatus::Failed
            } else {
                RunStatus::Succeeded
            },
            started_at,
            finished_at: Some(Utc::now()),
            files_scanned: (now.files_scanned - before.files_scanned) as i64,
            lines_read: (now.lines_read - before.lines_read) as i64,
            created: (now.created - before.created) as i64,
            updated: (now.updated - before.updated) as i64,
            unchanged: (now.unchanged - before.unchanged) as i64,
            skipped: (now.skipped_lines() - before.skipped_lines()) as i64,
            error: (!errors.is_empty()).then(|| errors.join("; ").chars().take(2_000).collect()),
            duration_ms: Some(clock.elapsed().as_millis() as i64),
        };
        if let Err(err) = ledger.store().save_import_run(&run).await {
            tracing::warn!(error = %err, root, "could not log the import run");
        }
    }
}

/// What one commit did, for the report.
#[derive(Default)]
struct Settled {
    done: super::sink::Committed,
    /// `file:line: field message` of each refused event (dropped, the rest stored).
    rejected: Vec<String>,
    /// The cursors now stored.
    cursors: Vec<ImportCursor>,
    /// Nothing could be stored.
    error: Option<PathError>,
}

/// Commits a prepared batch with its cursors and claims; events a remote tracker
/// refuses are dropped (and listed) and the rest committed.
async fn commit(
    sink: Arc<dyn Sink>,
    mut batch: Prepared,
    mut claims: Vec<Option<MessageClaim>>,
    cursors: Vec<ImportCursor>,
    location: String,
) -> Settled {
    let mut settled = Settled::default();
    for _ in 0..2 {
        let claimed: Vec<MessageClaim> = claims.iter().flatten().cloned().collect();
        match sink.commit(&mut batch, cursors.clone(), claimed).await {
            Ok(done) => {
                settled.done = done;
                settled.cursors = cursors;
                return settled;
            }
            Err(CommitError::Rejected(errors)) => {
                let Prepared::Events(events) = &mut batch else {
                    break;
                };
                let (examples, dropped) = drop_rejected(events, &mut claims, &errors, &location);
                settled.rejected.extend(examples);
                if !dropped {
                    break;
                }
            }
            Err(CommitError::Failed(error)) => {
                settled.error = Some(PathError {
                    path: location,
                    error,
                });
                return settled;
            }
        }
    }
    settled.error = Some(PathError {
        path: location,
        error: "the tracker refused the batch".into(),
    });
    settled
}

/// Where a batch comes from, for its errors: its file, or how many and the last.
fn batch_location(cursors: &[ImportCursor]) -> String {
    match cursors {
        [one] => one.location.clone(),
        many => format!(
            "{} files, the last {}",
            many.len(),
            many.last().map_or("", |c| c.location.as_str())
        ),
    }
}

/// Drops the refused events (and their claims) from a batch; returns each refusal
/// as `file:line: field message`, and whether any event was dropped.
fn drop_rejected(
    events: &mut Vec<Value>,
    claims: &mut Vec<Option<MessageClaim>>,
    errors: &[crate::ingest::FieldError],
    location: &str,
) -> (Vec<String>, bool) {
    let examples = errors
        .iter()
        .map(|error| {
            let at = error
                .index
                .and_then(|i| events.get(i))
                .and_then(|event| event.get("metadata"))
                .map(|m| {
                    let file = m.get("file").and_then(Value::as_str).unwrap_or(location);
                    match m.get("line").and_then(Value::as_u64) {
                        Some(line) => format!("{file}:{line}"),
                        None => file.to_string(),
                    }
                })
                .unwrap_or_else(|| location.to_string());
            format!("{at}: {} {}", error.field, error.message)
        })
        .collect();
    let bad: HashSet<usize> = errors.iter().filter_map(|e| e.index).collect();
    if bad.is_empty() {
        return (examples, false);
    }
    let mut index = 0;
    events.retain(|_| {
        index += 1;
        !bad.contains(&(index - 1))
    });
    let mut index = 0;
    claims.retain(|_| {
        index += 1;
        !bad.contains(&(index - 1))
    });
    (examples, true)
}

fn looks_like_object(text: &str) -> bool {
    let text = text.trim();
    text.starts_with('{') && text.ends_with('}')
}

/// `*.jsonl`, `*.jsonl.reset.<ts>` and `*.jsonl.deleted.<ts>[.zst]` transcripts.
fn is_transcript(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".jsonl") || name.contains(".jsonl.reset.") || name.contains(".jsonl.deleted.")
}

/// The session id a transcript's name gives: the part before `.jsonl` (and before
/// `-topic-<thread>`). The header line, when present, says it again.
fn session_id_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.split(".jsonl").next().unwrap_or(&name);
    stem.split("-topic-").next().unwrap_or(stem).to_string()
}
