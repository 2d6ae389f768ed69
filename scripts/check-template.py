#!/usr/bin/env python3
"""Holds template.yaml and samconfig.toml to the deployment contract that cfn-lint and
`sam validate` do not check: the three Rust functions (arm64, provided.al2023, bootstrap,
rust-cargolambda), the HTTP API routes, classic EventBridge schedules whose event is the
plain scheduled event, least privilege (each function reads its own secret and no other;
query-api may invoke the collector and cv-sync and nothing else, and is told their names),
Lambda's 900 s and the HTTP API's 30 s limits, the ApiUrl output, and deploy settings that
match the parameters. Runs in the virtualenv of `make pytools` (cfn-lint's decoder reads the
!Ref/!Sub tags). `python3 scripts/check-template.py [TEMPLATE]` (default template.yaml)."""
import sys
import tomllib

from cfnlint.decode import decode

FUNCTIONS = {"QueryApiFunction": "query-api", "CollectorFunction": "collector", "CvSyncFunction": "cv-sync"}
# Each function: its secret's parameter and the one policy that reads it.
SECRETS = {
    "QueryApiFunction": ("ApiSecretArn", "ApiSecretPolicy"),
    "CollectorFunction": ("CollectorSecretArn", "CollectorSecretPolicy"),
    "CvSyncFunction": ("CvSyncSecretArn", "CvSyncSecretPolicy"),
}
# What query-api may do beyond reading its secret: start the other two.
HANDOFF_POLICY = "HandoffInvokePolicy"
problems = []


def expect(condition, message):
    if not condition:
        problems.append(message)


template, errors = decode(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
expect(not errors, f"template.yaml does not parse: {errors}")
resources, globals_ = template["Resources"], template["Globals"]["Function"]
expect(globals_.get("Runtime") == "provided.al2023", "Globals: Runtime provided.al2023")
expect(globals_.get("Architectures") == ["arm64"], "Globals: Architectures [arm64]")
expect(globals_.get("Handler") == "bootstrap", "Globals: Handler bootstrap")
expect(globals_.get("CodeUri") == ".", "Globals: CodeUri . (the workspace root)")
expect("SECRETS_ARN" not in globals_.get("Environment", {}).get("Variables", {}),
       "Globals: no SECRETS_ARN (each function names its own secret)")

functions = {k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
expect(functions == set(FUNCTIONS), f"functions {sorted(functions)}, expected {sorted(FUNCTIONS)}")
for logical_id, binary in FUNCTIONS.items():
    function = resources.get(logical_id, {"Metadata": {}, "Properties": {}})
    properties = function["Properties"]
    expect(function["Metadata"].get("BuildMethod") == "rust-cargolambda", f"{logical_id}: rust-cargolambda")
    expect(function["Metadata"].get("BuildProperties", {}).get("Binary") == binary, f"{logical_id}: Binary {binary}")
    parameter, policy = SECRETS[logical_id]
    variables = properties.get("Environment", {}).get("Variables", {})
    expect(variables.get("SECRETS_ARN") == {"Ref": parameter}, f"{logical_id}: SECRETS_ARN is !Ref {parameter}")
    policies = [{"Ref": policy}] + ([{"Ref": HANDOFF_POLICY}] if binary == "query-api" else [])
    expect(properties.get("Policies") == policies, f"{logical_id}: its policies are {policies}, got {properties.get('Policies')}")
    if binary == "query-api":
        expect(variables.get("COLLECTOR_FUNCTION") == {"Ref": "CollectorFunction"},
               "query-api: COLLECTOR_FUNCTION is !Ref CollectorFunction")
        expect(variables.get("CV_SYNC_FUNCTION") == {"Ref": "CvSyncFunction"},
               "query-api: CV_SYNC_FUNCTION is !Ref CvSyncFunction")
    secret_policy = resources.get(policy, {"Properties": {"PolicyDocument": {"Statement": None}}})
    statements = secret_policy["Properties"]["PolicyDocument"]["Statement"]
    expect(statements == [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                           "Resource": {"Ref": parameter}}],
           f"{policy} must allow GetSecretValue on {parameter} only: {statements}")
    expect(1 <= properties.get("Timeout", 3) <= 900, f"{logical_id}: Timeout within Lambda's 900 s")
    events = properties.get("Events", {}).values()
    if binary == "query-api":
        expect(properties.get("Timeout", 3) <= 30, "query-api: Timeout within the HTTP API's 30 s")
        routes = {(e["Properties"]["Path"], e["Properties"]["Method"]) for e in events if e["Type"] == "HttpApi"}
        expect(routes == {("/{proxy+}", "ANY"), ("/", "ANY")}, f"query-api routes: {routes}")
    else:
        # EventBridge Scheduler (ScheduleV2) would deliver {} instead of the scheduled event.
        events = list(events)
        expect(all(e["Type"] == "Schedule" for e in events), f"{logical_id}: classic Schedule events only")
        normal = [e for e in events if "Input" not in e["Properties"]]
        expect(len(normal) == 1, f"{logical_id}: one schedule without Input (the normal run)")
        inputs = sorted(e["Properties"]["Input"] for e in events if "Input" in e["Properties"])
        # The collector also checks budgets on its own rule (a Lambda keeps no task running).
        wanted = ['{"action":"check-budgets"}'] if binary == "collector" else []
        expect(inputs == wanted, f"{logical_id}: schedules with Input {inputs}, expected {wanted}")

handoff = resources.get(HANDOFF_POLICY, {"Properties": {"PolicyDocument": {"Statement": None}}})
statements = handoff["Properties"]["PolicyDocument"]["Statement"]
expect(statements == [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                       "Resource": [{"Fn::GetAtt": ["CollectorFunction", "Arn"]},
                                    {"Fn::GetAtt": ["CvSyncFunction", "Arn"]}]}],
       f"{HANDOFF_POLICY} must allow lambda:InvokeFunction on the collector and cv-sync only: {statements}")
