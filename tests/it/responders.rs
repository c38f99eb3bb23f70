//! Responders, positions and nearest-responder dispatch over HTTP on both stores.

use crate::common::{TestServer, call};
use geo::{Distance, Haversine, Point};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

async fn create(s: &TestServer, body: Value) -> Value {
    let (st, v) = call(reqwest::Method::POST, s.url("/api/v1/responders"), Some(body)).await;
    assert_eq!(st, 201, "{v}");
    v
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

async fn roster_status_and_positions(url: &str) {
    let s = TestServer::start(url, true).await;
    let r = create(&s, json!({"name": "王网格", "kind": "grid_worker", "skills": ["patrol", "fire"], "location": [118.79, 32.02], "at": "2026-11-01T00:00:00Z"})).await;
    let rid = id(&r);
    assert_eq!(r["status"], "available");
    let (_, one) = call(reqwest::Method::GET, s.url(&format!("/api/v1/responders/{rid}")), None).await;
    assert_eq!(one["grid_code"], "32010400600507", "geocoded position: {one}");

    let (st, v) =
        call(reqwest::Method::PUT, s.url(&format!("/api/v1/responders/{rid}/status")), Some(json!({"status": "busy"})))
            .await;
    assert_eq!((st, v["status"].clone()), (200, json!("busy")));
    let (st, _) = call(
        reqwest::Method::PUT,
        s.url(&format!("/api/v1/responders/{rid}/status")),
        Some(json!({"status": "asleep"})),
    )
    .await;
    assert_eq!(st, 400);
    let (st, _) =
        call(reqwest::Method::PUT, s.url("/api/v1/responders/999/status"), Some(json!({"status": "busy"}))).await;
    assert_eq!(st, 404);

    // A kind the dispatch policy does not know, or a home grid the served generation lacks: 422, nothing stored.
    let (_, before) = call(reqwest::Method::GET, s.url("/api/v1/responders"), None).await;
    for (body, code) in [
        (json!({"name": "x", "kind": "spaceship"}), "unknown_kind"),
        (json!({"name": "x", "kind": "grid_worker", "home_grid": "nope"}), "unknown_grid"),
    ] {
        let (st, v) = call(reqwest::Method::POST, s.url("/api/v1/responders"), Some(body)).await;
        assert_eq!((st, v["error"]["code"].as_str()), (422, Some(code)), "{v}");
    }
    let (_, v) =
        call(reqwest::Method::POST, s.url("/api/v1/responders"), Some(json!({"name": "x", "kind": "spaceship"}))).await;
    assert_eq!(
        v["error"]["details"]["kinds"],
        json!(["enforcement", "grid_worker", "vehicle"]),
        "lists the kinds: {v}"
    );
    let (_, after) = call(reqwest::Method::GET, s.url("/api/v1/responders"), None).await;
    assert_eq!(before["items"].as_array().map(Vec::len), after["items"].as_array().map(Vec::len));
    let r2 = create(&s, json!({"name": "本网格", "kind": "vehicle", "home_grid": "32010400600507"})).await;
    assert_eq!(r2["home_grid"], "32010400600507");

    // Acknowledged means stored and visible.
    let (st, v) = call(
        reqwest::Method::PUT,
        s.url(&format!("/api/v1/responders/{rid}/position")),
        Some(json!({"location": [118.80, 32.03], "at": "2026-11-28T10:00:00+08:00"})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (_, one) = call(reqwest::Method::GET, s.url(&format!("/api/v1/responders/{rid}")), None).await;
    assert_eq!(one["location"], json!([118.80, 32.03]));
    // An older fix joins the history but does not move the responder back.
    let (st, _) = call(
        reqwest::Method::PUT,
        s.url(&format!("/api/v1/responders/{rid}/position")),
        Some(json!({"location": [118.81, 32.01], "at": "2026-11-28T09:59:00+08:00"})),
    )
    .await;
    assert_eq!(st, 200);
    let (_, one) = call(reqwest::Method::GET, s.url(&format!("/api/v1/responders/{rid}")), None).await;
    assert_eq!(one["location"], json!([118.80, 32.03]));
    let (_, h) = call(
        reqwest::Method::GET,
        s.url(&format!("/api/v1/responders/{rid}/positions?from=2026-11-28T00:00:00Z")),
        None,
    )
    .await;
    let hist: Vec<Value> =
        h["positions"].as_array().expect("positions").iter().map(|p| p["location"].clone()).collect();
    assert_eq!(hist, vec![json!([118.81, 32.01]), json!([118.80, 32.03])], "oldest first");

    let (st, v) =
        call(reqwest::Method::PUT, s.url("/api/v1/responders/999/position"), Some(json!({"location": [118.8, 32.0]})))
            .await;
    assert_eq!((st, v["error"]["code"].clone()), (404, json!("responder_not_found")));
    let (st, _) = call(
        reqwest::Method::PUT,
        s.url(&format!("/api/v1/responders/{rid}/position")),
        Some(json!({"location": [118.8, 99.0]})),
    )
    .await;
    assert_eq!(st, 400);
    let (st, _) =
        call(reqwest::Method::POST, s.url("/api/v1/responders"), Some(json!({"name": "", "kind": "vehicle"}))).await;
    assert_eq!(st, 422);
}

async fn batches_are_all_or_nothing_and_survive_restart(url: &str) {
    let ids: Vec<i64> = {
        let s = TestServer::start(url, true).await;
        let mut ids = Vec::new();
        for i in 0..20 {
            ids.push(id(&create(&s, json!({"name": format!("r{i}"), "kind": "grid_worker"})).await));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let batch: Vec<Value> = (0..2000)
            .map(|i| {
                json!({"responder_id": ids[i % ids.len()], "location": [rng.random_range(118.76..118.87), rng.random_range(31.98..32.04)],
                       "at": format!("2026-11-28T08:{:02}:{:02}Z", i / 60 % 60, i % 60)})
            })
            .collect();
        let (st, v) = call(reqwest::Method::POST, s.url("/api/v1/positions"), Some(json!({"positions": batch}))).await;
        assert_eq!((st, v["stored"].clone()), (200, json!(2000)), "{v}");

        // One unknown responder: the whole batch is refused, naming the position.
        let bad = json!({"positions": [{"responder_id": ids[0], "location": [118.8, 32.0]}, {"responder_id": 424242, "location": [118.8, 32.0]}]});
        let (st, v) = call(reqwest::Method::POST, s.url("/api/v1/positions"), Some(bad)).await;
        assert_eq!((st, v["error"]["details"]["index"].clone()), (422, json!(1)), "{v}");
        let (_, h) = call(reqwest::Method::GET, s.url(&format!("/api/v1/responders/{}/positions", ids[0])), None).await;
        assert_eq!(h["positions"].as_array().map(Vec::len), Some(100), "nothing of the refused batch was stored");
        let bad = json!({"positions": [{"responder_id": ids[0], "location": [218.8, 32.0]}]});
        let (st, v) = call(reqwest::Method::POST, s.url("/api/v1/positions"), Some(bad)).await;
        assert_eq!((st, v["error"]["code"].clone()), (400, json!("invalid_coordinate")));
        ids
    };
    // A new server on the same database: roster and latest positions come back.
    let s = TestServer::start(url, false).await;
    let (_, list) = call(reqwest::Method::GET, s.url("/api/v1/responders"), None).await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), ids.len());
    assert!(
        items.iter().all(|r| r["location"].is_array()
            && r["position_at"].as_str().is_some_and(|t| t.starts_with("2026-11-28T08:33"))),
        "{list}"
    );
}

/// A drill roster larger than one multi-row statement: ids in file order, each stored with its fields and first
/// position, and all of it back after a restart.
async fn a_large_roster_is_stored_in_file_order(url: &str) {
    let mut rng = ChaCha8Rng::seed_from_u64(2500);
    let statuses = ["available", "busy", "off_duty"];
    let specs: Vec<([f64; 2], &str)> = (0..2500)
        .map(|i| {
            let at = [rng.random_range(118.76..118.87), rng.random_range(31.98..32.04)];
            (at.map(|v: f64| (v * 1e6).round() / 1e6), statuses[i % 3])
        })
        .collect();
    let features: Vec<Value> = specs
        .iter()
        .enumerate()
        .map(|(i, (at, status))| {
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": at},
                   "properties": {"name": format!("演练{i}"), "kind": "grid_worker", "skills": [format!("s{}", i % 7)],
                                  "team": (i % 2 == 0).then(|| format!("t{}", i % 5)), "status": status,
                                  "at": "2026-11-28T08:00:00Z"}})
        })
        .collect();
    let ids: Vec<i64> = {
        let s = TestServer::start(url, true).await;
        // A kind the policy does not know, or a home grid the served generation does not have: 422, nothing loaded.
        for (props, code) in [
            (json!({"name": "x", "kind": "spaceship"}), "unknown_kind"),
            (json!({"name": "x", "kind": "grid_worker", "home_grid": "nope"}), "unknown_grid"),
        ] {
            let mut bad = features[..3].to_vec();
            bad[1]["properties"] = props;
            let r = reqwest::Client::new()
                .post(s.url("/api/v1/responders/load?name=bad.geojson"))
                .body(json!({"type": "FeatureCollection", "features": bad}).to_string())
                .send()
                .await
                .expect("POST roster");
            assert_eq!(r.status().as_u16(), 422, "{code}");
            let v: Value = r.json().await.expect("JSON");
            assert!(
                v.to_string().contains(code)
                    || v["error"]["message"].to_string().contains(if code == "unknown_kind" {
                        "spaceship"
                    } else {
                        "nope"
                    }),
                "{v}"
            );
        }
        let (_, none) = call(reqwest::Method::GET, s.url("/api/v1/responders"), None).await;
        assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "a refused roster loads nothing: {none}");
        let r = reqwest::Client::new()
            .post(s.url("/api/v1/responders/load?name=drill.geojson"))
            .body(json!({"type": "FeatureCollection", "features": features}).to_string())
            .send()
            .await
            .expect("POST roster");
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.json().await.expect("JSON");
        v["ids"].as_array().expect("ids").iter().map(|i| i.as_i64().expect("id")).collect()
    };
    assert_eq!(ids.len(), specs.len());
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids follow the file's order");
    let s = TestServer::start(url, false).await;
    let (_, list) = call(reqwest::Method::GET, s.url("/api/v1/responders"), None).await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), specs.len());
    for (i, ((at, status), rid)) in specs.iter().zip(&ids).enumerate() {
        let r = items.iter().find(|r| r["id"] == json!(rid)).unwrap_or_else(|| panic!("responder {rid} missing"));
        assert_eq!(
            (&r["name"], &r["status"], &r["location"], &r["skills"]),
            (&json!(format!("演练{i}")), &json!(status), &json!(at), &json!([format!("s{}", i % 7)])),
            "{r}"
        );
        assert_eq!(r["team"], if i % 2 == 0 { json!(format!("t{}", i % 5)) } else { Value::Null }, "{r}");
    }
    for &k in &[0, 999, 1000, 2499] {
        let (_, h) = call(reqwest::Method::GET, s.url(&format!("/api/v1/responders/{}/positions", ids[k])), None).await;
        assert_eq!(h["positions"].as_array().map(Vec::len), Some(1), "first position of feature {k}: {h}");
        assert_eq!(h["positions"][0]["location"], json!(specs[k].0), "{h}");
    }
}

