//! Microbenchmark (divan) of the lookup hot path: one point → street + community + grid in the in-memory index,
//! over the Nanjing city layers (the bundled Qinhuai sample without ../shared). Each iteration answers the same
//! 262 144 uniform random points of the city's bounding box, so divan's item rate is lookups per second on one
//! thread. `cargo bench --bench micro_locate`.

use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::ItemsCount;
use gridmap::coord::LonLat;
use gridmap::index::BoundaryIndex;
use gridmap::layers::Layer;
use gridmap::locate::{LayerSet, h3_cell, locate};

mod support;

static INDEX: LazyLock<BoundaryIndex> = LazyLock::new(support::micro_index);
/// 262 144 points: their cells and rings (tens of MB) do not stay in the 32 MB L3 between iterations, as under real
/// traffic.
static POINTS: LazyLock<Vec<LonLat>> = LazyLock::new(|| support::micro_points(&INDEX, 1 << 18, 1));

fn main() {
    divan::main();
}

/// The full answer through the cell cache (what `/locate` runs, without H3).
#[divan::bench(sample_count = 20)]
fn full_answer(b: Bencher) {
    let (index, points) = (&*INDEX, &*POINTS);
    b.counter(ItemsCount::new(points.len())).bench_local(|| {
        points
            .iter()
            .map(|p| Layer::ALL.iter().filter_map(|&l| index.layer(l).locate(p.coord())).count())
            .sum::<usize>()
    });
}

/// The full answer by R-tree descent and ring tests only (no cell cache): the path a boundary-crossing cell takes.
#[divan::bench(sample_count = 20)]
fn rtree_and_rings(b: Bencher) {
    let (index, points) = (&*INDEX, &*POINTS);
    b.counter(ItemsCount::new(points.len())).bench_local(|| {
        points
            .iter()
            .map(|p| Layer::ALL.iter().filter_map(|&l| index.layer(l).locate_by_tree(p.coord())).count())
            .sum::<usize>()
    });
}

/// The whole `/locate` answer: three layers plus the H3 cell at resolution 10.
#[divan::bench(sample_count = 20)]
fn with_h3(b: Bencher) {
    let (index, points) = (&*INDEX, &*POINTS);
    b.counter(ItemsCount::new(points.len())).bench_local(|| {
        points.iter().filter(|&&p| locate(index, h3o::Resolution::Ten, p, LayerSet::ALL).grid.is_some()).count()
    });
}

/// The H3 cell alone (h3o), for scale: the bound the answer above cannot beat while it includes a cell.
#[divan::bench(sample_count = 20)]
fn h3_only(b: Bencher) {
    let points = &*POINTS;
    b.counter(ItemsCount::new(points.len())).bench_local(|| {
        points.iter().map(|&p| u64::from(h3_cell(p, h3o::Resolution::Ten))).fold(0u64, u64::wrapping_add)
    });
}

/// The bound of the cell-cache design: per point, three independent random reads from a table as large as the
/// city's three cell caches, and nothing else (no cell decoding, no ring test). `full_answer` over this is how far
/// the lookup is from the memory system's random-access cost.
#[divan::bench(sample_count = 20)]
fn bound_three_random_reads(b: Bencher) {
    let bytes = Layer::ALL.iter().map(|&l| INDEX.layer(l).cell_cache_bytes()).sum::<usize>().max(1 << 20);
    let table: Vec<u64> = (0..bytes / 8).map(|i| i as u64).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        // splitmix64: spread indices over the whole table.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as usize % table.len()
    };
    let reads: Vec<[usize; 3]> = POINTS.iter().map(|_| [next(), next(), next()]).collect();
    b.counter(ItemsCount::new(reads.len()))
        .bench_local(|| reads.iter().fold(0u64, |acc, r| acc ^ table[r[0]] ^ table[r[1]] ^ table[r[2]]));
}
