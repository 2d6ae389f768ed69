//! The price catalog: list prices per model, effective-dated, with the
//! modifiers (batch, flex, US-only inference, long context, web search) that turn a
//! usage record's tokens into an exact cost.
//!
//! The catalog is data, `shared/pricing/catalog.toml`, embedded at build time and
//! parsed once; its header documents units and matching rules. Every multiplier
//! comes from the catalog, none is hard-coded here.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::usage::PricingInput;

/// The catalog shipped with the binary.
const EMBEDDED_TOML: &str = include_str!("../../pricing/catalog.toml");

/// Catalog prices are per million tokens: 0.000001.
const PER_MTOK: Decimal = Decimal::from_parts(1, 0, 0, false, 6);
/// Web search is priced per 1,000 requests: 0.001.
const PER_THOUSAND: Decimal = Decimal::from_parts(1, 0, 0, false, 3);

/// Provider or router prefixes in front of a model name (`anthropic/claude-…`).
const ROUTE_PREFIXES: &[&str] = &[
    "anthropic/",
    "openai/",
    "moonshot/",
    "vertex_ai/",
    "bedrock/",
];
/// Bedrock cross-region inference prefixes, only before `anthropic.`.
const BEDROCK_REGIONS: &[&str] = &["us.", "eu.", "apac.", "global."];
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

    /// Parses and validates a catalog: unique ids and aliases across models,
    /// non-negative prices, sorted periods, a non-empty source on every model.
    pub fn from_toml(text: &str) -> Result<PriceCatalog, CatalogError> {
        let raw: RawCatalog = toml::from_str(text)?;
        let defaults = Modifiers::parse(&raw.defaults, "[defaults]", "")?;
        let mut provider_defaults = HashMap::new();
        for (provider, modifiers) in &raw.provider_defaults {
            let label = format!("[provider_defaults.{provider}]");
            provider_defaults.insert(provider.clone(), Modifiers::parse(modifiers, &label, "")?);
        }
        let mut models = Vec::with_capacity(raw.model.len());
        let mut index = HashMap::new();
        for (position, raw_model) in raw.model.into_iter().enumerate() {
            let model = raw_model.build(position, defaults, &provider_defaults)?;
            for name in std::iter::once(&model.id).chain(&model.aliases) {
                let key = normalize_name(name);
                if key.is_empty() {
                    return Err(CatalogError::InvalidName {
                        model: model.id.clone(),
                        name: name.clone(),
                    });
                }
                if let Some(&other) = index.get(&key) {
                    // `other == position` when a model repeats one of its own names.
                    let other = models.get(other).unwrap_or(&model).id.clone();
                    return Err(CatalogError::DuplicateName {
                        model: model.id.clone(),
                        name: name.clone(),
                        other,
                    });
                }
                index.insert(key, position);
            }
            models.push(model);
        }
        Ok(PriceCatalog { models, index })
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
        let day = at.date_naive();
        model
            .prices
            .iter()
            .rev()
            .find(|p| p.effective_from <= day)
            .unwrap_or(&model.prices[0])
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

/// Lowercases and trims a model name and rewrites route, Bedrock and Vertex spellings
/// to the plain API id; used for both catalog names and looked-up names.
fn normalize_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(stripped) = ROUTE_PREFIXES.iter().find_map(|p| rest.strip_prefix(p)) {
        rest = stripped;
    }
    if let Some(stripped) = BEDROCK_REGIONS
        .iter()
        .find_map(|r| rest.strip_prefix(r))
        .filter(|s| s.starts_with("anthropic."))
    {
        rest = stripped;
    }
    if let Some(stripped) = rest.strip_prefix("anthropic.") {
        rest = strip_bedrock_version(stripped);
    }
    match rest.split_once('@') {
        Some((base, date)) if is_digits(date) => format!("{base}-{date}"),
        _ => rest.to_owned(),
    }
}

