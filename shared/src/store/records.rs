//! The SQL both backends share, and the one implementation of [`super::Store`]
//! instantiated for each of them by [`impl_sql_store!`]. Placeholders are `$n`,
//! numbered in order of appearance, which Postgres and SQLite both bind by number.

use chrono::{DateTime, Utc};

use super::rollup::{Filters, Grouping};
use crate::domain::usage::UsageRecord;

pub(crate) const RECORD_COLUMNS: &str = "id, source, external_id, recorded_at_ms, bucket_seconds, \
    provider, model, model_key, input_tokens, output_tokens, cache_read_tokens, \
    cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, request_count, service_tier, \
    context_window, inference_geo, session_label, session_type, session_id, agent, project, project_source, \
    api_key_id, api_key_name, workspace_id, workspace_name, cost_pico, cost_source, \
    computed_cost_pico, price_ref, unpriced, raw";

pub(crate) const INSERT_RECORD: &str = "INSERT INTO usage_records (source, external_id, \
    recorded_at_ms, hour_start, bucket_seconds, provider, model, model_key, input_tokens, output_tokens, \
    cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, \
    request_count, service_tier, context_window, inference_geo, session_label, session_type, \
    session_id, agent, project, project_source, api_key_id, api_key_name, workspace_id, \
    workspace_name, cost_pico, cost_source, computed_cost_pico, price_ref, unpriced, raw, \
    created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
    $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, \
    $31, $32, $33, $34, $35, $35) ON CONFLICT (source, external_id) DO NOTHING RETURNING id";

/// Inserts or moves `rows` import cursors at once (migration 0006; each location at
/// most once per statement).
pub(crate) fn upsert_cursors_sql(rows: usize, params: Params) -> String {
    format!(
        "INSERT INTO import_cursors (importer, location, identity, size, position, state, \
         updated_at_ms) VALUES {} ON CONFLICT (importer, location) DO UPDATE SET \
         identity = excluded.identity, size = excluded.size, position = excluded.position, \
         state = excluded.state, updated_at_ms = excluded.updated_at_ms",
        values_list(rows, 7, params)
    )
}

/// Claims `rows` main-thread message ids in their sessions (migration 0006); the first
/// claim of a message stays.
pub(crate) fn insert_claims_sql(rows: usize, params: Params) -> String {
    format!(
        "INSERT INTO import_message_claims (importer, session_id, message_id, external_id) \
         VALUES {} ON CONFLICT (importer, session_id, message_id) DO NOTHING",
        values_list(rows, 4, params)
    )
}

/// What decides which of two versions of one imported call is kept: every token.
pub(crate) fn import_weight(record: &UsageRecord) -> i64 {
    let t = &record.tokens;
    t.input + t.output + t.cache_read + t.cache_write_5m + t.cache_write_1h
}

/// How a backend's multi-row statements name their parameters. Postgres numbers
/// them (`$n`); SQLite binds anonymous `?` in order, because looking up a numbered
/// parameter costs time linear in the statement's parameter count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Params {
    Numbered,
    Anonymous,
}

