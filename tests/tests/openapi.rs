//! `GET /openapi.json`: a valid OpenAPI 3.1 document (checked by `openapi-spec-validator`
//! from PyPI, in the project's tool virtualenv) that lists every route the router serves,
//! every query parameter each one accepts, and answers that match what the handlers send
//! (real answers are validated against the documented schemas, undocumented fields included).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use http::{Method, StatusCode};
use integration_tests::{app, call, get, post, sqlite_store, Reply, TEST_KEY};
use serde_json::{json, Value};

/// Validates the document, then each `{path, method, status, body}` sample against the
/// response schema the document gives for it; fields the schema does not name are errors.
const VALIDATE: &str = r#"
import json, sys
from openapi_spec_validator import validate
from openapi_schema_validator import OAS31Validator

doc = json.load(open(sys.argv[1]))
validate(doc)
schemas = doc["components"]["schemas"]
errors = []

def resolve(schema):
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    return schema

def valid(instance, schema):
    return OAS31Validator(dict(schema, components=doc["components"])).is_valid(instance)

def properties(schema):
    schema = resolve(schema)
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(properties(part))
    return found

def undocumented(instance, schema, where):
    schema = resolve(schema)
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        if valid(instance, branch):
            return undocumented(instance, branch, where)
    if isinstance(instance, dict):
        named = properties(schema)
        if not named:
            extra = schema.get("additionalProperties")
            for key, value in instance.items():
                if isinstance(extra, dict):
                    undocumented(value, extra, f"{where}.{key}")
            return
        for key, value in instance.items():
            if key in named:
                undocumented(value, named[key], f"{where}.{key}")
            else:
                errors.append(f"{where}.{key} is not in the schema")
    elif isinstance(instance, list) and "items" in schema:
        for i, value in enumerate(instance[:3]):
            undocumented(value, schema["items"], f"{where}[{i}]")

for sample in json.load(open(sys.argv[2])):
    name = f'{sample["method"].upper()} {sample["path"]} {sample["status"]}'
    responses = doc["paths"][sample["path"]][sample["method"]]["responses"]
    response = responses.get(str(sample["status"]))
    if response is None:
        errors.append(f"{name}: status not documented")
        continue
    content = response.get("content", {}).get("application/json")
    if content is None:
        errors.append(f"{name}: no JSON schema")
        continue
    for error in OAS31Validator(dict(content["schema"], components=doc["components"])).iter_errors(sample["body"]):
        errors.append(f"{name}: {error.message} at {list(error.absolute_path)}")
    undocumented(sample["body"], content["schema"], name)

print("\n".join(errors))
sys.exit(1 if errors else 0)
"#;

/// The project's tool virtualenv's Python with `openapi-spec-validator` (installed there when missing).
fn validator_python() -> PathBuf {
    let venv = std::env::var_os("VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/cost-tracker/venv")
        });
    let python = venv.join("bin/python");
    if !python.exists() {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "python3 -m venv {}",
            venv.display()
        );
    }
    let present = Command::new(&python)
        .args([
            "-c",
            "import openapi_spec_validator, openapi_schema_validator",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        let install = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("openapi-spec-validator==0.9.0")
            .output()
            .expect("run pip");
        assert!(
            install.status.success(),
            "pip install openapi-spec-validator: {}",
            String::from_utf8_lossy(&install.stderr)
        );
    }
    python
}

/// Every (method, path) the router serves.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/admin/budgets"),
    ("post", "/admin/budgets"),
    ("put", "/admin/budgets/{id}"),
    ("delete", "/admin/budgets/{id}"),
    ("post", "/admin/budgets/check"),
    ("get", "/costs/budgets"),
    ("get", "/openapi.json"),
    ("get", "/dashboard"),
    ("get", "/dashboard/app.js"),
    ("get", "/dashboard/key.js"),
    ("get", "/dashboard/style.css"),
    ("post", "/dashboard/session"),
    ("delete", "/dashboard/session"),
    ("get", "/costs/daily"),
    ("get", "/costs/range"),
    ("get", "/costs/summary/weekly"),
    ("get", "/costs/summary/monthly"),
    ("get", "/costs/by-model"),
    ("get", "/costs/by-session-type"),
    ("get", "/costs/by-project"),
    ("get", "/costs/by-agent"),
    ("get", "/costs/by-provider"),
    ("get", "/costs/daily-summary"),
    ("get", "/costs/reconciliation"),
    ("get", "/costs/bill-check"),
    ("get", "/api/usage"),
    ("post", "/api/usage"),
    ("get", "/api/usage/summary"),
    ("delete", "/api/usage/{id}"),
    ("get", "/api/models"),
    ("get", "/api/models/{id}"),
    ("get", "/admin/project-mappings"),
    ("post", "/admin/project-mappings"),
    ("put", "/admin/project-mappings/{id}"),
    ("delete", "/admin/project-mappings/{id}"),
    ("post", "/admin/reprice"),
    ("put", "/admin/prices/{model}"),
    ("delete", "/admin/prices/{model}"),
    ("get", "/admin/status"),
    ("post", "/admin/collect"),
    ("post", "/admin/sync-cv"),
];

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                found.insert((method.clone(), path.clone()));
            }
        }
    }
    found
}

