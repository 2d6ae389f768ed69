//! The daily cost reports: Anthropic `GET /v1/organizations/cost_report` and OpenAI
//! `GET /v1/organization/costs` (provider-apis.md §1.3, §2.5). Their amounts are the
//! fake's own usage rows priced at list prices by the hand table of
//! [`crate::fake_costs`] (never the product's catalog), times any overcharge a test set
//! with [`FakeState::overcharge`]. Cost requests have their own fault queue
//! ([`FakeState::push_cost_fault`]) and counters.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use super::*;
use crate::fake_costs::{anthropic_line_costs, openai_line_costs};

/// A model's bill (or one kind of its lines) multiplied by `factor` on one UTC day.
#[derive(Clone, Debug, PartialEq)]
pub struct Overcharge {
    pub provider: FakeProvider,
    pub day: NaiveDate,
    pub model: String,
    /// The line kind as the fake names it (Anthropic `token_type`, OpenAI `input`,
    /// `cached input`, `output`); `None` = every line of the model.
    pub kind: Option<String>,
    pub factor: Decimal,
}

/// How a JSON number with an exact decimal text is spliced into a body built as a `Value`.
const RAW_OPEN: &str = "\"<<raw-number:";
const RAW_CLOSE: &str = ">>\"";

fn raw_number(value: Decimal) -> Value {
    Value::String(format!("<<raw-number:{}>>", value.normalize()))
}

fn with_raw_numbers(body: &Value) -> String {
    body.to_string()
        .replace(RAW_OPEN, "")
        .replace(RAW_CLOSE, "")
}

fn anthropic_description(model: &str, token_type: &str) -> String {
    let name = match model {
        "claude-opus-4-6" => "Claude Opus 4.6",
        "claude-opus-4-5-20251101" => "Claude Opus 4.5",
        "claude-sonnet-4-6" => "Claude Sonnet 4.6",
        "claude-sonnet-4-5-20250929" => "Claude Sonnet 4.5",
        "claude-haiku-4-5-20251001" => "Claude Haiku 4.5",
        other => other,
    };
    let kind = match token_type {
        "uncached_input_tokens" => "Input Tokens",
        "output_tokens" => "Output Tokens",
        "cache_read_input_tokens" => "Input Tokens, Cache Hit",
        _ => "Input Tokens, Cache Write",
    };
    format!("{name} Usage - {kind}")
}

impl FakeState {
    /// Bills `model` of `provider` (only its `kind` lines when given) `factor` times its
    /// list price on the UTC day `day`.
    pub fn overcharge(
        &self,
        provider: FakeProvider,
        day: NaiveDate,
        model: &str,
        kind: Option<&str>,
        factor: Decimal,
    ) {
        self.lock().overcharges.push(Overcharge {
            provider,
            day,
            model: model.to_string(),
            kind: kind.map(str::to_string),
            factor,
        });
    }

    /// Queues a one-shot fault for the next cost report request of `provider`.
    pub fn push_cost_fault(&self, provider: FakeProvider, fault: Fault) {
        self.lock().get(provider).cost_faults.push_back(fault);
    }

    /// Cost report requests received, faulted ones included.
    pub fn cost_requests(&self, provider: FakeProvider) -> usize {
        self.lock().get(provider).cost_requests
    }

    /// Cost report pages answered 200.
    pub fn cost_pages_served(&self, provider: FakeProvider) -> usize {
        self.lock().get(provider).cost_pages_served
    }

    /// The decoded query pairs of the last cost report request.
    pub fn last_cost_query(&self, provider: FakeProvider) -> Option<Vec<(String, String)>> {
        self.lock().get(provider).last_cost_query.clone()
    }

    fn factor(&self, provider: FakeProvider, day: NaiveDate, model: &str, kind: &str) -> Decimal {
        self.lock()
            .overcharges
            .iter()
            .filter(|o| o.provider == provider && o.day == day && o.model == model)
            .filter(|o| o.kind.as_deref().is_none_or(|k| k == kind))
            .fold(Decimal::ONE, |f, o| f * o.factor)
    }

