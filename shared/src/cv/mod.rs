//! Context Vault sync: push each completed day's cost summary once, oldest
//! first, catching up at most [`CATCH_UP_DAYS`] missed days, and push a day again with
//! `meta_data.revision + 1` when its numbers change after the push (late data).
//!
//! A day is synced when its latest successful push carries the hash of its current
//! summary. Every attempt is logged in `cv_pushes` before the request goes out. A run
//! stops at the first day that does not go through, so days reach the vault in order;
//! the next run starts again from that day. Every entry point (the `cv-sync` Lambda,
//! `POST /admin/sync-cv`, `cost-tracker sync-cv`, the daily schedule of `serve`) calls
//! [`Syncer::sync_once`].

mod client;
mod event;
pub mod summary;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::collect::{RequestError, Trigger};
use crate::config::Config;
use crate::domain::timeframe::today;
use crate::ledger::Ledger;
use crate::outbound::{RetryPolicy, RunGuard};
use crate::store::{CvPush, CvPushQuery, CvPushStatus, StoreError};

pub use client::{PushError, PushReceipt, VaultAccess, VaultClient};
pub use event::{parse_event, sync_event, SyncFailure};
pub use summary::{daily_summary, DailySummary};

/// How many completed days a normal run looks back (at most 7).
pub const CATCH_UP_DAYS: u64 = 7;
/// How far back a named day may be.
pub const MAX_DAYS_BACK: u64 = 366;
/// Local time of `serve`'s daily run: after midnight, with an hour's margin for late data.
pub const DAILY_RUN_AT: NaiveTime = match NaiveTime::from_hms_opt(1, 0, 0) {
    Some(at) => at,
    None => panic!("a valid time"),
};

/// Settings of the sync, taken from [`Config`].
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// `None` unless both `CONTEXT_VAULT_URL` and `CONTEXT_VAULT_API_KEY` are set.
    pub vault: Option<VaultAccess>,
    /// `REPORT_TIMEZONE`: where days start and end.
    pub timezone: Tz,
    pub retry: RetryPolicy,
}

impl SyncSettings {
    pub fn from_config(config: &Config) -> Self {
        let vault = match (&config.context_vault_url, &config.context_vault_api_key) {
            (Some(url), Some(key)) => Some(VaultAccess {
                url: url.clone(),
                path: config.context_vault_path.clone(),
                workspace: config.context_vault_workspace.clone(),
                key: key.clone(),
            }),
            _ => None,
        };
        SyncSettings {
            vault,
            timezone: config.report_timezone,
            retry: RetryPolicy {
                max_attempts: 4,
                base_delay: std::time::Duration::from_secs(1),
                max_delay: std::time::Duration::from_secs(15),
                retry_after_cap: std::time::Duration::from_secs(60),
                request_timeout: std::time::Duration::from_secs(15),
            },
        }
    }
}

/// Which days one run looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncScope {
    /// Every completed day of the last [`CATCH_UP_DAYS`] not yet synced, oldest first.
    Pending,
    /// One completed day.
    Day(NaiveDate),
}

/// One call of [`Syncer::sync_once`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRequest {
    pub scope: SyncScope,
    /// Push even when unchanged (with the next revision).
    pub force: bool,
    pub trigger: Trigger,
}

impl SyncRequest {
    /// The normal run.
    pub fn scheduled(trigger: Trigger) -> Self {
        SyncRequest {
            scope: SyncScope::Pending,
            force: false,
            trigger,
        }
    }

