//! `cost-tracker import openclaw|claude-code`: one pass (or `--watch` passes) over
//! the agents' transcripts, into the local database or a remote tracker (`--to`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use shared::config::{Config, Secret};
use shared::import::sink::{LedgerSink, RemoteSink, Sink};
use shared::import::{import_once, ImportOptions, Importer};

/// The command's arguments (see `cost-tracker import --help`).
#[derive(clap::Args)]
pub struct ImportArgs {
    /// Which transcripts: openclaw or claude-code.
    #[arg(value_parser = ["openclaw", "claude-code"])]
    importer: String,
    /// A root to read (repeatable). OpenClaw: a state dir (default $OPENCLAW_STATE_DIR,
    /// else ~/.openclaw, plus ~/.clawdbot and ~/.moltbot when they exist). Claude Code:
    /// a config dir holding projects/ (default $CLAUDE_CONFIG_DIR, comma-separated,
    /// else ~/.claude and ~/.config/claude).
    #[arg(long = "root", value_name = "DIR")]
    roots: Vec<String>,
    /// Send the calls to this tracker's POST /api/usage instead of the local database.
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// The remote tracker's API key (with --to).
    #[arg(long, env = "COST_TRACKER_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Where --to keeps its cursors (default $XDG_STATE_HOME/cost-tracker/import-state.json).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Repeat every --interval seconds, printing one line per pass that found something.
    #[arg(long)]
    watch: bool,
    /// Seconds between --watch passes.
    #[arg(long, default_value_t = 60)]
    interval: u64,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let importer = Importer::parse(&args.importer).context("importer")?;
    let var = |name: &str| std::env::var(name).ok();
    let roots = if args.roots.is_empty() {
        importer.default_roots(var)
    } else {
        args.roots.clone()
    };
    let config = Config::load().await.context("configuration")?;
    let sink: Arc<dyn Sink> = match &args.to {
        Some(url) => {
            // `.env` was read by Config::load, after the arguments were parsed.
            let key = args
                .api_key
                .clone()
                .or_else(|| std::env::var("COST_TRACKER_API_KEY").ok())
                .filter(|k| !k.trim().is_empty())
                .context(
                    "--to needs the remote tracker's key: --api-key or COST_TRACKER_API_KEY",
                )?;
            let state = args
                .state
                .clone()
                .unwrap_or_else(|| RemoteSink::default_state_file(var));
            Arc::new(RemoteSink::new(url, Secret::new(key), state).map_err(anyhow::Error::msg)?)
        }
        None => {
            let ledger = shared::app::open_ledger(&config, true)
                .await
                .context("open database")?;
            Arc::new(LedgerSink { ledger })
        }
    };
    let options = ImportOptions {
        importer,
        roots,
        heartbeat_pattern: config.import_heartbeat_pattern.clone(),
        trigger: if args.watch {
            shared::store::Trigger::Watch
        } else {
            shared::store::Trigger::Cli
        },
    };
    if !args.watch {
        let report = import_once(Arc::clone(&sink), &options).await;
        println!("{}", serde_json::to_string_pretty(&report)?);
        if !report.unreadable_roots.is_empty() {
            let roots: Vec<String> = report
                .unreadable_roots
                .iter()
                .map(|r| format!("{} ({})", r.path, r.error))
                .collect();
            anyhow::bail!("could not read {}", roots.join(", "));
        }
        return Ok(());
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(args.interval.max(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        let report = import_once(Arc::clone(&sink), &options).await;
        if report.found_something() || !report.unreadable_roots.is_empty() {
            println!("{}", serde_json::to_string(&report)?);
        }
    }
}
