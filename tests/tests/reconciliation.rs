//! The reconciled basis (issue 14) on both backends: in every hour a collection
//! covered, the bill is the total and the agents' records explain it; elsewhere
//! every record counts at its own cost. Bills are stored through the collector's
//! own write (`Ledger::ingest_collected`), agents' events through `POST /api/usage`.

use chrono::{DateTime, Utc};
use http::StatusCode;
use integration_tests::{app, both_stores, dec, get, ledger, post, reported_usage};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::domain::money::Pico;
use shared::domain::usage::{SessionType, Source};
use shared::store::{Basis, Coverage, DynStore, Filters, Grouping};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn usd(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// One hourly bucket of the Anthropic bill for `claude-sonnet-4-5` at `hour`.
fn bill(id: &str, hour: &str, cost: &str) -> shared::domain::usage::NewUsage {
    let mut usage = reported_usage(id, at(hour), "claude-sonnet-4-5", usd(cost));
    usage.facts.source = Source::Anthropic;
    usage.facts.bucket_seconds = 3600;
    usage.facts.api_key_id = Some("apikey_01".into());
    usage.facts.api_key_name = Some("billing-key".into());
    usage.session_type = Some(SessionType::Other);
    usage
}

/// Stores a collected chunk covering the whole UTC day 2026-11-10.
async fn collect(store: &DynStore, buckets: Vec<shared::domain::usage::NewUsage>) {
    let coverage = Coverage::of_range(
        "anthropic",
        at("2026-11-10T00:00:00Z").timestamp(),
        at("2026-11-11T00:00:00Z").timestamp(),
    );
    ledger(store)
        .ingest_collected(buckets, &coverage)
        .await
        .unwrap();
}

fn event(id: &str, at: &str, model: &str, cost: &str, session_type: &str) -> Value {
    json!({"event_id": id, "recorded_at": at, "model": model, "cost": cost,
           "tokens_in": 100, "tokens_out": 10, "session_type": session_type,
           "project": "PeakPaws", "agent": "main-agent"})
}

fn items(reply: &Value) -> Vec<(String, Decimal)> {
    reply["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap().to_string(), dec(&i["cost_usd"])))
        .collect()
}

fn cost_of(reply: &Value, key: &str) -> Decimal {
    items(reply)
        .into_iter()
        .find(|(k, _)| k == key)
        .map_or(Decimal::ZERO, |(_, c)| c)
}

/// Reconciled cost per UTC hour of 2026-11-10 (hours with any rows).
async fn hourly(store: &DynStore, basis: Basis) -> Vec<(u32, Decimal)> {
    use chrono::Timelike;
    let filters = Filters {
        basis,
        ..Filters::default()
    };
    let mut rows: Vec<(u32, Decimal)> = store
        .rollup_totals(
            at("2026-11-10T00:00:00Z"),
            at("2026-11-11T00:00:00Z"),
            &filters,
            Grouping::Hour,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|(key, t)| (key.hour.unwrap().hour(), t.cost.usd()))
        .collect();
    rows.sort();
    rows
}

const RANGE: &str = "start=2026-11-10&end=2026-11-11";

/// The day's bill and the agents' events, as the module describes.
async fn setup(store: &DynStore, app: &axum::Router) {
    collect(
        store,
        vec![
            bill("b09", "2026-11-10T09:00:00Z", "10"),
            bill("b10", "2026-11-10T10:00:00Z", "10"),
            bill("b11", "2026-11-10T11:00:00Z", "10"),
            bill("b12", "2026-11-10T12:00:00Z", "4"),
        ],
    )
    .await;
    let events = json!([
        // 09: A = 5 ≤ B = 10.
        event(
            "p1",
            "2026-11-10T09:05:00Z",
            "claude-sonnet-4-5",
            "3",
            "main"
        ),
        event(
            "p2",
            "2026-11-10T09:40:00Z",
            "claude-sonnet-4-5",
            "2",
            "subagent"
        ),
        // 11: A = 12 > B = 10.
        event(
            "p3",
            "2026-11-10T11:30:00Z",
            "claude-sonnet-4-5",
            "12",
            "main"
        ),
        // 13: covered, nothing billed: A = 1 counts 0.
        event(
            "p4",
            "2026-11-10T13:30:00Z",
            "claude-sonnet-4-5",
            "1",
            "heartbeat"
        ),
        // Not covered: the next day, and a provider never collected.
        event(
            "p5",
            "2026-11-11T09:00:00Z",
            "claude-sonnet-4-5",
            "7",
            "main"
        ),
        event("p6", "2026-11-10T09:00:00Z", "gpt-4o", "1.5", "main"),
    ]);
    let reply = post(app, "/api/usage", events).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

#[tokio::test]
async fn the_bill_is_the_total_and_the_agents_explain_it() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        setup(&t.store, &app).await;
        let b = t.backend;

        // Reconciled totals: the bill where billed, the agents' own cost elsewhere.
        let range = get(&app, &format!("/costs/range?{RANGE}")).await;
        assert_eq!(range.body["basis"], "reconciled", "{b}");
        assert_eq!(dec(&range.body["total_cost_usd"]), usd("42.5"), "{b}");
        let days: Vec<Decimal> = range.body["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| dec(&d["cost_usd"]))
            .collect();
        assert_eq!(days, vec![usd("35.5"), usd("7")], "{b}");

        // Per hour: every billed hour is its bill exactly.
        assert_eq!(
            hourly(&t.store, Basis::Reconciled).await,
            vec![
                (9, usd("11.5")),
                (10, usd("10")),
                (11, usd("10")),
                (12, usd("4")),
                (13, Decimal::ZERO)
            ],
            "{b}"
        );

        // By session type: the agents' types, `other` for the unexplained rest.
        let by = get(&app, &format!("/costs/by-session-type?{RANGE}")).await;
        assert_eq!(cost_of(&by.body, "main"), usd("21.5"), "{b}");
        assert_eq!(cost_of(&by.body, "subagent"), usd("2"), "{b}");
        assert_eq!(cost_of(&by.body, "heartbeat"), Decimal::ZERO, "{b}");
        assert_eq!(cost_of(&by.body, "other"), usd("19"), "{b}");
        let sum: Decimal = items(&by.body).iter().map(|(_, c)| *c).sum();
        assert_eq!(sum, dec(&by.body["total_cost_usd"]), "{b}");

        // The other bases: today's double sum, and each part.
        for (basis, total) in [("raw", "60.5"), ("billed", "34"), ("attributed", "26.5")] {
            let r = get(&app, &format!("/costs/by-model?{RANGE}&basis={basis}")).await;
            assert_eq!(r.body["basis"], basis, "{b}");
            assert_eq!(dec(&r.body["total_cost_usd"]), usd(total), "{b} {basis}");
        }
        let raw = get(&app, &format!("/costs/by-session-type?{RANGE}&basis=raw")).await;
        assert_eq!(cost_of(&raw.body, "other"), usd("34"), "{b}");
        assert_eq!(cost_of(&raw.body, "main"), usd("23.5"), "{b}");

        // Filters select reconciled parts (the full-key rollups): PeakPaws is the
        // agents' part, `provider` selects cells.
        let peak = get(&app, &format!("/costs/by-model?{RANGE}&project=PeakPaws")).await;
        assert_eq!(dec(&peak.body["total_cost_usd"]), usd("23.5"), "{b}");
        let anthropic = get(
            &app,
            &format!("/costs/by-session-type?{RANGE}&provider=anthropic"),
        )
        .await;
        assert_eq!(dec(&anthropic.body["total_cost_usd"]), usd("41"), "{b}");
        assert_eq!(cost_of(&anthropic.body, "other"), usd("19"), "{b}");
        let raw_main = get(
            &app,
            &format!("/costs/by-model?{RANGE}&session_type=main&basis=raw"),
        )
        .await;
        assert_eq!(dec(&raw_main.body["total_cost_usd"]), usd("23.5"), "{b}");

        // The reconciliation.
        let rec = get(&app, &format!("/costs/reconciliation?{RANGE}")).await;
        assert_eq!(rec.status, StatusCode::OK, "{b}: {}", rec.text);
        let r = &rec.body;
        assert_eq!(dec(&r["billed_usd"]), usd("34"), "{b}");
        assert_eq!(dec(&r["attributed_usd"]), usd("26.5"), "{b}");
        assert_eq!(dec(&r["explained_usd"]), usd("15"), "{b}");
        assert_eq!(dec(&r["unattributed_usd"]), usd("19"), "{b}");
        assert_eq!(dec(&r["over_attributed_usd"]), usd("3"), "{b}");
        assert_eq!(dec(&r["unbilled_attributed_usd"]), usd("8.5"), "{b}");
        assert_eq!(dec(&r["coverage"]), usd("0.4412"), "{b}");
        assert_eq!(r["billed"][0]["provider"], "anthropic", "{b}");
        assert_eq!(r["billed"][0]["billed_hours"], 24, "{b}");
        let first = &r["buckets"][0];
        assert_eq!(dec(&first["explained_usd"]), usd("15"), "{b}");
        let sonnet = first["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == "claude-sonnet-4-5-20250929")
            .unwrap_or_else(|| panic!("{b}: {first}"));
        assert_eq!(dec(&sonnet["billed_usd"]), usd("34"), "{b}");
        assert_eq!(sonnet["provider"], "anthropic", "{b}");
        for bucket in r["buckets"].as_array().unwrap() {
            assert_eq!(
                dec(&bucket["explained_usd"]) + dec(&bucket["unattributed_usd"]),
                dec(&bucket["billed_usd"]),
                "{b}"
            );
        }
        let csv = get(&app, &format!("/costs/reconciliation?{RANGE}&format=csv")).await;
        assert_eq!(csv.status, StatusCode::OK, "{b}");
        let last = csv.text.lines().last().unwrap().to_string();
        assert!(
            last.starts_with("total,2026-11-10,2026-11-11,,,34,26.5,15,19,3,8.5,0.4412"),
            "{b}: {last}"
        );

        // A cost CSV names its basis: a header, and the file name when not the default.
        for (basis, name) in [
            ("", "ai-costs-by-model-2026-11-10_2026-11-11.csv"),
            (
                "&basis=raw",
                "ai-costs-by-model-raw-2026-11-10_2026-11-11.csv",
            ),
        ] {
            let csv = get(&app, &format!("/costs/by-model?{RANGE}&format=csv{basis}")).await;
            let header = |h: &str| csv.headers[h].to_str().unwrap().to_string();
            let want = if basis.is_empty() {
                "reconciled"
            } else {
                "raw"
            };
            assert_eq!(header("x-cost-basis"), want, "{b}");
            assert!(
                header("content-disposition").contains(name),
                "{b}: {}",
                header("content-disposition")
            );
        }
        let day = get(&app, "/costs/daily?date=2026-11-10&format=csv&basis=billed").await;
        assert_eq!(day.headers["x-cost-basis"], "billed", "{b}");
        assert!(
            day.headers["content-disposition"]
                .to_str()
                .unwrap()
                .contains("ai-costs-daily-billed-2026-11-10.csv"),
            "{b}: {:?}",
            day.headers
        );

        // Chicago days add up to the Chicago range.
        let chicago = get(
            &app,
            "/costs/range?start=2026-11-09&end=2026-11-12&tz=America/Chicago",
        )
        .await;
        let sum: Decimal = chicago.body["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| dec(&d["cost_usd"]))
            .sum();
        assert_eq!(sum, dec(&chicago.body["total_cost_usd"]), "{b}");
        assert_eq!(sum, usd("42.5"), "{b}");
        let rec_chicago = get(
            &app,
            "/costs/reconciliation?start=2026-11-09&end=2026-11-12&tz=America/Chicago",
        )
        .await;
        assert_eq!(dec(&rec_chicago.body["explained_usd"]), usd("15"), "{b}");
        assert_eq!(dec(&rec_chicago.body["billed_usd"]), usd("34"), "{b}");
        assert_eq!(
            dec(&rec_chicago.body["unbilled_attributed_usd"]),
            usd("8.5"),
            "{b}"
        );
        // A push into an hour that belongs to the previous Chicago day (03:30 UTC), its
        // delta still pending: counted in that day at once.
        let mut late = reported_usage("p8", at("2026-11-11T03:30:00Z"), "gpt-4o", usd("2"));
        late.provider = Some("openai".into());
        let ledger = ledger(&t.store);
        let late = ledger.resolve(late, &ledger.rules().await.unwrap());
        t.store.write_usage_deferred(vec![late]).await.unwrap();
        assert!(
            t.store.pending_rollups().await.unwrap() > 0,
            "{b}: the push is pending"
        );
        let rec_chicago = get(
            &app,
            "/costs/reconciliation?start=2026-11-09&end=2026-11-12&tz=America/Chicago",
        )
        .await;
        assert_eq!(
            dec(&rec_chicago.body["unbilled_attributed_usd"]),
            usd("10.5"),
            "{b}"
        );
        let day_of = |r: &Value, period: &str| {
            r["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["period"] == period)
                .map(|d| dec(&d["attributed_usd"]))
                .unwrap()
        };
        assert_eq!(
            day_of(&rec_chicago.body, "2026-11-10"),
            usd("21.5"),
            "{b}: {}",
            rec_chicago.text
        );

        // Bad basis: a 400 that names it.
        let bad = get(&app, &format!("/costs/by-model?{RANGE}&basis=cooked")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{b}");
        assert!(bad.text.contains("basis"), "{b}: {}", bad.text);
    }
}

#[tokio::test]
async fn late_bills_late_events_deletes_and_retags_move_every_figure_once() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        setup(&t.store, &app).await;
        let b = t.backend;
        let total = |r: &Value| dec(&r["total_cost_usd"]);

        // A bucket collected again with a higher cost: 09 is now $20.
        collect(&t.store, vec![bill("b09", "2026-11-10T09:00:00Z", "20")]).await;
        let range = get(&app, &format!("/costs/range?{RANGE}")).await;
        assert_eq!(total(&range.body), usd("52.5"), "{b}");
        let by = get(&app, &format!("/costs/by-session-type?{RANGE}")).await;
        assert_eq!(cost_of(&by.body, "other"), usd("29"), "{b}");
        assert_eq!(cost_of(&by.body, "main"), usd("21.5"), "{b}");

        // An event arriving after the bill (hour 10): the agents explain more, the
        // total stays the bill.
        let late = json!([event(
            "p7",
            "2026-11-10T10:15:00Z",
            "claude-sonnet-4-5",
            "4",
            "cron"
        )]);
        assert_eq!(
            post(&app, "/api/usage", late).await.status,
            StatusCode::CREATED
        );
        let by = get(&app, &format!("/costs/by-session-type?{RANGE}")).await;
        assert_eq!(total(&by.body), usd("52.5"), "{b}");
        assert_eq!(cost_of(&by.body, "cron"), usd("4"), "{b}");
        assert_eq!(cost_of(&by.body, "other"), usd("25"), "{b}");
        let rec = get(&app, &format!("/costs/reconciliation?{RANGE}")).await;
        assert_eq!(dec(&rec.body["explained_usd"]), usd("19"), "{b}");
        assert_eq!(dec(&rec.body["unattributed_usd"]), usd("25"), "{b}");

        // Deleting it moves everything back.
        let id = integration_tests::listed_records(
            &app,
            "start_date=2026-11-10&end_date=2026-11-10&limit=100",
        )
        .await
        .iter()
        .find(|r| r["event_id"] == "p7")
        .unwrap()["id"]
            .as_i64()
            .unwrap();
        let deleted = integration_tests::delete_record(&app, id).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{b}");
        let by = get(&app, &format!("/costs/by-session-type?{RANGE}")).await;
        assert_eq!(cost_of(&by.body, "cron"), Decimal::ZERO, "{b}");
        assert_eq!(cost_of(&by.body, "other"), usd("29"), "{b}");
        let rec = get(&app, &format!("/costs/reconciliation?{RANGE}")).await;
        assert_eq!(dec(&rec.body["explained_usd"]), usd("15"), "{b}");

        // A transcript import arriving after the bill (hour 12: B = 4, nothing pushed):
        // stored and settled in one transaction, it explains $1.50 of the bill.
        let mut imported = reported_usage(
            "claude-code:s1:msg_01",
            at("2026-11-10T12:20:00Z"),
            "claude-sonnet-4-5",
            usd("1.5"),
        );
        imported.facts.source = Source::Import;
        imported.project = Some("PeakPaws".into());
        imported.session_type = Some(SessionType::Main);
        let ledger = ledger(&t.store);
        let imported = ledger.resolve(imported, &ledger.rules().await.unwrap());
        t.store
            .write_import(vec![imported], &[], &[])
            .await
            .unwrap();
        let by = get(&app, &format!("/costs/by-session-type?{RANGE}")).await;
        assert_eq!(total(&by.body), usd("52.5"), "{b}");
        assert_eq!(cost_of(&by.body, "other"), usd("27.5"), "{b}");
        assert_eq!(cost_of(&by.body, "main"), usd("23"), "{b}");
        let rec = get(&app, &format!("/costs/reconciliation?{RANGE}")).await;
        assert_eq!(dec(&rec.body["explained_usd"]), usd("16.5"), "{b}");
        assert_eq!(dec(&rec.body["unattributed_usd"]), usd("27.5"), "{b}");

        // Folding the pending deltas changes nothing.
        t.store.fold_pending_rollups().await.unwrap();
        assert_eq!(
            hourly(&t.store, Basis::Reconciled).await,
            vec![
                (9, usd("21.5")),
                (10, usd("10")),
                (11, usd("10")),
                (12, usd("4")),
                (13, Decimal::ZERO)
            ],
            "{b}"
        );
        // A re-tag (a new project rule for the bill's API key) moves the bill's part.
        let rule = post(
            &app,
            "/admin/project-mappings",
            json!({"pattern": "billing-*", "project": "Billing"}),
        )
        .await;
        assert!(rule.status.is_success(), "{b}: {}", rule.text);
        let by = get(&app, &format!("/costs/by-project?{RANGE}")).await;
        assert_eq!(total(&by.body), usd("52.5"), "{b}");
        assert_eq!(
            cost_of(&by.body, "Billing"),
            usd("27.5"),
            "{b}: {}",
            by.text
        );
        assert_eq!(cost_of(&by.body, "PeakPaws"), usd("25"), "{b}");
        assert_eq!(cost_of(&by.body, "General"), Decimal::ZERO, "{b}");
        let raw = t
            .store
            .raw_totals(at("2026-11-10T00:00:00Z"), at("2026-11-12T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!(raw.cost, Pico::from_usd(usd("72")).unwrap(), "{b}");
    }
}

/// Migrates a new database of `backend` to migration 0008, the schema before the
/// reconciled basis, with the migration files themselves.
async fn migrated_to_0008(backend: &str, url: &str) {
    let dir = integration_tests::serve::repo_root().join(format!("migrations/{backend}"));
    let mut migrator = sqlx::migrate::Migrator::new(dir).await.unwrap();
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= 8)
        .cloned()
        .collect();
    assert_eq!(before.len(), 8, "migrations 0001–0008");
    migrator.migrations = before.into();
    match backend {
        "sqlite" => {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
            let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
                .await
                .unwrap();
            migrator.run(&pool).await.unwrap();
            pool.close().await;
        }
        _ => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

/// The tables a store at 0008 had (records and their raw rollups), copied from the
/// store at `from` (folded) into the database at `to`: the one-dimension rollups
/// without the layers 0009 added.
async fn copy_0008_tables(backend: &str, from: &str, to: &str) {
    const TABLES: [(&str, &str); 3] = [
        ("usage_records", ""),
        ("usage_rollups", ""),
        (
            "usage_rollup_dims",
            " WHERE dim NOT LIKE '%@%' AND dim <> 'cell'",
        ),
    ];
    match backend {
        "sqlite" => {
            let path = from.trim_start_matches("sqlite://");
            let options: sqlx::sqlite::SqliteConnectOptions = to.parse().unwrap();
            let mut conn = sqlx::ConnectOptions::connect(&options).await.unwrap();
            sqlx::query(&format!("ATTACH DATABASE '{path}' AS old"))
                .execute(&mut conn)
                .await
                .unwrap();
            for (table, condition) in TABLES {
                sqlx::query(&format!(
                    "INSERT INTO main.{table} SELECT * FROM old.{table}{condition}"
                ))
                .execute(&mut conn)
                .await
                .unwrap();
            }
        }
        _ => {
            let mut old = <sqlx::PgConnection as sqlx::Connection>::connect(from)
                .await
                .unwrap();
            let mut new = <sqlx::PgConnection as sqlx::Connection>::connect(to)
                .await
                .unwrap();
            for (table, condition) in TABLES {
                let (rows,): (String,) = sqlx::query_as(&format!(
                    "SELECT COALESCE(json_agg(t), '[]')::text FROM (SELECT * FROM {table}{condition}) t"
                ))
                .fetch_one(&mut old)
                .await
                .unwrap();
                sqlx::query(&format!(
                    "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"
                ))
                .bind(rows)
                .execute(&mut new)
                .await
                .unwrap();
            }
        }
    }
}

/// Data stored before migration 0009 is reconciled on the first start after it: the
/// hours with pulled records become billed (the migration), and their cells are
/// settled once (`reconcile_backfill`), as if the data had been written since.
#[tokio::test]
async fn data_stored_before_the_migration_is_reconciled_once_on_start() {
    for t in both_stores().await {
        let b = t.backend;
        setup(&t.store, &app(&t.store, "UTC")).await;
        t.store.fold_pending_rollups().await.unwrap();
        let url = match b {
            "sqlite" => integration_tests::new_sqlite_url(),
            _ => integration_tests::new_postgres_url().await,
        };
        migrated_to_0008(b, &url).await;
        copy_0008_tables(b, &t.url, &url).await;

        for start in ["first", "second"] {
            let store = shared::store::open(&url).await.unwrap();
            store.migrate().await.unwrap();
            let app = app(&store, "UTC");
            // Hours 09–12 have pulled records: billed. Hour 13 was covered by the chunk
            // but has no pulled record, so before 0009 nothing said it was billed: its
            // heartbeat counts at its own cost.
            let status = get(&app, "/admin/status").await;
            assert_eq!(
                status.body["billed_hours"][0]["billed_hours"], 4,
                "{b} {start}: {}",
                status.text
            );
            let range = get(&app, &format!("/costs/range?{RANGE}")).await;
            assert_eq!(
                dec(&range.body["total_cost_usd"]),
                usd("43.5"),
                "{b} {start}"
            );
            let by = get(&app, &format!("/costs/by-session-type?{RANGE}")).await;
            for (key, cost) in [
                ("main", "21.5"),
                ("subagent", "2"),
                ("heartbeat", "1"),
                ("other", "19"),
            ] {
                assert_eq!(cost_of(&by.body, key), usd(cost), "{b} {start} {key}");
            }
            assert_eq!(
                hourly(&store, Basis::Reconciled).await,
                vec![
                    (9, usd("11.5")),
                    (10, usd("10")),
                    (11, usd("10")),
                    (12, usd("4")),
                    (13, usd("1"))
                ],
                "{b} {start}"
            );
            let rec = get(&app, &format!("/costs/reconciliation?{RANGE}")).await;
            for (field, value) in [
                ("billed_usd", "34"),
                ("explained_usd", "15"),
                ("unattributed_usd", "19"),
                // Hour 11 only: hour 13's $1 is no longer in a billed cell.
                ("over_attributed_usd", "2"),
                ("unbilled_attributed_usd", "9.5"),
            ] {
                assert_eq!(dec(&rec.body[field]), usd(value), "{b} {start} {field}");
            }
            let raw = get(&app, &format!("/costs/range?{RANGE}&basis=raw")).await;
            assert_eq!(dec(&raw.body["total_cost_usd"]), usd("60.5"), "{b} {start}");
        }
    }
}
