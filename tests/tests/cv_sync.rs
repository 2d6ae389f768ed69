//! Context Vault sync against a fake vault, on both backends: the exact memory
//! and header, one push per day across runs, catch-up of missed days in order, a re-push
//! with a higher revision after late data, retries on 5xx/429/timeouts, a 4xx recorded
//! as failed without a retry loop, an unreachable vault leaving days pending, days cut in
//! a non-UTC zone, the API, the Lambda events, and a key that never shows.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use http::StatusCode;
use integration_tests::fake_vault::{unreachable_url, FakeVault, Fault, Received, VAULT_KEY};
use integration_tests::{
    app_with_syncer, both_stores, dec, get, ledger, post, reported_usage, TestStore,
};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use shared::collect::Trigger;
use shared::cv::{
    sync_event, DayOutcome, SyncOutcome, SyncReport, SyncRequest, SyncSettings, Syncer, VaultAccess,
};
use shared::domain::pricing::PriceCatalog;
use shared::domain::usage::{NewUsage, SessionType, TokenCounts, UsageFacts, UsageRecord};
use shared::outbound::RetryPolicy;
use shared::store::{CvPush, CvPushQuery, CvPushStatus, DynStore, WriteMode};

/// Three attempts, fast backoff, a 500 ms timeout.
fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        retry_after_cap: Duration::from_secs(3),
        request_timeout: Duration::from_millis(500),
    }
}

fn syncer_to(store: &DynStore, vault: Option<VaultAccess>, tz: &str) -> Syncer {
    let settings = SyncSettings {
        vault,
        timezone: tz.parse().unwrap(),
        retry: policy(),
    };
    Syncer::new(ledger(store), settings)
}

fn syncer(store: &DynStore, vault: &FakeVault, tz: &str) -> Syncer {
    syncer_to(store, Some(vault.access()), tz)
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A pushed event with a reported cost, so the exact figure is known.
fn spend(id: &str, when: &str, model: &str, project: &str, session: &str, usd: &str) -> NewUsage {
    NewUsage {
        project: Some(project.into()),
        session_type: SessionType::parse(session),
        ..reported_usage(id, at(when), model, usd.parse().unwrap())
    }
}

/// A pushed event priced from the catalog.
fn priced(id: &str, when: &str, model: &str, project: &str, input: i64, output: i64) -> NewUsage {
    let base = spend(id, when, model, project, "main", "0");
    NewUsage {
        facts: UsageFacts {
            tokens: TokenCounts {
                input,
                output,
                cache_read: input / 2,
                requests: 1,
                ..Default::default()
            },
            raw: json!({"event_id": id, "input": input, "output": output}),
            ..base.facts
        },
        provider: Some(
            if model.starts_with("claude") {
                "anthropic"
            } else {
                "openai"
            }
            .into(),
        ),
        reported_cost: None,
        estimated_cost: None,
        ..base
    }
}

/// Stores events through the ledger; the records as stored (with their costs).
async fn insert(store: &DynStore, events: Vec<NewUsage>) -> Vec<UsageRecord> {
    ledger(store)
        .ingest(events, WriteMode::InsertOnly)
        .await
        .unwrap()
        .into_iter()
        .map(|outcome| outcome.record)
        .collect()
}

async fn run(syncer: &Syncer, now: &str) -> SyncReport {
    syncer
        .sync_once(SyncRequest::scheduled(Trigger::Cli), at(now))
        .await
        .unwrap()
}

/// Every push logged in the store, newest first.
async fn logged(store: &DynStore) -> Vec<CvPush> {
    store
        .cv_pushes(&CvPushQuery::default(), 1_000)
        .await
        .unwrap()
}

fn dates(requests: &[Received]) -> Vec<String> {
    requests.iter().map(Received::date).collect()
}

fn date_range(first: &str, last: &str) -> Vec<String> {
    day(first)
        .iter_days()
        .take_while(|d| *d <= day(last))
        .map(|d| d.to_string())
        .collect()
}

fn cents(usd: Decimal) -> Decimal {
    usd.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The exact cost of each local day of `records` in `tz`: the truth summaries round.
fn day_totals(records: &[UsageRecord], tz: &str) -> BTreeMap<NaiveDate, Decimal> {
    let tz: Tz = tz.parse().unwrap();
    let mut totals = BTreeMap::new();
    for record in records {
        let local = record.facts.recorded_at.with_timezone(&tz).date_naive();
        *totals.entry(local).or_insert(Decimal::ZERO) += record.cost.usd();
    }
    totals
}

/// Exact cost per key of one local day: by model family, project or session type.
fn day_breakdown(
    records: &[UsageRecord],
    date: NaiveDate,
    key: impl Fn(&UsageRecord) -> String,
) -> BTreeMap<String, Decimal> {
    let mut sums = BTreeMap::new();
    for record in records
        .iter()
        .filter(|r| r.facts.recorded_at.date_naive() == date)
    {
        *sums.entry(key(record)).or_insert(Decimal::ZERO) += record.cost.usd();
    }
    sums
}

/// The family a summary lists a record under (its model when the catalog does not know it).
fn family(record: &UsageRecord) -> String {
    PriceCatalog::embedded()
        .resolve(&record.facts.model)
        .map_or_else(|| record.facts.model.clone(), |m| m.family.clone())
}

/// A summary object of a pushed memory as `key → exact decimal`.
fn amounts(object: &Value) -> BTreeMap<String, Decimal> {
    object
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), dec(v)))
        .collect()
}

