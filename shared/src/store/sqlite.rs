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
    /// The connection batches of records are written on (see `connect`).
    bulk: SqlitePool,
    writer: Mutex<()>,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// Rows per multi-row statement written with `$n` parameters. SQLite has no round
    /// trips to save, and binding a numbered parameter costs more the more a statement
    /// has, so these statements stay small.
    const ROWS_PER_STATEMENT: usize = 10;
    /// Records per insert statement, whose parameters are anonymous (`?`, bound in
    /// order at a constant cost): fewer statements, fewer hand-offs to the
    /// connection's worker thread (100 × 36 binds, under SQLite's 32,766).
    const INSERT_ROWS: usize = 100;
    const PARAMS: super::records::Params = super::records::Params::Anonymous;

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
            .connect_with(options.clone())
            .await?;
        // The connection that stores batches of records has a page cache of up to
        // 32 MiB (the default is 2 MiB): a transaction of a few thousand records then
        // stays in memory until it commits instead of spilling pages to the WAL midway.
        // Its statement journals (the pages a multi-row insert changed, kept until the
        // statement ends) stay in memory too instead of going to a temporary file.
        // One connection, so that only one such cache is ever filled.
        let bulk = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(
                options
                    .pragma("cache_size", "-32768")
                    .pragma("temp_store", "memory"),
            );
        Ok(SqliteStore {
            pool,
            bulk,
            writer: Mutex::new(()),
        })
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The stored records of `source` with these external ids.
    async fn stored_by_keys(
        conn: &mut sqlx::SqliteConnection,
        source: &str,
        keys: &[&str],
    ) -> Result<Vec<SqliteRow>, StoreError> {
        let sql = super::records::select_by_keys_sql(keys.len());
        let mut query = sqlx::query(&sql).bind(source);
        for key in keys {
            query = query.bind(*key);
        }
        Ok(query.fetch_all(conn).await?)
    }

    fn bulk_pool(&self) -> &SqlitePool {
        &self.bulk
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
