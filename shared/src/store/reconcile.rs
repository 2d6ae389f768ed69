//! The reconciled basis (issue 14): in every *billed cell* (a UTC hour × provider ×
//! canonical model that a committed collection chunk of that provider covered) the
//! bill is the total and the agents' records explain it.
//!
//! With B the billed records' cost of a cell and A the attributed (pushed, imported)
//! records' cost:
//!
//! - A ≤ B: attributed records count at their own cost; billed records share B − A
//!   in proportion to their cost;
//! - A > B: billed records count 0; attributed records share B in proportion.
//!
//! Cells that are not billed count every record at its own cost. Token and request
//! counts are scaled with the money, so a part's tokens are those it stands for.
//!
//! Storage keeps the raw rollups as they are and adds, per full-key rollup row of a
//! billed cell, its *adjustment* (reconciled − raw) in `rollup_adjustments`, and the
//! same adjustments in the one-dimension rollups under `<dim>@adj`. Reports of the
//! reconciled basis add the two. The one-dimension rollups also keep the billed
//! records' sums under `<dim>@billed` (so `attributed` = raw − billed) and, per cell
//! (`cell`), the reconciliation's figures: `cell@bbill` (B of billed cells),
//! `cell@battr` (A of billed cells), `cell@explained` (min(A, B)).
//!
//! Every transaction that moves rollups directly (a batch write, a collected chunk,
//! the fold of pending deltas, a delete, a re-price, a re-tag) settles the billed
//! cells it touched before it commits ([`settle`]): it reads each cell's rows,
//! computes the adjustments the rule gives and writes the difference from what is
//! stored. Small pushes that defer their deltas are only deferred into cells that
//! are not billed; one that races a collection of its hour is settled by the fold.

use std::collections::{BTreeMap, BTreeSet};

use super::backend::Backend;
use super::db::{Exec, Sql};
use super::rollup::{DimKey, RollupKey, Totals};
use super::rows::{DimRow, RollupRow};
use super::schema::{self, SUM_BINDS};
use super::write::too_large;
use super::StoreError;
use crate::domain::money::Pico;
use crate::domain::usage::Source;

/// The basis a report sums on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// The bill is the total; the agents' records explain it (the default).
    #[default]
    Reconciled,
    /// Every record at its own cost, added up (the sum before issue 14).
    Raw,
    /// The records pulled from the provider admin APIs only.
    Billed,
    /// The records pushed or imported by agents only, at their own cost.
    Attributed,
}

impl Basis {
    pub const ALL: [Basis; 4] = [
        Basis::Reconciled,
        Basis::Raw,
        Basis::Billed,
        Basis::Attributed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Reconciled => "reconciled",
            Basis::Raw => "raw",
            Basis::Billed => "billed",
            Basis::Attributed => "attributed",
        }
    }

    pub fn parse(text: &str) -> Option<Basis> {
        Basis::ALL.into_iter().find(|b| b.as_str() == text)
    }

    /// The one-dimension rollup layers whose sum is this basis, each with its sign.
    pub(crate) fn layers(self) -> &'static [(Layer, i8)] {
        match self {
            Basis::Raw => &[(Layer::Raw, 1)],
            Basis::Billed => &[(Layer::Billed, 1)],
            Basis::Attributed => &[(Layer::Raw, 1), (Layer::Billed, -1)],
            Basis::Reconciled => &[(Layer::Raw, 1), (Layer::Adjustment, 1)],
        }
    }
}

/// A layer of the one-dimension rollups, kept apart by a suffix of the `dim` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    Raw,
    Billed,
    Adjustment,
}

