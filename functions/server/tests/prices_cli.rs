//! `cost-tracker prices import`, the real binary, on SQLite and on Postgres: a
//! LiteLLM-format table with a new model and a changed price of a catalog model.
//! A dry run changes nothing; the import prices the new model's unpriced records
//! at once and leaves priced records alone until `POST /admin/reprice`; a file
//! with one bad entry changes nothing and names the model and the field.

use std::process::{Command, Output};

use integration_tests::{app, dec, get, new_postgres_url, new_sqlite_url, post};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use shared::store::DynStore;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

async fn cost_tracker(url: &str, args: &[&str]) -> Output {
    let url = url.to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = std::env::temp_dir();
        Command::new(env!("CARGO_BIN_EXE_cost-tracker"))
            .current_dir(&dir)
            .args(&args)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run cost-tracker")
    })
    .await
    .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A LiteLLM table as the package ships it: per-token JSON numbers, the spec entry,
/// entries of other kinds, a changed GPT-5 price and a model the catalog lacks.
const TABLE: &str = r#"{
  "sample_spec": {"input_cost_per_token": 0.0, "litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "one of chat, embedding, ..."},
  "moonshot/kimi-k9-preview": {"litellm_provider": "moonshot", "mode": "chat", "input_cost_per_token": 6e-07, "output_cost_per_token": 2.5e-06, "cache_read_input_token_cost": 1.5e-07, "max_input_tokens": 262144},
  "gpt-5": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1.5e-06, "output_cost_per_token": 1.2e-05, "cache_read_input_token_cost": 1.5e-07},
  "claude-haiku-4-5": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06, "cache_read_input_token_cost": 1e-07, "cache_creation_input_token_cost": 1.25e-06, "cache_creation_input_token_cost_above_1hr": 2e-06},
  "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation", "input_cost_per_pixel": 3.81469e-08},
  "openai/container": {"litellm_provider": "openai", "mode": "chat", "code_interpreter_cost_per_session": 0.03},
  "bedrock/anthropic.claude-haiku-4-5": {"litellm_provider": "bedrock", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06}
}"#;

/// k1: 10000×0.6 + 2000×2.5 + 4000×0.15 = 11,600 → $0.0116; k2: 1000×0.6 + 1000×2.5 →
/// $0.0031; g1 (GPT-5, catalog 1.25 / 10): 1000×1.25 + 1000×10 → $0.01125.
fn events() -> Value {
    json!([
        {"event_id":"k1","model":"kimi-k9-preview","tokens_in":10000,"tokens_out":2000,
         "cache_read_tokens":4000,"recorded_at":"2026-11-10T09:00:00Z"},
        {"event_id":"k2","model":"moonshot/kimi-k9-preview","tokens_in":1000,"tokens_out":1000,
         "recorded_at":"2026-11-10T10:00:00Z"},
        {"event_id":"g1","model":"gpt-5","tokens_in":1000,"tokens_out":1000,
         "recorded_at":"2026-11-10T11:00:00Z"}
    ])
}

