//! Nearest-5 available responders with a skill, at 10 000 and 100 000 live responders while positions move at
//! 5 000 per second, three ways in one run on the same data:
//! - in process: `Dispatcher::nearest` / `recommend` on the fleet snapshot while another thread applies position
//!   batches (each batch publishes a new snapshot, as the position writer does after each commit) — server time;
//! - over HTTP: `GET /dispatch/nearest` on the release binary (SQLite store) with `wrk -t2 -c4 --latency` while a
//!   client posts `POST /positions` batches at 5 000 fixes/s;
//! - PostGIS KNN: `ORDER BY geog <-> point LIMIT 5` with a GiST index, the same status and skill filters, prepared
//!   statements from 4 connections, while another connection updates 5 000 positions/s (when `GRIDMAP_BENCH_PG`
//!   names a database).
//!
//! Figures are printed and written to `target/bench-dispatch.json`. `GRIDMAP_BENCH_SECS` sets the length of each HTTP
//! and PostGIS phase; the in-process phases last 0.5 s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gridmap::coord::LonLat;
use gridmap::dispatch::{Dispatcher, Place, Request};
use gridmap::responders::{Fleet, LiveResponder, PositionFix, Responder, ResponderId, ResponderStatus};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use time::OffsetDateTime;

mod support;

/// Nanjing's main urban area.
const AREA: ([f64; 2], [f64; 2]) = ([118.65, 31.90], [119.00, 32.15]);
const SIZES: [usize; 2] = [10_000, 100_000];
const UPDATES_PER_S: usize = 5_000;
/// Position batches per second (each one a commit and a new snapshot in the server).
const BATCHES_PER_S: usize = 20;
const SKILLS: [Option<&str>; 3] = [None, Some("fire"), Some("first_aid")];

#[derive(Clone)]
struct Spec {
    at: [f64; 2],
    kind: &'static str,
    skills: Vec<&'static str>,
    status: &'static str,
}

fn roster(n: usize, seed: u64) -> Vec<Spec> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sets: [&[&str]; 4] = [&["patrol"], &["fire"], &["first_aid"], &["fire", "first_aid"]];
    (0..n)
        .map(|i| Spec {
            at: random_point(&mut rng),
            kind: if i % 10 == 0 { "vehicle" } else { "grid_worker" },
            skills: sets[rng.random_range(0..sets.len())].to_vec(),
            status: match rng.random_range(0..10) {
                0..7 => "available",
                7..9 => "busy",
                _ => "off_duty",
            },
        })
        .collect()
}

fn random_point(rng: &mut ChaCha8Rng) -> [f64; 2] {
    [rng.random_range(AREA.0[0]..AREA.1[0]), rng.random_range(AREA.0[1]..AREA.1[1])]
}

fn secs() -> u64 {
    support::load_secs(10)
}

/// Length of each in-process phase: 35 000+ queries at the slowest rate measured here (the HTTP and PostGIS
/// phases, hundreds of times slower per query, last [`secs`]).
const IN_PROCESS: Duration = Duration::from_millis(500);

/// `[p50, p99, p99.9]` in microseconds.
fn percentiles_us(mut ns: Vec<u64>) -> [f64; 3] {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q) as usize).min(ns.len() - 1)] as f64 / 1000.0;
    [at(0.50), at(0.99), at(0.999)]
}

