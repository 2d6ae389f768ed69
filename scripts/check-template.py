#!/usr/bin/env python3
"""Holds template.yaml and samconfig.toml to the deployment contract that cfn-lint and
`sam validate` do not check: the three Rust functions (arm64, provided.al2023, bootstrap,
rust-cargolambda), the HTTP API routes, classic EventBridge schedules whose event is the
plain scheduled event, least-privilege access to the one secret, Lambda's 900 s and the
HTTP API's 30 s limits, the ApiUrl output, and deploy settings that match the parameters.
Runs in the virtualenv of `make pytools` (cfn-lint's decoder reads the !Ref/!Sub tags)."""
import sys
import tomllib

from cfnlint.decode import decode

FUNCTIONS = {"QueryApiFunction": "query-api", "CollectorFunction": "collector", "CvSyncFunction": "cv-sync"}
problems = []


def expect(condition, message):
    if not condition:
        problems.append(message)


template, errors = decode("template.yaml")
expect(not errors, f"template.yaml does not parse: {errors}")
resources, globals_ = template["Resources"], template["Globals"]["Function"]
expect(globals_.get("Runtime") == "provided.al2023", "Globals: Runtime provided.al2023")
expect(globals_.get("Architectures") == ["arm64"], "Globals: Architectures [arm64]")
expect(globals_.get("Handler") == "bootstrap", "Globals: Handler bootstrap")
expect(globals_.get("CodeUri") == ".", "Globals: CodeUri . (the workspace root)")
expect(globals_["Environment"]["Variables"].get("SECRETS_ARN") == {"Ref": "SecretsArn"},
       "every function gets SECRETS_ARN")

functions = {k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
expect(functions == set(FUNCTIONS), f"functions {sorted(functions)}, expected {sorted(FUNCTIONS)}")
for logical_id, binary in FUNCTIONS.items():
    function = resources.get(logical_id, {"Metadata": {}, "Properties": {}})
    properties = function["Properties"]
    expect(function["Metadata"].get("BuildMethod") == "rust-cargolambda", f"{logical_id}: rust-cargolambda")
    expect(function["Metadata"].get("BuildProperties", {}).get("Binary") == binary, f"{logical_id}: Binary {binary}")
    expect(properties.get("Policies") == [{"Ref": "SecretReadPolicy"}],
           f"{logical_id}: its only policy is SecretReadPolicy")
    expect(1 <= properties.get("Timeout", 3) <= 900, f"{logical_id}: Timeout within Lambda's 900 s")
    events = properties.get("Events", {}).values()
    if binary == "query-api":
        expect(properties.get("Timeout", 3) <= 30, "query-api: Timeout within the HTTP API's 30 s")
        routes = {(e["Properties"]["Path"], e["Properties"]["Method"]) for e in events if e["Type"] == "HttpApi"}
        expect(routes == {("/{proxy+}", "ANY"), ("/", "ANY")}, f"query-api routes: {routes}")
    else:
        # EventBridge Scheduler (ScheduleV2) would deliver {} instead of the scheduled event.
        expect([e["Type"] for e in events] == ["Schedule"], f"{logical_id}: one classic Schedule event")
        expect(all("Input" not in e["Properties"] for e in events), f"{logical_id}: schedule without Input")

statements = resources["SecretReadPolicy"]["Properties"]["PolicyDocument"]["Statement"]
expect(statements == [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                       "Resource": {"Ref": "SecretsArn"}}],
       f"SecretReadPolicy must allow GetSecretValue on SecretsArn only: {statements}")
expect("ApiUrl" in template.get("Outputs", {}), "Outputs: ApiUrl")

with open("samconfig.toml", "rb") as f:
    samconfig = tomllib.load(f)["default"]
deploy = samconfig["deploy"]["parameters"]
expect(deploy.get("capabilities") == "CAPABILITY_IAM", "samconfig: capabilities CAPABILITY_IAM")
expect(deploy.get("resolve_s3") is True, "samconfig: resolve_s3 = true")
overridden = {item.split("=", 1)[0] for item in deploy.get("parameter_overrides", [])}
expect(overridden <= set(template["Parameters"]),
       f"samconfig overrides unknown parameters: {sorted(overridden - set(template['Parameters']))}")
required = {k for k, v in template["Parameters"].items() if "Default" not in v}
expect(required <= overridden, f"samconfig must give the parameters without default: {sorted(required)}")
expect(bool(samconfig["global"]["parameters"].get("stack_name")), "samconfig: stack_name")

for problem in problems:
    print(f"check-template: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
