//! Money at any size, on SQLite and on Postgres: sums far beyond 64 bits of
//! picodollars are exact in every report, a rollup cell beyond them folds, an
//! event whose cost one record cannot hold is refused naming the field, and the
//! migration to two-limb sums carries existing rollups over exactly.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use http::{Method, StatusCode};
use integration_tests::{app, both_stores, call, dec, get, ledger, post, TestStore};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::domain::usage::{NewUsage, Source, TokenCounts, UsageFacts};
use shared::store::{Filters, Grouping, UsageQuery};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// An event with a reported cost (the API takes up to 1,000,000 USD per event).
fn spend(id: String, at: DateTime<Utc>, model: &str, usd: &str) -> Value {
    json!({"event_id": id, "model": model, "tokens_in": 1, "cost": usd,
           "project": "Big", "agent": "openclaw", "recorded_at": at.to_rfc3339()})
}

async fn report(app: &axum::Router, uri: &str) -> Value {
    let reply = get(app, uri).await;
    assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text);
    reply.body
}

#[tokio::test]
async fn a_9_9_million_day_and_a_90_million_year_are_exact_in_every_report() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        let today = Utc::now().date_naive();
        let day: NaiveDate = today - Duration::days(1);
        let noon = |date: NaiveDate| date.and_hms_opt(0, 30, 0).unwrap().and_utc();
        // The day: 11 events of 900,000 USD, one an hour, two models.
        let the_day: Vec<Value> = (0..11)
            .map(|h| {
                let model = if h % 2 == 0 {
                    "claude-opus-4-5"
                } else {
                    "gpt-4o-mini"
                };
                spend(
                    format!("day-{h}"),
                    noon(day) + Duration::hours(h),
                    model,
                    "900000",
                )
            })
            .collect();
        // The rest of the year: 89 events of 900,000 USD, every four days from 40 days back.
        let the_year: Vec<Value> = (0..89)
            .map(|i| {
                let at = noon(today - Duration::days(40 + 3 * i));
                spend(format!("year-{i}"), at, "claude-opus-4-5", "900000")
            })
            .collect();
        for batch in [the_day, the_year] {
            let created = post(&app, "/api/usage", Value::Array(batch)).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        }
        let total = |body: &Value| dec(&body["total_cost_usd"]);
        let one_day = format!("start={day}&end={day}");
        let year = format!("start={}&end={day}", today - Duration::days(365));
        for (uri, expected) in [
            (format!("/costs/daily?date={day}"), "9900000"),
            (format!("/costs/range?{one_day}&group_by=day"), "9900000"),
            (format!("/costs/range?{year}&group_by=month"), "90000000"),
            (
                format!("/costs/range?{year}&group_by=day&stack_by=model"),
                "90000000",
            ),
            (format!("/costs/by-model?{year}"), "90000000"),
            (format!("/costs/by-project?{year}"), "90000000"),
            (format!("/costs/by-agent?{one_day}"), "9900000"),
            (format!("/costs/by-session-type?{year}"), "90000000"),
            (format!("/costs/by-provider?{one_day}"), "9900000"),
            ("/costs/summary/weekly".to_string(), "9900000"),
            ("/costs/summary/monthly".to_string(), "9900000"),
            (
                format!("/costs/by-project?{year}&model=claude-opus-4-5"),
                "85500000",
            ),
        ] {
            let body = report(&app, &uri).await;
            assert_eq!(total(&body), d(expected), "{} {uri}: {body}", t.backend);
        }
        // Parts still add up to the total, and each is exact.
        let by_model = report(&app, &format!("/costs/by-model?{one_day}")).await;
        let parts: Vec<Decimal> = by_model["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| dec(&item["cost_usd"]))
            .collect();
        assert_eq!(parts, [d("5400000"), d("4500000")], "{}", t.backend);
        let months = report(&app, &format!("/costs/range?{year}&group_by=month")).await;
        let sum: Decimal = months["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| dec(&b["cost_usd"]))
            .sum();
        assert_eq!(sum, d("90000000"), "{}", t.backend);
        // The Context Vault summary, in cents.
        let summary = report(&app, &format!("/costs/daily-summary?date={day}")).await;
        assert_eq!(dec(&summary["total_cost"]), d("9900000.00"), "{summary}");
        // The store's own audit agrees with the rollups.
        let (start, end) = (noon(day) - Duration::hours(1), noon(today));
        let raw = t.store.raw_totals(start, end).await.unwrap();
        assert_eq!(raw.cost.usd(), d("9900000"), "{}", t.backend);
    }
}

