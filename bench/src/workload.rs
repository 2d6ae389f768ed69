//! The benchmark's synthetic usage: a realistic mix of ~30 models, 8 projects,
//! 40 agents and 4 session types with cache tokens, spread evenly over a span of
//! days, deterministic for a seed.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use shared::domain::usage::{NewUsage, SessionType, Source, TokenCounts, UsageFacts};

/// Models in the mix, most used first (weights fall off geometrically).
pub const MODELS: [&str; 30] = [
    "claude-opus-4-6",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-sonnet-4-6",
    "claude-opus-4-5-20251101",
    "gpt-5",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-5-mini",
    "o3",
    "claude-opus-4-7",
    "claude-sonnet-5",
    "gpt-4.1",
    "gpt-4.1-mini",
    "kimi-k2.5",
    "o4-mini",
    "gpt-5-nano",
    "claude-3-5-haiku-20241022",
    "gpt-5.1",
    "gpt-5.2",
    "kimi-k2-0905-preview",
    "gpt-4.1-nano",
    "o3-mini",
    "claude-opus-4-8",
    "claude-opus-5",
    "gpt-5.4",
    "gpt-5.4-mini",
    "kimi-k2-thinking",
    "o1",
    "gpt-5.5",
];

pub const PROJECTS: [&str; 8] = [
    "PeakPaws",
    "Kanban Board",
    "Trading Tools",
    "Cost Tracker",
    "Context Vault",
    "Research",
    "Ops",
    "General",
];

pub const SESSION_TYPES: [SessionType; 4] = [
    SessionType::Main,
    SessionType::Subagent,
    SessionType::Heartbeat,
    SessionType::Cron,
];

pub const AGENTS: usize = 40;

/// Generates events `first..first+count` of a workload of `total` events over
/// `days` days ending at `end`, with event ids `{prefix}-{i}`. Event `i` is the
/// same whatever the chunking.
pub fn events(
    prefix: &str,
    first: u64,
    count: u64,
    total: u64,
    days: u32,
    end: DateTime<Utc>,
) -> Vec<NewUsage> {
    let span_ms = i64::from(days) * 86_400_000;
    let start = end - Duration::milliseconds(span_ms);
    (first..first + count)
        .map(|i| {
            let mut rng = StdRng::seed_from_u64(i ^ 0x5eed_c057);
            // Evenly spread in time, with jitter inside the slot.
            let slot = span_ms as f64 / total.max(1) as f64;
            let at =
                start + Duration::milliseconds((i as f64 * slot + rng.gen::<f64>() * slot) as i64);
            let model = MODELS[pick_geometric(&mut rng, MODELS.len())];
            let agent = rng.gen_range(0..AGENTS);
            let project = PROJECTS[agent % PROJECTS.len()];
            let session_type = SESSION_TYPES[pick_geometric(&mut rng, SESSION_TYPES.len())];
            let input: i64 = rng.gen_range(50..8_000);
            let cached = if rng.gen_bool(0.7) {
                rng.gen_range(1_000..60_000)
            } else {
                0
            };
            let tokens = TokenCounts {
                input,
                output: rng.gen_range(20..3_000),
                cache_read: cached,
                cache_write_5m: if rng.gen_bool(0.2) {
                    rng.gen_range(500..10_000)
                } else {
                    0
                },
                cache_write_1h: if rng.gen_bool(0.05) {
                    rng.gen_range(500..10_000)
                } else {
                    0
                },
                web_search_requests: i64::from(rng.gen_bool(0.02)),
                requests: 1,
            };
            let session_id = format!("agent:agent-{agent}:{}:{}", session_type.as_str(), i % 997);
            let id = format!("{prefix}-{i}");
            let raw: Value = json!({"event_id": id, "model": model, "session_id": session_id});
            NewUsage {
                facts: UsageFacts {
                    source: Source::Push,
                    external_id: id,
                    recorded_at: at.min(end),
                    bucket_seconds: 0,
                    model: model.into(),
                    tokens,
                    service_tier: None,
                    context_window: None,
                    inference_geo: None,
                    session_label: None,
                    session_id: Some(session_id),
                    api_key_id: None,
                    api_key_name: None,
                    workspace_id: None,
                    workspace_name: None,
                    raw,
                },
                provider: Some(
                    if model.starts_with("claude") {
                        "anthropic"
                    } else if model.starts_with("kimi") {
                        "moonshot"
                    } else {
                        "openai"
                    }
                    .into(),
                ),
                session_type: Some(session_type),
                agent: Some(format!("agent-{agent}")),
                project: Some(project.into()),
                reported_cost: None,
                estimated_cost: None,
            }
        })
        .collect()
}