/// Queries per second and latency percentiles of `query` on one thread while positions move.
fn in_process(specs: &[Spec], recommend: bool, threads: usize) -> Value {
    let now = OffsetDateTime::now_utc();
    let fleet = Arc::new(Fleet::new(
        specs
            .iter()
            .enumerate()
            .map(|(i, s)| LiveResponder {
                responder: Responder {
                    id: ResponderId(i as i64 + 1),
                    name: format!("r{i}"),
                    kind: s.kind.into(),
                    skills: s.skills.iter().map(|k| (*k).to_owned()).collect(),
                    team: None,
                    home_grid: None,
                    status: s.status.parse().unwrap_or(ResponderStatus::Available),
                    status_version: 0,
                    location: Some(gridmap::crs::Position(s.at)),
                    position_at: Some(now),
                },
                grid_code: None,
                community_code: None,
            })
            .collect(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let applied = Arc::new(AtomicU64::new(0));
    let updater = {
        let (fleet, stop, applied, n) = (fleet.clone(), stop.clone(), applied.clone(), specs.len());
        std::thread::spawn(move || {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let mut publish_ns = Vec::new();
            let every = Duration::from_secs(1) / BATCHES_PER_S as u32;
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let at = OffsetDateTime::now_utc();
                let fixes: Vec<PositionFix> = (0..UPDATES_PER_S / BATCHES_PER_S)
                    .map(|_| {
                        let responder = ResponderId(rng.random_range(1..=n as i64));
                        let [x, y] = random_point(&mut rng);
                        PositionFix { responder, location: LonLat::new(x, y).expect("valid"), at }
                    })
                    .collect();
                let t = Instant::now();
                fleet.apply_positions(&fixes, |_| (None, None));
                publish_ns.push(t.elapsed().as_nanos() as u64);
                applied.fetch_add(fixes.len() as u64, Ordering::Relaxed);
                next += every;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            publish_ns
        })
    };
    let start = Instant::now();
    let deadline = start + IN_PROCESS;
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let fleet = fleet.clone();
            std::thread::spawn(move || {
                let dispatcher = Dispatcher::default();
                let mut rng = ChaCha8Rng::seed_from_u64(11 + t as u64);
                let mut lat_ns = Vec::new();
                let mut found = 0usize;
                while Instant::now() < deadline {
                    let [x, y] = random_point(&mut rng);
                    let req = Request {
                        point: LonLat::new(x, y).expect("valid"),
                        place: Place::default(),
                        k: 5,
                        skill: SKILLS[rng.random_range(0..SKILLS.len())].map(str::to_owned),
                        team: None,
                        max_distance_m: None,
                        now: OffsetDateTime::now_utc(),
                    };
                    let t = Instant::now();
                    let snapshot = fleet.snapshot();
                    let got = if recommend {
                        dispatcher.recommend(&snapshot, &req)
                    } else {
                        dispatcher.nearest(&snapshot, &req)
                    };
                    lat_ns.push(t.elapsed().as_nanos() as u64);
                    found += got.0.len();
                }
                (lat_ns, found)
            })
        })
        .collect();
    let mut lat_ns = Vec::new();
    let mut found = 0;
    for w in workers {
        let (l, f) = w.join().expect("worker");
        lat_ns.extend(l);
        found += f;
    }
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let publish = updater.join().expect("updater");
    let [p50, p99, p999] = percentiles_us(lat_ns.clone());
    let [pub50, pub99, _] = percentiles_us(publish);
    json!({
        "threads": threads,
        "queries_per_s": lat_ns.len() as f64 / elapsed,
        "p50_us": p50, "p99_us": p99, "p999_us": p999,
        "mean_candidates": found as f64 / lat_ns.len() as f64,
        "positions_per_s": applied.load(Ordering::Relaxed) as f64 / elapsed,
        "snapshot_publish_p50_ms": pub50 / 1000.0, "snapshot_publish_p99_ms": pub99 / 1000.0,
    })
}

/// Query URLs for wrk.
fn nearest_paths(n: usize) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    (0..n)
        .map(|_| {
            let [x, y] = random_point(&mut rng);
            match SKILLS[rng.random_range(0..SKILLS.len())] {
                Some(s) => format!("/api/v1/dispatch/nearest?lon={x:.6}&lat={y:.6}&k=5&skill={s}"),
                None => format!("/api/v1/dispatch/nearest?lon={x:.6}&lat={y:.6}&k=5"),
            }
        })
        .collect()
}

