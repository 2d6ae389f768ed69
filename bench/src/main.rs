//! `cost-tracker-bench`: the benchmark behind `make bench`. It fills a
//! fresh database through the product's own ingest path (the ledger and the
//! store's batch write, rollups included), then measures the running service and
//! prints one table of value / target / pass, also written as JSON.

mod measure;
mod workload;

use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shared::domain::pricing::PriceCatalog;
use shared::ledger::Ledger;
use shared::store::WriteMode;

#[derive(Parser)]
#[command(name = "cost-tracker-bench", about = "Benchmarks the AI Cost Tracker")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fill a database with synthetic usage through the ledger (migrating it first).
    Fill {
        #[arg(long, env = "BENCH_DATABASE_URL")]
        database_url: String,
        #[arg(long, env = "BENCH_EVENTS", default_value_t = 10_000_000)]
        events: u64,
        #[arg(long, env = "BENCH_DAYS", default_value_t = 120)]
        days: u32,
        /// Events per write (one transaction each).
        #[arg(long, default_value_t = 5_000)]
        batch: u64,
    },
    /// Fill, start `cost-tracker serve` and measure everything; the `make bench` entry point.
    Run(measure::RunArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Fill {
            database_url,
            events,
            days,
            batch,
        } => {
            let report = fill(&database_url, events, days, batch, chrono::Utc::now()).await?;
            println!(
                "{} events in {:.1} s: {:.0} events/s",
                report.events, report.seconds, report.rate
            );
            Ok(())
        }
        Command::Run(args) => measure::run(args).await,
    }
}

/// What a fill did.
pub struct FillReport {
    pub events: u64,
    pub seconds: f64,
    pub rate: f64,
}

/// Ingests `total` synthetic events ending at `end` in batches; two writers in
/// flight so generation and pricing overlap the database's work.
pub async fn fill(
    database_url: &str,
    total: u64,
    days: u32,
    batch: u64,
    end: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<FillReport> {
    let store = shared::store::open(database_url)
        .await
        .context("open the bench database")?;
    store.migrate().await.context("migrate")?;
    let ledger = Ledger::new(store, PriceCatalog::embedded(), "General");
    let clock = Instant::now();
    let mut last_report = Instant::now();
    let mut in_flight: Option<tokio::task::JoinHandle<anyhow::Result<()>>> = None;
    let mut first = 0;
    while first < total {
        let count = batch.min(total - first);
        let events = workload::events("bench", first, count, total, days, end);
        let ledger = ledger.clone();
        let task = tokio::spawn(async move {
            ledger.ingest(events, WriteMode::InsertOnly).await?;
            Ok(())
        });
        if let Some(previous) = in_flight.replace(task) {
            previous.await??;
        }
        first += count;
        if last_report.elapsed().as_secs() >= 10 {
            last_report = Instant::now();
            eprintln!(
                "  filled {first} of {total} ({:.0} events/s)",
                first as f64 / clock.elapsed().as_secs_f64()
            );
        }
    }
    if let Some(last) = in_flight {
        last.await??;
    }
    let seconds = clock.elapsed().as_secs_f64();
    Ok(FillReport {
        events: total,
        seconds,
        rate: total as f64 / seconds,
    })
}
