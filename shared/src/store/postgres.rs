//! The Postgres store (Neon in production, any Postgres 14+).

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::ConnectOptions;

use super::sql_impl::impl_sql_store;
use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// A pool of Postgres connections.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    const BACKEND: &'static str = "postgres";
    /// Rows per multi-row statement: one round trip for many rows; 500 × 35 binds
    /// stays well under the 65,535-bind limit.
    const ROWS_PER_STATEMENT: usize = 500;

    /// Connects lazily-validated; the URL is never echoed in errors.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(
                // Multi-row statements are long: never copy their text into the log.
                <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)?
                    .disable_statement_logging(),
            )
            .await?;
        Ok(PgStore { pool })
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Postgres handles concurrent writers itself (rollup rows are locked in key order).
    async fn write_guard(&self) {}
}

impl_sql_store!(PgStore, PgRow);
