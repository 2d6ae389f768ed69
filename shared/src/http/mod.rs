//! The REST API (SPEC §6) as one axum [`Router`], served by the `query-api`
//! Lambda and by `cost-tracker serve` alike.

mod admin;
mod auth;
mod costs;
mod csv;
mod dashboard;
mod envelope;
pub mod error;
mod models;
mod params;
mod usage;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, put};
use axum::{middleware, Json, Router};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{Config, Secret};
use crate::ledger::Ledger;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub ledger: Ledger,
    /// Runs collections for `POST /admin/collect`.
    pub collector: crate::collect::Collector,
    /// Pushes daily summaries for `POST /admin/sync-cv`.
    pub syncer: crate::cv::Syncer,
    pub config: Arc<Config>,
    pub api_key: Secret,
}

impl AppState {
    pub fn store(&self) -> &dyn crate::store::Store {
        self.ledger.store().as_ref()
    }
}

/// Version reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Builds the whole API.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/costs/daily", get(costs::daily))
        .route("/costs/range", get(costs::range))
        .route("/costs/summary/weekly", get(costs::weekly))
        .route("/costs/summary/monthly", get(costs::monthly))
        .route("/costs/by-model", get(costs::by_model))
        .route("/costs/by-session-type", get(costs::by_session_type))
        .route("/costs/by-project", get(costs::by_project))
        .route("/costs/by-agent", get(costs::by_agent))
        .route("/costs/by-provider", get(costs::by_provider))
        .route("/costs/daily-summary", get(costs::daily_summary))
        .route("/api/usage", get(usage::list).post(usage::create))
        .route("/api/usage/summary", get(usage::summary))
        .route("/api/usage/{id}", axum::routing::delete(usage::delete))
        .route("/api/models", get(models::list))
        .route("/api/models/{id}", get(models::show))
        .route(
            "/admin/project-mappings",
            get(admin::list_rules).post(admin::create_rule),
        )
        .route(
            "/admin/project-mappings/{id}",
            put(admin::update_rule).delete(admin::delete_rule),
        )
        .route("/admin/reprice", axum::routing::post(admin::reprice))
        .route("/admin/status", get(admin::status))
        .route("/admin/collect", axum::routing::post(admin::collect))
        .route("/admin/sync-cv", axum::routing::post(admin::sync_cv))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));

    let cors = cors_layer(&state.config.cors_origins);
    Router::new()
        .route("/health", get(health))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/app.js", get(dashboard::app_js))
        .route("/dashboard/key.js", get(dashboard::key_js))
        .route("/dashboard/style.css", get(dashboard::style))
        .route(
            "/dashboard/session",
            axum::routing::post(dashboard::open_session).delete(dashboard::close_session),
        )
        .merge(protected)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn(envelope::request_context))
        .layer(cors)
        .with_state(state)
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allowed: Vec<_> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods(tower_http::cors::Any)
        .allow_headers([
            http::header::CONTENT_TYPE,
            http::header::AUTHORIZATION,
            http::HeaderName::from_static("x-api-key"),
        ])
}

async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.store().ping().await {
        Ok(()) => Json(json!({"status": "ok", "database": "ok", "backend": state.store().backend(), "version": VERSION}))
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "degraded", "database": "unreachable", "version": VERSION})),
            )
                .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}
