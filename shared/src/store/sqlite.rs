//! The embedded SQLite backend: the zero-setup default (`sqlite://cost-tracker.db`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::ConnectOptions;
use tokio::sync::Mutex;

use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// A SQLite database file in WAL mode. Writes are serialised in-process
/// ([`super::backend::Backend::write_guard`]).
pub(crate) struct Lite {
    pub(crate) pool: SqlitePool,
    /// The connection batches of records are written on (see [`Lite::connect`]).
    pub(crate) bulk: SqlitePool,
    pub(crate) writer: Mutex<()>,
}

impl Lite {
    /// Opens (creating if missing) the database file named by a `sqlite://` URL.
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
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
        Ok(Lite {
            pool,
            bulk,
            writer: Mutex::new(()),
        })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}