fn keys(object: &Value) -> BTreeSet<String> {
    object.as_object().unwrap().keys().cloned().collect()
}

/// 2026-11-19 (UTC): opus $48.50 over two models, sonnet $3.00, haiku $0.80.
fn example_day() -> Vec<NewUsage> {
    vec![
        spend(
            "e1",
            "2026-11-19T09:15:00Z",
            "claude-opus-4-6",
            "PeakPaws",
            "main",
            "30.25",
        ),
        spend(
            "e2",
            "2026-11-19T14:00:00Z",
            "claude-opus-4-5-20251101",
            "Kanban Board",
            "subagent",
            "18.25",
        ),
        spend(
            "e3",
            "2026-11-19T15:30:00Z",
            "claude-sonnet-4-5-20250929",
            "Kanban Board",
            "subagent",
            "3.00",
        ),
        spend(
            "e4",
            "2026-11-19T23:59:00Z",
            "claude-haiku-4-5-20251001",
            "PeakPaws",
            "heartbeat",
            "0.80",
        ),
        // The day before, one priced from tokens; today, not complete, never pushed.
        priced(
            "e5",
            "2026-11-18T08:00:00Z",
            "gpt-4o-mini",
            "General",
            400_000,
            90_000,
        ),
        spend(
            "e6",
            "2026-11-20T01:00:00Z",
            "claude-opus-4-6",
            "PeakPaws",
            "main",
            "5",
        ),
    ]
}

const NOW: &str = "2026-11-20T10:00:00Z";

/// A fresh fake vault, the example day stored, and a UTC syncer pushing to the vault.
async fn example(t: &TestStore) -> (FakeVault, Vec<UsageRecord>, Syncer) {
    let vault = FakeVault::start().await;
    let records = insert(&t.store, example_day()).await;
    let syncer = syncer(&t.store, &vault, "UTC");
    (vault, records, syncer)
}

#[tokio::test]
async fn the_memory_has_the_exact_body_header_and_content() {
    for t in both_stores().await {
        let (vault, records, syncer) = example(&t).await;
        let report = run(&syncer, NOW).await;
        assert_eq!(
            report.outcome,
            SyncOutcome::Pushed,
            "{}: {report:?}",
            t.backend
        );
        assert_eq!(report.pushed, 7);

        let requests = vault.requests();
        assert_eq!(
            dates(&requests),
            date_range("2026-11-13", "2026-11-19"),
            "{}",
            t.backend
        );
        for request in &requests {
            assert_eq!(request.path, "/memories");
            assert_eq!(request.headers["x-api-key"], VAULT_KEY);
            assert_eq!(request.headers["content-type"], "application/json");
            assert!(request.stored);
        }
        let pushed = requests.last().unwrap();
        let body = pushed.json();
        let expect_keys = [
            "content",
            "importance",
            "memory_type",
            "meta_data",
            "source_tool",
            "summary",
            "tags",
            "workspace",
        ];
        assert_eq!(keys(&body), expect_keys.map(String::from).into());
        assert_eq!(body["workspace"], "openclaw_default");
        assert_eq!(body["memory_type"], "ai_cost_daily");
        assert_eq!(body["importance"], 5);
        assert_eq!(body["source_tool"], "ai-cost-tracker");
        assert_eq!(body["tags"], json!(["ai-cost", "daily", "2026-11-19"]));
        assert_eq!(
            body["summary"],
            "AI spend 2026-11-19: $52.30 (opus $48.50, sonnet $3.00, haiku $0.80)"
        );

        // meta_data is the summary object plus the revision; content is the same object as a string.
        let meta = &body["meta_data"];
        let summary_keys = [
            "by_model",
            "by_project",
            "by_session_type",
            "currency",
            "date",
            "requests",
            "timezone",
            "total_cost",
        ];
        let mut with_revision: BTreeSet<String> = summary_keys.map(String::from).into();
        with_revision.insert("revision".into());
        assert_eq!(keys(meta), with_revision);
        assert_eq!(meta["revision"], 1);
        let content_text = body["content"].as_str().unwrap();
        let content: Value = serde_json::from_str(content_text).unwrap();
        let mut meta_without_revision = meta.clone();
        meta_without_revision
            .as_object_mut()
            .unwrap()
            .remove("revision");
        assert_eq!(content, meta_without_revision);
        assert!(
            content_text.contains(
                r#""total_cost":52.30,"by_model":{"opus":48.50,"sonnet":3.00,"haiku":0.80}"#
            ),
            "cents with two decimals, largest first: {content_text}"
        );

        // The figures are the stored records' costs, rounded to cents.
        let date = day("2026-11-19");
        let want_total = day_totals(&records, "UTC")[&date];
        assert_eq!(dec(&meta["total_cost"]), cents(want_total));
        for (object, want) in [
            ("by_model", day_breakdown(&records, date, family)),
            (
                "by_project",
                day_breakdown(&records, date, |r| r.project.clone()),
            ),
            (
                "by_session_type",
                day_breakdown(&records, date, |r| r.session_type.to_string()),
            ),
        ] {
            let want: BTreeMap<String, Decimal> =
                want.into_iter().map(|(k, v)| (k, cents(v))).collect();
            assert_eq!(amounts(&meta[object]), want, "{}: {object}", t.backend);
        }
        let requests_that_day: i64 = records
            .iter()
            .filter(|r| r.facts.recorded_at.date_naive() == date)
            .map(|r| r.facts.tokens.requests)
            .sum();
        assert_eq!(meta["requests"], requests_that_day);
        assert_eq!(
            (meta["currency"].as_str(), meta["timezone"].as_str()),
            (Some("USD"), Some("UTC"))
        );

        // The day before was priced from tokens; a day without usage is pushed as $0.00.
        let before = requests[5].json();
        let want = cents(day_totals(&records, "UTC")[&day("2026-11-18")]);
        assert!(want > Decimal::ZERO);
        assert_eq!(dec(&before["meta_data"]["total_cost"]), want);
        assert_eq!(
            before["summary"],
            format!("AI spend 2026-11-18: ${want} (gpt-4o-mini ${want})")
        );
        let empty = requests[0].json();
        assert_eq!(empty["summary"], "AI spend 2026-11-13: $0.00 (no usage)");
        assert_eq!(empty["meta_data"]["by_model"], json!({}));
        assert_eq!(empty["meta_data"]["requests"], 0);

        // GET /costs/daily-summary answers exactly the pushed content.
        let app = app_with_syncer(&t.store, "UTC", syncer.clone());
        let shown = get(&app, "/costs/daily-summary?date=2026-11-19").await;
        assert_eq!(shown.status, StatusCode::OK);
        assert_eq!(shown.text, content_text);
        let payload = pushed.body.len();
        eprintln!(
            "memory for 2026-11-19: {payload} bytes, summary object {} bytes",
            content_text.len()
        );
    }
}

