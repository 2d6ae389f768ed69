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
    /// Whether this process has the provider's admin key; `null` on the `query-api`
    /// Lambda, which hands collections to the collector function (see `handoff`).
    pub configured: Option<bool>,
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
    /// Whether this process has the vault's URL and key; `null` on the `query-api`
    /// Lambda, which hands pushes to the cv-sync function (see `handoff`).
    pub configured: Option<bool>,
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
    pub handoff: HandoffStatus,
    pub budgets: BudgetAlertStatus,
}

/// Budget alerts: how many budgets, the latest alerts, and the latest that failed.
#[derive(Serialize, ToSchema)]
pub struct BudgetAlertStatus {
    pub budgets: usize,
    /// Whether the `context_vault` channel has a vault (CONTEXT_VAULT_URL and _API_KEY).
    pub context_vault_configured: bool,
    /// The latest alerts, newest first (at most 10).
    pub recent_alerts: Vec<crate::budgets::check::Alert>,
    /// The latest alerts a channel did not take after its retries (at most 10).
    pub failed_alerts: Vec<crate::budgets::check::Alert>,
    /// The error of the latest failed alert.
    pub last_error: Option<String>,
}

/// Where `POST /admin/collect` and `POST /admin/sync-cv` run, and the latest handoffs.
#[derive(Serialize, ToSchema)]
pub struct HandoffStatus {
    /// The function collections are handed to; `null` = run in this process.
    pub collect_function: Option<String>,
    /// The function Context Vault pushes are handed to; `null` = run in this process.
    pub sync_cv_function: Option<String>,
    /// The latest handoffs, newest first (at most 10).
    pub recent: Vec<crate::store::HandoffRecord>,
}

/// `202` of `POST /admin/collect` and `POST /admin/sync-cv` on Lambda.
#[derive(Serialize, ToSchema)]
pub struct HandedOff {
    pub handoff: crate::store::HandoffRecord,
    /// Where the run shows up once the function has started it.
    pub status_url: &'static str,
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

/// One usage event of `POST /api/usage` (what the parser accepts; unknown fields are
/// refused). `tokens_in`/`input_tokens` and `tokens_out`/`output_tokens` are two
/// spellings of one field: give one.
#[allow(dead_code)]
#[derive(serde::Deserialize, ToSchema)]
pub struct UsageEvent {
    /// The model as the provider names it (`claude-sonnet-4-5`, `openai/gpt-5`, a Bedrock id…).
    #[schema(min_length = 1, max_length = 200, example = "claude-sonnet-4-5")]
    model: String,
    /// Uncached input tokens.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    tokens_in: Option<i64>,
    /// The same as `tokens_in`.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    input_tokens: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    tokens_out: Option<i64>,
    /// The same as `tokens_out`.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    output_tokens: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    cache_read_tokens: Option<i64>,
    /// 5-minute cache writes.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    cache_write_tokens: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    cache_write_1h_tokens: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    web_search_requests: Option<i64>,
    /// `anthropic`, `openai`, `moonshot`…; default: from the model.
    #[schema(max_length = 500)]
    provider: Option<String>,
    /// Default: the project mapping rules, then DEFAULT_PROJECT.
    #[schema(max_length = 500)]
    project: Option<String>,
    #[schema(max_length = 500)]
    agent: Option<String>,
    /// Default: inferred from `session_label` / `session_id`.
    #[schema(value_type = Option<String>, example = "subagent")]
    session_type: Option<SessionTypeName>,
    #[schema(max_length = 500, example = "agent:main:subagent:peakpaws-review")]
    session_label: Option<String>,
    #[schema(max_length = 500)]
    session_id: Option<String>,
    /// `standard`, `batch`, `flex`, `priority`.
    #[schema(max_length = 500)]
    service_tier: Option<String>,
    /// RFC 3339; default now; at most 5 minutes ahead.
    recorded_at: Option<DateTime<Utc>>,
    /// What the provider charged, USD (a number or a decimal string); beats the computed cost.
    #[schema(value_type = Option<String>, example = "0.0123")]
    cost: Option<String>,
    /// The agent's own estimate, USD; used only when the model has no price.
    #[schema(value_type = Option<String>, example = "0.0123")]
    estimated_cost: Option<String>,
    /// The client's id of the event: a repeat with the same content is a no-op.
    #[schema(max_length = 500)]
    event_id: Option<String>,
    /// Anything; kept with the record.
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
    /// `push` (default) or `import` (needs `event_id`; keeps the larger token total when sent again).
    #[schema(value_type = Option<String>, example = "push")]
    source: Option<String>,
}

/// `main`, `subagent`, `heartbeat`, `cron` or `other`.
#[derive(serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionTypeName {
    Main,
    Subagent,
    Heartbeat,
    Cron,
    Other,
}

/// The body of `POST /api/usage`: one event, or an array of 1 to 5,000 (all or nothing).
#[allow(dead_code, clippy::large_enum_variant)]
#[derive(serde::Deserialize, ToSchema)]
#[serde(untagged)]
pub enum UsageBody {
    One(UsageEvent),
    Batch(UsageBatch),
}

/// 1 to 5,000 events.
#[allow(dead_code)]
#[derive(serde::Deserialize)]
pub struct UsageBatch(Vec<UsageEvent>);

impl utoipa::PartialSchema for UsageBatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::ArrayBuilder;
        use utoipa::openapi::{Ref, RefOr};
        ArrayBuilder::new()
            .description(Some("1 to 5,000 events, all or nothing."))
            .items(RefOr::Ref(Ref::from_schema_name("UsageEvent")))
            .min_items(Some(1))
            .max_items(Some(crate::ingest::MAX_BATCH))
            .into()
    }
}

impl ToSchema for UsageBatch {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            "UsageEvent".into(),
            <UsageEvent as utoipa::PartialSchema>::schema(),
        ));
        <UsageEvent as ToSchema>::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented event has exactly the fields the parser accepts, `model` required.
    #[test]
    fn the_event_schema_lists_every_field_the_parser_accepts() {
        let schema = serde_json::to_value(<UsageEvent as utoipa::PartialSchema>::schema()).unwrap();
        let mut documented: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut accepted = crate::ingest::KNOWN_FIELDS.to_vec();
        documented.sort_unstable();
        accepted.sort_unstable();
        assert_eq!(documented, accepted);
        assert_eq!(schema["required"], serde_json::json!(["model"]));
        let batch = serde_json::to_value(<UsageBatch as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(batch["maxItems"], crate::ingest::MAX_BATCH);
        assert_eq!(batch["items"]["$ref"], "#/components/schemas/UsageEvent");
    }
}
