//! Prices at run time: the stored price layer's edits (`PUT`/`DELETE
//! /admin/prices/{model}`, `cost-tracker prices import`). Every edit is checked
//! against the whole layer before anything is written, written in one
//! transaction, and followed by pricing the unpriced records it now covers.
//!
//! An import reads the catalog's own TOML format (`[[model]]` entries) or LiteLLM's
//! JSON table (`model_prices_and_context_window.json`: per-token prices, read from
//! their decimal text, never through `f64`), keeps only what differs from the prices
//! in use, and is all or nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::domain::pricing::{CatalogError, CatalogModel, PriceCatalog, PricePeriod, StoredEntry};
use crate::ledger::{Ledger, PricedReport};
use crate::store::StoreError;

/// One problem of an edit, naming the model and the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceError {
    pub model: String,
    pub field: String,
    pub message: String,
}

impl PriceError {
    fn of(model: &str, err: &CatalogError) -> PriceError {
        PriceError {
            model: model.to_owned(),
            field: err.field(),
            message: err.to_string(),
        }
    }

    /// `message` completes "model `m`: `field` …".
    fn new(model: &str, field: &str, message: impl Into<String>) -> PriceError {
        let message = message.into();
        PriceError {
            model: model.to_owned(),
            field: field.to_owned(),
            message: match model {
                "" => format!("`{field}` {message}"),
                _ => format!("model `{model}`: `{field}` {message}"),
            },
        }
    }
}

