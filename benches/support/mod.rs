//! Shared by the benchmarks: the release binary as a server on loopback, RSS readings.

#![allow(dead_code, reason = "each benchmark uses a different part")]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The allocator the `gridmap` binary runs on (src/main.rs), so in-process figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seconds of each load phase: `GRIDMAP_BENCH_SECS` (scripts/bench sets 2: its outer runs repeat every phase),
/// else the benchmark's own default.
pub fn load_secs(default: u64) -> u64 {
    std::env::var("GRIDMAP_BENCH_SECS").ok().and_then(|s| s.parse().ok()).filter(|&s| s > 0).unwrap_or(default)
}

/// Writes a benchmark's figures to `target/NAME` in the repository (where `scripts/bench-report.py` reads them),
/// whatever `CARGO_TARGET_DIR` says; the directory is created when missing.
pub fn write_results(name: &str, figures: &Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let path = dir.join(name);
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, serde_json::to_string_pretty(figures).unwrap_or_default()));
    match written {
        Ok(()) => println!("results written to {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}

/// Resident set size of a process, KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

/// A running server, killed on drop.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the `gridmap` binary to completion; panics when it fails.
pub fn gridmap(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_gridmap")).args(args).output().expect("run gridmap");
    assert!(out.status.success(), "gridmap {args:?}: {}", String::from_utf8_lossy(&out.stdout));
}

/// Imports the city layers (`city_files`: streets, communities, grids) into `db`, each activated.
pub fn import_city(db: &str, files: &[PathBuf]) {
    for (layer, f) in ["streets", "communities", "grids"].iter().zip(files) {
        gridmap(&["import", "--layer", layer, &f.display().to_string(), "--activate", "--db", db]);
    }
}

/// The SQLite store `target/bench-data/NAME.db` (its URL is returned) and, when given, the PostGIS database `pg`, both
/// holding the city layers. With `GRIDMAP_BENCH_KEEP` set (scripts/bench, between the runs of one invocation) both
/// are reused when an earlier run imported them and wrote `NAME.ready`; otherwise the SQLite file is replaced and both
/// are imported afresh (`pg` must then be a new database: the benchmark's script drops and creates it unless it
/// finds the same marker).
pub fn city_stores(name: &str, files: &[PathBuf], pg: Option<&str>) -> String {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&data).expect("target/bench-data");
    let ready = data.join(format!("{name}.ready"));
    let sqlite = format!("sqlite://{}", data.join(format!("{name}.db")).display());
    if std::env::var_os("GRIDMAP_BENCH_KEEP").is_some() && ready.exists() {
        println!("city layers imported by an earlier run of this invocation: reused");
        return sqlite;
    }
    let _ = std::fs::remove_file(&ready);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("{name}.db{suffix}")));
    }
    for db in std::iter::once(sqlite.as_str()).chain(pg) {
        import_city(db, files);
    }
    std::fs::write(&ready, "").expect("write the marker");
    sqlite
}

/// Decompresses the Nanjing city layers (streets, communities, grids) into `out`; `None` without ../shared/data.
pub fn city_files(out: &Path) -> Option<Vec<PathBuf>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/synthetic/nanjing");
    if !data.is_dir() {
        return None;
    }
    Some(
        ["streets", "communities", "grids"]
            .iter()
            .map(|l| {
                let mut text = Vec::new();
                let gz = std::fs::File::open(data.join(format!("{l}.geojson.gz"))).expect("open");
                flate2::read::GzDecoder::new(gz).read_to_end(&mut text).expect("gunzip");
                let p = out.join(format!("{l}.geojson"));
                std::fs::write(&p, text).expect("write");
                p
            })
            .collect(),
    )
}

/// Reads the city layer files written by [`city_files`] into features, streets first.
pub fn city_features(files: &[PathBuf]) -> [Vec<gridmap::layers::Feature>; 3] {
    use gridmap::import::{ReadOptions, read};
    use gridmap::layers::Layer;
    let layers: Vec<_> = Layer::ALL
        .iter()
        .zip(files)
        .map(|(layer, file)| {
            let bytes = std::fs::read(file).expect("read");
            read(&file.display().to_string(), &bytes, &ReadOptions::new(*layer)).expect("parse").features
        })
        .collect();
    layers.try_into().expect("three layers")
}

/// Starts `gridmap serve` on a free loopback port (with the bundled sample when `sample`); returns its base URL.
pub fn start_server(db: &str, sample: bool) -> (Server, String) {
    start_server_with(db, sample, &[])
}

