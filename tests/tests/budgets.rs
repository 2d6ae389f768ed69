//! Budgets and alerts (issue 17), on both backends: a daily budget of $10 for
//! PeakPaws firing 50 %, 80 % and 100 % once each, a new day starting fresh, a
//! failing webhook retried and then reported in `/admin/status`, the forecast,
//! the Context Vault channel against the fake vault, the checks a write starts
//! (debounced), and bad input refused field by field with nothing stored.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use integration_tests::fake_vault::{FakeVault, VAULT_KEY};
use integration_tests::fake_webhook::{FakeWebhook, Fault, HOOK_PATH};
use integration_tests::{
    app, both_stores, call, dec, get, ledger, post, reported_usage, test_config, TestStore,
    TEST_KEY,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::budgets::check::{AlertKind, AlertStatus};
use shared::budgets::deliver::Deliverer;
use shared::budgets::{parse_budget, Checker};
use shared::config::Secret;
use shared::cv::VaultAccess;
use shared::ledger::Ledger;
use shared::outbound::RetryPolicy;
use shared::store::WriteMode;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn usd(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// Three attempts, fast backoff, a 1 s timeout.
fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        retry_after_cap: Duration::from_secs(2),
        request_timeout: Duration::from_secs(1),
    }
}

fn checker(ledger: &Ledger, vault: Option<VaultAccess>) -> Checker {
    let deliverer = Deliverer::new(reqwest::Client::new(), policy(), vault);
    Checker::new(ledger.clone(), "UTC".parse().unwrap(), deliverer)
}

/// Stores a budget from its API body.
async fn budget(ledger: &Ledger, body: Value) -> i64 {
    let budget = parse_budget(&body, None).expect("a valid budget");
    ledger.store().save_budget(&budget).await.unwrap()
}

/// Pushes one event of `project` at `when` costing exactly `cost` USD.
async fn spend(ledger: &Ledger, id: &str, when: &str, project: &str, cost: &str) {
    let mut event = reported_usage(id, at(when), "claude-sonnet-4-5", usd(cost));
    event.project = Some(project.into());
    ledger
        .ingest(vec![event], WriteMode::InsertOnly)
        .await
        .unwrap();
}

fn peakpaws(url: &str) -> Value {
    json!({"name": "peakpaws-daily", "scope": {"dimension": "project", "value": "PeakPaws"},
           "period": "day", "amount_usd": "10", "thresholds": [50, 80, 100], "forecast": false,
           "channels": [{"type": "webhook", "url": url}]})
}

