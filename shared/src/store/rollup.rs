//! Rollup rows (per UTC hour × provider × model × project × agent × session type ×
//! source), the deltas a write applies to them, and the filters and groupings reports ask for.

use std::collections::BTreeMap;
use std::ops::{AddAssign, SubAssign};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::reconcile::{cell_value, is_billed, Layer, CELL};
use crate::domain::money::Pico;
use crate::domain::usage::{SessionType, Source, UsageRecord};

/// Sums kept per rollup row and returned by every report query. Every sum but the
/// count of records is 128-bit: no ledger the API accepts can overflow it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub records: i64,
    pub requests: i128,
    /// Requests of unpriced records; a record that reports no request count
    /// (a pulled bucket) counts as one, so it is never hidden.
    pub unpriced_requests: i128,
    pub input_tokens: i128,
    pub output_tokens: i128,
    pub cache_read_tokens: i128,
    pub cache_write_5m_tokens: i128,
    pub cache_write_1h_tokens: i128,
    pub web_search_requests: i128,
    pub cost: Pico,
}

impl Totals {
    /// One record's contribution.
    pub fn of(record: &UsageRecord) -> Totals {
        let t = &record.facts.tokens;
        Totals {
            records: 1,
            requests: t.requests.into(),
            unpriced_requests: if record.unpriced {
                t.requests.max(1).into()
            } else {
                0
            },
            input_tokens: t.input.into(),
            output_tokens: t.output.into(),
            cache_read_tokens: t.cache_read.into(),
            cache_write_5m_tokens: t.cache_write_5m.into(),
            cache_write_1h_tokens: t.cache_write_1h.into(),
            web_search_requests: t.web_search_requests.into(),
            cost: record.cost,
        }
    }

    /// True when adding this changes nothing.
    pub fn is_zero(&self) -> bool {
        *self == Totals::default()
    }

    /// The wide sums in [`SUMS`](super::schema::SUMS) order after `records`.
    pub(crate) fn wide(&self) -> [i128; 9] {
        [
            self.requests,
            self.unpriced_requests,
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_5m_tokens,
            self.cache_write_1h_tokens,
            self.web_search_requests,
            self.cost.0,
        ]
    }

    /// Totals from a count and the wide sums in [`Totals::wide`] order.
    pub(crate) fn from_wide(records: i64, wide: [i128; 9]) -> Totals {
        let [requests, unpriced_requests, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, cost] =
            wide;
        Totals {
            records,
            requests,
            unpriced_requests,
            input_tokens,
            output_tokens,
            cache_read_tokens,
            cache_write_5m_tokens,
            cache_write_1h_tokens,
            web_search_requests,
            cost: Pico(cost),
        }
    }
}

impl AddAssign for Totals {
    fn add_assign(&mut self, o: Totals) {
        self.records += o.records;
        self.requests += o.requests;
        self.unpriced_requests += o.unpriced_requests;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_tokens += o.cache_read_tokens;
        self.cache_write_5m_tokens += o.cache_write_5m_tokens;
        self.cache_write_1h_tokens += o.cache_write_1h_tokens;
        self.web_search_requests += o.web_search_requests;
        self.cost += o.cost;
    }
}

impl SubAssign for Totals {
    fn sub_assign(&mut self, o: Totals) {
        self.records -= o.records;
        self.requests -= o.requests;
        self.unpriced_requests -= o.unpriced_requests;
        self.input_tokens -= o.input_tokens;
        self.output_tokens -= o.output_tokens;
        self.cache_read_tokens -= o.cache_read_tokens;
        self.cache_write_5m_tokens -= o.cache_write_5m_tokens;
        self.cache_write_1h_tokens -= o.cache_write_1h_tokens;
        self.web_search_requests -= o.web_search_requests;
        self.cost = self.cost - o.cost;
    }
}

/// The primary key of a rollup row. An absent agent is stored as `""`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub hour_start: i64,
    pub provider: String,
    pub model: String,
    pub project: String,
    pub agent: String,
    pub session_type: SessionType,
    pub source: Source,
}

impl RollupKey {
    pub fn of(record: &UsageRecord) -> RollupKey {
        RollupKey {
            hour_start: hour_start(record.facts.recorded_at),
            provider: record.provider.clone(),
            model: record.model_key.clone(),
            project: record.project.clone(),
            agent: record.agent.clone().unwrap_or_default(),
            session_type: record.session_type,
            source: record.facts.source,
        }
    }
}

/// Epoch seconds of the UTC hour containing `at`.
pub fn hour_start(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600) * 3600
}

/// Rollup changes accumulated by one transaction, applied in key order so
/// concurrent writers lock rows in the same order.
#[derive(Debug, Default)]
pub struct RollupDeltas(BTreeMap<RollupKey, Totals>);

impl RollupDeltas {
    pub fn add(&mut self, key: RollupKey, totals: Totals) {
        *self.0.entry(key).or_default() += totals;
    }

    pub fn subtract(&mut self, key: RollupKey, totals: Totals) {
        *self.0.entry(key).or_default() -= totals;
    }

    pub fn add_record(&mut self, record: &UsageRecord) {
        self.add(RollupKey::of(record), Totals::of(record));
    }

    pub fn subtract_record(&mut self, record: &UsageRecord) {
        self.subtract(RollupKey::of(record), Totals::of(record));
    }

