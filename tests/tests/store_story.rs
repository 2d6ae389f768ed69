//! One store story, run on SQLite and on Postgres, with identical results:
//! insert, idempotent re-insert, conflict, upsert, rollups equal raw records,
//! re-tagging after a rule change, delete.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use integration_tests::{both_stores, ledger, TestStore};
use rust_decimal::Decimal;
use serde_json::json;
use shared::domain::usage::{NewUsage, Source, TokenCounts};
use shared::store::{
    Dimension, Filters, Grouping, StoreError, Totals, UsageQuery, WriteMode, WriteStatus,
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn event(id: &str, model: &str, label: &str, when: &str, input: i64, output: i64) -> NewUsage {
    NewUsage {
        source: Source::Push,
        external_id: id.into(),
        recorded_at: at(when),
        bucket_seconds: 0,
        provider: "anthropic".into(),
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
        session_type: None,
        session_id: None,
        agent: Some("openclaw".into()),
        project: None,
        api_key_id: None,
        api_key_name: None,
        workspace_id: None,
        workspace_name: None,
        reported_cost: None,
        raw: json!({"event_id": id, "model": model, "input": input, "output": output, "label": label}),
    }
}

fn pulled(input: i64) -> NewUsage {
    NewUsage {
        source: Source::Anthropic,
        external_id:
            "2026-11-10T13:00:00Z|claude-sonnet-4-5-20250929|apikey_1|default|standard|0-200k"
                .into(),
        bucket_seconds: 3600,
        api_key_name: Some("kanban-prod".into()),
        session_label: None,
        agent: None,
        raw: json!({"uncached_input_tokens": input}),
        ..event(
            "unused",
            "claude-sonnet-4-5-20250929",
            "",
            "2026-11-10T13:00:00Z",
            input,
            10_000,
        )
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
    changed.raw = json!({"event_id": "e2", "different": true});
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
