//! `GET /costs/reconciliation`: per bucket, and per provider and model within it, how
//! much of the bill the agents' records explain (see [`crate::store::reconcile`]).
//! Read from the per-cell figures of the one-dimension rollups only.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::domain::money::{round_usd, serialize_decimal, Pico};
use crate::domain::timeframe::{bucket_index, buckets, Bucket, Granularity, ResolvedRange};
use crate::store::{BilledHours, CellFigure, CellRead, Store, StoreError};

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

    fn sub(&mut self, figure: CellFigure, cost: Pico) {
        self.add(figure, Pico(-cost.0));
    }

    fn is_zero(&self) -> bool {
        *self == Sums::default()
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
    let mut cells: Vec<_> = cells.into_iter().filter(|(_, s)| !s.is_zero()).collect();
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

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// More separate runs of hours than this are read as a list of hours (one term
/// instead of one per run).
const MAX_HOUR_RUNS: usize = 2;

/// The bucket of a UTC day's row: the one its noon falls in (any rule would do: the
/// hours of the day in other buckets are moved, see [`plan`]).
fn day_bucket(periods: &[Bucket], day: i64) -> Option<usize> {
    bucket_index(periods, DateTime::from_timestamp(day + DAY / 2, 0)?)
}

fn hour_bucket(periods: &[Bucket], hour: i64) -> Option<usize> {
    bucket_index(periods, DateTime::from_timestamp(hour, 0)?)
}

/// Which rows to read for `periods` over `[start, end)` (whole hours). Short ranges
/// read hour rows. Longer ones read the day rows of every UTC day they touch, each
/// counted in its [`day_bucket`], plus the rows of the hours that belong elsewhere
/// (another bucket, or outside the range), which move from the day's bucket to their
/// own: a 90-day report in Chicago reads 91 day rows and 6 hours a day per cell and
/// figure, not 2,160 hours.
fn plan(periods: &[Bucket], tz: chrono_tz::Tz, start: i64, end: i64) -> CellRead {
    let (first_day, end_day) = (
        start.div_euclid(DAY) * DAY,
        (end + DAY - 1).div_euclid(DAY) * DAY,
    );
    if end_day - first_day <= 2 * DAY {
        return CellRead {
            hours: vec![(start, end)],
            ..CellRead::default()
        };
    }
    let mut runs: Vec<(i64, i64)> = Vec::new();
    let mut listed = Vec::new();
    for day in (first_day..end_day).step_by(DAY as usize) {
        let home = day_bucket(periods, day);
        for hour in (day..day + DAY).step_by(HOUR as usize) {
            if hour_bucket(periods, hour) == home {
                continue;
            }
            listed.push(hour);
            match runs.last_mut() {
                Some(run) if run.1 == hour => run.1 = hour + HOUR,
                _ => runs.push((hour, hour + HOUR)),
            }
        }
    }
    if runs.len() <= MAX_HOUR_RUNS {
        return CellRead {
            days: Some((first_day, end_day)),
            hours: runs,
            ..CellRead::default()
        };
    }
    CellRead {
        days: Some((first_day, end_day)),
        hours: Vec::new(),
        listed,
        // In one UTC day, one local day and one side of the range, hours share their
        // day's bucket and their own: they move alike.
        sum_listed: Some((tz, start, end)),
    }
}

type Cells = BTreeMap<(String, String), Sums>;

/// The sums of each bucket's cells from the rows `read` named.
fn bucket_sums(
    periods: &[Bucket],
    read: &CellRead,
    rows: Vec<crate::store::CellFigureRow>,
) -> Vec<Cells> {
    let mut per_bucket: Vec<Cells> = vec![BTreeMap::new(); periods.len()];
    for row in rows {
        let at = row.at.timestamp();
        let key = (row.provider, row.model);
        if row.day {
            if let Some(i) = day_bucket(periods, at) {
                per_bucket[i]
                    .entry(key)
                    .or_default()
                    .add(row.figure, row.cost);
            }
            continue;
        }
        // An hour read beside its day's row moves from the day's bucket to its own.
        let home = match read.days {
            Some(_) => day_bucket(periods, at.div_euclid(DAY) * DAY),
            None => None,
        };
        let own = hour_bucket(periods, at);
        if let Some(i) = own {
            per_bucket[i]
                .entry(key.clone())
                .or_default()
                .add(row.figure, row.cost);
        }
        if let Some(i) = home {
            per_bucket[i]
                .entry(key)
                .or_default()
                .sub(row.figure, row.cost);
        }
    }
    per_bucket
}

/// The reconciliation of `range` by `granularity`.
#[tracing::instrument(level = "debug", skip_all, fields(?granularity), err(level = "debug"))]
pub async fn reconciliation(
    store: &dyn Store,
    range: &ResolvedRange,
    granularity: Granularity,
) -> Result<Reconciliation, StoreError> {
    let periods = buckets(range, granularity);
    let read = plan(
        &periods,
        range.tz,
        range.start.timestamp(),
        range.end.timestamp(),
    );
    let rows = store.cell_figures(&read).await?;
    let per_bucket = bucket_sums(&periods, &read, rows);
    let mut whole: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for cells in &per_bucket {
        for (key, sums) in cells {
            let entry = whole.entry(key.clone()).or_default();
            *entry = entry.plus(*sums);
        }
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Tz;

    use super::*;
    use crate::domain::timeframe::{resolve_range, TimeParam};
    use crate::store::CellFigureRow;

    const FIGURES: [CellFigure; 4] = [
        CellFigure::All,
        CellFigure::Billed,
        CellFigure::BilledCellAttributed,
        CellFigure::Explained,
    ];

    /// A cost for every hour, model and figure of the span (a different prime mix each).
    fn cost(hour: i64, model: usize, figure: usize) -> Pico {
        Pico(i128::from((hour / HOUR) % 997) * 1_000_003 + (model * 7 + figure) as i128 * 31)
    }

    /// What the store would answer for `read`, from hourly costs summed into day rows.
    fn rows_for(read: &CellRead) -> Vec<CellFigureRow> {
        let mut rows = Vec::new();
        let mut push = |at: i64, day: bool, model: usize, figure: usize, cost: Pico| {
            rows.push(CellFigureRow {
                at: DateTime::from_timestamp(at, 0).unwrap(),
                day,
                provider: "anthropic".into(),
                model: format!("m{model}"),
                figure: FIGURES[figure],
                cost,
            });
        };
        for model in 0..2 {
            for figure in 0..4 {
                if let Some((first, end)) = read.days {
                    for day in (first..end).step_by(DAY as usize) {
                        let sum = (day..day + DAY)
                            .step_by(HOUR as usize)
                            .map(|h| cost(h, model, figure))
                            .fold(Pico::ZERO, |a, b| a + b);
                        push(day, true, model, figure, sum);
                    }
                }
                let ranges = read
                    .hours
                    .iter()
                    .flat_map(|(lo, hi)| (*lo..*hi).step_by(HOUR as usize));
                for hour in ranges {
                    push(hour, false, model, figure, cost(hour, model, figure));
                }
                // Listed hours, summed as the store may sum them.
                let mut groups: BTreeMap<(i64, NaiveDate, bool, bool), (i64, Pico)> =
                    BTreeMap::new();
                for &hour in &read.listed {
                    let key = match read.sum_listed {
                        Some((tz, start, end)) => (
                            hour.div_euclid(DAY),
                            DateTime::from_timestamp(hour, 0)
                                .unwrap()
                                .with_timezone(&tz)
                                .date_naive(),
                            hour >= start,
                            hour < end,
                        ),
                        None => (hour, NaiveDate::MIN, false, false),
                    };
                    let group = groups.entry(key).or_insert((hour, Pico::ZERO));
                    group.0 = group.0.min(hour);
                    group.1 += cost(hour, model, figure);
                }
                for (first, sum) in groups.into_values() {
                    push(first, false, model, figure, sum);
                }
            }
        }
        rows
    }

    /// Every bucket's sums, hour by hour: what the plan must reproduce.
    fn naive(periods: &[Bucket]) -> Vec<Cells> {
        periods
            .iter()
            .map(|b| {
                let mut cells = Cells::new();
                for model in 0..2 {
                    let sums = cells
                        .entry(("anthropic".to_string(), format!("m{model}")))
                        .or_default();
                    for hour in (b.start.timestamp()..b.end.timestamp()).step_by(HOUR as usize) {
                        for (figure, kind) in FIGURES.iter().enumerate() {
                            sums.add(*kind, cost(hour, model, figure));
                        }
                    }
                }
                cells
            })
            .collect()
    }

    #[test]
    fn day_rows_and_moved_hours_give_every_bucket_exactly() {
        let date = |y, m, d| TimeParam::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let at = |y, m, d, h| TimeParam::Instant(Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap());
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let zones: [Tz; 5] = [
            chrono_tz::UTC,
            chrono_tz::America::Chicago,
            chrono_tz::Asia::Tokyo,
            chrono_tz::Pacific::Auckland,
            chrono_tz::Pacific::Kiritimati,
        ];
        let ranges = [
            (date(2026, 3, 1), date(2026, 3, 20)),   // US spring forward
            (date(2026, 1, 1), date(2026, 4, 1)),    // 90 days, Auckland's change
            (date(2026, 10, 30), date(2026, 11, 2)), // US fall back, 4 days
            (date(2026, 5, 5), date(2026, 5, 5)),    // one day
            (at(2026, 6, 1, 7), at(2026, 6, 9, 13)), // instants off midnight
        ];
        let mut masked = 0;
        for tz in zones {
            for (start, end) in &ranges {
                let range = resolve_range(Some(*start), Some(*end), tz, now, 30).unwrap();
                for granularity in [Granularity::Day, Granularity::Week, Granularity::Month] {
                    let periods = buckets(&range, granularity);
                    let read = plan(
                        &periods,
                        range.tz,
                        range.start.timestamp(),
                        range.end.timestamp(),
                    );
                    masked += usize::from(!read.listed.is_empty());
                    let got = bucket_sums(&periods, &read, rows_for(&read));
                    assert_eq!(
                        got,
                        naive(&periods),
                        "{tz} {start:?}..{end:?} {granularity:?}: {read:?}"
                    );
                }
            }
        }
        assert!(masked > 0, "some plans list their hours");
        // UTC days need no hour rows at all.
        let first_quarter = |tz: Tz| {
            let range = resolve_range(Some(date(2026, 1, 1)), Some(date(2026, 3, 31)), tz, now, 30)
                .unwrap();
            let periods = buckets(&range, Granularity::Day);
            plan(&periods, tz, range.start.timestamp(), range.end.timestamp())
        };
        assert_eq!(first_quarter(chrono_tz::UTC).hours, Vec::new());
        // Chicago: the six (five in summer) evening hours of each UTC day.
        let read = first_quarter(chrono_tz::America::Chicago);
        let of_day: std::collections::BTreeSet<i64> =
            read.listed.iter().map(|h| h.rem_euclid(DAY)).collect();
        assert_eq!(of_day, (0..6).map(|h| h * HOUR).collect());
        // 90 days: at most six hours of each, plus the last UTC day's.
        assert!(read.listed.len() <= 91 * 6, "{}", read.listed.len());
    }
}
