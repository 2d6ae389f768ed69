//! HTTP: the router, paging and the responses and faults both providers share.

use super::*;

pub(super) type St = State<Arc<FakeState>>;
pub(super) type RawPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub(super) fn router(state: Arc<FakeState>) -> Router {
    Router::new()
        .route(
            "/v1/organizations/usage_report/messages",
            get(anthropic_usage),
        )
        .route("/v1/organizations/cost_report", get(anthropic_cost_report))
        .route("/v1/organizations/api_keys", get(anthropic_api_keys))
        .route("/v1/organizations/workspaces", get(anthropic_workspaces))
        .route("/v1/organization/usage/completions", get(openai_usage))
        .route("/v1/organization/costs", get(openai_costs))
        .route("/v1/organization/projects", get(openai_projects))
        .route(
            "/v1/organization/projects/{project_id}/api_keys",
            get(openai_project_keys),
        )
        .fallback(not_found)
        .with_state(state)
}

pub(super) const HOUR: i64 = 3600;
pub(super) const DAY: i64 = 86_400;

pub(super) fn floor_to(dt: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let ts = dt.timestamp();
    Utc.timestamp_opt(ts - ts.rem_euclid(secs), 0).unwrap()
}

pub(super) fn ceil_to(dt: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let floor = floor_to(dt, secs);
    if floor == dt {
        floor
    } else {
        floor + chrono::Duration::seconds(secs)
    }
}

pub(super) fn rfc3339(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Query pairs with lookup by name, accepting `name`, `name[]` and `name[N]`.
pub(super) struct Params(pub(super) Vec<(String, String)>);

impl Params {
    pub(super) fn matches(key: &str, name: &str) -> bool {
        match key.strip_prefix(name) {
            Some("") => true,
            Some(rest) => rest.starts_with('[') && rest.ends_with(']'),
            None => false,
        }
    }
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub(super) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| Self::matches(k, name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A bucket's `[start, end)`.
pub(super) type Bucket = (DateTime<Utc>, DateTime<Utc>);

/// `[(bucket start, bucket end)]` of one page, and where the next page starts.
pub(super) fn page_buckets(
    first: DateTime<Utc>,
    end: DateTime<Utc>,
    width: i64,
    page_size: usize,
) -> (Vec<Bucket>, Option<DateTime<Utc>>) {
    let step = chrono::Duration::seconds(width);
    let mut buckets = Vec::new();
    let mut start = first;
    while start + step <= end && buckets.len() < page_size {
        buckets.push((start, start + step));
        start += step;
    }
    let next = (start + step <= end).then_some(start);
    (buckets, next)
}

pub(super) fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).expect("header value"),
    )
}

pub(super) fn json_response(
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: String,
) -> Response {
    let mut response = (status, body).into_response();
    let map = response.headers_mut();
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in headers {
        map.insert(name, value);
    }
    response
}

pub(super) fn anthropic_headers(rid: &str) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        header("request-id", rid),
        header(
            "anthropic-organization-id",
            "9f0c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        ),
    ]
}

pub(super) fn openai_headers(rid: &str) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        header("x-request-id", rid),
        header("openai-version", "2020-10-01"),
        header("openai-organization", "org-fakeCostTracker01"),
    ]
}

pub(super) fn anthropic_json(status: StatusCode, rid: &str, body: &Value) -> Response {
    json_response(status, anthropic_headers(rid), body.to_string())
}

pub(super) fn openai_json(status: StatusCode, rid: &str, body: &Value) -> Response {
    json_response(status, openai_headers(rid), body.to_string())
}

pub(super) fn anthropic_error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        409 => "conflict_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

pub(super) fn anthropic_error(status: u16, rid: &str, message: &str) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "type": "error",
        "error": {"type": anthropic_error_type(status), "message": message},
        "request_id": rid,
    });
    anthropic_json(status_code, rid, &body)
}

pub(super) fn openai_error(
    status: u16,
    rid: &str,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "error": {"message": message, "type": kind, "param": param, "code": code}
    });
    openai_json(status_code, rid, &body)
}

pub(super) fn openai_bad_request(rid: &str, message: &str, param: &str, code: &str) -> Response {
    openai_error(
        400,
        rid,
        message,
        "invalid_request_error",
        Some(param),
        Some(code),
    )
}

pub(super) const MALFORMED_ANTHROPIC: &str = r#"{"data":[{"starting_at":"2026-11-20T00:00:00Z","ending_at":"2026-11-20T01:00:00Z","results":[{"uncached_input_tokens":1204,"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_in"#;
pub(super) const MALFORMED_OPENAI: &str = r#"{"object":"page","data":[{"object":"bucket","start_time":1795132800,"end_time":1795136400,"results":[{"object":"organization.usage.completions.result","input_tokens":18"#;

pub(super) fn render_fault(provider: FakeProvider, fault: &Fault, rid: &str) -> Response {
    match provider {
        FakeProvider::Anthropic => match fault {
            Fault::RateLimited { retry_after_secs } => {
                let mut response = anthropic_error(
                    429,
                    rid,
                    "Number of requests has exceeded your rate limit. Please try again later.",
                );
                if let Some(secs) = retry_after_secs {
                    response
                        .headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from(*secs));
                }
                response
            }
            Fault::ServerError(status) => {
                let message = match status {
                    529 => "Overloaded",
                    504 => "Request timed out",
                    503 => "Service unavailable",
                    _ => "Internal server error",
                };
                anthropic_error(*status, rid, message)
            }
            Fault::Malformed => json_response(
                StatusCode::OK,
                anthropic_headers(rid),
                MALFORMED_ANTHROPIC.into(),
            ),
            Fault::Unauthorized => anthropic_error(401, rid, "invalid x-api-key"),
            Fault::Forbidden => anthropic_error(
                403,
                rid,
                "Your API key does not have permission to use the specified resource.",
            ),
            Fault::Delay(_) => unreachable!("Delay is not rendered"),
        },
        FakeProvider::Openai => match fault {
            Fault::RateLimited { retry_after_secs } => {
                let mut response = openai_error(
                    429,
                    rid,
                    "Rate limit reached for requests to the usage API. Please try again later.",
                    "requests",
                    None,
                    Some("rate_limit_exceeded"),
                );
                if let Some(secs) = retry_after_secs {
                    response
                        .headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from(*secs));
                }
                response
            }
            Fault::ServerError(status) => {
                let message = match status {
                    503 => "The server is overloaded or not ready yet.",
                    502 => "Bad gateway.",
                    _ => "The server had an error while processing your request. Sorry about that!",
                };
                openai_error(*status, rid, message, "server_error", None, None)
            }
            Fault::Malformed => json_response(
                StatusCode::OK,
                openai_headers(rid),
                MALFORMED_OPENAI.into(),
            ),
            Fault::Unauthorized => openai_error(
                401,
                rid,
                "Incorrect API key provided: sk-admin*****fake. You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                None,
                Some("invalid_api_key"),
            ),
            Fault::Forbidden => openai_error(
                403,
                rid,
                "You have insufficient permissions for this operation. Missing scopes: api.usage.read. Check that you have the correct role in your organization (Owner), and if you're using a restricted key, that it has the necessary scopes.",
                "invalid_request_error",
                None,
                None,
            ),
            Fault::Delay(_) => unreachable!("Delay is not rendered"),
        },
    }
}

pub(super) async fn not_found(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/v1/organizations") {
        anthropic_error(404, "req_011CNotFound", "Not found")
    } else {
        openai_error(
            404,
            "req_notfound",
            &format!("Invalid URL (GET {path})"),
            "invalid_request_error",
            None,
            None,
        )
    }
}
