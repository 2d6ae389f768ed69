//! `/admin/*`: project mapping rules, re-pricing and status.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::openapi::ErrorBody;
use super::query::parse_optional_time;
use super::schemas::{
    HandedOff, HandoffStatus, ProviderStatus, Providers, Repriced, Rule, RuleChange, RuleDeleted,
    RuleList, RunReport, Status, UnpricedUsage, VaultStatus,
};
use super::{ApiError, AppState};
use crate::domain::rules::{validate_pattern, ProjectRule};
use crate::domain::timeframe::resolve_range;
use crate::handoff::Job;

/// A project mapping rule to create or replace.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    pattern: String,
    project: String,
    #[serde(default)]
    priority: i32,
}

pub(super) fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    let invalid = |message: String| ApiError::Unprocessable {
        message: format!("invalid body: {message}"),
        details: vec![json!({"field": "body", "message": message})],
    };
    // serde also reads a struct from an array of its fields in order (`["x-*","X",1]`
    // would be a rule): a body is a JSON object, or nothing.
    if !body.trim_ascii_start().starts_with(b"{") {
        return Err(invalid("must be a JSON object".into()));
    }
    serde_json::from_slice(body).map_err(|err| invalid(err.to_string()))
}

fn parse_rule(body: &Bytes) -> Result<RuleBody, ApiError> {
    let rule: RuleBody = json_body(body)?;
    for (field, value) in [("pattern", &rule.pattern), ("project", &rule.project)] {
        if value.contains('\0') {
            return Err(ApiError::Unprocessable {
                message: format!("{field}: {}", crate::ingest::NUL_MESSAGE),
                details: vec![json!({"field": field, "message": crate::ingest::NUL_MESSAGE})],
            });
        }
    }
    validate_pattern(&rule.pattern).map_err(|m| ApiError::field("pattern", m))?;
    if rule.project.trim().is_empty() || rule.project.len() > 200 {
        return Err(ApiError::field("project", "must be 1 to 200 characters"));
    }
    Ok(rule)
}

fn rule_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::field("id", "must be a rule id (integer)"))
}

#[utoipa::path(
    get,
    path = "/admin/project-mappings",
    tag = "admin",
    responses((status = 200, description = "The mapping rules and the default project", body = RuleList))
)]
pub async fn list_rules(State(state): State<AppState>) -> Result<Json<RuleList>, ApiError> {
    let rules = state.store().list_rules().await?;
    Ok(Json(RuleList {
        default_project: state.config.default_project.clone(),
        rules: rules.into_iter().map(Rule::from).collect(),
    }))
}

/// Creates a rule and re-tags the records it now captures.
#[utoipa::path(
    post,
    path = "/admin/project-mappings",
    tag = "admin",
    request_body = RuleBody,
    responses((status = 201, description = "The rule, and the records it re-tagged", body = RuleChange))
)]
pub async fn create_rule(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<RuleChange>), ApiError> {
    let body = parse_rule(&body)?;
    let rule = state
        .store()
        .create_rule(body.pattern.trim(), body.project.trim(), body.priority)
        .await?;
    let retag = state.ledger.apply_rules().await?;
    let change = RuleChange {
        rule: rule.into(),
        retagged: retag.into(),
    };
    Ok((StatusCode::CREATED, Json(change)))
}

#[utoipa::path(
    put,
    path = "/admin/project-mappings/{id}",
    tag = "admin",
    params(("id" = i64, Path, description = "Rule id")),
    request_body = RuleBody,
    responses(
        (status = 200, description = "The rule, and the records it re-tagged", body = RuleChange),
        (status = 404, description = "No such rule", body = ErrorBody)
    )
)]
pub async fn update_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<RuleChange>, ApiError> {
    let id = rule_id(&id)?;
    let body = parse_rule(&body)?;
    let rule = ProjectRule {
        id,
        pattern: body.pattern.trim().into(),
        project: body.project.trim().into(),
        priority: body.priority,
    };
    let rule = state
        .store()
        .update_rule(&rule)
        .await
        .map_err(|err| match err {
            crate::store::StoreError::NotFound => {
                ApiError::NotFound(format!("no project mapping {id}"))
            }
            other => other.into(),
        })?;
    let retag = state.ledger.apply_rules().await?;
    Ok(Json(RuleChange {
        rule: rule.into(),
        retagged: retag.into(),
    }))
}

