//! The embedded catalog against LiteLLM's community price table (issue 15): every
//! first-party chat model of the table is in the catalog, with the same price for every
//! token kind, exactly.
//! The table is trimmed to those models in `tests/fixtures/litellm/first_party_chat.json`
//! (package version inside; `scripts/litellm-trim.py` makes it from the wheel), its
//! per-token prices read from their decimal text, never through a float.

use std::collections::BTreeSet;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use shared::domain::pricing::PriceCatalog;

/// The providers the trim keeps, as the table's `litellm_provider` names them.
const PROVIDERS: [&str; 3] = ["anthropic", "openai", "moonshot"];

/// Entries of the table the catalog does not price, each with why. Each must carry no
/// per-token price; every other entry must resolve.
const NOT_IN_CATALOG: &[(&str, &str)] = &[(
    "openai/container",
    "the Code Interpreter container, priced per session (code_interpreter_cost_per_session): no tokens",
)];

/// Token prices where the catalog knowingly differs from the table: (key, kind, why).
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[(
    "ft:gpt-4o-2024-11-20",
    "cache_write_5m",
    "the table files the cached-input price (1.875, as ft:gpt-4o-2024-08-06 lists it) under \
     cache_creation_input_token_cost; the catalog has it as cache_read, OpenAI bills no cache \
     writes for this model",
)];

/// "2e-06" or "0.000002" per token, as USD per million tokens.
fn per_million(text: &str) -> Decimal {
    let per_token = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str(text)
    }
    .unwrap_or_else(|err| panic!("not a decimal: {text}: {err}"));
    (per_token * Decimal::from(1_000_000)).normalize()
}

#[test]
fn every_first_party_chat_model_is_in_the_catalog_at_the_same_token_prices() {
    let path =
        integration_tests::serve::repo_root().join("tests/fixtures/litellm/first_party_chat.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(table["package"], "litellm 1.110.2 (PyPI)");
    let entries = table["entries"].as_object().unwrap();
    let catalog = PriceCatalog::embedded();
    let mut compared = Vec::new();
    let mut unresolved = BTreeSet::new();
    let mut wrong_provider = Vec::new();
    let mut differences = BTreeSet::new();
    for (key, entry) in entries {
        let provider = entry["litellm_provider"].as_str().unwrap_or_default();
        assert!(PROVIDERS.contains(&provider), "{key}: provider {provider}");
        let Some(model) = catalog.resolve(key) else {
            unresolved.insert(key.as_str());
            continue;
        };
        if model.provider != provider {
            wrong_provider.push(format!("{key} ({}): {}", model.id, model.provider));
        }
        let current = model.prices.last().expect("a model has a price period");
        let price = |field: &str| entry[field].as_str().map(per_million);
        // A cache kind the catalog omits is billed at the input price.
        let pairs = [
            ("input", Some(current.input), price("input_cost_per_token")),
            (
                "output",
                Some(current.output),
                price("output_cost_per_token"),
            ),
            (
                "cache_read",
                current.cache_read.or(Some(current.input)),
                price("cache_read_input_token_cost"),
            ),
            (
                "cache_write_5m",
                current.cache_write_5m.or(Some(current.input)),
                price("cache_creation_input_token_cost"),
            ),
            (
                "cache_write_1h",
                current.cache_write_1h.or(Some(current.input)),
                price("cache_creation_input_token_cost_above_1hr"),
            ),
        ];
        for (kind, ours, theirs) in pairs {
            // A kind the table does not list is not compared.
            if let (Some(ours), Some(theirs)) = (ours, theirs) {
                if ours.normalize() != theirs {
                    differences.insert((
                        key.as_str(),
                        kind,
                        format!("{key} ({}): {kind} {ours} vs {theirs}", model.id),
                    ));
                }
            }
        }
        compared.push(key.clone());
    }

    let allowed: BTreeSet<&str> = NOT_IN_CATALOG.iter().map(|&(key, _)| key).collect();
    let missing: Vec<_> = unresolved.difference(&allowed).collect();
    assert!(
        missing.is_empty(),
        "first-party chat models of the table that the catalog does not resolve: {missing:?}"
    );
    let stale: Vec<_> = allowed.difference(&unresolved).collect();
    assert!(
        stale.is_empty(),
        "NOT_IN_CATALOG lists entries the catalog resolves or the table lacks: {stale:?}"
    );
    for (key, why) in NOT_IN_CATALOG {
        let priced: Vec<_> = entries[*key]
            .as_object()
            .unwrap()
            .keys()
            .filter(|field| field.contains("per_token") || field.contains("token_cost"))
            .collect();
        assert!(
            priced.is_empty(),
            "{key} has token prices {priced:?}: {why}"
        );
    }
    assert!(
        wrong_provider.is_empty(),
        "provider differs: {wrong_provider:?}"
    );

    let known: BTreeSet<(&str, &str)> = KNOWN_DIFFERENCES
        .iter()
        .map(|&(key, kind, _)| (key, kind))
        .collect();
    let unexpected: Vec<&str> = differences
        .iter()
        .filter(|(key, kind, _)| !known.contains(&(*key, *kind)))
        .map(|(_, _, message)| message.as_str())
        .collect();
    assert!(
        unexpected.is_empty(),
        "prices differ:\n{}",
        unexpected.join("\n")
    );
    let found: BTreeSet<(&str, &str)> = differences
        .iter()
        .map(|&(key, kind, _)| (key, kind))
        .collect();
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        gone.is_empty(),
        "KNOWN_DIFFERENCES lists prices that now agree: {gone:?}"
    );

    assert_eq!(compared.len(), entries.len() - NOT_IN_CATALOG.len());
    println!(
        "{} of {} entries compared on every token price",
        compared.len(),
        entries.len()
    );
}
