//! Synthetic but realistic usage for the `demo` command.
//!
//! The picture is the product's typical user: an OpenClaw-style agent setup spending about $50 a day, mostly
//! on Opus with heavy prompt caching, plus Sonnet/Haiku subagents, periodic heartbeats, cron jobs,
//! a little OpenAI and Moonshot, and one model the catalog does not know (so `unpriced` shows up).
//! Session labels follow the seeded project rules (`peakpaws-*`, `kanban-*`, …) with a few that
//! match none, and a few events carry an explicit project.
//!
//! Generation is deterministic and idempotent: each UTC calendar day is generated in full from an
//! RNG seeded by its date, independently of `now`, and events after `now` are then dropped. Every
//! event has `external_id = demo-<date>-<n>` under [`Source::Import`], so running the demo again on
//! the same or a later day yields identical events for the overlapping days, which the store
//! deduplicates on `(source, external_id)`.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::domain::usage::{NewUsage, SessionType, Source, TokenCounts, UsageFacts};

const OPUS: &str = "claude-opus-4-5-20251101";
const HAIKU: &str = "claude-haiku-4-5-20251001";
/// Deliberately absent from the pricing catalog.
const UNKNOWN_MODEL: &str = "acme-experimental-1";

/// The demo's sessions, cron jobs and token shapes: `shared/pricing/demo-usage.toml`.
static DATA: LazyLock<DemoData> = LazyLock::new(|| {
    toml::from_str(include_str!("../pricing/demo-usage.toml"))
        .unwrap_or_else(|err| panic!("the demo's data is invalid: {err}"))
});

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoData {
    session: Vec<Template>,
    cron: Vec<CronJob>,
    tokens: HashMap<String, Shape>,
}

/// Synthetic but realistic usage for `days` local days ending at `now` (inclusive of the day of
/// `now`, only up to `now`).
///
/// Covers the UTC calendar days `now.date() - days ..= now.date()`: the one extra leading UTC day
/// makes sure the first of the `days` local days is complete in any time zone. Events are sorted by
/// `recorded_at`; none is later than `now`. `days == 0` gives no events.
pub fn demo_events(now: DateTime<Utc>, days: u32) -> Vec<NewUsage> {
    if days == 0 {
        return Vec::new();
    }
    let today = now.date_naive();
    let mut events: Vec<NewUsage> = (0..=i64::from(days))
        .rev()
        .filter_map(|back| today.checked_sub_signed(Duration::days(back)))
        .flat_map(day_events)
        .filter(|event| event.facts.recorded_at <= now)
        .collect();
    events.sort_by(|a, b| {
        a.facts
            .recorded_at
            .cmp(&b.facts.recorded_at)
            .then_with(|| a.facts.external_id.cmp(&b.facts.external_id))
    });
    events
}

/// FNV-1a of the ISO date: a seed that is stable across Rust releases and platforms.
fn day_seed(date: NaiveDate) -> u64 {
    format!("cost-tracker-demo:{date}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// A model with the provider it is billed by.
#[derive(Clone, Copy)]
struct Model {
    id: &'static str,
    provider: &'static str,
}

const fn anthropic(id: &'static str) -> Model {
    Model {
        id,
        provider: "anthropic",
    }
}

/// A kind of work session that recurs through the day.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    label: String,
    agent: String,
    kind: SessionType,
    /// `[provider, model, weight]`.
    models: Vec<(String, String, u32)>,
    /// Inclusive range of calls in one session.
    calls: (u32, u32),
    /// Inclusive range of seconds between calls.
    gap_secs: (i64, i64),
    /// Relative frequency of this session among the day's work.
    weight: u32,
    /// Explicit project carried by the events (beats every mapping rule).
    #[serde(default)]
    project: Option<String>,
    /// Probability that a call runs on the batch tier.
    batch: f64,
    /// Probability that a call makes web searches.
    web_search: f64,
}

/// How many tokens of one kind a call of a model has.
#[derive(Deserialize)]
#[serde(untagged)]
enum Count {
    /// Every call: a count in `[low, high)`.
    Always([i64; 2]),
    /// A share of calls only; the others have none.
    Sometimes { chance: f64, range: [i64; 2] },
}

impl Count {
    fn draw(&self, rng: &mut StdRng) -> i64 {
        match self {
            Count::Always([low, high]) => rng.gen_range(*low..*high),
            Count::Sometimes {
                chance,
                range: [low, high],
            } => {
                if rng.gen_bool(*chance) {
                    rng.gen_range(*low..*high)
                } else {
                    0
                }
            }
        }
    }
}

/// The token counts of one model's calls, drawn in field order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shape {
    input: Count,
    output: Count,
    cache_read: Option<Count>,
    cache_write_5m: Option<Count>,
    cache_write_1h: Option<Count>,
}

