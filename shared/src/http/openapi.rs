//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the code.
//!
//! Every route is registered through `utoipa_axum::routes!` from a handler's
//! `#[utoipa::path]`, so the router and the document are built from the same calls.
//! The query parameters of each endpoint are one struct in [`super::query`], which
//! both the extractor (rejecting anything else) and the document use.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::HeaderValue;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The error envelope of every 4xx and 5xx.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    pub request_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `unauthorized`, `not_found`, `invalid_request`, `conflict`, `payload_too_large`,
    /// `rate_limited`, `unavailable`, `database_unavailable`, `upstream_failed` or `internal`.
    pub code: String,
    pub message: String,
    /// Per-field problems: `{"field","message"}`, with `index` for batch items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<serde_json::Value>>,
}

/// Adds the two ways to send the key, required everywhere the operation does not say otherwise.
struct ApiKeySecurity;

impl Modify for ApiKeySecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AI Cost Tracker",
        description = "Where every AI dollar went: usage events in, exact costs out by day, model, project, agent and session type. Every operation needs the API key (X-API-Key or Authorization: Bearer) unless it says otherwise.",
        license(name = "MIT")
    ),
    modifiers(&ApiKeySecurity),
    security(("api_key" = []), ("bearer" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "costs", description = "Cost reports from hourly rollups"),
        (name = "usage", description = "Usage events and raw records"),
        (name = "models", description = "The price catalog"),
        (name = "admin", description = "Mapping rules, re-pricing, collection, Context Vault, status"),
        (name = "budgets", description = "Budgets and their alerts: definitions, figures this period, a check now"),
        (name = "meta", description = "Health and this document"),
        (name = "dashboard", description = "The web page and its files")
    )
)]
pub struct ApiDoc;

/// The document as served, built once per router.
#[derive(Clone)]
pub struct Document(pub Arc<String>);

/// `GET /openapi.json`: public, like `/health` (it describes the API and holds no data).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub async fn document(Extension(doc): Extension<Document>) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

/// Adds the answers every operation can give, so each path lists only its own: 401 where
/// the key is required (and 429 once an address sent too many wrong keys), 400 where there are parameters or a body,
/// 413 and 422 where there is a body, 500 everywhere. Marks every query parameter
/// `allowEmptyValue`, as the parser reads `?basis=` as no `basis`.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build();
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            // utoipa's Parameter has no field for it; an extension is written as-is.
            for parameter in operation.parameters.iter_mut().flatten() {
                if parameter.parameter_in == ParameterIn::Query {
                    parameter
                        .extensions
                        .get_or_insert_with(Default::default)
                        .insert("allowEmptyValue".into(), true.into());
                }
            }
            let input = operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
                || operation.request_body.is_some();
            let keyed = operation.security.is_none();
            let responses = &mut operation.responses.responses;
            if keyed {
                responses.entry("401".into()).or_insert_with(|| {
                    error("No valid API key (X-API-Key or Authorization: Bearer)").into()
                });
                responses.entry("429".into()).or_insert_with(|| {
                    error(
                        "Too many wrong keys from this address; retry after `Retry-After` seconds",
                    )
                    .into()
                });
                responses.entry("503".into()).or_insert_with(|| {
                    error("The database does not take connections (`database_unavailable`); retry after `Retry-After` seconds").into()
                });
            }
            if operation.request_body.is_some() {
                responses.entry("413".into()).or_insert_with(|| {
                    error("The body (or its declared Content-Length) is over MAX_BODY_BYTES").into()
                });
                // Every body is read by serde: not JSON, not an object, or an unknown,
                // missing or mistyped field is a 422 (README, Errors).
                responses.entry("422".into()).or_insert_with(|| {
                    error("The body is not a JSON object of the documented fields; `details` names the field").into()
                });
            }
            if input {
                responses.entry("400".into()).or_insert_with(|| {
                    error("A malformed or unknown parameter or body; `details` names it").into()
                });
            }
            responses.entry("500".into()).or_insert_with(|| {
                error("Internal error (the cause is logged, never shown)").into()
            });
        }
    }
}
