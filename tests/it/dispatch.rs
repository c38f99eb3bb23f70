//! Dispatch over HTTP on both stores: nearest agrees with a brute-force haversine ranking over 5 000 responders;
//! two dispatchers racing for one responder; recommendations follow the policy with reasons; unassign, reassign,
//! another unit and completion release responders; drill rosters load all or nothing.

use crate::common::{TestServer, call, get, post};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const IN_GRID: [f64; 2] = [118.79, 32.02];
/// Around Qinhuai, a little wider than the district.
const AREA: ([f64; 2], [f64; 2]) = ([118.75, 31.97], [118.88, 32.06]);

/// Posts a roster file as the raw body.
async fn load(s: &TestServer, name: &str, body: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(s.url(&format!("/api/v1/responders/load?name={name}")))
        .body(body)
        .send()
        .await
        .expect("POST roster");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON"))
}

/// Great-circle distance, written out here so the test does not lean on the code under test.
fn haversine_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (la1, la2) = (a[1].to_radians(), b[1].to_radians());
    let (dla, dlo) = ((b[1] - a[1]).to_radians(), (b[0] - a[0]).to_radians());
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

struct Spec {
    id: i64,
    at: [f64; 2],
    skills: Vec<&'static str>,
    status: &'static str,
}

async fn nearest_equals_brute_force(url: &str) {
    let s = TestServer::start(url, true).await;
    let mut rng = ChaCha8Rng::seed_from_u64(5000);
    let skill_sets: [&[&str]; 4] = [&["fire"], &["first_aid"], &["fire", "first_aid"], &["patrol"]];
    let mut specs = Vec::with_capacity(5000);
    let mut features = Vec::with_capacity(5000);
    for i in 0..5000 {
        let at = [rng.random_range(AREA.0[0]..AREA.1[0]), rng.random_range(AREA.0[1]..AREA.1[1])];
        let skills = skill_sets[rng.random_range(0..skill_sets.len())].to_vec();
        let status = match rng.random_range(0..20) {
            0..12 => "available",
            12..17 => "busy",
            _ => "off_duty",
        };
        features.push(json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": at},
            "properties": {"name": format!("演练{i}"), "kind": "grid_worker", "skills": skills, "status": status}}));
        specs.push(Spec { id: 0, at, skills, status });
    }
    let roster = json!({"type": "FeatureCollection", "features": features}).to_string();
    let (st, v) = load(&s, "drill.geojson", roster).await;
    assert_eq!((st, v["loaded"].as_u64()), (201, Some(5000)), "{v}");
    for (spec, id) in specs.iter_mut().zip(v["ids"].as_array().expect("ids")) {
        spec.id = id.as_i64().expect("id");
    }

    for q in 0..200 {
        if q == 66 || q == 133 {
            // Move 2 500 responders: the fleet answers from its delta tree, and after the second move from a
            // rebuilt base.
            let mut fixes = Vec::new();
            for _ in 0..2500 {
                let i = rng.random_range(0..specs.len());
                specs[i].at = [rng.random_range(AREA.0[0]..AREA.1[0]), rng.random_range(AREA.0[1]..AREA.1[1])];
                fixes.push(json!({"responder_id": specs[i].id, "location": specs[i].at}));
            }
            let (st, v) = post(&s, "/api/v1/positions", json!({"positions": fixes})).await;
            assert_eq!(st, 200, "{v}");
        }
        let p = [rng.random_range(AREA.0[0]..AREA.1[0]), rng.random_range(AREA.0[1]..AREA.1[1])];
        let k = rng.random_range(1..=10);
        let skill = [None, Some("fire"), Some("first_aid"), Some("patrol")][rng.random_range(0..4)];
        let max = rng.random_bool(0.3).then(|| rng.random_range(100.0..1500.0));
        let mut expected: Vec<(i64, f64)> = specs
            .iter()
            .filter(|r| r.status == "available" && skill.is_none_or(|s| r.skills.contains(&s)))
            .map(|r| (r.id, haversine_m(p, r.at)))
            .filter(|(_, d)| max.is_none_or(|m| *d <= m))
            .collect();
        expected.sort_by(|a, b| a.1.total_cmp(&b.1));
        expected.truncate(k);

        let mut path = format!("/api/v1/dispatch/nearest?lon={}&lat={}&k={k}", p[0], p[1]);
        if let Some(sk) = skill {
            path.push_str(&format!("&skill={sk}"));
        }
        if let Some(m) = max {
            path.push_str(&format!("&max_distance_m={m}"));
        }
        let (st, v) = get(&s, &path).await;
        assert_eq!(st, 200, "{v}");
        let got: Vec<(i64, f64)> = v["candidates"]
            .as_array()
            .expect("candidates")
            .iter()
            .map(|c| (c["responder_id"].as_i64().expect("id"), c["distance_m"].as_f64().expect("distance")))
            .collect();
        let ids = |l: &[(i64, f64)]| l.iter().map(|c| c.0).collect::<Vec<_>>();
        assert_eq!(ids(&got), ids(&expected), "query {q} at {p:?} k={k} skill={skill:?} max={max:?}");
        for (g, e) in got.iter().zip(&expected) {
            assert!((g.1 - e.1).abs() < 0.5, "query {q}: responder {} at {} m, brute force {} m", g.0, g.1, e.1);
        }
    }
}