impl Layer {
    /// The stored `dim` of dimension `dim` in this layer (fixed identifiers only).
    pub(crate) fn dim(self, dim: &'static str) -> &'static str {
        match self {
            Layer::Raw => dim,
            Layer::Billed => billed_dim(dim),
            Layer::Adjustment => adjustment_dim(dim),
        }
    }
}

/// The dimension of cells (value: provider, [`CELL_SEPARATOR`], model).
pub(crate) const CELL: &str = "cell";
/// Between a cell's provider and model in its `cell` value.
pub(crate) const CELL_SEPARATOR: char = '\u{1f}';
/// B of billed cells, A of billed cells, min(A, B): the reconciliation's figures.
pub(crate) const CELL_BILLED: &str = "cell@bbill";
pub(crate) const CELL_ATTRIBUTED: &str = "cell@battr";
pub(crate) const CELL_EXPLAINED: &str = "cell@explained";

fn billed_dim(dim: &str) -> &'static str {
    match dim {
        "total" => "total@billed",
        "provider" => "provider@billed",
        "model" => "model@billed",
        "project" => "project@billed",
        "agent" => "agent@billed",
        "session_type" => "session_type@billed",
        "source" => "source@billed",
        _ => "cell@billed",
    }
}

fn adjustment_dim(dim: &str) -> &'static str {
    match dim {
        "total" => "total@adj",
        "provider" => "provider@adj",
        "model" => "model@adj",
        "project" => "project@adj",
        "agent" => "agent@adj",
        "session_type" => "session_type@adj",
        "source" => "source@adj",
        _ => "cell@adj",
    }
}

/// Whether records of this source are the bill (pulled from an admin API).
pub fn is_billed(source: Source) -> bool {
    matches!(source, Source::Anthropic | Source::Openai)
}

/// The `cell` value of a rollup key.
pub(crate) fn cell_value(provider: &str, model: &str) -> String {
    format!("{provider}{CELL_SEPARATOR}{model}")
}

/// Hours a committed collection chunk covered: `[start, end)`, whole UTC hours in
/// epoch seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub provider: String,
    pub start: i64,
    pub end: i64,
}

impl Coverage {
    /// The whole hours of `[start, end)` (a partial last hour is not covered: its bill
    /// is still growing, so its records count at their own cost until it is complete).
    pub fn of_range(provider: &str, start: i64, end: i64) -> Coverage {
        Coverage {
            provider: provider.to_string(),
            start: start + (3600 - start.rem_euclid(3600)) % 3600,
            end: end - end.rem_euclid(3600),
        }
    }

    fn hours(&self) -> impl Iterator<Item = i64> + '_ {
        (self.start..self.end).step_by(3600)
    }
}

/// `(provider, hour)` pairs: the unit of coverage and of settling.
pub(crate) type Pair = (String, i64);

/// `value · num / den` rounded down, and the remainder, without overflow for any
/// non-negative `value`, `num` ≤ `den` and `den` > 0 (a 256-bit product when needed).
fn mul_div(value: i128, num: i128, den: i128) -> (i128, i128) {
    if let Some(product) = value.checked_mul(num) {
        return (product.div_euclid(den), product.rem_euclid(den));
    }
    // value · num / den = q · num + (r · num) / den with value = q · den + r, and
    // r · num < den · num, which fits whenever den · num does; the sums involved
    // are far below 2⁶³ in every realistic ledger, so this path is a safety net.
    let (q, r) = (value.div_euclid(den), value.rem_euclid(den));
    let head = q * num;
    match r.checked_mul(num) {
        Some(p) => (head + p.div_euclid(den), p.rem_euclid(den)),
        None => {
            // Both above 2⁶³: scale the fraction down (exact to about 2⁻⁶⁰).
            let shift = 128 - den.leading_zeros().min(num.leading_zeros()) as i32 - 62;
            let (n, d) = (num >> shift, (den >> shift).max(1));
            let p = r * n;
            (head + p / d, 0)
        }
    }
}