/// Why an edit was not made.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{} invalid price entries; nothing was changed", .0.len())]
    Invalid(Vec<PriceError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stored entry for one model: validates `body` (the JSON fields of a catalog
/// `[[model]]` entry) and checks it fits with every other stored entry. Returns the
/// entry under its canonical id and the model as it will price.
pub async fn check_entry(
    ledger: &Ledger,
    model: &str,
    body: &str,
) -> Result<(StoredEntry, CatalogModel), EditError> {
    let current = ledger.reload_prices().await?.catalog;
    let id = current.canonical_id(model);
    let base = ledger.embedded_catalog();
    let body = inherit_modifiers(body, ledger.embedded_catalog().resolve(&id));
    let parsed = base
        .parse_stored(&id, &body)
        .map_err(|err| EditError::Invalid(vec![PriceError::of(&id, &err)]))?;
    let body = normalized_body(&body);
    let entry = StoredEntry { model: id, body };
    let layered = layer_with(ledger, std::slice::from_ref(&entry)).await?;
    let model = layered
        .resolve(&entry.model)
        .cloned()
        .unwrap_or_else(|| parsed.clone());
    Ok((entry, model))
}

/// The current stored entries with `changes` put over them, layered over the
/// embedded catalog; a name collision is an error naming the model.
async fn layer_with(ledger: &Ledger, changes: &[StoredEntry]) -> Result<PriceCatalog, EditError> {
    let base = ledger.embedded_catalog();
    let mut entries: BTreeMap<String, StoredEntry> = ledger
        .store()
        .stored_prices()
        .await?
        .into_iter()
        .map(|row| (row.entry.model.clone(), row.entry))
        .collect();
    for change in changes {
        entries.insert(change.model.clone(), change.clone());
    }
    let mut models = Vec::with_capacity(entries.len());
    let mut errors = Vec::new();
    for entry in entries.values() {
        match base.parse_stored(&entry.model, &entry.body) {
            Ok(model) => models.push(model),
            // An old entry that no longer loads is left out, as the ledger does.
            Err(err) if changes.iter().any(|c| c.model == entry.model) => {
                errors.push(PriceError::of(&entry.model, &err));
            }
            Err(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(EditError::Invalid(errors));
    }
    base.layered(&models).map_err(|err| {
        let model = match &err {
            CatalogError::DuplicateName { model, .. } | CatalogError::InvalidName { model, .. } => {
                model.clone()
            }
            _ => String::new(),
        };
        EditError::Invalid(vec![PriceError::of(&model, &err)])
    })
}

/// The modifiers a catalog model has that an entry over it does not set (its
/// US-only surcharge, flex discount, web-search fee), so that new token prices do
/// not silently drop them; an entry that sets one, on the model or a period, keeps
/// its own. Anything but a JSON object is returned as is, for the parser to refuse.
fn inherit_modifiers(body: &str, catalog_model: Option<&CatalogModel>) -> String {
    let (Some(model), Ok(Value::Object(mut map))) =
        (catalog_model, serde_json::from_str::<Value>(body))
    else {
        return body.to_owned();
    };
    let first = map
        .get("prices")
        .and_then(Value::as_array)
        .and_then(|p| p.first())
        .and_then(|p| p.get("effective_from"))
        .and_then(Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
    let Some(first) = first else {
        return body.to_owned();
    };
    let period = model.period_on(first);
    for (field, value) in [
        ("batch_multiplier", Some(period.batch_multiplier)),
        ("flex_multiplier", period.flex_multiplier),
        ("geo_us_multiplier", period.geo_us_multiplier),
        ("web_search_per_1k", period.web_search_per_1k),
    ] {
        let set_in_a_period = map
            .get("prices")
            .and_then(Value::as_array)
            .is_some_and(|periods| periods.iter().any(|p| p.get(field).is_some()));
        if let (Some(value), false) = (value, map.contains_key(field) || set_in_a_period) {
            map.insert(field.into(), Value::String(value.normalize().to_string()));
        }
    }
    Value::Object(map).to_string()
}

/// The body as stored: compact JSON without `id` (the row's key names the model).
fn normalized_body(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(mut map)) => {
            map.remove("id");
            Value::Object(map).to_string()
        }
        _ => body.to_owned(),
    }
}

/// What a committed edit did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EditOutcome {
    /// Stored entries written and removed.
    pub stored: u64,
    pub removed: u64,
    /// The unpriced records the new prices covered, priced at once.
    pub priced: PricedReport,
}

/// Writes `put` and removes `delete` in one transaction, then reloads the prices
/// and prices the unpriced records they now cover.
pub async fn commit(
    ledger: &Ledger,
    put: &[StoredEntry],
    delete: &[String],
) -> Result<EditOutcome, StoreError> {
    let removed = ledger.store().save_stored_prices(put, delete).await?;
    let reload = ledger.reload_prices().await?;
    Ok(EditOutcome {
        stored: put.len() as u64,
        removed,
        priced: reload.priced,
    })
}

/// The file formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// The catalog's own format (`[[model]]` entries).
    Toml,
    /// LiteLLM's `model_prices_and_context_window.json`.
    Litellm,
}

/// What an import would change for one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedChange {
    pub model: String,
    /// `new_model` or `new_prices`.
    pub kind: &'static str,
    /// From when the new prices apply.
    pub effective_from: NaiveDate,
    /// `field: old → new` for each price that changes (`field: new` for a new model).
    pub prices: Vec<String>,
    #[serde(skip)]
    pub entry: StoredEntry,
}

/// The plan of an import: the changes, what was left alone, and every error.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportPlan {
    pub format: Option<ImportFormat>,
    pub changes: Vec<PlannedChange>,
    /// Models whose prices in use already equal the file's.
    pub unchanged: u64,
    /// Entries not imported, with why (not a first-party chat model, not token-priced).
    pub skipped: Vec<(String, String)>,
    pub errors: Vec<PriceError>,
}

