//! WKB of boundary geometry, shared by both backends: georust's `wkb` writes, geozero reads (also PostGIS's
//! `ST_AsBinary`).

use geo::{Geometry, MultiPolygon};
use geozero::ToGeo;

use super::StoreError;
use crate::layers::Layer;

/// Encodes a multipolygon as 2D little-endian WKB (georust's `wkb` writer, reading the geometry in place).
pub(crate) fn encode(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(wkb::writer::multi_polygon_wkb_size(mp));
    let options = wkb::writer::WriteOptions { endianness: wkb::Endianness::LittleEndian };
    // Writing into a Vec cannot fail, and a MultiPolygon of finite 2D coordinates is always writable.
    let _ = wkb::writer::write_multi_polygon(&mut out, mp, &options);
    out
}

/// Decodes WKB written by [`encode`] (or PostGIS `ST_AsBinary`).
pub(crate) fn decode(bytes: &[u8], layer: Layer, code: &str) -> Result<MultiPolygon<f64>, StoreError> {
    let bad = |reason: String| StoreError::Geometry { layer: layer.as_str(), code: code.to_owned(), reason };
    match geozero::wkb::Wkb(bytes).to_geo().map_err(|e| bad(e.to_string()))? {
        Geometry::MultiPolygon(mp) => Ok(mp),
        Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        other => Err(bad(format!("expected a MultiPolygon, found {other:?}").chars().take(120).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::wkt;

    #[test]
    fn round_trips_through_geozero() {
        let mp = wkt! { MULTIPOLYGON(((0. 0.,10. 0.,10. 10.,0. 0.),(1. 1.,2. 1.,2. 2.,1. 1.)),((20. 0.,30. 5.,20. 10.,20. 0.))) };
        let bytes = encode(&mp);
        assert_eq!(&bytes[..9], &[1, 6, 0, 0, 0, 2, 0, 0, 0], "little-endian MultiPolygon of 2 polygons");
        assert_eq!(bytes.len(), 9 + (9 + 4 + 4 * 16 + 4 + 4 * 16) + (9 + 4 + 4 * 16), "2D: 16 bytes a coordinate");
        assert_eq!(decode(&bytes, Layer::Grids, "g").expect("decodes"), mp);
    }
}
