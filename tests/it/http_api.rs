//! The HTTP API over real loopback sockets, on both stores: lookups, bad input, layers, generations, readiness.

use crate::common::TestServer;
use serde_json::{Value, json};

/// A point inside 大光路街道第5社区第7网格 of the sample (checked against PostGIS by the acceptance test's method).
const INSIDE: [f64; 2] = [118.79, 32.02];

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.expect("GET");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

/// Sends a POST of `length` bytes while reading the answer, so an early answer is read even when the server stops
/// reading (a client that waits for its upload to finish may see a reset instead).
async fn oversized_post(base: &str, path: &str, length: usize) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut rx, mut tx) = tcp.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        let _ = tx.write_all(head.as_bytes()).await;
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..length / chunk.len() {
            if tx.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), rx.read_to_end(&mut raw)).await;
    writer.abort();
    let text = String::from_utf8_lossy(&raw);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // The body may be chunked: take the JSON object inside.
    let json = body.find('{').and_then(|a| body.rfind('}').map(|b| &body[a..=b])).unwrap_or("null");
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error body: {v}"))
}

async fn locate_answers_all_three_layers_and_h3(url: &str) {
    let s = TestServer::start(url, true).await;
    let (status, v) = get(&s.url(&format!("/api/v1/locate?lon={}&lat={}", INSIDE[0], INSIDE[1]))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["street"]["code"], "320104006");
    assert_eq!(v["street"]["name"], "大光路街道");
    assert_eq!(v["community"]["code"], "320104006005");
    assert_eq!(v["grid"]["code"], "32010400600507");
    assert_eq!(
        v["grid"]["code"].as_str().map(|c| &c[..12]),
        v["community"]["code"].as_str(),
        "grid nests in community"
    );
    let cell: h3o::CellIndex = v["h3"].as_str().expect("h3 string").parse().expect("valid cell");
    assert_eq!(cell.resolution(), h3o::Resolution::Ten);
    assert_eq!(cell, h3o::LatLng::new(INSIDE[1], INSIDE[0]).expect("ll").to_cell(h3o::Resolution::Ten));
    assert_eq!(v["generation"], 1);

    // layers= restricts the answer.
    let (_, v) = get(&s.url(&format!("/api/v1/locate?lon={}&lat={}&layers=grids", INSIDE[0], INSIDE[1]))).await;
    assert_eq!(v["street"], Value::Null);
    assert_eq!(v["grid"]["code"], "32010400600507");

    // Outside every layer: 200 with nulls (the point is valid, it is just not in the district).
    let (status, v) = get(&s.url("/api/v1/locate?lon=116.4&lat=39.9")).await;
    assert_eq!((status, &v["street"], &v["community"], &v["grid"]), (200, &Value::Null, &Value::Null, &Value::Null));
}

async fn locate_accepts_gcj02_and_bd09_input(url: &str) {
    let s = TestServer::start(url, true).await;
    let (gx, gy) = gridmap::crs::wgs84_to_gcj02(INSIDE[0], INSIDE[1]);
    let (_, v) = get(&s.url(&format!("/api/v1/locate?lon={gx}&lat={gy}&crs=gcj02"))).await;
    assert_eq!(v["grid"]["code"], "32010400600507", "{v}");
    let (bx, by) = gridmap::crs::gcj02_to_bd09(gx, gy);
    let (_, v) = post(&s.url("/api/v1/locate"), json!({"points": [[bx, by]], "crs": "bd09"}).to_string()).await;
    assert_eq!(v["results"][0]["grid"]["code"], "32010400600507", "{v}");
    // The raw GCJ-02 numbers read as WGS84 land ~500 m away: a different grid.
    let (_, v) = get(&s.url(&format!("/api/v1/locate?lon={gx}&lat={gy}"))).await;
    assert_ne!(v["grid"]["code"], "32010400600507");
}