/// Reads an import file and plans it against the prices in use. LiteLLM entries
/// carry no dates: their prices apply from `effective_from` (a new model's first
/// period also prices its earlier records).
pub async fn plan_import(
    ledger: &Ledger,
    text: &str,
    effective_from: NaiveDate,
) -> Result<ImportPlan, StoreError> {
    let current = ledger.reload_prices().await?.catalog;
    let stored: BTreeMap<String, StoredEntry> = ledger
        .store()
        .stored_prices()
        .await?
        .into_iter()
        .map(|row| (row.entry.model.clone(), row.entry))
        .collect();
    let mut plan = if text.trim_start().starts_with('{') {
        plan_litellm(&current, &stored, text, effective_from)
    } else {
        plan_toml(&current, text)
    };
    if plan.errors.is_empty() && !plan.changes.is_empty() {
        let entries: Vec<StoredEntry> = plan.changes.iter().map(|c| c.entry.clone()).collect();
        if let Err(EditError::Invalid(errors)) = layer_with(ledger, &entries).await {
            plan.errors = errors;
        }
    }
    Ok(plan)
}

/// Applies a plan without errors (all or nothing).
pub async fn apply_import(ledger: &Ledger, plan: &ImportPlan) -> Result<EditOutcome, EditError> {
    if !plan.errors.is_empty() {
        return Err(EditError::Invalid(plan.errors.clone()));
    }
    let entries: Vec<StoredEntry> = plan.changes.iter().map(|c| c.entry.clone()).collect();
    Ok(commit(ledger, &entries, &[]).await?)
}

impl ImportPlan {
    /// What the plan does, as the CLI prints it.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let kind = match change.kind {
                "new_model" => "new model ",
                _ => "new prices",
            };
            let _ = writeln!(
                out,
                "{kind}  {} from {}: {}",
                change.model,
                change.effective_from,
                change.prices.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "{} new or changed, {} unchanged, {} skipped (per MTok, USD)",
            self.changes.len(),
            self.unchanged,
            self.skipped.len()
        );
        for error in &self.errors {
            let _ = writeln!(out, "error       {}", error.message);
        }
        out
    }
}

// ───────────────────────────── the catalog's TOML format ─────────────────────────────

fn plan_toml(current: &PriceCatalog, text: &str) -> ImportPlan {
    let mut plan = ImportPlan {
        format: Some(ImportFormat::Toml),
        ..ImportPlan::default()
    };
    let table: toml::Table = match toml::from_str(text) {
        Ok(table) => table,
        Err(err) => {
            plan.errors.push(PriceError::new(
                "",
                "file",
                format!("is not valid TOML: {err}"),
            ));
            return plan;
        }
    };
    for (key, value) in &table {
        if key != "model" {
            plan.errors.push(PriceError::new(
                "",
                key,
                "only [[model]] entries can be imported (set modifiers on each model)",
            ));
        }
        let Some(models) = value.as_array().filter(|_| key == "model") else {
            continue;
        };
        for (i, model) in models.iter().enumerate() {
            let body = match serde_json::to_value(model) {
                Ok(body) => body,
                Err(err) => {
                    plan.errors.push(PriceError::new(
                        &format!("#{}", i + 1),
                        "model",
                        err.to_string(),
                    ));
                    continue;
                }
            };
            let id = body
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned();
            if id.is_empty() {
                plan.errors.push(PriceError::new(
                    &format!("#{}", i + 1),
                    "id",
                    "is missing or empty",
                ));
                continue;
            }
            let id = current.canonical_id(&id);
            let text = inherit_modifiers(&body.to_string(), current.resolve(&id));
            match current.parse_stored(&id, &text) {
                Ok(parsed) => plan_entry(current, &mut plan, parsed, normalized_body(&text), None),
                Err(err) => plan.errors.push(PriceError::of(&id, &err)),
            }
        }
    }
    plan
}

