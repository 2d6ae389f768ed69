//! The price catalog: list prices per model, effective-dated, with the
//! modifiers (batch, flex, US-only inference, long context, web search) that turn a
//! usage record's tokens into an exact cost.
//!
//! The catalog is data, `shared/pricing/catalog.toml`, embedded at build time and
//! parsed once; its header documents units and matching rules. Every multiplier
//! comes from the catalog, none is hard-coded here.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::usage::PricingInput;
pub use breakdown::{CostBreakdown, TokenKind};
use names::normalize_name;

mod breakdown;
mod load;
mod names;
mod stored;

pub use stored::{PriceLayer, StoredEntry};
#[cfg(test)]
mod tests;

/// The catalog shipped with the binary.
const EMBEDDED_TOML: &str = include_str!("../../../pricing/catalog.toml");

/// Catalog prices are per million tokens: 0.000001.
const PER_MTOK: Decimal = Decimal::from_parts(1, 0, 0, false, 6);
/// Web search is priced per 1,000 requests: 0.001.
const PER_THOUSAND: Decimal = Decimal::from_parts(1, 0, 0, false, 3);

/// The `context_window` value Anthropic reports for long-context usage.
const LONG_CONTEXT_WINDOW: &str = "200k-1M";

static EMBEDDED: LazyLock<PriceCatalog> = LazyLock::new(|| {
    PriceCatalog::from_toml(EMBEDDED_TOML)
        .unwrap_or_else(|err| panic!("embedded price catalog is invalid: {err}"))
});

/// A validated price catalog with an index of every normalized model name.
#[derive(Debug, Clone)]
pub struct PriceCatalog {
    models: Vec<CatalogModel>,
    /// Normalized id or alias → position in `models`.
    index: HashMap<String, usize>,
    /// The modifiers of `[defaults]` and `[provider_defaults.*]`, which stored
    /// entries inherit as catalog entries do.
    defaults: load::Modifiers,
    provider_defaults: HashMap<String, load::Modifiers>,
}

/// Why a catalog could not be loaded; every model-level error names the model.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("price catalog is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("model `{model}`: `{field}` is missing or empty")]
    MissingField { model: String, field: String },
    #[error("model `{model}`: `{field}` = {value:?} is not a decimal number")]
    InvalidDecimal {
        model: String,
        field: String,
        value: String,
    },
    #[error("model `{model}`: `{field}` is negative ({value})")]
    Negative {
        model: String,
        field: String,
        value: Decimal,
    },
    #[error("model `{model}`: effective_from {value:?} is not a YYYY-MM-DD date")]
    InvalidDate { model: String, value: String },
    #[error("model `{model}`: price periods must be in increasing effective_from order ({previous} is followed by {next})")]
    UnsortedPeriods {
        model: String,
        previous: NaiveDate,
        next: NaiveDate,
    },
    #[error("model `{model}`: name {name:?} is not a usable model name")]
    InvalidName { model: String, name: String },
    #[error("model `{model}`: name `{name}` is already used by model `{other}`")]
    DuplicateName {
        model: String,
        name: String,
        other: String,
    },
    #[error("model `{model}`: `{field}`: {message}")]
    InvalidField {
        model: String,
        field: String,
        message: String,
    },
    #[error("model `{model}`: long_context of the {effective_from} period {problem}")]
    InvalidLongContext {
        model: String,
        effective_from: NaiveDate,
        problem: String,
    },
}

/// One priced model: its canonical id, the other names it is reported under, and its price history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogModel {
    pub id: String,
    /// `anthropic`, `openai` or `moonshot`.
    pub provider: String,
    /// Short family key used in summaries (`opus`, `sonnet`, `gpt-5`, `kimi-k2`, …).
    pub family: String,
    pub display_name: String,
    pub aliases: Vec<String>,
    /// Where the prices came from (a source label of `provider-apis.md` and a URL).
    pub source: String,
    /// Sorted by `effective_from`, never empty.
    pub prices: Vec<PricePeriod>,
    /// Set when a stored price entry (the database layer) covers this model: the
    /// periods from this date on are the stored ones.
    pub stored_from: Option<NaiveDate>,
    /// The source the stored entry names.
    pub stored_source: Option<String>,
}

/// The prices in force from `effective_from` until the next period, USD per million
/// tokens, with the catalog's defaults already applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricePeriod {
    pub effective_from: NaiveDate,
    pub input: Decimal,
    pub output: Decimal,
    pub cache_read: Option<Decimal>,
    pub cache_write_5m: Option<Decimal>,
    pub cache_write_1h: Option<Decimal>,
    pub long_context: Option<LongContext>,
    /// Applied to every token price for `service_tier = batch`.
    pub batch_multiplier: Decimal,
    /// Applied to every token price for `service_tier = flex`; `None` = flex is billed standard.
    pub flex_multiplier: Option<Decimal>,
    /// Applied to every token price for `inference_geo = us`; `None` = no surcharge.
    pub geo_us_multiplier: Option<Decimal>,
    /// USD per 1,000 web-search requests; `None` = web search is not billed.
    pub web_search_per_1k: Option<Decimal>,
}

/// Rates that replace every standard rate for a long-context request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongContext {
    /// A request whose total input (incl. cache reads and writes) exceeds this is long-context.
    pub threshold_tokens: i64,
    pub input: Decimal,
    pub output: Decimal,
    pub cache_read: Option<Decimal>,
    pub cache_write_5m: Option<Decimal>,
    pub cache_write_1h: Option<Decimal>,
}

/// The exact cost of one usage record and the price entry that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    /// USD, exact.
    pub cost: Decimal,
    /// `<canonical id>@<effective_from>`.
    pub price_ref: String,
    /// Whether long-context rates were used.
    pub long_context: bool,
}

