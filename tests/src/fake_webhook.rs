//! A fake Slack incoming webhook: answers `200 ok` to a POST of JSON with a
//! non-empty `text` (what Slack requires; other fields are ignored), `400
//! invalid_payload` otherwise, and `404 no_service` on any path but its own (the
//! secret part of a hook URL). Every request is recorded; the next answers can be
//! scripted: a 5xx, a 429 with `retry-after`, a 4xx with Slack's error text.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

/// The hook's path: what makes the URL a secret.
pub const HOOK_PATH: &str = "/services/T0PEAKPAWS/B0ALERTS/xoxb-hook-secret-9f2c";

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status with Slack's `rollup_error` body.
    Status(u16),
    /// 429 with `retry-after: <seconds>`.
    RateLimited { retry_after_secs: u64 },
    /// A 4xx with Slack's error text (`no_service`, `invalid_token`, `channel_is_archived`).
    Rejected { status: u16, text: &'static str },
}

#[derive(Default)]
struct Inner {
    faults: VecDeque<Fault>,
    /// Every request: path, body, and the status answered.
    received: Vec<(String, Vec<u8>, u16)>,
}

/// A running fake webhook on `127.0.0.1`.
pub struct FakeWebhook {
    /// `http://127.0.0.1:PORT` + [`HOOK_PATH`].
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeWebhook {
    pub async fn start() -> FakeWebhook {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the fake webhook");
        let url = format!("http://{}{HOOK_PATH}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(receive).with_state(inner.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        FakeWebhook { url, inner }
    }

    /// Answers the next `times` requests with `fault`.
    pub fn fail_next(&self, times: usize, fault: Fault) {
        let mut inner = self.inner.lock().unwrap();
        inner.faults.extend(std::iter::repeat_n(fault, times));
    }

    /// The bodies of the messages it accepted (200), as JSON, in arrival order.
    pub fn accepted(&self) -> Vec<Value> {
        self.inner
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|(_, _, status)| *status == 200)
            .map(|(_, body, _)| serde_json::from_slice(body).unwrap_or(Value::Null))
            .collect()
    }

    /// How many requests arrived (answered or not).
    pub fn requests(&self) -> usize {
        self.inner.lock().unwrap().received.len()
    }
}

async fn receive(State(inner): State<Arc<Mutex<Inner>>>, uri: Uri, body: Bytes) -> Response {
    let fault = inner.lock().unwrap().faults.pop_front();
    let text_given = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("text").and_then(Value::as_str).map(|t| !t.is_empty()))
        .unwrap_or(false);
    let (status, answer): (u16, String) = match fault {
        Some(Fault::Status(status)) => (status, "rollup_error".into()),
        Some(Fault::RateLimited { .. }) => (429, "rate_limited".into()),
        Some(Fault::Rejected { status, text }) => (status, text.into()),
        None if uri.path() != HOOK_PATH => (404, "no_service".into()),
        None if !text_given => (400, "invalid_payload".into()),
        None => (200, "ok".into()),
    };
    inner
        .lock()
        .unwrap()
        .received
        .push((uri.path().to_string(), body.to_vec(), status));
    let mut response = (StatusCode::from_u16(status).unwrap(), answer).into_response();
    if let Some(Fault::RateLimited { retry_after_secs }) = fault {
        response
            .headers_mut()
            .insert("retry-after", retry_after_secs.to_string().parse().unwrap());
    }
    response
}