/// Adds one parsed entry to the plan unless the prices in use already equal it:
/// every period from its first on (`from` = `None`, a catalog-format entry), or the
/// period in force on `from` (a LiteLLM entry, which has one price and no dates).
fn plan_entry(
    current: &PriceCatalog,
    plan: &mut ImportPlan,
    parsed: CatalogModel,
    body: String,
    from: Option<NaiveDate>,
) {
    let in_force = |model: &CatalogModel, day: NaiveDate| model.period_on(day).clone();
    let day = from.unwrap_or(parsed.prices[0].effective_from);
    let new = in_force(&parsed, day);
    let entry = StoredEntry {
        model: parsed.id.clone(),
        body,
    };
    match current.resolve(&parsed.id) {
        Some(existing) => {
            let same_names = parsed
                .aliases
                .iter()
                .all(|a| current.resolve(a).is_some_and(|m| m.id == existing.id));
            let same_prices = match from {
                // Undated prices: the same rates and modifiers, whatever day they began.
                Some(day) => {
                    let now = in_force(existing, day);
                    PricePeriod {
                        effective_from: now.effective_from,
                        ..new.clone()
                    } == now
                }
                None => existing
                    .prices
                    .iter()
                    .filter(|p| p.effective_from >= day)
                    .eq(parsed.prices.iter()),
            };
            if same_names && same_prices {
                plan.unchanged += 1;
                return;
            }
            plan.changes.push(PlannedChange {
                model: parsed.id.clone(),
                kind: "new_prices",
                effective_from: new.effective_from,
                prices: price_diff(Some(&in_force(existing, day)), &new),
                entry,
            });
        }
        None => plan.changes.push(PlannedChange {
            model: parsed.id.clone(),
            kind: "new_model",
            effective_from: new.effective_from,
            prices: price_diff(None, &new),
            entry,
        }),
    }
}

/// `field: old → new` for every token price that differs.
fn price_diff(before: Option<&PricePeriod>, after: &PricePeriod) -> Vec<String> {
    let fields = |p: &PricePeriod| {
        [
            ("input", Some(p.input)),
            ("output", Some(p.output)),
            ("cache_read", p.cache_read),
            ("cache_write_5m", p.cache_write_5m),
            ("cache_write_1h", p.cache_write_1h),
        ]
    };
    let show =
        |v: Option<Decimal>| v.map_or_else(|| "none".to_owned(), |v| v.normalize().to_string());
    let new = fields(after);
    let mut out: Vec<String> = match before {
        None => new
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(f, v)| format!("{f} {}", show(*v)))
            .collect(),
        Some(before) => fields(before)
            .iter()
            .zip(new.iter())
            .filter(|((_, old), (_, new))| old != new)
            .map(|((f, old), (_, new))| format!("{f} {} → {}", show(*old), show(*new)))
            .collect(),
    };
    let long = |p: &PricePeriod| {
        p.long_context.as_ref().map_or_else(
            || "none".to_owned(),
            |lc| {
                format!(
                    "above {} tokens input {} output {}",
                    lc.threshold_tokens,
                    lc.input.normalize(),
                    lc.output.normalize()
                )
            },
        )
    };
    let modifiers = |p: &PricePeriod| {
        [
            ("batch_multiplier", Some(p.batch_multiplier)),
            ("flex_multiplier", p.flex_multiplier),
            ("geo_us_multiplier", p.geo_us_multiplier),
            ("web_search_per_1k", p.web_search_per_1k),
        ]
    };
    match before {
        Some(before) => {
            if before.long_context != after.long_context {
                out.push(format!("long_context {} → {}", long(before), long(after)));
            }
            for ((field, old), (_, new)) in modifiers(before).iter().zip(modifiers(after).iter()) {
                if old != new {
                    out.push(format!("{field} {} → {}", show(*old), show(*new)));
                }
            }
        }
        None if after.long_context.is_some() => {
            out.push(format!("long_context {}", long(after)));
        }
        None => {}
    }
    out
}

// ───────────────────────────── LiteLLM's JSON table ─────────────────────────────

