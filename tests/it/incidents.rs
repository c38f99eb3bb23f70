//! Incidents over HTTP on both stores: geocoding on write, lifecycle, filters and pages, bad input, re-geocoding
//! when a new generation is activated or the H3 resolution changed between starts.

use crate::common::{TestServer, get, post};
use serde_json::{Value, json};

const IN_GRID: [f64; 2] = [118.79, 32.02];

async fn create_is_geocoded_like_locate(url: &str) {
    let s = TestServer::start(url, true).await;
    let (st, inc) = post(
        &s,
        "/api/v1/incidents",
        json!({"location": IN_GRID, "category": "sanitation", "description": "垃圾堆放"}),
    )
    .await;
    assert_eq!(st, 201, "{inc}");
    let (_, loc) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", IN_GRID[0], IN_GRID[1])).await;
    assert_eq!(inc["street_code"], loc["street"]["code"]);
    assert_eq!(inc["community_code"], loc["community"]["code"]);
    assert_eq!(inc["grid_code"], loc["grid"]["code"]);
    assert_eq!(inc["h3"], loc["h3"]);
    assert_eq!(inc["generation"], loc["generation"]);
    assert_eq!((inc["status"].clone(), inc["priority"].clone()), (json!("reported"), json!(3)));
    assert_eq!(inc["location"], json!(IN_GRID));
    assert_eq!(inc["caller"], Value::Null);

    // The caller in its own field, trimmed, read back as stored; blank is none.
    let body = json!({"location": IN_GRID, "category": "dispute", "caller": " 王女士 13800000000 ", "address": "中华路 88 号"});
    let (st, inc) = post(&s, "/api/v1/incidents", body).await;
    assert_eq!((st, inc["caller"].as_str()), (201, Some("王女士 13800000000")), "{inc}");
    let (_, read) = get(&s, &format!("/api/v1/incidents/{}", inc["id"])).await;
    assert_eq!((read["caller"].as_str(), read["description"].as_str()), (Some("王女士 13800000000"), Some("")));
    let (st, inc) =
        post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire", "caller": "  "})).await;
    assert_eq!((st, inc["caller"].clone()), (201, Value::Null), "{inc}");

    // Many points: each incident's codes equal /locate's for its point.
    for i in 0..20 {
        let p = [118.77 + f64::from(i) * 0.004, 31.99 + f64::from(i) * 0.002];
        let (st, inc) = post(&s, "/api/v1/incidents", json!({"location": p, "category": "traffic"})).await;
        if st == 422 {
            assert_eq!(inc["error"]["code"], "outside_service_area");
            continue;
        }
        let (_, loc) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", p[0], p[1])).await;
        assert_eq!(
            (inc["grid_code"].clone(), inc["street_code"].clone()),
            (loc["grid"]["code"].clone(), loc["street"]["code"].clone())
        );
    }
    let id = inc_id(&inc);
    let (st, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(one["history"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["history"][0]["to"], "reported");
}

fn inc_id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

async fn lifecycle_and_conflicts(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire", "priority": 1})).await;
    let id = inc_id(&inc);
    let path = format!("/api/v1/incidents/{id}/status");
    let (st, v) = post(&s, &path, json!({"status": "closed", "actor": "张三"})).await;
    assert_eq!((st, v["error"]["code"].clone()), (409, json!("invalid_transition")), "{v}");
    assert!(v["error"]["message"].as_str().expect("message").contains("dispatched"), "names the allowed states: {v}");
    for (to, actor) in [("dispatched", "调度员"), ("on_scene", "网格员"), ("resolved", "网格员"), ("closed", "督办")]
    {
        let (st, v) = post(&s, &path, json!({"status": to, "actor": actor, "note": format!("{to} note")})).await;
        assert_eq!((st, v["status"].clone()), (200, json!(to)), "{v}");
    }
    let (st, _) = post(&s, &path, json!({"status": "reported"})).await;
    assert_eq!(st, 409, "closed is final");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    let history: Vec<(Value, Value, Value)> = one["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone(), e["actor"].clone()))
        .collect();
    assert_eq!(
        history,
        vec![
            (Value::Null, json!("reported"), json!("anonymous")),
            (json!("reported"), json!("dispatched"), json!("调度员")),
            (json!("dispatched"), json!("on_scene"), json!("网格员")),
            (json!("on_scene"), json!("resolved"), json!("网格员")),
            (json!("resolved"), json!("closed"), json!("督办")),
        ]
    );
    assert_eq!(one["history"][4]["note"], "closed note");
    let (st, v) = post(&s, &path, json!({"status": "done"})).await;
    assert_eq!((st, v["error"]["code"].clone()), (400, json!("invalid_status")));
    let (st, v) = post(&s, "/api/v1/incidents/99999/status", json!({"status": "dispatched"})).await;
    assert_eq!((st, v["error"]["code"].clone()), (404, json!("incident_not_found")));
    let (st, _) = get(&s, "/api/v1/incidents/abc").await;
    assert_eq!(st, 400);
}

async fn bad_input_is_refused_and_nothing_stored(url: &str) {
    let s = TestServer::start(url, true).await;
    let cases = [
        (json!({"category": "fire"}), 400, "missing_field"),
        (json!({"location": IN_GRID}), 400, "missing_field"),
        (json!({"location": IN_GRID, "category": "alien_landing"}), 422, "unknown_category"),
        (json!({"location": [116.4, 39.9], "category": "fire"}), 422, "outside_service_area"),
        (json!({"location": [118.79, 95.0], "category": "fire"}), 400, "invalid_coordinate"),
        (json!({"location": IN_GRID, "category": "fire", "priority": 9}), 422, "invalid_priority"),
        (json!({"location": IN_GRID, "category": "fire", "reported_at": "yesterday"}), 400, "invalid_time"),
        (json!({"location": IN_GRID, "category": "fire", "colour": "red"}), 400, "invalid_json"),
        (json!({"location": [118.79], "category": "fire"}), 400, "invalid_json"),
        (json!({"location": IN_GRID, "category": "fire", "caller": "王".repeat(201)}), 422, "field_too_long"),
    ];
    for (body, status, code) in cases {
        let (st, v) = post(&s, "/api/v1/incidents", body.clone()).await;
        assert_eq!((st, v["error"]["code"].as_str()), (status, Some(code)), "{body} → {v}");
    }
    let (_, list) = get(&s, "/api/v1/incidents").await;
    assert_eq!(list["items"], json!([]), "nothing stored");
}

async fn filters_and_pages(url: &str) {
    let s = TestServer::start(url, true).await;
    let points = [[118.79, 32.02], [118.80, 32.03], [118.81, 32.01], [118.84, 32.00], [118.79, 32.021]];
    let mut made = Vec::new();
    for (i, p) in points.iter().cycle().take(25).enumerate() {
        let category = if i % 2 == 0 { "fire" } else { "traffic" };
        let at = format!("2026-11-{:02}T08:00:00+08:00", 1 + i);
        let (st, v) =
            post(&s, "/api/v1/incidents", json!({"location": p, "category": category, "reported_at": at})).await;
        assert_eq!(st, 201, "{v}");
        made.push(v);
    }
    let grid = made[0]["grid_code"].as_str().expect("grid").to_owned();
    let count = |pred: &dyn Fn(&Value) -> bool| made.iter().filter(|v| pred(v)).count();

    let (_, v) = get(&s, &format!("/api/v1/incidents?grid={grid}&limit=1000")).await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(count(&|m| m["grid_code"] == grid.as_str())));
    let (_, v) = get(&s, "/api/v1/incidents?category=fire&limit=1000").await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(13));
    let street = made[3]["street_code"].as_str().expect("street").to_owned();
    let (_, v) = get(&s, &format!("/api/v1/incidents?street={street}&category=traffic&limit=1000")).await;
    assert_eq!(
        v["items"].as_array().map(Vec::len),
        Some(count(&|m| m["street_code"] == street.as_str() && m["category"] == "traffic"))
    );
    // Time range in another offset: [Nov 5 08:00+08, Nov 10 08:00+08) = five reports.
    let (_, v) = get(&s, "/api/v1/incidents?from=2026-11-05T00:00:00Z&to=2026-11-10T00:00:00Z").await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(5), "{v}");
    let (_, v) = get(&s, "/api/v1/incidents?bbox=118.785,32.015,118.795,32.025").await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(10));

    // Move two along; filter by status.
    for m in &made[..2] {
        let (st, _) =
            post(&s, &format!("/api/v1/incidents/{}/status", inc_id(m)), json!({"status": "dispatched"})).await;
        assert_eq!(st, 200);
    }
    let (_, v) = get(&s, "/api/v1/incidents?status=dispatched,on_scene").await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(2));

    // Pages of 7, newest first, each incident once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/incidents?limit=7&cursor={c}"),
            None => "/api/v1/incidents?limit=7".to_owned(),
        };
        let (_, v) = get(&s, &path).await;
        seen.extend(v["items"].as_array().expect("items").iter().map(inc_id));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<i64> = made.iter().map(inc_id).collect();
    expected.reverse();
    assert_eq!(seen, expected);

    for bad in ["bbox=1,2,3", "status=open", "limit=0", "from=2026-11-05", "cursor=x"] {
        let (st, v) = get(&s, &format!("/api/v1/incidents?{bad}")).await;
        assert_eq!(st, 400, "{bad}: {v}");
    }
}