# No other policy, role or inline statement may widen what a function holds.
extra = sorted(k for k, v in resources.items()
               if v["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role")
               and k not in {p for _, p in SECRETS.values()} | {HANDOFF_POLICY})
expect(not extra, f"IAM resources beyond the per-function ones: {extra}")
secret_parameters = sorted(k for k, v in template["Parameters"].items() if k.endswith("SecretArn"))
expect(secret_parameters == sorted(p for p, _ in SECRETS.values()),
       f"secret parameters {secret_parameters}, expected one per function")
expect("ApiUrl" in template.get("Outputs", {}), "Outputs: ApiUrl")

with open("samconfig.toml", "rb") as f:
    samconfig_all = tomllib.load(f)
samconfig = samconfig_all["default"]
deploy = samconfig["deploy"]["parameters"]
expect(deploy.get("capabilities") == "CAPABILITY_IAM", "samconfig: capabilities CAPABILITY_IAM")
expect(deploy.get("resolve_s3") is True, "samconfig: resolve_s3 = true")
overridden = {item.split("=", 1)[0] for item in deploy.get("parameter_overrides", [])}
expect(overridden <= set(template["Parameters"]),
       f"samconfig overrides unknown parameters: {sorted(overridden - set(template['Parameters']))}")
required = {k for k, v in template["Parameters"].items() if "Default" not in v}
expect(required <= overridden, f"samconfig must give the parameters without default: {sorted(required)}")
expect(bool(samconfig["global"]["parameters"].get("stack_name")), "samconfig: stack_name")

# template-image.yaml: the same stack with container images (scripts/image-template.py).
if len(sys.argv) == 1:
    import importlib.util
    spec = importlib.util.spec_from_file_location("image_template", "scripts/image-template.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    with open("template.yaml") as f, open("template-image.yaml") as g:
        expect(g.read() == generator.image_template(f.read()),
               "template-image.yaml is not what scripts/image-template.py writes from template.yaml")
    image, errors = decode("template-image.yaml")
    expect(not errors, f"template-image.yaml does not parse: {errors}")
    image_globals = image["Globals"]["Function"]
    expect(image_globals.get("Architectures") == ["arm64"], "template-image.yaml: Architectures [arm64]")
    expect(not {"Runtime", "Handler", "CodeUri"} & set(image_globals),
           "template-image.yaml: no Runtime, Handler or CodeUri (an image carries them)")
    for logical_id, binary in FUNCTIONS.items():
        function = image["Resources"].get(logical_id, {"Metadata": {}, "Properties": {}})
        expect(function["Properties"].get("PackageType") == "Image", f"image {logical_id}: PackageType Image")
        expect(function["Metadata"] == {"Dockerfile": "Dockerfile.lambda", "DockerContext": ".",
                                        "DockerTag": binary, "DockerBuildArgs": {"FUNCTION": binary}},
               f"image {logical_id}: built from Dockerfile.lambda with FUNCTION={binary}")
    image_deploy = samconfig_all.get("image", {}).get("deploy", {}).get("parameters", {})
    expect(samconfig_all.get("image", {}).get("build", {}).get("parameters", {}).get("template_file")
           == "template-image.yaml", "samconfig [image.build]: template_file = template-image.yaml")
    expect(image_deploy.get("resolve_image_repos") is True, "samconfig [image.deploy]: resolve_image_repos = true")
    expect(image_deploy.get("capabilities") == "CAPABILITY_IAM", "samconfig [image.deploy]: CAPABILITY_IAM")
    image_overridden = {item.split("=", 1)[0] for item in image_deploy.get("parameter_overrides", [])}
    expect(required <= image_overridden,
           f"samconfig [image.deploy] must give the parameters without default: {sorted(required)}")

for problem in problems:
    print(f"check-template: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
