//! Collection against the fake Anthropic and OpenAI admin APIs, on both
//! backends: totals equal a hand computation of the fake's data, re-runs and
//! overlapping windows change nothing, a run cut off midway loses nothing and the
//! next run completes it, and every fault of provider-apis.md §5 is handled.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::StatusCode;
use integration_tests::fake_costs::{anthropic_cost, expected, openai_cost, openai_rates};
use integration_tests::fake_providers::{FakeConfig, FakeProvider, FakeProviders, Fault};
use integration_tests::{app_with_collector, both_stores, get, ledger, post, TestStore};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::collect::{
    collector_event, floor_hour, CollectRequest, CollectSettings, Collector, Outcome,
    ProviderAccess, Trigger,
};
use shared::config::Secret;
use shared::domain::money::Pico;
use shared::outbound::RetryPolicy;
use shared::store::{Dimension, DynStore, Filters, Grouping};

/// Fast retries so fault tests take milliseconds, a 1 s request timeout.
fn test_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        retry_after_cap: Duration::from_secs(2),
        request_timeout: Duration::from_millis(1_000),
    }
}

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
        retry: test_policy(),
    }
}

fn collector(store: &DynStore, fake: &FakeProviders) -> Collector {
    Collector::new(ledger(store), settings(fake))
}

fn now(fake: &FakeProviders) -> DateTime<Utc> {
    fake.state.config().now
}

/// The 30-day range a first scheduled run covers, in whole hours.
fn backfill_range(fake: &FakeProviders) -> (DateTime<Utc>, DateTime<Utc>) {
    let now = now(fake);
    (
        floor_hour(now - chrono::Duration::days(30)),
        floor_hour(now),
    )
}

/// Stored cost per group over `[start, end)`, exact.
async fn stored(
    store: &DynStore,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    by: Dimension,
) -> BTreeMap<String, Decimal> {
    store
        .rollup_totals(start, end, &Filters::default(), Grouping::By(by))
        .await
        .unwrap()
        .into_iter()
        .map(|(key, totals)| (key.value.unwrap_or_default(), totals.cost.usd()))
        .collect()
}

async fn assert_matches_fake(t: &TestStore, fake: &FakeProviders) {
    let (start, end) = backfill_range(fake);
    let want = expected(fake, &t.store, start, end);
    assert!(want.records > 10_000, "the fake holds a month of data");
    // Exact, to the picodollar, per model and per project.
    assert_eq!(
        stored(&t.store, start, end, Dimension::Model).await,
        want.by_model,
        "{}: cost per model",
        t.backend
    );
    assert_eq!(
        stored(&t.store, start, end, Dimension::Project).await,
        want.by_project,
        "{}: cost per project",
        t.backend
    );
    // Rollups agree with the raw records.
    let raw = t.store.raw_totals(start, end).await.unwrap();
    assert_eq!(
        raw.cost,
        Pico::from_usd(want.total).unwrap(),
        "{}",
        t.backend
    );
    assert_eq!(
        raw.records as usize, want.records,
        "{}: one record per bucket-group",
        t.backend
    );
}

#[tokio::test]
async fn a_30_day_backfill_stores_exactly_the_fakes_costs() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    for t in both_stores().await {
        let collector = collector(&t.store, &fake);
        let report = collector
            .collect_once(CollectRequest::scheduled(Trigger::Cli), now(&fake))
            .await
            .unwrap();
        assert!(report.succeeded(), "{}: {report:?}", t.backend);
        let (start, end) = backfill_range(&fake);
        for provider in &report.providers {
            assert_eq!(provider.outcome, Outcome::Succeeded);
            assert_eq!(provider.range_start, Some(start));
            // 30 days = 4 chunks of 7 days and one of 2 days.
            assert_eq!(provider.chunks, 5, "{}", t.backend);
            assert_eq!(
                provider.buckets,
                30 * 24,
                "{}: every hour, empty ones too",
                t.backend
            );
            assert!(
                provider.pages >= 30,
                "pages of at most 24 buckets: {}",
                provider.pages
            );
            assert_eq!(provider.created, provider.records);
            assert_eq!(provider.watermark, Some(end));
        }
        assert_matches_fake(&t, &fake).await;

        // The API reports the same figures, and the status shows the runs.
        let app = app_with_collector(&t.store, collector.clone());
        // The API range covers whole UTC days around the collected hours.
        let range = format!(
            "start={}&end={}",
            start.format("%Y-%m-%d"),
            end.format("%Y-%m-%d")
        );
        let by_model = get(&app, &format!("/costs/by-model?{range}")).await;
        assert_eq!(by_model.status, StatusCode::OK, "{}", by_model.text);
        let want = expected(&fake, &t.store, start, end);
        let opus = by_model.body["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["key"] == "claude-opus-4-6")
            .expect("opus 4.6 in the breakdown");
        assert_eq!(
            integration_tests::dec(&opus["cost_usd"]),
            shared::domain::money::round_usd(want.by_model["claude-opus-4-6"]),
            "{}",
            t.backend
        );
        let status = get(&app, "/admin/status").await.body;
        for provider in ["anthropic", "openai"] {
            let p = &status["providers"][provider];
            assert_eq!(p["configured"], true);
            assert_eq!(p["last_run"]["status"], "succeeded", "{status}");
            assert_eq!(p["last_run"]["trigger"], "cli");
            assert_eq!(p["last_run"]["chunks"], 5);
            assert!(p["last_run"]["duration_ms"].is_i64());
            assert_eq!(p["last_error"], Value::Null);
            assert_eq!(p["watermark"], json!(end));
        }
    }
}

