//! Budgets and their alerts (migration 0015): definitions edited over the API, and
//! one row per alert, claimed (inserted, unique per budget, period, kind and
//! threshold) before it is sent.

use rust_decimal::Decimal;

use super::backend::Backend;
use super::db::Sql;
use super::rows::{at_ms, corrupt};
use super::StoreError;
use crate::budgets::check::{Alert, AlertKind, AlertQuery, AlertStatus};
use crate::budgets::{Budget, BudgetScope, Channel, Period, SCOPE_DIMENSIONS};

const BUDGET_COLUMNS: &str = "name, scope_dimension, scope_value, period, amount_usd, \
    thresholds, forecast, channels, created_at_ms, updated_at_ms";

#[derive(sqlx::FromRow)]
struct BudgetRow {
    id: i64,
    name: String,
    scope_dimension: Option<String>,
    scope_value: Option<String>,
    period: String,
    amount_usd: String,
    thresholds: String,
    forecast: i64,
    channels: String,
    created_at_ms: i64,
    updated_at_ms: i64,
}

impl TryFrom<BudgetRow> for Budget {
    type Error = StoreError;

    fn try_from(row: BudgetRow) -> Result<Budget, StoreError> {
        let scope = match (row.scope_dimension, row.scope_value) {
            (Some(dimension), Some(value)) => Some(BudgetScope {
                dimension: SCOPE_DIMENSIONS
                    .into_iter()
                    .find(|d| d.column() == dimension)
                    .ok_or_else(|| corrupt("budgets.scope_dimension"))?,
                value,
            }),
            (None, None) => None,
            _ => return Err(corrupt("budgets.scope_value")),
        };
        let channels: Vec<serde_json::Value> =
            serde_json::from_str(&row.channels).map_err(|_| corrupt("budgets.channels"))?;
        Ok(Budget {
            id: row.id,
            name: row.name,
            scope,
            period: Period::parse(&row.period).ok_or_else(|| corrupt("budgets.period"))?,
            amount_usd: row
                .amount_usd
                .parse::<Decimal>()
                .map_err(|_| corrupt("budgets.amount_usd"))?,
            thresholds: serde_json::from_str(&row.thresholds)
                .map_err(|_| corrupt("budgets.thresholds"))?,
            forecast: row.forecast != 0,
            channels: channels
                .iter()
                .map(Channel::from_stored)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| corrupt("budgets.channels"))?,
            created_at: at_ms(row.created_at_ms, "budgets.created_at_ms")?,
            updated_at: at_ms(row.updated_at_ms, "budgets.updated_at_ms")?,
        })
    }
}

pub(crate) async fn list_budgets(db: &Backend) -> Result<Vec<Budget>, StoreError> {
    let text = format!("SELECT id, {BUDGET_COLUMNS} FROM budgets ORDER BY id");
    let rows: Vec<BudgetRow> = db.conn().await?.exec().fetch_all(Sql::new(&text)).await?;
    rows.into_iter().map(Budget::try_from).collect()
}

/// Inserts (`id` 0) or replaces a budget; `Duplicate` when another has its name,
/// `NotFound` when the budget to replace is gone.
pub(crate) async fn save_budget(db: &Backend, budget: &Budget) -> Result<i64, StoreError> {
    let text = super::logs::save_sql("budgets", BUDGET_COLUMNS, budget.id);
    let channels: Vec<serde_json::Value> = budget.channels.iter().map(Channel::stored).collect();
    let sql = Sql::new(&text)
        .bind(&budget.name)
        .bind(budget.scope.as_ref().map(|s| s.dimension.column()))
        .bind(budget.scope.as_ref().map(|s| s.value.as_str()))
        .bind(budget.period.as_str())
        .bind(budget.amount_usd.normalize().to_string())
        .bind(serde_json::to_string(&budget.thresholds).unwrap_or_else(|_| "[]".into()))
        .bind(i64::from(budget.forecast))
        .bind(serde_json::Value::Array(channels).to_string())
        .bind(budget.created_at.timestamp_millis())
        .bind(budget.updated_at.timestamp_millis());
    let sql = super::logs::with_id(sql, budget.id);
    match super::logs::write_returning_id(db, sql).await {
        Err(StoreError::Database(sqlx::Error::Database(err))) if err.is_unique_violation() => {
            Err(StoreError::Duplicate("name"))
        }
        other => other,
    }
}

