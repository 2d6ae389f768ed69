//! `GET /api/models`: the price catalog with current prices, plus models seen in
//! usage that have no price.

use axum::extract::{Path, State};
use axum::Json;
use chrono::Utc;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use super::openapi::ErrorBody;
use super::schemas::{ModelList, ModelPrices};
use super::{ApiError, AppState};
use crate::domain::money::serialize_decimal;
use crate::domain::pricing::{CatalogModel, PricePeriod};

fn usd(value: Option<Decimal>) -> Value {
    match value {
        Some(v) => serde_json::to_value(Num(v)).unwrap_or(Value::Null),
        None => Value::Null,
    }
}

#[derive(Serialize)]
struct Num(#[serde(serialize_with = "serialize_decimal")] Decimal);

fn prices(p: &PricePeriod) -> Value {
    json!({
        "effective_from": p.effective_from,
        "input_per_mtok": usd(Some(p.input)),
        "output_per_mtok": usd(Some(p.output)),
        "cache_read_per_mtok": usd(p.cache_read),
        "cache_write_5m_per_mtok": usd(p.cache_write_5m),
        "cache_write_1h_per_mtok": usd(p.cache_write_1h),
        "batch_multiplier": usd(Some(p.batch_multiplier)),
        "flex_multiplier": usd(p.flex_multiplier),
        "geo_us_multiplier": usd(p.geo_us_multiplier),
        "web_search_per_1k": usd(p.web_search_per_1k),
        "long_context": p.long_context.as_ref().map(|lc| json!({
            "threshold_tokens": lc.threshold_tokens,
            "input_per_mtok": usd(Some(lc.input)),
            "output_per_mtok": usd(Some(lc.output)),
            "cache_read_per_mtok": usd(lc.cache_read),
            "cache_write_5m_per_mtok": usd(lc.cache_write_5m),
            "cache_write_1h_per_mtok": usd(lc.cache_write_1h),
        })),
    })
}

fn view(state: &AppState, model: &CatalogModel, with_history: bool) -> Value {
    let current = state.ledger.catalog().period_at(model, Utc::now());
    let mut value = json!({
        "id": model.id,
        "provider": model.provider,
        "family": model.family,
        "display_name": model.display_name,
        "aliases": model.aliases,
        "priced": true,
        "prices": prices(current),
        "source": model.source,
    });
    if with_history {
        value["history"] = model.prices.iter().map(prices).collect();
    }
    value
}

/// Every catalog model, then every unpriced model seen in usage.
#[utoipa::path(
    get,
    operation_id = "list_models",
    path = "/api/models",
    tag = "models",
    responses((status = 200, description = "Every catalog model with its current prices, then models seen in usage without a price", body = ModelList))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let mut models: Vec<Value> = state
        .ledger
        .catalog()
        .models()
        .iter()
        .map(|m| view(&state, m, false))
        .collect();
    for (model, requests) in state.store().unpriced_models().await? {
        models.push(json!({"id": model, "priced": false, "unpriced_requests": requests}));
    }
    Ok(Json(json!({"count": models.len(), "models": models})))
}

/// One model by id, alias, dated id or provider spelling; 404 when unknown.
#[utoipa::path(
    get,
    operation_id = "show_model",
    path = "/api/models/{id}",
    tag = "models",
    params(("id" = String, Path, description = "Model id, alias, dated id or provider spelling (`anthropic/…`, Bedrock, Vertex)")),
    responses(
        (status = 200, description = "The model with its price history", body = ModelPrices),
        (status = 404, description = "Not in the price catalog", body = ErrorBody)
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.ledger.catalog().resolve(&id) {
        Some(model) => {
            let mut value = view(&state, model, true);
            value["requested"] = Value::String(id);
            Ok(Json(value))
        }
        None => Err(ApiError::NotFound(format!(
            "model `{id}` is not in the price catalog"
        ))),
    }
}
