//! One store story, run on SQLite and on Postgres, with identical results:
//! insert, idempotent re-insert, conflict, upsert, rollups equal raw records,
//! re-tagging after a rule change, delete.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use integration_tests::{both_stores, ledger, TestStore};
use rust_decimal::Decimal;
use serde_json::json;
use shared::domain::usage::{NewUsage, Source, TokenCounts, UsageFacts, UsageRecord};
use shared::store::{
    Dimension, Filters, Grouping, StoreError, Totals, UsageQuery, WriteMode, WriteStatus,
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn event(id: &str, model: &str, label: &str, when: &str, input: i64, output: i64) -> NewUsage {
    NewUsage {
        facts: UsageFacts {
            source: Source::Push,
            external_id: id.into(),
            recorded_at: at(when),
            bucket_seconds: 0,
            model: model.into(),
            tokens: TokenCounts {
                input,
                output,
                cache_read: 1_000,
                cache_write_5m: 100,
                requests: 1,
                ..Default::default()
            },
            service_tier: None,
            context_window: None,
            inference_geo: None,
            session_label: Some(label.into()),
            session_id: None,
            api_key_id: None,
            api_key_name: None,
            workspace_id: None,
            workspace_name: None,
            raw: json!({"event_id": id, "model": model, "input": input, "output": output, "label": label}),
        },
        provider: Some("anthropic".into()),
        session_type: None,
        agent: Some("openclaw".into()),
        project: None,
        reported_cost: None,
        estimated_cost: None,
    }
}

fn pulled(input: i64) -> NewUsage {
    let base = event(
        "unused",
        "claude-sonnet-4-5-20250929",
        "",
        "2026-11-10T13:00:00Z",
        input,
        10_000,
    );
    NewUsage {
        facts: UsageFacts {
            source: Source::Anthropic,
            external_id:
                "2026-11-10T13:00:00Z|claude-sonnet-4-5-20250929|apikey_1|default|standard|0-200k"
                    .into(),
            bucket_seconds: 3600,
            api_key_name: Some("kanban-prod".into()),
            session_label: None,
            raw: json!({"uncached_input_tokens": input}),
            ..base.facts
        },
        agent: None,
        ..base
    }
}

/// Rollup sums by project must equal sums computed from every raw record.
async fn assert_rollups_match_raw(
    t: &TestStore,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> BTreeMap<String, Totals> {
    let rolled = t
        .store
        .rollup_totals(
            start,
            end,
            &Filters::default(),
            Grouping::By(Dimension::Project),
        )
        .await
        .unwrap();
    let rolled: BTreeMap<String, Totals> = rolled
        .into_iter()
        .map(|(k, v)| (k.value.unwrap(), v))
        .collect();
    let query = UsageQuery {
        start: Some(start),
        end: Some(end),
        limit: 10_000,
        ..Default::default()
    };
    let (records, total) = t.store.list_usage(&query).await.unwrap();
    assert_eq!(total as usize, records.len());
    let mut raw: BTreeMap<String, Totals> = BTreeMap::new();
    for record in &records {
        *raw.entry(record.project.clone()).or_default() += Totals::of(record);
    }
    assert_eq!(
        rolled, raw,
        "{}: rollups differ from raw records",
        t.backend
    );
    // The same for every dimension, over the range and over one with partial days.
    assert_dims_match_raw(t, start, end).await;
    // Nov 10 12:00 – Nov 12 03:00 and Nov 10 13:00 – Nov 12 01:00: a whole day (Nov 11)
    // from day rows, and edges whose hours hold (or just miss) records.
    for (from, to) in [(9 * 24 + 12, 18 * 24 + 21), (9 * 24 + 13, 18 * 24 + 23)] {
        let (a, b) = (
            start + chrono::Duration::hours(from),
            end - chrono::Duration::hours(to),
        );
        assert_dims_match_raw(t, a, b).await;
    }
    let all = t
        .store
        .rollup_totals(start, end, &Filters::default(), Grouping::Total)
        .await
        .unwrap();
    assert_eq!(
        all[0].1,
        t.store.raw_totals(start, end).await.unwrap(),
        "{}: total",
        t.backend
    );
    rolled
}

/// Every one-dimension rollup (whole UTC days from day rows, the edges from hour
/// rows), hourly, and the full rollup rows behind a filter agree with raw records.
async fn assert_dims_match_raw(t: &TestStore, start: DateTime<Utc>, end: DateTime<Utc>) {
    let query = UsageQuery {
        start: Some(start),
        end: Some(end),
        limit: 10_000,
        ..Default::default()
    };
    let (records, _) = t.store.list_usage(&query).await.unwrap();
    for dim in [
        Dimension::Provider,
        Dimension::Model,
        Dimension::Project,
        Dimension::Agent,
        Dimension::SessionType,
        Dimension::Source,
    ] {
        let value = |r: &shared::domain::usage::UsageRecord| match dim {
            Dimension::Provider => r.provider.clone(),
            Dimension::Model => r.model_key.clone(),
            Dimension::Project => r.project.clone(),
            Dimension::Agent => r.agent.clone().unwrap_or_default(),
            Dimension::SessionType => r.session_type.as_str().to_string(),
            Dimension::Source => r.facts.source.as_str().to_string(),
        };
        let mut by_value: BTreeMap<String, Totals> = BTreeMap::new();
        let mut by_hour: BTreeMap<(i64, String), Totals> = BTreeMap::new();
        for record in &records {
            *by_value.entry(value(record)).or_default() += Totals::of(record);
            let hour = shared::store::rollup_hour(record.facts.recorded_at);
            *by_hour.entry((hour, value(record))).or_default() += Totals::of(record);
        }
        let grouped = |rows: Vec<(shared::store::GroupKey, Totals)>| -> BTreeMap<String, Totals> {
            rows.into_iter()
                .map(|(k, v)| (k.value.unwrap_or_default(), v))
                .collect()
        };
        let unfiltered = t
            .store
            .rollup_totals(start, end, &Filters::default(), Grouping::By(dim))
            .await
            .unwrap();
        assert_eq!(grouped(unfiltered), by_value, "{}: {dim:?}", t.backend);
        let hourly: BTreeMap<(i64, String), Totals> = t
            .store
            .rollup_totals(start, end, &Filters::default(), Grouping::HourBy(dim))
            .await
            .unwrap()
            .into_iter()
            .map(|(k, v)| {
                (
                    (k.hour.unwrap().timestamp(), k.value.unwrap_or_default()),
                    v,
                )
            })
            .collect();
        assert_eq!(hourly, by_hour, "{}: hourly {dim:?}", t.backend);
        let mut filtered: BTreeMap<String, Totals> = BTreeMap::new();
        for source in ["push", "import", "anthropic", "openai"] {
            let only = Filters {
                source: Some(source.into()),
                ..Filters::default()
            };
            for (k, v) in t
                .store
                .rollup_totals(start, end, &only, Grouping::By(dim))
                .await
                .unwrap()
            {
                *filtered.entry(k.value.unwrap_or_default()).or_default() += v;
            }
        }
        assert_eq!(filtered, by_value, "{}: filtered {dim:?}", t.backend);
    }
}

async fn story(t: &TestStore) -> Vec<String> {
    let ledger = ledger(&t.store);
    let (start, end) = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));
    let mut log = Vec::new();

    // 1. Insert three events.
    let batch = vec![
        event(
            "e1",
            "claude-opus-4-5-20251101",
            "peakpaws-safety-review",
            "2026-11-10T12:15:00Z",
            1_000,
            2_000,
        ),
        event(
            "e2",
            "claude-opus-4-5",
            "kanban-triage",
            "2026-11-10T12:45:00Z",
            3_000,
            500,
        ),
        event(
            "e3",
            "mystery-model-9",
            "misc-research",
            "2026-11-11T08:00:00Z",
            10,
            10,
        ),
    ];
    let out = ledger
        .ingest(batch.clone(), WriteMode::InsertOnly)
        .await
        .unwrap();
    assert!(out.iter().all(|o| o.status == WriteStatus::Created));
    // e1: 1000×5 + 2000×25 + 1000×0.5 + 100×6.25 = 56,125 µ$ per million → $0.056125
    assert_eq!(
        out[0].record.cost.usd(),
        "0.056125".parse::<Decimal>().unwrap()
    );
    assert_eq!(out[0].record.project, "PeakPaws");
    assert!(out[2].record.unpriced);
    log.push(format!(
        "{:?}",
        assert_rollups_match_raw(t, start, end).await
    ));

    // 2. The same batch again changes nothing.
    let again = ledger
        .ingest(batch.clone(), WriteMode::InsertOnly)
        .await
        .unwrap();
    assert!(again.iter().all(|o| o.status == WriteStatus::Unchanged));
    assert_eq!(again[0].record.id, out[0].record.id);
    let after = assert_rollups_match_raw(t, start, end).await;
    assert_eq!(
        format!("{after:?}"),
        log[0],
        "{}: re-insert changed totals",
        t.backend
    );

    // 3. A batch with a new event and a conflicting one stores nothing.
    let mut changed = batch[1].clone();
    changed.facts.raw = json!({"event_id": "e2", "different": true});
    let conflict = ledger
        .ingest(
            vec![
                event(
                    "e4",
                    "claude-haiku-4-5",
                    "kanban-x",
                    "2026-11-12T01:00:00Z",
                    5,
                    5,
                ),
                changed,
            ],
            WriteMode::InsertOnly,
        )
        .await;
    assert!(
        matches!(conflict, Err(StoreError::Conflict { index: 1, .. })),
        "{}: {conflict:?}",
        t.backend
    );
    assert_eq!(t.store.raw_totals(start, end).await.unwrap().records, 3);

    // 4. A pulled bucket is upserted: the second figure replaces the first.
    let first = ledger
        .ingest(vec![pulled(100_000)], WriteMode::Upsert)
        .await
        .unwrap();
    assert_eq!(first[0].status, WriteStatus::Created);
    assert_eq!(first[0].record.project, "Kanban Board");
    let second = ledger
        .ingest(vec![pulled(250_000)], WriteMode::Upsert)
        .await
        .unwrap();
    assert_eq!(second[0].status, WriteStatus::Updated);
    let same = ledger
        .ingest(vec![pulled(250_000)], WriteMode::Upsert)
        .await
        .unwrap();
    assert_eq!(same[0].status, WriteStatus::Unchanged);
    let totals = assert_rollups_match_raw(t, start, end).await;
    assert_eq!(totals["Kanban Board"].input_tokens, 3_000 + 250_000);
    // Hourly bucket of 250k+ tokens stays at standard rates (not long-context):
    // 250000×3 + 10000×15 + 1000×0.30 + 100×3.75 = 900,675 / 1e6 → $0.900675
    assert_eq!(
        second[0].record.cost.usd(),
        "0.900675".parse::<Decimal>().unwrap()
    );
    log.push(format!("{totals:?}"));

    // 5. A new rule re-tags rule-attributed records and their rollups.
    t.store.create_rule("misc-*", "Research", 10).await.unwrap();
    let retag = ledger.apply_rules().await.unwrap();
    assert_eq!((retag.subjects_changed, retag.records_changed), (1, 1));
    let totals = assert_rollups_match_raw(t, start, end).await;
    assert!(
        totals.contains_key("Research") && !totals.contains_key("General"),
        "{totals:?}"
    );
    log.push(format!("{totals:?}"));

    // 6. Delete removes a record and its rollup share.
    assert!(t.store.delete_usage(out[0].record.id).await.unwrap());
    assert!(!t.store.delete_usage(out[0].record.id).await.unwrap());
    let totals = assert_rollups_match_raw(t, start, end).await;
    assert!(!totals.contains_key("PeakPaws"));
    log.push(format!("{totals:?}"));
    log
}