/// Scales `values` (non-negative) by `num / den`, rounding so the parts add up to
/// the rounded scaled sum (largest remainder; ties to the earlier value).
fn scale(values: &[i128], num: i128, den: i128) -> Vec<i128> {
    if num == den {
        return values.to_vec();
    }
    if num == 0 {
        return vec![0; values.len()];
    }
    let total: i128 = values.iter().sum();
    let (exact, rest) = mul_div(total, num, den);
    let target = exact + i128::from(2 * rest >= den);
    let mut parts = Vec::with_capacity(values.len());
    let mut remainders = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        let (q, r) = mul_div(v, num, den);
        parts.push(q);
        remainders.push((r, i));
    }
    let mut missing = target - parts.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if missing <= 0 {
            break;
        }
        parts[i] += 1;
        missing -= 1;
    }
    parts
}

/// Scales every sum of the rows but their count of records by `num / den`.
fn scale_rows(rows: &[&Totals], num: i128, den: i128) -> Vec<Totals> {
    let columns: Vec<Vec<i128>> = (0..9)
        .map(|k| {
            let values: Vec<i128> = rows.iter().map(|t| t.wide()[k]).collect();
            scale(&values, num, den)
        })
        .collect();
    (0..rows.len())
        .map(|i| Totals::from_wide(rows[i].records, std::array::from_fn(|k| columns[k][i])))
        .collect()
}

/// One billed cell's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CellFigures {
    pub billed: Pico,
    pub attributed: Pico,
}

impl CellFigures {
    pub fn explained(self) -> Pico {
        self.billed.min(self.attributed)
    }
}

/// The reconciled sums of one billed cell's rows (in key order), and its figures.
pub(crate) fn reconcile_cell(rows: &[(RollupKey, Totals)]) -> (Vec<Totals>, CellFigures) {
    let (billed, attributed): (Vec<usize>, Vec<usize>) =
        (0..rows.len()).partition(|&i| is_billed(rows[i].0.source));
    let cost = |idx: &[usize]| idx.iter().map(|&i| rows[i].1.cost.0).sum::<i128>();
    let (b, a) = (cost(&billed), cost(&attributed));
    let mut out: Vec<Totals> = rows.iter().map(|(_, t)| *t).collect();
    let mut apply = |idx: &[usize], num: i128, den: i128| {
        let scaled = scale_rows(
            &idx.iter().map(|&i| &rows[i].1).collect::<Vec<_>>(),
            num,
            den,
        );
        for (&i, t) in idx.iter().zip(scaled) {
            out[i] = t;
        }
    };
    if a <= b {
        if b > 0 {
            apply(&billed, b - a, b);
        }
    } else {
        apply(&billed, 0, 1);
        apply(&attributed, b, a);
    }
    let figures = CellFigures {
        billed: Pico(b),
        attributed: Pico(a),
    };
    (out, figures)
}

/// Postgres: transaction-scoped advisory locks on these pairs, in one order, so two
/// transactions never settle the same cell at once and a collection commit of an
/// hour waits for a write into it (and the other way round).
async fn lock_pairs(
    exec: &mut Exec<'_>,
    db: &Backend,
    pairs: &BTreeSet<Pair>,
) -> Result<(), StoreError> {
    if !db.is_postgres() || pairs.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<i64> = pairs.iter().map(pair_lock_key).collect();
    keys.sort_unstable();
    keys.dedup();
    // Computed integers, never input; the select list is evaluated in order.
    for chunk in keys.chunks(100) {
        let list: Vec<String> = chunk
            .iter()
            .map(|k| format!("pg_advisory_xact_lock({k})"))
            .collect();
        let text = format!("SELECT {}", list.join(", "));
        exec.execute(Sql::new(&text).once()).await?;
    }
    Ok(())
}

/// A stable 64-bit key of a pair (FNV-1a of the provider, mixed with the hour).
fn pair_lock_key((provider, hour): &Pair) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in provider.bytes().chain(hour.to_le_bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // A namespace bit keeps these apart from any other use of advisory locks.
    (h >> 1) as i64 | (1 << 62)
}

