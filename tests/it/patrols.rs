//! Patrols over HTTP on both stores: tracks geocoded to cells and grids like `/locate`, per-grid coverage that grows
//! as the grid is walked, grids not patrolled within N days, bad tracks refused with nothing stored, and the real
//! GPX files of ../shared/data (timed tracks import; route-only, untimed and non-monotonic files are refused).

use std::collections::HashSet;

use crate::common::{TestServer, get, post, sample_layer, shared_data};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const IN_GRID: [f64; 2] = [118.79, 32.02];

async fn responder(s: &TestServer) -> Value {
    let (st, r) = post(s, "/api/v1/responders", json!({"name": "巡查员", "kind": "grid_worker"})).await;
    assert_eq!(st, 201, "{r}");
    r["id"].clone()
}

/// A track through `points`, one fix every 20 s ending now.
fn track(points: &[[f64; 2]]) -> Vec<Value> {
    let end = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let at = end - time::Duration::seconds(20 * (points.len() - 1 - i) as i64);
            json!([p[0], p[1], at.format(&Rfc3339).expect("format")])
        })
        .collect()
}

/// Bounding box of a sample grid.
fn grid_bbox(code: &str) -> [f64; 4] {
    let grids = sample_layer("grids");
    let f =
        grids["features"].as_array().expect("features").iter().find(|f| f["properties"]["code"] == code).expect("grid");
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    let mut walk = |v: &Value| {
        fn visit(v: &Value, b: &mut [f64; 4]) {
            match v.as_array() {
                Some(a) if a.len() >= 2 && a[0].is_number() => {
                    let (x, y) = (a[0].as_f64().unwrap_or(0.0), a[1].as_f64().unwrap_or(0.0));
                    *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
                }
                Some(a) => a.iter().for_each(|c| visit(c, b)),
                None => {}
            }
        }
        visit(v, &mut b);
    };
    walk(&f["geometry"]["coordinates"]);
    b
}

fn cell_set(v: &Value) -> HashSet<String> {
    v.as_array().expect("cells").iter().filter_map(|c| c.as_str().map(str::to_owned)).collect()
}

