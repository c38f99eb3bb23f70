//! The `gridmap` binary: import with its checks and exit codes, generations, activate, rollback, on both stores.

use crate::common::{gridmap, sample_dir, sample_layer};
use serde_json::{Value, json};

fn write(dir: &tempfile::TempDir, name: &str, v: &Value) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, v.to_string()).expect("write fixture");
    p.display().to_string()
}

fn sample(layer: &str) -> String {
    sample_dir().join(format!("{layer}.geojson")).display().to_string()
}

/// Imports the three sample layers, activating them in turn; returns the active generation.
fn import_sample(db: &str) -> i64 {
    for layer in ["streets", "communities", "grids"] {
        let (code, out, err) = gridmap(&["import", "--layer", layer, &sample(layer), "--activate", "--db", db]);
        assert_eq!(code, 0, "{layer}: {out}{err}");
        assert!(out.contains("written and activated"), "{out}");
    }
    active(db)
}

fn generations(db: &str) -> Vec<Value> {
    let (code, out, err) = gridmap(&["generations", "--json", "--db", db]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<Vec<Value>>(&out).expect("generations JSON")
}

fn active(db: &str) -> i64 {
    generations(db)
        .iter()
        .find(|g| g["status"] == "active")
        .and_then(|g| g["id"].as_i64())
        .expect("an active generation")
}

async fn import_activate_and_rollback(db: &str) {
    let g = import_sample(db);
    let list = generations(db);
    assert_eq!(list.len(), 3);
    let counts: Vec<i64> =
        list[0]["layers"].as_array().expect("layers").iter().map(|l| l["features"].as_i64().expect("n")).collect();
    assert_eq!(counts, vec![12, 108, 756]);

    // Stage (no --activate): valid, written, not active.
    let (code, out, _) = gridmap(&["import", "--layer", "grids", &sample("grids"), "--db", db]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("staged"), "{out}");
    assert_eq!(active(db), g);
    let staged = generations(db)[0]["id"].as_i64().expect("id");
    let (code, out, _) = gridmap(&["activate", &staged.to_string(), "--db", db]);
    assert_eq!((code, active(db)), (0, staged), "{out}");
    let (code, _, _) = gridmap(&["rollback", "--db", db]);
    assert_eq!((code, active(db)), (0, g));
    let (code, _, err) = gridmap(&["activate", "424242", "--db", db]);
    assert_eq!(code, 1);
    assert!(err.contains("424242"), "{err}");
}

/// `gridmap discard` deletes a staged generation that was never active and that nothing builds on, features
/// included; it refuses (exit 1, nothing changed) a generation another builds on, one that has been active, and an
/// unknown one. Then `DELETE /api/v1/generations/{id}` does the same over HTTP: 204, then 404; 409 for the active one.
async fn discard_a_staged_generation(db: &str) {
    let active_before = import_sample(db);
    let stage = |args: &[&str]| -> i64 {
        let mut full = vec!["import", "--json", "--db", db];
        full.extend_from_slice(args);
        let (code, out, err) = gridmap(&full);
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str::<Value>(&out).expect("report")["generation"].as_i64().expect("staged")
    };
    let staged = stage(&["--layer", "grids", &sample("grids")]);
    let built_on = stage(&["--layer", "communities", &sample("communities"), "--base", &staged.to_string()]);
    let discard = |g: i64| gridmap(&["discard", &g.to_string(), "--db", db]);

    let (code, _, err) = discard(staged);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("builds on it"), "{err}");
    let (code, _, err) = discard(active_before);
    assert_eq!(code, 1);
    assert!(err.contains("has been active"), "{err}");
    let (code, _, err) = discard(424_242);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(generations(db).len(), 5, "refusals change nothing");

    let (code, out, err) = discard(built_on);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = discard(staged);
    assert_eq!(code, 0, "{out}{err}");
    let ids: Vec<i64> = generations(db).iter().filter_map(|g| g["id"].as_i64()).collect();
    assert!(!ids.contains(&staged) && !ids.contains(&built_on) && ids.len() == 3, "{ids:?}");
    let store = gridmap::store::open(db).await.expect("store");
    let left = store.layer_features(gridmap::layers::GenerationId(staged), gridmap::layers::Layer::Grids).await;
    assert!(left.map_or(true, |f| f.is_empty()), "the staged grids are gone");
    assert_eq!(active(db), active_before);
    drop(store);

    // Over HTTP, on a server of the same database.
    let server = crate::common::TestServer::start(db, false).await;
    let g = stage(&["--layer", "grids", &sample("grids")]);
    let url = |g: i64| server.url(&format!("/api/v1/generations/{g}"));
    let resp = reqwest::Client::new().delete(url(g)).send().await.expect("delete");
    assert_eq!(resp.status().as_u16(), 204);
    let (status, body) = crate::common::call(reqwest::Method::DELETE, url(g), None).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = crate::common::call(reqwest::Method::DELETE, url(active_before), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("generation_in_use")), "{body}");
}