async fn open_incidents_follow_a_new_generation(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, open) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire"})).await;
    let (_, closed) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire"})).await;
    let old_grid = open["grid_code"].as_str().expect("grid").to_owned();
    let cid = inc_id(&closed);
    // More open incidents than one re-geocoding statement holds (2 000).
    let mut more = Vec::new();
    for _ in 0..2_100 {
        let (st, v) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "traffic"})).await;
        assert_eq!(st, 201, "{v}");
        more.push(inc_id(&v));
    }
    for to in ["resolved", "closed"] {
        post(&s, &format!("/api/v1/incidents/{cid}/status"), json!({"status": to})).await;
    }
    // A new grids generation in which that grid has a new code.
    let mut grids = crate::common::sample_layer("grids");
    for f in grids["features"].as_array_mut().expect("features") {
        if f["properties"]["code"] == old_grid.as_str() {
            f["properties"]["code"] = json!(format!("{old_grid}X"));
        }
    }
    let files = vec![gridmap::catalog::ImportFile {
        name: "grids.geojson".into(),
        bytes: grids.to_string().into_bytes(),
        options: gridmap::import::ReadOptions::new(gridmap::layers::Layer::Grids),
    }];
    let mode = gridmap::catalog::ImportMode { activate: true, ..Default::default() };
    let reports = s.catalog.import(files, mode).await.expect("import");
    let generation = reports[0].generation.expect("generation");

    let (_, v) = get(&s, &format!("/api/v1/incidents/{}", inc_id(&open))).await;
    assert_eq!(v["grid_code"], json!(format!("{old_grid}X")), "the open incident follows the boundary");
    assert_eq!(v["generation"], json!(generation.0));
    for id in [more[0], more[1_999], more[2_000], more[2_099]] {
        let (_, v) = get(&s, &format!("/api/v1/incidents/{id}")).await;
        assert_eq!((&v["grid_code"], &v["generation"]), (&json!(format!("{old_grid}X")), &json!(generation.0)), "{v}");
    }
    let (_, v) = get(&s, &format!("/api/v1/incidents/{cid}")).await;
    assert_eq!(v["grid_code"], json!(old_grid), "a closed incident keeps the codes it was closed with");
}

