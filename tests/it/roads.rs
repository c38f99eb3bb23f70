//! Dispatch on real roads (issue 28), on both stores, with the real OpenStreetMap extract of Shenzhen
//! (`tests/fixtures/osm_shenzhen`): importing road files (CLI and HTTP, dry runs, refusals that change nothing),
//! routes along the roads, nearest and recommended responders by road ETA (each equal to its own route), reach and
//! the per-grid coverage map over boundaries drawn on the network; on PostGIS, routes and reach against pgRouting
//! (`pgr_dijkstra`, `pgr_drivingDistance` over the same ways imported by osm2pgrouting) and a second replica
//! picking up an import.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::common::{TestDb, TestServer, get, gridmap, post};

both_stores!(
    road_files_import_and_bad_ones_change_nothing,
    routes_follow_the_roads,
    dispatch_ranks_by_road_eta_each_equal_to_its_route,
    reach_and_coverage_by_road,
);

/// The dense part of the extract (Nanshan, around Shenzhen University).
const AREA: [f64; 4] = [113.927, 22.541, 113.965, 22.558];
const CENTRE: [f64; 2] = [113.9457, 22.5465];

pub(crate) fn shenzhen() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osm_shenzhen/shenzhen_futian.osm.pbf")
}

fn import_roads(db: &str, extra: &[&str]) -> (i32, String, String) {
    let file = shenzhen().display().to_string();
    let mut args = vec!["import-roads", file.as_str(), "--db", db];
    args.extend_from_slice(extra);
    gridmap(&args)
}

/// A street over the dense area, two communities (west, east), each of four grids (2 × 2), imported and activated.
fn boundaries_over_the_network(db: &str, dir: &Path) {
    let rect = |x0: f64, y0: f64, x1: f64, y1: f64| json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]});
    let [x0, y0, x1, y1] = [113.925, 22.538, 113.968, 22.560];
    let xm = (x0 + x1) / 2.0;
    let feature = |code: String, name: String, parent: &str, g: Value| json!({"type": "Feature", "properties": {"code": code, "name": name, "parent_code": parent}, "geometry": g});
    let streets = json!({"type": "FeatureCollection", "features": [feature("440305001".into(), "南头街道".into(), "440305", rect(x0, y0, x1, y1))]});
    let mut communities = Vec::new();
    let mut grids = Vec::new();
    for (c, (a, b)) in [(x0, xm), (xm, x1)].into_iter().enumerate() {
        let code = format!("440305001{:03}", c + 1);
        communities.push(feature(code.clone(), format!("第{}社区", c + 1), "440305001", rect(a, y0, b, y1)));
        let (am, ym) = ((a + b) / 2.0, (y0 + y1) / 2.0);
        for (g, (gx0, gy0, gx1, gy1)) in
            [(a, y0, am, ym), (am, y0, b, ym), (a, ym, am, y1), (am, ym, b, y1)].into_iter().enumerate()
        {
            grids.push(feature(
                format!("{code}{:02}", g + 1),
                format!("第{}社区第{}网格", c + 1, g + 1),
                &code,
                rect(gx0, gy0, gx1, gy1),
            ));
        }
    }
    for (layer, features) in
        [("streets", streets["features"].clone()), ("communities", json!(communities)), ("grids", json!(grids))]
    {
        let path = dir.join(format!("{layer}.geojson"));
        std::fs::write(&path, json!({"type": "FeatureCollection", "features": features}).to_string()).expect("write");
        let (code, out, err) =
            gridmap(&["import", "--layer", layer, &path.display().to_string(), "--activate", "--db", db]);
        assert_eq!(code, 0, "{layer}: {out}{err}");
    }
}

async fn server(db: &str) -> TestServer {
    TestServer::start_with(db, false, |o| o.service_area = gridmap::incidents::ServiceArea::Anywhere).await
}

