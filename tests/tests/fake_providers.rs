//! Tests of the fake Anthropic/OpenAI admin usage APIs themselves.

use std::collections::HashMap;
use std::io::BufRead;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use integration_tests::fake_providers::{
    FakeConfig, FakeProvider, FakeProviders, FakeState, Fault,
};
use reqwest::{Client, Response, Url};
use serde_json::Value;

const A_USAGE: &str = "/v1/organizations/usage_report/messages";
const O_USAGE: &str = "/v1/organization/usage/completions";

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn rfc(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn url(fake: &FakeProviders, path: &str, params: &[(&str, &str)]) -> Url {
    Url::parse_with_params(&format!("{}{path}", fake.url), params).unwrap()
}

async fn anthropic(fake: &FakeProviders, path: &str, params: &[(&str, &str)]) -> Response {
    Client::new()
        .get(url(fake, path, params))
        .header("x-api-key", &fake.state.config().anthropic_key)
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap()
}

async fn openai(fake: &FakeProviders, path: &str, params: &[(&str, &str)]) -> Response {
    Client::new()
        .get(url(fake, path, params))
        .bearer_auth(&fake.state.config().openai_key)
        .send()
        .await
        .unwrap()
}

async fn json_ok(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "body: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The body as JSON, whatever the status (reqwest's `json` feature is not enabled).
async fn body_json(response: Response) -> Value {
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn int(value: &Value) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("not an integer: {value}"))
}

/// Follows `next_page` to the end; returns every page.
async fn anthropic_pages(fake: &FakeProviders, params: &[(&str, &str)]) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut query = params.to_vec();
        if let Some(token) = &page {
            query.push(("page", token.as_str()));
        }
        let body = json_ok(anthropic(fake, A_USAGE, &query).await).await;
        page = body["next_page"].as_str().map(str::to_string);
        assert_eq!(body["has_more"].as_bool().unwrap(), page.is_some());
        pages.push(body);
        if page.is_none() {
            return pages;
        }
        assert!(pages.len() < 50, "runaway pagination");
    }
}

async fn openai_pages(fake: &FakeProviders, params: &[(&str, &str)]) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut query = params.to_vec();
        if let Some(token) = &page {
            query.push(("page", token.as_str()));
        }
        let body = json_ok(openai(fake, O_USAGE, &query).await).await;
        page = body["next_page"].as_str().map(str::to_string);
        assert_eq!(body["has_more"].as_bool().unwrap(), page.is_some());
        pages.push(body);
        if page.is_none() {
            return pages;
        }
        assert!(pages.len() < 50, "runaway pagination");
    }
}