/// Placeholders for `rows` rows of `width` binds each, in bind order.
fn values_list(rows: usize, width: usize, params: Params) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(rows * width * 6);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 1..=width {
            if column > 1 {
                sql.push_str(", ");
            }
            match params {
                Params::Numbered => {
                    let _ = write!(sql, "${}", row * width + column);
                }
                Params::Anonymous => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

/// Inserts `rows` records at once; conflicting keys are skipped and reported by absence.
/// Each row binds [`bind_record!`]'s 34 values and the time of the write twice
/// (`created_at_ms`, `updated_at_ms`).
pub(crate) fn insert_records_sql(rows: usize, params: Params) -> String {
    let head = &INSERT_RECORD[..INSERT_RECORD
        .find(" VALUES")
        .expect("INSERT_RECORD has VALUES")];
    format!(
        "{head} VALUES {} ON CONFLICT (source, external_id) DO NOTHING RETURNING id, source, external_id",
        values_list(rows, 36, params)
    )
}

/// Postgres only: stores new records and appends each one's rollup delta to
/// `rollup_pending`, in one statement (so one round trip, no explicit transaction),
/// and only when none of the keys exists yet. The records come as one array per
/// column (`$1`–`$34`, [`INSERT_RECORD`] order; `$35` is the time of the write), so
/// the text is the same whatever the batch size and is parsed once per connection.
/// Returns `id, source, external_id` of every record stored: all of them, or none
/// when a key already exists (the caller then takes the general path, which compares
/// contents). A key inserted meanwhile by someone else fails the statement with a
/// unique violation, so it never stores part of the batch.
pub(crate) const INSERT_NEW_DEFERRED: &str = "WITH v AS (SELECT * FROM UNNEST($1::text[], \
    $2::text[], $3::int8[], $4::int8[], $5::int4[], $6::text[], $7::text[], $8::text[], \
    $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int8[], $15::int8[], \
    $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], \
    $23::text[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::int8[], \
    $30::text[], $31::int8[], $32::text[], $33::bool[], $34::text[]) AS t (source, external_id, \
    recorded_at_ms, hour_start, bucket_seconds, provider, model, model_key, input_tokens, \
    output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, \
    web_search_requests, request_count, service_tier, context_window, inference_geo, \
    session_label, session_type, session_id, agent, project, project_source, api_key_id, \
    api_key_name, workspace_id, workspace_name, cost_pico, cost_source, computed_cost_pico, \
    price_ref, unpriced, raw)), \
  ins AS (INSERT INTO usage_records (source, external_id, recorded_at_ms, hour_start, \
    bucket_seconds, provider, model, model_key, input_tokens, output_tokens, cache_read_tokens, \
    cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, request_count, \
    service_tier, context_window, inference_geo, session_label, session_type, session_id, agent, \
    project, project_source, api_key_id, api_key_name, workspace_id, workspace_name, cost_pico, \
    cost_source, computed_cost_pico, price_ref, unpriced, raw, created_at_ms, updated_at_ms) \
    SELECT v.*, $35::int8, $35::int8 FROM v WHERE NOT EXISTS (SELECT 1 FROM usage_records u \
      JOIN v ON u.source = v.source AND u.external_id = v.external_id) \
    RETURNING id, source, external_id, hour_start, provider, model_key, project, agent, \
    session_type, request_count, unpriced, input_tokens, output_tokens, cache_read_tokens, \
    cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, cost_pico), \
  pend AS (INSERT INTO rollup_pending (hour_start, provider, model, project, agent, \
    session_type, source, records, requests, unpriced_requests, input_tokens, output_tokens, \
    cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, \
    cost_pico) SELECT hour_start, provider, model_key, project, COALESCE(agent, ''), \
    session_type, source, 1, request_count, \
    CASE WHEN unpriced THEN GREATEST(request_count, 1) ELSE 0 END, input_tokens, \
    output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, \
    web_search_requests, cost_pico FROM ins) \
  SELECT id, source, external_id FROM ins";

/// Postgres: the stored records of one source (`$1`) with the external ids in the
/// array `$2`. A join with the array, not `IN (…)`: with statistics not yet updated
/// after a bulk import, Postgres scanned every record of the source for the list.
pub(crate) static SELECT_BY_KEY_ARRAY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| {
        // The array's one column is `key`, so the record's column names stay unambiguous.
        format!(
            "SELECT {RECORD_COLUMNS} FROM UNNEST($2::text[]) AS k (key) \
         JOIN usage_records u ON u.source = $1 AND u.external_id = k.key"
        )
    });

/// SQLite: the stored records of one source with these external ids.
pub(crate) fn select_by_keys_sql(keys: usize) -> String {
    let list: Vec<String> = (0..keys).map(|i| format!("${}", i + 2)).collect();
    format!(
        "SELECT {RECORD_COLUMNS} FROM usage_records WHERE source = $1 AND external_id IN ({})",
        list.join(", ")
    )
}

/// Adds `rows` rollup deltas at once (each key at most once per statement).
pub(crate) fn upsert_rollups_sql(rows: usize) -> String {
    let values_at = UPSERT_ROLLUP
        .find(" VALUES")
        .expect("UPSERT_ROLLUP has VALUES");
    let conflict_at = UPSERT_ROLLUP
        .find(" ON CONFLICT")
        .expect("UPSERT_ROLLUP has ON CONFLICT");
    format!(
        "{} VALUES {}{}",
        &UPSERT_ROLLUP[..values_at],
        values_list(rows, 17, Params::Numbered),
        &UPSERT_ROLLUP[conflict_at..]
    )
}

pub(crate) const UPDATE_RECORD: &str = "UPDATE usage_records SET source = $1, external_id = $2, \
    recorded_at_ms = $3, hour_start = $4, bucket_seconds = $5, provider = $6, model = $7, model_key = $8, \
    input_tokens = $9, output_tokens = $10, cache_read_tokens = $11, cache_write_5m_tokens = $12, \
    cache_write_1h_tokens = $13, web_search_requests = $14, request_count = $15, \
    service_tier = $16, context_window = $17, inference_geo = $18, session_label = $19, \
    session_type = $20, session_id = $21, agent = $22, project = $23, project_source = $24, \
    api_key_id = $25, api_key_name = $26, workspace_id = $27, workspace_name = $28, \
    cost_pico = $29, cost_source = $30, computed_cost_pico = $31, price_ref = $32, \
    unpriced = $33, raw = $34, updated_at_ms = $35 WHERE id = $36";

pub(crate) const UPSERT_ROLLUP: &str = "INSERT INTO usage_rollups (hour_start, provider, model, \
    project, agent, session_type, source, records, requests, unpriced_requests, input_tokens, \
    output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, \
    web_search_requests, cost_pico) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
    $13, $14, $15, $16, $17) ON CONFLICT (hour_start, provider, model, project, agent, \
    session_type, source) DO UPDATE SET records = usage_rollups.records + excluded.records, \
    requests = usage_rollups.requests + excluded.requests, \
    unpriced_requests = usage_rollups.unpriced_requests + excluded.unpriced_requests, \
    input_tokens = usage_rollups.input_tokens + excluded.input_tokens, \
    output_tokens = usage_rollups.output_tokens + excluded.output_tokens, \
    cache_read_tokens = usage_rollups.cache_read_tokens + excluded.cache_read_tokens, \
    cache_write_5m_tokens = usage_rollups.cache_write_5m_tokens + excluded.cache_write_5m_tokens, \
    cache_write_1h_tokens = usage_rollups.cache_write_1h_tokens + excluded.cache_write_1h_tokens, \
    web_search_requests = usage_rollups.web_search_requests + excluded.web_search_requests, \
    cost_pico = usage_rollups.cost_pico + excluded.cost_pico";

