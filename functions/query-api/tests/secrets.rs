//! `SECRETS_ARN` at a cold start, against a local Secrets Manager (moto): the real
//! `query-api` binary gets `DATABASE_URL` and `API_KEY` from the secret, the
//! environment wins over it, a missing or malformed secret stops start-up with a
//! clear message, and no secret value reaches the log.

use std::time::Duration;

use integration_tests::fake_lambda_runtime::{Answer, FakeLambdaRuntime, LambdaProcess};
use integration_tests::moto::Moto;
use integration_tests::{postgres_store, TEST_KEY};
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("../../../tests/fixtures/apigw-v2-by-model.json");

async fn status_of(runtime: &FakeLambdaRuntime, function: &LambdaProcess) -> u64 {
    let event: Value = serde_json::from_str(FIXTURE).unwrap();
    match runtime.invoke(event, Duration::from_secs(30)).await {
        Answer::Response(response) => response["statusCode"].as_u64().unwrap(),
        other => panic!("{other:?}; log:\n{}", function.output()),
    }
}

async fn wait_for_exit(function: &mut LambdaProcess) -> String {
    for _ in 0..200 {
        if function.exited().is_some() {
            return function.output();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the function did not stop; log:\n{}", function.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_fills_what_the_environment_leaves_unset() {
    let moto = Moto::start().await;
    let t = postgres_store().await;
    // The fixture's request carries `x-api-key: test-key-123`.
    let secret =
        json!({"DATABASE_URL": t.url, "API_KEY": TEST_KEY, "DEFAULT_PROJECT": "From Secret"})
            .to_string();
    let arn = moto.create_secret("cost-tracker/prod", &secret).await;
    let dir = std::env::temp_dir();
    let log = |name: &str| dir.join(format!("query-api-{name}-{}.log", std::process::id()));

    // Values filled from the secret: the key in the secret is the one accepted.
    let runtime = FakeLambdaRuntime::start().await;
    let mut env = moto.aws_env();
    env.push(("SECRETS_ARN", arn.clone()));
    let function = runtime.spawn(env!("CARGO_BIN_EXE_query-api"), &env, &log("filled"));
    assert_eq!(
        status_of(&runtime, &function).await,
        200,
        "{}",
        function.output()
    );
    let output = function.output();
    assert!(
        output.contains("configuration read from Secrets Manager"),
        "{output}"
    );
    assert!(
        output.contains("DATABASE_URL") && output.contains("API_KEY"),
        "names are logged: {output}"
    );
    assert!(
        !output.contains(TEST_KEY) && !output.contains(&t.url),
        "a secret value was logged:\n{output}"
    );
    drop(function);

    // The environment wins: another API_KEY in the environment makes the fixture's key wrong.
    let runtime = FakeLambdaRuntime::start().await;
    let mut env = moto.aws_env();
    env.push(("SECRETS_ARN", arn.clone()));
    env.push(("API_KEY", "key-from-the-environment".into()));
    let function = runtime.spawn(env!("CARGO_BIN_EXE_query-api"), &env, &log("env-wins"));
    assert_eq!(
        status_of(&runtime, &function).await,
        401,
        "{}",
        function.output()
    );
    drop(function);

    // A missing secret stops start-up with a clear message.
    let runtime = FakeLambdaRuntime::start().await;
    let mut env = moto.aws_env();
    env.push((
        "SECRETS_ARN",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf".into(),
    ));
    let mut function = runtime.spawn(env!("CARGO_BIN_EXE_query-api"), &env, &log("missing"));
    let output = wait_for_exit(&mut function).await;
    assert!(!function.exited().unwrap().success());
    assert!(output.contains("SECRETS_ARN: could not read secret `arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf`"), "{output}");
    assert!(output.contains("ResourceNotFoundException"), "{output}");

    // A secret that is not a JSON object stops start-up without echoing it.
    let bad = moto
        .create_secret("cost-tracker/bad", "API_KEY=hunter2-secret-value")
        .await;
    let runtime = FakeLambdaRuntime::start().await;
    let mut env = moto.aws_env();
    env.push(("SECRETS_ARN", bad));
    let mut function = runtime.spawn(env!("CARGO_BIN_EXE_query-api"), &env, &log("bad"));
    let output = wait_for_exit(&mut function).await;
    assert!(output.contains("is not valid JSON"), "{output}");
    assert!(!output.contains("hunter2"), "{output}");
}
