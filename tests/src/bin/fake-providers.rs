//! Serves the fake Anthropic/OpenAI admin usage APIs on a local port until killed.
//!
//! `fake-providers [--port 0] [--groups 20] [--days 35] [--page-buckets 168] [--name-page-size 2]
//! [--overcharge PROVIDER:YYYY-MM-DD:MODEL:FACTOR]...`
//! (`--overcharge` bills a model `FACTOR` times its list price on a UTC day: a bill-check demo)
//!
//! Prints exactly one line, `FAKE_PROVIDERS_URL=http://127.0.0.1:PORT`, on stdout once listening.
//! Keys are the `FakeConfig` defaults: Anthropic `sk-ant-admin01-fake`, OpenAI `sk-admin-fake`.

use std::io::Write;
use std::process::ExitCode;

use integration_tests::fake_providers::{FakeConfig, FakeProvider, FakeProviders};

const USAGE: &str = "usage: fake-providers [--port 0] [--groups 20] [--days 35] [--page-buckets 168] [--name-page-size 2] [--overcharge PROVIDER:YYYY-MM-DD:MODEL:FACTOR]...";

struct Args {
    port: u16,
    config: FakeConfig,
    overcharges: Vec<Overcharge>,
}

type Overcharge = (
    FakeProvider,
    chrono::NaiveDate,
    String,
    rust_decimal::Decimal,
);

fn overcharge(value: &str) -> Result<Overcharge, String> {
    let bad =
        || format!("--overcharge: expected PROVIDER:YYYY-MM-DD:MODEL:FACTOR, got {value}\n{USAGE}");
    let parts: Vec<&str> = value.splitn(4, ':').collect();
    let [provider, day, model, factor] = parts[..] else {
        return Err(bad());
    };
    let provider = match provider {
        "anthropic" => FakeProvider::Anthropic,
        "openai" => FakeProvider::Openai,
        _ => return Err(bad()),
    };
    Ok((
        provider,
        day.parse().map_err(|_| bad())?,
        model.to_string(),
        factor.parse().map_err(|_| bad())?,
    ))
}

fn parse_args() -> Result<Args, String> {
    let mut port = 0u16;
    let mut overcharges = Vec::new();
    let mut config = FakeConfig {
        now: chrono::Utc::now(),
        max_buckets_per_page: 168,
        ..FakeConfig::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (flag.clone(), None),
        };
        let value = match inline.or_else(|| args.next()) {
            Some(value) => value,
            None => return Err(format!("{name} needs a value\n{USAGE}")),
        };
        let number = |what: &str| -> Result<u64, String> {
            value
                .parse()
                .map_err(|_| format!("{what}: not a number: {value}\n{USAGE}"))
        };
        match name.as_str() {
            "--port" => {
                port = u16::try_from(number("--port")?).map_err(|_| "--port: out of range")?
            }
            "--groups" => config.groups_per_hour = number("--groups")? as usize,
            "--days" => {
                config.history_days =
                    u32::try_from(number("--days")?).map_err(|_| "--days: out of range")?
            }
            "--page-buckets" => config.max_buckets_per_page = number("--page-buckets")? as usize,
            "--name-page-size" => config.name_page_size = number("--name-page-size")? as usize,
            "--overcharge" => overcharges.push(overcharge(&value)?),
            other => return Err(format!("unknown argument: {other}\n{USAGE}")),
        }
    }
    Ok(Args {
        port,
        config,
        overcharges,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let fake = match FakeProviders::start_on_port(args.config, args.port).await {
        Ok(fake) => fake,
        Err(err) => {
            eprintln!(
                "fake-providers: cannot listen on 127.0.0.1:{}: {err}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    for (provider, day, model, factor) in args.overcharges {
        fake.state.overcharge(provider, day, &model, None, factor);
    }
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "FAKE_PROVIDERS_URL={}", fake.url);
    let _ = stdout.flush();
    // Serve until killed (SIGTERM/SIGKILL) or interrupted.
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