fn tokens_event(id: &str, at: &str, input: i64, output: i64) -> NewUsage {
    NewUsage {
        facts: UsageFacts {
            source: Source::Push,
            external_id: id.into(),
            recorded_at: at.parse().unwrap(),
            bucket_seconds: 0,
            model: "claude-opus-4-5".into(),
            tokens: TokenCounts {
                input,
                output,
                requests: 1,
                ..Default::default()
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
            raw: json!({"id": id}),
        },
        provider: None,
        session_type: None,
        agent: None,
        project: Some("Big".into()),
        reported_cost: None,
        estimated_cost: None,
    }
}

async fn grand_total(t: &TestStore) -> Decimal {
    let (start, end) = (
        "2026-01-01T00:00:00Z".parse().unwrap(),
        "2026-12-01T00:00:00Z".parse().unwrap(),
    );
    let rows = t
        .store
        .rollup_totals(start, end, &Filters::default(), Grouping::Total)
        .await
        .unwrap();
    rows.first()
        .map_or(Decimal::ZERO, |(_, totals)| totals.cost.usd())
}

#[tokio::test]
async fn a_cell_beyond_64_bits_folds_and_an_event_one_record_cannot_hold_is_refused() {
    for t in both_stores().await {
        let ledger = ledger(&t.store);
        let rules = ledger.rules().await.unwrap();
        // 10¹² input tokens of Opus at 5 USD per million: 5,000,000 USD each; two in
        // one hour make a cell of 10 million USD (64-bit picodollars end at 9.2 million).
        for id in ["huge-1", "huge-2"] {
            let record = ledger.resolve(
                tokens_event(id, "2026-11-10T09:10:00Z", 1_000_000_000_000, 0),
                &rules,
            );
            assert_eq!(record.cost.usd(), d("5000000"));
            t.store.write_usage_deferred(vec![record]).await.unwrap();
        }
        assert_eq!(
            grand_total(&t).await,
            d("10000000"),
            "{} pending",
            t.backend
        );
        assert!(t.store.fold_pending_rollups().await.unwrap() > 0);
        assert_eq!(t.store.pending_rollups().await.unwrap(), 0);
        assert_eq!(grand_total(&t).await, d("10000000"), "{} folded", t.backend);
        // More on the same cell, applied directly, and a delete through the API.
        let third = ledger.resolve(
            tokens_event("huge-3", "2026-11-10T09:20:00Z", 1_000_000_000_000, 0),
            &rules,
        );
        t.store
            .write_usage(vec![third], shared::store::WriteMode::InsertOnly)
            .await
            .unwrap();
        assert_eq!(grand_total(&t).await, d("15000000"), "{}", t.backend);
        let app = app(&t.store, "UTC");
        let (records, _) = t
            .store
            .list_usage(&UsageQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let uri = format!("/api/usage/{}", records[0].id);
        let deleted = call(
            &app,
            Method::DELETE,
            &uri,
            None,
            Some(integration_tests::TEST_KEY),
        )
        .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
        assert_eq!(
            grand_total(&t).await,
            d("10000000"),
            "{} after a delete",
            t.backend
        );
        let by_model = report(&app, "/costs/by-model?start=2026-11-10&end=2026-11-10").await;
        assert_eq!(dec(&by_model["total_cost_usd"]), d("10000000"));
        assert_eq!(by_model["input_tokens"], json!(2_000_000_000_000_i64));

        // 10¹² output tokens at 25 USD per million: 25 million USD, more than one
        // record holds. Refused, naming the field; nothing of the batch is stored.
        let refused = post(
            &app,
            "/api/usage",
            json!([
                {"event_id": "fine", "model": "claude-opus-4-5", "tokens_in": 10, "recorded_at": "2026-11-10T10:00:00Z"},
                {"event_id": "too-big", "model": "claude-opus-4-5", "tokens_out": 1_000_000_000_000_i64, "recorded_at": "2026-11-10T10:00:00Z"}
            ]),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        let detail = &refused.body["error"]["details"][0];
        assert_eq!(
            (detail["index"].as_i64(), detail["field"].as_str()),
            (Some(1), Some("output_tokens")),
            "{}",
            refused.text
        );
        let (after, _) = t
            .store
            .list_usage(&UsageQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(after.len(), 2, "{}: nothing stored", t.backend);
    }
}

/// Runs the migrations before two-limb sums (0001–0006) on a new database of
/// `backend`, then stores rollups whose sums only 128 bits hold once added up.
async fn a_database_before_wide_sums(backend: &str, url: &str) {
    let dir = std::env::temp_dir().join(format!("ct-migrations-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0007" {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    let old = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    // 9 million USD in one rollup row, 1 million pending on the same hour; tokens
    // and requests near the top of 64 bits. Together they pass every 64-bit limit.
    let hour = "2026-11-10T09:00:00Z"
        .parse::<DateTime<Utc>>()
        .unwrap()
        .timestamp();
    let day = hour - hour % 86_400;
    let sums = "1, 4000000000000000000, 0, 5000000000000000000, 0, 0, 0, 0, 0, 9000000000000000000";
    let key = format!("{hour}, 'anthropic', 'claude-opus-4-5-20251101', 'Big', '', 'main', 'push'");
    let statements = [
        format!("INSERT INTO usage_rollups VALUES ({key}, {sums})"),
        format!("INSERT INTO usage_rollup_dims VALUES ('total', 'h', {hour}, '', {sums})"),
        format!("INSERT INTO usage_rollup_dims VALUES ('total', 'd', {day}, '', {sums})"),
        format!(
            "INSERT INTO rollup_pending VALUES ({key}, 1, 4000000000000000000, 0, \
             5000000000000000000, 0, 0, 0, 0, 0, 1000000000000000000)"
        ),
    ];
    match backend {
        "sqlite" => {
            use std::str::FromStr;
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            old.run(&pool).await.unwrap();
            for sql in &statements {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
        _ => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            old.run(&pool).await.unwrap();
            for sql in &statements {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

#[tokio::test]
async fn the_migration_to_wide_sums_carries_the_rollups_over_exactly() {
    let databases = [
        ("sqlite", integration_tests::new_sqlite_url()),
        ("postgres", integration_tests::new_postgres_url().await),
    ];
    for (backend, url) in databases {
        a_database_before_wide_sums(backend, &url).await;
        let store = shared::store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let (start, end) = (
            "2026-11-10T00:00:00Z".parse().unwrap(),
            "2026-11-11T00:00:00Z".parse().unwrap(),
        );
        let project = Filters {
            project: Some("Big".into()),
            ..Filters::default()
        };
        // The one-dimension rollups (no filter) and the full-key ones (a filter).
        for filters in [Filters::default(), project] {
            let rows = store
                .rollup_totals(start, end, &filters, Grouping::Total)
                .await
                .unwrap();
            let totals = rows[0].1;
            assert_eq!(totals.cost.usd(), d("10000000"), "{backend} {filters:?}");
            assert_eq!(totals.input_tokens, 10_000_000_000_000_000_000, "{backend}");
            assert_eq!(totals.requests, 8_000_000_000_000_000_000, "{backend}");
            assert_eq!(totals.records, 2, "{backend}");
        }
        // The fold of the pending million into the nine: one row of ten million.
        assert_eq!(store.fold_pending_rollups().await.unwrap(), 1);
        let rows = store
            .rollup_totals(start, end, &Filters::default(), Grouping::Hour)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1.cost.usd(), d("10000000"), "{backend} folded");
    }
}

#[tokio::test]
async fn unpriced_request_counts_beyond_32_bits_are_counted_whole() {
    for t in both_stores().await {
        let ledger = ledger(&t.store);
        let rules = ledger.rules().await.unwrap();
        // Two buckets of an unknown model, 3 billion requests each: 6 × 10⁹ unpriced
        // requests in one rollup cell, more than the low limb holds.
        for id in ["bucket-1", "bucket-2"] {
            let mut event = tokens_event(id, "2026-11-10T09:00:00Z", 10, 0);
            event.facts.model = "acme-unpriced-x".into();
            event.facts.tokens.requests = 3_000_000_000;
            let record = ledger.resolve(event, &rules);
            assert!(record.unpriced);
            t.store
                .write_usage(vec![record], shared::store::WriteMode::InsertOnly)
                .await
                .unwrap();
        }
        assert_eq!(
            t.store.unpriced_models().await.unwrap(),
            [("acme-unpriced-x".to_string(), 6_000_000_000)],
            "{}",
            t.backend
        );
        let app = app(&t.store, "UTC");
        let status = report(&app, "/admin/status").await;
        assert_eq!(
            status["unpriced_models"][0]["unpriced_requests"], 6_000_000_000_i64,
            "{}",
            t.backend
        );
    }
}