/// The pairs of `pairs` that a collection covered.
pub(crate) async fn covered(
    exec: &mut Exec<'_>,
    pairs: &BTreeSet<Pair>,
) -> Result<BTreeSet<Pair>, StoreError> {
    let mut out = BTreeSet::new();
    let mut by_provider: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (provider, hour) in pairs {
        by_provider.entry(provider).or_default().push(*hour);
    }
    for (provider, hours) in by_provider {
        let (lo, hi) = (hours[0], hours[hours.len() - 1]);
        let sql = Sql::new(
            "SELECT hour_start FROM billed_hours WHERE provider = $1 \
             AND hour_start >= $2 AND hour_start <= $3",
        )
        .bind(provider)
        .bind(lo)
        .bind(hi);
        let rows: Vec<(i64,)> = exec.fetch_all(sql).await?;
        let wanted: BTreeSet<i64> = hours.into_iter().collect();
        for (hour,) in rows {
            if wanted.contains(&hour) {
                out.insert((provider.to_string(), hour));
            }
        }
    }
    Ok(out)
}

/// Records the hours of `coverage` as billed; returns them as pairs.
async fn cover(
    exec: &mut Exec<'_>,
    db: &Backend,
    coverage: &Coverage,
) -> Result<BTreeSet<Pair>, StoreError> {
    let hours: Vec<i64> = coverage.hours().collect();
    for chunk in hours.chunks(200) {
        let text = format!(
            "INSERT INTO billed_hours (provider, hour_start) VALUES {} \
             ON CONFLICT (provider, hour_start) DO NOTHING",
            schema::values_list(chunk.len(), 2, db.params())
        );
        let mut sql = Sql::with_capacity(&text, chunk.len() * 2).multi_row(chunk.len(), 200);
        for &hour in chunk {
            sql.push(coverage.provider.as_str());
            sql.push(hour);
        }
        exec.execute(sql).await?;
    }
    Ok(hours
        .into_iter()
        .map(|h| (coverage.provider.clone(), h))
        .collect())
}

/// Takes the locks a direct rollup change needs (Postgres), before any rollup row
/// is written; `coverage` adds the hours a collection chunk covers.
pub(crate) async fn prepare(
    exec: &mut Exec<'_>,
    db: &Backend,
    touched: &BTreeSet<Pair>,
    coverage: Option<&Coverage>,
) -> Result<(), StoreError> {
    let mut pairs = touched.clone();
    if let Some(c) = coverage {
        pairs.extend(c.hours().map(|h| (c.provider.clone(), h)));
    }
    lock_pairs(exec, db, &pairs).await
}

/// Settles the billed cells of `touched` (and records `coverage` first): see the
/// module documentation. Runs after the raw rollup deltas are applied.
pub(crate) async fn settle(
    exec: &mut Exec<'_>,
    db: &Backend,
    touched: &BTreeSet<Pair>,
    coverage: Option<&Coverage>,
) -> Result<(), StoreError> {
    let mut billed = covered(exec, touched).await?;
    if let Some(c) = coverage {
        billed.extend(cover(exec, db, c).await?);
    }
    if billed.is_empty() {
        return Ok(());
    }
    let mut by_provider: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (provider, hour) in &billed {
        by_provider.entry(provider.clone()).or_default().push(*hour);
    }
    let mut adjustments: BTreeMap<RollupKey, Totals> = BTreeMap::new();
    let mut figures: Vec<(DimKey, Totals)> = Vec::new();
    for (provider, hours) in by_provider {
        // Hours in runs of consecutive ones, each read in one range.
        for (lo, hi) in runs(&hours) {
            settle_range(exec, &provider, (lo, hi), &mut adjustments, &mut figures).await?;
        }
    }
    let lo = billed.iter().map(|(_, h)| *h).min().unwrap_or_default();
    let hi = billed.iter().map(|(_, h)| *h).max().unwrap_or_default() + 3600;
    write_adjustments(exec, db, adjustments, figures, (lo, hi)).await
}

/// `[lo, hi]` runs of consecutive hours (sorted input), gaps of a day or more split.
fn runs(hours: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &h in hours {
        match out.last_mut() {
            Some((_, hi)) if h - *hi < 86_400 => *hi = h,
            _ => out.push((h, h)),
        }
    }
    out
}

