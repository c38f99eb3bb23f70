//! Any text as a .prj (ESRI or OGC WKT): a coordinate system or an error, never a panic.
#![no_main]

use gridmap::crs::ImportCrs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ImportCrs::from_prj(text);
    }
});
