//! Cost reports built from rollups only: breakdowns, zero-filled
//! buckets and summaries whose rounded parts add up exactly to the rounded total.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::domain::money::{apportion, apportion_within, serialize_decimal, Pico};
use crate::domain::timeframe::{bucket_index, buckets, Granularity, ResolvedRange};
use crate::store::{Basis, Dimension, Filters, Grouping, Store, StoreError, Totals};

/// Label used for records without an agent.
pub const NO_AGENT: &str = "(none)";

/// What a report covers: a resolved range and the filters of the request.
#[derive(Debug, Clone)]
pub struct Scope {
    pub range: ResolvedRange,
    pub filters: Filters,
}

/// Token and request counts every cost figure comes with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
/// Sums are 128-bit; the document calls them 64-bit integers, which they stay for
/// any ledger short of 9.2 × 10¹⁸ tokens.
pub struct Counts {
    #[schema(value_type = i64)]
    pub requests: i128,
    #[schema(value_type = i64)]
    pub unpriced_requests: i128,
    #[schema(value_type = i64)]
    pub input_tokens: i128,
    #[schema(value_type = i64)]
    pub output_tokens: i128,
    #[schema(value_type = i64)]
    pub cache_read_tokens: i128,
    /// 5-minute plus 1-hour cache writes.
    #[schema(value_type = i64)]
    pub cache_write_tokens: i128,
    #[schema(value_type = i64)]
    pub cache_write_5m_tokens: i128,
    #[schema(value_type = i64)]
    pub cache_write_1h_tokens: i128,
    #[schema(value_type = i64)]
    pub web_search_requests: i128,
}

impl From<&Totals> for Counts {
    fn from(t: &Totals) -> Counts {
        Counts {
            requests: t.requests,
            unpriced_requests: t.unpriced_requests,
            input_tokens: t.input_tokens,
            output_tokens: t.output_tokens,
            cache_read_tokens: t.cache_read_tokens,
            cache_write_tokens: t.cache_write_5m_tokens + t.cache_write_1h_tokens,
            cache_write_5m_tokens: t.cache_write_5m_tokens,
            cache_write_1h_tokens: t.cache_write_1h_tokens,
            web_search_requests: t.web_search_requests,
        }
    }
}

/// The fields every cost response starts with.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Header {
    /// What the figures add up (`reconciled`, `raw`, `billed` or `attributed`).
    pub basis: Basis,
    pub start: String,
    pub end: String,
    pub timezone: String,
    #[serde(serialize_with = "serialize_decimal")]
    pub total_cost_usd: Decimal,
    #[serde(flatten)]
    pub counts: Counts,
}

impl Header {
    fn new(scope: &Scope, total_cost_usd: Decimal, totals: &Totals) -> Header {
        let range = &scope.range;
        Header {
            basis: scope.filters.basis,
            start: range.start_label.clone(),
            end: range.end_label.clone(),
            timezone: range.tz.name().to_string(),
            total_cost_usd,
            counts: Counts::from(totals),
        }
    }
}

/// One line of a breakdown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BreakdownItem {
    pub key: String,
    #[serde(serialize_with = "serialize_decimal")]
    pub cost_usd: Decimal,
    #[serde(serialize_with = "serialize_decimal")]
    pub share: Decimal,
    #[serde(flatten)]
    pub counts: Counts,
}

/// `GET /costs/by-*`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    #[serde(flatten)]
    pub header: Header,
    pub dimension: &'static str,
    pub breakdown: Vec<BreakdownItem>,
}

/// One period of a range report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BucketItem {
    pub period: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[serde(serialize_with = "serialize_decimal")]
    pub cost_usd: Decimal,
    #[serde(flatten)]
    pub counts: Counts,
    /// With `stack_by`: the bucket split by that dimension (parts sum exactly to
    /// `cost_usd`; `share` is of the bucket), sorted by cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<Vec<BreakdownItem>>,
}

