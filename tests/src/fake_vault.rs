//! A fake Context Vault: stores the memories POSTed to it (any path) when `X-API-Key`
//! matches, answers `401` otherwise, and records every request (path, headers, body)
//! for tests to inspect. Faults are scripted per request: the next N answers can be a
//! 5xx, a 429 with `retry-after`, a 4xx with a text body, or a delay.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use shared::config::Secret;
use shared::cv::VaultAccess;

/// The key the fake accepts unless told otherwise.
pub const VAULT_KEY: &str = "cv-test-key-4f1d";

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status (500, 502, 503 …) with a JSON error body.
    Status(u16),
    /// 429 with `retry-after: <seconds>`.
    RateLimited { retry_after_secs: u64 },
    /// A 4xx with this text as the body.
    Rejected { status: u16, text: String },
    /// Sleep this long, then store the memory and answer normally.
    Delay(Duration),
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Whether the fake stored it (answered 201).
    pub stored: bool,
}

impl Received {
    /// The body parsed as JSON (Null when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// `tags[2]`: the date of a memory.
    pub fn date(&self) -> String {
        self.json()["tags"][2]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn revision(&self) -> i64 {
        self.json()["meta_data"]["revision"].as_i64().unwrap_or(-1)
    }
}

#[derive(Default)]
struct Inner {
    faults: VecDeque<Fault>,
    received: Vec<Received>,
}

struct VaultState {
    key: String,
    inner: Mutex<Inner>,
}

/// A running fake vault on `127.0.0.1`.
pub struct FakeVault {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<VaultState>,
}

impl FakeVault {
    /// Binds `127.0.0.1:0` and serves on the current runtime, accepting [`VAULT_KEY`].
    pub async fn start() -> FakeVault {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the fake vault");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(VaultState {
            key: VAULT_KEY.to_string(),
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new().fallback(receive).with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        FakeVault { url, state }
    }

    /// Access to this vault: `/memories`, workspace `openclaw_default`, the right key.
    pub fn access(&self) -> VaultAccess {
        VaultAccess {
            url: self.url.clone(),
            path: "/memories".into(),
            workspace: "openclaw_default".into(),
            key: Secret::new(VAULT_KEY),
        }
    }

    /// Answers the next `times` requests with `fault`.
    pub fn fail_next(&self, times: usize, fault: Fault) {
        let mut inner = self.state.inner.lock().unwrap();
        inner.faults.extend(std::iter::repeat_n(fault, times));
    }

    /// Drops the faults not yet used.
    pub fn clear_faults(&self) {
        self.state.inner.lock().unwrap().faults.clear();
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.state.inner.lock().unwrap().received.clone()
    }

    /// The memories stored so far, in arrival order.
    pub fn stored(&self) -> Vec<Received> {
        self.requests().into_iter().filter(|r| r.stored).collect()
    }
}

/// An address nothing listens on: a client pointed at it cannot connect.
pub async fn unreachable_url() -> String {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

async fn receive(
    State(state): State<Arc<VaultState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = state.inner.lock().unwrap().faults.pop_front();
    if let Some(Fault::Delay(wait)) = &fault {
        tokio::time::sleep(*wait).await;
    }
    let authorized = headers
        .get("x-api-key")
        .is_some_and(|key| key.as_bytes() == state.key.as_bytes());
    let answer = match fault {
        Some(Fault::Status(status)) => {
            error(status, json!({"error": "internal error"}).to_string())
        }
        Some(Fault::RateLimited { retry_after_secs }) => {
            let mut response = error(429, json!({"error": "rate limited"}).to_string());
            response
                .headers_mut()
                .insert("retry-after", retry_after_secs.to_string().parse().unwrap());
            response
        }
        Some(Fault::Rejected { status, text }) => error(status, text),
        _ if !authorized => error(401, json!({"error": "invalid API key"}).to_string()),
        _ if serde_json::from_slice::<Value>(&body).is_err() => {
            error(400, "body is not JSON".to_string())
        }
        _ => {
            let id = state.inner.lock().unwrap().received.len() + 1;
            (
                StatusCode::CREATED,
                axum::Json(json!({"id": format!("mem_{id}"), "status": "created"})),
            )
                .into_response()
        }
    };
    state.inner.lock().unwrap().received.push(Received {
        path: uri.path().to_string(),
        headers,
        body: body.to_vec(),
        stored: answer.status() == StatusCode::CREATED,
    });
    answer
}

fn error(status: u16, body: String) -> Response {
    (StatusCode::from_u16(status).unwrap(), body).into_response()
}