    /// One day from the fields every manual entry point accepts: `date` (`YYYY-MM-DD`,
    /// default yesterday in `tz`) must have ended and be at most [`MAX_DAYS_BACK`] days back.
    pub fn for_day(
        date: Option<&str>,
        force: bool,
        trigger: Trigger,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Self, RequestError> {
        let today = today(tz, now);
        let invalid = |message: String| RequestError {
            field: "date",
            message,
        };
        let date = match date.map(str::trim) {
            None => today - Days::new(1),
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| invalid(format!("`{text}` is not a YYYY-MM-DD date")))?,
        };
        if date >= today {
            return Err(invalid(format!(
                "{date} has not ended yet in {} (only completed days are pushed)",
                tz.name()
            )));
        }
        if date < today - Days::new(MAX_DAYS_BACK) {
            return Err(invalid(format!(
                "{date} is more than {MAX_DAYS_BACK} days ago"
            )));
        }
        Ok(SyncRequest {
            scope: SyncScope::Day(date),
            force,
            trigger,
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    /// No URL or key: nothing was read, pushed or recorded.
    NotConfigured,
    /// Every day looked at was already in the vault with its current numbers.
    AlreadySynced,
    /// At least one day was pushed and none failed.
    Pushed,
    /// A day did not go through; it and the days after it wait for the next run.
    Failed,
}

impl SyncOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncOutcome::NotConfigured => "not_configured",
            SyncOutcome::AlreadySynced => "already_synced",
            SyncOutcome::Pushed => "pushed",
            SyncOutcome::Failed => "failed",
        }
    }
}

/// What happened to one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOutcome {
    Pushed,
    AlreadySynced,
    /// The vault refused it (4xx).
    Failed,
    /// The vault was unavailable; the next run tries again.
    Pending,
    /// Not tried because an earlier day failed.
    Skipped,
}

/// One day of a run.
#[derive(Debug, Clone, Serialize)]
pub struct DayReport {
    pub date: NaiveDate,
    pub outcome: DayOutcome,
    /// The revision pushed or tried; for a synced day, the one in the vault.
    pub revision: Option<i64>,
    #[serde(serialize_with = "crate::domain::money::serialize_decimal_text")]
    pub total_cost: Decimal,
    pub payload_hash: String,
    /// The logged push (`cv_pushes.id`), when one was tried.
    pub push_id: Option<i64>,
    pub response_code: Option<i64>,
    pub attempts: i64,
    pub error: Option<String>,
}

/// What one [`Syncer::sync_once`] did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub trigger: Trigger,
    pub outcome: SyncOutcome,
    pub timezone: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// Days pushed by this run.
    pub pushed: usize,
    pub days: Vec<DayReport>,
    /// Why the run stopped, when it did.
    pub error: Option<String>,
    /// Whether the next run may succeed without a change of configuration.
    pub retryable: bool,
}

impl SyncReport {
    /// True unless a day failed (not configured counts as nothing to do).
    pub fn succeeded(&self) -> bool {
        self.outcome != SyncOutcome::Failed
    }
}

/// Runs syncs; cheap to clone, one run at a time per process.
#[derive(Clone)]
pub struct Syncer {
    ledger: Ledger,
    settings: Arc<SyncSettings>,
    http: reqwest::Client,
    running: RunGuard,
}

impl Syncer {
    pub fn new(ledger: Ledger, settings: SyncSettings) -> Self {
        Syncer {
            ledger,
            settings: Arc::new(settings),
            http: crate::outbound::outbound_client(),
            running: RunGuard::default(),
        }
    }

    pub fn from_config(ledger: Ledger, config: &Config) -> Self {
        Self::new(ledger, SyncSettings::from_config(config))
    }

    pub fn settings(&self) -> &SyncSettings {
        &self.settings
    }

    /// Whether both the vault URL and key are set.
    pub fn configured(&self) -> bool {
        self.settings.vault.is_some()
    }

    /// The summary of one local day in the report zone, exactly as it would be pushed.
    pub async fn summary(&self, date: NaiveDate) -> Result<DailySummary, StoreError> {
        let store = self.ledger.store().as_ref();
        daily_summary(
            store,
            &*self.ledger.prices().await?,
            date,
            self.settings.timezone,
        )
        .await
    }