async fn nearest_filters_before_k(url: &str) {
    let s = TestServer::start(url, true).await;
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut roster = Vec::new();
    for i in 0..60 {
        let status = ["available", "available", "busy", "off_duty"][i % 4];
        let skills = if i % 3 == 0 { vec!["fire"] } else { vec!["patrol"] };
        let kind = if i % 5 == 0 { "vehicle" } else { "grid_worker" };
        let loc = [rng.random_range(118.76..118.87), rng.random_range(31.98..32.04)];
        let v = create(
            &s,
            json!({"name": format!("r{i}"), "kind": kind, "skills": skills, "status": status, "location": loc}),
        )
        .await;
        roster.push((id(&v), status, skills, loc));
    }
    for _ in 0..30 {
        let q = [rng.random_range(118.77..118.86), rng.random_range(31.99..32.03)];
        for (skill, max_m, k) in [(None, None, 5usize), (Some("fire"), None, 3), (Some("patrol"), Some(2000.0), 10)] {
            let mut url = format!("/api/v1/dispatch/nearest?lon={}&lat={}&k={k}", q[0], q[1]);
            if let Some(sk) = skill {
                url.push_str(&format!("&skill={sk}"));
            }
            if let Some(m) = max_m {
                url.push_str(&format!("&max_distance_m={m}"));
            }
            let (st, v) = call(reqwest::Method::GET, s.url(&url), None).await;
            assert_eq!(st, 200, "{v}");
            let got: Vec<i64> = v["candidates"]
                .as_array()
                .expect("candidates")
                .iter()
                .map(|c| c["responder_id"].as_i64().expect("id"))
                .collect();
            // Brute force: available, skilled, within range, by haversine distance.
            let mut expected: Vec<(i64, f64)> = roster
                .iter()
                .filter(|(_, st, sk, _)| *st == "available" && skill.is_none_or(|w| sk.contains(&w)))
                .map(|(i, _, _, l)| (*i, Haversine.distance(Point::new(q[0], q[1]), Point::new(l[0], l[1]))))
                .filter(|(_, d)| max_m.is_none_or(|m| *d <= m))
                .collect();
            expected.sort_by(|a, b| a.1.total_cmp(&b.1));
            expected.truncate(k);
            assert_eq!(got, expected.iter().map(|e| e.0).collect::<Vec<_>>(), "query {q:?} skill {skill:?}");
            for (c, e) in v["candidates"].as_array().expect("c").iter().zip(&expected) {
                assert!((c["distance_m"].as_f64().expect("d") - e.1).abs() < 1e-6);
                assert!(c["eta_s"].as_f64().expect("eta") >= e.1 / 8.0);
                assert_eq!(c["status"], "available");
            }
        }
    }
    let (st, _) = call(reqwest::Method::GET, s.url("/api/v1/dispatch/nearest?lon=118.8&lat=32.0&k=0"), None).await;
    assert_eq!(st, 400);
    let (st, _) = call(reqwest::Method::GET, s.url("/api/v1/dispatch/nearest?lat=32.0"), None).await;
    assert_eq!(st, 400);
}

both_stores!(
    roster_status_and_positions,
    batches_are_all_or_nothing_and_survive_restart,
    a_large_roster_is_stored_in_file_order,
    nearest_filters_before_k
);