    async fn cost_fault(
        &self,
        provider: FakeProvider,
        rid: &str,
        query: Vec<(String, String)>,
    ) -> Option<Response> {
        let fault = {
            let mut inner = self.lock();
            let counters = inner.get(provider);
            counters.cost_requests += 1;
            counters.last_cost_query = Some(query);
            counters.cost_faults.pop_front()
        };
        match fault {
            None => None,
            Some(Fault::Delay(duration)) => {
                tokio::time::sleep(duration).await;
                None
            }
            Some(fault) => Some(render_fault(provider, &fault, rid)),
        }
    }

    fn finish_cost_page(&self, provider: FakeProvider, rid: &str, body: &Value) -> Response {
        self.lock().get(provider).cost_pages_served += 1;
        let headers = match provider {
            FakeProvider::Anthropic => anthropic_headers(rid),
            FakeProvider::Openai => openai_headers(rid),
        };
        json_response(StatusCode::OK, headers, with_raw_numbers(body))
    }
}

fn limit(q: &Params, default: i64, max: i64) -> Result<i64, String> {
    match q.get("limit") {
        None => Ok(default),
        Some(raw) => match raw.parse::<i64>() {
            Ok(limit) if (1..=max).contains(&limit) => Ok(limit),
            _ => Err(format!(
                "limit: Input should be an integer between 1 and {max} (got '{raw}')"
            )),
        },
    }
}

pub(super) fn anthropic_cost_body(st: &FakeState, q: &Params) -> Result<Value, String> {
    match q.get("bucket_width").unwrap_or("1d") {
        "1d" => {}
        other => {
            return Err(format!(
                "bucket_width: Input should be '1d' (got '{other}')"
            ))
        }
    }
    let limit = limit(q, 7, 31)?;
    let raw_start = q.get("starting_at").ok_or("starting_at: Field required")?;
    let start = parse_rfc3339(raw_start).ok_or_else(|| {
        format!("starting_at: Input should be a valid RFC 3339 datetime (got '{raw_start}')")
    })?;
    let first = floor_to(start, DAY);
    let asked_end = match q.get("ending_at") {
        None => first + Duration::days(limit),
        Some(raw) => parse_rfc3339(raw).ok_or_else(|| {
            format!("ending_at: Input should be a valid RFC 3339 datetime (got '{raw}')")
        })?,
    };
    // Completed UTC days only: the end is cut to a midnight, at most today's.
    let end = floor_to(asked_end, DAY).min(floor_to(st.config.now, DAY));
    if end <= first {
        return Err("Invalid date range: ending date must be after starting date".into());
    }
    let (mut by_workspace, mut by_description) = (false, false);
    for (i, value) in q.all("group_by").into_iter().enumerate() {
        match value {
            "workspace_id" => by_workspace = true,
            "description" => by_description = true,
            other => {
                return Err(format!(
                    "group_by[{i}]: Input should be 'workspace_id' or 'description' (got '{other}')"
                ))
            }
        }
    }
    let page_start = super::anthropic::page_start(q, first, end, DAY)?;
    let page_size = (limit as usize).min(st.config.max_buckets_per_page.max(1));
    let (buckets, next) = page_buckets(page_start, end, DAY, page_size);
    let mut data = Vec::new();
    for (bucket_start, bucket_end) in buckets {
        let day = bucket_start.date_naive();
        // (workspace, model, token_type, tier, window, geo) → dollars.
        type Key = (
            Option<String>,
            Option<String>,
            String,
            String,
            String,
            String,
        );
        let mut sums: BTreeMap<Key, Decimal> = BTreeMap::new();
        for row in st.anthropic_rows(bucket_start, bucket_end) {
            let workspace = row.workspace_id.clone().filter(|_| by_workspace);
            for (token_type, cost) in anthropic_line_costs(&row) {
                let search = token_type == "web_search";
                let key = if !by_description {
                    (
                        workspace.clone(),
                        None,
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    )
                } else if search {
                    (
                        workspace.clone(),
                        None,
                        token_type.into(),
                        String::new(),
                        String::new(),
                        String::new(),
                    )
                } else {
                    (
                        workspace.clone(),
                        Some(row.model.clone()),
                        token_type.into(),
                        row.service_tier.clone(),
                        row.context_window.clone(),
                        row.inference_geo.clone(),
                    )
                };
                let factor = st.factor(FakeProvider::Anthropic, day, &row.model, token_type);
                let cost = if search { cost } else { cost * factor };
                *sums.entry(key).or_default() += cost;
            }
        }
        let results: Vec<Value> = sums
            .into_iter()
            .map(
                |((workspace, model, token_type, tier, window, geo), dollars)| {
                    let cents = (dollars * Decimal::ONE_HUNDRED).normalize().to_string();
                    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
                    let (cost_type, description, token_type) = match (&model, token_type.as_str()) {
                        _ if !by_description => (None, None, None),
                        (None, _) => (
                            Some("web_search"),
                            Some("Web Search Usage".to_string()),
                            None,
                        ),
                        (Some(model), kind) => (
                            Some("tokens"),
                            Some(anthropic_description(model, kind)),
                            Some(kind.to_string()),
                        ),
                    };
                    json!({
                        "amount": cents,
                        "currency": "USD",
                        "cost_type": cost_type,
                        "description": description,
                        "model": model,
                        "token_type": token_type,
                        "service_tier": text(&tier),
                        "context_window": text(&window),
                        "inference_geo": text(&geo),
                        "workspace_id": workspace,
                    })
                },
            )
            .collect();
        data.push(json!({
            "starting_at": rfc3339(bucket_start),
            "ending_at": rfc3339(bucket_end),
            "results": results,
        }));
    }
    let next_page = next.map(|at| format!("page_{}", b64_encode(rfc3339(at).as_bytes())));
    Ok(json!({"data": data, "has_more": next_page.is_some(), "next_page": next_page}))
}

