//! The OpenAI Admin API: completions usage and the project and key listings.

use super::*;

pub(super) fn openai_check(
    st: &FakeState,
    headers: &HeaderMap,
    rid: &str,
) -> Result<(), Box<Response>> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let (message, code) = match auth {
        None => (
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.".to_string(),
            None,
        ),
        Some(key) if key.trim() != st.config.openai_key => {
            let key = key.trim();
            let masked = if key.len() > 12 && key.is_ascii() {
                format!("{}*****{}", &key[..8], &key[key.len() - 4..])
            } else {
                "*****".to_string()
            };
            (
                format!("Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."),
                Some("invalid_api_key"),
            )
        }
        Some(_) => return Ok(()),
    };
    Err(Box::new(openai_error(
        401,
        rid,
        &message,
        "invalid_request_error",
        None,
        code,
    )))
}

pub(super) const O_DIMS: [&str; 6] = [
    "project_id",
    "user_id",
    "api_key_id",
    "model",
    "batch",
    "service_tier",
];

pub(super) fn openai_dim(row: &OpenaiRow, dim: usize) -> Option<&str> {
    match dim {
        0 => row.project_id.as_deref(),
        1 => None,
        2 => row.api_key_id.as_deref(),
        3 => Some(&row.model),
        4 => Some(if row.batch { "true" } else { "false" }),
        _ => Some(&row.service_tier),
    }
}

#[derive(Default)]
pub(super) struct OSums {
    pub(super) input: i64,
    pub(super) cached: i64,
    pub(super) output: i64,
    pub(super) requests: i64,
}

/// A 400 of the OpenAI kind: (message, param, code).
pub(super) type OError = (String, &'static str, &'static str);

/// A `page_` token of `len` bytes: the bucket it starts at (its first 8 bytes) and
/// the query's first bucket (its last 8), as the fake writes them.
pub(super) fn decode_page(token: &str, len: usize) -> Option<(DateTime<Utc>, i64)> {
    let bytes = token
        .strip_prefix("page_")
        .and_then(b64_decode)
        .filter(|b| b.len() == len)?;
    let at = i64::from_be_bytes(bytes[0..8].try_into().ok()?);
    let origin = i64::from_be_bytes(bytes[len - 8..].try_into().ok()?);
    Some((Utc.timestamp_opt(at, 0).single()?, origin))
}

pub(super) fn openai_int(q: &Params, name: &'static str) -> Result<Option<i64>, OError> {
    match q.get(name) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| {
            (
                format!("Invalid value for '{name}': expected an integer, got '{raw}'."),
                name,
                "invalid_value",
            )
        }),
    }
}

