//! The HTTP contract as a caller meets it: every refusal is the JSON error shape. The test walks `/openapi.json`
//! and sends every query parameter that has a wrong value a wrong value (by its declared type: a word for a
//! number, a value outside an enumeration or a pattern, a date that is not one), every required parameter left
//! out, and every numeric path parameter a word; unknown routes and wrong methods are asked too. Each answer must be
//! a 4xx `{"error": {"code", "message", "details"}}` naming the parameter. It fails when a handler goes back to a
//! plain extractor (axum's text/plain rejections) or a parameter is undeclared.

use crate::common::TestServer;
use serde_json::Value;

/// A value the declared schema refuses, if the schema refuses any.
fn bad_value(schema: &Value, doc: &Value) -> Option<&'static str> {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    };
    let kinds: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if schema.get("enum").is_some() {
        return Some("bogus-value");
    }
    if kinds.contains(&"integer") || kinds.contains(&"number") {
        return Some("abc");
    }
    if kinds.contains(&"boolean") {
        return Some("maybe");
    }
    if schema.get("pattern").is_some() {
        return Some("1,2,x");
    }
    if schema["format"] == "date-time" {
        return Some("yesterday");
    }
    // A one-of of several schemas (an optional enumeration): refused when any part refuses.
    for key in ["oneOf", "anyOf"] {
        if let Some(parts) = schema[key].as_array() {
            return parts.iter().find_map(|p| bad_value(p, doc));
        }
    }
    None
}

/// A value every parameter accepts, to fill the required ones not under test: the document's example where it
/// gives one.
fn good_value<'a>(name: &str, query: &[&'a Value]) -> &'a str {
    let example = query
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["example"].as_str().or(p["schema"]["example"].as_str()));
    if let Some(e) = example {
        return e;
    }
    match name {
        "lon" => "118.79",
        "lat" => "32.02",
        "distance_m" => "500",
        "responder_id" => "1",
        "bbox" => "118.7,31.9,118.9,32.1",
        _ => "1",
    }
}

