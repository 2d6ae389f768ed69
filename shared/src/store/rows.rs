//! Rows as the database returns them (`#[derive(sqlx::FromRow)]`, read by column
//! name on both backends) and their conversion into the domain's types, which is
//! where stored text and epoch milliseconds are checked.

use chrono::{DateTime, NaiveDate, Utc};

use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use super::rollup::{RollupKey, Totals};
use super::schema::{join, SUM_BINDS};
use super::{CollectionRun, CvPush, CvPushStatus, ImportRun, RunStatus, StoreError, Trigger};
use crate::domain::money::Pico;
use crate::domain::usage::{
    CostSource, ProjectSource, SessionType, Source, TokenCounts, UsageFacts, UsageRecord,
};

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(super) fn at_ms(ms: i64, what: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(what))
}

/// A stored usage record ([`super::schema::RECORD_SELECT`]).
#[derive(sqlx::FromRow)]
pub(crate) struct RecordRow {
    id: i64,
    source: String,
    external_id: String,
    recorded_at_ms: i64,
    bucket_seconds: i32,
    provider: String,
    model: String,
    model_key: String,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_5m_tokens: i64,
    cache_write_1h_tokens: i64,
    web_search_requests: i64,
    request_count: i64,
    service_tier: Option<String>,
    context_window: Option<String>,
    inference_geo: Option<String>,
    session_label: Option<String>,
    session_type: String,
    session_id: Option<String>,
    agent: Option<String>,
    project: String,
    project_source: String,
    api_key_id: Option<String>,
    api_key_name: Option<String>,
    workspace_id: Option<String>,
    workspace_name: Option<String>,
    cost_pico: i64,
    cost_source: String,
    computed_cost_pico: Option<i64>,
    price_ref: Option<String>,
    unpriced: bool,
    raw: String,
}

impl TryFrom<RecordRow> for UsageRecord {
    type Error = StoreError;

    fn try_from(row: RecordRow) -> Result<Self, StoreError> {
        Ok(UsageRecord {
            facts: UsageFacts {
                source: Source::parse(&row.source).ok_or_else(|| corrupt("source"))?,
                external_id: row.external_id,
                recorded_at: at_ms(row.recorded_at_ms, "recorded_at_ms")?,
                bucket_seconds: row.bucket_seconds,
                model: row.model,
                tokens: TokenCounts {
                    input: row.input_tokens,
                    output: row.output_tokens,
                    cache_read: row.cache_read_tokens,
                    cache_write_5m: row.cache_write_5m_tokens,
                    cache_write_1h: row.cache_write_1h_tokens,
                    web_search_requests: row.web_search_requests,
                    requests: row.request_count,
                },
                service_tier: row.service_tier,
                context_window: row.context_window,
                inference_geo: row.inference_geo,
                session_label: row.session_label,
                session_id: row.session_id,
                api_key_id: row.api_key_id,
                api_key_name: row.api_key_name,
                workspace_id: row.workspace_id,
                workspace_name: row.workspace_name,
                raw: serde_json::from_str(&row.raw).map_err(|_| corrupt("raw"))?,
            },
            id: row.id,
            provider: row.provider,
            model_key: row.model_key,
            session_type: SessionType::parse(&row.session_type)
                .ok_or_else(|| corrupt("session_type"))?,
            agent: row.agent,
            project: row.project,
            project_source: ProjectSource::parse(&row.project_source)
                .ok_or_else(|| corrupt("project_source"))?,
            cost: Pico(row.cost_pico.into()),
            cost_source: CostSource::parse(&row.cost_source)
                .ok_or_else(|| corrupt("cost_source"))?,
            computed_cost: row.computed_cost_pico.map(|c| Pico(c.into())),
            price_ref: row.price_ref,
            unpriced: row.unpriced,
        })
    }
}

/// Converts rows of records.
pub(crate) fn records(rows: Vec<RecordRow>) -> Result<Vec<UsageRecord>, StoreError> {
    rows.into_iter().map(UsageRecord::try_from).collect()
}

