//! Safety hazards over HTTP on both stores: points and areas geocoded like `/locate`, the `open → rectifying →
//! closed` lifecycle with a note to close, overdue lists, bad input refused with nothing stored, codes that follow
//! a new generation.

use crate::common::{TestServer, get, post, sample_layer};
use serde_json::{Value, json};

const IN_GRID: [f64; 2] = [118.79, 32.02];

fn square(c: [f64; 2], half: f64) -> Value {
    let [x, y] = c;
    json!({"type": "Polygon", "coordinates": [[[x - half, y - half], [x + half, y - half], [x + half, y + half], [x - half, y + half], [x - half, y - half]]]})
}

async fn lifecycle_points_and_areas(url: &str) {
    let s = TestServer::start(url, true).await;
    let (st, h) = post(
        &s,
        "/api/v1/hazards",
        json!({"category": "fire_safety", "description": "楼道堆放杂物", "severity": 2, "department": "街道消防站",
               "location": IN_GRID, "due_at": "2020-01-01T00:00:00Z", "actor": "网格员甲"}),
    )
    .await;
    assert_eq!(st, 201, "{h}");
    let (_, loc) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", IN_GRID[0], IN_GRID[1])).await;
    for (field, layer) in [("street_code", "street"), ("community_code", "community"), ("grid_code", "grid")] {
        assert_eq!(h[field], loc[layer]["code"], "{field}");
    }
    assert_eq!((h["status"].as_str(), h["overdue"].as_bool()), (Some("open"), Some(true)));

    // An area: its inside point is geocoded, the polygon kept.
    let (st, area) = post(
        &s,
        "/api/v1/hazards",
        json!({"category": "building", "severity": 1, "department": "住建局", "geometry": square(IN_GRID, 0.0005),
               "due_at": "2999-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(st, 201, "{area}");
    assert_eq!(area["geometry"]["type"], "Polygon");
    let [x, y] = [area["location"][0].as_f64().expect("x"), area["location"][1].as_f64().expect("y")];
    assert!((x - IN_GRID[0]).abs() < 0.0005 && (y - IN_GRID[1]).abs() < 0.0005, "inside point {x},{y}");
    assert_eq!(area["overdue"], false);

    // Overdue: the first (past due) only.
    let (_, late) = get(&s, "/api/v1/hazards/overdue").await;
    let ids: Vec<&Value> = late["items"].as_array().expect("items").iter().map(|h| &h["id"]).collect();
    assert_eq!(ids, vec![&h["id"]]);

    // Lifecycle: closing needs a note; closed is final.
    let path = format!("/api/v1/hazards/{}/status", h["id"]);
    let (st, v) = post(&s, &path, json!({"status": "rectifying", "actor": "消防站"})).await;
    assert_eq!((st, v["status"].as_str()), (200, Some("rectifying")), "{v}");
    let (st, v) = post(&s, &path, json!({"status": "closed"})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("note_required")), "{v}");
    let (st, v) = post(&s, &path, json!({"status": "closed", "note": "杂物已清理, 复查合格", "actor": "消防站"})).await;
    assert_eq!((st, v["overdue"].as_bool()), (200, Some(false)), "{v}");
    let (st, v) = post(&s, &path, json!({"status": "open"})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("invalid_transition")), "{v}");
    let (_, one) = get(&s, &format!("/api/v1/hazards/{}", h["id"])).await;
    let steps: Vec<&str> =
        one["history"].as_array().expect("history").iter().filter_map(|e| e["to"].as_str()).collect();
    assert_eq!(steps, vec!["open", "rectifying", "closed"]);
    assert_eq!(one["history"][2]["note"], "杂物已清理, 复查合格");
    let (_, late) = get(&s, "/api/v1/hazards/overdue").await;
    assert_eq!(late["items"], json!([]), "a closed hazard is never overdue");
    let total = |v: &Value| -> u64 {
        v["features"].as_array().expect("features").iter().filter_map(|f| f["properties"]["count"].as_u64()).sum()
    };
    let (st, heat) = get(&s, "/api/v1/heatmap?source=hazards&resolution=9").await;
    assert_eq!((st, total(&heat)), (200, 2), "{heat}");
    let (_, open_heat) = get(&s, "/api/v1/heatmap?source=hazards&resolution=9&status=open,rectifying").await;
    assert_eq!(total(&open_heat), 1, "the closed one is filtered out");
    let grid = h["grid_code"].as_str().expect("grid");
    let (_, open) = get(&s, &format!("/api/v1/hazards?grid={grid}&status=open,rectifying")).await;
    assert_eq!(open["items"].as_array().map(Vec::len), Some(1));
}

async fn bad_input_is_refused(url: &str) {
    let s = TestServer::start(url, true).await;
    let ok = json!({"category": "gas", "department": "燃气公司", "location": IN_GRID});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let bowtie = json!({"type": "Polygon", "coordinates": [[[118.79, 32.02], [118.80, 32.03], [118.80, 32.02], [118.79, 32.03], [118.79, 32.02]]]});
    let mut area = ok.clone();
    area.as_object_mut().expect("object").remove("location");
    for (body, status, code) in [
        (with("category", json!("aliens")), 422, "invalid_hazard"),
        (with("severity", json!(9)), 422, "invalid_hazard"),
        (with("department", json!(" ")), 422, "invalid_hazard"),
        (with("location", json!([116.4, 39.9])), 422, "invalid_hazard"),
        (with("location", json!([118.79, 95.0])), 422, "invalid_hazard"),
        (
            {
                let mut b = area.clone();
                b["geometry"] = bowtie;
                b
            },
            422,
            "invalid_hazard",
        ),
        (
            {
                let mut b = area.clone();
                b["geometry"] = json!({"type": "LineString", "coordinates": [[118.79, 32.02], [118.8, 32.02]]});
                b
            },
            422,
            "invalid_hazard",
        ),
        (area.clone(), 400, "missing_field"),
        (with("due_at", json!("tomorrow")), 400, "invalid_time"),
    ] {
        let (st, v) = post(&s, "/api/v1/hazards", body.clone()).await;
        assert_eq!((st, v["error"]["code"].as_str()), (status, Some(code)), "{body}: {v}");
    }
    let (_, all) = get(&s, "/api/v1/hazards").await;
    assert_eq!(all["items"], json!([]), "nothing refused is stored");
}

async fn open_hazards_follow_a_new_generation(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, h) =
        post(&s, "/api/v1/hazards", json!({"category": "electrical", "department": "供电所", "location": IN_GRID}))
            .await;
    let old = h["grid_code"].as_str().expect("grid").to_owned();
    let mut grids = sample_layer("grids");
    for f in grids["features"].as_array_mut().expect("features") {
        if f["properties"]["code"] == old.as_str() {
            f["properties"]["code"] = json!(format!("{old}X"));
        }
    }
    let files = vec![gridmap::catalog::ImportFile {
        name: "grids.geojson".into(),
        bytes: grids.to_string().into_bytes(),
        options: gridmap::import::ReadOptions::new(gridmap::layers::Layer::Grids),
    }];
    let mode = gridmap::catalog::ImportMode { activate: true, ..Default::default() };
    s.catalog.import(files, mode).await.expect("import");
    let (_, now) = get(&s, &format!("/api/v1/hazards/{}", h["id"])).await;
    assert_eq!(now["grid_code"], json!(format!("{old}X")));
}

both_stores!(lifecycle_points_and_areas, bad_input_is_refused, open_hazards_follow_a_new_generation);
