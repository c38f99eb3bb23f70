//! Lookup benchmark on the Nanjing city layers (99 streets, 1 188 communities, 9 504 grids), full answer
//! (street + community + grid): in-process lookups/s on one core, `POST /locate` points/s for a 200 000-point batch
//! against the real binary over loopback, single `GET /locate` requests/s under `wrk` at 64 connections, and — when
//! `GRIDMAP_BENCH_PG` names a PostGIS server — the batch's first 50 000 points through PostGIS `ST_Covers` joins
//! with GiST as one set join, and single-point queries/s under `pgbench` (prepared statements, 64 clients), in the same run.
//! `scripts/bench-locate` runs it all.
//!
//! Results are printed and written to `target/bench-locate.json`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gridmap::coord::LonLat;
use gridmap::index::BoundaryIndex;
use gridmap::layers::Layer;
use gridmap::locate::{LayerSet, locate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

mod support;

use support::{city_features, city_files, pgbench, rss_kib, start_server, wrk};

const BBOX: ([f64; 2], [f64; 2]) = ([118.35, 31.22], [119.25, 32.62]);
const BATCH: usize = 200_000;
/// Connections of the single-request phases (`wrk -c`, `pgbench -c`).
const CONNECTIONS: usize = 64;
/// Points of the PostGIS set join: the first of the batch's points (a rate per point; at ~10 000 points/s the
/// whole batch would take 20 s of every run, these ~2 s).
const SET_JOIN: usize = 20_000;

/// Seconds of each single-request phase (default 10).
fn load_s() -> u64 {
    support::load_secs(10)
}

/// The single-point form of `postgis_locate.sql` for pgbench: a uniform random point in [`BBOX`] (micro-degrees).
const PGBENCH_LOCATE: &str = r#"\set x random(0, 900000)
\set y random(0, 1400000)
SELECT (SELECT min(s.code COLLATE "C") FROM bench_streets s WHERE ST_Covers(s.geom, q.p)),
    (SELECT min(c.code COLLATE "C") FROM bench_communities c WHERE ST_Covers(c.geom, q.p)),
    (SELECT min(g.code COLLATE "C") FROM bench_grids g WHERE ST_Covers(g.geom, q.p))
FROM (SELECT ST_SetSRID(ST_MakePoint(118.35 + :x / 1e6, 31.22 + :y / 1e6), 4326) AS p) q;
"#;

fn random_points(n: usize, seed: u64) -> Vec<LonLat> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            LonLat::new(rng.random_range(BBOX.0[0]..BBOX.1[0]), rng.random_range(BBOX.0[1]..BBOX.1[1])).expect("valid")
        })
        .collect()
}

/// Runs `f` over the points (cycling through them) for at least `min`, checking the clock every 10 000 points
/// (a whole pass of 1 000 000 took up to 4 s at the slower rates), and returns lookups per second.
fn rate(points: &[LonLat], min: Duration, mut f: impl FnMut(LonLat) -> usize) -> f64 {
    let mut sink = 0usize;
    let start = Instant::now();
    let mut done = 0usize;
    for chunk in points.chunks(10_000).cycle() {
        for &p in chunk {
            sink = sink.wrapping_add(f(p));
        }
        done += chunk.len();
        if start.elapsed() >= min {
            break;
        }
    }
    std::hint::black_box(sink);
    done as f64 / start.elapsed().as_secs_f64()
}