async fn batch_keeps_input_order_and_matches_single_lookups(url: &str) {
    let s = TestServer::start(url, true).await;
    let mut points = Vec::new();
    for i in 0..3000 {
        // A lattice over the district and a little beyond it.
        points.push([118.75 + (i % 60) as f64 * 0.0022, 31.97 + (i / 60) as f64 * 0.0016]);
    }
    let (status, v) = post(&s.url("/api/v1/locate"), json!({ "points": points }).to_string()).await;
    assert_eq!(status, 200);
    let results = v["results"].as_array().expect("results");
    assert_eq!(results.len(), points.len());
    let mut inside = 0;
    for (i, p) in points.iter().enumerate().step_by(97) {
        let (_, one) = get(&s.url(&format!("/api/v1/locate?lon={}&lat={}", p[0], p[1]))).await;
        assert_eq!(results[i], one, "point {i} {p:?}");
        inside += usize::from(!one["grid"].is_null());
    }
    assert!(inside > 5, "the lattice hits the district");
}

async fn bad_input_gets_a_clear_4xx(url: &str) {
    let s = TestServer::start(url, true).await;
    let (st, v) = post(&s.url("/api/v1/locate"), r#"{"points": [[118.7, 32.0],"#).await;
    assert_eq!((st, error_code(&v)), (400, "invalid_json"));
    assert!(v["error"]["message"].as_str().expect("msg").contains("line 1"), "{v}");
    let (st, v) = post(&s.url("/api/v1/locate"), r#"{"points": [[118.7, 32.0], [118.7, 95.0]]}"#).await;
    assert_eq!((st, error_code(&v)), (400, "invalid_coordinate"));
    assert_eq!(v["error"]["details"]["index"], 1, "names the offending point");
    assert!(v["error"]["message"].as_str().expect("msg").contains("point 1"));
    let (st, v) = post(&s.url("/api/v1/locate"), r#"{"points": [[200, 32.0]]}"#).await;
    assert_eq!((st, error_code(&v)), (400, "invalid_coordinate"));
    let (st, v) = post(&s.url("/api/v1/locate"), r#"{"points": [[118.7]]}"#).await;
    assert_eq!((st, error_code(&v)), (400, "invalid_json"));
    for q in ["lon=NaN&lat=32", "lon=118.7&lat=inf", "lon=abc&lat=32", "lat=32", "lon=118.7&lat=-91"] {
        let (st, v) = get(&s.url(&format!("/api/v1/locate?{q}"))).await;
        assert_eq!(st, 400, "{q}: {v}");
        assert!(!v["error"]["message"].as_str().expect("msg").is_empty());
    }
    let (st, v) = get(&s.url("/api/v1/locate?lon=118.7&lat=32&crs=EPSG:3857")).await;
    assert_eq!((st, error_code(&v)), (400, "invalid_crs"));
    let (st, v) = get(&s.url("/api/v1/locate?lon=118.7&lat=32&layers=roads")).await;
    assert_eq!((st, error_code(&v)), (400, "invalid_layers"));
    // Over the body limit (16 MiB in tests): 413 in the same error shape, decided from Content-Length before the
    // body is read; the rest of the upload is drained behind the answer, so the client is not reset mid-write.
    let (st, v) = oversized_post(&s.base, "/api/v1/locate", 20 * 1024 * 1024).await;
    assert_eq!((st, error_code(&v)), (413, "body_too_large"));
    // The service still answers normally afterwards.
    let (st, _) = get(&s.url(&format!("/api/v1/locate?lon={}&lat={}", INSIDE[0], INSIDE[1]))).await;
    assert_eq!(st, 200);
}

async fn layers_health_and_readiness(url: &str) {
    let s = TestServer::start(url, true).await;
    let (st, v) = get(&s.url("/api/v1/layers")).await;
    assert_eq!(st, 200);
    let counts: Vec<(String, u64)> = v["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| (l["name"].as_str().expect("name").to_owned(), l["features"].as_u64().expect("count")))
        .collect();
    assert_eq!(counts, vec![("streets".into(), 12), ("communities".into(), 108), ("grids".into(), 756)]);
    let bbox = v["layers"][0]["bbox"].as_array().expect("bbox");
    assert!(bbox[0].as_f64().expect("x") > 118.7 && bbox[3].as_f64().expect("y") < 32.1);
    assert_eq!(get(&s.url("/healthz")).await.0, 200);
    let (st, v) = get(&s.url("/readyz")).await;
    assert_eq!((st, &v["status"]), (200, &json!("ready")));

    // An empty database without the sample: alive, but not ready (nothing to answer from).
    drop(s);
    let empty = crate::common::TestDb::sqlite();
    let s = TestServer::start(&empty.url, false).await;
    let (st, v) = get(&s.url("/readyz")).await;
    assert_eq!((st, &v["status"]), (503, &json!("not_ready")));
}

async fn activation_and_rollback_over_http_switch_answers(url: &str) {
    let s = TestServer::start(url, true).await;
    // A new grids generation where one grid is renamed.
    let mut grids = crate::common::sample_layer("grids");
    let target = grids["features"]
        .as_array_mut()
        .expect("features")
        .iter_mut()
        .find(|f| f["properties"]["code"] == "32010400600507")
        .expect("grid present");
    target["properties"]["name"] = json!("改名网格");
    let files = vec![gridmap::catalog::ImportFile {
        name: "grids.geojson".into(),
        bytes: grids.to_string().into_bytes(),
        options: gridmap::import::ReadOptions::new(gridmap::layers::Layer::Grids),
    }];
    let reports = s.catalog.import(files, gridmap::catalog::ImportMode::default()).await.expect("import");
    let g2 = reports[0].generation.expect("staged");
    let here = s.url(&format!("/api/v1/locate?lon={}&lat={}", INSIDE[0], INSIDE[1]));
    assert_eq!(get(&here).await.1["grid"]["name"], "大光路街道第5社区第7网格", "staged is not served");

    let (st, v) = post(&s.url(&format!("/api/v1/generations/{}/activate", g2.0)), "").await;
    assert_eq!(st, 200, "{v}");
    let (_, v) = get(&here).await;
    assert_eq!((&v["grid"]["name"], &v["generation"]), (&json!("改名网格"), &json!(g2.0)));
    assert_eq!(v["street"]["code"], "320104006", "other layers come from the base generation");

    let (_, list) = get(&s.url("/api/v1/generations")).await;
    let statuses: Vec<&str> =
        list["generations"].as_array().expect("list").iter().map(|g| g["status"].as_str().expect("s")).collect();
    assert_eq!(statuses, vec!["active", "retired"]);

    let (st, _) = post(&s.url("/api/v1/generations/rollback"), "").await;
    assert_eq!(st, 200);
    assert_eq!(get(&here).await.1["grid"]["name"], "大光路街道第5社区第7网格");
    let (st, v) = post(&s.url("/api/v1/generations/rollback"), "").await;
    assert_eq!((st, error_code(&v)), (409, "nothing_to_roll_back"));
    let (st, v) = post(&s.url("/api/v1/generations/999/activate"), "").await;
    assert_eq!((st, error_code(&v)), (404, "generation_not_found"));
}

async fn a_generation_activated_elsewhere_is_picked_up(url: &str) {
    let s = TestServer::start(url, true).await;
    let other = gridmap::catalog::Catalog::new(gridmap::store::open(url).await.expect("open"), None);
    let mut streets = crate::common::sample_layer("streets");
    streets["features"][0]["properties"]["name"] = json!("新名字");
    let code = streets["features"][0]["properties"]["code"].as_str().expect("code").to_owned();
    let files = vec![gridmap::catalog::ImportFile {
        name: "streets.geojson".into(),
        bytes: streets.to_string().into_bytes(),
        options: gridmap::import::ReadOptions::new(gridmap::layers::Layer::Streets),
    }];
    let mode = gridmap::catalog::ImportMode { activate: true, ..Default::default() };
    let g = other.import(files, mode).await.expect("import")[0].generation.expect("generation");
    if url.starts_with("sqlite") {
        // One process's file: the periodic check picks it up.
        assert_eq!(s.locator.current().generation().map(|g| g.0), Some(1), "not yet seen");
        assert!(s.catalog.reload_if_changed().await.expect("reload"));
    } else {
        // PostGIS: the activation's NOTIFY reaches the server by itself (see tests/replicas.rs).
        for _ in 0..100 {
            if s.locator.current().generation() == Some(g) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    assert_eq!(s.locator.current().generation(), Some(g));
    let index = s.locator.current();
    let streets = index.layer(gridmap::layers::Layer::Streets);
    assert!(streets.entries().iter().any(|e| e.feature.code == code && e.feature.name == "新名字"));
}

both_stores!(
    locate_answers_all_three_layers_and_h3,
    locate_accepts_gcj02_and_bd09_input,
    batch_keeps_input_order_and_matches_single_lookups,
    bad_input_gets_a_clear_4xx,
    layers_health_and_readiness,
    activation_and_rollback_over_http_switch_answers,
    a_generation_activated_elsewhere_is_picked_up,
);
