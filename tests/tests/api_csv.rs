//! `format=csv` on the cost reports and the raw-record export, and `stack_by` on
//! `/costs/range` (the dashboard's stacked chart), through the router on both backends.

use chrono::{DateTime, Duration, TimeZone, Utc};
use http::StatusCode;
use integration_tests::{app, both_stores, dec, get, ledger, post, reported_usage, Reply};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::store::WriteMode;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Parses RFC 4180 text (quoted fields, doubled quotes, CRLF rows) into rows of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "rows end with CRLF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

/// The rows of a CSV reply as maps from the header's names.
fn table(reply: &Reply) -> Vec<std::collections::HashMap<String, String>> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.headers["content-type"], "text/csv; charset=utf-8",
        "{}",
        reply.text
    );
    let rows = parse_csv(&reply.text);
    let header = &rows[0];
    rows[1..]
        .iter()
        .map(|row| {
            assert_eq!(row.len(), header.len(), "{row:?}");
            header.iter().cloned().zip(row.iter().cloned()).collect()
        })
        .collect()
}

fn file_name(reply: &Reply) -> String {
    let value = reply.headers["content-disposition"].to_str().unwrap();
    value
        .strip_prefix("attachment; filename=\"")
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("content-disposition: {value}"))
        .to_string()
}

/// Events on 2026-11-10 (UTC) with known exact costs; one label needs quoting.
fn events() -> Value {
    json!([
        {"event_id":"c1","model":"claude-opus-4-5-20251101","tokens_in":1000,"tokens_out":2000,
         "cache_read_tokens":10000,"cache_write_tokens":4000,"session_label":"peakpaws-safety-review",
         "agent":"openclaw","session_type":"subagent","recorded_at":"2026-11-10T09:00:00Z"},
        {"event_id":"c2","model":"claude-opus-4-5","tokens_in":1000,"tokens_out":2000,
         "cache_read_tokens":10000,"cache_write_tokens":4000,"session_label":"kanban-triage",
         "agent":"openclaw","recorded_at":"2026-11-11T10:00:00Z"},
        {"event_id":"c3","model":"claude-sonnet-4-5-20250929","tokens_in":1000,"tokens_out":500,
         "session_label":"misc, \"quoted\"\nlabel","agent":"trader","recorded_at":"2026-11-11T11:00:00Z",
         "metadata":{"ticket":"T-1"}},
        {"event_id":"c4","model":"gpt-4o","cost":"0.123456789012","recorded_at":"2026-11-12T12:00:00Z"}
    ])
}

