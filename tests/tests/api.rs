//! The REST API through the real router, on SQLite and on Postgres.

use http::{Method, StatusCode};
use integration_tests::{app, both_stores, call, dec, get, post, send_raw, TEST_KEY};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::domain::pricing::PriceCatalog;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Two Opus events and one Sonnet event on 2026-11-10 (UTC), plus a heartbeat.
fn sample_events() -> Value {
    json!([
        // 1000×5 + 2000×25 + 10000×0.5 + 4000×6.25 = 85,000 / 1e6 → $0.085
        {"event_id":"a1","model":"claude-opus-4-5-20251101","tokens_in":1000,"tokens_out":2000,
         "cache_read_tokens":10000,"cache_write_tokens":4000,"session_label":"peakpaws-safety-review",
         "agent":"openclaw","session_type":"subagent","recorded_at":"2026-11-10T09:00:00Z"},
        // alias of the same model, same price → $0.085
        {"event_id":"a2","model":"claude-opus-4-5","input_tokens":1000,"output_tokens":2000,
         "cache_read_tokens":10000,"cache_write_tokens":4000,"session_label":"kanban-triage",
         "agent":"openclaw","recorded_at":"2026-11-10T10:00:00Z"},
        // 1000×3 + 500×15 = 10,500 / 1e6 → $0.0105
        {"event_id":"a3","model":"claude-sonnet-4-5-20250929","tokens_in":1000,"tokens_out":500,
         "session_label":"misc","agent":"trader","recorded_at":"2026-11-10T11:00:00Z"},
        // Haiku 4.5, 100×1 + 10×5 = 150 / 1e6 → $0.00015; a heartbeat by label
        {"event_id":"a4","model":"claude-haiku-4-5","tokens_in":100,"tokens_out":10,
         "session_label":"openclaw-heartbeat","recorded_at":"2026-11-10T12:00:00Z"}
    ])
}

