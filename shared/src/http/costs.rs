//! `GET /costs/*`: every answer comes from rollups.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;

use super::csv;
use super::openapi::{BreakdownQuery, DailySummaryQuery, DayQuery, RangeQuery, SummaryQuery};
use super::params::{Format, Params};
use super::{ApiError, AppState};
use crate::domain::timeframe::{last_days, resolve_day, Granularity};
use crate::reports::{self, Breakdown, DailyReport, RangeReport, Scope, SummaryReport};
use crate::store::Dimension;

/// Days covered by a breakdown when `start` is not given.
const DEFAULT_DAYS: u32 = 30;

#[utoipa::path(
    get,
    path = "/costs/daily",
    tag = "costs",
    params(DayQuery),
    responses(
        (status = 200, description = "One day (default today): totals and breakdowns by model, project and session type", content(
            (DailyReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn daily(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse::<DayQuery>(q.as_deref())?;
    let format = params.format()?;
    let range = resolve_day(params.get("date"), params.tz(&state)?, Utc::now())?;
    let scope = Scope {
        range,
        filters: params.filters(state.ledger.catalog())?,
    };
    let report = reports::daily(state.store(), &scope).await?;
    Ok(match format {
        Format::Csv => csv::daily(&report),
        Format::Json => Json(report).into_response(),
    })
}

/// `GET /costs/range`: buckets by day, week or month; `stack_by` splits each bucket.
#[utoipa::path(
    get,
    path = "/costs/range",
    tag = "costs",
    params(RangeQuery),
    responses(
        (status = 200, description = "Totals and zero-filled buckets that sum exactly to the total", content(
            (RangeReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn range(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse::<RangeQuery>(q.as_deref())?;
    let format = params.format()?;
    let granularity = Granularity::parse("group_by", params.get("group_by").unwrap_or("day"))?;
    let stack_by = params.dimension("stack_by")?;
    let scope = params.scope(&state, DEFAULT_DAYS)?;
    let report = reports::range(state.store(), &scope, granularity, stack_by).await?;
    Ok(match format {
        Format::Csv => csv::range(&report, "ai-costs"),
        Format::Json => Json(report).into_response(),
    })
}

async fn summary(state: AppState, q: Option<String>, days: u32) -> Result<Response, ApiError> {
    let params = Params::parse::<SummaryQuery>(q.as_deref())?;
    let format = params.format()?;
    let range = last_days(days, params.tz(&state)?, Utc::now());
    range.check_whole_hours()?;
    let scope = Scope {
        range,
        filters: params.filters(state.ledger.catalog())?,
    };
    let report = reports::summary(state.store(), &scope, days).await?;
    Ok(match format {
        Format::Csv => csv::summary(&report, if days == 7 { "weekly" } else { "monthly" }),
        Format::Json => Json(report).into_response(),
    })
}

#[utoipa::path(
    get,
    path = "/costs/summary/weekly",
    tag = "costs",
    params(SummaryQuery),
    responses(
        (status = 200, description = "The last 7 days including today", content(
            (SummaryReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn weekly(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    summary(state, q, 7).await
}

#[utoipa::path(
    get,
    path = "/costs/summary/monthly",
    tag = "costs",
    params(SummaryQuery),
    responses(
        (status = 200, description = "The last 30 days including today", content(
            (SummaryReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn monthly(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    summary(state, q, 30).await
}

async fn breakdown(
    state: AppState,
    q: Option<String>,
    dim: Dimension,
) -> Result<Response, ApiError> {
    let params = Params::parse::<BreakdownQuery>(q.as_deref())?;
    let format = params.format()?;
    let scope = params.scope(&state, DEFAULT_DAYS)?;
    let report = reports::breakdown(state.store(), &scope, dim).await?;
    Ok(match format {
        Format::Csv => csv::breakdown(&report),
        Format::Json => Json(report).into_response(),
    })
}

#[utoipa::path(
    get,
    path = "/costs/by-model",
    tag = "costs",
    params(BreakdownQuery),
    responses(
        (status = 200, description = "Breakdown by model, sorted by cost", content(
            (Breakdown = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn by_model(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    breakdown(state, q, Dimension::Model).await
}

#[utoipa::path(
    get,
    path = "/costs/by-session-type",
    tag = "costs",
    params(BreakdownQuery),
    responses(
        (status = 200, description = "Breakdown by session type, sorted by cost", content(
            (Breakdown = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn by_session_type(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    breakdown(state, q, Dimension::SessionType).await
}

#[utoipa::path(
    get,
    path = "/costs/by-project",
    tag = "costs",
    params(BreakdownQuery),
    responses(
        (status = 200, description = "Breakdown by project, sorted by cost", content(
            (Breakdown = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn by_project(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    breakdown(state, q, Dimension::Project).await
}

#[utoipa::path(
    get,
    path = "/costs/by-agent",
    tag = "costs",
    params(BreakdownQuery),
    responses(
        (status = 200, description = "Breakdown by agent, sorted by cost", content(
            (Breakdown = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn by_agent(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    breakdown(state, q, Dimension::Agent).await
}

#[utoipa::path(
    get,
    path = "/costs/by-provider",
    tag = "costs",
    params(BreakdownQuery),
    responses(
        (status = 200, description = "Breakdown by provider, sorted by cost", content(
            (Breakdown = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn by_provider(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    breakdown(state, q, Dimension::Provider).await
}

/// `GET /costs/daily-summary?date=&tz=`: exactly the summary Context Vault receives for
/// that day (default yesterday).
#[utoipa::path(
    get,
    path = "/costs/daily-summary",
    tag = "costs",
    params(DailySummaryQuery),
    responses(
        (status = 200, description = "The Context Vault summary of one day (default yesterday), in cents", content(
            (crate::cv::DailySummary = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn daily_summary(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse::<DailySummaryQuery>(q.as_deref())?;
    let format = params.format()?;
    let tz = params.tz(&state)?;
    let now = Utc::now();
    let yesterday = (crate::domain::timeframe::today(tz, now) - chrono::Days::new(1)).to_string();
    let day = resolve_day(Some(params.get("date").unwrap_or(&yesterday)), tz, now)?;
    let date = day
        .start_label
        .parse()
        .map_err(|_| ApiError::Internal(format!("day label `{}`", day.start_label)))?;
    let summary = crate::cv::daily_summary(state.store(), state.ledger.catalog(), date, tz).await?;
    Ok(match format {
        Format::Csv => csv::daily_summary(&summary),
        Format::Json => Json(summary).into_response(),
    })
}
