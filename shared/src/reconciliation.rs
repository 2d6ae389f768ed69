//! `GET /costs/reconciliation`: per bucket, and per provider and model within it, how
//! much of the bill the agents' records explain (see [`crate::store::reconcile`]).
//! Read from the per-cell figures of the one-dimension rollups only.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::domain::money::{round_usd, serialize_decimal, Pico};
use crate::domain::timeframe::{bucket_index, buckets, Granularity, ResolvedRange};
use crate::store::{BilledHours, CellFigure, Store, StoreError};

/// A cell's (or a sum of cells') costs, exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    /// Every record.
    all: Pico,
    /// Pulled records.
    billed: Pico,
    /// Attributed records of billed cells.
    billed_cell_attributed: Pico,
    /// Σ min(A, B) over billed cells.
    explained: Pico,
}

impl Sums {
    fn add(&mut self, figure: CellFigure, cost: Pico) {
        let slot = match figure {
            CellFigure::All => &mut self.all,
            CellFigure::Billed => &mut self.billed,
            CellFigure::BilledCellAttributed => &mut self.billed_cell_attributed,
            CellFigure::Explained => &mut self.explained,
        };
        *slot += cost;
    }

    fn plus(mut self, o: Sums) -> Sums {
        self.all += o.all;
        self.billed += o.billed;
        self.billed_cell_attributed += o.billed_cell_attributed;
        self.explained += o.explained;
        self
    }
}

/// The reconciliation's figures, in USD (rounded to the micro-dollar, so that
/// `explained_usd + unattributed_usd` is `billed_usd` exactly).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// The pulled records' cost: the provider's bill.
    #[serde(serialize_with = "serialize_decimal")]
    pub billed_usd: Decimal,
    /// The pushed and imported records' cost, at their own cost.
    #[serde(serialize_with = "serialize_decimal")]
    pub attributed_usd: Decimal,
    /// The part of the bill the attributed records explain: min(A, B) per billed cell.
    #[serde(serialize_with = "serialize_decimal")]
    pub explained_usd: Decimal,
    /// The part of the bill no attributed record explains: `billed_usd − explained_usd`.
    #[serde(serialize_with = "serialize_decimal")]
    pub unattributed_usd: Decimal,
    /// Attributed cost beyond the bill in billed cells (A − B where positive); not in
    /// any reconciled total.
    #[serde(serialize_with = "serialize_decimal")]
    pub over_attributed_usd: Decimal,
    /// Attributed cost in cells no collection covered (counted at its own cost).
    #[serde(serialize_with = "serialize_decimal")]
    pub unbilled_attributed_usd: Decimal,
    /// `explained_usd ÷ billed_usd` (4 decimals); null without a bill.
    #[serde(serialize_with = "serialize_optional_decimal")]
    #[schema(value_type = Option<String>)]
    pub coverage: Option<Decimal>,
}

fn serialize_optional_decimal<S: serde::Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serialize_decimal(v, serializer),
        None => serializer.serialize_none(),
    }
}

impl From<Sums> for Figures {
    fn from(s: Sums) -> Figures {
        let usd = |p: Pico| round_usd(p.usd()).normalize();
        let attributed = s.all - s.billed;
        let (billed_usd, explained_usd) = (usd(s.billed), usd(s.explained));
        let coverage = (s.billed.0 > 0).then(|| {
            (Decimal::from(s.explained.0) / Decimal::from(s.billed.0))
                .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
                .normalize()
        });
        Figures {
            billed_usd,
            attributed_usd: usd(attributed),
            explained_usd,
            unattributed_usd: (billed_usd - explained_usd).normalize(),
            over_attributed_usd: usd(s.billed_cell_attributed - s.explained),
            unbilled_attributed_usd: usd(attributed - s.billed_cell_attributed),
            coverage,
        }
    }
}

/// One provider and model of a bucket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelLine {
    pub provider: String,
    pub model: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// One period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReconciliationBucket {
    pub period: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[serde(flatten)]
    pub figures: Figures,
    /// By provider and model (those with any cost in the bucket), by bill then name.
    pub models: Vec<ModelLine>,
}

/// The hours a provider's collections covered (all of them, not only this range's).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BilledRange {
    pub provider: String,
    /// The first billed hour.
    pub first_billed_hour: DateTime<Utc>,
    /// The end of the last billed hour.
    pub billed_until: DateTime<Utc>,
    /// How many hours are billed (gaps are hours no collection covered).
    pub billed_hours: i64,
}

impl From<BilledHours> for BilledRange {
    fn from(h: BilledHours) -> BilledRange {
        BilledRange {
            provider: h.provider,
            first_billed_hour: h.first,
            billed_until: h.end,
            billed_hours: h.hours,
        }
    }
}

/// `GET /costs/reconciliation`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub start: String,
    pub end: String,
    pub timezone: String,
    pub group_by: &'static str,
    /// The whole range.
    #[serde(flatten)]
    pub totals: Figures,
    /// The whole range by provider and model.
    pub models: Vec<ModelLine>,
    pub billed: Vec<BilledRange>,
    pub buckets: Vec<ReconciliationBucket>,
}

fn lines(cells: BTreeMap<(String, String), Sums>) -> Vec<ModelLine> {
    let mut cells: Vec<_> = cells.into_iter().collect();
    cells.sort_by(|a, b| b.1.billed.cmp(&a.1.billed).then_with(|| a.0.cmp(&b.0)));
    cells
        .into_iter()
        .map(|((provider, model), sums)| ModelLine {
            provider,
            model,
            figures: sums.into(),
        })
        .collect()
}

/// The reconciliation of `range` by `granularity`.
#[tracing::instrument(level = "debug", skip_all, fields(?granularity), err(level = "debug"))]
pub async fn reconciliation(
    store: &dyn Store,
    range: &ResolvedRange,
    granularity: Granularity,
) -> Result<Reconciliation, StoreError> {
    let periods = buckets(range, granularity);
    // UTC-day rows serve any bucket made of whole UTC days: a report in UTC.
    let by_day = range.tz == chrono_tz::UTC;
    let rows = store.cell_figures(range.start, range.end, by_day).await?;
    let mut per_bucket: Vec<BTreeMap<(String, String), Sums>> =
        vec![BTreeMap::new(); periods.len()];
    let mut whole: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for row in rows {
        let Some(i) = bucket_index(&periods, row.at) else {
            continue;
        };
        let key = (row.provider, row.model);
        per_bucket[i]
            .entry(key.clone())
            .or_default()
            .add(row.figure, row.cost);
        whole.entry(key).or_default().add(row.figure, row.cost);
    }
    let total = whole.values().fold(Sums::default(), |acc, s| acc.plus(*s));
    let buckets = periods
        .into_iter()
        .zip(per_bucket)
        .map(|(b, cells)| {
            let sum = cells.values().fold(Sums::default(), |acc, s| acc.plus(*s));
            ReconciliationBucket {
                period: b.period,
                start: b.start,
                end: b.end,
                figures: sum.into(),
                models: lines(cells),
            }
        })
        .collect();
    let billed = store
        .billed_hours()
        .await?
        .into_iter()
        .map(BilledRange::from)
        .collect();
    Ok(Reconciliation {
        start: range.start_label.clone(),
        end: range.end_label.clone(),
        timezone: range.tz.name().to_string(),
        group_by: granularity.as_str(),
        totals: total.into(),
        models: lines(whole),
        billed,
        buckets,
    })
}
