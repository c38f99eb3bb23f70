//! Dispatch on real roads, measured beside pgRouting in the same run:
//! - **build**: each OpenStreetMap extract of `../shared/data/osm` (Shenzhen Futian, Monaco) read and built for the
//!   three profiles (time, the network's own memory estimate and the process's RSS growth), and synthetic street
//!   grids (`roads::synthetic::street_grid`, 22 300 and 89 600 edges by default);
//! - **routes**: one `walk` / `vehicle` route between two random junctions, in process (`RoadNetwork::route`, one
//!   thread) and over HTTP (`GET /api/v1/route` on the release binary, `wrk -t2 -c2`), against `pgr_dijkstra` over
//!   the same ways imported by osm2pgrouting with the same class speeds (`pgbench`, 2 clients, random vertex pairs:
//!   pgRouting's documented use, the edge query read per call);
//! - **nearest-5 by road ETA** among 10 000 and 100 000 responders over the Futian network (70 % on foot, 20 %
//!   e-bike, 10 % vehicles), in process (`Dispatcher::nearest` with `RoadTravel`) and over HTTP
//!   (`GET /dispatch/nearest`, `wrk -t2 -c4`);
//! - **the street grids**: routes in process.
//!
//! pgRouting runs when `GRIDMAP_BENCH_PG` names a database (scripts/bench-roads creates it) and osm2pgrouting and
//! osmium are installed. Figures are printed and written to `target/bench-roads.json`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use gridmap::coord::LonLat;
use gridmap::dispatch::{DispatchPolicy, Dispatcher, Place, Request, RoadTravel, StraightLine};
use gridmap::events::Events;
use gridmap::responders::{Fleet, LiveResponder, Responder, ResponderId, ResponderStatus};
use gridmap::roads::{ProfileName, RoadNetwork, RoadPolicy, RoadService, read_file};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use time::OffsetDateTime;

mod support;

const EXTRACTS: [&str; 2] = ["shenzhen_futian", "monaco"];
const FLEETS: [usize; 2] = [10_000, 100_000];
const ROUTE_PAIRS: usize = 2_000;

fn osm(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../shared/data/osm/{name}.osm.pbf"))
}

/// `[p50, p99, max]` in microseconds.
fn percentiles_us(mut ns: Vec<u64>) -> [f64; 3] {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q) as usize).min(ns.len() - 1)] as f64 / 1000.0;
    [at(0.50), at(0.99), *ns.last().unwrap_or(&0) as f64 / 1000.0]
}

fn rss_mb() -> f64 {
    support::rss_kib(std::process::id()) as f64 / 1024.0
}

/// Builds a network from ways, with time and memory.
fn build(ways: &[gridmap::roads::RoadWay], policy: &RoadPolicy) -> (RoadNetwork, Value) {
    let rss0 = rss_mb();
    let t = Instant::now();
    let net = RoadNetwork::build(None, ways, policy);
    let secs = t.elapsed().as_secs_f64();
    let edges = net.report.edges;
    let figures = json!({
        "ways": ways.len(), "junctions": net.report.nodes, "edges": edges, "km": net.report.length_km,
        "build_s": secs, "build_s_per_100k_edges": secs * 100_000.0 / edges as f64,
        "memory_mb": net.memory_bytes() as f64 / 1e6,
        "memory_mb_per_100k_edges": net.memory_bytes() as f64 / 1e6 * 100_000.0 / edges as f64,
        "rss_growth_mb": rss_mb() - rss0,
        "routable_edges": net.report.profiles.iter().map(|(p, r)| (p.clone(), json!(r.routable_edges))).collect::<serde_json::Map<_, _>>(),
    });
    (net, figures)
}

/// Points on the profile's roads (random points in the bbox, snapped within 100 m).
fn road_points(net: &RoadNetwork, profile: ProfileName, n: usize, seed: u64) -> Vec<[f64; 2]> {
    let b = net.report.bbox;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let p = LonLat::new(rng.random_range(b[0]..b[2]), rng.random_range(b[1]..b[3])).expect("valid");
        if let Some(s) = net.snap(profile, p, 100.0) {
            out.push(s.point);
        }
    }
    out
}

/// Routes between consecutive pairs of `points`, one thread: routes/s and latency.
fn routes_in_process(net: &RoadNetwork, profile: ProfileName, points: &[[f64; 2]]) -> Value {
    let mut ns = Vec::with_capacity(points.len() / 2);
    let mut found = 0;
    let start = Instant::now();
    for pair in points.chunks_exact(2) {
        let (a, b) = (LonLat::new(pair[0][0], pair[0][1]).expect("a"), LonLat::new(pair[1][0], pair[1][1]).expect("b"));
        let t = Instant::now();
        let r = net.route(profile, a, b);
        ns.push(t.elapsed().as_nanos() as u64);
        found += usize::from(r.is_ok());
    }
    let secs = start.elapsed().as_secs_f64();
    let [p50, p99, max] = percentiles_us(ns.clone());
    json!({"routes": ns.len(), "found": found, "routes_per_s": ns.len() as f64 / secs,
           "p50_us": p50, "p99_us": p99, "max_us": max})
}