#[utoipa::path(
    delete,
    path = "/admin/project-mappings/{id}",
    tag = "admin",
    params(("id" = i64, Path, description = "Rule id")),
    responses(
        (status = 200, description = "Deleted, and the records re-tagged", body = RuleDeleted),
        (status = 404, description = "No such rule", body = ErrorBody)
    )
)]
pub async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RuleDeleted>, ApiError> {
    let id = rule_id(&id)?;
    if !state.store().delete_rule(id).await? {
        return Err(ApiError::NotFound(format!("no project mapping {id}")));
    }
    let retag = state.ledger.apply_rules().await?;
    Ok(Json(RuleDeleted {
        deleted: id,
        retagged: retag.into(),
    }))
}

/// The range to re-price (days in `tz`, default REPORT_TIMEZONE).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RepriceBody {
    start: Option<String>,
    end: Option<String>,
    tz: Option<String>,
}

/// Recomputes computed costs in a range with the current catalog and says what changed.
#[utoipa::path(
    post,
    path = "/admin/reprice",
    tag = "admin",
    request_body = RepriceBody,
    responses((status = 200, description = "What re-pricing with the current catalog changed", body = Repriced))
)]
pub async fn reprice(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Repriced>, ApiError> {
    let body: RepriceBody = json_body(&body)?;
    let (Some(start), Some(end)) = (body.start.as_deref(), body.end.as_deref()) else {
        let missing = if body.start.is_none() { "start" } else { "end" };
        return Err(ApiError::field(
            missing,
            "is required (YYYY-MM-DD or RFC 3339)",
        ));
    };
    let tz = match body.tz.as_deref() {
        Some(name) => super::query::parse_tz(name)?,
        None => state.config.report_timezone,
    };
    let start = parse_optional_time("start", Some(start))?;
    let end = parse_optional_time("end", Some(end))?;
    let range = resolve_range(start, end, tz, Utc::now(), 30)?;
    let report = state.ledger.reprice(range.start, range.end).await?;
    Ok(Json(Repriced {
        start: range.start_label,
        end: range.end_label,
        timezone: tz.name().to_string(),
        report: report.into(),
    }))
}

/// What to collect (default: every configured provider, from its watermark).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CollectBody {
    provider: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

/// Runs a collection now and answers its report; 502 (with the report) when a provider failed.
#[utoipa::path(
    post,
    path = "/admin/collect",
    tag = "admin",
    request_body = Option<CollectBody>,
    responses(
        (status = 200, description = "The collection report (records upserted, buckets, range, duration)", body = RunReport),
        (status = 202, description = "On Lambda: the collection was handed to the collector function, which runs it and logs the run (see `GET /admin/status`)", body = HandedOff),
        (status = 502, description = "A provider failed; details has each provider's report. On Lambda: the collector function did not accept the event", body = ErrorBody)
    )
)]
pub async fn collect(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    use crate::collect::{CollectRequest, Trigger};
    let body: CollectBody = json_body(&body)?;
    let now = Utc::now();
    let request = CollectRequest::from_fields(
        body.provider.as_deref(),
        body.start.as_deref(),
        body.end.as_deref(),
        Trigger::Api,
        now,
    )
    .map_err(|err| ApiError::field(err.field, err.message))?;
    if let Some(handoff) = handed_off(&state, Job::Collect) {
        // The collector's manual event, with the range as resolved here.
        let mut event = json!({"action": "collect"});
        if let Some(provider) = request.provider {
            event["provider"] = json!(provider.as_str());
        }
        if let Some((start, end)) = request.range {
            event["start"] = json!(start.to_rfc3339());
            event["end"] = json!(end.to_rfc3339());
        }
        return hand_off(&state, handoff, Job::Collect, event).await;
    }
    let report = state
        .collector
        .collect_once(request, now)
        .await
        .map_err(|err| ApiError::field(err.field, err.message))?;
    if report.succeeded() {
        return Ok(Json(RunReport::of(&report)).into_response());
    }
    let failures = report.failures();
    Err(ApiError::Upstream {
        message: failures
            .iter()
            .filter_map(|f| f.error.clone())
            .collect::<Vec<_>>()
            .join("; "),
        details: report
            .providers
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect(),
    })
}

