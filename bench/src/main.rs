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

/// What filling the bill did.
pub struct BillReport {
    pub buckets: u64,
    pub seconds: f64,
    /// Share of the pushed events that fall in billed cells.
    pub billed_share: f64,
}

/// Stores the bill of the collected provider for every hour of the first
/// `billed_days` days of the fill's span (its models' pushed usage, see
/// [`workload::bill_buckets`]), 7 days per collected chunk, each chunk's hours
/// covered: as `cost-tracker collect` stores what the admin API reports.
pub async fn fill_bill(
    database_url: &str,
    total: u64,
    days: u32,
    billed_days: u32,
    end: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<BillReport> {
    use std::collections::BTreeMap;
    let store = shared::store::open(database_url)
        .await
        .context("open the bench database")?;
    let ledger = Ledger::new(store, PriceCatalog::embedded(), "General");
    let clock = Instant::now();
    let start = end - chrono::Duration::days(i64::from(days));
    let start_hour = start.timestamp().div_euclid(3600) * 3600;
    let billed_end = start_hour + i64::from(billed_days) * 86_400;
    // The pushed tokens per (hour, model) of the provider, from the same events.
    let mut cells: BTreeMap<(i64, String), shared::domain::usage::TokenCounts> = BTreeMap::new();
    let mut in_billed = 0u64;
    let mut first = 0;
    while first < total {
        let count = 100_000.min(total - first);
        for event in workload::events("bench", first, count, total, days, end) {
            let hour = event.facts.recorded_at.timestamp().div_euclid(3600) * 3600;
            if event.provider.as_deref() != Some(workload::BILLED_PROVIDER)
                || hour < start_hour
                || hour >= billed_end
            {
                continue;
            }
            in_billed += 1;
            let t = cells.entry((hour, event.facts.model.clone())).or_default();
            *t += &event.facts.tokens;
        }
        first += count;
    }
    let mut buckets = 0;
    let chunk = 7 * 86_400;
    let mut chunk_start = start_hour;
    while chunk_start < billed_end {
        let chunk_end = (chunk_start + chunk).min(billed_end);
        let batch: Vec<_> = cells
            .range((chunk_start, String::new())..(chunk_end, String::new()))
            .flat_map(|((hour, model), tokens)| {
                let at = chrono::DateTime::from_timestamp(*hour, 0).unwrap_or_default();
                workload::bill_buckets(at, model, tokens)
            })
            .collect();
        buckets += batch.len() as u64;
        let coverage =
            shared::store::Coverage::of_range(workload::BILLED_PROVIDER, chunk_start, chunk_end);
        ledger.ingest_collected(batch, &coverage).await?;
        eprintln!(
            "  billed up to {}",
            chrono::DateTime::from_timestamp(chunk_end, 0).unwrap_or_default()
        );
        chunk_start = chunk_end;
    }
    Ok(BillReport {
        buckets,
        seconds: clock.elapsed().as_secs_f64(),
        billed_share: in_billed as f64 / total.max(1) as f64,
    })
}