fn buckets(pages: &[Value]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn anthropic_three_days_hourly_take_three_pages_with_empty_buckets() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let (start, end) = (at(2026, 11, 16, 0), at(2026, 11, 19, 0));
    let pages = anthropic_pages(
        &fake,
        &[
            ("starting_at", &rfc(start)),
            ("ending_at", &rfc(end)),
            ("bucket_width", "1h"),
            ("limit", "168"),
        ],
    )
    .await;
    assert_eq!(pages.len(), 3);
    assert!(pages[..2].iter().all(|p| p["has_more"] == true));
    assert!(pages[2]["next_page"].is_null());
    assert!(pages[0]["next_page"].as_str().unwrap().starts_with("page_"));
    let all = buckets(&pages);
    assert_eq!(all.len(), 72);
    let mut expected_start = start;
    let mut empty = 0;
    for bucket in &all {
        let bucket_start = bucket["starting_at"].as_str().unwrap();
        assert_eq!(bucket_start, rfc(expected_start));
        assert!(bucket_start.ends_with('Z'));
        let bucket_end = expected_start + chrono::Duration::hours(1);
        assert_eq!(bucket["ending_at"].as_str().unwrap(), rfc(bucket_end));
        let results = bucket["results"].as_array().unwrap();
        let truth = fake.state.anthropic_rows(expected_start, bucket_end);
        if truth.is_empty() {
            assert!(results.is_empty());
            empty += 1;
        } else {
            // Ungrouped: one aggregate row, every dimension null.
            assert_eq!(results.len(), 1);
            let row = &results[0];
            for dim in [
                "model",
                "api_key_id",
                "workspace_id",
                "service_tier",
                "context_window",
                "inference_geo",
            ] {
                assert!(row[dim].is_null(), "{dim} should be null: {row}");
            }
            let sum = |f: fn(&integration_tests::fake_providers::AnthropicRow) -> i64| {
                truth.iter().map(f).sum::<i64>()
            };
            assert_eq!(
                int(&row["uncached_input_tokens"]),
                sum(|r| r.uncached_input_tokens)
            );
            assert_eq!(int(&row["output_tokens"]), sum(|r| r.output_tokens));
            assert_eq!(
                int(&row["cache_read_input_tokens"]),
                sum(|r| r.cache_read_input_tokens)
            );
            assert_eq!(
                int(&row["cache_creation"]["ephemeral_5m_input_tokens"]),
                sum(|r| r.cache_creation_5m)
            );
            assert_eq!(
                int(&row["cache_creation"]["ephemeral_1h_input_tokens"]),
                sum(|r| r.cache_creation_1h)
            );
            assert_eq!(
                int(&row["server_tool_use"]["web_search_requests"]),
                sum(|r| r.web_search_requests)
            );
        }
        expected_start = bucket_end;
    }
    assert!(empty > 0, "expected some hours without usage");
    assert!(empty < 30, "too many empty hours: {empty}");
    assert_eq!(fake.state.usage_pages_served(FakeProvider::Anthropic), 3);
    let last = fake
        .state
        .last_usage_query(FakeProvider::Anthropic)
        .unwrap();
    assert!(last.iter().any(|(k, _)| k == "page"));
}