#[tokio::test]
async fn the_store_story_runs_identically_on_both_backends() {
    let mut logs = Vec::new();
    for t in both_stores().await {
        logs.push((t.backend, story(&t).await));
    }
    assert_eq!(logs[0].1, logs[1].1, "sqlite and postgres disagree");
}

#[tokio::test]
async fn repricing_reports_changes_and_keeps_rollups_exact() {
    for t in both_stores().await {
        let ledger = ledger(&t.store);
        let mut e = event(
            "r1",
            "claude-haiku-4-5",
            "x",
            "2026-11-03T10:00:00Z",
            1_000_000,
            0,
        );
        e.reported_cost = Some("1.5".parse().unwrap());
        ledger
            .ingest(
                vec![
                    e,
                    event(
                        "r2",
                        "claude-3-5-haiku-20241022",
                        "x",
                        "2026-11-03T10:00:00Z",
                        1_000_000,
                        0,
                    ),
                ],
                WriteMode::InsertOnly,
            )
            .await
            .unwrap();
        // Same catalog: nothing changes, and the reported cost stays the figure totals use.
        let report = ledger
            .reprice(at("2026-11-01T00:00:00Z"), at("2026-11-05T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!(
            (report.records_checked, report.records_changed),
            (2, 0),
            "{}",
            t.backend
        );
        let total = t
            .store
            .raw_totals(at("2026-11-01T00:00:00Z"), at("2026-11-05T00:00:00Z"))
            .await
            .unwrap();
        // 1.5 reported + Haiku 3.5: 1e6×0.80 + 1000×0.08 + 100×1 = 800,180 / 1e6 → 0.80018
        assert_eq!(
            total.cost.usd(),
            "2.30018".parse::<Decimal>().unwrap(),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn concurrent_pushes_share_commits_and_fail_alone() {
    for t in both_stores().await {
        let ledger = ledger(&t.store);
        // 60 concurrent single-event pushes (one repeated twice, one conflicting)
        // and two batches, all at once: the group-commit writer merges them.
        let mut tasks = Vec::new();
        for i in 0..60 {
            let ledger = ledger.clone();
            tasks.push(tokio::spawn(async move {
                let id = if i == 59 {
                    "c-0".to_string()
                } else {
                    format!("c-{i}")
                };
                let input = if i == 58 { 7 } else { 1_000 };
                let id = if i == 58 { "c-1".to_string() } else { id };
                ledger
                    .ingest(
                        vec![event(
                            &id,
                            "claude-haiku-4-5",
                            "kanban-x",
                            "2026-11-10T12:15:00Z",
                            input,
                            10,
                        )],
                        WriteMode::InsertOnly,
                    )
                    .await
            }));
        }
        let batch: Vec<NewUsage> = (100..130)
            .map(|i| {
                event(
                    &format!("c-{i}"),
                    "claude-haiku-4-5",
                    "kanban-x",
                    "2026-11-10T12:15:00Z",
                    1_000,
                    10,
                )
            })
            .collect();
        let batch_task = {
            let ledger = ledger.clone();
            tokio::spawn(async move { ledger.ingest(batch, WriteMode::InsertOnly).await })
        };
        let mut created = 0;
        let mut conflicts = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(outcomes) => {
                    assert_eq!(outcomes.len(), 1, "{}: one outcome per event", t.backend);
                    created += usize::from(outcomes[0].status == WriteStatus::Created);
                }
                Err(StoreError::Conflict { index, external_id }) => {
                    assert_eq!((index, external_id.as_str()), (0, "c-1"));
                    conflicts.push(i);
                }
                Err(other) => panic!("{}: {other}", t.backend),
            }
        }
        let batch = batch_task.await.unwrap().unwrap();
        assert_eq!(batch.len(), 30);
        assert!(batch.iter().all(|o| o.status == WriteStatus::Created));
        // c-0 twice with the same content: stored once; c-1 twice with different
        // content: whichever came second is the one conflict.
        assert_eq!(conflicts.len(), 1, "{}", t.backend);
        assert_eq!(created, 58, "{}", t.backend);
        let (start, end) = (at("2026-11-10T00:00:00Z"), at("2026-11-11T00:00:00Z"));
        let totals = t.store.raw_totals(start, end).await.unwrap();
        assert_eq!(totals.records, 88, "{}", t.backend);
        assert_rollups_match_raw(&t, start, end).await;
    }
}

/// Resolves events into records ready for the store (priced, attributed).
async fn records(ledger: &shared::ledger::Ledger, events: Vec<NewUsage>) -> Vec<UsageRecord> {
    let rules = ledger.rules().await.unwrap();
    events
        .into_iter()
        .map(|e| ledger.resolve(e, &rules))
        .collect()
}

#[tokio::test]
async fn deferred_rollups_are_counted_at_once_and_folded_exactly_once() {
    for t in both_stores().await {
        let ledger = ledger(&t.store);
        let (start, end) = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));
        let label = |i: usize| ["kanban-a", "peakpaws-b", "misc-c"][i % 3];
        let new = |i: usize| {
            event(
                &format!("d-{i}"),
                ["claude-opus-4-5", "claude-haiku-4-5", "mystery-model-9"][i % 3],
                label(i),
                &format!("2026-11-{:02}T{:02}:20:00Z", 10 + i % 2, 20 + i % 4),
                1_000 + i as i64,
                10 * i as i64,
            )
        };
        // New keys only (on Postgres: the one-statement path), then a batch mixing a
        // stored key (same content), new keys and a key repeated within the batch
        // (the general path).
        let first = t
            .store
            .write_usage_deferred(records(&ledger, (0..6).map(new).collect()).await)
            .await
            .unwrap();
        assert!(first.iter().all(|o| o.status == WriteStatus::Created));
        assert!(first.iter().all(|o| o.record.id > 0), "{}", t.backend);
        let mixed = records(&ledger, vec![new(0), new(6), new(7), new(7)]).await;
        let second = t.store.write_usage_deferred(mixed).await.unwrap();
        let statuses: Vec<_> = second.iter().map(|o| o.status).collect();
        assert_eq!(
            statuses,
            [
                WriteStatus::Unchanged,
                WriteStatus::Created,
                WriteStatus::Created,
                WriteStatus::Unchanged
            ],
            "{}",
            t.backend
        );
        assert_eq!(second[0].record.id, first[0].record.id);
        let pending = t.store.pending_rollups().await.unwrap();
        assert!(pending >= 8, "{}: {pending} pending deltas", t.backend);
        // Nothing folded yet, and every report already counts all 8 records.
        assert_eq!(t.store.raw_totals(start, end).await.unwrap().records, 8);
        assert_rollups_match_raw(&t, start, end).await;

        // A conflict stores nothing and appends nothing.
        let mut changed = new(3);
        changed.facts.tokens.input += 1;
        changed.facts.raw = json!({"changed": true});
        let err = t
            .store
            .write_usage_deferred(records(&ledger, vec![new(8), changed]).await)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { index: 1, .. }),
            "{err}"
        );
        assert_eq!(t.store.pending_rollups().await.unwrap(), pending);
        assert_eq!(t.store.raw_totals(start, end).await.unwrap().records, 8);

        // Changes to records whose deltas are still pending: re-pricing (no record
        // leaves its row), re-tagging (records move project) and a delete.
        let target = first[1].record.clone();
        let change = shared::store::CostChange {
            id: target.id,
            model_key: target.model_key.clone(),
            provider: target.provider.clone(),
            cost: shared::domain::money::Pico(target.cost.0 + 7),
            cost_source: target.cost_source,
            computed_cost: target.computed_cost,
            price_ref: target.price_ref.clone(),
            unpriced: target.unpriced,
            before: target.clone(),
        };
        let changed = ledger
            .store()
            .update_costs(std::slice::from_ref(&change))
            .await
            .unwrap();
        assert_eq!(changed, vec![target.id], "{}", t.backend);
        assert_rollups_match_raw(&t, start, end).await;
        // The same change again finds the record changed already: nothing moves twice.
        let again = ledger.store().update_costs(&[change]).await.unwrap();
        assert!(again.is_empty(), "{}", t.backend);
        assert_rollups_match_raw(&t, start, end).await;
        ledger
            .store()
            .create_rule("kanban-*", "Kanban Two", 50)
            .await
            .unwrap();
        let retagged = ledger.apply_rules().await.unwrap();
        assert!(retagged.records_changed >= 2, "{}", t.backend);
        assert_rollups_match_raw(&t, start, end).await;
        assert!(t.store.delete_usage(first[2].record.id).await.unwrap());
        let by_project = assert_rollups_match_raw(&t, start, end).await;
        assert!(by_project.contains_key("Kanban Two"), "{by_project:?}");
        assert_eq!(t.store.raw_totals(start, end).await.unwrap().records, 7);

        // More pending deltas, then the fold: all of them move, once.
        t.store
            .write_usage_deferred(records(&ledger, (9..12).map(new).collect()).await)
            .await
            .unwrap();
        let before = assert_rollups_match_raw(&t, start, end).await;
        let left = t.store.pending_rollups().await.unwrap();
        assert!(left > 0, "{}", t.backend);
        assert_eq!(t.store.fold_pending_rollups().await.unwrap(), left);
        assert_eq!(t.store.pending_rollups().await.unwrap(), 0);
        assert_eq!(t.store.fold_pending_rollups().await.unwrap(), 0);
        assert_eq!(
            assert_rollups_match_raw(&t, start, end).await,
            before,
            "{}",
            t.backend
        );
        assert_eq!(t.store.raw_totals(start, end).await.unwrap().records, 10);
    }
}

