//! `cost-tracker-bench run`: prepare a fresh database, fill it, start the real
//! `cost-tracker serve`, measure each performance target, print one table and
//! write it as JSON.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};

use crate::workload;

#[derive(clap::Args)]
pub struct RunArgs {
    /// `postgres` or `sqlite`.
    #[arg(long, env = "BENCH_DB", default_value = "postgres")]
    db: String,
    #[arg(long, env = "BENCH_EVENTS", default_value_t = 10_000_000)]
    events: u64,
    #[arg(long, env = "BENCH_DAYS", default_value_t = 120)]
    days: u32,
    /// Seconds of sustained batch ingest.
    #[arg(long, env = "BENCH_INGEST_SECS", default_value_t = 60)]
    ingest_secs: u64,
    /// Requests per query endpoint (after warm-up).
    #[arg(long, env = "BENCH_QUERIES", default_value_t = 200)]
    queries: usize,
    /// Postgres server for the bench database (`ct_bench` is dropped and re-created).
    #[arg(
        long,
        env = "BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// The release binaries and outputs live here.
    #[arg(long, env = "CARGO_TARGET_DIR", default_value = "target")]
    target_dir: PathBuf,
    /// Reuse the database of a previous run (skips the fill).
    #[arg(long)]
    reuse: bool,
    /// Measure only these parts (comma-separated): startup, queries, batch, single,
    /// collect, lambda, zips. Default: all of them.
    #[arg(long, env = "BENCH_ONLY", value_delimiter = ',')]
    only: Vec<String>,
}

impl RunArgs {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// One line of the result table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub item: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: String,
    pub pass: bool,
}

fn at_most(item: impl Into<String>, value: f64, unit: &'static str, limit: f64) -> Row {
    Row {
        item: item.into(),
        value,
        unit,
        target: format!("<= {limit}"),
        pass: value <= limit,
    }
}

fn at_least(item: impl Into<String>, value: f64, unit: &'static str, limit: f64) -> Row {
    Row {
        item: item.into(),
        value,
        unit,
        target: format!(">= {limit}"),
        pass: value >= limit,
    }
}