/// LiteLLM providers whose entries are the provider's own API (not a reseller).
const FIRST_PARTY: &[(&str, &str)] = &[
    ("anthropic", "anthropic"),
    ("openai", "openai"),
    ("text-completion-openai", "openai"),
    ("moonshot", "moonshot"),
];
/// LiteLLM modes priced per token.
const TOKEN_MODES: &[&str] = &["chat", "responses", "completion"];
/// Route prefixes LiteLLM puts in front of a provider's own ids.
const ROUTES: &[&str] = &["anthropic/", "openai/", "moonshot/"];
/// LiteLLM per-token fields → catalog fields (per million tokens).
const TOKEN_FIELDS: &[(&str, &str)] = &[
    ("input_cost_per_token", "input"),
    ("output_cost_per_token", "output"),
    ("cache_read_input_token_cost", "cache_read"),
    ("cache_creation_input_token_cost", "cache_write_5m"),
    (
        "cache_creation_input_token_cost_above_1hr",
        "cache_write_1h",
    ),
];
/// LiteLLM long-context fields, `{N}` the threshold in thousands of input tokens
/// (`input_cost_per_token_above_200k_tokens`) → catalog `long_context` fields.
const LONG_FIELDS: &[(&str, &str)] = &[
    ("input_cost_per_token_above_{N}k_tokens", "input"),
    ("output_cost_per_token_above_{N}k_tokens", "output"),
    (
        "cache_read_input_token_cost_above_{N}k_tokens",
        "cache_read",
    ),
    (
        "cache_creation_input_token_cost_above_{N}k_tokens",
        "cache_write_5m",
    ),
    (
        "cache_creation_input_token_cost_above_1hr_above_{N}k_tokens",
        "cache_write_1h",
    ),
];

/// The long-context threshold an entry lists (thousands of tokens), if any.
fn long_context_threshold<'a>(fields: impl Iterator<Item = &'a String>) -> Option<u32> {
    fields
        .filter_map(|f| {
            f.strip_prefix("input_cost_per_token_above_")?
                .strip_suffix("k_tokens")
        })
        .find_map(|n| n.parse().ok())
}

/// A per-token price as written (`1e-06`, `0.0000025`) → USD per million tokens, exactly.
fn per_mtok(text: &str) -> Option<Decimal> {
    let text = text.trim().trim_matches('"');
    let per_token = Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()?;
    let value = per_token.checked_mul(Decimal::from(1_000_000))?.normalize();
    (value >= Decimal::ZERO).then_some(value)
}