#[tokio::test]
async fn a_daily_budget_fires_each_threshold_once_and_a_new_day_starts_fresh() {
    for TestStore { backend, store, .. } in both_stores().await {
        let hook = FakeWebhook::start().await;
        let ledger = ledger(&store);
        let checker = checker(&ledger, None);
        let id = budget(&ledger, peakpaws(&hook.url)).await;
        let noon = at("2026-12-02T12:00:00Z");

        // $5.20 for PeakPaws (and $40 elsewhere, which the budget does not count).
        spend(&ledger, "p1", "2026-12-02T09:10:00Z", "PeakPaws", "3.00").await;
        spend(&ledger, "p2", "2026-12-02T10:20:00Z", "PeakPaws", "2.20").await;
        spend(&ledger, "o1", "2026-12-02T10:30:00Z", "Other", "40").await;
        let report = checker.check(noon, "test").await.unwrap();
        assert_eq!(report.fired.len(), 1, "{backend}: {:?}", report.fired);
        let fired = &report.fired[0];
        assert_eq!(
            (fired.kind, fired.threshold, fired.status, fired.attempts),
            (AlertKind::Threshold, 50, AlertStatus::Sent, 1),
            "{backend}"
        );
        let sent = hook.accepted();
        assert_eq!(sent.len(), 1, "{backend}");
        let message = &sent[0];
        assert_eq!(message["budget"], "peakpaws-daily", "{backend}");
        assert_eq!(
            message["scope"],
            json!({"dimension": "project", "value": "PeakPaws"})
        );
        assert_eq!(message["period"], "day");
        assert_eq!(message["period_start"], "2026-12-02");
        assert_eq!(dec(&message["spent"]), usd("5.2"), "{backend}");
        assert_eq!(dec(&message["amount"]), usd("10"));
        assert_eq!(dec(&message["percent"]), usd("52"));
        assert_eq!(message["threshold"], 50);
        assert_eq!(message["kind"], "threshold");
        let text = message["text"].as_str().unwrap();
        assert!(
            text.contains("peakpaws-daily")
                && text.contains("$5.20 of $10.00")
                && text.contains("50%"),
            "{backend}: {text}"
        );

        // Checking again fires nothing; $8.10 fires 80 % once.
        assert!(
            checker.check(noon, "test").await.unwrap().fired.is_empty(),
            "{backend}"
        );
        spend(&ledger, "p3", "2026-12-02T11:00:00Z", "PeakPaws", "2.90").await;
        let report = checker.check(noon, "test").await.unwrap();
        let fired: Vec<u32> = report.fired.iter().map(|a| a.threshold).collect();
        assert_eq!(fired, vec![80], "{backend}");
        assert_eq!(dec(&hook.accepted()[1]["spent"]), usd("8.1"), "{backend}");
        assert!(
            checker.check(noon, "test").await.unwrap().fired.is_empty(),
            "{backend}"
        );
        assert_eq!(hook.accepted().len(), 2, "{backend}");

        // $10.50 fires 100 %.
        spend(&ledger, "p4", "2026-12-02T11:30:00Z", "PeakPaws", "2.40").await;
        let report = checker.check(noon, "test").await.unwrap();
        let fired: Vec<u32> = report.fired.iter().map(|a| a.threshold).collect();
        assert_eq!(fired, vec![100], "{backend}");
        let status = &report.budgets[0];
        assert_eq!(status.figures.spent, usd("10.5"), "{backend}");
        assert_eq!(status.figures.percent, usd("105"), "{backend}");
        let period_alerts: Vec<(u32, AlertStatus)> = status
            .alerts
            .iter()
            .map(|a| (a.threshold, a.status))
            .collect();
        assert_eq!(
            period_alerts,
            vec![
                (50, AlertStatus::Sent),
                (80, AlertStatus::Sent),
                (100, AlertStatus::Sent)
            ],
            "{backend}"
        );

        // The next day starts fresh: nothing until its own spend passes 50 %; a
        // jump past several thresholds sends the highest only.
        let next = at("2026-12-03T08:00:00Z");
        let report = checker.check(next, "test").await.unwrap();
        assert!(report.fired.is_empty(), "{backend}: {:?}", report.fired);
        assert_eq!(report.budgets[0].figures.spent, Decimal::ZERO, "{backend}");
        assert!(report.budgets[0].alerts.is_empty(), "{backend}");
        spend(&ledger, "n1", "2026-12-03T07:00:00Z", "PeakPaws", "8.50").await;
        let report = checker.check(next, "test").await.unwrap();
        let fired: Vec<(u32, AlertStatus)> = report
            .fired
            .iter()
            .map(|a| (a.threshold, a.status))
            .collect();
        assert_eq!(fired, vec![(80, AlertStatus::Sent)], "{backend}");
        let day_two: Vec<(u32, AlertStatus)> = report.budgets[0]
            .alerts
            .iter()
            .map(|a| (a.threshold, a.status))
            .collect();
        assert_eq!(
            day_two,
            vec![(50, AlertStatus::Superseded), (80, AlertStatus::Sent)],
            "{backend}"
        );
        assert_eq!(hook.accepted().len(), 4, "{backend}");
        assert_eq!(hook.accepted()[3]["period_start"], "2026-12-03");

        // GET /costs/budgets shows the same figures; the hook's secret never shows.
        let api = app(&store, "UTC");
        let listed = get(&api, "/admin/budgets").await;
        assert_eq!(listed.status, StatusCode::OK, "{backend}: {}", listed.text);
        assert_eq!(listed.body["budgets"][0]["id"], id);
        assert!(
            !listed.text.contains(HOOK_PATH),
            "{backend}: {}",
            listed.text
        );
        let now = get(&api, "/costs/budgets").await;
        assert_eq!(now.status, StatusCode::OK, "{backend}: {}", now.text);
        assert!(!now.text.contains("xoxb-hook-secret"), "{backend}");
        assert_eq!(now.body["budgets"][0]["budget"]["name"], "peakpaws-daily");
    }
}