impl PriceCatalog {
    /// The catalog embedded in the binary, parsed on first use.
    ///
    /// Panics only if the embedded file is invalid, which a unit test rules out.
    pub fn embedded() -> &'static PriceCatalog {
        &EMBEDDED
    }

    /// Finds a model by id or alias: case-insensitive and trimmed, after removing
    /// provider/route prefixes and rewriting Bedrock (`anthropic.<id>-v1:0`) and
    /// Vertex (`<name>@<date>`) spellings. Unknown names, including unknown dated
    /// snapshots of known models, give `None`.
    pub fn resolve(&self, model: &str) -> Option<&CatalogModel> {
        self.index
            .get(&normalize_name(model))
            .map(|&i| &self.models[i])
    }

    /// The period in force at `at`: the latest `effective_from` on or before its UTC
    /// date, or the first period for anything older.
    ///
    /// Panics if `model` has no periods, which a catalog never allows.
    pub fn period_at<'m>(&self, model: &'m CatalogModel, at: DateTime<Utc>) -> &'m PricePeriod {
        model.period_on(at.date_naive())
    }

    /// Prices one usage record; `None` when the model is unknown (unpriced).
    pub fn quote(&self, input: &PricingInput<'_>) -> Option<Quote> {
        Some(self.quote_model(self.resolve(input.model)?, input))
    }

    /// Prices one usage record of a model already found with [`PriceCatalog::resolve`].
    pub fn quote_model(&self, model: &CatalogModel, input: &PricingInput<'_>) -> Quote {
        let period = self.period_at(model, input.recorded_at);
        let tokens = input.tokens;
        let long_context = period
            .long_context
            .as_ref()
            .is_some_and(|lc| lc.applies_to(input));
        let rates = period.rates(long_context);
        let token_units: Decimal = [
            (tokens.input, rates.input),
            (tokens.output, rates.output),
            (tokens.cache_read, rates.cache_read),
            (tokens.cache_write_5m, rates.cache_write_5m),
            (tokens.cache_write_1h, rates.cache_write_1h),
        ]
        .into_iter()
        .map(|(count, rate)| Decimal::from(count) * rate)
        .sum();
        let token_cost = token_units * period.token_multiplier(input) * PER_MTOK;
        let search_cost = period.web_search_per_1k.map_or(Decimal::ZERO, |per_1k| {
            Decimal::from(tokens.web_search_requests) * per_1k * PER_THOUSAND
        });
        Quote {
            cost: (token_cost + search_cost).normalize(),
            price_ref: format!("{}@{}", model.id, period.effective_from),
            long_context,
        }
    }

    /// Every model, in catalog order.
    pub fn models(&self) -> &[CatalogModel] {
        &self.models
    }
}

impl CatalogModel {
    /// The period in force on `day`: the latest `effective_from` on or before it,
    /// or the first period for anything older.
    pub fn period_on(&self, day: NaiveDate) -> &PricePeriod {
        self.prices
            .iter()
            .rev()
            .find(|p| p.effective_from <= day)
            .unwrap_or(&self.prices[0])
    }
}

impl LongContext {
    /// A reported `context_window` decides (`200k-1M` = long, anything else = standard);
    /// without one, the record's total input is compared with the threshold, which is
    /// only meaningful for a single request.
    fn applies_to(&self, input: &PricingInput<'_>) -> bool {
        match input
            .context_window
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            Some(window) => window.eq_ignore_ascii_case(LONG_CONTEXT_WINDOW),
            None => input.tokens.total_input() > self.threshold_tokens,
        }
    }
}

/// Per-category rates of one request, fallbacks resolved.
struct Rates {
    input: Decimal,
    output: Decimal,
    cache_read: Decimal,
    cache_write_5m: Decimal,
    cache_write_1h: Decimal,
}

impl PricePeriod {
    /// A missing cache rate means the provider lists no separate price for that
    /// category (OpenAI has no cache writes, some models no cached-input discount),
    /// so those tokens are billed as ordinary input.
    fn rates(&self, long_context: bool) -> Rates {
        match self.long_context.as_ref().filter(|_| long_context) {
            Some(lc) => Rates {
                input: lc.input,
                output: lc.output,
                cache_read: lc.cache_read.unwrap_or(lc.input),
                cache_write_5m: lc.cache_write_5m.unwrap_or(lc.input),
                cache_write_1h: lc.cache_write_1h.unwrap_or(lc.input),
            },
            None => Rates {
                input: self.input,
                output: self.output,
                cache_read: self.cache_read.unwrap_or(self.input),
                cache_write_5m: self.cache_write_5m.unwrap_or(self.input),
                cache_write_1h: self.cache_write_1h.unwrap_or(self.input),
            },
        }
    }

    /// Tier and geography multipliers on token prices (web search is never multiplied).
    /// Standard, priority, default and unknown tiers are billed at list price.
    fn token_multiplier(&self, input: &PricingInput<'_>) -> Decimal {
        let is = |value: Option<&str>, wanted: &str| {
            value.is_some_and(|v| v.trim().eq_ignore_ascii_case(wanted))
        };
        let tier = if is(input.service_tier, "batch") {
            self.batch_multiplier
        } else if is(input.service_tier, "flex") || is(input.service_tier, "flex_discount") {
            self.flex_multiplier.unwrap_or(Decimal::ONE)
        } else {
            Decimal::ONE
        };
        let geo = match self.geo_us_multiplier {
            Some(multiplier) if is(input.inference_geo, "us") => multiplier,
            _ => Decimal::ONE,
        };
        tier * geo
    }
}
