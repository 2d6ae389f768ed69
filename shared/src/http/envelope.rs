//! Request ids, one log line per request, and the JSON error envelope for every
//! error response, including those axum produces itself (405, 413, bad bodies).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use super::error::ErrorInfo;

pub const REQUEST_ID: &str = "x-request-id";

/// Assigns (or keeps a sane incoming) request id, logs the request, and wraps errors.
pub async fn request_context(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let status = response.status();
    let handler_json = response.extensions().get::<ErrorInfo>().is_none()
        && response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    // Errors are wrapped in the envelope, except JSON a handler chose to send (the 503 of /health).
    if (status.is_client_error() || status.is_server_error()) && !handler_json {
        response = envelope(response, &request_id);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    tracing::info!(request_id, %method, path, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    response
}

fn envelope(response: Response, request_id: &str) -> Response {
    let status = response.status();
    let info = response
        .extensions()
        .get::<ErrorInfo>()
        .cloned()
        .unwrap_or_else(|| fallback(status));
    let body = json!({"error": info, "request_id": request_id});
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(http::header::CONTENT_LENGTH);
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body.to_string()))
}

/// Errors raised by axum or tower before a handler ran.
fn fallback(status: StatusCode) -> ErrorInfo {
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than the limit",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "invalid_request",
            "this method is not allowed on this route",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "invalid_request",
            "send JSON with Content-Type: application/json",
        ),
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "a valid API key is required"),
        s if s.is_client_error() => ("invalid_request", "the request is invalid"),
        _ => ("internal", "internal error"),
    };
    ErrorInfo {
        code,
        message: message.into(),
        details: vec![],
    }
}
