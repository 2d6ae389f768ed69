//! The bill as a check (issue 15, item 4), on both backends: a collection against the
//! fakes also pulls both providers' daily cost reports; `GET /costs/bill-check`
//! compares them with our computed cost of the pulled usage. A day the fake bills at
//! list price matches to the picodollar; a day it bills one model 10 % higher is
//! flagged, naming the model and the token kind. Re-collecting never doubles the
//! bill; a fault mid-pull leaves nothing half-stored and the watermark where it was.

use std::time::Duration;

use chrono::NaiveDate;
use http::StatusCode;
use integration_tests::fake_costs::{anthropic_line_costs, openai_line_costs};
use integration_tests::fake_providers::{FakeConfig, FakeProvider, FakeProviders, Fault};
use integration_tests::{app_with_collector, both_stores, dec, get, ledger};
use rust_decimal::Decimal;
use serde_json::Value;
use shared::collect::{
    floor_hour, CollectRequest, CollectSettings, Collector, Outcome, ProviderAccess, Trigger,
};
use shared::config::Secret;
use shared::outbound::RetryPolicy;
use shared::store::DynStore;

fn settings(fake: &FakeProviders) -> CollectSettings {
    let config = fake.state.config();
    CollectSettings {
        anthropic: Some(ProviderAccess {
            base_url: fake.url.clone(),
            key: Secret::new(config.anthropic_key.clone()),
        }),
        openai: Some(ProviderAccess {
            base_url: fake.url.clone(),
            key: Secret::new(config.openai_key.clone()),
        }),
        backfill_days: 30,
        lookback_hours: 48,
        chunk: chrono::Duration::days(7),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            retry_after_cap: Duration::from_secs(2),
            request_timeout: Duration::from_millis(2_000),
        },
    }
}

