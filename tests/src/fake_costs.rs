//! The hand computation of what the fake providers' data must cost: list prices per
//! MTok from provider-apis.md §3 written out here, independent of the price catalog,
//! and the seeded project rules as a reader would apply them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::store::DynStore;

use crate::fake_providers::{AnthropicRow, FakeProviders, OpenaiRow};
use crate::ledger;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// (input, 5m write, 1h write, cache read, output) USD per MTok.
pub fn anthropic_rates(model: &str, context_window: &str) -> [Decimal; 5] {
    let r = |a: &str, b: &str, c: &str, e: &str, f: &str| [d(a), d(b), d(c), d(e), d(f)];
    match (model, context_window) {
        ("claude-opus-4-6" | "claude-opus-4-5-20251101", _) => r("5", "6.25", "10", "0.50", "25"),
        ("claude-sonnet-4-5-20250929", "200k-1M") => r("6", "7.50", "12", "0.60", "22.50"),
        ("claude-sonnet-4-5-20250929" | "claude-sonnet-4-6", _) => {
            r("3", "3.75", "6", "0.30", "15")
        }
        ("claude-haiku-4-5-20251001", _) => r("1", "1.25", "2", "0.10", "5"),
        (other, _) => panic!("the fake emits a model the test does not price: {other}"),
    }
}

pub fn anthropic_cost(row: &AnthropicRow) -> Decimal {
    let [input, w5, w1, read, output] = anthropic_rates(&row.model, &row.context_window);
    let tokens = Decimal::from(row.uncached_input_tokens) * input
        + Decimal::from(row.cache_creation_5m) * w5
        + Decimal::from(row.cache_creation_1h) * w1
        + Decimal::from(row.cache_read_input_tokens) * read
        + Decimal::from(row.output_tokens) * output;
    let mut multiplier = Decimal::ONE;
    if row.service_tier == "batch" {
        multiplier *= d("0.5");
    }
    if row.inference_geo == "us" {
        multiplier *= d("1.1");
    }
    tokens / Decimal::from(1_000_000) * multiplier
        + Decimal::from(row.web_search_requests) * d("0.01")
}

/// What one Anthropic row costs per bill line kind, USD, exact: `(token_type, cost)` of
/// each token kind the row has, and web search (`("web_search", cost)`) last. The same
/// prices as [`anthropic_cost`], which is their sum.
pub fn anthropic_line_costs(row: &AnthropicRow) -> Vec<(&'static str, Decimal)> {
    let [input, w5, w1, read, output] = anthropic_rates(&row.model, &row.context_window);
    let mut multiplier = Decimal::ONE;
    if row.service_tier == "batch" {
        multiplier *= d("0.5");
    }
    if row.inference_geo == "us" {
        multiplier *= d("1.1");
    }
    let per_token = multiplier / Decimal::from(1_000_000);
    let mut lines: Vec<(&'static str, Decimal)> = [
        ("uncached_input_tokens", row.uncached_input_tokens, input),
        ("output_tokens", row.output_tokens, output),
        ("cache_read_input_tokens", row.cache_read_input_tokens, read),
        (
            "cache_creation.ephemeral_5m_input_tokens",
            row.cache_creation_5m,
            w5,
        ),
        (
            "cache_creation.ephemeral_1h_input_tokens",
            row.cache_creation_1h,
            w1,
        ),
    ]
    .into_iter()
    .filter(|(_, count, _)| *count != 0)
    .map(|(kind, count, rate)| (kind, Decimal::from(count) * rate * per_token))
    .collect();
    if row.web_search_requests != 0 {
        // $10 per 1,000 searches, never multiplied.
        lines.push((
            "web_search",
            Decimal::from(row.web_search_requests) * d("0.01"),
        ));
    }
    lines
}

/// What one OpenAI row costs per line kind (`input`, `cached input`, `output`), USD,
/// exact; [`openai_cost`] is their sum.
pub fn openai_line_costs(row: &OpenaiRow) -> Vec<(&'static str, Decimal)> {
    let ([input, cached, output], flex_half) = openai_rates(&row.model);
    let half = row.batch || (row.service_tier == "flex" && flex_half);
    let multiplier = if half { d("0.5") } else { Decimal::ONE } / Decimal::from(1_000_000);
    [
        ("input", row.input_tokens - row.input_cached_tokens, input),
        ("cached input", row.input_cached_tokens, cached),
        ("output", row.output_tokens, output),
    ]
    .into_iter()
    .filter(|(_, count, _)| *count != 0)
    .map(|(kind, count, rate)| (kind, Decimal::from(count) * rate * multiplier))
    .collect()
}