#[tokio::test]
async fn repeated_runs_push_each_day_once() {
    for t in both_stores().await {
        let (vault, _, syncer) = example(&t).await;
        assert_eq!(run(&syncer, NOW).await.pushed, 7);
        for now in [NOW, NOW, "2026-11-20T23:59:00Z"] {
            let again = run(&syncer, now).await;
            assert_eq!(again.outcome, SyncOutcome::AlreadySynced, "{}", t.backend);
            assert_eq!(again.pushed, 0);
            assert!(again
                .days
                .iter()
                .all(|d| d.outcome == DayOutcome::AlreadySynced && d.revision == Some(1)));
        }
        assert_eq!(
            vault.requests().len(),
            7,
            "{}: nothing pushed twice",
            t.backend
        );
        let pushes = logged(&t.store).await;
        assert_eq!(pushes.len(), 7);
        assert!(pushes.iter().all(|p| p.status == CvPushStatus::Pushed
            && p.response_code == Some(201)
            && p.attempts == 1
            && p.trigger == Trigger::Cli));
        // A named day that is synced is not pushed again unless forced.
        let named = SyncRequest::for_day(
            Some("2026-11-19"),
            false,
            Trigger::Api,
            chrono_tz::UTC,
            at(NOW),
        )
        .unwrap();
        let report = syncer.sync_once(named, at(NOW)).await.unwrap();
        assert_eq!(report.outcome, SyncOutcome::AlreadySynced);
        let forced = SyncRequest {
            force: true,
            ..named
        };
        let report = syncer.sync_once(forced, at(NOW)).await.unwrap();
        assert_eq!(report.outcome, SyncOutcome::Pushed);
        let last = vault.requests().pop().unwrap();
        assert_eq!(
            (last.date(), last.revision()),
            ("2026-11-19".to_string(), 2)
        );
        assert_eq!(
            last.json()["content"],
            vault.requests()[6].json()["content"],
            "same numbers"
        );
    }
}

