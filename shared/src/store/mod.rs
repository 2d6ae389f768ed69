//! Storage: one [`Store`] trait, implemented once by [`SqlStore`] on Postgres or
//! SQLite (chosen by the `DATABASE_URL` scheme), and the rollups that let reports
//! skip raw records.
//!
//! - [`schema`]: the columns and sums, each listed once, and the SQL built from them;
//! - [`db`]: a query as text and values, run on either backend; [`rows`]: what it reads;
//! - [`backend`]: every way Postgres ([`postgres`]) and SQLite ([`sqlite`]) differ;
//! - [`write`], [`edit`], [`read`], [`logs`]: the store's operations, by job;
//! - [`Buffered`]: a store in front of another, with group commit and the rollup folder.

mod backend;
mod bill;
mod budgets;
mod buffered;
mod db;
mod edit;
mod logs;
mod postgres;
mod read;
pub(crate) mod reconcile;
pub(crate) mod rollup;
mod rows;
mod schema;
mod sql_store;
mod sqlite;
mod write;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::pricing::StoredEntry;
use crate::domain::rules::ProjectRule;
use crate::domain::usage::UsageRecord;

pub use bill::{BillChunk, BilledLine, StoredBill};
pub use buffered::Buffered;
pub use reconcile::{Basis, Coverage};
pub use rollup::{
    hour_start as rollup_hour, Dimension, Filters, GroupKey, Grouping, RollupDeltas, RollupKey,
    Totals,
};
pub use sql_store::SqlStore;

/// Storage failures. Messages never contain SQL text or connection strings.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported DATABASE_URL scheme (expected postgres:// or sqlite://)")]
    UnsupportedUrl,
    #[error("record {index} (event_id {external_id}) was already stored with different content")]
    Conflict { index: usize, external_id: String },
    /// Records whose cost one record cannot hold (beyond about 9.2 million USD), by
    /// the field that makes it so; nothing was stored.
    #[error("{} record(s) cost more than one record can hold", .0.len())]
    TooLarge(Vec<crate::ingest::FieldError>),
    #[error("not found")]
    NotFound,
    /// Another row already has this unique field (a budget's `name`).
    #[error("{0} is already taken")]
    Duplicate(&'static str),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How a write treats a record whose `(source, external_id)` already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Pushed events: the same content again is a no-op, different content a conflict
    /// that rolls back the whole batch. Imported calls (`source = import`) are the
    /// exception: the same call seen again (a transcript writes a streamed answer
    /// more than once) keeps the version with the larger token total, and rollups
    /// move by the difference; it is never a conflict and never counted twice.
    InsertOnly,
    /// Pulled buckets: the new figures replace the old; rollups move by the difference.
    Upsert,
}

/// What happened to one record of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStatus {
    Created,
    Unchanged,
    Updated,
}

/// One record as stored, with what the write did to it.
#[derive(Debug, Clone)]
pub struct WriteOutcome {
    pub status: WriteStatus,
    pub record: UsageRecord,
}

/// The hours a provider's collections covered (billed hours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledHours {
    pub provider: String,
    pub first: DateTime<Utc>,
    /// The end of the last billed hour.
    pub end: DateTime<Utc>,
    pub hours: i64,
}

/// Which figure of a cell a [`CellFigureRow`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellFigure {
    /// Every record's cost.
    All,
    /// The pulled records' cost.
    Billed,
    /// The attributed records' cost, in billed cells only.
    BilledCellAttributed,
    /// min(attributed, billed), in billed cells only.
    Explained,
}

/// Which rows of the per-cell figures [`Store::cell_figures`] reads: day rows of whole
/// UTC days, and hour rows of some ranges (all in epoch seconds, whole hours).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellRead {
    /// The day rows of the UTC days in `[first, end)` (midnights).
    pub days: Option<(i64, i64)>,
    /// The hour rows in these ranges `[start, end)`…
    pub hours: Vec<(i64, i64)>,
    /// …and of these hours (their starts).
    pub listed: Vec<i64>,
    /// The listed hours may be answered summed per figure, cell, UTC day, local day
    /// of this zone and side of this range `[start, end)` (one row per group, at its
    /// first hour): the caller moves all the hours of such a group alike.
    pub sum_listed: Option<(chrono_tz::Tz, i64, i64)>,
}

/// One figure of one cell (or of its cells of one UTC day) from the rollups.
#[derive(Debug, Clone)]
pub struct CellFigureRow {
    /// The hour, or the UTC day.
    pub at: DateTime<Utc>,
    /// A UTC day's row (else an hour's).
    pub day: bool,
    pub provider: String,
    pub model: String,
    pub figure: CellFigure,
    pub cost: crate::domain::money::Pico,
}

