//! A quote split by token kind: what each kind of token (and web search) of one usage
//! record costs, with the same rates and modifiers as [`PriceCatalog::quote_model`], so
//! the parts add up exactly to its total. The bill check compares these parts with the
//! provider's bill lines.

use rust_decimal::Decimal;
use serde::Serialize;

use super::{CatalogModel, PriceCatalog, PER_MTOK, PER_THOUSAND};
use crate::domain::usage::PricingInput;

/// A kind of priced unit, as a bill line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Input,
    Output,
    CacheRead,
    CacheWrite5m,
    CacheWrite1h,
    WebSearch,
}

impl TokenKind {
    pub const ALL: [TokenKind; 6] = [
        TokenKind::Input,
        TokenKind::Output,
        TokenKind::CacheRead,
        TokenKind::CacheWrite5m,
        TokenKind::CacheWrite1h,
        TokenKind::WebSearch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Input => "input",
            TokenKind::Output => "output",
            TokenKind::CacheRead => "cache_read",
            TokenKind::CacheWrite5m => "cache_write_5m",
            TokenKind::CacheWrite1h => "cache_write_1h",
            TokenKind::WebSearch => "web_search",
        }
    }

    pub fn parse(text: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for TokenKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cost of one record per [`TokenKind`], USD, exact; the parts sum to the quote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CostBreakdown {
    /// In [`TokenKind::ALL`] order.
    pub parts: [Decimal; 6],
}

impl CostBreakdown {
    pub fn get(&self, kind: TokenKind) -> Decimal {
        self.parts[kind as usize]
    }

    pub fn total(&self) -> Decimal {
        self.parts.iter().copied().sum::<Decimal>().normalize()
    }

    /// `(kind, cost)` of every kind.
    pub fn iter(&self) -> impl Iterator<Item = (TokenKind, Decimal)> + '_ {
        TokenKind::ALL.into_iter().map(|k| (k, self.get(k)))
    }
}

impl PriceCatalog {
    /// [`PriceCatalog::quote_model`] split by token kind: the same period, long-context
    /// decision, rates and multipliers, applied to each kind on its own.
    pub fn quote_breakdown(&self, model: &CatalogModel, input: &PricingInput<'_>) -> CostBreakdown {
        let period = self.period_at(model, input.recorded_at);
        let tokens = input.tokens;
        let long_context = period
            .long_context
            .as_ref()
            .is_some_and(|lc| lc.applies_to(input));
        let rates = period.rates(long_context);
        let multiplier = period.token_multiplier(input) * PER_MTOK;
        let token = |count: i64, rate: Decimal| Decimal::from(count) * rate * multiplier;
        let search = period.web_search_per_1k.map_or(Decimal::ZERO, |per_1k| {
            Decimal::from(tokens.web_search_requests) * per_1k * PER_THOUSAND
        });
        CostBreakdown {
            parts: [
                token(tokens.input, rates.input),
                token(tokens.output, rates.output),
                token(tokens.cache_read, rates.cache_read),
                token(tokens.cache_write_5m, rates.cache_write_5m),
                token(tokens.cache_write_1h, rates.cache_write_1h),
                search,
            ]
            .map(|d| d.normalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::usage::TokenCounts;

    #[test]
    fn the_parts_add_up_to_the_quote_for_every_model_and_modifier() {
        let catalog = PriceCatalog::embedded();
        let tokens = TokenCounts {
            input: 123_457,
            output: 98_765,
            cache_read: 1_234_567,
            cache_write_5m: 45_678,
            cache_write_1h: 34_567,
            web_search_requests: 7,
            requests: 3,
        };
        let mut checked = 0;
        for model in catalog.models() {
            for period in &model.prices {
                let at = period
                    .effective_from
                    .and_hms_opt(12, 0, 0)
                    .unwrap()
                    .and_utc();
                for tier in [None, Some("batch"), Some("flex"), Some("priority")] {
                    for window in [None, Some("0-200k"), Some("200k-1M")] {
                        for geo in [None, Some("us"), Some("global")] {
                            let input = PricingInput {
                                model: &model.id,
                                recorded_at: at,
                                tokens: &tokens,
                                service_tier: tier,
                                context_window: window,
                                inference_geo: geo,
                            };
                            let quote = catalog.quote_model(model, &input);
                            let parts = catalog.quote_breakdown(model, &input);
                            assert_eq!(
                                parts.total(),
                                quote.cost,
                                "{} {tier:?} {window:?} {geo:?}",
                                model.id
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 100);
        // Each kind is priced on its own: only output tokens → only the output part.
        let opus = catalog.resolve("claude-opus-4-6").unwrap();
        let only_output = TokenCounts {
            output: 1_000_000,
            ..TokenCounts::default()
        };
        let input = PricingInput {
            model: "claude-opus-4-6",
            recorded_at: "2026-11-10T00:00:00Z".parse().unwrap(),
            tokens: &only_output,
            service_tier: None,
            context_window: None,
            inference_geo: None,
        };
        let parts = catalog.quote_breakdown(opus, &input);
        assert_eq!(parts.get(TokenKind::Output), Decimal::from(25));
        assert_eq!(parts.total(), Decimal::from(25));
        assert_eq!(
            TokenKind::parse("cache_write_1h"),
            Some(TokenKind::CacheWrite1h)
        );
    }
}
