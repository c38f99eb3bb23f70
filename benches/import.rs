//! Import of the Nanjing city grids (9 504 polygons, 42 MB GeoJSON) through the release binary, as GIS staff run
//! it: `gridmap import --layer grids FILE --activate` (read, reproject, validate: rings, codes, parents, children
//! outside parents, sibling overlaps; write the generation; activate) into SQLite and PostGIS, next to
//! `ogr2ogr -f PostgreSQL` loading the same file into a plain PostGIS table (read + write only, no validation), in
//! the same run. Streets and communities are imported first (the grids' parents); each figure is the median of
//! `GRIDMAP_BENCH_IMPORT_RUNS` runs (default 5) with min–max. `scripts/bench-import` runs it; results go to `target/bench-import.json`.

use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

mod support;

use support::{city_files, gridmap};

/// Imports timed per tool (`GRIDMAP_BENCH_IMPORT_RUNS`, default 5).
fn runs() -> usize {
    std::env::var("GRIDMAP_BENCH_IMPORT_RUNS").ok().and_then(|s| s.parse().ok()).filter(|&n| n > 0).unwrap_or(5)
}

fn stats(mut s: Vec<f64>) -> Value {
    s.sort_by(f64::total_cmp);
    json!({"median_s": s[s.len() / 2], "min_s": s[0], "max_s": s[s.len() - 1], "runs": s.len()})
}

/// Seconds for one `gridmap import` of the grids onto a database holding the streets and communities.
fn gridmap_import(db: &str, grids: &str) -> f64 {
    let t = Instant::now();
    gridmap(&["import", "--layer", "grids", grids, "--activate", "--db", db]);
    t.elapsed().as_secs_f64()
}

/// Seconds for one `ogr2ogr` of the grids into a fresh PostGIS table; `None` without ogr2ogr.
fn ogr2ogr(pg: &str, grids: &str) -> Option<f64> {
    let conn = pg_connection(pg);
    let t = Instant::now();
    let out = Command::new("ogr2ogr")
        .args(["-f", "PostgreSQL", &conn, grids, "-nln", "bench_ogr_grids", "-overwrite", "-lco", "GEOMETRY_NAME=geom"])
        .args(["-nlt", "MULTIPOLYGON", "--config", "PG_USE_COPY", "YES"])
        .output()
        .ok()?;
    let secs = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "ogr2ogr: {}", String::from_utf8_lossy(&out.stderr));
    Some(secs)
}

/// `postgres://user@host:port/db` → `PG:host=… port=… user=… dbname=…` as GDAL takes it.
fn pg_connection(url: &str) -> String {
    let rest = url.trim_start_matches("postgres://").trim_start_matches("postgresql://");
    let (auth, rest) = rest.split_once('@').unwrap_or(("postgres", rest));
    let (hostport, db) = rest.split_once('/').unwrap_or((rest, "postgres"));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    let user = auth.split(':').next().unwrap_or("postgres");
    format!("PG:host={host} port={port} user={user} dbname={}", db.split('?').next().unwrap_or(db))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(files) = city_files(dir.path()) else {
        eprintln!("../shared/data/synthetic/nanjing is absent: nothing to benchmark");
        return;
    };
    let [streets, communities, grids] = [0, 1, 2].map(|i| files[i].display().to_string());
    let pg = std::env::var("GRIDMAP_BENCH_PG").ok().filter(|s| !s.is_empty());
    let mut out = serde_json::Map::new();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    for (label, db) in std::iter::once(("sqlite", &sqlite)).chain(pg.as_ref().map(|p| ("postgis", p))) {
        gridmap(&["import", "--layer", "streets", &streets, "--activate", "--db", db]);
        gridmap(&["import", "--layer", "communities", &communities, "--activate", "--db", db]);
        let runs: Vec<f64> = (0..runs()).map(|_| gridmap_import(db, &grids)).collect();
        let s = stats(runs);
        println!(
            "gridmap import grids ({label}): median {:.2} s (min {:.2}, max {:.2})",
            s["median_s"], s["min_s"], s["max_s"]
        );
        out.insert(format!("gridmap_{label}"), s);
    }
    match pg.as_deref().map(|pg| (0..runs()).map(|_| ogr2ogr(pg, &grids)).collect::<Option<Vec<f64>>>()) {
        Some(Some(runs)) => {
            let s = stats(runs);
            println!(
                "ogr2ogr grids → PostGIS: median {:.2} s (min {:.2}, max {:.2})",
                s["median_s"], s["min_s"], s["max_s"]
            );
            out.insert("ogr2ogr_postgis".into(), s);
        }
        Some(None) => println!("ogr2ogr not found (apt install gdal-bin): comparison skipped"),
        None => println!("GRIDMAP_BENCH_PG is not set: PostGIS and ogr2ogr skipped (scripts/bench-import sets it)"),
    }
    support::write_results("bench-import.json", &Value::Object(out));
}
