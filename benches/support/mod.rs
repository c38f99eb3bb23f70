//! Shared by the benchmarks: the release binary as a server on loopback, RSS readings.

#![allow(dead_code, reason = "each benchmark uses a different part")]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

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