#[tokio::test]
async fn a_failing_webhook_is_retried_then_reported() {
    for TestStore { backend, store, .. } in both_stores().await {
        let hook = FakeWebhook::start().await;
        let ledger = ledger(&store);
        let checker = checker(&ledger, None);
        budget(&ledger, peakpaws(&hook.url)).await;
        let noon = at("2026-12-02T12:00:00Z");

        // A 429 with retry-after, then a 503: retried, delivered on the third attempt.
        hook.fail_next(
            1,
            Fault::RateLimited {
                retry_after_secs: 1,
            },
        );
        hook.fail_next(1, Fault::Status(503));
        spend(&ledger, "p1", "2026-12-02T09:00:00Z", "PeakPaws", "5.50").await;
        let started = std::time::Instant::now();
        let report = checker.check(noon, "test").await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{backend}: retry-after honoured"
        );
        let fired = &report.fired[0];
        assert_eq!(
            (fired.status, fired.attempts),
            (AlertStatus::Sent, 3),
            "{backend}"
        );
        assert_eq!(hook.requests(), 3, "{backend}");

        // Always 500: three attempts, then failed, with the hook's answer and never its URL.
        hook.fail_next(3, Fault::Status(500));
        spend(&ledger, "p2", "2026-12-02T10:00:00Z", "PeakPaws", "3.00").await;
        let report = checker.check(noon, "test").await.unwrap();
        let fired = &report.fired[0];
        assert_eq!(
            (fired.threshold, fired.status, fired.attempts),
            (80, AlertStatus::Failed, 3),
            "{backend}"
        );
        let error = fired.error.clone().unwrap();
        assert!(
            error.contains("HTTP 500") && error.contains("3 attempt"),
            "{backend}: {error}"
        );
        assert!(
            !error.contains("xoxb") && !error.contains("T0PEAKPAWS"),
            "{backend}: {error}"
        );
        assert_eq!(hook.requests(), 6, "{backend}");
        // A failed alert is final: the next check does not send it again.
        assert!(checker.check(noon, "test").await.unwrap().fired.is_empty());
        assert_eq!(hook.requests(), 6, "{backend}");

        // A 404 (Slack's no_service) is not retried.
        hook.fail_next(
            1,
            Fault::Rejected {
                status: 404,
                text: "no_service",
            },
        );
        spend(&ledger, "p3", "2026-12-02T11:00:00Z", "PeakPaws", "2.00").await;
        let report = checker.check(noon, "test").await.unwrap();
        let fired = &report.fired[0];
        assert_eq!((fired.threshold, fired.attempts), (100, 1), "{backend}");
        assert!(fired
            .error
            .as_deref()
            .unwrap()
            .contains("HTTP 404: no_service"));

        // /admin/status reports the failures.
        let status = get(&app(&store, "UTC"), "/admin/status").await;
        assert_eq!(status.status, StatusCode::OK, "{backend}: {}", status.text);
        let budgets = &status.body["budgets"];
        assert_eq!(budgets["budgets"], 1, "{backend}");
        let failed: Vec<i64> = budgets["failed_alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["threshold"].as_i64().unwrap())
            .collect();
        assert_eq!(failed, vec![100, 80], "{backend}");
        assert!(budgets["last_error"]
            .as_str()
            .unwrap()
            .contains("no_service"));
        assert!(!status.text.contains("xoxb"), "{backend}");
    }
}

