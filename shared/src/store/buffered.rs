//! [`Buffered`]: a [`Store`] in front of another that makes many small pushes cheap.
//! Small pushed writes that arrive together share one transaction (group commit);
//! once the rollup folder runs they only append their rollup deltas, which the
//! folder moves into the rollups in bulk. Everything else goes straight through.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, Mutex, Notify};

use super::{
    BilledHours, CellFigureRow, CellRead, CollectionRun, CostChange, Coverage, CvPush, CvPushQuery,
    DynStore, Filters, GroupKey, Grouping, HandoffRecord, ImportCursor, ImportRun, MappingSubject,
    MessageClaim, Store, StoreError, StoredPriceRow, Totals, UsageQuery, WriteMode, WriteOutcome,
};
use crate::domain::pricing::StoredEntry;
use crate::domain::rules::ProjectRule;
use crate::domain::usage::UsageRecord;

/// Group-commit writers. One: while it commits, the jobs that arrive gather into the
/// next group (a second writer halved the groups and lowered the rate; see
/// docs/performance.md).
const GROUP_COMMIT_WRITERS: usize = 1;

/// Most records one group commit writes in one transaction.
const GROUP_COMMIT_RECORDS: usize = 10_000;

/// Pushed writes of fewer records than this take the group commit and, with a
/// folder running, defer their rollup deltas. Larger writes go straight to the
/// store and apply theirs: they are summed over many events already, and pending
/// rows would only be written, read back and deleted again.
const DEFER_BELOW_RECORDS: usize = 256;

/// The folder waits this long after being woken, so one fold takes many writes.
const FOLD_GATHER: Duration = Duration::from_millis(100);

/// Without writes here, the folder still looks this often (pending deltas left by a
/// process that stopped, or by another instance).
const FOLD_IDLE: Duration = Duration::from_secs(5);

/// A pushed batch waiting for the group-commit writer.
struct WriteJob {
    records: Vec<UsageRecord>,
    reply: oneshot::Sender<Result<Vec<WriteOutcome>, StoreError>>,
}

/// The store of a ledger: group commit for small pushes, and the rollup folder.
pub struct Buffered {
    inner: DynStore,
    /// The group-commit writer, started on first use.
    writer: OnceLock<mpsc::Sender<WriteJob>>,
    /// Set once [`Buffered::start_rollup_folder`] runs: small pushed writes then
    /// defer their rollup deltas, and this wakes the folder after each of them.
    folder: Arc<OnceLock<Arc<Notify>>>,
}

impl Buffered {
    pub fn new(inner: DynStore) -> Self {
        Buffered {
            inner,
            writer: OnceLock::new(),
            folder: Arc::new(OnceLock::new()),
        }
    }

    /// Starts the background fold of pending rollup deltas (a long-running server
    /// calls this; a Lambda does not, and so applies every delta directly). From
    /// then on, small pushed writes only append their deltas, so concurrent pushes
    /// of the same hour, model and project do not queue on one rollup row; the
    /// folder moves the deltas into the rollups about every [`FOLD_GATHER`] while
    /// pushes arrive, and every [`FOLD_IDLE`] otherwise. Reports count pending
    /// deltas, so nothing waits for a fold. Calling it again does nothing.
    pub fn start_rollup_folder(&self) {
        let mut started = false;
        let wake = self.folder.get_or_init(|| {
            started = true;
            Arc::new(Notify::new())
        });
        if started {
            let (store, wake) = (self.inner.clone(), wake.clone());
            crate::tasks::spawn_supervised("rollup fold", move || {
                fold_forever(store.clone(), wake.clone())
            });
        }
    }

