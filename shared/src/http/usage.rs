//! `/api/usage`: push events, list records, summarise.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::csv;
use super::openapi::ErrorBody;
use super::query::{
    self, BasisQuery, FilterQuery, Format, FormatQuery, Records, Report, UsageListQuery,
    UsageSummaryQuery,
};
use super::{ApiError, AppState};
use crate::domain::money::Pico;
use crate::domain::usage::UsageRecord;
use crate::ingest::parse_events;
use crate::reports::{self, RangeReport, Scope};
use crate::store::{UsageQuery, WriteMode, WriteStatus};

/// A stored record as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub id: i64,
    pub event_id: String,
    pub source: &'static str,
    pub recorded_at: DateTime<Utc>,
    pub provider: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_5m_tokens: i64,
    pub cache_write_1h_tokens: i64,
    pub web_search_requests: i64,
    pub requests: i64,
    pub service_tier: Option<String>,
    pub context_window: Option<String>,
    pub inference_geo: Option<String>,
    pub session_label: Option<String>,
    pub session_type: &'static str,
    pub session_id: Option<String>,
    pub agent: Option<String>,
    pub project: String,
    pub project_source: &'static str,
    pub api_key_name: Option<String>,
    pub workspace_name: Option<String>,
    /// Exact, up to 12 decimals.
    #[schema(value_type = f64)]
    pub cost_usd: Pico,
    /// `computed`, `reported`, or `estimated` (an imported agent's own estimate,
    /// used because the catalog has no price for the model).
    pub cost_source: &'static str,
    #[schema(value_type = Option<f64>)]
    pub computed_cost_usd: Option<Pico>,
    pub price_ref: Option<String>,
    pub unpriced: bool,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// `POST /api/usage`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// Records stored by this request.
    pub created: usize,
    /// Imported calls seen again with more tokens: their records were updated.
    pub updated: usize,
    /// Events already stored with the same content (imported calls: with no fewer tokens).
    pub unchanged: usize,
    pub records: Vec<RecordView>,
}

/// `GET /api/usage`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageList {
    pub start: String,
    pub end: String,
    pub timezone: String,
    pub records: Vec<RecordView>,
    pub pagination: Pagination,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    pub has_more: bool,
}

impl From<UsageRecord> for RecordView {
    fn from(r: UsageRecord) -> RecordView {
        RecordView {
            id: r.id,
            metadata: r.facts.raw.get("metadata").cloned(),
            event_id: r.facts.external_id,
            source: r.facts.source.as_str(),
            recorded_at: r.facts.recorded_at,
            provider: r.provider,
            model: r.facts.model,
            input_tokens: r.facts.tokens.input,
            output_tokens: r.facts.tokens.output,
            cache_read_tokens: r.facts.tokens.cache_read,
            cache_write_5m_tokens: r.facts.tokens.cache_write_5m,
            cache_write_1h_tokens: r.facts.tokens.cache_write_1h,
            web_search_requests: r.facts.tokens.web_search_requests,
            requests: r.facts.tokens.requests,
            service_tier: r.facts.service_tier,
            context_window: r.facts.context_window,
            inference_geo: r.facts.inference_geo,
            session_label: r.facts.session_label,
            session_type: r.session_type.as_str(),
            session_id: r.facts.session_id,
            agent: r.agent,
            project: r.project,
            project_source: r.project_source.as_str(),
            api_key_name: r.facts.api_key_name,
            workspace_name: r.facts.workspace_name,
            cost_usd: r.cost,
            cost_source: r.cost_source.as_str(),
            computed_cost_usd: r.computed_cost,
            price_ref: r.price_ref,
            unpriced: r.unpriced,
        }
    }
}