const API_KEY: &str = "bench-key";

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let out_dir = args.target_dir.join("bench");
    std::fs::create_dir_all(&out_dir)?;
    let database_url = prepare_database(&args, &out_dir).await?;
    let mut rows = Vec::new();
    let now = Utc::now();
    if !args.reuse {
        eprintln!(
            "filling {} events over {} days ({})…",
            args.events, args.days, args.db
        );
        let fill = crate::fill(&database_url, args.events, args.days, 5_000, now).await?;
        eprintln!("  {:.0} events/s ({:.0} s)", fill.rate, fill.seconds);
        rows.push(Row {
            item: format!("fill {} events (ledger batch write, rollups)", args.events),
            value: fill.rate.round(),
            unit: "events/s",
            target: "(info)".into(),
            pass: true,
        });
        let billed_days = args.days.saturating_sub(10);
        let bill =
            crate::fill_bill(&database_url, args.events, args.days, billed_days, now).await?;
        eprintln!(
            "  {} bucket-groups billed ({:.0} s)",
            bill.buckets, bill.seconds
        );
        rows.push(Row {
            item: format!(
                "fill the bill: {} hourly bucket-groups over {billed_days} days (collected chunks, settled)",
                bill.buckets
            ),
            value: (bill.seconds * 10.0).round() / 10.0,
            unit: "s",
            target: "(info)".into(),
            pass: true,
        });
        rows.push(Row {
            item: "pushed events in billed cells".into(),
            value: (bill.billed_share * 1000.0).round() / 10.0,
            unit: "%",
            target: "(info)".into(),
            pass: true,
        });
    }

    let server_bin = args.target_dir.join("release/cost-tracker");
    let mut server = Server::start(&server_bin, &database_url, &out_dir)?;
    let startup = server.wait_healthy(Duration::from_secs(30)).await?;
    if args.wants("startup") {
        rows.push(at_most(
            "serve: exec to first 200 on /health",
            (startup.as_secs_f64() * 1e4).round() / 10.0,
            "ms",
            100.0,
        ));
        tokio::time::sleep(Duration::from_millis(500)).await;
        rows.push(at_most(
            "serve: idle RSS",
            server.rss_mb("VmRSS"),
            "MB",
            60.0,
        ));
    }

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let base = server.base.clone();
    let end = now.date_naive();
    let start = end - chrono::Duration::days(89);
    let range = format!("start={start}&end={end}");
    let reports = [
        (
            "GET /costs/by-model (90 days)",
            format!("/costs/by-model?{range}"),
        ),
        (
            "GET /costs/by-project (90 days)",
            format!("/costs/by-project?{range}"),
        ),
        (
            "GET /costs/range?group_by=day (90 days, UTC)",
            format!("/costs/range?{range}&group_by=day&tz=UTC"),
        ),
        (
            "GET /costs/range?group_by=day (90 days, America/Chicago)",
            format!("/costs/range?{range}&group_by=day&tz=America/Chicago"),
        ),
        (
            "GET /costs/summary/monthly",
            "/costs/summary/monthly".to_string(),
        ),
        (
            "GET /costs/reconciliation?group_by=day (90 days, UTC)",
            format!("/costs/reconciliation?{range}&group_by=day&tz=UTC"),
        ),
        (
            "GET /costs/reconciliation?group_by=day (90 days, America/Chicago)",
            format!("/costs/reconciliation?{range}&group_by=day&tz=America/Chicago"),
        ),
        (
            "GET /costs/by-model?basis=raw (90 days)",
            format!("/costs/by-model?{range}&basis=raw"),
        ),
    ];
    for (name, path) in reports.into_iter().filter(|_| args.wants("queries")) {
        let latencies = query_latencies(&client, &format!("{base}{path}"), args.queries).await?;
        rows.push(at_most(
            format!("{name} p50"),
            percentile(&latencies, 50.0),
            "ms",
            20.0,
        ));
        rows.push(at_most(
            format!("{name} p99"),
            percentile(&latencies, 99.0),
            "ms",
            50.0,
        ));
    }

    // Ids unique to this run, so a reused database never sees an id twice.
    let run = Utc::now().timestamp_millis();
    if args.wants("batch") {
        let batch_rate = ingest(
            &client,
            &base,
            &format!("batch-{run}"),
            1_000,
            4,
            Duration::from_secs(args.ingest_secs),
        )
        .await?;
        rows.push(at_least(
            "POST /api/usage, 1,000 events per request",
            batch_rate,
            "events/s",
            25_000.0,
        ));
    }
    if args.wants("single") {
        let single_secs = (args.ingest_secs / 3).max(5);
        let before = CpuSplit::read(server.child.id());
        let single_rate = ingest(
            &client,
            &base,
            &format!("single-{run}"),
            1,
            16,
            Duration::from_secs(single_secs),
        )
        .await?;
        rows.push(at_least(
            "POST /api/usage, single events, 16 connections",
            single_rate,
            "events/s",
            5_000.0,
        ));
        let after = CpuSplit::read(server.child.id());
        rows.extend(after.since(&before, "single events"));
    }
    if args.wants("batch") || args.wants("single") {
        rows.push(at_most(
            "serve: peak RSS (ingest included)",
            server.rss_mb("VmHWM"),
            "MB",
            250.0,
        ));
    }
    drop(server);

    if args.wants("collect") {
        rows.push(collection(&args.target_dir, &database_url, &out_dir).await?);
    }
    if args.wants("lambda") {
        rows.extend(lambda_cold_starts(&args.target_dir, &database_url, &out_dir).await?);
    }
    if args.wants("zips") {
        rows.extend(zip_sizes(&args.target_dir));
    }

    print_table(&rows);
    let json = json!({
        "database": args.db,
        "events": args.events,
        "days": args.days,
        "measured_at": Utc::now(),
        "machine": machine(),
        "results": rows,
    });
    let path = out_dir.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
    println!("\nwritten to {}", path.display());
    Ok(())
}