const CELL_FIGURES: [&str; 3] = [CELL_BILLED, CELL_ATTRIBUTED, CELL_EXPLAINED];

/// Settles every cell of `provider` in the hours `[lo, hi]` that are billed (the
/// caller passes runs of billed hours; hours between them in a run are checked).
async fn settle_range(
    exec: &mut Exec<'_>,
    provider: &str,
    (lo, hi): (i64, i64),
    adjustments: &mut BTreeMap<RollupKey, Totals>,
    figures: &mut Vec<(DimKey, Totals)>,
) -> Result<(), StoreError> {
    let cols = format!(
        "{}, {}",
        schema::ROLLUP_KEY.join(", "),
        schema::SUM_COLUMNS.join(", ")
    );
    let range = "provider = $1 AND hour_start >= $2 AND hour_start < $3";
    let hours_text = format!("SELECT hour_start FROM billed_hours WHERE {range}");
    let raw_text = format!("SELECT {cols} FROM usage_rollups_live WHERE {range}");
    let stored_text = format!("SELECT {cols} FROM rollup_adjustments WHERE {range}");
    let bounds = |text| Sql::new(text).bind(provider).bind(lo).bind(hi + 1);
    let billed_hours: BTreeSet<i64> = {
        let rows: Vec<(i64,)> = exec.fetch_all(bounds(&hours_text)).await?;
        rows.into_iter().map(|(h,)| h).collect()
    };
    let raw_rows: Vec<RollupRow> = exec.fetch_all(bounds(&raw_text)).await?;
    let stored_rows: Vec<RollupRow> = exec.fetch_all(bounds(&stored_text)).await?;
    // The stored figures: one-dimension `cell@…` hour rows (this provider's are kept).
    let figure_text = format!(
        "SELECT dim, bucket_start, value, {} FROM usage_rollup_dims \
         WHERE dim IN ('{}', '{}', '{}') AND grain = 'h' AND bucket_start >= $1 \
         AND bucket_start < $2",
        schema::SUM_COLUMNS.join(", "),
        CELL_FIGURES[0],
        CELL_FIGURES[1],
        CELL_FIGURES[2],
    );
    let figure_sql = Sql::new(&figure_text).bind(lo).bind(hi + 1);
    let stored_figures: Vec<DimRow> = exec.fetch_all(figure_sql).await?;

    // Cells: (hour, model) → rows by key.
    type Cell = BTreeMap<RollupKey, (Totals, Totals)>;
    let mut cells: BTreeMap<(i64, String), Cell> = BTreeMap::new();
    for row in raw_rows {
        let (key, totals): (RollupKey, Totals) = row.try_into()?;
        if billed_hours.contains(&key.hour_start) {
            let cell = cells
                .entry((key.hour_start, key.model.clone()))
                .or_default();
            cell.entry(key).or_default().0 += totals;
        }
    }
    for row in stored_rows {
        let (key, totals): (RollupKey, Totals) = row.try_into()?;
        if billed_hours.contains(&key.hour_start) {
            let cell = cells
                .entry((key.hour_start, key.model.clone()))
                .or_default();
            cell.entry(key).or_default().1 += totals;
        }
    }
    let mut old_figures: BTreeMap<(i64, String), [Pico; 3]> = BTreeMap::new();
    for row in stored_figures {
        let Some((cell_provider, model)) = row.value.split_once(CELL_SEPARATOR) else {
            continue;
        };
        if cell_provider != provider || !billed_hours.contains(&row.bucket_start) {
            continue;
        }
        let model = model.to_string();
        let slot = CELL_FIGURES.iter().position(|d| *d == row.dim).unwrap_or(0);
        let totals: Totals = row.sums.into();
        old_figures
            .entry((row.bucket_start, model.clone()))
            .or_default()[slot] = totals.cost;
        cells.entry((row.bucket_start, model)).or_default();
    }

    for ((hour, model), cell) in cells {
        let rows: Vec<(RollupKey, Totals)> = cell
            .iter()
            .filter(|(_, (raw, _))| !raw.is_zero())
            .map(|(k, (raw, _))| (k.clone(), *raw))
            .collect();
        let (reconciled, fig) = reconcile_cell(&rows);
        let mut targets: BTreeMap<&RollupKey, Totals> = BTreeMap::new();
        for ((key, raw), rec) in rows.iter().zip(reconciled) {
            let mut adj = rec;
            adj -= *raw;
            adj.records = 0;
            targets.insert(key, adj);
        }
        for (key, (_, stored)) in &cell {
            let mut delta = targets.get(key).copied().unwrap_or_default();
            delta -= *stored;
            if !delta.is_zero() {
                *adjustments.entry(key.clone()).or_default() += delta;
            }
        }
        let old = old_figures
            .get(&(hour, model.clone()))
            .copied()
            .unwrap_or_default();
        let new = [fig.billed, fig.attributed, fig.explained()];
        let value = cell_value(provider, &model);
        let day = hour - hour.rem_euclid(86_400);
        for (i, dim) in CELL_FIGURES.into_iter().enumerate() {
            let change = new[i] - old[i];
            if change.0 == 0 {
                continue;
            }
            let totals = Totals {
                cost: change,
                ..Totals::default()
            };
            for (grain, bucket_start) in [("h", hour), ("d", day)] {
                figures.push((
                    DimKey {
                        dim,
                        grain,
                        bucket_start,
                        value: value.clone(),
                    },
                    totals,
                ));
            }
        }
    }
    Ok(())
}

