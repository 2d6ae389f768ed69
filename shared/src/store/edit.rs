//! Changes to stored records after the fact: a delete, new costs, a new project
//! for the records a rule attributed. Each moves the rollups by the difference in
//! the transaction that changes the records.

use super::backend::Backend;
use super::db::Sql;
use super::rollup::{RollupDeltas, RollupKey, Totals};
use super::rows::RollupRow;
use super::schema::RECORD_SUMS;
use super::write::{apply_deltas, fetch_record};
use super::{CostChange, MappingSubject, StoreError};
use crate::domain::money::Pico;

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
pub(crate) async fn update_costs(db: &Backend, changes: &[CostChange]) -> Result<(), StoreError> {
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
    for change in changes {
        let Some(mut record) = fetch_record(&mut exec, change.id).await? else {
            return Err(StoreError::NotFound);
        };
        deltas.subtract_record(&record);
        record.cost = change.cost;
        record.computed_cost = change.computed_cost;
        record.price_ref = change.price_ref.clone();
        record.unpriced = change.unpriced;
        deltas.add_record(&record);
        let update = Sql::new(
            "UPDATE usage_records SET cost_pico = $1, computed_cost_pico = $2, price_ref = $3, \
             unpriced = $4, updated_at_ms = $5 WHERE id = $6",
        )
        .bind(stored(change.cost)?)
        .bind(change.computed_cost.map(stored).transpose()?)
        .bind(change.price_ref.as_deref())
        .bind(change.unpriced)
        .bind(now_ms)
        .bind(change.id);
        exec.execute(update).await?;
    }
    apply_deltas(&mut exec, db, deltas, None).await?;
    tx.commit().await?;
    Ok(())
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