/// Keys made and revoked by the CLI are honoured by a running server (another process on the same database), and
/// each CLI action leaves an audit row.
async fn keys_from_the_cli_guard_a_server(db: &str) {
    import_sample(db);
    let (code, secret, err) = gridmap(&["keys", "create", "--role", "viewer", "--name", "值班大屏", "--db", db]);
    assert_eq!(code, 0, "{err}");
    let secret = secret.trim().to_owned();
    assert!(secret.starts_with("gmk_") && err.contains("shown only this once"), "{secret} {err}");
    let (code, _, err) = gridmap(&["keys", "create", "--role", "root", "--db", db]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = gridmap(&["keys", "create", "--role", "viewer", "--scope", "street:999", "--db", db]);
    assert_eq!(code, 1, "a scope naming no street of the active generation: {err}");
    assert!(err.contains("street 999 is not in the active generation"), "{err}");
    let (code, _, err) = gridmap(&["keys", "create", "--role", "viewer", "--scope", "street:320104001", "--db", db]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = gridmap(&["keys", "create", "--role", "viewer", "--scope", "grid:G1", "--db", db]);
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = gridmap(&["keys", "list", "--json", "--db", db]);
    let keys: Value = serde_json::from_str(&out).expect("json");
    assert_eq!((code, keys[0]["role"].as_str(), keys[0]["revoked_at"].is_null()), (0, Some("viewer"), true), "{out}");
    assert!(!out.contains(&secret[4..]), "the secret is never listed");
    let id = keys[0]["id"].to_string();

    let server = crate::common::TestServer::start_with(db, true, |o| o.auth = true).await;
    let get = |key: &str| {
        let (url, key) = (server.url("/api/v1/incidents"), key.to_owned());
        async move { reqwest::Client::new().get(url).bearer_auth(key).send().await.expect("request").status().as_u16() }
    };
    assert_eq!(get(&secret).await, 200);
    let (code, out, _) = gridmap(&["keys", "revoke", &id, "--db", db]);
    assert_eq!(code, 0, "{out}");
    tokio::time::sleep(gridmap::auth::Keyring::FRESH + std::time::Duration::from_millis(200)).await;
    assert_eq!(get(&secret).await, 401, "a revocation by another process takes effect");
    let (code, _, err) = gridmap(&["keys", "revoke", "9999", "--db", db]);
    assert_eq!(code, 1, "{err}");

    let store = gridmap::store::open(db).await.expect("store");
    let filter = gridmap::audit::AuditFilter { limit: 10, ..Default::default() };
    let actions: Vec<String> = store
        .audit_entries(&filter)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("key."))
        .collect();
    assert_eq!(actions, ["key.revoked", "key.created", "key.created"]);
}

/// Issue 33.6: the audit log names who ran a command: `GRIDMAP_ACTOR` when set, else the login name, also when
/// `$USER` and `$LOGNAME` are unset (as under cron or a bare `env -i`), never `cli:unknown`.
async fn the_audit_names_who_ran_a_command(db: &str) {
    import_sample(db);
    let create = |env: &[(&str, &str)], clear: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gridmap"));
        cmd.args(["keys", "create", "--role", "viewer", "--db", db]).env_remove("GRIDMAP_DB");
        if clear {
            cmd.env_remove("USER").env_remove("LOGNAME").env_remove("GRIDMAP_ACTOR");
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run gridmap");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    create(&[("GRIDMAP_ACTOR", "值班员甲")], false);
    create(&[], true);
    // The login name as the system tells it, independently of gridmap's reading of /etc/passwd.
    let who = std::process::Command::new("id").arg("-un").output().expect("id -un");
    let login = String::from_utf8_lossy(&who.stdout).trim().to_owned();
    assert!(!login.is_empty());

    let store = gridmap::store::open(db).await.expect("store");
    let filter = gridmap::audit::AuditFilter { limit: 10, ..Default::default() };
    let actors: Vec<String> = store
        .audit_entries(&filter)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "key.created")
        .map(|e| e.actor)
        .collect();
    assert_eq!(actors, [format!("cli:{login}"), "cli:值班员甲".to_owned()], "newest first");
}

async fn json_report_and_dry_run(db: &str) {
    import_sample(db);
    let before = generations(db);
    let (code, out, _) = gridmap(&["import", "--layer", "grids", &sample("grids"), "--dry-run", "--json", "--db", db]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(
        (report["valid"].clone(), report["features"].clone(), report["dry_run"].clone()),
        (json!(true), json!(756), json!(true))
    );
    assert_eq!(report["generation"], Value::Null);
    assert_eq!(generations(db), before, "a dry run writes nothing");
}

/// The report compares the file with the layer it replaces (added, removed, renamed, reshaped) and checks children
/// against their parents: a grid moved out of its community is an error with area, share and place; a grid left
/// out opens a gap in its community, a warning with area and place.
async fn diff_gaps_and_children_outside_parents(db: &str) {
    import_sample(db);
    let dir = tempfile::tempdir().expect("dir");
    let mut fc: Value = serde_json::from_str(&std::fs::read_to_string(sample("grids")).expect("read")).expect("json");
    let features = fc["features"].as_array_mut().expect("features");
    let removed = features.remove(0);
    let removed_code = removed["properties"]["code"].as_str().expect("code").to_owned();
    let community = removed["properties"]["parent_code"].as_str().expect("parent").to_owned();
    features[0]["properties"]["name"] = json!("改名的网格");
    let renamed = features[0]["properties"]["code"].as_str().expect("code").to_owned();
    let good = write(&dir, "grids-edited.geojson", &fc);
    let (code, out, err) = gridmap(&["import", "--layer", "grids", &good, "--dry-run", "--json", "--db", db]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    let diff = &report["diff"];
    assert_eq!(
        (diff["before"].as_u64(), diff["after"].as_u64(), diff["unchanged"].as_u64()),
        (Some(756), Some(755), Some(754)),
        "{diff}"
    );
    assert_eq!(diff["removed"], json!([removed_code]));
    assert_eq!(diff["renamed"][0]["code"], json!(renamed));
    assert_eq!(diff["renamed"][0]["to"], "改名的网格");
    let gap = report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .find(|w| w["message"].as_str().is_some_and(|m| m.starts_with("gap of") && m.contains(&community)))
        .unwrap_or_else(|| panic!("no gap warning for community {community}: {}", report["warnings"]));
    assert!(gap["location"].is_array(), "{gap}");
    let (code, text, _) = gridmap(&["import", "--layer", "grids", &good, "--dry-run", "--db", db]);
    assert_eq!(code, 0);
    assert!(text.contains("1 removed, 1 renamed") && text.contains("754 unchanged"), "{text}");

    // Move one grid 0.02° east (≈ 1.9 km): most of it leaves its community: an error, and it is reshaped.
    let features = fc["features"].as_array_mut().expect("features");
    let moved_code = features[5]["properties"]["code"].as_str().expect("code").to_owned();
    for ring in features[5]["geometry"]["coordinates"].as_array_mut().expect("rings") {
        for p in ring.as_array_mut().expect("ring") {
            p[0] = json!(p[0].as_f64().expect("lon") + 0.02);
        }
    }
    let bad = write(&dir, "grids-moved.geojson", &fc);
    let report = assert_rejected(db, &["--layer", "grids", &bad], &["outside its parent communities", &moved_code]);
    let outside = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| {
            e["code"] == json!(moved_code) && e["message"].as_str().is_some_and(|m| m.contains("outside its parent"))
        })
        .unwrap_or_else(|| panic!("no outside-parent error: {}", report["errors"]));
    assert!(outside["location"].is_array(), "{outside}");
}

/// `--fix` closes rings, drops repeated points and lists each repair; what it will not guess at stays an error.
async fn fix_repairs_what_is_safe(db: &str) {
    import_sample(db);
    let dir = tempfile::tempdir().expect("dir");
    let square = |x: f64| vec![[x, 32.0], [x + 0.01, 32.0], [x + 0.01, 32.01], [x, 32.01]];
    let mut unclosed = square(118.7);
    unclosed.insert(2, unclosed[1]); // and a repeated point
    let mut closed = square(118.8);
    closed.push(closed[0]);
    let street = |code: &str, ring: Vec<[f64; 2]>| {
        json!({"type": "Feature", "properties": {"code": code, "name": code, "parent_code": "320104"},
               "geometry": {"type": "Polygon", "coordinates": [ring]}})
    };
    let fc = json!({"type": "FeatureCollection", "features": [street("S1", unclosed), street("S2", closed.clone())]});
    let file = write(&dir, "streets-unclosed.geojson", &fc);
    let report = assert_rejected(db, &["--layer", "streets", &file], &["is not closed", "--fix closes it"]);
    assert_eq!((report["errors"][0]["feature"].as_u64(), report["errors"][0]["code"].as_str()), (Some(0), Some("S1")));
    let (code, out, err) =
        gridmap(&["import", "--layer", "streets", &file, "--fix", "--dry-run", "--json", "--db", db]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let fixed: Vec<&str> = report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter(|w| w["code"] == "S1")
        .filter_map(|w| w["message"].as_str())
        .collect();
    assert_eq!(
        fixed,
        ["fixed: 1 unclosed ring(s) closed", "fixed: 1 repeated point(s) dropped"],
        "{}",
        report["warnings"]
    );

    // A bow-tie is not guessed at: still an error, and the report says it was not fixed.
    let bow = vec![[118.9, 32.0], [118.91, 32.01], [118.91, 32.0], [118.9, 32.01], [118.9, 32.0]];
    let fc = json!({"type": "FeatureCollection", "features": [street("S3", bow), street("S2", closed)]});
    let file = write(&dir, "streets-bowtie.geojson", &fc);
    let report = assert_rejected(db, &["--layer", "streets", &file, "--fix"], &["not fixed", "invalid geometry"]);
    assert_eq!(report["valid"], false);
    // Located for the map: a point of the bow-tie, inside its box.
    let bad = report["errors"].as_array().expect("errors").iter().find(|e| e["code"] == "S3").expect("S3's error");
    let at = [bad["location"][0].as_f64().expect("lon"), bad["location"][1].as_f64().expect("lat")];
    assert!((118.9..=118.91).contains(&at[0]) && (32.0..=32.01).contains(&at[1]), "{bad}");
}

/// Runs an import expected to be rejected; checks exit 1, the message, and that nothing changed.
fn assert_rejected(db: &str, args: &[&str], expect_in_output: &[&str]) -> Value {
    let before = generations(db);
    let mut full = vec!["import"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--json", "--db", db]);
    let (code, out, err) = gridmap(&full);
    assert_eq!(code, 1, "expected rejection: {out}{err}");
    for needle in expect_in_output {
        assert!(out.contains(needle) || err.contains(needle), "{needle:?} missing from: {out}{err}");
    }
    assert_eq!(generations(db), before, "nothing is written on rejection");
    serde_json::from_str(&out).unwrap_or(Value::Null)
}

async fn broken_files_are_rejected_naming_the_feature(db: &str) {
    import_sample(db);
    let dir = tempfile::tempdir().expect("dir");

    // A ring that is not closed, in feature 3.
    let mut v = sample_layer("grids");
    let ring = v["features"][3]["geometry"]["coordinates"][0].as_array_mut().expect("ring");
    ring.pop();
    let code3 = v["features"][3]["properties"]["code"].as_str().expect("code").to_owned();
    let f = write(&dir, "open_ring.geojson", &v);
    let report = assert_rejected(db, &["--layer", "grids", &f], &["not closed", &code3]);
    assert_eq!(report["errors"][0]["feature"], 3);
    assert_eq!(report["errors"][0]["field"], "geometry");

    // A self-intersecting (bow-tie) ring.
    let mut v = sample_layer("grids");
    v["features"][5]["geometry"] = json!({"type": "Polygon", "coordinates": [[[118.8, 32.0], [118.81, 32.01], [118.81, 32.0], [118.8, 32.01], [118.8, 32.0]]]});
    let f = write(&dir, "bowtie.geojson", &v);
    let report = assert_rejected(db, &["--layer", "grids", &f], &["self-intersection"]);
    assert_eq!(report["errors"][0]["feature"], 5);

    // A code given to two different areas (other name and parent): both rows named, with the differing field.
    let mut v = sample_layer("grids");
    let dup = v["features"][0]["properties"]["code"].clone();
    v["features"][10]["properties"]["code"] = dup.clone();
    let f = write(&dir, "dup.geojson", &v);
    let report = assert_rejected(db, &["--layer", "grids", &f], &["rows 0 and 10 share code", "disagree on name"]);
    assert_eq!((report["errors"][0]["feature"].clone(), report["errors"][0]["code"].clone()), (json!(10), dup));

    // A parent code that does not exist in the parent layer.
    let mut v = sample_layer("grids");
    v["features"][7]["properties"]["parent_code"] = json!("999999999999");
    let f = write(&dir, "orphan.geojson", &v);
    assert_rejected(db, &["--layer", "grids", &f], &["parent code 999999999999 does not exist in layer communities"]);

    // Empty and non-polygon geometry.
    let mut v = sample_layer("communities");
    v["features"][2]["geometry"] = Value::Null;
    v["features"][4]["geometry"] = json!({"type": "LineString", "coordinates": [[118.8, 32.0], [118.9, 32.1]]});
    let f = write(&dir, "empty.geojson", &v);
    let report = assert_rejected(db, &["--layer", "communities", &f], &["geometry is empty", "LineString"]);
    assert_eq!(report["errors"].as_array().expect("errors").len(), 2);

    // Projected coordinates without --crs.
    let mut v = sample_layer("streets");
    v["features"][1]["geometry"]["coordinates"][0][0] = json!([665000.0, 3545000.0]);
    let f = write(&dir, "projected.geojson", &v);
    assert_rejected(db, &["--layer", "streets", &f], &["is not a WGS84 longitude/latitude", "--crs"]);

    // Missing code attribute, with a hint about --code-field.
    let f = write(&dir, "nocode.geojson", &sample_layer("streets"));
    assert_rejected(db, &["--layer", "streets", &f, "--code-field", "adcode"], &["--code-field", "\"adcode\""]);

    // Not JSON at all.
    let f = dir.path().join("garbage.geojson");
    std::fs::write(&f, "{\"type\": \"FeatureCollection\", \"features\": [").expect("write");
    assert_rejected(db, &["--layer", "streets", &f.display().to_string()], &["garbage.geojson", "not valid GeoJSON"]);
}

async fn usage_errors_exit_2(db: &str) {
    let (code, _, err) = gridmap(&["import", "--layer", "roads", &sample("grids"), "--db", db]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown layer"), "{err}");
    let (code, _, _) = gridmap(&["import", &sample("grids"), "--db", db]);
    assert_eq!(code, 2, "--layer is required");
    let (code, _, _) = gridmap(&["frobnicate"]);
    assert_eq!(code, 2);
}

async fn staging_several_layers_on_one_base(db: &str) {
    let g = import_sample(db);
    // New streets alone would orphan the current communities: a warning, and --base lets the communities follow.
    let dir = tempfile::tempdir().expect("dir");
    let mut streets = sample_layer("streets");
    for f in streets["features"].as_array_mut().expect("features") {
        let code = f["properties"]["code"].as_str().expect("code").replace("320104", "320199");
        f["properties"]["code"] = json!(code);
    }
    let sf = write(&dir, "streets.geojson", &streets);
    let (code, out, _) = gridmap(&["import", "--layer", "streets", &sf, "--json", "--db", db]);
    assert_eq!(code, 0, "{out}");
    let report: Value = serde_json::from_str(&out).expect("report");
    assert!(report["warnings"].to_string().contains("108 communities"), "{report}");
    let staged = report["generation"].as_i64().expect("generation");

    let mut communities = sample_layer("communities");
    for f in communities["features"].as_array_mut().expect("features") {
        let p = f["properties"]["parent_code"].as_str().expect("parent").replace("320104", "320199");
        f["properties"]["parent_code"] = json!(p);
    }
    let cf = write(&dir, "communities.geojson", &communities);
    // Against the active generation the new parent codes do not exist…
    assert_rejected(db, &["--layer", "communities", &cf], &["does not exist in layer streets"]);
    // …against the staged streets they do.
    let (code, out, _) = gridmap(&[
        "import",
        "--layer",
        "communities",
        &cf,
        "--base",
        &staged.to_string(),
        "--activate",
        "--json",
        "--db",
        db,
    ]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(active(db), g);
}

async fn drill_rosters_load_all_or_nothing(db: &str) {
    import_sample(db);
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("演练.csv");
    std::fs::write(&bad, "name,kind,lon,lat\n张三,grid_worker,118.79,32.02\n李四,grid_worker,118.79,\n")
        .expect("write");
    let (code, out, err) = gridmap(&["load-responders", &bad.display().to_string(), "--db", db]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("演练.csv: row 3: field lat: is required when lon is given"), "{err}");
    let good = dir.path().join("drill.geojson");
    let fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.79, 32.02]},
         "properties": {"name": "王五", "kind": "vehicle", "skills": ["fire"]}}]});
    std::fs::write(&good, fc.to_string()).expect("write");
    let (code, out, err) = gridmap(&["load-responders", &good.display().to_string(), "--db", db]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("loaded 1 responders") && out.contains("(id ") && !out.contains("Some("), "{out}");
    // A kind the dispatch policy does not know and a home grid the served generation lacks are refused.
    for (row, says) in [
        ("张三,spaceship,,", "kind \"spaceship\" is not a responder kind of the dispatch policy"),
        ("张三,grid_worker,nope,", "home_grid \"nope\" is not a grid of the served generation"),
    ] {
        let f = dir.path().join("bad.csv");
        std::fs::write(&f, format!("name,kind,home_grid,team\n{row}\n")).expect("write");
        let (code, out, err) = gridmap(&["load-responders", &f.display().to_string(), "--db", db]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(err.contains("responder 0 of the roster") && err.contains(says), "{err}");
    }
    // The store holds exactly the good file's responder: a server started on it sees one.
    let store = gridmap::store::open(db).await.expect("open");
    let all = store.responders().await.expect("responders");
    assert_eq!(all.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["王五"]);
}

async fn gpx_tracks_import_as_patrols(db: &str) {
    gridmap::store::open(db).await.expect("create the database");
    let dir = tempfile::tempdir().expect("tempdir");
    let roster = dir.path().join("r.csv");
    std::fs::write(&roster, "name,kind\n巡查员,grid_worker\n").expect("write");
    let (code, out, err) = gridmap(&["load-responders", &roster.display().to_string(), "--db", db]);
    assert_eq!(code, 0, "{out}{err}");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpx/around-visnjan-with-car.gpx");
    let (code, out, err) = gridmap(&["import-track", &fixture.display().to_string(), "--responder", "1", "--db", db]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("patrol 1 of responder 1: 104 fixes,") && out.contains("resolution 11, 0 grids"), "{out}");
    let (code, _, err) = gridmap(&["import-track", &fixture.display().to_string(), "--responder", "7", "--db", db]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("responder 7 does not exist"), "{err}");
}

/// A PMTiles v3 archive read by the spec (not by the crate that wrote it): header fields, directory entries
/// (tile id, run length, offset, length), metadata JSON.
struct Archive {
    bytes: Vec<u8>,
    entries: Vec<(u64, u64, u64, u64)>,
    metadata: Value,
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).expect("gzip");
    out
}

