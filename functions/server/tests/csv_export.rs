//! A large `GET /api/usage?format=csv` from the real `cost-tracker serve`: over 200,000
//! records stream out page by page while the server's peak memory stays flat (a body
//! built in memory first, or all records loaded at once, would add well over 100 MB).

use std::process::Command;

use integration_tests::serve::{multiply_sqlite_records, Server};

/// Peak resident memory of a process, in KiB (`VmHWM`), after which `reset` starts over.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// Makes the peak start again from the current resident size.
fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset VmHWM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_usage_export_streams_in_flat_memory() {
    let dir = std::env::temp_dir().join(format!("ct-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("export.db").display());
    let binary = env!("CARGO_BIN_EXE_cost-tracker");
    let demo = Command::new(binary)
        .current_dir(&dir)
        .args(["demo", "--days", "30"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    multiply_sqlite_records(&url, 27).await;

    let server = Server::start(
        binary,
        &dir,
        vec![("DATABASE_URL", url), ("RUST_LOG", "warn".into())],
    );
    let today = chrono::Utc::now().date_naive();
    let range = format!(
        "start_date={}&end_date={today}",
        today - chrono::Days::new(40)
    );
    let listed = server
        .wait_for(&format!("/api/usage?{range}&limit=1"), |b| {
            b["pagination"]["total"].is_number()
        })
        .await;
    let total = listed["pagination"]["total"].as_u64().unwrap();
    assert!(total > 200_000, "{total} records");

    let client = reqwest::Client::new();
    let export = |query: String| {
        client
            .get(server.url(&format!("/api/usage?{query}&format=csv")))
            .header("x-api-key", &server.key)
            .send()
    };
    // Warm up (pool, statement cache, allocator), then measure from here.
    let warm = export(format!("{range}&model=gpt-4o-mini")).await.unwrap();
    assert!(warm.status().is_success());
    warm.bytes().await.unwrap();
    reset_peak(server.pid());
    let before = peak_kib(server.pid());

    let started = std::time::Instant::now();
    let mut reply = export(range.clone()).await.unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "text/csv; charset=utf-8");
    let (mut bytes, mut lines, mut chunks) = (0_u64, 0_u64, 0_u64);
    let mut first_chunk = None;
    while let Some(chunk) = reply.chunk().await.unwrap() {
        first_chunk.get_or_insert_with(|| started.elapsed());
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        chunks += 1;
    }
    let elapsed = started.elapsed();
    let growth_mib = (peak_kib(server.pid()).saturating_sub(before)) as f64 / 1024.0;
    let first_ms = first_chunk.unwrap().as_millis();
    eprintln!(
        "CSV export: {total} records, {:.1} MB in {chunks} chunks, first bytes after {first_ms} ms, \
         all in {} ms ({:.0} records/s, {:.1} MB/s); server peak memory grew {growth_mib:.1} MiB",
        bytes as f64 / 1e6,
        elapsed.as_millis(),
        total as f64 / elapsed.as_secs_f64(),
        bytes as f64 / 1e6 / elapsed.as_secs_f64(),
    );
    assert_eq!(lines, total + 1, "a header and one line per record");
    assert!(bytes > 60_000_000, "{bytes} bytes");
    assert!(
        growth_mib < 40.0,
        "the server's peak memory grew {growth_mib:.1} MiB during a {:.0} MB export: is the body buffered?",
        bytes as f64 / 1e6
    );
    assert!(
        first_ms * 5 < elapsed.as_millis(),
        "the first bytes came after {first_ms} ms of {} ms: the body is not streamed",
        elapsed.as_millis()
    );
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}