/// A path with its parameters filled.
fn fill_path(path: &str, bad: Option<&str>) -> String {
    path.split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if Some(name) == bad => "not-a-number".to_owned(),
            Some("layer") => "grids".to_owned(),
            Some("code") => "32010400600507".to_owned(),
            Some("cell") => "8a30c0a6a86ffff".to_owned(),
            Some("file") => "style.json".to_owned(),
            Some("id") if path.starts_with("/ogc") => "grids".to_owned(),
            Some("feature") => "32010400600507".to_owned(),
            Some("y") => "1.mvt".to_owned(),
            Some(_) => "1".to_owned(),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn send(client: &reqwest::Client, method: &str, url: String) -> (u16, String, Value) {
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let mut req = client.request(method.clone(), url);
    if method == reqwest::Method::POST || method == reqwest::Method::PUT {
        req = req.header("content-type", "application/json").body("{}");
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let kind = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = r.text().await.unwrap_or_default();
    (status, kind, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn assert_error_shape(what: &str, status: u16, kind: &str, body: &Value) {
    assert!((400..500).contains(&status), "{what}: status {status}: {body}");
    assert!(kind.starts_with("application/json"), "{what}: content-type {kind:?}: {body}");
    let e = &body["error"];
    assert!(
        e["code"].as_str().is_some_and(|c| !c.is_empty() && c.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            && e["message"].as_str().is_some_and(|m| !m.is_empty())
            && e["details"].is_object(),
        "{what}: not the error shape: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_a_json_error_naming_the_parameter() {
    let db = crate::common::TestDb::sqlite();
    let s = TestServer::start(&db.url, true).await;
    let client = reqwest::Client::new();
    let doc: Value = client.get(s.url("/openapi.json")).send().await.expect("doc").json().await.expect("json");
    let (mut checked, mut missing_checked, mut paths_checked) = (0, 0, 0);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let query: Vec<&Value> = params.iter().filter(|p| p["in"] == "query").collect();
            let required: Vec<&str> =
                query.iter().filter(|p| p["required"] == true).filter_map(|p| p["name"].as_str()).collect();
            let with = |pairs: Vec<(&str, &str)>| {
                let q = serde_urlencoded::to_string(&pairs).expect("query");
                s.url(&format!("{}?{q}", fill_path(path, None)))
            };
            for p in &query {
                let name = p["name"].as_str().expect("name");
                let Some(bad) = bad_value(&p["schema"], &doc) else { continue };
                let mut pairs: Vec<(&str, &str)> =
                    required.iter().filter(|r| **r != name).map(|r| (*r, good_value(r, &query))).collect();
                pairs.push((name, bad));
                let what = format!("{method} {path} {name}={bad}");
                let (status, kind, body) = send(&client, method, with(pairs)).await;
                assert_error_shape(&what, status, &kind, &body);
                assert_eq!(body["error"]["details"]["parameter"], name, "{what}: names the parameter: {body}");
                checked += 1;
            }
            for name in &required {
                let pairs: Vec<(&str, &str)> =
                    required.iter().filter(|r| *r != name).map(|r| (*r, good_value(r, &query))).collect();
                let what = format!("{method} {path} without {name}");
                let (status, kind, body) = send(&client, method, with(pairs)).await;
                assert_error_shape(&what, status, &kind, &body);
                assert_eq!(body["error"]["details"]["parameter"], *name, "{what}: {body}");
                missing_checked += 1;
            }
            for p in params.iter().filter(|p| p["in"] == "path" && p["schema"]["type"] == "integer") {
                let name = p["name"].as_str().expect("name");
                let what = format!("{method} {path} with {name} not a number");
                let (status, kind, body) = send(&client, method, s.url(&fill_path(path, Some(name)))).await;
                assert_error_shape(&what, status, &kind, &body);
                paths_checked += 1;
            }
        }
    }
    // The document declares typed parameters: a handful of untyped ones would make this test vacuous.
    assert!(
        checked >= 60 && missing_checked >= 8 && paths_checked >= 15,
        "{checked} {missing_checked} {paths_checked}"
    );
    eprintln!("{checked} bad values, {missing_checked} missing parameters, {paths_checked} bad path ids refused");

    for (method, path, status) in [
        ("GET", "/api/v1/no-such-thing", 404),
        ("GET", "/nothing/here", 404),
        ("DELETE", "/api/v1/locate", 405),
        ("PUT", "/api/v1/incidents", 405),
    ] {
        let (got, kind, body) = send(&client, method, s.url(path)).await;
        assert_eq!(got, status, "{method} {path}: {body}");
        assert_error_shape(&format!("{method} {path}"), got, &kind, &body);
    }
    // A body field of the wrong type is named too.
    let r = client
        .post(s.url("/api/v1/incidents"))
        .json(&serde_json::json!({"location": [118.79, 32.02], "category": "fire", "priority": "high"}))
        .send()
        .await
        .expect("post");
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        (body["error"]["code"].as_str(), body["error"]["details"]["field"].as_str()),
        (Some("invalid_json"), Some("priority")),
        "{body}"
    );
    db.cleanup().await;
}

/// A client generated from `/openapi.json` by a mainstream generator (openapi-python-client, from PyPI) calls the
/// API: a lookup, the layers, an incident report and the incident list (tests/ogc/client_check.py). It fails when
/// the document is not good enough to generate a working client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_client_calls_the_api() {
    let Some(python) = std::env::var_os("GRIDMAP_PYTHON") else {
        assert!(
            std::env::var("GRIDMAP_REQUIRE_PYTHON").is_err(),
            "GRIDMAP_REQUIRE_PYTHON is set but GRIDMAP_PYTHON is not"
        );
        eprintln!("skipping: GRIDMAP_PYTHON is not set (scripts/python-env sets it)");
        return;
    };
    let db = crate::common::TestDb::sqlite();
    let s = TestServer::start(&db.url, true).await;
    let dir = tempfile::tempdir().expect("dir");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ogc/client_check.py");
    let out =
        tokio::process::Command::new(python).arg(script).arg(&s.base).arg(dir.path()).output().await.expect("python");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "generated client failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("locate: grid 32010400600507") && stdout.contains("list: "), "{stdout}");
    db.cleanup().await;
}

/// `docs/http-api.md` is what `scripts/api-docs.py` makes of the served `/openapi.json`: the reference cannot drift
/// from the contract (regenerate it with the command at its top when an endpoint changes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_reference_is_generated_from_the_contract() {
    let db = crate::common::TestDb::sqlite();
    let s = TestServer::start(&db.url, true).await;
    let doc = reqwest::get(s.url("/openapi.json")).await.expect("doc").text().await.expect("text");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc).expect("write");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(root.join("scripts/api-docs.py"))
        .arg(&file)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let committed = std::fs::read_to_string(root.join("docs/http-api.md")).expect("docs/http-api.md");
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "docs/http-api.md is stale: regenerate it with scripts/api-docs.py (see its first lines)"
    );
    db.cleanup().await;
}
