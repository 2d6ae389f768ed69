//! Writing records and moving rollups: the one transaction of a write (records,
//! then their rollup deltas, then any import cursors and claims), and the fold of
//! pending deltas into the rollups.

use std::collections::{HashMap, HashSet};

use super::backend::Backend;
use super::db::{Exec, Sql};
use super::reconcile::{self, Coverage};
use super::rollup::{dim_changes, DimKey, RollupDeltas, RollupKey, Totals};
use super::rows::{RecordRow, RollupRow};
use super::schema::{self, RECORD, RECORD_BINDS};
use super::{ImportCursor, MessageClaim, StoreError, WriteMode, WriteOutcome, WriteStatus};
use crate::domain::usage::{Source, UsageRecord};

/// A rollup sum that reached 2⁹⁵ picodollars (or tokens): beyond what the store keeps.
pub(crate) fn too_large() -> StoreError {
    StoreError::Corrupt("a rollup sum reached 2^95".into())
}

/// Refuses records whose cost one record cannot hold (the ledger refuses them
/// first, naming the field; this keeps the store from ever storing a wrong figure).
pub(crate) fn check_representable(records: &[UsageRecord]) -> Result<(), StoreError> {
    for (index, record) in records.iter().enumerate() {
        let computed = record.computed_cost.unwrap_or_default();
        if record.cost.stored().is_none() || computed.stored().is_none() {
            return Err(StoreError::TooLarge(vec![crate::ingest::FieldError {
                index: Some(index),
                field: "cost".into(),
                message: format!(
                    "is more than one record can hold ({})",
                    record.facts.external_id
                ),
            }]));
        }
    }
    Ok(())
}

/// Appends a record's [`RECORD`] values to a statement.
fn push_record<'a>(sql: &mut Sql<'a>, record: &'a UsageRecord) {
    for column in &RECORD {
        sql.push((column.value)(record));
    }
}

/// What a write stores besides its records.
#[derive(Default)]
pub(crate) struct Extras<'a> {
    /// Append the rollup deltas to `rollup_pending` instead of applying them.
    pub defer: bool,
    pub cursors: &'a [ImportCursor],
    pub claims: &'a [MessageClaim],
    /// The hours a collected chunk covered: billed from this transaction on.
    pub coverage: Option<&'a Coverage>,
    /// The bill of the collected chunk's days: replaces what those days held.
    pub bill: Option<&'a super::bill::BillChunk>,
}