#[tokio::test]
async fn a_day_half_over_at_sixty_percent_with_a_steady_rate_fires_the_forecast() {
    for TestStore { backend, store, .. } in both_stores().await {
        let hook = FakeWebhook::start().await;
        let ledger = ledger(&store);
        let checker = checker(&ledger, None);
        // Two $10 daily budgets with a forecast: PeakPaws has spent $12 a day for a
        // week (steady), Quiet $2 a day; both are at $6 (60 %) at noon.
        for (name, project) in [("peakpaws", "PeakPaws"), ("quiet", "Quiet")] {
            budget(
                &ledger,
                json!({"name": name, "scope": {"dimension": "project", "value": project},
                       "period": "day", "amount_usd": 10, "thresholds": [100], "forecast": true,
                       "channels": [{"type": "webhook", "url": hook.url}]}),
            )
            .await;
        }
        for day in 25..=30 {
            for hour in [3, 9, 15, 21] {
                let when = format!("2026-11-{day}T{hour:02}:00:00Z");
                spend(&ledger, &format!("pp-{day}-{hour}"), &when, "PeakPaws", "3").await;
                spend(&ledger, &format!("q-{day}-{hour}"), &when, "Quiet", "0.5").await;
            }
        }
        for hour in [3, 9, 15, 21] {
            let when = format!("2026-12-01T{hour:02}:00:00Z");
            spend(&ledger, &format!("pp-1-{hour}"), &when, "PeakPaws", "3").await;
            spend(&ledger, &format!("q-1-{hour}"), &when, "Quiet", "0.5").await;
        }
        for hour in [2, 8] {
            let when = format!("2026-12-02T{hour:02}:00:00Z");
            spend(&ledger, &format!("pp-2-{hour}"), &when, "PeakPaws", "3").await;
            spend(&ledger, &format!("q-2-{hour}"), &when, "Quiet", "3").await;
        }
        let report = checker
            .check(at("2026-12-02T12:00:00Z"), "test")
            .await
            .unwrap();
        let figures: Vec<(String, Decimal, Decimal)> = report
            .budgets
            .iter()
            .map(|s| {
                (
                    s.figures.budget.clone(),
                    s.figures.percent,
                    s.figures.projected,
                )
            })
            .collect();
        assert_eq!(
            figures,
            vec![
                ("peakpaws".to_string(), usd("60"), usd("12")),
                ("quiet".to_string(), usd("60"), usd("7")),
            ],
            "{backend}"
        );
        let fired: Vec<(String, AlertKind)> = report
            .fired
            .iter()
            .map(|a| (a.figures["budget"].as_str().unwrap().to_string(), a.kind))
            .collect();
        assert_eq!(
            fired,
            vec![("peakpaws".to_string(), AlertKind::Forecast)],
            "{backend}"
        );
        let sent = hook.accepted();
        assert_eq!(sent.len(), 1, "{backend}");
        assert_eq!(sent[0]["kind"], "forecast");
        assert_eq!(dec(&sent[0]["projected"]), usd("12"));
        assert!(
            sent[0]["text"].as_str().unwrap().contains("on course"),
            "{}",
            sent[0]
        );
        // Once per period.
        let again = checker
            .check(at("2026-12-02T13:00:00Z"), "test")
            .await
            .unwrap();
        assert!(again.fired.is_empty(), "{backend}: {:?}", again.fired);
    }
}