async fn road_files_import_and_bad_ones_change_nothing(db: &str) {
    let dir = tempfile::tempdir().expect("dir");
    boundaries_over_the_network(db, dir.path());
    // A dry run reports and stores nothing.
    let (code, out, err) = import_roads(db, &["--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("(osm_pbf): ") && out.contains("residential") && out.contains("dry run: nothing stored"),
        "{out}"
    );
    let s = server(db).await;
    let (st, none) = get(&s, "/api/v1/roads").await;
    assert_eq!((st, none["active"].clone(), none["networks"].clone()), (200, Value::Null, json!([])), "{none}");
    let (st, v) = get(&s, &format!("/api/v1/route?from={},{}&to=113.95,22.55", CENTRE[0], CENTRE[1])).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("no_road_network")), "{v}");
    drop(s);

    let (code, out, err) = import_roads(db, &["--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    let read = &report["report"]["read"];
    assert!(read["ways_read"].as_u64().expect("count") > 1000, "{read}");
    for class in ["primary", "residential", "footway", "service"] {
        assert!(read["kept_by_class"][class].as_u64().is_some_and(|n| n > 0), "{class}: {read}");
    }
    assert!(read["dropped"].as_object().is_some_and(|d| d.keys().any(|k| k.starts_with("not a road"))), "{read}");
    let build = &report["report"]["build"];
    for p in ["walk", "bike", "vehicle"] {
        let pr = &build["profiles"][p];
        assert!(pr["routable_edges"].as_u64().expect("edges") > 500, "{p}: {pr}");
        assert!(pr["routable_edges"].as_u64() <= pr["usable_edges"].as_u64(), "{p}: {pr}");
    }
    assert!(
        build["profiles"]["walk"]["usable_edges"].as_u64() > build["profiles"]["vehicle"]["usable_edges"].as_u64(),
        "footways are for walkers: {build}"
    );
    let first = report["network"]["id"].as_i64().expect("stored");

    let s = server(db).await;
    let (_, roads) = get(&s, "/api/v1/roads").await;
    assert_eq!(roads["active"]["id"], json!(first), "{roads}");

    // Bad files over HTTP: a 422 naming the feature and field, and the network served stays.
    let upload = |name: &'static str, bytes: Vec<u8>, dry: bool| {
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name))
            .text("dry_run", if dry { "true" } else { "false" });
        reqwest::Client::new().post(s.url("/api/v1/roads")).multipart(form).send()
    };
    let point = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"highway": "primary"}, "geometry": {"type": "LineString", "coordinates": [[113.94, 22.54], [113.95, 22.54]]}},
        {"type": "Feature", "properties": {"highway": "primary"}, "geometry": {"type": "Point", "coordinates": [113.94, 22.54]}}
    ]});
    let r = upload("roads.geojson", point.to_string().into_bytes(), false).await.expect("POST");
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.expect("JSON");
    assert_eq!(v["error"]["code"], "road_file_rejected");
    assert!(
        v["error"]["message"].as_str().expect("message").contains("roads.geojson: feature 1: field geometry: a Point"),
        "{v}"
    );
    let r = upload("roads.osm.pbf", b"PK not a pbf".to_vec(), false).await.expect("POST");
    assert_eq!(r.status(), 422);
    let (_, roads) = get(&s, "/api/v1/roads").await;
    assert_eq!(roads["active"]["id"], json!(first), "nothing changed: {roads}");
    assert_eq!(roads["networks"].as_array().map(Vec::len), Some(1));

    // A municipal GeoJSON network over HTTP replaces it at once (dry run first: nothing changes).
    let lines = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"highway": "secondary", "name": "南山大道"}, "geometry": {"type": "LineString", "coordinates": [[113.930, 22.540], [113.940, 22.540], [113.950, 22.540]]}},
        {"type": "Feature", "properties": {"highway": "residential", "oneway": "yes"}, "geometry": {"type": "LineString", "coordinates": [[113.940, 22.540], [113.940, 22.550]]}},
        {"type": "Feature", "properties": {"highway": "residential"}, "geometry": {"type": "LineString", "coordinates": [[113.940, 22.550], [113.950, 22.550], [113.950, 22.540]]}}
    ]});
    let r = upload("municipal.geojson", lines.to_string().into_bytes(), true).await.expect("POST");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("JSON");
    assert_eq!((v["dry_run"].clone(), v["network"].clone()), (json!(true), Value::Null), "{v}");
    assert_eq!(v["report"]["build"]["edges"], 4, "{v}");
    let r = upload("municipal.geojson", lines.to_string().into_bytes(), false).await.expect("POST");
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.expect("JSON");
    let second = v["network"]["id"].as_i64().expect("stored");
    let (_, roads) = get(&s, "/api/v1/roads").await;
    assert_eq!(roads["active"]["id"], json!(second));
    let (st, r) = get(&s, "/api/v1/route?from=113.930,22.540&to=113.950,22.550&profile=vehicle").await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["network"], json!(second));
    let (_, audit) = get(&s, "/api/v1/audit?action=roads.imported").await;
    assert!(audit.to_string().contains("municipal.geojson"), "{audit}");

    // The CLI refuses a broken file the same way (exit 1) and leaves the active network alone.
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, point.to_string()).expect("write");
    let (code, _, err) = gridmap(&["import-roads", &bad.display().to_string(), "--db", db]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("feature 1: field geometry"), "{err}");
    let (_, roads) = get(&s, "/api/v1/roads").await;
    assert_eq!(roads["active"]["id"], json!(second));
}