/// Adds one-dimension rollup deltas (see migration 0004), `rows` at once.
pub(crate) fn upsert_dims_sql(rows: usize) -> String {
    let conflict_at = UPSERT_ROLLUP
        .find(" DO UPDATE")
        .expect("UPSERT_ROLLUP has DO UPDATE");
    format!(
        "INSERT INTO usage_rollup_dims (dim, grain, bucket_start, value, records, requests, \
         unpriced_requests, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, \
         cache_write_1h_tokens, web_search_requests, cost_pico) VALUES {} \
         ON CONFLICT (dim, grain, bucket_start, value){}",
        values_list(rows, 14, Params::Numbered),
        UPSERT_ROLLUP[conflict_at..].replace("usage_rollups.", "usage_rollup_dims.")
    )
}

pub(crate) const DELETE_EMPTY_DIMS: &str = "DELETE FROM usage_rollup_dims WHERE records = 0";

/// A report over the one-dimension rollups (no filters) for `[start, end)` (whole
/// hours, epoch seconds): the SQL (binding `$1` = the dim, then the returned
/// bounds) with rows shaped as [`rollup_query`] gives them for `grouping`.
pub(crate) fn dims_query(grouping: Grouping, start: i64, end: i64) -> (String, Vec<i64>) {
    let by_hour = matches!(grouping, Grouping::Hour | Grouping::HourBy(_));
    let columns = match grouping {
        Grouping::Total => "",
        Grouping::By(_) => "value, ",
        Grouping::Hour => "bucket_start, ",
        Grouping::HourBy(_) => "bucket_start, value, ",
    };
    let first_day = start + (86_400 - start.rem_euclid(86_400)) % 86_400;
    let last_day = end - end.rem_euclid(86_400);
    let (range, bounds) = if by_hour || first_day >= last_day {
        (
            "dim = $1 AND grain = 'h' AND bucket_start >= $2 AND bucket_start < $3",
            vec![start, end],
        )
    } else {
        // Whole UTC days from day rows, the partial days at either end from hour rows.
        // Three flat OR terms, each a full key prefix and range, so SQLite reads three
        // index ranges (a nested OR made it read every row of the dimension: 9.6 ms
        // instead of 2.2 ms for a 90-day by-model report over 10 M events).
        (
            "(dim = $1 AND grain = 'd' AND bucket_start >= $2 AND bucket_start < $3) \
             OR (dim = $1 AND grain = 'h' AND bucket_start >= $4 AND bucket_start < $5) \
             OR (dim = $1 AND grain = 'h' AND bucket_start >= $6 AND bucket_start < $7)",
            vec![first_day, last_day, start, first_day, last_day, end],
        )
    };
    let group_by = columns.trim_end_matches(", ");
    let mut sql =
        format!("SELECT {columns}{ROLLUP_SUMS} FROM usage_rollup_dims_live WHERE {range}");
    if !group_by.is_empty() {
        sql.push_str(" GROUP BY ");
        sql.push_str(group_by);
    }
    (sql, bounds)
}