/// (input, cached input, output) USD per MTok, and whether flex is half price.
pub fn openai_rates(model: &str) -> ([Decimal; 3], bool) {
    let r = |a: &str, b: &str, c: &str| [d(a), d(b), d(c)];
    match model {
        "gpt-4o-2024-08-06" => (r("2.50", "1.25", "10"), false),
        "gpt-4o-mini-2024-07-18" => (r("0.15", "0.075", "0.60"), false),
        "gpt-5" => (r("1.25", "0.125", "10"), true),
        "o3" => (r("2", "0.50", "8"), true),
        "gpt-4.1" => (r("2", "0.50", "8"), false),
        other => panic!("the fake emits a model the test does not price: {other}"),
    }
}

pub fn openai_cost(row: &OpenaiRow) -> Decimal {
    let ([input, cached, output], flex_half) = openai_rates(&row.model);
    let uncached = row.input_tokens - row.input_cached_tokens;
    let tokens = Decimal::from(uncached) * input
        + Decimal::from(row.input_cached_tokens) * cached
        + Decimal::from(row.output_tokens) * output;
    let half = row.batch || (row.service_tier == "flex" && flex_half);
    let multiplier = if half { d("0.5") } else { Decimal::ONE };
    tokens / Decimal::from(1_000_000) * multiplier
}

/// The seeded rules (migration 0001), as the user would read them.
pub fn project_of(names: &[Option<String>]) -> String {
    const RULES: [(&str, &str); 5] = [
        ("peakpaws-", "PeakPaws"),
        ("kanban-", "Kanban Board"),
        ("trading-", "Trading Tools"),
        ("cost-tracker-", "Cost Tracker"),
        ("context-vault-", "Context Vault"),
    ];
    names
        .iter()
        .flatten()
        .find_map(|name| {
            RULES
                .iter()
                .find(|(prefix, _)| name.to_ascii_lowercase().starts_with(prefix))
                .map(|(_, project)| project.to_string())
        })
        .unwrap_or_else(|| "General".into())
}

/// Expected cost per model key and per project over `[start, end)`, and the total.
pub struct Expected {
    pub by_model: BTreeMap<String, Decimal>,
    pub by_project: BTreeMap<String, Decimal>,
    pub total: Decimal,
    pub records: usize,
}

pub fn expected(
    fake: &FakeProviders,
    store: &DynStore,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Expected {
    let ledger = ledger(store);
    let keys = fake.state.anthropic_key_names();
    let workspaces = fake.state.anthropic_workspace_names();
    let projects = fake.state.openai_project_names();
    let openai_keys = fake.state.openai_key_names();
    let mut out = Expected {
        by_model: BTreeMap::new(),
        by_project: BTreeMap::new(),
        total: Decimal::ZERO,
        records: 0,
    };
    let mut add = |model: &str, project: String, cost: Decimal| {
        *out.by_model.entry(ledger.model_key(model)).or_default() += cost;
        *out.by_project.entry(project).or_default() += cost;
        out.total += cost;
        out.records += 1;
    };
    for row in fake.state.anthropic_rows(start, end) {
        let key_name = match &row.api_key_id {
            None => Some("Console".to_string()),
            Some(id) => keys.get(id).cloned(),
        };
        let workspace_name = match &row.workspace_id {
            None => Some("Default".to_string()),
            Some(id) => workspaces.get(id).cloned(),
        };
        add(
            &row.model,
            project_of(&[key_name, workspace_name]),
            anthropic_cost(&row),
        );
    }
    for row in fake.state.openai_rows(start, end) {
        let key_name = row
            .api_key_id
            .as_ref()
            .and_then(|id| openai_keys.get(id).cloned());
        let project_name = row
            .project_id
            .as_ref()
            .and_then(|id| projects.get(id).cloned());
        add(
            &row.model,
            project_of(&[key_name, project_name]),
            openai_cost(&row),
        );
    }
    out
}