/// `claude-…-20250929-v1:0` / `-v1` / `-v2:0` → `claude-…-20250929`.
fn strip_bedrock_version(name: &str) -> &str {
    let Some(at) = name.rfind("-v") else {
        return name;
    };
    let version = &name[at + 2..];
    let (major, minor) = version.split_once(':').unwrap_or((version, "0"));
    if is_digits(major) && is_digits(minor) {
        &name[..at]
    } else {
        name
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

// ---- TOML shape ----------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    defaults: RawModifiers,
    #[serde(default)]
    provider_defaults: HashMap<String, RawModifiers>,
    #[serde(default)]
    model: Vec<RawModel>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawModifiers {
    batch_multiplier: Option<String>,
    flex_multiplier: Option<String>,
    geo_us_multiplier: Option<String>,
    web_search_per_1k: Option<String>,
}

// `serde(flatten)` cannot be combined with `deny_unknown_fields`, so the modifier
// fields are repeated on models and periods.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    #[serde(default)]
    id: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    family: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    prices: Vec<RawPeriod>,
    batch_multiplier: Option<String>,
    flex_multiplier: Option<String>,
    geo_us_multiplier: Option<String>,
    web_search_per_1k: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    effective_from: String,
    input: String,
    output: String,
    cache_read: Option<String>,
    cache_write_5m: Option<String>,
    cache_write_1h: Option<String>,
    long_context: Option<RawLongContext>,
    batch_multiplier: Option<String>,
    flex_multiplier: Option<String>,
    geo_us_multiplier: Option<String>,
    web_search_per_1k: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLongContext {
    threshold_tokens: i64,
    input: String,
    output: String,
    cache_read: Option<String>,
    cache_write_5m: Option<String>,
    cache_write_1h: Option<String>,
}

/// Optional modifiers of one catalog level; a more specific level wins (`or`).
#[derive(Debug, Clone, Copy, Default)]
struct Modifiers {
    batch: Option<Decimal>,
    flex: Option<Decimal>,
    geo_us: Option<Decimal>,
    web_search_per_1k: Option<Decimal>,
}

impl Modifiers {
    fn parse(raw: &RawModifiers, model: &str, prefix: &str) -> Result<Modifiers, CatalogError> {
        let field = |name: &str, value: &Option<String>| {
            parse_optional(model, &format!("{prefix}{name}"), value.as_deref())
        };
        Ok(Modifiers {
            batch: field("batch_multiplier", &raw.batch_multiplier)?,
            flex: field("flex_multiplier", &raw.flex_multiplier)?,
            geo_us: field("geo_us_multiplier", &raw.geo_us_multiplier)?,
            web_search_per_1k: field("web_search_per_1k", &raw.web_search_per_1k)?,
        })
    }

    fn or(self, fallback: Modifiers) -> Modifiers {
        Modifiers {
            batch: self.batch.or(fallback.batch),
            flex: self.flex.or(fallback.flex),
            geo_us: self.geo_us.or(fallback.geo_us),
            web_search_per_1k: self.web_search_per_1k.or(fallback.web_search_per_1k),
        }
    }
}

impl RawModel {
    fn build(
        self,
        position: usize,
        defaults: Modifiers,
        provider_defaults: &HashMap<String, Modifiers>,
    ) -> Result<CatalogModel, CatalogError> {
        let label = match self.id.trim() {
            "" => format!("#{}", position + 1),
            id => id.to_owned(),
        };
        let required = |field: &str, value: &str| {
            if value.trim().is_empty() {
                Err(CatalogError::MissingField {
                    model: label.clone(),
                    field: field.to_owned(),
                })
            } else {
                Ok(value.trim().to_owned())
            }
        };
        let id = required("id", &self.id)?;
        let provider = required("provider", &self.provider)?;
        let family = required("family", &self.family)?;
        let display_name = required("display_name", &self.display_name)?;
        let source = required("source", &self.source)?;
        if self.prices.is_empty() {
            return Err(CatalogError::MissingField {
                model: id,
                field: "prices".to_owned(),
            });
        }
        let own = RawModifiers {
            batch_multiplier: self.batch_multiplier,
            flex_multiplier: self.flex_multiplier,
            geo_us_multiplier: self.geo_us_multiplier,
            web_search_per_1k: self.web_search_per_1k,
        };
        let inherited = Modifiers::parse(&own, &id, "")?
            .or(provider_defaults
                .get(&provider)
                .copied()
                .unwrap_or_default())
            .or(defaults);
        let mut prices: Vec<PricePeriod> = Vec::with_capacity(self.prices.len());
        for (i, raw) in self.prices.into_iter().enumerate() {
            let period = raw.build(&id, &format!("prices[{i}]."), inherited)?;
            if let Some(previous) = prices
                .last()
                .filter(|p| p.effective_from >= period.effective_from)
            {
                return Err(CatalogError::UnsortedPeriods {
                    model: id,
                    previous: previous.effective_from,
                    next: period.effective_from,
                });
            }
            prices.push(period);
        }
        Ok(CatalogModel {
            id,
            provider,
            family,
            display_name,
            aliases: self.aliases,
            source,
            prices,
        })
    }
}

impl RawPeriod {
    fn build(
        self,
        model: &str,
        prefix: &str,
        inherited: Modifiers,
    ) -> Result<PricePeriod, CatalogError> {
        let price = |name: &str, value: &str| parse_price(model, &format!("{prefix}{name}"), value);
        let optional = |name: &str, value: &Option<String>| {
            parse_optional(model, &format!("{prefix}{name}"), value.as_deref())
        };
        let effective_from = NaiveDate::parse_from_str(self.effective_from.trim(), "%Y-%m-%d")
            .map_err(|_| CatalogError::InvalidDate {
                model: model.to_owned(),
                value: self.effective_from.clone(),
            })?;
        let own = RawModifiers {
            batch_multiplier: self.batch_multiplier,
            flex_multiplier: self.flex_multiplier,
            geo_us_multiplier: self.geo_us_multiplier,
            web_search_per_1k: self.web_search_per_1k,
        };
        let modifiers = Modifiers::parse(&own, model, prefix)?.or(inherited);
        let period = PricePeriod {
            effective_from,
            input: price("input", &self.input)?,
            output: price("output", &self.output)?,
            cache_read: optional("cache_read", &self.cache_read)?,
            cache_write_5m: optional("cache_write_5m", &self.cache_write_5m)?,
            cache_write_1h: optional("cache_write_1h", &self.cache_write_1h)?,
            long_context: None,
            batch_multiplier: modifiers.batch.ok_or_else(|| CatalogError::MissingField {
                model: model.to_owned(),
                field: format!("{prefix}batch_multiplier"),
            })?,
            flex_multiplier: modifiers.flex,
            geo_us_multiplier: modifiers.geo_us,
            web_search_per_1k: modifiers.web_search_per_1k,
        };
        let long_context = match &self.long_context {
            Some(raw) => Some(raw.build(model, &format!("{prefix}long_context."), &period)?),
            None => None,
        };
        Ok(PricePeriod {
            long_context,
            ..period
        })
    }
}

impl RawLongContext {
    /// Long-context cache rates are stored explicitly rather than derived, so every
    /// cache rate the standard period has must be repeated here.
    fn build(
        &self,
        model: &str,
        prefix: &str,
        standard: &PricePeriod,
    ) -> Result<LongContext, CatalogError> {
        let invalid = |problem: String| CatalogError::InvalidLongContext {
            model: model.to_owned(),
            effective_from: standard.effective_from,
            problem,
        };
        if self.threshold_tokens <= 0 {
            return Err(invalid(format!(
                "has threshold_tokens {} (must be positive)",
                self.threshold_tokens
            )));
        }
        let optional = |name: &str, value: &Option<String>| {
            parse_optional(model, &format!("{prefix}{name}"), value.as_deref())
        };
        let long = LongContext {
            threshold_tokens: self.threshold_tokens,
            input: parse_price(model, &format!("{prefix}input"), &self.input)?,
            output: parse_price(model, &format!("{prefix}output"), &self.output)?,
            cache_read: optional("cache_read", &self.cache_read)?,
            cache_write_5m: optional("cache_write_5m", &self.cache_write_5m)?,
            cache_write_1h: optional("cache_write_1h", &self.cache_write_1h)?,
        };
        for (name, standard_rate, long_rate) in [
            ("cache_read", standard.cache_read, long.cache_read),
            (
                "cache_write_5m",
                standard.cache_write_5m,
                long.cache_write_5m,
            ),
            (
                "cache_write_1h",
                standard.cache_write_1h,
                long.cache_write_1h,
            ),
        ] {
            if standard_rate.is_some() && long_rate.is_none() {
                return Err(invalid(format!(
                    "lacks {name}, which the standard rates have"
                )));
            }
        }
        Ok(long)
    }
}

fn parse_price(model: &str, field: &str, text: &str) -> Result<Decimal, CatalogError> {
    let value = Decimal::from_str(text.trim()).map_err(|_| CatalogError::InvalidDecimal {
        model: model.to_owned(),
        field: field.to_owned(),
        value: text.to_owned(),
    })?;
    if value < Decimal::ZERO {
        return Err(CatalogError::Negative {
            model: model.to_owned(),
            field: field.to_owned(),
            value,
        });
    }
    Ok(value)
}

fn parse_optional(
    model: &str,
    field: &str,
    text: Option<&str>,
) -> Result<Option<Decimal>, CatalogError> {
    text.map(|t| parse_price(model, field, t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::usage::TokenCounts;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// Mid-January 2026: every listed price is in force.
    const JAN: &str = "2026-01-15T12:00:00Z";
    /// After the 2026-03-14 long-context change.
    const APR: &str = "2026-04-15T12:00:00Z";

    /// One pricing request against the embedded catalog, built fluently.
    #[derive(Clone, Copy)]
    struct Case<'a> {
        model: &'a str,
        when: &'a str,
        tier: Option<&'a str>,
        window: Option<&'a str>,
        geo: Option<&'a str>,
    }

    fn case(model: &str) -> Case<'_> {
        Case {
            model,
            when: JAN,
            tier: None,
            window: None,
            geo: None,
        }
    }

    impl<'a> Case<'a> {
        fn at(self, when: &'a str) -> Self {
            Case { when, ..self }
        }

        fn tier(self, tier: &'a str) -> Self {
            Case {
                tier: Some(tier),
                ..self
            }
        }

        fn window(self, window: &'a str) -> Self {
            Case {
                window: Some(window),
                ..self
            }
        }

        fn geo(self, geo: &'a str) -> Self {
            Case {
                geo: Some(geo),
                ..self
            }
        }

        fn quote(self, tokens: TokenCounts) -> Option<Quote> {
            PriceCatalog::embedded().quote(&PricingInput {
                model: self.model,
                recorded_at: DateTime::parse_from_rfc3339(self.when).unwrap().to_utc(),
                tokens: &tokens,
                service_tier: self.tier,
                context_window: self.window,
                inference_geo: self.geo,
            })
        }

        fn cost(self, tokens: TokenCounts) -> Decimal {
            self.quote(tokens)
                .unwrap_or_else(|| panic!("{} is not priced", self.model))
                .cost
        }
    }

    /// input, output, cache_read, cache_write_5m, cache_write_1h.
    fn tokens(input: i64, output: i64, read: i64, write_5m: i64, write_1h: i64) -> TokenCounts {
        TokenCounts {
            input,
            output,
            cache_read: read,
            cache_write_5m: write_5m,
            cache_write_1h: write_1h,
            ..TokenCounts::default()
        }
    }

    fn searches(web_search_requests: i64) -> TokenCounts {
        TokenCounts {
            web_search_requests,
            ..TokenCounts::default()
        }
    }

    #[test]
    fn opus_4_5_all_categories() {
        let used = tokens(1_000_000, 200_000, 3_000_000, 400_000, 100_000);
        let quote = case("claude-opus-4-5-20251101").quote(used).unwrap();
        // 1×5 + 0.2×25 + 3×0.50 + 0.4×6.25 + 0.1×10 = 5 + 5 + 1.5 + 2.5 + 1 = 15
        assert_eq!(quote.cost, d("15"));
        assert_eq!(quote.price_ref, "claude-opus-4-5-20251101@2025-11-01");
        assert!(!quote.long_context);
    }

    #[test]
    fn opus_4_and_4_1_share_the_old_opus_price() {
        let used = tokens(10_000, 2_000, 50_000, 1_000, 0);
        // 0.01×15 + 0.002×75 + 0.05×1.50 + 0.001×18.75 = 0.15 + 0.15 + 0.075 + 0.01875 = 0.39375
        assert_eq!(case("claude-opus-4-20250514").cost(used), d("0.39375"));
        assert_eq!(case("claude-opus-4-1-20250805").cost(used), d("0.39375"));
        let price_ref = |model| case(model).quote(used).unwrap().price_ref;
        assert_eq!(
            price_ref("claude-opus-4-1"),
            "claude-opus-4-1-20250805@2025-08-05"
        );
        assert_eq!(
            price_ref("claude-opus-4-0"),
            "claude-opus-4-20250514@2025-05-14"
        );
    }

    #[test]
    fn sonnet_4_5_standard_and_long_context() {
        let sonnet = case("claude-sonnet-4-5-20250929");
        // 180K total input: under the 200K threshold.
        let used = tokens(100_000, 10_000, 50_000, 20_000, 10_000);
        // 0.1×3 + 0.01×15 + 0.05×0.30 + 0.02×3.75 + 0.01×6 = 0.3 + 0.15 + 0.015 + 0.075 + 0.06 = 0.6
        let standard = sonnet.quote(used).unwrap();
        assert_eq!((standard.cost, standard.long_context), (d("0.6"), false));

        // Reported 200k-1M: every category at long-context rates.
        // 0.1×6 + 0.01×22.50 + 0.05×0.60 + 0.02×7.50 + 0.01×12 = 0.6 + 0.225 + 0.03 + 0.15 + 0.12 = 1.125
        let reported = sonnet.window("200k-1M").quote(used).unwrap();
        assert_eq!((reported.cost, reported.long_context), (d("1.125"), true));

        // Not reported; 150K input + 100K cache reads = 250K > 200K: inferred long context.
        let big = tokens(150_000, 10_000, 100_000, 0, 0);
        // 0.15×6 + 0.01×22.50 + 0.1×0.60 = 0.9 + 0.225 + 0.06 = 1.185
        let inferred = sonnet.quote(big).unwrap();
        assert_eq!((inferred.cost, inferred.long_context), (d("1.185"), true));

        // An explicit 0-200k wins over the token count.
        // 0.15×3 + 0.01×15 + 0.1×0.30 = 0.45 + 0.15 + 0.03 = 0.63
        let explicit = sonnet.window("0-200k").quote(big).unwrap();
        assert_eq!((explicit.cost, explicit.long_context), (d("0.63"), false));

        // Exactly 200K is not *over* the threshold: 0.2×3 = 0.6
        assert_eq!(sonnet.cost(tokens(200_000, 0, 0, 0, 0)), d("0.6"));
    }

    #[test]
    fn sonnet_4_has_the_same_long_context_rates() {
        // 0.3×6 = 1.8
        let used = tokens(300_000, 0, 0, 0, 0);
        assert_eq!(case("claude-sonnet-4-20250514").cost(used), d("1.8"));
    }

    #[test]
    fn haiku_3_5() {
        let used = tokens(1_000_000, 500_000, 2_000_000, 100_000, 50_000);
        // 1×0.80 + 0.5×4 + 2×0.08 + 0.1×1 + 0.05×1.6 = 0.8 + 2 + 0.16 + 0.1 + 0.08 = 3.14
        assert_eq!(case("claude-3-5-haiku-20241022").cost(used), d("3.14"));
        assert_eq!(case("claude-3-5-haiku-latest").cost(used), d("3.14"));
    }

    #[test]
    fn haiku_4_5() {
        // 0.123456×1 + 0.00789×5 = 0.123456 + 0.03945 = 0.162906
        let used = tokens(123_456, 7_890, 0, 0, 0);
        assert_eq!(case("claude-haiku-4-5-20251001").cost(used), d("0.162906"));
    }

    #[test]
    fn batch_halves_token_prices_but_not_web_search() {
        let haiku = case("claude-haiku-4-5");
        let used = TokenCounts {
            web_search_requests: 10,
            ..tokens(1_000_000, 1_000_000, 1_000_000, 0, 0)
        };
        // tokens (1 + 5 + 0.10) × 0.5 = 3.05; searches 10 × 10 / 1000 = 0.1 → 3.15
        assert_eq!(haiku.tier("batch").cost(used), d("3.15"));
        // Standard: 6.1 + 0.1 = 6.2; priority has no list price and is billed standard.
        assert_eq!(haiku.tier("standard").cost(used), d("6.2"));
        assert_eq!(haiku.tier("priority").cost(used), d("6.2"));
        // Batch stacks with long context (2M total input > 200K on Sonnet 4.5):
        // (6 + 22.50 + 0.60) × 0.5 = 14.55; + 0.1 = 14.65
        assert_eq!(
            case("claude-sonnet-4-5").tier("batch").cost(used),
            d("14.65")
        );
    }

    #[test]
    fn one_hour_cache_writes() {
        // 0.25×10 = 2.5
        assert_eq!(
            case("claude-opus-4-5").cost(tokens(0, 0, 0, 0, 250_000)),
            d("2.5")
        );
        // Haiku 3 lists its own cache prices: 1h $0.50, 5m $0.30 (not 1.25 × 0.25).
        let haiku_3 = case("claude-3-haiku-20240307");
        assert_eq!(haiku_3.cost(tokens(0, 0, 0, 0, 1_000_000)), d("0.50"));
        assert_eq!(haiku_3.cost(tokens(0, 0, 0, 1_000_000, 0)), d("0.30"));
    }

    #[test]
    fn web_search_is_ten_dollars_per_thousand_on_anthropic_only() {
        // 3 × 10 / 1000 = 0.03
        assert_eq!(case("claude-haiku-4-5").cost(searches(3)), d("0.03"));
        // 1000 × 10 / 1000 = 10, not raised by US-only inference.
        assert_eq!(
            case("claude-opus-4-6").geo("us").cost(searches(1000)),
            d("10")
        );
        assert_eq!(case("gpt-5").cost(searches(5)), Decimal::ZERO);
        assert_eq!(case("kimi-k2.5").cost(searches(5)), Decimal::ZERO);
    }

    #[test]
    fn openai_cached_input_and_flex() {
        // 0.8×0.15 + 0.1×0.60 + 0.2×0.075 = 0.12 + 0.06 + 0.015 = 0.195
        let mini = tokens(800_000, 100_000, 200_000, 0, 0);
        assert_eq!(case("gpt-4o-mini").cost(mini), d("0.195"));

        let used = tokens(1_000_000, 500_000, 4_000_000, 0, 0);
        // 1×1.25 + 0.5×10 + 4×0.125 = 1.25 + 5 + 0.5 = 6.75
        assert_eq!(case("gpt-5").cost(used), d("6.75"));
        // Flex = batch = half: 6.75 × 0.5 = 3.375
        assert_eq!(case("gpt-5").tier("flex").cost(used), d("3.375"));
        assert_eq!(case("gpt-5").tier("batch").cost(used), d("3.375"));
        // gpt-4o has no flex price, so standard: 1×2.50 + 0.5×10 + 4×1.25 = 2.5 + 5 + 5 = 12.5
        assert_eq!(case("gpt-4o").tier("flex").cost(used), d("12.5"));
        // o3 flex: (1×2 + 0.5×8 + 4×0.50) × 0.5 = (2 + 4 + 2) × 0.5 = 4
        assert_eq!(case("o3").tier("flex_discount").cost(used), d("4"));
        // No cached-input price: cached tokens are billed as input. 1×150 + 1×150 = 300
        assert_eq!(
            case("o1-pro").cost(tokens(1_000_000, 0, 1_000_000, 0, 0)),
            d("300")
        );
    }

    #[test]
    fn gpt_5_5_long_context_above_272k() {
        // 300K input > 272K: 0.3×10 + 0.01×45 = 3 + 0.45 = 3.45
        let quote = case("gpt-5.5")
            .quote(tokens(300_000, 10_000, 0, 0, 0))
            .unwrap();
        assert_eq!((quote.cost, quote.long_context), (d("3.45"), true));
        // 200K + 72K cached = 272K, not over: 0.2×5 + 0.01×30 + 0.072×0.50 = 1 + 0.3 + 0.036 = 1.336
        let at_threshold = tokens(200_000, 10_000, 72_000, 0, 0);
        assert_eq!(case("gpt-5.5").cost(at_threshold), d("1.336"));
    }

    #[test]
    fn kimi_cache_hit_and_miss() {
        // 1×0.60 + 1×3.00 + 1×0.10 = 3.7
        let used = tokens(1_000_000, 1_000_000, 1_000_000, 0, 0);
        assert_eq!(case("moonshot/kimi-k2.5").cost(used), d("3.7"));
    }

    #[test]
    fn dated_id_and_alias_give_the_same_quote() {
        let used = tokens(12_345, 678, 9_000, 100, 10);
        let dated = case("claude-sonnet-4-5-20250929").quote(used).unwrap();
        assert_eq!(case("claude-sonnet-4-5").quote(used).unwrap(), dated);
        assert_eq!(dated.price_ref, "claude-sonnet-4-5-20250929@2025-09-29");
        // 0.012345×3 + 0.000678×15 + 0.009×0.30 + 0.0001×3.75 + 0.00001×6
        // = 0.037035 + 0.01017 + 0.0027 + 0.000375 + 0.00006 = 0.05034
        assert_eq!(dated.cost, d("0.05034"));

        let openai = tokens(1_000_000, 1_000_000, 0, 0, 0);
        assert_eq!(
            case("gpt-4o-2024-08-06").quote(openai),
            case("gpt-4o").quote(openai)
        );
        // 2.50 + 10 = 12.5
        assert_eq!(case("gpt-4o-2024-11-20").cost(openai), d("12.5"));
        // The May 2024 snapshot keeps its own price: 5 + 15 = 20
        let may = case("gpt-4o-2024-05-13").quote(openai).unwrap();
        assert_eq!(may.cost, d("20"));
        assert_eq!(may.price_ref, "gpt-4o-2024-05-13@2024-05-13");
    }

    #[test]
    fn bedrock_and_vertex_spellings() {
        let catalog = PriceCatalog::embedded();
        let id = |name: &str| catalog.resolve(name).map(|m| m.id.as_str());
        for name in [
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-sonnet-4-5-20250929-v1",
            "anthropic.claude-sonnet-4-5-20250929-v2:0",
            "claude-sonnet-4-5@20250929",
            "vertex_ai/claude-sonnet-4-5@20250929",
        ] {
            assert_eq!(id(name), Some("claude-sonnet-4-5-20250929"), "{name}");
        }
        let haiku_3 = id("eu.anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(haiku_3, Some("claude-3-haiku-20240307"));
        let haiku_3_5 = id("apac.anthropic.claude-3-5-haiku-20241022-v1:0");
        assert_eq!(haiku_3_5, Some("claude-3-5-haiku-20241022"));
        assert_eq!(id("anthropic.claude-opus-4-6-v1"), Some("claude-opus-4-6"));
        assert_eq!(
            id("claude-opus-4-1@20250805"),
            Some("claude-opus-4-1-20250805")
        );
        // A region prefix is only stripped before `anthropic.`.
        assert_eq!(id("us.gpt-4o"), None);

        // 0.001×3 + 0.001×15 = 0.003 + 0.015 = 0.018
        let used = tokens(1_000, 1_000, 0, 0, 0);
        assert_eq!(
            case("us.anthropic.claude-sonnet-4-5-20250929-v1:0").cost(used),
            d("0.018")
        );
        assert_eq!(case("claude-sonnet-4-5@20250929").cost(used), d("0.018"));
    }

    #[test]
    fn provider_prefixes_and_case() {
        let catalog = PriceCatalog::embedded();
        let id = |name: &str| catalog.resolve(name).map(|m| m.id.as_str());
        assert_eq!(
            id("anthropic/claude-opus-4-5"),
            Some("claude-opus-4-5-20251101")
        );
        assert_eq!(
            id("  Anthropic/Claude-Opus-4-5-20251101 "),
            Some("claude-opus-4-5-20251101")
        );
        assert_eq!(id("openai/GPT-4o-mini-2024-07-18"), Some("gpt-4o-mini"));
        assert_eq!(
            id("moonshot/kimi-k2-0905-preview"),
            Some("kimi-k2-0905-preview")
        );
        // 0.01×5 + 0.01×25 = 0.05 + 0.25 = 0.3
        let used = tokens(10_000, 10_000, 0, 0, 0);
        assert_eq!(case("anthropic/claude-opus-4-5").cost(used), d("0.3"));
    }

    #[test]
    fn us_inference_on_opus_4_6() {
        let opus = case("claude-opus-4-6").at(APR);
        let used = tokens(1_000_000, 100_000, 0, 0, 0);
        // (1×5 + 0.1×25) × 1.1 = 7.5 × 1.1 = 8.25
        assert_eq!(opus.geo("us").cost(used), d("8.25"));
        // Global routing: 7.5
        assert_eq!(opus.geo("global").cost(used), d("7.5"));
        // Batch and US stack: 7.5 × 0.5 × 1.1 = 4.125
        assert_eq!(opus.geo("us").tier("batch").cost(used), d("4.125"));
        // Opus 4.5 predates the surcharge: 7.5
        assert_eq!(case("claude-opus-4-5").geo("us").cost(used), d("7.5"));
    }

    #[test]
    fn opus_4_6_long_context_only_until_march_13() {
        let used = tokens(300_000, 10_000, 0, 0, 0);
        let opus = case("claude-opus-4-6");
        let feb = opus.at("2026-02-20T12:00:00Z").window("200k-1M");
        // 0.3×10 + 0.01×37.50 = 3 + 0.375 = 3.375
        let quote = feb.quote(used).unwrap();
        assert_eq!(quote.cost, d("3.375"));
        assert_eq!(quote.price_ref, "claude-opus-4-6@2026-02-06");
        assert!(quote.long_context);
        // Inferred from 300K > 200K in the same period: the same figure.
        assert_eq!(opus.at("2026-02-20T12:00:00Z").cost(used), d("3.375"));
        // Last second of the old period.
        assert_eq!(feb.at("2026-03-13T23:59:59Z").cost(used), d("3.375"));

        // From 2026-03-14 the 1M context is standard: 0.3×5 + 0.01×25 = 1.5 + 0.25 = 1.75
        let april = feb.at(APR).quote(used).unwrap();
        assert_eq!(april.cost, d("1.75"));
        assert_eq!(april.price_ref, "claude-opus-4-6@2026-03-14");
        assert!(!april.long_context);
        assert_eq!(feb.at("2026-03-14T00:00:00Z").cost(used), d("1.75"));

        // Before the first period, the first period applies.
        let january = feb.at(JAN).quote(used).unwrap();
        assert_eq!(january.price_ref, "claude-opus-4-6@2026-02-06");

        // Long context and US inference stack: 3.375 × 1.1 = 3.7125
        assert_eq!(feb.geo("us").cost(used), d("3.7125"));
        // Sonnet 4.6 in February: 0.3×6 + 0.01×22.50 = 1.8 + 0.225 = 2.025
        assert_eq!(
            Case {
                model: "claude-sonnet-4-6",
                ..feb
            }
            .cost(used),
            d("2.025")
        );
    }

    #[test]
    fn unknown_models_are_unpriced() {
        let used = tokens(1_000, 1_000, 0, 0, 0);
        for name in [
            "gpt-9",
            "",
            "claude-sonnet-4-5-20991231",
            "claude-sonnet-4-5@20991231",
            "anthropic.claude-sonnet-4-5-20991231-v1:0",
            "claude-sonnet-4-5-latest",
        ] {
            assert_eq!(case(name).quote(used), None, "{name:?}");
        }
    }

    #[test]
    fn embedded_catalog_is_valid_and_sourced() {
        let catalog = PriceCatalog::from_toml(EMBEDDED_TOML).expect("embedded catalog parses");
        assert!(catalog.models().len() >= 50);
        for model in catalog.models() {
            let id = &model.id;
            for name in std::iter::once(id).chain(&model.aliases) {
                assert_eq!(catalog.resolve(name), Some(model), "{name}");
            }
            assert!(!model.source.trim().is_empty(), "{id} has no source");
            assert!(!model.prices.is_empty(), "{id} has no prices");
            let providers = ["anthropic", "openai", "moonshot"];
            assert!(providers.contains(&model.provider.as_str()), "{id}");
            for period in &model.prices {
                assert_eq!(period.batch_multiplier, d("0.5"), "{id}");
                // Web search is an Anthropic charge only.
                let anthropic = model.provider == "anthropic";
                assert_eq!(period.web_search_per_1k.is_some(), anthropic, "{id}");
            }
        }
        let geo: Vec<&str> = catalog
            .models()
            .iter()
            .filter(|m| m.prices.iter().any(|p| p.geo_us_multiplier.is_some()))
            .map(|m| m.id.as_str())
            .collect();
        let expected = [
            "claude-opus-4-6",
            "claude-opus-4-7",
            "claude-opus-4-8",
            "claude-opus-5",
            "claude-sonnet-4-6",
            "claude-sonnet-5",
            "claude-fable-5",
        ];
        assert_eq!(geo, expected);
    }

    /// Every rate times every modifier combination has at most 4 decimals per MTok,
    /// so a cost for integer token counts has at most 10 (storage keeps 12).
    #[test]
    fn every_rate_has_at_most_four_decimals_after_modifiers() {
        for model in PriceCatalog::embedded().models() {
            for period in &model.prices {
                let tiers = [
                    Some(Decimal::ONE),
                    Some(period.batch_multiplier),
                    period.flex_multiplier,
                ];
                let geos = [Some(Decimal::ONE), period.geo_us_multiplier];
                for long in [false, true] {
                    let r = period.rates(long);
                    let rates = [
                        r.input,
                        r.output,
                        r.cache_read,
                        r.cache_write_5m,
                        r.cache_write_1h,
                    ];
                    for rate in rates {
                        for tier in tiers.iter().flatten() {
                            for geo in geos.iter().flatten() {
                                let scaled = (rate * tier * geo).normalize();
                                let at = format!("{}@{}", model.id, period.effective_from);
                                assert!(
                                    scaled.scale() <= 4,
                                    "{at}: {rate} × {tier} × {geo} = {scaled}"
                                );
                            }
                        }
                    }
                }
            }
            let one_each = TokenCounts {
                web_search_requests: 1,
                ..tokens(1, 1, 1, 1, 1)
            };
            let quote = case(&model.id)
                .tier("batch")
                .geo("us")
                .quote(one_each)
                .unwrap();
            assert!(quote.cost.scale() <= 12, "{}: {}", model.id, quote.cost);
        }
    }

    #[test]
    fn serializes_prices_as_strings() {
        let model = PriceCatalog::embedded()
            .resolve("claude-3-5-haiku-20241022")
            .unwrap();
        let json = serde_json::to_value(model).unwrap();
        assert_eq!(json["prices"][0]["input"], "0.80");
        assert_eq!(json["prices"][0]["effective_from"], "2024-10-22");
        assert_eq!(json["prices"][0]["batch_multiplier"], "0.5");
    }

    const MINIMAL: &str = r#"
        [defaults]
        batch_multiplier = "0.5"

        [[model]]
        id = "model-a"
        provider = "anthropic"
        family = "a"
        display_name = "Model A"
        aliases = ["shared-name"]
        source = "test"
        [[model.prices]]
        effective_from = "2025-01-01"
        input = "1"
        output = "2"
    "#;

    /// `MINIMAL` plus a second model whose remaining fields are `fields`.
    fn with_model_b(fields: &str) -> String {
        let header = "[[model]]\nid = \"model-b\"\nprovider = \"openai\"\nfamily = \"b\"\n\
                      display_name = \"Model B\"";
        format!("{MINIMAL}\n{header}\n{fields}\n")
    }

    const PERIOD_2025: &str =
        "[[model.prices]]\neffective_from = \"2025-01-01\"\ninput = \"1\"\noutput = \"2\"";

    #[test]
    fn rejects_a_duplicate_alias_naming_the_model() {
        let text = with_model_b(&format!(
            "aliases = [\"Shared-Name\"]\nsource = \"t\"\n{PERIOD_2025}"
        ));
        let err = PriceCatalog::from_toml(&text).unwrap_err();
        assert!(matches!(err, CatalogError::DuplicateName { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("model-b") && message.contains("model-a"),
            "{message}"
        );
    }

    #[test]
    fn rejects_a_negative_price_naming_the_model() {
        let negative = PERIOD_2025.replace("\"2\"", "\"-2\"");
        let err = PriceCatalog::from_toml(&with_model_b(&format!("source = \"t\"\n{negative}")))
            .unwrap_err();
        assert!(matches!(err, CatalogError::Negative { .. }), "{err}");
        assert!(err.to_string().contains("model-b"), "{err}");
    }

    #[test]
    fn rejects_missing_source_unsorted_periods_and_malformed_prices() {
        let err = PriceCatalog::from_toml(&with_model_b(PERIOD_2025)).unwrap_err();
        let missing_source = matches!(&err, CatalogError::MissingField { model, field } if model == "model-b" && field == "source");
        assert!(missing_source, "{err}");

        let later = PERIOD_2025.replace("2025-01-01", "2025-06-01");
        let unsorted = with_model_b(&format!("source = \"t\"\n{later}\n{PERIOD_2025}"));
        let err = PriceCatalog::from_toml(&unsorted).unwrap_err();
        let names_model =
            matches!(&err, CatalogError::UnsortedPeriods { model, .. } if model == "model-b");
        assert!(names_model, "{err}");

        // Floats are rejected (prices are strings), and so are misspelt keys.
        let float = MINIMAL.replace("input = \"1\"", "input = 1.5");
        assert!(matches!(
            PriceCatalog::from_toml(&float),
            Err(CatalogError::Toml(_))
        ));
        let typo = MINIMAL.replace("input = \"1\"", "input = \"1\"\ncache_write5m = \"1\"");
        assert!(matches!(
            PriceCatalog::from_toml(&typo),
            Err(CatalogError::Toml(_))
        ));

        let minimal = PriceCatalog::from_toml(MINIMAL).unwrap();
        assert_eq!(
            minimal.resolve("SHARED-NAME").map(|m| m.id.as_str()),
            Some("model-a")
        );
    }
}
