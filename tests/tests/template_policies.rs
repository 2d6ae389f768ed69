//! Least privilege in `template.yaml`, as `scripts/check-template.py` holds it: the
//! template passes, and each way of widening a function's access makes it fail.
//! Needs cfn-lint's Python package (`make pytools` puts it on `PATH`).

use std::path::Path;
use std::process::Command;

use integration_tests::serve::repo_root;

/// Runs the check on `template` text; its exit status and output.
fn check(root: &Path, name: &str, template: &str) -> (bool, String) {
    let path = std::env::temp_dir().join(format!("ct-template-{name}-{}.yaml", std::process::id()));
    std::fs::write(&path, template).unwrap();
    let output = Command::new("python3")
        .current_dir(root)
        .arg("scripts/check-template.py")
        .arg(&path)
        .output()
        .expect("run python3 scripts/check-template.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !text.contains("ModuleNotFoundError"),
        "cfn-lint is not installed (run `make pytools`): {text}"
    );
    (output.status.success(), text)
}

#[test]
fn each_function_reads_only_its_own_secret_and_query_api_invokes_only_the_other_two() {
    let root = repo_root();
    let template = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    let (ok, output) = check(&root, "as-is", &template);
    assert!(ok, "template.yaml fails its own check: {output}");

    let widened = [
        (
            "query-api reads the collector's secret",
            "        - !Ref ApiSecretPolicy\n",
            "        - !Ref ApiSecretPolicy\n        - !Ref CollectorSecretPolicy\n",
            "QueryApiFunction: its policies",
        ),
        (
            "a secret policy on every secret",
            "            Resource: !Ref ApiSecretArn\n",
            "            Resource: \"*\"\n",
            "ApiSecretPolicy must allow GetSecretValue on ApiSecretArn only",
        ),
        (
            "cv-sync pointed at the collector's secret",
            "          SECRETS_ARN: !Ref CvSyncSecretArn\n",
            "          SECRETS_ARN: !Ref CollectorSecretArn\n",
            "CvSyncFunction: SECRETS_ARN is !Ref CvSyncSecretArn",
        ),
        (
            "query-api may invoke any function",
            "              - !GetAtt CollectorFunction.Arn\n              - !GetAtt CvSyncFunction.Arn\n",
            "              - \"*\"\n",
            "HandoffInvokePolicy must allow lambda:InvokeFunction on the collector and cv-sync only",
        ),
        (
            "query-api is not told where collections go",
            "          COLLECTOR_FUNCTION: !Ref CollectorFunction\n",
            "",
            "query-api: COLLECTOR_FUNCTION is !Ref CollectorFunction",
        ),
    ];
    for (what, from, to, expected) in widened {
        assert!(
            template.contains(from),
            "{what}: `{from}` is not in template.yaml"
        );
        let changed = template.replacen(from, to, 1);
        let (ok, output) = check(&root, "widened", &changed);
        assert!(!ok, "{what}: the check passed");
        assert!(output.contains(expected), "{what}: {output}");
    }
}