async fn two_dispatchers_one_responder(url: &str) {
    let s = TestServer::start(url, true).await;
    for round in 0..8 {
        let (_, a) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "other"})).await;
        let (_, b) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "other"})).await;
        let (_, r) = post(
            &s,
            "/api/v1/responders",
            json!({"name": format!("王{round}"), "kind": "grid_worker", "location": IN_GRID}),
        )
        .await;
        let body = json!({"responder_id": r["id"], "actor": "dispatcher"});
        let (pa, pb) =
            (format!("/api/v1/incidents/{}/assign", a["id"]), format!("/api/v1/incidents/{}/assign", b["id"]));
        let (x, y) = tokio::join!(post(&s, &pa, body.clone()), post(&s, &pb, body.clone()));
        let mut outcomes = [(x.0, x.1["error"]["code"].clone()), (y.0, y.1["error"]["code"].clone())];
        outcomes.sort_by_key(|o| o.0);
        assert_eq!(outcomes, [(200, Value::Null), (409, json!("responder_not_available"))], "round {round}");
        let (_, ia) = get(&s, &format!("/api/v1/incidents/{}", a["id"])).await;
        let (_, ib) = get(&s, &format!("/api/v1/incidents/{}", b["id"])).await;
        let dispatched = [&ia, &ib].iter().filter(|i| i["status"] == "dispatched").count();
        let reported = [&ia, &ib].iter().filter(|i| i["status"] == "reported").count();
        assert_eq!((dispatched, reported), (1, 1), "round {round}: exactly one incident got the responder");
        let (_, rr) = get(&s, &format!("/api/v1/responders/{}", r["id"])).await;
        assert_eq!(rr["status"], "busy");
    }
}

async fn recommend_follows_the_policy(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "fire"})).await;
    let grid = inc["grid_code"].as_str().expect("incident is in a grid").to_owned();
    let east = |m: f64| [IN_GRID[0] + m / 94_300.0, IN_GRID[1]];
    let responder = |name: &str, at: [f64; 2], skills: Value, home: Option<&str>| json!({"name": name, "kind": "grid_worker", "skills": skills, "home_grid": home, "location": at});
    let (_, near) = post(&s, "/api/v1/responders", responder("近", east(150.0), json!(["fire"]), None)).await;
    let (_, own) = post(&s, "/api/v1/responders", responder("本网格", east(900.0), json!(["fire"]), Some(&grid))).await;
    let (_, nearest_no_skill) =
        post(&s, "/api/v1/responders", responder("无技能", east(20.0), json!(["patrol"]), None)).await;

    let (st, rec) = post(&s, &format!("/api/v1/incidents/{}/recommend", inc["id"]), json!({"k": 3})).await;
    assert_eq!(st, 200, "{rec}");
    assert_eq!(rec["skill"], "fire", "fire incidents need the fire skill (policy category_skills)");
    let ids: Vec<&Value> = rec["candidates"].as_array().expect("list").iter().map(|c| &c["responder_id"]).collect();
    assert_eq!(ids, vec![&own["id"], &near["id"]], "the grid's own worker within 1 500 m first; no skill, no place");
    let first = &rec["candidates"][0];
    assert_eq!((first["home_grid"].as_bool(), first["preferred_by"].as_u64()), (Some(true), Some(1)));
    let codes: Vec<&str> =
        first["reasons"].as_array().expect("reasons").iter().filter_map(|r| r["code"].as_str()).collect();
    assert!(codes.contains(&"preferred") && codes.contains(&"home_grid") && codes.contains(&"eta"), "{codes:?}");
    assert!(first["eta_s"].as_f64().is_some_and(|e| e > 0.0) && first["position_age_s"].is_number());

    // Without a skill requirement the nearest one is there too; /dispatch/nearest stays by distance.
    let (_, rec) = post(&s, &format!("/api/v1/incidents/{}/recommend", inc["id"]), json!({"k": 3, "skill": ""})).await;
    assert_eq!(rec["candidates"].as_array().map(Vec::len), Some(3));
    let (_, near_list) = get(&s, &format!("/api/v1/dispatch/nearest?lon={}&lat={}&k=3", IN_GRID[0], IN_GRID[1])).await;
    let order: Vec<&Value> =
        near_list["candidates"].as_array().expect("list").iter().map(|c| &c["responder_id"]).collect();
    assert_eq!(order, vec![&nearest_no_skill["id"], &near["id"], &own["id"]]);
    let (st, p) = get(&s, "/api/v1/dispatch/policy").await;
    assert_eq!(
        (st, p["category_skills"]["fire"].as_str(), p["eta_method"].as_str()),
        (200, Some("fire"), Some("straight_line"))
    );
    let (st, v) = post(&s, "/api/v1/incidents/999999/recommend", json!({})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("incident_not_found")));
}