/// A page of raw records, newest first.
#[derive(Debug, Clone, Default)]
pub struct UsageQuery {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub filters: Filters,
    pub limit: i64,
    pub offset: i64,
}

/// The attribution inputs shared by records whose project came from a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct MappingSubject {
    pub session_label: Option<String>,
    pub api_key_name: Option<String>,
    pub workspace_name: Option<String>,
    pub project: String,
}

/// A stored price entry and when it was last written (epoch milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPriceRow {
    pub entry: StoredEntry,
    pub updated_at_ms: i64,
}

/// A new computed cost for one record (re-pricing).
#[derive(Debug, Clone)]
pub struct CostChange {
    pub id: i64,
    /// The record as the change was computed from: the change applies only while
    /// the record still is this (a concurrent re-pricing of it is not counted twice).
    pub before: UsageRecord,
    /// The canonical model id (moves when a new price entry names the model).
    pub model_key: String,
    /// The provider (moves from `unknown` when a new price entry names it).
    pub provider: String,
    pub cost: crate::domain::money::Pico,
    /// What `cost` is (a price replaces an agent's estimate).
    pub cost_source: crate::domain::usage::CostSource,
    pub computed_cost: Option<crate::domain::money::Pico>,
    pub price_ref: Option<String>,
    pub unpriced: bool,
}

/// What started a run (a collection, a push to Context Vault, an import); logged with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The Lambda's EventBridge schedule.
    Schedule,
    /// The in-process schedule of `cost-tracker serve`.
    Serve,
    /// An admin endpoint (`POST /admin/collect`, `POST /admin/sync-cv`).
    Api,
    /// A command (`cost-tracker collect`, `sync-cv`, `import`).
    Cli,
    /// A manual Lambda payload.
    Manual,
    /// `cost-tracker import --watch`.
    Watch,
}

impl Trigger {
    const ALL: [Trigger; 6] = [
        Trigger::Schedule,
        Trigger::Serve,
        Trigger::Api,
        Trigger::Cli,
        Trigger::Manual,
        Trigger::Watch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Serve => "serve",
            Trigger::Api => "api",
            Trigger::Cli => "cli",
            Trigger::Manual => "manual",
            Trigger::Watch => "watch",
        }
    }
}

/// A stored trigger that names none of [`Trigger`]'s.
#[derive(Debug, thiserror::Error)]
#[error("unknown trigger {0:?}")]
pub struct UnknownTrigger(String);

impl TryFrom<String> for Trigger {
    type Error = UnknownTrigger;

    fn try_from(text: String) -> Result<Self, UnknownTrigger> {
        Trigger::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or(UnknownTrigger(text))
    }
}

/// The state of a collection run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    #[default]
    Running,
    Succeeded,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(RunStatus::Running),
            "succeeded" => Some(RunStatus::Succeeded),
            "failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }
}

/// One provider's collection run, as logged. A run that is still
/// `running` with no `finished_at` long after it started was cut off.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct CollectionRun {
    /// Store id; 0 before the run is first saved.
    pub id: i64,
    pub provider: String,
    #[sqlx(try_from = "String")]
    pub trigger: Trigger,
    /// Read from its column by [`rows`], which checks it.
    #[sqlx(skip)]
    pub status: RunStatus,
    /// Read from its column by [`rows`], which checks it.
    #[sqlx(skip)]
    pub started_at: DateTime<Utc>,
    /// Read from its column by [`rows`], which checks it.
    #[sqlx(skip)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Read from its column by [`rows`], which checks it.
    #[sqlx(skip)]
    pub range_start: DateTime<Utc>,
    /// Read from its column by [`rows`], which checks it.
    #[sqlx(skip)]
    pub range_end: DateTime<Utc>,
    /// Chunks committed (each at most 7 days).
    pub chunks: i64,
    pub pages: i64,
    pub buckets: i64,
    /// Bucket-groups written (created + updated + unchanged).
    pub records: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
}

/// Where the import of one transcript file (or one session of an OpenClaw SQLite
/// store) stands; saved in the transaction that stores the records it covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct ImportCursor {
    /// `openclaw` or `claude-code`.
    pub importer: String,
    /// The file's path, or `<store path>#<session id>`.
    pub location: String,
    /// Device, inode and a digest of the first bytes: another value means another file.
    pub identity: String,
    /// The file's size when read.
    pub size: i64,
    /// Byte offset after the last complete line consumed (or the last `seq` read).
    pub position: i64,
    /// The parser's context at `position` (JSON text).
    pub state: String,
}