#[tokio::test]
async fn anthropic_buckets_outside_history_are_empty_and_default_end_is_limit() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    // now = 2026-11-20T12:34:56Z: the 12:00 hour is not complete, so it and later are empty.
    let body = json_ok(
        anthropic(
            &fake,
            A_USAGE,
            &[
                ("starting_at", "2026-11-20T09:30:00Z"),
                ("bucket_width", "1h"),
                ("limit", "6"),
            ],
        )
        .await,
    )
    .await;
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 6, "default ending_at = start + limit buckets");
    assert_eq!(
        data[0]["starting_at"], "2026-11-20T09:00:00Z",
        "snapped to the hour"
    );
    assert_eq!(data[5]["ending_at"], "2026-11-20T15:00:00Z");
    assert_eq!(body["has_more"], false);
    for bucket in &data[3..] {
        assert!(bucket["results"].as_array().unwrap().is_empty());
    }
    let (first, end) = fake.state.data_range();
    assert_eq!(end, at(2026, 11, 20, 12));
    assert_eq!(first, at(2026, 10, 16, 12));
    assert!(fake
        .state
        .anthropic_rows(at(2026, 1, 1, 0), first)
        .is_empty());
    assert!(fake.state.anthropic_rows(end, at(2027, 1, 1, 0)).is_empty());
    assert!(!fake.state.anthropic_rows(first, end).is_empty());
    // ending_at is exclusive of partial buckets.
    let body = json_ok(
        anthropic(
            &fake,
            A_USAGE,
            &[
                ("starting_at", "2026-11-19T00:00:00Z"),
                ("ending_at", "2026-11-19T03:30:00Z"),
                ("bucket_width", "1h"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn anthropic_group_by_model_aggregates_the_other_dimensions() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let (start, end) = (at(2026, 11, 10, 0), at(2026, 11, 11, 0));
    let truth = fake.state.anthropic_rows(start, end);
    let mut expected: HashMap<String, (i64, i64)> = HashMap::new();
    for row in &truth {
        let entry = expected.entry(row.model.clone()).or_default();
        entry.0 += row.uncached_input_tokens;
        entry.1 += row.cache_read_input_tokens;
    }
    assert!(expected.len() >= 4, "several models expected: {expected:?}");
    for group_key in ["group_by[]", "group_by"] {
        let pages = anthropic_pages(
            &fake,
            &[
                ("starting_at", &rfc(start)),
                ("ending_at", &rfc(end)),
                ("bucket_width", "1h"),
                (group_key, "model"),
            ],
        )
        .await;
        let mut got: HashMap<String, (i64, i64)> = HashMap::new();
        for bucket in buckets(&pages) {
            let results = bucket["results"].as_array().unwrap();
            let models: std::collections::HashSet<_> = results
                .iter()
                .map(|r| r["model"].as_str().unwrap())
                .collect();
            assert_eq!(
                models.len(),
                results.len(),
                "one result per model per bucket"
            );
            for result in results {
                for dim in [
                    "api_key_id",
                    "workspace_id",
                    "service_tier",
                    "context_window",
                    "inference_geo",
                ] {
                    assert!(result[dim].is_null(), "{dim} should be null: {result}");
                }
                let entry = got
                    .entry(result["model"].as_str().unwrap().into())
                    .or_default();
                entry.0 += int(&result["uncached_input_tokens"]);
                entry.1 += int(&result["cache_read_input_tokens"]);
            }
        }
        assert_eq!(got, expected, "{group_key}");
    }

    // Grouped by every dimension: exactly the ground-truth rows.
    let one_hour = at(2026, 11, 10, 14);
    let all_dims = [
        ("starting_at", rfc(one_hour)),
        ("ending_at", rfc(one_hour + chrono::Duration::hours(1))),
        ("bucket_width", "1h".into()),
        ("group_by[]", "model".into()),
        ("group_by[]", "api_key_id".into()),
        ("group_by[]", "workspace_id".into()),
        ("group_by[]", "service_tier".into()),
        ("group_by[]", "context_window".into()),
        ("group_by[]", "inference_geo".into()),
    ];
    let params: Vec<(&str, &str)> = all_dims.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = json_ok(anthropic(&fake, A_USAGE, &params).await).await;
    let results = body["data"][0]["results"].as_array().unwrap();
    let truth = fake
        .state
        .anthropic_rows(one_hour, one_hour + chrono::Duration::hours(1));
    assert_eq!(results.len(), truth.len());
    for row in &truth {
        let found = results
            .iter()
            .find(|r| {
                r["model"] == row.model.as_str()
                    && r["api_key_id"].as_str() == row.api_key_id.as_deref()
                    && r["workspace_id"].as_str() == row.workspace_id.as_deref()
                    && r["service_tier"] == row.service_tier.as_str()
                    && r["context_window"] == row.context_window.as_str()
                    && r["inference_geo"] == row.inference_geo.as_str()
            })
            .unwrap_or_else(|| panic!("row missing from response: {row:?}"));
        assert_eq!(int(&found["output_tokens"]), row.output_tokens);
    }

    // A filter narrows the rows.
    let body = json_ok(
        anthropic(
            &fake,
            A_USAGE,
            &[
                ("starting_at", &rfc(start)),
                ("ending_at", &rfc(end)),
                ("bucket_width", "1d"),
                ("models[]", "claude-opus-4-6"),
                ("group_by[]", "model"),
            ],
        )
        .await,
    )
    .await;
    let results = body["data"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["model"], "claude-opus-4-6");
    assert_eq!(
        int(&results[0]["uncached_input_tokens"]),
        expected["claude-opus-4-6"].0
    );
}

#[tokio::test]
async fn anthropic_daily_bucket_sums_its_hours() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let day = at(2026, 11, 1, 0);
    let body = json_ok(
        anthropic(
            &fake,
            A_USAGE,
            &[("starting_at", "2026-11-01T07:00:00Z"), ("limit", "2")],
        )
        .await,
    )
    .await;
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "bucket_width defaults to 1d");
    assert_eq!(data[0]["starting_at"], "2026-11-01T00:00:00Z");
    assert_eq!(data[0]["ending_at"], "2026-11-02T00:00:00Z");
    let truth = fake
        .state
        .anthropic_rows(day, day + chrono::Duration::days(1));
    let output: i64 = truth.iter().map(|r| r.output_tokens).sum();
    assert_eq!(int(&data[0]["results"][0]["output_tokens"]), output);
}

#[tokio::test]
async fn anthropic_auth_and_request_errors() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let query = [
        ("starting_at", "2026-11-19T00:00:00Z"),
        ("bucket_width", "1h"),
    ];

    let response = Client::new()
        .get(url(&fake, A_USAGE, &query))
        .header("x-api-key", "sk-ant-admin01-wrong")
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let request_id = header(&response, "request-id").expect("request-id header");
    assert!(request_id.starts_with("req_"));
    let body = body_json(response).await;
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(body["error"]["message"].is_string());
    assert_eq!(body["request_id"], request_id.as_str());

    let response = Client::new()
        .get(url(&fake, A_USAGE, &query))
        .header("x-api-key", "sk-ant-admin01-fake")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(header(&response, "request-id").is_some());
    let body = body_json(response).await;
    assert_eq!(body["error"]["type"], "invalid_request_error");

    for bad in [
        vec![
            ("starting_at", "2026-11-19T00:00:00Z"),
            ("bucket_width", "1h"),
            ("limit", "169"),
        ],
        vec![
            ("starting_at", "2026-11-19T00:00:00Z"),
            ("bucket_width", "1d"),
            ("limit", "32"),
        ],
        vec![("bucket_width", "1h")],
        vec![("starting_at", "yesterday"), ("bucket_width", "1h")],
        vec![
            ("starting_at", "2026-11-19T00:00:00Z"),
            ("bucket_width", "2h"),
        ],
        vec![
            ("starting_at", "2026-11-19T00:00:00Z"),
            ("group_by[]", "colour"),
        ],
        vec![
            ("starting_at", "2026-11-19T00:00:00Z"),
            ("ending_at", "2026-11-18T00:00:00Z"),
        ],
        vec![
            ("starting_at", "2026-11-19T00:00:00Z"),
            ("page", "page_garbage!"),
        ],
    ] {
        let response = anthropic(&fake, A_USAGE, &bad).await;
        assert_eq!(response.status(), 400, "{bad:?}");
        let body = body_json(response).await;
        assert_eq!(body["error"]["type"], "invalid_request_error", "{bad:?}");
    }
    // Successful answers carry a request-id too.
    let response = anthropic(&fake, A_USAGE, &query).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "request-id").is_some());
    assert_eq!(fake.state.usage_requests(FakeProvider::Anthropic), 11);
    assert_eq!(fake.state.usage_pages_served(FakeProvider::Anthropic), 1);
}

