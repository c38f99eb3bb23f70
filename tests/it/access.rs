//! Access control and the audit log over HTTP on both stores: anonymous callers reach boundaries only (401
//! elsewhere), each role is held to what it may do (403), revoked and unknown keys are refused, a street-scoped key
//! never sees items outside its street, hostile inputs get 4xx, and every privileged action leaves an audit row.

use crate::common::{TestServer, sample_layer};
use geo::InteriorPoint;
use gridmap::auth::keys::generate;
use gridmap::auth::{Keyring, Role, Scope};
use reqwest::Method;
use serde_json::{Value, json};

async fn send(s: &TestServer, key: Option<&str>, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, s.url(path));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn key(s: &TestServer, name: &str, role: Role, scope: Option<Scope>) -> (i64, String) {
    let (secret, new) = generate(name, role, scope);
    let stored = s.store.create_key(&new).await.expect("store key");
    (stored.id, secret)
}

/// An interior point of each of the first two streets, with their codes.
fn two_streets() -> [(String, [f64; 2]); 2] {
    let streets = sample_layer("streets");
    let pick = |i: usize| {
        let f = &streets["features"][i];
        let g: geo::Geometry = serde_json::from_value::<geojson::Geometry>(f["geometry"].clone())
            .expect("geometry")
            .try_into()
            .expect("geo");
        let p = g.interior_point().expect("interior point");
        (f["properties"]["code"].as_str().expect("code").to_owned(), [p.x(), p.y()])
    };
    [pick(0), pick(1)]
}

