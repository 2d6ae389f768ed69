//! A budget's figures now, the alerts that are due, and the check run.
//!
//! Spent is the period's total on the reconciled basis (what `/costs/range` shows),
//! within the budget's scope. The projection is spent + the average rate of the
//! last 7 full local days before today × the time left in the period. An alert is
//! `(budget, period, kind, threshold)`: claimed by inserting its row (unique) before
//! anything is sent, so it fires once however many checks, processes or Lambdas see
//! it. When one check finds several thresholds passed at once, only the highest is
//! sent; the lower ones are recorded as `superseded` and never sent.

use std::sync::Arc;

use chrono::{DateTime, Days, TimeDelta, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::Value;

use super::deliver::Deliverer;
use super::{Budget, Period};
use crate::config::Config;
use crate::domain::money::{round_usd, serialize_decimal};
use crate::domain::timeframe::{days_range, today, ResolvedRange};
use crate::ledger::Ledger;
use crate::outbound::RunGuard;
use crate::store::{Basis, Filters, Grouping, Store, StoreError};

/// Full local days the projection's rate is the average of.
pub const RATE_DAYS: u64 = 7;
/// A `pending` alert older than this was claimed by a process that stopped before
/// it finished sending: the next check sends it again.
pub const STALE_PENDING: TimeDelta = TimeDelta::minutes(5);

/// Why an alert fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BudgetAlertKind)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// The spend passed `threshold` % of the amount.
    Threshold,
    /// The period's projection passed the amount (`threshold` is 100).
    Forecast,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Threshold => "threshold",
            AlertKind::Forecast => "forecast",
        }
    }

    pub fn parse(text: &str) -> Option<AlertKind> {
        match text {
            "threshold" => Some(AlertKind::Threshold),
            "forecast" => Some(AlertKind::Forecast),
            _ => None,
        }
    }
}

/// Where an alert's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BudgetAlertState)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// Claimed; being sent (or its process stopped: sent again after [`STALE_PENDING`]).
    Pending,
    /// Every channel took it.
    Sent,
    /// A channel did not take it after its retries (see `error`).
    Failed,
    /// A higher threshold was passed in the same check and sent instead.
    Superseded,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Pending => "pending",
            AlertStatus::Sent => "sent",
            AlertStatus::Failed => "failed",
            AlertStatus::Superseded => "superseded",
        }
    }

    pub fn parse(text: &str) -> Option<AlertStatus> {
        match text {
            "pending" => Some(AlertStatus::Pending),
            "sent" => Some(AlertStatus::Sent),
            "failed" => Some(AlertStatus::Failed),
            "superseded" => Some(AlertStatus::Superseded),
            _ => None,
        }
    }
}

/// One alert, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BudgetAlert)]
pub struct Alert {
    /// Store id; 0 before it is claimed.
    pub id: i64,
    pub budget_id: i64,
    /// First instant of the period it is about.
    pub period_start: DateTime<Utc>,
    pub kind: AlertKind,
    /// Percent of the amount.
    pub threshold: u32,
    pub status: AlertStatus,
    /// The figures sent (see [`Figures`]).
    #[schema(value_type = Object)]
    pub figures: Value,
    /// Requests made to the channels, retries included.
    pub attempts: i64,
    pub error: Option<String>,
    pub fired_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Which alerts [`Store::budget_alerts`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    pub budget_id: Option<i64>,
    pub period_start: Option<DateTime<Utc>>,
    pub status: Option<AlertStatus>,
}

/// A budget's figures at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BudgetFigures)]
pub struct Figures {
    /// The budget's name.
    pub budget: String,
    pub budget_id: i64,
    /// Null: everything.
    pub scope: Option<super::ScopeView>,
    pub period: Period,
    /// First and last local dates of the period.
    pub period_start: String,
    pub period_end: String,
    pub timezone: String,
    /// Spent in the period so far, USD (reconciled basis).
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    pub spent: Decimal,
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    /// spent / amount × 100, two decimals.
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    pub percent: Decimal,
    /// spent + the last 7 full days' average rate × the time left in the period.
    #[serde(serialize_with = "serialize_decimal")]
    #[schema(value_type = f64)]
    pub projected: Decimal,
}

impl Figures {
    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// One budget as `GET /costs/budgets` shows it: its definition, figures now and the
/// alerts of the current period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetStatus {
    pub budget: super::BudgetView,
    pub figures: Figures,
    /// The period's alerts, oldest first.
    pub alerts: Vec<Alert>,
}

/// What one check did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = BudgetCheck)]
pub struct CheckReport {
    pub checked_at: DateTime<Utc>,
    /// What started it: `api`, `cli`, `schedule`, `write`, `collection`.
    pub trigger: String,
    pub budgets: Vec<BudgetStatus>,
    /// Alerts that fired in this check (and stale ones sent again), with their delivery.
    pub fired: Vec<Alert>,
}

/// Evaluates budgets and sends what is due. One check at a time per process.
#[derive(Clone)]
pub struct Checker {
    ledger: Ledger,
    timezone: Tz,
    deliverer: Arc<Deliverer>,
    running: RunGuard,
}

impl Checker {
    pub fn new(ledger: Ledger, timezone: Tz, deliverer: Deliverer) -> Checker {
        Checker {
            ledger,
            timezone,
            deliverer: Arc::new(deliverer),
            running: RunGuard::default(),
        }
    }