#[tokio::test]
async fn missed_days_are_caught_up_oldest_first_at_most_seven_back() {
    for t in both_stores().await {
        let vault = FakeVault::start().await;
        // One event a day from 2026-11-08 to 2026-11-22, each day a different cost.
        let events: Vec<NewUsage> = day("2026-11-08")
            .iter_days()
            .take(15)
            .enumerate()
            .map(|(i, d)| {
                let when = format!("{d}T12:00:00Z");
                spend(
                    &format!("d{i}"),
                    &when,
                    "claude-sonnet-4-6",
                    "Trading Tools",
                    "cron",
                    &format!("{}.{:02}", i + 1, i * 7),
                )
            })
            .collect();
        let records = insert(&t.store, events).await;
        let totals = day_totals(&records, "UTC");
        let syncer = syncer(&t.store, &vault, "UTC");

        run(&syncer, NOW).await;
        assert_eq!(
            dates(&vault.requests()),
            date_range("2026-11-13", "2026-11-19"),
            "{}",
            t.backend
        );
        // Three days later: the three new days, in order; nothing older than seven days back.
        let report = run(&syncer, "2026-11-23T02:00:00Z").await;
        assert_eq!(report.pushed, 3);
        assert_eq!(
            dates(&vault.requests()[7..]),
            date_range("2026-11-20", "2026-11-22"),
            "{}",
            t.backend
        );
        for request in vault.requests() {
            let date = day(&request.date());
            assert_eq!(
                dec(&request.json()["meta_data"]["total_cost"]),
                cents(totals[&date]),
                "{date}"
            );
            assert_eq!(request.revision(), 1);
        }
    }
}