/// One event before it is numbered.
struct Draft {
    at: DateTime<Utc>,
    model: Model,
    tokens: TokenCounts,
    service_tier: Option<&'static str>,
    label: &'static str,
    session_type: Option<SessionType>,
    session_id: String,
    agent: &'static str,
    project: Option<&'static str>,
}

/// Every event of one UTC calendar day, numbered in time order; depends on nothing but `date`.
fn day_events(date: NaiveDate) -> Vec<NewUsage> {
    let mut rng = StdRng::seed_from_u64(day_seed(date));
    let start = Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN));
    let end = start + Duration::days(1) - Duration::seconds(1);
    let mut drafts = Vec::new();

    heartbeats(&mut rng, start, &mut drafts);
    crons(&mut rng, start, &mut drafts);
    unknown_model(&mut rng, start, &mut drafts);

    // Less work at weekends; a little day-to-day variation otherwise.
    let activity = match date.weekday() {
        Weekday::Sat | Weekday::Sun => rng.gen_range(0.65..0.9),
        _ => rng.gen_range(0.9..1.15),
    };
    let target = (185.0 * activity) as usize;
    let templates = &DATA.session;
    let total_weight: u32 = templates.iter().map(|t| t.weight).sum();
    let mut work = 0;
    while work < target {
        let mut pick = rng.gen_range(0..total_weight);
        let template = templates
            .iter()
            .find(|t| {
                if pick < t.weight {
                    true
                } else {
                    pick -= t.weight;
                    false
                }
            })
            .unwrap_or(&templates[0]);
        work += session(&mut rng, template, start, end, &mut drafts);
    }

    drafts.sort_by_key(|draft| draft.at);
    drafts
        .into_iter()
        .enumerate()
        .map(|(n, draft)| finish(date, n, draft))
        .collect()
}

/// A start second within the day, weighted toward the user's working hours (13–23 UTC).
fn working_time(rng: &mut StdRng, start: DateTime<Utc>) -> DateTime<Utc> {
    let hour = loop {
        let hour = rng.gen_range(0..24_i64);
        let weight = if (13..=23).contains(&hour) { 1.0 } else { 0.12 };
        if rng.gen_bool(weight) {
            break hour;
        }
    };
    start + Duration::seconds(hour * 3600 + rng.gen_range(0..3600))
}

/// A cheap Haiku check every ~30 minutes, all day.
fn heartbeats(rng: &mut StdRng, start: DateTime<Utc>, drafts: &mut Vec<Draft>) {
    for slot in 0..48_i64 {
        let at = start + Duration::seconds(slot * 1800 + rng.gen_range(0..240));
        let tokens = TokenCounts {
            input: rng.gen_range(300..1500),
            output: rng.gen_range(30..250),
            cache_read: rng.gen_range(4_000..12_000),
            cache_write_5m: if rng.gen_bool(0.1) {
                rng.gen_range(500..3_000)
            } else {
                0
            },
            requests: 1,
            ..TokenCounts::default()
        };
        drafts.push(Draft {
            at,
            model: anthropic(HAIKU),
            tokens,
            service_tier: None,
            label: "openclaw-heartbeat",
            // Some are left to inference from the label.
            session_type: rng.gen_bool(0.75).then_some(SessionType::Heartbeat),
            session_id: "agent:openclaw:heartbeat".to_string(),
            agent: "openclaw",
            project: None,
        });
    }
}

