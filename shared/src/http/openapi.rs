//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the code.
//!
//! Every route is registered through `utoipa_axum::routes!` from a handler's
//! `#[utoipa::path]`, so the router and the document are built from the same calls.
//! The query parameters of each endpoint are one table ([`QuerySpec`]) that both
//! [`super::params::Params::parse`] (which rejects anything else) and the document use.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::HeaderValue;
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{Modify, OpenApi, ToSchema};

/// What a query parameter holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    /// `YYYY-MM-DD` or an RFC 3339 instant.
    Time,
    Integer {
        min: i64,
        max: i64,
    },
    OneOf(&'static [&'static str]),
}

/// One query parameter an endpoint accepts.
#[derive(Debug)]
pub struct QueryParam {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: Kind,
}

impl QueryParam {
    fn parameter(&self) -> Parameter {
        let schema = match self.kind {
            Kind::Text | Kind::Time => ObjectBuilder::new().schema_type(Type::String),
            Kind::Integer { min, max } => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(min as f64))
                .maximum(Some(max as f64)),
            Kind::OneOf(values) => ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values.iter().copied())),
        };
        ParameterBuilder::new()
            .name(self.name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(self.description))
            .schema(Some(schema))
            .build()
    }
}

/// The query parameters of one endpoint.
pub trait QuerySpec {
    const PARAMS: &'static [&'static QueryParam];
}

/// Declares a [`QuerySpec`] (and its `utoipa::IntoParams`) from a list of parameters.
macro_rules! query_spec {
    ($(#[$doc:meta])* $name:ident: $($param:expr),* $(,)?) => {
        $(#[$doc])*
        pub struct $name;
        impl QuerySpec for $name {
            const PARAMS: &'static [&'static QueryParam] = &[$(&$param),*];
        }
        impl utoipa::IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                Self::PARAMS.iter().map(|p| p.parameter()).collect()
            }
        }
    };
}

const fn param(name: &'static str, description: &'static str, kind: Kind) -> QueryParam {
    QueryParam {
        name,
        description,
        kind,
    }
}

pub const START: QueryParam = param("start", "First day (YYYY-MM-DD, inclusive, in the report zone) or an RFC 3339 instant; default: 30 days before `end`", Kind::Time);
pub const END: QueryParam = param(
    "end",
    "Last day (YYYY-MM-DD, inclusive) or an RFC 3339 instant (exclusive); default: today",
    Kind::Time,
);
pub const START_DATE: QueryParam = param("start_date", "Like `start`", Kind::Time);
pub const END_DATE: QueryParam = param("end_date", "Like `end`", Kind::Time);
pub const DATE: QueryParam = param("date", "The day, YYYY-MM-DD in the report zone", Kind::Time);
pub const TZ: QueryParam = param(
    "tz",
    "IANA time zone with whole-hour offsets; default REPORT_TIMEZONE",
    Kind::Text,
);
pub const GROUP_BY: QueryParam = param(
    "group_by",
    "Bucket size (default day)",
    Kind::OneOf(&["day", "week", "month"]),
);
pub const STACK_BY: QueryParam = param("stack_by", "Split each bucket by this dimension (`stack` on each bucket, `stack_totals` for the range); parts sum exactly to the bucket", Kind::OneOf(&["model", "project", "session_type", "agent", "provider", "source"]));
pub const FORMAT: QueryParam = param(
    "format",
    "`csv`: text/csv attachment with a header row and exact decimals; default json",
    Kind::OneOf(&["json", "csv"]),
);
pub const LIMIT: QueryParam = param(
    "limit",
    "Records per page (default 100); not with format=csv, which exports every matching record",
    Kind::Integer { min: 1, max: 1000 },
);
pub const OFFSET: QueryParam = param(
    "offset",
    "Records to skip (default 0); not with format=csv",
    Kind::Integer {
        min: 0,
        max: i64::MAX,
    },
);
pub const PROVIDER: QueryParam = param(
    "provider",
    "Only this provider (anthropic, openai, moonshot …)",
    Kind::Text,
);
pub const MODEL: QueryParam = param(
    "model",
    "Only this model (an alias or dated id filters its canonical model)",
    Kind::Text,
);
pub const PROJECT: QueryParam = param("project", "Only this project", Kind::Text);
pub const AGENT: QueryParam = param(
    "agent",
    "Only this agent; `(none)` for records without one",
    Kind::Text,
);
pub const SESSION_TYPE: QueryParam = param(
    "session_type",
    "Only this session type",
    Kind::OneOf(&["main", "subagent", "heartbeat", "cron", "other"]),
);
pub const SOURCE: QueryParam = param(
    "source",
    "Only records from this source",
    Kind::OneOf(&["push", "anthropic", "openai", "import"]),
);

query_spec!(
    /// `GET /costs/daily`.
    DayQuery: DATE, TZ, FORMAT, PROVIDER, MODEL, PROJECT, AGENT, SESSION_TYPE, SOURCE
);
query_spec!(
    /// `GET /costs/range`.
    RangeQuery: START, END, TZ, GROUP_BY, STACK_BY, FORMAT, PROVIDER, MODEL, PROJECT, AGENT, SESSION_TYPE, SOURCE
);
query_spec!(
    /// `GET /costs/summary/*`.
    SummaryQuery: TZ, FORMAT, PROVIDER, MODEL, PROJECT, AGENT, SESSION_TYPE, SOURCE
);
query_spec!(
    /// `GET /costs/by-*`.
    BreakdownQuery: START, END, TZ, FORMAT, PROVIDER, MODEL, PROJECT, AGENT, SESSION_TYPE, SOURCE
);
query_spec!(
    /// `GET /costs/daily-summary`.
    DailySummaryQuery: DATE, TZ, FORMAT
);
query_spec!(
    /// `GET /api/usage`.
    UsageListQuery: START_DATE, END_DATE, TZ, LIMIT, OFFSET, FORMAT, PROVIDER, MODEL, PROJECT, AGENT, SESSION_TYPE, SOURCE
);
query_spec!(
    /// `GET /api/usage/summary`.
    UsageSummaryQuery: START_DATE, END_DATE, TZ, GROUP_BY, FORMAT, PROVIDER, MODEL, PROJECT, AGENT, SESSION_TYPE, SOURCE
);

/// The error envelope of every 4xx and 5xx.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    pub request_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `unauthorized`, `not_found`, `invalid_request`, `conflict`, `payload_too_large`,
    /// `unavailable`, `upstream_failed` or `internal`.
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
/// the key is required, 400 where there are parameters or a body, 500 everywhere.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
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
            let input = operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
                || operation.request_body.is_some();
            let keyed = operation.security.is_none();
            let responses = &mut operation.responses.responses;
            if keyed {
                responses.entry("401".into()).or_insert_with(|| {
                    error("No valid API key (X-API-Key or Authorization: Bearer)").into()
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
