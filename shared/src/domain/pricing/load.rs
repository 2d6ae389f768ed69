//! Reading `catalog.toml`: its shape (every table and key, unknown ones refused)
//! and the checks that turn it into a [`PriceCatalog`].

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::names::normalize_name;
use super::*;

impl PriceCatalog {
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
        for (position, raw_model) in raw.model.into_iter().enumerate() {
            models.push(raw_model.build(position, defaults, &provider_defaults)?);
        }
        let index = index_names(&models)?;
        Ok(PriceCatalog {
            models,
            index,
            defaults,
            provider_defaults,
        })
    }
}

/// Normalized id or alias → position, refusing empty and duplicate names.
pub(super) fn index_names(models: &[CatalogModel]) -> Result<HashMap<String, usize>, CatalogError> {
    let mut index: HashMap<String, usize> = HashMap::new();
    for (position, model) in models.iter().enumerate() {
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
                return Err(CatalogError::DuplicateName {
                    model: model.id.clone(),
                    name: name.clone(),
                    other: models[other].id.clone(),
                });
            }
            index.insert(key, position);
        }
    }
    Ok(index)
}

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
pub(super) struct RawModel {
    #[serde(default)]
    pub(super) id: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    family: String,
    #[serde(default)]
    pub(super) display_name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    pub(super) source: String,
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
pub(super) struct Modifiers {
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
    pub(super) fn build(
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
            stored_from: None,
            stored_source: None,
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
