//! The REST API as one axum [`Router`], served by the `query-api`
//! Lambda and by `cost-tracker serve` alike.

mod admin;
pub mod auth;
mod budgets;
mod costs;
mod csv;
mod dashboard;
pub mod db_gate;
mod envelope;
pub mod error;
pub mod listen;
mod models;
pub mod openapi;
mod prices;
pub mod query;
mod schemas;
mod usage;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::{middleware, Extension, Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    /// The key the dashboard cookie is an HMAC under, read (or created) once.
    pub cookie_secret: Arc<tokio::sync::OnceCell<Secret>>,
    /// Wrong keys per client address.
    pub key_guard: Arc<auth::KeyGuard>,
    /// Whether the database was last seen down (requests then fail fast with 503).
    pub db_gate: Arc<db_gate::DbGate>,
    /// The `query-api` Lambda hands `POST /admin/collect` and `/admin/sync-cv` to the
    /// collector and cv-sync functions; `None` (`serve`) runs them in-process.
    pub handoff: Option<Arc<crate::handoff::Handoff>>,
    /// Evaluates budgets and sends their alerts.
    pub budgets: crate::budgets::Checker,
}

impl AppState {
    pub fn store(&self) -> &dyn crate::store::Store {
        self.ledger.store().as_ref()
    }
}

/// Version reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Builds the whole API. Every route is registered with `routes!` from its handler's
/// `#[utoipa::path]`, which is what `GET /openapi.json` is made of.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// [`router`] with `extra` routes inside the same layers (tests add a route that
/// panics, to see the answer and the next request).
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let protected = OpenApiRouter::new()
        .routes(routes!(costs::daily))
        .routes(routes!(costs::range))
        .routes(routes!(costs::weekly))
        .routes(routes!(costs::monthly))
        .routes(routes!(costs::by_model))
        .routes(routes!(costs::by_session_type))
        .routes(routes!(costs::by_project))
        .routes(routes!(costs::by_agent))
        .routes(routes!(costs::by_provider))
        .routes(routes!(costs::daily_summary))
        .routes(routes!(costs::reconciliation))
        .routes(routes!(costs::bill_check))
        .routes(routes!(usage::list, usage::create))
        .routes(routes!(usage::summary))
        .routes(routes!(usage::delete))
        .routes(routes!(models::list))
        .routes(routes!(models::show))
        .routes(routes!(admin::list_rules, admin::create_rule))
        .routes(routes!(admin::update_rule, admin::delete_rule))
        .routes(routes!(admin::reprice))
        .routes(routes!(prices::put, prices::delete))
        .routes(routes!(admin::status))
        .routes(routes!(admin::collect))
        .routes(routes!(admin::sync_cv))
        .routes(routes!(budgets::list_budgets, budgets::create_budget))
        .routes(routes!(budgets::update_budget, budgets::delete_budget))
        .routes(routes!(budgets::check_budgets))
        .routes(routes!(budgets::budgets_now))
        // The key is checked first (the outer layer): a caller without one learns
        // nothing about the database and starts no probe.
        .route_layer(middleware::from_fn_with_state(state.clone(), db_gate::gate))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(openapi::document))
        .routes(routes!(dashboard::page))
        .routes(routes!(dashboard::app_js))
        .routes(routes!(dashboard::key_js))
        .routes(routes!(dashboard::style))
        .routes(routes!(dashboard::open_session, dashboard::close_session))
        .merge(protected)
        .split_for_parts();
    openapi::finish(&mut doc);
    let document = openapi::Document(Arc::new(doc.to_pretty_json().unwrap_or_default()));

    let cors = cors_layer(&state.config.cors_origins);
    router
        .merge(extra)
        .fallback(not_found)
        // A handler that panics answers 500 in the error envelope; the server goes on.
        .layer(CatchPanicLayer::custom(handler_panicked))
        .layer(Extension(document))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        // A declared Content-Length over the limit is a 413 before any of it is read.
        .layer(RequestBodyLimitLayer::new(state.config.max_body_bytes))
        .layer(middleware::from_fn(envelope::request_context))
        .layer(cors)
        .with_state(state)
}

fn handler_panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked; answered 500");
    ApiError::Internal("handler panicked".into()).into_response()
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

/// `GET /health` (public): the database answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "Up", body = schemas::Health),
        (status = 503, description = "The database does not answer", body = schemas::Health)
    )
)]
async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // Answers at once while the database is known to be down.
    let ping = state
        .db_gate
        .guard(state.ledger.store(), true, state.store().ping())
        .await
        .map_err(|()| "refuses connections".to_string())
        .and_then(|ping| ping.map_err(|err| err.to_string()));
    match ping {
        Ok(()) => Json(schemas::Health {
            status: "ok",
            database: "ok",
            backend: Some(state.store().backend()),
            version: VERSION,
        })
        .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                [(http::header::RETRY_AFTER, db_gate::RETRY_AFTER_SECONDS)],
                Json(schemas::Health {
                    status: "degraded",
                    database: "unreachable",
                    backend: None,
                    version: VERSION,
                }),
            )
                .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}
