//! Soak test (not in CI): the release binary on SQLite with the bundled Qinhuai sample and 10 000 responders, under
//! mixed loopback traffic for `GRIDMAP_SOAK_SECS` (default 600): point lookups, vector tiles z12–16, 5 000 position
//! fixes per second (batches of 500 every 100 ms), incident writes (5/s) and 20 live WebSocket clients. Reports latency
//! percentiles per kind, failures by kind and status (must be none) and, every 10 s, the server's RSS beside the
//! bytes in its tile cache (bounded by `--tile-cache-mb`, `GRIDMAP_SOAK_TILE_CACHE_MB` here, default 256): memory
//! must stay flat once the cache is full. Every point lies inside the sample's streets (the service area), so a
//! lookup or an incident outside it cannot count as a failure. `scripts/bench-soak` runs it; results go to
//! `target/bench-soak.json`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use geo::{BoundingRect, Intersects, MultiPolygon, Point};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

mod support;

use support::{rss_kib, start_server_with};

const RESPONDERS: usize = 10_000;

#[derive(Default)]
struct Tally {
    latencies_ms: Mutex<BTreeMap<&'static str, Vec<f64>>>,
    /// Failures by kind and outcome ("HTTP 422", "connect", "closed", …).
    failures: Mutex<BTreeMap<(&'static str, String), u64>>,
}

impl Tally {
    /// Records a request's latency and, unless it succeeded, why it failed.
    fn record(&self, kind: &'static str, t: Instant, outcome: Result<(), String>) {
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        self.latencies_ms.lock().expect("lock").entry(kind).or_default().push(ms);
        if let Err(why) = outcome {
            self.fail(kind, why);
        }
    }

    fn fail(&self, kind: &'static str, why: String) {
        *self.failures.lock().expect("lock").entry((kind, why)).or_default() += 1;
    }
}

/// Where points are drawn: 100 000 points drawn once, uniformly inside the sample's streets (the service area), so
/// the load generator spends no time on point-in-polygon tests while it runs.
struct Area(Vec<[f64; 2]>);

impl Area {
    fn sample() -> Self {
        let streets = gridmap::sample::files().into_iter().next().expect("the sample's streets come first");
        let streets =
            gridmap::import::read(&streets.name, &streets.bytes, &streets.options).expect("the sample parses");
        let area: MultiPolygon<f64> = streets.features.into_iter().flat_map(|f| f.geometry.0).collect();
        let bbox = area.bounding_rect().expect("the sample has streets");
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut points = Vec::with_capacity(100_000);
        while points.len() < 100_000 {
            let p = [rng.random_range(bbox.min().x..bbox.max().x), rng.random_range(bbox.min().y..bbox.max().y)];
            if area.intersects(&Point::new(p[0], p[1])) {
                points.push(p);
            }
        }
        Self(points)
    }

    /// A random point inside the area.
    fn point(&self, rng: &mut ChaCha8Rng) -> [f64; 2] {
        self.0[rng.random_range(0..self.0.len())]
    }
}

/// `Ok` for a success status, else the status.
fn status(r: &reqwest::Response, ok: impl Fn(u16) -> bool) -> Result<(), String> {
    let code = r.status().as_u16();
    if ok(code) { Ok(()) } else { Err(format!("HTTP {code}")) }
}

/// The server's `gridmap_tile_cache_bytes` gauge, in KiB.
async fn tile_cache_kib(client: &reqwest::Client, base: &str) -> u64 {
    let Ok(r) = client.get(format!("{base}/metrics")).send().await else { return 0 };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("gridmap_tile_cache_bytes "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |b| (b / 1024.0) as u64)
}

fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let lat = lat.to_radians();
    (
        ((lon + 180.0) / 360.0 * n) as u32,
        ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32,
    )
}

