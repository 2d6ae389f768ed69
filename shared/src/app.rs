//! Start-up wiring shared by every deployable: open the store, build the ledger
//! and the HTTP state, load demo data.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{Config, Secret};
use crate::domain::pricing::PriceCatalog;
use crate::http::AppState;
use crate::ledger::Ledger;
use crate::store::{self, DynStore, StoreError, WriteMode, WriteStatus};

/// Opens the configured store (migrating when asked) and builds the ledger.
pub async fn open_ledger(config: &Config, migrate: bool) -> Result<Ledger, StoreError> {
    let store: DynStore = store::open(config.database_url.expose()).await?;
    if migrate {
        store.migrate().await?;
    }
    Ok(Ledger::new(
        store,
        PriceCatalog::embedded(),
        config.default_project.clone(),
    ))
}

/// The HTTP state for a ledger and the key clients must present.
pub fn app_state(config: Config, ledger: Ledger, api_key: Secret) -> AppState {
    AppState {
        collector: crate::collect::Collector::from_config(ledger.clone(), &config),
        syncer: crate::cv::Syncer::from_config(ledger.clone(), &config),
        budgets: crate::budgets::Checker::from_config(ledger.clone(), &config),
        ledger,
        config: Arc::new(config),
        api_key,
        cookie_secret: Arc::new(tokio::sync::OnceCell::new()),
        key_guard: Arc::default(),
        db_gate: Arc::default(),
        handoff: None,
    }
}

/// A fresh random API key (128 bits, hex).
pub fn generate_api_key() -> Secret {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    Secret::new(format!(
        "ct_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// How many demo events were stored and how many were already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub created: usize,
    pub unchanged: usize,
}

/// Loads `days` days of synthetic usage ending at `now`; re-running adds nothing twice.
pub async fn load_demo(
    ledger: &Ledger,
    now: DateTime<Utc>,
    days: u32,
) -> Result<DemoReport, StoreError> {
    let mut report = DemoReport {
        created: 0,
        unchanged: 0,
    };
    let events = crate::demo::demo_events(now, days);
    let mut count = |outcomes: Vec<crate::store::WriteOutcome>| {
        for outcome in outcomes {
            match outcome.status {
                WriteStatus::Created => report.created += 1,
                _ => report.unchanged += 1,
            }
        }
    };
    for chunk in events.chunks(1_000) {
        count(ledger.ingest(chunk.to_vec(), WriteMode::InsertOnly).await?);
    }
    // The provider's bill of those hours, one collected chunk per week.
    let (bill, covered) = crate::demo::demo_bill(&events, now);
    if let Some((start, end)) = covered {
        let week = 7 * 86_400;
        let mut chunk_start = start;
        while chunk_start < end {
            let chunk_end = (chunk_start + week).min(end);
            let buckets: Vec<_> = bill
                .iter()
                .filter(|b| {
                    let at = b.facts.recorded_at.timestamp();
                    at >= chunk_start && at < chunk_end
                })
                .cloned()
                .collect();
            let coverage = crate::store::Coverage::of_range("anthropic", chunk_start, chunk_end);
            // Its daily cost report, as a collection pulls it (one Opus day 10 % high).
            let at = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or(now);
            let days = crate::collect::bill::bill_days(at(start), (at(chunk_start), at(chunk_end)));
            let lines = days.map_or_else(Vec::new, |days| {
                let overbilled = now.date_naive() - chrono::Days::new(3);
                crate::demo::demo_cost_report(&ledger.catalog(), &buckets, days, overbilled)
            });
            let bill = crate::store::BillChunk {
                provider: "anthropic".into(),
                days,
                lines,
            };
            count(
                ledger
                    .ingest_collected_billed(buckets, &coverage, &bill)
                    .await?,
            );
            chunk_start = chunk_end;
        }
    }
    Ok(report)
}
