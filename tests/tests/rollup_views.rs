//! The `*_live` views (rollups plus pending deltas) against the rollup rule as Rust
//! states it (`RollupKey::of`, `Totals::of`), on random data, on both backends:
//! every grouping, with and without a filter, with deltas pending and after a fold.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use integration_tests::{both_stores, ledger, TestStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shared::domain::usage::{NewUsage, SessionType, Source, TokenCounts, UsageFacts, UsageRecord};
use shared::store::{
    rollup_hour, Dimension, Filters, Grouping, RollupKey, Totals, UsageQuery, WriteMode,
};

const MODELS: [&str; 4] = [
    "claude-opus-4-5",
    "claude-haiku-4-5",
    "gpt-4o-mini",
    "no-such-model",
];
const PROJECTS: [&str; 3] = ["kanban", "peakpaws", "misc"];
const AGENTS: [Option<&str>; 3] = [Some("openclaw"), Some("claude-code"), None];

fn day0() -> DateTime<Utc> {
    "2026-11-10T00:00:00Z".parse().unwrap()
}

fn random_event(rng: &mut StdRng, i: usize) -> NewUsage {
    let pick = |rng: &mut StdRng, n: usize| rng.gen_range(0..n);
    let session_types = SessionType::ALL;
    let minutes = rng.gen_range(0..4 * 24 * 60);
    let model = MODELS[pick(rng, MODELS.len())];
    NewUsage {
        facts: UsageFacts {
            source: if rng.gen_bool(0.3) {
                Source::Import
            } else {
                Source::Push
            },
            external_id: format!("r-{i}"),
            recorded_at: day0() + Duration::minutes(minutes),
            bucket_seconds: 0,
            model: model.into(),
            tokens: TokenCounts {
                input: rng.gen_range(0..50_000),
                output: rng.gen_range(0..5_000),
                cache_read: rng.gen_range(0..100_000),
                cache_write_5m: rng.gen_range(0..2_000),
                cache_write_1h: rng.gen_range(0..500),
                web_search_requests: rng.gen_range(0..3),
                requests: rng.gen_range(0..3),
            },
            service_tier: None,
            context_window: None,
            inference_geo: None,
            session_label: None,
            session_id: None,
            api_key_id: None,
            api_key_name: None,
            workspace_id: None,
            workspace_name: None,
            raw: json!({"i": i}),
        },
        provider: None,
        session_type: Some(session_types[pick(rng, session_types.len())]),
        agent: AGENTS[pick(rng, AGENTS.len())].map(String::from),
        project: Some(PROJECTS[pick(rng, PROJECTS.len())].into()),
        reported_cost: rng
            .gen_bool(0.2)
            .then(|| rust_decimal::Decimal::new(rng.gen_range(0..10_000_000), 6)),
        estimated_cost: None,
    }
}

type Groups = BTreeMap<(Option<i64>, Option<String>), Totals>;

/// The local day (days since the common era) of an hour (epoch seconds) in `tz`.
fn local_day(hour: i64, tz: chrono_tz::Tz) -> i64 {
    use chrono::Datelike;
    let at = chrono::DateTime::from_timestamp(hour, 0).unwrap();
    i64::from(at.with_timezone(&tz).date_naive().num_days_from_ce())
}

/// What the rule says a report over these records is.
fn expected(
    records: &[UsageRecord],
    grouping: Grouping,
    filter: Option<(Dimension, &str)>,
) -> Groups {
    let mut groups = Groups::new();
    for record in records {
        let key = RollupKey::of(record);
        if filter.is_some_and(|(dim, value)| dim.value_of(&key) != value) {
            continue;
        }
        let hour = Some(rollup_hour(record.facts.recorded_at));
        let group = match grouping {
            Grouping::Total => (None, None),
            Grouping::Hour => (hour, None),
            Grouping::By(d) => (None, Some(d.value_of(&key).to_string())),
            Grouping::HourBy(d) => (hour, Some(d.value_of(&key).to_string())),
            Grouping::Day(tz) => (hour.map(|h| local_day(h, tz)), None),
            Grouping::DayBy(d, tz) => (
                hour.map(|h| local_day(h, tz)),
                Some(d.value_of(&key).to_string()),
            ),
        };
        *groups.entry(group).or_default() += Totals::of(record);
    }
    groups.retain(|_, t| !t.is_zero());
    groups
}

