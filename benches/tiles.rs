//! Vector tile and heatmap benchmark on the Nanjing city layers (99 streets, 1 188 communities, 9 504 grids):
//! - per layer and zoom 10–16: first-tile preparation, cold tile latency (cache off) p50/p99, cached latency, tile
//!   sizes (median and largest), over HTTP on loopback against the release binary on SQLite;
//! - tiles/s with 4 concurrent clients (like `wrk -c4`) for grids at z14 and z10, cold and cached;
//! - the same tiles from PostGIS `ST_AsMVT(ST_AsMVTGeom(...))` over a GiST-indexed table (what martin runs per
//!   uncached tile), sequential and with 4 connections, when `GRIDMAP_BENCH_PG` is set, and martin itself serving
//!   that table, cache off and on, under the same load;
//! - `GET /heatmap` and `GET /stats/grids` over 1 000 000 stored incidents on both stores (and the server's RSS),
//!   and PostGIS `GROUP BY h3` on the same rows, each query [`REPEATS`] times, in the run that seeds the stores
//!   (scripts/bench's later runs, which reuse them, repeat only the tile phases: each heatmap server's start, 10 s
//!   with a million incidents on SQLite, would measure nothing).
//!
//! `scripts/bench-tiles` runs it; results are printed and written to `target/bench-tiles.json`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

mod support;

use support::{city_files, start_server_with, wrk};

const CITY: [f64; 4] = [118.35, 31.22, 119.25, 32.62];
/// The dense urban core (Xuanwu, Qinhuai, Gulou, Jianye).
const CORE: [f64; 4] = [118.70, 31.95, 118.90, 32.12];
const INCIDENTS: usize = 1_000_000;
/// Times each heatmap, stats and `GROUP BY` query runs (median, min and max kept).
const REPEATS: usize = 5;
/// Seconds of each load phase (`GRIDMAP_BENCH_SECS`, default 8).
fn load_s() -> u64 {
    support::load_secs(8)
}

type Tile = (u8, u32, u32);

fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let lat = lat.to_radians();
    (
        ((lon + 180.0) / 360.0 * n) as u32,
        ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32,
    )
}