/// A fresh database of the chosen backend; its URL.
async fn prepare_database(args: &RunArgs, out_dir: &std::path::Path) -> anyhow::Result<String> {
    match args.db.as_str() {
        "sqlite" => {
            let path = out_dir.join("bench.db");
            if !args.reuse {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Ok(format!("sqlite://{}", path.display()))
        }
        "postgres" => {
            use sqlx::Connection;
            let (base, _) = args
                .postgres_url
                .rsplit_once('/')
                .context("BENCH_POSTGRES_URL has no database")?;
            if !args.reuse {
                let mut admin = sqlx::PgConnection::connect(&args.postgres_url)
                    .await
                    .context("connect to BENCH_POSTGRES_URL")?;
                sqlx::query("DROP DATABASE IF EXISTS ct_bench WITH (FORCE)")
                    .execute(&mut admin)
                    .await?;
                sqlx::query("CREATE DATABASE ct_bench")
                    .execute(&mut admin)
                    .await?;
            }
            Ok(format!("{base}/ct_bench"))
        }
        other => bail!("BENCH_DB must be postgres or sqlite, not {other}"),
    }
}

/// Sequential requests after a warm-up; each latency in ms.
async fn query_latencies(
    client: &reqwest::Client,
    url: &str,
    n: usize,
) -> anyhow::Result<Vec<f64>> {
    let send = || client.get(url).header("x-api-key", API_KEY).send();
    for _ in 0..5 {
        let reply = send().await?;
        if !reply.status().is_success() {
            bail!(
                "{url}: HTTP {} {}",
                reply.status(),
                reply.text().await.unwrap_or_default()
            );
        }
        reply.bytes().await?;
    }
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let clock = Instant::now();
        let reply = send().await?;
        reply.bytes().await?;
        latencies.push(clock.elapsed().as_secs_f64() * 1e3);
    }
    Ok(latencies)
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    (sorted[rank.min(sorted.len() - 1)] * 100.0).round() / 100.0
}

/// `clients` concurrent clients POST batches of `per_request` new events for
/// `duration`; events stored per second (201s only).
async fn ingest(
    client: &reqwest::Client,
    base: &str,
    prefix: &str,
    per_request: u64,
    clients: u64,
    duration: Duration,
) -> anyhow::Result<f64> {
    let next = Arc::new(AtomicU64::new(0));
    let stored = Arc::new(AtomicU64::new(0));
    let clock = Instant::now();
    let deadline = clock + duration;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, next, stored) = (client.clone(), next.clone(), stored.clone());
        let prefix = prefix.to_string();
        let url = format!("{base}/api/usage");
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let first = next.fetch_add(per_request, Ordering::Relaxed);
                // Recent events (the last day), as live traffic would be.
                let events =
                    workload::events(&prefix, first, per_request, u64::MAX / 2, 1, Utc::now());
                let body: Vec<Value> = events.iter().map(workload::event_json).collect();
                let body = if per_request == 1 {
                    body[0].clone()
                } else {
                    Value::Array(body)
                };
                let reply = client
                    .post(&url)
                    .header("x-api-key", API_KEY)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await?;
                let status = reply.status();
                let text = reply.text().await?;
                if status.as_u16() != 201 {
                    bail!(
                        "POST /api/usage: HTTP {status}: {}",
                        text.chars().take(300).collect::<String>()
                    );
                }
                stored.fetch_add(per_request, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((stored.load(Ordering::Relaxed) as f64 / clock.elapsed().as_secs_f64()).round())
}

/// The real server, killed on drop.
struct Server {
    child: Child,
    started: Instant,
    base: String,
}

