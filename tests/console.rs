//! The dispatch console end to end in a real browser (Debian chromium driven by playwright-core, see
//! tests/browser/console.mjs), against a real server on loopback, on both stores: the map renders gridmap's tiles
//! within 2 s, a click shows the right grid, a new incident reaches the queue and the map, recommend + assign turns
//! the responder busy in a second console through the live feed and "释放" frees it again, an upload with an
//! overlap shows the problem (listed and marked on the map), and an activated import redraws the map. Screenshots of each step go to target/console-screenshots/{sqlite,postgres}/.
//!
//! Needs `node`, `tests/browser/node_modules` (`npm ci` there) and chromium; without them the test is skipped,
//! unless GRIDMAP_REQUIRE_BROWSER is set (`.ci/run` sets it), in which case it fails.

mod common;

use std::path::{Path, PathBuf};

use common::{TestServer, call, sample_layer};
use serde_json::json;

both_stores!(
    console_end_to_end,
    console_units_live,
    console_incident_card,
    console_fixes,
    console_unit_board,
    console_alerts_queue,
    console_map_select,
    console_create_search,
    console_keyboard_layout,
    console_gis_diff,
    console_roads,
    console_assessment,
);

const POINT: [f64; 2] = [118.79, 32.02];
/// Where the test clicks after activating (no incident marker there).
const POINT2: [f64; 2] = [118.80, 32.03];

/// One browser at a time: the two store variants would otherwise share two cores between two chromiums.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `tests/browser`, when chromium and its node_modules are there; `None` (the test skips) otherwise, unless
/// GRIDMAP_REQUIRE_BROWSER is set (`.ci/run` sets it), in which case the test fails.
fn browser_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let why = if !Path::new(&chromium).exists() {
        format!("{chromium} is missing (apt-get install chromium)")
    } else if !dir.join("node_modules/playwright-core").is_dir() {
        format!("{} has no node_modules (run npm ci there)", dir.display())
    } else {
        return Some(dir);
    };
    assert!(std::env::var("GRIDMAP_REQUIRE_BROWSER").is_err(), "GRIDMAP_REQUIRE_BROWSER is set but {why}");
    eprintln!("skipping the browser test: {why}");
    None
}

