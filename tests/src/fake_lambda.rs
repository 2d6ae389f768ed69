//! A fake of the AWS Lambda Invoke API, for what `query-api` hands off: `POST
//! /2015-03-31/functions/{FunctionName}/invocations` with `X-Amz-Invocation-Type:
//! Event` queues the event and answers `202` with an empty body and an
//! `x-amzn-RequestId`. Errors as Lambda sends them: the code in `x-amzn-ErrorType`
//! and `{"Type":"User","Message":…}` — an unknown function is `404
//! ResourceNotFoundException`, a throttled call `429 TooManyRequestsException`, an
//! event over 256 KB `413 RequestEntityTooLargeException`.
//! <https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// Largest event of an asynchronous invocation.
const MAX_EVENT_BYTES: usize = 256 * 1024;

/// One invocation the fake accepted.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub function: String,
    /// `X-Amz-Invocation-Type` (`RequestResponse` when absent, as Lambda defaults).
    pub invocation_type: String,
    /// The SigV4 `Authorization` header.
    pub authorization: String,
    /// `X-Amz-Security-Token` (the session token of Lambda's role credentials).
    pub security_token: Option<String>,
    pub payload: Value,
    pub request_id: String,
}

#[derive(Default)]
struct Shared {
    functions: HashSet<String>,
    accepted: Vec<Invocation>,
    /// Calls answered 429 before the next is accepted.
    throttle: usize,
    /// Every call, answered or not.
    calls: usize,
}

/// A running fake Lambda API.
pub struct FakeLambda {
    /// `http://127.0.0.1:PORT`, the value of `AWS_ENDPOINT_URL_LAMBDA`.
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl FakeLambda {
    /// Serves the functions named in `functions` (names, as `COLLECTOR_FUNCTION` gives them).
    pub async fn start(functions: &[&str]) -> FakeLambda {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the fake Lambda API");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared {
            functions: functions.iter().map(|f| f.to_string()).collect(),
            ..Shared::default()
        }));
        let app = Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLambda { url, shared }
    }

    /// The invocations accepted so far, in order.
    pub fn accepted(&self) -> Vec<Invocation> {
        self.shared.lock().unwrap().accepted.clone()
    }

    /// Calls received, throttled and refused ones included.
    pub fn calls(&self) -> usize {
        self.shared.lock().unwrap().calls
    }

    /// Answers the next `calls` calls with 429.
    pub fn throttle(&self, calls: usize) {
        self.shared.lock().unwrap().throttle = calls;
    }
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        [
            ("x-amzn-errortype", code.to_string()),
            ("x-amzn-requestid", uuid::Uuid::new_v4().to_string()),
            ("content-type", "application/json".to_string()),
        ],
        json!({"Type": "User", "Message": message}).to_string(),
    )
        .into_response()
}

async fn invoke(
    State(shared): State<Arc<Mutex<Shared>>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut shared = shared.lock().unwrap();
    shared.calls += 1;
    let Some(authorization) =
        header("authorization").filter(|a| a.starts_with("AWS4-HMAC-SHA256 "))
    else {
        return error(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".into(),
        );
    };
    if shared.throttle > 0 {
        shared.throttle -= 1;
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            "Rate Exceeded.".into(),
        );
    }
    if !shared.functions.contains(&name) {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        );
    }
    if body.len() > MAX_EVENT_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            format!(
                "{} byte payload is too large for the Event invocation type (limit {MAX_EVENT_BYTES} bytes)",
                body.len()
            ),
        );
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "Could not parse request body into json".into(),
        );
    };
    let invocation_type =
        header("x-amz-invocation-type").unwrap_or_else(|| "RequestResponse".into());
    let request_id = uuid::Uuid::new_v4().to_string();
    shared.accepted.push(Invocation {
        function: name,
        invocation_type: invocation_type.clone(),
        authorization,
        security_token: header("x-amz-security-token"),
        payload,
        request_id: request_id.clone(),
    });
    // This fake runs nothing: a synchronous call would have no answer to give.
    let status = if invocation_type == "Event" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    (status, [("x-amzn-requestid", request_id)]).into_response()
}
