//! `GET /costs/bill-check` and `cost-tracker bill-check`: the providers' daily bills
//! (pulled with each collection, [`crate::store::BilledLine`]) against our computed
//! cost of the pulled usage, per UTC day and provider, and per model and token kind
//! where the bill names them. A model-day off by more than 1 % is a `price_mismatch`,
//! naming the token kinds that differ.
//!
//! "Computed" is every collected (`anthropic`, `openai`) record of the day priced
//! with the catalog given, token kind by token kind
//! ([`PriceCatalog::quote_breakdown`]). Anthropic priority-tier usage is left out: the
//! cost report never bills it (provider-apis.md §1.2). A bill line that names a kind
//! but no model (Anthropic web search) is compared with that kind of every model of
//! the day. This is an audit: it reads the day's raw records, not the rollups.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::domain::money::{round_usd, serialize_decimal, Pico};
use crate::domain::pricing::PriceCatalog;
use crate::domain::usage::{PricingInput, UsageRecord};
use crate::store::reconcile::is_billed;
use crate::store::{Store, StoreError};

/// A model-day (or a token kind of one) whose bill differs from our figure by more
/// than this percentage is flagged.
pub const THRESHOLD_PERCENT: Decimal = Decimal::ONE;

/// Records read per page.
const PAGE: i64 = 5_000;

/// Billed, computed, and the difference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pair {
    billed: Pico,
    computed: Pico,
}

impl Pair {
    /// `(billed − computed) ÷ computed × 100`; `None` when nothing was computed.
    fn percent(self) -> Option<Decimal> {
        (self.computed.0 != 0).then(|| {
            ((self.billed - self.computed).usd() / self.computed.usd() * Decimal::ONE_HUNDRED)
                .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
                .normalize()
        })
    }

    /// Off by more than [`THRESHOLD_PERCENT`] (anything billed against nothing computed,
    /// or the reverse, is).
    fn differs(self) -> bool {
        let difference = (self.billed - self.computed).usd().abs();
        if self.computed.0 == 0 {
            return self.billed.0 != 0;
        }
        difference * Decimal::ONE_HUNDRED > self.computed.usd().abs() * THRESHOLD_PERCENT
    }

    fn plus(self, o: Pair) -> Pair {
        Pair {
            billed: self.billed + o.billed,
            computed: self.computed + o.computed,
        }
    }
}

/// USD figures of a comparison, rounded to the micro-dollar.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BillFigures {
    /// The provider's charge.
    #[serde(serialize_with = "serialize_decimal")]
    pub billed_usd: Decimal,
    /// Our computed cost of the pulled usage.
    #[serde(serialize_with = "serialize_decimal")]
    pub computed_usd: Decimal,
    /// `billed_usd − computed_usd`.
    #[serde(serialize_with = "serialize_decimal")]
    pub difference_usd: Decimal,
    /// `difference ÷ computed × 100` (4 decimals); null when nothing was computed.
    #[serde(serialize_with = "serialize_optional_decimal")]
    #[schema(value_type = Option<f64>)]
    pub percent: Option<Decimal>,
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

impl From<Pair> for BillFigures {
    fn from(p: Pair) -> BillFigures {
        let usd = |v: Pico| round_usd(v.usd());
        BillFigures {
            billed_usd: usd(p.billed),
            computed_usd: usd(p.computed),
            difference_usd: usd(p.billed - p.computed),
            percent: p.percent(),
        }
    }
}

/// One token kind of a model-day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KindCheck {
    /// `input`, `output`, `cache_read`, `cache_write_5m`, `cache_write_1h`,
    /// `web_search`, another kind the bill names, or null when it names none.
    pub token_kind: Option<String>,
    #[serde(flatten)]
    pub figures: BillFigures,
    /// Off by more than 1 %.
    pub differs: bool,
}

/// One model of a provider's day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelCheck {
    /// The model (canonical id when priced); null for bill lines that name none.
    pub model: Option<String>,
    #[serde(flatten)]
    pub figures: BillFigures,
    /// The model-day is off by more than 1 %.
    pub price_mismatch: bool,
    pub token_kinds: Vec<KindCheck>,
}

/// One provider's UTC day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayCheck {
    pub date: NaiveDate,
    pub provider: String,
    /// Whether a collection pulled this day's bill (else `billed_usd` is 0 and
    /// nothing is flagged).
    pub bill_pulled: bool,
    #[serde(flatten)]
    pub figures: BillFigures,
    /// Some model of the day is a `price_mismatch`.
    pub flagged: bool,
    /// By model, billed first.
    pub models: Vec<ModelCheck>,
}