async fn over_http(specs: &[Spec]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (server, base) = support::start_server(&db, true);
    let client = reqwest::Client::new();
    let mut ids = Vec::with_capacity(specs.len());
    let t = Instant::now();
    for chunk in specs.chunks(20_000) {
        let features: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, s)| {
                json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": s.at},
                "properties": {"name": format!("r{i}"), "kind": s.kind, "skills": s.skills, "status": s.status}})
            })
            .collect();
        let body = json!({"type": "FeatureCollection", "features": features}).to_string();
        let v: Value = client
            .post(format!("{base}/api/v1/responders/load?name=bench.geojson"))
            .body(body)
            .send()
            .await
            .expect("load")
            .json()
            .await
            .expect("JSON");
        ids.extend(v["ids"].as_array().expect("ids").iter().filter_map(Value::as_i64));
    }
    let load_s = t.elapsed().as_secs_f64();
    // Positions at 5 000/s in the background.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mover = {
        let (stop, sent, base, ids) = (stop.clone(), sent.clone(), base.clone(), ids.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut rng = ChaCha8Rng::seed_from_u64(17);
            let mut tick = tokio::time::interval(Duration::from_secs(1) / BATCHES_PER_S as u32);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let batch: Vec<Value> = (0..UPDATES_PER_S / BATCHES_PER_S)
                    .map(|_| json!({"responder_id": ids[rng.random_range(0..ids.len())], "location": random_point(&mut rng)}))
                    .collect();
                let ok = client
                    .post(format!("{base}/api/v1/positions"))
                    .json(&json!({"positions": batch}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    sent.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
            }
        })
    };
    let t = Instant::now();
    let paths = nearest_paths(2000);
    let secs = secs();
    let result = tokio::task::spawn_blocking(move || support::wrk(&base, &paths, secs, 4)).await.expect("wrk");
    let elapsed = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    mover.await.expect("mover");
    drop(server);
    match result {
        Some(run) => json!({
            "tool": "wrk -t2 -c4", "requests_per_s": run.requests_per_s, "p50_ms": run.p50_ms, "p99_ms": run.p99_ms,
            "positions_per_s": sent.load(Ordering::Relaxed) as f64 / elapsed, "roster_load_s": load_s,
        }),
        None => json!({"skipped": "wrk is not installed (scripts/bench-dispatch installs it)"}),
    }
}