#[tokio::test]
async fn running_twice_and_over_overlapping_windows_changes_nothing() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    for t in both_stores().await {
        let collector = collector(&t.store, &fake);
        let run = |request: CollectRequest| {
            let collector = collector.clone();
            let at = now(&fake);
            async move { collector.collect_once(request, at).await.unwrap() }
        };
        assert!(run(CollectRequest::scheduled(Trigger::Cli))
            .await
            .succeeded());
        let (start, end) = backfill_range(&fake);
        let before_model = stored(&t.store, start, end, Dimension::Model).await;
        let before_raw = t.store.raw_totals(start, end).await.unwrap();

        // Again: the watermark run re-reads the trailing 48 hours.
        let again = run(CollectRequest::scheduled(Trigger::Cli)).await;
        for provider in &again.providers {
            assert_eq!(
                provider.range_start,
                Some(end - chrono::Duration::hours(48))
            );
            assert_eq!(
                (provider.created, provider.updated),
                (0, 0),
                "{}",
                t.backend
            );
            assert!(provider.unchanged > 0);
        }
        // An explicit window overlapping two chunk boundaries, with odd edges.
        let manual = CollectRequest::from_fields(
            None,
            Some(&(start + chrono::Duration::hours(150)).to_rfc3339()),
            Some(
                &(start + chrono::Duration::hours(400) + chrono::Duration::minutes(17))
                    .to_rfc3339(),
            ),
            Trigger::Api,
            now(&fake),
        )
        .unwrap();
        let overlap = run(manual).await;
        assert!(overlap.succeeded());
        for provider in &overlap.providers {
            assert_eq!(
                (provider.created, provider.updated),
                (0, 0),
                "{}",
                t.backend
            );
            assert_eq!(
                provider.watermark,
                Some(end),
                "a manual range leaves the watermark"
            );
        }
        assert_eq!(
            stored(&t.store, start, end, Dimension::Model).await,
            before_model
        );
        assert_eq!(t.store.raw_totals(start, end).await.unwrap(), before_raw);
        assert_matches_fake(&t, &fake).await;
    }
}