/// Writes records and their rollup deltas in one transaction (see
/// [`super::Store::write_usage`]), with the import cursors and claims of `extras`.
pub(crate) async fn write_records(
    db: &Backend,
    mut records: Vec<UsageRecord>,
    mode: WriteMode,
    extras: Extras<'_>,
) -> Result<Vec<WriteOutcome>, StoreError> {
    check_representable(&records)?;
    let _guard = db.write_guard().await;
    let mut tx = db.begin_bulk().await?;
    let mut exec = tx.exec();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut deltas = RollupDeltas::default();
    let mut statuses: Vec<Option<WriteStatus>> = vec![None; records.len()];

    // 1. Insert many rows per statement; a key that already exists (or repeats
    //    within the batch) is skipped here and settled below.
    let rows_per_insert = db.insert_rows();
    let full_sql = schema::insert_records_sql(rows_per_insert, db.params());
    for (chunk_index, chunk) in records.chunks_mut(rows_per_insert).enumerate() {
        let short_sql;
        let text = if chunk.len() == rows_per_insert {
            full_sql.as_str()
        } else {
            short_sql = schema::insert_records_sql(chunk.len(), db.params());
            short_sql.as_str()
        };
        let mut sql = Sql::with_capacity(text, chunk.len() * RECORD_BINDS)
            .multi_row(chunk.len(), rows_per_insert);
        for record in chunk.iter() {
            push_record(&mut sql, record);
            sql.push(now_ms);
            sql.push(now_ms);
        }
        let inserted: Vec<(i64, String, String)> = exec.fetch_all(sql).await?;
        let mut ids: HashMap<(String, String), i64> = inserted
            .into_iter()
            .map(|(id, source, external_id)| ((source, external_id), id))
            .collect();
        for (offset, record) in chunk.iter_mut().enumerate() {
            let key = (
                record.facts.source.as_str().to_string(),
                std::mem::take(&mut record.facts.external_id),
            );
            // The first row of a key in VALUES order is the one inserted.
            if let Some(id) = ids.remove(&key) {
                record.id = id;
                deltas.add_record(record);
                statuses[chunk_index * rows_per_insert + offset] = Some(WriteStatus::Created);
            }
            record.facts.external_id = key.1;
        }
    }

    // 2. The rest exist already: fetch them by key, then compare in batch order.
    let pending: Vec<usize> = (0..records.len())
        .filter(|&i| statuses[i].is_none())
        .collect();
    let mut stored: HashMap<(String, String), UsageRecord> = HashMap::new();
    let mut by_source: HashMap<&'static str, Vec<&str>> = HashMap::new();
    for &i in &pending {
        by_source
            .entry(records[i].facts.source.as_str())
            .or_default()
            .push(records[i].facts.external_id.as_str());
    }
    for (source, keys) in by_source {
        for chunk in keys.chunks(db.rows_per_statement()) {
            for row in db.stored_by_keys(&mut exec, source, chunk).await? {
                let existing = UsageRecord::try_from(row)?;
                stored.insert(
                    (source.to_string(), existing.facts.external_id.clone()),
                    existing,
                );
            }
        }
    }
    for index in pending {
        let record = &mut records[index];
        let key = (
            record.facts.source.as_str().to_string(),
            record.facts.external_id.clone(),
        );
        let existing = stored.get(&key).cloned().ok_or_else(|| {
            StoreError::Corrupt(format!(
                "record {} vanished during the write",
                record.facts.external_id
            ))
        })?;
        // An imported call seen again keeps the version with more tokens.
        let keep_larger = mode == WriteMode::InsertOnly && record.facts.source == Source::Import;
        let unchanged = match mode {
            _ if keep_larger => schema::import_weight(&existing) >= schema::import_weight(record),
            WriteMode::InsertOnly => existing.facts.raw == record.facts.raw,
            WriteMode::Upsert => schema::same_content(&existing, record),
        };
        if unchanged {
            *record = existing;
            statuses[index] = Some(WriteStatus::Unchanged);
        } else if mode == WriteMode::InsertOnly && !keep_larger {
            return Err(StoreError::Conflict {
                index,
                external_id: record.facts.external_id.clone(),
            });
        } else {
            record.id = existing.id;
            let mut sql = Sql::with_capacity(&schema::UPDATE_RECORD, RECORD_BINDS);
            push_record(&mut sql, record);
            sql.push(now_ms);
            sql.push(existing.id);
            exec.execute(sql).await?;
            deltas.subtract_record(&existing);
            deltas.add_record(record);
            // A later repeat of this key in the batch compares with this version.
            stored.insert(key, record.clone());
            statuses[index] = Some(WriteStatus::Updated);
        }
    }
    // Deltas are deferred only into cells that are not billed (and never a bill's):
    // a billed cell is settled in this transaction.
    let defer = extras.defer
        && extras.coverage.is_none()
        && !records.iter().any(|r| reconcile::is_billed(r.facts.source))
        && reconcile::covered(&mut exec, &deltas.pairs())
            .await?
            .is_empty();
    if defer {
        append_pending(&mut exec, db.rows_per_statement(), deltas).await?;
    } else {
        apply_deltas(&mut exec, db, deltas, extras.coverage).await?;
    }
    write_cursors(&mut exec, db, extras.cursors, now_ms).await?;
    write_claims(&mut exec, db, extras.claims).await?;
    if let Some(bill) = extras.bill {
        super::bill::write_bill(&mut exec, db, bill, now_ms).await?;
    }
    tx.commit().await?;
    Ok(records
        .into_iter()
        .zip(statuses)
        .map(|(record, status)| WriteOutcome {
            status: status.expect("every record was settled"),
            record,
        })
        .collect())
}