fn read_pmtiles(bytes: Vec<u8>) -> Archive {
    assert_eq!(&bytes[..7], b"PMTiles", "magic");
    assert_eq!(bytes[7], 3, "version");
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
    let (root_off, root_len, meta_off, meta_len) = (u64_at(8), u64_at(16), u64_at(24), u64_at(32));
    assert_eq!(u64_at(48), 0, "no leaf directories for an archive this small");
    assert_eq!((bytes[97], bytes[98], bytes[99]), (2, 2, 1), "gzip directories, gzip tiles, MVT");
    let dir = gunzip(&bytes[root_off as usize..(root_off + root_len) as usize]);
    let mut at = 0;
    let mut varint = || {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = dir[at];
            at += 1;
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                return v;
            }
        }
    };
    let n = varint() as usize;
    let mut ids = Vec::with_capacity(n);
    let mut last = 0;
    for _ in 0..n {
        last += varint();
        ids.push(last);
    }
    let runs: Vec<u64> = (0..n).map(|_| varint()).collect();
    let lengths: Vec<u64> = (0..n).map(|_| varint()).collect();
    let mut entries: Vec<(u64, u64, u64, u64)> = Vec::with_capacity(n);
    for i in 0..n {
        let raw = varint();
        let offset = if raw == 0 && i > 0 { entries[i - 1].2 + entries[i - 1].3 } else { raw - 1 };
        entries.push((ids[i], runs[i], offset, lengths[i]));
    }
    let metadata = serde_json::from_slice(&gunzip(&bytes[meta_off as usize..(meta_off + meta_len) as usize]))
        .expect("metadata JSON");
    Archive { bytes, entries, metadata }
}