fn in_process(files: &[PathBuf], results: &mut serde_json::Map<String, Value>) -> Vec<LonLat> {
    let before = rss_kib(std::process::id());
    let t = Instant::now();
    let features = city_features(files);
    let parse_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let index = BoundaryIndex::build(None, features);
    let build_s = t.elapsed().as_secs_f64();
    let rss_mib = (rss_kib(std::process::id()).saturating_sub(before)) as f64 / 1024.0;
    let cache_mib = Layer::ALL.iter().map(|&l| index.layer(l).cell_cache_bytes()).sum::<usize>() as f64 / 1_048_576.0;
    println!(
        "index: parse {parse_s:.2} s, build {build_s:.2} s, +{rss_mib:.0} MiB RSS (cell caches {cache_mib:.1} MiB)"
    );

    let random = random_points(1_000_000, 1);
    let grids = index.layer(Layer::Grids);
    let inside: Vec<LonLat> =
        random_points(3_000_000, 2).into_iter().filter(|p| grids.locate(p.coord()).is_some()).take(1_000_000).collect();
    let res = h3o::Resolution::Ten;
    // Each rate over 0.5 s (hundreds of thousands of lookups); scripts/bench repeats the whole benchmark.
    let min = Duration::from_millis(500);
    let full = |p: LonLat| Layer::ALL.iter().filter_map(|&l| index.layer(l).locate(p.coord())).count();
    let tree = |p: LonLat| Layer::ALL.iter().filter_map(|&l| index.layer(l).locate_by_tree(p.coord())).count();
    let with_h3 = |p: LonLat| usize::from(locate(&index, res, p, LayerSet::ALL).grid.is_some());
    let rows = [
        ("cells_random", rate(&random, min, full)),
        ("cells_inside", rate(&inside, min, full)),
        ("cells_h3_random", rate(&random, min, with_h3)),
        ("cells_h3_inside", rate(&inside, min, with_h3)),
        ("rtree_only_random", rate(&random, min, tree)),
        ("rtree_only_inside", rate(&inside, min, tree)),
    ];
    println!("in-process, one thread, street + community + grid:");
    for (name, r) in rows {
        println!("  {name:<20} {:>12.0} lookups/s", r);
        results.insert(format!("in_process_{name}_per_s"), json!(r.round()));
    }
    results.insert("index_build_s".into(), json!(build_s));
    results.insert("index_rss_mib".into(), json!(rss_mib.round()));
    results.insert("cell_cache_mib".into(), json!(cache_mib));
    random
}