/// `GET /costs/range`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RangeReport {
    #[serde(flatten)]
    pub header: Header,
    pub group_by: &'static str,
    /// The dimension buckets are split by (`stack_by`), when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_by: Option<&'static str>,
    /// With `stack_by`: the whole range by that dimension, the series of the stack in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_totals: Option<Vec<BreakdownItem>>,
    pub buckets: Vec<BucketItem>,
}

/// `GET /costs/daily`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DailyReport {
    pub date: String,
    #[serde(flatten)]
    pub header: Header,
    pub by_model: Vec<BreakdownItem>,
    pub by_project: Vec<BreakdownItem>,
    pub by_session_type: Vec<BreakdownItem>,
}

/// `GET /costs/summary/weekly|monthly`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SummaryReport {
    #[serde(flatten)]
    pub header: Header,
    pub days: u32,
    #[serde(serialize_with = "serialize_decimal")]
    pub daily_average_usd: Decimal,
    pub by_model: Vec<BreakdownItem>,
    pub by_project: Vec<BreakdownItem>,
    pub by_session_type: Vec<BreakdownItem>,
    pub daily: Vec<BucketItem>,
}

fn share(part: Pico, total: Pico) -> Decimal {
    if total.0 == 0 {
        return Decimal::ZERO;
    }
    (Decimal::from(part.0) / Decimal::from(total.0))
        .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

fn sum(totals: impl Iterator<Item = Totals>) -> Totals {
    totals.fold(Totals::default(), |mut acc, t| {
        acc += t;
        acc
    })
}

/// A group key as reports show it: an absent or empty value is [`NO_AGENT`].
fn key_label(key: Option<String>) -> String {
    key.filter(|v| !v.is_empty())
        .unwrap_or_else(|| NO_AGENT.to_string())
}

/// Breakdown items of `rows`, sorted by cost (descending, then key), with their total;
/// the rounded costs add up to `rounded_total` when given, else to the rounded sum.
fn items(
    mut rows: Vec<(String, Totals)>,
    rounded_total: Option<Decimal>,
) -> (Totals, Vec<BreakdownItem>) {
    rows.sort_by(|a, b| b.1.cost.cmp(&a.1.cost).then_with(|| a.0.cmp(&b.0)));
    let total = sum(rows.iter().map(|(_, t)| *t));
    let amounts: Vec<Pico> = rows.iter().map(|(_, t)| t.cost).collect();
    let costs = match rounded_total {
        Some(rounded) => apportion_within(&amounts, rounded),
        None => apportion(&amounts).1,
    };
    let items = rows
        .into_iter()
        .zip(costs)
        .map(|((key, t), cost_usd)| BreakdownItem {
            key,
            cost_usd,
            share: share(t.cost, total.cost),
            counts: Counts::from(&t),
        })
        .collect();
    (total, items)
}

/// Sums by one dimension, sorted by cost (descending, then key), with the total.
async fn grouped(
    store: &dyn Store,
    scope: &Scope,
    dim: Dimension,
) -> Result<(Totals, Vec<BreakdownItem>), StoreError> {
    let rows = store
        .rollup_totals(
            scope.range.start,
            scope.range.end,
            &scope.filters,
            Grouping::By(dim),
        )
        .await?;
    let rows = rows
        .into_iter()
        .map(|(key, totals)| (key_label(key.value), totals))
        .collect();
    Ok(items(rows, None))
}

fn total_usd(total: &Totals) -> Decimal {
    apportion(&[total.cost]).0
}

/// A breakdown by one dimension.
#[tracing::instrument(level = "debug", skip_all, fields(dim = dim.column()), err(level = "debug"))]
pub async fn breakdown(
    store: &dyn Store,
    scope: &Scope,
    dim: Dimension,
) -> Result<Breakdown, StoreError> {
    let (total, items) = grouped(store, scope, dim).await?;
    Ok(Breakdown {
        header: Header::new(scope, total_usd(&total), &total),
        dimension: dim.column(),
        breakdown: items,
    })
}

/// Zero-filled buckets of the range and the totals they add up to; with `stack_by`,
/// each bucket split by that dimension.
async fn bucketed(
    store: &dyn Store,
    scope: &Scope,
    granularity: Granularity,
    stack_by: Option<Dimension>,
) -> Result<(Totals, Vec<BucketItem>), StoreError> {
    let periods = buckets(&scope.range, granularity);
    let mut sums = vec![Totals::default(); periods.len()];
    let mut parts: Vec<BTreeMap<String, Totals>> = vec![BTreeMap::new(); periods.len()];
    // Buckets are whole local days: the store may sum them per day.
    let tz = scope.range.tz;
    let grouping = stack_by.map_or(Grouping::Day(tz), |d| Grouping::DayBy(d, tz));
    let rows = store
        .rollup_totals(scope.range.start, scope.range.end, &scope.filters, grouping)
        .await?;
    for (key, totals) in rows {
        if let Some(i) = key.hour.and_then(|hour| bucket_index(&periods, hour)) {
            sums[i] += totals;
            if stack_by.is_some() {
                *parts[i].entry(key_label(key.value)).or_default() += totals;
            }
        }
    }
    let total = sum(sums.iter().copied());
    let (_, costs) = apportion(&sums.iter().map(|t| t.cost).collect::<Vec<_>>());
    let items = periods
        .into_iter()
        .zip(sums.iter())
        .zip(costs)
        .zip(parts)
        .map(|(((b, t), cost_usd), parts)| BucketItem {
            period: b.period,
            start: b.start,
            end: b.end,
            cost_usd,
            counts: Counts::from(t),
            stack: stack_by.map(|_| items(parts.into_iter().collect(), Some(cost_usd)).1),
        })
        .collect();
    Ok((total, items))
}

/// Totals and zero-filled buckets by day, ISO week or month; with `stack_by`, each
/// bucket split by that dimension and the range's totals by it.
#[tracing::instrument(level = "debug", skip_all, fields(?granularity, ?stack_by), err(level = "debug"))]
pub async fn range(
    store: &dyn Store,
    scope: &Scope,
    granularity: Granularity,
    stack_by: Option<Dimension>,
) -> Result<RangeReport, StoreError> {
    let (total, items) = bucketed(store, scope, granularity, stack_by).await?;
    let stack_totals = match stack_by {
        Some(dim) => Some(grouped(store, scope, dim).await?.1),
        None => None,
    };
    Ok(RangeReport {
        header: Header::new(scope, total_usd(&total), &total),
        group_by: granularity.as_str(),
        stack_by: stack_by.map(Dimension::column),
        stack_totals,
        buckets: items,
    })
}

/// One day with breakdowns by model, project and session type.
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
pub async fn daily(store: &dyn Store, scope: &Scope) -> Result<DailyReport, StoreError> {
    let (total, by_model) = grouped(store, scope, Dimension::Model).await?;
    let (_, by_project) = grouped(store, scope, Dimension::Project).await?;
    let (_, by_session_type) = grouped(store, scope, Dimension::SessionType).await?;
    Ok(DailyReport {
        date: scope.range.start_label.clone(),
        header: Header::new(scope, total_usd(&total), &total),
        by_model,
        by_project,
        by_session_type,
    })
}

/// The last `days` days including today, with a daily average and daily buckets.
#[tracing::instrument(level = "debug", skip_all, fields(days), err(level = "debug"))]
pub async fn summary(
    store: &dyn Store,
    scope: &Scope,
    days: u32,
) -> Result<SummaryReport, StoreError> {
    let (total, by_model) = grouped(store, scope, Dimension::Model).await?;
    let (_, by_project) = grouped(store, scope, Dimension::Project).await?;
    let (_, by_session_type) = grouped(store, scope, Dimension::SessionType).await?;
    let (_, daily) = bucketed(store, scope, Granularity::Day, None).await?;
    let total_cost_usd = total_usd(&total);
    let daily_average_usd = (total.cost.usd() / Decimal::from(days.max(1)))
        .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    Ok(SummaryReport {
        header: Header::new(scope, total_cost_usd, &total),
        days,
        daily_average_usd,
        by_model,
        by_project,
        by_session_type,
        daily,
    })
}
