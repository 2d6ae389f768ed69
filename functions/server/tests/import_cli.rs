//! `cost-tracker import`, the real binary, on both backends: the shared fixtures
//! give the totals their READMEs state, an OpenClaw root in both storage eras is
//! typed, labelled and summed exactly, re-runs read only what is new, and `--to`
//! sends the same records to a running `cost-tracker serve`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use integration_tests::serve::Server;
use integration_tests::{both_stores, TestStore};
use serde_json::{json, Value};
use shared::store::{Dimension, Filters, Grouping, Totals, UsageQuery};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/agent-logs")
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ct-import-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `cost-tracker import <args>` with exactly these variables (no `.env`, no
/// inherited database or transcript roots).
async fn import(env: Vec<(&'static str, String)>, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let dir = temp_dir("cwd");
        let mut command = Command::new(env!("CARGO_BIN_EXE_cost-tracker"));
        command.current_dir(&dir).arg("import").args(&args);
        for (name, _) in std::env::vars() {
            if name == "DATABASE_URL"
                || name.starts_with("OPENCLAW_")
                || name.starts_with("CLAUDE_")
                || name.starts_with("IMPORT_")
                || name == "COST_TRACKER_API_KEY"
            {
                command.env_remove(name);
            }
        }
        command
            .env("RUST_LOG", "warn")
            .envs(env)
            .output()
            .expect("run cost-tracker import")
    })
    .await
    .unwrap()
}

/// Imports `root` into `store` and returns the JSON report (the command must succeed).
async fn import_into(store: &TestStore, importer: &str, root: &Path) -> Value {
    let output = import(
        vec![("DATABASE_URL", store.url.clone())],
        vec![importer.into(), "--root".into(), root.display().to_string()],
    )
    .await;
    report(&output, true)
}

fn report(output: &Output, must_succeed: bool) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if must_succeed {
        assert!(
            output.status.success(),
            "import failed\nstdout: {stdout}\nstderr: {stderr}"
        );
    }
    serde_json::from_str(&stdout)
        .unwrap_or_else(|_| panic!("no JSON report\nstdout: {stdout}\nstderr: {stderr}"))
}

fn far() -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    (
        "2000-01-01T00:00:00Z".parse().unwrap(),
        "2100-01-01T00:00:00Z".parse().unwrap(),
    )
}

/// (calls, input, output, cache writes 5m + 1h, cache reads) from the rollups.
fn tokens(t: &Totals) -> (i64, i64, i64, i64, i64) {
    let small = |n: i128| i64::try_from(n).expect("a fixture's sums fit in 64 bits");
    (
        small(t.requests),
        small(t.input_tokens),
        small(t.output_tokens),
        small(t.cache_write_5m_tokens + t.cache_write_1h_tokens),
        small(t.cache_read_tokens),
    )
}

async fn total(store: &TestStore) -> Totals {
    let (start, end) = far();
    let rows = store
        .store
        .rollup_totals(start, end, &Filters::default(), Grouping::Total)
        .await
        .unwrap();
    let summed = rows.into_iter().map(|(_, t)| t).next().unwrap_or_default();
    let raw = store.store.raw_totals(start, end).await.unwrap();
    assert_eq!(
        summed, raw,
        "{}: rollups agree with the raw records",
        store.backend
    );
    summed
}

async fn by(
    store: &TestStore,
    dimension: Dimension,
) -> BTreeMap<String, (i64, i64, i64, i64, i64)> {
    let (start, end) = far();
    store
        .store
        .rollup_totals(start, end, &Filters::default(), Grouping::By(dimension))
        .await
        .unwrap()
        .into_iter()
        .map(|(key, t)| (key.value.unwrap_or_default(), tokens(&t)))
        .collect()
}