/// A main-thread call's message id, claimed in its session (Claude Code): a later
/// sidechain line with the same message id replays it and is not counted again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageClaim {
    pub importer: String,
    pub session_id: String,
    pub message_id: String,
    pub external_id: String,
}

/// One importer root's part of an import run, as logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ImportRun {
    /// Store id; 0 before the run is first saved.
    pub id: i64,
    pub importer: String,
    pub root: String,
    #[sqlx(try_from = "String")]
    pub trigger: Trigger,
    /// Read from its column by [`rows`], which checks it.
    #[sqlx(skip)]
    pub status: RunStatus,
    /// Read from its column by [`rows`], which checks it.
    #[sqlx(skip)]
    pub started_at: DateTime<Utc>,
    /// Read from its column by [`rows`], which checks it.
    #[sqlx(skip)]
    pub finished_at: Option<DateTime<Utc>>,
    pub files_scanned: i64,
    pub lines_read: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
}

/// The storage contract both backends implement and one test story checks.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations of this backend.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Checks the database takes a new connection now (outside the pool, so a busy
    /// pool is not mistaken for a database that is down).
    async fn probe_connect(&self) -> Result<(), StoreError>;

    /// Writes records and their rollup deltas in one transaction; all or nothing.
    async fn write_usage(
        &self,
        records: Vec<UsageRecord>,
        mode: WriteMode,
    ) -> Result<Vec<WriteOutcome>, StoreError>;
    /// Upserts a collected chunk's records and records the whole hours of `coverage`
    /// as billed, settling their cells ([`reconcile`]), in one transaction.
    async fn write_collected(
        &self,
        records: Vec<UsageRecord>,
        coverage: &Coverage,
    ) -> Result<Vec<WriteOutcome>, StoreError>;
    /// [`Store::write_collected`], also replacing the bill of the chunk's whole days
    /// (`bill.days`) with `bill.lines`, in the same transaction.
    async fn write_collected_billed(
        &self,
        records: Vec<UsageRecord>,
        coverage: &Coverage,
        bill: &BillChunk,
    ) -> Result<Vec<WriteOutcome>, StoreError>;
    /// The stored bills of the UTC days `[first, end)`.
    async fn stored_bill(
        &self,
        first: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<StoredBill, StoreError>;
    /// The rows of the per-cell figures (see [`CellFigure`]) that `read` names.
    async fn cell_figures(&self, read: &CellRead) -> Result<Vec<CellFigureRow>, StoreError>;
    /// Which hours each provider's collections covered: `(provider, first hour,
    /// last hour + 1 h, hours)`, by provider.
    async fn billed_hours(&self) -> Result<Vec<BilledHours>, StoreError>;
    /// Stores pushed records ([`WriteMode::InsertOnly`], all or nothing, committed when
    /// this returns `Ok`) and appends their rollup deltas to the pending table instead
    /// of applying them: concurrent small writes then never wait on the same rollup
    /// rows. Reports count pending deltas at once; [`Store::fold_pending_rollups`]
    /// moves them into the rollups.
    async fn write_usage_deferred(
        &self,
        records: Vec<UsageRecord>,
    ) -> Result<Vec<WriteOutcome>, StoreError>;
    /// Folds every committed pending rollup delta into the rollups, in one
    /// transaction; returns how many pending rows were folded.
    async fn fold_pending_rollups(&self) -> Result<u64, StoreError>;
    /// How many rollup deltas are waiting to be folded.
    async fn pending_rollups(&self) -> Result<u64, StoreError>;
    /// Raw records, newest first, and the total matching.
    async fn list_usage(&self, query: &UsageQuery) -> Result<(Vec<UsageRecord>, i64), StoreError>;
    /// Deletes one record and its rollup contribution; false when absent.
    async fn delete_usage(&self, id: i64) -> Result<bool, StoreError>;

    /// Sums rollups over `[start, end)` (whole UTC hours), grouped as asked.
    async fn rollup_totals(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        filters: &Filters,
        grouping: Grouping,
    ) -> Result<Vec<(GroupKey, Totals)>, StoreError>;
    /// Sums raw records over `[start, end)`: an audit of the rollups, never used by reports.
    async fn raw_totals(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Totals, StoreError>;
    /// Models with unpriced requests, and how many.
    async fn unpriced_models(&self) -> Result<Vec<(String, i64)>, StoreError>;

    async fn list_rules(&self) -> Result<Vec<ProjectRule>, StoreError>;
    async fn create_rule(
        &self,
        pattern: &str,
        project: &str,
        priority: i32,
    ) -> Result<ProjectRule, StoreError>;
    async fn update_rule(&self, rule: &ProjectRule) -> Result<ProjectRule, StoreError>;
    async fn delete_rule(&self, id: i64) -> Result<bool, StoreError>;
    /// Distinct attribution inputs of records whose project came from a rule.
    async fn mapping_subjects(&self) -> Result<Vec<MappingSubject>, StoreError>;
    /// Moves every rule-attributed record of each subject to its new project, with
    /// rollups, in one transaction. Returns the number of records changed.
    async fn retag(&self, changes: &[(MappingSubject, String)]) -> Result<u64, StoreError>;

    /// Records in `[start, end)` with id greater than `after_id`, by id, at most `limit`.
    async fn records_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<UsageRecord>, StoreError>;
    /// Applies new costs and moves rollups by the difference, in one transaction;
    /// a record that changed since its [`CostChange::before`] is left alone. Returns
    /// the ids of the records changed.
    async fn update_costs(&self, changes: &[CostChange]) -> Result<Vec<i64>, StoreError>;
    /// Unpriced records with id greater than `after_id`, by id, at most `limit`.
    async fn unpriced_records(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<UsageRecord>, StoreError>;
    /// A server-side secret: `(value, key_check)`, or `None` when none is stored.
    async fn server_secret(&self, name: &str) -> Result<Option<(String, String)>, StoreError>;
    /// Stores a server-side secret: inserts it when `replacing` is `None` and none
    /// exists, else replaces the one whose check is `replacing`. False when another
    /// instance got there first (read it again).
    async fn save_server_secret(
        &self,
        name: &str,
        value: &str,
        key_check: &str,
        replacing: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Every stored price entry, by model.
    async fn stored_prices(&self) -> Result<Vec<StoredPriceRow>, StoreError>;
    /// Upserts the entries of `put` and deletes the models of `delete`, in one
    /// transaction; returns how many rows `delete` removed.
    async fn save_stored_prices(
        &self,
        put: &[StoredEntry],
        delete: &[String],
    ) -> Result<u64, StoreError>;

    /// Closes as failed every collection and import run still `running` that started
    /// before `before` (its process died: a Lambda timed out, a server was killed);
    /// returns how many.
    async fn close_stale_runs(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Saves a collection run: inserts it when `id` is 0, else updates it. Returns its id.
    async fn save_run(&self, run: &CollectionRun) -> Result<i64, StoreError>;
    /// The latest runs, newest first, of one provider or of all.
    async fn recent_runs(
        &self,
        provider: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CollectionRun>, StoreError>;
    /// Where the next scheduled collection of a provider continues from.
    async fn watermark(&self, provider: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Moves a provider's watermark forward (never backward).
    async fn advance_watermark(&self, provider: &str, to: DateTime<Utc>) -> Result<(), StoreError>;

    /// Every budget, by id.
    async fn list_budgets(&self) -> Result<Vec<crate::budgets::Budget>, StoreError>;
    /// Inserts a budget when its `id` is 0, else replaces it; returns its id.
    /// `Duplicate("name")` when another budget has its name; `NotFound` when gone.
    async fn save_budget(&self, budget: &crate::budgets::Budget) -> Result<i64, StoreError>;
    /// Deletes a budget and its alerts; false when absent.
    async fn delete_budget(&self, id: i64) -> Result<bool, StoreError>;
    /// Records an alert unless its (budget, period, kind, threshold) is recorded:
    /// its id when this call claimed it, `None` when another check did first.
    async fn claim_alert(
        &self,
        alert: &crate::budgets::check::Alert,
    ) -> Result<Option<i64>, StoreError>;
    /// Records how a claimed alert's delivery ended.
    async fn finish_alert(&self, alert: &crate::budgets::check::Alert) -> Result<(), StoreError>;
    /// Alerts, newest first, that `query` names.
    async fn budget_alerts(
        &self,
        query: &crate::budgets::check::AlertQuery,
        limit: i64,
    ) -> Result<Vec<crate::budgets::check::Alert>, StoreError>;

    /// Logs a handoff (its `id` is ignored); returns its id.
    async fn save_handoff(&self, handoff: &HandoffRecord) -> Result<i64, StoreError>;
    /// The latest handoffs, newest first.
    async fn recent_handoffs(&self, limit: i64) -> Result<Vec<HandoffRecord>, StoreError>;

    /// Saves a Context Vault push: inserts it when `id` is 0, else updates it. Returns its id.
    async fn save_cv_push(&self, push: &CvPush) -> Result<i64, StoreError>;
    /// Context Vault pushes, newest first, of one day and/or one status or of all.
    async fn cv_pushes(&self, query: &CvPushQuery, limit: i64) -> Result<Vec<CvPush>, StoreError>;

    /// Stores imported records ([`WriteMode::InsertOnly`]: a call seen again keeps the
    /// larger token total), upserts the cursors that cover them and adds the message
    /// claims of their main-thread calls, in one transaction: all or nothing. Their
    /// rollup deltas are appended to the pending table (an import writes thousands of
    /// hours at once: the fold then sums them per rollup row once); reports count
    /// them at once, and [`Store::fold_pending_rollups`] moves them.
    async fn write_import(
        &self,
        records: Vec<UsageRecord>,
        cursors: &[ImportCursor],
        claims: &[MessageClaim],
    ) -> Result<Vec<WriteOutcome>, StoreError>;
    /// The message ids claimed in one session.
    async fn message_claims(
        &self,
        importer: &str,
        session_id: &str,
    ) -> Result<Vec<String>, StoreError>;
    /// Every cursor of one importer.
    async fn import_cursors(&self, importer: &str) -> Result<Vec<ImportCursor>, StoreError>;
    /// Saves an import run: inserts it when `id` is 0, else updates it. Returns its id.
    async fn save_import_run(&self, run: &ImportRun) -> Result<i64, StoreError>;
    /// The latest run of every (importer, root), newest first.
    async fn latest_import_runs(&self) -> Result<Vec<ImportRun>, StoreError>;

    /// Keyset pagination over [`Store::list_usage`]'s order (newest first) for exports:
    /// at most `query.limit` records matching `query` (range and filters; `offset` is
    /// ignored) that come after the record at `before` = `(recorded_at, id)`, or from the
    /// newest when `None`. Each page costs the same however deep the export is.
    async fn usage_page(
        &self,
        query: &UsageQuery,
        before: Option<(DateTime<Utc>, i64)>,
    ) -> Result<Vec<UsageRecord>, StoreError>;
}

/// Shared handle to a store.
pub type DynStore = Arc<dyn Store>;

/// Opens the store named by a `DATABASE_URL` (`postgres://…`, `postgresql://…` or `sqlite://…`).
pub async fn open(url: &str) -> Result<DynStore, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(SqlStore::connect_postgres(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqlStore::connect_sqlite(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

/// The state of one attempt to push a day's summary to Context Vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CvPushStatus {
    /// Sent (or about to be) with no final answer: the vault was unavailable, or the
    /// process stopped midway. The next run tries the day again.
    Pending,
    /// The vault stored it (2xx).
    Pushed,
    /// The vault refused it (4xx other than 429); the response text is in `error`.
    Failed,
}

impl CvPushStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CvPushStatus::Pending => "pending",
            CvPushStatus::Pushed => "pushed",
            CvPushStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(CvPushStatus::Pending),
            "pushed" => Some(CvPushStatus::Pushed),
            "failed" => Some(CvPushStatus::Failed),
            _ => None,
        }
    }
}

/// One attempt to push a day's summary to Context Vault, as logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CvPush {
    /// Store id; 0 before the push is first saved.
    pub id: i64,
    /// The local day summarised.
    pub date: chrono::NaiveDate,
    /// The zone the day was cut in.
    pub timezone: String,
    /// `meta_data.revision` sent.
    pub revision: i64,
    /// SHA-256 (hex) of the summary without the revision.
    pub payload_hash: String,
    pub status: CvPushStatus,
    /// HTTP status of the vault's last answer; `None` when none came.
    pub response_code: Option<i64>,
    pub error: Option<String>,
    /// Requests made (retries included).
    pub attempts: i64,
    pub trigger: Trigger,
    /// The summary's total, in cents.
    pub total_cost_cents: i64,
    /// The summary object sent, as JSON text.
    #[serde(skip)]
    pub summary: String,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: Option<i64>,
}

/// Work handed to another function by an asynchronous Lambda invocation, as logged.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HandoffRecord {
    /// Store id; 0 before it is saved.
    pub id: i64,
    /// `collect` or `sync-cv`.
    pub job: String,
    /// The function invoked.
    pub function: String,
    /// The event it was sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub requested_at: DateTime<Utc>,
    /// Lambda's request id of the invocation; `None` when Lambda refused it.
    pub request_id: Option<String>,
    /// `started` (Lambda queued the event) or `failed` (see `error`).
    pub status: &'static str,
    pub error: Option<String>,
}

/// Which Context Vault pushes to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CvPushQuery {
    pub date: Option<chrono::NaiveDate>,
    pub status: Option<CvPushStatus>,
}