fn concrete(path: &str) -> String {
    path.replace("/api/models/{id}", "/api/models/gpt-4o")
        .replace("{id}", "1")
        .replace("{model}", "gpt-4o")
}

fn method(name: &str) -> Method {
    name.to_uppercase().parse().unwrap()
}

#[tokio::test]
async fn the_document_is_valid_and_lists_every_route() {
    let t = sqlite_store().await;
    let app = app(&t.store, "UTC");
    let reply = call(&app, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "public, like /health");
    assert_eq!(reply.headers["content-type"], "application/json");
    let doc = reply.body;
    assert_eq!(doc["openapi"], "3.1.0");

    let want: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(operations(&doc), want, "documented = served");

    // The endpoint agents call most declares its event: one, or an array of up to 5,000.
    let body =
        &doc["paths"]["/api/usage"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/UsageBody");
    let body = &doc["components"]["schemas"]["UsageBody"];
    let one_of: Vec<&str> = body["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("POST /api/usage body: {body}"))
        .iter()
        .filter_map(|s| s["$ref"].as_str())
        .collect();
    assert_eq!(
        one_of,
        [
            "#/components/schemas/UsageEvent",
            "#/components/schemas/UsageBatch"
        ]
    );
    let event = &doc["components"]["schemas"]["UsageEvent"];
    assert_eq!(event["required"], json!(["model"]));
    assert_eq!(event["properties"]["model"]["maxLength"], 200);
    assert_eq!(event["properties"]["tokens_in"]["minimum"], 0);
    assert_eq!(doc["components"]["schemas"]["UsageBatch"]["maxItems"], 5000);

    // Every documented operation is routed, and asks for the key unless documented public.
    for (name, path) in operations(&doc) {
        let op = &doc["paths"][&path][&name];
        let public = op["security"] == json!([{}]);
        let r = call(&app, method(&name), &concrete(&path), Some(json!({})), None).await;
        assert_ne!(
            r.status,
            StatusCode::NOT_FOUND,
            "{name} {path} is not routed"
        );
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{name} {path}");
        if !public {
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{name} {path} needs the key"
            );
            assert!(
                op["responses"]["401"].is_object(),
                "{name} {path} documents 401"
            );
        }
        // Every documented query parameter is accepted (the parser rejects anything else).
        for param in op["parameters"].as_array().into_iter().flatten() {
            if param["in"] != "query" {
                continue;
            }
            let p = param["name"].as_str().unwrap();
            let uri = format!("{}?{p}=x", concrete(&path));
            let r = call(&app, method(&name), &uri, None, Some(TEST_KEY)).await;
            let unknown = r.body["error"]["details"][0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("unknown parameter"));
            assert!(!unknown, "{name} {path}: `{p}` is documented but refused");
        }
        // ... and each takes one value: given twice, it is a 400 that names it.
        let first = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|param| param["in"] == "query")
            .and_then(|param| param["name"].as_str());
        if let Some(p) = first {
            let uri = format!("{}?{p}=x&{p}=y", concrete(&path));
            let r = call(&app, method(&name), &uri, None, Some(TEST_KEY)).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{name} {path}: `{p}` twice"
            );
            assert_eq!(r.body["error"]["details"][0]["field"], p, "{name} {path}");
            let message = r.body["error"]["details"][0]["message"].as_str();
            assert!(
                message.is_some_and(|m| m.contains("more than once")),
                "{name} {path}: {}",
                r.body
            );
        }
    }
    let undocumented = call(
        &app,
        Method::GET,
        "/costs/range?colour=red",
        None,
        Some(TEST_KEY),
    )
    .await;
    assert_eq!(undocumented.body["error"]["details"][0]["field"], "colour");

    // Routes are added only through `routes!` (from `#[utoipa::path]`), never around the document.
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src/http/mod.rs"),
    )
    .unwrap();
    assert!(
        !source.contains(".route("),
        "shared/src/http/mod.rs adds a route that the document does not see"
    );
}