#[tokio::test]
async fn with_a_folder_running_concurrent_pushes_defer_and_end_up_in_the_rollups() {
    for t in both_stores().await {
        let ledger = ledger(&t.store);
        ledger.start_rollup_folder();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let ledger = ledger.clone();
            tasks.push(tokio::spawn(async move {
                let event = event(
                    &format!("f-{i}"),
                    ["claude-opus-4-5", "claude-sonnet-4-5"][i % 2],
                    ["kanban-a", "peakpaws-b"][i % 2],
                    "2026-11-10T12:15:00Z",
                    100,
                    10,
                );
                ledger.ingest(vec![event], WriteMode::InsertOnly).await
            }));
        }
        for task in tasks {
            let out = task.await.unwrap().unwrap();
            assert_eq!(out[0].status, WriteStatus::Created);
        }
        let (start, end) = (at("2026-11-10T00:00:00Z"), at("2026-11-11T00:00:00Z"));
        // Counted at once, whatever the folder has done so far.
        assert_eq!(t.store.raw_totals(start, end).await.unwrap().records, 200);
        assert_rollups_match_raw(&t, start, end).await;
        // The folder empties the pending table on its own.
        let clock = std::time::Instant::now();
        while t.store.pending_rollups().await.unwrap() > 0 {
            assert!(
                clock.elapsed() < std::time::Duration::from_secs(20),
                "{}: the folder left deltas pending",
                t.backend
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let totals = assert_rollups_match_raw(&t, start, end).await;
        assert_eq!(totals.values().map(|v| v.records).sum::<i64>(), 200);
    }
}