/// The sums of a rollup row or report group, limb by limb, in
/// [`super::schema::SUM_COLUMNS`] order.
pub(crate) struct SumsRow([i64; SUM_BINDS]);

impl From<SumsRow> for Totals {
    fn from(SumsRow(sums): SumsRow) -> Totals {
        let wide = std::array::from_fn(|i| join(sums[1 + 2 * i], sums[2 + 2 * i]));
        Totals::from_wide(sums[0], wide)
    }
}

/// Rows with sums are read by position, not by name: a report reads thousands of
/// them, and looking up each of their 20-odd columns by name took a third of the
/// time of a 90-day `/costs/range`. The layouts are fixed by the statements in
/// [`super::schema`] and [`super::read`].
fn sums_at<'r, R>(row: &'r R, first: usize) -> Result<SumsRow, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut sums = [0; SUM_BINDS];
    for (i, sum) in sums.iter_mut().enumerate() {
        *sum = row.try_get(first + i)?;
    }
    Ok(SumsRow(sums))
}

impl<'r, R> FromRow<'r, R> for SumsRow
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    /// The sums alone ([`super::schema::RECORD_SUMS`]).
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        sums_at(row, 0)
    }
}

/// A full-key rollup row (or delta): the [`super::schema::ROLLUP_KEY`] columns, then the sums.
pub(crate) struct RollupRow {
    hour_start: i64,
    text: [String; 6],
    sums: SumsRow,
}

impl<'r, R> FromRow<'r, R> for RollupRow
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let mut text: [String; 6] = Default::default();
        for (i, value) in text.iter_mut().enumerate() {
            *value = row.try_get(1 + i)?;
        }
        Ok(RollupRow {
            hour_start: row.try_get(0)?,
            text,
            sums: sums_at(row, 7)?,
        })
    }
}

impl TryFrom<RollupRow> for (RollupKey, Totals) {
    type Error = StoreError;

    fn try_from(row: RollupRow) -> Result<Self, StoreError> {
        let [provider, model, project, agent, session_type, source] = row.text;
        let key = RollupKey {
            hour_start: row.hour_start,
            provider,
            model,
            project,
            agent,
            session_type: SessionType::parse(&session_type)
                .ok_or_else(|| corrupt("rollup session_type"))?,
            source: Source::parse(&source).ok_or_else(|| corrupt("rollup source"))?,
        };
        Ok((key, row.sums.into()))
    }
}

/// A one-dimension rollup row as the reconciliation reads it: `dim`, `bucket_start`,
/// `value`, then the sums.
pub(crate) struct DimRow {
    pub dim: String,
    pub bucket_start: i64,
    pub value: String,
    pub sums: SumsRow,
}

impl<'r, R> FromRow<'r, R> for DimRow
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(DimRow {
            dim: row.try_get(0)?,
            bucket_start: row.try_get(1)?,
            value: row.try_get(2)?,
            sums: sums_at(row, 3)?,
        })
    }
}

/// A report group: `hour` and `value` (each NULL when the report is not grouped by
/// it), then the sums.
pub(crate) struct GroupRow {
    pub hour: Option<i64>,
    pub value: Option<String>,
    pub sums: SumsRow,
}

impl<'r, R> FromRow<'r, R> for GroupRow
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(GroupRow {
            hour: row.try_get(0)?,
            value: row.try_get(1)?,
            sums: sums_at(row, 2)?,
        })
    }
}

/// When and how a logged run stands, as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct RunState {
    status: String,
    started_at_ms: i64,
    finished_at_ms: Option<i64>,
}

/// A run's status, start and end.
type Times = (RunStatus, DateTime<Utc>, Option<DateTime<Utc>>);

impl RunState {
    /// Status, start and end, checked.
    fn parse(self, table: &str) -> Result<Times, StoreError> {
        let at = |ms: i64, what: &str| at_ms(ms, &format!("{table}.{what}"));
        let status =
            RunStatus::parse(&self.status).ok_or_else(|| corrupt(&format!("{table}.status")))?;
        let started_at = at(self.started_at_ms, "started_at_ms")?;
        let finished_at = self
            .finished_at_ms
            .map(|ms| at(ms, "finished_at_ms"))
            .transpose()?;
        Ok((status, started_at, finished_at))
    }
}