#[tokio::test]
async fn anthropic_faults_in_order() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let query = [
        ("starting_at", "2026-11-19T00:00:00Z"),
        ("bucket_width", "1h"),
    ];
    let a = FakeProvider::Anthropic;
    fake.state.push_fault(
        a,
        Fault::RateLimited {
            retry_after_secs: Some(7),
        },
    );
    fake.state.push_fault(a, Fault::ServerError(529));
    fake.state.push_fault(a, Fault::Malformed);
    fake.state.push_fault(a, Fault::Forbidden);
    fake.state
        .push_fault(a, Fault::Delay(Duration::from_millis(150)));

    // Name listings are not affected by usage faults.
    let response = anthropic(&fake, "/v1/organizations/workspaces", &[]).await;
    assert_eq!(response.status(), 200);

    let response = anthropic(&fake, A_USAGE, &query).await;
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after").as_deref(), Some("7"));
    let body = body_json(response).await;
    assert_eq!(body["error"]["type"], "rate_limit_error");

    let response = anthropic(&fake, A_USAGE, &query).await;
    assert_eq!(response.status(), 529);
    let body = body_json(response).await;
    assert_eq!(body["error"]["type"], "overloaded_error");

    let response = anthropic(&fake, A_USAGE, &query).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    assert!(serde_json::from_str::<Value>(&response.text().await.unwrap()).is_err());

    let response = anthropic(&fake, A_USAGE, &query).await;
    assert_eq!(response.status(), 403);
    let body = body_json(response).await;
    assert_eq!(body["error"]["type"], "permission_error");

    let started = Instant::now();
    let response = anthropic(&fake, A_USAGE, &query).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    json_ok(response).await;

    assert_eq!(fake.state.usage_requests(a), 5);
    assert_eq!(fake.state.usage_pages_served(a), 1);
    assert_eq!(fake.state.name_requests(a), 1);

    // fail_after_pages: two more good pages, then 503 until cleared.
    fake.state.fail_after_pages(a, 2, 503);
    json_ok(anthropic(&fake, A_USAGE, &query).await).await;
    json_ok(anthropic(&fake, A_USAGE, &query).await).await;
    for _ in 0..2 {
        let response = anthropic(&fake, A_USAGE, &query).await;
        assert_eq!(response.status(), 503);
        let body = body_json(response).await;
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "api_error");
    }
    fake.state.clear_faults();
    json_ok(anthropic(&fake, A_USAGE, &query).await).await;
    assert_eq!(fake.state.usage_pages_served(a), 4);
    assert_eq!(fake.state.usage_requests(a), 10);
    // The other provider is untouched.
    assert_eq!(fake.state.usage_requests(FakeProvider::Openai), 0);

    fake.state.push_fault(
        a,
        Fault::RateLimited {
            retry_after_secs: None,
        },
    );
    fake.state.push_fault(a, Fault::Unauthorized);
    let response = anthropic(&fake, A_USAGE, &query).await;
    assert_eq!(response.status(), 429);
    assert!(header(&response, "retry-after").is_none());
    let response = anthropic(&fake, A_USAGE, &query).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn delay_past_the_client_timeout_is_not_a_served_page() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let a = FakeProvider::Anthropic;
    fake.state
        .push_fault(a, Fault::Delay(Duration::from_millis(400)));
    let query = [
        ("starting_at", "2026-11-19T00:00:00Z"),
        ("bucket_width", "1h"),
    ];
    let result = Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap()
        .get(url(&fake, A_USAGE, &query))
        .header("x-api-key", "sk-ant-admin01-fake")
        .header("anthropic-version", "2023-06-01")
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    // The retry is answered at once; the abandoned request, once its delay is over, is not
    // counted as a served page (the server drops it with the closed connection).
    json_ok(anthropic(&fake, A_USAGE, &query).await).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.state.usage_requests(a), 2);
    assert_eq!(fake.state.usage_pages_served(a), 1);
}