/// Adds the adjustment deltas to `rollup_adjustments` and to the `@adj` one-dimension
/// rows, and the figures' deltas to the `cell@…` rows; deletes rows that reach zero.
async fn write_adjustments(
    exec: &mut Exec<'_>,
    db: &Backend,
    adjustments: BTreeMap<RollupKey, Totals>,
    figures: Vec<(DimKey, Totals)>,
    (lo, hi): (i64, i64),
) -> Result<(), StoreError> {
    let changes: Vec<(RollupKey, Totals)> = adjustments.into_iter().collect();
    if changes.is_empty() && figures.is_empty() {
        return Ok(());
    }
    let per_statement = db.rows_per_statement();
    let width = schema::ROLLUP_KEY.len() + SUM_BINDS;
    for chunk in changes.chunks(per_statement) {
        let text = schema::upsert_full_key_sql("rollup_adjustments", chunk.len());
        let mut statement =
            Sql::with_capacity(&text, chunk.len() * width).multi_row(chunk.len(), per_statement);
        for (key, totals) in chunk {
            for value in schema::key_values(key) {
                statement.push(value);
            }
            for value in schema::sum_values(totals).ok_or_else(too_large)? {
                statement.push(value);
            }
        }
        exec.execute(statement).await?;
    }
    let mut dims: BTreeMap<DimKey, Totals> = BTreeMap::new();
    for (key, totals) in super::rollup::dim_changes_in(&changes, Layer::Adjustment) {
        *dims.entry(key).or_default() += totals;
    }
    for (key, totals) in figures {
        *dims.entry(key).or_default() += totals;
    }
    let dims: Vec<(DimKey, Totals)> = dims.into_iter().filter(|(_, t)| !t.is_zero()).collect();
    super::write::upsert_dims(exec, per_statement, &dims).await?;
    // Rows that reached zero, in the hours (and their days) settled only.
    let sql = Sql::new(&schema::DELETE_EMPTY_ADJUSTMENTS)
        .bind(lo)
        .bind(hi);
    exec.execute(sql).await?;
    let sql = Sql::new(&schema::DELETE_EMPTY_LAYER_DIMS)
        .bind(lo - lo.rem_euclid(86_400))
        .bind(hi);
    exec.execute(sql).await?;
    Ok(())
}

