//! The embedded SQLite store: the zero-setup default (`sqlite://cost-tracker.db`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::ConnectOptions;
use tokio::sync::{Mutex, MutexGuard};

use super::sql_impl::impl_sql_store;
use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// A SQLite database file in WAL mode. Writes are serialised in-process, since
/// SQLite allows one writer at a time and an upgrade from a read lock can fail.
pub struct SqliteStore {
    pool: SqlitePool,
    writer: Mutex<()>,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// Rows per multi-row statement. SQLite has no round trips to save, and binding
    /// `$n` parameters costs more the more a statement has, so statements stay small.
    const ROWS_PER_STATEMENT: usize = 10;

    /// Opens (creating if missing) the database file named by a `sqlite://` URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Multi-row statements are long: never copy their text into the log.
            .disable_statement_logging();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            pool,
            writer: Mutex::new(()),
        })
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn write_guard(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().await
    }

    /// Deleted rows leave SQLite's pages free for reuse at once: nothing to do.
    async fn after_fold(&self, _folded: u64) -> Result<(), StoreError> {
        Ok(())
    }

    /// Postgres saves round trips with one statement for new records; SQLite has none
    /// to save, so every write takes the general path.
    async fn insert_new_deferred(
        &self,
        _records: &mut [crate::domain::usage::UsageRecord],
    ) -> Result<bool, StoreError> {
        Ok(false)
    }
}

impl_sql_store!(SqliteStore, SqliteRow);