/// `POST /api/usage`: 201 when anything was stored, 200 when every event was already stored.
#[utoipa::path(
    post,
    operation_id = "push_usage",
    path = "/api/usage",
    tag = "usage",
    request_body(content = super::schemas::UsageBody, description = "One event, or an array of 1 to 5,000 (all or nothing): `model` required; tokens, attribution, `recorded_at`, `cost`, `estimated_cost`, `event_id`, `metadata`, `source`."),
    responses(
        (status = 201, description = "Stored (with computed cost, project and session type)", body = Created),
        (status = 200, description = "Every event was already stored with the same content", body = Created),
        (status = 409, description = "An `event_id` was stored with different content; nothing was stored", body = ErrorBody),
        (status = 413, description = "The body is over MAX_BODY_BYTES", body = ErrorBody),
        (status = 422, description = "Invalid events, each bad index and field listed; nothing was stored", body = ErrorBody)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let value: Value = serde_json::from_slice(&body).map_err(|err| ApiError::BadRequest {
        message: format!("the body is not valid JSON: {err}"),
        details: vec![json!({"field": "body", "message": err.to_string()})],
    })?;
    let events = parse_events(&value, Utc::now()).map_err(ApiError::invalid_fields)?;
    let outcomes = state.ledger.ingest(events, WriteMode::InsertOnly).await?;
    let created = outcomes
        .iter()
        .filter(|o| o.status == WriteStatus::Created)
        .count();
    let status = if created > 0 || outcomes.iter().any(|o| o.status == WriteStatus::Updated) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let updated = outcomes
        .iter()
        .filter(|o| o.status == WriteStatus::Updated)
        .count();
    let records: Vec<RecordView> = outcomes.into_iter().map(|o| o.record.into()).collect();
    let unchanged = records.len() - created - updated;
    Ok((
        status,
        Json(Created {
            created,
            updated,
            unchanged,
            records,
        }),
    ))
}

/// `GET /api/usage`: raw records, newest first; with `format=csv` every matching record,
/// streamed.
#[utoipa::path(
    get,
    operation_id = "list_usage",
    path = "/api/usage",
    tag = "usage",
    params(UsageListQuery, FormatQuery, FilterQuery),
    responses(
        (status = 200, description = "A page of records, newest first; with format=csv every matching record, streamed", content(
            (UsageList = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Records(q, format, filters): Records<UsageListQuery>,
) -> Result<Response, ApiError> {
    let tz = query::tz(&q.tz, &state)?;
    let range = query::range(
        ("start_date", &q.start_date),
        ("end_date", &q.end_date),
        tz,
        30,
    )?;
    let mut query = UsageQuery {
        start: Some(range.start),
        end: Some(range.end),
        filters,
        limit: 0,
        offset: 0,
    };
    if format == Format::Csv {
        for (name, value) in [("limit", &q.limit), ("offset", &q.offset)] {
            if value.is_some() {
                return Err(ApiError::field(
                    name,
                    "is not used with format=csv (the export has every matching record)",
                ));
            }
        }
        query.limit = csv::EXPORT_PAGE;
        let store = state.ledger.store().clone();
        let first = store.usage_page(&query, None).await?;
        let name = csv::file_name(&["ai-usage"], &range.start_label, &range.end_label);
        let body = Body::from_stream(csv::records(store, query, first));
        return Ok(csv::attachment(&name, body));
    }
    query.limit = query::int("limit", &q.limit, 100, (1, 1000))?;
    query.offset = query::int("offset", &q.offset, 0, (0, i64::MAX))?;
    let (records, total) = state.store().list_usage(&query).await?;
    let records: Vec<RecordView> = records.into_iter().map(RecordView::from).collect();
    let pagination = Pagination {
        total,
        limit: query.limit,
        offset: query.offset,
        has_more: query.offset + (records.len() as i64) < total,
    };
    Ok(Json(UsageList {
        start: range.start_label,
        end: range.end_label,
        timezone: range.tz.name().to_string(),
        records,
        pagination,
    })
    .into_response())
}

/// `GET /api/usage/summary`: totals and buckets by day, week or month.
#[utoipa::path(
    get,
    operation_id = "usage_summary",
    path = "/api/usage/summary",
    tag = "usage",
    params(UsageSummaryQuery, FormatQuery, FilterQuery, BasisQuery),
    responses(
        (status = 200, description = "Totals and zero-filled buckets (the shape of /costs/range)", content(
            (RangeReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn summary(
    State(state): State<AppState>,
    Report(q, format, filters): Report<UsageSummaryQuery>,
) -> Result<Response, ApiError> {
    let granularity = query::granularity(&q.group_by)?;
    let tz = query::tz(&q.tz, &state)?;
    let range = query::range(
        ("start_date", &q.start_date),
        ("end_date", &q.end_date),
        tz,
        30,
    )?;
    let scope = Scope { range, filters };
    let report = reports::range(state.store(), &scope, granularity, None).await?;
    Ok(match format {
        Format::Csv => csv::range(&report, "ai-usage-summary"),
        Format::Json => Json(report).into_response(),
    })
}

/// `DELETE /api/usage/{id}`: removes one record and its share of the rollups.
#[utoipa::path(
    delete,
    operation_id = "delete_usage",
    path = "/api/usage/{id}",
    tag = "usage",
    params(("id" = i64, Path, description = "Record id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such record", body = ErrorBody)
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::field("id", "must be a record id (integer)"))?;
    if state.store().delete_usage(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no usage record {id}")))
    }
}