#[tokio::test]
async fn anthropic_name_listings_paginate() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let mut names = HashMap::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut query = vec![("limit", "20".to_string())];
        if let Some(id) = &after {
            query.push(("after_id", id.clone()));
        }
        let params: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = json_ok(anthropic(&fake, "/v1/organizations/api_keys", &params).await).await;
        pages += 1;
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        assert_eq!(body["first_id"], data[0]["id"]);
        assert_eq!(body["last_id"], data[data.len() - 1]["id"]);
        for key in data {
            assert_eq!(key["type"], "api_key");
            assert!(key["id"].as_str().unwrap().starts_with("apikey_01"));
            names.insert(
                key["id"].as_str().unwrap().to_string(),
                key["name"].as_str().unwrap().to_string(),
            );
        }
        if body["has_more"] == false {
            break;
        }
        after = Some(body["last_id"].as_str().unwrap().to_string());
    }
    assert_eq!(pages, 2);
    assert_eq!(names, fake.state.anthropic_key_names());

    let body = json_ok(anthropic(&fake, "/v1/organizations/workspaces", &[]).await).await;
    assert_eq!(body["has_more"], false);
    let workspaces: HashMap<String, String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["id"].as_str().unwrap().into(),
                w["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(workspaces, fake.state.anthropic_workspace_names());

    let response = anthropic(&fake, "/v1/organizations/api_keys", &[("limit", "0")]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(fake.state.name_requests(FakeProvider::Anthropic), 4);
    assert_eq!(fake.state.usage_requests(FakeProvider::Anthropic), 0);
}

#[tokio::test]
async fn openai_usage_envelope_grouping_and_pagination() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let (start, end) = (at(2026, 11, 12, 0), at(2026, 11, 14, 0));
    let (start_s, end_s) = (start.timestamp().to_string(), end.timestamp().to_string());
    let truth = fake.state.openai_rows(start, end);
    let mut expected: HashMap<(String, String), (i64, i64, i64)> = HashMap::new();
    for row in &truth {
        assert!(row.input_tokens >= row.input_cached_tokens);
        let e = expected
            .entry((row.model.clone(), row.project_id.clone().unwrap()))
            .or_default();
        e.0 += row.input_tokens;
        e.1 += row.input_cached_tokens;
        e.2 += row.num_model_requests;
    }
    for group_key in ["group_by", "group_by[]"] {
        let pages = openai_pages(
            &fake,
            &[
                ("start_time", &start_s),
                ("end_time", &end_s),
                ("bucket_width", "1h"),
                ("limit", "168"),
                (group_key, "model"),
                (group_key, "project_id"),
            ],
        )
        .await;
        assert_eq!(pages.len(), 2, "48 hourly buckets, 24 per page");
        let mut got: HashMap<(String, String), (i64, i64, i64)> = HashMap::new();
        let mut expected_start = start.timestamp();
        let mut empty = 0;
        for page in &pages {
            assert_eq!(page["object"], "page");
        }
        for bucket in buckets(&pages) {
            assert_eq!(bucket["object"], "bucket");
            assert_eq!(int(&bucket["start_time"]), expected_start);
            assert_eq!(int(&bucket["end_time"]), expected_start + 3600);
            expected_start += 3600;
            let results = bucket["results"].as_array().unwrap();
            if results.is_empty() {
                empty += 1;
            }
            for r in results {
                assert_eq!(r["object"], "organization.usage.completions.result");
                assert!(int(&r["input_tokens"]) >= int(&r["input_cached_tokens"]));
                assert_eq!(r["input_audio_tokens"], 0);
                assert_eq!(r["output_audio_tokens"], 0);
                for dim in ["user_id", "api_key_id", "batch", "service_tier"] {
                    assert!(r[dim].is_null(), "{dim} should be null: {r}");
                }
                let e = got
                    .entry((
                        r["model"].as_str().unwrap().into(),
                        r["project_id"].as_str().unwrap().into(),
                    ))
                    .or_default();
                e.0 += int(&r["input_tokens"]);
                e.1 += int(&r["input_cached_tokens"]);
                e.2 += int(&r["num_model_requests"]);
            }
        }
        assert_eq!(expected_start, end.timestamp());
        assert!(empty > 0, "expected empty buckets");
        assert_eq!(got, expected, "{group_key}");
        assert!(pages[1]["next_page"].is_null());
    }

    // Grouping by batch and service tier gives booleans and tiers.
    let body = json_ok(
        openai(
            &fake,
            O_USAGE,
            &[
                ("start_time", &start_s),
                ("bucket_width", "1d"),
                ("limit", "1"),
                ("group_by", "batch"),
                ("group_by", "service_tier"),
                ("group_by", "model"),
            ],
        )
        .await,
    )
    .await;
    let results = body["data"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["batch"] == true));
    assert!(results.iter().any(|r| r["batch"] == false));
    assert!(results.iter().all(|r| r["service_tier"] == "default"
        || (r["service_tier"] == "flex" && r["model"] == "o3" && r["batch"] == false)));
}

