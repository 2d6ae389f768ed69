//! The API as third-party tools see it, against the real `cost-tracker serve` on SQLite
//! and on Postgres (scripts/api-check.sh): a Python client generated from the served
//! `/openapi.json` by openapi-python-client pushes a 3-event batch and reads every
//! report (scripts/api_client_check.py), then schemathesis runs its checks against the
//! same document and must exit 0. The tools are installed by scripts/pytools.sh; when
//! they cannot be, the test fails.

use std::process::{Command, Output};
use std::time::Instant;

use integration_tests::serve::repo_root;

/// Runs a command to the end; panics with its output when it fails.
fn run(mut command: Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: could not start: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn a_generated_client_and_schemathesis_agree_with_the_served_document() {
    let root = repo_root();
    run(
        Command::new(root.join("scripts/pytools.sh")),
        "scripts/pytools.sh",
    );

    let started = Instant::now();
    let mut check = Command::new(root.join("scripts/api-check.sh"));
    check
        .arg(env!("CARGO_BIN_EXE_cost-tracker"))
        .env("API_CHECK_BACKENDS", "sqlite postgres");
    let output = run(check, "scripts/api-check.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for backend in ["sqlite", "postgres"] {
        assert!(
            stdout.contains(&format!(
                "api client check ({backend}): the generated client pushed 3 events"
            )),
            "no client check on {backend}:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("api-check: {backend} passed")),
            "no schemathesis pass on {backend}:\n{stdout}"
        );
    }
    eprintln!(
        "api-check: both backends in {} s",
        started.elapsed().as_secs()
    );
}