/// A logged collection run: its plain columns read into the run itself.
#[derive(sqlx::FromRow)]
pub(crate) struct CollectionRunRow {
    #[sqlx(flatten)]
    run: CollectionRun,
    #[sqlx(flatten)]
    state: RunState,
    range_start_ms: i64,
    range_end_ms: i64,
}

impl TryFrom<CollectionRunRow> for CollectionRun {
    type Error = StoreError;

    fn try_from(row: CollectionRunRow) -> Result<Self, StoreError> {
        let mut run = row.run;
        (run.status, run.started_at, run.finished_at) = row.state.parse("collection_runs")?;
        run.range_start = at_ms(row.range_start_ms, "collection_runs.range_start_ms")?;
        run.range_end = at_ms(row.range_end_ms, "collection_runs.range_end_ms")?;
        Ok(run)
    }
}

/// A logged import run: its plain columns read into the run itself.
#[derive(sqlx::FromRow)]
pub(crate) struct ImportRunRow {
    #[sqlx(flatten)]
    run: ImportRun,
    #[sqlx(flatten)]
    state: RunState,
}

impl TryFrom<ImportRunRow> for ImportRun {
    type Error = StoreError;

    fn try_from(row: ImportRunRow) -> Result<Self, StoreError> {
        let mut run = row.run;
        (run.status, run.started_at, run.finished_at) = row.state.parse("import_runs")?;
        Ok(run)
    }
}

/// A logged Context Vault push.
#[derive(sqlx::FromRow)]
pub(crate) struct CvPushRow {
    id: i64,
    date: String,
    timezone: String,
    revision: i64,
    payload_hash: String,
    status: String,
    response_code: Option<i64>,
    error: Option<String>,
    attempts: i64,
    trigger: String,
    total_cost_cents: i64,
    summary: String,
    attempted_at_ms: i64,
    duration_ms: Option<i64>,
}

impl TryFrom<CvPushRow> for CvPush {
    type Error = StoreError;

    fn try_from(row: CvPushRow) -> Result<Self, StoreError> {
        Ok(CvPush {
            id: row.id,
            date: NaiveDate::parse_from_str(&row.date, "%Y-%m-%d")
                .map_err(|_| corrupt("cv_pushes.date"))?,
            timezone: row.timezone,
            revision: row.revision,
            payload_hash: row.payload_hash,
            status: CvPushStatus::parse(&row.status).ok_or_else(|| corrupt("cv_pushes.status"))?,
            response_code: row.response_code,
            error: row.error,
            attempts: row.attempts,
            trigger: Trigger::try_from(row.trigger).map_err(|_| corrupt("cv_pushes.trigger"))?,
            total_cost_cents: row.total_cost_cents,
            summary: row.summary,
            attempted_at: at_ms(row.attempted_at_ms, "cv_pushes.attempted_at_ms")?,
            duration_ms: row.duration_ms,
        })
    }
}

/// A logged handoff.
#[derive(sqlx::FromRow)]
pub(crate) struct HandoffRow {
    id: i64,
    job: String,
    function_name: String,
    payload: String,
    requested_at_ms: i64,
    request_id: Option<String>,
    error: Option<String>,
}

impl TryFrom<HandoffRow> for super::HandoffRecord {
    type Error = StoreError;

    fn try_from(row: HandoffRow) -> Result<Self, StoreError> {
        Ok(super::HandoffRecord {
            id: row.id,
            job: row.job,
            function: row.function_name,
            payload: serde_json::from_str(&row.payload).map_err(|_| corrupt("handoffs.payload"))?,
            requested_at: at_ms(row.requested_at_ms, "handoffs.requested_at_ms")?,
            status: if row.error.is_none() {
                "started"
            } else {
                "failed"
            },
            request_id: row.request_id,
            error: row.error,
        })
    }
}
