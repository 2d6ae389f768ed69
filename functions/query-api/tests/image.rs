//! The container image of `Dockerfile.lambda`, checked without a Docker engine: its final
//! stage is the provided:al2023 arm64 base with the function's binary as
//! `${LAMBDA_RUNTIME_DIR}/bootstrap`, built by the same `cargo lambda build` as the zips of
//! `make package`. Then that binary — the arm64 `bootstrap` of the query-api zip, laid out
//! where the image has it — is started as the base image's entry point starts it
//! (`_HANDLER` from `CMD`, then `exec /var/runtime/bootstrap`), under qemu-user, and answers
//! a real API Gateway event through the Lambda Runtime API fake, with Postgres behind it.
//!
//! Run by `make image-check` (after `make package`, with `LAMBDA_PACKAGES` naming the
//! packages' directory); ignored by a plain `cargo test`, which has no arm64 build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use integration_tests::fake_lambda_runtime::{Answer, FakeLambdaRuntime};
use integration_tests::serve::repo_root;
use integration_tests::{ledger, postgres_store, TEST_KEY};
use serde_json::Value;
use shared::ingest::parse_events;
use shared::store::WriteMode;

const FIXTURE: &str = include_str!("../../../tests/fixtures/apigw-v2-by-model.json");
/// Where the provided:al2023 base image keeps the runtime (its `LAMBDA_RUNTIME_DIR`).
const LAMBDA_RUNTIME_DIR: &str = "/var/runtime";

/// The instructions of Dockerfile.lambda's stages, continuations joined, comments dropped.
fn stages(text: &str) -> Vec<Vec<(String, String)>> {
    let mut stages: Vec<Vec<(String, String)>> = Vec::new();
    let mut pending = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && pending.is_empty()) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head.trim());
            pending.push(' ');
            continue;
        }
        let instruction = std::mem::take(&mut pending) + line;
        let (keyword, args) = instruction
            .split_once(char::is_whitespace)
            .unwrap_or((&instruction, ""));
        let (keyword, args) = (keyword.to_uppercase(), args.trim().to_string());
        if keyword == "FROM" {
            stages.push(Vec::new());
        }
        if let Some(stage) = stages.last_mut() {
            stage.push((keyword, args));
        }
    }
    stages
}

fn one<'a>(stage: &'a [(String, String)], keyword: &str) -> &'a str {
    let found: Vec<&str> = stage
        .iter()
        .filter(|(k, _)| k == keyword)
        .map(|(_, a)| a.as_str())
        .collect();
    assert_eq!(found.len(), 1, "one {keyword} expected: {found:?}");
    found[0]
}

/// Unzips the package's `bootstrap` to `root` + `LAMBDA_RUNTIME_DIR`, as the image has it.
fn lay_out_image(package: &Path, root: &Path) -> PathBuf {
    let runtime_dir = root.join(LAMBDA_RUNTIME_DIR.trim_start_matches('/'));
    std::fs::create_dir_all(&runtime_dir).unwrap();
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('bootstrap', sys.argv[2])",
        ])
        .arg(package)
        .arg(&runtime_dir)
        .status()
        .expect("run python3 to unzip the package");
    assert!(status.success(), "unzip {}", package.display());
    let bootstrap = runtime_dir.join("bootstrap");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    bootstrap
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the arm64 packages and qemu-user: make image-check"]
async fn the_images_bootstrap_answers_an_api_gateway_event() {
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile.lambda")).unwrap();
    let stages = stages(&dockerfile);
    assert_eq!(stages.len(), 2, "a build stage and the image");
    let (build, image) = (&stages[0], &stages[1]);
    let run = build
        .iter()
        .rfind(|(k, _)| k == "RUN")
        .map(|(_, a)| a.as_str())
        .expect("the build stage runs the build");
    assert!(
        run.contains("cargo lambda build --profile lambda --arm64 --locked --bin \"${FUNCTION}\""),
        "built as make package builds the zips: {run}"
    );
    assert!(
        run.contains("install -m 0755 \"target/lambda/${FUNCTION}/bootstrap\" /bootstrap"),
        "{run}"
    );
    assert_eq!(
        one(image, "FROM"),
        "public.ecr.aws/lambda/provided:al2023-arm64"
    );
    assert_eq!(
        one(image, "COPY"),
        "--from=build /bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap"
    );
    let cmd: Vec<String> = serde_json::from_str(one(image, "CMD")).expect("CMD in exec form");
    assert_eq!(
        cmd.len(),
        1,
        "the base image's entry point takes exactly one handler name"
    );
    assert!(
        !image.iter().any(|(k, _)| k == "ENTRYPOINT"),
        "the base image's entry point stays"
    );

    let packages = PathBuf::from(
        std::env::var("LAMBDA_PACKAGES").expect("LAMBDA_PACKAGES: the directory of make package"),
    );
    let root = std::env::temp_dir().join(format!("ct-image-{}", std::process::id()));
    let bootstrap = lay_out_image(&packages.join("query-api/bootstrap.zip"), &root);

    let t = postgres_store().await;
    let events = serde_json::json!([{"event_id": "img-1", "model": "gpt-4o-mini", "tokens_in": 2000,
        "cache_read_tokens": 1000, "tokens_out": 100, "recorded_at": "2026-11-10T08:00:00Z"}]);
    let batch = parse_events(&events, chrono::Utc::now()).unwrap();
    ledger(&t.store)
        .ingest(batch, WriteMode::InsertOnly)
        .await
        .unwrap();

    let runtime = FakeLambdaRuntime::start().await;
    let log = root.join("query-api.log");
    let mut qemu = Command::new("qemu-aarch64");
    qemu.args(["-L", "/usr/aarch64-linux-gnu"]).arg(&bootstrap);
    let function = runtime.spawn_as(
        "query-api",
        qemu,
        &[
            ("_HANDLER", cmd[0].clone()),
            ("LAMBDA_RUNTIME_DIR", LAMBDA_RUNTIME_DIR.to_string()),
            ("DATABASE_URL", t.url.clone()),
            ("API_KEY", TEST_KEY.to_string()),
        ],
        &log,
    );
    let answer = runtime
        .invoke(
            serde_json::from_str(FIXTURE).unwrap(),
            Duration::from_secs(60),
        )
        .await;
    eprintln!(
        "the image's bootstrap (arm64, under qemu): first answer {} ms after exec",
        function.started.elapsed().as_millis()
    );
    let Answer::Response(response) = answer else {
        panic!(
            "expected a response, got {answer:?}; log:\n{}",
            function.output()
        )
    };
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    // gpt-4o-mini: 2000×0.15 + 1000×0.075 + 100×0.60 = 435 / 1e6 → $0.000435
    assert_eq!(body["total_cost_usd"].to_string(), "0.000435");
    assert!(runtime.init_error().is_none());
    let _ = std::fs::remove_dir_all(&root);
}