    /// The `(provider, hour)` pairs the deltas touch.
    pub(crate) fn pairs(&self) -> std::collections::BTreeSet<(String, i64)> {
        self.0
            .keys()
            .map(|k| (k.provider.clone(), k.hour_start))
            .collect()
    }

    /// Whether any delta takes records away (a delete, an update, a retag).
    pub fn removes_records(&self) -> bool {
        self.0.values().any(|t| t.records < 0)
    }

    /// Non-zero deltas in key order.
    pub fn into_changes(self) -> impl Iterator<Item = (RollupKey, Totals)> {
        self.0.into_iter().filter(|(_, t)| !t.is_zero())
    }
}

/// A row of `usage_rollup_dims`: one dimension's value in one UTC hour (`h`) or day (`d`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DimKey {
    pub dim: &'static str,
    pub grain: &'static str,
    pub bucket_start: i64,
    pub value: String,
}

/// The one-dimension rollup changes implied by full-key changes of records, in key
/// order: each change counts once in the total (value `""`), once in every
/// [`Dimension`] and once in its cell (provider and model), per UTC hour (`h`) and
/// day (`d`); a change of billed records counts again in the `@billed` layer.
pub(crate) fn dim_changes(changes: &[(RollupKey, Totals)]) -> Vec<(DimKey, Totals)> {
    let mut dims: BTreeMap<DimKey, Totals> = BTreeMap::new();
    for (key, totals) in changes {
        let cell = cell_value(&key.provider, &key.model);
        let mut layers = vec![Layer::Raw];
        if is_billed(key.source) {
            layers.push(Layer::Billed);
        }
        for layer in layers {
            add_dims(&mut dims, key, totals, layer, Some(&cell));
        }
    }
    dims.into_iter().filter(|(_, t)| !t.is_zero()).collect()
}

/// The one-dimension changes of full-key changes in one layer (no cell rows), in key order.
pub(crate) fn dim_changes_in(
    changes: &[(RollupKey, Totals)],
    layer: Layer,
) -> Vec<(DimKey, Totals)> {
    let mut dims: BTreeMap<DimKey, Totals> = BTreeMap::new();
    for (key, totals) in changes {
        add_dims(&mut dims, key, totals, layer, None);
    }
    dims.into_iter().filter(|(_, t)| !t.is_zero()).collect()
}

fn add_dims(
    dims: &mut BTreeMap<DimKey, Totals>,
    key: &RollupKey,
    totals: &Totals,
    layer: Layer,
    cell: Option<&str>,
) {
    let day = key.hour_start - key.hour_start.rem_euclid(86_400);
    let values = std::iter::once(("total", ""))
        .chain(Dimension::ALL.map(|d| (d.column(), d.value_of(key))))
        .chain(cell.map(|c| (CELL, c)));
    for (dim, value) in values {
        for (grain, bucket_start) in [("h", key.hour_start), ("d", day)] {
            *dims
                .entry(DimKey {
                    dim: layer.dim(dim),
                    grain,
                    bucket_start,
                    value: value.to_string(),
                })
                .or_default() += *totals;
        }
    }
}

/// A rollup column reports can group or filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Provider,
    Model,
    Project,
    Agent,
    SessionType,
    Source,
}

impl Dimension {
    /// Every dimension, in the order the rollup key lists them.
    pub const ALL: [Dimension; 6] = [
        Dimension::Provider,
        Dimension::Model,
        Dimension::Project,
        Dimension::Agent,
        Dimension::SessionType,
        Dimension::Source,
    ];

    /// The column name (a fixed identifier, never user input).
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Provider => "provider",
            Dimension::Model => "model",
            Dimension::Project => "project",
            Dimension::Agent => "agent",
            Dimension::SessionType => "session_type",
            Dimension::Source => "source",
        }
    }

    /// This dimension's value in a rollup key.
    pub fn value_of(self, key: &RollupKey) -> &str {
        match self {
            Dimension::Provider => &key.provider,
            Dimension::Model => &key.model,
            Dimension::Project => &key.project,
            Dimension::Agent => &key.agent,
            Dimension::SessionType => key.session_type.as_str(),
            Dimension::Source => key.source.as_str(),
        }
    }
}

/// Equality filters, every cost endpoint accepts all of them; and the basis the
/// sums are on (reconciled unless asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub basis: super::reconcile::Basis,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub project: Option<String>,
    pub agent: Option<String>,
    pub session_type: Option<String>,
    pub source: Option<String>,
}

impl Filters {
    /// `(column, value)` pairs of the filters that are set.
    pub fn pairs(&self) -> Vec<(Dimension, &str)> {
        [
            (Dimension::Provider, &self.provider),
            (Dimension::Model, &self.model),
            (Dimension::Project, &self.project),
            (Dimension::Agent, &self.agent),
            (Dimension::SessionType, &self.session_type),
            (Dimension::Source, &self.source),
        ]
        .into_iter()
        .filter_map(|(dim, value)| value.as_deref().map(|v| (dim, v)))
        .collect()
    }
}

/// How rollup sums are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Total,
    Hour,
    By(Dimension),
    HourBy(Dimension),
    /// Per local day of the zone (and value): each key's hour is one hour of its
    /// day (its first with rows), so a caller cutting local days, weeks or months
    /// puts it in the right bucket. A store may answer by the hour instead.
    Day(chrono_tz::Tz),
    DayBy(Dimension, chrono_tz::Tz),
}

/// The group a row of [`crate::store::Store::rollup_totals`] belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupKey {
    pub hour: Option<DateTime<Utc>>,
    pub value: Option<String>,
}