/// A scheduled job: one short run a day.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CronJob {
    session_id: String,
    label: String,
    agent: String,
    /// `[provider, model]`.
    model: (String, String),
    /// UTC hour the run starts.
    hour: i64,
    /// Inclusive range of calls in one run.
    calls: (u32, u32),
}

/// The nightly report (Opus on the batch tier) and a pre-market trading scan.
fn crons(rng: &mut StdRng, start: DateTime<Utc>, drafts: &mut Vec<Draft>) {
    let data: &'static DemoData = &DATA;
    for job in &data.cron {
        let model = Model {
            provider: &job.model.0,
            id: &job.model.1,
        };
        let mut at = start + Duration::seconds(job.hour * 3600 + rng.gen_range(0..300));
        // Sometimes left to inference from the `cron:` key.
        let session_type = rng.gen_bool(0.7).then_some(SessionType::Cron);
        for _ in 0..rng.gen_range(job.calls.0..=job.calls.1) {
            let mut tokens = model_tokens(rng, model.id);
            tokens.cache_write_1h = 0;
            drafts.push(Draft {
                at,
                model,
                tokens,
                service_tier: (model.id == OPUS).then_some("batch"),
                label: &job.label,
                session_type,
                session_id: job.session_id.clone(),
                agent: &job.agent,
                project: None,
            });
            at += Duration::seconds(rng.gen_range(20..120));
        }
    }
}

/// A handful of calls to a model the catalog does not price.
fn unknown_model(rng: &mut StdRng, start: DateTime<Utc>, drafts: &mut Vec<Draft>) {
    for _ in 0..rng.gen_range(1..=2) {
        drafts.push(Draft {
            at: working_time(rng, start),
            model: Model {
                id: UNKNOWN_MODEL,
                provider: "acme",
            },
            tokens: model_tokens(rng, UNKNOWN_MODEL),
            service_tier: None,
            label: "misc-research",
            session_type: Some(SessionType::Main),
            session_id: "agent:researcher:main".to_string(),
            agent: "researcher",
            project: None,
        });
    }
}

