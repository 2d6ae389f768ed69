//! The answers of the models, admin and health endpoints: each handler builds one of
//! these and the OpenAPI document describes the same struct.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::money::{serialize_decimal, Pico};
use crate::domain::pricing::{CatalogModel, LongContext, PriceLayer, PricePeriod};
use crate::domain::rules::ProjectRule;
use crate::ledger::{PricedReport, RepriceReport as Repricing, RetagReport};
use crate::store::{CollectionRun, CvPush, ImportRun};

/// A price as an exact JSON number, `null` when there is none.
fn usd<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serialize_decimal(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// Prices in USD per million tokens (multipliers are factors).
#[derive(Serialize, ToSchema)]
pub struct Prices {
    effective_from: NaiveDate,
    /// Where this period comes from: `catalog` (embedded in the binary) or `stored`
    /// (`PUT /admin/prices/{model}`, `cost-tracker prices import`).
    #[schema(value_type = String, example = "catalog")]
    layer: PriceLayer,
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    input_per_mtok: Decimal,
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    output_per_mtok: Decimal,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    cache_read_per_mtok: Option<Decimal>,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    cache_write_5m_per_mtok: Option<Decimal>,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    cache_write_1h_per_mtok: Option<Decimal>,
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    batch_multiplier: Decimal,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    flex_multiplier: Option<Decimal>,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    geo_us_multiplier: Option<Decimal>,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    web_search_per_1k: Option<Decimal>,
    long_context: Option<LongContextPrices>,
}

impl Prices {
    fn of(model: &CatalogModel, p: &PricePeriod) -> Prices {
        Prices {
            effective_from: p.effective_from,
            layer: model.layer_of(p),
            input_per_mtok: p.input,
            output_per_mtok: p.output,
            cache_read_per_mtok: p.cache_read,
            cache_write_5m_per_mtok: p.cache_write_5m,
            cache_write_1h_per_mtok: p.cache_write_1h,
            batch_multiplier: p.batch_multiplier,
            flex_multiplier: p.flex_multiplier,
            geo_us_multiplier: p.geo_us_multiplier,
            web_search_per_1k: p.web_search_per_1k,
            long_context: p.long_context.as_ref().map(LongContextPrices::from),
        }
    }
}

/// The prices above `threshold_tokens` of input, for models that have them.
#[derive(Serialize, ToSchema)]
pub struct LongContextPrices {
    threshold_tokens: i64,
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    input_per_mtok: Decimal,
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    output_per_mtok: Decimal,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    cache_read_per_mtok: Option<Decimal>,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    cache_write_5m_per_mtok: Option<Decimal>,
    #[serde(serialize_with = "usd")]
    #[schema(value_type = Option<f64>)]
    cache_write_1h_per_mtok: Option<Decimal>,
}

impl From<&LongContext> for LongContextPrices {
    fn from(lc: &LongContext) -> LongContextPrices {
        LongContextPrices {
            threshold_tokens: lc.threshold_tokens,
            input_per_mtok: lc.input,
            output_per_mtok: lc.output,
            cache_read_per_mtok: lc.cache_read,
            cache_write_5m_per_mtok: lc.cache_write_5m,
            cache_write_1h_per_mtok: lc.cache_write_1h,
        }
    }
}

/// A catalog model with its current prices (`history` and `requested` on `/api/models/{id}`).
#[derive(Serialize, ToSchema)]
pub struct ModelPrices {
    id: String,
    provider: String,
    family: String,
    display_name: String,
    aliases: Vec<String>,
    /// Always true here.
    priced: bool,
    prices: Prices,
    /// Where the prices come from.
    source: String,
    /// `catalog`, `stored` (a model only stored prices know) or `stored_over_catalog`
    /// (stored periods from `stored_from` on, the catalog's before).
    layers: &'static str,
    /// The first day the stored layer prices, when there is one.
    stored_from: Option<NaiveDate>,
    /// The source the stored entry names.
    stored_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Vec<Prices>>,
    /// The id as asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    requested: Option<String>,
}

impl ModelPrices {
    /// `model` with the prices in force now.
    pub fn new(model: &CatalogModel, current: &PricePeriod) -> ModelPrices {
        ModelPrices {
            id: model.id.clone(),
            provider: model.provider.clone(),
            family: model.family.clone(),
            display_name: model.display_name.clone(),
            aliases: model.aliases.clone(),
            priced: true,
            prices: Prices::of(model, current),
            source: model.source.clone(),
            layers: model.layers(),
            stored_from: model.stored_from,
            stored_source: model.stored_source.clone(),
            history: None,
            requested: None,
        }
    }

    /// Adds every price period and the id as the client asked for it.
    pub fn with_history(mut self, model: &CatalogModel, requested: String) -> ModelPrices {
        self.history = Some(model.prices.iter().map(|p| Prices::of(model, p)).collect());
        self.requested = Some(requested);
        self
    }
}

/// A model seen in usage with no price.
#[derive(Serialize, ToSchema)]
pub struct UnpricedModel {
    id: String,
    /// Always false.
    priced: bool,
    unpriced_requests: i64,
}

impl UnpricedModel {
    pub fn new(id: String, unpriced_requests: i64) -> UnpricedModel {
        UnpricedModel {
            id,
            priced: false,
            unpriced_requests,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ModelEntry {
    Priced(Box<ModelPrices>),
    Unpriced(UnpricedModel),
}

/// `GET /api/models`.
#[derive(Serialize, ToSchema)]
pub struct ModelList {
    pub count: usize,
    pub models: Vec<ModelEntry>,
}

/// A project mapping rule.
#[derive(Serialize, ToSchema)]
pub struct Rule {
    id: i64,
    /// Glob matched against the session label, API key name or workspace name.
    pattern: String,
    project: String,
    priority: i32,
}

impl From<ProjectRule> for Rule {
    fn from(rule: ProjectRule) -> Rule {
        Rule {
            id: rule.id,
            pattern: rule.pattern,
            project: rule.project,
            priority: rule.priority,
        }
    }
}

/// `GET /admin/project-mappings`.
#[derive(Serialize, ToSchema)]
pub struct RuleList {
    pub default_project: String,
    pub rules: Vec<Rule>,
}

/// What re-applying the rules changed.
#[derive(Serialize, ToSchema)]
pub struct Retagged {
    subjects_changed: u64,
    records_changed: u64,
}

impl From<RetagReport> for Retagged {
    fn from(report: RetagReport) -> Retagged {
        Retagged {
            subjects_changed: report.subjects_changed,
            records_changed: report.records_changed,
        }
    }
}

/// A created or updated rule and what it re-tagged.
#[derive(Serialize, ToSchema)]
pub struct RuleChange {
    pub rule: Rule,
    pub retagged: Retagged,
}

/// `DELETE /admin/project-mappings/{id}`.
#[derive(Serialize, ToSchema)]
pub struct RuleDeleted {
    pub deleted: i64,
    pub retagged: Retagged,
}

/// What re-pricing changed.
#[derive(Serialize, ToSchema)]
pub struct RepriceReport {
    records_checked: u64,
    records_changed: u64,
    #[schema(value_type = f64)]
    cost_before_usd: Pico,
    #[schema(value_type = f64)]
    cost_after_usd: Pico,
    newly_priced: u64,
}

impl From<Repricing> for RepriceReport {
    fn from(report: Repricing) -> RepriceReport {
        RepriceReport {
            records_checked: report.records_checked,
            records_changed: report.records_changed,
            cost_before_usd: report.cost_before_usd,
            cost_after_usd: report.cost_after_usd,
            newly_priced: report.newly_priced,
        }
    }
}

/// The unpriced records a new price covered, priced at once.
#[derive(Serialize, ToSchema)]
pub struct Priced {
    /// Unpriced records looked at.
    records_checked: u64,
    /// The records now priced.
    records_priced: u64,
    /// Their cost before (an agent's estimate, or 0) and now, USD.
    #[schema(value_type = f64)]
    cost_before_usd: Pico,
    #[schema(value_type = f64)]
    cost_after_usd: Pico,
}

impl From<PricedReport> for Priced {
    fn from(report: PricedReport) -> Priced {
        Priced {
            records_checked: report.records_checked,
            records_priced: report.records_priced,
            cost_before_usd: report.cost_before_usd,
            cost_after_usd: report.cost_after_usd,
        }
    }
}

/// `PUT /admin/prices/{model}`.
#[derive(Serialize, ToSchema)]
pub struct PriceStored {
    /// The model as it prices now, with every period and the layer of each.
    pub model: ModelPrices,
    /// True when the model had no stored entry before.
    pub created: bool,
    pub priced: Priced,
}

/// `DELETE /admin/prices/{model}`.
#[derive(Serialize, ToSchema)]
pub struct PriceDeleted {
    pub deleted: String,
    /// The model as the catalog alone prices it; null when only the stored entry knew it.
    pub model: Option<ModelPrices>,
    /// Records keep the cost they have: `POST /admin/reprice` applies the prices now in use.
    pub note: &'static str,
}

/// `POST /admin/reprice`.
#[derive(Serialize, ToSchema)]
pub struct Repriced {
    pub start: String,
    pub end: String,
    pub timezone: String,
    pub report: RepriceReport,
}

/// `POST /admin/collect` and `POST /admin/sync-cv`: the run's report (README: Collection,
/// Context Vault sync).
#[derive(Serialize, ToSchema)]
pub struct RunReport {
    report: Map<String, Value>,
}

impl RunReport {
    /// The report of a run, as the object it serializes to.
    pub fn of(report: &impl Serialize) -> RunReport {
        let report = match serde_json::to_value(report) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        RunReport { report }
    }
}

/// One provider's collection state.
#[derive(Serialize, ToSchema)]
pub struct ProviderStatus {
    pub configured: bool,
    /// Where the next scheduled collection continues from.
    pub watermark: Option<DateTime<Utc>>,
    /// The latest run (range, counts, status, error).
    #[schema(value_type = Option<Object>)]
    pub last_run: Option<CollectionRun>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub last_failure: Option<CollectionRun>,
}

#[derive(Serialize, ToSchema)]
pub struct Providers {
    pub anthropic: ProviderStatus,
    pub openai: ProviderStatus,
}

/// Context Vault sync state.
#[derive(Serialize, ToSchema)]
pub struct VaultStatus {
    pub configured: bool,
    pub workspace: Option<String>,
    pub timezone: String,
    #[schema(value_type = Option<Object>)]
    pub last_push: Option<CvPush>,
    #[schema(value_type = Option<Object>)]
    pub last_success: Option<CvPush>,
    pub last_error: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub recent_pushes: Vec<CvPush>,
}

#[derive(Serialize, ToSchema)]
pub struct UnpricedUsage {
    pub model: String,
    pub unpriced_requests: i64,
}

/// `GET /admin/status`.
#[derive(Serialize, ToSchema)]
pub struct Status {
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub report_timezone: String,
    pub providers: Providers,
    #[schema(value_type = Vec<Object>)]
    pub recent_runs: Vec<CollectionRun>,
    pub context_vault: VaultStatus,
    /// The last transcript import of each (importer, root).
    #[schema(value_type = Vec<Object>)]
    pub imports: Vec<ImportRun>,
    /// Per provider, the hours its collections covered: in those, the bill is the
    /// total of the reconciled basis (see `GET /costs/reconciliation`).
    pub billed_hours: Vec<crate::reconciliation::BilledRange>,
    pub unpriced_models: Vec<UnpricedUsage>,
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` (503) when the database does not answer.
    pub status: &'static str,
    /// `ok` or `unreachable`.
    pub database: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<&'static str>,
    pub version: &'static str,
}
