//! The Postgres backend (Neon in production, any Postgres 14+).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgPoolOptions};
use sqlx::ConnectOptions;

use super::db::Value;
use super::rollup::RollupDeltas;
use super::rows::RecordRow;
use super::schema::{self, RECORD};
use super::StoreError;
use crate::domain::usage::UsageRecord;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The pools of one Postgres database.
pub(crate) struct Pg {
    pub(crate) pool: PgPool,
    /// The connections of the one-statement push (see [`Pg::insert_new_deferred`]).
    push_pool: PgPool,
    /// When `rollup_pending` was last vacuumed (ms since the epoch).
    pending_vacuumed_ms: Arc<AtomicI64>,
    /// How to connect, for [`super::backend::Backend::connect_fresh`].
    pub(crate) options: Box<sqlx::postgres::PgConnectOptions>,
}

impl Pg {
    /// Connects; the URL is never echoed in errors.
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        // Multi-row statements are long: never copy their text into the log.
        let options = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)?
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let fresh = options.clone();
        // The push statement's plan does not depend on its values, and planning it
        // again at every execution (Postgres' custom plans) cost as much as running
        // it: these connections keep one generic plan. Opened on first use.
        let push_pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_lazy_with(options.options([("plan_cache_mode", "force_generic_plan")]));
        Ok(Pg {
            pool,
            push_pool,
            pending_vacuumed_ms: Default::default(),
            options: Box::new(fresh),
        })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The stored records of `source` with these external ids.
    pub(crate) async fn stored_by_keys(
        conn: &mut PgConnection,
        source: &str,
        keys: &[&str],
    ) -> Result<Vec<RecordRow>, StoreError> {
        Ok(sqlx::query_as(schema::SELECT_BY_KEY_ARRAY.as_str())
            .bind(source)
            .bind(keys)
            .fetch_all(conn)
            .await?)
    }

    /// After a fold: `rollup_pending` is emptied every few hundred milliseconds, and
    /// its dead rows would pile up for a minute or more between autovacuum runs, so
    /// every scan of it (each report, each fold) would read them all. Vacuuming it
    /// at most once a second keeps it a few pages long; it takes a millisecond or two.
    pub(crate) async fn after_fold(&self, folded: u64) -> Result<(), StoreError> {
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
    /// stored with its rollup deltas appended to `rollup_pending` by one statement
    /// ([`schema::INSERT_NEW_DEFERRED`]) in autocommit. Returns false, having stored
    /// nothing, when a key exists already or repeats within the batch, or when a
    /// concurrent write takes a key first; the caller then takes the general path.
    pub(crate) async fn insert_new_deferred(
        &self,
        records: &mut [UsageRecord],
    ) -> Result<bool, StoreError> {
        if records.is_empty() {
            return Ok(false);
        }
        let mut keys = HashSet::with_capacity(records.len());
        if !records
            .iter()
            .all(|r| keys.insert((r.facts.source.as_str(), r.facts.external_id.as_str())))
        {
            return Ok(false);
        }
        let mut deltas = RollupDeltas::default();
        for record in records.iter() {
            deltas.add_record(record);
        }
        let deltas: Vec<_> = deltas.into_changes().collect();
        let mut args = PgArguments::default();
        for column in &RECORD {
            add_array(&mut args, records.iter().map(|r| (column.value)(r)))?;
        }
        add(&mut args, chrono::Utc::now().timestamp_millis())?;
        for i in 0..schema::ROLLUP_KEY.len() {
            add_array(
                &mut args,
                deltas.iter().map(|(k, _)| schema::key_values(k)[i].clone()),
            )?;
        }
        let sums: Vec<_> = deltas
            .iter()
            .map(|(_, t)| schema::sum_values(t))
            .collect::<Option<_>>()
            .ok_or_else(super::write::too_large)?;
        for i in 0..schema::SUM_BINDS {
            add_array(&mut args, sums.iter().map(|values| values[i].clone()))?;
        }
        let query = sqlx::query_as_with(schema::INSERT_NEW_DEFERRED.as_str(), args);
        let rows: Vec<(i64, String, String)> = match query.fetch_all(&self.push_pool).await {
            Ok(rows) => rows,
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => return Ok(false),
            Err(err) => return Err(err.into()),
        };
        if rows.len() != records.len() {
            // Nothing was stored (a key exists): the statement inserts all or none.
            debug_assert!(rows.is_empty());
            return Ok(false);
        }
        let mut ids: HashMap<(String, String), i64> = rows
            .into_iter()
            .map(|(id, source, external_id)| ((source, external_id), id))
            .collect();
        for record in records.iter_mut() {
            let key = (
                record.facts.source.as_str().to_string(),
                record.facts.external_id.clone(),
            );
            record.id = ids
                .remove(&key)
                .ok_or_else(|| StoreError::Corrupt("an inserted record was not returned".into()))?;
        }
        Ok(true)
    }
}

fn add<'q, T>(args: &mut PgArguments, value: T) -> Result<(), StoreError>
where
    T: sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + 'q,
{
    use sqlx::Arguments;
    args.add(value)
        .map_err(|err| StoreError::Database(sqlx::Error::Encode(err)))
}

/// Adds one column's values as one Postgres array (every value of a column has the
/// same kind: [`schema::Column::value`] gives one variant per column).
fn add_array<'a>(
    args: &mut PgArguments,
    values: impl Iterator<Item = Value<'a>>,
) -> Result<(), StoreError> {
    let values: Vec<Value<'a>> = values.collect();
    let kind = values.first().map(std::mem::discriminant);
    if values
        .iter()
        .any(|v| Some(std::mem::discriminant(v)) != kind)
    {
        return Err(StoreError::Corrupt("a column mixes kinds of values".into()));
    }
    fn each<'a, T>(values: Vec<Value<'a>>, f: impl Fn(Value<'a>) -> Option<T>) -> Vec<T> {
        values.into_iter().filter_map(f).collect()
    }
    match values.first() {
        None | Some(Value::BigInt(_)) => add(
            args,
            each(values, |v| match v {
                Value::BigInt(x) => Some(x),
                _ => None,
            }),
        ),
        Some(Value::OptBigInt(_)) => add(
            args,
            each(values, |v| match v {
                Value::OptBigInt(x) => Some(x),
                _ => None,
            }),
        ),
        Some(Value::Int(_)) => add(
            args,
            each(values, |v| match v {
                Value::Int(x) => Some(x),
                _ => None,
            }),
        ),
        Some(Value::Bool(_)) => add(
            args,
            each(values, |v| match v {
                Value::Bool(x) => Some(x),
                _ => None,
            }),
        ),
        Some(Value::Text(_)) | Some(Value::OptText(_)) => add(
            args,
            each(values, |v| match v {
                Value::Text(x) => Some(Some(x)),
                Value::OptText(x) => Some(x),
                _ => None,
            }),
        ),
        Some(Value::Owned(_)) => add(
            args,
            each(values, |v| match v {
                Value::Owned(x) => Some(x),
                _ => None,
            }),
        ),
    }
}
