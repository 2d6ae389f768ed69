//! A run row never stays `running` after its process died: the next run (or the
//! next `serve` start) closes runs older than an hour as failed, on both backends,
//! and leaves a run that may still be going alone.

use chrono::{Duration, Utc};
use integration_tests::{both_stores, ledger, test_config};
use shared::collect::{CollectRequest, Collector, Trigger};
use shared::store::{CollectionRun, ImportRun, RunStatus};

fn collection_run(started_minutes_ago: i64) -> CollectionRun {
    let started = Utc::now() - Duration::minutes(started_minutes_ago);
    CollectionRun {
        id: 0,
        provider: "anthropic".into(),
        trigger: Trigger::Schedule,
        status: RunStatus::Running,
        started_at: started,
        finished_at: None,
        range_start: started - Duration::hours(3),
        range_end: started,
        chunks: 1,
        pages: 0,
        buckets: 0,
        records: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        error: None,
        duration_ms: None,
    }
}

#[tokio::test]
async fn the_next_run_closes_runs_a_dead_process_left_running() {
    for t in both_stores().await {
        let b = t.backend;
        let dead = t.store.save_run(&collection_run(120)).await.unwrap();
        let going = t.store.save_run(&collection_run(5)).await.unwrap();
        let import = t
            .store
            .save_import_run(&ImportRun {
                id: 0,
                importer: "openclaw".into(),
                root: "/srv/openclaw".into(),
                trigger: Trigger::Serve,
                status: RunStatus::Running,
                started_at: Utc::now() - Duration::hours(3),
                finished_at: None,
                files_scanned: 0,
                lines_read: 0,
                created: 0,
                updated: 0,
                unchanged: 0,
                skipped: 0,
                error: None,
                duration_ms: None,
            })
            .await
            .unwrap();

        // A run with no provider configured still closes them first.
        let collector = Collector::from_config(ledger(&t.store), &test_config("UTC"));
        collector
            .collect_once(CollectRequest::scheduled(Trigger::Schedule), Utc::now())
            .await
            .unwrap();

        let runs = t.store.recent_runs(Some("anthropic"), 10).await.unwrap();
        let status = |id: i64| runs.iter().find(|r| r.id == id).unwrap().clone();
        let closed = status(dead);
        assert_eq!(closed.status, RunStatus::Failed, "{b}");
        assert!(closed.finished_at.is_some(), "{b}");
        assert!(
            closed
                .error
                .as_deref()
                .unwrap()
                .contains("stopped without finishing"),
            "{b}"
        );
        assert_eq!(
            status(going).status,
            RunStatus::Running,
            "{b}: may still be going"
        );
        let imports = t.store.latest_import_runs().await.unwrap();
        let closed = imports.iter().find(|r| r.id == import).unwrap();
        assert_eq!(closed.status, RunStatus::Failed, "{b}");
    }
}