async fn coverage_grows_as_the_grid_is_walked(url: &str) {
    let s = TestServer::start(url, true).await;
    let who = responder(&s).await;
    let (_, loc) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", IN_GRID[0], IN_GRID[1])).await;
    let grid = loc["grid"]["code"].as_str().expect("grid").to_owned();
    let path = format!("/api/v1/grids/{grid}/patrol-coverage");

    let (st, before) = get(&s, &path).await;
    assert_eq!(st, 200, "{before}");
    let total = before["cells_total"].as_u64().expect("total");
    assert!(total > 10, "a grid holds dozens of res-11 cells: {before}");
    assert_eq!((before["cells_visited"].as_u64(), before["share"].as_f64()), (Some(0), Some(0.0)));
    assert_eq!(before["unvisited"]["features"].as_array().map(Vec::len), Some(total as usize));

    // One pass east-west through the middle.
    let [x0, y0, x1, y1] = grid_bbox(&grid);
    let ym = (y0 + y1) / 2.0;
    let line: Vec<[f64; 2]> = (0..=10).map(|i| [x0 + (x1 - x0) * f64::from(i) / 10.0, ym]).collect();
    let (st, p) = post(&s, "/api/v1/patrols", json!({"responder_id": who, "track": track(&line)})).await;
    assert_eq!(st, 201, "{p}");
    assert_eq!(p["resolution"], 11);
    assert!(p["grids"].as_array().expect("grids").iter().any(|g| g["code"] == grid.as_str()), "{}", p["grids"]);
    let walked = cell_set(&p["cells"]);
    let (_, after) = get(&s, &path).await;
    let visited = after["cells_visited"].as_u64().expect("visited");
    assert!(visited > 0 && visited < total, "one line covers part of the grid: {visited} of {total}");
    // /stats/grids gives every grid's coverage at once: the same figures as each grid's own coverage.
    let (st, stats) = get(&s, "/api/v1/stats/grids").await;
    assert_eq!(st, 200, "{stats}");
    let rows = stats["grids"].as_array().expect("grids");
    let mut codes: HashSet<&str> =
        p["grids"].as_array().expect("grids").iter().filter_map(|g| g["code"].as_str()).collect();
    codes.extend(
        rows.iter().filter(|r| r["patrol_cells_visited"].as_u64() > Some(0)).filter_map(|r| r["code"].as_str()),
    );
    assert!(codes.contains(grid.as_str()));
    for code in codes {
        let (_, own) = get(&s, &format!("/api/v1/grids/{code}/patrol-coverage")).await;
        let row = rows.iter().find(|r| r["code"] == code).expect("listed");
        assert_eq!(
            (&row["patrol_cells"], &row["patrol_cells_visited"]),
            (&own["cells_total"], &own["cells_visited"]),
            "{code}"
        );
        assert!(
            (row["patrol_coverage"].as_f64().expect("share") - own["share"].as_f64().expect("share")).abs() < 1e-12
        );
    }
    let (_, old) = get(&s, "/api/v1/stats/grids?to=2020-01-01T00:00:00Z").await;
    assert!(old["grids"].as_array().expect("grids").iter().all(|r| r["patrol_cells_visited"] == 0));
    let unvisited: HashSet<String> = after["unvisited"]["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["cell"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(unvisited.len() as u64 + visited, total);
    assert!(unvisited.is_disjoint(&walked), "a walked cell is never listed as unvisited");

    // Lawnmower passes 15 m apart cover the grid.
    let rows = ((y1 - y0) * 111_000.0 / 15.0).ceil() as usize;
    let mut mower = Vec::new();
    for r in 0..=rows {
        let y = y0 + (y1 - y0) * r as f64 / rows as f64;
        let (a, b) = if r % 2 == 0 { (x0, x1) } else { (x1, x0) };
        mower.push([a, y]);
        mower.push([b, y]);
    }
    let (st, p2) = post(&s, "/api/v1/patrols", json!({"responder_id": who, "track": track(&mower)})).await;
    assert_eq!(st, 201, "{p2}");
    // The patrols heatmap counts one visit per patrol and cell, whatever the resolution it is rolled up to.
    let visits = (walked.len() + cell_set(&p2["cells"]).len()) as u64;
    for r in [11, 9] {
        let (st, heat) = get(&s, &format!("/api/v1/heatmap?source=patrols&resolution={r}")).await;
        assert_eq!(st, 200, "{heat}");
        let sum: u64 = heat["features"]
            .as_array()
            .expect("features")
            .iter()
            .filter_map(|f| f["properties"]["count"].as_u64())
            .sum();
        assert_eq!(sum, visits, "resolution {r}");
    }
    let (_, full) = get(&s, &path).await;
    assert_eq!(full["cells_visited"], full["cells_total"], "every cell walked: {}", full["share"]);
    // Outside the period the walks do not count.
    let (_, old) = get(&s, &format!("{path}?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z")).await;
    assert_eq!(old["cells_visited"], 0);
    let (st, v) = get(&s, "/api/v1/grids/NOPE/patrol-coverage").await;
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("grid_not_found")));
}