#[tokio::test]
async fn the_context_vault_channel_stores_a_small_alert_memory() {
    for TestStore { backend, store, .. } in both_stores().await {
        let vault = FakeVault::start().await;
        let ledger = ledger(&store);
        let checker = checker(&ledger, Some(vault.access()));
        budget(
            &ledger,
            json!({"name": "all-monthly", "period": "month", "amount_usd": "1500",
                   "channels": [{"type": "context_vault"}]}),
        )
        .await;
        spend(&ledger, "a1", "2026-12-01T09:00:00Z", "PeakPaws", "700").await;
        spend(&ledger, "a2", "2026-12-02T09:00:00Z", "Other", "80").await;
        let report = checker
            .check(at("2026-12-02T12:00:00Z"), "test")
            .await
            .unwrap();
        assert_eq!(report.fired.len(), 1, "{backend}: {:?}", report.fired);
        assert_eq!(
            report.fired[0].status,
            AlertStatus::Sent,
            "{backend}: {:?}",
            report.fired
        );
        let stored = vault.stored();
        assert_eq!(stored.len(), 1, "{backend}");
        assert_eq!(stored[0].headers["x-api-key"], VAULT_KEY);
        let memory = stored[0].json();
        assert_eq!(memory["memory_type"], "ai_cost_alert", "{backend}");
        assert_eq!(memory["workspace"], "openclaw_default");
        assert_eq!(
            memory["tags"],
            json!(["ai-cost", "budget-alert", "all-monthly", "2026-12-01"])
        );
        assert_eq!(
            dec(&memory["meta_data"]["figures"]["spent"]),
            usd("780"),
            "{backend}"
        );
        assert_eq!(memory["meta_data"]["threshold"], 50);
        assert!(
            memory["summary"]
                .as_str()
                .unwrap()
                .contains("$780.00 of $1500.00"),
            "{memory}"
        );
        assert!(
            stored[0].body.len() < 2_000,
            "a small memory: {} bytes",
            stored[0].body.len()
        );

        // Without a vault the channel fails, saying what to set.
        let unconfigured = self::checker(&ledger, None);
        spend(&ledger, "a3", "2026-12-02T10:00:00Z", "Other", "500").await;
        let report = unconfigured
            .check(at("2026-12-02T12:00:00Z"), "test")
            .await
            .unwrap();
        let fired = &report.fired[0];
        assert_eq!(
            (fired.threshold, fired.status),
            (80, AlertStatus::Failed),
            "{backend}"
        );
        assert!(fired
            .error
            .as_deref()
            .unwrap()
            .contains("CONTEXT_VAULT_URL"));
    }
}

#[tokio::test]
async fn a_write_starts_a_debounced_check() {
    for TestStore { backend, store, .. } in both_stores().await {
        let hook = FakeWebhook::start().await;
        let ledger = ledger(&store);
        let state =
            shared::app::app_state(test_config("UTC"), ledger.clone(), Secret::new(TEST_KEY));
        let api = shared::http::router(state.clone());
        // Debounce 1.5 s; the schedule never comes in this test.
        ledger.budget_watch().start(
            state.budgets.clone(),
            Duration::from_millis(1_500),
            Duration::from_secs(3_600),
        );
        let created = post(&api, "/admin/budgets", peakpaws(&hook.url)).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{backend}: {}",
            created.text
        );
        let now = Utc::now().to_rfc3339();
        let push = |id: &str, cost: &str| {
            json!({"event_id": id, "recorded_at": now, "model": "claude-sonnet-4-5",
                   "project": "PeakPaws", "input_tokens": 10, "output_tokens": 5, "cost": cost})
        };
        let started = std::time::Instant::now();
        let pushed = post(&api, "/api/usage", push("w1", "5.20")).await;
        assert!(pushed.status.is_success(), "{backend}: {}", pushed.text);
        wait_for(&hook, 1).await;
        // Another push within the debounce: one more check when it ends, not before.
        let pushed = post(&api, "/api/usage", push("w2", "2.90")).await;
        assert!(pushed.status.is_success(), "{backend}: {}", pushed.text);
        tokio::time::sleep(Duration::from_millis(300)).await;
        if started.elapsed() < Duration::from_millis(1_300) {
            assert_eq!(hook.accepted().len(), 1, "{backend}: debounced");
        }
        wait_for(&hook, 2).await;
        let thresholds: Vec<i64> = hook
            .accepted()
            .iter()
            .map(|m| m["threshold"].as_i64().unwrap())
            .collect();
        assert_eq!(thresholds, vec![50, 80], "{backend}");
    }
}

