//! Fixed resources over HTTP on both stores: geocoded like `/locate`, filtered lists, bad input refused with nothing
//! stored, codes that follow a new generation, and the London cycle docking stations of ../shared/data as a real
//! load (with a configured service area that reaches London).

use crate::common::{TestServer, get, post, sample_layer, shared_data};
use gridmap::incidents::ServiceArea;
use serde_json::{Value, json};

const IN_GRID: [f64; 2] = [118.79, 32.02];

/// All stored resources, paging with the cursor.
async fn count(s: &TestServer) -> usize {
    let (mut n, mut cursor) = (0, String::new());
    loop {
        let (_, page) = get(s, &format!("/api/v1/resources?limit=500{cursor}")).await;
        n += page["items"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return n,
        }
    }
}

async fn geocoded_listed_and_refused(url: &str) {
    let s = TestServer::start(url, true).await;
    let (st, r) = post(
        &s,
        "/api/v1/resources",
        json!({"category": "hydrant", "name": "消火栓 12 号", "location": IN_GRID, "external_id": "XF-12",
               "attributes": {"pressure_mpa": 0.3}}),
    )
    .await;
    assert_eq!(st, 201, "{r}");
    let (_, loc) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", IN_GRID[0], IN_GRID[1])).await;
    for (field, layer) in [("street_code", "street"), ("community_code", "community"), ("grid_code", "grid")] {
        assert_eq!(r[field], loc[layer]["code"], "{field}");
    }
    assert_eq!((r["h3"].clone(), r["attributes"]["pressure_mpa"].clone()), (loc["h3"].clone(), json!(0.3)));
    let (_, one) = get(&s, &format!("/api/v1/resources/{}", r["id"])).await;
    assert_eq!(one, r);
    let grid = r["grid_code"].as_str().expect("grid");
    let (_, in_grid) = get(&s, &format!("/api/v1/resources?grid={grid}&category=hydrant")).await;
    assert_eq!(in_grid["items"].as_array().map(Vec::len), Some(1));
    let (_, none) = get(&s, "/api/v1/resources?category=aed").await;
    assert_eq!(none["items"], json!([]));

    // Refused, nothing stored.
    for (body, status, code) in [
        (json!({"category": "tank", "name": "x", "location": IN_GRID}), 422, "invalid_resource"),
        (json!({"category": "aed", "name": " ", "location": IN_GRID}), 422, "invalid_resource"),
        (json!({"category": "aed", "name": "x", "location": [116.4, 39.9]}), 422, "invalid_resource"),
        (json!({"category": "aed", "name": "x"}), 400, "invalid_json"),
        (json!({"category": "aed", "name": "x", "location": IN_GRID, "external_id": "XF-12"}), 409, "duplicate_id"),
    ] {
        let (st, v) = post(&s, "/api/v1/resources", body.clone()).await;
        assert_eq!((st, v["error"]["code"].as_str()), (status, Some(code)), "{body}: {v}");
    }
    let twice = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": IN_GRID}, "properties": {"id": "A1", "name": "AED 1"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": IN_GRID}, "properties": {"id": "A1", "name": "AED 2"}}]});
    let (st, v) = post(&s, "/api/v1/resources/load?category=aed&name=aeds.geojson", twice).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("duplicate_id")), "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("feature 1") && m.contains("feature 0")), "{v}");
    assert_eq!(count(&s).await, 1, "nothing of a refused file is stored");
}

async fn codes_follow_a_new_generation(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, r) =
        post(&s, "/api/v1/resources", json!({"category": "camera", "name": "探头", "location": IN_GRID})).await;
    let old = r["grid_code"].as_str().expect("grid").to_owned();
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
    let reports = s.catalog.import(files, mode).await.expect("import");
    let (_, now) = get(&s, &format!("/api/v1/resources/{}", r["id"])).await;
    assert_eq!(now["grid_code"], json!(format!("{old}X")));
    assert_eq!(now["generation"], json!(reports[0].generation.expect("generation").0));
}

async fn london_docking_stations(url: &str) {
    let Some(data) = shared_data() else { return };
    let s = TestServer::start_with(url, true, |o| o.service_area = ServiceArea::Bbox([-0.3, 51.4, 0.1, 51.6])).await;
    let send = |file: &str, query: &str| {
        let body = std::fs::read(data.join("points/london_cycle_hire").join(file)).expect("read");
        let url = s.url(&format!("/api/v1/resources/load?category=bike_dock&name={file}&{query}"));
        async move {
            let r = reqwest::Client::new().post(url).body(body).send().await.expect("POST");
            (r.status().as_u16(), r.json::<Value>().await.expect("JSON"))
        }
    };
    let (st, v) = send("cycle_hire.geojson", "id_field=id").await;
    assert_eq!((st, v["loaded"].as_u64()), (201, Some(742)), "{v}");
    let (_, page) = get(&s, "/api/v1/resources?category=bike_dock&limit=1000").await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 742);
    let river = items.iter().find(|r| r["external_id"] == "1").expect("station 1");
    assert_eq!(
        (river["name"].as_str(), river["attributes"]["area"].as_str()),
        (Some("River Street"), Some("Clerkenwell"))
    );
    assert!(river["grid_code"].is_null() && river["h3"].as_str().is_some_and(|h| h.len() == 15), "{river}");
    // Loading it again is refused as a whole.
    let (st, v) = send("cycle_hire.geojson", "id_field=id").await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("duplicate_id")), "{v}");
    // The OSM variant (CRS84 member, string ids, some stations without a name) loads under its own ids; unnamed
    // stations are named by id.
    let (st, v) = send("cycle_hire_osm.geojson", "id_field=osm_id").await;
    assert_eq!(st, 201, "{v}");
    let (_, unnamed) = get(&s, "/api/v1/resources?limit=1000").await;
    assert!(
        unnamed["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|r| r["name"].as_str().is_some_and(|n| n.starts_with("bike_dock ")))
    );
    assert_eq!(count(&s).await, 742 + v["loaded"].as_u64().expect("loaded") as usize);
}

both_stores!(geocoded_listed_and_refused, codes_follow_a_new_generation, london_docking_stations);