/// A flagged model-day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Mismatch {
    pub date: NaiveDate,
    pub provider: String,
    pub model: String,
    /// The token kinds off by more than 1 % (or, when none is on its own, the one
    /// off the most).
    pub token_kinds: Vec<String>,
    #[serde(flatten)]
    pub figures: BillFigures,
}

/// The bill check of whole UTC days.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BillCheck {
    pub start: NaiveDate,
    /// The last day (inclusive).
    pub end: NaiveDate,
    /// Bills are cut in UTC days.
    pub timezone: &'static str,
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    pub threshold_percent: Decimal,
    /// Over the days whose bill was pulled.
    #[serde(flatten)]
    pub figures: BillFigures,
    /// Days with a `price_mismatch`.
    pub flagged_days: Vec<NaiveDate>,
    pub price_mismatch: Vec<Mismatch>,
    pub days: Vec<DayCheck>,
}

type DayKey = (NaiveDate, String);
/// (model, token kind) → billed and computed.
type Cells = BTreeMap<(Option<String>, Option<String>), Pair>;

/// The bill check of the UTC days `[first, end)` (`end` exclusive), usage priced with
/// `catalog`.
pub async fn bill_check(
    store: &dyn Store,
    catalog: &PriceCatalog,
    first: NaiveDate,
    end: NaiveDate,
) -> Result<BillCheck, StoreError> {
    let stored = store.stored_bill(first, end).await?;
    let canonical = |model: &str| {
        catalog
            .resolve(model)
            .map_or_else(|| model.to_string(), |m| m.id.clone())
    };
    let pulled: BTreeSet<DayKey> = stored.days.iter().cloned().map(|(p, d)| (d, p)).collect();
    let mut days: BTreeMap<DayKey, Cells> = BTreeMap::new();
    for line in &stored.lines {
        let cells = days.entry((line.day, line.provider.clone())).or_default();
        let key = (
            line.model.as_deref().map(canonical),
            line.token_kind.clone(),
        );
        cells.entry(key).or_default().billed += line.amount;
    }
    let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let (start, stop) = (midnight(first), midnight(end));
    let mut after = 0;
    loop {
        let page = store.records_between(start, stop, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for record in page.iter().filter(|r| counted(r)) {
            let key = (
                record.facts.recorded_at.date_naive(),
                record.provider.clone(),
            );
            let cells = days.entry(key).or_default();
            add_computed(catalog, record, cells);
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    let mut checks = Vec::new();
    for ((date, provider), cells) in days {
        let bill_pulled = pulled.contains(&(date, provider.clone()));
        checks.push(day_check(date, provider, bill_pulled, cells));
    }
    let mut total = Pair::default();
    let mut flagged_days = BTreeSet::new();
    let mut price_mismatch = Vec::new();
    for day in checks.iter().filter(|d| d.check.bill_pulled) {
        total = total.plus(day.pair);
        for model in day.check.models.iter().filter(|m| m.price_mismatch) {
            flagged_days.insert(day.check.date);
            price_mismatch.push(Mismatch {
                date: day.check.date,
                provider: day.check.provider.clone(),
                model: model.model.clone().unwrap_or_default(),
                token_kinds: mismatched_kinds(model),
                figures: model.figures.clone(),
            });
        }
    }
    Ok(BillCheck {
        start: first,
        end: end.pred_opt().unwrap_or(end),
        timezone: "UTC",
        threshold_percent: THRESHOLD_PERCENT,
        figures: total.into(),
        flagged_days: flagged_days.into_iter().collect(),
        price_mismatch,
        days: checks.into_iter().map(|d| d.check).collect(),
    })
}

/// Collected usage the cost reports bill (Anthropic's priority tier is billed elsewhere).
fn counted(record: &UsageRecord) -> bool {
    let priority = record.provider == "anthropic"
        && record
            .facts
            .service_tier
            .as_deref()
            .is_some_and(|tier| tier.starts_with("priority"));
    is_billed(record.facts.source) && !priority
}

/// Adds a record's cost, kind by kind, to its model's cells.
fn add_computed(catalog: &PriceCatalog, record: &UsageRecord, cells: &mut Cells) {
    let model = record.model_key.clone();
    let Some(entry) = catalog.resolve(&record.facts.model) else {
        // Unpriced: nothing computed, but the model shows against its bill.
        cells.entry((Some(model), None)).or_default();
        return;
    };
    let facts = &record.facts;
    let input = PricingInput {
        model: &facts.model,
        recorded_at: facts.recorded_at,
        tokens: &facts.tokens,
        service_tier: facts.service_tier.as_deref(),
        // As the ledger prices a bucket: only an explicit `200k-1M` is long context.
        context_window: facts
            .context_window
            .as_deref()
            .or((facts.bucket_seconds > 0).then_some("0-200k")),
        inference_geo: facts.inference_geo.as_deref(),
    };
    for (kind, cost) in catalog.quote_breakdown(entry, &input).iter() {
        if cost.is_zero() {
            continue;
        }
        let cost = Pico::from_usd_wide(cost).unwrap_or_default();
        let key = (Some(model.clone()), Some(kind.as_str().to_string()));
        cells.entry(key).or_default().computed += cost;
    }
}

struct Day {
    check: DayCheck,
    pair: Pair,
}

fn day_check(date: NaiveDate, provider: String, bill_pulled: bool, mut cells: Cells) -> Day {
    // A kind the bill names without a model is compared with that kind of every model.
    let modelless: BTreeSet<Option<String>> = cells
        .iter()
        .filter(|((model, kind), pair)| model.is_none() && kind.is_some() && pair.billed.0 != 0)
        .map(|((_, kind), _)| kind.clone())
        .collect();
    let moved: Vec<_> = cells
        .keys()
        .filter(|(model, kind)| model.is_some() && modelless.contains(kind))
        .cloned()
        .collect();
    for key in moved {
        let pair = cells.remove(&key).unwrap_or_default();
        let target = cells.entry((None, key.1)).or_default();
        target.computed += pair.computed;
        target.billed += pair.billed;
    }
    let mut models: BTreeMap<Option<String>, Vec<(Option<String>, Pair)>> = BTreeMap::new();
    for ((model, kind), pair) in cells {
        models.entry(model).or_default().push((kind, pair));
    }
    let mut day_pair = Pair::default();
    let mut checks: Vec<(Pair, ModelCheck)> = models
        .into_iter()
        .map(|(model, kinds)| {
            let pair = kinds.iter().fold(Pair::default(), |a, (_, p)| a.plus(*p));
            day_pair = day_pair.plus(pair);
            let token_kinds = kinds
                .into_iter()
                .map(|(token_kind, pair)| KindCheck {
                    token_kind,
                    figures: pair.into(),
                    differs: bill_pulled && pair.differs(),
                })
                .collect();
            let check = ModelCheck {
                price_mismatch: bill_pulled && model.is_some() && pair.differs(),
                model,
                figures: pair.into(),
                token_kinds,
            };
            (pair, check)
        })
        .collect();
    checks.sort_by(|a, b| {
        b.0.billed
            .cmp(&a.0.billed)
            .then(b.0.computed.cmp(&a.0.computed))
    });
    let models: Vec<ModelCheck> = checks.into_iter().map(|(_, c)| c).collect();
    let flagged = models.iter().any(|m| m.price_mismatch);
    Day {
        check: DayCheck {
            date,
            provider,
            bill_pulled,
            figures: day_pair.into(),
            flagged,
            models,
        },
        pair: day_pair,
    }
}

/// The kinds of a flagged model that differ, or the one that differs the most.
fn mismatched_kinds(model: &ModelCheck) -> Vec<String> {
    let name = |k: &KindCheck| k.token_kind.clone().unwrap_or_else(|| "unknown".into());
    let differing: Vec<String> = model
        .token_kinds
        .iter()
        .filter(|k| k.differs)
        .map(name)
        .collect();
    if !differing.is_empty() {
        return differing;
    }
    model
        .token_kinds
        .iter()
        .max_by_key(|k| k.figures.difference_usd.abs())
        .map(name)
        .into_iter()
        .collect()
}

/// The UTC days `[first, end)` of a request: `start` and `end` inclusive
/// (`YYYY-MM-DD`), by default the 30 days up to yesterday. An error names the field.
pub fn day_range(
    start: Option<&str>,
    end: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), (&'static str, String)> {
    let date = |field: &'static str, text: Option<&str>| {
        text.map(str::trim)
            .map(|text| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| (field, format!("`{text}` is not a YYYY-MM-DD date")))
            })
            .transpose()
    };
    let last = date("end", end)?.unwrap_or(today - chrono::Days::new(1));
    let first = date("start", start)?.unwrap_or(last - chrono::Days::new(29));
    if first > last {
        return Err(("end", "must not be before start".into()));
    }
    if (last - first).num_days() >= 366 {
        return Err(("end", "the range may span at most 366 days".into()));
    }
    Ok((first, last + chrono::Days::new(1)))
}