async fn unpatrolled_grids_and_bad_tracks(url: &str) {
    let s = TestServer::start(url, true).await;
    let who = responder(&s).await;
    let (_, all) = get(&s, "/api/v1/patrols/unpatrolled-grids?days=7").await;
    let n = all["count"].as_u64().expect("count");
    assert_eq!(n, 756, "nobody has patrolled yet");

    // Bad tracks: nothing is stored.
    let t = track(&[[118.79, 32.02], [118.791, 32.02], [118.792, 32.02]]);
    let mut backwards = t.clone();
    backwards.swap(1, 2);
    for (body, status, code) in [
        (json!({"responder_id": who, "track": backwards}), 422, "invalid_track"),
        (json!({"responder_id": who, "track": [t[0].clone()]}), 422, "invalid_track"),
        (json!({"responder_id": 999_999, "track": t}), 422, "unknown_responder"),
        (
            json!({"responder_id": who, "track": [[118.79, 95.0, "2026-01-01T00:00:00Z"], t[1].clone()]}),
            400,
            "invalid_coordinate",
        ),
        (json!({"responder_id": who, "track": [[118.79, 32.02, "yesterday"], t[1].clone()]}), 400, "invalid_time"),
    ] {
        let (st, v) = post(&s, "/api/v1/patrols", body).await;
        assert_eq!((st, v["error"]["code"].as_str()), (status, Some(code)), "{v}");
    }
    let (_, v) = post(&s, "/api/v1/patrols", json!({"responder_id": who, "track": backwards})).await;
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.starts_with("fix 2: time")), "names the fix: {v}");
    let (_, still) = get(&s, "/api/v1/patrols/unpatrolled-grids?days=7").await;
    assert_eq!(still["count"], n, "refused tracks store nothing");

    // A good track: its grids leave the list; its first cell's grid is /locate's of the cell's centre.
    let (st, p) = post(&s, "/api/v1/patrols", json!({"responder_id": who, "track": t})).await;
    assert_eq!(st, 201, "{p}");
    let first: h3o::CellIndex = p["cells"][0].as_str().expect("cell").parse().expect("cell index");
    let centre = h3o::LatLng::from(first);
    let (_, loc) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", centre.lng(), centre.lat())).await;
    assert_eq!(p["grids"][0]["code"], loc["grid"]["code"]);
    let walked: Vec<&str> = p["grids"].as_array().expect("grids").iter().filter_map(|g| g["code"].as_str()).collect();
    let (_, after) = get(&s, "/api/v1/patrols/unpatrolled-grids?days=7").await;
    assert_eq!(after["count"].as_u64(), Some(n - walked.len() as u64));
    assert!(
        after["grids"].as_array().expect("grids").iter().all(|g| !walked.contains(&g["code"].as_str().unwrap_or("")))
    );
    // A walk 30 days ago does not count for the last 7.
    let old: Vec<Value> = [[118.80, 32.03], [118.801, 32.03]]
        .iter()
        .enumerate()
        .map(|(i, p)| json!([p[0], p[1], format!("2020-01-01T00:0{i}:00Z")]))
        .collect();
    post(&s, "/api/v1/patrols", json!({"responder_id": who, "track": old})).await;
    let (_, last) = get(&s, "/api/v1/patrols/unpatrolled-grids?days=7").await;
    assert_eq!(last["count"], after["count"]);
}