#[tokio::test]
async fn a_run_cut_off_midway_loses_nothing_and_the_next_run_completes_it() {
    for t in both_stores().await {
        let fake = FakeProviders::start(FakeConfig::default()).await;
        let collector = collector(&t.store, &fake);
        // Chunk 1 takes 7 pages of 24 buckets; fail during chunk 3.
        fake.state
            .fail_after_pages(FakeProvider::Anthropic, 16, 500);
        let first = collector
            .collect_once(CollectRequest::scheduled(Trigger::Cli), now(&fake))
            .await
            .unwrap();
        let anthropic = &first.providers[0];
        assert_eq!(anthropic.outcome, Outcome::Failed, "{first:?}");
        assert!(anthropic.retryable);
        assert_eq!(
            anthropic.chunks, 2,
            "two chunks committed before the failure"
        );
        let error = anthropic.error.as_deref().unwrap();
        assert!(
            error.contains("GET /v1/organizations/usage_report/messages"),
            "{error}"
        );
        assert!(error.contains("HTTP 500"), "{error}");
        // The other provider is not stopped by the failing one.
        assert_eq!(first.providers[1].outcome, Outcome::Succeeded);

        let (start, end) = backfill_range(&fake);
        let committed_until = start + chrono::Duration::days(14);
        assert_eq!(anthropic.watermark, Some(committed_until));
        // What was committed is exactly the fake's data for those two chunks.
        let committed = t
            .store
            .rollup_totals(
                start,
                committed_until,
                &Filters {
                    provider: Some("anthropic".into()),
                    ..Filters::default()
                },
                Grouping::Total,
            )
            .await
            .unwrap();
        let want: Decimal = fake
            .state
            .anthropic_rows(start, committed_until)
            .iter()
            .map(anthropic_cost)
            .sum();
        assert_eq!(
            committed[0].1.cost,
            Pico::from_usd(want).unwrap(),
            "{}",
            t.backend
        );

        let status = get(
            &app_with_collector(&t.store, collector.clone()),
            "/admin/status",
        )
        .await
        .body;
        assert_eq!(
            status["providers"]["anthropic"]["last_run"]["status"],
            "failed"
        );
        assert!(status["providers"]["anthropic"]["last_error"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"));

        // The provider recovers; the next run resumes from the watermark minus the lookback.
        fake.state.clear_faults();
        let second = collector
            .collect_once(CollectRequest::scheduled(Trigger::Cli), now(&fake))
            .await
            .unwrap();
        assert!(second.succeeded(), "{second:?}");
        assert_eq!(
            second.providers[0].range_start,
            Some(committed_until - chrono::Duration::hours(48))
        );
        assert_eq!(second.providers[0].watermark, Some(end));
        assert_matches_fake(&t, &fake).await;
    }
}

#[tokio::test]
async fn faults_are_retried_or_reported_as_the_provider_docs_require() {
    let t = integration_tests::sqlite_store().await;
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let collector = collector(&t.store, &fake);
    let day = |provider: &str| {
        CollectRequest::from_fields(
            Some(provider),
            Some("2026-11-18T00:00:00Z"),
            Some("2026-11-19T00:00:00Z"),
            Trigger::Api,
            now(&fake),
        )
        .unwrap()
    };
    let run = |provider: &'static str| {
        let collector = collector.clone();
        let request = day(provider);
        let at = now(&fake);
        async move { collector.collect_once(request, at).await.unwrap() }
    };

    // 429 with retry-after: waited (about a second), then the same page succeeds.
    fake.state.push_fault(
        FakeProvider::Anthropic,
        Fault::RateLimited {
            retry_after_secs: Some(1),
        },
    );
    let clock = std::time::Instant::now();
    let report = run("anthropic").await;
    assert!(report.succeeded(), "{report:?}");
    assert!(
        clock.elapsed() >= Duration::from_millis(900),
        "retry-after was honoured"
    );
    // A retry-after longer than the cap (2 s in these tests) waits only the cap.
    fake.state.push_fault(
        FakeProvider::Anthropic,
        Fault::RateLimited {
            retry_after_secs: Some(3_600),
        },
    );
    let clock = std::time::Instant::now();
    assert!(run("anthropic").await.succeeded());
    let waited = clock.elapsed();
    assert!(
        waited >= Duration::from_millis(1_900) && waited < Duration::from_secs(10),
        "capped wait: {waited:?}"
    );

    // 500, 529 and a timeout are retried with backoff.
    for fault in [
        Fault::ServerError(500),
        Fault::ServerError(529),
        Fault::Delay(Duration::from_millis(1_500)),
    ] {
        fake.state.push_fault(FakeProvider::Openai, fault.clone());
        let report = run("openai").await;
        assert!(report.succeeded(), "{fault:?}: {report:?}");
    }
    // A 429 on every attempt gives up after the bounded attempts, retryable.
    for _ in 0..4 {
        fake.state.push_fault(
            FakeProvider::Openai,
            Fault::RateLimited {
                retry_after_secs: None,
            },
        );
    }
    let report = run("openai").await;
    let failure = &report.providers[0];
    assert_eq!(failure.outcome, Outcome::Failed);
    assert!(failure.retryable);
    assert!(
        failure
            .error
            .as_deref()
            .unwrap()
            .contains("after 4 attempt(s): HTTP 429"),
        "{failure:?}"
    );

    // Malformed JSON names the endpoint.
    fake.state
        .push_fault(FakeProvider::Openai, Fault::Malformed);
    let report = run("openai").await;
    let error = report.providers[0].error.clone().unwrap();
    assert!(
        error.contains("GET /v1/organization/usage/completions sent a malformed response"),
        "{error}"
    );

    // 401 and 403 stop at once and say the admin key was rejected, never showing it.
    for fault in [Fault::Unauthorized, Fault::Forbidden] {
        let before = fake.state.usage_requests(FakeProvider::Anthropic);
        fake.state
            .push_fault(FakeProvider::Anthropic, fault.clone());
        let report = run("anthropic").await;
        let failure = &report.providers[0];
        assert!(!failure.retryable);
        let error = failure.error.clone().unwrap();
        assert!(
            error.contains("anthropic admin key was rejected"),
            "{error}"
        );
        assert!(error.contains("ANTHROPIC_ADMIN_KEY"), "{error}");
        assert!(
            !error.contains(&fake.state.config().anthropic_key),
            "{error}"
        );
        assert_eq!(
            fake.state.usage_requests(FakeProvider::Anthropic),
            before + 1,
            "no retry"
        );
    }

    // A wrong key: the whole run fails for that provider only; the other still collects.
    let mut wrong = settings(&fake);
    wrong.openai.as_mut().unwrap().key = Secret::new("sk-admin-wrong-key-123");
    let report = Collector::new(ledger(&t.store), wrong)
        .collect_once(day_request_all(&fake), now(&fake))
        .await
        .unwrap();
    assert_eq!(report.providers[0].outcome, Outcome::Succeeded);
    assert_eq!(report.providers[1].outcome, Outcome::Failed);
    let error = report.providers[1].error.clone().unwrap();
    assert!(
        error.contains("openai admin key was rejected") && error.contains("HTTP 401"),
        "{error}"
    );
    assert!(!error.contains("wrong-key"), "{error}");
}

fn day_request_all(fake: &FakeProviders) -> CollectRequest {
    CollectRequest::from_fields(
        None,
        Some("2026-11-18"),
        Some("2026-11-19"),
        Trigger::Api,
        fake.state.config().now,
    )
    .unwrap()
}

#[tokio::test]
async fn openai_cached_tokens_are_split_and_batch_is_half_price() {
    let t = integration_tests::sqlite_store().await;
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let report = collector(&t.store, &fake)
        .collect_once(day_request_all(&fake), now(&fake))
        .await
        .unwrap();
    assert!(report.succeeded());
    let query = fake.state.last_usage_query(FakeProvider::Openai).unwrap();
    let groups: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "group_by")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        groups,
        ["model", "project_id", "api_key_id", "batch", "service_tier"]
    );

    let rows = fake.state.openai_rows(
        "2026-11-18T00:00:00Z".parse().unwrap(),
        "2026-11-19T00:00:00Z".parse().unwrap(),
    );
    let batch = rows
        .iter()
        .find(|r| r.batch && r.input_cached_tokens > 0)
        .expect("a batch row with cached tokens");
    let plain = rows
        .iter()
        .find(|r| !r.batch && r.service_tier == "default" && r.input_cached_tokens > 0)
        .expect("a standard row");
    let (page, _) = t
        .store
        .list_usage(&shared::store::UsageQuery {
            filters: Filters {
                provider: Some("openai".into()),
                ..Filters::default()
            },
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    for row in [batch, plain] {
        let record = page
            .iter()
            .find(|r| {
                r.facts.recorded_at == row.hour
                    && r.facts.model == row.model
                    && r.facts.workspace_id == row.project_id
                    && r.facts.api_key_id == row.api_key_id
                    && (r.facts.service_tier.as_deref() == Some("batch")) == row.batch
            })
            .expect("the row was stored");
        assert_eq!(
            record.facts.tokens.input,
            row.input_tokens - row.input_cached_tokens
        );
        assert_eq!(record.facts.tokens.cache_read, row.input_cached_tokens);
        assert_eq!(record.facts.tokens.requests, row.num_model_requests);
        assert_eq!(record.cost.usd(), openai_cost(row));
        let ([input, cached, output], _) = openai_rates(&row.model);
        let full = (Decimal::from(row.input_tokens - row.input_cached_tokens) * input
            + Decimal::from(row.input_cached_tokens) * cached
            + Decimal::from(row.output_tokens) * output)
            / Decimal::from(1_000_000);
        let want = if row.batch { full / Decimal::TWO } else { full };
        assert_eq!(record.cost.usd(), want, "{}", row.model);
    }
}

#[tokio::test]
async fn the_collector_lambda_handles_scheduled_manual_and_bad_events() {
    let t = integration_tests::postgres_store().await;
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let collector = collector(&t.store, &fake);
    let fixture = |name: &str| -> Value {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };

    let scheduled = collector_event(
        &collector,
        &fixture("eventbridge-scheduled.json"),
        now(&fake),
    )
    .await
    .expect("a scheduled event runs the normal collection");
    assert_eq!(scheduled.trigger, Trigger::Schedule);
    assert_eq!(scheduled.providers.len(), 2);
    assert!(scheduled.providers.iter().all(|p| p.created > 0));

    let manual = collector_event(&collector, &fixture("collector-manual.json"), now(&fake))
        .await
        .expect("a manual payload runs its range");
    assert_eq!(manual.trigger, Trigger::Manual);
    assert_eq!(manual.providers.len(), 1, "only the named provider");
    assert_eq!(
        manual.providers[0].range_start,
        Some("2026-11-10T00:00:00Z".parse().unwrap())
    );
    assert_eq!(manual.providers[0].created, 0, "already collected");

    for bad in [
        json!({"action": "collect", "provider": "gemini"}),
        json!({"detail-type": "Object Created", "source": "aws.s3"}),
        json!("collect"),
    ] {
        let failure = collector_event(&collector, &bad, now(&fake))
            .await
            .unwrap_err();
        assert_eq!(failure.error_type, "InvalidEvent", "{bad}");
    }
    // A persistent 5xx is worth a retry; a rejected key is not.
    fake.state.fail_after_pages(FakeProvider::Openai, 0, 503);
    let failure = collector_event(
        &collector,
        &fixture("collector-manual-openai.json"),
        now(&fake),
    )
    .await
    .unwrap_err();
    assert_eq!(
        failure.error_type, "RetryableCollectionError",
        "{}",
        failure.message
    );
    fake.state.clear_faults();
    fake.state
        .push_fault(FakeProvider::Openai, Fault::Unauthorized);
    let failure = collector_event(
        &collector,
        &fixture("collector-manual-openai.json"),
        now(&fake),
    )
    .await
    .unwrap_err();
    assert_eq!(
        failure.error_type, "CollectionFailed",
        "{}",
        failure.message
    );
    assert!(failure.message.contains("OPENAI_ADMIN_KEY"));
}

#[tokio::test]
async fn post_admin_collect_runs_a_collection_and_validates_its_body() {
    let t = integration_tests::postgres_store().await;
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let app = app_with_collector(&t.store, collector(&t.store, &fake));
    let ok = post(
        &app,
        "/admin/collect",
        json!({"provider": "anthropic", "start": "2026-11-19", "end": "2026-11-20"}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let report = &ok.body["report"]["providers"][0];
    assert_eq!(report["provider"], "anthropic");
    assert_eq!(report["outcome"], "succeeded");
    assert_eq!(report["buckets"], 24);
    assert!(report["records"].as_i64().unwrap() > 0);

    for (body, field) in [
        (json!({"provider": "gemini"}), "provider"),
        (json!({"start": "last week"}), "start"),
        (json!({"end": "2026-11-20"}), "start"),
        (json!({"start": "2026-11-20", "end": "2026-11-19"}), "end"),
    ] {
        let reply = post(&app, "/admin/collect", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            reply.body["error"]["details"][0]["field"], field,
            "{}",
            reply.text
        );
    }
    let unknown = post(&app, "/admin/collect", json!({"providr": "openai"})).await;
    assert!(unknown.status.is_client_error());
    assert!(unknown.text.contains("providr"), "{}", unknown.text);

    fake.state
        .push_fault(FakeProvider::Openai, Fault::Unauthorized);
    let failed = post(
        &app,
        "/admin/collect",
        json!({"provider": "openai", "start": "2026-11-19"}),
    )
    .await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{}", failed.text);
    assert_eq!(failed.body["error"]["code"], "upstream_failed");
    assert!(failed.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("openai admin key was rejected"));
    assert_eq!(failed.body["error"]["details"][0]["outcome"], "failed");
}