impl Archive {
    fn tile(&self, entry: usize) -> Vec<u8> {
        let data = u64::from_le_bytes(self.bytes[56..64].try_into().expect("8 bytes"));
        let (_, _, offset, length) = self.entries[entry];
        gunzip(&self.bytes[(data + offset) as usize..(data + offset + length) as usize])
    }
}

async fn export_tiles_writes_a_pmtiles_archive(db: &str) {
    use geozero::mvt::{Message, Tile};
    import_sample(db);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("qinhuai.pmtiles");
    let out_s = out.display().to_string();
    let args = ["export-tiles", "--layers", "streets,grids", "--minzoom", "11", "--maxzoom", "14", "--out", &out_s];
    let (code, stdout, err) = gridmap(&[&args[..], &["--db", db]].concat());
    assert_eq!(code, 0, "{stdout}{err}");
    let archive = read_pmtiles(std::fs::read(&out).expect("archive"));
    assert_eq!((archive.bytes[100], archive.bytes[101]), (11, 14), "zoom range");
    let written = archive.entries.iter().map(|e| e.1).sum::<u64>();
    assert!(stdout.contains(&format!("({written} of ")), "{stdout}");
    let ids: Vec<&str> = archive.metadata["vector_layers"]
        .as_array()
        .expect("vector_layers")
        .iter()
        .map(|l| l["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["streets", "grids"]);
    // Every tile is one MVT holding the two layers; together the tiles hold every grid of the sample.
    let mut grids = std::collections::BTreeSet::new();
    for i in 0..archive.entries.len() {
        let tile = Tile::decode(archive.tile(i).as_slice()).expect("MVT");
        for layer in &tile.layers {
            assert!(["streets", "grids"].contains(&layer.name.as_str()), "{}", layer.name);
            if layer.name == "grids" {
                let code = layer.keys.iter().position(|k| k == "code").expect("code key") as u32;
                for f in &layer.features {
                    let kv = f.tags.chunks(2).find(|kv| kv[0] == code).expect("every grid has a code");
                    grids.insert(layer.values[kv[1] as usize].string_value.clone().expect("a string code"));
                }
            }
        }
    }
    assert_eq!(grids.len(), 756, "every sample grid is in the archive");

    // Too deep for the boundary layers: refused, nothing written.
    let bad = dir.path().join("deep.pmtiles");
    let bad_s = bad.display().to_string();
    let (code, _, err) = gridmap(&["export-tiles", "--maxzoom", "19", "--out", &bad_s, "--db", db]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cut down to zoom 18"), "{err}");
    assert!(!bad.exists() && !dir.path().join("deep.pmtiles.partial").exists());
}

/// Issue 33: only `serve` and `import` create a database; the others say which file they looked for (exit 3) and
/// create neither it nor its folder.
#[test]
fn commands_other_than_serve_and_import_do_not_create_a_database() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("typo/gridmap.db");
    let db = format!("sqlite://{}", file.display());
    let roster = dir.path().join("r.csv");
    std::fs::write(&roster, "name,kind\n张三,grid_worker\n").expect("write");
    let roster = roster.display().to_string();
    let gpx = dir.path().join("t.gpx");
    std::fs::write(
        &gpx,
        r#"<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="32.02" lon="118.79"><time>2026-12-01T08:00:00Z</time></trkpt>
<trkpt lat="32.021" lon="118.791"><time>2026-12-01T08:01:00Z</time></trkpt></trkseg></trk></gpx>"#,
    )
    .expect("write");
    let gpx = gpx.display().to_string();
    for args in [
        vec!["generations"],
        vec!["import-track", &gpx, "--responder", "1"],
        vec!["activate", "1"],
        vec!["rollback"],
        vec!["discard", "1"],
        vec!["keys", "list"],
        vec!["keys", "create", "--role", "viewer"],
        vec!["keys", "revoke", "1"],
        vec!["load-responders", &roster],
        vec!["export-tiles", "--out", "x.pmtiles"],
    ] {
        let mut all = args.clone();
        all.extend(["--db", &db]);
        let (code, out, err) = gridmap(&all);
        assert_eq!(code, 3, "{args:?}: {out}{err}");
        assert!(err.contains(&format!("no database at {}", file.display())), "{args:?}: {err}");
        assert!(!file.parent().expect("folder").exists(), "{args:?} created the folder");
    }
}

/// Issue 33: usage mistakes exit 2 before anything is opened, errors are printed once, and a bad setting in a
/// configuration file names the file and line.
#[test]
fn usage_mistakes_and_configuration_files() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let (code, _, err) = gridmap(&["serve", "--listen", "19001", "--db", &db]);
    assert_eq!(code, 2, "a port without a host is a usage error: {err}");
    assert!(err.contains("expected HOST:PORT"), "{err}");
    assert!(!dir.path().join("g.db").exists(), "nothing opened");

    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, "{\"stale_after_s\": \"soon\"}").expect("write");
    let (code, _, err) = gridmap(&["serve", "--dispatch-policy", &policy.display().to_string(), "--db", &db]);
    assert_eq!(code, 3, "{err}");
    let message = err.lines().find(|l| l.starts_with("error: ")).expect("an error line");
    assert_eq!(message.matches("dispatch policy").count(), 1, "printed once: {err}");
    assert_eq!(message.matches("invalid type").count(), 1, "cause printed once: {err}");
    assert!(!dir.path().join("g.db").exists(), "a bad policy file opens no database");

    let config = dir.path().join("gridmap.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\n\nbogus_option = 3\n").expect("write");
    let (code, _, err) = gridmap(&["serve", "--config", &config.display().to_string(), "--db", &db]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{}:3: unknown setting `bogus_option`", config.display())), "{err}");
}

/// Issue 33: one `gridmap serve` per SQLite file; a second one is refused naming the file (a lock the operating
/// system drops with the process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("g.db");
    let db = format!("sqlite://{}", file.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db", &db])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut ready = false;
    for _ in 0..300 {
        if reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let second = gridmap(&["serve", "--listen", "127.0.0.1:0", "--db", &db]);
    let listed = gridmap(&["generations", "--db", &db]);
    let _ = first.kill();
    let _ = first.wait();
    assert!(ready, "the first server came up");
    let (code, _, err) = second;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("another `gridmap serve` is using") && err.contains(&file.display().to_string()), "{err}");
    assert_eq!(listed.0, 0, "other commands run beside the server: {}", listed.2);
}

both_stores!(
    diff_gaps_and_children_outside_parents,
    discard_a_staged_generation,
    fix_repairs_what_is_safe,
    drill_rosters_load_all_or_nothing,
    export_tiles_writes_a_pmtiles_archive,
    gpx_tracks_import_as_patrols,
    import_activate_and_rollback,
    json_report_and_dry_run,
    keys_from_the_cli_guard_a_server,
    the_audit_names_who_ran_a_command,
    broken_files_are_rejected_naming_the_feature,
    usage_errors_exit_2,
    staging_several_layers_on_one_base,
);

/// `gridmap serve --config FILE` listening on all interfaces: access control comes on by itself (a non-loopback
/// listener), boundaries stay open, incidents need a key, and the file's settings apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_from_a_config_file_requires_keys_off_loopback() {
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let config = dir.path().join("gridmap.toml");
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    std::fs::write(&config, format!("# test\nlisten = \"0.0.0.0:{port}\"\ndb = \"{db}\"\ntile_cache_mb = 8\n"))
        .expect("write");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args(["serve", "--config", &config.display().to_string()])
        .env_remove("GRIDMAP_DB")
        .env_remove("GRIDMAP_LISTEN")
        .env_remove("GRIDMAP_AUTH")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..300 {
        if reqwest::get(format!("{base}/readyz")).await.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let locate = reqwest::get(format!("{base}/api/v1/locate?lon=118.79&lat=32.02")).await.map(|r| r.status().as_u16());
    let incidents = reqwest::get(format!("{base}/api/v1/incidents")).await.map(|r| r.status().as_u16());
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "the server did not come up from the config file");
    assert_eq!((locate.ok(), incidents.ok()), (Some(200), Some(401)));
}