    /// From `REPORT_TIMEZONE` and the Context Vault settings.
    pub fn from_config(ledger: Ledger, config: &Config) -> Checker {
        Checker::new(
            ledger,
            config.report_timezone,
            Deliverer::from_config(config),
        )
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    pub fn deliverer(&self) -> &Deliverer {
        &self.deliverer
    }

    fn store(&self) -> &dyn Store {
        self.ledger.store().as_ref()
    }

    /// Every budget with its figures at `now` and its current period's alerts.
    pub async fn statuses(&self, now: DateTime<Utc>) -> Result<Vec<BudgetStatus>, StoreError> {
        let mut statuses = Vec::new();
        for budget in self.store().list_budgets().await? {
            statuses.push(self.status(&budget, now).await?);
        }
        Ok(statuses)
    }

    async fn status(
        &self,
        budget: &Budget,
        now: DateTime<Utc>,
    ) -> Result<BudgetStatus, StoreError> {
        let period = budget.period.current(self.timezone, now);
        let figures = figures(self.store(), budget, &period, now).await?;
        let query = AlertQuery {
            budget_id: Some(budget.id),
            period_start: Some(period.start),
            status: None,
        };
        let mut alerts = self.store().budget_alerts(&query, 100).await?;
        alerts.reverse();
        Ok(BudgetStatus {
            budget: budget.shown(),
            figures,
            alerts,
        })
    }

    /// Evaluates every budget at `now`, claims the alerts that are due and sends
    /// them; sends again the alerts a stopped process left pending. Channel failures
    /// are in the alerts (status `failed`, `error`); only a storage failure is an error.
    #[tracing::instrument(skip_all, fields(trigger), err)]
    pub async fn check(
        &self,
        now: DateTime<Utc>,
        trigger: &str,
    ) -> Result<CheckReport, StoreError> {
        let _one_at_a_time = self.running.start().await;
        let mut report = CheckReport {
            checked_at: now,
            trigger: trigger.to_string(),
            budgets: Vec::new(),
            fired: Vec::new(),
        };
        for budget in self.store().list_budgets().await? {
            let status = self.status(&budget, now).await?;
            let due = due(&budget, &status);
            let any_due = !due.is_empty();
            let period_start = budget.period.current(self.timezone, now).start;
            let mut claimed = Vec::new();
            for (kind, threshold, send) in due {
                let mut alert = Alert {
                    id: 0,
                    budget_id: budget.id,
                    period_start,
                    kind,
                    threshold,
                    status: if send {
                        AlertStatus::Pending
                    } else {
                        AlertStatus::Superseded
                    },
                    figures: status.figures.json(),
                    attempts: 0,
                    error: None,
                    fired_at: Utc::now(),
                    finished_at: (!send).then(Utc::now),
                };
                if let Some(id) = self.store().claim_alert(&alert).await? {
                    alert.id = id;
                    if send {
                        claimed.push(alert);
                    }
                }
            }
            // Alerts a stopped process claimed and never finished.
            let stale = status.alerts.iter().filter(|a| {
                a.status == AlertStatus::Pending && a.fired_at < Utc::now() - STALE_PENDING
            });
            claimed.extend(stale.cloned());
            let changed = any_due || !claimed.is_empty();
            for mut alert in claimed {
                let figures = status.figures.clone();
                let outcome = self.deliverer.send(&budget, &alert, &figures).await;
                alert.attempts += i64::from(outcome.attempts);
                alert.status = if outcome.errors.is_empty() {
                    AlertStatus::Sent
                } else {
                    AlertStatus::Failed
                };
                alert.error = (!outcome.errors.is_empty()).then(|| outcome.errors.join("; "));
                alert.finished_at = Some(Utc::now());
                self.store().finish_alert(&alert).await?;
                match alert.status {
                    AlertStatus::Sent => tracing::info!(
                        budget = %budget.name, kind = alert.kind.as_str(), threshold = alert.threshold,
                        spent = %figures.spent, amount = %figures.amount, "budget alert sent"
                    ),
                    _ => tracing::error!(
                        budget = %budget.name, kind = alert.kind.as_str(), threshold = alert.threshold,
                        error = alert.error.as_deref().unwrap_or_default(), "budget alert not delivered"
                    ),
                }
                report.fired.push(alert);
            }
            // The statuses answered include what this check recorded (read again only then).
            let status = match changed {
                true => self.status(&budget, now).await?,
                false => status,
            };
            report.budgets.push(status);
        }
        Ok(report)
    }
}

/// The alerts `status` makes due that are not recorded for its period yet:
/// `(kind, threshold, send)`, where `send` is false for a threshold passed below a
/// higher one passed in the same check.
fn due(budget: &Budget, status: &BudgetStatus) -> Vec<(AlertKind, u32, bool)> {
    let figures = &status.figures;
    let recorded = |kind: AlertKind, threshold: u32| {
        status
            .alerts
            .iter()
            .any(|a| a.kind == kind && a.threshold == threshold)
    };
    let passed: Vec<u32> = budget
        .thresholds
        .iter()
        .copied()
        .filter(|&t| figures.spent * Decimal::from(100) >= figures.amount * Decimal::from(t))
        .filter(|&t| !recorded(AlertKind::Threshold, t))
        .collect();
    let highest = passed.iter().copied().max();
    let mut due: Vec<(AlertKind, u32, bool)> = passed
        .into_iter()
        .map(|t| (AlertKind::Threshold, t, Some(t) == highest))
        .collect();
    // The forecast warns before the money is spent: once the amount is passed, the
    // thresholds say so.
    if budget.forecast
        && figures.projected >= figures.amount
        && figures.spent < figures.amount
        && !recorded(AlertKind::Forecast, 100)
    {
        due.push((AlertKind::Forecast, 100, true));
    }
    due
}

/// The filters of a budget: reconciled basis, and its scope.
fn filters(budget: &Budget) -> Filters {
    let mut filters = Filters {
        basis: Basis::Reconciled,
        ..Filters::default()
    };
    if let Some(scope) = &budget.scope {
        let value = Some(scope.value.clone());
        use crate::store::Dimension;
        match scope.dimension {
            Dimension::Project => filters.project = value,
            Dimension::Agent => filters.agent = value,
            Dimension::Model => filters.model = value,
            Dimension::Provider => filters.provider = value,
            Dimension::SessionType => filters.session_type = value,
            Dimension::Source => filters.source = value,
        }
    }
    filters
}

/// The exact total (USD) of `[start, end)` within the budget's scope.
async fn spent(
    store: &dyn Store,
    filters: &Filters,
    range: &ResolvedRange,
) -> Result<Decimal, StoreError> {
    let rows = store
        .rollup_totals(range.start, range.end, filters, Grouping::Total)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(_, totals)| totals.cost)
        .sum::<crate::domain::money::Pico>()
        .usd())
}