    /// Pushes what the request asks for. Vault failures are in the report; only a
    /// storage failure is an error.
    #[tracing::instrument(skip_all, fields(trigger = ?request.trigger), err)]
    pub async fn sync_once(
        &self,
        request: SyncRequest,
        now: DateTime<Utc>,
    ) -> Result<SyncReport, StoreError> {
        let clock = Instant::now();
        let mut report = SyncReport {
            trigger: request.trigger,
            outcome: SyncOutcome::NotConfigured,
            timezone: self.settings.timezone.name().to_string(),
            started_at: Utc::now(),
            duration_ms: 0,
            pushed: 0,
            days: Vec::new(),
            error: None,
            retryable: false,
        };
        let Some(access) = &self.settings.vault else {
            tracing::info!("Context Vault sync not configured (set CONTEXT_VAULT_URL and CONTEXT_VAULT_API_KEY)");
            return Ok(report);
        };
        let _one_at_a_time = self.running.start().await;
        let client = VaultClient::new(access.clone(), self.http.clone(), self.settings.retry);
        let days = match request.scope {
            SyncScope::Day(date) => vec![date],
            SyncScope::Pending => {
                let today = today(self.settings.timezone, now);
                (1..=CATCH_UP_DAYS)
                    .rev()
                    .map(|back| today - Days::new(back))
                    .collect()
            }
        };
        for date in days {
            let day = self
                .sync_day(&client, date, &request, report.error.is_some())
                .await?;
            if matches!(day.outcome, DayOutcome::Failed | DayOutcome::Pending) {
                report.error = day.error.clone();
                report.retryable = day.outcome == DayOutcome::Pending;
            }
            report.pushed += usize::from(day.outcome == DayOutcome::Pushed);
            report.days.push(day);
        }
        report.outcome = match (&report.error, report.pushed) {
            (Some(_), _) => SyncOutcome::Failed,
            (None, 0) => SyncOutcome::AlreadySynced,
            (None, _) => SyncOutcome::Pushed,
        };
        report.duration_ms = clock.elapsed().as_millis() as i64;
        tracing::info!(
            trigger = request.trigger.as_str(),
            outcome = report.outcome.as_str(),
            pushed = report.pushed,
            days = report.days.len(),
            error = report.error.as_deref().unwrap_or(""),
            duration_ms = report.duration_ms,
            "Context Vault sync"
        );
        Ok(report)
    }

    /// Looks at one day and pushes it when it is new, changed or forced (and no earlier
    /// day of the run failed).
    async fn sync_day(
        &self,
        client: &VaultClient,
        date: NaiveDate,
        request: &SyncRequest,
        stopped: bool,
    ) -> Result<DayReport, StoreError> {
        let store = self.ledger.store();
        let summary = self.summary(date).await?;
        let hash = summary.hash();
        let last = store
            .cv_pushes(
                &CvPushQuery {
                    date: Some(date),
                    status: Some(CvPushStatus::Pushed),
                },
                1,
            )
            .await?
            .into_iter()
            .next();
        let mut day = DayReport {
            date,
            outcome: DayOutcome::AlreadySynced,
            revision: last.as_ref().map(|p| p.revision),
            total_cost: summary.total_cost,
            payload_hash: hash.clone(),
            push_id: None,
            response_code: None,
            attempts: 0,
            error: None,
        };
        let unchanged = last.as_ref().is_some_and(|p| p.payload_hash == hash);
        if unchanged && !request.force {
            return Ok(day);
        }
        if stopped {
            day.outcome = DayOutcome::Skipped;
            return Ok(day);
        }
        let revision = last.map_or(1, |p| p.revision + 1);
        let push = self
            .push(client, &summary, revision, request.trigger)
            .await?;
        day.outcome = match push.status {
            CvPushStatus::Pushed => DayOutcome::Pushed,
            CvPushStatus::Failed => DayOutcome::Failed,
            CvPushStatus::Pending => DayOutcome::Pending,
        };
        day.revision = Some(revision);
        day.push_id = Some(push.id);
        day.response_code = push.response_code;
        day.attempts = push.attempts;
        day.error = push.error;
        Ok(day)
    }

