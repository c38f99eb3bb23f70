//! PostGIS goes away while gridmap serves, and comes back (PostGIS only: SQLite is a file in the process).
//!
//! The server reaches PostGIS through a TCP proxy in this test; cutting the proxy closes every connection and refuses
//! new ones, as a stopped or unreachable database server does. While it is cut: point lookups, boundary tiles and
//! nearest responders answer from memory; writes fail fast with 503 `store_unavailable` and store nothing; readiness
//! is false. Once it is back, readiness and writes recover without restarting gridmap.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestDb, TestServer, call};
use reqwest::Method;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP forwarder to PostgreSQL that can be cut (listener closed, connections dropped) and restored on the same port.
struct Proxy {
    addr: SocketAddr,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let proxy = Self { addr, target: target.to_owned(), tasks: Arc::default() };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target.clone(), self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().expect("lock").push(forward);
            }
        });
        self.tasks.lock().expect("lock").push(accept);
    }

    /// The database "stops": new connections are refused, open ones are closed.
    fn cut(&self) {
        for t in self.tasks.lock().expect("lock").drain(..) {
            t.abort();
        }
    }

    /// The database is back on the same address.
    async fn restore(&self) {
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.serve(listener);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_outage_reads_from_memory_writes_fail_fast_and_recover() {
    let Some(db) = TestDb::postgres().await else { return };
    let (scheme_host, name) = db.url.rsplit_once('/').expect("database name");
    let target = scheme_host.rsplit_once('@').map_or(scheme_host, |(_, h)| h).to_owned();
    let proxy = Proxy::start(&target).await;
    let url =
        format!("{}@{}/{name}", scheme_host.rsplit_once('@').map_or("postgres://postgres", |(u, _)| u), proxy.addr);
    let s = TestServer::start(&url, true).await;

    let point = [118.79, 32.02];
    let (st, responder) = call(
        Method::POST,
        s.url("/api/v1/responders"),
        Some(json!({"name": "值班员", "kind": "grid_worker", "skills": ["fire"], "status": "available", "location": point})),
    )
    .await;
    assert_eq!(st, 201, "{responder}");
    let (st, before) =
        call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": point, "category": "fire"}))).await;
    assert_eq!(st, 201, "{before}");
    let tile = "/tiles/grids/14/13598/6652.mvt";

    // The database goes away.
    proxy.cut();
    let cut = Instant::now();
    let (st, loc) = call(Method::GET, s.url("/api/v1/locate?lon=118.79&lat=32.02"), None).await;
    assert_eq!(st, 200, "lookups answer from memory: {loc}");
    assert!(loc["grid"]["code"].is_string());
    let resp = reqwest::get(s.url(tile)).await.expect("tile");
    assert_eq!(resp.status(), 200, "boundary tiles answer from memory");
    let (st, near) = call(Method::GET, s.url("/api/v1/dispatch/nearest?lon=118.79&lat=32.02&k=5"), None).await;
    assert_eq!(st, 200, "nearest answers from memory: {near}");
    assert!(near.to_string().contains(&responder["id"].to_string()), "{near}");
    let reads_ms = cut.elapsed().as_millis();

    let t = Instant::now();
    let (st, refused) =
        call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": point, "category": "fire"}))).await;
    let write_ms = t.elapsed().as_millis();
    assert_eq!((st, refused["error"]["code"].as_str()), (503, Some("store_unavailable")), "{refused}");
    assert!(write_ms < 10_000, "a write is refused fast, not after sqlx's 30 s default: {write_ms} ms");
    let id = responder["id"].as_i64().expect("id");
    let (st, moved) = call(
        Method::PUT,
        s.url(&format!("/api/v1/responders/{id}/position")),
        Some(json!({"location": [118.791, 32.021]})),
    )
    .await;
    assert_eq!((st, moved["error"]["code"].as_str()), (503, Some("store_unavailable")), "{moved}");
    let (st, ready) = call(Method::GET, s.url("/readyz"), None).await;
    assert_eq!((st, &ready["store"]["ok"]), (503, &json!(false)), "{ready}");
    let outage_ms = cut.elapsed().as_millis();

    // It comes back: readiness and writes recover without a restart.
    proxy.restore().await;
    let back = Instant::now();
    loop {
        let (st, _) = call(Method::GET, s.url("/readyz"), None).await;
        if st == 200 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(30), "not ready 30 s after the database returned");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready_ms = back.elapsed().as_millis();
    let (st, after) =
        call(Method::POST, s.url("/api/v1/incidents"), Some(json!({"location": point, "category": "fire"}))).await;
    assert_eq!(st, 201, "{after}");
    let (st, moved) = call(
        Method::PUT,
        s.url(&format!("/api/v1/responders/{id}/position")),
        Some(json!({"location": [118.791, 32.021]})),
    )
    .await;
    assert_eq!(st, 200, "{moved}");
    // Nothing of the refused write was stored: the two accepted incidents, not three.
    let (_, list) = call(Method::GET, s.url("/api/v1/incidents?limit=10"), None).await;
    let ids: Vec<i64> = list["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_i64()).collect();
    assert_eq!(ids.len(), 2, "{list}");
    println!(
        "outage timeline: reads from memory answered within {reads_ms} ms of the cut; a write was refused (503) after \
         {write_ms} ms; outage checks done at {outage_ms} ms; ready again {ready_ms} ms after the database returned"
    );
    drop(s);
    proxy.cut();
    db.cleanup().await;
}