    /// Hands small pushed records to the group-commit writer and waits for its answer.
    async fn group_write(
        &self,
        records: Vec<UsageRecord>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let writer = self.writer.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(1_024);
            let receiver = Arc::new(Mutex::new(receiver));
            for _ in 0..GROUP_COMMIT_WRITERS {
                let writer = GroupWriter {
                    store: self.inner.clone(),
                    folder: self.folder.clone(),
                };
                let receiver = receiver.clone();
                crate::tasks::spawn_supervised("group commit", move || {
                    writer.clone().run(receiver.clone())
                });
            }
            sender
        });
        let (reply, answer) = oneshot::channel();
        let job = WriteJob { records, reply };
        if let Err(mpsc::error::SendError(job)) = writer.send(job).await {
            // The writer is gone (its runtime stopped): write directly.
            return self
                .inner
                .write_usage(job.records, WriteMode::InsertOnly)
                .await;
        }
        answer
            .await
            .map_err(|_| StoreError::Corrupt("the group-commit writer stopped".into()))?
    }
}

/// The group-commit writer: takes every job waiting (up to [`GROUP_COMMIT_RECORDS`]
/// records) and writes them in one transaction. A conflict fails only the job it
/// belongs to and the others are written again without it; any other failure is
/// retried job by job, so each job gets its own answer.
#[derive(Clone)]
struct GroupWriter {
    store: DynStore,
    folder: Arc<OnceLock<Arc<Notify>>>,
}

impl GroupWriter {
    /// One group's write: deltas deferred when a folder runs (and woken after).
    async fn write(&self, records: Vec<UsageRecord>) -> Result<Vec<WriteOutcome>, StoreError> {
        match self.folder.get() {
            Some(wake) if records.len() < DEFER_BELOW_RECORDS => {
                let written = self.store.write_usage_deferred(records).await;
                if written.is_ok() {
                    wake.notify_one();
                }
                written
            }
            _ => self.store.write_usage(records, WriteMode::InsertOnly).await,
        }
    }

    async fn run(self, receiver: Arc<Mutex<mpsc::Receiver<WriteJob>>>) {
        loop {
            let mut jobs = {
                let mut receiver = receiver.lock().await;
                let Some(first) = receiver.recv().await else {
                    return;
                };
                let mut jobs = vec![first];
                let mut size = jobs[0].records.len();
                while size < GROUP_COMMIT_RECORDS {
                    match receiver.try_recv() {
                        Ok(job) => {
                            size += job.records.len();
                            jobs.push(job);
                        }
                        Err(_) => break,
                    }
                }
                jobs
            };
            while !jobs.is_empty() {
                self.write_group(&mut jobs).await;
            }
        }
    }