/// Appends `rows` rollup deltas to `rollup_pending` (migration 0005), same binds as
/// [`upsert_rollups_sql`].
pub(crate) fn insert_pending_sql(rows: usize) -> String {
    format!(
        "INSERT INTO rollup_pending (hour_start, provider, model, project, agent, session_type, \
         source, records, requests, unpriced_requests, input_tokens, output_tokens, \
         cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, \
         cost_pico) VALUES {}",
        values_list(rows, 17, Params::Numbered)
    )
}

/// Takes every committed pending delta (the fold deletes what it applies, in one transaction).
pub(crate) const TAKE_PENDING: &str = "DELETE FROM rollup_pending RETURNING hour_start, provider, \
    model, project, agent, session_type, source, records, requests, unpriced_requests, \
    input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, \
    web_search_requests, cost_pico";

pub(crate) const DELETE_EMPTY_ROLLUPS: &str = "DELETE FROM usage_rollups WHERE records = 0";

/// `SUM` expressions, in [`super::Totals`] field order, over rollup rows.
pub(crate) const ROLLUP_SUMS: &str = "CAST(COALESCE(SUM(records), 0) AS BIGINT), \
    CAST(COALESCE(SUM(requests), 0) AS BIGINT), CAST(COALESCE(SUM(unpriced_requests), 0) AS BIGINT), \
    CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), \
    CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT), \
    CAST(COALESCE(SUM(cache_write_5m_tokens), 0) AS BIGINT), \
    CAST(COALESCE(SUM(cache_write_1h_tokens), 0) AS BIGINT), \
    CAST(COALESCE(SUM(web_search_requests), 0) AS BIGINT), CAST(COALESCE(SUM(cost_pico), 0) AS BIGINT)";

/// The same sums computed from raw records (the rollup contribution of a set of records).
pub(crate) const RECORD_SUMS: &str = "CAST(COUNT(*) AS BIGINT), \
    CAST(COALESCE(SUM(request_count), 0) AS BIGINT), \
    CAST(COALESCE(SUM(CASE WHEN NOT unpriced THEN 0 WHEN request_count > 0 THEN request_count ELSE 1 END), 0) AS BIGINT), \
    CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), \
    CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT), \
    CAST(COALESCE(SUM(cache_write_5m_tokens), 0) AS BIGINT), \
    CAST(COALESCE(SUM(cache_write_1h_tokens), 0) AS BIGINT), \
    CAST(COALESCE(SUM(web_search_requests), 0) AS BIGINT), CAST(COALESCE(SUM(cost_pico), 0) AS BIGINT)";

/// Rollup contribution of the rule-attributed records of one subject, per rollup key
/// (project excluded: it is the column being changed). Binds label, key name, workspace, project.
pub(crate) const SUBJECT_CONTRIBUTION: &str = "SELECT hour_start, provider, model_key, \
    COALESCE(agent, ''), session_type, source, {SUMS} FROM usage_records WHERE {SUBJECT} \
    GROUP BY hour_start, provider, model_key, COALESCE(agent, ''), session_type, source";

pub(crate) const SUBJECT_PREDICATE: &str = "project_source = 'mapping' \
    AND COALESCE(session_label, '') = $1 AND COALESCE(api_key_name, '') = $2 \
    AND COALESCE(workspace_name, '') = $3 AND project = $4";

