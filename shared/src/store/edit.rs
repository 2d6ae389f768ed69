//! Changes to stored records after the fact: a delete, new costs, a new project
//! for the records a rule attributed. Each moves the rollups by the difference in
//! the transaction that changes the records.

use super::backend::Backend;
use super::db::Sql;
use super::rollup::{RollupDeltas, RollupKey, Totals};
use super::rows::{self, RecordRow, RollupRow};
use super::schema::{self, RECORD_SUMS};
use super::write::{apply_deltas, fetch_record};
use super::{CostChange, MappingSubject, StoreError, StoredPriceRow};
use crate::domain::money::Pico;
use crate::domain::pricing::StoredEntry;
use crate::domain::usage::UsageRecord;

/// Deletes one record and its rollup contribution; false when absent.
pub(crate) async fn delete_usage(db: &Backend, id: i64) -> Result<bool, StoreError> {
    let _guard = db.write_guard().await;
    let mut tx = db.begin().await?;
    let mut exec = tx.exec();
    let Some(existing) = fetch_record(&mut exec, id).await? else {
        return Ok(false);
    };
    let delete = Sql::new("DELETE FROM usage_records WHERE id = $1").bind(id);
    exec.execute(delete).await?;
    let mut deltas = RollupDeltas::default();
    deltas.subtract_record(&existing);
    apply_deltas(&mut exec, db, deltas, None).await?;
    tx.commit().await?;
    Ok(true)
}

/// Applies new costs and moves rollups by the difference, in one transaction.
pub(crate) async fn update_costs(
    db: &Backend,
    changes: &[CostChange],
) -> Result<Vec<i64>, StoreError> {
    let _guard = db.write_guard().await;
    let mut tx = db.begin().await?;
    let mut exec = tx.exec();
    let mut deltas = RollupDeltas::default();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let stored = |cost: Pico| {
        let field = crate::ingest::FieldError {
            index: None,
            field: "cost".into(),
            message: format!("{} USD is more than one record can hold", cost.usd()),
        };
        cost.stored()
            .ok_or_else(|| StoreError::TooLarge(vec![field]))
    };
    let mut changed = Vec::new();
    for change in changes {
        let before = &change.before;
        // Applies only to the record as the change was computed from: a concurrent
        // re-pricing that got there first leaves nothing to do (on Postgres the second
        // UPDATE waits for the first and then finds its condition false).
        let update = Sql::new(
            "UPDATE usage_records SET cost_pico = $1, computed_cost_pico = $2, price_ref = $3, \
             unpriced = $4, model_key = $5, updated_at_ms = $6, cost_source = $13, provider = $15 \
             WHERE id = $7 \
             AND cost_pico = $8 AND COALESCE(computed_cost_pico, -1) = $9 \
             AND COALESCE(price_ref, '') = $10 AND unpriced = $11 AND model_key = $12 \
             AND cost_source = $14 AND provider = $16",
        )
        .bind(stored(change.cost)?)
        .bind(change.computed_cost.map(stored).transpose()?)
        .bind(change.price_ref.as_deref())
        .bind(change.unpriced)
        .bind(change.model_key.as_str())
        .bind(now_ms)
        .bind(change.id)
        .bind(stored(before.cost)?)
        .bind(before.computed_cost.map(stored).transpose()?.unwrap_or(-1))
        .bind(before.price_ref.as_deref().unwrap_or_default())
        .bind(before.unpriced)
        .bind(before.model_key.as_str())
        .bind(change.cost_source.as_str())
        .bind(before.cost_source.as_str())
        .bind(change.provider.as_str())
        .bind(before.provider.as_str());
        if exec.execute(update).await? == 0 {
            continue;
        }
        changed.push(change.id);
        let mut record = before.clone();
        deltas.subtract_record(&record);
        record.cost = change.cost;
        record.computed_cost = change.computed_cost;
        record.price_ref = change.price_ref.clone();
        record.unpriced = change.unpriced;
        record.model_key = change.model_key.clone();
        record.cost_source = change.cost_source;
        record.provider = change.provider.clone();
        deltas.add_record(&record);
    }
    apply_deltas(&mut exec, db, deltas, None).await?;
    tx.commit().await?;
    Ok(changed)
}

/// Unpriced records after `after_id`, by id (the partial index `usage_records_unpriced`).
pub(crate) async fn unpriced_records(
    db: &Backend,
    after_id: i64,
    limit: i64,
) -> Result<Vec<UsageRecord>, StoreError> {
    let text = format!(
        "SELECT {} FROM usage_records WHERE unpriced = $1 AND id > $2 ORDER BY id LIMIT $3",
        *schema::RECORD_SELECT
    );
    let sql = Sql::new(&text).bind(true).bind(after_id).bind(limit);
    let rows: Vec<RecordRow> = db.conn().await?.exec().fetch_all(sql).await?;
    rows::records(rows)
}

