//! Operational write paths through the release binary over loopback: responders created/s one by one and as a
//! roster file, memory per 10 000 responders, position updates/s through `POST /positions` (batches) and
//! `PUT /responders/{id}/position`, incidents created/s and their size on disk. SQLite always; PostGIS too when
//! `GRIDMAP_BENCH_PG` is set.
//! Results are printed and written to `target/bench-operations.json`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

mod support;

use support::{rss_kib, start_server};

const RESPONDERS: usize = 10_000;
/// Of those, created one `POST /responders` at a time (the rate); the rest arrive as one roster file.
const ONE_BY_ONE: usize = 2_000;
const QINHUAI: ([f64; 2], [f64; 2]) = ([118.77, 31.99], [118.86, 32.04]);

fn random_point(rng: &mut ChaCha8Rng) -> [f64; 2] {
    [rng.random_range(QINHUAI.0[0]..QINHUAI.1[0]), rng.random_range(QINHUAI.0[1]..QINHUAI.1[1])]
}

/// Runs `clients` loops of `op` for `secs`; returns completed operations per second (each op reports its count).
async fn load<F, Fut>(clients: usize, secs: u64, op: F) -> f64
where
    F: Fn(reqwest::Client, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = u64> + Send,
{
    let op = Arc::new(op);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (op, done) = (op.clone(), done.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut i = c as u64 * 1_000_000;
                while Instant::now() < deadline {
                    done.fetch_add(op(client.clone(), i).await, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client task");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

async fn run(label: &str, db: &str, sqlite_file: Option<&std::path::Path>, out: &mut serde_json::Map<String, Value>) {
    let (server, base) = start_server(db, true);
    let pid = server.0.id();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss0 = rss_kib(pid);

    // Responders, 16 clients.
    let t = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let ids = Arc::new(std::sync::Mutex::new(Vec::with_capacity(RESPONDERS)));
    let tasks: Vec<_> = (0..16)
        .map(|c| {
            let (base, next, ids) = (base.clone(), next.clone(), ids.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut rng = ChaCha8Rng::seed_from_u64(c);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= ONE_BY_ONE {
                        break;
                    }
                    let body = json!({"name": format!("网格员{i}"), "kind": if i.is_multiple_of(10) { "vehicle" } else { "grid_worker" },
                                      "skills": ["patrol"], "location": random_point(&mut rng)});
                    let v: Value = client.post(format!("{base}/api/v1/responders")).json(&body).send().await.expect("POST").json().await.expect("JSON");
                    if let Some(id) = v["id"].as_i64() {
                        ids.lock().expect("ids").push(id);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let created_s = t.elapsed().as_secs_f64();
    let mut ids = std::mem::take(&mut *ids.lock().expect("ids"));
    assert_eq!(ids.len(), ONE_BY_ONE);
    // The rest of the 10 000 as one roster (POST /responders/load), so the memory figure is per 10 000.
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let features: Vec<Value> = (ONE_BY_ONE..RESPONDERS)
        .map(|i| {
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": random_point(&mut rng)},
                   "properties": {"name": format!("网格员{i}"), "kind": "grid_worker", "skills": ["patrol"]}})
        })
        .collect();
    let t = Instant::now();
    let roster = reqwest::Client::new()
        .post(format!("{base}/api/v1/responders/load?name=roster.geojson"))
        .body(json!({"type": "FeatureCollection", "features": features}).to_string())
        .send()
        .await
        .expect("POST roster");
    assert_eq!(roster.status(), 201, "roster load");
    let v: Value = roster.json().await.expect("JSON");
    let roster_s = t.elapsed().as_secs_f64();
    ids.extend(v["ids"].as_array().expect("ids").iter().filter_map(Value::as_i64));
    assert_eq!(ids.len(), RESPONDERS);
    let ids = Arc::new(ids);
    let rss1 = rss_kib(pid);
    let per_10k_mib = (rss1.saturating_sub(rss0)) as f64 / 1024.0;
    println!(
        "[{label}] {ONE_BY_ONE} responders created one by one in {created_s:.1} s ({:.0}/s), {} more as one roster in \
         {roster_s:.2} s; server RSS +{per_10k_mib:.1} MiB for {RESPONDERS}",
        ONE_BY_ONE as f64 / created_s,
        RESPONDERS - ONE_BY_ONE
    );

    // Positions in batches of 1 000 from 4 clients.
    let (b, ids2) = (base.clone(), ids.clone());
    let batch_rate = load(4, support::load_secs(8), move |client, i| {
        let (b, ids) = (b.clone(), ids2.clone());
        async move {
            let mut rng = ChaCha8Rng::seed_from_u64(i);
            let positions: Vec<Value> = (0..1000)
                .map(|_| json!({"responder_id": ids[rng.random_range(0..ids.len())], "location": random_point(&mut rng)}))
                .collect();
            let r = client.post(format!("{b}/api/v1/positions")).json(&json!({"positions": positions})).send().await.expect("POST");
            if r.status().is_success() { 1000 } else { 0 }
        }
    })
    .await;
    // Single updates from 32 clients.
    let (b, ids3) = (base.clone(), ids.clone());
    let single_rate = load(32, support::load_secs(5), move |client, i| {
        let (b, ids) = (b.clone(), ids3.clone());
        async move {
            let mut rng = ChaCha8Rng::seed_from_u64(i);
            let id = ids[rng.random_range(0..ids.len())];
            let r = client
                .put(format!("{b}/api/v1/responders/{id}/position"))
                .json(&json!({"location": random_point(&mut rng)}))
                .send()
                .await
                .expect("PUT");
            u64::from(r.status().is_success())
        }
    })
    .await;
    println!(
        "[{label}] positions: {batch_rate:.0}/s in batches of 1 000 (4 clients); {single_rate:.0}/s as single PUTs (32 clients)"
    );

    // Incidents from 16 clients.
    let size0 = sqlite_file.and_then(dir_size);
    let b = base.clone();
    let created = Arc::new(AtomicU64::new(0));
    let c2 = created.clone();
    let incident_rate = load(16, support::load_secs(8), move |client, i| {
        let (b, c2) = (b.clone(), c2.clone());
        async move {
            let mut rng = ChaCha8Rng::seed_from_u64(i);
            let body = json!({"location": random_point(&mut rng), "category": "sanitation", "description": "占道经营，影响通行"});
            let r = client.post(format!("{b}/api/v1/incidents")).json(&body).send().await.expect("POST");
            // Points in the Qinhuai bbox but outside its streets are refused (422): count only stored ones.
            let ok = u64::from(r.status() == reqwest::StatusCode::CREATED);
            c2.fetch_add(ok, Ordering::Relaxed);
            ok
        }
    })
    .await;
    let bytes_per_incident = match (size0, sqlite_file.and_then(dir_size)) {
        (Some(a), Some(b)) => Some((b.saturating_sub(a)) as f64 / created.load(Ordering::Relaxed).max(1) as f64),
        _ => None,
    };
    println!(
        "[{label}] incidents: {incident_rate:.0} created/s (16 clients){}",
        bytes_per_incident
            .map_or(String::new(), |b| format!("; ~{b:.0} bytes each on disk (SQLite, incl. history and indexes)"))
    );
    let rss2 = rss_kib(pid);
    println!(
        "[{label}] server RSS after {} incidents: {:.0} MiB (the in-memory ledger keeps a {}-byte row per incident; \
         the rest stays in the store)",
        created.load(Ordering::Relaxed),
        rss2 as f64 / 1024.0,
        std::mem::size_of::<gridmap::incidents::LedgerRow>()
    );

    out.insert(format!("{label}_responders_created_per_s"), json!((ONE_BY_ONE as f64 / created_s).round()));
    out.insert(
        format!("{label}_roster_responders_loaded_per_s"),
        json!(((RESPONDERS - ONE_BY_ONE) as f64 / roster_s).round()),
    );
    out.insert(format!("{label}_rss_mib_per_10k_responders"), json!(per_10k_mib));
    out.insert(format!("{label}_positions_batched_per_s"), json!(batch_rate.round()));
    out.insert(format!("{label}_positions_single_put_per_s"), json!(single_rate.round()));
    out.insert(format!("{label}_incidents_created_per_s"), json!(incident_rate.round()));
    if let Some(b) = bytes_per_incident {
        out.insert(format!("{label}_bytes_per_incident_on_disk"), json!(b.round()));
    }
}

/// Size of an SQLite database with its WAL.
fn dir_size(db: &std::path::Path) -> Option<u64> {
    let main = std::fs::metadata(db).ok()?.len();
    let wal = std::fs::metadata(db.with_extension("db-wal")).map_or(0, |m| m.len());
    Some(main + wal)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ops.db");
    let mut out = serde_json::Map::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        run("sqlite", &format!("sqlite://{}", file.display()), Some(&file), &mut out).await;
        if let Some(pg) = std::env::var("GRIDMAP_BENCH_PG").ok().filter(|s| !s.is_empty()) {
            run("postgis", &pg, None, &mut out).await;
        }
    });
    support::write_results("bench-operations.json", &Value::Object(out));
}