pub(super) fn openai_usage_body(st: &FakeState, q: &Params) -> Result<Value, OError> {
    let (width, default_limit, max_limit) = match q.get("bucket_width").unwrap_or("1d") {
        "1h" => (HOUR, 24, 168),
        "1d" => (DAY, 7, 31),
        other => {
            return Err((
                format!("Invalid value for 'bucket_width': '{other}' is not supported (this fake serves '1h' and '1d')."),
                "bucket_width",
                "invalid_value",
            ))
        }
    };
    let limit = openai_int(q, "limit")?.unwrap_or(default_limit);
    if !(1..=max_limit).contains(&limit) {
        return Err((
            format!("Invalid value for 'limit': must be between 1 and {max_limit} for bucket_width '{}'.", q.get("bucket_width").unwrap_or("1d")),
            "limit",
            "invalid_value",
        ));
    }
    let start = openai_int(q, "start_time")?.ok_or((
        "Missing required parameter: 'start_time'.".to_string(),
        "start_time",
        "missing_required_parameter",
    ))?;
    let start = Utc.timestamp_opt(start, 0).single().ok_or((
        "Invalid value for 'start_time'.".to_string(),
        "start_time",
        "invalid_value",
    ))?;
    let first = floor_to(start, width);
    let end = match openai_int(q, "end_time")? {
        None => first + chrono::Duration::seconds(width * limit),
        Some(end) => Utc
            .timestamp_opt(end, 0)
            .single()
            .filter(|end| *end > start)
            .ok_or((
                "Invalid value for 'end_time': must be after 'start_time'.".to_string(),
                "end_time",
                "invalid_value",
            ))?,
    };
    let mut grouped = [false; 6];
    for value in q.all("group_by") {
        let dim = O_DIMS.iter().position(|d| *d == value).ok_or((
            format!("Invalid value for 'group_by': '{value}'. Supported values are: project_id, user_id, api_key_id, model, batch, service_tier."),
            "group_by",
            "invalid_value",
        ))?;
        grouped[dim] = true;
    }
    let batch_filter = match q.get("batch") {
        None => None,
        Some("true") => Some("true"),
        Some("false") => Some("false"),
        Some(other) => {
            return Err((
                format!("Invalid value for 'batch': expected a boolean, got '{other}'."),
                "batch",
                "invalid_value",
            ))
        }
    };
    let filters: [Vec<&str>; 6] = [
        q.all("project_ids"),
        q.all("user_ids"),
        q.all("api_key_ids"),
        q.all("models"),
        batch_filter.into_iter().collect(),
        Vec::new(),
    ];
    let bad_page = || {
        (
            "Invalid value for 'page': invalid page token (is it URL-encoded?).".to_string(),
            "page",
            "invalid_value",
        )
    };
    let page_start = match q.get("page") {
        None => first,
        Some(token) => {
            let (at, origin) = decode_page(token, 20).ok_or_else(bad_page)?;
            if origin != first.timestamp() || at < first || at >= end || floor_to(at, width) != at {
                return Err(bad_page());
            }
            at
        }
    };
    let page_size = (limit as usize).min(st.config.max_buckets_per_page.max(1));
    let (buckets, next) = page_buckets(page_start, end, width, page_size);

    let mut data = Vec::with_capacity(buckets.len());
    for (bucket_start, bucket_end) in buckets {
        let mut sums: BTreeMap<[Option<&str>; 6], OSums> = BTreeMap::new();
        let rows = st.openai_rows(bucket_start, bucket_end);
        for row in &rows {
            let values: [Option<&str>; 6] = std::array::from_fn(|d| openai_dim(row, d));
            let wanted = filters.iter().zip(values).all(|(filter, value)| {
                filter.is_empty() || value.is_some_and(|v| filter.contains(&v))
            });
            if !wanted {
                continue;
            }
            let key: [Option<&str>; 6] =
                std::array::from_fn(|d| if grouped[d] { values[d] } else { None });
            let sum = sums.entry(key).or_default();
            sum.input += row.input_tokens;
            sum.cached += row.input_cached_tokens;
            sum.output += row.output_tokens;
            sum.requests += row.num_model_requests;
        }
        let results: Vec<Value> = sums
            .into_iter()
            .map(|(key, s)| {
                json!({
                    "object": "organization.usage.completions.result",
                    "input_tokens": s.input,
                    "input_cached_tokens": s.cached,
                    "output_tokens": s.output,
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "num_model_requests": s.requests,
                    "project_id": key[0],
                    "user_id": key[1],
                    "api_key_id": key[2],
                    "model": key[3],
                    "batch": key[4].map(|b| b == "true"),
                    "service_tier": key[5],
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
        let mut bytes = Vec::with_capacity(20);
        bytes.extend_from_slice(&at.timestamp().to_be_bytes());
        bytes.extend_from_slice(&(fnv(b"openai-usage") as u32).to_be_bytes());
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

pub(super) async fn openai_usage(State(st): St, headers: HeaderMap, query: RawPairs) -> Response {
    let rid = st.next_request_id();
    let (pairs, bad_query) = match query {
        Ok(Query(pairs)) => (pairs, None),
        Err(err) => (Vec::new(), Some(err.body_text())),
    };
    st.record_usage_request(FakeProvider::Openai, pairs.clone());
    if let Some(response) = st.pre_fault(FakeProvider::Openai, &rid).await {
        return response;
    }
    if let Err(response) = openai_check(&st, &headers, &rid) {
        return *response;
    }
    if let Some(message) = bad_query {
        return openai_error(400, &rid, &message, "invalid_request_error", None, None);
    }
    match openai_usage_body(&st, &Params(pairs)) {
        Ok(body) => st.finish_page(FakeProvider::Openai, &rid, body),
        Err((message, param, code)) => openai_bad_request(&rid, &message, param, code),
    }
}

pub(super) fn openai_list_limit(q: &Params) -> Result<usize, OError> {
    match q.get("limit") {
        None => Ok(20),
        Some(raw) => match raw.parse::<usize>() {
            Ok(limit) if (1..=100).contains(&limit) => Ok(limit),
            _ => Err((
                format!(
                    "Invalid value for 'limit': must be an integer between 1 and 100, got '{raw}'."
                ),
                "limit",
                "invalid_value",
            )),
        },
    }
}

pub(super) fn openai_list_body<T>(
    st: &FakeState,
    q: &Params,
    items: &[T],
    id: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
) -> Result<Value, OError> {
    let limit = openai_list_limit(q)?;
    let (page, has_more) = id_page(
        items,
        &id,
        q.get("after"),
        None,
        limit,
        st.config.name_page_size,
    )
    .map_err(|message| {
        (
            message.replace("after_id", "after"),
            "after",
            "invalid_value",
        )
    })?;
    Ok(json!({
        "object": "list",
        "data": page.iter().map(render).collect::<Vec<_>>(),
        "first_id": page.first().map(&id),
        "last_id": page.last().map(&id),
        "has_more": has_more,
    }))
}

pub(super) async fn openai_projects(
    State(st): St,
    headers: HeaderMap,
    query: RawPairs,
) -> Response {
    let rid = st.next_request_id();
    st.record_name_request(FakeProvider::Openai);
    if let Err(response) = openai_check(&st, &headers, &rid) {
        return *response;
    }
    let q = Params(query.map(|Query(q)| q).unwrap_or_default());
    let body = openai_list_body(
        &st,
        &q,
        &O_PROJECTS,
        |p| p.id,
        |p| {
            json!({
                "id": p.id,
                "object": "organization.project",
                "name": p.name,
                "created_at": p.created_at,
                "archived_at": null,
                "status": "active",
            })
        },
    );
    match body {
        Ok(body) => openai_json(StatusCode::OK, &rid, &body),
        Err((message, param, code)) => openai_bad_request(&rid, &message, param, code),
    }
}

pub(super) async fn openai_project_keys(
    State(st): St,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    query: RawPairs,
) -> Response {
    let rid = st.next_request_id();
    st.record_name_request(FakeProvider::Openai);
    if let Err(response) = openai_check(&st, &headers, &rid) {
        return *response;
    }
    if !O_PROJECTS.iter().any(|p| p.id == project_id) {
        return openai_error(
            404,
            &rid,
            &format!("No such project: '{project_id}'"),
            "invalid_request_error",
            None,
            None,
        );
    }
    let q = Params(query.map(|Query(q)| q).unwrap_or_default());
    let keys: Vec<&OKey> = O_KEYS
        .iter()
        .filter(|k| k.project_id == project_id)
        .collect();
    let body = openai_list_body(
        &st,
        &q,
        &keys,
        |k| k.id,
        |k| {
            json!({
                "object": "organization.project.api_key",
                "id": k.id,
                "name": k.name,
                "redacted_value": k.redacted,
                "created_at": k.created_at,
                "last_used_at": st.config.now.timestamp() - 600,
                "owner_project_access": "active",
                "owner": {
                    "type": "user",
                    "user": {
                        "object": "organization.project.user",
                        "id": k.owner_id,
                        "name": k.owner_name,
                        "email": k.owner_email,
                        "role": "owner",
                        "added_at": k.created_at - 86_400,
                    }
                }
            })
        },
    );
    match body {
        Ok(body) => openai_json(StatusCode::OK, &rid, &body),
        Err((message, param, code)) => openai_bad_request(&rid, &message, param, code),
    }
}
