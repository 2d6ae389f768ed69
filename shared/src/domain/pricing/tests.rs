//! The catalog against its sources: every listed price, modifier and spelling.

use std::str::FromStr;

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
fn haiku_5_5_long_context_starts_above_100k() {
    let haiku = case("claude-haiku-5-5");
    // 100K input exactly is standard: 0.1×0.10 + 0.01×0.50 = 0.01 + 0.005 = 0.015
    assert_eq!(haiku.cost(tokens(100_000, 10_000, 0, 0, 0)), d("0.015"));
    // 60K + 30K read + 20K written = 110K > 100K: every kind at the long rates,
    // 0.06×0.50 + 0.01×2.50 + 0.03×0.05 + 0.02×0.625 = 0.03 + 0.025 + 0.0015 + 0.0125 = 0.069
    let used = tokens(60_000, 10_000, 30_000, 20_000, 0);
    let quote = haiku.quote(used).unwrap();
    assert_eq!(quote.cost, d("0.069"));
    assert!(quote.long_context);
    // A reported 0-200k window is standard: 0.006 + 0.005 + 0.0003 + 0.0025 = 0.0138
    assert_eq!(haiku.window("0-200k").cost(used), d("0.0138"));
}

#[test]
fn gpt_5_6_cache_writes_flex_and_long_context() {
    let gpt = case("gpt-5.6");
    // 220K input in all: 0.1×4 + 0.01×20 + 0.1×0.40 + 0.02×5 = 0.4 + 0.2 + 0.04 + 0.1 = 0.74
    let standard = tokens(100_000, 10_000, 100_000, 20_000, 0);
    assert_eq!(gpt.cost(standard), d("0.74"));
    assert_eq!(gpt.tier("flex").cost(standard), d("0.37"));
    // 280K > 272K: 0.2×8 + 0.01×30 + 0.05×0.80 + 0.03×10 = 1.6 + 0.3 + 0.04 + 0.3 = 2.24
    let long = tokens(200_000, 10_000, 50_000, 30_000, 0);
    assert_eq!(gpt.cost(long), d("2.24"));
    assert_eq!(gpt.tier("batch").cost(long), d("1.12"));
}

#[test]
fn fine_tuned_gpt_4o_2024_11_20_has_a_cached_input_price() {
    let ft = case("ft:gpt-4o-2024-11-20");
    // 1×3.75 + 1×1.875 = 5.625
    assert_eq!(ft.cost(tokens(1_000_000, 0, 1_000_000, 0, 0)), d("5.625"));
    // No cache-write price: a write is billed as input.
    assert_eq!(ft.cost(tokens(0, 0, 0, 1_000_000, 0)), d("3.75"));
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
    assert!(catalog.models().len() >= 119);
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
        "claude-mythos-5",
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
        "claude-mythos-5-1",
        "claude-mythos-preview",
        "claude-fable-5-1",
    ];
    assert_eq!(geo, expected);
}

/// Every rate times every modifier combination has at most 5 decimals per MTok,
/// so a cost for integer token counts has at most 11 (storage keeps 12). Five, not
/// four, since Claude Haiku 5.5: its 5-minute write 0.125 × batch 0.5 × US 1.1 = 0.06875.
#[test]
fn every_rate_has_at_most_five_decimals_after_modifiers() {
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
                                scaled.scale() <= 5,
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
    let err =
        PriceCatalog::from_toml(&with_model_b(&format!("source = \"t\"\n{negative}"))).unwrap_err();
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