impl Server {
    fn start(
        binary: &std::path::Path,
        database_url: &str,
        out_dir: &std::path::Path,
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(out_dir.join("serve.log"))?;
        let started = Instant::now();
        let child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("API_KEY", API_KEY)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| {
                format!(
                    "start {} (run `make bench`, which builds it)",
                    binary.display()
                )
            })?;
        Ok(Server {
            child,
            started,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Time from exec to the first 200 on `/health`.
    async fn wait_healthy(&mut self, limit: Duration) -> anyhow::Result<Duration> {
        let client = reqwest::Client::new();
        while self.started.elapsed() < limit {
            if let Ok(reply) = client.get(format!("{}/health", self.base)).send().await {
                if reply.status().is_success() {
                    return Ok(self.started.elapsed());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("cost-tracker serve exited: {status}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        bail!("cost-tracker serve did not answer /health within {limit:?}")
    }

    /// `VmRSS` (now) or `VmHWM` (peak) of the server, in MB.
    fn rss_mb(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kb: f64 = status
            .lines()
            .find(|line| line.starts_with(field))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        (kb / 1024.0 * 10.0).round() / 10.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cost-tracker collect --provider anthropic`: a first 30-day hourly backfill of
/// 20 groups per hour from the local fake provider, exec to exit, into a fresh
/// database of the same backend.
async fn collection(
    target: &std::path::Path,
    database_url: &str,
    out_dir: &std::path::Path,
) -> anyhow::Result<Row> {
    use integration_tests::fake_providers::{FakeConfig, FakeProviders};
    let fake = FakeProviders::start(FakeConfig {
        max_buckets_per_page: 168,
        ..FakeConfig::with_now(Utc::now())
    })
    .await;
    let url = fresh_sibling(database_url, "ct_bench_collect", out_dir).await?;
    // Migrate first, so the measurement is the collection alone.
    shared::store::open(&url).await?.migrate().await?;
    let binary = target.join("release/cost-tracker");
    let key = fake.state.config().anthropic_key.clone();
    let base = fake.url.clone();
    let clock = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(binary)
            .args(["collect", "--provider", "anthropic"])
            .env_clear()
            .env("DATABASE_URL", url)
            .env("ANTHROPIC_ADMIN_KEY", key)
            .env("ANTHROPIC_BASE_URL", base)
            .env("RUST_LOG", "warn")
            .output()
    })
    .await??;
    let seconds = clock.elapsed().as_secs_f64();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let provider = &report["providers"][0];
    if !output.status.success() || provider["outcome"] != "succeeded" {
        bail!(
            "cost-tracker collect failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    eprintln!(
        "  collection: {} bucket-groups in {seconds:.2} s",
        provider["records"]
    );
    Ok(at_most(
        format!(
            "collect: 30-day hourly backfill, 20 groups/hour ({} bucket-groups)",
            provider["records"]
        ),
        (seconds * 100.0).round() / 100.0,
        "s",
        3.0,
    ))
}

/// Another fresh database beside the bench one (same backend).
async fn fresh_sibling(
    database_url: &str,
    name: &str,
    out_dir: &std::path::Path,
) -> anyhow::Result<String> {
    if database_url.starts_with("sqlite") {
        let path = out_dir.join(format!("{name}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        return Ok(format!("sqlite://{}", path.display()));
    }
    use sqlx::Connection;
    let (base, _) = database_url
        .rsplit_once('/')
        .context("database URL has no name")?;
    let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres")).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    Ok(format!("{base}/{name}"))
}

/// Each Lambda binary (release build), from exec to its first answered invocation
/// through a local fake of the Runtime API, minus the database connect (measured
/// separately as the time to open a pool and ping).
async fn lambda_cold_starts(
    target: &std::path::Path,
    database_url: &str,
    out_dir: &std::path::Path,
) -> anyhow::Result<Vec<Row>> {
    use integration_tests::fake_lambda_runtime::{Answer, FakeLambdaRuntime};
    if !database_url.starts_with("postgres") {
        // The Lambdas require Postgres; measured on the Postgres run.
        return Ok(Vec::new());
    }
    let clock = Instant::now();
    shared::store::open(database_url).await?.ping().await?;
    let connect_ms = clock.elapsed().as_secs_f64() * 1e3;
    let apigw: Value = serde_json::from_str(&std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/apigw-v2-by-model.json"
    ))?)?;
    let mut apigw = apigw;
    apigw["headers"]["x-api-key"] = json!(API_KEY);
    let invalid = json!({"action": "nothing"});
    let mut rows = vec![Row {
        item: "database connect (pool + ping), subtracted below".into(),
        value: (connect_ms * 10.0).round() / 10.0,
        unit: "ms",
        target: "(info)".into(),
        pass: true,
    }];
    for (binary, event) in [
        ("query-api", apigw),
        ("collector", invalid.clone()),
        ("cv-sync", invalid),
    ] {
        let runtime = FakeLambdaRuntime::start().await;
        let path = target.join("release").join(binary);
        let function = runtime.spawn(
            path.to_str().context("binary path")?,
            &[
                ("DATABASE_URL", database_url.to_string()),
                ("API_KEY", API_KEY.to_string()),
            ],
            &out_dir.join(format!("{binary}.log")),
        );
        // Any answer counts (the manual events are refused on purpose: no work, just start-up).
        let answer = runtime.invoke(event, Duration::from_secs(30)).await;
        let elapsed_ms = function.started.elapsed().as_secs_f64() * 1e3;
        if let Answer::Response(response) = &answer {
            if binary == "query-api" && response["statusCode"] != 200 {
                bail!("query-api answered {response}");
            }
        }
        rows.push(at_most(
            format!("{binary}: exec to first answered invocation, minus connect"),
            ((elapsed_ms - connect_ms).max(0.0) * 10.0).round() / 10.0,
            "ms",
            50.0,
        ));
    }
    Ok(rows)
}

/// The arm64 Lambda zips of `make package`, if built.
fn zip_sizes(target: &std::path::Path) -> Vec<Row> {
    ["query-api", "collector", "cv-sync"]
        .iter()
        .map(|binary| {
            let path = target.join("lambda").join(binary).join("bootstrap.zip");
            match std::fs::metadata(&path) {
                Ok(meta) => at_most(
                    format!("{binary}: Lambda zip (make package)"),
                    (meta.len() as f64 / 1e6 * 100.0).round() / 100.0,
                    "MB",
                    10.0,
                ),
                Err(_) => Row {
                    item: format!("{binary}: Lambda zip not built ({})", path.display()),
                    value: f64::NAN,
                    unit: "MB",
                    target: "<= 10".into(),
                    pass: false,
                },
            }
        })
        .collect()
}

/// Where the machine's CPU time went: all cores (from `/proc/stat`), the server
/// and this process (the load generator), in clock ticks.
struct CpuSplit {
    busy: u64,
    total: u64,
    server: u64,
    generator: u64,
}

impl CpuSplit {
    fn read(server_pid: u32) -> CpuSplit {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let total: u64 = fields.iter().sum();
        // idle + iowait are not busy.
        let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
        CpuSplit {
            busy: total - idle,
            total,
            server: process_ticks(&server_pid.to_string()),
            generator: process_ticks("self"),
        }
    }

    /// Info rows: the share of the machine (both cores = 100 %) each part used.
    fn since(&self, before: &CpuSplit, phase: &str) -> Vec<Row> {
        let total = (self.total - before.total).max(1) as f64;
        let share = |ticks: u64| (ticks as f64 / total * 1000.0).round() / 10.0;
        let busy = self.busy - before.busy;
        let server = self.server - before.server;
        let generator = self.generator - before.generator;
        [
            ("CPU busy, all cores", busy),
            ("  of which cost-tracker serve", server),
            ("  of which the load generator", generator),
            (
                "  of which the rest (database, system)",
                busy.saturating_sub(server + generator),
            ),
        ]
        .into_iter()
        .map(|(item, ticks)| Row {
            item: format!("{item} during {phase}"),
            value: share(ticks),
            unit: "%",
            target: "(info)".into(),
            pass: true,
        })
        .collect()
    }
}

/// utime + stime of a process (`self` or a pid), in clock ticks.
fn process_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `state`.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let at = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime: fields 14 and 15 of the line, 11 and 12 (from 0) after the name.
    at(11) + at(12)
}

fn machine() -> Value {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string());
    json!({"cpus": cpus, "cpu": model})
}

fn print_table(rows: &[Row]) {
    let width = rows.iter().map(|r| r.item.len()).max().unwrap_or(10);
    println!(
        "\n{:width$}  {:>12} {:<9} {:>10}  result",
        "item", "value", "unit", "target"
    );
    for row in rows {
        println!(
            "{:width$}  {:>12} {:<9} {:>10}  {}",
            row.item,
            row.value,
            row.unit,
            row.target,
            if row.target == "(info)" {
                ""
            } else if row.pass {
                "PASS"
            } else {
                "FAIL"
            }
        );
    }
}
