//! What the store keeps besides usage: project rules, the logs of collection runs,
//! Context Vault pushes and import runs, provider watermarks, import cursors and
//! message claims.

use chrono::{DateTime, Utc};

use super::backend::Backend;
use super::db::Sql;
use super::rows::{CollectionRunRow, CvPushRow, HandoffRow, ImportRunRow};
use super::{
    CollectionRun, CvPush, CvPushQuery, HandoffRecord, ImportCursor, ImportRun, StoreError,
};
use crate::domain::rules::ProjectRule;

/// Runs a statement that returns the id of the row it wrote; `NotFound` when none.
pub(crate) async fn write_returning_id(db: &Backend, sql: Sql<'_>) -> Result<i64, StoreError> {
    let _guard = db.write_guard().await;
    let id: Option<(i64,)> = db.conn().await?.exec().fetch_optional(sql).await?;
    id.map(|(id,)| id).ok_or(StoreError::NotFound)
}

/// `INSERT … RETURNING id` when `id` is 0, else `UPDATE … WHERE id = $n+1`, for
/// `columns` (comma-separated) of `table` bound as `$1`–`$n`.
pub(crate) fn save_sql(table: &str, columns: &str, id: i64) -> String {
    let columns: Vec<&str> = columns.split(", ").collect();
    if id == 0 {
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        format!(
            "INSERT INTO {table} ({}) VALUES ({}) RETURNING id",
            columns.join(", "),
            placeholders.join(", ")
        )
    } else {
        let sets: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect();
        format!(
            "UPDATE {table} SET {} WHERE id = ${} RETURNING id",
            sets.join(", "),
            columns.len() + 1
        )
    }
}

/// Binds the id of an update after the columns (nothing for an insert).
pub(crate) fn with_id(sql: Sql<'_>, id: i64) -> Sql<'_> {
    if id == 0 {
        sql
    } else {
        sql.bind(id)
    }
}

const RUN_COLUMNS: &str = "provider, trigger, status, started_at_ms, finished_at_ms, \
    range_start_ms, range_end_ms, chunks, pages, buckets, records, created, updated, \
    unchanged, error, duration_ms";

pub(crate) async fn save_run(db: &Backend, run: &CollectionRun) -> Result<i64, StoreError> {
    let text = save_sql("collection_runs", RUN_COLUMNS, run.id);
    let sql = Sql::new(&text)
        .bind(&run.provider)
        .bind(run.trigger.as_str())
        .bind(run.status.as_str())
        .bind(run.started_at.timestamp_millis())
        .bind(run.finished_at.map(|at| at.timestamp_millis()))
        .bind(run.range_start.timestamp_millis())
        .bind(run.range_end.timestamp_millis())
        .bind(run.chunks)
        .bind(run.pages)
        .bind(run.buckets)
        .bind(run.records)
        .bind(run.created)
        .bind(run.updated)
        .bind(run.unchanged)
        .bind(&run.error)
        .bind(run.duration_ms);
    write_returning_id(db, with_id(sql, run.id)).await
}

pub(crate) async fn recent_runs(
    db: &Backend,
    provider: Option<&str>,
    limit: i64,
) -> Result<Vec<CollectionRun>, StoreError> {
    let text = format!(
        "SELECT id, {} FROM collection_runs WHERE ($1 IS NULL OR provider = $1) \
         ORDER BY id DESC LIMIT $2",
        RUN_COLUMNS
    );
    let sql = Sql::new(&text).bind(provider).bind(limit);
    let rows: Vec<CollectionRunRow> = db.conn().await?.exec().fetch_all(sql).await?;
    rows.into_iter().map(CollectionRun::try_from).collect()
}

pub(crate) async fn watermark(
    db: &Backend,
    provider: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let sql =
        Sql::new("SELECT watermark_ms FROM provider_watermarks WHERE provider = $1").bind(provider);
    let ms: Option<(i64,)> = db.conn().await?.exec().fetch_optional(sql).await?;
    ms.map(|(ms,)| {
        DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| StoreError::Corrupt("provider_watermarks.watermark_ms".into()))
    })
    .transpose()
}