async fn wait_for(hook: &FakeWebhook, messages: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while hook.accepted().len() < messages {
        assert!(
            std::time::Instant::now() < deadline,
            "no alert {messages} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn bad_budgets_are_refused_field_by_field_and_nothing_is_stored() {
    for TestStore { backend, store, .. } in both_stores().await {
        let api = app(&store, "UTC");
        let good = json!({"name": "b", "period": "week", "amount_usd": "25.5",
                          "channels": [{"type": "webhook", "url": "https://hooks.slack.com/services/T1/B1/sekrit"}]});
        let cases: Vec<(Value, &str)> = vec![
            (
                json!({"scope": {"dimension": "team", "value": "x"}}),
                "scope.dimension",
            ),
            (json!({"period": "year"}), "period"),
            (json!({"amount_usd": "0"}), "amount_usd"),
            (json!({"amount_usd": -5}), "amount_usd"),
            (json!({"amount_usd": "ten"}), "amount_usd"),
            (json!({"thresholds": [0]}), "thresholds[0]"),
            (json!({"thresholds": [50, 1001]}), "thresholds[1]"),
            (
                json!({"channels": [{"type": "webhook", "url": "http://hooks.example.com/x/sekrit"}]}),
                "channels[0].url",
            ),
            (json!({"channels": [{"type": "sms"}]}), "channels[0].type"),
            (json!({"name": ""}), "name"),
        ];
        for (change, field) in cases {
            let mut body = good.clone();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let reply = post(&api, "/admin/budgets", body.clone()).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {body}: {}",
                reply.text
            );
            let named: Vec<&str> = reply.body["error"]["details"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["field"].as_str().unwrap())
                .collect();
            assert_eq!(named, vec![field], "{backend} {body}");
            assert!(!reply.text.contains("sekrit"), "{backend}: {}", reply.text);
        }
        let listed = get(&api, "/admin/budgets").await;
        assert_eq!(
            listed.body["budgets"],
            json!([]),
            "{backend}: nothing stored"
        );

        // Create, a duplicate name, a PUT keeping the URL it was shown, DELETE.
        let created = post(&api, "/admin/budgets", good.clone()).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{backend}: {}",
            created.text
        );
        assert_eq!(created.body["thresholds"], json!([50, 80, 100]));
        assert_eq!(
            created.body["channels"][0]["url"],
            "https://hooks.slack.com/…"
        );
        let id = created.body["id"].as_i64().unwrap();
        let twice = post(&api, "/admin/budgets", good.clone()).await;
        assert_eq!(
            twice.status,
            StatusCode::CONFLICT,
            "{backend}: {}",
            twice.text
        );
        let mut edited = created.body.clone();
        for field in ["id", "created_at", "updated_at"] {
            edited.as_object_mut().unwrap().remove(field);
        }
        edited["amount_usd"] = json!("30");
        let uri = format!("/admin/budgets/{id}");
        let put = call(
            &api,
            Method::PUT,
            &uri,
            Some(edited.clone()),
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(put.status, StatusCode::OK, "{backend}: {}", put.text);
        assert_eq!(dec(&put.body["amount_usd"]), usd("30"));
        let stored = store.list_budgets().await.unwrap();
        assert_eq!(
            format!("{:?}", stored[0].channels),
            "[Webhook { url: \"https://hooks.slack.com/…\" }]",
            "Debug never shows the URL"
        );
        match &stored[0].channels[0] {
            shared::budgets::Channel::Webhook { url } => {
                assert_eq!(
                    url.expose(),
                    "https://hooks.slack.com/services/T1/B1/sekrit",
                    "{backend}"
                )
            }
            other => panic!("{other:?}"),
        }
        let bad_put = call(
            &api,
            Method::PUT,
            &uri,
            Some(json!({"name": "b", "period": "day", "amount_usd": 0})),
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(bad_put.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            store.list_budgets().await.unwrap()[0].amount_usd,
            usd("30"),
            "{backend}: unchanged"
        );
        let missing = call(
            &api,
            Method::PUT,
            "/admin/budgets/999",
            Some(edited),
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{backend}");
        let check = call(
            &api,
            Method::POST,
            "/admin/budgets/check",
            None,
            Some(TEST_KEY),
        )
        .await;
        assert_eq!(check.status, StatusCode::OK, "{backend}: {}", check.text);
        assert_eq!(check.body["budgets"][0]["figures"]["budget"], "b");
        let deleted = call(&api, Method::DELETE, &uri, None, Some(TEST_KEY)).await;
        assert_eq!(
            deleted.status,
            StatusCode::OK,
            "{backend}: {}",
            deleted.text
        );
        let again = call(&api, Method::DELETE, &uri, None, Some(TEST_KEY)).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{backend}");
    }
}
