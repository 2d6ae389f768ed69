//! Prices at run time, through the real router on SQLite and on Postgres: a stored
//! price prices the unpriced records of its model at once, layers over the
//! catalog, is seen by another instance, and a delete changes no priced record
//! until `POST /admin/reprice`. Bad entries are refused, naming model and field.

use std::time::Duration;

use http::{Method, StatusCode};
use integration_tests::{app, both_stores, call, dec, get, post, test_config, TEST_KEY};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::config::Secret;
use shared::domain::pricing::PriceCatalog;
use shared::ledger::Ledger;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

async fn put(app: &axum::Router, model: &str, body: Value) -> integration_tests::Reply {
    let uri = format!("/admin/prices/{model}");
    call(app, Method::PUT, &uri, Some(body), Some(TEST_KEY)).await
}

async fn delete(app: &axum::Router, model: &str) -> integration_tests::Reply {
    let uri = format!("/admin/prices/{model}");
    call(app, Method::DELETE, &uri, None, Some(TEST_KEY)).await
}

/// by-model over 2026-11-10: (total, unpriced requests, the model's row).
async fn by_model(app: &axum::Router, model: &str) -> (Decimal, i64, Value) {
    let r = get(
        app,
        "/costs/by-model?start=2026-11-10&end=2026-11-10&basis=raw",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let row = r.body["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["key"] == model)
        .cloned()
        .unwrap_or(Value::Null);
    (
        dec(&r.body["total_cost_usd"]),
        r.body["unpriced_requests"].as_i64().unwrap(),
        row,
    )
}

/// Three calls to a model no catalog knows (one with the agent's estimate) and one
/// Sonnet 4.5 call (1000×3 + 500×15 per MTok = $0.0105).
fn events() -> Value {
    json!([
        {"event_id":"f1","model":"acme-frontier-1","tokens_in":1000,"tokens_out":2000,
         "cache_read_tokens":10000,"recorded_at":"2026-11-10T09:00:00Z"},
        {"event_id":"f2","model":"acme/Frontier-1","tokens_in":3000,"tokens_out":500,
         "recorded_at":"2026-11-10T10:00:00Z"},
        {"event_id":"f3","model":"acme-frontier-1","tokens_in":7,"tokens_out":3,
         "estimated_cost":"0.25","recorded_at":"2026-11-10T11:00:00Z"},
        {"event_id":"s1","model":"claude-sonnet-4-5-20250929","tokens_in":1000,"tokens_out":500,
         "recorded_at":"2026-11-10T12:00:00Z"}
    ])
}

/// input 2, output 8, cache read 0.2 per MTok, from 2026-12-01 (the first period
/// also prices earlier records).
fn acme_entry() -> Value {
    json!({
        "provider": "acme",
        "family": "frontier",
        "display_name": "Acme Frontier 1",
        "aliases": ["acme/frontier-1"],
        "source": "https://acme.example/pricing (2026-12-01)",
        "prices": [{"effective_from": "2026-12-01", "input": "2", "output": "8", "cache_read": "0.2"}]
    })
}

#[tokio::test]
async fn a_stored_price_prices_the_unpriced_at_once_and_a_delete_waits_for_reprice() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        let b = t.backend;
        let created = post(&app, "/api/usage", events()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let (total, unpriced, _) = by_model(&app, "acme-frontier-1").await;
        assert_eq!(unpriced, 3, "{b}");
        // Only the estimate and Sonnet count before the model has a price.
        assert_eq!(total, d("0.2605"), "{b}");
        let models = get(&app, "/api/models").await;
        let listed = |body: &Value, id: &str| -> Value {
            body["models"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == id)
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert_eq!(
            listed(&models.body, "acme-frontier-1")["priced"],
            false,
            "{b}"
        );

        // PUT: the three records are priced at once.
        // f1: 1000×2 + 2000×8 + 10000×0.2 = 20,000 → $0.02; f2: 3000×2 + 500×8 = 10,000 →
        // $0.01; f3: 7×2 + 3×8 = 38 → $0.000038 (the price replaces the estimate).
        let stored = put(&app, "acme-frontier-1", acme_entry()).await;
        assert_eq!(stored.status, StatusCode::OK, "{b}: {}", stored.text);
        assert_eq!(stored.body["created"], true);
        let priced = &stored.body["priced"];
        assert_eq!(priced["records_priced"], 3, "{b}: {}", stored.text);
        assert_eq!(dec(&priced["cost_before_usd"]), d("0.25"), "{b}");
        assert_eq!(dec(&priced["cost_after_usd"]), d("0.030038"), "{b}");
        assert_eq!(stored.body["model"]["layers"], "stored", "{b}");
        let (total, unpriced, row) = by_model(&app, "acme-frontier-1").await;
        assert_eq!(unpriced, 0, "{b}");
        assert_eq!(total, d("0.040538"), "{b}");
        assert_eq!(dec(&row["cost_usd"]), d("0.030038"), "{b}: {row}");
        assert_eq!(
            row["requests"], 3,
            "{b}: the alias spelling moved to the canonical id"
        );

        let shown = get(&app, "/api/models/acme%2Ffrontier-1").await;
        assert_eq!(shown.status, StatusCode::OK, "{b}: {}", shown.text);
        assert_eq!(shown.body["id"], "acme-frontier-1");
        assert_eq!(shown.body["history"][0]["layer"], "stored");
        assert_eq!(
            shown.body["stored_source"],
            "https://acme.example/pricing (2026-12-01)"
        );
        let models = get(&app, "/api/models").await;
        let acme = listed(&models.body, "acme-frontier-1");
        assert_eq!(acme["priced"], true, "{b}");
        assert_eq!(acme["prices"]["layer"], "stored", "{b}");
        assert_eq!(
            listed(&models.body, "claude-sonnet-4-5-20250929")["layers"],
            "catalog"
        );

        // Over a catalog model: the stored period wins from its day on; earlier records
        // and the catalog's earlier periods stay.
        let sonnet = json!({
            "provider": "anthropic", "family": "sonnet",
            "source": "test: a price change on 2026-11-15",
            "prices": [{"effective_from": "2026-11-15", "input": "4", "output": "16",
                        "cache_read": "0.4", "cache_write_5m": "5", "cache_write_1h": "8"}]
        });
        let over = put(&app, "claude-sonnet-4-5", sonnet).await;
        assert_eq!(over.status, StatusCode::OK, "{b}: {}", over.text);
        assert_eq!(over.body["model"]["id"], "claude-sonnet-4-5-20250929");
        assert_eq!(over.body["model"]["layers"], "stored_over_catalog");
        assert_eq!(over.body["priced"]["records_priced"], 0);
        let history = over.body["model"]["history"].as_array().unwrap();
        assert_eq!(history.last().unwrap()["layer"], "stored");
        assert_eq!(history[0]["layer"], "catalog");
        assert_eq!(dec(&history.last().unwrap()["input_per_mtok"]), d("4"));
        let (total, _, _) = by_model(&app, "claude-sonnet-4-5-20250929").await;
        assert_eq!(
            total,
            d("0.040538"),
            "{b}: a new price does not rewrite history"
        );
        // A call on the new price's day is priced by it: 1000×4 + 500×16 → $0.012.
        let later = post(
            &app,
            "/api/usage",
            json!({"event_id":"s2","model":"claude-sonnet-4-5","tokens_in":1000,"tokens_out":500,
                   "recorded_at":"2026-11-16T12:00:00Z"}),
        )
        .await;
        assert_eq!(
            dec(&later.body["records"][0]["cost_usd"]),
            d("0.012"),
            "{b}"
        );

        // DELETE: the stored layer is gone, the records keep their cost ...
        let gone = delete(&app, "acme-frontier-1").await;
        assert_eq!(gone.status, StatusCode::OK, "{b}: {}", gone.text);
        assert_eq!(gone.body["model"], Value::Null);
        assert_eq!(
            delete(&app, "acme-frontier-1").await.status,
            StatusCode::NOT_FOUND
        );
        let models = get(&app, "/api/models").await;
        assert_eq!(
            listed(&models.body, "acme-frontier-1")["priced"],
            Value::Null
        );
        assert_eq!(
            get(&app, "/api/models/acme-frontier-1").await.status,
            StatusCode::NOT_FOUND
        );
        let (total, unpriced, _) = by_model(&app, "acme-frontier-1").await;
        assert_eq!(
            (total, unpriced),
            (d("0.040538"), 0),
            "{b}: no silent change"
        );

        // ... until POST /admin/reprice, which applies the prices now in use.
        let repriced = post(
            &app,
            "/admin/reprice",
            json!({"start": "2026-11-10", "end": "2026-11-10"}),
        )
        .await;
        assert_eq!(repriced.status, StatusCode::OK, "{}", repriced.text);
        assert_eq!(repriced.body["report"]["records_changed"], 3, "{b}");
        let (total, unpriced, _) = by_model(&app, "acme-frontier-1").await;
        let records =
            integration_tests::listed_records(&app, "start_date=2026-11-10&end_date=2026-11-10")
                .await;
        assert_eq!((total, unpriced), (d("0.2605"), 3), "{b}: {records:#?}");
        // The Sonnet layer stays until it is deleted too.
        assert_eq!(
            delete(&app, "claude-sonnet-4-5-20250929").await.status,
            StatusCode::OK
        );
        let sonnet = get(&app, "/api/models/claude-sonnet-4-5").await;
        assert_eq!(sonnet.body["layers"], "catalog", "{b}");

        // New token prices over a catalog model keep the modifiers it has (GPT-5's flex
        // discount) unless the entry sets them.
        let gpt5 = |flex: Option<&str>| {
            let mut period =
                json!({"effective_from": "2026-12-01", "input": "1.5", "output": "12"});
            if let Some(flex) = flex {
                period["flex_multiplier"] = json!(flex);
            }
            json!({"provider": "openai", "family": "gpt-5", "prices": [period]})
        };
        let kept = put(&app, "gpt-5", gpt5(None)).await;
        let history = kept.body["model"]["history"].as_array().unwrap().clone();
        assert_eq!(
            dec(&history[0]["flex_multiplier"]),
            d("0.5"),
            "{b}: the catalog's"
        );
        assert_eq!(history.last().unwrap()["layer"], "stored");
        assert_eq!(
            dec(&history.last().unwrap()["flex_multiplier"]),
            d("0.5"),
            "{b}"
        );
        let own = put(&app, "gpt-5", gpt5(Some("0.6"))).await;
        let last = own.body["model"]["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(dec(&last["flex_multiplier"]), d("0.6"), "{b}: {}", own.text);
        assert_eq!(own.body["created"], false);
    }
}

/// Another instance on the same database (another Lambda) prices with a stored
/// price once its cache expires, without a restart.
#[tokio::test]
async fn another_instance_sees_a_stored_price_without_a_restart() {
    for t in both_stores().await {
        let b = t.backend;
        let admin = app(&t.store, "UTC");
        let ledger = Ledger::new(t.store.clone(), PriceCatalog::embedded(), "General")
            .with_price_ttl(Duration::ZERO);
        let state = shared::app::app_state(test_config("UTC"), ledger, Secret::new(TEST_KEY));
        let other = shared::http::router(state);
        let event = |id: &str| {
            json!({"event_id": id, "model": "acme-frontier-1", "tokens_in": 1000, "tokens_out": 1000,
                   "recorded_at": "2026-11-10T09:00:00Z"})
        };
        let before = post(&other, "/api/usage", event("o1")).await;
        assert_eq!(
            before.body["records"][0]["unpriced"], true,
            "{b}: {}",
            before.text
        );
        assert_eq!(
            put(&admin, "acme-frontier-1", acme_entry()).await.status,
            StatusCode::OK
        );
        // 1000×2 + 1000×8 = 10,000 → $0.01.
        let after = post(&other, "/api/usage", event("o2")).await;
        assert_eq!(
            after.body["records"][0]["unpriced"], false,
            "{b}: {}",
            after.text
        );
        assert_eq!(dec(&after.body["records"][0]["cost_usd"]), d("0.01"), "{b}");
        let shown = get(&other, "/api/models/acme-frontier-1").await;
        assert_eq!(shown.body["layers"], "stored", "{b}");
        let (total, unpriced, _) = by_model(&other, "acme-frontier-1").await;
        assert_eq!(
            (total, unpriced),
            (d("0.02"), 0),
            "{b}: o1 was priced by the PUT"
        );
    }
}

#[tokio::test]
async fn a_bad_entry_is_refused_naming_the_model_and_the_field() {
    for t in both_stores().await {
        let b = t.backend;
        let app = app(&t.store, "UTC");
        post(&app, "/api/usage", events()).await;
        let models_before = get(&app, "/api/models").await.body;
        let with_period = |period: Value| {
            let mut entry = acme_entry();
            entry["prices"] = json!([period]);
            entry
        };
        let cases = [
            (
                with_period(json!({"effective_from":"2026-12-01","input":"-2","output":"8"})),
                "prices[0].input",
            ),
            (
                with_period(json!({"effective_from":"2026-12-01","input":"two","output":"8"})),
                "prices[0].input",
            ),
            (
                with_period(json!({"effective_from":"2026-12-01","input":2,"output":"8"})),
                "prices[0].input",
            ),
            (
                with_period(json!({"effective_from":"2026-13-01","input":"2","output":"8"})),
                "effective_from",
            ),
            (
                with_period(
                    json!({"effective_from":"2026-12-01","input":"2","output":"8","turbo_multiplier":"2"}),
                ),
                "prices[0].turbo_multiplier",
            ),
            (
                with_period(json!({"effective_from":"2026-12-01","input":"2"})),
                "prices[0]",
            ),
            (
                {
                    let mut entry = acme_entry();
                    entry["aliases"] = json!(["claude-opus-4-5"]);
                    entry
                },
                "aliases",
            ),
            (
                {
                    let mut entry = acme_entry();
                    entry["prices"] = json!([]);
                    entry
                },
                "prices",
            ),
        ];
        for (body, field) in cases {
            let r = put(&app, "acme-frontier-1", body.clone()).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{b}: {body}: {}",
                r.text
            );
            let detail = &r.body["error"]["details"][0];
            assert_eq!(detail["model"], "acme-frontier-1", "{b}: {}", r.text);
            assert_eq!(detail["field"], field, "{b}: {body}: {}", r.text);
            let message = r.body["error"]["message"].as_str().unwrap();
            assert!(message.contains("acme-frontier-1"), "{b}: {message}");
        }
        let r = put(&app, "claude-opus-4-5", json!({"provider":"anthropic"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(
            r.body["error"]["details"][0]["model"],
            "claude-opus-4-5-20251101"
        );
        // Nothing changed: no stored entry, the same models, the records still unpriced.
        assert!(t.store.stored_prices().await.unwrap().is_empty(), "{b}");
        assert_eq!(get(&app, "/api/models").await.body, models_before, "{b}");
        let (_, unpriced, _) = by_model(&app, "acme-frontier-1").await;
        assert_eq!(unpriced, 3, "{b}");
    }
}