pub(crate) async fn advance_watermark(
    db: &Backend,
    provider: &str,
    to: DateTime<Utc>,
) -> Result<(), StoreError> {
    let _guard = db.write_guard().await;
    let sql = Sql::new(
        "INSERT INTO provider_watermarks (provider, watermark_ms, updated_at_ms) \
         VALUES ($1, $2, $3) ON CONFLICT (provider) DO UPDATE SET \
         watermark_ms = CASE WHEN excluded.watermark_ms > provider_watermarks.watermark_ms \
         THEN excluded.watermark_ms ELSE provider_watermarks.watermark_ms END, \
         updated_at_ms = excluded.updated_at_ms",
    )
    .bind(provider)
    .bind(to.timestamp_millis())
    .bind(Utc::now().timestamp_millis());
    db.conn().await?.exec().execute(sql).await?;
    Ok(())
}

const PUSH_COLUMNS: &str = "date, timezone, revision, payload_hash, status, \
    response_code, error, attempts, trigger, total_cost_cents, summary, attempted_at_ms, \
    duration_ms";

pub(crate) async fn save_cv_push(db: &Backend, push: &CvPush) -> Result<i64, StoreError> {
    let text = save_sql("cv_pushes", PUSH_COLUMNS, push.id);
    let sql = Sql::new(&text)
        .bind(push.date.format("%Y-%m-%d").to_string())
        .bind(&push.timezone)
        .bind(push.revision)
        .bind(&push.payload_hash)
        .bind(push.status.as_str())
        .bind(push.response_code)
        .bind(&push.error)
        .bind(push.attempts)
        .bind(push.trigger.as_str())
        .bind(push.total_cost_cents)
        .bind(&push.summary)
        .bind(push.attempted_at.timestamp_millis())
        .bind(push.duration_ms);
    write_returning_id(db, with_id(sql, push.id)).await
}

pub(crate) async fn cv_pushes(
    db: &Backend,
    query: &CvPushQuery,
    limit: i64,
) -> Result<Vec<CvPush>, StoreError> {
    let text = format!(
        "SELECT id, {} FROM cv_pushes WHERE ($1 IS NULL OR date = $1) \
         AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3",
        PUSH_COLUMNS
    );
    let date = query.date.map(|d| d.format("%Y-%m-%d").to_string());
    let sql = Sql::new(&text)
        .bind(date.as_deref())
        .bind(query.status.map(|s| s.as_str()))
        .bind(limit);
    let rows: Vec<CvPushRow> = db.conn().await?.exec().fetch_all(sql).await?;
    rows.into_iter().map(CvPush::try_from).collect()
}

const HANDOFF_COLUMNS: &str = "job, function_name, payload, requested_at_ms, request_id, error";

pub(crate) async fn save_handoff(db: &Backend, handoff: &HandoffRecord) -> Result<i64, StoreError> {
    let text = save_sql("handoffs", HANDOFF_COLUMNS, 0);
    let sql = Sql::new(&text)
        .bind(&handoff.job)
        .bind(&handoff.function)
        .bind(handoff.payload.to_string())
        .bind(handoff.requested_at.timestamp_millis())
        .bind(&handoff.request_id)
        .bind(&handoff.error);
    write_returning_id(db, sql).await
}

pub(crate) async fn recent_handoffs(
    db: &Backend,
    limit: i64,
) -> Result<Vec<HandoffRecord>, StoreError> {
    let text = format!("SELECT id, {HANDOFF_COLUMNS} FROM handoffs ORDER BY id DESC LIMIT $1");
    let rows: Vec<HandoffRow> = db
        .conn()
        .await?
        .exec()
        .fetch_all(Sql::new(&text).bind(limit))
        .await?;
    rows.into_iter().map(HandoffRecord::try_from).collect()
}

const IMPORT_RUN_COLUMNS: &str = "importer, root, trigger, status, started_at_ms, \
    finished_at_ms, files_scanned, lines_read, created, updated, unchanged, skipped, error, \
    duration_ms";

pub(crate) async fn save_import_run(db: &Backend, run: &ImportRun) -> Result<i64, StoreError> {
    let text = save_sql("import_runs", IMPORT_RUN_COLUMNS, run.id);
    let sql = Sql::new(&text)
        .bind(&run.importer)
        .bind(&run.root)
        .bind(run.trigger.as_str())
        .bind(run.status.as_str())
        .bind(run.started_at.timestamp_millis())
        .bind(run.finished_at.map(|at| at.timestamp_millis()))
        .bind(run.files_scanned)
        .bind(run.lines_read)
        .bind(run.created)
        .bind(run.updated)
        .bind(run.unchanged)
        .bind(run.skipped)
        .bind(&run.error)
        .bind(run.duration_ms);
    write_returning_id(db, with_id(sql, run.id)).await
}

