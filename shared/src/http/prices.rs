//! `PUT` and `DELETE /admin/prices/{model}`: the stored price layer over the
//! embedded catalog. A stored entry for a model wins from its first
//! `effective_from` on; every instance sees it within 30 s, without a redeploy.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::openapi::ErrorBody;
use super::schemas::{ModelPrices, PriceDeleted, PriceStored};
use super::{ApiError, AppState};
use crate::prices::{self, EditError, PriceError};

/// One price period, USD per million tokens as decimal strings.
#[allow(dead_code)]
#[derive(Deserialize, utoipa::ToSchema)]
struct PeriodBody {
    /// YYYY-MM-DD (UTC): the period applies to records from this day on.
    effective_from: String,
    #[schema(example = "3")]
    input: String,
    #[schema(example = "15")]
    output: String,
    cache_read: Option<String>,
    cache_write_5m: Option<String>,
    cache_write_1h: Option<String>,
    /// Rates that replace every standard rate above `threshold_tokens` of input.
    long_context: Option<LongContextBody>,
    batch_multiplier: Option<String>,
    flex_multiplier: Option<String>,
    geo_us_multiplier: Option<String>,
    /// USD per 1,000 web-search requests.
    web_search_per_1k: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize, utoipa::ToSchema)]
struct LongContextBody {
    threshold_tokens: i64,
    input: String,
    output: String,
    cache_read: Option<String>,
    cache_write_5m: Option<String>,
    cache_write_1h: Option<String>,
}

/// The fields of a catalog `[[model]]` entry; unknown fields are refused.
#[allow(dead_code)]
#[derive(Deserialize, utoipa::ToSchema)]
struct PriceEntryBody {
    /// `anthropic`, `openai`, `moonshot` or another provider name.
    provider: String,
    /// Short family key used in summaries (`opus`, `gpt-5`).
    family: String,
    /// Default: the model id.
    display_name: Option<String>,
    /// Other names the model is reported under (dated ids, provider spellings).
    #[serde(default)]
    aliases: Vec<String>,
    /// Where the prices come from (a URL, a price list).
    source: Option<String>,
    /// Sorted by `effective_from`, at least one.
    prices: Vec<PeriodBody>,
    batch_multiplier: Option<String>,
    flex_multiplier: Option<String>,
    geo_us_multiplier: Option<String>,
    web_search_per_1k: Option<String>,
}

fn invalid(errors: Vec<PriceError>) -> ApiError {
    let message = match errors.as_slice() {
        [one] => one.message.clone(),
        _ => format!(
            "{} invalid price entries; nothing was changed",
            errors.len()
        ),
    };
    ApiError::Unprocessable {
        message,
        details: errors
            .iter()
            .map(|e| json!({"model": e.model, "field": e.field, "message": e.message}))
            .collect(),
    }
}

impl From<EditError> for ApiError {
    fn from(err: EditError) -> ApiError {
        match err {
            EditError::Invalid(errors) => invalid(errors),
            EditError::Store(err) => err.into(),
        }
    }
}

/// Stores a model's prices (a new model, or new periods of a catalog model) and
/// prices at once the unpriced records it covers; priced records keep their cost
/// until `POST /admin/reprice`.
#[utoipa::path(
    put,
    path = "/admin/prices/{model}",
    tag = "admin",
    params(("model" = String, Path, description = "Model id (an alias or provider spelling of a catalog model names that model)")),
    request_body = PriceEntryBody,
    responses(
        (status = 200, description = "The model as it prices now, and the unpriced records priced", body = PriceStored),
        (status = 422, description = "An invalid entry; nothing was changed (details name the model and the field)", body = ErrorBody)
    )
)]
pub async fn put(
    State(state): State<AppState>,
    Path(model): Path<String>,
    body: Bytes,
) -> Result<Json<PriceStored>, ApiError> {
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::field("body", "must be UTF-8 JSON"))?;
    // serde would read a price entry from an array of its fields in order.
    if !text.trim_start().starts_with('{') {
        return Err(ApiError::Unprocessable {
            message: "invalid body: must be a JSON object".into(),
            details: vec![serde_json::json!({"field": "body", "message": "must be a JSON object"})],
        });
    }
    let (entry, _) = prices::check_entry(&state.ledger, &model, text).await?;
    let created = !state
        .store()
        .stored_prices()
        .await?
        .iter()
        .any(|row| row.entry.model == entry.model);
    let outcome = prices::commit(&state.ledger, std::slice::from_ref(&entry), &[]).await?;
    let catalog = state.ledger.prices().await?;
    let Some(priced_model) = catalog.resolve(&entry.model) else {
        return Err(ApiError::Internal(format!(
            "stored price for `{}` is not in use",
            entry.model
        )));
    };
    let view = ModelPrices::new(priced_model, catalog.period_at(priced_model, Utc::now()))
        .with_history(priced_model, model);
    Ok(Json(PriceStored {
        model: view,
        created,
        priced: outcome.priced.into(),
    }))
}

/// Removes a model's stored entry: the catalog's prices (if any) apply again.
/// Records priced by the stored entry keep their cost until `POST /admin/reprice`.
#[utoipa::path(
    delete,
    path = "/admin/prices/{model}",
    tag = "admin",
    params(("model" = String, Path, description = "Model id")),
    responses(
        (status = 200, description = "The stored entry is gone", body = PriceDeleted),
        (status = 404, description = "The model has no stored entry", body = ErrorBody)
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(model): Path<String>,
) -> Result<(StatusCode, Json<PriceDeleted>), ApiError> {
    let current = state.ledger.reload_prices().await?.catalog;
    let id = current.canonical_id(&model);
    let outcome = prices::commit(&state.ledger, &[], std::slice::from_ref(&id)).await?;
    if outcome.removed == 0 {
        return Err(ApiError::NotFound(format!(
            "model `{model}` has no stored price"
        )));
    }
    let catalog = state.ledger.prices().await?;
    let view = catalog
        .resolve(&id)
        .map(|m| ModelPrices::new(m, catalog.period_at(m, Utc::now())).with_history(m, model));
    Ok((
        StatusCode::OK,
        Json(PriceDeleted {
            deleted: id,
            model: view,
            note:
                "records keep the cost they have; POST /admin/reprice applies the prices now in use",
        }),
    ))
}