#[tokio::test]
async fn openai_errors_and_faults() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let o = FakeProvider::Openai;
    let start = at(2026, 11, 19, 0).timestamp().to_string();
    let query = [("start_time", start.as_str()), ("bucket_width", "1h")];

    let response = Client::new()
        .get(url(&fake, O_USAGE, &query))
        .bearer_auth("sk-admin-wrong-key")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body = body_json(response).await;
    for field in ["message", "type", "param", "code"] {
        assert!(
            body["error"].get(field).is_some(),
            "missing {field}: {body}"
        );
    }
    assert_eq!(body["error"]["code"], "invalid_api_key");

    for bad in [
        vec![("bucket_width", "1h")],
        vec![
            ("start_time", start.as_str()),
            ("bucket_width", "1h"),
            ("limit", "169"),
        ],
        vec![("start_time", start.as_str()), ("group_by", "colour")],
        vec![("start_time", "2026-11-19T00:00:00Z")],
    ] {
        let response = openai(&fake, O_USAGE, &bad).await;
        assert_eq!(response.status(), 400, "{bad:?}");
        let body = body_json(response).await;
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }

    fake.state.push_fault(
        o,
        Fault::RateLimited {
            retry_after_secs: Some(3),
        },
    );
    fake.state.push_fault(o, Fault::ServerError(500));
    let response = openai(&fake, O_USAGE, &query).await;
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "Retry-After").as_deref(), Some("3"));
    let body = body_json(response).await;
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    let response = openai(&fake, O_USAGE, &query).await;
    assert_eq!(response.status(), 500);
    let body = body_json(response).await;
    assert_eq!(body["error"]["type"], "server_error");

    fake.state.fail_after_pages(o, 1, 502);
    json_ok(openai(&fake, O_USAGE, &query).await).await;
    assert_eq!(openai(&fake, O_USAGE, &query).await.status(), 502);
    // Listings are unaffected.
    assert_eq!(
        openai(&fake, "/v1/organization/projects", &[])
            .await
            .status(),
        200
    );
    fake.state.clear_faults();
    json_ok(openai(&fake, O_USAGE, &query).await).await;
    assert_eq!(fake.state.usage_requests(o), 10);
    assert_eq!(fake.state.usage_pages_served(o), 2);
    let last = fake.state.last_usage_query(o).unwrap();
    assert_eq!(
        last,
        vec![
            ("start_time".to_string(), start.clone()),
            ("bucket_width".into(), "1h".into())
        ]
    );
}