async fn postgis(url: &str, specs: &[Spec]) -> Value {
    use sqlx::postgres::PgPoolOptions;
    let pool = PgPoolOptions::new().max_connections(6).connect(url).await.expect("connect PostGIS");
    for sql in [
        "CREATE EXTENSION IF NOT EXISTS postgis",
        "DROP TABLE IF EXISTS bench_responders",
        "CREATE TABLE bench_responders (id BIGINT PRIMARY KEY, status TEXT NOT NULL, skills TEXT[] NOT NULL, \
         geog GEOGRAPHY(Point, 4326) NOT NULL, position_at TIMESTAMPTZ NOT NULL)",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    for (c, chunk) in specs.chunks(10_000).enumerate() {
        let ids: Vec<i64> = (0..chunk.len()).map(|i| (c * 10_000 + i + 1) as i64).collect();
        let status: Vec<&str> = chunk.iter().map(|s| s.status).collect();
        let skills: Vec<String> = chunk.iter().map(|s| format!("{{{}}}", s.skills.join(","))).collect();
        let lon: Vec<f64> = chunk.iter().map(|s| s.at[0]).collect();
        let lat: Vec<f64> = chunk.iter().map(|s| s.at[1]).collect();
        sqlx::query(
            "INSERT INTO bench_responders SELECT id, st, sk::text[], ST_SetSRID(ST_MakePoint(x, y), 4326)::geography, now() \
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::float8[], $5::float8[]) AS t(id, st, sk, x, y)",
        )
        .bind(&ids)
        .bind(&status)
        .bind(&skills)
        .bind(&lon)
        .bind(&lat)
        .execute(&pool)
        .await
        .expect("insert responders");
    }
    sqlx::query("CREATE INDEX ON bench_responders USING gist (geog)").execute(&pool).await.expect("index");
    sqlx::query("ANALYZE bench_responders").execute(&pool).await.expect("analyze");

    let stop = Arc::new(AtomicBool::new(false));
    let moved = Arc::new(AtomicU64::new(0));
    let n = specs.len() as i64;
    let mover = {
        let (pool, stop, moved) = (pool.clone(), stop.clone(), moved.clone());
        tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(17);
            let mut tick = tokio::time::interval(Duration::from_secs(1) / BATCHES_PER_S as u32);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let k = UPDATES_PER_S / BATCHES_PER_S;
                let ids: Vec<i64> = (0..k).map(|_| rng.random_range(1..=n)).collect();
                let pts: Vec<[f64; 2]> = (0..k).map(|_| random_point(&mut rng)).collect();
                let lon: Vec<f64> = pts.iter().map(|p| p[0]).collect();
                let lat: Vec<f64> = pts.iter().map(|p| p[1]).collect();
                let r = sqlx::query(
                    "UPDATE bench_responders b SET geog = ST_SetSRID(ST_MakePoint(v.x, v.y), 4326)::geography, position_at = now() \
                     FROM (SELECT DISTINCT ON (id) id, x, y FROM unnest($1::bigint[], $2::float8[], $3::float8[]) AS t(id, x, y)) v \
                     WHERE b.id = v.id",
                )
                .bind(&ids)
                .bind(&lon)
                .bind(&lat)
                .execute(&pool)
                .await;
                if let Ok(r) = r {
                    moved.fetch_add(r.rows_affected(), Ordering::Relaxed);
                }
            }
        })
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs());
    let clients: Vec<_> = (0..4u64)
        .map(|c| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64(100 + c);
                let mut lat_ns = Vec::new();
                while Instant::now() < deadline {
                    let [x, y] = random_point(&mut rng);
                    let skill = SKILLS[rng.random_range(0..SKILLS.len())];
                    let t = Instant::now();
                    let rows: Vec<(i64, f64)> = sqlx::query_as(
                        "SELECT id, ST_Distance(geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, false) \
                         FROM bench_responders WHERE status = 'available' AND ($3::text IS NULL OR $3 = ANY(skills)) \
                         ORDER BY geog <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography LIMIT 5",
                    )
                    .bind(x)
                    .bind(y)
                    .bind(skill)
                    .fetch_all(&pool)
                    .await
                    .expect("KNN");
                    lat_ns.push(t.elapsed().as_nanos() as u64);
                    assert!(rows.len() <= 5);
                }
                lat_ns
            })
        })
        .collect();
    let mut lat_ns = Vec::new();
    for c in clients {
        lat_ns.extend(c.await.expect("client"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    mover.await.expect("mover");
    let [p50, p99, _] = percentiles_us(lat_ns.clone());
    json!({
        "queries_per_s_4_connections": lat_ns.len() as f64 / elapsed,
        "p50_ms": p50 / 1000.0, "p99_ms": p99 / 1000.0,
        "positions_per_s": moved.load(Ordering::Relaxed) as f64 / elapsed,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let pg = std::env::var("GRIDMAP_BENCH_PG").ok().filter(|u| !u.is_empty());
    let mut out = serde_json::Map::new();
    for n in SIZES {
        let specs = roster(n, n as u64);
        let nearest = in_process(&specs, false, 1);
        let nearest2 = in_process(&specs, false, 2);
        let recommend = in_process(&specs, true, 1);
        println!("{n} responders, in process, nearest, 1 thread:  {nearest}");
        println!("{n} responders, in process, nearest, 2 threads: {nearest2}");
        println!("{n} responders, in process, recommend:          {recommend}");
        let http = over_http(&specs).await;
        println!("{n} responders, HTTP:                  {http}");
        let knn = match &pg {
            Some(url) => postgis(url, &specs).await,
            None => json!({"skipped": "GRIDMAP_BENCH_PG is not set (scripts/bench-dispatch sets it)"}),
        };
        println!("{n} responders, PostGIS KNN:           {knn}");
        let ratio = |a: &Value, b: &Value| a.as_f64().zip(b.as_f64()).map(|(a, b)| a / b);
        let summary = json!({
            "in_process_1_thread_vs_postgis": ratio(&nearest["queries_per_s"], &knn["queries_per_s_4_connections"]),
            "in_process_2_threads_vs_postgis": ratio(&nearest2["queries_per_s"], &knn["queries_per_s_4_connections"]),
            "http_vs_postgis": ratio(&http["requests_per_s"], &knn["queries_per_s_4_connections"]),
        });
        println!("{n} responders, throughput ratios:     {summary}");
        out.insert(
            n.to_string(),
            json!({"in_process_nearest": nearest, "in_process_nearest_2_threads": nearest2, "in_process_recommend": recommend, "http": http, "postgis_knn": knn, "ratios": summary}),
        );
    }
    support::write_results("bench-dispatch.json", &Value::Object(out));
}