/// All tiles over the core at z10–12; 60 seeded random core tiles at z13–16.
fn tile_set(z: u8) -> Vec<Tile> {
    let (x0, y0) = tile_of(CORE[0], CORE[3], z);
    let (x1, y1) = tile_of(CORE[2], CORE[1], z);
    let all: Vec<Tile> = (x0..=x1).flat_map(|x| (y0..=y1).map(move |y| (z, x, y))).collect();
    if all.len() <= 60 {
        return all;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(u64::from(z));
    (0..60).map(|_| all[rng.random_range(0..all.len())]).collect()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `[median, min, max]` of [`REPEATS`] timings.
fn spread(mut times: Vec<f64>) -> [f64; 3] {
    times.sort_by(f64::total_cmp);
    [times[times.len() / 2], times[0], times[times.len() - 1]]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn get(client: &reqwest::Client, url: &str) -> (Duration, usize) {
    let t = Instant::now();
    let resp = client.get(url).send().await.expect("GET");
    let status = resp.status().as_u16();
    let n = resp.bytes().await.expect("body").len();
    assert!(status == 200 || status == 204, "{url}: {status}");
    (t.elapsed(), n)
}

/// Sequential latencies and sizes of the tiles of one layer and zoom.
async fn measure(client: &reqwest::Client, base: &str, layer: &str, tiles: &[Tile]) -> (Vec<f64>, Vec<usize>) {
    let mut lat = Vec::new();
    let mut sizes = Vec::new();
    for &(z, x, y) in tiles {
        let (d, n) = get(client, &format!("{base}/tiles/{layer}/{z}/{x}/{y}.mvt")).await;
        lat.push(ms(d));
        sizes.push(n);
    }
    lat.sort_by(f64::total_cmp);
    sizes.sort_unstable();
    (lat, sizes)
}

/// Runs `clients` loops over `urls` for `secs`; returns requests per second.
async fn load(clients: usize, secs: u64, urls: Arc<Vec<String>>) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (done, urls) = (done.clone(), urls.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut i = c * 7;
                while Instant::now() < deadline {
                    get(&client, &urls[i % urls.len()]).await;
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

async fn gridmap_tiles(db: &str, out: &mut serde_json::Map<String, Value>) {
    let client = reqwest::Client::new();
    let (cold_server, cold) = start_server_with(db, false, &["--tile-cache-mb", "0"]);
    let (warm_server, warm) = start_server_with(db, false, &["--tile-cache-mb", "1024"]);
    println!("layer        z  prep_ms  cold_p50  cold_p99  cached_p50  cached_p99  median_B  largest_B  tiles");
    for layer in ["streets", "communities", "grids"] {
        for z in 10..=16u8 {
            let tiles = tile_set(z);
            // The first tile of a zoom prepares the layer's shapes for that zoom (once per generation).
            let (first, _) =
                get(&client, &format!("{cold}/tiles/{layer}/{}/{}/{}.mvt", tiles[0].0, tiles[0].1, tiles[0].2)).await;
            let (cold_lat, sizes) = measure(&client, &cold, layer, &tiles).await;
            measure(&client, &warm, layer, &tiles).await;
            let (cached_lat, _) = measure(&client, &warm, layer, &tiles).await;
            let row = json!({
                "prep_ms": ms(first), "cold_p50_ms": pct(&cold_lat, 0.5), "cold_p99_ms": pct(&cold_lat, 0.99),
                "cached_p50_ms": pct(&cached_lat, 0.5), "cached_p99_ms": pct(&cached_lat, 0.99),
                "median_bytes": sizes[sizes.len() / 2], "largest_bytes": sizes[sizes.len() - 1], "tiles": tiles.len(),
            });
            println!(
                "{layer:<12} {z:>2} {:>8.1} {:>9.2} {:>9.2} {:>11.3} {:>11.3} {:>9} {:>10} {:>6}",
                ms(first),
                pct(&cold_lat, 0.5),
                pct(&cold_lat, 0.99),
                pct(&cached_lat, 0.5),
                pct(&cached_lat, 0.99),
                sizes[sizes.len() / 2],
                sizes[sizes.len() - 1],
                tiles.len()
            );
            out.insert(format!("{layer}_z{z}"), row);
        }
    }
    for z in [10u8, 14] {
        let urls: Arc<Vec<String>> =
            Arc::new(tile_set(z).iter().map(|(z, x, y)| format!("/tiles/grids/{z}/{x}/{y}.mvt")).collect());
        let with = |base: &str| Arc::new(urls.iter().map(|u| format!("{base}{u}")).collect::<Vec<_>>());
        let (cold_rate, cached_rate, tool) = match (wrk(&cold, &urls, load_s(), 4), wrk(&warm, &urls, load_s(), 4)) {
            (Some(c), Some(w)) => (c.requests_per_s, w.requests_per_s, "wrk -t2 -c4"),
            _ => (load(4, load_s(), with(&cold)).await, load(4, load_s(), with(&warm)).await, "4 reqwest clients"),
        };
        println!("grids z{z}, {tool}: cold {cold_rate:.0} tiles/s, cached {cached_rate:.0} tiles/s");
        out.insert(format!("grids_z{z}_load_tool"), json!(tool));
        out.insert(format!("grids_z{z}_cold_tiles_per_s"), json!(cold_rate.round()));
        out.insert(format!("grids_z{z}_cached_tiles_per_s"), json!(cached_rate.round()));
    }
    drop((cold_server, warm_server));
}

const ST_ASMVT: &str = "SELECT ST_AsMVT(q, 'grids', 4096, 'geom') FROM (SELECT code, name, parent_code, \
     ST_AsMVTGeom(geom, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom FROM bench_tile_grids \
     WHERE geom && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)) q";

/// Creates `bench_tile_grids` (what martin serves) from the grids file, unless `ready` (an earlier run of this
/// invocation created it before seeding the incidents that made the stores ready).
async fn tile_table(pool: &sqlx::PgPool, grids: &std::path::Path, ready: bool) {
    if ready {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM bench_tile_grids").fetch_one(pool).await.expect("count");
        assert_eq!(n, 9504, "bench_tile_grids of an earlier run");
        return;
    }
    sqlx::query("DROP TABLE IF EXISTS bench_tile_grids").execute(pool).await.expect("drop");
    sqlx::query(
        "CREATE TABLE bench_tile_grids (code text, name text, parent_code text, geom geometry(MultiPolygon, 3857))",
    )
    .execute(pool)
    .await
    .expect("create");
    // The whole file in one statement (it was one INSERT per grid, 9 504 round trips in every run).
    let text = std::fs::read_to_string(grids).expect("read grids");
    sqlx::query(
        "INSERT INTO bench_tile_grids SELECT f->'properties'->>'code', f->'properties'->>'name', \
         f->'properties'->>'parent_code', ST_Transform(ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(f->>'geometry'), 4326)), 3857) \
         FROM json_array_elements($1::json->'features') f",
    )
    .bind(text)
    .execute(pool)
    .await
    .expect("insert the grids");
    for sql in ["CREATE INDEX ON bench_tile_grids USING gist (geom)", "ANALYZE bench_tile_grids"] {
        sqlx::query(sql).execute(pool).await.expect("index");
    }
}

async fn postgis_tiles(pool: &sqlx::PgPool, out: &mut serde_json::Map<String, Value>) {
    for z in 10..=16u8 {
        let tiles = tile_set(z);
        let mut lat = Vec::new();
        let mut largest = 0;
        for &(z, x, y) in &tiles {
            let t = Instant::now();
            let b: Option<Vec<u8>> = sqlx::query_scalar(ST_ASMVT)
                .bind(i32::from(z))
                .bind(x as i32)
                .bind(y as i32)
                .fetch_one(pool)
                .await
                .expect("ST_AsMVT");
            lat.push(ms(t.elapsed()));
            largest = largest.max(b.map_or(0, |b| b.len()));
        }
        lat.sort_by(f64::total_cmp);
        println!(
            "PostGIS ST_AsMVT grids z{z}: p50 {:.2} ms, p99 {:.2} ms, largest {largest} B",
            pct(&lat, 0.5),
            pct(&lat, 0.99)
        );
        out.insert(
            format!("postgis_grids_z{z}"),
            json!({"p50_ms": pct(&lat, 0.5), "p99_ms": pct(&lat, 0.99), "largest_bytes": largest}),
        );
    }
    for z in [10u8, 14] {
        let tiles = Arc::new(tile_set(z));
        let done = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(load_s());
        let tasks: Vec<_> = (0..4)
            .map(|c| {
                let (pool, tiles, done) = (pool.clone(), tiles.clone(), done.clone());
                tokio::spawn(async move {
                    let mut i = c * 7;
                    while Instant::now() < deadline {
                        let (z, x, y) = tiles[i % tiles.len()];
                        let _: Option<Vec<u8>> = sqlx::query_scalar(ST_ASMVT)
                            .bind(i32::from(z))
                            .bind(x as i32)
                            .bind(y as i32)
                            .fetch_one(&pool)
                            .await
                            .expect("ST_AsMVT");
                        done.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
        println!("PostGIS ST_AsMVT grids z{z}, 4 connections: {rate:.0} tiles/s");
        out.insert(format!("postgis_grids_z{z}_tiles_per_s"), json!(rate.round()));
    }
}

/// A martin process serving the PostGIS database (its tables auto-published), killed on drop.
struct Martin(std::process::Child);

impl Drop for Martin {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The martin binary: `$MARTIN`, else target/martin/bin/martin (where scripts/bench-tiles installs it), else PATH.
fn martin_binary() -> Option<String> {
    if let Ok(m) = std::env::var("MARTIN") {
        return Some(m);
    }
    let local = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/martin/bin/martin");
    if local.exists() {
        return Some(local.display().to_string());
    }
    std::process::Command::new("martin").arg("--version").output().ok().map(|_| "martin".to_owned())
}

async fn start_martin(bin: &str, pg: &str, cache_mb: u32) -> (Martin, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let martin = std::process::Command::new(bin)
        .args(["--listen-addresses", &format!("127.0.0.1:{port}"), "--cache-size", &cache_mb.to_string(), pg])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(Martin)
        .expect("start martin");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{base}/catalog")).send().await.is_ok_and(|r| r.status().is_success()) {
            return (martin, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("martin did not come up on {base}");
}

/// martin (uncached and with its cache) serving the same `bench_tile_grids` table PostGIS was measured on: latency
/// and sizes per zoom, and tiles/s under the same load as gridmap.
async fn martin_tiles(pg: &str, out: &mut serde_json::Map<String, Value>) {
    let Some(bin) = martin_binary() else {
        println!("martin not found (scripts/bench-tiles installs it): martin comparison skipped");
        return;
    };
    let version = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .map_or_else(|_| "?".to_owned(), |o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    out.insert("martin_version".into(), json!(version));
    let client = reqwest::Client::new();
    let (cold_server, cold) = start_martin(&bin, pg, 0).await;
    let (warm_server, warm) = start_martin(&bin, pg, 1024).await;
    for z in 10..=16u8 {
        let tiles = tile_set(z);
        let mut lat = Vec::new();
        let mut sizes = Vec::new();
        for &(z, x, y) in &tiles {
            let (d, n) = get(&client, &format!("{cold}/bench_tile_grids/{z}/{x}/{y}")).await;
            lat.push(ms(d));
            sizes.push(n);
        }
        lat.sort_by(f64::total_cmp);
        sizes.sort_unstable();
        println!(
            "martin grids z{z} (cache off): p50 {:.2} ms, p99 {:.2} ms, median {} B, largest {} B",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            sizes[sizes.len() / 2],
            sizes[sizes.len() - 1]
        );
        out.insert(
            format!("martin_grids_z{z}"),
            json!({"p50_ms": pct(&lat, 0.5), "p99_ms": pct(&lat, 0.99), "median_bytes": sizes[sizes.len() / 2],
                   "largest_bytes": sizes[sizes.len() - 1]}),
        );
    }
    for z in [10u8, 14] {
        let paths: Vec<String> = tile_set(z).iter().map(|(z, x, y)| format!("/bench_tile_grids/{z}/{x}/{y}")).collect();
        let with = |base: &str| Arc::new(paths.iter().map(|u| format!("{base}{u}")).collect::<Vec<_>>());
        // Warm martin's cache with every tile once before the cached run.
        for u in with(&warm).iter() {
            get(&client, u).await;
        }
        let (cold_rate, cached_rate, tool) = match (wrk(&cold, &paths, load_s(), 4), wrk(&warm, &paths, load_s(), 4)) {
            (Some(c), Some(w)) => (c.requests_per_s, w.requests_per_s, "wrk -t2 -c4"),
            _ => (load(4, load_s(), with(&cold)).await, load(4, load_s(), with(&warm)).await, "4 reqwest clients"),
        };
        println!("martin grids z{z}, {tool}: cold {cold_rate:.0} tiles/s, cached {cached_rate:.0} tiles/s");
        out.insert(format!("martin_grids_z{z}_cold_tiles_per_s"), json!(cold_rate.round()));
        out.insert(format!("martin_grids_z{z}_cached_tiles_per_s"), json!(cached_rate.round()));
    }
    drop((cold_server, warm_server));
}

/// A seeded incident: category, lon, lat, status, H3 cell, reported at, street/community/grid codes.
type Row = (String, f64, f64, String, String, time::OffsetDateTime, [Option<String>; 3]);

/// `INCIDENTS` seeded incidents over the city, geocoded to street/community/grid and H3 res 10.
fn incident_rows(index: &gridmap::index::BoundaryIndex) -> Vec<Row> {
    let mut rng = ChaCha8Rng::seed_from_u64(1_000_000);
    let base = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("2026-01-01");
    let categories = ["fire", "traffic", "sanitation", "public_order", "facility"];
    let statuses = ["reported", "dispatched", "resolved", "closed", "closed", "closed"];
    (0..INCIDENTS)
        .map(|_| {
            let (lon, lat) = (rng.random_range(CITY[0]..CITY[2]), rng.random_range(CITY[1]..CITY[3]));
            let p = gridmap::coord::LonLat::new(lon, lat).expect("valid");
            let g = gridmap::locate::geocode(index, h3o::Resolution::Ten, p);
            let cell = g.h3;
            let codes = [g.street_code, g.community_code, g.grid_code];
            let at = base + Duration::from_secs(rng.random_range(0..330 * 86_400));
            let cat = categories[rng.random_range(0..categories.len())].to_owned();
            let st = statuses[rng.random_range(0..statuses.len())].to_owned();
            (cat, lon, lat, st, cell, at, codes)
        })
        .collect()
}

/// Writes `rows` straight into a gridmap store's incidents table.
async fn seed_incidents(db: &str, rows: &[Row]) {
    let started = std::time::Instant::now();
    // The store's active generation goes with every row, as on an incident written through the API: without it,
    // the server's first start would re-geocode every open seeded incident only to record the generation.
    const ACTIVE: &str = "SELECT generation_id FROM activations WHERE rolled_back_at IS NULL ORDER BY id DESC LIMIT 1";
    // One transaction (one commit instead of 1 250) and, on SQLite, a page cache that holds the table's
    // indexes. The secondary indexes are dropped and created again from their stored definitions after the rows, in
    // the same transaction: a million inserts in random order into six b-trees (and, on PostGIS, a GiST) took ~25 s
    // on SQLite and ~33 s on PostGIS; building each index once from the finished table is a sort.
    const SQLITE_INDEXES: &str =
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' AND sql IS NOT NULL";
    const PG_INDEXES: &str = "SELECT i.relname::text, pg_get_indexdef(x.indexrelid) FROM pg_index x \
        JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = 'incidents'::regclass AND NOT x.indisprimary";
    macro_rules! insert_all {
        ($conn:expr, $db:ty, $indexes:expr) => {{
            let generation: i64 = sqlx::query_scalar(ACTIVE).fetch_one(&mut $conn).await.expect("active generation");
            let mut tx = sqlx::Connection::begin(&mut $conn).await.expect("begin");
            let indexes: Vec<(String, String)> =
                sqlx::query_as($indexes).fetch_all(&mut *tx).await.expect("incidents' indexes");
            assert!(indexes.len() >= 6, "incidents' secondary indexes: {indexes:?}");
            // The names and definitions are the store's own, read from its catalogue just above.
            for (name, _) in &indexes {
                let drop = sqlx::AssertSqlSafe(format!("DROP INDEX \"{name}\""));
                sqlx::query(drop).execute(&mut *tx).await.expect("drop index");
            }
            for chunk in rows.chunks(800) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO incidents (category, description, priority, source, lon, lat, status, h3, reported_at, created_at, updated_at, street_code, community_code, grid_code, generation_id) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.0).push_bind("").push_bind(3).push_bind("bench").push_bind(r.1).push_bind(r.2);
                    b.push_bind(&r.3).push_bind(&r.4).push_bind(r.5).push_bind(r.5).push_bind(r.5);
                    b.push_bind(&r.6[0]).push_bind(&r.6[1]).push_bind(&r.6[2]).push_bind(generation);
                });
                q.build().execute(&mut *tx).await.expect("insert incidents");
            }
            for (_, definition) in &indexes {
                sqlx::query(sqlx::AssertSqlSafe(definition.as_str())).execute(&mut *tx).await.expect("create index");
            }
            tx.commit().await.expect("commit incidents");
        }};
    }
    if db.starts_with("sqlite") {
        let options: sqlx::sqlite::SqliteConnectOptions = db.parse().expect("sqlite url");
        let mut conn = sqlx::ConnectOptions::connect(&options.pragma("cache_size", "-1048576")).await.expect("sqlite");
        insert_all!(conn, sqlx::Sqlite, SQLITE_INDEXES);
    } else {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(db).await.expect("pg");
        insert_all!(conn, sqlx::Postgres, PG_INDEXES);
        // As a table a while after its writes: autovacuum would otherwise start on the million inserts while the
        // heatmap is measured.
        sqlx::query("VACUUM (ANALYZE) incidents").execute(&mut conn).await.expect("vacuum");
    }
    println!(
        "seeded {INCIDENTS} incidents into {} in {:.1} s",
        db.split(':').next().unwrap_or(db),
        started.elapsed().as_secs_f64()
    );
}

async fn heatmap(label: &str, db: &str, out: &mut serde_json::Map<String, Value>) {
    let (server, base) = start_server_with(db, false, &[]);
    let client = reqwest::Client::new();
    let queries = [
        ("city_res8", "resolution=8".to_owned()),
        ("city_res7_fire_2026h2", "resolution=7&category=fire&from=2026-07-01T00:00:00Z".to_owned()),
        ("core_zoom13", format!("zoom=13&bbox={},{},{},{}", CORE[0], CORE[1], CORE[2], CORE[3])),
    ];
    for (name, q) in queries {
        let mut times = Vec::new();
        let mut hexes = 0;
        for _ in 0..REPEATS {
            let t = Instant::now();
            let v: Value =
                client.get(format!("{base}/api/v1/heatmap?{q}")).send().await.expect("GET").json().await.expect("JSON");
            times.push(ms(t.elapsed()));
            hexes = v["features"].as_array().map_or(0, Vec::len);
        }
        let [median, min, max] = spread(times);
        println!("heatmap {label} {name}: median {median:.0} ms (min {min:.0}, max {max:.0}), {hexes} hexagons");
        out.insert(
            format!("heatmap_{label}_{name}_ms"),
            json!({"median": median, "min": min, "max": max, "hexagons": hexes}),
        );
    }
    let mut times = Vec::new();
    for _ in 0..REPEATS {
        let t = Instant::now();
        let v: Value =
            client.get(format!("{base}/api/v1/stats/grids")).send().await.expect("GET").json().await.expect("JSON");
        times.push(ms(t.elapsed()));
        assert_eq!(v["grids"].as_array().map(Vec::len), Some(9504));
    }
    let [median, min, max] = spread(times);
    println!(
        "stats/grids {label} (9 504 grids, {INCIDENTS} incidents): median {median:.0} ms (min {min:.0}, max {max:.0})"
    );
    out.insert(format!("stats_grids_{label}_ms"), json!({"median": median, "min": min, "max": max}));
    out.insert(format!("server_rss_mib_{label}_with_incidents"), json!(support::rss_kib(server.0.id()) / 1024));
    drop(server);
}

async fn postgis_group_by(pg: &str, out: &mut serde_json::Map<String, Value>) {
    let pool = sqlx::PgPool::connect(pg).await.expect("pg");
    let mut times = Vec::new();
    for _ in 0..REPEATS {
        let t = Instant::now();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT h3, count(*) FROM incidents GROUP BY h3").fetch_all(&pool).await.expect("group by");
        times.push(ms(t.elapsed()));
        std::hint::black_box(rows);
    }
    let [median, min, max] = spread(times);
    println!("PostGIS GROUP BY h3 over {INCIDENTS} incidents: median {median:.0} ms (min {min:.0}, max {max:.0})");
    out.insert("postgis_group_by_h3_ms".into(), json!({"median": median, "min": min, "max": max}));
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
    // GRIDMAP_BENCH_KEEP: scripts/bench-tiles found both stores seeded by an earlier run of the same scripts/bench
    // invocation (city layers, exactly 1 000 000 incidents; it checks and otherwise unsets it and drops the PostGIS
    // one): importing the city and writing the incidents again takes minutes and measures nothing.
    let ready = std::env::var_os("GRIDMAP_BENCH_KEEP").is_some();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&data).expect("target/bench-data");
    let file = data.join("tiles.db");
    let sqlite = format!("sqlite://{}", file.display());
    let pg = std::env::var("GRIDMAP_BENCH_PG").ok().filter(|s| !s.is_empty());
    if ready {
        println!("stores seeded by an earlier run of this invocation: imports and incidents reused");
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(data.join(format!("tiles.db{suffix}")));
        }
        for db in std::iter::once(&sqlite).chain(pg.as_ref()) {
            let started = std::time::Instant::now();
            support::import_city(db, &files);
            println!(
                "city layers imported into {} in {:.1} s",
                db.split(':').next().unwrap_or(db),
                started.elapsed().as_secs_f64()
            );
        }
    }
    // The tile servers get a store of their own with the city layers only: a server loads the stored incidents at
    // start (seconds for 1 000 000), and tiles of boundary layers do not read them.
    let layers = support::city_stores("tiles-layers", &files, None);
    let mut out = serde_json::Map::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        gridmap_tiles(&layers, &mut out).await;
        if let Some(pg) = &pg {
            let pool = sqlx::PgPool::connect(pg).await.expect("connect");
            tile_table(&pool, &files[2], ready).await;
            postgis_tiles(&pool, &mut out).await;
            martin_tiles(pg, &mut out).await;
        } else {
            println!("GRIDMAP_BENCH_PG is not set: PostGIS comparison skipped (scripts/bench-tiles sets it)");
        }
        if std::env::var_os("GRIDMAP_BENCH_TILES_ONLY").is_some() {
            return;
        }
        if ready {
            println!("heatmap and stats: measured by the run that seeded the stores");
            return;
        }
        {
            // In a block: the rows and the index are freed before the servers start.
            let index = gridmap::index::BoundaryIndex::build(None, support::city_features(&files));
            let rows = incident_rows(&index);
            // Both stores at once: SQLite's writes run on its client thread, PostgreSQL's in the server.
            match &pg {
                Some(pg) => _ = tokio::join!(seed_incidents(&sqlite, &rows), seed_incidents(pg, &rows)),
                None => seed_incidents(&sqlite, &rows).await,
            }
        }
        heatmap("sqlite", &sqlite, &mut out).await;
        if let Some(pg) = &pg {
            heatmap("postgis", pg, &mut out).await;
            postgis_group_by(pg, &mut out).await;
        }
    });
    support::write_results("bench-tiles.json", &Value::Object(out));
}
