//! Microbenchmark (divan) of JSON in and out on the lookup path: parsing a `POST /locate` body of 1 024 points (the
//! handler's body shape) and writing the 1 024 answers the way the handler does (`serde_json::to_writer` of each
//! `Location` into one buffer). Over the Nanjing city layers (the bundled Qinhuai sample without ../shared); divan's
//! item rate is points per second on one thread, its byte rate the JSON bytes read or written.
//! `cargo bench --bench micro_json`.

use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use gridmap::coord::LonLat;
use gridmap::index::BoundaryIndex;
use gridmap::locate::{LayerSet, locate};
use serde::Deserialize;

mod support;

static INDEX: LazyLock<BoundaryIndex> = LazyLock::new(support::micro_index);
static POINTS: LazyLock<Vec<LonLat>> = LazyLock::new(|| support::micro_points(&INDEX, 1024, 2));

fn main() {
    divan::main();
}

/// The body `POST /locate` parses (same fields as the handler's).
#[derive(Deserialize)]
#[expect(dead_code, reason = "parsed like the handler's, only the points are used here")]
struct Batch {
    points: Vec<[f64; 2]>,
    #[serde(default)]
    crs: Option<String>,
    #[serde(default)]
    layers: Option<String>,
}

#[divan::bench]
fn parse_batch(b: Bencher) {
    let points: Vec<[f64; 2]> = POINTS.iter().map(|p| [p.lon(), p.lat()]).collect();
    let body = serde_json::to_vec(&serde_json::json!({ "points": points })).expect("body");
    b.counter(ItemsCount::new(points.len())).counter(BytesCount::new(body.len())).bench_local(|| {
        let batch: Batch = serde_json::from_slice(&body).expect("parses");
        batch.points.len()
    });
}

#[divan::bench]
fn write_answers(b: Bencher) {
    let (index, points) = (&*INDEX, &*POINTS);
    let answers: Vec<_> = points.iter().map(|&p| locate(index, h3o::Resolution::Ten, p, LayerSet::ALL)).collect();
    let bytes = serde_json::to_vec(&answers).expect("JSON").len();
    b.counter(ItemsCount::new(answers.len())).counter(BytesCount::new(bytes)).bench_local(|| {
        let mut out = Vec::with_capacity(answers.len() * 160);
        for (i, a) in answers.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = serde_json::to_writer(&mut out, a);
        }
        out.len()
    });
}