#[tokio::test]
async fn every_report_answers_in_the_documented_shape() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        let created = post(&app, "/api/usage", sample_events()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["created"], 4);
        assert_eq!(created.body["records"][0]["project"], "PeakPaws");
        assert_eq!(created.body["records"][3]["session_type"], "heartbeat");
        assert_eq!(dec(&created.body["records"][0]["cost_usd"]), d("0.085"));

        let range = "start=2026-11-10&end=2026-11-10";
        let by_model = get(&app, &format!("/costs/by-model?{range}")).await;
        assert_eq!(by_model.status, StatusCode::OK, "{}", by_model.text);
        let b = &by_model.body;
        assert_eq!(dec(&b["total_cost_usd"]), d("0.18065"), "{}", t.backend);
        assert_eq!(b["requests"], 4);
        assert_eq!(b["unpriced_requests"], 0);
        assert_eq!(b["timezone"], "UTC");
        assert_eq!(
            (b["start"].as_str(), b["end"].as_str()),
            (Some("2026-11-10"), Some("2026-11-10"))
        );
        assert_eq!(b["breakdown"][0]["key"], "claude-opus-4-5-20251101");
        assert_eq!(dec(&b["breakdown"][0]["cost_usd"]), d("0.17"));
        assert_eq!(b["breakdown"][0]["requests"], 2);
        assert_eq!(b["breakdown"][0]["cache_write_tokens"], 8000);
        let parts: Decimal = b["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| dec(&i["cost_usd"]))
            .sum();
        assert_eq!(parts, dec(&b["total_cost_usd"]));

        let by_project = get(&app, &format!("/costs/by-project?{range}")).await.body;
        let keys: Vec<&str> = by_project["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["Kanban Board", "PeakPaws", "General"]);
        let by_agent = get(&app, &format!("/costs/by-agent?{range}")).await.body;
        assert_eq!(by_agent["breakdown"][0]["key"], "openclaw");
        assert!(by_agent["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "(none)"));
        let by_type = get(&app, &format!("/costs/by-session-type?{range}"))
            .await
            .body;
        assert_eq!(by_type["breakdown"].as_array().unwrap().len(), 3);

        let filtered = get(&app, &format!("/costs/by-model?{range}&project=PeakPaws"))
            .await
            .body;
        assert_eq!(dec(&filtered["total_cost_usd"]), d("0.085"));

        let daily = get(&app, "/costs/daily?date=2026-11-10").await;
        assert_eq!(daily.status, StatusCode::OK);
        assert_eq!(dec(&daily.body["total_cost_usd"]), d("0.18065"));
        for key in ["by_model", "by_project", "by_session_type"] {
            assert!(daily.body[key].is_array(), "{key}");
        }

        let weeks = get(
            &app,
            "/costs/range?start=2026-11-01&end=2026-11-30&group_by=week",
        )
        .await
        .body;
        let buckets = weeks["buckets"].as_array().unwrap();
        assert_eq!(buckets[0]["period"], "2026-10-26");
        assert_eq!(buckets[1]["period"], "2026-11-02");
        assert_eq!(
            buckets.len(),
            6,
            "Sun 1 Nov is in the week of 26 Oct; Mon 30 Nov starts a sixth"
        );
        assert_eq!(buckets[5]["period"], "2026-11-30");
        let sum: Decimal = buckets.iter().map(|b| dec(&b["cost_usd"])).sum();
        assert_eq!(sum, dec(&weeks["total_cost_usd"]));
        let days = get(&app, "/costs/range?start=2026-11-01&end=2026-11-30")
            .await
            .body;
        assert_eq!(
            days["buckets"].as_array().unwrap().len(),
            30,
            "zero-filled days"
        );

        for path in ["/costs/summary/weekly", "/costs/summary/monthly"] {
            let s = get(&app, path).await;
            assert_eq!(s.status, StatusCode::OK, "{path}: {}", s.text);
            assert!(s.body["daily_average_usd"].is_number() && s.body["daily"].is_array());
        }

        let listed = get(
            &app,
            "/api/usage?start_date=2026-11-10&end_date=2026-11-10&limit=2",
        )
        .await
        .body;
        assert_eq!(listed["pagination"]["total"], 4);
        assert_eq!(listed["records"].as_array().unwrap().len(), 2);
        assert_eq!(listed["records"][0]["event_id"], "a4", "newest first");
        let summary = get(
            &app,
            "/api/usage/summary?start_date=2026-11-01&end_date=2026-11-30&group_by=month",
        )
        .await
        .body;
        assert_eq!(dec(&summary["buckets"][0]["cost_usd"]), d("0.18065"));

        let models = get(&app, "/api/models").await.body;
        // Every catalog model; every sample event is priced, so no unpriced one follows.
        let catalog = PriceCatalog::embedded().models().len();
        assert_eq!(models["count"].as_u64(), Some(catalog as u64));
        let alias = get(&app, "/api/models/claude-sonnet-4-5").await;
        assert_eq!(alias.body["id"], "claude-sonnet-4-5-20250929");
        assert_eq!(
            get(&app, "/api/models/no-such-model").await.status,
            StatusCode::NOT_FOUND
        );

        let status = get(&app, "/admin/status").await;
        assert_eq!(status.status, StatusCode::OK);
        assert_eq!(status.body["database"], t.backend);
        let health = call(&app, Method::GET, "/health", None, None).await;
        assert_eq!(health.body["status"], "ok");
    }
}

#[tokio::test]
async fn unpriced_models_are_visible_not_silent() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        let r = post(
            &app,
            "/api/usage",
            json!({"model":"acme-x1","tokens_in":5,"recorded_at":"2026-11-10T09:00:00Z"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.body["records"][0]["unpriced"], true);
        let b = get(&app, "/costs/by-model?start=2026-11-10&end=2026-11-10")
            .await
            .body;
        assert_eq!(
            (b["unpriced_requests"].as_i64(), b["requests"].as_i64()),
            (Some(1), Some(1))
        );
        let models = get(&app, "/api/models").await.body;
        assert!(models["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "acme-x1" && m["priced"] == false));
    }
}

#[tokio::test]
async fn every_route_but_health_requires_the_key() {
    let t = integration_tests::sqlite_store().await;
    let app = app(&t.store, "UTC");
    let routes = [
        (Method::GET, "/costs/daily"),
        (Method::GET, "/costs/range"),
        (Method::GET, "/costs/summary/weekly"),
        (Method::GET, "/costs/summary/monthly"),
        (Method::GET, "/costs/by-model"),
        (Method::GET, "/costs/by-session-type"),
        (Method::GET, "/costs/by-project"),
        (Method::GET, "/costs/by-agent"),
        (Method::GET, "/api/usage"),
        (Method::POST, "/api/usage"),
        (Method::GET, "/api/usage/summary"),
        (Method::DELETE, "/api/usage/1"),
        (Method::GET, "/api/models"),
        (Method::GET, "/api/models/gpt-4o"),
        (Method::GET, "/admin/project-mappings"),
        (Method::POST, "/admin/project-mappings"),
        (Method::PUT, "/admin/project-mappings/1"),
        (Method::DELETE, "/admin/project-mappings/1"),
        (Method::POST, "/admin/reprice"),
        (Method::GET, "/admin/status"),
    ];
    for (method, path) in routes {
        for key in [None, Some("wrong-key"), Some("")] {
            let r = call(&app, method.clone(), path, Some(json!({})), key).await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {key:?}"
            );
            assert_eq!(r.body["error"]["code"], "unauthorized");
            assert!(r.body["request_id"].is_string());
        }
    }
    let bearer = http::Request::builder()
        .uri("/costs/daily")
        .header("authorization", format!("Bearer {TEST_KEY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let r = tower::ServiceExt::oneshot(app.clone(), bearer)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let health = call(&app, Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(health.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn bad_input_is_rejected_and_nothing_is_stored() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        let batch = json!([
            {"event_id":"ok-1","model":"gpt-4o","tokens_in":10,"recorded_at":"2026-11-10T09:00:00Z"},
            {"event_id":"bad","model":"gpt-4o","tokens_in":-5,"recorded_at":"2026-11-10T09:00:00Z"},
            {"model":"gpt-4o","session_type":"boss","recorded_at":"2099-01-01T00:00:00Z","tokens_out":1.5}
        ]);
        let r = post(&app, "/api/usage", batch).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.body["error"]["code"], "invalid_request");
        let details = r.body["error"]["details"].as_array().unwrap();
        let pairs: Vec<(i64, &str)> = details
            .iter()
            .map(|e| (e["index"].as_i64().unwrap(), e["field"].as_str().unwrap()))
            .collect();
        for expected in [
            (1, "tokens_in"),
            (2, "session_type"),
            (2, "recorded_at"),
            (2, "tokens_out"),
        ] {
            assert!(
                pairs.contains(&expected),
                "{expected:?} missing from {pairs:?}"
            );
        }
        let listed = get(&app, "/api/usage?start_date=2026-11-01&end_date=2026-11-30")
            .await
            .body;
        assert_eq!(
            listed["pagination"]["total"], 0,
            "{}: a bad batch stored something",
            t.backend
        );

        let unknown = post(&app, "/api/usage", json!({"model":"gpt-4o","colour":"red"})).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.body["error"]["details"][0]["field"], "colour");

        let malformed = send_raw(
            &app,
            Method::POST,
            "/api/usage",
            Some(b"{\"model\": ".to_vec()),
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
        assert_eq!(malformed.body["error"]["details"][0]["field"], "body");

        let huge = vec![b' '; 2 * 1024 * 1024];
        let oversize = send_raw(&app, Method::POST, "/api/usage", Some(huge), Some(TEST_KEY)).await;
        assert_eq!(oversize.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(oversize.body["error"]["code"], "payload_too_large");

        for (uri, param) in [
            ("/costs/range?start=2026-11-31", "start"),
            ("/costs/range?start=2026-11-20&end=2026-11-01", "start"),
            ("/costs/by-model?start=2024-01-01&end=2026-01-01", "end"),
            ("/costs/daily?date=yesterday", "date"),
            ("/costs/range?group_by=year", "group_by"),
            ("/costs/by-model?tz=Mars/Olympus", "tz"),
            ("/costs/by-model?session_type=boss", "session_type"),
            ("/costs/by-model?grup=1", "grup"),
            ("/api/usage?limit=5000", "limit"),
            ("/api/usage?start_date=nope", "start_date"),
        ] {
            let r = get(&app, uri).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
            assert_eq!(r.body["error"]["details"][0]["field"], param, "{uri}");
        }
        assert_eq!(
            get(&app, "/no/such/route").await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn duplicate_event_ids_are_idempotent_or_conflicts() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        let event = json!({"event_id":"dup-1","model":"claude-haiku-4-5","tokens_in":100,"recorded_at":"2026-11-10T09:00:00Z"});
        assert_eq!(
            post(&app, "/api/usage", event.clone()).await.status,
            StatusCode::CREATED
        );
        let again = post(&app, "/api/usage", event.clone()).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(
            (
                again.body["created"].as_i64(),
                again.body["unchanged"].as_i64()
            ),
            (Some(0), Some(1))
        );
        let mut different = event.clone();
        different["tokens_in"] = json!(999);
        let batch = json!([{"event_id":"new-2","model":"claude-haiku-4-5","tokens_in":1,"recorded_at":"2026-11-10T09:00:00Z"}, different]);
        let conflict = post(&app, "/api/usage", batch).await;
        assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);
        assert_eq!(conflict.body["error"]["code"], "conflict");
        let listed = get(&app, "/api/usage?start_date=2026-11-10&end_date=2026-11-10")
            .await
            .body;
        assert_eq!(
            listed["pagination"]["total"], 1,
            "{}: only the first event is stored",
            t.backend
        );
    }
}

#[tokio::test]
async fn mapping_rules_are_editable_and_retag_reports() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        post(&app, "/api/usage", sample_events()).await;
        let range = "/costs/by-project?start=2026-11-10&end=2026-11-10";
        let rules = get(&app, "/admin/project-mappings").await.body;
        assert_eq!(
            rules["rules"].as_array().unwrap().len(),
            5,
            "seeded defaults"
        );
        let created = post(
            &app,
            "/admin/project-mappings",
            json!({"pattern":"misc*","project":"Research","priority":5}),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["retagged"]["records_changed"], 1);
        let id = created.body["rule"]["id"].as_i64().unwrap();
        let projects = get(&app, range).await.body;
        assert!(projects["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "Research"));
        let put = call(
            &app,
            Method::PUT,
            &format!("/admin/project-mappings/{id}"),
            Some(json!({"pattern":"misc*","project":"R&D"})),
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text);
        let projects = get(&app, range).await.body;
        assert!(projects["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "R&D"));
        let deleted = call(
            &app,
            Method::DELETE,
            &format!("/admin/project-mappings/{id}"),
            None,
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(deleted.status, StatusCode::OK);
        let projects = get(&app, range).await.body;
        assert!(projects["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "General"));
        let missing = call(
            &app,
            Method::DELETE,
            &format!("/admin/project-mappings/{id}"),
            None,
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let bad = post(
            &app,
            "/admin/project-mappings",
            json!({"pattern":"","project":"X"}),
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad.body["error"]["details"][0]["field"], "pattern");

        let reprice = post(
            &app,
            "/admin/reprice",
            json!({"start":"2026-11-01","end":"2026-11-30"}),
        )
        .await;
        assert_eq!(reprice.status, StatusCode::OK, "{}", reprice.text);
        assert_eq!(reprice.body["report"]["records_checked"], 4);
        assert_eq!(reprice.body["report"]["records_changed"], 0);
        let missing = post(&app, "/admin/reprice", json!({"start":"2026-11-01"})).await;
        assert_eq!(missing.body["error"]["details"][0]["field"], "end");
    }
}
