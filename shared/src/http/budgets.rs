//! Budgets over the API: `GET/POST /admin/budgets`, `PUT/DELETE /admin/budgets/{id}`,
//! `POST /admin/budgets/check` (evaluate now, answer what fired) and
//! `GET /costs/budgets` (each budget's figures and this period's alerts).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use super::openapi::ErrorBody;
use super::{ApiError, AppState};
use crate::budgets::{parse_budget, BudgetStatus, BudgetView, CheckReport};
use crate::store::StoreError;

/// A budget to create or replace. `scope` omitted = everything.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct BudgetBody {
    /// Unique, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    scope: Option<ScopeBody>,
    /// `day`, `week` (ISO, Monday) or `month`, in REPORT_TIMEZONE.
    #[schema(value_type = String, example = "day")]
    period: String,
    /// USD, greater than zero (a decimal string, or a number).
    #[schema(value_type = String, example = "10")]
    amount_usd: Value,
    /// Percents of the amount, 1 to 1000 (default 50, 80, 100).
    thresholds: Option<Vec<u32>>,
    /// Also alert when the period's projection passes the amount.
    forecast: Option<bool>,
    /// `{"type":"webhook","url":"https://…"}` (http only to a loopback host) or `{"type":"context_vault"}`.
    #[schema(value_type = Option<Vec<Object>>)]
    channels: Option<Vec<Value>>,
}

/// What a budget counts.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct ScopeBody {
    /// `project`, `agent`, `model`, `provider` or `session_type`.
    dimension: String,
    #[schema(min_length = 1)]
    value: String,
}

/// `GET /admin/budgets`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetList {
    pub budgets: Vec<BudgetView>,
}

/// `GET /costs/budgets`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetsNow {
    pub timezone: String,
    pub budgets: Vec<BudgetStatus>,
}

/// `DELETE /admin/budgets/{id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetDeleted {
    pub deleted: i64,
}

fn body_value(body: &Bytes) -> Result<Value, ApiError> {
    super::admin::json_body(body)
}

fn budget_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::field("id", "must be a budget id (integer)"))
}

fn saved(err: StoreError, id: i64) -> ApiError {
    match err {
        StoreError::NotFound => ApiError::NotFound(format!("no budget {id}")),
        StoreError::Duplicate(_) => ApiError::Conflict("name: another budget has this name".into()),
        other => other.into(),
    }
}

#[utoipa::path(
    get,
    path = "/admin/budgets",
    tag = "budgets",
    responses((status = 200, description = "Every budget (webhook URLs show their origin only)", body = BudgetList))
)]
pub async fn list_budgets(State(state): State<AppState>) -> Result<Json<BudgetList>, ApiError> {
    let budgets = state.store().list_budgets().await?;
    Ok(Json(BudgetList {
        budgets: budgets.iter().map(|b| b.shown()).collect(),
    }))
}

/// Creates a budget; it is checked at once (and after every write from then on).
#[utoipa::path(
    post,
    path = "/admin/budgets",
    tag = "budgets",
    request_body = BudgetBody,
    responses(
        (status = 201, description = "The budget", body = BudgetView),
        (status = 409, description = "Another budget has this name", body = ErrorBody),
        (status = 422, description = "A field is invalid (details name each); nothing was stored", body = ErrorBody)
    )
)]
pub async fn create_budget(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<BudgetView>), ApiError> {
    let value = body_value(&body)?;
    let mut budget = parse_budget(&value, None).map_err(ApiError::invalid_fields)?;
    budget.id = state
        .store()
        .save_budget(&budget)
        .await
        .map_err(|err| saved(err, 0))?;
    state.ledger.budget_watch().touch();
    Ok((StatusCode::CREATED, Json(budget.shown())))
}

/// Replaces a budget (the same body as `POST`; a webhook given as `GET` shows it keeps its URL).
#[utoipa::path(
    put,
    path = "/admin/budgets/{id}",
    tag = "budgets",
    params(("id" = i64, Path, description = "Budget id")),
    request_body = BudgetBody,
    responses(
        (status = 200, description = "The budget", body = BudgetView),
        (status = 404, description = "No such budget", body = ErrorBody),
        (status = 409, description = "Another budget has this name", body = ErrorBody),
        (status = 422, description = "A field is invalid (details name each); nothing was stored", body = ErrorBody)
    )
)]
pub async fn update_budget(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<BudgetView>, ApiError> {
    let id = budget_id(&id)?;
    let value = body_value(&body)?;
    let budgets = state.store().list_budgets().await?;
    let previous = budgets
        .iter()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no budget {id}")))?;
    let budget = parse_budget(&value, Some(previous)).map_err(ApiError::invalid_fields)?;
    state
        .store()
        .save_budget(&budget)
        .await
        .map_err(|err| saved(err, id))?;
    state.ledger.budget_watch().touch();
    Ok(Json(budget.shown()))
}

#[utoipa::path(
    delete,
    path = "/admin/budgets/{id}",
    tag = "budgets",
    params(("id" = i64, Path, description = "Budget id")),
    responses(
        (status = 200, description = "Deleted, with its alerts", body = BudgetDeleted),
        (status = 404, description = "No such budget", body = ErrorBody)
    )
)]
pub async fn delete_budget(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BudgetDeleted>, ApiError> {
    let id = budget_id(&id)?;
    if !state.store().delete_budget(id).await? {
        return Err(ApiError::NotFound(format!("no budget {id}")));
    }
    Ok(Json(BudgetDeleted { deleted: id }))
}

/// Evaluates every budget now, sends what is due, and answers what fired.
#[utoipa::path(
    post,
    path = "/admin/budgets/check",
    tag = "budgets",
    responses((status = 200, description = "Each budget now, and the alerts this check fired with their delivery", body = CheckReport))
)]
pub async fn check_budgets(State(state): State<AppState>) -> Result<Json<CheckReport>, ApiError> {
    Ok(Json(state.budgets.check(Utc::now(), "api").await?))
}

/// Each budget's spend this period: spent, amount, percent, projected, and its alerts.
#[utoipa::path(
    get,
    path = "/costs/budgets",
    tag = "budgets",
    responses((status = 200, description = "Each budget's figures now (reconciled basis) and this period's alerts", body = BudgetsNow))
)]
pub async fn budgets_now(State(state): State<AppState>) -> Result<Json<BudgetsNow>, ApiError> {
    Ok(Json(BudgetsNow {
        timezone: state.budgets.timezone().name().to_string(),
        budgets: state.budgets.statuses(Utc::now()).await?,
    }))
}
