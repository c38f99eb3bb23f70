//! Two `gridmap serve` instances on one PostGIS: an activation, a command-line rollback, a new responder, a position,
//! an assignment and a new incident made through one are visible through the other within a second, and the
//! other's live clients get the events. PostGIS only (SQLite is one process's file); skipped without a test server
//! unless GRIDMAP_REQUIRE_PG is set.

use std::time::{Duration, Instant};

use crate::common::{TestDb, TestServer, call, gridmap, sample_layer};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const POINT: [f64; 2] = [118.79, 32.02];

/// Polls `check` every 20 ms until it holds; the time it took, or a panic after `limit`.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not visible on the other replica within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn grid_at(s: &TestServer) -> String {
    let (_, v) = call(Method::GET, s.url(&format!("/api/v1/locate?lon={}&lat={}", POINT[0], POINT[1])), None).await;
    v["grid"]["code"].as_str().unwrap_or_default().to_owned()
}

async fn nearest(s: &TestServer) -> Vec<Value> {
    let (_, v) =
        call(Method::GET, s.url(&format!("/api/v1/dispatch/nearest?lon={}&lat={}&k=5", POINT[0], POINT[1])), None)
            .await;
    v["candidates"].as_array().cloned().unwrap_or_default()
}

async fn total_incidents(s: &TestServer) -> u64 {
    let (_, v) = call(Method::GET, s.url("/api/v1/stats/grids"), None).await;
    v["grids"].as_array().map_or(0, |g| g.iter().map(|r| r["total"].as_u64().unwrap_or(0)).sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgis() {
    let Some(db) = TestDb::postgres().await else {
        assert!(std::env::var("GRIDMAP_REQUIRE_PG").is_err(), "GRIDMAP_REQUIRE_PG is set but no PostGIS is configured");
        return;
    };
    let a = TestServer::start(&db.url, true).await;
    let b = TestServer::start(&db.url, true).await;
    let limit = Duration::from_secs(1);
    let original = grid_at(&b).await;
    assert!(!original.is_empty());
    let ws_url = format!("{}/api/v1/live", b.base.replace("http://", "ws://"));
    let (mut live_b, _) = tokio_tungstenite::connect_async(ws_url).await.expect("WebSocket");

    // Activation through A (an upload of renamed grids).
    let mut renamed = sample_layer("grids");
    for f in renamed["features"].as_array_mut().expect("features") {
        let code = f["properties"]["code"].as_str().expect("code").to_owned();
        f["properties"]["code"] = json!(format!("{code}R"));
    }
    let form = reqwest::multipart::Form::new().text("layer", "grids").text("activate", "true").part(
        "file",
        reqwest::multipart::Part::bytes(serde_json::to_vec(&renamed).expect("json")).file_name("grids.geojson"),
    );
    let r = reqwest::Client::new().post(a.url("/api/v1/imports")).multipart(form).send().await.expect("import");
    assert_eq!(r.status().as_u16(), 201);
    let want = format!("{original}R");
    let t_activate = within(limit, "activation", || async { grid_at(&b).await == want }).await;

    // Rollback from the command line (a third process): both servers follow.
    let (code, out, err) = gridmap(&["rollback", "--db", &db.url]);
    assert_eq!(code, 0, "{out}{err}");
    let t_rollback =
        within(limit, "CLI rollback", || async { grid_at(&b).await == original && grid_at(&a).await == original })
            .await;

    // A responder created and moved through A is a candidate on B, at its new place.
    let (st, responder) = call(
        Method::POST,
        a.url("/api/v1/responders"),
        Some(json!({"name": "张", "kind": "grid_worker", "location": [POINT[0] + 0.01, POINT[1]]})),
    )
    .await;
    assert_eq!(st, 201, "{responder}");
    let id = responder["id"].clone();
    let t_created =
        within(limit, "new responder", || async { nearest(&b).await.iter().any(|c| c["responder_id"] == id) }).await;
    let (st, _) =
        call(Method::PUT, a.url(&format!("/api/v1/responders/{id}/position")), Some(json!({"location": POINT}))).await;
    assert!(st < 300);
    let t_moved = within(limit, "position", || async {
        nearest(&b).await.iter().any(|c| c["responder_id"] == id && c["distance_m"].as_f64().is_some_and(|d| d < 1.0))
    })
    .await;

    // An incident reported and assigned through A: counted on B, and the responder is no longer available there.
    let before = total_incidents(&b).await;
    let (st, incident) =
        call(Method::POST, a.url("/api/v1/incidents"), Some(json!({"location": POINT, "category": "fire"}))).await;
    assert_eq!(st, 201, "{incident}");
    let t_incident = within(limit, "incident", || async { total_incidents(&b).await == before + 1 }).await;
    let (st, v) = call(
        Method::POST,
        a.url(&format!("/api/v1/incidents/{}/assign", incident["id"])),
        Some(json!({"responder_id": id})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let t_busy =
        within(limit, "assignment", || async { !nearest(&b).await.iter().any(|c| c["responder_id"] == id) }).await;

    // B's live clients saw A's events.
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while !(seen.contains(&"incident.created".to_owned()) && seen.contains(&"responder.moved".to_owned())) {
        let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout_at(deadline, live_b.next()).await else { break };
        let v: Value = serde_json::from_str(&t).expect("event");
        seen.push(v["type"].as_str().unwrap_or_default().to_owned());
    }
    assert!(seen.contains(&"incident.created".to_owned()) && seen.contains(&"responder.moved".to_owned()), "{seen:?}");
    eprintln!(
        "replica lag: activation {t_activate:?}, CLI rollback {t_rollback:?}, new responder {t_created:?}, \
         position {t_moved:?}, incident {t_incident:?}, assignment {t_busy:?}"
    );
    drop((a, b));
    db.cleanup().await;
}
