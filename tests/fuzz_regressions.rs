//! Inputs the fuzzers (`scripts/fuzz`, tests/fuzz) once crashed on, replayed through `gridmap import --dry-run` under
//! a 3 GiB address-space limit (prlimit): each must be rejected with a report or an error naming the file, never
//! abort or be killed. A new crash lands in tests/fuzz/regressions/<target>/ and is picked up here without code
//! changes. (The first two, found on 2026-11-29: a GeoPackage geometry claiming 4 billion points, on which geozero
//! reserved 64 GB and the process aborted, and a Shapefile polygon record claiming 1.4 billion, for which the
//! shapefile crate tried to reserve 22 GB before failing. Both are now refused by `src/import/bounds.rs` first.)

use std::path::{Path, PathBuf};

/// Most address space the replaying process may use.
const LIMIT_BYTES: u64 = 3 << 30;

/// Writes the fuzz input as the file(s) the target reads (tests/fuzz/fuzz_targets); returns the file to import.
fn as_files(target: &str, data: &[u8], dir: &Path) -> Option<PathBuf> {
    let main = match target {
        "geojson" | "zip" | "kml" | "gpkg" => {
            let p = dir.join(format!("input.{target}"));
            std::fs::write(&p, data).expect("write");
            p
        }
        "shapefile" => {
            // The first two bytes give the length of the .shp; the rest is the .dbf.
            let (head, rest) = data.split_first_chunk::<2>()?;
            let (shp, dbf) = rest.split_at(usize::from(u16::from_le_bytes(*head)).min(rest.len()));
            std::fs::write(dir.join("input.dbf"), dbf).expect("write");
            let p = dir.join("input.shp");
            std::fs::write(&p, shp).expect("write");
            p
        }
        other => panic!("no replay for fuzz target {other}: add it to tests/fuzz_regressions.rs"),
    };
    Some(main)
}

#[test]
fn crashes_found_by_fuzzing_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/regressions");
    let mut replayed = 0;
    for target in std::fs::read_dir(&root).expect("tests/fuzz/regressions") {
        let target = target.expect("entry").path();
        let name = target.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        for input in std::fs::read_dir(&target).expect("target dir") {
            let input = input.expect("entry").path();
            let dir = tempfile::tempdir().expect("tmp");
            let Some(file) = as_files(&name, &std::fs::read(&input).expect("read input"), dir.path()) else { continue };
            let db = format!("sqlite://{}", dir.path().join("replay.db").display());
            let started = std::time::Instant::now();
            let out = std::process::Command::new("prlimit")
                .arg(format!("--as={LIMIT_BYTES}"))
                .arg("--")
                .arg(env!("CARGO_BIN_EXE_gridmap"))
                .args(["import", "--layer", "streets", "--dry-run", "--db", &db])
                .arg(&file)
                .env("NO_COLOR", "1")
                .output()
                .expect("run prlimit");
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            eprintln!(
                "{name}/{}: exit {:?} in {} ms",
                input.display(),
                out.status.code(),
                started.elapsed().as_millis()
            );
            assert_eq!(out.status.code(), Some(1), "{}: expected a rejection (exit 1):\n{text}", input.display());
            assert!(text.contains("input."), "the error names the file: {text}");
            assert!(!text.contains("panicked"), "{}: a panic (even one caught) is a crash:\n{text}", input.display());
            replayed += 1;
        }
    }
    assert!(replayed >= 2, "the two crashes found so far (shapefile, gpkg) are replayed");
}