fn filters(filter: Option<(Dimension, &str)>) -> Filters {
    let mut filters = Filters::default();
    if let Some((dim, value)) = filter {
        let slot = match dim {
            Dimension::Provider => &mut filters.provider,
            Dimension::Model => &mut filters.model,
            Dimension::Project => &mut filters.project,
            Dimension::Agent => &mut filters.agent,
            Dimension::SessionType => &mut filters.session_type,
            Dimension::Source => &mut filters.source,
        };
        *slot = Some(value.to_string());
    }
    filters
}

/// Every grouping, unfiltered (the one-dimension view) and filtered (the full-key
/// view), over whole and partial days, against the rule over the stored records.
async fn assert_views_follow_the_rule(t: &TestStore, when: &str) {
    let (records, _) = t
        .store
        .list_usage(&UsageQuery {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let (start, end) = (
        day0() + Duration::hours(5),
        day0() + Duration::hours(3 * 24 + 7),
    );
    let in_range: Vec<UsageRecord> = records
        .into_iter()
        .filter(|r| r.facts.recorded_at >= start && r.facts.recorded_at < end)
        .collect();
    let mut groupings = vec![Grouping::Total, Grouping::Hour];
    for tz in [
        chrono_tz::UTC,
        chrono_tz::America::Chicago,
        chrono_tz::Asia::Tokyo,
    ] {
        groupings.push(Grouping::Day(tz));
    }
    for dim in Dimension::ALL {
        groupings.extend([
            Grouping::By(dim),
            Grouping::HourBy(dim),
            Grouping::DayBy(dim, chrono_tz::America::Chicago),
        ]);
    }
    let filters_to_try = [
        None,
        Some((Dimension::Project, "kanban")),
        Some((Dimension::Agent, "")),
        Some((Dimension::Model, "no-such-model")),
        Some((Dimension::SessionType, "heartbeat")),
    ];
    for grouping in groupings {
        for filter in filters_to_try {
            let rows = t
                .store
                .rollup_totals(start, end, &filters(filter), grouping)
                .await
                .unwrap();
            // By the day, a store may answer any hour of the day as its key (or every
            // hour): compare the days.
            let day = match grouping {
                Grouping::Day(tz) | Grouping::DayBy(_, tz) => Some(tz),
                _ => None,
            };
            let mut got = Groups::new();
            for (key, totals) in rows {
                let hour = key.hour.map(|h| h.timestamp());
                let hour = match day {
                    Some(tz) => hour.map(|h| local_day(h, tz)),
                    None => hour,
                };
                *got.entry((hour, key.value)).or_default() += totals;
            }
            got.retain(|_, t| !t.is_zero());
            assert_eq!(
                got,
                expected(&in_range, grouping, filter),
                "{} {when}: {grouping:?} {filter:?}",
                t.backend
            );
        }
    }
}

#[tokio::test]
async fn the_live_views_sum_as_the_rust_rule_on_random_data() {
    for t in both_stores().await {
        let ledger = ledger(&t.store);
        let rules = ledger.rules().await.unwrap();
        let mut rng = StdRng::seed_from_u64(13);
        let records: Vec<UsageRecord> = (0..600)
            .map(|i| ledger.resolve(random_event(&mut rng, i), &rules))
            .collect();
        let (applied, deferred) = records.split_at(300);
        t.store
            .write_usage(applied.to_vec(), WriteMode::InsertOnly)
            .await
            .unwrap();
        for chunk in deferred.chunks(7) {
            t.store.write_usage_deferred(chunk.to_vec()).await.unwrap();
        }
        assert!(t.store.pending_rollups().await.unwrap() > 0);
        assert_views_follow_the_rule(&t, "with deltas pending").await;

        // A delete folds what is pending first; then more pending on top.
        let (stored, _) = t
            .store
            .list_usage(&UsageQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        for record in &stored[..5] {
            assert!(t.store.delete_usage(record.id).await.unwrap());
        }
        let more: Vec<UsageRecord> = (600..700)
            .map(|i| ledger.resolve(random_event(&mut rng, i), &rules))
            .collect();
        for chunk in more.chunks(9) {
            t.store.write_usage_deferred(chunk.to_vec()).await.unwrap();
        }
        assert_views_follow_the_rule(&t, "after deletes").await;

        t.store.fold_pending_rollups().await.unwrap();
        assert_eq!(t.store.pending_rollups().await.unwrap(), 0);
        assert_views_follow_the_rule(&t, "after the fold").await;
    }
}
