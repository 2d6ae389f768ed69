//! The stored price layer: price entries kept in the database (`PUT /admin/prices`,
//! `cost-tracker prices import`) over the embedded catalog, so a new model or a new
//! price needs no rebuild. A stored entry has the fields of a catalog `[[model]]`
//! entry. For a model the catalog has, its periods replace the catalog's from the
//! stored first `effective_from` on (earlier catalog periods still price earlier
//! records); for a model the catalog lacks, it adds the model.

use serde::Serialize;

use super::load::{index_names, RawModel};
use super::names::normalize_name;
use super::*;

/// One stored entry as the database keeps it: the canonical model id and the
/// entry's JSON (the fields of a catalog `[[model]]` entry, without `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub model: String,
    pub body: String,
}

/// Where a price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceLayer {
    /// The catalog embedded in the binary.
    Catalog,
    /// A price entry stored in the database.
    Stored,
}

impl CatalogModel {
    /// The layer one of this model's periods comes from.
    pub fn layer_of(&self, period: &PricePeriod) -> PriceLayer {
        match self.stored_from {
            Some(from) if period.effective_from >= from => PriceLayer::Stored,
            _ => PriceLayer::Catalog,
        }
    }

    /// `catalog` (embedded only), `stored` (every period stored) or
    /// `stored_over_catalog` (stored periods after catalog ones).
    pub fn layers(&self) -> &'static str {
        match self.stored_from {
            None => "catalog",
            Some(from) if self.prices[0].effective_from >= from => "stored",
            Some(_) => "stored_over_catalog",
        }
    }
}

impl CatalogError {
    /// The field an error is about, as a client names it (`prices[0].input`).
    pub fn field(&self) -> String {
        match self {
            CatalogError::Toml(_) => "body".into(),
            CatalogError::MissingField { field, .. }
            | CatalogError::InvalidDecimal { field, .. }
            | CatalogError::Negative { field, .. }
            | CatalogError::InvalidField { field, .. } => field.clone(),
            CatalogError::InvalidDate { .. } => "effective_from".into(),
            CatalogError::UnsortedPeriods { .. } => "prices".into(),
            CatalogError::InvalidName { .. } | CatalogError::DuplicateName { .. } => {
                "aliases".into()
            }
            CatalogError::InvalidLongContext { .. } => "long_context".into(),
        }
    }
}

/// The description stored entries get when they name no source.
const OPERATOR_SOURCE: &str = "stored price (no source given)";

impl PriceCatalog {
    /// Validates a stored entry for `model` (JSON: the fields of a catalog
    /// `[[model]]` entry; `id`, when present, must name the same model): the same
    /// checks as the catalog file, with the catalog's defaults inherited. Every
    /// error names the model and the field.
    pub fn parse_stored(&self, model: &str, body: &str) -> Result<CatalogModel, CatalogError> {
        let model = model.trim();
        let invalid = |field: &str, message: String| CatalogError::InvalidField {
            model: model.to_owned(),
            field: field.to_owned(),
            message,
        };
        if normalize_name(model).is_empty() {
            return Err(invalid("model", "must not be empty".into()));
        }
        if let Some(path) = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .as_ref()
            .and_then(crate::domain::text::nul_path)
        {
            let field = path.trim_start_matches('.');
            return Err(invalid(
                if field.is_empty() { "body" } else { field },
                crate::domain::text::NUL_MESSAGE.into(),
            ));
        }
        let mut de = serde_json::Deserializer::from_str(body);
        let mut raw: RawModel = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let path = err.path().to_string();
            let field = if path == "." { "body".into() } else { path };
            invalid(&field, err.inner().to_string())
        })?;
        de.end().map_err(|err| invalid("body", err.to_string()))?;
        if !raw.id.trim().is_empty() && normalize_name(&raw.id) != normalize_name(model) {
            return Err(invalid(
                "id",
                format!("`{}` is not the model of the path", raw.id.trim()),
            ));
        }
        raw.id = model.to_owned();
        if raw.display_name.trim().is_empty() {
            raw.display_name = model.to_owned();
        }
        if raw.source.trim().is_empty() {
            raw.source = OPERATOR_SOURCE.to_owned();
        }
        raw.build(0, self.defaults, &self.provider_defaults)
    }

    /// This catalog with the stored entries layered over it (each already
    /// validated by [`PriceCatalog::parse_stored`]); fails when names collide.
    pub fn layered(&self, stored: &[CatalogModel]) -> Result<PriceCatalog, CatalogError> {
        let mut models = self.models.clone();
        for entry in stored {
            let first = entry.prices[0].effective_from;
            match self.index.get(&normalize_name(&entry.id)) {
                Some(&position) => {
                    let model = &mut models[position];
                    model.prices.retain(|p| p.effective_from < first);
                    model.prices.extend(entry.prices.iter().cloned());
                    model.provider = entry.provider.clone();
                    model.family = entry.family.clone();
                    if entry.display_name != entry.id {
                        model.display_name = entry.display_name.clone();
                    }
                    for alias in &entry.aliases {
                        let key = normalize_name(alias);
                        let known = std::iter::once(&model.id)
                            .chain(&model.aliases)
                            .any(|name| normalize_name(name) == key);
                        if !known {
                            model.aliases.push(alias.clone());
                        }
                    }
                    model.stored_from = Some(first);
                    model.stored_source = Some(entry.source.clone());
                }
                None => models.push(CatalogModel {
                    stored_from: Some(first),
                    stored_source: Some(entry.source.clone()),
                    ..entry.clone()
                }),
            }
        }
        let index = index_names(&models)?;
        Ok(PriceCatalog {
            models,
            index,
            defaults: self.defaults,
            provider_defaults: self.provider_defaults.clone(),
        })
    }

    /// The canonical id a stored entry for `model` is kept under: the id of the
    /// model it names when this catalog knows it, else the name as given.
    pub fn canonical_id(&self, model: &str) -> String {
        self.resolve(model)
            .map_or_else(|| model.trim().to_owned(), |m| m.id.clone())
    }
}