async fn release_reassign_and_completion(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "other"})).await;
    let id = inc["id"].clone();
    let mut r = Vec::new();
    for name in ["甲", "乙", "丙"] {
        let (_, v) =
            post(&s, "/api/v1/responders", json!({"name": name, "kind": "grid_worker", "location": IN_GRID})).await;
        r.push(v["id"].clone());
    }
    let status_of = |i: usize| {
        let url = s.url(&format!("/api/v1/responders/{}", r[i]));
        async move { call(reqwest::Method::GET, url, None).await.1["status"].as_str().map(str::to_owned) }
    };
    let path = |what: &str| format!("/api/v1/incidents/{id}/{what}");

    // Assign, then unassign: the incident goes back to reported, the responder is free again.
    let (st, v) = post(&s, &path("assign"), json!({"responder_id": r[0], "actor": "d1"})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(&s, &path("unassign"), json!({"responder_id": r[0], "actor": "d1", "note": "走错"})).await;
    assert_eq!((st, v["incident"]["status"].as_str()), (200, Some("reported")), "{v}");
    assert_eq!(status_of(0).await.as_deref(), Some("available"));
    let (st, v) = post(&s, &path("unassign"), json!({"actor": "d1"})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("not_assigned")), "{v}");

    // Assign 甲; a second plain assignment is refused; replace with 乙; add 丙 as another unit.
    post(&s, &path("assign"), json!({"responder_id": r[0]})).await;
    let (st, v) = post(&s, &path("assign"), json!({"responder_id": r[1]})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("already_assigned")), "{v}");
    assert_eq!(status_of(1).await.as_deref(), Some("available"), "a refused assignment changes nobody");
    let (st, v) = post(&s, &path("assign"), json!({"responder_id": r[1], "replace": true, "actor": "d2"})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["released"][0]["id"], r[0]);
    assert_eq!((status_of(0).await.as_deref(), status_of(1).await.as_deref()), (Some("available"), Some("busy")));
    let (st, v) = post(&s, &path("assign"), json!({"responder_id": r[2], "additional": true})).await;
    assert_eq!((st, v["incident"]["status"].as_str()), (200, Some("dispatched")), "{v}");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(one["assigned"], json!([r[1], r[2]]));
    assert_eq!(one["assignments"][0]["ranking"]["source"], "server", "without a ranking the server's is recorded");

    // Resolving releases everyone on it.
    for to in ["on_scene", "resolved"] {
        let (st, v) = post(&s, &path("status"), json!({"status": to, "actor": "d2"})).await;
        assert_eq!(st, 200, "{v}");
    }
    assert_eq!((status_of(1).await.as_deref(), status_of(2).await.as_deref()), (Some("available"), Some("available")));
    let (_, one) = get(&s, &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(one["assigned"], json!([]));
    let reasons: Vec<&str> =
        one["assignments"].as_array().expect("list").iter().filter_map(|a| a["release_reason"].as_str()).collect();
    let replaced = format!("replaced by responder {}", r[1]);
    assert_eq!(reasons, vec!["unassigned: 走错", replaced.as_str(), "resolved", "resolved"]);
}