/// The latest run of every (importer, root), newest first.
pub(crate) async fn latest_import_runs(db: &Backend) -> Result<Vec<ImportRun>, StoreError> {
    let text = format!(
        "SELECT id, {} FROM import_runs r WHERE id = (SELECT MAX(id) FROM import_runs l \
         WHERE l.importer = r.importer AND l.root = r.root) ORDER BY id DESC",
        IMPORT_RUN_COLUMNS
    );
    let rows: Vec<ImportRunRow> = db.conn().await?.exec().fetch_all(Sql::new(&text)).await?;
    rows.into_iter().map(ImportRun::try_from).collect()
}

pub(crate) async fn message_claims(
    db: &Backend,
    importer: &str,
    session_id: &str,
) -> Result<Vec<String>, StoreError> {
    let sql = Sql::new(
        "SELECT message_id FROM import_message_claims WHERE importer = $1 AND session_id = $2",
    )
    .bind(importer)
    .bind(session_id);
    let ids: Vec<(String,)> = db.conn().await?.exec().fetch_all(sql).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

pub(crate) async fn import_cursors(
    db: &Backend,
    importer: &str,
) -> Result<Vec<ImportCursor>, StoreError> {
    let sql = Sql::new(
        "SELECT importer, location, identity, size, position, state FROM import_cursors \
         WHERE importer = $1",
    )
    .bind(importer);
    db.conn().await?.exec().fetch_all(sql).await
}

pub(crate) async fn list_rules(db: &Backend) -> Result<Vec<ProjectRule>, StoreError> {
    let sql = Sql::new("SELECT id, pattern, project, priority FROM project_rules ORDER BY id");
    let rows: Vec<(i64, String, String, i32)> = db.conn().await?.exec().fetch_all(sql).await?;
    Ok(rows
        .into_iter()
        .map(|(id, pattern, project, priority)| ProjectRule {
            id,
            pattern,
            project,
            priority,
        })
        .collect())
}

pub(crate) async fn create_rule(
    db: &Backend,
    pattern: &str,
    project: &str,
    priority: i32,
) -> Result<ProjectRule, StoreError> {
    let sql = Sql::new(
        "INSERT INTO project_rules (pattern, project, priority, created_at_ms) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(pattern)
    .bind(project)
    .bind(priority)
    .bind(Utc::now().timestamp_millis());
    let id = write_returning_id(db, sql).await?;
    Ok(ProjectRule {
        id,
        pattern: pattern.into(),
        project: project.into(),
        priority,
    })
}

pub(crate) async fn update_rule(
    db: &Backend,
    rule: &ProjectRule,
) -> Result<ProjectRule, StoreError> {
    let sql = Sql::new(
        "UPDATE project_rules SET pattern = $1, project = $2, priority = $3 WHERE id = $4 \
         RETURNING id",
    )
    .bind(&rule.pattern)
    .bind(&rule.project)
    .bind(rule.priority)
    .bind(rule.id);
    write_returning_id(db, sql).await?;
    Ok(rule.clone())
}

pub(crate) async fn delete_rule(db: &Backend, id: i64) -> Result<bool, StoreError> {
    let _guard = db.write_guard().await;
    let sql = Sql::new("DELETE FROM project_rules WHERE id = $1").bind(id);
    Ok(db.conn().await?.exec().execute(sql).await? > 0)
}

/// What a run closed by [`close_stale_runs`] says.
pub(crate) const STALE_RUN_ERROR: &str =
    "the run stopped without finishing (its process ended); the next run continues from the watermark";

/// Closes the runs still `running` that started before `before`.
pub(crate) async fn close_stale_runs(
    db: &Backend,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, StoreError> {
    let _guard = db.write_guard().await;
    let mut closed = 0;
    let now_ms = chrono::Utc::now().timestamp_millis();
    for table in ["collection_runs", "import_runs"] {
        let text = format!(
            "UPDATE {table} SET status = 'failed', finished_at_ms = $1, error = $2 \
             WHERE status = 'running' AND started_at_ms < $3"
        );
        let sql = Sql::new(&text)
            .bind(now_ms)
            .bind(STALE_RUN_ERROR)
            .bind(before.timestamp_millis());
        closed += db.conn().await?.exec().execute(sql).await?;
    }
    Ok(closed)
}
