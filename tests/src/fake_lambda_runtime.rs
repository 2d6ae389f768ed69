//! A fake of the AWS Lambda Runtime API (2018-06-01), so the real compiled Lambda
//! binaries can be run here: the binary polls `GET /runtime/invocation/next`, gets
//! the queued event with the documented headers, and answers on
//! `POST /runtime/invocation/{id}/response` or `/error`; start-up failures arrive
//! on `POST /runtime/init/error`.
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// How the function answered one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `POST /invocation/{id}/response`: the body, parsed.
    Response(Value),
    /// `POST /invocation/{id}/error`: `errorType`, `errorMessage`, and the
    /// `Lambda-Runtime-Function-Error-Type` header.
    Error {
        error_type: String,
        error_message: String,
        header: Option<String>,
    },
}

struct Pending {
    event: Value,
    answer: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct Shared {
    waiting: HashMap<String, oneshot::Sender<Answer>>,
    init_error: Option<Value>,
    next_calls: usize,
}

#[derive(Clone)]
struct RuntimeState {
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>>,
    shared: Arc<Mutex<Shared>>,
}

/// A running fake runtime API.
pub struct FakeLambdaRuntime {
    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    sender: mpsc::UnboundedSender<Pending>,
    shared: Arc<Mutex<Shared>>,
}

impl FakeLambdaRuntime {
    /// Binds 127.0.0.1:0 and serves on the current tokio runtime.
    pub async fn start() -> FakeLambdaRuntime {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the fake runtime API");
        let address = listener.local_addr().unwrap().to_string();
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = RuntimeState {
            queue: Arc::new(tokio::sync::Mutex::new(receiver)),
            shared: shared.clone(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLambdaRuntime {
            address,
            sender,
            shared,
        }
    }

    /// Hands `event` to the function and waits (at most `timeout`) for its answer.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.sender
            .send(Pending { event, answer })
            .expect("the fake runtime is running");
        match tokio::time::timeout(timeout, answered).await {
            Ok(Ok(answer)) => answer,
            _ => panic!(
                "no answer within {timeout:?}; init error: {:?}",
                self.init_error()
            ),
        }
    }

    /// What the function reported on `/runtime/init/error`, if anything.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.lock().unwrap().init_error.clone()
    }

    /// How many times the function asked for the next invocation.
    pub fn next_calls(&self) -> usize {
        self.shared.lock().unwrap().next_calls
    }

    /// Starts `binary` as Lambda would: the runtime API address and the function's
    /// standard variables, plus `env`. Output goes to `log`.
    pub fn spawn(
        &self,
        binary: &str,
        env: &[(&str, String)],
        log: &std::path::Path,
    ) -> LambdaProcess {
        let name = std::path::Path::new(binary)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.spawn_as(&name, Command::new(binary), env, log)
    }

    /// [`FakeLambdaRuntime::spawn`] of any command (e.g. a binary of another CPU under
    /// qemu) as the function `name`.
    pub fn spawn_as(
        &self,
        name: &str,
        mut command: Command,
        env: &[(&str, String)],
        log: &std::path::Path,
    ) -> LambdaProcess {
        let out = std::fs::File::create(log).expect("create the function log");
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &self.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/22/[$LATEST]test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_REGION", "us-east-1")
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        LambdaProcess {
            child: command.spawn().expect("start the Lambda binary"),
            started: Instant::now(),
            log: log.to_path_buf(),
        }
    }
}

/// A Lambda binary running against the fake; killed on drop.
pub struct LambdaProcess {
    child: Child,
    /// When the process was started (for cold-start timing).
    pub started: Instant,
    pub log: std::path::PathBuf,
}

impl LambdaProcess {
    /// Everything the function printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status if the process has stopped.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn next(State(state): State<RuntimeState>) -> Response {
    state.shared.lock().unwrap().next_calls += 1;
    let pending = state.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return StatusCode::GONE.into_response();
    };
    let id = uuid::Uuid::new_v4().to_string();
    state
        .shared
        .lock()
        .unwrap()
        .waiting
        .insert(id.clone(), pending.answer);
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 300_000;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:test"
            .parse()
            .unwrap(),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
            .parse()
            .unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    (StatusCode::OK, headers, pending.event.to_string()).into_response()
}

fn settle(state: &RuntimeState, id: &str, answer: Answer) -> StatusCode {
    match state.shared.lock().unwrap().waiting.remove(id) {
        Some(sender) => {
            let _ = sender.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(state): State<RuntimeState>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    settle(&state, &id, Answer::Response(value))
}

async fn error(
    State(state): State<RuntimeState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = |key: &str| value[key].as_str().unwrap_or_default().to_string();
    let answer = Answer::Error {
        error_type: text("errorType"),
        error_message: text("errorMessage"),
        header: headers
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    settle(&state, &id, answer)
}

async fn init_error(State(state): State<RuntimeState>, body: Bytes) -> StatusCode {
    state.shared.lock().unwrap().init_error =
        Some(serde_json::from_slice(&body).unwrap_or(Value::Null));
    StatusCode::ACCEPTED
}
