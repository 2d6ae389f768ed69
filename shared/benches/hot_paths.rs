//! Micro-benchmarks of the hot pure paths (`make bench-micro`): pricing one
//! record, resolving a project against 100 rules, parsing a batch of 1,000 events.

use chrono::{DateTime, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use shared::domain::pricing::PriceCatalog;
use shared::domain::rules::{ProjectRule, ProjectRules, RuleSubject};
use shared::domain::usage::{PricingInput, TokenCounts};

fn now() -> DateTime<Utc> {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn pricing(c: &mut Criterion) {
    let catalog = PriceCatalog::embedded();
    let tokens = TokenCounts {
        input: 3_000,
        output: 1_200,
        cache_read: 40_000,
        cache_write_5m: 2_000,
        cache_write_1h: 0,
        web_search_requests: 1,
        requests: 1,
    };
    for model in [
        "claude-sonnet-4-5",
        "anthropic/claude-opus-4-6",
        "gpt-4o-mini-2024-07-18",
    ] {
        c.bench_function(&format!("price one record ({model})"), |b| {
            b.iter(|| {
                catalog.quote(black_box(&PricingInput {
                    model,
                    recorded_at: now(),
                    tokens: &tokens,
                    service_tier: Some("batch"),
                    context_window: None,
                    inference_geo: Some("us"),
                }))
            })
        });
    }
}

fn rules(c: &mut Criterion) {
    let rules: Vec<ProjectRule> = (0..100)
        .map(|i| ProjectRule {
            id: i,
            pattern: format!("team-{i}-*-agent?"),
            project: format!("Project {i}"),
            priority: (i % 3) as i32,
        })
        .collect();
    let rules = ProjectRules::new(rules, "General");
    let subject = RuleSubject {
        session_label: Some("agent:openclaw:main:discord:channel:123456"),
        api_key_name: Some("team-77-research-agent7"),
        workspace_name: Some("Default"),
    };
    c.bench_function("resolve a project against 100 rules", |b| {
        b.iter(|| black_box(rules.resolve(black_box(subject))).len())
    });
}

fn parsing(c: &mut Criterion) {
    let batch = json!((0..1_000)
        .map(|i| json!({
            "event_id": format!("ev-{i}"),
            "model": "claude-sonnet-4-5",
            "input_tokens": 1_000 + i,
            "output_tokens": 200,
            "cache_read_tokens": 30_000,
            "session_id": format!("agent:openclaw:subagent:{i}"),
            "recorded_at": "2026-11-20T11:59:00Z",
        }))
        .collect::<Vec<_>>());
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("parse a batch of 1,000 events", |b| {
        b.iter(|| {
            shared::ingest::parse_events(black_box(&batch), now())
                .unwrap()
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, pricing, rules, parsing);
criterion_main!(benches);
