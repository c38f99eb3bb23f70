//! WKB encoding of boundary geometry, shared by both backends.

use geo::{Geometry, MultiPolygon};
use geozero::ToGeo;

use super::StoreError;
use crate::layers::Layer;

/// Encodes a multipolygon as 2D little-endian WKB (written by hand: geozero's writer needs an owned `Geometry`).
pub(crate) fn encode(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let coords: usize =
        mp.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum();
    let mut out = Vec::with_capacity(9 + mp.0.len() * 9 + coords * 16 + 64);
    let header = |out: &mut Vec<u8>, kind: u32, n: usize| {
        out.push(1);
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&(n as u32).to_le_bytes());
    };
    header(&mut out, 6, mp.0.len());
    for polygon in &mp.0 {
        header(&mut out, 3, 1 + polygon.interiors().len());
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            out.extend_from_slice(&(ring.0.len() as u32).to_le_bytes());
            for c in &ring.0 {
                out.extend_from_slice(&c.x.to_le_bytes());
                out.extend_from_slice(&c.y.to_le_bytes());
            }
        }
    }
    out
}

/// Decodes WKB written by [`encode`] (or PostGIS `ST_AsBinary`).
pub(crate) fn decode(bytes: &[u8], layer: Layer, code: &str) -> Result<MultiPolygon<f64>, StoreError> {
    let bad = |reason: String| StoreError::Geometry { layer, code: code.to_owned(), reason };
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
        assert_eq!(decode(&encode(&mp), Layer::Grids, "g").expect("decodes"), mp);
    }
}