/// Issue 33 residual: an assignment and a status change racing for one responder commit in one order but their
/// handlers may finish in the other; the live fleet (what `GET /responders/{id}` and dispatch read) must end where
/// the store ended, never `available` for a responder an assignment holds.
async fn racing_status_changes_leave_the_fleet_as_stored(url: &str) {
    let s = TestServer::start(url, true).await;
    let stored_status = |id: i64| async move {
        let sql = "SELECT status FROM responders WHERE id = $1";
        if url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(url).await.expect("open");
            sqlx::query_scalar::<_, String>(sql).bind(id).fetch_one(&pool).await.expect("read")
        } else {
            let pool = sqlx::PgPool::connect(url).await.expect("open");
            sqlx::query_scalar::<_, String>(sql).bind(id).fetch_one(&pool).await.expect("read")
        }
    };
    for round in 0..40 {
        let (_, inc) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "other"})).await;
        let (_, r) = post(
            &s,
            "/api/v1/responders",
            json!({"name": format!("赛{round}"), "kind": "grid_worker", "location": IN_GRID}),
        )
        .await;
        let path = format!("/api/v1/incidents/{}/assign", inc["id"]);
        let assign = post(&s, &path, json!({"responder_id": r["id"]}));
        let status = call(
            reqwest::Method::PUT,
            s.url(&format!("/api/v1/responders/{}/status", r["id"])),
            Some(json!({"status": "available"})),
        );
        let ((sa, va), (sb, vb)) = tokio::join!(assign, status);
        assert!(sa == 200, "round {round}: the assignment is made either way: {va}");
        assert!(sb == 200 || sb == 409, "round {round}: {sb} {vb}");
        let stored = stored_status(r["id"].as_i64().expect("id")).await;
        let (_, live) = get(&s, &format!("/api/v1/responders/{}", r["id"])).await;
        assert_eq!((stored.as_str(), live["status"].as_str()), ("busy", Some("busy")), "round {round}");
    }
}