async fn routes_follow_the_roads(db: &str) {
    let (code, out, err) = import_roads(db, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let s = server(db).await;
    let (a, b) = ([113.9300, 22.5430], [113.9610, 22.5560]);
    let mut by_profile = std::collections::HashMap::new();
    for p in ["walk", "bike", "vehicle"] {
        let (st, r) = get(&s, &format!("/api/v1/route?from={},{}&to={},{}&profile={p}", a[0], a[1], b[0], b[1])).await;
        assert_eq!(st, 200, "{p}: {r}");
        assert_eq!(r["profile"], p);
        assert_eq!(r["geometry"]["type"], "LineString");
        let line = r["geometry"]["coordinates"].as_array().expect("coordinates");
        assert!(line.len() > 10, "{p}: a route through the streets, not a straight line");
        assert_eq!(line[0], json!(a), "{p}: starts at the point asked for");
        assert_eq!(line[line.len() - 1], json!(b), "{p}: ends at it");
        let crow = geo::Distance::distance(&geo::Haversine, geo::Point::new(a[0], a[1]), geo::Point::new(b[0], b[1]));
        let d = r["distance_m"].as_f64().expect("distance");
        assert!(d > crow && d < crow * 2.0, "{p}: {d} m by road, {crow} m straight");
        assert!(r["snap"]["from_m"].as_f64().expect("snap") < 300.0);
        by_profile.insert(p, r);
    }
    let eta = |p: &str| by_profile[p]["eta_s"].as_f64().expect("eta");
    assert!(
        eta("walk") > eta("bike") && eta("bike") > eta("vehicle") * 0.8,
        "walk {} bike {} vehicle {}",
        eta("walk"),
        eta("bike"),
        eta("vehicle")
    );

    // The answer in GCJ-02, the question too.
    let (gx, gy) = gridmap::crs::Crs::Gcj02.from_wgs84(a[0], a[1]);
    let (hx, hy) = gridmap::crs::Crs::Gcj02.from_wgs84(b[0], b[1]);
    let (st, g) = get(&s, &format!("/api/v1/route?from={gx},{gy}&to={hx},{hy}&profile=walk&crs=gcj02")).await;
    assert_eq!(st, 200, "{g}");
    assert!((g["distance_m"].as_f64().expect("d") - by_profile["walk"]["distance_m"].as_f64().expect("d")).abs() < 2.0);
    let start = &g["geometry"]["coordinates"][0];
    assert!(
        (start[0].as_f64().expect("x") - gx).abs() < 1e-6 && (start[1].as_f64().expect("y") - gy).abs() < 1e-6,
        "{start}"
    );

    // Refusals name the parameter.
    for (q, code, error, parameter) in [
        ("from=abc&to=113.95,22.55", 400, "invalid_coordinate", "from"),
        ("from=113.95,22.55&to=113.95", 400, "invalid_coordinate", "to"),
        ("from=113.95,22.55&to=113.96,22.55&profile=boat", 400, "invalid_parameter", "profile"),
        ("from=200,22.55&to=113.96,22.55", 400, "invalid_coordinate", "from"),
        ("from=113.50,22.30&to=113.96,22.55", 422, "no_road_nearby", "from"),
    ] {
        let (st, v) = get(&s, &format!("/api/v1/route?{q}")).await;
        assert_eq!((st, v["error"]["code"].as_str()), (code, Some(error)), "{q}: {v}");
        assert_eq!(v["error"]["details"]["parameter"], parameter, "{q}: {v}");
    }
}

/// Responders at seeded points around the area (some far off the network), of every kind.
async fn place_responders(s: &TestServer, n: usize, seed: u64) -> Vec<Value> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let kinds = ["grid_worker", "enforcement", "vehicle"];
    let mut out = Vec::new();
    for i in 0..n {
        let p = [rng.random_range(AREA[0]..AREA[2]), rng.random_range(AREA[1]..AREA[3])];
        let body = json!({"name": format!("员{i}"), "kind": kinds[i % 3], "skills": ["fire"], "location": p});
        let (st, r) = post(s, "/api/v1/responders", body).await;
        assert_eq!(st, 201, "{r}");
        out.push(r);
    }
    out
}