async fn console_end_to_end(url: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(browser_dir) = browser_dir() else { return };
    let _one_browser = BROWSER.lock().await;
    let s = TestServer::start(url, true).await;
    // Measure the console against a settled server: tile shapes prepared, as after any start or activation.
    for _ in 0..600 {
        let (_, ready) = call(reqwest::Method::GET, s.url("/readyz"), None).await;
        if ready["tiles_prepared"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, here) =
        call(reqwest::Method::GET, s.url(&format!("/api/v1/locate?lon={}&lat={}", POINT[0], POINT[1])), None).await;
    let grid = here["grid"]["code"].as_str().expect("the point is in a grid").to_owned();
    let (_, there) =
        call(reqwest::Method::GET, s.url(&format!("/api/v1/locate?lon={}&lat={}", POINT2[0], POINT2[1])), None).await;
    let grid2 = there["grid"]["code"].as_str().expect("the second point is in a grid").to_owned();

    let dir = tempfile::tempdir().expect("dir");
    // A grids file whose second feature is drawn over the first one: rejected, naming the overlapping features.
    let mut bad = sample_layer("grids");
    bad["features"][1]["geometry"] = bad["features"][0]["geometry"].clone();
    let dup = bad["features"][1]["properties"]["code"].clone();
    let bad_file = dir.path().join("grids-duplicate-code.geojson");
    std::fs::write(&bad_file, bad.to_string()).expect("write");
    // A valid replacement: every grid code with a suffix, in the field names of a Chinese survey file (网格编码,
    // 网格名称, 社区编码 as WGBM/WGMC/SQBM) that the console must recognise.
    let mut good = sample_layer("grids");
    for f in good["features"].as_array_mut().expect("features") {
        let p = &f["properties"];
        let code = p["code"].as_str().expect("code").to_owned();
        f["properties"] = json!({"WGBM": format!("{code}N"), "WGMC": p["name"], "SQBM": p["parent_code"], "BZ": ""});
    }
    let good_file = dir.path().join("grids-renamed.geojson");
    std::fs::write(&good_file, good.to_string()).expect("write");

    let backend = if url.starts_with("sqlite") { "sqlite" } else { "postgres" };
    let shots = root.join("target/console-screenshots").join(backend);
    let _ = std::fs::remove_dir_all(&shots);
    let fixtures = json!({
        "point": POINT, "grid": grid, "point2": POINT2, "new_grid2": format!("{grid2}N"),
        "bad_file": bad_file, "bad_code": dup, "good_file": good_file,
    });
    let out = tokio::process::Command::new("node")
        .arg(browser_dir.join("console.mjs"))
        .arg(&s.base)
        .arg(&shots)
        .arg(fixtures.to_string())
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(out.status.success(), "browser test failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("first_render_ms"), "{stdout}");
}

/// The console against a server with access control on (SQLite; the store does not matter here): it asks for a
/// key once, then loads the queue, item tiles and the live feed with it (tests/browser/keys.mjs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_with_access_control() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(browser_dir) = browser_dir() else { return };
    let _one_browser = BROWSER.lock().await;
    let db = common::TestDb::sqlite();
    let s = TestServer::start_with(&db.url, true, |o| o.auth = true).await;
    let (secret, key) = gridmap::auth::keys::generate("console", gridmap::auth::Role::Dispatcher, None);
    s.store.create_key(&key).await.expect("key");
    let incident = reqwest::Client::new()
        .post(s.url("/api/v1/incidents"))
        .bearer_auth(&secret)
        .json(&json!({"location": POINT, "category": "fire"}))
        .send()
        .await
        .expect("incident");
    let incident: serde_json::Value = incident.json().await.expect("json");
    let shots = root.join("target/console-screenshots/keys");
    let out = tokio::process::Command::new("node")
        .arg(browser_dir.join("keys.mjs"))
        .arg(&s.base)
        .arg(&shots)
        .arg(&secret)
        .arg(incident["id"].to_string())
        .output()
        .await
        .expect("run node");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{stdout}{stderr}");
    assert!(out.status.success(), "keyed console failed:\n{stdout}\n{stderr}");
}

/// A GCJ-02 base map (`--basemap-crs gcj02`): a fake vendor tile service (answered inside the browser by
/// playwright's router; nothing leaves the machine) paints a red square where a GCJ-02 vendor draws `POINT`
/// (computed here by gridmap's Rust transform). The console must show the square on `POINT` itself, and not where
/// the vendor's coordinates would fall if read as WGS84 (tests/browser/basemap.mjs). SQLite; the store does not
/// matter here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_gcj02_basemap() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(browser_dir) = browser_dir() else { return };
    let _one_browser = BROWSER.lock().await;
    let db = common::TestDb::sqlite();
    let vendor = "http://vendor.invalid";
    let basemap = gridmap::tiles::Basemap::new(
        &format!("{vendor}/{{z}}/{{x}}/{{y}}.png"),
        gridmap::tiles::BasemapCrs::Gcj02,
        Some("test vendor".into()),
    )
    .expect("basemap");
    // An offline base map beside it: the sample's own tiles exported by `gridmap export-tiles` to a PMTiles archive
    // (a real vector archive), served back with --basemap-pmtiles.
    let sample = TestServer::start(&db.url, true).await;
    let dir = tempfile::tempdir().expect("tmp");
    let archive = dir.path().join("offline.pmtiles");
    let export = std::process::Command::new(env!("CARGO_BIN_EXE_gridmap"))
        .args([
            "export-tiles",
            "--db",
            &db.url,
            "--layers",
            "streets,communities",
            "--minzoom",
            "10",
            "--maxzoom",
            "15",
        ])
        .arg("--out")
        .arg(&archive)
        .output()
        .expect("run export-tiles");
    assert!(export.status.success(), "export-tiles: {}", String::from_utf8_lossy(&export.stderr));
    drop(sample);
    let archives =
        std::sync::Arc::new(gridmap::tiles::Archives::open(std::slice::from_ref(&archive)).await.expect("archive"));
    let s = TestServer::start_with(&db.url, true, |o| {
        o.basemap = Some(basemap);
        o.archives = archives;
    })
    .await;
    let (x, y) = gridmap::crs::wgs84_to_gcj02(POINT[0], POINT[1]);
    let fixtures = json!({"point": POINT, "mark_gcj02": [x, y], "vendor": vendor, "archive": "offline"});
    let out = tokio::process::Command::new("node")
        .arg(browser_dir.join("basemap.mjs"))
        .arg(&s.base)
        .arg(root.join("target/console-screenshots/basemap"))
        .arg(fixtures.to_string())
        .output()
        .await
        .expect("run node");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{stdout}{stderr}");
    assert!(out.status.success(), "GCJ-02 base map:\n{stdout}\n{stderr}");
}

