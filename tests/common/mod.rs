//! Test support: fresh SQLite files and fresh PostGIS databases, an in-process server on loopback, the CLI binary.

#![allow(dead_code, reason = "each test binary uses a different part of this module")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use gridmap::catalog::Catalog;
use gridmap::events::Events;
use gridmap::http::{HttpLimits, app};
use gridmap::locate::Locator;
use gridmap::store::{self, Store};

/// Server for PostGIS tests (`GRIDMAP_TEST_PG`, e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("GRIDMAP_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("GRIDMAP_REQUIRE_PG").is_err(),
                "GRIDMAP_REQUIRE_PG is set but GRIDMAP_TEST_PG is not: the PostGIS half of the suite cannot run"
            );
            eprintln!("GRIDMAP_TEST_PG is not set: skipping the PostGIS variant (scripts/test sets it)");
            None
        }
    }
}

/// A database for one test: an SQLite file in a temporary folder, or a fresh PostgreSQL database.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("gridmap.db").display());
        Self { url, _dir: Some(dir), pg: None }
    }

    /// `None` when PostGIS tests are not configured.
    pub async fn postgres() -> Option<Self> {
        let admin = pg_admin_url()?;
        let name = format!(
            "gridmap_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
        );
        let pool = sqlx::PgPool::connect(&admin).await.expect("connect to the PostGIS test server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .expect("create test database");
        pool.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(Self { url: format!("{base}/{name}"), _dir: None, pg: Some((admin.clone(), name)) })
    }

    /// Drops a PostgreSQL test database (SQLite files go with their folder).
    pub async fn cleanup(self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(pool) = sqlx::PgPool::connect(admin).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&pool)
                .await;
        }
    }
}

/// Generates a `sqlite` and a `postgres` variant of an async test taking the database URL.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite();
                    super::$name(&db.url).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::common::TestDb::postgres().await else { return };
                    super::$name(&db.url).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

/// A server running in this process on a loopback port.
pub struct TestServer {
    pub base: String,
    pub catalog: Arc<Catalog>,
    pub locator: Arc<Locator>,
    pub store: Arc<dyn Store>,
    pub events: Events,
    pub roads: Arc<gridmap::roads::RoadService>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Opens the store, loads the bundled sample when `sample`, indexes the active generation and serves.
    pub async fn start(url: &str, sample: bool) -> Self {
        Self::start_with(url, sample, |_| {}).await
    }

    /// [`TestServer::start`] with start-up options changed by `configure`.
    pub async fn start_with(url: &str, sample: bool, configure: impl FnOnce(&mut gridmap::service::Options)) -> Self {
        let store = store::open(url).await.expect("open store");
        let mut options =
            gridmap::service::Options { sample, tile_cache_bytes: 64 << 20, ..gridmap::service::Options::default() };
        configure(&mut options);
        let started = gridmap::service::start(store.clone(), options).await.expect("start services");
        let state = started.state;
        let (catalog, locator, events) = (state.catalog.clone(), state.locator.clone(), state.events.clone());
        let roads = state.roads.clone();
        let limits =
            HttpLimits { body_limit_bytes: 16 * 1024 * 1024, request_timeout: std::time::Duration::from_secs(120) };
        let router = app(state, limits);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        Self { base, catalog, locator, store, events, roads, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// What the server's reload poll does: loads the road network another process stored; true when it changed.
    pub async fn roads_reload(&self) -> bool {
        self.roads.reload_if_changed().await.expect("load the road network")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs the `gridmap` binary; returns (exit code, stdout, stderr).
pub fn gridmap(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args(args)
        .env_remove("GRIDMAP_DB")
        .env("NO_COLOR", "1")
        .output()
        .expect("run gridmap");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The repository's bundled sample folder.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("boundaries/qinhuai")
}

/// The shared data folder beside the repository, if present.
pub fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    assert!(
        p.is_dir() || std::env::var("GRIDMAP_REQUIRE_SHARED").is_err(),
        "GRIDMAP_REQUIRE_SHARED is set but ../shared/data is absent"
    );
    p.is_dir().then_some(p)
}

/// A sample layer as JSON, for tests that derive broken files from it.
pub fn sample_layer(layer: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(sample_dir().join(format!("{layer}.geojson"))).expect("read sample");
    serde_json::from_str(&text).expect("sample is JSON")
}

/// One HTTP request with an optional JSON body; returns the status and the JSON answer.
pub async fn call(method: reqwest::Method, url: String, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

/// `GET` a path of the test server; the status and the JSON answer.
pub async fn get(s: &TestServer, path: &str) -> (u16, serde_json::Value) {
    call(reqwest::Method::GET, s.url(path), None).await
}

/// `POST` JSON to a path of the test server; the status and the JSON answer.
pub async fn post(s: &TestServer, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    call(reqwest::Method::POST, s.url(path), Some(body)).await
}