async fn dispatch_ranks_by_road_eta_each_equal_to_its_route(db: &str) {
    let s = server(db).await;
    let responders = place_responders(&s, 30, 7).await;
    // One far off the roads: by straight line, with the reason.
    let (_, far) =
        post(&s, "/api/v1/responders", json!({"name": "远处", "kind": "vehicle", "location": [113.90, 22.60]})).await;
    let ask = format!("/api/v1/dispatch/nearest?lon={}&lat={}&k=8", CENTRE[0], CENTRE[1]);
    let (_, before) = get(&s, &ask).await;
    assert_eq!(before["eta_method"], "straight_line", "no network yet: {before}");

    let (code, out, err) = import_roads(db, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(s.roads_reload().await, "the server loads the network another process imported");
    let (st, ranked) = get(&s, &ask).await;
    assert_eq!(st, 200, "{ranked}");
    assert_eq!(ranked["eta_method"], "road", "{ranked}");
    let cands = ranked["candidates"].as_array().expect("candidates");
    assert_eq!(cands.len(), 8);
    let etas: Vec<f64> = cands.iter().map(|c| c["eta_s"].as_f64().expect("eta")).collect();
    assert!(etas.windows(2).all(|w| w[0] <= w[1]), "ranked by road ETA: {etas:?}");
    // Exact, not pruned wrong: asking for every unit estimates each one; its first 8 are the 8 answered above.
    let (_, all) = get(&s, &format!("/api/v1/dispatch/nearest?lon={}&lat={}&k=100", CENTRE[0], CENTRE[1])).await;
    let every = all["candidates"].as_array().expect("candidates");
    assert_eq!(every.len(), responders.len() + 1, "{all}");
    let ids = |c: &[Value]| c.iter().map(|c| c["responder_id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&every[..8]), ids(cands), "the 8 soonest of all {} units", every.len());
    // Each candidate's ETA is what its own route says (its kind's profile).
    let profile = |kind: &str| match kind {
        "vehicle" => "vehicle",
        "enforcement" => "bike",
        _ => "walk",
    };
    for c in cands {
        let r = responders.iter().chain([&far]).find(|r| r["id"] == c["responder_id"]).expect("placed");
        let at = &r["location"];
        let (st, route) = get(
            &s,
            &format!(
                "/api/v1/route?from={},{}&to={},{}&profile={}",
                at[0],
                at[1],
                CENTRE[0],
                CENTRE[1],
                profile(c["kind"].as_str().expect("kind"))
            ),
        )
        .await;
        if c["eta_method"] == "road" {
            assert_eq!(st, 200, "{route}");
            let (mine, theirs) = (c["eta_s"].as_f64().expect("eta"), route["eta_s"].as_f64().expect("eta"));
            assert!((mine - theirs).abs() < 0.2, "{}: ranked {mine} s, route {theirs} s", c["responder_id"]);
            let (dm, dr) =
                (c["road_distance_m"].as_f64().expect("road"), route["road_distance_m"].as_f64().expect("road"));
            assert!((dm - dr).abs() < 1.0, "{}: {dm} m vs {dr} m", c["responder_id"]);
            assert!(c["reasons"].to_string().contains("by road"), "{c}");
        }
    }
    // The far unit, when asked about specifically: a straight line and why.
    let (_, only_far) = get(&s, "/api/v1/dispatch/nearest?lon=113.901&lat=22.601&k=1").await;
    let c = &only_far["candidates"][0];
    assert_eq!(
        (c["responder_id"].clone(), c["eta_method"].as_str()),
        (far["id"].clone(), Some("straight_line")),
        "{only_far}"
    );
    assert!(c["reasons"].to_string().contains("over the 300 m limit"), "{c}");

    // Recommend for an incident: road ETAs, policy reasons kept.
    let (st, inc) = post(&s, "/api/v1/incidents", json!({"location": CENTRE, "category": "fire"})).await;
    assert_eq!(st, 201, "{inc}");
    let (st, rec) = post(&s, &format!("/api/v1/incidents/{}/recommend", inc["id"]), json!({"k": 5})).await;
    assert_eq!(st, 200, "{rec}");
    assert_eq!(rec["eta_method"], "road");
    assert!(
        rec["candidates"].as_array().is_some_and(|c| c.len() == 5 && c.iter().all(|c| c["eta_method"] == "road")),
        "{rec}"
    );
}

async fn reach_and_coverage_by_road(db: &str) {
    let dir = tempfile::tempdir().expect("dir");
    boundaries_over_the_network(db, dir.path());
    let s = server(db).await;
    let (_, straight) = get(&s, "/api/v1/dispatch/coverage?minutes=5").await;
    assert_eq!(
        (straight["eta_method"].as_str(), straight["units"].as_u64()),
        (Some("straight_line"), Some(0)),
        "{straight}"
    );
    assert_eq!(straight["uncovered"], 8);
    let (code, out, err) = import_roads(db, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(s.roads_reload().await);

    let (st, reach) =
        get(&s, &format!("/api/v1/reach?lon={}&lat={}&minutes=5&profile=walk&vertices=true", CENTRE[0], CENTRE[1]))
            .await;
    assert_eq!(st, 200, "{reach}");
    let vertices = reach["vertices"].as_array().expect("vertices");
    assert_eq!(vertices.len() as u64, reach["vertex_count"].as_u64().expect("count"));
    assert!(vertices.len() > 10 && vertices.iter().all(|v| v["seconds"].as_f64().expect("s") <= 300.0), "{reach}");
    assert!(
        !reach["cells"].as_array().expect("cells").is_empty() && !reach["grids"].as_array().expect("grids").is_empty()
    );
    let (_, longer) =
        get(&s, &format!("/api/v1/reach?lon={}&lat={}&minutes=10&profile=walk", CENTRE[0], CENTRE[1])).await;
    assert!(longer["vertex_count"].as_u64() > reach["vertex_count"].as_u64(), "more in ten minutes");
    // Each vertex's time is its own route's (a walk from the same start to it).
    for v in vertices.iter().step_by(vertices.len() / 5 + 1) {
        let at = &v["location"];
        let (_, r) =
            get(&s, &format!("/api/v1/route?from={},{}&to={},{}&profile=walk", CENTRE[0], CENTRE[1], at[0], at[1]))
                .await;
        let (mine, route) = (v["seconds"].as_f64().expect("s"), r["eta_s"].as_f64().expect("eta"));
        assert!((mine - route).abs() < 0.2, "reach says {mine} s, the route {route} s to {at}");
    }
    for q in ["minutes=0", "minutes=500", "minutes=5&resolution=3", "minutes=5&profile=car"] {
        let (st, v) = get(&s, &format!("/api/v1/reach?lon={}&lat={}&{q}", CENTRE[0], CENTRE[1])).await;
        assert_eq!(st, 400, "{q}: {v}");
    }

    // Coverage: every grid's ETA is the best of the units' own routes to the grid's centre point.
    let units = place_responders(&s, 6, 11).await;
    let (st, cov) = get(&s, "/api/v1/dispatch/coverage?minutes=5").await;
    assert_eq!(st, 200, "{cov}");
    assert_eq!((cov["eta_method"].as_str(), cov["units"].as_u64()), (Some("road"), Some(6)), "{cov}");
    let grids = cov["grids"].as_array().expect("grids");
    assert_eq!(grids.len(), 8);
    let index = s.locator.current();
    let layer = index.layer(gridmap::layers::Layer::Grids);
    let profile = |kind: &str| match kind {
        "vehicle" => "vehicle",
        "enforcement" => "bike",
        _ => "walk",
    };
    for g in grids {
        let f = layer.find(g["code"].as_str().expect("code")).expect("a grid");
        let c = geo::InteriorPoint::interior_point(&f.geometry).expect("centre");
        let mut best: Option<f64> = None;
        for u in &units {
            let at = &u["location"];
            let (st, r) = get(
                &s,
                &format!(
                    "/api/v1/route?from={},{}&to={},{}&profile={}",
                    at[0],
                    at[1],
                    c.x(),
                    c.y(),
                    profile(u["kind"].as_str().expect("kind"))
                ),
            )
            .await;
            if st == 200 {
                let e = r["eta_s"].as_f64().expect("eta");
                best = Some(best.map_or(e, |b: f64| b.min(e)));
            }
        }
        let horizon = cov["horizon_s"].as_f64().expect("horizon");
        match (g["eta_s"].as_f64(), best.filter(|b| *b <= horizon)) {
            (Some(mine), Some(theirs)) => {
                assert!((mine - theirs).abs() < 0.3, "{}: coverage {mine} s, best route {theirs} s", g["code"])
            }
            (None, None) => {}
            other => panic!("{}: {other:?}", g["code"]),
        }
        assert_eq!(g["covered"].as_bool(), Some(g["eta_s"].as_f64().is_some_and(|e| e <= 300.0)));
    }
    assert_eq!(cov["covered"].as_u64().expect("n") + cov["uncovered"].as_u64().expect("n"), 8);
    let (st, v) = get(&s, "/api/v1/dispatch/coverage?minutes=-1").await;
    assert_eq!((st, v["error"]["details"]["parameter"].as_str()), (400, Some("minutes")), "{v}");
}

/// Needs pgRouting, osm2pgrouting and osmium (scripts/pg-env installs them); skipped without PostGIS, and without
/// them unless GRIDMAP_REQUIRE_PGROUTING is set (scripts/test sets it), in which case it fails.
fn pgrouting_tools() -> bool {
    let have = |cmd: &str| std::process::Command::new(cmd).arg("--help").output().is_ok();
    let ok = have("osm2pgrouting") && have("osmium");
    assert!(
        ok || std::env::var("GRIDMAP_REQUIRE_PGROUTING").is_err(),
        "GRIDMAP_REQUIRE_PGROUTING is set but osm2pgrouting or osmium is missing"
    );
    ok
}

/// The osm2pgrouting configuration of one of our profiles: its classes, each with its speed.
fn mapconfig(speeds: &serde_json::Map<String, Value>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration>\n  <tag_name name=\"highway\" id=\"1\">\n",
    );
    for (i, (class, kmh)) in speeds.iter().enumerate() {
        out.push_str(&format!(
            "    <tag_value name=\"{class}\" id=\"{}\" priority=\"1\" maxspeed=\"{}\" />\n",
            101 + i,
            kmh
        ));
    }
    out.push_str("  </tag_name>\n</configuration>\n");
    out
}

/// Routes and reach against pgRouting over the same ways: osm2pgrouting imports the extract with each profile's
/// classes (its `configuration` table is not prefixed: each profile is compared before the next import replaces
/// it); the edges pgRouting routes on are the ways gridmap stored whose access tags let the profile through
/// (checked in SQL over the stored tags), costed at the same class speeds; pgRouting's one-way costs are its own.
/// 1 000 random vertex pairs per profile: lengths and times within 0.5 %; reach from 5 vertices per profile: the
/// same vertices within 5 minutes (but for those within 0.1 s of the limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_and_reach_match_pgrouting() {
    let Some(db) = TestDb::postgres().await else { return };
    if !pgrouting_tools() {
        return;
    }
    let (code, out, err) = import_roads(&db.url, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let s = server(&db.url).await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pgrouting").execute(&pool).await.expect("pgrouting");
    let network: i64 =
        sqlx::query_scalar("SELECT id FROM road_networks WHERE active").fetch_one(&pool).await.expect("network");
    let dir = tempfile::tempdir().expect("dir");
    let osm = dir.path().join("shenzhen.osm");
    let status = std::process::Command::new("osmium")
        .args(["cat", &shenzhen().display().to_string(), "-o", &osm.display().to_string(), "--overwrite"])
        .status()
        .expect("osmium");
    assert!(status.success());
    // How many nodes of the file lie at each coordinate (osmium's OPL: `nID … xLON yLAT`).
    let nodes = std::process::Command::new("osmium")
        .args(["cat", &shenzhen().display().to_string(), "-t", "node", "-f", "opl"])
        .output()
        .expect("osmium");
    let mut twins: std::collections::HashMap<(i64, i64), usize> = std::collections::HashMap::new();
    for line in String::from_utf8_lossy(&nodes.stdout).lines() {
        let field = |p: char| line.split(' ').find_map(|f| f.strip_prefix(p)).and_then(|v| v.parse::<f64>().ok());
        if let (Some(x), Some(y)) = (field('x'), field('y')) {
            *twins.entry(((x * 1e7).round() as i64, (y * 1e7).round() as i64)).or_default() += 1;
        }
    }
    let (_, policy) = get(&s, "/api/v1/dispatch/policy").await;
    let name = db.url.rsplit('/').next().expect("database name").to_owned();
    let deny = "('no','private','agricultural','forestry','delivery','military','discouraged')";
    let mut summary = Vec::new();
    for (profile, access) in [
        ("walk", "COALESCE(rw.tags->>'foot', rw.tags->>'access', '')"),
        ("bike", "COALESCE(rw.tags->>'bicycle', rw.tags->>'vehicle', rw.tags->>'access', '')"),
        (
            "vehicle",
            "COALESCE(rw.tags->>'motorcar', rw.tags->>'motor_vehicle', rw.tags->>'vehicle', rw.tags->>'access', '')",
        ),
    ] {
        let speeds = policy["roads"][profile]["speeds_kmh"].as_object().expect("speeds").clone();
        let conf = dir.path().join(format!("{profile}.xml"));
        std::fs::write(&conf, mapconfig(&speeds)).expect("write mapconfig");
        let out = std::process::Command::new("osm2pgrouting")
            .args([
                "-f",
                &osm.display().to_string(),
                "-c",
                &conf.display().to_string(),
                "-d",
                &name,
                "-U",
                "postgres",
                "-h",
                "127.0.0.1",
                "-p",
                "5432",
            ])
            .args(["--prefix", &format!("{profile}_"), "--clean"])
            .output()
            .expect("osm2pgrouting");
        assert!(
            out.status.success(),
            "osm2pgrouting: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let w = format!("{profile}_ways");
        let cost = |col: &str| {
            if profile == "walk" {
                "w.length_m / (c.maxspeed / 3.6)".to_owned()
            } else {
                format!("CASE WHEN w.{col} < 0 THEN -1 ELSE w.length_m / (c.maxspeed / 3.6) END")
            }
        };
        let edges = format!(
            "SELECT w.gid AS id, w.source, w.target, {} AS cost, {} AS reverse_cost FROM {w} w \
             JOIN configuration c ON c.tag_id = w.tag_id \
             WHERE w.osm_id IN (SELECT rw.way_id FROM road_ways rw WHERE rw.network_id = {network} AND {access} NOT IN {deny})",
            cost("cost_s"),
            cost("reverse_cost_s")
        );
        let vertices: Vec<(i64, f64, f64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT v.id, ST_X(v.the_geom), ST_Y(v.the_geom) FROM {profile}_ways_vertices_pgr v \
             WHERE EXISTS (SELECT 1 FROM ({edges}) e WHERE e.source = v.id OR e.target = v.id) ORDER BY v.id"
        )))
        .fetch_all(&pool)
        .await
        .expect("vertices");
        assert!(vertices.len() > 300, "{profile}: {} vertices", vertices.len());
        // A vertex at the same coordinates as another node of the file (a duplicate node, a mapping error: the two
        // ways do not connect there) is left out: a point there lies on either node, and either answer is right.
        let before = vertices.len();
        let vertices: Vec<(i64, f64, f64)> = vertices
            .into_iter()
            .filter(|(_, x, y)| twins.get(&((x * 1e7).round() as i64, (y * 1e7).round() as i64)).is_none_or(|n| *n < 2))
            .collect();
        let twins_left_out = before - vertices.len();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000);
        let pairs: Vec<(usize, usize)> = (0..1000)
            .map(|_| (rng.random_range(0..vertices.len()), rng.random_range(0..vertices.len())))
            .filter(|(a, b)| a != b)
            .collect();
        let combos: Vec<String> =
            pairs.iter().map(|(a, b)| format!("({}, {})", vertices[*a].0, vertices[*b].0)).collect();
        let sql = format!(
            "SELECT p.start_vid, p.end_vid, SUM(p.cost)::float8, COALESCE(SUM(w.length_m), 0)::float8 FROM pgr_dijkstra($${edges}$$, \
             $$SELECT * FROM (VALUES {}) AS t(source, target)$$, true) p LEFT JOIN {w} w ON w.gid = p.edge \
             GROUP BY p.start_vid, p.end_vid",
            combos.join(", ")
        );
        let reference: std::collections::HashMap<(i64, i64), (f64, f64)> =
            sqlx::query_as::<_, (i64, i64, f64, f64)>(sqlx::AssertSqlSafe(sql))
                .fetch_all(&pool)
                .await
                .expect("pgr_dijkstra")
                .into_iter()
                .map(|(a, b, c, l)| ((a, b), (c, l)))
                .collect();
        let (mut compared, mut off_ours, mut unreachable) = (0, 0, 0);
        let mut worst = (0.0_f64, String::new());
        for (a, b) in &pairs {
            let (va, vb) = (vertices[*a], vertices[*b]);
            let Some(&(cost_s, length_m)) = reference.get(&(va.0, vb.0)) else {
                unreachable += 1;
                continue;
            };
            let (st, r) =
                get(&s, &format!("/api/v1/route?from={},{}&to={},{}&profile={profile}", va.1, va.2, vb.1, vb.2)).await;
            // A vertex outside our routable component (pgRouting keeps every fragment) is not compared.
            if st != 200 || r["snap"]["from_m"].as_f64() > Some(0.05) || r["snap"]["to_m"].as_f64() > Some(0.05) {
                off_ours += 1;
                continue;
            }
            compared += 1;
            let (ours_m, ours_s) = (r["road_distance_m"].as_f64().expect("d"), r["eta_s"].as_f64().expect("eta"));
            let dl = (ours_m - length_m).abs() / length_m.max(1.0);
            let dt = (ours_s - cost_s).abs() / cost_s.max(1.0);
            if dl.max(dt) > worst.0 {
                worst = (
                    dl.max(dt),
                    format!(
                        "{} → {}: gridmap {ours_m:.1} m {ours_s:.1} s, pgRouting {length_m:.1} m {cost_s:.1} s",
                        va.0, vb.0
                    ),
                );
            }
            assert!(dl <= 0.005 && (ours_s - cost_s).abs() <= cost_s * 0.005 + 0.2, "{profile} {}", worst.1);
        }
        assert!(
            compared >= 600,
            "{profile}: only {compared} pairs compared ({off_ours} off our network, {unreachable} unreachable in pgRouting)"
        );

        // Reach: pgr_drivingDistance's vertices within 300 s, against ours from the same vertex.
        let by_coord: std::collections::HashMap<(i64, i64), i64> =
            vertices.iter().map(|(id, x, y)| (((x * 1e7).round() as i64, (y * 1e7).round() as i64), *id)).collect();
        for k in 0..5 {
            let (vid, x, y) = vertices[(k * 97 + 13) % vertices.len()];
            let dd: Vec<(i64, f64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT node, agg_cost FROM pgr_drivingDistance($${edges}$$, {vid}, 300, true)"
            )))
            .fetch_all(&pool)
            .await
            .expect("pgr_drivingDistance");
            let (st, reach) =
                get(&s, &format!("/api/v1/reach?lon={x}&lat={y}&minutes=5&profile={profile}&vertices=true")).await;
            if st != 200 || reach["snap_m"].as_f64() > Some(0.05) {
                continue;
            }
            let ours: std::collections::HashMap<i64, f64> = reach["vertices"]
                .as_array()
                .expect("vertices")
                .iter()
                .filter_map(|v| {
                    let key = (
                        (v["location"][0].as_f64()? * 1e7).round() as i64,
                        (v["location"][1].as_f64()? * 1e7).round() as i64,
                    );
                    by_coord.get(&key).map(|id| (*id, v["seconds"].as_f64().unwrap_or_default()))
                })
                .collect();
            let kept: std::collections::HashSet<i64> = by_coord.values().copied().collect();
            let theirs: std::collections::HashMap<i64, f64> =
                dd.into_iter().filter(|(n, _)| kept.contains(n)).collect();
            let near_limit = |s: f64| (s - 300.0).abs() < 0.1;
            // A pgRouting vertex that is no junction of gridmap's graph (osm2pgrouting also splits ways at nodes
            // shared with ways that are not roads) is not listed by gridmap; its route time from the start says
            // whether gridmap reaches it too.
            let mut only_theirs = Vec::new();
            for (n, c) in &theirs {
                if ours.contains_key(n) || near_limit(*c) {
                    continue;
                }
                let (_, vx, vy) = *vertices.iter().find(|v| v.0 == *n).expect("a vertex");
                let (st, r) = get(&s, &format!("/api/v1/route?from={x},{y}&to={vx},{vy}&profile={profile}")).await;
                // Outside gridmap's routable component (one-way fragments pgRouting keeps, e.g. roads cut at the
                // extract's edge): not compared.
                let outside =
                    r["error"]["code"] == "no_road_nearby" || (st == 200 && r["snap"]["to_m"].as_f64() > Some(0.05));
                if outside {
                    continue;
                }
                let eta = r["eta_s"].as_f64().filter(|_| st == 200).unwrap_or(f64::INFINITY);
                if (eta - c).abs() > c * 0.005 + 0.2 {
                    only_theirs.push((*n, *c, eta));
                }
            }
            let only_ours: Vec<_> = ours.iter().filter(|(n, c)| !theirs.contains_key(n) && !near_limit(**c)).collect();
            assert!(
                only_theirs.is_empty() && only_ours.is_empty(),
                "{profile} from {vid}: only pgRouting {only_theirs:?}, only gridmap {only_ours:?}"
            );
            for (n, c) in &ours {
                if let Some(t) = theirs.get(n) {
                    assert!(
                        (c - t).abs() <= t * 0.005 + 0.2,
                        "{profile} from {vid} to {n}: gridmap {c} s, pgRouting {t} s"
                    );
                }
            }
        }
        summary.push(format!(
            "{profile}: {compared} pairs equal (worst {:.3} %), {off_ours} off gridmap's component, {unreachable} unreachable in pgRouting, {twins_left_out} vertices with a twin node left out",
            worst.0 * 100.0
        ));
    }
    eprintln!("pgRouting comparison: {}", summary.join("; "));
    drop(s);
    db.cleanup().await;
}