async fn roles_are_enforced(url: &str) {
    let s = TestServer::start_with(url, true, |o| o.auth = true).await;
    let (_, viewer) = key(&s, "大屏", Role::Viewer, None).await;
    let (_, service) = key(&s, "网格通", Role::Service, None).await;
    let (dispatcher_id, dispatcher) = key(&s, "调度员甲", Role::Dispatcher, None).await;
    let (_, admin) = key(&s, "GIS 科", Role::GisAdmin, None).await;
    let [(_, here), _] = two_streets();
    let incident = json!({"location": here, "category": "fire"});

    // Anonymous: boundaries yes, the rest 401 with a Bearer challenge.
    let (st, _) = send(&s, None, Method::GET, &format!("/api/v1/locate?lon={}&lat={}", here[0], here[1]), None).await;
    assert_eq!(st, 200);
    assert_eq!(send(&s, None, Method::GET, "/api/v1/layers", None).await.0, 200);
    assert_eq!(send(&s, None, Method::GET, "/tiles/streets.json", None).await.0, 200);
    // The rest of what docs/operations.md lists as open: the API's description, the boundaries' names and
    // relations, the category lists. /metrics is not among them (it needs a key with read access).
    let street = sample_layer("streets")["features"][0]["properties"]["code"].as_str().expect("code").to_owned();
    for path in [
        "/openapi.json".to_owned(),
        "/docs".to_owned(),
        format!("/api/v1/areas/streets/{street}"),
        "/api/v1/incident-categories".to_owned(),
        "/healthz".to_owned(),
    ] {
        assert_eq!(send(&s, None, Method::GET, &path, None).await.0, 200, "{path} is open");
    }
    let (st, v) = send(&s, None, Method::GET, "/metrics", None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("unauthorized")), "/metrics: {v}");
    assert_eq!(send(&s, Some(&viewer), Method::GET, "/metrics", None).await.0, 200, "/metrics with a read key");
    let r = reqwest::get(s.url("/api/v1/incidents")).await.expect("request");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    for (method, path, body) in [
        (Method::POST, "/api/v1/incidents", Some(incident.clone())),
        (Method::GET, "/api/v1/responders", None),
        (Method::POST, "/api/v1/positions", Some(json!({"positions": []}))),
        (Method::PUT, "/api/v1/responders/1/position", Some(json!({"location": here}))),
        (Method::POST, "/api/v1/incidents/1/assign", Some(json!({"responder_id": 1}))),
        (Method::POST, "/api/v1/generations/rollback", None),
        (Method::GET, "/api/v1/audit", None),
        (Method::GET, "/tiles/incidents/14/13700/6680.mvt", None),
        (Method::GET, "/api/v1/dispatch/nearest?lon=118.79&lat=32.02", None),
    ] {
        let (st, v) = send(&s, None, method.clone(), path, body.clone()).await;
        assert_eq!((st, v["error"]["code"].as_str()), (401, Some("unauthorized")), "{method} {path}: {v}");
        // A wrong key and a malformed header are 401 too.
        assert_eq!(send(&s, Some("gmk_0000"), method.clone(), path, body.clone()).await.0, 401, "{path}");
    }
    let r = reqwest::Client::new()
        .get(s.url("/api/v1/incidents"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 401);

    // Viewer reads, writes nothing.
    assert_eq!(send(&s, Some(&viewer), Method::GET, "/api/v1/incidents", None).await.0, 200);
    let (st, v) = send(&s, Some(&viewer), Method::POST, "/api/v1/incidents", Some(incident.clone())).await;
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("forbidden")), "{v}");
    // Service reports but does not dispatch or administer.
    let (st, inc) = send(&s, Some(&service), Method::POST, "/api/v1/incidents", Some(incident.clone())).await;
    assert_eq!(st, 201, "{inc}");
    let (st, _) =
        send(&s, Some(&service), Method::POST, "/api/v1/responders", Some(json!({"name": "x", "kind": "grid_worker"})))
            .await;
    assert_eq!(st, 403);
    // Dispatcher: roster and assignment, not imports or the audit log.
    let (st, responder) = send(
        &s,
        Some(&dispatcher),
        Method::POST,
        "/api/v1/responders",
        Some(json!({"name": "李", "kind": "grid_worker", "location": here})),
    )
    .await;
    assert_eq!(st, 201, "{responder}");
    let (st, pos) = send(
        &s,
        Some(&service),
        Method::PUT,
        &format!("/api/v1/responders/{}/position", responder["id"]),
        Some(json!({"location": here})),
    )
    .await;
    assert!(st < 300, "{st} {pos}");
    let assign = json!({"responder_id": responder["id"]});
    let path = format!("/api/v1/incidents/{}/assign", inc["id"]);
    assert_eq!(send(&s, Some(&service), Method::POST, &path, Some(assign.clone())).await.0, 403);
    let (st, v) = send(&s, Some(&dispatcher), Method::POST, &path, Some(assign)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(send(&s, Some(&dispatcher), Method::GET, "/api/v1/audit", None).await.0, 403);
    assert_eq!(send(&s, Some(&dispatcher), Method::POST, "/api/v1/generations/rollback", None).await.0, 403);
    // The assignment is recorded under the key, whatever the body claims.
    let (st, audit) = send(&s, Some(&admin), Method::GET, "/api/v1/audit?action=incident.assigned", None).await;
    assert_eq!(st, 200, "{audit}");
    let row = &audit["items"][0];
    assert_eq!(row["actor"], format!("key:{dispatcher_id}:调度员甲"));
    assert_eq!(row["target"], format!("incident:{}", inc["id"]));
    let (_, history) = send(&s, Some(&viewer), Method::GET, &format!("/api/v1/incidents/{}", inc["id"]), None).await;
    assert_eq!(history["assignments"][0]["actor"], format!("key:{dispatcher_id}:调度员甲"), "{history}");

    // Revoked: refused once the keyring's cache has expired.
    s.store.revoke_key(dispatcher_id).await.expect("revoke").expect("the key exists");
    tokio::time::sleep(Keyring::FRESH + std::time::Duration::from_millis(200)).await;
    let (st, v) = send(&s, Some(&dispatcher), Method::GET, "/api/v1/incidents", None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("unauthorized")), "{v}");

    // Hostile input: 4xx, never 5xx.
    for path in [
        "/api/v1/incidents?street=%27%20OR%201%3D1%20--",
        "/api/v1/incidents?limit=99999999999",
        "/api/v1/incidents?bbox=1,2,3",
        "/api/v1/audit?action=x%27%3B%20DROP%20TABLE%20audit_log%3B%20--",
        "/api/v1/locate?lon=1%3BDROP&lat=2",
    ] {
        let (st, v) = send(&s, Some(&admin), Method::GET, path, None).await;
        assert!(st == 200 && v["items"] == json!([]) || (400..500).contains(&st), "{path}: {st} {v}");
    }
    let (st, _) = send(&s, Some(&admin), Method::GET, "/api/v1/audit?limit=5", None).await;
    assert_eq!(st, 200, "the audit log is still there");
    let huge = json!({"location": here, "category": "fire", "description": "x".repeat(17 << 20)});
    assert_eq!(send(&s, Some(&admin), Method::POST, "/api/v1/incidents", Some(huge)).await.0, 413);
}