/// Every stored price entry, by model.
pub(crate) async fn stored_prices(db: &Backend) -> Result<Vec<StoredPriceRow>, StoreError> {
    let sql = Sql::new("SELECT model, entry, updated_at_ms FROM stored_prices ORDER BY model");
    let rows: Vec<(String, String, i64)> = db.conn().await?.exec().fetch_all(sql).await?;
    Ok(rows
        .into_iter()
        .map(|(model, body, updated_at_ms)| StoredPriceRow {
            entry: StoredEntry { model, body },
            updated_at_ms,
        })
        .collect())
}

/// Upserts `put` and deletes `delete` in one transaction; how many rows were deleted.
pub(crate) async fn save_stored_prices(
    db: &Backend,
    put: &[StoredEntry],
    delete: &[String],
) -> Result<u64, StoreError> {
    let _guard = db.write_guard().await;
    let mut tx = db.begin().await?;
    let mut exec = tx.exec();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut deleted = 0;
    for model in delete {
        let sql = Sql::new("DELETE FROM stored_prices WHERE model = $1").bind(model.as_str());
        deleted += exec.execute(sql).await?;
    }
    for entry in put {
        let sql = Sql::new(
            "INSERT INTO stored_prices (model, entry, updated_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (model) DO UPDATE SET entry = excluded.entry, \
             updated_at_ms = excluded.updated_at_ms",
        )
        .bind(entry.model.as_str())
        .bind(entry.body.as_str())
        .bind(now_ms);
        exec.execute(sql).await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

/// The records a rule attributed to one subject: label, key name, workspace, project.
const SUBJECT: &str = "project_source = 'mapping' \
    AND COALESCE(session_label, '') = $1 AND COALESCE(api_key_name, '') = $2 \
    AND COALESCE(workspace_name, '') = $3 AND project = $4";

/// Distinct attribution inputs of records whose project came from a rule.
pub(crate) async fn mapping_subjects(db: &Backend) -> Result<Vec<MappingSubject>, StoreError> {
    let sql = Sql::new(
        "SELECT DISTINCT session_label, api_key_name, workspace_name, project \
         FROM usage_records WHERE project_source = 'mapping'",
    );
    db.conn().await?.exec().fetch_all(sql).await
}

/// Moves every rule-attributed record of each subject to its new project, with
/// rollups, in one transaction; returns the number of records changed.
pub(crate) async fn retag(
    db: &Backend,
    changes: &[(MappingSubject, String)],
) -> Result<u64, StoreError> {
    // What the subject's records add to each rollup row (their project is `$4`).
    let contribution = format!(
        "SELECT hour_start, provider, model_key AS model, project, \
         COALESCE(agent, '') AS agent, session_type, source, {} FROM usage_records \
         WHERE {SUBJECT} GROUP BY hour_start, provider, model_key, project, \
         COALESCE(agent, ''), session_type, source",
        *RECORD_SUMS
    );
    let update =
        format!("UPDATE usage_records SET project = $5, updated_at_ms = $6 WHERE {SUBJECT}");
    let _guard = db.write_guard().await;
    let mut tx = db.begin().await?;
    let mut exec = tx.exec();
    let mut deltas = RollupDeltas::default();
    let mut changed = 0;
    for (subject, new_project) in changes {
        let label = subject.session_label.as_deref().unwrap_or_default();
        let key_name = subject.api_key_name.as_deref().unwrap_or_default();
        let workspace = subject.workspace_name.as_deref().unwrap_or_default();
        let subject_sql = |text| {
            Sql::new(text)
                .bind(label)
                .bind(key_name)
                .bind(workspace)
                .bind(subject.project.as_str())
        };
        let rows: Vec<RollupRow> = exec.fetch_all(subject_sql(&contribution)).await?;
        for row in rows {
            let (mut key, totals): (RollupKey, Totals) = row.try_into()?;
            deltas.subtract(key.clone(), totals);
            key.project = new_project.clone();
            deltas.add(key, totals);
        }
        let sql = subject_sql(&update)
            .bind(new_project.as_str())
            .bind(chrono::Utc::now().timestamp_millis());
        changed += exec.execute(sql).await?;
    }
    apply_deltas(&mut exec, db, deltas, None).await?;
    tx.commit().await?;
    Ok(changed)
}

/// A server-side secret and its key check.
pub(crate) async fn server_secret(
    db: &Backend,
    name: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let sql = Sql::new("SELECT value, key_check FROM server_secrets WHERE name = $1").bind(name);
    db.conn().await?.exec().fetch_optional(sql).await
}

/// Inserts a secret (none there) or replaces the one checked by `replacing`.
pub(crate) async fn save_server_secret(
    db: &Backend,
    name: &str,
    value: &str,
    key_check: &str,
    replacing: Option<&str>,
) -> Result<bool, StoreError> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let sql = match replacing {
        None => Sql::new(
            "INSERT INTO server_secrets (name, value, key_check, updated_at_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .bind(key_check)
        .bind(now_ms),
        Some(previous) => Sql::new(
            "UPDATE server_secrets SET value = $2, key_check = $3, updated_at_ms = $4 \
             WHERE name = $1 AND key_check = $5",
        )
        .bind(name)
        .bind(value)
        .bind(key_check)
        .bind(now_ms)
        .bind(previous),
    };
    Ok(db.conn().await?.exec().execute(sql).await? == 1)
}