    /// Logs the push as pending, sends it, and logs the answer.
    async fn push(
        &self,
        client: &VaultClient,
        summary: &DailySummary,
        revision: i64,
        trigger: Trigger,
    ) -> Result<CvPush, StoreError> {
        let store = self.ledger.store();
        let mut push = CvPush {
            id: 0,
            date: summary.date,
            timezone: summary.timezone.clone(),
            revision,
            payload_hash: summary.hash(),
            status: CvPushStatus::Pending,
            response_code: None,
            error: None,
            attempts: 0,
            trigger,
            total_cost_cents: summary.total_cents(),
            summary: summary.json(),
            attempted_at: Utc::now(),
            duration_ms: None,
        };
        push.id = store.save_cv_push(&push).await?;
        let clock = Instant::now();
        let memory = summary.memory(revision, client.workspace());
        let result = client.post_memory(&memory).await;
        push.duration_ms = Some(clock.elapsed().as_millis() as i64);
        match result {
            Ok(receipt) => {
                push.status = CvPushStatus::Pushed;
                push.response_code = Some(i64::from(receipt.status));
                push.attempts = i64::from(receipt.attempts);
            }
            Err(err) => {
                push.status = if err.retryable() {
                    CvPushStatus::Pending
                } else {
                    CvPushStatus::Failed
                };
                push.response_code = err.status().map(i64::from);
                push.attempts = i64::from(err.attempts());
                push.error = Some(err.to_string());
            }
        }
        store.save_cv_push(&push).await?;
        tracing::info!(
            date = %push.date,
            revision,
            status = push.status.as_str(),
            response_code = push.response_code,
            attempts = push.attempts,
            error = push.error.as_deref().unwrap_or(""),
            "Context Vault push"
        );
        Ok(push)
    }
}

/// When `serve` runs the sync next: the next [`DAILY_RUN_AT`] in `tz` after `now`
/// (on a day where that local time does not exist, the first instant after the gap).
pub fn next_daily_run(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local_today = today(tz, now);
    [
        local_today,
        local_today + Days::new(1),
        local_today + Days::new(2),
    ]
    .into_iter()
    .filter_map(|date| {
        let at = date.and_time(DAILY_RUN_AT);
        tz.from_local_datetime(&at)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(at + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|local| local.with_timezone(&Utc))
    })
    .find(|at| *at > now)
    .unwrap_or(now + chrono::Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_named_day_must_have_ended() {
        let chicago: Tz = "America/Chicago".parse().unwrap();
        // 03:00 UTC on the 22nd is still the 21st in Chicago.
        let now = at("2026-11-22T03:00:00Z");
        let request = SyncRequest::for_day(None, false, Trigger::Api, chicago, now).unwrap();
        assert_eq!(request.scope, SyncScope::Day("2026-11-20".parse().unwrap()));
        let day = |text| SyncRequest::for_day(Some(text), true, Trigger::Api, chicago, now);
        assert!(day("2026-11-20").unwrap().force);
        for bad in ["2026-11-21", "2026-12-01", "yesterday", "2025-11-01"] {
            assert_eq!(day(bad).unwrap_err().field, "date", "{bad}");
        }
        assert!(day("2026-11-21")
            .unwrap_err()
            .message
            .contains("has not ended"));
    }

    #[test]
    fn outcomes_log_as_they_serialize() {
        use SyncOutcome::*;
        for outcome in [NotConfigured, AlreadySynced, Pushed, Failed] {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
    }

    #[test]
    fn the_daily_run_is_at_one_in_the_morning_local_time() {
        let chicago: Tz = "America/Chicago".parse().unwrap();
        assert_eq!(
            next_daily_run(at("2026-11-22T03:00:00Z"), chicago),
            at("2026-11-22T07:00:00Z")
        );
        assert_eq!(
            next_daily_run(at("2026-11-22T07:00:00Z"), chicago),
            at("2026-11-23T07:00:00Z")
        );
        // Summer time: 01:00 CDT is 06:00 UTC.
        assert_eq!(
            next_daily_run(at("2026-07-01T12:00:00Z"), chicago),
            at("2026-07-02T06:00:00Z")
        );
        assert_eq!(
            next_daily_run(at("2026-11-22T00:59:00Z"), chrono_tz::UTC),
            at("2026-11-22T01:00:00Z")
        );
    }
}