fn plan_litellm(
    current: &PriceCatalog,
    stored: &BTreeMap<String, StoredEntry>,
    text: &str,
    effective_from: NaiveDate,
) -> ImportPlan {
    let mut plan = ImportPlan {
        format: Some(ImportFormat::Litellm),
        ..ImportPlan::default()
    };
    let table: BTreeMap<String, Box<RawValue>> = match serde_json::from_str(text) {
        Ok(table) => table,
        Err(err) => {
            plan.errors.push(PriceError::new(
                "",
                "file",
                format!("is not a LiteLLM price table (a JSON object of models): {err}"),
            ));
            return plan;
        }
    };
    // Two spellings of one model (`moonshot/kimi-k3`, `kimi-k3`) are imported once.
    let mut seen = std::collections::HashSet::new();
    for (key, raw) in &table {
        if key == "sample_spec" {
            continue;
        }
        let fields: BTreeMap<String, Box<RawValue>> = match serde_json::from_str(raw.get()) {
            Ok(fields) => fields,
            Err(_) => {
                plan.skipped.push((key.clone(), "not an object".into()));
                continue;
            }
        };
        let text_of = |name: &str| fields.get(name).map(|v| v.get().to_owned());
        let string_of = |name: &str| {
            fields
                .get(name)
                .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
        };
        let provider = string_of("litellm_provider").unwrap_or_default();
        let Some(&(_, provider)) = FIRST_PARTY.iter().find(|(p, _)| *p == provider) else {
            plan.skipped.push((
                key.clone(),
                format!("provider `{provider}` is not first-party"),
            ));
            continue;
        };
        let mode = string_of("mode").unwrap_or_else(|| "chat".into());
        if !TOKEN_MODES.contains(&mode.as_str()) {
            plan.skipped.push((
                key.clone(),
                format!("mode `{mode}` is not priced per token"),
            ));
            continue;
        }
        let mut name = key.trim().to_ascii_lowercase();
        while let Some(rest) = ROUTES.iter().find_map(|r| name.strip_prefix(r)) {
            name = rest.to_owned();
        }
        if name.contains('/') {
            plan.skipped
                .push((key.clone(), "not one of the provider's own ids".into()));
            continue;
        }
        let has_token_price = fields.keys().any(|f| f.contains("_token"));
        let has_other_price = fields
            .keys()
            .any(|f| f.contains("cost_per_") && !f.contains("_token"));
        if !has_token_price && has_other_price {
            plan.skipped
                .push((key.clone(), "not priced per token".into()));
            continue;
        }
        let mut prices = Map::new();
        let mut bad = false;
        for (litellm, field) in TOKEN_FIELDS {
            match text_of(litellm) {
                Some(text) => match per_mtok(&text) {
                    Some(value) => {
                        prices.insert((*field).into(), Value::String(value.to_string()));
                    }
                    None => {
                        plan.errors.push(PriceError::new(
                            key,
                            litellm,
                            format!("= {text} is not a non-negative decimal price per token"),
                        ));
                        bad = true;
                    }
                },
                None if matches!(*field, "input" | "output") => {
                    plan.errors.push(PriceError::new(
                        key,
                        litellm,
                        "is missing (input and output prices are required)",
                    ));
                    bad = true;
                }
                None => {}
            }
        }
        if bad || !seen.insert(current.canonical_id(&name)) {
            continue;
        }
        let mut long = Map::new();
        let threshold = long_context_threshold(fields.keys());
        for (litellm, field) in LONG_FIELDS.iter().filter(|_| threshold.is_some()) {
            let litellm = litellm.replace("{N}", &threshold.unwrap_or_default().to_string());
            if let Some(value) = text_of(&litellm).as_deref().and_then(per_mtok) {
                long.insert((*field).into(), Value::String(value.to_string()));
            }
        }
        // Long-context rates only when the table gives every rate the standard ones have.
        let complete = long.contains_key("input")
            && long.contains_key("output")
            && prices
                .keys()
                .filter(|k| k.starts_with("cache_"))
                .all(|k| long.contains_key(k));
        let existing = current.resolve(&name);
        let id = existing.map_or_else(|| name.clone(), |m| m.id.clone());
        let mut period = prices;
        period.insert(
            "effective_from".into(),
            Value::String(effective_from.to_string()),
        );
        if complete {
            let threshold = u64::from(threshold.unwrap_or_default()) * 1_000;
            long.insert("threshold_tokens".into(), json!(threshold));
            long.retain(|k, _| {
                k == "threshold_tokens" || k == "input" || k == "output" || period.contains_key(k)
            });
            period.insert("long_context".into(), Value::Object(long));
        } else if let Some(lc) =
            existing.and_then(|m| m.period_on(effective_from).long_context.as_ref())
        {
            // The table lists long-context rates only in part (or not at all): the
            // ones in use stay rather than being dropped.
            let rate = |v: Option<Decimal>| v.map(|v| Value::String(v.normalize().to_string()));
            let mut kept = Map::new();
            kept.insert("threshold_tokens".into(), json!(lc.threshold_tokens));
            kept.insert(
                "input".into(),
                Value::String(lc.input.normalize().to_string()),
            );
            kept.insert(
                "output".into(),
                Value::String(lc.output.normalize().to_string()),
            );
            for (field, value) in [
                ("cache_read", lc.cache_read),
                ("cache_write_5m", lc.cache_write_5m),
                ("cache_write_1h", lc.cache_write_1h),
            ] {
                if let Some(value) = rate(value) {
                    kept.insert(field.into(), value);
                }
            }
            period.insert("long_context".into(), Value::Object(kept));
        }
        let body = match existing {
            Some(model) => {
                // Keep the model's own modifiers (a catalog model's US-only surcharge,
                // say), which LiteLLM does not list.
                let now = model.period_on(effective_from);
                for (field, value) in [
                    ("batch_multiplier", Some(now.batch_multiplier)),
                    ("flex_multiplier", now.flex_multiplier),
                    ("geo_us_multiplier", now.geo_us_multiplier),
                    ("web_search_per_1k", now.web_search_per_1k),
                ] {
                    if let Some(value) = value {
                        period.insert(field.into(), Value::String(value.normalize().to_string()));
                    }
                }
                // Earlier stored periods stay; the catalog's stay under the layer.
                let mut periods: Vec<Value> = stored
                    .get(&id)
                    .and_then(|e| serde_json::from_str::<Value>(&e.body).ok())
                    .and_then(|b| b.get("prices").and_then(Value::as_array).cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| {
                        p.get("effective_from")
                            .and_then(Value::as_str)
                            .is_some_and(|d| d < effective_from.to_string().as_str())
                    })
                    .collect();
                periods.push(Value::Object(period));
                json!({
                    "provider": model.provider,
                    "family": model.family,
                    "display_name": model.display_name,
                    "aliases": [],
                    "source": format!("LiteLLM price table, imported for {effective_from}"),
                    "prices": periods,
                })
            }
            None => json!({
                "provider": provider,
                "family": family_of(provider, &name),
                "display_name": name,
                "aliases": [],
                "source": format!("LiteLLM price table, imported for {effective_from}"),
                "prices": [Value::Object(period)],
            }),
        };
        let text = body.to_string();
        match current.parse_stored(&id, &text) {
            Ok(parsed) => plan_entry(current, &mut plan, parsed, text, Some(effective_from)),
            Err(err) => plan.errors.push(PriceError::of(key, &err)),
        }
    }
    plan
}