/// The track of issue 33 (it crosses two grids along their shared edge): the cells `POST /patrols` gives each grid
/// are the cells the grid's coverage, `/stats/grids`, `/h3/{cell}/grids` and a lookup of each cell's centre give it.
async fn one_rule_for_which_grid_a_patrol_cell_belongs_to(url: &str) {
    let s = TestServer::start(url, true).await;
    let who = responder(&s).await;
    let points: Vec<[f64; 2]> =
        (0..30).map(|k| [118.790 + 0.0004 * f64::from(k), 32.020 + 0.0001 * f64::from(k)]).collect();
    let (st, p) = post(&s, "/api/v1/patrols", json!({"responder_id": who, "track": track(&points)})).await;
    assert_eq!(st, 201, "{p}");
    let grids = p["grids"].as_array().expect("grids");
    assert!(grids.len() >= 2, "the track crosses grids: {p}");
    // Cell by cell: the owner by a lookup of its centre and by /h3/{cell}/grids.
    let mut by_centre: std::collections::BTreeMap<String, u64> = Default::default();
    for cell in p["cells"].as_array().expect("cells") {
        let cell = cell.as_str().expect("cell");
        let c = h3o::LatLng::from(cell.parse::<h3o::CellIndex>().expect("cell"));
        let (_, loc) = get(&s, &format!("/api/v1/locate?lon={}&lat={}", c.lng(), c.lat())).await;
        let (_, touching) = get(&s, &format!("/api/v1/h3/{cell}/grids")).await;
        let owner: Vec<&Value> =
            touching["items"].as_array().expect("items").iter().filter(|g| g["contains_center"] == true).collect();
        assert_eq!(owner.len(), 1, "{cell}: {touching}");
        assert_eq!(owner[0]["code"], loc["grid"]["code"], "{cell}");
        if let Some(code) = loc["grid"]["code"].as_str() {
            *by_centre.entry(code.to_owned()).or_default() += 1;
        }
    }
    let answered: std::collections::BTreeMap<String, u64> = grids
        .iter()
        .map(|g| (g["code"].as_str().expect("code").to_owned(), g["cells"].as_u64().expect("cells")))
        .collect();
    assert_eq!(answered, by_centre, "POST /patrols vs a lookup of each cell's centre");
    let (_, stats) = get(&s, "/api/v1/stats/grids").await;
    for (code, n) in &answered {
        let (st, cov) = get(&s, &format!("/api/v1/grids/{code}/patrol-coverage")).await;
        assert_eq!(st, 200, "{cov}");
        assert_eq!(cov["cells_visited"].as_u64(), Some(*n), "{code}: POST /patrols vs patrol-coverage: {cov}");
        let row = stats["grids"].as_array().expect("grids").iter().find(|g| g["code"] == code.as_str()).expect("row");
        assert_eq!(row["patrol_cells_visited"].as_u64(), Some(*n), "{code}: POST /patrols vs /stats/grids: {row}");
    }
}

async fn real_gpx_files(url: &str) {
    let Some(data) = shared_data() else { return };
    let s = TestServer::start(url, true).await;
    let who = responder(&s).await;
    let dir = data.join("points/gpx");
    let send = |name: &'static str| {
        let body = std::fs::read(dir.join(name)).expect("read gpx");
        let url = s.url(&format!("/api/v1/patrols/gpx?responder_id={who}&name={name}"));
        async move {
            let r = reqwest::Client::new().post(url).body(body).send().await.expect("POST");
            (r.status().as_u16(), r.json::<Value>().await.expect("JSON"))
        }
    };
    for name in ["around-visnjan-with-car.gpx", "cerknicko-jezero.gpx"] {
        let (st, p) = send(name).await;
        assert_eq!(st, 201, "{name}: {p}");
        let (len, cells) = (p["length_m"].as_f64().expect("length"), p["cells"].as_array().map_or(0, Vec::len) as f64);
        // A path crosses a res-11 cell (≈ 25 m edge) every 20–45 m; slow wandering revisits cells.
        assert!(len > 1000.0 && cells > len / 100.0 && cells < len / 10.0, "{name}: {len} m, {cells} cells");
        assert_eq!(p["grids"], json!([]), "{name}: Slovenian tracks are outside every Qinhuai grid");
    }
    for (name, code, says) in [
        ("route.gpx", "invalid_gpx", "no <trkpt>"),
        ("korita-zbevnica.gpx", "invalid_gpx", "has no <time>"),
        ("Mojstrovka.gpx", "invalid_track", "timestamps must increase"),
    ] {
        let (st, v) = send(name).await;
        assert_eq!((st, v["error"]["code"].as_str()), (422, Some(code)), "{name}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains(says)), "{name}: {v}");
    }
}

both_stores!(
    coverage_grows_as_the_grid_is_walked,
    unpatrolled_grids_and_bad_tracks,
    one_rule_for_which_grid_a_patrol_cell_belongs_to,
    real_gpx_files
);