/// The osm2pgrouting configuration of a profile: its classes with their speeds (as tests/it/roads.rs).
fn mapconfig(speeds: &std::collections::BTreeMap<String, f64>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration>\n  <tag_name name=\"highway\" id=\"1\">\n",
    );
    for (i, (class, kmh)) in speeds.iter().enumerate() {
        out.push_str(&format!(
            "    <tag_value name=\"{class}\" id=\"{}\" priority=\"1\" maxspeed=\"{kmh}\" />\n",
            101 + i
        ));
    }
    out.push_str("  </tag_name>\n</configuration>\n");
    out
}

fn have(cmd: &str) -> bool {
    std::process::Command::new(cmd).arg("--help").output().is_ok()
}

/// pgr_dijkstra routes/s over `extract` imported by osm2pgrouting with the profile's classes, `clients` pgbench
/// clients for `secs`; `None` without a database or the tools.
fn pgrouting(url: &str, extract: &str, profile: ProfileName, policy: &RoadPolicy, secs: u64) -> Option<Value> {
    if !(have("osm2pgrouting") && have("osmium") && have("pgbench")) {
        eprintln!("pgRouting: osm2pgrouting, osmium or pgbench missing; skipped");
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let xml = dir.path().join("extract.osm");
    let st = std::process::Command::new("osmium")
        .args(["cat", &osm(extract).display().to_string(), "-o", &xml.display().to_string(), "--overwrite"])
        .status()
        .ok()?;
    assert!(st.success(), "osmium cat");
    let conf = dir.path().join("profile.xml");
    std::fs::write(&conf, mapconfig(&policy.rule(profile).speeds_kmh)).ok()?;
    let name = url.rsplit('/').next()?;
    let t = Instant::now();
    let out = std::process::Command::new("osm2pgrouting")
        .args(["-f", &xml.display().to_string(), "-c", &conf.display().to_string(), "-d", name])
        .args(["-U", "postgres", "-h", "127.0.0.1", "-p", "5432", "--clean"])
        .output()
        .ok()?;
    assert!(out.status.success(), "osm2pgrouting: {}", String::from_utf8_lossy(&out.stderr));
    let import_s = t.elapsed().as_secs_f64();
    let psql = |sql: &str| {
        let out = std::process::Command::new("psql").args([url, "-qtAc", sql]).output().expect("psql");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    psql("CREATE EXTENSION IF NOT EXISTS pgrouting");
    let vertices: u64 = psql("SELECT max(id) FROM ways_vertices_pgr").parse().ok()?;
    let edges: u64 = psql("SELECT count(*) FROM ways").parse().ok()?;
    let cost = |col: &str| {
        if profile == ProfileName::Walk {
            "length_m / (c.maxspeed / 3.6)".to_owned()
        } else {
            format!("CASE WHEN w.{col} < 0 THEN -1 ELSE w.length_m / (c.maxspeed / 3.6) END")
        }
    };
    let edge_sql = format!(
        "SELECT w.gid AS id, w.source, w.target, {} AS cost, {} AS reverse_cost FROM ways w JOIN configuration c ON c.tag_id = w.tag_id",
        cost("cost_s"),
        cost("reverse_cost_s")
    );
    let script = format!(
        "\\set a random(1, {vertices})\n\\set b random(1, {vertices})\nSELECT * FROM pgr_dijkstra($${edge_sql}$$, :a::bigint, :b::bigint, true);\n"
    );
    let tps = support::pgbench(url, &script, 2, secs)?;
    Some(json!({"routes_per_s": tps, "clients": 2, "edges": edges, "vertices": vertices, "osm2pgrouting_s": import_s}))
}

/// An SQLite store with the extract imported as its road network; the service serving it.
async fn road_service(db: &str, extract: &str, policy: &DispatchPolicy) -> Arc<RoadService> {
    let store = gridmap::store::open(db).await.expect("store");
    let roads = Arc::new(RoadService::new(store, policy.roads.clone(), Events::default()));
    let bytes = std::fs::read(osm(extract)).expect("extract");
    roads.import(extract, bytes, false, "bench").await.expect("import");
    roads
}

/// Responders spread over the network's bbox: 70 % on foot, 20 % e-bike (enforcement), 10 % vehicles.
fn fleet_specs(net: &RoadNetwork, n: usize, seed: u64) -> Vec<([f64; 2], &'static str)> {
    let b = net.report.bbox;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let kind = match i % 10 {
                0 => "vehicle",
                1 | 2 => "enforcement",
                _ => "grid_worker",
            };
            ([rng.random_range(b[0]..b[2]), rng.random_range(b[1]..b[3])], kind)
        })
        .collect()
}

