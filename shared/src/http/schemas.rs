//! OpenAPI schemas of the answers that handlers build as JSON values (models, admin,
//! health). They describe, they are never built; tests/tests/openapi.rs validates real
//! answers against them, so a handler that changes its JSON without them fails there.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// Prices in USD per million tokens (multipliers are factors).
#[derive(Serialize, ToSchema)]
pub struct Prices {
    effective_from: NaiveDate,
    input_per_mtok: f64,
    output_per_mtok: f64,
    cache_read_per_mtok: Option<f64>,
    cache_write_5m_per_mtok: Option<f64>,
    cache_write_1h_per_mtok: Option<f64>,
    batch_multiplier: f64,
    flex_multiplier: Option<f64>,
    geo_us_multiplier: Option<f64>,
    web_search_per_1k: Option<f64>,
    long_context: Option<LongContextPrices>,
}

/// The prices above `threshold_tokens` of input, for models that have them.
#[derive(Serialize, ToSchema)]
pub struct LongContextPrices {
    threshold_tokens: i64,
    input_per_mtok: f64,
    output_per_mtok: f64,
    cache_read_per_mtok: Option<f64>,
    cache_write_5m_per_mtok: Option<f64>,
    cache_write_1h_per_mtok: Option<f64>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Vec<Prices>>,
    /// The id as asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    requested: Option<String>,
}

/// A model seen in usage with no price.
#[derive(Serialize, ToSchema)]
pub struct UnpricedModel {
    id: String,
    /// Always false.
    priced: bool,
    unpriced_requests: i64,
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
    count: usize,
    models: Vec<ModelEntry>,
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

/// `GET /admin/project-mappings`.
#[derive(Serialize, ToSchema)]
pub struct RuleList {
    default_project: String,
    rules: Vec<Rule>,
}

/// What re-applying the rules changed.
#[derive(Serialize, ToSchema)]
pub struct Retagged {
    subjects_changed: u64,
    records_changed: u64,
}

/// A created or updated rule and what it re-tagged.
#[derive(Serialize, ToSchema)]
pub struct RuleChange {
    rule: Rule,
    retagged: Retagged,
}

/// `DELETE /admin/project-mappings/{id}`.
#[derive(Serialize, ToSchema)]
pub struct RuleDeleted {
    deleted: i64,
    retagged: Retagged,
}

/// What re-pricing changed.
#[derive(Serialize, ToSchema)]
pub struct RepriceReport {
    records_checked: u64,
    records_changed: u64,
    cost_before_usd: f64,
    cost_after_usd: f64,
    newly_priced: u64,
}

/// `POST /admin/reprice`.
#[derive(Serialize, ToSchema)]
pub struct Repriced {
    start: String,
    end: String,
    timezone: String,
    report: RepriceReport,
}

/// `POST /admin/collect` and `POST /admin/sync-cv`: the run's report (README: Collection,
/// Context Vault sync).
#[derive(Serialize, ToSchema)]
pub struct RunReport {
    report: serde_json::Map<String, serde_json::Value>,
}

/// One provider's collection state.
#[derive(Serialize, ToSchema)]
pub struct ProviderStatus {
    configured: bool,
    /// Where the next scheduled collection continues from.
    watermark: Option<DateTime<Utc>>,
    /// The latest run (range, counts, status, error).
    #[schema(value_type = Option<Object>)]
    last_run: Option<serde_json::Value>,
    last_success_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    #[schema(value_type = Option<Object>)]
    last_failure: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Providers {
    anthropic: ProviderStatus,
    openai: ProviderStatus,
}

/// Context Vault sync state.
#[derive(Serialize, ToSchema)]
pub struct VaultStatus {
    configured: bool,
    workspace: Option<String>,
    timezone: String,
    #[schema(value_type = Option<Object>)]
    last_push: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    last_success: Option<serde_json::Value>,
    last_error: Option<String>,
    #[schema(value_type = Vec<Object>)]
    recent_pushes: Vec<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct UnpricedUsage {
    model: String,
    unpriced_requests: i64,
}

/// `GET /admin/status`.
#[derive(Serialize, ToSchema)]
pub struct Status {
    version: String,
    /// `sqlite` or `postgres`.
    database: String,
    report_timezone: String,
    providers: Providers,
    #[schema(value_type = Vec<Object>)]
    recent_runs: Vec<serde_json::Value>,
    context_vault: VaultStatus,
    /// The last transcript import of each (importer, root).
    #[schema(value_type = Vec<Object>)]
    imports: Vec<serde_json::Value>,
    unpriced_models: Vec<UnpricedUsage>,
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` (503) when the database does not answer.
    status: String,
    /// `ok` or `unreachable`.
    database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<String>,
    version: String,
}