#[tokio::test]
async fn late_data_is_pushed_again_with_a_higher_revision() {
    for t in both_stores().await {
        let (vault, mut records, syncer) = example(&t).await;
        run(&syncer, NOW).await;

        // Late data for 2026-11-18 arrives after its push.
        records.extend(
            insert(
                &t.store,
                vec![spend(
                    "late",
                    "2026-11-18T22:00:00Z",
                    "claude-opus-4-6",
                    "PeakPaws",
                    "main",
                    "2.25",
                )],
            )
            .await,
        );
        let report = run(&syncer, "2026-11-20T11:00:00Z").await;
        assert_eq!(report.pushed, 1, "{}: {report:?}", t.backend);
        let repush = vault.requests().pop().unwrap();
        assert_eq!(
            (repush.date(), repush.revision()),
            ("2026-11-18".to_string(), 2)
        );
        let total = cents(day_totals(&records, "UTC")[&day("2026-11-18")]);
        let meta = &repush.json()["meta_data"];
        assert_eq!(dec(&meta["total_cost"]), total);
        assert_eq!(dec(&meta["by_model"]["opus"]), Decimal::new(225, 2));
        assert!(repush.json()["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("AI spend 2026-11-18: ${total} (")));

        assert_eq!(
            run(&syncer, "2026-11-20T12:00:00Z").await.pushed,
            0,
            "changed once, pushed once"
        );
        let day_pushes = t
            .store
            .cv_pushes(
                &CvPushQuery {
                    date: Some(day("2026-11-18")),
                    status: None,
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(
            day_pushes.iter().map(|p| p.revision).collect::<Vec<_>>(),
            [2, 1]
        );
        assert_ne!(day_pushes[0].payload_hash, day_pushes[1].payload_hash);
        assert_eq!(vault.requests().len(), 8);
    }
}

/// A bill collected after a day was pushed: the day is pushed again with its reconciled
/// figures (the bill is the total, the agents' records explain it), never the double sum.
#[tokio::test]
async fn a_late_bill_re_pushes_the_day_reconciled() {
    use shared::domain::usage::Source;
    use shared::store::Coverage;
    for t in both_stores().await {
        let b = t.backend;
        let (vault, _, syncer) = example(&t).await;
        run(&syncer, NOW).await;
        let first = vault
            .requests()
            .into_iter()
            .find(|r| r.date() == "2026-11-19")
            .unwrap();
        assert_eq!(
            dec(&first.json()["meta_data"]["total_cost"]),
            Decimal::new(5230, 2)
        );

        // The Anthropic bill of 09:00–10:00: $40 of claude-opus-4-6, of which the
        // agents' e1 explains $30.25.
        let mut bucket = reported_usage(
            "bill-09",
            at("2026-11-19T09:00:00Z"),
            "claude-opus-4-6",
            Decimal::new(40, 0),
        );
        bucket.facts.source = Source::Anthropic;
        bucket.facts.bucket_seconds = 3600;
        bucket.facts.api_key_id = Some("apikey_01".into());
        bucket.session_type = Some(SessionType::Other);
        let hour = at("2026-11-19T09:00:00Z").timestamp();
        ledger(&t.store)
            .ingest_collected(
                vec![bucket],
                &Coverage::of_range("anthropic", hour, hour + 3600),
            )
            .await
            .unwrap();

        let report = run(&syncer, "2026-11-20T11:00:00Z").await;
        assert_eq!(report.pushed, 1, "{b}: {report:?}");
        let repush = vault.requests().pop().unwrap();
        assert_eq!(
            (repush.date(), repush.revision()),
            ("2026-11-19".to_string(), 2),
            "{b}"
        );
        let meta = &repush.json()["meta_data"];
        // 52.30 − 30.25 + 40: the raw double sum would be 92.30.
        assert_eq!(
            dec(&meta["total_cost"]),
            Decimal::new(6205, 2),
            "{b}: {meta}"
        );
        assert_eq!(dec(&meta["by_model"]["opus"]), Decimal::new(5825, 2), "{b}");
        assert_eq!(
            dec(&meta["by_session_type"]["other"]),
            Decimal::new(975, 2),
            "{b}"
        );
        assert_eq!(
            dec(&meta["by_session_type"]["main"]),
            Decimal::new(3025, 2),
            "{b}"
        );
        assert_eq!(
            run(&syncer, "2026-11-20T12:00:00Z").await.pushed,
            0,
            "{b}: changed once, pushed once"
        );
    }
}

#[tokio::test]
async fn a_500_and_a_429_are_retried_until_the_push_succeeds() {
    let t = integration_tests::postgres_store().await;
    let (vault, _, syncer) = example(&t).await;
    vault.fail_next(2, Fault::Status(500));
    let report = run(&syncer, NOW).await;
    assert_eq!(report.outcome, SyncOutcome::Pushed, "{report:?}");
    assert_eq!(report.days[0].attempts, 3);
    assert_eq!(report.days[0].response_code, Some(201));
    let requests = vault.requests();
    assert_eq!(
        requests.len(),
        9,
        "two failed tries of the first day, then seven pushes"
    );
    assert_eq!(
        requests[0].body, requests[2].body,
        "a retry sends the same memory"
    );
    assert_eq!(vault.stored().len(), 7);

    // 429 waits retry-after; a slow answer times out and is tried again.
    let named = |date: &str| {
        SyncRequest::for_day(Some(date), true, Trigger::Api, chrono_tz::UTC, at(NOW)).unwrap()
    };
    vault.fail_next(
        1,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    let clock = Instant::now();
    let report = syncer
        .sync_once(named("2026-11-19"), at(NOW))
        .await
        .unwrap();
    assert!(
        clock.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        clock.elapsed()
    );
    assert_eq!(
        (report.outcome, report.days[0].attempts),
        (SyncOutcome::Pushed, 2)
    );
    vault.fail_next(1, Fault::Delay(Duration::from_millis(800)));
    let report = syncer
        .sync_once(named("2026-11-19"), at(NOW))
        .await
        .unwrap();
    assert_eq!(
        (report.outcome, report.days[0].attempts),
        (SyncOutcome::Pushed, 2),
        "{report:?}"
    );
    assert_eq!(report.days[0].revision, Some(3));
}

#[tokio::test]
async fn a_400_is_recorded_as_failed_without_a_retry_loop() {
    for t in both_stores().await {
        let (vault, _, syncer) = example(&t).await;
        vault.fail_next(
            1,
            Fault::Rejected {
                status: 400,
                text: "workspace openclaw_default: unknown memory_type".into(),
            },
        );
        let report = run(&syncer, NOW).await;
        assert_eq!(report.outcome, SyncOutcome::Failed, "{}", t.backend);
        assert!(!report.retryable);
        assert_eq!(
            vault.requests().len(),
            1,
            "{}: one request, no retries, the run stops",
            t.backend
        );
        let first = &report.days[0];
        assert_eq!(
            (first.outcome, first.response_code, first.attempts),
            (DayOutcome::Failed, Some(400), 1)
        );
        let error = first.error.as_deref().unwrap();
        assert!(
            error.contains("HTTP 400") && error.contains("unknown memory_type"),
            "{error}"
        );
        assert!(report.days[1..]
            .iter()
            .all(|d| d.outcome == DayOutcome::Skipped));
        let pushes = logged(&t.store).await;
        assert_eq!(pushes.len(), 1, "skipped days are not logged");
        assert_eq!(
            (pushes[0].status, pushes[0].response_code),
            (CvPushStatus::Failed, Some(400))
        );
        assert_eq!(pushes[0].error.as_deref(), Some(error));

        // The next run tries again from that day, in order, as revision 1.
        let report = run(&syncer, NOW).await;
        assert_eq!(report.pushed, 7, "{}", t.backend);
        assert_eq!(
            dates(&vault.stored()),
            date_range("2026-11-13", "2026-11-19")
        );
        assert!(vault.stored().iter().all(|r| r.revision() == 1));
    }
}

#[tokio::test]
async fn an_unreachable_vault_leaves_the_days_pending_for_the_next_run() {
    for t in both_stores().await {
        let (vault, _, syncer) = example(&t).await;
        let closed = VaultAccess {
            url: unreachable_url().await,
            ..vault.access()
        };
        let report = run(&syncer_to(&t.store, Some(closed), "UTC"), NOW).await;
        assert_eq!(report.outcome, SyncOutcome::Failed, "{}", t.backend);
        assert!(report.retryable);
        let first = &report.days[0];
        assert_eq!(
            (first.outcome, first.attempts, first.response_code),
            (DayOutcome::Pending, 3, None)
        );
        assert!(
            first
                .error
                .as_deref()
                .unwrap()
                .contains("could not connect"),
            "{first:?}"
        );
        let pushes = logged(&t.store).await;
        assert_eq!(pushes.len(), 1);
        assert_eq!(pushes[0].status, CvPushStatus::Pending);

        // A 503 on every attempt is the same: pending, retried next run.
        vault.fail_next(3, Fault::Status(503));
        let report = run(&syncer, NOW).await;
        assert_eq!(
            (report.days[0].outcome, report.days[0].response_code),
            (DayOutcome::Pending, Some(503))
        );
        assert_eq!(vault.requests().len(), 3);

        let report = run(&syncer, NOW).await;
        assert_eq!(report.outcome, SyncOutcome::Pushed);
        assert_eq!(
            dates(&vault.stored()),
            date_range("2026-11-13", "2026-11-19"),
            "{}",
            t.backend
        );
        let pending = CvPushQuery {
            status: Some(CvPushStatus::Pending),
            ..Default::default()
        };
        assert_eq!(t.store.cv_pushes(&pending, 10).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn days_are_cut_in_the_report_time_zone() {
    const TZ: &str = "America/Chicago";
    for t in both_stores().await {
        let vault = FakeVault::start().await;
        // 2026-11-01 is the 25-hour day summer time ends in Chicago (CDT −5 → CST −6).
        let records = insert(
            &t.store,
            vec![
                spend(
                    "c1",
                    "2026-11-01T04:30:00Z",
                    "claude-opus-4-6",
                    "PeakPaws",
                    "main",
                    "8.00",
                ), // Oct 31, 23:30 CDT
                spend(
                    "c2",
                    "2026-11-01T05:30:00Z",
                    "claude-opus-4-6",
                    "PeakPaws",
                    "main",
                    "1.00",
                ), // Nov 1, 00:30 CDT
                spend(
                    "c3",
                    "2026-11-02T05:30:00Z",
                    "claude-haiku-4-5-20251001",
                    "Kanban Board",
                    "cron",
                    "2.00",
                ), // Nov 1, 23:30 CST
                spend(
                    "c4",
                    "2026-11-02T06:30:00Z",
                    "claude-opus-4-6",
                    "PeakPaws",
                    "main",
                    "4.00",
                ), // Nov 2, 00:30 CST
            ],
        )
        .await;
        let syncer = syncer(&t.store, &vault, TZ);
        // 06:00 on Nov 3 in Chicago: the last completed day is Nov 2.
        run(&syncer, "2026-11-03T12:00:00Z").await;
        let pushed: BTreeMap<String, Value> = vault
            .stored()
            .iter()
            .map(|r| (r.date(), r.json()))
            .collect();
        assert_eq!(
            pushed.keys().cloned().collect::<Vec<_>>(),
            date_range("2026-10-27", "2026-11-02")
        );
        let totals = day_totals(&records, TZ);
        assert_eq!(
            totals[&day("2026-11-01")],
            Decimal::new(300, 2),
            "the ground truth is local"
        );
        for (date, body) in &pushed {
            let want = totals.get(&day(date)).copied().unwrap_or_default();
            assert_eq!(
                dec(&body["meta_data"]["total_cost"]),
                want,
                "{}: {date}",
                t.backend
            );
            assert_eq!(body["meta_data"]["timezone"], TZ);
        }
        assert_eq!(
            pushed["2026-11-01"]["summary"],
            "AI spend 2026-11-01: $3.00 (haiku $2.00, opus $1.00)"
        );
        assert_eq!(
            pushed["2026-11-01"]["meta_data"]["by_session_type"],
            json!({"cron": 2.0, "main": 1.0})
        );

        let app = app_with_syncer(&t.store, TZ, syncer.clone());
        let shown = get(&app, "/costs/daily-summary?date=2026-11-01").await;
        assert_eq!(
            shown.text,
            pushed["2026-11-01"]["content"].as_str().unwrap()
        );
        let utc = get(&app, "/costs/daily-summary?date=2026-11-01&tz=UTC")
            .await
            .body;
        assert_eq!(
            (dec(&utc["total_cost"]), &utc["timezone"]),
            (Decimal::new(900, 2), &json!("UTC"))
        );
    }
}

#[tokio::test]
async fn a_realistic_day_stays_small_with_at_most_ten_keys() {
    let t = integration_tests::sqlite_store().await;
    let vault = FakeVault::start().await;
    let models = [
        "claude-opus-4-6",
        "claude-opus-4-5-20251101",
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-5",
        "o3",
        "kimi-k2.5",
        "gpt-4.1",
        "gpt-5-mini",
        "o4-mini",
        "acme-experimental-1",
    ];
    let projects = [
        "PeakPaws",
        "Kanban Board",
        "Trading Tools",
        "Cost Tracker",
        "Context Vault",
        "General",
        "Home Automation",
        "Blog Writer",
        "Email Triage",
        "Research Assistant",
        "Travel Planner",
        "Fitness Coach",
    ];
    let sessions = ["main", "subagent", "heartbeat", "cron", "other"];
    let events: Vec<NewUsage> = (0..240)
        .map(|i| {
            let when = format!("2026-11-19T{:02}:{:02}:00Z", i / 10, (i % 10) * 6);
            let mut event = priced(
                &format!("r{i}"),
                &when,
                models[i % models.len()],
                projects[(i * 7) % projects.len()],
                20_000 + 3_000 * i as i64,
                1_500 + 40 * i as i64,
            );
            event.session_type = SessionType::parse(sessions[i % sessions.len()]);
            event
        })
        .collect();
    let records = insert(&t.store, events).await;
    let syncer = syncer(&t.store, &vault, "UTC");
    let request = SyncRequest::for_day(
        Some("2026-11-19"),
        false,
        Trigger::Cli,
        chrono_tz::UTC,
        at(NOW),
    )
    .unwrap();
    syncer.sync_once(request, at(NOW)).await.unwrap();
    let memory = vault.stored().pop().unwrap();
    let meta = memory.json()["meta_data"].clone();
    let content = memory.json()["content"].as_str().unwrap().to_string();
    assert!(content.len() < 2048, "summary {} bytes", content.len());
    let total = cents(day_totals(&records, "UTC")[&day("2026-11-19")]);
    assert_eq!(dec(&meta["total_cost"]), total);
    for object in ["by_model", "by_project", "by_session_type"] {
        let parts = amounts(&meta[object]);
        assert!(parts.len() <= 10, "{object}: {parts:?}");
        assert_eq!(
            parts.values().copied().sum::<Decimal>(),
            total,
            "{object} adds up to the total"
        );
    }
    assert!(
        meta["by_model"].get("other").is_some(),
        "13 families fold into other"
    );
    assert!(meta["by_project"].get("other").is_some());
    let exact = day_breakdown(&records, day("2026-11-19"), family);
    assert_eq!(
        dec(&meta["by_model"]["opus"]),
        cents(exact["opus"]),
        "the largest stay named"
    );
    eprintln!(
        "realistic day (13 models, 12 projects, 240 events): summary {} bytes, memory {} bytes",
        content.len(),
        memory.body.len()
    );
}

#[tokio::test]
async fn without_url_and_key_sync_does_nothing() {
    let t = integration_tests::sqlite_store().await;
    insert(&t.store, example_day()).await;
    let syncer = syncer_to(&t.store, None, "UTC");
    assert!(!syncer.configured());
    let report = run(&syncer, NOW).await;
    assert_eq!(report.outcome, SyncOutcome::NotConfigured);
    assert!(report.days.is_empty() && report.succeeded());
    assert!(logged(&t.store).await.is_empty());
    let app = app_with_syncer(&t.store, "UTC", syncer);
    let reply = post(&app, "/admin/sync-cv", json!({})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["report"]["outcome"], "not_configured");
    let status = get(&app, "/admin/status").await.body;
    assert_eq!(status["context_vault"]["configured"], false);
    assert_eq!(status["context_vault"]["last_push"], Value::Null);
}

#[tokio::test]
async fn post_admin_sync_cv_pushes_yesterday_and_status_shows_each_push() {
    let t = integration_tests::postgres_store().await;
    let vault = FakeVault::start().await;
    let yesterday = Utc::now().date_naive().pred_opt().unwrap();
    let records = insert(
        &t.store,
        vec![spend(
            "y1",
            &format!("{yesterday}T12:00:00Z"),
            "claude-opus-4-6",
            "PeakPaws",
            "main",
            "12.34",
        )],
    )
    .await;
    let app = app_with_syncer(&t.store, "UTC", syncer(&t.store, &vault, "UTC"));

    let first = post(&app, "/admin/sync-cv", json!({})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let report = &first.body["report"];
    assert_eq!(
        (report["outcome"].as_str(), report["trigger"].as_str()),
        (Some("pushed"), Some("api"))
    );
    assert_eq!(report["days"][0]["date"], yesterday.to_string());
    assert_eq!(
        dec(&report["days"][0]["total_cost"]),
        cents(records[0].cost.usd())
    );
    assert_eq!(vault.requests().len(), 1, "only the day asked for");
    let again = post(
        &app,
        "/admin/sync-cv",
        json!({"date": yesterday.to_string()}),
    )
    .await;
    assert_eq!(again.body["report"]["outcome"], "already_synced");
    let forced = post(&app, "/admin/sync-cv", json!({"force": true})).await;
    assert_eq!(forced.body["report"]["days"][0]["revision"], 2);

    for (body, field) in [
        (json!({"date": "tomorrow"}), "date"),
        (json!({"date": Utc::now().date_naive().to_string()}), "date"),
        (json!({"date": 20261119}), "date"),
        (json!({"force": "yes"}), "force"),
    ] {
        let reply = post(&app, "/admin/sync-cv", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            reply.body["error"]["details"][0]["field"], field,
            "{}",
            reply.text
        );
    }
    let unknown = post(&app, "/admin/sync-cv", json!({"dat": "2026-11-19"})).await;
    assert!(
        unknown.status.is_client_error() && unknown.text.contains("dat"),
        "{}",
        unknown.text
    );

    vault.fail_next(3, Fault::Status(502));
    let failed = post(&app, "/admin/sync-cv", json!({"force": true})).await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{}", failed.text);
    assert_eq!(failed.body["error"]["code"], "upstream_failed");
    assert!(failed.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("HTTP 502"));
    assert_eq!(failed.body["error"]["details"][0]["outcome"], "pending");

    let status = get(&app, "/admin/status").await.body;
    let cv = &status["context_vault"];
    assert_eq!(cv["configured"], true);
    assert_eq!(cv["workspace"], "openclaw_default");
    let recent = cv["recent_pushes"].as_array().unwrap();
    assert_eq!(recent.len(), 3, "each push is listed: {cv}");
    assert_eq!(recent[0]["status"], "pending");
    assert_eq!(recent[0]["revision"], 3);
    assert_eq!(recent[1]["status"], "pushed");
    assert_eq!(
        (
            recent[2]["revision"].as_i64(),
            recent[2]["trigger"].as_str()
        ),
        (Some(1), Some("api"))
    );
    assert_eq!(cv["last_push"]["id"], recent[0]["id"]);
    assert_eq!(cv["last_success"]["revision"], 2);
    assert!(cv["last_error"].as_str().unwrap().contains("HTTP 502"));
    assert_eq!(recent[1]["date"], yesterday.to_string());
    assert_eq!(recent[1]["response_code"], 201);
}

#[tokio::test]
async fn the_cv_sync_lambda_handles_scheduled_and_manual_events() {
    let t = integration_tests::postgres_store().await;
    let (vault, _, syncer) = example(&t).await;
    let fixture = |name: &str| -> Value {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let now = at("2026-11-20T12:00:00Z");
    let scheduled = sync_event(&syncer, &fixture("eventbridge-scheduled.json"), now)
        .await
        .unwrap();
    assert_eq!(
        (scheduled.trigger, scheduled.pushed),
        (Trigger::Schedule, 7)
    );
    let manual = sync_event(&syncer, &fixture("cv-sync-manual.json"), now)
        .await
        .unwrap();
    assert_eq!(manual.trigger, Trigger::Manual);
    assert_eq!(manual.days.len(), 1);
    let last = vault.requests().pop().unwrap();
    assert_eq!(
        (last.date(), last.revision()),
        ("2026-11-18".to_string(), 2),
        "forced"
    );
    assert_eq!(
        sync_event(&syncer, &fixture("eventbridge-scheduled.json"), now)
            .await
            .unwrap()
            .pushed,
        0
    );

    for bad in [
        json!({"action": "collect"}),
        json!({"action": "sync", "date": "2026-11-20"}),
        json!([1]),
    ] {
        let failure = sync_event(&syncer, &bad, now).await.unwrap_err();
        assert_eq!(failure.error_type, "InvalidEvent", "{bad}");
    }
    vault.fail_next(
        1,
        Fault::Rejected {
            status: 422,
            text: "importance must be 1-3".into(),
        },
    );
    let failure = sync_event(&syncer, &fixture("cv-sync-manual.json"), now)
        .await
        .unwrap_err();
    assert_eq!(failure.error_type, "SyncFailed", "{}", failure.message);
    assert!(failure.message.contains("importance must be 1-3"));
    let closed = VaultAccess {
        url: unreachable_url().await,
        ..vault.access()
    };
    let failure = sync_event(
        &syncer_to(&t.store, Some(closed), "UTC"),
        &fixture("cv-sync-manual.json"),
        now,
    )
    .await
    .unwrap_err();
    assert_eq!(
        failure.error_type, "RetryableSyncError",
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn the_vault_key_never_shows() {
    let t = integration_tests::sqlite_store().await;
    let (vault, _, syncer) = example(&t).await;
    assert!(!format!("{:?}", syncer.settings()).contains(VAULT_KEY));
    // A vault that echoes the key in its error text.
    vault.fail_next(
        1,
        Fault::Rejected {
            status: 403,
            text: format!("key {VAULT_KEY} may not write here"),
        },
    );
    let report = run(&syncer, NOW).await;
    let error = report.error.clone().unwrap();
    assert!(
        error.contains("[redacted]") && error.contains("CONTEXT_VAULT_API_KEY"),
        "{error}"
    );
    let app = app_with_syncer(&t.store, "UTC", syncer.clone());
    for text in [
        serde_json::to_string(&report).unwrap(),
        format!("{report:?}"),
        get(&app, "/admin/status").await.text,
    ] {
        assert!(!text.contains(VAULT_KEY), "{text}");
    }
    let wrong_key = VaultAccess {
        key: shared::config::Secret::new("cv-wrong-key-123"),
        ..vault.access()
    };
    let report = run(&syncer_to(&t.store, Some(wrong_key), "UTC"), NOW).await;
    let error = report.error.unwrap();
    assert!(
        error.contains("HTTP 401") && !error.contains("cv-wrong-key-123"),
        "{error}"
    );
}