fn nearest_in_process(dispatcher: &Dispatcher, specs: &[([f64; 2], &'static str)], queries: &[[f64; 2]]) -> Value {
    let now = OffsetDateTime::now_utc();
    let fleet = Fleet::new(
        specs
            .iter()
            .enumerate()
            .map(|(i, (at, kind))| LiveResponder {
                responder: Responder {
                    id: ResponderId(i as i64 + 1),
                    name: format!("r{i}"),
                    kind: (*kind).into(),
                    skills: vec!["patrol".into()],
                    team: None,
                    home_grid: None,
                    status: ResponderStatus::Available,
                    status_version: 0,
                    location: Some(gridmap::crs::Position(*at)),
                    position_at: Some(now),
                },
                grid_code: None,
                community_code: None,
            })
            .collect(),
    );
    let snapshot = fleet.snapshot();
    let mut ns = Vec::with_capacity(queries.len());
    let mut by_road = 0usize;
    let start = Instant::now();
    for q in queries {
        let req = request_at(*q, now);
        let t = Instant::now();
        let (got, method) = dispatcher.nearest(&snapshot, &req);
        ns.push(t.elapsed().as_nanos() as u64);
        assert_eq!(got.len(), 5);
        by_road += usize::from(method == "road");
    }
    let secs = start.elapsed().as_secs_f64();
    let [p50, p99, max] = percentiles_us(ns.clone());
    json!({"queries": ns.len(), "queries_per_s": ns.len() as f64 / secs, "p50_us": p50, "p99_us": p99, "max_us": max,
           "eta_method_road": by_road})
}

/// A nearest-5 request at a point.
fn request_at(p: [f64; 2], now: OffsetDateTime) -> Request {
    Request {
        point: LonLat::new(p[0], p[1]).expect("valid"),
        place: Place::default(),
        k: 5,
        skill: None,
        team: None,
        max_distance_m: None,
        now,
    }
}

/// The roster CSV `load-responders` reads.
fn roster_csv(specs: &[([f64; 2], &'static str)], path: &Path) {
    let at = OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).expect("time");
    let mut csv = String::from("name,kind,skills,team,home_grid,status,lon,lat,at\n");
    for (i, (p, kind)) in specs.iter().enumerate() {
        csv.push_str(&format!("r{i},{kind},patrol,,,available,{:.7},{:.7},{at}\n", p[0], p[1]));
    }
    std::fs::write(path, csv).expect("roster");
}

fn main() {
    let secs = support::load_secs(10);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&data).expect("bench-data");
    // Positions do not go stale during the run: the work measured is the ranking, not the staleness filter.
    let policy_file = data.join("roads-policy.json");
    std::fs::write(&policy_file, r#"{"stale_after_s": 86400}"#).expect("policy");
    let policy = DispatchPolicy::from_file(&policy_file).expect("policy");
    let pg = std::env::var("GRIDMAP_BENCH_PG").ok();
    let mut results = serde_json::Map::new();

    // `GRIDMAP_BENCH_ROADS=grid` runs only the street-grid part.
    let only_grid = std::env::var("GRIDMAP_BENCH_ROADS").is_ok_and(|v| v == "grid");
    for extract in EXTRACTS.iter().filter(|_| !only_grid) {
        if !osm(extract).exists() {
            eprintln!("{} missing: ../shared/data is needed", osm(extract).display());
            return;
        }
        let extract = *extract;
        let (ways, _) = read_file(&osm(extract)).expect("read");
        let (net, built) = build(&ways, &policy.roads);
        println!("{extract}: built {built}");
        let mut per = serde_json::Map::new();
        per.insert("build".into(), built);
        for profile in [ProfileName::Walk, ProfileName::Vehicle] {
            let points = road_points(&net, profile, ROUTE_PAIRS * 2, 5);
            let inproc = routes_in_process(&net, profile, &points);
            println!("{extract} {} routes in process: {inproc}", profile.as_str());
            // Over HTTP: the release binary on an SQLite store holding the network.
            let db_path = data.join(format!("roads-{extract}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
            }
            let db = format!("sqlite://{}", db_path.display());
            support::gridmap(&["import-roads", &osm(extract).display().to_string(), "--db", &db]);
            let (_server, base) = support::start_server(&db, true);
            let paths: Vec<String> = points
                .chunks_exact(2)
                .map(|p| {
                    format!(
                        "/api/v1/route?from={:.7},{:.7}&to={:.7},{:.7}&profile={}",
                        p[0][0],
                        p[0][1],
                        p[1][0],
                        p[1][1],
                        profile.as_str()
                    )
                })
                .collect();
            let http = support::wrk(&base, &paths, secs, 2).map(
                |w| json!({"routes_per_s": w.requests_per_s, "p50_ms": w.p50_ms, "p99_ms": w.p99_ms, "connections": 2}),
            );
            println!("{extract} {} routes over HTTP: {http:?}", profile.as_str());
            let pgr = pg.as_deref().and_then(|url| pgrouting(url, extract, profile, &policy.roads, secs));
            println!("{extract} {} pgr_dijkstra: {pgr:?}", profile.as_str());
            let ratio = |ours: &Option<Value>| {
                let theirs = pgr.as_ref()?["routes_per_s"].as_f64()?;
                Some(ours.as_ref()?["routes_per_s"].as_f64()? / theirs)
            };
            per.insert(
                format!("routes_{}", profile.as_str()),
                json!({"in_process": inproc, "http": http, "pgr_dijkstra": pgr,
                       "http_over_pgr": ratio(&http), "in_process_over_pgr": ratio(&Some(inproc.clone()))}),
            );
        }
        results.insert(extract.into(), Value::Object(per));
    }

    // Nearest-5 by road ETA over the Futian network.
    let db_path = data.join("roads-nearest.db");
    let mut nearest = serde_json::Map::new();
    for n in FLEETS.iter().copied().filter(|_| !only_grid) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
        }
        let db = format!("sqlite://{}", db_path.display());
        let roads = rt.block_on(road_service(&db, "shenzhen_futian", &policy));
        let net = roads.current().expect("network");
        let line = StraightLine::new(policy.travel.clone());
        let dispatcher = Dispatcher::with_travel(policy.clone(), Box::new(RoadTravel::new(roads.clone(), line)));
        let specs = fleet_specs(&net, n, 17);
        let queries = road_points(&net, ProfileName::Walk, 5_000, 23);
        let inproc = nearest_in_process(&dispatcher, &specs, &queries);
        println!("nearest-5 by road among {n}, in process: {inproc}");
        drop((dispatcher, roads));
        let roster = data.join("roads-roster.csv");
        roster_csv(&specs, &roster);
        let policy_arg = policy_file.display().to_string();
        support::gridmap(&[
            "load-responders",
            &roster.display().to_string(),
            "--db",
            &db,
            "--dispatch-policy",
            &policy_arg,
        ]);
        let (_server, base) = support::start_server_with(&db, true, &["--dispatch-policy", &policy_arg]);
        let url = format!("{base}/api/v1/dispatch/nearest?lon={}&lat={}&k=5", queries[0][0], queries[0][1]);
        let check: Value = rt.block_on(async { reqwest::get(url).await?.json().await }).expect("nearest");
        assert_eq!(check["eta_method"], "road", "{check}");
        let paths: Vec<String> =
            queries.iter().map(|q| format!("/api/v1/dispatch/nearest?lon={:.7}&lat={:.7}&k=5", q[0], q[1])).collect();
        let http = support::wrk(&base, &paths, secs, 4).map(
            |w| json!({"queries_per_s": w.requests_per_s, "p50_ms": w.p50_ms, "p99_ms": w.p99_ms, "connections": 4}),
        );
        println!("nearest-5 by road among {n}, HTTP: {http:?}");
        nearest.insert(n.to_string(), json!({"in_process": inproc, "http": http}));
    }
    results.insert("nearest5_by_road".into(), Value::Object(nearest));

    // Scale: synthetic street grids (`roads::synthetic::street_grid`), 100 × 100 and 200 × 200 junctions by default
    // (`GRIDMAP_BENCH_GRID_COLS=a,b,…`). fast_paths' preparation grows faster than linearly on such grids, where
    // many routes tie (22 300 edges: ~6 s; 89 600: ~110 s), so the million-edge grid is not run by default.
    let sizes: Vec<usize> = std::env::var("GRIDMAP_BENCH_GRID_COLS")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100, 200]);
    let mut grids = serde_json::Map::new();
    for cols in sizes {
        let ways = gridmap::roads::synthetic::street_grid([114.0, 22.5], cols, cols, 80.0);
        let (net, built) = build(&ways, &policy.roads);
        drop(ways);
        println!("street grid {cols}×{cols}: built {built}");
        let mut grid = serde_json::Map::new();
        grid.insert("build".into(), built);
        for profile in [ProfileName::Walk, ProfileName::Vehicle] {
            let points = road_points(&net, profile, ROUTE_PAIRS * 2, 29);
            let r = routes_in_process(&net, profile, &points);
            println!("street grid {cols}×{cols} {} routes: {r}", profile.as_str());
            grid.insert(format!("routes_{}", profile.as_str()), r);
        }
        grids.insert(format!("{cols}x{cols}"), Value::Object(grid));
    }
    results.insert("street_grids".into(), Value::Object(grids));
    support::write_results("bench-roads.json", &Value::Object(results));
}
