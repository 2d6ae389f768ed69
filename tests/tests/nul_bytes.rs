//! NUL characters (U+0000), which Postgres text cannot hold: every endpoint refuses
//! them with the same 4xx naming the field on SQLite and Postgres, and nothing is
//! stored half-way; a record that arrives without an API in front (an import, a
//! collection) is stored alike on both, with U+FFFD in their place.

use http::{Method, StatusCode};
use integration_tests::{
    app, both_stores, call, get, ledger, listed_records, post, reported_usage, TEST_KEY,
};
use serde_json::{json, Value};
use shared::store::WriteMode;

/// The answer without what differs per request.
fn answer(reply: &integration_tests::Reply) -> (StatusCode, Value) {
    let mut body = reply.body.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("request_id");
    }
    (reply.status, body)
}

fn event(id: &str, label: &str) -> Value {
    json!({"event_id": id, "model": "claude-haiku-4-5", "tokens_in": 10, "tokens_out": 5,
           "session_label": label, "recorded_at": "2026-11-10T09:00:00Z"})
}

#[tokio::test]
async fn a_nul_character_gets_the_same_4xx_on_both_backends() {
    let mut answers: Vec<Vec<(StatusCode, Value)>> = Vec::new();
    for t in both_stores().await {
        let b = t.backend;
        let app = app(&t.store, "UTC");
        let mut seen = Vec::new();

        let single = post(&app, "/api/usage", event("n1", "peakpaws\u{0}review")).await;
        assert_eq!(
            single.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: {}",
            single.text
        );
        assert_eq!(
            single.body["error"]["details"][0]["field"], "session_label",
            "{b}"
        );
        seen.push(answer(&single));

        // One such item in a batch fails the batch with a 4xx (a client retrying on
        // 5xx would loop), and nothing of the batch is stored.
        let batch = json!([
            event("n2", "fine"),
            event("n3", "bad\u{0}"),
            event("n4", "fine")
        ]);
        let refused = post(&app, "/api/usage", batch).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: {}",
            refused.text
        );
        assert_eq!(refused.body["error"]["details"][0]["index"], 1, "{b}");
        seen.push(answer(&refused));
        let nested = post(
            &app,
            "/api/usage",
            json!({"event_id":"n5","model":"claude-haiku-4-5\u{0}","tokens_in":1,"tokens_out":1,
                   "recorded_at":"2026-11-10T09:00:00Z"}),
        )
        .await;
        assert_eq!(
            nested.body["error"]["details"][0]["field"], "model",
            "{b}: {}",
            nested.text
        );
        seen.push(answer(&nested));
        assert!(
            listed_records(&app, "start_date=2026-11-10&end_date=2026-11-10")
                .await
                .is_empty(),
            "{b}"
        );

        let filter = get(
            &app,
            "/costs/by-model?start=2026-11-10&end=2026-11-10&model=opus%00",
        )
        .await;
        assert_eq!(
            filter.status,
            StatusCode::BAD_REQUEST,
            "{b}: {}",
            filter.text
        );
        assert_eq!(filter.body["error"]["details"][0]["field"], "model", "{b}");
        seen.push(answer(&filter));

        let rules_before = get(&app, "/admin/project-mappings").await.body;
        let rule = post(
            &app,
            "/admin/project-mappings",
            json!({"pattern": "peakpaws-*", "project": "Peak\u{0}Paws"}),
        )
        .await;
        assert_eq!(
            rule.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: {}",
            rule.text
        );
        assert_eq!(rule.body["error"]["details"][0]["field"], "project", "{b}");
        seen.push(answer(&rule));
        let rules = get(&app, "/admin/project-mappings").await;
        assert_eq!(rules.body, rules_before, "{b}: no rule was stored");

        let price = call(
            &app,
            Method::PUT,
            "/admin/prices/acme-1",
            Some(
                json!({"provider": "acme", "family": "acme", "aliases": ["acme\u{0}one"],
                        "prices": [{"effective_from": "2026-01-01", "input": "1", "output": "2"}]}),
            ),
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(
            price.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: {}",
            price.text
        );
        assert_eq!(
            price.body["error"]["details"][0]["field"], "aliases[0]",
            "{b}"
        );
        seen.push(answer(&price));
        assert!(t.store.stored_prices().await.unwrap().is_empty(), "{b}");
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1], "SQLite and Postgres answer alike");
}

#[tokio::test]
async fn an_imported_nul_is_stored_alike_on_both_backends() {
    let mut stored = Vec::new();
    for t in both_stores().await {
        let at = "2026-11-10T09:00:00Z".parse().unwrap();
        let mut usage = reported_usage("imp\u{0}1", at, "claude-haiku-4-5", "0.5".parse().unwrap());
        usage.facts.session_label = Some("agent:main:\u{0}cron".into());
        usage.agent = Some("open\u{0}claw".into());
        let outcomes = ledger(&t.store)
            .ingest(vec![usage], WriteMode::InsertOnly)
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", t.backend));
        assert_eq!(outcomes.len(), 1);
        let app = app(&t.store, "UTC");
        let records = listed_records(&app, "start_date=2026-11-10&end_date=2026-11-10").await;
        assert_eq!(records.len(), 1, "{}", t.backend);
        let r = &records[0];
        assert_eq!(
            r["session_label"], "agent:main:\u{FFFD}cron",
            "{}",
            t.backend
        );
        assert_eq!(r["agent"], "open\u{FFFD}claw", "{}", t.backend);
        stored.push((
            r["event_id"].clone(),
            r["session_label"].clone(),
            r["agent"].clone(),
        ));
    }
    assert_eq!(stored[0], stored[1]);
}