/// A report query over rollups: `[start, end)` is bound as `$1`, `$2`, filters follow.
pub(crate) fn rollup_query(grouping: Grouping, filters: &Filters) -> (String, Vec<String>) {
    let columns = grouping.columns();
    let mut sql = String::from("SELECT ");
    for column in &columns {
        sql.push_str(column);
        sql.push_str(", ");
    }
    sql.push_str(ROLLUP_SUMS);
    sql.push_str(" FROM usage_rollups_live WHERE hour_start >= $1 AND hour_start < $2");
    let mut binds = Vec::new();
    for (dim, value) in filters.pairs() {
        binds.push(value.to_string());
        sql.push_str(&format!(" AND {} = ${}", dim.column(), binds.len() + 2));
    }
    if !columns.is_empty() {
        sql.push_str(" GROUP BY ");
        sql.push_str(&columns.join(", "));
    }
    (sql, binds)
}

/// The raw-record listing: `WHERE` clause and binds (after any fixed ones).
pub(crate) fn usage_where(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    filters: &Filters,
) -> (String, Vec<BindValue>) {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut binds = Vec::new();
    if let Some(start) = start {
        binds.push(BindValue::Int(start.timestamp_millis()));
        clauses.push(format!("recorded_at_ms >= ${}", binds.len()));
    }
    if let Some(end) = end {
        binds.push(BindValue::Int(end.timestamp_millis()));
        clauses.push(format!("recorded_at_ms < ${}", binds.len()));
    }
    for (dim, value) in filters.pairs() {
        binds.push(BindValue::Text(value.to_string()));
        let column = match dim.column() {
            "agent" => "COALESCE(agent, '')",
            "model" => "model_key",
            other => other,
        };
        clauses.push(format!("{column} = ${}", binds.len()));
    }
    (clauses.join(" AND "), binds)
}

/// A dynamically bound value.
#[derive(Debug, Clone)]
pub(crate) enum BindValue {
    Int(i64),
    Text(String),
}

/// Two records describe the same usage (ignoring the store id).
pub(crate) fn same_content(stored: &UsageRecord, incoming: &UsageRecord) -> bool {
    let mut probe = incoming.clone();
    probe.id = stored.id;
    probe == *stored
}

/// Binds every column of a record in [`INSERT_RECORD`]/[`UPDATE_RECORD`] order ($1–$34).
macro_rules! bind_record {
    ($query:expr, $r:expr) => {{
        let r: &$crate::domain::usage::UsageRecord = $r;
        $query
            .bind(r.source.as_str())
            .bind(r.external_id.as_str())
            .bind(r.recorded_at.timestamp_millis())
            .bind($crate::store::rollup::hour_start(r.recorded_at))
            .bind(r.bucket_seconds)
            .bind(r.provider.as_str())
            .bind(r.model.as_str())
            .bind(r.model_key.as_str())
            .bind(r.tokens.input)
            .bind(r.tokens.output)
            .bind(r.tokens.cache_read)
            .bind(r.tokens.cache_write_5m)
            .bind(r.tokens.cache_write_1h)
            .bind(r.tokens.web_search_requests)
            .bind(r.tokens.requests)
            .bind(r.service_tier.as_deref())
            .bind(r.context_window.as_deref())
            .bind(r.inference_geo.as_deref())
            .bind(r.session_label.as_deref())
            .bind(r.session_type.as_str())
            .bind(r.session_id.as_deref())
            .bind(r.agent.as_deref())
            .bind(r.project.as_str())
            .bind(r.project_source.as_str())
            .bind(r.api_key_id.as_deref())
            .bind(r.api_key_name.as_deref())
            .bind(r.workspace_id.as_deref())
            .bind(r.workspace_name.as_deref())
            .bind(r.cost.0)
            .bind(r.cost_source.as_str())
            .bind(r.computed_cost.map(|c| c.0))
            .bind(r.price_ref.as_deref())
            .bind(r.unpriced)
            .bind(r.raw.to_string())
    }};
}
pub(crate) use bind_record;

/// Binds the sums of a rollup row, in [`super::Totals`] field order.
macro_rules! bind_totals {
    ($query:expr, $t:expr) => {{
        let t: &$crate::store::Totals = $t;
        $query
            .bind(t.records)
            .bind(t.requests)
            .bind(t.unpriced_requests)
            .bind(t.input_tokens)
            .bind(t.output_tokens)
            .bind(t.cache_read_tokens)
            .bind(t.cache_write_5m_tokens)
            .bind(t.cache_write_1h_tokens)
            .bind(t.web_search_requests)
            .bind(t.cost.0)
    }};
}
pub(crate) use bind_totals;