/// [`start_server`] with more `serve` flags.
pub fn start_server_with(db: &str, sample: bool, extra: &[&str]) -> (Server, String) {
    let mut args = vec!["--log-format", "json", "serve", "--listen", "127.0.0.1:0", "--db", db];
    if !sample {
        args.push("--no-sample");
    }
    args.extend_from_slice(extra);
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_gridmap")).args(args).stderr(Stdio::piped()).spawn().expect("spawn server");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").expect("read log");
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["fields"]["message"] == "listening" {
            break v["fields"]["addr"].as_str().expect("addr").to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Server(child), format!("http://{addr}"))
}

/// What one `wrk --latency` run measured.
pub struct WrkRun {
    /// Requests per second.
    pub requests_per_s: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
}

/// `wrk -t2 -c{connections} --latency` cycling through `paths` on `base` for `secs`; `None` without wrk. Panics when
/// wrk saw a non-2xx/3xx answer.
pub fn wrk(base: &str, paths: &[String], secs: u64, connections: usize) -> Option<WrkRun> {
    let dir = tempfile::tempdir().ok()?;
    let script = dir.path().join("paths.lua");
    let list: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
    let lua = format!(
        "local paths = {{{}}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n",
        list.join(", ")
    );
    std::fs::write(&script, lua).ok()?;
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), "--latency", &format!("-d{secs}s"), "-s"])
        .arg(&script)
        .arg(base)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = text.lines().find(|l| l.contains("Non-2xx or 3xx responses"));
    assert!(errors.is_none(), "wrk saw failures: {text}");
    let requests_per_s =
        text.lines().find(|l| l.starts_with("Requests/sec:"))?.split_whitespace().nth(1)?.parse().ok()?;
    let ms = |label: &str| -> Option<f64> {
        let v = text.lines().map(str::trim).find(|l| l.starts_with(label))?.split_whitespace().nth(1)?.to_owned();
        if let Some(us) = v.strip_suffix("us") {
            us.parse::<f64>().ok().map(|x| x / 1000.0)
        } else if let Some(ms) = v.strip_suffix("ms") {
            ms.parse().ok()
        } else {
            v.strip_suffix('s')?.parse::<f64>().ok().map(|x| x * 1000.0)
        }
    };
    Some(WrkRun { requests_per_s, p50_ms: ms("50%")?, p99_ms: ms("99%")? })
}

/// Transactions/s from `pgbench -M prepared -n -c{clients} -j2` running `script` against `url` for `secs`; `None`
/// without pgbench.
pub fn pgbench(url: &str, script: &str, clients: usize, secs: u64) -> Option<f64> {
    let dir = tempfile::tempdir().ok()?;
    let file = dir.path().join("script.sql");
    std::fs::write(&file, script).ok()?;
    let out = Command::new("pgbench")
        .args(["-M", "prepared", "-n", &format!("-c{clients}"), "-j2", &format!("-T{secs}"), "-f"])
        .arg(&file)
        .arg(url)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "pgbench failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    text.lines().find(|l| l.starts_with("tps = "))?.split_whitespace().nth(2)?.parse().ok()
}

/// The index the microbenchmarks run on: the Nanjing city layers, or the bundled Qinhuai sample without ../shared.
pub fn micro_index() -> gridmap::index::BoundaryIndex {
    let dir = tempfile::tempdir().expect("temp dir");
    let features = match city_files(dir.path()) {
        Some(files) => city_features(&files),
        None => {
            let mut layers = gridmap::sample::files().into_iter().map(|f| {
                gridmap::import::read(&f.name, &f.bytes, &f.options).expect("the bundled sample parses").features
            });
            [(); 3].map(|()| layers.next().expect("three sample layers"))
        }
    };
    gridmap::index::BoundaryIndex::build(None, features)
}

/// `n` uniform random points (fixed `seed`) in the bounding box of `index`'s streets.
pub fn micro_points(index: &gridmap::index::BoundaryIndex, n: usize, seed: u64) -> Vec<gridmap::coord::LonLat> {
    use rand::{Rng, SeedableRng};
    let bbox = index.layer(gridmap::layers::Layer::Streets).bbox().expect("streets");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let (x, y) = (rng.random_range(bbox.min().x..bbox.max().x), rng.random_range(bbox.min().y..bbox.max().y));
            gridmap::coord::LonLat::new(x, y).expect("inside the city")
        })
        .collect()
}