/// Settles every billed hour (after the migration that introduced the layers).
pub(crate) async fn settle_all(exec: &mut Exec<'_>, db: &Backend) -> Result<(), StoreError> {
    let rows: Vec<(String, i64)> = exec
        .fetch_all(Sql::new(
            "SELECT provider, hour_start FROM billed_hours ORDER BY provider, hour_start",
        ))
        .await?;
    for chunk in rows.chunks(24 * 7) {
        let pairs: BTreeSet<Pair> = chunk.iter().cloned().collect();
        settle(exec, db, &pairs, None).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::usage::SessionType;

    fn key(source: Source, project: &str) -> RollupKey {
        RollupKey {
            hour_start: 0,
            provider: "anthropic".into(),
            model: "claude-sonnet-4-5".into(),
            project: project.into(),
            agent: String::new(),
            session_type: if is_billed(source) {
                SessionType::Other
            } else {
                SessionType::Main
            },
            source,
        }
    }

    fn costing(pico: i128, tokens: i128) -> Totals {
        Totals {
            records: 1,
            requests: 1,
            input_tokens: tokens,
            cost: Pico(pico),
            ..Totals::default()
        }
    }

    #[test]
    fn scaling_keeps_the_rounded_sum_and_gives_ties_to_the_first() {
        assert_eq!(scale(&[1, 1, 1], 1, 2), vec![1, 1, 0]);
        assert_eq!(scale(&[10, 20, 30], 1, 3), vec![3, 7, 10]);
        assert_eq!(scale(&[7, 0, 5], 0, 9), vec![0, 0, 0]);
        assert_eq!(scale(&[7, 0, 5], 9, 9), vec![7, 0, 5]);
        let big = i128::MAX / 4;
        let parts = scale(&[big, big], big - 1, big);
        assert!(parts.iter().all(|p| *p > 0 && *p <= big));
    }

    #[test]
    fn a_partly_explained_cell_keeps_the_agents_and_scales_the_bill() {
        let rows = vec![
            (key(Source::Push, "PeakPaws"), costing(30, 300)),
            (key(Source::Anthropic, "Other"), costing(100, 1000)),
        ];
        let (rec, fig) = reconcile_cell(&rows);
        assert_eq!(rec[0], rows[0].1);
        assert_eq!(rec[1].cost, Pico(70));
        assert_eq!(rec[1].input_tokens, 700);
        assert_eq!(rec[1].records, 1);
        assert_eq!(fig.explained(), Pico(30));
        assert_eq!(rec[0].cost + rec[1].cost, Pico(100));
    }

    #[test]
    fn an_over_attributed_cell_scales_the_agents_to_the_bill() {
        let rows = vec![
            (key(Source::Import, "A"), costing(90, 9)),
            (key(Source::Push, "B"), costing(60, 6)),
            (key(Source::Anthropic, "Other"), costing(100, 10)),
        ];
        let (rec, fig) = reconcile_cell(&rows);
        assert_eq!(rec[2].cost, Pico(0));
        assert_eq!(rec[2].input_tokens, 0);
        assert_eq!(rec[0].cost + rec[1].cost, Pico(100));
        assert_eq!((rec[0].cost, rec[1].cost), (Pico(60), Pico(40)));
        assert_eq!(fig.attributed - fig.explained(), Pico(50));
    }

    #[test]
    fn a_covered_hour_without_a_bill_counts_nothing() {
        let rows = vec![(key(Source::Push, "A"), costing(90, 9))];
        let (rec, fig) = reconcile_cell(&rows);
        assert_eq!(rec[0].cost, Pico(0));
        assert_eq!(fig.explained(), Pico(0));
    }

    #[test]
    fn whole_hours_only_are_covered() {
        let c = Coverage::of_range("openai", 1800, 3 * 3600 + 5);
        assert_eq!((c.start, c.end), (3600, 3 * 3600));
        assert_eq!(c.hours().collect::<Vec<_>>(), vec![3600, 7200]);
        let runs = runs(&[0, 3600, 7200, 86_400 * 3]);
        assert_eq!(runs, vec![(0, 7200), (86_400 * 3, 86_400 * 3)]);
    }
}