/// The same events as the JSON body `POST /api/usage` takes.
pub fn event_json(event: &NewUsage) -> Value {
    json!({
        "event_id": event.facts.external_id,
        "model": event.facts.model,
        "provider": event.provider,
        "recorded_at": event.facts.recorded_at.to_rfc3339(),
        "input_tokens": event.facts.tokens.input,
        "output_tokens": event.facts.tokens.output,
        "cache_read_tokens": event.facts.tokens.cache_read,
        "cache_write_tokens": event.facts.tokens.cache_write_5m,
        "cache_write_1h_tokens": event.facts.tokens.cache_write_1h,
        "web_search_requests": event.facts.tokens.web_search_requests,
        "session_type": event.session_type.map(SessionType::as_str),
        "session_id": event.facts.session_id,
        "agent": event.agent,
        "project": event.project,
    })
}

/// An index in `0..n`, each half as likely as the one before (roughly).
fn pick_geometric(rng: &mut StdRng, n: usize) -> usize {
    let mut i = 0;
    while i + 1 < n && rng.gen_bool(0.35) {
        i += 1;
    }
    i
}

/// The collected provider of the bench: its models' hourly usage is also billed.
pub const BILLED_PROVIDER: &str = "anthropic";

/// Bucket-groups of the bill per (hour, model): one per API key.
pub const BILL_GROUPS: usize = 3;

/// The bill of one cell (an hour and a model): what the agents pushed there, scaled by
/// 11/10 (the bill is larger: part of it is unexplained) or, for one cell in ten, by
/// 9/10 (the agents over-attribute), split over [`BILL_GROUPS`] API keys as the admin
/// API reports it (hourly buckets, `source` anthropic, session type other).
pub fn bill_buckets(hour: DateTime<Utc>, model: &str, pushed: &TokenCounts) -> Vec<NewUsage> {
    let over = (hour.timestamp() / 3600 + model.len() as i64) % 10 == 0;
    let (num, den) = if over { (9, 10) } else { (11, 10) };
    let shares = [5, 3, 2];
    (0..BILL_GROUPS)
        .map(|g| {
            let part = |v: i64| v * num / den * shares[g] / 10;
            let tokens = TokenCounts {
                input: part(pushed.input),
                output: part(pushed.output),
                cache_read: part(pushed.cache_read),
                cache_write_5m: part(pushed.cache_write_5m),
                cache_write_1h: part(pushed.cache_write_1h),
                web_search_requests: part(pushed.web_search_requests),
                requests: 0,
            };
            let id = format!("{}|{model}|bench-key-{g}", hour.to_rfc3339());
            NewUsage {
                facts: UsageFacts {
                    source: Source::Anthropic,
                    external_id: id.clone(),
                    recorded_at: hour,
                    bucket_seconds: 3600,
                    model: model.into(),
                    tokens,
                    service_tier: Some("standard".into()),
                    context_window: Some("0-200k".into()),
                    inference_geo: None,
                    session_label: None,
                    session_id: None,
                    api_key_id: Some(format!("apikey_bench_{g}")),
                    api_key_name: Some(format!("bench-key-{g}")),
                    workspace_id: None,
                    workspace_name: None,
                    raw: json!({"bucket": id}),
                },
                provider: Some(BILLED_PROVIDER.into()),
                session_type: Some(SessionType::Other),
                agent: None,
                project: None,
                reported_cost: None,
                estimated_cost: None,
            }
        })
        .collect()
}
