//! A loose Shapefile: the first two bytes give the length of the .shp, the rest is the .dbf (no .shx: the reader
//! must cope with the .shp alone). An error or a report, never a panic.
#![no_main]

use gridmap::import::{ReadOptions, Sidecars, read};
use gridmap::layers::Layer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<2>() else { return };
    let split = usize::from(u16::from_le_bytes(*head)).min(rest.len());
    let (shp, dbf) = rest.split_at(split);
    let mut options = ReadOptions::new(Layer::Grids);
    options.sidecars = Sidecars([("dbf".to_owned(), dbf.to_vec())].into());
    let _ = read("fuzz.shp", shp, &options);
});
