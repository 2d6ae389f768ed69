//! `GET /costs/*`: every answer comes from rollups.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;

use super::csv;
use super::query::{
    self, BasisQuery, BillCheckQuery, BreakdownQuery, DailySummaryQuery, DayQuery, Export,
    FilterQuery, Format, FormatQuery, RangeQuery, ReconciliationQuery, Report, SummaryQuery,
};
use super::{ApiError, AppState};
use crate::domain::timeframe::{last_days, resolve_day, TimeParam};
use crate::reports::{self, Breakdown, DailyReport, RangeReport, Scope, SummaryReport};
use crate::store::Dimension;

/// Days covered by a breakdown when `start` is not given.
const DEFAULT_DAYS: u32 = 30;

#[utoipa::path(
    get,
    path = "/costs/daily",
    tag = "costs",
    params(DayQuery, FormatQuery, FilterQuery, BasisQuery),
    responses(
        (status = 200, description = "One day (default today): totals and breakdowns by model, project and session type", content(
            (DailyReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn daily(
    State(state): State<AppState>,
    Report(q, format, filters): Report<DayQuery>,
) -> Result<Response, ApiError> {
    let tz = query::tz(&q.tz, &state)?;
    let range = resolve_day(query::day(&q.date)?, tz, Utc::now())?;
    let scope = Scope { range, filters };
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
    params(RangeQuery, FormatQuery, FilterQuery, BasisQuery),
    responses(
        (status = 200, description = "Totals and zero-filled buckets that sum exactly to the total", content(
            (RangeReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn range(
    State(state): State<AppState>,
    Report(q, format, filters): Report<RangeQuery>,
) -> Result<Response, ApiError> {
    let granularity = query::granularity(&q.group_by)?;
    let stack_by = query::stack_by(&q.stack_by)?;
    let tz = query::tz(&q.tz, &state)?;
    let range = query::range(("start", &q.start), ("end", &q.end), tz, DEFAULT_DAYS)?;
    let scope = Scope { range, filters };
    let report = reports::range(state.store(), &scope, granularity, stack_by).await?;
    Ok(match format {
        Format::Csv => csv::range(&report, "ai-costs"),
        Format::Json => Json(report).into_response(),
    })
}

async fn summary(
    state: AppState,
    Report(q, format, filters): Report<SummaryQuery>,
    days: u32,
) -> Result<Response, ApiError> {
    let range = last_days(days, query::tz(&q.tz, &state)?, Utc::now());
    range.check_whole_hours()?;
    let scope = Scope { range, filters };
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
    params(SummaryQuery, FormatQuery, FilterQuery, BasisQuery),
    responses(
        (status = 200, description = "The last 7 days including today", content(
            (SummaryReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn weekly(
    State(state): State<AppState>,
    query: Report<SummaryQuery>,
) -> Result<Response, ApiError> {
    summary(state, query, 7).await
}

#[utoipa::path(
    get,
    path = "/costs/summary/monthly",
    tag = "costs",
    params(SummaryQuery, FormatQuery, FilterQuery, BasisQuery),
    responses(
        (status = 200, description = "The last 30 days including today", content(
            (SummaryReport = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn monthly(
    State(state): State<AppState>,
    query: Report<SummaryQuery>,
) -> Result<Response, ApiError> {
    summary(state, query, 30).await
}

async fn breakdown(
    state: AppState,
    Report(q, format, filters): Report<BreakdownQuery>,
    dim: Dimension,
) -> Result<Response, ApiError> {
    let tz = query::tz(&q.tz, &state)?;
    let range = query::range(("start", &q.start), ("end", &q.end), tz, DEFAULT_DAYS)?;
    let scope = Scope { range, filters };
    let report = reports::breakdown(state.store(), &scope, dim).await?;
    Ok(match format {
        Format::Csv => csv::breakdown(&report),
        Format::Json => Json(report).into_response(),
    })
}

/// Declares one `GET /costs/by-*` handler: the range's breakdown by one dimension.
macro_rules! breakdown_endpoint {
    ($name:ident, $path:literal, $description:literal, $dimension:expr) => {
        #[utoipa::path(
                                            get,
                                            path = $path,
                                            tag = "costs",
                                            params(BreakdownQuery, FormatQuery, FilterQuery, BasisQuery),
                                            responses(
                                                (status = 200, description = $description, content(
                                                    (Breakdown = "application/json"),
                                                    (String = "text/csv")
                                                ))
                                            )
                                        )]
        pub async fn $name(
            State(state): State<AppState>,
            query: Report<BreakdownQuery>,
        ) -> Result<Response, ApiError> {
            breakdown(state, query, $dimension).await
        }
    };
}

breakdown_endpoint!(
    by_model,
    "/costs/by-model",
    "Breakdown by model, sorted by cost",
    Dimension::Model
);
breakdown_endpoint!(
    by_session_type,
    "/costs/by-session-type",
    "Breakdown by session type, sorted by cost",
    Dimension::SessionType
);
breakdown_endpoint!(
    by_project,
    "/costs/by-project",
    "Breakdown by project, sorted by cost",
    Dimension::Project
);
breakdown_endpoint!(
    by_agent,
    "/costs/by-agent",
    "Breakdown by agent, sorted by cost",
    Dimension::Agent
);
breakdown_endpoint!(
    by_provider,
    "/costs/by-provider",
    "Breakdown by provider, sorted by cost",
    Dimension::Provider
);

/// `GET /costs/reconciliation`: how much of the bill the agents' records explain.
#[utoipa::path(
    get,
    path = "/costs/reconciliation",
    tag = "costs",
    params(ReconciliationQuery, FormatQuery),
    responses(
        (status = 200, description = "Per bucket, and per provider and model within it: the bill, the attributed cost, the part of the bill attributed records explain, the rest, over-attribution and attributed cost outside billed hours; totals over the range and each provider's billed hours", content(
            (crate::reconciliation::Reconciliation = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn reconciliation(
    State(state): State<AppState>,
    Export(q, format): Export<ReconciliationQuery>,
) -> Result<Response, ApiError> {
    let granularity = query::granularity(&q.group_by)?;
    let tz = query::tz(&q.tz, &state)?;
    let range = query::range(("start", &q.start), ("end", &q.end), tz, DEFAULT_DAYS)?;
    range.check_whole_hours()?;
    let report = crate::reconciliation::reconciliation(state.store(), &range, granularity).await?;
    Ok(match format {
        Format::Csv => csv::reconciliation(&report),
        Format::Json => Json(report).into_response(),
    })
}

/// `GET /costs/daily-summary?date=&tz=`: exactly the summary Context Vault receives for
/// that day (default yesterday).
#[utoipa::path(
    get,
    path = "/costs/daily-summary",
    tag = "costs",
    params(DailySummaryQuery, FormatQuery),
    responses(
        (status = 200, description = "The Context Vault summary of one day (default yesterday), in cents", content(
            (crate::cv::DailySummary = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn daily_summary(
    State(state): State<AppState>,
    Export(q, format): Export<DailySummaryQuery>,
) -> Result<Response, ApiError> {
    let tz = query::tz(&q.tz, &state)?;
    let now = Utc::now();
    let yesterday = crate::domain::timeframe::today(tz, now) - chrono::Days::new(1);
    let date = query::day(&q.date)?.unwrap_or(TimeParam::Date(yesterday));
    let day = resolve_day(Some(date), tz, now)?;
    let date = day
        .start_label
        .parse()
        .map_err(|_| ApiError::Internal(format!("day label `{}`", day.start_label)))?;
    let summary =
        crate::cv::daily_summary(state.store(), &*state.ledger.prices().await?, date, tz).await?;
    Ok(match format {
        Format::Csv => csv::daily_summary(&summary),
        Format::Json => Json(summary).into_response(),
    })
}

/// `GET /costs/bill-check?start=&end=`: the providers' daily bills against our computed
/// cost of the pulled usage, per UTC day, provider, model and token kind.
#[utoipa::path(
    get,
    path = "/costs/bill-check",
    tag = "costs",
    params(BillCheckQuery, FormatQuery),
    responses(
        (status = 200, description = "Per UTC day and provider, and per model and token kind where the bill names them: the provider's charge, our computed cost, the difference and the percentage; model-days off by more than 1 % are listed in `price_mismatch` with the token kinds that differ", content(
            (crate::bill_check::BillCheck = "application/json"),
            (String = "text/csv")
        ))
    )
)]
pub async fn bill_check(
    State(state): State<AppState>,
    Export(q, format): Export<BillCheckQuery>,
) -> Result<Response, ApiError> {
    let (first, end) = query::utc_days(&q.start, &q.end, Utc::now())?;
    let report =
        crate::bill_check::bill_check(state.store(), &*state.ledger.prices().await?, first, end)
            .await?;
    Ok(match format {
        Format::Csv => csv::bill_check(&report),
        Format::Json => Json(report).into_response(),
    })
}