#[tokio::test]
async fn cost_reports_export_as_csv_with_exact_figures() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        let created = post(&app, "/api/usage", events()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let range = "start=2026-11-10&end=2026-11-12";

        let json = get(&app, &format!("/costs/by-model?{range}")).await.body;
        let reply = get(&app, &format!("/costs/by-model?{range}&format=csv")).await;
        assert_eq!(
            file_name(&reply),
            "ai-costs-by-model-2026-11-10_2026-11-12.csv"
        );
        assert_eq!(
            reply.text.lines().next().unwrap(),
            "model,cost_usd,share,requests,unpriced_requests,input_tokens,output_tokens,\
             cache_read_tokens,cache_write_tokens,cache_write_5m_tokens,cache_write_1h_tokens,web_search_requests"
        );
        let rows = table(&reply);
        let items = json["breakdown"].as_array().unwrap();
        assert_eq!(rows.len(), items.len(), "{}", t.backend);
        for (row, item) in rows.iter().zip(items) {
            assert_eq!(row["model"], item["key"].as_str().unwrap());
            assert_eq!(
                row["cost_usd"],
                item["cost_usd"].to_string(),
                "the JSON figure's exact text"
            );
            assert_eq!(row["requests"], item["requests"].to_string());
        }
        let sum: Decimal = rows.iter().map(|r| d(&r["cost_usd"])).sum();
        assert_eq!(
            sum,
            d("0.303957"),
            "0.085 + 0.085 + 0.0105 + 0.123456789012 → 6 dp"
        );
        assert_eq!(sum, dec(&json["total_cost_usd"]));

        let filtered = table(
            &get(
                &app,
                &format!("/costs/by-project?{range}&project=PeakPaws&format=csv"),
            )
            .await,
        );
        assert_eq!(filtered.len(), 1);
        assert_eq!(
            (
                filtered[0]["project"].as_str(),
                filtered[0]["cost_usd"].as_str()
            ),
            ("PeakPaws", "0.085")
        );
        let agents = table(&get(&app, &format!("/costs/by-agent?{range}&format=csv")).await);
        assert!(agents.iter().any(|r| r["agent"] == "(none)"));

        let days = get(&app, &format!("/costs/range?{range}&format=csv")).await;
        assert_eq!(file_name(&days), "ai-costs-day-2026-11-10_2026-11-12.csv");
        let days = table(&days);
        assert_eq!(days.len(), 3);
        assert_eq!(
            days.iter()
                .map(|r| (r["period"].as_str(), r["cost_usd"].as_str()))
                .collect::<Vec<_>>(),
            [
                ("2026-11-10", "0.085"),
                ("2026-11-11", "0.0955"),
                ("2026-11-12", "0.123457")
            ]
        );
        assert_eq!(days[0]["start"], "2026-11-10T00:00:00Z");
        let weeks = table(
            &get(
                &app,
                "/costs/range?start=2026-11-01&end=2026-11-30&group_by=week&format=csv&tz=America/Chicago",
            )
            .await,
        );
        assert_eq!(weeks.len(), 6, "zero-filled weeks");

        let daily = get(&app, "/costs/daily?date=2026-11-11&format=csv").await;
        assert_eq!(file_name(&daily), "ai-costs-daily-2026-11-11.csv");
        let daily = table(&daily);
        let dimensions: std::collections::BTreeSet<&str> =
            daily.iter().map(|r| r["dimension"].as_str()).collect();
        assert_eq!(
            dimensions.into_iter().collect::<Vec<_>>(),
            ["model", "project", "session_type"]
        );
        for path in ["/costs/summary/weekly", "/costs/summary/monthly"] {
            let rows = table(&get(&app, &format!("{path}?format=csv")).await);
            assert!(rows.iter().any(|r| r["dimension"] == "day"), "{path}");
        }
        let cv = get(&app, "/costs/daily-summary?date=2026-11-11&format=csv").await;
        assert_eq!(file_name(&cv), "ai-costs-daily-summary-2026-11-11.csv");
        let cv = table(&cv);
        assert_eq!(
            (cv[0]["dimension"].as_str(), cv[0]["cost_usd"].as_str()),
            ("total", "0.10"),
            "cents, as Context Vault gets them"
        );
        let summary = table(
            &get(
                &app,
                "/api/usage/summary?start_date=2026-11-01&end_date=2026-11-30&group_by=month&format=csv",
            )
            .await,
        );
        assert_eq!(summary[0]["cost_usd"], "0.303957");

        for (uri, field) in [
            ("/costs/by-model?format=xml", "format"),
            ("/api/usage?format=csv&limit=10", "limit"),
            ("/costs/range?stack_by=colour", "stack_by"),
        ] {
            let r = get(&app, uri).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
            assert_eq!(r.body["error"]["details"][0]["field"], field, "{uri}");
        }
        let json = get(&app, &format!("/costs/by-model?{range}&format=json")).await;
        assert_eq!(json.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn usage_exports_every_record_exactly_with_filters() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        post(&app, "/api/usage", events()).await;
        let range = "start_date=2026-11-10&end_date=2026-11-12";
        let reply = get(&app, &format!("/api/usage?{range}&format=csv")).await;
        assert_eq!(file_name(&reply), "ai-usage-2026-11-10_2026-11-12.csv");
        let rows = table(&reply);
        assert_eq!(rows.len(), 4, "{}", t.backend);
        let ids: Vec<&str> = rows.iter().map(|r| r["event_id"].as_str()).collect();
        assert_eq!(
            ids,
            ["c4", "c3", "c2", "c1"],
            "newest first, like the JSON list"
        );
        assert_eq!(rows[0]["cost_usd"], "0.123456789012", "all 12 decimals");
        assert_eq!(rows[0]["cost_source"], "reported");
        assert_eq!(rows[1]["session_label"], "misc, \"quoted\"\nlabel");
        assert_eq!(rows[1]["metadata"], r#"{"ticket":"T-1"}"#);
        assert_eq!(rows[1]["cost_usd"], "0.0105");
        assert_eq!(rows[3]["project"], "PeakPaws");
        assert_eq!(rows[3]["recorded_at"], "2026-11-10T09:00:00Z");

        let opus = table(
            &get(
                &app,
                &format!("/api/usage?{range}&model=claude-opus-4-5&format=csv"),
            )
            .await,
        );
        assert_eq!(opus.len(), 2, "an alias filters the canonical model");
        let agentless =
            table(&get(&app, &format!("/api/usage?{range}&agent=(none)&format=csv")).await);
        assert_eq!(agentless.len(), 1);
        let day = table(
            &get(
                &app,
                "/api/usage?start_date=2026-11-11&end_date=2026-11-11&format=csv",
            )
            .await,
        );
        assert_eq!(day.len(), 2);
        let none = get(
            &app,
            "/api/usage?start_date=2026-01-01&end_date=2026-01-02&format=csv",
        )
        .await;
        assert_eq!(parse_csv(&none.text).len(), 1, "only the header");
    }
}

/// 4,500 records (more than two export pages), many sharing an instant: the export has
/// each exactly once, in the JSON list's order.
#[tokio::test]
async fn usage_export_pages_through_ties_in_order() {
    for t in both_stores().await {
        let base: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 5, 0, 0, 0).unwrap();
        let events: Vec<_> = (0..4_500)
            .map(|i| {
                let at = base + Duration::minutes(i / 7);
                reported_usage(&format!("tie-{i}"), at, "claude-haiku-4-5", d("0.000001"))
            })
            .collect();
        let ledger = ledger(&t.store);
        for chunk in events.chunks(1_500) {
            ledger
                .ingest(chunk.to_vec(), WriteMode::InsertOnly)
                .await
                .unwrap();
        }
        let app = app(&t.store, "UTC");
        let range = "start_date=2026-11-05&end_date=2026-11-06";
        let rows = table(&get(&app, &format!("/api/usage?{range}&format=csv")).await);
        assert_eq!(rows.len(), 4_500, "{}", t.backend);
        let mut listed = Vec::new();
        for offset in (0..4_500).step_by(1_000) {
            let page = get(
                &app,
                &format!("/api/usage?{range}&limit=1000&offset={offset}"),
            )
            .await;
            for record in page.body["records"].as_array().unwrap() {
                listed.push(record["id"].to_string());
            }
        }
        let exported: Vec<String> = rows.iter().map(|r| r["id"].clone()).collect();
        assert_eq!(exported, listed, "{}", t.backend);
    }
}

