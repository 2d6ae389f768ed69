//! The Anthropic Admin API: usage report and the key and workspace listings.

use super::*;

/// Auth and version checks, in the real API's order.
pub(super) fn anthropic_check(
    st: &FakeState,
    headers: &HeaderMap,
    rid: &str,
) -> Result<(), Box<Response>> {
    let fail = |status: u16, message: &str| Err(Box::new(anthropic_error(status, rid, message)));
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        None => return fail(401, "x-api-key header is required"),
        Some(key) if key != st.config.anthropic_key => return fail(401, "invalid x-api-key"),
        Some(_) => {}
    }
    match headers
        .get("anthropic-version")
        .and_then(|v| v.to_str().ok())
    {
        None => fail(400, "anthropic-version: header is required"),
        Some("2023-06-01") | Some("2023-01-01") => Ok(()),
        Some(other) => fail(
            400,
            &format!("anthropic-version: \"{other}\" is not a valid version"),
        ),
    }
}

pub(super) const A_DIMS: [&str; 6] = [
    "model",
    "api_key_id",
    "workspace_id",
    "service_tier",
    "context_window",
    "inference_geo",
];

pub(super) fn anthropic_dim(row: &AnthropicRow, dim: usize) -> Option<&str> {
    match dim {
        0 => Some(&row.model),
        1 => row.api_key_id.as_deref(),
        2 => row.workspace_id.as_deref(),
        3 => Some(&row.service_tier),
        4 => Some(&row.context_window),
        _ => Some(&row.inference_geo),
    }
}

#[derive(Default)]
pub(super) struct ASums {
    pub(super) uncached: i64,
    pub(super) cw5m: i64,
    pub(super) cw1h: i64,
    pub(super) cache_read: i64,
    pub(super) output: i64,
    pub(super) web: i64,
}

/// Where a page of `[first, end)` in buckets of `width` starts: `first`, or the
/// bucket the `page` token names (an RFC 3339 time, base64, after `page_`).
pub(super) fn page_start(
    q: &Params,
    first: DateTime<Utc>,
    end: DateTime<Utc>,
    width: i64,
) -> Result<DateTime<Utc>, String> {
    let Some(token) = q.get("page") else {
        return Ok(first);
    };
    let at = token
        .strip_prefix("page_")
        .and_then(b64_decode)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| parse_rfc3339(&text))
        .ok_or("page: Invalid page token (is it URL-encoded?)")?;
    if at < first || at >= end || floor_to(at, width) != at {
        return Err("page: Page token does not belong to this query".into());
    }
    Ok(at)
}