/// The USGS feed of ../shared/data: 1 707 timestamped events worldwide, loaded with the service area and categories
/// configured for them; each keeps its time, the time filter finds them all.
async fn earthquakes_load_with_their_times(url: &str) {
    let Some(data) = crate::common::shared_data() else { return };
    let s = TestServer::start_with(url, true, |o| {
        o.service_area = gridmap::incidents::ServiceArea::Anywhere;
        o.categories =
            gridmap::incidents::Categories::new(["earthquake", "explosion", "quarry_blast"].map(String::from));
    })
    .await;
    let text = std::fs::read_to_string(data.join("points/earthquakes/earthquakes.json")).expect("read");
    let feed: Value = serde_json::from_str(&text).expect("JSON");
    let features = feed["features"].as_array().expect("features");
    let bodies: Vec<Value> = features
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let ms = p["time"].as_i64().expect("time");
            let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).expect("time");
            let mag = p["mag"].as_f64().unwrap_or(0.0);
            json!({"location": [f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1]],
                   "category": p["type"].as_str().unwrap_or("earthquake").replace(' ', "_"),
                   "description": p["title"], "source": "usgs", "address": p["place"],
                   "priority": if mag >= 4.5 { 1 } else if mag >= 3.0 { 2 } else if mag >= 2.0 { 3 } else { 4 },
                   "reported_at": at.format(&time::format_description::well_known::Rfc3339).expect("format")})
        })
        .collect();
    for chunk in bodies.chunks(16) {
        let sent = futures_util::future::join_all(chunk.iter().map(|b| post(&s, "/api/v1/incidents", b.clone()))).await;
        for (st, v) in sent {
            assert_eq!(st, 201, "{v}");
        }
    }
    // The week of the feed holds all of them; a paged walk finds 1 707 with the feed's times.
    let (mut n, mut cursor, mut castaic) = (0, String::new(), None);
    loop {
        let (_, page) =
            get(&s, &format!("/api/v1/incidents?from=2018-01-31T00:00:00Z&to=2018-02-08T00:00:00Z&limit=1000{cursor}"))
                .await;
        let items = page["items"].as_array().expect("items");
        n += items.len();
        castaic = castaic.or_else(|| items.iter().find(|i| i["address"] == "4km W of Castaic, CA").cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(n, features.len());
    let castaic = castaic.expect("the Castaic event");
    assert_eq!(castaic["reported_at"], "2018-02-07T01:26:13.84Z");
    assert_eq!((castaic["category"].as_str(), castaic["priority"].as_i64()), (Some("earthquake"), Some(3)));
    let (_, blasts) = get(&s, "/api/v1/incidents?category=quarry_blast&limit=100").await;
    assert_eq!(blasts["items"].as_array().map(Vec::len), Some(13));
}

/// A start re-geocodes the open incidents whose stored geocode it would not make: here the H3 resolution changed
/// between two starts on the same store and generation. Open incidents move to the new resolution's cell, a closed
/// one keeps the cell it was closed with; a start back at the first resolution restores the first cells.
async fn a_start_at_another_resolution_moves_open_incidents(url: &str) {
    let cell = |v: &Value| v["h3"].as_str().expect("h3").parse::<h3o::CellIndex>().expect("cell");
    let (open, closed) = {
        let s = TestServer::start(url, true).await;
        let (_, open) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire"})).await;
        let (_, closed) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire"})).await;
        for to in ["resolved", "closed"] {
            post(&s, &format!("/api/v1/incidents/{}/status", inc_id(&closed)), json!({"status": to})).await;
        }
        (open, closed)
    };
    assert_eq!(cell(&open).resolution(), h3o::Resolution::Ten);
    let s = TestServer::start_with(url, true, |o| o.resolution = h3o::Resolution::Eight).await;
    let (_, v) = get(&s, &format!("/api/v1/incidents/{}", inc_id(&open))).await;
    assert_eq!(Some(cell(&v)), cell(&open).parent(h3o::Resolution::Eight), "{v}");
    assert_eq!((&v["grid_code"], &v["generation"]), (&open["grid_code"], &open["generation"]), "{v}");
    let (_, v) = get(&s, &format!("/api/v1/incidents/{}", inc_id(&closed))).await;
    assert_eq!(v["h3"], closed["h3"], "a closed incident keeps its cell: {v}");
    drop(s);
    let s = TestServer::start(url, true).await;
    let (_, v) = get(&s, &format!("/api/v1/incidents/{}", inc_id(&open))).await;
    assert_eq!(v["h3"], open["h3"], "{v}");
}

both_stores!(
    earthquakes_load_with_their_times,
    create_is_geocoded_like_locate,
    lifecycle_and_conflicts,
    bad_input_is_refused_and_nothing_stored,
    filters_and_pages,
    open_incidents_follow_a_new_generation,
    a_start_at_another_resolution_moves_open_incidents,
    assign_is_one_transaction,
    satisfaction_once_resolved_and_corrections_audited,
);

/// Issue 29, satisfaction (回访): refused before the incident is resolved (and out of 1–5), recorded once it is
/// (with who and when), shown on the incident; sent again it corrects the record and the audit log keeps both.
async fn satisfaction_once_resolved_and_corrections_audited(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "dispute"})).await;
    let id = inc_id(&inc);
    let rate = |body: Value| {
        let url = s.url(&format!("/api/v1/incidents/{id}/satisfaction"));
        async move { crate::common::call(reqwest::Method::PUT, url, Some(body)).await }
    };
    let (st, v) = rate(json!({"rating": 4})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("not_resolved")), "{v}");
    assert_eq!(inc["satisfaction"], Value::Null);
    let (st, v) = post(&s, &format!("/api/v1/incidents/{id}/status"), json!({"status": "resolved"})).await;
    assert_eq!(st, 200, "{v}");
    for (body, code) in [
        (json!({"rating": 0}), "invalid_rating"),
        (json!({"rating": 6}), "invalid_rating"),
        (json!({"rating": 3, "comment": "好".repeat(1001)}), "field_too_long"),
    ] {
        let (st, v) = rate(body.clone()).await;
        assert_eq!((st, v["error"]["code"].as_str()), (422, Some(code)), "{body} → {v}");
    }
    let (st, v) = rate(json!({"rating": "five"})).await;
    assert_eq!(st, 400, "{v}");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(one["satisfaction"], Value::Null, "refusals store nothing");

    let (st, v) = rate(json!({"rating": 4, "comment": " 处理及时 ", "actor": "回访员甲"})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (
            v["satisfaction"]["rating"].as_i64(),
            v["satisfaction"]["comment"].as_str(),
            v["satisfaction"]["recorded_by"].as_str()
        ),
        (Some(4), Some("处理及时"), Some("回访员甲"))
    );
    assert!(v["satisfaction"]["recorded_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
    let (st, v) = rate(json!({"rating": 2, "actor": "回访员乙"})).await;
    assert_eq!((st, v["satisfaction"]["rating"].as_i64()), (200, Some(2)), "{v}");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(
        (one["satisfaction"]["rating"].as_i64(), one["satisfaction"]["comment"].clone()),
        (Some(2), Value::Null)
    );
    // Closing keeps it; a closed incident can still be corrected.
    let (st, v) =
        post(&s, &format!("/api/v1/incidents/{id}/status"), json!({"status": "closed", "note": "回访完毕"})).await;
    assert_eq!((st, v["satisfaction"]["rating"].as_i64()), (200, Some(2)), "{v}");

    let mut entries = Vec::new();
    for action in ["incident.rated", "incident.rating_corrected"] {
        let (_, audit) = get(&s, &format!("/api/v1/audit?action={action}")).await;
        for e in audit["items"].as_array().expect("items") {
            assert_eq!(e["target"], format!("incident:{id}"), "{e}");
            entries.push((
                action.to_owned(),
                e["details"]["rating"].clone(),
                e["details"]["replaced"]["rating"].clone(),
            ));
        }
    }
    let audit = json!(entries.iter().map(|e| e.0.clone()).collect::<Vec<_>>());
    assert_eq!(
        entries,
        vec![
            ("incident.rated".to_owned(), json!(4), Value::Null),
            ("incident.rating_corrected".to_owned(), json!(2), json!(4)),
        ],
        "{audit}"
    );

    // A cancelled incident is never rated.
    let (_, other) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire"})).await;
    post(&s, &format!("/api/v1/incidents/{}/status", inc_id(&other)), json!({"status": "cancelled"})).await;
    let url = s.url(&format!("/api/v1/incidents/{}/satisfaction", inc_id(&other)));
    let (st, v) = crate::common::call(reqwest::Method::PUT, url, Some(json!({"rating": 5}))).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("not_resolved")), "{v}");
}

