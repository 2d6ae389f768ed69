//! `cost-tracker`: serves the API (SQLite by default) and runs admin actions.

mod import;
mod serve;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shared::config::Config;

/// mimalloc: the import and the server allocate many short-lived strings and JSON
/// values, which glibc's allocator spends a large share of the time on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cost-tracker",
    version,
    about = "AI Cost Tracker: where every AI dollar went"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API on HOST:PORT (migrates the database first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load synthetic usage (idempotent) so reports have numbers at once.
    Demo {
        /// Days of history to generate, ending now.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// Pull usage from the provider admin APIs now (the normal watermark-based run,
    /// or an explicit range). Prints the report as JSON; exits non-zero when a provider failed.
    Collect {
        /// Only this provider: anthropic or openai (default: every configured one).
        #[arg(long)]
        provider: Option<String>,
        /// Start of an explicit range: RFC 3339 or YYYY-MM-DD (UTC).
        #[arg(long)]
        start: Option<String>,
        /// End of an explicit range (default now).
        #[arg(long)]
        end: Option<String>,
    },
    /// Compare the providers' daily bills (pulled by `collect`) with our computed cost of
    /// the pulled usage, per UTC day, provider, model and token kind. Prints a table (or
    /// JSON with --json); exits non-zero when a model-day is off by more than 1 %.
    BillCheck {
        /// First UTC day, YYYY-MM-DD (default: 30 days before --end).
        #[arg(long)]
        start: Option<String>,
        /// Last UTC day, YYYY-MM-DD, inclusive (default: yesterday).
        #[arg(long)]
        end: Option<String>,
        /// Print the JSON of `GET /costs/bill-check` instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Import model calls from agent transcripts (OpenClaw, Claude Code) into the
    /// local database, or a remote tracker with --to. Prints a JSON report; exits
    /// non-zero only when a root could not be read at all.
    Import(import::ImportArgs),
    /// Budgets: list them with their figures this period (a table, or JSON with
    /// --json), or `check` them now (evaluate, send what is due, print what fired).
    Budgets {
        #[command(subcommand)]
        action: Option<BudgetsCommand>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The stored price layer over the catalog embedded in the binary.
    Prices {
        #[command(subcommand)]
        action: PricesCommand,
    },
    /// Push daily cost summaries to Context Vault now: every completed day not yet pushed
    /// (at most 7 back, oldest first), or one day. Prints the report as JSON; exits
    /// non-zero when a push failed or the sync is not configured.
    SyncCv {
        /// Only this completed day, YYYY-MM-DD in REPORT_TIMEZONE (pushed when new or changed).
        #[arg(long)]
        date: Option<String>,
        /// Push the day even when unchanged, as its next revision.
        #[arg(long, requires = "date")]
        force: bool,
    },
}

#[derive(Subcommand)]
enum BudgetsCommand {
    /// Evaluate every budget now and send the alerts that are due; prints the report
    /// as JSON; exits non-zero when an alert could not be delivered.
    Check,
}

#[derive(Subcommand)]
enum PricesCommand {
    /// Import a price file, the catalog's TOML format (`[[model]]` entries) or LiteLLM's
    /// JSON table (model_prices_and_context_window.json): prints what changes, stores
    /// it all or nothing, and prices the unpriced records it now covers. Records already
    /// priced change only with POST /admin/reprice.
    Import {
        /// The file to read.
        file: std::path::PathBuf,
        /// Print what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The day LiteLLM's undated prices apply from (YYYY-MM-DD, UTC; default today).
        #[arg(long)]
        effective_from: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    serve::init_tracing();
    if let Command::Import(args) = cli.command {
        return import::run(args).await;
    }
    let config = Config::load().await.context("configuration")?;
    match cli.command {
        Command::Serve => serve::serve(config).await,
        Command::Migrate => {
            shared::app::open_ledger(&config, true)
                .await
                .context("migrate")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo { days } => {
            let ledger = shared::app::open_ledger(&config, true)
                .await
                .context("open database")?;
            let report = shared::app::load_demo(&ledger, chrono::Utc::now(), days).await?;
            println!(
                "demo data: {} events added, {} already present",
                report.created, report.unchanged
            );
            Ok(())
        }
        Command::Collect {
            provider,
            start,
            end,
        } => collect(config, provider, start, end).await,
        Command::SyncCv { date, force } => sync_cv(config, date, force).await,
        Command::Prices {
            action:
                PricesCommand::Import {
                    file,
                    dry_run,
                    effective_from,
                },
        } => import_prices(config, &file, dry_run, effective_from.as_deref()).await,
        Command::BillCheck { start, end, json } => bill_check(config, start, end, json).await,
        Command::Budgets { action, json } => budgets(config, action, json).await,
        Command::Import(_) => unreachable!("handled before the configuration is loaded"),
    }
}

async fn collect(
    config: Config,
    provider: Option<String>,
    start: Option<String>,
    end: Option<String>,
) -> anyhow::Result<()> {
    use shared::collect::{CollectRequest, Collector, Trigger};
    let now = chrono::Utc::now();
    let request = CollectRequest::from_fields(
        provider.as_deref(),
        start.as_deref(),
        end.as_deref(),
        Trigger::Cli,
        now,
    )?;
    let ledger = shared::app::open_ledger(&config, true)
        .await
        .context("open database")?;
    let collector = Collector::from_config(ledger, &config);
    if collector.settings().configured().is_empty() {
        anyhow::bail!("collection is off: set ANTHROPIC_ADMIN_KEY and/or OPENAI_ADMIN_KEY");
    }
    let report = collector.collect_once(request, now).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if !report.succeeded() {
        let errors: Vec<String> = report
            .failures()
            .iter()
            .filter_map(|f| f.error.clone())
            .collect();
        anyhow::bail!("collection failed: {}", errors.join("; "));
    }
    Ok(())
}

async fn import_prices(
    config: Config,
    file: &std::path::Path,
    dry_run: bool,
    effective_from: Option<&str>,
) -> anyhow::Result<()> {
    let effective_from = match effective_from {
        Some(day) => chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
            .with_context(|| format!("--effective-from {day:?} is not a YYYY-MM-DD date"))?,
        None => chrono::Utc::now().date_naive(),
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?;
    let ledger = shared::app::open_ledger(&config, true)
        .await
        .context("open database")?;
    let plan = shared::prices::plan_import(&ledger, &text, effective_from).await?;
    print!("{}", plan.describe());
    if !plan.errors.is_empty() {
        anyhow::bail!(
            "{} errors in {}; nothing was changed",
            plan.errors.len(),
            file.display()
        );
    }
    if dry_run {
        println!("dry run: nothing was changed");
        return Ok(());
    }
    let outcome = shared::prices::apply_import(&ledger, &plan).await?;
    println!(
        "stored {} price entries; priced {} unpriced records ({} USD)",
        outcome.stored,
        outcome.priced.records_priced,
        outcome.priced.cost_after_usd.usd()
    );
    Ok(())
}

async fn bill_check(
    config: Config,
    start: Option<String>,
    end: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    use shared::bill_check::{bill_check, day_range, render_table};
    let today = chrono::Utc::now().date_naive();
    let (first, end) = day_range(start.as_deref(), end.as_deref(), today)
        .map_err(|(field, message)| anyhow::anyhow!("--{field}: {message}"))?;
    let ledger = shared::app::open_ledger(&config, true)
        .await
        .context("open database")?;
    let catalog = ledger.prices().await?;
    let check = bill_check(ledger.store().as_ref(), &catalog, first, end).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&check)?);
    } else {
        print!("{}", render_table(&check));
    }
    if !check.price_mismatch.is_empty() {
        anyhow::bail!(
            "{} model-day(s) billed more than 1 % off our prices",
            check.price_mismatch.len()
        );
    }
    Ok(())
}

async fn sync_cv(config: Config, date: Option<String>, force: bool) -> anyhow::Result<()> {
    use shared::collect::Trigger;
    use shared::cv::{SyncRequest, SyncSettings, Syncer};
    if SyncSettings::from_config(&config).vault.is_none() {
        anyhow::bail!(
            "Context Vault sync is not configured: set CONTEXT_VAULT_URL and CONTEXT_VAULT_API_KEY"
        );
    }
    let now = chrono::Utc::now();
    let request = match date.as_deref() {
        Some(date) => {
            SyncRequest::for_day(Some(date), force, Trigger::Cli, config.report_timezone, now)?
        }
        None => SyncRequest::scheduled(Trigger::Cli),
    };
    let ledger = shared::app::open_ledger(&config, true)
        .await
        .context("open database")?;
    let report = Syncer::from_config(ledger, &config)
        .sync_once(request, now)
        .await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(error) = &report.error {
        anyhow::bail!("Context Vault sync failed: {error}");
    }
    Ok(())
}

async fn budgets(config: Config, action: Option<BudgetsCommand>, json: bool) -> anyhow::Result<()> {
    use shared::budgets::check::AlertStatus;
    use shared::budgets::Checker;
    let ledger = shared::app::open_ledger(&config, true)
        .await
        .context("open database")?;
    let checker = Checker::from_config(ledger, &config);
    let now = chrono::Utc::now();
    match action {
        Some(BudgetsCommand::Check) => {
            let report = checker.check(now, "cli").await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            let failed: Vec<String> = report
                .fired
                .iter()
                .filter(|a| a.status == AlertStatus::Failed)
                .filter_map(|a| a.error.clone())
                .collect();
            if !failed.is_empty() {
                anyhow::bail!(
                    "{} alert(s) not delivered: {}",
                    failed.len(),
                    failed.join("; ")
                );
            }
        }
        None => {
            let statuses = checker.statuses(now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&statuses)?);
            } else {
                print!("{}", shared::budgets::render_table(&statuses));
            }
        }
    }
    Ok(())
}