pub(super) async fn anthropic_cost_report(
    State(st): St,
    headers: HeaderMap,
    query: RawPairs,
) -> Response {
    let rid = st.next_request_id();
    let (pairs, bad_query) = match query {
        Ok(Query(pairs)) => (pairs, None),
        Err(err) => (Vec::new(), Some(err.body_text())),
    };
    if let Some(response) = st
        .cost_fault(FakeProvider::Anthropic, &rid, pairs.clone())
        .await
    {
        return response;
    }
    if let Err(response) = anthropic_check(&st, &headers, &rid) {
        return *response;
    }
    if let Some(message) = bad_query {
        return anthropic_error(400, &rid, &message);
    }
    match anthropic_cost_body(&st, &Params(pairs)) {
        Ok(body) => st.finish_cost_page(FakeProvider::Anthropic, &rid, &body),
        Err(message) => anthropic_error(400, &rid, &message),
    }
}

pub(super) fn openai_cost_body(st: &FakeState, q: &Params) -> Result<Value, OError> {
    let invalid = |message: String, param: &'static str| (message, param, "invalid_value");
    if let Some(width) = q.get("bucket_width").filter(|w| *w != "1d") {
        return Err(invalid(
            format!("Invalid value for 'bucket_width': '{width}'; costs support only '1d'."),
            "bucket_width",
        ));
    }
    let limit = openai_int(q, "limit")?.unwrap_or(7);
    if !(1..=180).contains(&limit) {
        return Err(invalid(
            "Invalid value for 'limit': must be between 1 and 180.".into(),
            "limit",
        ));
    }
    let start = openai_int(q, "start_time")?.ok_or((
        "Missing required parameter: 'start_time'.".to_string(),
        "start_time",
        "missing_required_parameter",
    ))?;
    let start = Utc
        .timestamp_opt(start, 0)
        .single()
        .ok_or_else(|| invalid("Invalid value for 'start_time'.".into(), "start_time"))?;
    let first = floor_to(start, DAY);
    let end = match openai_int(q, "end_time")? {
        None => first + Duration::days(limit),
        Some(end) => Utc
            .timestamp_opt(end, 0)
            .single()
            .filter(|end| *end > start)
            .ok_or_else(|| {
                invalid(
                    "Invalid value for 'end_time': must be after 'start_time'.".into(),
                    "end_time",
                )
            })?,
    };
    let (mut by_line, mut by_project) = (false, false);
    for value in q.all("group_by") {
        match value {
            "line_item" => by_line = true,
            "project_id" => by_project = true,
            other => {
                return Err(invalid(
                    format!("Invalid value for 'group_by': '{other}'. Supported values are: project_id, line_item, api_key_id."),
                    "group_by",
                ))
            }
        }
    }
    let bad_page = || {
        invalid(
            "Invalid value for 'page': invalid page token.".into(),
            "page",
        )
    };
    let page_start = match q.get("page") {
        None => first,
        Some(token) => {
            let (at, origin) = super::openai::decode_page(token, 16).ok_or_else(bad_page)?;
            if origin != first.timestamp() || at < first || at >= end || floor_to(at, DAY) != at {
                return Err(bad_page());
            }
            at
        }
    };
    let page_size = (limit as usize).min(st.config.max_buckets_per_page.max(1));
    let (buckets, next) = page_buckets(page_start, end, DAY, page_size);
    let mut data = Vec::new();
    for (bucket_start, bucket_end) in buckets {
        let day = bucket_start.date_naive();
        let mut sums: BTreeMap<(Option<String>, Option<String>), Decimal> = BTreeMap::new();
        for row in st.openai_rows(bucket_start, bucket_end) {
            let project = row.project_id.clone().filter(|_| by_project);
            for (kind, cost) in openai_line_costs(&row) {
                let line = by_line.then(|| format!("{}, {kind}", row.model));
                let factor = st.factor(FakeProvider::Openai, day, &row.model, kind);
                *sums.entry((project.clone(), line)).or_default() += cost * factor;
            }
        }
        let results: Vec<Value> = sums
            .into_iter()
            .map(|((project, line), dollars)| {
                json!({
                    "object": "organization.costs.result",
                    "amount": {"value": raw_number(dollars), "currency": "usd"},
                    "line_item": line,
                    "project_id": project,
                    "api_key_id": null,
                })
            })
            .collect();
        data.push(json!({
            "object": "bucket",
            "start_time": bucket_start.timestamp(),
            "end_time": bucket_end.timestamp(),
            "results": results,
        }));
    }
    let next_page = next.map(|at| {
        let mut bytes = Vec::with_capacity(16);
        bytes.extend_from_slice(&at.timestamp().to_be_bytes());
        bytes.extend_from_slice(&first.timestamp().to_be_bytes());
        format!("page_{}", b64_encode(&bytes))
    });
    Ok(json!({
        "object": "page",
        "data": data,
        "has_more": next_page.is_some(),
        "next_page": next_page,
    }))
}

pub(super) async fn openai_costs(State(st): St, headers: HeaderMap, query: RawPairs) -> Response {
    let rid = st.next_request_id();
    let (pairs, bad_query) = match query {
        Ok(Query(pairs)) => (pairs, None),
        Err(err) => (Vec::new(), Some(err.body_text())),
    };
    if let Some(response) = st
        .cost_fault(FakeProvider::Openai, &rid, pairs.clone())
        .await
    {
        return response;
    }
    if let Err(response) = openai_check(&st, &headers, &rid) {
        return *response;
    }
    if let Some(message) = bad_query {
        return openai_error(400, &rid, &message, "invalid_request_error", None, None);
    }
    match openai_cost_body(&st, &Params(pairs)) {
        Ok(body) => st.finish_cost_page(FakeProvider::Openai, &rid, &body),
        Err((message, param, code)) => openai_bad_request(&rid, &message, param, code),
    }
}
