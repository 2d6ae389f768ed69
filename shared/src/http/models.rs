//! `GET /api/models`: the price catalog (embedded and stored layers) with current
//! prices and the layer of each, plus models seen in usage that have no price.

use axum::extract::{Path, State};
use axum::Json;
use chrono::Utc;

use super::openapi::ErrorBody;
use super::schemas::{ModelEntry, ModelList, ModelPrices, UnpricedModel};
use super::{ApiError, AppState};
use crate::domain::pricing::{CatalogModel, PriceCatalog};

fn view(catalog: &PriceCatalog, model: &CatalogModel) -> ModelPrices {
    ModelPrices::new(model, catalog.period_at(model, Utc::now()))
}

/// Every catalog model, then every unpriced model seen in usage.
#[utoipa::path(
    get,
    operation_id = "list_models",
    path = "/api/models",
    tag = "models",
    responses((status = 200, description = "Every catalog model with its current prices, then models seen in usage without a price", body = ModelList))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<ModelList>, ApiError> {
    let catalog = state.ledger.prices().await?;
    let mut models: Vec<ModelEntry> = catalog
        .models()
        .iter()
        .map(|m| ModelEntry::Priced(Box::new(view(&catalog, m))))
        .collect();
    for (model, requests) in state.store().unpriced_models().await? {
        models.push(ModelEntry::Unpriced(UnpricedModel::new(model, requests)));
    }
    Ok(Json(ModelList {
        count: models.len(),
        models,
    }))
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
) -> Result<Json<ModelPrices>, ApiError> {
    let catalog = state.ledger.prices().await?;
    match catalog.resolve(&id) {
        Some(model) => Ok(Json(view(&catalog, model).with_history(model, id))),
        None => Err(ApiError::NotFound(format!(
            "model `{id}` is not in the price catalog"
        ))),
    }
}