/// Upserts import cursors, 100 per statement.
async fn write_cursors(
    exec: &mut Exec<'_>,
    db: &Backend,
    cursors: &[ImportCursor],
    now_ms: i64,
) -> Result<(), StoreError> {
    for chunk in cursors.chunks(100) {
        let text = format!(
            "INSERT INTO import_cursors (importer, location, identity, size, position, state, \
             updated_at_ms) VALUES {} ON CONFLICT (importer, location) DO UPDATE SET \
             identity = excluded.identity, size = excluded.size, position = excluded.position, \
             state = excluded.state, updated_at_ms = excluded.updated_at_ms",
            schema::values_list(chunk.len(), 7, db.params())
        );
        let mut sql = Sql::with_capacity(&text, chunk.len() * 7).multi_row(chunk.len(), 100);
        for c in chunk {
            sql.push(&c.importer);
            sql.push(&c.location);
            sql.push(&c.identity);
            sql.push(c.size);
            sql.push(c.position);
            sql.push(&c.state);
            sql.push(now_ms);
        }
        exec.execute(sql).await?;
    }
    Ok(())
}

/// Adds message claims (each once), 200 per statement; the first claim of a message stays.
async fn write_claims(
    exec: &mut Exec<'_>,
    db: &Backend,
    claims: &[MessageClaim],
) -> Result<(), StoreError> {
    let mut seen = HashSet::new();
    let claims: Vec<_> = claims
        .iter()
        .filter(|c| seen.insert((&c.importer, &c.session_id, &c.message_id)))
        .collect();
    for chunk in claims.chunks(200) {
        let text = format!(
            "INSERT INTO import_message_claims (importer, session_id, message_id, external_id) \
             VALUES {} ON CONFLICT (importer, session_id, message_id) DO NOTHING",
            schema::values_list(chunk.len(), 4, db.params())
        );
        let mut sql = Sql::with_capacity(&text, chunk.len() * 4).multi_row(chunk.len(), 200);
        for c in chunk {
            sql.push(&c.importer);
            sql.push(&c.session_id);
            sql.push(&c.message_id);
            sql.push(&c.external_id);
        }
        exec.execute(sql).await?;
    }
    Ok(())
}

/// The stored record with this id.
pub(crate) async fn fetch_record(
    exec: &mut Exec<'_>,
    id: i64,
) -> Result<Option<UsageRecord>, StoreError> {
    let text = format!(
        "SELECT {} FROM usage_records WHERE id = $1",
        *schema::RECORD_SELECT
    );
    let row: Option<RecordRow> = exec.fetch_optional(Sql::new(&text).bind(id)).await?;
    row.map(UsageRecord::try_from).transpose()
}

/// Takes every committed pending rollup delta into `deltas`, deleting it; returns
/// how many rows were taken.
pub(crate) async fn take_pending(
    exec: &mut Exec<'_>,
    deltas: &mut RollupDeltas,
) -> Result<u64, StoreError> {
    let rows: Vec<RollupRow> = exec.fetch_all(Sql::new(&schema::TAKE_PENDING)).await?;
    let taken = rows.len() as u64;
    for row in rows {
        let (key, totals) = row.try_into()?;
        deltas.add(key, totals);
    }
    Ok(taken)
}

/// Writes full-key rollup rows with `sql(rows)` (an upsert into the rollups or an
/// append to the pending table), `per_statement` rows per statement, in order.
async fn write_rollup_rows(
    exec: &mut Exec<'_>,
    per_statement: usize,
    changes: &[(RollupKey, Totals)],
    sql: fn(usize) -> String,
) -> Result<(), StoreError> {
    let width = schema::ROLLUP_KEY.len() + schema::SUM_BINDS;
    for chunk in changes.chunks(per_statement) {
        let text = sql(chunk.len());
        let mut statement =
            Sql::with_capacity(&text, chunk.len() * width).multi_row(chunk.len(), per_statement);
        for (key, totals) in chunk {
            for value in schema::key_values(key) {
                statement.push(value);
            }
            for value in schema::sum_values(totals).ok_or_else(too_large)? {
                statement.push(value);
            }
        }
        exec.execute(statement).await?;
    }
    Ok(())
}

/// Appends rollup deltas to `rollup_pending` instead of applying them: no rollup
/// row is locked, so concurrent small writes do not queue on the hot rows of the
/// current hour. Only additions are deferred.
pub(crate) async fn append_pending(
    exec: &mut Exec<'_>,
    per_statement: usize,
    deltas: RollupDeltas,
) -> Result<(), StoreError> {
    let changes: Vec<_> = deltas.into_changes().collect();
    write_rollup_rows(exec, per_statement, &changes, schema::insert_pending_sql).await
}