async fn seed_responders(client: &reqwest::Client, base: &str, area: &Area) -> Vec<i64> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut csv = String::from("name,kind,skills,team,home_grid,status,lon,lat,at\n");
    for i in 0..RESPONDERS {
        let p = area.point(&mut rng);
        csv.push_str(&format!("r{i},grid_worker,,,,available,{},{},\n", p[0], p[1]));
    }
    let v: Value = client
        .post(format!("{base}/api/v1/responders/load?name=soak.csv"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("load")
        .json()
        .await
        .expect("json");
    v["ids"].as_array().expect("ids").iter().filter_map(Value::as_i64).collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("GRIDMAP_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("soak.db").display());
    let cache_mb = std::env::var("GRIDMAP_SOAK_TILE_CACHE_MB").unwrap_or_else(|_| "256".into());
    let (server, base) = start_server_with(&db, true, &["--tile-cache-mb", &cache_mb]);
    let area = Arc::new(Area::sample());
    let pid = server.0.id();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let tally = Arc::new(Tally::default());
    // (seconds, RSS KiB, tile cache KiB)
    let rss: Arc<Mutex<Vec<(u64, u64, u64)>>> = Arc::default();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let ids = Arc::new(seed_responders(&client, &base, &area).await);
        println!("{} responders loaded; soaking for {secs} s", ids.len());
        let start = Instant::now();
        let end = start + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        // Lookups and tiles: two closed loops each.
        for c in 0..4u64 {
            let (base, tally, client, area) = (base.clone(), tally.clone(), client.clone(), area.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64(100 + c);
                while Instant::now() < end {
                    let p = area.point(&mut rng);
                    let t = Instant::now();
                    let (kind, url) = if c < 2 {
                        ("lookup", format!("{base}/api/v1/locate?lon={}&lat={}", p[0], p[1]))
                    } else {
                        let z = rng.random_range(12..=16u8);
                        let (x, y) = tile_of(p[0], p[1], z);
                        let layer = ["streets", "communities", "grids", "incidents", "responders"][rng.random_range(0..5)];
                        ("tile", format!("{base}/tiles/{layer}/{z}/{x}/{y}.mvt"))
                    };
                    let outcome = match client.get(url).send().await {
                        // 204: an empty tile (nothing of the layer there), as tile servers answer it.
                        Ok(r) => match status(&r, |c| c == 200 || (kind == "tile" && c == 204)) {
                            Ok(()) => r.bytes().await.map(drop).map_err(|e| format!("body: {e}")),
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(format!("request: {e}")),
                    };
                    tally.record(kind, t, outcome);
                }
            }));
        }
        // Positions: 500 fixes every 100 ms = 5 000/s.
        {
            let (base, tally, client, ids, area) =
                (base.clone(), tally.clone(), client.clone(), ids.clone(), area.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64(7);
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                while Instant::now() < end {
                    tick.tick().await;
                    let batch: Vec<Value> = (0..500)
                        .map(|_| {
                            json!({"responder_id": ids[rng.random_range(0..ids.len())], "location": area.point(&mut rng)})
                        })
                        .collect();
                    let t = Instant::now();
                    let outcome = match client.post(format!("{base}/api/v1/positions")).json(&json!({"positions": batch})).send().await {
                        Ok(r) => status(&r, |c| (200..300).contains(&c)),
                        Err(e) => Err(format!("request: {e}")),
                    };
                    tally.record("positions_500", t, outcome);
                }
            }));
        }
        // Incidents: 5 per second.
        {
            let (base, tally, client, area) = (base.clone(), tally.clone(), client.clone(), area.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64(9);
                let mut tick = tokio::time::interval(Duration::from_millis(200));
                while Instant::now() < end {
                    tick.tick().await;
                    let t = Instant::now();
                    let body = json!({"location": area.point(&mut rng), "category": "fire"});
                    let outcome = match client.post(format!("{base}/api/v1/incidents")).json(&body).send().await {
                        Ok(r) => status(&r, |c| c == 201),
                        Err(e) => Err(format!("request: {e}")),
                    };
                    tally.record("incident", t, outcome);
                }
            }));
        }
        // Live clients: 20 WebSockets reading every event.
        let events = Arc::new(AtomicU64::new(0));
        for _ in 0..20 {
            let (ws_url, events, tally) = (base.replacen("http", "ws", 1) + "/api/v1/live", events.clone(), tally.clone());
            tasks.push(tokio::spawn(async move {
                let mut ws = match tokio_tungstenite::connect_async(ws_url).await {
                    Ok((ws, _)) => ws,
                    Err(e) => return tally.fail("live", format!("connect: {e}")),
                };
                while Instant::now() < end {
                    match tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
                        Ok(Some(Ok(_))) => {
                            events.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Some(Err(e))) => return tally.fail("live", format!("read: {e}")),
                        Ok(None) => return tally.fail("live", "closed by the server".into()),
                        Err(_) => {}
                    }
                }
            }));
        }
        // Memory every 10 s.
        {
            let (rss, client, base) = (rss.clone(), client.clone(), base.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let cache = tile_cache_kib(&client, &base).await;
                    rss.lock().expect("lock").push((start.elapsed().as_secs(), rss_kib(pid), cache));
                    if Instant::now() >= end {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(10).min(end.saturating_duration_since(Instant::now()))).await;
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        println!("live events received by 20 clients: {}", events.load(Ordering::Relaxed));
    });
    let mut out = serde_json::Map::new();
    for (kind, mut v) in std::mem::take(&mut *tally.latencies_ms.lock().expect("lock")) {
        v.sort_by(f64::total_cmp);
        let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{kind:<14} {:>9} requests  p50 {:>7.2} ms  p99 {:>7.2} ms  p99.9 {:>7.2} ms  max {:>8.2} ms",
            v.len(),
            p(0.5),
            p(0.99),
            p(0.999),
            v[v.len() - 1]
        );
        out.insert(
            kind.to_owned(),
            json!({"requests": v.len(), "p50_ms": p(0.5), "p99_ms": p(0.99), "p999_ms": p(0.999), "max_ms": v[v.len() - 1]}),
        );
    }
    let failures = std::mem::take(&mut *tally.failures.lock().expect("lock"));
    let errors: u64 = failures.values().sum();
    println!("errors: {errors}");
    for ((kind, why), n) in &failures {
        println!("  {kind:<14} {why}: {n}");
    }
    let samples = rss.lock().expect("lock").clone();
    let mib = |k: u64| (k as f64 / 1024.0 * 10.0).round() / 10.0;
    let rss_mib: Vec<f64> = samples.iter().map(|s| mib(s.1)).collect();
    let cache_mib: Vec<f64> = samples.iter().map(|s| mib(s.2)).collect();
    let rest_mib: Vec<f64> = samples.iter().map(|s| mib(s.1.saturating_sub(s.2))).collect();
    let whole = |v: &[f64]| v.iter().map(|m| m.round() as i64).collect::<Vec<_>>();
    println!("server RSS (MiB) every 10 s:        {:?}", whole(&rss_mib));
    println!("tile cache (MiB) at the same times: {:?}", whole(&cache_mib));
    println!("RSS less the tile cache (MiB):      {:?}", whole(&rest_mib));
    out.insert("errors".into(), json!(errors));
    out.insert(
        "failures".into(),
        json!(failures.iter().map(|((k, w), n)| json!({"kind": k, "why": w, "count": n})).collect::<Vec<_>>()),
    );
    out.insert("rss_mib".into(), json!(rss_mib));
    out.insert("tile_cache_mib".into(), json!(cache_mib));
    out.insert("rss_less_cache_mib".into(), json!(rest_mib));
    out.insert("tile_cache_mb".into(), json!(cache_mb));
    out.insert("seconds".into(), json!(secs));
    drop(server);
    support::write_results("bench-soak.json", &Value::Object(out));
}
