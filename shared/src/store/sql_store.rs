//! [`SqlStore`]: the one implementation of [`Store`], on Postgres or SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::backend::Backend;
use super::write::Extras;
use super::{budgets, edit, logs, read, write};
use super::{
    BillChunk, BilledHours, CellFigureRow, CellRead, CollectionRun, CostChange, Coverage, CvPush,
    CvPushQuery, Filters, GroupKey, Grouping, HandoffRecord, ImportCursor, ImportRun,
    MappingSubject, MessageClaim, Store, StoreError, StoredBill, StoredPriceRow, Totals,
    UsageQuery, WriteMode, WriteOutcome,
};
use crate::domain::pricing::StoredEntry;
use crate::domain::rules::ProjectRule;
use crate::domain::usage::UsageRecord;

/// A store on one database; [`super::open`] picks the backend from the URL.
pub struct SqlStore {
    db: Backend,
}

impl SqlStore {
    /// Connects to Postgres (`postgres://…`); the URL is never echoed in errors.
    pub async fn connect_postgres(url: &str) -> Result<Self, StoreError> {
        let db = Backend::Postgres(super::postgres::Pg::connect(url).await?);
        Ok(SqlStore { db })
    }

    /// Opens (creating if missing) a SQLite database file (`sqlite://…`).
    pub async fn connect_sqlite(url: &str) -> Result<Self, StoreError> {
        let db = Backend::Sqlite(super::sqlite::Lite::connect(url).await?);
        Ok(SqlStore { db })
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        self.db.name()
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(backend = self.db.name()),
        err(level = "debug")
    )]
    async fn migrate(&self) -> Result<(), StoreError> {
        self.db.migrate().await?;
        write::settle_after_migration(&self.db).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let sql = super::db::Sql::new("SELECT 1");
        self.db.conn().await?.exec().execute(sql).await?;
        Ok(())
    }

    async fn probe_connect(&self) -> Result<(), StoreError> {
        self.db.connect_fresh().await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(records = records.len(), ?mode),
        err(level = "debug")
    )]
    async fn write_usage(
        &self,
        records: Vec<UsageRecord>,
        mode: WriteMode,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        write::write_records(&self.db, records, mode, Extras::default()).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(records = records.len()),
        err(level = "debug")
    )]
    async fn write_usage_deferred(
        &self,
        records: Vec<UsageRecord>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        write::write_deferred(&self.db, records).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(records = records.len(), provider = %coverage.provider),
        err(level = "debug")
    )]
    async fn write_collected(
        &self,
        records: Vec<UsageRecord>,
        coverage: &Coverage,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let extras = Extras {
            coverage: Some(coverage),
            ..Extras::default()
        };
        write::write_records(&self.db, records, WriteMode::Upsert, extras).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(records = records.len(), provider = %coverage.provider, lines = bill.lines.len()),
        err(level = "debug")
    )]
    async fn write_collected_billed(
        &self,
        records: Vec<UsageRecord>,
        coverage: &Coverage,
        bill: &BillChunk,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let extras = Extras {
            coverage: Some(coverage),
            bill: Some(bill),
            ..Extras::default()
        };
        write::write_records(&self.db, records, WriteMode::Upsert, extras).await
    }

    async fn stored_bill(
        &self,
        first: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> Result<StoredBill, StoreError> {
        super::bill::stored_bill(&self.db, first, end).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn cell_figures(&self, read: &CellRead) -> Result<Vec<CellFigureRow>, StoreError> {
        read::cell_figures(&self.db, read).await
    }

    async fn billed_hours(&self) -> Result<Vec<BilledHours>, StoreError> {
        read::billed_hours(&self.db).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn fold_pending_rollups(&self) -> Result<u64, StoreError> {
        write::fold_pending(&self.db).await
    }

    async fn pending_rollups(&self) -> Result<u64, StoreError> {
        read::pending_rollups(&self.db).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_usage(&self, query: &UsageQuery) -> Result<(Vec<UsageRecord>, i64), StoreError> {
        read::list_usage(&self.db, query).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id), err(level = "debug"))]
    async fn delete_usage(&self, id: i64) -> Result<bool, StoreError> {
        edit::delete_usage(&self.db, id).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(?grouping), err(level = "debug"))]
    async fn rollup_totals(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        filters: &Filters,
        grouping: Grouping,
    ) -> Result<Vec<(GroupKey, Totals)>, StoreError> {
        read::rollup_totals(&self.db, (start, end), filters, grouping).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn raw_totals(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Totals, StoreError> {
        read::raw_totals(&self.db, start, end).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn unpriced_models(&self) -> Result<Vec<(String, i64)>, StoreError> {
        read::unpriced_models(&self.db).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_rules(&self) -> Result<Vec<ProjectRule>, StoreError> {
        logs::list_rules(&self.db).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn create_rule(
        &self,
        pattern: &str,
        project: &str,
        priority: i32,
    ) -> Result<ProjectRule, StoreError> {
        logs::create_rule(&self.db, pattern, project, priority).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id = rule.id), err(level = "debug"))]
    async fn update_rule(&self, rule: &ProjectRule) -> Result<ProjectRule, StoreError> {
        logs::update_rule(&self.db, rule).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(id), err(level = "debug"))]
    async fn delete_rule(&self, id: i64) -> Result<bool, StoreError> {
        logs::delete_rule(&self.db, id).await
    }

    async fn mapping_subjects(&self) -> Result<Vec<MappingSubject>, StoreError> {
        edit::mapping_subjects(&self.db).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(subjects = changes.len()),
        err(level = "debug")
    )]
    async fn retag(&self, changes: &[(MappingSubject, String)]) -> Result<u64, StoreError> {
        edit::retag(&self.db, changes).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn records_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        read::records_between(&self.db, (start, end), after_id, limit).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(changes = changes.len()),
        err(level = "debug")
    )]
    async fn update_costs(&self, changes: &[CostChange]) -> Result<Vec<i64>, StoreError> {
        edit::update_costs(&self.db, changes).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn unpriced_records(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        edit::unpriced_records(&self.db, after_id, limit).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn server_secret(&self, name: &str) -> Result<Option<(String, String)>, StoreError> {
        edit::server_secret(&self.db, name).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn save_server_secret(
        &self,
        name: &str,
        value: &str,
        key_check: &str,
        replacing: Option<&str>,
    ) -> Result<bool, StoreError> {
        edit::save_server_secret(&self.db, name, value, key_check, replacing).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn stored_prices(&self) -> Result<Vec<StoredPriceRow>, StoreError> {
        edit::stored_prices(&self.db).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(put = put.len(), delete = delete.len()), err(level = "debug"))]
    async fn save_stored_prices(
        &self,
        put: &[StoredEntry],
        delete: &[String],
    ) -> Result<u64, StoreError> {
        edit::save_stored_prices(&self.db, put, delete).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn close_stale_runs(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        logs::close_stale_runs(&self.db, before).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(provider = %run.provider),
        err(level = "debug")
    )]
    async fn save_run(&self, run: &CollectionRun) -> Result<i64, StoreError> {
        logs::save_run(&self.db, run).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn recent_runs(
        &self,
        provider: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CollectionRun>, StoreError> {
        logs::recent_runs(&self.db, provider, limit).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn watermark(&self, provider: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        logs::watermark(&self.db, provider).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(provider), err(level = "debug"))]
    async fn advance_watermark(&self, provider: &str, to: DateTime<Utc>) -> Result<(), StoreError> {
        logs::advance_watermark(&self.db, provider, to).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(date = %push.date),
        err(level = "debug")
    )]
    async fn save_cv_push(&self, push: &CvPush) -> Result<i64, StoreError> {
        logs::save_cv_push(&self.db, push).await
    }

    async fn list_budgets(&self) -> Result<Vec<crate::budgets::Budget>, StoreError> {
        budgets::list_budgets(&self.db).await
    }

    async fn save_budget(&self, budget: &crate::budgets::Budget) -> Result<i64, StoreError> {
        budgets::save_budget(&self.db, budget).await
    }

    async fn delete_budget(&self, id: i64) -> Result<bool, StoreError> {
        budgets::delete_budget(&self.db, id).await
    }

    async fn claim_alert(
        &self,
        alert: &crate::budgets::check::Alert,
    ) -> Result<Option<i64>, StoreError> {
        budgets::claim_alert(&self.db, alert).await
    }

    async fn finish_alert(&self, alert: &crate::budgets::check::Alert) -> Result<(), StoreError> {
        budgets::finish_alert(&self.db, alert).await
    }

    async fn budget_alerts(
        &self,
        query: &crate::budgets::check::AlertQuery,
        limit: i64,
    ) -> Result<Vec<crate::budgets::check::Alert>, StoreError> {
        budgets::budget_alerts(&self.db, query, limit).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn save_handoff(&self, handoff: &HandoffRecord) -> Result<i64, StoreError> {
        logs::save_handoff(&self.db, handoff).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn recent_handoffs(&self, limit: i64) -> Result<Vec<HandoffRecord>, StoreError> {
        logs::recent_handoffs(&self.db, limit).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn cv_pushes(&self, query: &CvPushQuery, limit: i64) -> Result<Vec<CvPush>, StoreError> {
        logs::cv_pushes(&self.db, query, limit).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(records = records.len(), cursors = cursors.len(), claims = claims.len()),
        err(level = "debug")
    )]
    async fn write_import(
        &self,
        records: Vec<UsageRecord>,
        cursors: &[ImportCursor],
        claims: &[MessageClaim],
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let extras = Extras {
            defer: true,
            cursors,
            claims,
            ..Extras::default()
        };
        write::write_records(&self.db, records, WriteMode::InsertOnly, extras).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn message_claims(
        &self,
        importer: &str,
        session_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        logs::message_claims(&self.db, importer, session_id).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn import_cursors(&self, importer: &str) -> Result<Vec<ImportCursor>, StoreError> {
        logs::import_cursors(&self.db, importer).await
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(importer = %run.importer),
        err(level = "debug")
    )]
    async fn save_import_run(&self, run: &ImportRun) -> Result<i64, StoreError> {
        logs::save_import_run(&self.db, run).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn latest_import_runs(&self) -> Result<Vec<ImportRun>, StoreError> {
        logs::latest_import_runs(&self.db).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn usage_page(
        &self,
        query: &UsageQuery,
        before: Option<(DateTime<Utc>, i64)>,
    ) -> Result<Vec<UsageRecord>, StoreError> {
        read::usage_page(&self.db, query, before).await
    }
}