/// The check as a table for a terminal: each provider's day, its models below it
/// (`!` marks a price mismatch), then the mismatches.
pub fn render_table(check: &BillCheck) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let percent = |p: &Option<Decimal>| p.map_or_else(|| "-".to_string(), |p| format!("{p:.2}%"));
    let _ = writeln!(
        out,
        "Bill check {} .. {} (UTC days; a model-day off by more than {} % is flagged)\n",
        check.start, check.end, check.threshold_percent
    );
    let _ = writeln!(
        out,
        "{:<10}  {:<9}  {:<34} {:>13} {:>13} {:>12} {:>9}",
        "date", "provider", "model", "billed USD", "computed USD", "difference", "percent"
    );
    for day in &check.days {
        let f = &day.figures;
        let note = if !day.bill_pulled {
            "  (bill not pulled)"
        } else if day.flagged {
            "  FLAGGED"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<10}  {:<9}  {:<34} {:>13} {:>13} {:>12} {:>9}{note}",
            day.date.to_string(),
            day.provider,
            "(day)",
            f.billed_usd.round_dp(4).to_string(),
            f.computed_usd.round_dp(4).to_string(),
            f.difference_usd.round_dp(4).to_string(),
            percent(&f.percent),
        );
        for model in day.models.iter().filter(|_| day.bill_pulled) {
            let f = &model.figures;
            let mark = if model.price_mismatch { "!" } else { " " };
            let name = model.model.as_deref().unwrap_or("(not named by the bill)");
            let _ = writeln!(
                out,
                "{:<10}  {:<9}{mark} {:<34} {:>13} {:>13} {:>12} {:>9}",
                "",
                "",
                name,
                f.billed_usd.round_dp(4).to_string(),
                f.computed_usd.round_dp(4).to_string(),
                f.difference_usd.round_dp(4).to_string(),
                percent(&f.percent),
            );
        }
    }
    let f = &check.figures;
    let _ = writeln!(
        out,
        "\nTotal of the billed days: billed {} USD, computed {} USD, difference {} USD ({})",
        f.billed_usd.round_dp(4),
        f.computed_usd.round_dp(4),
        f.difference_usd.round_dp(4),
        percent(&f.percent)
    );
    if check.price_mismatch.is_empty() {
        let _ = writeln!(out, "No price mismatch.");
    } else {
        let _ = writeln!(out, "\nPrice mismatches:");
        for m in &check.price_mismatch {
            let _ = writeln!(
                out,
                "  {} {} {}: {} (billed {} USD, computed {} USD)",
                m.date,
                m.provider,
                m.model,
                m.token_kinds.join(", "),
                m.figures.billed_usd.round_dp(4),
                m.figures.computed_usd.round_dp(4),
            );
            let _ = writeln!(out, "    off by {}", percent(&m.figures.percent));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(billed: i128, computed: i128) -> Pair {
        Pair {
            billed: Pico(billed),
            computed: Pico(computed),
        }
    }

    #[test]
    fn more_than_one_percent_either_way_differs() {
        assert!(!pair(101, 100).differs());
        assert!(pair(1_011, 1_000).differs());
        assert!(pair(989, 1_000).differs());
        assert!(!pair(990, 1_000).differs());
        assert!(pair(1, 0).differs());
        assert!(!pair(0, 0).differs());
        assert_eq!(pair(110, 100).percent(), Some(Decimal::TEN));
        assert_eq!(pair(5, 0).percent(), None);
    }

    #[test]
    fn a_kind_billed_without_a_model_takes_that_kind_of_every_model() {
        let mut cells = Cells::new();
        let key = |m: Option<&str>, k: &str| (m.map(str::to_string), Some(k.to_string()));
        cells.insert(key(Some("opus"), "input"), pair(100, 100));
        cells.insert(key(Some("opus"), "web_search"), pair(0, 30));
        cells.insert(key(Some("haiku"), "web_search"), pair(0, 20));
        cells.insert(key(None, "web_search"), pair(50, 0));
        let day = day_check(
            "2026-11-01".parse().unwrap(),
            "anthropic".into(),
            true,
            cells,
        );
        assert!(!day.check.flagged, "{:?}", day.check);
        assert_eq!(day.pair, pair(150, 150));
        let search = day.check.models.iter().find(|m| m.model.is_none()).unwrap();
        assert_eq!(search.figures.percent, Some(Decimal::ZERO));
    }
}