/// One provider's collection state: its watermark, last run, last success and last error.
async fn provider_status(
    state: &AppState,
    provider: crate::collect::Provider,
) -> Result<ProviderStatus, ApiError> {
    use crate::store::RunStatus;
    let store = state.store();
    let runs = store.recent_runs(Some(provider.as_str()), 20).await?;
    let last_success = runs.iter().find(|r| r.status == RunStatus::Succeeded);
    let last_failure = runs.iter().find(|r| r.status == RunStatus::Failed);
    Ok(ProviderStatus {
        configured: handed_off(state, Job::Collect)
            .is_none()
            .then(|| state.collector.settings().configured().contains(&provider)),
        watermark: store.watermark(provider.as_str()).await?,
        last_success_at: last_success.and_then(|r| r.finished_at),
        last_error: runs.first().and_then(|r| r.error.clone()),
        last_failure: last_failure.cloned(),
        last_run: runs.into_iter().next(),
    })
}

/// The day to push (default yesterday) and whether to push it again when unchanged.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SyncBody {
    #[schema(value_type = Option<String>, format = Date)]
    date: Option<Value>,
    #[schema(value_type = Option<bool>)]
    force: Option<Value>,
}

/// Pushes one day's summary to Context Vault now (default yesterday): the report says
/// `pushed`, `already_synced` or `not_configured`; 502 (with each day) when the vault failed.
#[utoipa::path(
    post,
    path = "/admin/sync-cv",
    tag = "admin",
    request_body = Option<SyncBody>,
    responses(
        (status = 200, description = "Pushed, already synced or not configured, per day", body = RunReport),
        (status = 202, description = "On Lambda: the day was handed to the cv-sync function, which pushes it and logs the push (see `GET /admin/status`)", body = HandedOff),
        (status = 502, description = "Context Vault failed; details has each day. On Lambda: the cv-sync function did not accept the event", body = ErrorBody)
    )
)]
pub async fn sync_cv(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    use crate::collect::Trigger;
    use crate::cv::SyncRequest;
    let body: SyncBody = json_body(&body)?;
    let date = match &body.date {
        None | Some(Value::Null) => None,
        Some(Value::String(date)) => Some(date.as_str()),
        Some(_) => return Err(ApiError::field("date", "must be a YYYY-MM-DD string")),
    };
    let force = match &body.force {
        None | Some(Value::Null) => false,
        Some(Value::Bool(force)) => *force,
        Some(_) => return Err(ApiError::field("force", "must be true or false")),
    };
    let now = Utc::now();
    let timezone = state.syncer.settings().timezone;
    let request = SyncRequest::for_day(date, force, Trigger::Api, timezone, now)
        .map_err(|err| ApiError::field(err.field, err.message))?;
    if let Some(handoff) = handed_off(&state, Job::SyncCv) {
        let crate::cv::SyncScope::Day(day) = request.scope else {
            unreachable!("for_day always names one day")
        };
        let event = json!({"action": "sync", "date": day.to_string(), "force": force});
        return hand_off(&state, handoff, Job::SyncCv, event).await;
    }
    let report = state.syncer.sync_once(request, now).await?;
    if report.succeeded() {
        return Ok(Json(RunReport::of(&report)).into_response());
    }
    Err(ApiError::Upstream {
        message: report.error.clone().unwrap_or_default(),
        details: report
            .days
            .iter()
            .map(|day| serde_json::to_value(day).unwrap_or(Value::Null))
            .collect(),
    })
}

/// The handoff of `job`, when this process hands it to another function.
fn handed_off(state: &AppState, job: Job) -> Option<&crate::handoff::Handoff> {
    state
        .handoff
        .as_deref()
        .filter(|handoff| handoff.function(job).is_some())
}