async fn records(store: &TestStore) -> Vec<shared::domain::usage::UsageRecord> {
    let query = UsageQuery {
        limit: 1_000,
        ..UsageQuery::default()
    };
    let (mut records, _) = store.store.list_usage(&query).await.unwrap();
    records.sort_by(|a, b| a.facts.external_id.cmp(&b.facts.external_id));
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_gives_the_totals_its_readme_states() {
    // (folder, calls, input, output, cache creation, cache read), from the READMEs.
    let cases = [
        ("ccusage/claude-cli-output", 5, 730, 310, 90, 110),
        ("ccusage/dedupe-most-complete", 1, 100, 250, 10, 5),
        ("ccusage/session-id-dedupe", 1, 10, 2, 0, 0),
        ("ccusage/subagent-progress", 3, 60, 6, 0, 0),
        ("claude-code-real", 4, 34, 424, 25250, 34474),
    ];
    for store in both_stores().await {
        for (folder, calls, input, output, write, read) in cases {
            let store = if store.backend == "sqlite" {
                integration_tests::sqlite_store().await
            } else {
                integration_tests::postgres_store().await
            };
            let root = fixtures().join(folder);
            let first = import_into(&store, "claude-code", &root).await;
            let want = (calls, input, output, write, read);
            assert_eq!(
                tokens(&total(&store).await),
                want,
                "{} {folder}",
                store.backend
            );
            assert_eq!(
                first["created"], calls,
                "{} {folder}: {first}",
                store.backend
            );
            let again = import_into(&store, "claude-code", &root).await;
            assert_eq!(
                again["lines_read"], 0,
                "{} {folder}: a re-run reads nothing: {again}",
                store.backend
            );
            assert_eq!(again["files_unchanged"], again["files_scanned"]);
            assert_eq!(
                tokens(&total(&store).await),
                want,
                "{} {folder} after a re-run",
                store.backend
            );
        }
        let _ = store;
    }
    // The real transcripts: main thread and sidechain apart (README table), $0.1114917 as ccusage.
    let store = integration_tests::sqlite_store().await;
    import_into(&store, "claude-code", &fixtures().join("claude-code-real")).await;
    let types = by(&store, Dimension::SessionType).await;
    assert_eq!(types["main"], (3, 30, 307, 12845, 34474));
    assert_eq!(types["subagent"], (1, 4, 117, 12405, 0));
    assert_eq!(
        total(&store).await.cost.0,
        111_491_700_000,
        "$0.1114917 in picodollars"
    );

    for (folder, calls, input, output, read) in [
        ("model-change", 1, 1660, 55, 108928),
        ("repeated-record", 1, 1, 1, 0),
    ] {
        let store = integration_tests::sqlite_store().await;
        let report = import_into(
            &store,
            "openclaw",
            &fixtures().join("openclaw").join(folder),
        )
        .await;
        assert_eq!(
            tokens(&total(&store).await),
            (calls, input, output, 0, read),
            "{folder}: {report}"
        );
    }
    let store = integration_tests::sqlite_store().await;
    import_into(
        &store,
        "openclaw",
        &fixtures().join("openclaw/model-change"),
    )
    .await;
    let record = &records(&store).await[0];
    assert_eq!(
        (record.facts.model.as_str(), record.provider.as_str()),
        ("gpt-5.2", "openai")
    );
    assert_eq!(
        record.facts.recorded_at.to_rfc3339(),
        "2026-01-30T06:18:55.279+00:00"
    );
    assert_eq!(
        record.facts.session_label.as_deref(),
        Some("agent:main:abc")
    );
}

// ---------------------------------------------------------------------------------
// An OpenClaw root in both storage eras, built here.

fn line(value: Value) -> String {
    format!("{value}\n")
}

fn assistant(id: &str, at: &str, model: &str, tokens: [i64; 5]) -> Value {
    let [input, output, read, write, write_1h] = tokens;
    json!({"type":"message","id":id,"parentId":null,"timestamp":at,"message":{"role":"assistant",
        "content":[{"type":"text","text":"done"}],"api":"anthropic-messages","provider":"anthropic","model":model,
        "responseId":format!("msg_{id}"),
        "usage":{"input":input,"output":output,"cacheRead":read,"cacheWrite":write,"cacheWrite1h":write_1h,
                 "totalTokens":input+output+read+write,"cost":{"total":0.01}},
        "stopReason":"stop","timestamp":chrono::DateTime::parse_from_rfc3339(at).unwrap().timestamp_millis()}})
}

fn user(id: &str, at: &str, text: &str) -> Value {
    json!({"type":"message","id":id,"timestamp":at,"message":{"role":"user","content":[{"type":"text","text":text}]}})
}

fn header(id: &str) -> Value {
    json!({"type":"session","version":3,"id":id,"timestamp":"2026-11-20T08:00:00.000Z","cwd":"/home/u"})
}

const SONNET: &str = "claude-sonnet-4-6";

/// Writes the JSONL-era agent `main` and the SQLite-era agent `ops` under `root`.
async fn openclaw_root(root: &Path) {
    let sessions = root.join("agents/main/sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::write(
        sessions.join("sessions.json"),
        json!({
            "agent:main:main": {"sessionId":"s-main","updatedAt":1},
            "agent:main:subagent:7f3c": {"sessionId":"s-sub","spawnedBy":"agent:main:main","label":"peakpaws-safety-review"},
            "agent:main:cron:nightly:run:r1": {"sessionId":"s-cron","label":"kanban-nightly"},
            "agent:main:main:heartbeat": {"sessionId":"s-hb","heartbeatIsolatedBaseSessionKey":"agent:main:main"}
        })
        .to_string(),
    )
    .unwrap();
    let main = [
        header("s-main"),
        json!({"type":"model_change","id":"mc","provider":"anthropic","modelId":SONNET}),
        user("u1", "2026-11-20T09:00:00.000Z", "Plan the day"),
        assistant(
            "a1",
            "2026-11-20T09:00:05.000Z",
            SONNET,
            [100, 20, 1000, 50, 10],
        ),
        user(
            "u2",
            "2026-11-20T10:00:00.000Z",
            "Read HEARTBEAT.md if it exists. Reply HEARTBEAT_OK.",
        ),
        assistant("a2", "2026-11-20T10:00:02.000Z", SONNET, [30, 5, 500, 0, 0]),
        user("u3", "2026-11-20T11:00:00.000Z", "Thanks"),
        json!({"type":"message","id":"e1","message":{"role":"assistant","stopReason":"error","provider":"anthropic",
               "model":SONNET,"usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0},"errorMessage":"fetch failed"}}),
        json!({"type":"message","id":"g1","message":{"role":"assistant","stopReason":"stop","provider":"openclaw",
               "model":"gateway-injected","usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0}}}),
        assistant("a3", "2026-11-20T11:00:03.000Z", SONNET, [40, 7, 0, 0, 0]),
    ];
    std::fs::write(sessions.join("s-main.jsonl"), main.map(line).concat()).unwrap();
    let sub = [
        header("s-sub"),
        assistant(
            "b1",
            "2026-11-20T09:30:00.000Z",
            SONNET,
            [200, 40, 0, 100, 0],
        ),
    ];
    std::fs::write(sessions.join("s-sub.jsonl"), sub.map(line).concat()).unwrap();
    let cron = [
        header("s-cron"),
        assistant("c1", "2026-11-20T02:00:00.000Z", SONNET, [300, 60, 0, 0, 0]),
    ];
    std::fs::write(sessions.join("s-cron.jsonl"), cron.map(line).concat()).unwrap();
    let hb = [
        header("s-hb"),
        assistant("h1", "2026-11-20T12:00:00.000Z", SONNET, [5, 1, 0, 0, 0]),
    ];
    std::fs::write(sessions.join("s-hb.jsonl"), hb.map(line).concat()).unwrap();
    // A reset archive whose session the store no longer names, and a compressed deleted one.
    let old = [
        header("s-old"),
        assistant("o1", "2026-11-19T09:00:00.000Z", SONNET, [11, 2, 0, 0, 0]),
    ];
    std::fs::write(
        sessions.join("s-old.jsonl.reset.2026-11-19T10:00:00.000Z"),
        old.map(line).concat(),
    )
    .unwrap();
    let gone = [
        header("s-gone"),
        assistant("d1", "2026-11-19T08:00:00.000Z", SONNET, [13, 3, 0, 0, 0]),
    ];
    let packed = ruzstd::encoding::compress_to_vec(
        gone.map(line).concat().as_bytes(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    std::fs::write(
        sessions.join("s-gone.jsonl.deleted.2026-11-19T11:00:00.000Z.zst"),
        packed,
    )
    .unwrap();

    // Agent `ops`: the SQLite store, with a compressed event and a migrated JSONL left behind.
    let agent = root.join("agents/ops/agent");
    std::fs::create_dir_all(&agent).unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        agent.join("openclaw-agent.sqlite").display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    for ddl in [
        "CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, \
         created_at INTEGER NOT NULL, event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT, \
         PRIMARY KEY (session_id, seq)) STRICT",
        "CREATE TABLE session_windows (session_id TEXT PRIMARY KEY, session_key TEXT NOT NULL, previous_session_id TEXT, \
         reason TEXT, created_at INTEGER, updated_at INTEGER, status TEXT, parent_session_key TEXT, spawned_by TEXT)",
        "CREATE TABLE session_nodes (session_key TEXT PRIMARY KEY, current_session_id TEXT, entry_json TEXT, \
         parent_session_key TEXT, spawned_by TEXT, label TEXT, display_name TEXT, last_activity_at INTEGER)",
    ] {
        sqlx::query(ddl).execute(&pool).await.unwrap();
    }
    let ops_main = [
        header("s-ops"),
        user("ou1", "2026-11-20T13:00:00.000Z", "Deploy"),
        assistant(
            "oa1",
            "2026-11-20T13:00:04.000Z",
            "claude-opus-4-5",
            [1000, 200, 5000, 300, 100],
        ),
    ];
    let mut long = assistant(
        "ob1",
        "2026-11-20T14:00:00.000Z",
        SONNET,
        [400, 900, 0, 0, 0],
    );
    long["message"]["content"][0]["text"] = json!("x".repeat(12_000));
    let ops_sub = [header("s-ops-sub"), long];
    for (session, events) in [
        ("s-ops", ops_main.to_vec()),
        ("s-ops-sub", ops_sub.to_vec()),
    ] {
        for (seq, event) in events.iter().enumerate() {
            let text = event.to_string();
            let (plain, packed): (Option<String>, Option<Vec<u8>>) = if text.len() > 8_000 {
                let packed = ruzstd::encoding::compress_to_vec(
                    text.as_bytes(),
                    ruzstd::encoding::CompressionLevel::Fastest,
                );
                (None, Some(packed))
            } else {
                (Some(text.clone()), None)
            };
            sqlx::query("INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(session)
                .bind(seq as i64 + 1)
                .bind(plain)
                .bind(1_763_640_000_000_i64)
                .bind(packed)
                .bind(text.len() as i64)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    for (id, key) in [
        ("s-ops", "agent:ops:main"),
        ("s-ops-sub", "agent:ops:subagent:u2"),
    ] {
        sqlx::query("INSERT INTO session_windows (session_id, session_key) VALUES ($1, $2)")
            .bind(id)
            .bind(key)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO session_nodes (session_key, current_session_id, entry_json, spawned_by, label) VALUES ($1, $2, $3, $4, $5)")
        .bind("agent:ops:subagent:u2")
        .bind("s-ops-sub")
        .bind(json!({"sessionId":"s-ops-sub","spawnedBy":"agent:ops:main"}).to_string())
        .bind("agent:ops:main")
        .bind("kanban-board-fix")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let archive = root.join("agents/ops/sessions/session-sqlite-import-archive");
    std::fs::create_dir_all(&archive).unwrap();
    std::fs::write(archive.join("s-ops.jsonl"), ops_main.map(line).concat()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openclaw_root_in_both_eras_is_typed_labelled_and_summed_exactly() {
    let root = temp_dir("openclaw");
    openclaw_root(&root).await;
    for store in both_stores().await {
        let report = import_into(&store, "openclaw", &root).await;
        let backend = store.backend;
        assert_eq!(report["errors"], json!([]), "{backend}: {report}");
        assert_eq!(
            report["skipped"]["error_turn"]["count"], 1,
            "{backend}: {report}"
        );
        assert_eq!(report["skipped"]["gateway_injected"]["count"], 1);
        // The migrated JSONL repeats the SQLite rows: counted once.
        assert_eq!(
            report["skipped"]["duplicate_call"]["count"], 1,
            "{backend}: {report}"
        );
        assert_eq!(report["created"], 10, "{backend}: {report}");

        let types = by(&store, Dimension::SessionType).await;
        assert_eq!(
            types["main"],
            (
                5,
                100 + 40 + 11 + 13 + 1000,
                20 + 7 + 2 + 3 + 200,
                50 + 300,
                1000 + 5000
            ),
            "{backend}"
        );
        assert_eq!(
            types["heartbeat"],
            (2, 30 + 5, 5 + 1, 0, 500),
            "{backend}: the HEARTBEAT turn and the isolated session"
        );
        assert_eq!(
            types["subagent"],
            (2, 200 + 400, 40 + 900, 100, 0),
            "{backend}"
        );
        assert_eq!(types["cron"], (1, 300, 60, 0, 0), "{backend}");
        let projects = by(&store, Dimension::Project).await;
        assert_eq!(
            projects["PeakPaws"].0, 1,
            "{backend}: the subagent's label maps to its project"
        );
        assert_eq!(
            projects["Kanban Board"].0, 2,
            "{backend}: the cron label and the SQLite node's label"
        );
        let agents = by(&store, Dimension::Agent).await;
        assert_eq!(agents["main"].0, 8);
        assert_eq!(agents["ops"].0, 2);

        let records = records(&store).await;
        let find = |id: &str| {
            records
                .iter()
                .find(|r| r.facts.external_id == id)
                .unwrap_or_else(|| panic!("{id}"))
        };
        let main_call = find("openclaw:main:s-main:a1");
        assert_eq!(
            main_call.facts.session_label.as_deref(),
            Some("agent:main:main")
        );
        assert_eq!(
            (
                main_call.facts.tokens.cache_write_5m,
                main_call.facts.tokens.cache_write_1h
            ),
            (40, 10)
        );
        assert_eq!(main_call.cost_source.as_str(), "computed");
        assert_eq!(
            find("openclaw:main:s-sub:b1")
                .facts
                .session_label
                .as_deref(),
            Some("peakpaws-safety-review")
        );
        assert_eq!(
            find("openclaw:main:s-old:o1")
                .facts
                .session_label
                .as_deref(),
            Some("agent:main:s-old")
        );
        assert_eq!(find("openclaw:main:s-gone:d1").facts.tokens.input, 13);
        let compressed = find("openclaw:ops:s-ops-sub:ob1");
        assert_eq!(
            (
                compressed.facts.tokens.output,
                compressed.session_type.as_str()
            ),
            (900, "subagent")
        );
        assert_eq!(compressed.project, "Kanban Board");
        assert_eq!(find("openclaw:ops:s-ops:oa1").session_type.as_str(), "main");
        assert_eq!(
            find("openclaw:main:s-main:a2").session_type.as_str(),
            "heartbeat"
        );
        assert_eq!(
            find("openclaw:main:s-cron:c1").session_type.as_str(),
            "cron"
        );

        let again = import_into(&store, "openclaw", &root).await;
        assert_eq!(again["lines_read"], 0, "{backend}: {again}");
        assert_eq!(again["created"], 0);
    }
}

// ---------------------------------------------------------------------------------
// Incremental runs.

fn claude_line(message: &str, request: Option<&str>, at: &str, output: i64) -> String {
    let mut value = json!({"type":"assistant","sessionId":"sess-1","timestamp":at,"version":"2.0.13","cwd":"/home/u/peakpaws-app",
        "isSidechain":false,"message":{"id":message,"model":"claude-sonnet-4-5-20250929","role":"assistant",
        "usage":{"input_tokens":10,"output_tokens":output,"cache_creation_input_tokens":0,"cache_read_input_tokens":100}}});
    if let Some(request) = request {
        value["requestId"] = json!(request);
    }
    format!("{value}\n")
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_runs_read_only_what_is_new_and_never_count_twice() {
    for store in both_stores().await {
        let backend = store.backend;
        let root = temp_dir("incremental");
        let project = root.join("projects/-home-u-peakpaws-app");
        std::fs::create_dir_all(&project).unwrap();
        let file = project.join("sess-1.jsonl");
        append(
            &file,
            &claude_line("msg_1", Some("req_1"), "2026-11-20T09:00:00Z", 5),
        );
        append(&file, "{\"type\":\"summary\",\"summary\":\"x\"}\n");
        let first = import_into(&store, "claude-code", &root).await;
        assert_eq!(
            (first["lines_read"].as_u64(), first["created"].as_u64()),
            (Some(2), Some(1)),
            "{backend}"
        );

        // New lines: the same call streamed on (more output), a new call, a malformed
        // line, and a last line still being written.
        append(
            &file,
            &claude_line("msg_1", Some("req_1"), "2026-11-20T09:00:01Z", 50),
        );
        append(
            &file,
            &claude_line("msg_2", Some("req_2"), "2026-11-20T09:05:00Z", 7),
        );
        append(&file, "{\"type\":\"assistant\",\"usage\": not json\n");
        let partial = claude_line("msg_3", Some("req_3"), "2026-11-20T09:06:00Z", 9);
        append(&file, &partial[..partial.len() / 2]);
        let second = import_into(&store, "claude-code", &root).await;
        assert_eq!(
            second["lines_read"], 4,
            "{backend}: only the new lines: {second}"
        );
        assert_eq!(
            (second["created"].as_u64(), second["updated"].as_u64()),
            (Some(1), Some(1)),
            "{backend}: {second}"
        );
        assert_eq!(second["skipped"]["malformed_json"]["count"], 1);
        let example = second["skipped"]["malformed_json"]["examples"][0]
            .as_str()
            .unwrap()
            .to_string();
        assert!(example.ends_with("sess-1.jsonl:5"), "{example}");
        assert_eq!(
            tokens(&total(&store).await),
            (2, 20, 57, 0, 200),
            "{backend}: the larger version counts, once"
        );

        // The last line completes: it is read again (from the cursor) and counted.
        append(&file, &partial[partial.len() / 2..]);
        let third = import_into(&store, "claude-code", &root).await;
        assert_eq!(
            (third["lines_read"].as_u64(), third["created"].as_u64()),
            (Some(1), Some(1)),
            "{backend}: {third}"
        );
        let unchanged = import_into(&store, "claude-code", &root).await;
        assert_eq!(unchanged["lines_read"], 0, "{backend}: {unchanged}");
        assert_eq!(tokens(&total(&store).await), (3, 30, 66, 0, 300));

        // A file replaced by a shorter one (rotated, rewritten) is read from the start
        // without counting again what it repeats.
        std::fs::write(
            &file,
            claude_line("msg_2", Some("req_2"), "2026-11-20T09:05:00Z", 7),
        )
        .unwrap();
        let replaced = import_into(&store, "claude-code", &root).await;
        assert_eq!(replaced["files_restarted"], 1, "{backend}: {replaced}");
        assert_eq!(
            (replaced["created"].as_u64(), replaced["unchanged"].as_u64()),
            (Some(0), Some(1))
        );
        assert_eq!(tokens(&total(&store).await), (3, 30, 66, 0, 300));

        // A call without a request id is one per session; the cursor is in the database.
        append(
            &file,
            &claude_line("msg_9", None, "2026-11-20T10:00:00Z", 1),
        );
        append(
            &file,
            &claude_line("msg_9", None, "2026-11-20T10:00:00Z", 1),
        );
        let fourth = import_into(&store, "claude-code", &root).await;
        assert_eq!(fourth["created"], 1, "{backend}: {fourth}");
        let cursors = store.store.import_cursors("claude-code").await.unwrap();
        assert_eq!(cursors.len(), 1);
        assert_eq!(
            cursors[0].position as u64,
            std::fs::metadata(&file).unwrap().len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_roots_files_and_stores_are_reported_and_the_rest_goes_on() {
    let store = integration_tests::sqlite_store().await;
    let root = temp_dir("bad");
    let sessions = root.join("agents/main/sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::create_dir_all(root.join("agents/broken/agent")).unwrap();
    std::fs::write(
        root.join("agents/broken/agent/openclaw-agent.sqlite"),
        b"this is not a database",
    )
    .unwrap();
    std::fs::write(
        sessions.join("s1.jsonl"),
        [
            line(assistant("a1", "2026-11-20T09:00:05.000Z", SONNET, [1, 2, 0, 0, 0])),
            "not json at all\n".into(),
            line(json!({"type":"message","id":"a2","message":{"role":"assistant","usage":{"input":3,"output":1}}})),
        ]
        .concat(),
    )
    .unwrap();
    let missing = root.join("does-not-exist");
    let output = import(
        vec![("DATABASE_URL", store.url.clone())],
        vec![
            "openclaw".into(),
            "--root".into(),
            root.display().to_string(),
            "--root".into(),
            missing.display().to_string(),
        ],
    )
    .await;
    assert!(
        !output.status.success(),
        "an unreadable root fails the command"
    );
    let report = report(&output, false);
    assert_eq!(
        report["unreadable_roots"][0]["path"],
        missing.display().to_string()
    );
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["skipped"]["malformed_json"]["count"], 1);
    assert_eq!(
        report["skipped"]["missing_field:message.model"]["count"], 1,
        "{report}"
    );
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["path"]
            .as_str()
            .unwrap()
            .ends_with("broken/agent/openclaw-agent.sqlite")),
        "{report}"
    );
    assert_eq!(tokens(&total(&store).await).0, 1, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_sends_the_same_records_to_a_running_tracker() {
    let root = fixtures().join("claude-code-real");
    let local = integration_tests::sqlite_store().await;
    import_into(&local, "claude-code", &root).await;

    let dir = temp_dir("remote");
    let url = format!("sqlite://{}", dir.join("remote.db").display());
    let server = Server::start(
        env!("CARGO_BIN_EXE_cost-tracker"),
        &dir,
        vec![("DATABASE_URL", url.clone())],
    );
    server.wait_for("/health", |v| v["status"] == "ok").await;
    let state = dir.join("state.json");
    let remote_args = vec![
        "claude-code".to_string(),
        "--root".into(),
        root.display().to_string(),
        "--to".into(),
        server.url(""),
        "--state".into(),
        state.display().to_string(),
    ];
    let key = vec![("COST_TRACKER_API_KEY", server.key.clone())];
    let first = report(&import(key.clone(), remote_args.clone()).await, true);
    assert_eq!(first["created"], 4, "{first}\n{}", server.log_text());
    let again = report(&import(key.clone(), remote_args.clone()).await, true);
    assert_eq!(
        again["lines_read"], 0,
        "cursors kept in the state file: {again}"
    );
    assert!(state.is_file());

    let remote = TestStore {
        backend: "sqlite",
        store: shared::store::open(&url).await.unwrap(),
        url,
    };
    let strip = |records: Vec<shared::domain::usage::UsageRecord>| {
        records
            .into_iter()
            .map(|r| {
                (
                    r.facts.external_id,
                    r.facts.tokens,
                    r.cost,
                    r.session_type,
                    r.facts.session_label,
                    r.agent,
                    r.project,
                    r.facts.model,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(records(&remote).await), strip(records(&local).await));

    let mut fresh_state = remote_args.clone();
    fresh_state[6] = dir.join("other-state.json").display().to_string();
    let wrong = report(
        &import(vec![("COST_TRACKER_API_KEY", "wrong".into())], fresh_state).await,
        true,
    );
    let error = wrong["errors"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("refused the API key") && !error.contains("wrong"),
        "{wrong}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_imports_on_its_schedule_and_status_shows_each_root() {
    let dir = temp_dir("serve");
    let root = dir.join("claude");
    let project = root.join("projects/-home-u-kanban-board");
    std::fs::create_dir_all(&project).unwrap();
    let file = project.join("sess-1.jsonl");
    append(
        &file,
        &claude_line("msg_1", Some("req_1"), "2026-11-20T09:00:00Z", 5),
    );
    let url = format!("sqlite://{}", dir.join("serve.db").display());
    let server = Server::start(
        env!("CARGO_BIN_EXE_cost-tracker"),
        &dir,
        vec![
            ("DATABASE_URL", url),
            ("IMPORT_CLAUDE_CODE_ROOTS", root.display().to_string()),
            ("IMPORT_INTERVAL_SECONDS", "1".into()),
        ],
    );
    let status = server
        .wait_for("/admin/status", |v| v["imports"][0]["created"] == 1)
        .await;
    let run = &status["imports"][0];
    assert_eq!(run["importer"], "claude-code");
    assert_eq!(run["root"], root.display().to_string());
    assert_eq!(
        (run["trigger"].as_str(), run["status"].as_str()),
        (Some("serve"), Some("succeeded"))
    );

    append(
        &file,
        &claude_line("msg_2", Some("req_2"), "2026-11-20T09:05:00Z", 7),
    );
    let records = server
        .wait_for(
            "/api/usage?start_date=2026-11-20&end_date=2026-11-20",
            |v| v["pagination"]["total"] == 2,
        )
        .await;
    let record = &records["records"][0];
    assert_eq!(
        (record["source"].as_str(), record["session_label"].as_str()),
        (Some("import"), Some("peakpaws-app"))
    );
    let status = server.get("/admin/status").await.unwrap();
    assert_eq!(
        status["imports"].as_array().unwrap().len(),
        1,
        "the last run of the one root: {status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidechain_replay_of_an_earlier_runs_call_counts_once() {
    for store in both_stores().await {
        let backend = store.backend;
        let root = temp_dir("replay");
        let session = root.join("projects/-home-u-app/sess-1");
        std::fs::create_dir_all(session.join("subagents")).unwrap();
        let parent = root.join("projects/-home-u-app/sess-1.jsonl");
        append(
            &parent,
            &claude_line("msg_parent", Some("req_1"), "2026-11-20T09:00:00Z", 40),
        );
        import_into(&store, "claude-code", &root).await;

        // Later: a side question replays the parent call (same message id, a new
        // request id, sidechain) and asks one call of its own.
        let side = session.join("subagents/agent-btw.jsonl");
        let mut replay: Value = serde_json::from_str(&claude_line(
            "msg_parent",
            Some("req_2"),
            "2026-11-20T09:10:00Z",
            40,
        ))
        .unwrap();
        replay["isSidechain"] = json!(true);
        let mut own: Value = serde_json::from_str(&claude_line(
            "msg_side",
            Some("req_3"),
            "2026-11-20T09:10:05Z",
            3,
        ))
        .unwrap();
        own["isSidechain"] = json!(true);
        append(&side, &format!("{replay}\n{own}\n"));
        let second = import_into(&store, "claude-code", &root).await;
        assert_eq!(
            second["skipped"]["sidechain_replay"]["count"], 1,
            "{backend}: {second}"
        );
        assert_eq!(
            second["created"], 1,
            "{backend}: the side question's own call counts"
        );
        let types = by(&store, Dimension::SessionType).await;
        assert_eq!(types["main"], (1, 10, 40, 0, 100), "{backend}");
        assert_eq!(types["subagent"], (1, 10, 3, 0, 100), "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_committed_midway_is_read_once_and_resumes_at_its_end() {
    let store = integration_tests::sqlite_store().await;
    let root = temp_dir("large");
    let project = root.join("projects/-home-u-big");
    std::fs::create_dir_all(&project).unwrap();
    let file = project.join("sess-1.jsonl");
    // More calls than one commit takes: the file's cursor moves midway, then at its end.
    let lines: String = (0..6_500)
        .map(|i| {
            claude_line(
                &format!("msg_{i}"),
                Some(&format!("req_{i}")),
                "2026-11-20T09:00:00Z",
                1,
            )
        })
        .collect();
    std::fs::write(&file, lines).unwrap();
    let first = import_into(&store, "claude-code", &root).await;
    assert_eq!(first["lines_read"], 6_500, "{first}");
    assert_eq!(
        (
            first["created"].as_u64(),
            first["skipped"].as_object().map(|s| s.len())
        ),
        (Some(6_500), Some(0)),
        "{first}"
    );
    let again = import_into(&store, "claude-code", &root).await;
    assert_eq!(
        (
            again["lines_read"].as_u64(),
            again["files_restarted"].as_u64()
        ),
        (Some(0), Some(0)),
        "{again}"
    );
    let cursors = store.store.import_cursors("claude-code").await.unwrap();
    assert_eq!(
        cursors[0].position as u64,
        std::fs::metadata(&file).unwrap().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_ledger_refuses_is_skipped_by_line_and_the_rest_stored() {
    for store in both_stores().await {
        let backend = store.backend;
        let root = temp_dir("refused");
        std::fs::create_dir_all(root.join("projects/-home-u-app")).unwrap();
        let file = root.join("projects/-home-u-app/sess-1.jsonl");
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        append(
            &file,
            &[
                claude_line("msg_a", Some("req_a"), "2026-11-20T09:00:00Z", 40),
                claude_line("msg_b", Some("req_b"), &tomorrow, 7),
                claude_line("msg_c", Some("req_c"), "2026-11-20T09:05:00Z", 2),
            ]
            .concat(),
        );
        let first = import_into(&store, "claude-code", &root).await;
        let refused = &first["skipped"]["rejected"];
        assert_eq!(refused["count"], 1, "{backend}: {first}");
        let example = refused["examples"][0].as_str().unwrap();
        assert!(
            example.starts_with(&format!("{}:2: recorded_at ", file.display()))
                && example.contains("in the future"),
            "{backend}: {example}"
        );
        assert_eq!(first["created"], 2, "{backend}: {first}");
        assert_eq!(
            tokens(&total(&store).await),
            (2, 20, 42, 0, 200),
            "{backend}"
        );
        let again = import_into(&store, "claude-code", &root).await;
        assert_eq!(
            again["lines_read"], 0,
            "{backend}: the cursor passed the file"
        );
    }
}