/// A summary family for a model LiteLLM adds: `claude-<family>-…`, else the first
/// two parts of the id (`gpt-6`, `kimi-k3`, `o5-mini`).
fn family_of(provider: &str, id: &str) -> String {
    let parts: Vec<&str> = id.split('-').collect();
    match (provider, parts.as_slice()) {
        ("anthropic", ["claude", family, ..]) => (*family).to_owned(),
        (_, [first, second, ..]) => format!("{first}-{second}"),
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litellm_prices_are_read_exactly_from_their_text() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(per_mtok("1e-06"), Some(d("1")));
        assert_eq!(per_mtok("2.5e-06"), Some(d("2.5")));
        assert_eq!(per_mtok("1.25e-07"), Some(d("0.125")));
        assert_eq!(per_mtok("0.000003"), Some(d("3")));
        assert_eq!(per_mtok("\"6e-07\""), Some(d("0.6")));
        // Through f64, 3.81469e-08 × 1e6 would be 0.038146899999999995.
        assert_eq!(per_mtok("3.81469e-08"), Some(d("0.0381469")));
        assert_eq!(per_mtok("0"), Some(d("0")));
        assert_eq!(per_mtok("-1e-07"), None);
        assert_eq!(per_mtok("cheap"), None);
    }

    #[test]
    fn the_long_context_threshold_is_the_one_the_entry_lists() {
        let keys = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let listed = keys(&[
            "input_cost_per_token",
            "input_cost_per_token_above_272k_tokens",
        ]);
        assert_eq!(long_context_threshold(listed.iter()), Some(272));
        let flex_only = keys(&["input_cost_per_token_above_200k_tokens_flex"]);
        assert_eq!(long_context_threshold(flex_only.iter()), None);
        assert_eq!(family_of("anthropic", "claude-mythos-5-1"), "mythos");
        assert_eq!(family_of("openai", "gpt-6-mini"), "gpt-6");
    }
}
