//! The Postgres store (Neon in production, any Postgres 14+).

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::ConnectOptions;

use super::records;
use super::sql_impl::impl_sql_store;
use super::StoreError;
use crate::domain::usage::UsageRecord;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// A pool of Postgres connections.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The connections of the one-statement push path (see `insert_new_deferred`).
    push_pool: PgPool,
    /// When `rollup_pending` was last vacuumed (ms since the epoch).
    pending_vacuumed_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl PgStore {
    const BACKEND: &'static str = "postgres";
    /// Rows per multi-row statement: one round trip for many rows; 500 × 35 binds
    /// stays well under the 65,535-bind limit.
    const ROWS_PER_STATEMENT: usize = 500;
    /// Records per insert statement (× 36 binds).
    const INSERT_ROWS: usize = 500;
    const PARAMS: records::Params = records::Params::Numbered;

    /// Connects lazily-validated; the URL is never echoed in errors.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // Multi-row statements are long: never copy their text into the log.
        let options = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)?
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        // The push statement's plan does not depend on its values, and planning it
        // again at every execution (Postgres' custom plans) cost as much as running
        // it: these connections keep one generic plan. Opened on first use.
        let push_pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_lazy_with(options.options([("plan_cache_mode", "force_generic_plan")]));
        Ok(PgStore {
            pool,
            push_pool,
            pending_vacuumed_ms: Default::default(),
        })
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The stored records of `source` with these external ids.
    async fn stored_by_keys(
        conn: &mut sqlx::PgConnection,
        source: &str,
        keys: &[&str],
    ) -> Result<Vec<PgRow>, StoreError> {
        Ok(sqlx::query(records::SELECT_BY_KEY_ARRAY.as_str())
            .bind(source)
            .bind(keys)
            .fetch_all(conn)
            .await?)
    }

    fn bulk_pool(&self) -> &PgPool {
        &self.pool
    }

    /// Postgres handles concurrent writers itself (rollup rows are locked in key order).
    async fn write_guard(&self) {}

    /// After a fold: `rollup_pending` is emptied every few hundred milliseconds, and
    /// its dead rows would pile up for a minute or more between autovacuum runs, so
    /// every scan of it (each report, each fold) would read them all. Vacuuming it
    /// at most once a second keeps it a few pages long; it takes a millisecond or two.
    async fn after_fold(&self, folded: u64) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let now = chrono::Utc::now().timestamp_millis();
        let last = self.pending_vacuumed_ms.load(Ordering::Relaxed);
        if folded == 0 || now - last < 1_000 {
            return Ok(());
        }
        self.pending_vacuumed_ms.store(now, Ordering::Relaxed);
        sqlx::query("VACUUM (SKIP_LOCKED) rollup_pending")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The common case of a push, in one round trip: every record is new, so it is
    /// stored with its rollup delta appended to `rollup_pending` by one statement in
    /// autocommit (atomic on its own). Returns false, having stored nothing, when a key
    /// exists already or repeats within the batch, or when a concurrent write takes a
    /// key first; the caller then takes the general path.
    async fn insert_new_deferred(&self, records: &mut [UsageRecord]) -> Result<bool, StoreError> {
        use sqlx::Row;
        use std::collections::{HashMap, HashSet};
        if records.is_empty() {
            return Ok(false);
        }
        let mut keys = HashSet::with_capacity(records.len());
        if !records
            .iter()
            .all(|r| keys.insert((r.source.as_str(), r.external_id.as_str())))
        {
            return Ok(false);
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        let query = bind_columns(sqlx::query(records::INSERT_NEW_DEFERRED), records).bind(now_ms);
        let rows = match query.fetch_all(&self.push_pool).await {
            Ok(rows) => rows,
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => return Ok(false),
            Err(err) => return Err(err.into()),
        };
        if rows.len() != records.len() {
            // Nothing was stored (a key exists): the statement inserts all or none.
            debug_assert!(rows.is_empty());
            return Ok(false);
        }
        let mut ids: HashMap<(String, String), i64> = HashMap::with_capacity(rows.len());
        for row in rows {
            ids.insert((row.try_get(1)?, row.try_get(2)?), row.try_get(0)?);
        }
        for record in records.iter_mut() {
            let key = (
                record.source.as_str().to_string(),
                record.external_id.clone(),
            );
            record.id = *ids
                .get(&key)
                .ok_or_else(|| StoreError::Corrupt("an inserted record was not returned".into()))?;
        }
        Ok(true)
    }
}

impl_sql_store!(PgStore, PgRow);

/// Binds records as one array per column, in [`records::INSERT_RECORD`] order ($1–$34).
fn bind_columns<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    records: &'q [UsageRecord],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    fn col<'a, T>(records: &'a [UsageRecord], f: impl Fn(&'a UsageRecord) -> T) -> Vec<T> {
        records.iter().map(f).collect()
    }
    let text = |f: fn(&UsageRecord) -> &str| col(records, f);
    let opt = |f: fn(&UsageRecord) -> Option<&str>| col(records, f);
    let int = |f: fn(&UsageRecord) -> i64| col(records, f);
    query
        .bind(text(|r| r.source.as_str()))
        .bind(text(|r| r.external_id.as_str()))
        .bind(int(|r| r.recorded_at.timestamp_millis()))
        .bind(int(|r| super::rollup::hour_start(r.recorded_at)))
        .bind(col(records, |r| r.bucket_seconds))
        .bind(text(|r| r.provider.as_str()))
        .bind(text(|r| r.model.as_str()))
        .bind(text(|r| r.model_key.as_str()))
        .bind(int(|r| r.tokens.input))
        .bind(int(|r| r.tokens.output))
        .bind(int(|r| r.tokens.cache_read))
        .bind(int(|r| r.tokens.cache_write_5m))
        .bind(int(|r| r.tokens.cache_write_1h))
        .bind(int(|r| r.tokens.web_search_requests))
        .bind(int(|r| r.tokens.requests))
        .bind(opt(|r| r.service_tier.as_deref()))
        .bind(opt(|r| r.context_window.as_deref()))
        .bind(opt(|r| r.inference_geo.as_deref()))
        .bind(opt(|r| r.session_label.as_deref()))
        .bind(text(|r| r.session_type.as_str()))
        .bind(opt(|r| r.session_id.as_deref()))
        .bind(opt(|r| r.agent.as_deref()))
        .bind(text(|r| r.project.as_str()))
        .bind(text(|r| r.project_source.as_str()))
        .bind(opt(|r| r.api_key_id.as_deref()))
        .bind(opt(|r| r.api_key_name.as_deref()))
        .bind(opt(|r| r.workspace_id.as_deref()))
        .bind(opt(|r| r.workspace_name.as_deref()))
        .bind(int(|r| r.cost.0))
        .bind(text(|r| r.cost_source.as_str()))
        .bind(col(records, |r| r.computed_cost.map(|c| c.0)))
        .bind(opt(|r| r.price_ref.as_deref()))
        .bind(col(records, |r| r.unpriced))
        .bind(col(records, |r| r.raw.to_string()))
}