/// (cost of each event id, unpriced requests) on 2026-11-10.
async fn figures(store: &DynStore) -> (Vec<(String, Decimal)>, i64) {
    let app = app(store, "UTC");
    let list = get(&app, "/api/usage?start_date=2026-11-10&end_date=2026-11-10").await;
    let mut costs: Vec<(String, Decimal)> = list.body["records"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", list.text))
        .iter()
        .map(|r| {
            (
                r["event_id"].as_str().unwrap().to_owned(),
                dec(&r["cost_usd"]),
            )
        })
        .collect();
    costs.sort();
    let by_model = get(&app, "/costs/by-model?start=2026-11-10&end=2026-11-10").await;
    (costs, by_model.body["unpriced_requests"].as_i64().unwrap())
}

fn costs(list: &[(&str, &str)]) -> Vec<(String, Decimal)> {
    list.iter().map(|(id, c)| (id.to_string(), d(c))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_litellm_import_prices_new_models_and_leaves_priced_records_alone() {
    for url in [new_sqlite_url(), new_postgres_url().await] {
        let store = shared::store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let created = post(&app(&store, "UTC"), "/api/usage", events()).await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.text);
        let before = costs(&[("g1", "0.01125"), ("k1", "0"), ("k2", "0")]);
        assert_eq!(figures(&store).await, (before.clone(), 2), "{url}");

        let dir = std::env::temp_dir().join(format!("ct-prices-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("model_prices_and_context_window.json");
        std::fs::write(&file, TABLE).unwrap();
        let file = file.to_str().unwrap();
        let args = ["prices", "import", file, "--effective-from", "2026-11-01"];

        let dry = cost_tracker(&url, &[&args[..], &["--dry-run"]].concat()).await;
        let out = text(&dry);
        assert!(dry.status.success(), "{out}");
        assert!(out.contains("new model   kimi-k9-preview from 2026-11-01: input 0.6, output 2.5, cache_read 0.15"), "{out}");
        assert!(out.contains("new prices  gpt-5 from 2026-11-01: input 1.25 → 1.5, output 10 → 12, cache_read 0.125 → 0.15"), "{out}");
        assert!(
            out.contains("2 new or changed, 1 unchanged, 3 skipped"),
            "{out}"
        );
        assert!(out.contains("dry run: nothing was changed"), "{out}");
        assert!(store.stored_prices().await.unwrap().is_empty(), "{url}");
        assert_eq!(figures(&store).await, (before, 2), "{url}");

        let import = cost_tracker(&url, &args).await;
        let out = text(&import);
        assert!(import.status.success(), "{out}");
        assert!(
            out.contains("stored 2 price entries; priced 2 unpriced records (0.0147 USD)"),
            "{out}"
        );
        let stored: Vec<String> = store
            .stored_prices()
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.entry.model)
            .collect();
        assert_eq!(stored, ["gpt-5", "kimi-k9-preview"], "{url}");
        // The new model's records are priced; GPT-5's priced record did not move.
        let imported = costs(&[("g1", "0.01125"), ("k1", "0.0116"), ("k2", "0.0031")]);
        assert_eq!(figures(&store).await, (imported.clone(), 0), "{url}");
        let model = get(&app(&store, "UTC"), "/api/models/gpt-5").await;
        assert_eq!(
            model.body["layers"], "stored_over_catalog",
            "{url}: {}",
            model.text
        );
        assert_eq!(dec(&model.body["prices"]["input_per_mtok"]), d("1.5"));

        // Importing the same table again changes nothing.
        let again = cost_tracker(&url, &args).await;
        assert!(
            text(&again).contains("0 new or changed, 3 unchanged"),
            "{}",
            text(&again)
        );

        // POST /admin/reprice applies GPT-5's new price: 1000×1.5 + 1000×12 → $0.0135.
        let app = app(&store, "UTC");
        let repriced = post(
            &app,
            "/admin/reprice",
            json!({"start":"2026-11-10","end":"2026-11-10"}),
        )
        .await;
        assert_eq!(
            repriced.body["report"]["records_changed"], 1,
            "{url}: {}",
            repriced.text
        );
        let after = costs(&[("g1", "0.0135"), ("k1", "0.0116"), ("k2", "0.0031")]);
        assert_eq!(figures(&store).await, (after.clone(), 0), "{url}");

        // One bad entry: nothing is stored, the error names the model and the field.
        let bad = r#"{
          "gpt-9": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06},
          "gpt-9-nano": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-07},
          "gpt-9-mini": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": -1e-07, "output_cost_per_token": 1e-06}
        }"#;
        let bad_file = dir.join("bad.json");
        std::fs::write(&bad_file, bad).unwrap();
        let refused = cost_tracker(&url, &["prices", "import", bad_file.to_str().unwrap()]).await;
        let out = text(&refused);
        assert!(!refused.status.success(), "{out}");
        assert!(
            out.contains("model `gpt-9-nano`: `output_cost_per_token` is missing"),
            "{out}"
        );
        assert!(
            out.contains("model `gpt-9-mini`: `input_cost_per_token` = -1e-07"),
            "{out}"
        );
        assert!(out.contains("2 errors"), "{out}");
        assert_eq!(
            store.stored_prices().await.unwrap().len(),
            2,
            "{url}: gpt-9 was not stored"
        );
        assert_eq!(figures(&store).await, (after, 0), "{url}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