/// Invokes the function of `job` with `event`: 202 with the logged handoff, or 502
/// when Lambda did not take it.
async fn hand_off(
    state: &AppState,
    handoff: &crate::handoff::Handoff,
    job: Job,
    event: Value,
) -> Result<Response, ApiError> {
    use crate::handoff::HandoffError;
    match handoff.start(state.store(), job, event).await {
        Ok(record) => Ok((
            StatusCode::ACCEPTED,
            Json(HandedOff {
                handoff: record,
                status_url: "/admin/status",
            }),
        )
            .into_response()),
        Err(HandoffError::Store(err)) => Err(err.into()),
        Err(refused @ HandoffError::Refused { .. }) => Err(ApiError::Upstream {
            message: refused.to_string(),
            details: vec![],
        }),
    }
}

/// Context Vault sync: whether it is on, the last push, the last success and error,
/// and the latest pushes.
async fn context_vault_status(state: &AppState) -> Result<VaultStatus, ApiError> {
    use crate::store::{CvPushQuery, CvPushStatus};
    let store = state.store();
    let recent = store.cv_pushes(&CvPushQuery::default(), 10).await?;
    let pushed = CvPushQuery {
        status: Some(CvPushStatus::Pushed),
        ..CvPushQuery::default()
    };
    let last_success = store.cv_pushes(&pushed, 1).await?;
    let settings = state.syncer.settings();
    Ok(VaultStatus {
        configured: handed_off(state, Job::SyncCv)
            .is_none()
            .then(|| state.syncer.configured()),
        workspace: settings.vault.as_ref().map(|vault| vault.workspace.clone()),
        timezone: settings.timezone.name().to_string(),
        last_push: recent.first().cloned(),
        last_success: last_success.into_iter().next(),
        last_error: recent.first().and_then(|push| push.error.clone()),
        recent_pushes: recent,
    })
}

/// Budgets: how many, the latest alerts and the latest failures.
async fn budget_status(state: &AppState) -> Result<super::schemas::BudgetAlertStatus, ApiError> {
    use crate::budgets::check::{AlertQuery, AlertStatus};
    let store = state.store();
    let failed = AlertQuery {
        status: Some(AlertStatus::Failed),
        ..AlertQuery::default()
    };
    let failed_alerts = store.budget_alerts(&failed, 10).await?;
    Ok(super::schemas::BudgetAlertStatus {
        budgets: store.list_budgets().await?.len(),
        context_vault_configured: state.budgets.deliverer().vault_configured(),
        recent_alerts: store.budget_alerts(&AlertQuery::default(), 10).await?,
        last_error: failed_alerts.first().and_then(|a| a.error.clone()),
        failed_alerts,
    })
}

/// Collection and sync state per provider, the billed hours, and unpriced models.
#[utoipa::path(
    get,
    path = "/admin/status",
    tag = "admin",
    responses((status = 200, description = "Collection per provider, Context Vault sync, the last transcript import of each root, which hours each provider's bill covers, unpriced models", body = Status))
)]
pub async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    use crate::collect::Provider;
    let unpriced_models = state
        .store()
        .unpriced_models()
        .await?
        .into_iter()
        .map(|(model, unpriced_requests)| UnpricedUsage {
            model,
            unpriced_requests,
        })
        .collect();
    Ok(Json(Status {
        version: super::VERSION.to_string(),
        database: state.store().backend().to_string(),
        report_timezone: state.config.report_timezone.name().to_string(),
        providers: Providers {
            anthropic: provider_status(&state, Provider::Anthropic).await?,
            openai: provider_status(&state, Provider::Openai).await?,
        },
        recent_runs: state.store().recent_runs(None, 10).await?,
        context_vault: context_vault_status(&state).await?,
        imports: state.store().latest_import_runs().await?,
        billed_hours: state
            .store()
            .billed_hours()
            .await?
            .into_iter()
            .map(crate::reconciliation::BilledRange::from)
            .collect(),
        unpriced_models,
        handoff: HandoffStatus {
            collect_function: handed_off(&state, Job::Collect)
                .and_then(|h| h.function(Job::Collect))
                .map(str::to_string),
            sync_cv_function: handed_off(&state, Job::SyncCv)
                .and_then(|h| h.function(Job::SyncCv))
                .map(str::to_string),
            recent: state.store().recent_handoffs(10).await?,
        },
        budgets: budget_status(&state).await?,
    }))
}
