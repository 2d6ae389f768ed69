//! The embedded catalog against LiteLLM's community price table (issue 15): every
//! first-party chat model both list has the same price for every token kind, exactly.
//! The table is trimmed to those models in `tests/fixtures/litellm/first_party_chat.json`
//! (package version inside; `scripts/litellm-trim.py` makes it from the wheel), its
//! per-token prices read from their decimal text, never through a float.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use shared::domain::pricing::PriceCatalog;

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
fn every_model_both_list_has_the_same_token_prices() {
    let path =
        integration_tests::serve::repo_root().join("tests/fixtures/litellm/first_party_chat.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(table["package"], "litellm 1.110.2 (PyPI)");
    let catalog = PriceCatalog::embedded();
    let mut compared = Vec::new();
    let mut differences = Vec::new();
    for (key, entry) in table["entries"].as_object().unwrap() {
        let Some(model) = catalog.resolve(key) else {
            continue;
        };
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
                    differences.push(format!("{key} ({}): {kind} {ours} vs {theirs}", model.id));
                }
            }
        }
        compared.push(key.clone());
    }
    assert!(
        differences.is_empty(),
        "prices differ:\n{}",
        differences.join("\n")
    );
    // The issue counted 38 models both list; each id and alias of the table is one key here.
    assert!(
        compared.len() >= 38,
        "compared only {}: {compared:?}",
        compared.len()
    );
    println!("{} entries compared on every token price", compared.len());
}