async fn http_batch(db: &str, points: &[LonLat], results: &mut serde_json::Map<String, Value>) {
    let (server, base) = start_server(db, false);
    let body = serde_json::to_vec(&json!({"points": points.iter().map(|p| [p.lon(), p.lat()]).collect::<Vec<_>>()}))
        .expect("body");
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..4 {
        let t = Instant::now();
        let resp = client
            .post(format!("{base}/api/v1/locate"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("POST");
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.expect("JSON");
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(v["results"].as_array().expect("results").len(), points.len());
    }
    times.remove(0); // warm-up
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let rss = rss_kib(server.0.id()) as f64 / 1024.0;
    println!(
        "POST /locate, {} points, JSON both ways (request {:.1} MiB): median {:.3} s = {:.0} points/s; server RSS {rss:.0} MiB",
        points.len(),
        body.len() as f64 / 1_048_576.0,
        median,
        points.len() as f64 / median
    );
    results.insert("http_batch_points_per_s".into(), json!((points.len() as f64 / median).round()));
    results.insert("http_batch_median_s".into(), json!(median));
    results.insert("server_rss_mib".into(), json!(rss.round()));

    // Single GET requests, each point its own request, 64 connections (wrk on the same 2 cores as the server).
    let paths: Vec<String> =
        points[..10_000].iter().map(|p| format!("/api/v1/locate?lon={:.6}&lat={:.6}", p.lon(), p.lat())).collect();
    match wrk(&base, &paths, load_s(), CONNECTIONS).map(|run| run.requests_per_s) {
        Some(rate) => {
            println!("GET /locate, one point per request, wrk -t2 -c{CONNECTIONS}: {rate:.0} requests/s");
            results.insert("http_get_requests_per_s".into(), json!(rate.round()));
        }
        None => println!("wrk is not installed: GET /locate phase skipped (scripts/bench-locate installs it)"),
    }
    drop(server);
}

async fn postgis(pg: &str, points: &[LonLat], results: &mut serde_json::Map<String, Value>) {
    let pool = sqlx::PgPool::connect(pg).await.expect("connect");
    let active: i64 = sqlx::query_scalar(
        "SELECT generation_id FROM activations WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("active");
    for layer in ["streets", "communities", "grids"] {
        for sql in [
            format!("DROP TABLE IF EXISTS bench_{layer}"),
            format!(
                "CREATE TABLE bench_{layer} AS SELECT f.code, f.geom FROM generation_layers gl JOIN features f \
                 ON f.generation_id = gl.source_generation_id AND f.layer = gl.layer \
                 WHERE gl.generation_id = {active} AND gl.layer = '{layer}'"
            ),
            format!("CREATE INDEX ON bench_{layer} USING gist (geom)"),
            format!("ANALYZE bench_{layer}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.expect("set up PostGIS reference tables");
        }
    }
    let xs: Vec<f64> = points.iter().map(|p| p.lon()).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.lat()).collect();
    let sql = include_str!("postgis_locate.sql");
    let t = Instant::now();
    type Row = (i64, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(sql).bind(&xs).bind(&ys).fetch_all(&pool).await.expect("PostGIS lookup");
    let s = t.elapsed().as_secs_f64();
    assert_eq!(rows.len(), points.len());
    println!(
        "PostGIS ST_Covers joins (GiST), {} points: {:.2} s = {:.0} points/s",
        points.len(),
        s,
        points.len() as f64 / s
    );
    results.insert("postgis_points_per_s".into(), json!((points.len() as f64 / s).round()));

    match pgbench(pg, PGBENCH_LOCATE, CONNECTIONS, load_s()) {
        Some(tps) => {
            println!("PostGIS one point per query, pgbench -M prepared -c{CONNECTIONS}: {tps:.0} queries/s");
            results.insert("postgis_prepared_queries_per_s".into(), json!(tps.round()));
        }
        None => println!("pgbench is not installed: the prepared-statement phase skipped"),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(files) = city_files(dir.path()) else {
        eprintln!("../shared/data/synthetic/nanjing is absent: nothing to benchmark");
        return;
    };
    let mut results = serde_json::Map::new();
    let random = in_process(&files, &mut results);
    let batch = &random[..BATCH];

    let pg = std::env::var("GRIDMAP_BENCH_PG").ok().filter(|s| !s.is_empty());
    let sqlite = support::city_stores("locate", &files, pg.as_deref());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        http_batch(&sqlite, batch, &mut results).await;
        match &pg {
            Some(pg) => postgis(pg, &batch[..SET_JOIN], &mut results).await,
            None => println!("GRIDMAP_BENCH_PG is not set: PostGIS comparison skipped (scripts/bench-locate sets it)"),
        }
    });
    if let Some(pg_rate) = results.get("postgis_points_per_s").and_then(Value::as_f64) {
        for key in ["in_process_cells_random_per_s", "in_process_cells_h3_random_per_s", "http_batch_points_per_s"] {
            let r = results[key].as_f64().unwrap_or(0.0) / pg_rate;
            println!("  {key} / PostGIS = {r:.0}x");
            results.insert(format!("{key}_vs_postgis"), json!((r * 10.0).round() / 10.0));
        }
    }
    if let (Some(get), Some(tps)) = (
        results.get("http_get_requests_per_s").and_then(Value::as_f64),
        results.get("postgis_prepared_queries_per_s").and_then(Value::as_f64),
    ) {
        println!("  GET /locate requests/s / PostGIS prepared queries/s = {:.1}x", get / tps);
        results.insert("http_get_vs_postgis_prepared".into(), json!((get / tps * 10.0).round() / 10.0));
    }
    support::write_results("bench-locate.json", &Value::Object(results));
}