/// A budget's figures at `now`, in its current `period`.
pub async fn figures(
    store: &dyn Store,
    budget: &Budget,
    period: &ResolvedRange,
    now: DateTime<Utc>,
) -> Result<Figures, StoreError> {
    let filters = filters(budget);
    let spent_usd = spent(store, &filters, period).await?;
    let tz = period.tz;
    let today = today(tz, now);
    let history = days_range(today - Days::new(RATE_DAYS), today - Days::new(1), tz);
    let history_usd = spent(store, &filters, &history).await?;
    let history_seconds = (history.end - history.start).num_seconds().max(1);
    let left_seconds = (period.end - now).num_seconds().clamp(0, i64::MAX);
    let projected =
        spent_usd + history_usd * Decimal::from(left_seconds) / Decimal::from(history_seconds);
    let percent = (spent_usd * Decimal::from(100) / budget.amount_usd)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    Ok(Figures {
        budget: budget.name.clone(),
        budget_id: budget.id,
        scope: budget.shown().scope,
        period: budget.period,
        period_start: period.start_label.clone(),
        period_end: period.end_label.clone(),
        timezone: tz.name().to_string(),
        spent: round_usd(spent_usd),
        amount: budget.amount_usd.normalize(),
        percent,
        projected: round_usd(projected),
    })
}
