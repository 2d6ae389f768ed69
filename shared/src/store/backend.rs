//! Which database a [`super::SqlStore`] runs on, and every way the two differ:
//! connections and transactions, the writer lock, statement sizes, how stored
//! records are found by key, the Postgres one-statement push, and housekeeping
//! after a fold. The store's logic above this is written once for both.

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite, Transaction};
use tokio::sync::MutexGuard;

use super::db::{Exec, Sql};
use super::postgres::Pg;
use super::rows::RecordRow;
use super::schema::{self, Params};
use super::sqlite::Lite;
use super::StoreError;
use crate::domain::usage::UsageRecord;

pub(crate) enum Backend {
    Postgres(Pg),
    Sqlite(Lite),
}

/// A pooled connection of either backend.
pub(crate) enum Conn {
    Pg(PoolConnection<Postgres>),
    Sqlite(PoolConnection<Sqlite>),
}

impl Conn {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Conn::Pg(conn) => Exec::Pg(conn),
            Conn::Sqlite(conn) => Exec::Sqlite(conn),
        }
    }
}

/// A transaction of either backend; rolled back when dropped uncommitted.
pub(crate) enum Tx {
    Pg(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl Tx {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Tx::Pg(tx) => Exec::Pg(tx),
            Tx::Sqlite(tx) => Exec::Sqlite(tx),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Pg(tx) => tx.commit().await?,
            Tx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Backend {
    /// `postgres` or `sqlite`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Backend::Postgres(pg) => pg.migrate().await,
            Backend::Sqlite(lite) => lite.migrate().await,
        }
    }

    /// Opens one connection outside the pools and closes it: whether the database
    /// takes connections now, without waiting for a pool's acquire timeout.
    pub(crate) async fn connect_fresh(&self) -> Result<(), StoreError> {
        use sqlx::Connection;
        match self {
            Backend::Postgres(pg) => {
                sqlx::PgConnection::connect_with(&pg.options)
                    .await?
                    .close()
                    .await?
            }
            // A file: a pooled connection answers as well as a new one would.
            Backend::Sqlite(_) => drop(self.conn().await?),
        }
        Ok(())
    }

    /// A connection for reads and single statements.
    pub(crate) async fn conn(&self) -> Result<Conn, StoreError> {
        Ok(match self {
            Backend::Postgres(pg) => Conn::Pg(pg.pool.acquire().await?),
            Backend::Sqlite(lite) => Conn::Sqlite(lite.pool.acquire().await?),
        })
    }

    /// A transaction for a write of a few rows.
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Backend::Postgres(pg) => Tx::Pg(pg.pool.begin().await?),
            Backend::Sqlite(lite) => Tx::Sqlite(lite.pool.begin().await?),
        })
    }

    /// A transaction for a batch of records (SQLite: on its large-cache connection).
    pub(crate) async fn begin_bulk(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Backend::Postgres(pg) => Tx::Pg(pg.pool.begin().await?),
            Backend::Sqlite(lite) => Tx::Sqlite(lite.bulk.begin().await?),
        })
    }

    /// Held for the length of every write. SQLite allows one writer at a time, and
    /// a transaction that upgrades from a read lock can fail, so its writers queue
    /// here; Postgres handles concurrent writers itself (rollup rows are locked in
    /// key order) and returns `None`.
    pub(crate) async fn write_guard(&self) -> Option<MutexGuard<'_, ()>> {
        match self {
            Backend::Postgres(_) => None,
            Backend::Sqlite(lite) => Some(lite.writer.lock().await),
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres(_))
    }

    /// Rows per multi-row statement with numbered parameters. Postgres saves a round
    /// trip per row (500 × 17 binds is far under its 65,535); SQLite has no round
    /// trips to save, and binding a numbered parameter costs more the more a
    /// statement has, so its statements stay small.
    pub(crate) fn rows_per_statement(&self) -> usize {
        match self {
            Backend::Postgres(_) => 500,
            Backend::Sqlite(_) => 10,
        }
    }

    /// Records per insert statement ([`schema::RECORD_BINDS`] binds each). SQLite's
    /// are anonymous, bound in order at a constant cost, so it takes 100 (under its
    /// 32,766 binds): fewer hand-offs to the connection's worker thread.
    pub(crate) fn insert_rows(&self) -> usize {
        match self {
            Backend::Postgres(_) => 500,
            Backend::Sqlite(_) => 100,
        }
    }

    /// Whether each row a query returns is dear: SQLite's driver hands rows over from
    /// its worker thread one by one (a few microseconds each), so reads of thousands of
    /// rows sum them in SQL (reports by local day) or return them packed as one JSON
    /// row (the per-cell figures). Postgres streams rows cheaply, and summing per group
    /// there cost more than the rows.
    pub(crate) fn rows_are_dear(&self) -> bool {
        match self {
            Backend::Postgres(_) => false,
            Backend::Sqlite(_) => true,
        }
    }

    /// How the multi-row insert statements name their parameters.
    pub(crate) fn params(&self) -> Params {
        match self {
            Backend::Postgres(_) => Params::Numbered,
            Backend::Sqlite(_) => Params::Anonymous,
        }
    }

    /// The stored records of `source` with these external ids.
    pub(crate) async fn stored_by_keys(
        &self,
        exec: &mut Exec<'_>,
        source: &str,
        keys: &[&str],
    ) -> Result<Vec<RecordRow>, StoreError> {
        match exec {
            Exec::Pg(conn) => Pg::stored_by_keys(conn, source, keys).await,
            Exec::Sqlite(_) => {
                let text = schema::select_by_keys_sql(keys.len());
                let mut sql = Sql::with_capacity(&text, keys.len() + 1)
                    .multi_row(keys.len(), self.rows_per_statement())
                    .bind(source);
                for key in keys {
                    sql.push(*key);
                }
                exec.fetch_all(sql).await
            }
        }
    }

    /// The common case of a push in one statement (Postgres): see
    /// [`Pg::insert_new_deferred`]. False, having stored nothing, when the batch
    /// must take the general path, which SQLite always takes (it has no round trips
    /// to save).
    pub(crate) async fn insert_new_deferred(
        &self,
        records: &mut [UsageRecord],
    ) -> Result<bool, StoreError> {
        match self {
            Backend::Postgres(pg) => pg.insert_new_deferred(records).await,
            Backend::Sqlite(_) => Ok(false),
        }
    }

    /// Housekeeping after a fold that moved `folded` pending rows (Postgres vacuums
    /// the pending table; SQLite reuses freed pages at once).
    pub(crate) async fn after_fold(&self, folded: u64) -> Result<(), StoreError> {
        match self {
            Backend::Postgres(pg) => pg.after_fold(folded).await,
            Backend::Sqlite(_) => Ok(()),
        }
    }
}
