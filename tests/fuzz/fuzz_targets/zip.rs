//! Any bytes as a .zip boundary file: an error or a report, never a panic, a hang or unbounded memory.
#![no_main]

use gridmap::import::{ReadOptions, read};
use gridmap::layers::Layer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read("fuzz.zip", data, &ReadOptions::new(Layer::Grids));
});