#[tokio::test]
async fn range_stacks_split_each_bucket_exactly() {
    for t in both_stores().await {
        let app = app(&t.store, "UTC");
        // Thirds of a micro-dollar: parts and buckets only add up through apportioning.
        let third = d("0.0000003333");
        let base = Utc.with_ymd_and_hms(2026, 11, 10, 9, 0, 0).unwrap();
        let models = ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"];
        let events: Vec<_> = (0..30)
            .map(|i| {
                let mut event = reported_usage(
                    &format!("s-{i}"),
                    base + Duration::hours(i * 5),
                    models[i as usize % 3],
                    third * Decimal::from(i + 1),
                );
                event.project = Some(["Alpha", "Beta"][i as usize % 2].into());
                event
            })
            .collect();
        ledger(&t.store)
            .ingest(events, WriteMode::InsertOnly)
            .await
            .unwrap();
        let range = "start=2026-11-10&end=2026-11-16";
        let plain = get(&app, &format!("/costs/range?{range}")).await.body;
        assert!(
            plain.get("stack_by").is_none(),
            "unchanged without stack_by"
        );
        for dim in ["model", "project", "session_type", "agent"] {
            let r = get(&app, &format!("/costs/range?{range}&stack_by={dim}")).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let body = &r.body;
            assert_eq!(body["stack_by"], dim);
            assert_eq!(body["total_cost_usd"], plain["total_cost_usd"]);
            let buckets = body["buckets"].as_array().unwrap();
            for (bucket, unstacked) in buckets.iter().zip(plain["buckets"].as_array().unwrap()) {
                assert_eq!(bucket["cost_usd"], unstacked["cost_usd"], "{dim}");
                let parts: Decimal = bucket["stack"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| dec(&p["cost_usd"]))
                    .sum();
                assert_eq!(
                    parts,
                    dec(&bucket["cost_usd"]),
                    "{dim} {}",
                    bucket["period"]
                );
            }
            let by_dim = get(
                &app,
                &format!("/costs/by-{}?{range}", dim.replace('_', "-")),
            )
            .await
            .body;
            assert_eq!(body["stack_totals"], by_dim["breakdown"], "{dim}");
        }
        let models = get(&app, &format!("/costs/range?{range}&stack_by=model"))
            .await
            .body;
        let first = &models["buckets"][0]["stack"];
        assert_eq!(first.as_array().unwrap().len(), 3, "{first}");
        assert_eq!(
            models["stack_totals"][0]["key"], "claude-haiku-4-5-20251001",
            "series by cost, canonical ids"
        );
        let stacked_csv = get(
            &app,
            &format!("/costs/range?{range}&stack_by=model&format=csv"),
        )
        .await;
        assert_eq!(
            file_name(&stacked_csv),
            "ai-costs-day-by-model-2026-11-10_2026-11-16.csv"
        );
        let rows = table(&stacked_csv);
        let sum: Decimal = rows.iter().map(|r| d(&r["cost_usd"])).sum();
        assert_eq!(sum, dec(&models["total_cost_usd"]));
        assert!(rows.iter().all(|r| r.contains_key("model")));
    }
}
