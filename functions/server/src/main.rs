//! `cost-tracker`: serves the API (SQLite by default) and runs admin actions.

mod serve;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shared::config::Config;

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env().context("configuration")?;
    serve::init_tracing();
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
    }
}