async fn a_street_key_sees_only_its_street(url: &str) {
    let s = TestServer::start_with(url, true, |o| o.auth = true).await;
    let (_, admin) = key(&s, "admin", Role::GisAdmin, None).await;
    let [(mine, here), (other, there)] = two_streets();
    let (_, scoped) = key(&s, "街道值班", Role::Dispatcher, Some(Scope::Street(mine.clone()))).await;
    let mut ids = Vec::new();
    for p in [here, there, here] {
        let (st, v) =
            send(&s, Some(&admin), Method::POST, "/api/v1/incidents", Some(json!({"location": p, "category": "fire"})))
                .await;
        assert_eq!(st, 201, "{v}");
        ids.push(v["id"].clone());
    }
    let (st, hz) = send(
        &s,
        Some(&admin),
        Method::POST,
        "/api/v1/hazards",
        Some(json!({"location": there, "category": "fire_safety", "department": "消防"})),
    )
    .await;
    assert_eq!(st, 201, "{hz}");

    let (_, list) = send(&s, Some(&scoped), Method::GET, "/api/v1/incidents", None).await;
    let seen: Vec<&Value> = list["items"].as_array().expect("items").iter().map(|i| &i["street_code"]).collect();
    assert_eq!(seen.len(), 2, "{list}");
    assert!(seen.iter().all(|c| **c == json!(mine)));
    let (_, asked) = send(&s, Some(&scoped), Method::GET, &format!("/api/v1/incidents?street={other}"), None).await;
    assert_eq!(asked["items"], json!([]));
    let (st, v) = send(&s, Some(&scoped), Method::GET, &format!("/api/v1/incidents/{}", ids[1]), None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("incident_not_found")), "{v}");
    let (st, _) = send(&s, Some(&scoped), Method::GET, &format!("/api/v1/incidents/{}", ids[0]), None).await;
    assert_eq!(st, 200);
    let (st, _) = send(
        &s,
        Some(&scoped),
        Method::POST,
        &format!("/api/v1/incidents/{}/status", ids[1]),
        Some(json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(st, 404);
    let (_, hazards) = send(&s, Some(&scoped), Method::GET, "/api/v1/hazards", None).await;
    assert_eq!(hazards["items"], json!([]), "{hazards}");
    assert_eq!(send(&s, Some(&scoped), Method::GET, &format!("/api/v1/hazards/{}", hz["id"]), None).await.0, 404);
    let (st, v) = send(
        &s,
        Some(&scoped),
        Method::POST,
        "/api/v1/incidents",
        Some(json!({"location": there, "category": "fire"})),
    )
    .await;
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("outside_scope")), "{v}");
    // Endpoints that cannot filter by scope are refused rather than leaking.
    for path in
        ["/api/v1/responders", "/api/v1/heatmap?source=incidents&resolution=8", "/tiles/incidents/14/13700/6680.mvt"]
    {
        let (st, v) = send(&s, Some(&scoped), Method::GET, path, None).await;
        assert_eq!((st, v["error"]["code"].as_str()), (403, Some("outside_scope")), "{path}: {v}");
    }
}

async fn privileged_actions_are_audited(url: &str) {
    let s = TestServer::start_with(url, true, |o| o.auth = true).await;
    let (admin_id, admin) = key(&s, "GIS 科", Role::GisAdmin, None).await;
    let grids = serde_json::to_vec(&sample_layer("grids")).expect("json");
    let form = reqwest::multipart::Form::new()
        .text("layer", "grids")
        .text("activate", "true")
        .part("file", reqwest::multipart::Part::bytes(grids).file_name("grids.geojson"));
    let r = reqwest::Client::new()
        .post(s.url("/api/v1/imports"))
        .bearer_auth(&admin)
        .multipart(form)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status().as_u16(), 201);
    let (st, v) = send(&s, Some(&admin), Method::POST, "/api/v1/generations/rollback", None).await;
    assert_eq!(st, 200, "{v}");
    let (_, audit) = send(&s, Some(&admin), Method::GET, "/api/v1/audit", None).await;
    let actions: Vec<&str> =
        audit["items"].as_array().expect("items").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["generation.rolled_back", "generation.activated", "import.staged"], "{audit}");
    assert!(audit["items"].as_array().expect("items").iter().all(|e| e["actor"] == format!("key:{admin_id}:GIS 科")));
    assert_eq!(audit["items"][2]["details"]["layer"], "grids");
}

both_stores!(roles_are_enforced, a_street_key_sees_only_its_street, privileged_actions_are_audited);