pub(super) fn parse_rfc3339(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

pub(super) fn anthropic_usage_body(st: &FakeState, q: &Params) -> Result<Value, String> {
    let width = match q.get("bucket_width").unwrap_or("1d") {
        "1h" => HOUR,
        "1d" => DAY,
        "1m" => return Err("bucket_width: '1m' is not supported by this fake".into()),
        other => {
            return Err(format!(
                "bucket_width: Input should be '1d', '1h' or '1m' (got '{other}')"
            ))
        }
    };
    let (default_limit, max_limit) = if width == HOUR { (24, 168) } else { (7, 31) };
    let limit = match q.get("limit") {
        None => default_limit,
        Some(raw) => {
            let limit: i64 = raw
                .parse()
                .map_err(|_| format!("limit: Input should be a valid integer (got '{raw}')"))?;
            if limit < 1 {
                return Err("limit: Input should be greater than or equal to 1".into());
            }
            if limit > max_limit {
                return Err(format!(
                    "limit: Input should be less than or equal to {max_limit}"
                ));
            }
            limit
        }
    };
    let raw_start = q.get("starting_at").ok_or("starting_at: Field required")?;
    let start = parse_rfc3339(raw_start).ok_or_else(|| {
        format!("starting_at: Input should be a valid RFC 3339 datetime (got '{raw_start}')")
    })?;
    let first = floor_to(start, width);
    let end = match q.get("ending_at") {
        None => first + chrono::Duration::seconds(width * limit),
        Some(raw) => {
            let end = parse_rfc3339(raw).ok_or_else(|| {
                format!("ending_at: Input should be a valid RFC 3339 datetime (got '{raw}')")
            })?;
            if end <= start {
                return Err("Invalid date range: ending date must be after starting date".into());
            }
            end
        }
    };
    let mut grouped = [false; 6];
    for (i, value) in q.all("group_by").into_iter().enumerate() {
        let dim = A_DIMS.iter().position(|d| *d == value).ok_or_else(|| {
            format!(
                "group_by[{i}]: Input should be one of 'api_key_id', 'workspace_id', 'model', 'service_tier', 'context_window', 'inference_geo' (got '{value}')"
            )
        })?;
        grouped[dim] = true;
    }
    let filters: [Vec<&str>; 6] = [
        q.all("models"),
        q.all("api_key_ids"),
        q.all("workspace_ids"),
        q.all("service_tiers"),
        [q.all("context_window"), q.all("context_windows")].concat(),
        q.all("inference_geos"),
    ];
    let page_start = page_start(q, first, end, width)?;
    let page_size = (limit as usize).min(st.config.max_buckets_per_page.max(1));
    let (buckets, next) = page_buckets(page_start, end, width, page_size);

    let mut data = Vec::with_capacity(buckets.len());
    for (bucket_start, bucket_end) in buckets {
        let mut sums: BTreeMap<[Option<&str>; 6], ASums> = BTreeMap::new();
        let rows = st.anthropic_rows(bucket_start, bucket_end);
        for row in &rows {
            let values: [Option<&str>; 6] = std::array::from_fn(|d| anthropic_dim(row, d));
            let wanted = filters.iter().zip(values).all(|(filter, value)| {
                filter.is_empty() || value.is_some_and(|v| filter.contains(&v))
            });
            if !wanted {
                continue;
            }
            let key: [Option<&str>; 6] =
                std::array::from_fn(|d| if grouped[d] { values[d] } else { None });
            let sum = sums.entry(key).or_default();
            sum.uncached += row.uncached_input_tokens;
            sum.cw5m += row.cache_creation_5m;
            sum.cw1h += row.cache_creation_1h;
            sum.cache_read += row.cache_read_input_tokens;
            sum.output += row.output_tokens;
            sum.web += row.web_search_requests;
        }
        let results: Vec<Value> = sums
            .into_iter()
            .map(|(key, s)| {
                json!({
                    "uncached_input_tokens": s.uncached,
                    "cache_creation": {
                        "ephemeral_1h_input_tokens": s.cw1h,
                        "ephemeral_5m_input_tokens": s.cw5m,
                    },
                    "cache_read_input_tokens": s.cache_read,
                    "output_tokens": s.output,
                    "server_tool_use": {"web_search_requests": s.web},
                    "api_key_id": key[1],
                    "workspace_id": key[2],
                    "model": key[0],
                    "service_tier": key[3],
                    "context_window": key[4],
                    "inference_geo": key[5],
                })
            })
            .collect();
        data.push(json!({
            "starting_at": rfc3339(bucket_start),
            "ending_at": rfc3339(bucket_end),
            "results": results,
        }));
    }
    let next_page = next.map(|at| format!("page_{}", b64_encode(rfc3339(at).as_bytes())));
    Ok(json!({
        "data": data,
        "has_more": next_page.is_some(),
        "next_page": next_page,
    }))
}

pub(super) async fn anthropic_usage(
    State(st): St,
    headers: HeaderMap,
    query: RawPairs,
) -> Response {
    let rid = st.next_request_id();
    let (pairs, bad_query) = match query {
        Ok(Query(pairs)) => (pairs, None),
        Err(err) => (Vec::new(), Some(err.body_text())),
    };
    st.record_usage_request(FakeProvider::Anthropic, pairs.clone());
    if let Some(response) = st.pre_fault(FakeProvider::Anthropic, &rid).await {
        return response;
    }
    if let Err(response) = anthropic_check(&st, &headers, &rid) {
        return *response;
    }
    if let Some(message) = bad_query {
        return anthropic_error(400, &rid, &message);
    }
    match anthropic_usage_body(&st, &Params(pairs)) {
        Ok(body) => st.finish_page(FakeProvider::Anthropic, &rid, body),
        Err(message) => anthropic_error(400, &rid, &message),
    }
}

/// Cursor pagination over `items` by id (`after`/`before`), `limit` capped at `cap`.
pub(super) fn id_page<'a, T>(
    items: &'a [T],
    id: impl Fn(&T) -> &str,
    after: Option<&str>,
    before: Option<&str>,
    limit: usize,
    cap: usize,
) -> Result<(&'a [T], bool), String> {
    let size = limit.min(cap.max(1));
    let position = |wanted: &str, name: &str| {
        items
            .iter()
            .position(|item| id(item) == wanted)
            .ok_or_else(|| format!("{name}: no object with id '{wanted}'"))
    };
    if let Some(after) = after {
        let from = position(after, "after_id")? + 1;
        let to = (from + size).min(items.len());
        Ok((&items[from..to], to < items.len()))
    } else if let Some(before) = before {
        let to = position(before, "before_id")?;
        let from = to.saturating_sub(size);
        Ok((&items[from..to], from > 0))
    } else {
        let to = size.min(items.len());
        Ok((&items[..to], to < items.len()))
    }
}

