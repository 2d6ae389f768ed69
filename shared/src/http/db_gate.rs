//! Requests while the database is down fail fast: 503 with `Retry-After`, not a wait
//! for the pool's acquire timeout (sqlx retries a refused connection until then).
//!
//! Nothing polls the database while all is well (a serverless Postgres such as Neon
//! would never suspend). A request still running after [`SLOW_AFTER`] starts one probe:
//! a fresh connection outside the pool, so a busy pool is not mistaken for an outage.
//! A refused or reset connection, or a server that is shutting down, marks the
//! database down; the probe then tries again every [`PROBE_EVERY`] and lifts the mark
//! on the first connection that opens. A probe that only times out (a database
//! waking up) marks nothing. While the mark is set, every request that needs the
//! database is answered 503 at once; reads waiting for it are answered 503 as soon
//! as it is set. Writes already started are never abandoned: a push waiting in the
//! group commit may still be stored, and answering it early would invite a retry
//! that counts it twice. They end with the store's own error, also a 503.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::{ApiError, AppState};
use crate::store::{DynStore, StoreError};

/// A request running this long makes the gate look at the database.
pub const SLOW_AFTER: Duration = Duration::from_millis(500);
/// How long one probe's connection attempt may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Probes while the database is down, this far apart.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// What a 503 tells the client to wait, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Whether the database was last seen down; shared by every request of a process.
#[derive(Debug)]
pub struct DbGate {
    down: watch::Sender<bool>,
    probing: AtomicBool,
}

impl Default for DbGate {
    fn default() -> Self {
        DbGate {
            down: watch::Sender::new(false),
            probing: AtomicBool::new(false),
        }
    }
}

impl DbGate {
    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// Runs `work`; if it is still running after [`SLOW_AFTER`], probes the database,
    /// and when `abandon_when_down`, gives up on `work` once the database is marked
    /// down. `Err(())` means the database is down (`work` did not finish).
    pub async fn guard<F: Future>(
        self: &Arc<Self>,
        store: &DynStore,
        abandon_when_down: bool,
        work: F,
    ) -> Result<F::Output, ()> {
        if self.is_down() {
            return Err(());
        }
        let mut down = self.down.subscribe();
        tokio::pin!(work);
        tokio::select! {
            output = &mut work => return Ok(output),
            () = tokio::time::sleep(SLOW_AFTER) => {}
        }
        self.start_probe(store.clone());
        if !abandon_when_down {
            return Ok(work.await);
        }
        tokio::select! {
            output = &mut work => Ok(output),
            _ = down.wait_for(|down| *down) => Err(()),
        }
    }

    /// Starts the probe unless one is running.
    fn start_probe(self: &Arc<Self>, store: DynStore) {
        if self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let gate = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                match tokio::time::timeout(PROBE_TIMEOUT, store.probe_connect()).await {
                    Ok(Ok(())) => {
                        if gate.down.send_replace(false) {
                            tracing::info!("the database takes connections again");
                        }
                        break;
                    }
                    Ok(Err(err)) if refused(&err) => {
                        if !gate.down.send_replace(true) {
                            tracing::error!(error = %err, "the database refuses connections; answering 503 until it is back");
                        }
                    }
                    // Reachable but unhappy (authentication, too many connections):
                    // requests get the database's own answer.
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "database probe failed");
                        gate.down.send_replace(false);
                        break;
                    }
                    // Slow, not refused: perhaps waking up. Mark nothing new.
                    Err(_) if !gate.is_down() => break,
                    Err(_) => {}
                }
                tokio::time::sleep(PROBE_EVERY).await;
            }
            gate.probing.store(false, Ordering::Release);
        });
    }
}

/// A connection the database did not take: nothing listening, reset, or a server
/// shutting down or starting up (SQLSTATE class 57P).
fn refused(err: &StoreError) -> bool {
    match err {
        StoreError::Database(sqlx::Error::Io(_)) => true,
        StoreError::Database(sqlx::Error::Database(db)) => {
            db.code().is_some_and(|code| code.starts_with("57P"))
        }
        _ => false,
    }
}

/// Whether a store error means the database could not be reached (so the answer is
/// a 503 to retry, not a 500).
pub fn unavailable(err: &StoreError) -> bool {
    refused(err)
        || matches!(
            err,
            StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
        )
}

/// The middleware on every route that needs the database.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let idempotent = matches!(
        *request.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    );
    match state
        .db_gate
        .guard(state.ledger.store(), idempotent, next.run(request))
        .await
    {
        Ok(response) => response,
        Err(()) => ApiError::DatabaseUnavailable.into_response(),
    }
}