    /// Writes the jobs as one; answers (and removes) those it settled.
    async fn write_group(&self, jobs: &mut Vec<WriteJob>) {
        let merged: Vec<UsageRecord> = jobs
            .iter()
            .flat_map(|j| j.records.iter().cloned())
            .collect();
        match self.write(merged).await {
            Ok(mut outcomes) => {
                for job in jobs.drain(..) {
                    let rest = outcomes.split_off(job.records.len());
                    let _ = job.reply.send(Ok(std::mem::replace(&mut outcomes, rest)));
                }
            }
            Err(StoreError::Conflict { index, external_id }) if jobs.len() > 1 => {
                // Find whose record conflicted; fail that job alone.
                let mut offset = 0;
                let position = jobs
                    .iter()
                    .position(|job| {
                        let found = index < offset + job.records.len();
                        if !found {
                            offset += job.records.len();
                        }
                        found
                    })
                    .expect("the conflicting index is inside the merged batch");
                let job = jobs.remove(position);
                let _ = job.reply.send(Err(StoreError::Conflict {
                    index: index - offset,
                    external_id,
                }));
            }
            Err(err) if jobs.len() == 1 => {
                let job = jobs.remove(0);
                let _ = job.reply.send(Err(err));
            }
            Err(_) => {
                for job in jobs.drain(..) {
                    let result = self.write(job.records).await;
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// The rollup folder: folds at start (deltas a previous process left), then after
/// each wake-up (plus [`FOLD_GATHER`], to take many writes at once) or every
/// [`FOLD_IDLE`]. A failed fold changes nothing (one transaction) and is retried.
async fn fold_forever(store: DynStore, wake: Arc<Notify>) {
    loop {
        if let Err(err) = store.fold_pending_rollups().await {
            tracing::warn!(error = %err, "folding pending rollup deltas failed; retrying");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(FOLD_IDLE) => {}
        }
        tokio::time::sleep(FOLD_GATHER).await;
    }
}

/// Small pushed writes take the group commit; every other call goes straight to
/// the store behind.
#[async_trait]
impl Store for Buffered {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.inner.migrate().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn probe_connect(&self) -> Result<(), StoreError> {
        self.inner.probe_connect().await
    }

    async fn write_usage(
        &self,
        records: Vec<UsageRecord>,
        mode: WriteMode,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        // A large batch is its own group: it goes straight to the store, beside the
        // writer (which would otherwise keep small pushes waiting behind it).
        if mode == WriteMode::Upsert || records.len() >= DEFER_BELOW_RECORDS {
            return self.inner.write_usage(records, mode).await;
        }
        self.group_write(records).await
    }

    async fn write_usage_deferred(
        &self,
        records: Vec<UsageRecord>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        self.inner.write_usage_deferred(records).await
    }

    async fn write_collected(
        &self,
        records: Vec<UsageRecord>,
        coverage: &Coverage,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        self.inner.write_collected(records, coverage).await
    }

    async fn write_collected_billed(
        &self,
        records: Vec<UsageRecord>,
        coverage: &Coverage,
        bill: &super::BillChunk,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        self.inner
            .write_collected_billed(records, coverage, bill)
            .await
    }

    async fn stored_bill(
        &self,
        first: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<super::StoredBill, StoreError> {
        self.inner.stored_bill(first, end).await
    }

    async fn cell_figures(&self, read: &CellRead) -> Result<Vec<CellFigureRow>, StoreError> {
        self.inner.cell_figures(read).await
    }

    async fn billed_hours(&self) -> Result<Vec<BilledHours>, StoreError> {
        self.inner.billed_hours().await
    }

    async fn fold_pending_rollups(&self) -> Result<u64, StoreError> {
        self.inner.fold_pending_rollups().await
    }

    async fn pending_rollups(&self) -> Result<u64, StoreError> {
        self.inner.pending_rollups().await
    }

    async fn list_usage(&self, query: &UsageQuery) -> Result<(Vec<UsageRecord>, i64), StoreError> {
        self.inner.list_usage(query).await
    }

    async fn delete_usage(&self, id: i64) -> Result<bool, StoreError> {
        self.inner.delete_usage(id).await
    }

    async fn rollup_totals(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        filters: &Filters,
        grouping: Grouping,
    ) -> Result<Vec<(GroupKey, Totals)>, StoreError> {
        self.inner
            .rollup_totals(start, end, filters, grouping)
            .await
    }

    async fn raw_totals(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Totals, StoreError> {
        self.inner.raw_totals(start, end).await
    }

    async fn unpriced_models(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.inner.unpriced_models().await
    }

    async fn list_rules(&self) -> Result<Vec<ProjectRule>, StoreError> {
        self.inner.list_rules().await
    }

    async fn create_rule(
        &self,
        pattern: &str,
        project: &str,
        priority: i32,
    ) -> Result<ProjectRule, StoreError> {
        self.inner.create_rule(pattern, project, priority).await
    }

    async fn update_rule(&self, rule: &ProjectRule) -> Result<ProjectRule, StoreError> {
        self.inner.update_rule(rule).await
    }

    async fn delete_rule(&self, id: i64) -> Result<bool, StoreError> {
        self.inner.delete_rule(id).await
    }

    async fn mapping_subjects(&self) -> Result<Vec<MappingSubject>, StoreError> {
        self.inner.mapping_subjects().await
    }

    async fn retag(&self, changes: &[(MappingSubject, String)]) -> Result<u64, StoreError> {
        self.inner.retag(changes).await
    }

    async fn records_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        self.inner
            .records_between(start, end, after_id, limit)
            .await
    }

    async fn update_costs(&self, changes: &[CostChange]) -> Result<Vec<i64>, StoreError> {
        self.inner.update_costs(changes).await
    }

    async fn unpriced_records(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        self.inner.unpriced_records(after_id, limit).await
    }

    async fn server_secret(&self, name: &str) -> Result<Option<(String, String)>, StoreError> {
        self.inner.server_secret(name).await
    }

    async fn save_server_secret(
        &self,
        name: &str,
        value: &str,
        key_check: &str,
        replacing: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.inner
            .save_server_secret(name, value, key_check, replacing)
            .await
    }

    async fn stored_prices(&self) -> Result<Vec<StoredPriceRow>, StoreError> {
        self.inner.stored_prices().await
    }

    async fn save_stored_prices(
        &self,
        put: &[StoredEntry],
        delete: &[String],
    ) -> Result<u64, StoreError> {
        self.inner.save_stored_prices(put, delete).await
    }

    async fn close_stale_runs(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.close_stale_runs(before).await
    }

    async fn save_run(&self, run: &CollectionRun) -> Result<i64, StoreError> {
        self.inner.save_run(run).await
    }

    async fn recent_runs(
        &self,
        provider: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CollectionRun>, StoreError> {
        self.inner.recent_runs(provider, limit).await
    }

    async fn watermark(&self, provider: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.inner.watermark(provider).await
    }

    async fn advance_watermark(&self, provider: &str, to: DateTime<Utc>) -> Result<(), StoreError> {
        self.inner.advance_watermark(provider, to).await
    }

    async fn save_cv_push(&self, push: &CvPush) -> Result<i64, StoreError> {
        self.inner.save_cv_push(push).await
    }

    async fn list_budgets(&self) -> Result<Vec<crate::budgets::Budget>, StoreError> {
        self.inner.list_budgets().await
    }

    async fn save_budget(&self, budget: &crate::budgets::Budget) -> Result<i64, StoreError> {
        self.inner.save_budget(budget).await
    }

    async fn delete_budget(&self, id: i64) -> Result<bool, StoreError> {
        self.inner.delete_budget(id).await
    }

    async fn claim_alert(
        &self,
        alert: &crate::budgets::check::Alert,
    ) -> Result<Option<i64>, StoreError> {
        self.inner.claim_alert(alert).await
    }

    async fn finish_alert(&self, alert: &crate::budgets::check::Alert) -> Result<(), StoreError> {
        self.inner.finish_alert(alert).await
    }

    async fn budget_alerts(
        &self,
        query: &crate::budgets::check::AlertQuery,
        limit: i64,
    ) -> Result<Vec<crate::budgets::check::Alert>, StoreError> {
        self.inner.budget_alerts(query, limit).await
    }

    async fn save_handoff(&self, handoff: &HandoffRecord) -> Result<i64, StoreError> {
        self.inner.save_handoff(handoff).await
    }

    async fn recent_handoffs(&self, limit: i64) -> Result<Vec<HandoffRecord>, StoreError> {
        self.inner.recent_handoffs(limit).await
    }

    async fn cv_pushes(&self, query: &CvPushQuery, limit: i64) -> Result<Vec<CvPush>, StoreError> {
        self.inner.cv_pushes(query, limit).await
    }

    async fn write_import(
        &self,
        records: Vec<UsageRecord>,
        cursors: &[ImportCursor],
        claims: &[MessageClaim],
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        self.inner.write_import(records, cursors, claims).await
    }

    async fn message_claims(
        &self,
        importer: &str,
        session_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.inner.message_claims(importer, session_id).await
    }

    async fn import_cursors(&self, importer: &str) -> Result<Vec<ImportCursor>, StoreError> {
        self.inner.import_cursors(importer).await
    }

    async fn save_import_run(&self, run: &ImportRun) -> Result<i64, StoreError> {
        self.inner.save_import_run(run).await
    }

    async fn latest_import_runs(&self) -> Result<Vec<ImportRun>, StoreError> {
        self.inner.latest_import_runs().await
    }

    async fn usage_page(
        &self,
        query: &UsageQuery,
        before: Option<(DateTime<Utc>, i64)>,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        self.inner.usage_page(query, before).await
    }
}