fn collector(store: &DynStore, fake: &FakeProviders) -> Collector {
    Collector::new(ledger(store), settings(fake))
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// The fake's `now` is 2026-11-20 12:34: a 30-day backfill covers whole days from
/// 2026-10-22 to 2026-11-19.
const FIRST_BILLED: &str = "2026-10-22";
const LAST_BILLED: &str = "2026-11-19";
/// Anthropic bills Opus 4.6 10 % higher on this day…
const OPUS_DAY: &str = "2026-11-12";
/// …and OpenAI bills GPT-4o's output tokens 10 % higher on this one.
const GPT_DAY: &str = "2026-11-15";

async fn overcharged_fake(config: FakeConfig) -> FakeProviders {
    let fake = FakeProviders::start(config).await;
    let ten_percent: Decimal = "1.1".parse().unwrap();
    fake.state.overcharge(
        FakeProvider::Anthropic,
        day(OPUS_DAY),
        "claude-opus-4-6",
        None,
        ten_percent,
    );
    fake.state.overcharge(
        FakeProvider::Openai,
        day(GPT_DAY),
        "gpt-4o-2024-08-06",
        Some("output"),
        ten_percent,
    );
    fake
}

async fn bill_check(store: &DynStore, fake: &FakeProviders, range: &str) -> Value {
    let app = app_with_collector(store, collector(store, fake));
    let reply = get(&app, &format!("/costs/bill-check?{range}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body
}

fn days_of<'a>(check: &'a Value, provider: &str) -> Vec<&'a Value> {
    check["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["provider"] == provider)
        .collect()
}

/// The fake's bill of one provider's day, by the hand price table.
fn fake_bill(fake: &FakeProviders, provider: &str, date: NaiveDate) -> Decimal {
    let start = date.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let end = start + chrono::Duration::days(1);
    match provider {
        "anthropic" => fake
            .state
            .anthropic_rows(start, end)
            .iter()
            .flat_map(anthropic_line_costs)
            .map(|(_, cost)| cost)
            .sum(),
        _ => fake
            .state
            .openai_rows(start, end)
            .iter()
            .flat_map(openai_line_costs)
            .map(|(_, cost)| cost)
            .sum(),
    }
}

#[tokio::test]
async fn a_matching_day_matches_and_an_overbilled_model_is_flagged() {
    let fake = overcharged_fake(FakeConfig::default()).await;
    for t in both_stores().await {
        let report = collector(&t.store, &fake)
            .collect_once(
                CollectRequest::scheduled(Trigger::Cli),
                fake.state.config().now,
            )
            .await
            .unwrap();
        assert!(report.succeeded(), "{}: {report:?}", t.backend);
        for provider in [FakeProvider::Anthropic, FakeProvider::Openai] {
            assert!(fake.state.cost_pages_served(provider) > 0);
        }
        let check = bill_check(&t.store, &fake, "start=2026-10-21&end=2026-11-20").await;
        assert_eq!(check["timezone"], "UTC");
        assert_eq!(check["start"], "2026-10-21");
        assert_eq!(check["end"], "2026-11-20");
        let flagged: Vec<&str> = check["flagged_days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert_eq!(flagged, [OPUS_DAY, GPT_DAY], "{}", t.backend);

        for provider in ["anthropic", "openai"] {
            let days = days_of(&check, provider);
            let pulled: Vec<&str> = days
                .iter()
                .filter(|d| d["bill_pulled"] == true)
                .map(|d| d["date"].as_str().unwrap())
                .collect();
            assert_eq!(pulled.len(), 29, "{}: {pulled:?}", t.backend);
            assert_eq!(pulled.first(), Some(&FIRST_BILLED));
            assert_eq!(pulled.last(), Some(&LAST_BILLED));
            // The partly collected first day and today are not billed, so never flagged.
            for d in days.iter().filter(|d| d["bill_pulled"] == false) {
                assert_eq!(d["flagged"], false, "{d}");
                assert_eq!(dec(&d["billed_usd"]), Decimal::ZERO);
            }
            for d in days.iter().filter(|d| d["bill_pulled"] == true) {
                let date = d["date"].as_str().unwrap();
                // The stored bill is the fake's, to the micro-dollar.
                let want = fake_bill(&fake, provider, day(date));
                let overcharged = [OPUS_DAY, GPT_DAY].contains(&date);
                if !overcharged {
                    assert_eq!(
                        dec(&d["billed_usd"]),
                        shared::domain::money::round_usd(want),
                        "{}: {provider} {date}",
                        t.backend
                    );
                    // A matching day: our prices give the bill (well within 0.01 %).
                    let percent = dec(&d["percent"]);
                    assert!(
                        percent.abs() < "0.01".parse().unwrap(),
                        "{}: {provider} {date}: {d}",
                        t.backend
                    );
                    assert_eq!(d["difference_usd"], 0, "{}: {provider} {date}", t.backend);
                    assert_eq!(d["flagged"], false);
                    for model in d["models"].as_array().unwrap() {
                        assert_eq!(model["price_mismatch"], false, "{model}");
                    }
                }
            }
        }

        let mismatches = check["price_mismatch"].as_array().unwrap();
        assert_eq!(mismatches.len(), 2, "{}: {mismatches:?}", t.backend);
        let opus = &mismatches[0];
        assert_eq!(opus["date"], OPUS_DAY);
        assert_eq!(opus["provider"], "anthropic");
        assert_eq!(opus["model"], "claude-opus-4-6");
        assert_eq!(dec(&opus["percent"]), Decimal::TEN, "{opus}");
        // Every kind of the model was billed 10 % higher: each is named.
        let kinds: Vec<&str> = opus["token_kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"output") && kinds.contains(&"input") && kinds.contains(&"cache_read"),
            "{kinds:?}"
        );
        let gpt = &mismatches[1];
        assert_eq!(gpt["date"], GPT_DAY);
        assert_eq!(gpt["provider"], "openai");
        // Named by its canonical catalog id (the bill said `gpt-4o-2024-08-06`).
        assert_eq!(gpt["model"], "gpt-4o");
        assert_eq!(gpt["token_kinds"], serde_json::json!(["output"]), "{gpt}");
        let percent = dec(&gpt["percent"]);
        assert!(percent > Decimal::ONE && percent < Decimal::TEN, "{gpt}");
        // The rest of those days still matches: only the overbilled model is flagged.
        let opus_day = days_of(&check, "anthropic")
            .into_iter()
            .find(|d| d["date"] == OPUS_DAY)
            .unwrap();
        let flagged_models: Vec<&Value> = opus_day["models"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["price_mismatch"] == true)
            .collect();
        assert_eq!(flagged_models.len(), 1, "{opus_day}");
        let output = flagged_models[0]["token_kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["token_kind"] == "output")
            .unwrap();
        assert_eq!(dec(&output["percent"]), Decimal::TEN);
        assert_eq!(output["differs"], true);

        // CSV: one row per day, provider, model and kind.
        let app = app_with_collector(&t.store, collector(&t.store, &fake));
        let csv = get(
            &app,
            &format!("/costs/bill-check?start={OPUS_DAY}&end={OPUS_DAY}&format=csv"),
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.text
                .starts_with("date,provider,model,token_kind,billed_usd"),
            "{}",
            csv.text
        );
        assert!(csv
            .text
            .contains(&format!("{OPUS_DAY},anthropic,claude-opus-4-6,output,")));

        // Bad parameters are 400s that name the field.
        for (query, field) in [
            ("start=yesterday", "start"),
            ("start=2026-11-10&end=2026-11-01", "end"),
            ("start=2024-01-01&end=2026-11-01", "end"),
            ("colour=red", "colour"),
        ] {
            let reply = get(&app, &format!("/costs/bill-check?{query}")).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!(reply.body["error"]["details"][0]["field"], field, "{query}");
        }
    }
}

#[tokio::test]
async fn collecting_again_replaces_the_bill_and_never_doubles_it() {
    let fake = overcharged_fake(FakeConfig::default()).await;
    for t in both_stores().await {
        let collector = collector(&t.store, &fake);
        let now = fake.state.config().now;
        let run = |request| {
            let collector = collector.clone();
            async move { collector.collect_once(request, now).await.unwrap() }
        };
        assert!(run(CollectRequest::scheduled(Trigger::Cli))
            .await
            .succeeded());
        let range = format!("start={FIRST_BILLED}&end={LAST_BILLED}");
        let before = bill_check(&t.store, &fake, &range).await;
        let lines = |first, end| {
            let store = t.store.clone();
            async move { store.stored_bill(day(first), day(end)).await.unwrap() }
        };
        let stored_before = lines(FIRST_BILLED, "2026-11-20").await;
        assert!(
            stored_before.lines.len() > 1_000,
            "{}",
            stored_before.lines.len()
        );

        // The normal run again (the trailing 48 hours), and an explicit window over
        // everything: each day's bill is pulled again and replaces the stored one.
        let pages = fake.state.cost_pages_served(FakeProvider::Anthropic);
        assert!(run(CollectRequest::scheduled(Trigger::Cli))
            .await
            .succeeded());
        assert!(fake.state.cost_pages_served(FakeProvider::Anthropic) > pages);
        let start = floor_hour(now - chrono::Duration::days(29));
        let manual =
            CollectRequest::from_fields(None, Some(&start.to_rfc3339()), None, Trigger::Api, now)
                .unwrap();
        assert!(run(manual).await.succeeded());
        assert_eq!(
            bill_check(&t.store, &fake, &range).await,
            before,
            "{}: re-collection changed the bill check",
            t.backend
        );
        assert_eq!(
            lines(FIRST_BILLED, "2026-11-20").await,
            stored_before,
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_fault_mid_pull_leaves_nothing_half_stored() {
    // Three days a page: a week's bill takes several pages.
    let config = FakeConfig {
        max_buckets_per_page: 3,
        ..FakeConfig::default()
    };
    let fake = overcharged_fake(config).await;
    for t in both_stores().await {
        fake.state.clear_faults();
        let collector = collector(&t.store, &fake);
        let now = fake.state.config().now;
        // Chunk 1 bills 2026-10-22..10-27 (6 days: 2 pages); chunk 2's first page is
        // served, its second fails until the retries run out.
        for _ in 0..3 {
            fake.state
                .push_cost_fault(FakeProvider::Anthropic, Fault::Delay(Duration::ZERO));
        }
        for _ in 0..4 {
            fake.state
                .push_cost_fault(FakeProvider::Anthropic, Fault::ServerError(500));
        }
        let served = fake.state.cost_pages_served(FakeProvider::Anthropic);
        let first = collector
            .collect_once(CollectRequest::scheduled(Trigger::Cli), now)
            .await
            .unwrap();
        let anthropic = &first.providers[0];
        assert_eq!(anthropic.outcome, Outcome::Failed, "{first:?}");
        assert_eq!(anthropic.chunks, 1, "{}", t.backend);
        let error = anthropic.error.as_deref().unwrap();
        assert!(
            error.contains("GET /v1/organizations/cost_report"),
            "{error}"
        );
        assert!(error.contains("HTTP 500"), "{error}");
        assert!(
            !error.contains(&fake.state.config().anthropic_key),
            "{error}"
        );
        assert_eq!(
            fake.state.cost_pages_served(FakeProvider::Anthropic),
            served + 3
        );
        // The watermark stays at the end of the committed chunk.
        let run_start = floor_hour(now - chrono::Duration::days(30));
        let chunk_end = run_start + chrono::Duration::days(7);
        assert_eq!(anthropic.watermark, Some(chunk_end));
        assert_eq!(first.providers[1].outcome, Outcome::Succeeded);
        // Only chunk 1's days are billed; chunk 2's usage is not stored either.
        let stored = t
            .store
            .stored_bill(day(FIRST_BILLED), day(LAST_BILLED))
            .await
            .unwrap();
        let anthropic_days: Vec<NaiveDate> = stored
            .days
            .iter()
            .filter(|(p, _)| p == "anthropic")
            .map(|(_, d)| *d)
            .collect();
        assert_eq!(anthropic_days.first(), Some(&day(FIRST_BILLED)));
        assert_eq!(
            anthropic_days.last(),
            Some(&day("2026-10-27")),
            "{}",
            t.backend
        );
        assert!(stored
            .lines
            .iter()
            .filter(|l| l.provider == "anthropic")
            .all(|l| l.day <= day("2026-10-27")));
        let after_chunk = t
            .store
            .rollup_totals(
                chunk_end,
                chunk_end + chrono::Duration::days(7),
                &shared::store::Filters {
                    provider: Some("anthropic".into()),
                    ..Default::default()
                },
                shared::store::Grouping::Total,
            )
            .await
            .unwrap();
        assert!(
            after_chunk.iter().all(|(_, totals)| totals.records == 0),
            "{}: {after_chunk:?}",
            t.backend
        );

        // A 429 with retry-after, then a 500, are retried; the next run completes it all.
        fake.state.push_cost_fault(
            FakeProvider::Anthropic,
            Fault::RateLimited {
                retry_after_secs: Some(1),
            },
        );
        fake.state
            .push_cost_fault(FakeProvider::Anthropic, Fault::ServerError(503));
        let second = collector
            .collect_once(CollectRequest::scheduled(Trigger::Cli), now)
            .await
            .unwrap();
        assert!(second.succeeded(), "{}: {second:?}", t.backend);
        let check = bill_check(
            &t.store,
            &fake,
            &format!("start={FIRST_BILLED}&end={LAST_BILLED}"),
        )
        .await;
        let flagged: Vec<&str> = check["flagged_days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert_eq!(flagged, [OPUS_DAY, GPT_DAY], "{}", t.backend);
        for d in days_of(&check, "anthropic") {
            assert_eq!(d["bill_pulled"], true, "{d}");
        }
    }
}
