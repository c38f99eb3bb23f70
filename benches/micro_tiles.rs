//! Microbenchmark (divan) of the tile hot path: encoding boundary tiles (clip, quantise, MVT) from the in-memory
//! index, shapes prepared (as after warm-up), cache bypassed. Over the Nanjing city layers (the bundled Qinhuai
//! sample without ../shared): the block of tiles around the city centre at z10, z14 and z16 per layer; divan's
//! item rate is tiles per second on one thread, its byte rate the MVT bytes written. `cargo bench --bench
//! micro_tiles`.

use std::sync::{Arc, LazyLock};

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use gridmap::layers::Layer;
use gridmap::tiles::{BoundaryTiles, TileId};

mod support;

static TILES: LazyLock<BoundaryTiles> = LazyLock::new(|| BoundaryTiles::new(Arc::new(support::micro_index())));

fn main() {
    divan::main();
}

/// The `side` × `side` tiles at zoom `z` around the centre of the streets' bounding box.
fn block(z: u8, side: u32) -> Vec<TileId> {
    let bbox = TILES.index().layer(Layer::Streets).bbox().expect("streets");
    let c = bbox.center();
    let n = f64::from(1u32 << z);
    let x = ((c.x + 180.0) / 360.0 * n) as u32;
    let lat = c.y.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    let h = side / 2;
    (0..side)
        .flat_map(|dx| (0..side).map(move |dy| TileId::new(z, x + dx - h, y + dy - h).expect("valid tile")))
        .collect()
}

fn encode(b: Bencher, layer: Layer, z: u8, side: u32) {
    let tiles = block(z, side);
    for &t in &tiles {
        TILES.prepare(layer, t.z());
    }
    let bytes: usize = tiles.iter().map(|&t| TILES.render(layer, t).len()).sum();
    b.counter(ItemsCount::new(tiles.len()))
        .counter(BytesCount::new(bytes))
        .bench_local(|| tiles.iter().map(|&t| TILES.render(layer, t).len()).sum::<usize>());
}

#[divan::bench(args = [10, 14, 16])]
fn grids(b: Bencher, z: u8) {
    encode(b, Layer::Grids, z, if z == 10 { 2 } else { 4 });
}

#[divan::bench(args = [10, 14, 16])]
fn communities(b: Bencher, z: u8) {
    encode(b, Layer::Communities, z, if z == 10 { 2 } else { 4 });
}

#[divan::bench(args = [10, 14, 16])]
fn streets(b: Bencher, z: u8) {
    encode(b, Layer::Streets, z, if z == 10 { 2 } else { 4 });
}