pub(super) fn anthropic_list_limit(q: &Params) -> Result<usize, String> {
    match q.get("limit") {
        None => Ok(20),
        Some(raw) => match raw.parse::<usize>() {
            Ok(limit) if (1..=1000).contains(&limit) => Ok(limit),
            _ => Err(format!(
                "limit: Input should be an integer between 1 and 1000 (got '{raw}')"
            )),
        },
    }
}

pub(super) fn anthropic_list_body<T>(
    st: &FakeState,
    q: &Params,
    items: &[T],
    id: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
) -> Result<Value, String> {
    let limit = anthropic_list_limit(q)?;
    let (page, has_more) = id_page(
        items,
        &id,
        q.get("after_id"),
        q.get("before_id"),
        limit,
        st.config.name_page_size,
    )?;
    Ok(json!({
        "data": page.iter().map(render).collect::<Vec<_>>(),
        "first_id": page.first().map(&id),
        "last_id": page.last().map(&id),
        "has_more": has_more,
    }))
}

pub(super) async fn anthropic_api_keys(
    State(st): St,
    headers: HeaderMap,
    query: RawPairs,
) -> Response {
    let rid = st.next_request_id();
    st.record_name_request(FakeProvider::Anthropic);
    if let Err(response) = anthropic_check(&st, &headers, &rid) {
        return *response;
    }
    let q = Params(query.map(|Query(q)| q).unwrap_or_default());
    let workspace = q.get("workspace_id");
    let status = q.get("status");
    let keys: Vec<&AKey> = A_KEYS
        .iter()
        .filter(|k| workspace.is_none() || k.workspace_id == workspace)
        .filter(|_| status.is_none() || status == Some("active"))
        .collect();
    let body = anthropic_list_body(
        &st,
        &q,
        &keys,
        |k| k.id,
        |k| {
            json!({
                "id": k.id,
                "type": "api_key",
                "name": k.name,
                "created_at": k.created_at,
                "created_by": {"id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "type": "user"},
                "partial_key_hint": k.hint,
                "status": "active",
                "workspace_id": k.workspace_id,
                "expires_at": null,
                "principal": {"id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "type": "user"},
            })
        },
    );
    match body {
        Ok(body) => anthropic_json(StatusCode::OK, &rid, &body),
        Err(message) => anthropic_error(400, &rid, &message),
    }
}

pub(super) async fn anthropic_workspaces(
    State(st): St,
    headers: HeaderMap,
    query: RawPairs,
) -> Response {
    let rid = st.next_request_id();
    st.record_name_request(FakeProvider::Anthropic);
    if let Err(response) = anthropic_check(&st, &headers, &rid) {
        return *response;
    }
    let q = Params(query.map(|Query(q)| q).unwrap_or_default());
    let body = anthropic_list_body(
        &st,
        &q,
        &A_WORKSPACES,
        |w| w.id,
        |w| {
            json!({
                "id": w.id,
                "type": "workspace",
                "name": w.name,
                "created_at": w.created_at,
                "archived_at": null,
                "display_color": w.color,
            })
        },
    );
    match body {
        Ok(body) => anthropic_json(StatusCode::OK, &rid, &body),
        Err(message) => anthropic_error(400, &rid, &message),
    }
}
