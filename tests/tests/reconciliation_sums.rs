//! The reconciled basis adds up, on random data, on both backends: a random bill
//! (several API keys per cell) over two collected days and random agents' events over
//! four days, then a late re-collection and deletes. After each step every figure is
//! checked against the rule computed here from the generated data, to the micro-dollar:
//! totals, every breakdown, every bucket list and stack, in UTC and Chicago, the
//! filtered reports, each basis, and the reconciliation.
//!
//! The seed is printed; `RECONCILIATION_SEED=n` replays one.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use http::StatusCode;
use integration_tests::{app, both_stores, dec, get, ledger, post, reported_usage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::domain::usage::{NewUsage, SessionType, Source};
use shared::store::{Coverage, DynStore};

const MODELS: [(&str, &str); 4] = [
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-opus-4-5"),
    ("anthropic", "claude-haiku-4-5"),
    ("openai", "gpt-4o"),
];
const PROJECTS: [&str; 3] = ["PeakPaws", "Cost Tracker", "Trading Tools"];
const AGENTS: [&str; 3] = ["main-agent", "researcher", "trader"];
const TYPES: [&str; 4] = ["main", "subagent", "heartbeat", "cron"];
const KEYS: [&str; 2] = ["apikey_01", "apikey_02"];
/// The collected hours: 2026-11-10 and 2026-11-11 (UTC).
const COVERED: (i64, i64) = (1_794_268_800, 1_794_441_600);
/// Events fall in [2026-11-09 06:00, 2026-11-13 00:00) UTC: inside the four days
/// 2026-11-09..12 both in UTC and in Chicago.
const EVENTS: (i64, i64) = (1_794_204_000, 1_794_528_000);

/// A cost in micro-dollars, as decimal text: mostly small, sometimes zero.
fn micros(rng: &mut StdRng, max: i64) -> Decimal {
    if rng.gen_ratio(1, 20) {
        return Decimal::ZERO;
    }
    Decimal::new(rng.gen_range(1..=max), 6)
}

#[derive(Default, Clone)]
struct Cell {
    billed: Decimal,
    attributed: Decimal,
}

/// What the rule says of the data: per cell (provider, model, hour), and the bill.
#[derive(Default)]
struct World {
    /// Bill buckets by id: (hour, model index, key, cost).
    bill: BTreeMap<String, (i64, usize, &'static str, Decimal)>,
    /// Events by id: (instant, model index, cost, project, agent, type).
    events: BTreeMap<String, (i64, usize, Decimal, usize, usize, usize)>,
}

impl World {
    fn cells(&self) -> BTreeMap<(usize, i64), Cell> {
        let mut cells: BTreeMap<(usize, i64), Cell> = BTreeMap::new();
        for (hour, model, _, cost) in self.bill.values() {
            cells.entry((*model, *hour)).or_default().billed += cost;
        }
        for (at, model, cost, ..) in self.events.values() {
            cells
                .entry((*model, at - at.rem_euclid(3600)))
                .or_default()
                .attributed += cost;
        }
        cells
    }

    fn is_billed(model: usize, hour: i64) -> bool {
        MODELS[model].0 == "anthropic" && (COVERED.0..COVERED.1).contains(&hour)
    }

    /// (reconciled, billed, attributed, explained, over, unbilled attributed).
    fn expected(&self) -> [Decimal; 6] {
        let mut out = [Decimal::ZERO; 6];
        for ((model, hour), c) in self.cells() {
            out[1] += c.billed;
            out[2] += c.attributed;
            if World::is_billed(model, hour) {
                out[0] += c.billed;
                out[3] += c.attributed.min(c.billed);
                out[4] += (c.attributed - c.billed).max(Decimal::ZERO);
            } else {
                out[0] += c.attributed;
                out[5] += c.attributed;
            }
        }
        out
    }
}

fn bill_usage(id: &str, hour: i64, model: usize, key: &str, cost: Decimal) -> NewUsage {
    let at = Utc.timestamp_opt(hour, 0).unwrap();
    let mut usage = reported_usage(id, at, MODELS[model].1, cost);
    usage.facts.source = Source::Anthropic;
    usage.facts.bucket_seconds = 3600;
    usage.facts.api_key_id = Some(key.into());
    usage.facts.api_key_name = Some(format!("{key}-name"));
    usage.session_type = Some(SessionType::Other);
    usage
}

async fn collect(store: &DynStore, world: &World, ids: &[String]) {
    let buckets = ids
        .iter()
        .map(|id| {
            let (hour, model, key, cost) = world.bill[id];
            bill_usage(id, hour, model, key, cost)
        })
        .collect();
    let coverage = Coverage::of_range("anthropic", COVERED.0, COVERED.1);
    ledger(store)
        .ingest_collected(buckets, &coverage)
        .await
        .unwrap();
}

fn event_json(id: &str, e: &(i64, usize, Decimal, usize, usize, usize)) -> Value {
    let at = Utc.timestamp_opt(e.0, 0).unwrap();
    json!({"event_id": id, "recorded_at": at.to_rfc3339(), "model": MODELS[e.1].1,
           "provider": MODELS[e.1].0, "cost": e.2.to_string(), "tokens_in": 1000,
           "tokens_out": 100, "project": PROJECTS[e.3], "agent": AGENTS[e.4],
           "session_type": TYPES[e.5]})
}

fn sum_of(items: &Value, field: &str) -> Decimal {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {items}"))
        .iter()
        .map(|i| dec(&i[field]))
        .sum()
}

/// Every figure against `world`; `what` names the step in failures.
async fn check(app: &axum::Router, world: &World, what: &str) {
    let [reconciled, billed, attributed, explained, over, unbilled] = world.expected();
    let range = "start=2026-11-09&end=2026-11-12";
    for tz in ["UTC", "America/Chicago"] {
        let scope = format!("{range}&tz={tz}");
        let w = format!("{what} {tz}");
        // The total, its days, and every stack of them.
        for stack in [
            "model",
            "project",
            "session_type",
            "agent",
            "provider",
            "source",
        ] {
            let r = get(app, &format!("/costs/range?{scope}&stack_by={stack}")).await;
            assert_eq!(r.status, StatusCode::OK, "{w}: {}", r.text);
            let total = dec(&r.body["total_cost_usd"]);
            assert_eq!(total, reconciled, "{w}: total");
            assert_eq!(sum_of(&r.body["buckets"], "cost_usd"), total, "{w}: days");
            assert_eq!(
                sum_of(&r.body["stack_totals"], "cost_usd"),
                total,
                "{w}: {stack}"
            );
            for bucket in r.body["buckets"].as_array().unwrap() {
                assert_eq!(
                    sum_of(&bucket["stack"], "cost_usd"),
                    dec(&bucket["cost_usd"]),
                    "{w}: {stack} stack of {}",
                    bucket["period"]
                );
            }
        }
        // Every breakdown, and the filtered reports of each of its keys.
        for (path, filter) in [
            ("by-model", "model"),
            ("by-project", "project"),
            ("by-agent", "agent"),
            ("by-session-type", "session_type"),
            ("by-provider", "provider"),
        ] {
            let r = get(app, &format!("/costs/{path}?{scope}")).await;
            assert_eq!(r.status, StatusCode::OK, "{w}: {}", r.text);
            assert_eq!(dec(&r.body["total_cost_usd"]), reconciled, "{w}: {path}");
            assert_eq!(
                sum_of(&r.body["breakdown"], "cost_usd"),
                reconciled,
                "{w}: {path} items"
            );
            if tz != "UTC" {
                continue;
            }
            let mut filtered = Decimal::ZERO;
            for item in r.body["breakdown"].as_array().unwrap() {
                let key = item["key"].as_str().unwrap();
                if key == "(none)" {
                    filtered += dec(&item["cost_usd"]);
                    continue; // the bill's records have no agent: no filter selects them
                }
                let query = format!("/costs/range?{scope}&{filter}={}", key.replace(' ', "%20"));
                let one = get(app, &query).await;
                assert_eq!(one.status, StatusCode::OK, "{w}: {}", one.text);
                let cost = dec(&one.body["total_cost_usd"]);
                let exact = dec(&item["cost_usd"]);
                // The breakdown apportions rounded parts; a filter rounds its own sum.
                assert!(
                    (cost - exact).abs() <= Decimal::new(1, 6),
                    "{w}: {filter}={key}: {cost} vs {exact}"
                );
                filtered += cost;
            }
            let parts = r.body["breakdown"].as_array().unwrap().len() as i64;
            assert!(
                (filtered - reconciled).abs() <= Decimal::new(parts, 6),
                "{w}: {path} filtered parts {filtered} vs {reconciled}"
            );
        }
        // The other bases.
        for (basis, want) in [
            ("raw", billed + attributed),
            ("billed", billed),
            ("attributed", attributed),
        ] {
            let r = get(app, &format!("/costs/by-model?{scope}&basis={basis}")).await;
            assert_eq!(dec(&r.body["total_cost_usd"]), want, "{w}: {basis}");
            assert_eq!(
                sum_of(&r.body["breakdown"], "cost_usd"),
                want,
                "{w}: {basis} items"
            );
        }
        // The reconciliation, by day and by week.
        for group in ["day", "week"] {
            let r = get(
                app,
                &format!("/costs/reconciliation?{scope}&group_by={group}"),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{w}: {}", r.text);
            let b = &r.body;
            for (field, want) in [
                ("billed_usd", billed),
                ("attributed_usd", attributed),
                ("explained_usd", explained),
                ("unattributed_usd", billed - explained),
                ("over_attributed_usd", over),
                ("unbilled_attributed_usd", unbilled),
            ] {
                assert_eq!(dec(&b[field]), want, "{w} {group}: {field}");
                assert_eq!(
                    sum_of(&b["buckets"], field),
                    want,
                    "{w} {group}: buckets' {field}"
                );
                assert_eq!(
                    sum_of(&b["models"], field),
                    want,
                    "{w} {group}: models' {field}"
                );
            }
            for line in b["models"]
                .as_array()
                .unwrap()
                .iter()
                .chain(b["buckets"].as_array().unwrap())
            {
                assert_eq!(
                    dec(&line["explained_usd"]) + dec(&line["unattributed_usd"]),
                    dec(&line["billed_usd"]),
                    "{w} {group}: {line}"
                );
            }
        }
    }
}

/// A random bill (some hours of the collected days, one or two keys per cell) and
/// 260 random agents' events, some in billed cells, some beside them.
fn random_world(rng: &mut StdRng) -> World {
    let mut world = World::default();
    for _ in 0..70 {
        let hour = COVERED.0 + 3600 * rng.gen_range(0..48);
        let model = rng.gen_range(0..3);
        let key = KEYS[rng.gen_range(0..2)];
        let id = format!("bill-{hour}-{model}-{key}");
        world
            .bill
            .insert(id, (hour, model, key, micros(rng, 9_000_000)));
    }
    for i in 0..260 {
        let at = rng.gen_range(EVENTS.0..EVENTS.1);
        let e = (
            at,
            rng.gen_range(0..4),
            micros(rng, 3_000_000),
            rng.gen_range(0..3),
            rng.gen_range(0..3),
            rng.gen_range(0..4),
        );
        world.events.insert(format!("ev-{i}"), e);
    }
    world
}

fn seed() -> u64 {
    let seed = std::env::var("RECONCILIATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen::<u64>());
    println!("RECONCILIATION_SEED={seed}");
    seed
}

#[tokio::test]
async fn every_reconciled_figure_adds_up_on_random_data() {
    let seed = seed();
    for t in both_stores().await {
        let b = t.backend;
        let mut rng = StdRng::seed_from_u64(seed);
        let app = app(&t.store, "UTC");
        let mut world = random_world(&mut rng);
        let ids: Vec<String> = world.bill.keys().cloned().collect();
        collect(&t.store, &world, &ids).await;
        let batch: Vec<Value> = world
            .events
            .iter()
            .map(|(id, e)| event_json(id, e))
            .collect();
        for chunk in batch.chunks(100) {
            let reply = post(&app, "/api/usage", Value::Array(chunk.to_vec())).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{b}: {}", reply.text);
        }
        check(&app, &world, &format!("{b} seed {seed}: first")).await;

        // Late data: a third of the bill re-collected at another cost, and a third of
        // the events deleted.
        let changed: Vec<String> = ids
            .iter()
            .filter(|_| rng.gen_ratio(1, 3))
            .cloned()
            .collect();
        for id in &changed {
            world.bill.get_mut(id).unwrap().3 = micros(&mut rng, 9_000_000);
        }
        collect(&t.store, &world, &changed).await;
        let records = integration_tests::listed_records(
            &app,
            "start_date=2026-11-09&end_date=2026-11-12&source=push&limit=1000",
        )
        .await;
        assert_eq!(records.len(), world.events.len(), "{b}: every event listed");
        for record in records.iter().filter(|_| rng.gen_ratio(1, 3)) {
            let id = record["id"].as_i64().unwrap();
            let reply = integration_tests::delete_record(&app, id).await;
            assert_eq!(reply.status, StatusCode::NO_CONTENT, "{b}: {}", reply.text);
            world
                .events
                .remove(record["event_id"].as_str().unwrap())
                .unwrap();
        }
        check(&app, &world, &format!("{b} seed {seed}: late")).await;

        // Folding the pending deltas changes nothing.
        t.store.fold_pending_rollups().await.unwrap();
        check(&app, &world, &format!("{b} seed {seed}: folded")).await;
    }
}

/// Single pushes from 16 clients while the chunk that bills their hours is collected:
/// whichever commits first, once the pending deltas are folded (as `serve` does every
/// few hundred milliseconds) every figure is the rule's, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pushes_racing_a_collected_chunk_are_settled_exactly() {
    let seed = seed();
    for t in both_stores().await {
        let b = t.backend;
        let mut rng = StdRng::seed_from_u64(seed);
        let app = app(&t.store, "UTC");
        let world = random_world(&mut rng);
        let events: Vec<Value> = world
            .events
            .iter()
            .map(|(id, e)| event_json(id, e))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for client in 0..16 {
            let app = app.clone();
            let mine: Vec<Value> = events.iter().skip(client).step_by(16).cloned().collect();
            tasks.spawn(async move {
                for event in mine {
                    let reply = post(&app, "/api/usage", event).await;
                    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
                }
            });
        }
        // The collection starts once some pushes are in, while the rest go on.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let ids: Vec<String> = world.bill.keys().cloned().collect();
        collect(&t.store, &world, &ids).await;
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        t.store.fold_pending_rollups().await.unwrap();
        check(&app, &world, &format!("{b} seed {seed}: raced")).await;
    }
}