fn sample(samples: &mut Vec<Value>, method: &str, path: &str, reply: &Reply) {
    samples.push(json!({"method": method, "path": path, "status": reply.status.as_u16(), "body": reply.body}));
}

#[tokio::test]
async fn real_answers_match_the_documented_schemas() {
    let t = sqlite_store().await;
    let app = app(&t.store, "UTC");
    let mut samples = Vec::new();
    let events = json!([
        {"event_id":"o1","model":"claude-opus-4-5","tokens_in":1000,"tokens_out":200,"session_label":"peakpaws-x",
         "agent":"openclaw","recorded_at":"2026-11-10T09:00:00Z","metadata":{"k":"v"}},
        {"event_id":"o2","model":"acme-x1","tokens_in":5,"recorded_at":"2026-11-10T10:00:00Z"}
    ]);
    let created = post(&app, "/api/usage", events).await;
    sample(&mut samples, "post", "/api/usage", &created);
    let range = "start=2026-11-01&end=2026-11-30";
    for (path, query) in [
        ("/costs/daily", "date=2026-11-10".to_string()),
        ("/costs/range", format!("{range}&stack_by=model")),
        ("/costs/range", range.to_string()),
        ("/costs/summary/weekly", String::new()),
        ("/costs/summary/monthly", String::new()),
        ("/costs/by-model", range.to_string()),
        ("/costs/by-session-type", range.to_string()),
        ("/costs/by-project", range.to_string()),
        ("/costs/by-agent", range.to_string()),
        ("/costs/by-provider", range.to_string()),
        ("/costs/daily-summary", "date=2026-11-10".to_string()),
        ("/costs/reconciliation", range.to_string()),
        ("/costs/bill-check", range.to_string()),
        ("/costs/by-model", format!("{range}&basis=raw")),
        (
            "/api/usage",
            "start_date=2026-11-01&end_date=2026-11-30".to_string(),
        ),
        (
            "/api/usage/summary",
            "start_date=2026-11-01&end_date=2026-11-30".to_string(),
        ),
        ("/api/models", String::new()),
        ("/admin/project-mappings", String::new()),
        ("/admin/status", String::new()),
        ("/health", String::new()),
        ("/costs/range", "start=nope".to_string()),
    ] {
        let reply = integration_tests::get(&app, &format!("{path}?{query}")).await;
        sample(&mut samples, "get", path, &reply);
    }
    for id in ["claude-sonnet-4-5", "no-such-model"] {
        let reply = integration_tests::get(&app, &format!("/api/models/{id}")).await;
        sample(&mut samples, "get", "/api/models/{id}", &reply);
    }
    let rule = post(
        &app,
        "/admin/project-mappings",
        json!({"pattern":"acme-*","project":"Acme","priority":3}),
    )
    .await;
    sample(&mut samples, "post", "/admin/project-mappings", &rule);
    let id = rule.body["rule"]["id"].as_i64().unwrap();
    let put = call(
        &app,
        Method::PUT,
        &format!("/admin/project-mappings/{id}"),
        Some(json!({"pattern":"acme-*","project":"Acme Co"})),
        Some(TEST_KEY),
    )
    .await;
    sample(&mut samples, "put", "/admin/project-mappings/{id}", &put);
    let deleted = call(
        &app,
        Method::DELETE,
        &format!("/admin/project-mappings/{id}"),
        None,
        Some(TEST_KEY),
    )
    .await;
    sample(
        &mut samples,
        "delete",
        "/admin/project-mappings/{id}",
        &deleted,
    );
    let reprice = post(
        &app,
        "/admin/reprice",
        json!({"start":"2026-11-01","end":"2026-11-30"}),
    )
    .await;
    sample(&mut samples, "post", "/admin/reprice", &reprice);
    let sync = post(&app, "/admin/sync-cv", json!({})).await;
    sample(&mut samples, "post", "/admin/sync-cv", &sync);
    let unauthorized = call(&app, Method::GET, "/admin/status", None, None).await;
    sample(&mut samples, "get", "/admin/status", &unauthorized);
    let missing = call(
        &app,
        Method::DELETE,
        "/api/usage/999999",
        None,
        Some(TEST_KEY),
    )
    .await;
    sample(&mut samples, "delete", "/api/usage/{id}", &missing);
    let budget = json!({"name": "doc-daily", "scope": {"dimension": "project", "value": "PeakPaws"},
        "period": "day", "amount_usd": "10", "forecast": true,
        "channels": [{"type": "webhook", "url": "https://hooks.slack.com/services/T/B/x"}, {"type": "context_vault"}]});
    let created = post(&app, "/admin/budgets", budget.clone()).await;
    sample(&mut samples, "post", "/admin/budgets", &created);
    let refused = post(
        &app,
        "/admin/budgets",
        json!({"name": "x", "period": "year"}),
    )
    .await;
    sample(&mut samples, "post", "/admin/budgets", &refused);
    let taken = post(&app, "/admin/budgets", budget.clone()).await;
    sample(&mut samples, "post", "/admin/budgets", &taken);
    let budget_uri = format!("/admin/budgets/{}", created.body["id"]);
    let put = call(&app, Method::PUT, &budget_uri, Some(budget), Some(TEST_KEY)).await;
    sample(&mut samples, "put", "/admin/budgets/{id}", &put);
    let listed = get(&app, "/admin/budgets").await;
    sample(&mut samples, "get", "/admin/budgets", &listed);
    let checked = call(
        &app,
        Method::POST,
        "/admin/budgets/check",
        None,
        Some(TEST_KEY),
    )
    .await;
    sample(&mut samples, "post", "/admin/budgets/check", &checked);
    let now = get(&app, "/costs/budgets").await;
    sample(&mut samples, "get", "/costs/budgets", &now);
    let gone = call(&app, Method::DELETE, &budget_uri, None, Some(TEST_KEY)).await;
    sample(&mut samples, "delete", "/admin/budgets/{id}", &gone);

    let doc = call(&app, Method::GET, "/openapi.json", None, None).await;
    let dir = std::env::temp_dir().join(format!("ct-openapi-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (doc_path, samples_path) = (dir.join("openapi.json"), dir.join("samples.json"));
    std::fs::write(&doc_path, &doc.text).unwrap();
    std::fs::write(&samples_path, serde_json::to_vec(&samples).unwrap()).unwrap();
    let python = validator_python();
    let output = Command::new(python)
        .arg("-c")
        .arg(VALIDATE)
        .arg(&doc_path)
        .arg(&samples_path)
        .output()
        .expect("run the validator");
    assert!(
        output.status.success(),
        "the document or an answer does not validate:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The document without its prose: every `description` key removed, at any depth.
fn without_descriptions(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| key.as_str() != "description")
                .map(|(key, value)| (key.clone(), without_descriptions(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_descriptions).collect()),
        other => other.clone(),
    }
}

/// The document is the contract clients are generated from: it changes only on
/// purpose. `tests/fixtures/openapi.json` is the document as released; after a
/// deliberate change, write the new one there (`UPDATE_OPENAPI_SNAPSHOT=1`).
#[tokio::test]
async fn the_document_matches_the_released_one_apart_from_descriptions() {
    let t = sqlite_store().await;
    let app = app(&t.store, "UTC");
    let reply = call(&app, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let snapshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI_SNAPSHOT").is_some() {
        let text = serde_json::to_string_pretty(&reply.body).unwrap();
        std::fs::write(&snapshot, text + "\n").unwrap();
    }
    let released: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let (now, then) = (
        without_descriptions(&reply.body),
        without_descriptions(&released),
    );
    if now != then {
        let paths = |doc: &Value| -> Vec<String> {
            doc["paths"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        panic!(
            "/openapi.json differs from tests/fixtures/openapi.json beyond descriptions \
             (paths now {:?}, released {:?}); if the change is deliberate, regenerate it \
             with UPDATE_OPENAPI_SNAPSHOT=1",
            paths(&now),
            paths(&then)
        );
    }
}