/// Issue 33: a responder is on one incident at a time. A status change while assigned is refused naming the
/// incident; a second incident cannot take them; `additional` for a unit already on the incident and an unknown
/// responder on a staffed incident get their own answers; and the store itself refuses a second open assignment.
async fn one_incident_at_a_time(url: &str) {
    let s = TestServer::start(url, true).await;
    let (_, a) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "other"})).await;
    let (_, b) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "other"})).await;
    let (_, r) =
        post(&s, "/api/v1/responders", json!({"name": "甲", "kind": "grid_worker", "location": IN_GRID})).await;
    let assign = |inc: &Value, body: Value| {
        let path = format!("/api/v1/incidents/{}/assign", inc["id"]);
        let s = &s;
        async move { post(s, &path, body).await }
    };
    let (st, v) = assign(&a, json!({"responder_id": r["id"]})).await;
    assert_eq!(st, 200, "{v}");

    let status = s.url(&format!("/api/v1/responders/{}/status", r["id"]));
    for to in ["available", "off_duty"] {
        let (st, v) = call(reqwest::Method::PUT, status.clone(), Some(json!({"status": to}))).await;
        assert_eq!((st, v["error"]["code"].as_str()), (409, Some("responder_on_incident")), "{to}: {v}");
        assert_eq!(v["error"]["details"]["incident_id"], a["id"], "names the incident: {v}");
    }
    let (st, v) = call(reqwest::Method::PUT, status.clone(), Some(json!({"status": "busy"}))).await;
    assert_eq!(st, 200, "busy is what they are: {v}");
    let (_, rr) = get(&s, &format!("/api/v1/responders/{}", r["id"])).await;
    assert_eq!(rr["status"], "busy");

    let (st, v) = assign(&b, json!({"responder_id": r["id"]})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("responder_not_available")), "{v}");
    let (st, v) = assign(&a, json!({"responder_id": r["id"], "additional": true})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("already_on_incident")), "{v}");
    assert!(!v["error"]["message"].as_str().unwrap_or("").contains("additional"), "no advice to send it again: {v}");
    let (st, v) = assign(&a, json!({"responder_id": 999_999, "additional": true})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("unknown_responder")), "{v}");
    let (st, v) = assign(&a, json!({"responder_id": 999_999})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("unknown_responder")), "{v}");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{}", b["id"])).await;
    assert_eq!((one["status"].as_str(), one["assigned"].clone()), (Some("reported"), json!([])));

    // Released, they may change status and go elsewhere.
    let (st, v) = post(&s, &format!("/api/v1/incidents/{}/unassign", a["id"]), json!({"responder_id": r["id"]})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = call(reqwest::Method::PUT, status.clone(), Some(json!({"status": "off_duty"}))).await;
    assert_eq!(st, 200, "{v}");
    call(reqwest::Method::PUT, status, Some(json!({"status": "available"}))).await;
    let (st, v) = assign(&b, json!({"responder_id": r["id"]})).await;
    assert_eq!(st, 200, "{v}");

    // The store's own rule: a second open assignment of the same responder is refused by the database.
    let insert = "INSERT INTO assignments (incident_id, responder_id, actor, assigned_at, ranking) VALUES ($1, $2, 'test', $3, $4)";
    let (ia, rid) = (a["id"].as_i64().expect("id"), r["id"].as_i64().expect("id"));
    let refused = if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("open");
        let done = sqlx::query(insert).bind(ia).bind(rid).bind(time::OffsetDateTime::now_utc()).bind("[]");
        done.execute(&pool).await.map(|_| ())
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("open");
        let ranking = sqlx::types::Json(json!([]));
        let done = sqlx::query(insert).bind(ia).bind(rid).bind(time::OffsetDateTime::now_utc()).bind(ranking);
        done.execute(&pool).await.map(|_| ())
    };
    let e = refused.expect_err("a second open assignment breaks the unique index");
    assert!(e.to_string().to_lowercase().contains("unique"), "{e}");

    // What a status change racing an assignment could leave behind: the row says available while an assignment
    // (on b) still holds the responder. Assigning them elsewhere reaches the index, and the answer is the 409 the
    // status check gives, not a store failure.
    let free = "UPDATE responders SET status = 'available' WHERE id = $1";
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("open");
        sqlx::query(free).bind(rid).execute(&pool).await.expect("status written");
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("open");
        sqlx::query(free).bind(rid).execute(&pool).await.expect("status written");
    }
    let (_, c) = post(&s, "/api/v1/incidents", json!({"location": IN_GRID, "category": "other"})).await;
    let (st, v) = assign(&c, json!({"responder_id": r["id"]})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("responder_not_available")), "{v}");
    let (_, one) = get(&s, &format!("/api/v1/incidents/{}", c["id"])).await;
    assert_eq!(
        (one["status"].as_str(), one["assigned"].clone()),
        (Some("reported"), json!([])),
        "nothing half-written"
    );
}

async fn rosters_load_all_or_nothing(url: &str) {
    let s = TestServer::start(url, true).await;
    let count = |v: &Value| v["items"].as_array().map_or(0, Vec::len);
    let (_, before) = get(&s, "/api/v1/responders").await;
    let bad = "name,kind,skills,lon,lat\n张三,grid_worker,fire,118.79,32.02\n李四,,fire,118.80,32.02\n";
    let (st, v) = load(&s, "drill.csv", bad.into()).await;
    assert_eq!((st, v["error"]["code"].as_str()), (422, Some("invalid_roster")), "{v}");
    assert_eq!(
        v["error"]["message"],
        "drill.csv: row 3: field kind: is required (grid_worker, enforcement, vehicle, …)"
    );
    let (_, after) = get(&s, "/api/v1/responders").await;
    assert_eq!(count(&after), count(&before), "nothing of a bad roster is stored");

    let good = "name,kind,skills,team,status,lon,lat\n张三,grid_worker,fire;first_aid,一队,,118.79,32.02\n车1,vehicle,,,off_duty,,\n";
    let (st, v) = load(&s, "drill.csv", good.into()).await;
    assert_eq!((st, v["loaded"].as_u64()), (201, Some(2)), "{v}");
    let (_, one) = get(&s, &format!("/api/v1/responders/{}", v["ids"][0])).await;
    assert_eq!((one["skills"].clone(), one["grid_code"].is_string()), (json!(["fire", "first_aid"]), true));
}

both_stores!(
    nearest_equals_brute_force,
    two_dispatchers_one_responder,
    recommend_follows_the_policy,
    release_reassign_and_completion,
    one_incident_at_a_time,
    racing_status_changes_leave_the_fleet_as_stored,
    rosters_load_all_or_nothing,
);
