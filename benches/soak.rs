//! Soak test (not in CI): the release binary on SQLite with the bundled Qinhuai sample and 10 000 responders, under
//! mixed loopback traffic for `GRIDMAP_SOAK_SECS` (default 600): point lookups, vector tiles z12–16, 5 000 position
//! fixes per second (batches of 500 every 100 ms), incident writes (5/s) and 20 live WebSocket clients. Reports latency
//! percentiles per kind, the error count (must be 0) and the server's RSS every 10 s (memory must stay flat).
//! `scripts/bench-soak` runs it; results go to `target/bench-soak.json`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

mod support;

use support::{rss_kib, start_server};

const QINHUAI: ([f64; 2], [f64; 2]) = ([118.77, 31.99], [118.86, 32.04]);
const RESPONDERS: usize = 10_000;

#[derive(Default)]
struct Tally {
    latencies_ms: Mutex<BTreeMap<&'static str, Vec<f64>>>,
    errors: AtomicU64,
}

impl Tally {
    fn record(&self, kind: &'static str, t: Instant, ok: bool) {
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        self.latencies_ms.lock().expect("lock").entry(kind).or_default().push(ms);
    }
}

fn point(rng: &mut ChaCha8Rng) -> [f64; 2] {
    [rng.random_range(QINHUAI.0[0]..QINHUAI.1[0]), rng.random_range(QINHUAI.0[1]..QINHUAI.1[1])]
}

fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let lat = lat.to_radians();
    (
        ((lon + 180.0) / 360.0 * n) as u32,
        ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32,
    )
}

async fn seed_responders(client: &reqwest::Client, base: &str) -> Vec<i64> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut csv = String::from("name,kind,skills,team,home_grid,status,lon,lat,at\n");
    for i in 0..RESPONDERS {
        let p = point(&mut rng);
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
    let (server, base) = start_server(&db, true);
    let pid = server.0.id();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let tally = Arc::new(Tally::default());
    let rss: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let ids = Arc::new(seed_responders(&client, &base).await);
        println!("{} responders loaded; soaking for {secs} s", ids.len());
        let start = Instant::now();
        let end = start + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        // Lookups and tiles: two closed loops each.
        for c in 0..4u64 {
            let (base, tally, client) = (base.clone(), tally.clone(), client.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64(100 + c);
                while Instant::now() < end {
                    let p = point(&mut rng);
                    let t = Instant::now();
                    let (kind, url) = if c < 2 {
                        ("lookup", format!("{base}/api/v1/locate?lon={}&lat={}", p[0], p[1]))
                    } else {
                        let z = rng.random_range(12..=16u8);
                        let (x, y) = tile_of(p[0], p[1], z);
                        let layer = ["streets", "communities", "grids", "incidents", "resources"][rng.random_range(0..5)];
                        ("tile", format!("{base}/tiles/{layer}/{z}/{x}/{y}.mvt"))
                    };
                    let ok = match client.get(url).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    tally.record(kind, t, ok);
                }
            }));
        }
        // Positions: 500 fixes every 100 ms = 5 000/s.
        {
            let (base, tally, client, ids) = (base.clone(), tally.clone(), client.clone(), ids.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64(7);
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                while Instant::now() < end {
                    tick.tick().await;
                    let batch: Vec<Value> = (0..500)
                        .map(|_| json!({"responder_id": ids[rng.random_range(0..ids.len())], "location": point(&mut rng)}))
                        .collect();
                    let t = Instant::now();
                    let ok = client
                        .post(format!("{base}/api/v1/positions"))
                        .json(&json!({"positions": batch}))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    tally.record("positions_500", t, ok);
                }
            }));
        }
        // Incidents: 5 per second.
        {
            let (base, tally, client) = (base.clone(), tally.clone(), client.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = ChaCha8Rng::seed_from_u64(9);
                let mut tick = tokio::time::interval(Duration::from_millis(200));
                while Instant::now() < end {
                    tick.tick().await;
                    let t = Instant::now();
                    let ok = client
                        .post(format!("{base}/api/v1/incidents"))
                        .json(&json!({"location": point(&mut rng), "category": "fire"}))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().as_u16() == 201);
                    tally.record("incident", t, ok);
                }
            }));
        }
        // Live clients: 20 WebSockets reading every event.
        let events = Arc::new(AtomicU64::new(0));
        for _ in 0..20 {
            let (ws_url, events, tally) = (base.replacen("http", "ws", 1) + "/api/v1/live", events.clone(), tally.clone());
            tasks.push(tokio::spawn(async move {
                let Ok((mut ws, _)) = tokio_tungstenite::connect_async(ws_url).await else {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                while Instant::now() < end {
                    match tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
                        Ok(Some(Ok(_))) => {
                            events.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        Err(_) => {}
                    }
                }
            }));
        }
        // Memory every 10 s.
        {
            let rss = rss.clone();
            tasks.push(tokio::spawn(async move {
                while Instant::now() < end {
                    rss.lock().expect("lock").push((start.elapsed().as_secs(), rss_kib(pid)));
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
                rss.lock().expect("lock").push((start.elapsed().as_secs(), rss_kib(pid)));
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
    let errors = tally.errors.load(Ordering::Relaxed);
    let samples = rss.lock().expect("lock").clone();
    let mib: Vec<f64> = samples.iter().map(|(_, k)| *k as f64 / 1024.0).collect();
    println!("errors: {errors}");
    println!("server RSS (MiB) every 10 s: {:?}", mib.iter().map(|m| m.round() as i64).collect::<Vec<_>>());
    out.insert("errors".into(), json!(errors));
    out.insert("rss_mib".into(), json!(mib));
    out.insert("seconds".into(), json!(secs));
    drop(server);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-soak.json");
    let _ = std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default());
    println!("results written to {}", path.display());
}
