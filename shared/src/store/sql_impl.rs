//! The one implementation of [`super::Store`], written once and instantiated for
//! Postgres and SQLite (the SQL in [`super::records`] runs unchanged on both).
//!
//! A backend type provides `pool`, `backend_name()`, `run_migrations()` and
//! `write_guard()` (SQLite serialises writers in-process; Postgres needs nothing),
//! `insert_new_deferred()` (a one-statement path for new pushed records, or `false`),
//! `after_fold()` (housekeeping of the pending table), `bulk_pool()` (where batches
//! of records are written), `stored_by_keys()` (the
//! stored records of one source with these external ids), `ROWS_PER_STATEMENT`
//! (rows per multi-row statement), `INSERT_ROWS` (records per insert statement) and
//! `PARAMS` (how multi-row statements name their parameters).

macro_rules! impl_sql_store {
    ($store:ty, $row:ty) => {
        impl $store {
            fn record_from_row(
                row: &$row,
            ) -> Result<$crate::domain::usage::UsageRecord, $crate::store::StoreError> {
                use $crate::domain::money::Pico;
                use $crate::domain::usage::*;
                use sqlx::Row;
                let corrupt = |what: &str| $crate::store::StoreError::Corrupt(what.to_string());
                let text = |name: &str| -> Result<String, sqlx::Error> { row.try_get::<String, _>(name) };
                let opt = |name: &str| -> Result<Option<String>, sqlx::Error> { row.try_get::<Option<String>, _>(name) };
                let int = |name: &str| -> Result<i64, sqlx::Error> { row.try_get::<i64, _>(name) };
                let raw: String = text("raw")?;
                Ok(UsageRecord {
                    id: int("id")?,
                    source: Source::parse(&text("source")?).ok_or_else(|| corrupt("source"))?,
                    external_id: text("external_id")?,
                    recorded_at: chrono::DateTime::from_timestamp_millis(int("recorded_at_ms")?)
                        .ok_or_else(|| corrupt("recorded_at_ms"))?,
                    bucket_seconds: row.try_get::<i32, _>("bucket_seconds")?,
                    provider: text("provider")?,
                    model: text("model")?,
                    model_key: text("model_key")?,
                    tokens: TokenCounts {
                        input: int("input_tokens")?,
                        output: int("output_tokens")?,
                        cache_read: int("cache_read_tokens")?,
                        cache_write_5m: int("cache_write_5m_tokens")?,
                        cache_write_1h: int("cache_write_1h_tokens")?,
                        web_search_requests: int("web_search_requests")?,
                        requests: int("request_count")?,
                    },
                    service_tier: opt("service_tier")?,
                    context_window: opt("context_window")?,
                    inference_geo: opt("inference_geo")?,
                    session_label: opt("session_label")?,
                    session_type: SessionType::parse(&text("session_type")?)
                        .ok_or_else(|| corrupt("session_type"))?,
                    session_id: opt("session_id")?,
                    agent: opt("agent")?,
                    project: text("project")?,
                    project_source: ProjectSource::parse(&text("project_source")?)
                        .ok_or_else(|| corrupt("project_source"))?,
                    api_key_id: opt("api_key_id")?,
                    api_key_name: opt("api_key_name")?,
                    workspace_id: opt("workspace_id")?,
                    workspace_name: opt("workspace_name")?,
                    cost: Pico(int("cost_pico")?),
                    cost_source: CostSource::parse(&text("cost_source")?)
                        .ok_or_else(|| corrupt("cost_source"))?,
                    computed_cost: row.try_get::<Option<i64>, _>("computed_cost_pico")?.map(Pico),
                    price_ref: opt("price_ref")?,
                    unpriced: row.try_get::<bool, _>("unpriced")?,
                    raw: serde_json::from_str(&raw).map_err(|_| corrupt("raw"))?,
                })
            }

            fn totals_from_row(row: &$row, first: usize) -> Result<$crate::store::Totals, sqlx::Error> {
                use sqlx::Row;
                let at = |i: usize| row.try_get::<i64, _>(first + i);
                Ok($crate::store::Totals {
                    records: at(0)?,
                    requests: at(1)?,
                    unpriced_requests: at(2)?,
                    input_tokens: at(3)?,
                    output_tokens: at(4)?,
                    cache_read_tokens: at(5)?,
                    cache_write_5m_tokens: at(6)?,
                    cache_write_1h_tokens: at(7)?,
                    web_search_requests: at(8)?,
                    cost: $crate::domain::money::Pico(at(9)?),
                })
            }

            async fn fetch_record<'e, E>(executor: E, id: i64) -> Result<Option<$crate::domain::usage::UsageRecord>, $crate::store::StoreError>
            where
                E: sqlx::Executor<'e, Database = <$row as sqlx::Row>::Database>,
            {
                let sql = format!("SELECT {} FROM usage_records WHERE id = $1", $crate::store::records::RECORD_COLUMNS);
                let row = sqlx::query(&sql).bind(id).fetch_optional(executor).await?;
                row.as_ref().map(Self::record_from_row).transpose()
            }

            /// Writes records and their rollup deltas in one transaction (see
            /// `Store::write_usage`); with `defer` the deltas are appended to
            /// `rollup_pending` for a later fold.
            async fn write_records(
                &self,
                records: Vec<$crate::domain::usage::UsageRecord>,
                mode: $crate::store::WriteMode,
                defer: bool,
                cursors: &[$crate::store::ImportCursor],
                claims: &[$crate::store::MessageClaim],
            ) -> Result<Vec<$crate::store::WriteOutcome>, $crate::store::StoreError> {
                use std::collections::HashMap;
                use sqlx::Row;
                use $crate::store::records::*;
                use $crate::store::{StoreError, WriteMode, WriteOutcome, WriteStatus};
                let _guard = self.write_guard().await;
                let mut tx = self.bulk_pool().begin().await?;
                let mut deltas = $crate::store::RollupDeltas::default();
                let now_ms = chrono::Utc::now().timestamp_millis();
                let mut records = records;
                let mut statuses: Vec<Option<WriteStatus>> = vec![None; records.len()];

                // 1. Insert many rows per statement; a key that already exists (or repeats
                //    within the batch) is skipped here and settled below.
                let full_sql = insert_records_sql(Self::INSERT_ROWS, Self::PARAMS);
                for (chunk_index, chunk) in records.chunks_mut(Self::INSERT_ROWS).enumerate() {
                    let short_sql;
                    let sql = if chunk.len() == Self::INSERT_ROWS {
                        full_sql.as_str()
                    } else {
                        short_sql = insert_records_sql(chunk.len(), Self::PARAMS);
                        short_sql.as_str()
                    };
                    let mut query = sqlx::query(sql);
                    for record in chunk.iter() {
                        query = bind_record!(query, record).bind(now_ms).bind(now_ms);
                    }
                    let mut ids: HashMap<(String, String), i64> = HashMap::new();
                    for row in query.fetch_all(&mut *tx).await? {
                        ids.insert((row.try_get(1)?, row.try_get(2)?), row.try_get(0)?);
                    }
                    for (offset, record) in chunk.iter_mut().enumerate() {
                        let key = (record.source.as_str().to_string(), std::mem::take(&mut record.external_id));
                        // The first row of a key in VALUES order is the one inserted.
                        if let Some(id) = ids.remove(&key) {
                            record.id = id;
                            deltas.add_record(record);
                            statuses[chunk_index * Self::INSERT_ROWS + offset] = Some(WriteStatus::Created);
                        }
                        record.external_id = key.1;
                    }
                }

                // 2. The rest exist already: fetch them by key, then compare in batch order.
                let pending: Vec<usize> = (0..records.len()).filter(|&i| statuses[i].is_none()).collect();
                let mut stored: HashMap<(String, String), $crate::domain::usage::UsageRecord> = HashMap::new();
                let mut by_source: HashMap<&'static str, Vec<&str>> = HashMap::new();
                for &i in &pending {
                    by_source.entry(records[i].source.as_str()).or_default().push(records[i].external_id.as_str());
                }
                for (source, keys) in by_source {
                    for chunk in keys.chunks(Self::ROWS_PER_STATEMENT) {
                        for row in Self::stored_by_keys(&mut *tx, source, chunk).await? {
                            let existing = Self::record_from_row(&row)?;
                            stored.insert((source.to_string(), existing.external_id.clone()), existing);
                        }
                    }
                }
                for index in pending {
                    let record = &mut records[index];
                    let key = (record.source.as_str().to_string(), record.external_id.clone());
                    let existing = stored.get(&key).cloned().ok_or_else(|| {
                        StoreError::Corrupt(format!("record {} vanished during the write", record.external_id))
                    })?;
                    // An imported call seen again keeps the version with more tokens.
                    let keep_larger = mode == WriteMode::InsertOnly
                        && record.source == $crate::domain::usage::Source::Import;
                    let unchanged = match mode {
                        _ if keep_larger => import_weight(&existing) >= import_weight(record),
                        WriteMode::InsertOnly => existing.raw == record.raw,
                        WriteMode::Upsert => same_content(&existing, record),
                    };
                    if unchanged {
                        *record = existing;
                        statuses[index] = Some(WriteStatus::Unchanged);
                    } else if mode == WriteMode::InsertOnly && !keep_larger {
                        return Err(StoreError::Conflict { index, external_id: record.external_id.clone() });
                    } else {
                        record.id = existing.id;
                        bind_record!(sqlx::query(UPDATE_RECORD), &*record)
                            .bind(now_ms)
                            .bind(existing.id)
                            .execute(&mut *tx)
                            .await?;
                        deltas.subtract_record(&existing);
                        deltas.add_record(record);
                        // A later repeat of this key in the batch compares with this version.
                        stored.insert(key, record.clone());
                        statuses[index] = Some(WriteStatus::Updated);
                    }
                }
                if defer {
                    Self::append_pending(&mut *tx, deltas).await?;
                } else {
                    Self::apply_deltas(&mut *tx, deltas).await?;
                }
                // Import cursors and claims, many rows per statement (the claims once each).
                for chunk in cursors.chunks(100) {
                    let sql = upsert_cursors_sql(chunk.len(), Self::PARAMS);
                    let mut query = sqlx::query(&sql);
                    for cursor in chunk {
                        query = query
                            .bind(&cursor.importer)
                            .bind(&cursor.location)
                            .bind(&cursor.identity)
                            .bind(cursor.size)
                            .bind(cursor.position)
                            .bind(&cursor.state)
                            .bind(now_ms);
                    }
                    query.execute(&mut *tx).await?;
                }
                let mut seen = std::collections::HashSet::new();
                let claims: Vec<_> = claims
                    .iter()
                    .filter(|c| seen.insert((&c.importer, &c.session_id, &c.message_id)))
                    .collect();
                for chunk in claims.chunks(200) {
                    let sql = insert_claims_sql(chunk.len(), Self::PARAMS);
                    let mut query = sqlx::query(&sql);
                    for claim in chunk {
                        query = query
                            .bind(&claim.importer)
                            .bind(&claim.session_id)
                            .bind(&claim.message_id)
                            .bind(&claim.external_id);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(records
                    .into_iter()
                    .zip(statuses)
                    .map(|(record, status)| WriteOutcome {
                        status: status.expect("every record was settled"),
                        record,
                    })
                    .collect())
            }

            /// Takes every committed pending rollup delta (migration 0005) into `deltas`,
            /// deleting it; returns how many rows were taken.
            async fn take_pending<'e, E>(executor: &mut E, deltas: &mut $crate::store::RollupDeltas) -> Result<u64, $crate::store::StoreError>
            where
                for<'c> &'c mut E: sqlx::Executor<'c, Database = <$row as sqlx::Row>::Database>,
            {
                use sqlx::Row;
                let rows = sqlx::query($crate::store::records::TAKE_PENDING).fetch_all(&mut *executor).await?;
                for row in &rows {
                    let key = $crate::store::RollupKey {
                        hour_start: row.try_get(0)?,
                        provider: row.try_get(1)?,
                        model: row.try_get(2)?,
                        project: row.try_get(3)?,
                        agent: row.try_get(4)?,
                        session_type: row.try_get(5)?,
                        source: row.try_get(6)?,
                    };
                    deltas.add(key, Self::totals_from_row(row, 7)?);
                }
                Ok(rows.len() as u64)
            }

            /// Writes full-key rollup rows with `sql(rows)` (an upsert into the rollups or
            /// an append to the pending table), many rows per statement, in the given order.
            async fn write_rollup_rows<'e, E>(
                executor: &mut E,
                changes: &[($crate::store::RollupKey, $crate::store::Totals)],
                sql: fn(usize) -> String,
            ) -> Result<(), $crate::store::StoreError>
            where
                for<'c> &'c mut E: sqlx::Executor<'c, Database = <$row as sqlx::Row>::Database>,
            {
                for chunk in changes.chunks(Self::ROWS_PER_STATEMENT) {
                    let text = sql(chunk.len());
                    let mut query = sqlx::query(&text);
                    for (key, t) in chunk {
                        let keyed = query
                            .bind(key.hour_start)
                            .bind(key.provider.as_str())
                            .bind(key.model.as_str())
                            .bind(key.project.as_str())
                            .bind(key.agent.as_str())
                            .bind(key.session_type.as_str())
                            .bind(key.source.as_str());
                        query = $crate::store::records::bind_totals!(keyed, t);
                    }
                    query.execute(&mut *executor).await?;
                }
                Ok(())
            }

            /// Appends rollup deltas to `rollup_pending` instead of applying them: no
            /// rollup row is locked, so concurrent small writes do not queue on the hot
            /// rows of the current hour. Only additions are deferred.
            async fn append_pending<'e, E>(executor: &mut E, deltas: $crate::store::RollupDeltas) -> Result<(), $crate::store::StoreError>
            where
                for<'c> &'c mut E: sqlx::Executor<'c, Database = <$row as sqlx::Row>::Database>,
            {
                let changes: Vec<_> = deltas.into_changes().collect();
                Self::write_rollup_rows(&mut *executor, &changes, $crate::store::records::insert_pending_sql).await?;
                Ok(())
            }

            /// Adds rollup deltas in key order (so concurrent writers lock rows in the
            /// same order), many rows per statement. A change that removes records may
            /// concern a record whose addition is still pending, so the pending deltas
            /// are folded in first (in this transaction): rows then reach zero here and
            /// are deleted, never going negative.
            async fn apply_deltas<'e, E>(executor: &mut E, deltas: $crate::store::RollupDeltas) -> Result<(), $crate::store::StoreError>
            where
                for<'c> &'c mut E: sqlx::Executor<'c, Database = <$row as sqlx::Row>::Database>,
            {
                use $crate::store::records::{upsert_rollups_sql, DELETE_EMPTY_ROLLUPS};
                let mut deltas = deltas;
                if deltas.removes_records() {
                    Self::take_pending(&mut *executor, &mut deltas).await?;
                }
                let changes: Vec<_> = deltas.into_changes().collect();
                let removed = changes.iter().any(|(_, t)| t.records < 0);
                Self::write_rollup_rows(&mut *executor, &changes, upsert_rollups_sql).await?;
                for chunk in $crate::store::rollup::dim_changes(&changes).chunks(Self::ROWS_PER_STATEMENT) {
                    let sql = $crate::store::records::upsert_dims_sql(chunk.len());
                    let mut query = sqlx::query(&sql);
                    for (key, t) in chunk {
                        let keyed = query
                            .bind(key.dim)
                            .bind(key.grain)
                            .bind(key.bucket_start)
                            .bind(key.value.as_str());
                        query = $crate::store::records::bind_totals!(keyed, t);
                    }
                    query.execute(&mut *executor).await?;
                }
                if removed {
                    sqlx::query(DELETE_EMPTY_ROLLUPS).execute(&mut *executor).await?;
                    sqlx::query($crate::store::records::DELETE_EMPTY_DIMS).execute(&mut *executor).await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn migrate(&self) -> Result<(), $crate::store::StoreError> {
                self.run_migrations().await
            }

            async fn ping(&self) -> Result<(), $crate::store::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn write_usage(
                &self,
                records: Vec<$crate::domain::usage::UsageRecord>,
                mode: $crate::store::WriteMode,
            ) -> Result<Vec<$crate::store::WriteOutcome>, $crate::store::StoreError> {
                self.write_records(records, mode, false, &[], &[]).await
            }

            async fn write_import(
                &self,
                records: Vec<$crate::domain::usage::UsageRecord>,
                cursors: &[$crate::store::ImportCursor],
                claims: &[$crate::store::MessageClaim],
            ) -> Result<Vec<$crate::store::WriteOutcome>, $crate::store::StoreError> {
                self.write_records(records, $crate::store::WriteMode::InsertOnly, true, cursors, claims).await
            }

            async fn message_claims(&self, importer: &str, session_id: &str) -> Result<Vec<String>, $crate::store::StoreError> {
                let ids = sqlx::query_scalar(
                    "SELECT message_id FROM import_message_claims WHERE importer = $1 AND session_id = $2",
                )
                .bind(importer)
                .bind(session_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(ids)
            }

            async fn import_cursors(&self, importer: &str) -> Result<Vec<$crate::store::ImportCursor>, $crate::store::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT importer, location, identity, size, position, state FROM import_cursors WHERE importer = $1",
                )
                .bind(importer)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::store::ImportCursor {
                            importer: row.try_get(0)?,
                            location: row.try_get(1)?,
                            identity: row.try_get(2)?,
                            size: row.try_get(3)?,
                            position: row.try_get(4)?,
                            state: row.try_get(5)?,
                        })
                    })
                    .collect()
            }

            async fn save_import_run(&self, run: &$crate::store::ImportRun) -> Result<i64, $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                let sql = if run.id == 0 {
                    "INSERT INTO import_runs (importer, root, trigger, status, started_at_ms, finished_at_ms, \
                     files_scanned, lines_read, created, updated, unchanged, skipped, error, duration_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id"
                } else {
                    "UPDATE import_runs SET importer = $1, root = $2, trigger = $3, status = $4, started_at_ms = $5, \
                     finished_at_ms = $6, files_scanned = $7, lines_read = $8, created = $9, updated = $10, \
                     unchanged = $11, skipped = $12, error = $13, duration_ms = $14 WHERE id = $15 RETURNING id"
                };
                let query = sqlx::query_scalar(sql)
                    .bind(&run.importer)
                    .bind(&run.root)
                    .bind(&run.trigger)
                    .bind(run.status.as_str())
                    .bind(run.started_at.timestamp_millis())
                    .bind(run.finished_at.map(|at| at.timestamp_millis()))
                    .bind(run.files_scanned)
                    .bind(run.lines_read)
                    .bind(run.created)
                    .bind(run.updated)
                    .bind(run.unchanged)
                    .bind(run.skipped)
                    .bind(&run.error)
                    .bind(run.duration_ms);
                let query = if run.id == 0 { query } else { query.bind(run.id) };
                let id: Option<i64> = query.fetch_optional(&self.pool).await?;
                id.ok_or($crate::store::StoreError::NotFound)
            }

            async fn latest_import_runs(&self) -> Result<Vec<$crate::store::ImportRun>, $crate::store::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT id, importer, root, trigger, status, started_at_ms, finished_at_ms, files_scanned, \
                     lines_read, created, updated, unchanged, skipped, error, duration_ms FROM import_runs r \
                     WHERE id = (SELECT MAX(id) FROM import_runs l WHERE l.importer = r.importer AND l.root = r.root) \
                     ORDER BY id DESC",
                )
                .fetch_all(&self.pool)
                .await?;
                let corrupt = |what: &str| $crate::store::StoreError::Corrupt(format!("import_runs.{what}"));
                let at = |ms: i64, what: &str| chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(what));
                rows.iter()
                    .map(|row| {
                        let int = |name: &str| row.try_get::<i64, _>(name);
                        Ok($crate::store::ImportRun {
                            id: int("id")?,
                            importer: row.try_get("importer")?,
                            root: row.try_get("root")?,
                            trigger: row.try_get("trigger")?,
                            status: $crate::store::RunStatus::parse(&row.try_get::<String, _>("status")?)
                                .ok_or_else(|| corrupt("status"))?,
                            started_at: at(int("started_at_ms")?, "started_at_ms")?,
                            finished_at: row
                                .try_get::<Option<i64>, _>("finished_at_ms")?
                                .map(|ms| at(ms, "finished_at_ms"))
                                .transpose()?,
                            files_scanned: int("files_scanned")?,
                            lines_read: int("lines_read")?,
                            created: int("created")?,
                            updated: int("updated")?,
                            unchanged: int("unchanged")?,
                            skipped: int("skipped")?,
                            error: row.try_get("error")?,
                            duration_ms: row.try_get("duration_ms")?,
                        })
                    })
                    .collect()
            }

            async fn write_usage_deferred(
                &self,
                records: Vec<$crate::domain::usage::UsageRecord>,
            ) -> Result<Vec<$crate::store::WriteOutcome>, $crate::store::StoreError> {
                let mut records = records;
                if self.insert_new_deferred(&mut records).await? {
                    return Ok(records
                        .into_iter()
                        .map(|record| $crate::store::WriteOutcome { status: $crate::store::WriteStatus::Created, record })
                        .collect());
                }
                self.write_records(records, $crate::store::WriteMode::InsertOnly, true, &[], &[]).await
            }

            async fn fold_pending_rollups(&self) -> Result<u64, $crate::store::StoreError> {
                let folded = {
                    let _guard = self.write_guard().await;
                    let mut tx = self.pool.begin().await?;
                    let mut deltas = $crate::store::RollupDeltas::default();
                    let folded = Self::take_pending(&mut *tx, &mut deltas).await?;
                    if folded > 0 {
                        Self::apply_deltas(&mut *tx, deltas).await?;
                    }
                    tx.commit().await?;
                    folded
                };
                self.after_fold(folded).await?;
                Ok(folded)
            }

            async fn pending_rollups(&self) -> Result<u64, $crate::store::StoreError> {
                let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM rollup_pending")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n as u64)
            }

            async fn list_usage(
                &self,
                query: &$crate::store::UsageQuery,
            ) -> Result<(Vec<$crate::domain::usage::UsageRecord>, i64), $crate::store::StoreError> {
                use $crate::store::records::*;
                let (clause, binds) = usage_where(query.start, query.end, &query.filters);
                let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM usage_records WHERE {clause}");
                let n = binds.len();
                let list_sql = format!(
                    "SELECT {RECORD_COLUMNS} FROM usage_records WHERE {clause} \
                     ORDER BY recorded_at_ms DESC, id DESC LIMIT ${} OFFSET ${}",
                    n + 1,
                    n + 2
                );
                let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
                let mut list = sqlx::query(&list_sql);
                for bind in binds {
                    match bind {
                        BindValue::Int(v) => {
                            count = count.bind(v);
                            list = list.bind(v);
                        }
                        BindValue::Text(v) => {
                            count = count.bind(v.clone());
                            list = list.bind(v);
                        }
                    }
                }
                let total = count.fetch_one(&self.pool).await?;
                let rows = list.bind(query.limit).bind(query.offset).fetch_all(&self.pool).await?;
                let records = rows.iter().map(Self::record_from_row).collect::<Result<Vec<_>, _>>()?;
                Ok((records, total))
            }

            async fn delete_usage(&self, id: i64) -> Result<bool, $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                let mut tx = self.pool.begin().await?;
                let Some(existing) = Self::fetch_record(&mut *tx, id).await? else {
                    return Ok(false);
                };
                sqlx::query("DELETE FROM usage_records WHERE id = $1").bind(id).execute(&mut *tx).await?;
                let mut deltas = $crate::store::RollupDeltas::default();
                deltas.subtract_record(&existing);
                Self::apply_deltas(&mut *tx, deltas).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn rollup_totals(
                &self,
                start: chrono::DateTime<chrono::Utc>,
                end: chrono::DateTime<chrono::Utc>,
                filters: &$crate::store::Filters,
                grouping: $crate::store::Grouping,
            ) -> Result<Vec<($crate::store::GroupKey, $crate::store::Totals)>, $crate::store::StoreError> {
                use sqlx::Row;
                use $crate::store::{GroupKey, Grouping};
                let rows = if filters.pairs().is_empty() {
                    // No filter: the one-dimension rollups answer (migration 0004).
                    let dim = match grouping {
                        Grouping::Total | Grouping::Hour => "total",
                        Grouping::By(d) | Grouping::HourBy(d) => d.column(),
                    };
                    let (sql, bounds) = $crate::store::records::dims_query(grouping, start.timestamp(), end.timestamp());
                    let mut query = sqlx::query(&sql).bind(dim);
                    for bound in bounds {
                        query = query.bind(bound);
                    }
                    query.fetch_all(&self.pool).await?
                } else {
                    let (sql, binds) = $crate::store::records::rollup_query(grouping, filters);
                    let mut query = sqlx::query(&sql).bind(start.timestamp()).bind(end.timestamp());
                    for value in binds {
                        query = query.bind(value);
                    }
                    query.fetch_all(&self.pool).await?
                };
                let hour = |row: &$row| -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
                    Ok(chrono::DateTime::from_timestamp(row.try_get::<i64, _>(0)?, 0))
                };
                rows.iter()
                    .map(|row| {
                        let (key, first) = match grouping {
                            Grouping::Total => (GroupKey::default(), 0),
                            Grouping::Hour => (GroupKey { hour: hour(row)?, value: None }, 1),
                            Grouping::By(_) => (GroupKey { hour: None, value: Some(row.try_get(0)?) }, 1),
                            Grouping::HourBy(_) => (GroupKey { hour: hour(row)?, value: Some(row.try_get(1)?) }, 2),
                        };
                        Ok((key, Self::totals_from_row(row, first)?))
                    })
                    .collect()
            }

            async fn raw_totals(
                &self,
                start: chrono::DateTime<chrono::Utc>,
                end: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::store::Totals, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM usage_records WHERE recorded_at_ms >= $1 AND recorded_at_ms < $2",
                    $crate::store::records::RECORD_SUMS
                );
                let row = sqlx::query(&sql)
                    .bind(start.timestamp_millis())
                    .bind(end.timestamp_millis())
                    .fetch_one(&self.pool)
                    .await?;
                Ok(Self::totals_from_row(&row, 0)?)
            }

            async fn unpriced_models(&self) -> Result<Vec<(String, i64)>, $crate::store::StoreError> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT model, CAST(SUM(unpriced_requests) AS BIGINT) FROM usage_rollups_live \
                     GROUP BY model HAVING SUM(unpriced_requests) > 0 ORDER BY model",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn list_rules(&self) -> Result<Vec<$crate::domain::rules::ProjectRule>, $crate::store::StoreError> {
                let rows: Vec<(i64, String, String, i32)> =
                    sqlx::query_as("SELECT id, pattern, project, priority FROM project_rules ORDER BY id")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, pattern, project, priority)| $crate::domain::rules::ProjectRule { id, pattern, project, priority })
                    .collect())
            }

            async fn create_rule(
                &self,
                pattern: &str,
                project: &str,
                priority: i32,
            ) -> Result<$crate::domain::rules::ProjectRule, $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO project_rules (pattern, project, priority, created_at_ms) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(pattern)
                .bind(project)
                .bind(priority)
                .bind(chrono::Utc::now().timestamp_millis())
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::domain::rules::ProjectRule { id, pattern: pattern.into(), project: project.into(), priority })
            }

            async fn update_rule(
                &self,
                rule: &$crate::domain::rules::ProjectRule,
            ) -> Result<$crate::domain::rules::ProjectRule, $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                let done = sqlx::query("UPDATE project_rules SET pattern = $1, project = $2, priority = $3 WHERE id = $4")
                    .bind(&rule.pattern)
                    .bind(&rule.project)
                    .bind(rule.priority)
                    .bind(rule.id)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                Ok(rule.clone())
            }

            async fn delete_rule(&self, id: i64) -> Result<bool, $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                let done = sqlx::query("DELETE FROM project_rules WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn mapping_subjects(&self) -> Result<Vec<$crate::store::MappingSubject>, $crate::store::StoreError> {
                let rows: Vec<(Option<String>, Option<String>, Option<String>, String)> = sqlx::query_as(
                    "SELECT DISTINCT session_label, api_key_name, workspace_name, project \
                     FROM usage_records WHERE project_source = 'mapping'",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(session_label, api_key_name, workspace_name, project)| $crate::store::MappingSubject {
                        session_label,
                        api_key_name,
                        workspace_name,
                        project,
                    })
                    .collect())
            }

            async fn retag(
                &self,
                changes: &[($crate::store::MappingSubject, String)],
            ) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::records::*;
                use $crate::store::{RollupDeltas, RollupKey};
                let _guard = self.write_guard().await;
                let mut tx = self.pool.begin().await?;
                let contribution_sql = SUBJECT_CONTRIBUTION.replace("{SUMS}", RECORD_SUMS).replace("{SUBJECT}", SUBJECT_PREDICATE);
                let update_sql = format!(
                    "UPDATE usage_records SET project = $5, updated_at_ms = $6 WHERE {SUBJECT_PREDICATE}"
                );
                let mut deltas = RollupDeltas::default();
                let mut changed = 0;
                for (subject, new_project) in changes {
                    let label = subject.session_label.clone().unwrap_or_default();
                    let key_name = subject.api_key_name.clone().unwrap_or_default();
                    let workspace = subject.workspace_name.clone().unwrap_or_default();
                    let rows = sqlx::query(&contribution_sql)
                        .bind(&label)
                        .bind(&key_name)
                        .bind(&workspace)
                        .bind(&subject.project)
                        .fetch_all(&mut *tx)
                        .await?;
                    for row in &rows {
                        use sqlx::Row;
                        let key = |project: &str| -> Result<RollupKey, sqlx::Error> {
                            Ok(RollupKey {
                                hour_start: row.try_get(0)?,
                                provider: row.try_get(1)?,
                                model: row.try_get(2)?,
                                project: project.to_string(),
                                agent: row.try_get(3)?,
                                session_type: row.try_get(4)?,
                                source: row.try_get(5)?,
                            })
                        };
                        let totals = Self::totals_from_row(row, 6)?;
                        deltas.subtract(key(&subject.project)?, totals);
                        deltas.add(key(new_project)?, totals);
                    }
                    let done = sqlx::query(&update_sql)
                        .bind(&label)
                        .bind(&key_name)
                        .bind(&workspace)
                        .bind(&subject.project)
                        .bind(new_project)
                        .bind(chrono::Utc::now().timestamp_millis())
                        .execute(&mut *tx)
                        .await?;
                    changed += done.rows_affected();
                }
                Self::apply_deltas(&mut *tx, deltas).await?;
                tx.commit().await?;
                Ok(changed)
            }

            async fn records_between(
                &self,
                start: chrono::DateTime<chrono::Utc>,
                end: chrono::DateTime<chrono::Utc>,
                after_id: i64,
                limit: i64,
            ) -> Result<Vec<$crate::domain::usage::UsageRecord>, $crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM usage_records WHERE recorded_at_ms >= $1 AND recorded_at_ms < $2 \
                     AND id > $3 ORDER BY id LIMIT $4",
                    $crate::store::records::RECORD_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(start.timestamp_millis())
                    .bind(end.timestamp_millis())
                    .bind(after_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::record_from_row).collect()
            }

            async fn update_costs(&self, changes: &[$crate::store::CostChange]) -> Result<(), $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                let mut tx = self.pool.begin().await?;
                let mut deltas = $crate::store::RollupDeltas::default();
                for change in changes {
                    let Some(mut record) = Self::fetch_record(&mut *tx, change.id).await? else {
                        return Err($crate::store::StoreError::NotFound);
                    };
                    deltas.subtract_record(&record);
                    record.cost = change.cost;
                    record.computed_cost = change.computed_cost;
                    record.price_ref = change.price_ref.clone();
                    record.unpriced = change.unpriced;
                    deltas.add_record(&record);
                    sqlx::query(
                        "UPDATE usage_records SET cost_pico = $1, computed_cost_pico = $2, price_ref = $3, \
                         unpriced = $4, updated_at_ms = $5 WHERE id = $6",
                    )
                    .bind(change.cost.0)
                    .bind(change.computed_cost.map(|c| c.0))
                    .bind(change.price_ref.as_deref())
                    .bind(change.unpriced)
                    .bind(chrono::Utc::now().timestamp_millis())
                    .bind(change.id)
                    .execute(&mut *tx)
                    .await?;
                }
                Self::apply_deltas(&mut *tx, deltas).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn save_run(&self, run: &$crate::store::CollectionRun) -> Result<i64, $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                let sql = if run.id == 0 {
                    "INSERT INTO collection_runs (provider, trigger, status, started_at_ms, finished_at_ms, \
                     range_start_ms, range_end_ms, chunks, pages, buckets, records, created, updated, unchanged, \
                     error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                     RETURNING id"
                } else {
                    "UPDATE collection_runs SET provider = $1, trigger = $2, status = $3, started_at_ms = $4, \
                     finished_at_ms = $5, range_start_ms = $6, range_end_ms = $7, chunks = $8, pages = $9, \
                     buckets = $10, records = $11, created = $12, updated = $13, unchanged = $14, error = $15, \
                     duration_ms = $16 WHERE id = $17 RETURNING id"
                };
                let query = sqlx::query_scalar(sql)
                    .bind(&run.provider)
                    .bind(&run.trigger)
                    .bind(run.status.as_str())
                    .bind(run.started_at.timestamp_millis())
                    .bind(run.finished_at.map(|at| at.timestamp_millis()))
                    .bind(run.range_start.timestamp_millis())
                    .bind(run.range_end.timestamp_millis())
                    .bind(run.chunks)
                    .bind(run.pages)
                    .bind(run.buckets)
                    .bind(run.records)
                    .bind(run.created)
                    .bind(run.updated)
                    .bind(run.unchanged)
                    .bind(&run.error)
                    .bind(run.duration_ms);
                let query = if run.id == 0 { query } else { query.bind(run.id) };
                let id: Option<i64> = query.fetch_optional(&self.pool).await?;
                id.ok_or($crate::store::StoreError::NotFound)
            }

            async fn recent_runs(
                &self,
                provider: Option<&str>,
                limit: i64,
            ) -> Result<Vec<$crate::store::CollectionRun>, $crate::store::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT id, provider, trigger, status, started_at_ms, finished_at_ms, range_start_ms, \
                     range_end_ms, chunks, pages, buckets, records, created, updated, unchanged, error, duration_ms \
                     FROM collection_runs WHERE ($1 IS NULL OR provider = $1) ORDER BY id DESC LIMIT $2",
                )
                .bind(provider)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let corrupt = |what: &str| $crate::store::StoreError::Corrupt(format!("collection_runs.{what}"));
                let at = |ms: i64, what: &str| chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(what));
                rows.iter()
                    .map(|row| {
                        let int = |name: &str| row.try_get::<i64, _>(name);
                        Ok($crate::store::CollectionRun {
                            id: int("id")?,
                            provider: row.try_get("provider")?,
                            trigger: row.try_get("trigger")?,
                            status: $crate::store::RunStatus::parse(&row.try_get::<String, _>("status")?)
                                .ok_or_else(|| corrupt("status"))?,
                            started_at: at(int("started_at_ms")?, "started_at_ms")?,
                            finished_at: row
                                .try_get::<Option<i64>, _>("finished_at_ms")?
                                .map(|ms| at(ms, "finished_at_ms"))
                                .transpose()?,
                            range_start: at(int("range_start_ms")?, "range_start_ms")?,
                            range_end: at(int("range_end_ms")?, "range_end_ms")?,
                            chunks: int("chunks")?,
                            pages: int("pages")?,
                            buckets: int("buckets")?,
                            records: int("records")?,
                            created: int("created")?,
                            updated: int("updated")?,
                            unchanged: int("unchanged")?,
                            error: row.try_get("error")?,
                            duration_ms: row.try_get("duration_ms")?,
                        })
                    })
                    .collect()
            }

            async fn watermark(&self, provider: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, $crate::store::StoreError> {
                let ms: Option<i64> = sqlx::query_scalar("SELECT watermark_ms FROM provider_watermarks WHERE provider = $1")
                    .bind(provider)
                    .fetch_optional(&self.pool)
                    .await?;
                ms.map(|ms| {
                    chrono::DateTime::from_timestamp_millis(ms)
                        .ok_or_else(|| $crate::store::StoreError::Corrupt("provider_watermarks.watermark_ms".into()))
                })
                .transpose()
            }

            async fn advance_watermark(&self, provider: &str, to: chrono::DateTime<chrono::Utc>) -> Result<(), $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                sqlx::query(
                    "INSERT INTO provider_watermarks (provider, watermark_ms, updated_at_ms) VALUES ($1, $2, $3) \
                     ON CONFLICT (provider) DO UPDATE SET \
                     watermark_ms = CASE WHEN excluded.watermark_ms > provider_watermarks.watermark_ms \
                     THEN excluded.watermark_ms ELSE provider_watermarks.watermark_ms END, \
                     updated_at_ms = excluded.updated_at_ms",
                )
                .bind(provider)
                .bind(to.timestamp_millis())
                .bind(chrono::Utc::now().timestamp_millis())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn save_cv_push(&self, push: &$crate::store::CvPush) -> Result<i64, $crate::store::StoreError> {
                let _guard = self.write_guard().await;
                let sql = if push.id == 0 {
                    "INSERT INTO cv_pushes (date, timezone, revision, payload_hash, status, response_code, error, \
                     attempts, trigger, total_cost_cents, summary, attempted_at_ms, duration_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id"
                } else {
                    "UPDATE cv_pushes SET date = $1, timezone = $2, revision = $3, payload_hash = $4, status = $5, \
                     response_code = $6, error = $7, attempts = $8, trigger = $9, total_cost_cents = $10, \
                     summary = $11, attempted_at_ms = $12, duration_ms = $13 WHERE id = $14 RETURNING id"
                };
                let query = sqlx::query_scalar(sql)
                    .bind(push.date.format("%Y-%m-%d").to_string())
                    .bind(&push.timezone)
                    .bind(push.revision)
                    .bind(&push.payload_hash)
                    .bind(push.status.as_str())
                    .bind(push.response_code)
                    .bind(&push.error)
                    .bind(push.attempts)
                    .bind(&push.trigger)
                    .bind(push.total_cost_cents)
                    .bind(&push.summary)
                    .bind(push.attempted_at.timestamp_millis())
                    .bind(push.duration_ms);
                let query = if push.id == 0 { query } else { query.bind(push.id) };
                let id: Option<i64> = query.fetch_optional(&self.pool).await?;
                id.ok_or($crate::store::StoreError::NotFound)
            }

            async fn cv_pushes(
                &self,
                query: &$crate::store::CvPushQuery,
                limit: i64,
            ) -> Result<Vec<$crate::store::CvPush>, $crate::store::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT id, date, timezone, revision, payload_hash, status, response_code, error, attempts, \
                     trigger, total_cost_cents, summary, attempted_at_ms, duration_ms FROM cv_pushes \
                     WHERE ($1 IS NULL OR date = $1) AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(query.date.map(|d| d.format("%Y-%m-%d").to_string()))
                .bind(query.status.map(|s| s.as_str()))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let corrupt = |what: &str| $crate::store::StoreError::Corrupt(format!("cv_pushes.{what}"));
                rows.iter()
                    .map(|row| {
                        let int = |name: &str| row.try_get::<i64, _>(name);
                        let date: String = row.try_get("date")?;
                        Ok($crate::store::CvPush {
                            id: int("id")?,
                            date: chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| corrupt("date"))?,
                            timezone: row.try_get("timezone")?,
                            revision: int("revision")?,
                            payload_hash: row.try_get("payload_hash")?,
                            status: $crate::store::CvPushStatus::parse(&row.try_get::<String, _>("status")?)
                                .ok_or_else(|| corrupt("status"))?,
                            response_code: row.try_get("response_code")?,
                            error: row.try_get("error")?,
                            attempts: int("attempts")?,
                            trigger: row.try_get("trigger")?,
                            total_cost_cents: int("total_cost_cents")?,
                            summary: row.try_get("summary")?,
                            attempted_at: chrono::DateTime::from_timestamp_millis(int("attempted_at_ms")?)
                                .ok_or_else(|| corrupt("attempted_at_ms"))?,
                            duration_ms: row.try_get("duration_ms")?,
                        })
                    })
                    .collect()
            }

            async fn usage_page(
                &self,
                query: &$crate::store::UsageQuery,
                before: Option<(chrono::DateTime<chrono::Utc>, i64)>,
            ) -> Result<Vec<$crate::domain::usage::UsageRecord>, $crate::store::StoreError> {
                use $crate::store::records::*;
                // The end of the range and the cursor are one upper bound (`<= at`), so both
                // backends walk the (recorded_at_ms DESC, id DESC) index from there: every page
                // costs the same however deep the export is.
                let (clause, binds) = usage_where(query.start, None, &query.filters);
                let (at, id, limit) = (binds.len() + 1, binds.len() + 2, binds.len() + 3);
                let sql = format!(
                    "SELECT {RECORD_COLUMNS} FROM usage_records WHERE {clause} AND recorded_at_ms <= ${at} \
                     AND (recorded_at_ms < ${at} OR id < ${id}) ORDER BY recorded_at_ms DESC, id DESC LIMIT ${limit}"
                );
                let mut page = sqlx::query(&sql);
                for bind in binds {
                    page = match bind {
                        BindValue::Int(v) => page.bind(v),
                        BindValue::Text(v) => page.bind(v),
                    };
                }
                let (before_ms, before_id) = match before {
                    Some((at, id)) => (at.timestamp_millis(), id),
                    None => (query.end.map_or(i64::MAX, |end| end.timestamp_millis() - 1), i64::MAX),
                };
                let rows = page.bind(before_ms).bind(before_id).bind(query.limit).fetch_all(&self.pool).await?;
                rows.iter().map(Self::record_from_row).collect()
            }
        }
    };
}
pub(crate) use impl_sql_store;
