//! Web Mercator tile arithmetic: tile ids, lon/lat → pixel coordinates at a zoom, tile bounds back in lon/lat.
//!
//! "Global pixels" at zoom z run from 0 to 2^z × [`EXTENT`] across the world, x east and y south, so the pixel of a
//! point inside tile (x, y) is its global pixel minus (x, y) × [`EXTENT`]. The projection is the spherical one PostGIS
//! uses for EPSG:3857, so tiles line up with `ST_TileEnvelope`.

use geo::{Coord, Rect};

/// Tile extent: coordinates inside a tile run from 0 to 4096.
pub const EXTENT: u32 = 4096;

/// Deepest zoom served.
pub const MAX_ZOOM: u8 = 22;

/// Latitude limit of Web Mercator.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Why a tile address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileIdError {
    /// Zoom above [`MAX_ZOOM`].
    #[error("zoom {0} is above the maximum {MAX_ZOOM}")]
    Zoom(u8),
    /// x or y not below 2^z.
    #[error("tile {z}/{x}/{y} does not exist: x and y must be below {}", 1u64 << z)]
    OutOfRange {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
}

/// A validated tile address (XYZ scheme, y down from the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    z: u8,
    x: u32,
    y: u32,
}

impl TileId {
    /// Checks zoom and range.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TileIdError> {
        if z > MAX_ZOOM {
            return Err(TileIdError::Zoom(z));
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileIdError::OutOfRange { z, x, y });
        }
        Ok(Self { z, x, y })
    }

    /// Zoom.
    pub fn z(self) -> u8 {
        self.z
    }

    /// Column.
    pub fn x(self) -> u32 {
        self.x
    }

    /// Row.
    pub fn y(self) -> u32 {
        self.y
    }

    /// Global pixel of the tile's top-left corner.
    pub fn origin_px(self) -> (i64, i64) {
        (i64::from(self.x) * i64::from(EXTENT), i64::from(self.y) * i64::from(EXTENT))
    }

    /// The tile grown by `buffer_px` on each side, in lon/lat (for R-tree queries).
    pub fn lonlat_bounds(self, buffer_px: u32) -> Rect<f64> {
        let scale = world_px(self.z);
        let (ox, oy) = self.origin_px();
        let b = f64::from(buffer_px);
        let min = unproject((ox as f64 - b) / scale, (oy as f64 + f64::from(EXTENT) + b) / scale);
        let max = unproject((ox as f64 + f64::from(EXTENT) + b) / scale, (oy as f64 - b) / scale);
        Rect::new(min, max)
    }
}

/// Width of the world in global pixels at zoom `z`.
pub fn world_px(z: u8) -> f64 {
    f64::from(EXTENT) * (1u64 << z) as f64
}

/// Lon/lat → world coordinates in [0, 1] (x east, y south); latitudes beyond Web Mercator's limit are clamped.
pub fn project(p: Coord<f64>) -> Coord<f64> {
    let lat = p.y.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (p.x + 180.0) / 360.0;
    let y = 0.5 - (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln() / (2.0 * std::f64::consts::PI);
    Coord { x, y }
}

/// World coordinates → lon/lat; world coordinates outside [0, 1] are clamped to the world.
pub fn unproject(x: f64, y: f64) -> Coord<f64> {
    let (x, y) = (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0));
    let lon = x * 360.0 - 180.0;
    let lat = (2.0 * ((0.5 - y) * 2.0 * std::f64::consts::PI).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    Coord { x: lon, y: lat }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_addresses() {
        assert!(TileId::new(0, 0, 0).is_ok());
        assert_eq!(TileId::new(1, 2, 0), Err(TileIdError::OutOfRange { z: 1, x: 2, y: 0 }));
        assert_eq!(TileId::new(23, 0, 0), Err(TileIdError::Zoom(23)));
    }

    #[test]
    fn projection_round_trips_and_matches_known_tiles() {
        let p = Coord { x: 118.79, y: 32.02 };
        let w = project(p);
        let back = unproject(w.x, w.y);
        assert!((back.x - p.x).abs() < 1e-9 && (back.y - p.y).abs() < 1e-9);
        // Nanjing's Confucius Temple lies in z14 tile 13598/6652 (checked against ST_TileEnvelope).
        assert_eq!(((w.x * 16384.0) as u32, (w.y * 16384.0) as u32), (13598, 6652));
        let b = TileId::new(14, 13598, 6652).expect("valid").lonlat_bounds(0);
        assert!(b.min().x <= p.x && p.x <= b.max().x && b.min().y <= p.y && p.y <= b.max().y);
    }
}