/// One of the console's browser suites (`tests/browser/SUITE.mjs BASE SHOTS FIXTURES`, each describing its checks at
/// its top) against a fresh server with the bundled sample and access control off.
async fn suite(url: &str, name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(browser_dir) = browser_dir() else { return };
    let _one_browser = BROWSER.lock().await;
    let s = TestServer::start(url, true).await;
    for _ in 0..600 {
        let (_, ready) = call(reqwest::Method::GET, s.url("/readyz"), None).await;
        if ready["tiles_prepared"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let backend = if url.starts_with("sqlite") { "sqlite" } else { "postgres" };
    let shots = root.join("target/console-screenshots").join(name).join(backend);
    let _ = std::fs::remove_dir_all(&shots);
    let fixtures = json!({"point": POINT, "point2": POINT2});
    let out = tokio::process::Command::new("node")
        .arg(browser_dir.join(format!("{name}.mjs")))
        .arg(&s.base)
        .arg(&shots)
        .arg(fixtures.to_string())
        .output()
        .await
        .expect("run node");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{stdout}{stderr}");
    assert!(out.status.success(), "{name} failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains(&format!("[{name}] all checks passed")), "{name}: {stdout}");
}

/// One test function per browser suite (the suite file says what it checks).
macro_rules! suites {
    ($($(#[doc = $doc:literal])* $name:ident => $file:literal),* $(,)?) => {$(
        $(#[doc = $doc])*
        async fn $name(url: &str) {
            suite(url, $file).await;
        }
    )*};
}

suites! {
    /// Units move from the live feed without re-downloading responder tiles (issue 34: 400 fixes made 816 tile
    /// requests); a reconnect reloads the roster.
    console_units_live => "units-live",
    /// The incident card is rendered once per change: a refused status change's error stays, one recommendation
    /// request per click, the dropdown offers only the lifecycle's moves; departments route, accept, return (with a
    /// reason) and transfer from the card.
    console_incident_card => "incident-card",
    /// The 考核 page: period, level, sortable table equal to the API, CSV/XLSX links, the choropleth of a column.
    console_assessment => "assessment",
    /// The choropleth legend, problem pins, the key button with access control off, and English labels.
    console_fixes => "fixes",
    /// The unit board: kinds, status, current incident, position age, grid; filter, sort, fly to.
    console_unit_board => "unit-board",
    /// Alerts for urgent incidents and a queue that scales (total, pages, sort, names, filters that filter the map).
    console_alerts_queue => "alerts-queue",
    /// Selection on the map: highlighted grid and incident, pointer, legend, clusters.
    console_map_select => "map-select",
    /// The new-incident form (address, caller, grid before saving, Esc) and search by code, name and coordinates.
    console_create_search => "create-search",
    /// Dispatch on roads: "by road" on the candidates, the first one's route drawn, the coverage layer in minutes.
    console_roads => "roads",
    /// Keyboard shortcuts and layouts from 1024×700 to wide screens.
    console_keyboard_layout => "keyboard-layout",
    /// The GIS officer's import page: the diff code by code, the file previewed on the map, messages in the page's
    /// language.
    console_gis_diff => "gis-diff",
}
