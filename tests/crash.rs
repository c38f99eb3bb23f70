//! Crash safety, on both stores: `kill -9` of the real binary
//! - during a stream of incident and position writes: after a restart, every write that was acknowledged (201/200)
//!   is there (SQLite in WAL with `synchronous=FULL`, PostGIS transactions; positions are acknowledged only after
//!   their group commit); the same under SIGTERM, which must also end the process with status 0 (connections spread
//!   over the HTTP worker threads, the position writer drained after the last request);
//! - during `gridmap import --activate` of the 9 504 city grids, at several moments (reading, validating, writing,
//!   activating): afterwards the active generation is the old one or the new one, whole (its grid count is one of the
//!   two), and a server starts on it. SQLite's `PRAGMA integrity_check` stays `ok`.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{call, gridmap, shared_data};
use reqwest::Method;
use serde_json::{Value, json};

both_stores!(
    acknowledged_writes_survive_kill_9,
    acknowledged_writes_survive_sigterm,
    import_killed_midway_leaves_a_whole_generation
);

/// `gridmap serve` on a free loopback port; returns the child and its base URL once it listens.
fn serve(db: &str, sample: bool) -> (Child, String) {
    let mut args = vec!["--log-format", "json", "serve", "--listen", "127.0.0.1:0", "--db", db, "--auth", "off"];
    if !sample {
        args.push("--no-sample");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines.next().expect("the server exited before listening").expect("log line");
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["fields"]["message"] == "listening" {
            break v["fields"]["addr"].as_str().expect("addr").to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://{addr}"))
}

fn kill_9(child: &mut Child) {
    // Child::kill sends SIGKILL on Unix: no shutdown path runs.
    child.kill().expect("kill -9");
    child.wait().expect("reap");
}

/// SIGTERM, then the process must end by itself, with status 0, within 10 s: the last requests finish and the queued
/// positions are written, nothing waits for a timeout (stopping once took 30 s, the position writer's drain limit,
/// because background tasks kept it alive).
fn terminate(child: &mut Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill -TERM");
    assert!(status.success(), "kill -TERM failed");
    let until = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(Instant::now() < until, "the server did not stop within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "the server stopped with {exit} after SIGTERM");
}

async fn acknowledged_writes_survive_kill_9(url: &str) {
    acknowledged_writes_survive(url, "kill -9", kill_9).await;
}

async fn acknowledged_writes_survive_sigterm(url: &str) {
    acknowledged_writes_survive(url, "SIGTERM", terminate).await;
}

/// Four clients write incidents and positions for 1.5 s, then `stop` ends the server; a new server on the same
/// store must have every write that was acknowledged.
async fn acknowledged_writes_survive(url: &str, how: &str, stop_server: fn(&mut Child)) {
    let (mut server, base) = serve(url, true);
    let (st, r) = call(
        Method::POST,
        format!("{base}/api/v1/responders"),
        Some(json!({"name": "巡查员", "kind": "grid_worker", "status": "available", "location": [118.79, 32.02]})),
    )
    .await;
    assert_eq!(st, 201, "{r}");
    let responder = r["id"].as_i64().expect("id");
    let incidents: Arc<Mutex<Vec<i64>>> = Arc::default();
    let fixes: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Instant::now() + Duration::from_millis(1500);
    let mut writers = Vec::new();
    for w in 0..4u32 {
        let (base, incidents, fixes) = (base.clone(), incidents.clone(), fixes.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0u32;
            loop {
                i += 1;
                let lon = 118.78 + f64::from((w * 1000 + i) % 300) * 0.0001;
                let sent = if w % 2 == 0 {
                    client
                        .post(format!("{base}/api/v1/incidents"))
                        .json(&json!({"location": [lon, 32.02], "category": "fire"}))
                        .send()
                        .await
                } else {
                    let at =
                        format!("2026-11-28T{:02}:{:02}:{:02}.{:03}Z", w, (i / 60000) % 60, (i / 1000) % 60, i % 1000);
                    client
                        .put(format!("{base}/api/v1/responders/{responder}/position"))
                        .json(&json!({"location": [lon, 32.02], "at": at}))
                        .send()
                        .await
                        .inspect(|r| {
                            if r.status().is_success() {
                                fixes.lock().expect("lock").push(at.clone());
                            }
                        })
                };
                let Ok(resp) = sent else { break };
                if w % 2 == 0
                    && resp.status().as_u16() == 201
                    && let Ok(v) = resp.json::<Value>().await
                {
                    incidents.lock().expect("lock").push(v["id"].as_i64().expect("id"));
                }
                if Instant::now() > stop + Duration::from_secs(5) {
                    break;
                }
            }
        }));
    }
    tokio::time::sleep_until(stop.into()).await;
    stop_server(&mut server);
    for w in writers {
        let _ = w.await;
    }
    let acked_incidents = incidents.lock().expect("lock").clone();
    let acked_fixes = fixes.lock().expect("lock").clone();
    assert!(
        acked_incidents.len() > 10 && acked_fixes.len() > 10,
        "{} incidents, {} fixes",
        acked_incidents.len(),
        acked_fixes.len()
    );

    let (mut server, base) = serve(url, true);
    let mut stored = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(c) => format!("{base}/api/v1/incidents?limit=1000&cursor={c}"),
            None => format!("{base}/api/v1/incidents?limit=1000"),
        };
        let (_, v) = call(Method::GET, page, None).await;
        stored.extend(v["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_i64()));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let lost: Vec<&i64> = acked_incidents.iter().filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged incidents lost after {how}: {lost:?}");
    let (_, history) = call(
        Method::GET,
        format!("{base}/api/v1/responders/{responder}/positions?from=2026-11-27T00:00:00Z&to=2026-11-29T00:00:00Z"),
        None,
    )
    .await;
    let times: std::collections::HashSet<String> = history
        .as_array()
        .or_else(|| history["items"].as_array())
        .or_else(|| history["positions"].as_array())
        .expect("positions")
        .iter()
        .filter_map(|p| p["at"].as_str().map(normalise))
        .collect();
    let lost: Vec<&String> = acked_fixes.iter().filter(|at| !times.contains(&normalise(at))).collect();
    assert!(lost.is_empty(), "acknowledged positions lost after {how}: {lost:?}");
    println!(
        "{how} under writes: {} acknowledged incidents and {} acknowledged positions, 0 lost ({} incidents stored)",
        acked_incidents.len(),
        acked_fixes.len(),
        stored.len()
    );
    kill_9(&mut server);
}

/// An RFC 3339 time as comparable text (UTC, milliseconds).
fn normalise(at: &str) -> String {
    let t = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).expect("time");
    format!("{}", t.unix_timestamp_nanos() / 1_000_000)
}