/// One session of `template` at a working-hours start; returns the number of calls added.
fn session(
    rng: &mut StdRng,
    template: &'static Template,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    drafts: &mut Vec<Draft>,
) -> usize {
    let session_id = match template.kind {
        SessionType::Subagent => {
            let uuid = uuid::Builder::from_random_bytes(rng.gen()).into_uuid();
            format!("agent:{}:subagent:{}", template.agent, uuid.as_hyphenated())
        }
        _ => format!("agent:{}:main", template.agent),
    };
    // OpenClaw's own sessions sometimes omit the type, leaving it to inference from the key.
    let session_type = if template.agent == "openclaw" && rng.gen_bool(0.3) {
        None
    } else {
        Some(template.kind)
    };
    let model_weight: u32 = template.models.iter().map(|(_, _, w)| w).sum();
    let calls = rng.gen_range(template.calls.0..=template.calls.1);
    let mut at = working_time(rng, start);
    let mut added = 0;
    for _ in 0..calls {
        if at > end {
            break;
        }
        let mut pick = rng.gen_range(0..model_weight);
        let model = template
            .models
            .iter()
            .find(|(_, _, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .unwrap_or(&template.models[0]);
        let model = Model {
            provider: &model.0,
            id: &model.1,
        };
        let mut tokens = model_tokens(rng, model.id);
        if rng.gen_bool(template.web_search) {
            tokens.web_search_requests = rng.gen_range(1..=5);
        }
        let service_tier = rng.gen_bool(template.batch).then_some("batch");
        drafts.push(Draft {
            at,
            model,
            tokens,
            service_tier,
            label: &template.label,
            session_type,
            session_id: session_id.clone(),
            agent: &template.agent,
            project: template.project.as_deref(),
        });
        added += 1;
        at += Duration::seconds(rng.gen_range(template.gap_secs.0..=template.gap_secs.1));
    }
    added
}

/// Token counts shaped like real traffic of each model (its `[tokens]` entry, else `default`).
fn model_tokens(rng: &mut StdRng, model: &str) -> TokenCounts {
    let shapes = &DATA.tokens;
    let shape = shapes
        .get(model)
        .or_else(|| shapes.get("default"))
        .expect("the demo's data has default tokens");
    let input = shape.input.draw(rng);
    let output = shape.output.draw(rng);
    let mut draw = |count: &Option<Count>| count.as_ref().map_or(0, |c| c.draw(rng));
    TokenCounts {
        input,
        output,
        cache_read: draw(&shape.cache_read),
        cache_write_5m: draw(&shape.cache_write_5m),
        cache_write_1h: draw(&shape.cache_write_1h),
        requests: 1,
        ..TokenCounts::default()
    }
}

/// Numbers a draft and builds the record with its push-style `raw` JSON.
/// The Anthropic bill of the demo's usage, as `cost-tracker collect` would store it:
/// per complete UTC hour up to three hours before `now` and per Claude model, one hourly
/// bucket of 105 % of the agents' tokens there (the agents explain most of the bill;
/// one hour in eight only 95 %, so some hours show over-attribution), with the whole
/// hours it covers. Deterministic like the events.
pub fn demo_bill(events: &[NewUsage], now: DateTime<Utc>) -> (Vec<NewUsage>, Option<(i64, i64)>) {
    let until = now.timestamp().div_euclid(3600) * 3600 - 3 * 3600;
    let mut cells: std::collections::BTreeMap<(i64, String), TokenCounts> = Default::default();
    for event in events
        .iter()
        .filter(|e| e.provider.as_deref() == Some("anthropic"))
    {
        let hour = event.facts.recorded_at.timestamp().div_euclid(3600) * 3600;
        if hour >= until {
            continue;
        }
        let t = cells.entry((hour, event.facts.model.clone())).or_default();
        *t += &event.facts.tokens;
    }
    let first = events
        .first()
        .map(|e| e.facts.recorded_at.timestamp().div_euclid(86_400) * 86_400);
    let bill = cells
        .into_iter()
        .map(|((hour, model), t)| {
            let (num, den) = if (hour / 3600) % 8 == 0 {
                (19, 20)
            } else {
                (21, 20)
            };
            let part = |v: i64| v * num / den;
            let at = Utc.timestamp_opt(hour, 0).single().unwrap_or(now);
            let external_id = format!("demo-bill-{}|{model}", at.to_rfc3339());
            NewUsage {
                facts: UsageFacts {
                    source: Source::Anthropic,
                    external_id: external_id.clone(),
                    recorded_at: at,
                    bucket_seconds: 3600,
                    model: model.clone(),
                    tokens: TokenCounts {
                        input: part(t.input),
                        output: part(t.output),
                        cache_read: part(t.cache_read),
                        cache_write_5m: part(t.cache_write_5m),
                        cache_write_1h: part(t.cache_write_1h),
                        web_search_requests: part(t.web_search_requests),
                        requests: 0,
                    },
                    service_tier: Some("standard".into()),
                    context_window: Some("0-200k".into()),
                    inference_geo: None,
                    session_label: None,
                    session_id: None,
                    api_key_id: Some("apikey_demo".into()),
                    api_key_name: Some("openclaw".into()),
                    workspace_id: None,
                    workspace_name: None,
                    raw: json!({"bucket": external_id, "generator": "demo"}),
                },
                provider: Some("anthropic".into()),
                session_type: Some(SessionType::Other),
                agent: None,
                project: None,
                reported_cost: None,
                estimated_cost: None,
            }
        })
        .collect();
    (bill, first.filter(|f| *f < until).map(|f| (f, until)))
}

/// The demo's Anthropic cost report of the whole UTC days `[first, end)`: the bill's
/// buckets priced with `catalog` kind by kind, one line per day, model and token kind,
/// except that `overbilled` bills Opus 10 % higher (so the bill check has a day to flag).
pub fn demo_cost_report(
    catalog: &crate::domain::pricing::PriceCatalog,
    bill: &[NewUsage],
    (first, end): (NaiveDate, NaiveDate),
    overbilled: NaiveDate,
) -> Vec<crate::store::BilledLine> {
    use crate::domain::money::Pico;
    use crate::domain::usage::PricingInput;
    use rust_decimal::Decimal;
    let mut lines: std::collections::BTreeMap<(NaiveDate, String, &'static str), Decimal> =
        Default::default();
    for bucket in bill {
        let facts = &bucket.facts;
        let day = facts.recorded_at.date_naive();
        let Some(entry) = catalog
            .resolve(&facts.model)
            .filter(|_| day >= first && day < end)
        else {
            continue;
        };
        let input = PricingInput {
            model: &facts.model,
            recorded_at: facts.recorded_at,
            tokens: &facts.tokens,
            service_tier: facts.service_tier.as_deref(),
            context_window: facts.context_window.as_deref(),
            inference_geo: facts.inference_geo.as_deref(),
        };
        for (kind, cost) in catalog.quote_breakdown(entry, &input).iter() {
            *lines
                .entry((day, entry.id.clone(), kind.as_str()))
                .or_default() += cost;
        }
    }
    let ten_percent = Decimal::new(11, 1);
    lines
        .into_iter()
        .filter(|(_, cost)| !cost.is_zero())
        .map(|((day, model, kind), cost)| {
            let cost = match day == overbilled && model.contains("opus") {
                true => cost * ten_percent,
                false => cost,
            };
            crate::store::BilledLine {
                provider: "anthropic".into(),
                day,
                workspace: None,
                line: format!("{model}|{kind}"),
                model: Some(model.clone()),
                token_kind: Some(kind.to_string()),
                description: Some(format!("{model} - {kind}")),
                amount: Pico::from_usd(cost).unwrap_or_default(),
                raw: json!({"generator": "demo", "model": model, "token_type": kind}),
            }
        })
        .collect()
}

fn finish(date: NaiveDate, n: usize, draft: Draft) -> NewUsage {
    let external_id = format!("demo-{date}-{n}");
    let tokens = draft.tokens;
    let mut raw = Map::new();
    raw.insert("event_id".into(), json!(external_id));
    raw.insert("recorded_at".into(), json!(draft.at.to_rfc3339()));
    raw.insert("provider".into(), json!(draft.model.provider));
    raw.insert("model".into(), json!(draft.model.id));
    raw.insert("input_tokens".into(), json!(tokens.input));
    raw.insert("output_tokens".into(), json!(tokens.output));
    raw.insert("cache_read_tokens".into(), json!(tokens.cache_read));
    raw.insert("cache_write_tokens".into(), json!(tokens.cache_write_5m));
    raw.insert("cache_write_1h_tokens".into(), json!(tokens.cache_write_1h));
    if tokens.web_search_requests > 0 {
        raw.insert(
            "web_search_requests".into(),
            json!(tokens.web_search_requests),
        );
    }
    if let Some(tier) = draft.service_tier {
        raw.insert("service_tier".into(), json!(tier));
    }
    raw.insert("session_label".into(), json!(draft.label));
    if let Some(session_type) = draft.session_type {
        raw.insert("session_type".into(), json!(session_type.as_str()));
    }
    raw.insert("session_id".into(), json!(draft.session_id));
    raw.insert("agent".into(), json!(draft.agent));
    if let Some(project) = draft.project {
        raw.insert("project".into(), json!(project));
    }
    raw.insert("metadata".into(), json!({ "generator": "demo" }));

    NewUsage {
        facts: UsageFacts {
            source: Source::Import,
            external_id,
            recorded_at: draft.at,
            bucket_seconds: 0,
            model: draft.model.id.to_string(),
            tokens,
            service_tier: draft.service_tier.map(str::to_string),
            context_window: None,
            inference_geo: None,
            session_label: Some(draft.label.to_string()),
            session_id: Some(draft.session_id),
            api_key_id: None,
            api_key_name: None,
            workspace_id: None,
            workspace_name: None,
            raw: Value::Object(raw),
        },
        provider: Some(draft.model.provider.to_string()),
        session_type: draft.session_type,
        agent: Some(draft.agent.to_string()),
        project: draft.project.map(str::to_string),
        reported_cost: None,
        estimated_cost: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;
    use crate::domain::session::infer_session_type;

    const SONNET: &str = "claude-sonnet-4-5-20250929";
    const HAIKU_35: &str = "claude-3-5-haiku-20241022";
    const GPT_4O_MINI: &str = "gpt-4o-mini";
    const GPT_5: &str = "gpt-5";
    const KIMI: &str = "kimi-k2-0905-preview";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 18, 15, 42, 7).unwrap()
    }

    /// Rough list prices per MTok (input, output, cache read, 5m write, 1h write); batch halves.
    fn rough_cost(event: &NewUsage) -> Option<f64> {
        let (i, o, r, w5, w1) = match event.facts.model.as_str() {
            OPUS => (5.0, 25.0, 0.5, 6.25, 10.0),
            SONNET => (3.0, 15.0, 0.3, 3.75, 6.0),
            HAIKU => (1.0, 5.0, 0.1, 1.25, 2.0),
            HAIKU_35 => (0.8, 4.0, 0.08, 1.0, 1.6),
            GPT_5 => (1.25, 10.0, 0.125, 0.0, 0.0),
            GPT_4O_MINI => (0.15, 0.6, 0.075, 0.0, 0.0),
            KIMI => (0.6, 2.5, 0.15, 0.0, 0.0),
            _ => return None,
        };
        let t = &event.facts.tokens;
        let tokens = t.input as f64 * i
            + t.output as f64 * o
            + t.cache_read as f64 * r
            + t.cache_write_5m as f64 * w5
            + t.cache_write_1h as f64 * w1;
        let tier = if event.facts.service_tier.as_deref() == Some("batch") {
            0.5
        } else {
            1.0
        };
        Some(tokens / 1e6 * tier + t.web_search_requests as f64 * 0.01)
    }

    #[test]
    fn same_now_gives_identical_events() {
        let a = demo_events(now(), 7);
        assert_eq!(a, demo_events(now(), 7));
        assert!(!a.is_empty());
        assert!(demo_events(now(), 0).is_empty());
    }

    #[test]
    fn a_later_run_repeats_the_overlapping_days_exactly() {
        let earlier = demo_events(now(), 7);
        let later = demo_events(now() + Duration::days(1), 7);
        let later_ids: BTreeMap<&str, &NewUsage> = later
            .iter()
            .map(|e| (e.facts.external_id.as_str(), e))
            .collect();
        let first_shared_day = (now() + Duration::days(1)).date_naive() - Duration::days(7);
        let overlapping: Vec<&NewUsage> = earlier
            .iter()
            .filter(|e| e.facts.recorded_at.date_naive() >= first_shared_day)
            .collect();
        assert!(overlapping.len() > 1000, "{}", overlapping.len());
        for event in overlapping {
            assert_eq!(
                later_ids.get(event.facts.external_id.as_str()),
                Some(&event),
                "{}",
                event.facts.external_id
            );
        }
        // The later run completes the day of the earlier `now`.
        let today = now().date_naive();
        let count = |events: &[NewUsage]| {
            events
                .iter()
                .filter(|e| e.facts.recorded_at.date_naive() == today)
                .count()
        };
        assert!(count(&later) > count(&earlier));
    }

    #[test]
    fn nothing_after_now_and_ids_are_unique() {
        let events = demo_events(now(), 30);
        assert!(events.iter().all(|e| e.facts.recorded_at <= now()));
        assert!(events
            .iter()
            .any(|e| e.facts.recorded_at.date_naive() == now().date_naive()));
        assert!(events
            .windows(2)
            .all(|w| w[0].facts.recorded_at <= w[1].facts.recorded_at));
        let ids: HashSet<&str> = events
            .iter()
            .map(|e| e.facts.external_id.as_str())
            .collect();
        assert_eq!(ids.len(), events.len());
        let first = events[0].facts.recorded_at.date_naive();
        assert_eq!(first, now().date_naive() - Duration::days(30));
        for event in &events {
            let date = event.facts.recorded_at.date_naive();
            assert!(
                event
                    .facts
                    .external_id
                    .starts_with(&format!("demo-{date}-")),
                "{}",
                event.facts.external_id
            );
            assert_eq!(event.facts.source, Source::Import);
            assert_eq!(
                (event.facts.bucket_seconds, event.facts.tokens.requests),
                (0, 1)
            );
            assert!(event.reported_cost.is_none());
            assert_eq!(event.facts.raw["event_id"], json!(event.facts.external_id));
            assert_eq!(event.facts.raw["model"], json!(event.facts.model));
        }
    }

    #[test]
    fn the_spread_covers_projects_session_types_and_models() {
        let events = demo_events(now(), 7);
        let labels: HashSet<&str> = events
            .iter()
            .filter_map(|e| e.facts.session_label.as_deref())
            .collect();
        let rule_prefixes = [
            "peakpaws-",
            "kanban-",
            "trading-",
            "cost-tracker-",
            "context-vault-",
        ];
        let mapped = rule_prefixes
            .iter()
            .filter(|p| labels.iter().any(|l| l.starts_with(*p)))
            .count();
        assert_eq!(mapped, 5, "{labels:?}");
        assert!(
            labels
                .iter()
                .any(|l| !rule_prefixes.iter().any(|p| l.starts_with(p))),
            "an unmatched label"
        );
        assert!(
            events.iter().any(|e| e.project.is_some()),
            "an explicit project"
        );

        let given: HashSet<SessionType> = events.iter().filter_map(|e| e.session_type).collect();
        assert!(given.len() >= 3, "{given:?}");
        let inferred: HashSet<SessionType> = events
            .iter()
            .filter(|e| e.session_type.is_none())
            .map(|e| {
                infer_session_type(
                    e.facts.session_label.as_deref(),
                    e.facts.session_id.as_deref(),
                )
            })
            .collect();
        assert!(inferred.len() >= 3, "inference is exercised: {inferred:?}");

        let models: HashSet<&str> = events.iter().map(|e| e.facts.model.as_str()).collect();
        for model in [
            OPUS,
            SONNET,
            HAIKU,
            HAIKU_35,
            GPT_4O_MINI,
            GPT_5,
            KIMI,
            UNKNOWN_MODEL,
        ] {
            assert!(models.contains(model), "{model}");
        }
        let agents: HashSet<&str> = events.iter().filter_map(|e| e.agent.as_deref()).collect();
        assert!((4..=6).contains(&agents.len()), "{agents:?}");
        assert!(events
            .iter()
            .any(|e| e.facts.service_tier.as_deref() == Some("batch")));
        assert!(events.iter().any(|e| e.facts.tokens.cache_write_1h > 0));
        assert!(events
            .iter()
            .any(|e| e.facts.tokens.web_search_requests > 0));
        assert!(events.iter().any(|e| e
            .facts
            .session_id
            .as_deref()
            .is_some_and(|s| s.starts_with("agent:openclaw:subagent:"))));
        assert!(events
            .iter()
            .any(|e| e.facts.session_id.as_deref() == Some("cron:nightly-report")));
    }

    #[test]
    fn daily_volume_and_spend_are_realistic_and_mostly_opus() {
        let end = Utc.with_ymd_and_hms(2026, 3, 31, 23, 59, 59).unwrap();
        let events = demo_events(end, 28);
        let mut per_day: BTreeMap<NaiveDate, (usize, f64, f64)> = BTreeMap::new();
        for event in &events {
            let day = per_day
                .entry(event.facts.recorded_at.date_naive())
                .or_default();
            let cost = rough_cost(event).unwrap_or(0.0);
            day.0 += 1;
            day.1 += cost;
            if event.facts.model == OPUS {
                day.2 += cost;
            }
        }
        let mean = per_day.values().map(|d| d.1).sum::<f64>() / per_day.len() as f64;
        assert!((40.0..=60.0).contains(&mean), "mean daily spend ${mean:.2}");
        for (date, (count, cost, opus)) in &per_day {
            assert!((150..=300).contains(count), "{date}: {count} events");
            assert!((20.0..=80.0).contains(cost), "{date}: ${cost:.2}");
            assert!(*opus > cost / 2.0, "{date}: opus ${opus:.2} of ${cost:.2}");
        }
        let unpriced = events.iter().filter(|e| rough_cost(e).is_none()).count();
        assert!((28..=60).contains(&unpriced), "{unpriced} unpriced");
    }
}