/// Adds rollup deltas in key order (so concurrent writers lock rows in the same
/// order), many rows per statement, to the full-key and the one-dimension rollups,
/// then settles the billed cells they touch (and records `coverage`; see
/// [`reconcile`]). A change that removes records may concern a record whose
/// addition is still pending, so the pending deltas are folded in first (in this
/// transaction): rows then reach zero here and are deleted, never going negative.
pub(crate) async fn apply_deltas(
    exec: &mut Exec<'_>,
    db: &Backend,
    mut deltas: RollupDeltas,
    coverage: Option<&Coverage>,
) -> Result<(), StoreError> {
    if deltas.removes_records() {
        take_pending(exec, &mut deltas).await?;
    }
    let touched = deltas.pairs();
    reconcile::prepare(exec, db, &touched, coverage).await?;
    let per_statement = db.rows_per_statement();
    let changes: Vec<_> = deltas.into_changes().collect();
    let removed = changes.iter().any(|(_, t)| t.records < 0);
    write_rollup_rows(exec, per_statement, &changes, schema::upsert_rollups_sql).await?;
    upsert_dims(exec, per_statement, &dim_changes(&changes)).await?;
    if removed {
        exec.execute(Sql::new(schema::DELETE_EMPTY_ROLLUPS)).await?;
        exec.execute(Sql::new(&schema::DELETE_EMPTY_DIMS)).await?;
    }
    reconcile::settle(exec, db, &touched, coverage).await
}

/// Adds one-dimension rollup deltas, many rows per statement, in the given order.
pub(crate) async fn upsert_dims(
    exec: &mut Exec<'_>,
    per_statement: usize,
    dims: &[(DimKey, Totals)],
) -> Result<(), StoreError> {
    for chunk in dims.chunks(per_statement) {
        let text = schema::upsert_dims_sql(chunk.len());
        let mut sql = Sql::with_capacity(&text, chunk.len() * (4 + schema::SUM_BINDS))
            .multi_row(chunk.len(), per_statement);
        for (key, totals) in chunk {
            sql.push(key.dim);
            sql.push(key.grain);
            sql.push(key.bucket_start);
            sql.push(key.value.as_str());
            for value in schema::sum_values(totals).ok_or_else(too_large)? {
                sql.push(value);
            }
        }
        exec.execute(sql).await?;
    }
    Ok(())
}

/// Folds every committed pending rollup delta into the rollups, in one transaction.
pub(crate) async fn fold_pending(db: &Backend) -> Result<u64, StoreError> {
    let folded = {
        let _guard = db.write_guard().await;
        let mut tx = db.begin().await?;
        let mut exec = tx.exec();
        let mut deltas = RollupDeltas::default();
        let folded = take_pending(&mut exec, &mut deltas).await?;
        if folded > 0 {
            apply_deltas(&mut exec, db, deltas, None).await?;
        }
        tx.commit().await?;
        folded
    };
    db.after_fold(folded).await?;
    Ok(folded)
}

/// Stores pushed records, deltas pending: in one statement when the backend can
/// and every record is new, else by the general path.
pub(crate) async fn write_deferred(
    db: &Backend,
    mut records: Vec<UsageRecord>,
) -> Result<Vec<WriteOutcome>, StoreError> {
    check_representable(&records)?;
    let pushed_only = !records.iter().any(|r| reconcile::is_billed(r.facts.source));
    if pushed_only && db.insert_new_deferred(&mut records).await? {
        return Ok(records
            .into_iter()
            .map(|record| WriteOutcome {
                status: WriteStatus::Created,
                record,
            })
            .collect());
    }
    let extras = Extras {
        defer: true,
        ..Extras::default()
    };
    write_records(db, records, WriteMode::InsertOnly, extras).await
}

/// Once, after the migration that added the reconciled layers (which leaves a row in
/// `reconcile_backfill`): settles every billed hour of the data already stored.
pub(crate) async fn settle_after_migration(db: &Backend) -> Result<(), StoreError> {
    let _guard = db.write_guard().await;
    let mut tx = db.begin().await?;
    let mut exec = tx.exec();
    let (pending,): (i64,) = exec
        .fetch_one(Sql::new(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM reconcile_backfill",
        ))
        .await?;
    if pending > 0 {
        reconcile::settle_all(&mut exec, db).await?;
        exec.execute(Sql::new("DELETE FROM reconcile_backfill"))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