#[tokio::test]
async fn openai_name_listings_paginate() {
    let fake = FakeProviders::start(FakeConfig::default()).await;
    let mut projects = HashMap::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let params: Vec<(&str, &str)> = after.iter().map(|a| ("after", a.as_str())).collect();
        let body = json_ok(openai(&fake, "/v1/organization/projects", &params).await).await;
        pages += 1;
        assert_eq!(body["object"], "list");
        let data = body["data"].as_array().unwrap();
        assert_eq!(body["first_id"], data[0]["id"]);
        assert_eq!(body["last_id"], data[data.len() - 1]["id"]);
        for p in data {
            assert_eq!(p["object"], "organization.project");
            assert!(p["created_at"].is_i64());
            projects.insert(
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            );
        }
        if body["has_more"] == false {
            break;
        }
        after = Some(body["last_id"].as_str().unwrap().to_string());
    }
    assert_eq!(pages, 2);
    assert_eq!(projects, fake.state.openai_project_names());

    let mut keys = HashMap::new();
    for project in projects.keys() {
        let mut after: Option<String> = None;
        loop {
            let params: Vec<(&str, &str)> = after.iter().map(|a| ("after", a.as_str())).collect();
            let path = format!("/v1/organization/projects/{project}/api_keys");
            let body = json_ok(openai(&fake, &path, &params).await).await;
            for k in body["data"].as_array().unwrap() {
                assert_eq!(k["object"], "organization.project.api_key");
                assert!(k["id"].as_str().unwrap().starts_with("key_"));
                keys.insert(
                    k["id"].as_str().unwrap().to_string(),
                    k["name"].as_str().unwrap().to_string(),
                );
            }
            if body["has_more"] == false {
                break;
            }
            after = Some(body["last_id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(keys, fake.state.openai_key_names());
    let response = openai(&fake, "/v1/organization/projects/proj_nope/api_keys", &[]).await;
    assert_eq!(response.status(), 404);
    assert!(fake.state.name_requests(FakeProvider::Openai) >= 6);
}

#[test]
fn data_is_deterministic_and_realistic() {
    let a = FakeState::new(FakeConfig::default());
    let b = FakeState::new(FakeConfig::default());
    let (start, end) = a.data_range();
    let rows = a.anthropic_rows(start, end);
    assert_eq!(rows, b.anthropic_rows(start, end));
    assert_eq!(a.openai_rows(start, end), b.openai_rows(start, end));

    let hours = 35 * 24;
    let hours_with_usage: std::collections::HashSet<_> = rows.iter().map(|r| r.hour).collect();
    let empty = hours - hours_with_usage.len();
    assert!(
        (hours / 10..hours / 5).contains(&empty),
        "{empty} empty hours of {hours}"
    );
    let mut distinct = std::collections::HashSet::new();
    for row in &rows {
        assert!(row.hour >= start && row.hour < end);
        distinct.insert((
            row.model.clone(),
            row.api_key_id.clone(),
            row.workspace_id.clone(),
            row.service_tier.clone(),
            row.context_window.clone(),
            row.inference_geo.clone(),
        ));
        assert!((0..=50_000).contains(&row.uncached_input_tokens));
        assert!((0..=500_000).contains(&row.cache_read_input_tokens));
        assert!((1..=20_000).contains(&row.output_tokens));
        assert!((0..=5).contains(&row.web_search_requests));
        if row.context_window == "200k-1M" {
            assert_eq!(row.model, "claude-sonnet-4-5-20250929");
        }
        match row.model.as_str() {
            "claude-opus-4-6" | "claude-sonnet-4-6" => {
                assert_ne!(row.inference_geo, "not_available")
            }
            _ => assert_eq!(row.inference_geo, "not_available"),
        }
    }
    assert_eq!(distinct.len(), 20, "groups_per_hour distinct groups");
    for (value, what) in [
        (rows.iter().any(|r| r.service_tier == "batch"), "batch"),
        (
            rows.iter().any(|r| r.context_window == "200k-1M"),
            "1M context",
        ),
        (rows.iter().any(|r| r.inference_geo == "us"), "US geo"),
        (rows.iter().any(|r| r.api_key_id.is_none()), "console usage"),
        (
            rows.iter().any(|r| r.workspace_id.is_none()),
            "default workspace",
        ),
        (
            rows.iter().any(|r| r.cache_creation_1h == 0),
            "zero cache writes",
        ),
    ] {
        assert!(value, "expected some {what} rows");
    }
    let keys = a.anthropic_key_names();
    assert!(rows
        .iter()
        .filter_map(|r| r.api_key_id.as_ref())
        .all(|k| keys.contains_key(k)));

    let orows = a.openai_rows(start, end);
    let projects = a.openai_project_names();
    let okeys = a.openai_key_names();
    assert!(orows.iter().any(|r| r.batch) && orows.iter().any(|r| r.service_tier == "flex"));
    assert!(orows.iter().any(|r| r.api_key_id.is_none()));
    for row in &orows {
        assert!(row.input_tokens >= row.input_cached_tokens);
        assert!(projects.contains_key(row.project_id.as_ref().unwrap()));
        assert!(row
            .api_key_id
            .as_ref()
            .is_none_or(|k| okeys.contains_key(k)));
    }
}

#[test]
fn binary_prints_its_url_and_serves() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fake-providers"))
        .args(["--port", "0", "--groups", "5", "--days", "2"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start fake-providers");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("FAKE_PROVIDERS_URL=http://127.0.0.1:")
        .map(|port| format!("http://127.0.0.1:{port}"));
    let result = std::panic::catch_unwind(|| {
        let url = url.expect("FAKE_PROVIDERS_URL line");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let start = (Utc::now() - chrono::Duration::hours(30)).to_rfc3339();
            let response = Client::new()
                .get(
                    Url::parse_with_params(
                        &format!("{url}{A_USAGE}"),
                        &[
                            ("starting_at", start.as_str()),
                            ("bucket_width", "1h"),
                            ("limit", "30"),
                        ],
                    )
                    .unwrap(),
                )
                .header("x-api-key", "sk-ant-admin01-fake")
                .header("anthropic-version", "2023-06-01")
                .send()
                .await
                .unwrap();
            let body = json_ok(response).await;
            assert_eq!(
                body["data"].as_array().unwrap().len(),
                30,
                "--page-buckets default 168"
            );
            assert_eq!(body["has_more"], false);
        });
    });
    child.kill().unwrap();
    child.wait().unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
