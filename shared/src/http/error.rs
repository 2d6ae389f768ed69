//! The one error type of the API: a code and a message for the client, the cause
//! in the log. Bodies never carry SQL, stack traces or secrets.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::domain::timeframe::TimeError;
use crate::ingest::FieldError;
use crate::store::StoreError;

/// What the error envelope middleware turns into `{"error":{…},"request_id":…}`.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Value>,
}

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid API key is required (X-API-Key header or Authorization: Bearer)")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    /// 400: a malformed parameter or body.
    #[error("{message}")]
    BadRequest {
        message: String,
        details: Vec<Value>,
    },
    /// 422: well-formed JSON that fails validation.
    #[error("{message}")]
    Unprocessable {
        message: String,
        details: Vec<Value>,
    },
    #[error("{0}")]
    Conflict(String),
    /// 429 with `Retry-After`: too many wrong keys from this address.
    #[error("too many requests with a wrong API key from this address; retry in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// 503 with `Retry-After`: the database does not take connections.
    #[error(
        "the database is unavailable; retry in {} s",
        super::db_gate::RETRY_AFTER_SECONDS
    )]
    DatabaseUnavailable,
    /// 502: a provider the request depends on failed; details say which and why.
    #[error("{message}")]
    Upstream {
        message: String,
        details: Vec<Value>,
    },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming one field.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::BadRequest {
            message: format!("{field}: {message}"),
            details: vec![serde_json::json!({"field": field, "message": message})],
        }
    }

    /// A 422 listing invalid fields of a body.
    pub fn invalid_fields(errors: Vec<FieldError>) -> ApiError {
        let message = match errors.first() {
            Some(FieldError {
                index: Some(i),
                field,
                message,
            }) if errors.len() == 1 => format!("item {i}: {field} {message}"),
            Some(FieldError {
                index: None,
                field,
                message,
            }) if errors.len() == 1 => format!("{field} {message}"),
            _ => format!("{} invalid fields; nothing was stored", errors.len()),
        };
        let details = errors
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect();
        ApiError::Unprocessable { message, details }
    }

    fn parts(&self) -> (StatusCode, &'static str, Vec<Value>) {
        match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", vec![]),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", vec![]),
            ApiError::BadRequest { details, .. } => {
                (StatusCode::BAD_REQUEST, "invalid_request", details.clone())
            }
            ApiError::Unprocessable { details, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                details.clone(),
            ),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", vec![]),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited", vec![])
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", vec![]),
            ApiError::DatabaseUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                vec![],
            ),
            ApiError::Upstream { details, .. } => {
                (StatusCode::BAD_GATEWAY, "upstream_failed", details.clone())
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", vec![]),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(cause = %cause, "request failed");
        }
        let (status, code, details) = self.parts();
        let info = ErrorInfo {
            code,
            message: self.to_string(),
            details,
        };
        let mut response = status.into_response();
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after } => Some(*retry_after),
            ApiError::DatabaseUnavailable => Some(super::db_gate::RETRY_AFTER_SECONDS),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(info);
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::Conflict { index, external_id } => ApiError::Conflict(format!(
                "item {index}: event_id `{external_id}` was already stored with different content; nothing was stored"
            )),
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Duplicate(field) => ApiError::Conflict(format!("{field}: another record already has it")),
            StoreError::TooLarge(fields) => ApiError::invalid_fields(fields),
            other if super::db_gate::unavailable(&other) => {
                tracing::error!(error = %other, "the database is unavailable");
                ApiError::DatabaseUnavailable
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<TimeError> for ApiError {
    fn from(err: TimeError) -> ApiError {
        ApiError::field(&err.param, err.message)
    }
}
