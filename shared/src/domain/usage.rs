//! The usage record: what was used, when, by whom, and what it cost.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::Pico;

/// Where a record came from; `external_id` is unique per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Push,
    Anthropic,
    Openai,
    Import,
}

/// Which kind of agent session spent the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionType {
    Main,
    Subagent,
    Heartbeat,
    Cron,
    Other,
}

/// How the project of a record was decided; `mapping` records follow rule changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectSource {
    Explicit,
    Mapping,
}

/// Whether `cost_usd` was computed from the catalog, reported by the client, or
/// (`estimated`) the agent's own estimate, used only because the catalog has no
/// price for the model (the record stays `unpriced`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostSource {
    Computed,
    Reported,
    Estimated,
}

macro_rules! string_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The lowercase name used in JSON, SQL and query strings.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }

            /// Parses the lowercase name; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($ty::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(Source { Push => "push", Anthropic => "anthropic", Openai => "openai", Import => "import" });
string_enum!(SessionType { Main => "main", Subagent => "subagent", Heartbeat => "heartbeat", Cron => "cron", Other => "other" });
string_enum!(ProjectSource { Explicit => "explicit", Mapping => "mapping" });
string_enum!(CostSource { Computed => "computed", Reported => "reported", Estimated => "estimated" });

/// Mutually exclusive token buckets plus request counters.
///
/// `input` is *uncached* input: cache reads and writes are never included in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write_5m: i64,
    pub cache_write_1h: i64,
    pub web_search_requests: i64,
    pub requests: i64,
}

impl std::ops::AddAssign<&TokenCounts> for TokenCounts {
    fn add_assign(&mut self, o: &TokenCounts) {
        self.input += o.input;
        self.output += o.output;
        self.cache_read += o.cache_read;
        self.cache_write_5m += o.cache_write_5m;
        self.cache_write_1h += o.cache_write_1h;
        self.web_search_requests += o.web_search_requests;
        self.requests += o.requests;
    }
}

impl TokenCounts {
    /// Every input-side token (uncached + cache reads + cache writes): what
    /// long-context thresholds are measured against.
    pub fn total_input(&self) -> i64 {
        self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h
    }
}

/// What the pricing catalog needs to know to price one record.
#[derive(Debug, Clone, Copy)]
pub struct PricingInput<'a> {
    pub model: &'a str,
    pub recorded_at: DateTime<Utc>,
    pub tokens: &'a TokenCounts,
    /// `standard`, `batch`, `priority`, `flex`, … (`None` = standard).
    pub service_tier: Option<&'a str>,
    /// `0-200k` or `200k-1M` when the source reported it; `None` = infer from tokens.
    pub context_window: Option<&'a str>,
    /// `global`, `us`, `not_available` (`None` = global).
    pub inference_geo: Option<&'a str>,
}

/// What the source said about one call or hourly bucket-group, kept as given: the
/// part of a record that pricing and attribution read but never change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageFacts {
    pub source: Source,
    pub external_id: String,
    pub recorded_at: DateTime<Utc>,
    /// 0 for single events, 3600 for hourly buckets.
    pub bucket_seconds: i32,
    pub model: String,
    pub tokens: TokenCounts,
    pub service_tier: Option<String>,
    pub context_window: Option<String>,
    pub inference_geo: Option<String>,
    pub session_label: Option<String>,
    pub session_id: Option<String>,
    pub api_key_id: Option<String>,
    pub api_key_name: Option<String>,
    pub workspace_id: Option<String>,
    pub workspace_name: Option<String>,
    /// The original JSON, for audit, idempotency comparison and re-pricing.
    pub raw: serde_json::Value,
}

/// A record as it arrives (pushed event or pulled bucket-group), before pricing and
/// attribution: the facts, and what the source said about attribution and cost.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUsage {
    pub facts: UsageFacts,
    /// `None`: the catalog's provider of the model, else one inferred from its name.
    pub provider: Option<String>,
    /// Given by the event; `None` = infer.
    pub session_type: Option<SessionType>,
    pub agent: Option<String>,
    /// An explicit project beats every rule.
    pub project: Option<String>,
    /// A cost the client reported; when present it is the figure totals use.
    pub reported_cost: Option<Decimal>,
    /// An agent's own estimate of the cost (imported transcripts): the figure only
    /// when the catalog has no price for the model.
    pub estimated_cost: Option<Decimal>,
}

/// A fully resolved record: the facts, priced and attributed, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRecord {
    /// Store id; 0 before the record is stored.
    pub id: i64,
    #[serde(flatten)]
    pub facts: UsageFacts,
    pub provider: String,
    /// The catalog's canonical id for `model` (aliases, dated ids and provider
    /// spellings merged), or `model` itself when unpriced; what reports group by.
    /// Fixed when the record is written, so later catalog changes cannot move rollups.
    pub model_key: String,
    pub session_type: SessionType,
    pub agent: Option<String>,
    pub project: String,
    pub project_source: ProjectSource,
    /// The figure totals use: reported when given, else computed, else 0.
    pub cost: Pico,
    pub cost_source: CostSource,
    /// The catalog's figure, kept beside a reported cost so the two can be compared.
    pub computed_cost: Option<Pico>,
    /// `model-id@effective-from` of the price entry used.
    pub price_ref: Option<String>,
    pub unpriced: bool,
}

/// The provider a model's name points to, for models the catalog does not know.
pub fn provider_from_name(model: &str) -> &'static str {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    if m.contains("claude") {
        "anthropic"
    } else if m.starts_with("gpt-")
        || m.starts_with("o1")
        || m.starts_with("o3")
        || m.starts_with("o4")
        || m.starts_with("text-embedding")
    {
        "openai"
    } else if m.starts_with("kimi") || m.starts_with("moonshot") {
        "moonshot"
    } else {
        "unknown"
    }
}