/// Deletes a budget and its alerts in one transaction; false when absent.
pub(crate) async fn delete_budget(db: &Backend, id: i64) -> Result<bool, StoreError> {
    let _guard = db.write_guard().await;
    let mut tx = db.begin().await?;
    tx.exec()
        .execute(Sql::new("DELETE FROM budget_alerts WHERE budget_id = $1").bind(id))
        .await?;
    let deleted = tx
        .exec()
        .execute(Sql::new("DELETE FROM budgets WHERE id = $1").bind(id))
        .await?;
    tx.commit().await?;
    Ok(deleted > 0)
}

const ALERT_COLUMNS: &str = "budget_id, period_start_ms, kind, threshold, status, figures, \
    attempts, error, fired_at_ms, finished_at_ms";

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    budget_id: i64,
    period_start_ms: i64,
    kind: String,
    threshold: i64,
    status: String,
    figures: String,
    attempts: i64,
    error: Option<String>,
    fired_at_ms: i64,
    finished_at_ms: Option<i64>,
}

impl TryFrom<AlertRow> for Alert {
    type Error = StoreError;

    fn try_from(row: AlertRow) -> Result<Alert, StoreError> {
        Ok(Alert {
            id: row.id,
            budget_id: row.budget_id,
            period_start: at_ms(row.period_start_ms, "budget_alerts.period_start_ms")?,
            kind: AlertKind::parse(&row.kind).ok_or_else(|| corrupt("budget_alerts.kind"))?,
            threshold: u32::try_from(row.threshold)
                .map_err(|_| corrupt("budget_alerts.threshold"))?,
            status: AlertStatus::parse(&row.status)
                .ok_or_else(|| corrupt("budget_alerts.status"))?,
            figures: serde_json::from_str(&row.figures)
                .map_err(|_| corrupt("budget_alerts.figures"))?,
            attempts: row.attempts,
            error: row.error,
            fired_at: at_ms(row.fired_at_ms, "budget_alerts.fired_at_ms")?,
            finished_at: row
                .finished_at_ms
                .map(|ms| at_ms(ms, "budget_alerts.finished_at_ms"))
                .transpose()?,
        })
    }
}

/// Inserts the alert unless its (budget, period, kind, threshold) is recorded:
/// its id when this call claimed it, `None` when it was already there.
pub(crate) async fn claim_alert(db: &Backend, alert: &Alert) -> Result<Option<i64>, StoreError> {
    let _guard = db.write_guard().await;
    let text = format!(
        "INSERT INTO budget_alerts ({ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10) ON CONFLICT (budget_id, period_start_ms, kind, threshold) DO NOTHING \
         RETURNING id"
    );
    let sql = Sql::new(&text)
        .bind(alert.budget_id)
        .bind(alert.period_start.timestamp_millis())
        .bind(alert.kind.as_str())
        .bind(i64::from(alert.threshold))
        .bind(alert.status.as_str())
        .bind(alert.figures.to_string())
        .bind(alert.attempts)
        .bind(&alert.error)
        .bind(alert.fired_at.timestamp_millis())
        .bind(alert.finished_at.map(|at| at.timestamp_millis()));
    let id: Option<(i64,)> = db.conn().await?.exec().fetch_optional(sql).await?;
    Ok(id.map(|(id,)| id))
}

/// Records how an alert's delivery ended (status, attempts, error, finish).
pub(crate) async fn finish_alert(db: &Backend, alert: &Alert) -> Result<(), StoreError> {
    let _guard = db.write_guard().await;
    let sql = Sql::new(
        "UPDATE budget_alerts SET status = $1, attempts = $2, error = $3, finished_at_ms = $4 \
         WHERE id = $5",
    )
    .bind(alert.status.as_str())
    .bind(alert.attempts)
    .bind(&alert.error)
    .bind(alert.finished_at.map(|at| at.timestamp_millis()))
    .bind(alert.id);
    db.conn().await?.exec().execute(sql).await?;
    Ok(())
}

/// Alerts, newest first, of one budget, period and/or status, or of all.
pub(crate) async fn budget_alerts(
    db: &Backend,
    query: &AlertQuery,
    limit: i64,
) -> Result<Vec<Alert>, StoreError> {
    let text = format!(
        "SELECT id, {ALERT_COLUMNS} FROM budget_alerts WHERE ($1 IS NULL OR budget_id = $1) \
         AND ($2 IS NULL OR period_start_ms = $2) AND ($3 IS NULL OR status = $3) \
         ORDER BY id DESC LIMIT $4"
    );
    let sql = Sql::new(&text)
        .bind(query.budget_id)
        .bind(query.period_start.map(|at| at.timestamp_millis()))
        .bind(query.status.map(AlertStatus::as_str))
        .bind(limit);
    let rows: Vec<AlertRow> = db.conn().await?.exec().fetch_all(sql).await?;
    rows.into_iter().map(Alert::try_from).collect()
}