async fn assign_is_one_transaction(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire"})).await;
    let id = inc_id(&inc);
    let responder =
        |name: &str, status: &str| json!({"name": name, "kind": "grid_worker", "status": status, "location": IN_GRID});
    let (_, busy) = post(&s, "/api/v1/responders", responder("忙碌", "busy")).await;
    let (_, free) = post(&s, "/api/v1/responders", responder("空闲", "available")).await;
    let path = format!("/api/v1/incidents/{id}/assign");

    // A busy responder is refused and nothing changes: the incident stays reported, nobody is marked.
    let (st, v) = post(&s, &path, json!({"responder_id": busy["id"], "actor": "dispatcher-1"})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("responder_not_available")), "{v}");
    let (st, v) = post(&s, &path, json!({"responder_id": 999_999})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("unknown_responder")), "{v}");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(one["status"], "reported");
    assert_eq!(one["history"].as_array().map(Vec::len), Some(1));

    let ranking = json!([{"responder_id": free["id"], "distance_m": 0.0}]);
    let (st, v) =
        post(&s, &path, json!({"responder_id": free["id"], "actor": "dispatcher-1", "ranking": ranking})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["incident"]["status"].as_str(), v["responder"]["status"].as_str()),
        (Some("dispatched"), Some("busy"))
    );
    let (_, r) = get(&s, &format!("/api/v1/responders/{}", free["id"])).await;
    assert_eq!(r["status"], "busy", "the live roster sees the change");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    let last = &one["history"][1];
    assert_eq!((last["to"].as_str(), last["actor"].as_str()), (Some("dispatched"), Some("dispatcher-1")));
    assert!(last["note"].as_str().is_some_and(|n| n.contains("空闲")), "{last}");
    // Dispatched already: a second plain assignment is refused (replace or additional say what is meant).
    let (_, other) = post(&s, "/api/v1/responders", responder("另一位", "available")).await;
    let (st, v) = post(&s, &path, json!({"responder_id": other["id"]})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("already_assigned")), "{v}");
    let (_, r) = get(&s, &format!("/api/v1/responders/{}", other["id"])).await;
    assert_eq!(r["status"], "available", "a refused assignment leaves the responder free");
    let (st, cats) = get(&s, "/api/v1/incident-categories").await;
    assert_eq!(st, 200);
    assert!(cats.as_array().is_some_and(|c| c.iter().any(|c| c["code"] == "fire" && c["name"] == "火情")));
}