fn active_grids(url: &str) -> i64 {
    let (code, out, err) = gridmap(&["generations", "--json", "--db", url]);
    assert_eq!(code, 0, "{err}");
    let list: Vec<Value> = serde_json::from_str(&out).expect("json");
    let active: Vec<&Value> = list.iter().filter(|g| g["status"] == "active").collect();
    assert_eq!(active.len(), 1, "exactly one active generation: {out}");
    // No grids layer yet (only streets and communities imported) counts as 0.
    active[0]["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .find(|l| l["layer"] == "grids")
        .map_or(0, |l| l["features"].as_i64().expect("count"))
}

async fn import_killed_midway_leaves_a_whole_generation(url: &str) {
    let Some(data) = shared_data() else {
        eprintln!("../shared/data is absent: skipping the import kill test");
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let mut files = Vec::new();
    for layer in ["streets", "communities", "grids"] {
        let mut text = Vec::new();
        let gz = std::fs::File::open(data.join(format!("synthetic/nanjing/{layer}.geojson.gz"))).expect("open");
        flate2::read::GzDecoder::new(gz).read_to_end(&mut text).expect("gunzip");
        let p = dir.path().join(format!("{layer}.geojson"));
        std::fs::write(&p, text).expect("write");
        files.push(p.display().to_string());
    }
    for f in &files[..2] {
        let layer = if f.ends_with("streets.geojson") { "streets" } else { "communities" };
        let (code, out, err) = gridmap(&["import", "--layer", layer, f, "--activate", "--db", url]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let old = active_grids(url);
    // How long a whole import takes here, then kills spread over it.
    let t = Instant::now();
    let mut probe = Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args(["import", "--layer", "grids", &files[2], "--dry-run", "--db", url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    probe.wait().expect("wait");
    let whole = t.elapsed();
    let mut outcomes = Vec::new();
    for fraction in [0.15, 0.5, 0.85, 1.3] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gridmap"))
            .args(["import", "--layer", "grids", &files[2], "--activate", "--db", url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn import");
        tokio::time::sleep(whole.mul_f64(fraction)).await;
        let finished = child.try_wait().expect("try_wait").is_some();
        if !finished {
            kill_9(&mut child);
        }
        let now = active_grids(url);
        assert!(now == old || now == 9504, "after kill -9 at {fraction}× the import time: {now} grids active");
        outcomes.push(format!(
            "{fraction}×: {}",
            if finished {
                "finished"
            } else if now == 9504 {
                "killed after commit"
            } else {
                "killed, old kept"
            }
        ));
    }
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("open");
        let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.expect("check");
        assert_eq!(check, "ok");
        pool.close().await;
    }
    // A server starts on whatever is active and answers from it.
    let (mut server, base) = serve(url, false);
    let (st, layers) = call(Method::GET, format!("{base}/api/v1/layers"), None).await;
    assert_eq!(st, 200, "{layers}");
    kill_9(&mut server);
    println!("import kill -9 trials (whole import {} ms): {}", whole.as_millis(), outcomes.join(", "));
}
