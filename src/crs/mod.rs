//! Coordinate systems accepted at the edges (API `crs` parameter, imports), converted to WGS84 once on the way in.
//! [`Crs`] is what the API accepts; imports also take EPSG codes and `.prj` WKT ([`ImportCrs`], via proj4rs).

mod chinese;
pub mod output;
mod proj;
mod wkt;

use std::str::FromStr;

pub use chinese::{bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02};
pub use output::{GeometryOut, Position, written_in};
pub use proj::{ImportCrs, ImportCrsError, Reprojector};

/// A coordinate system gridmap converts to and from WGS84.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// EPSG:4326 / CRS84.
    Wgs84,
    /// EPSG:4490, China Geodetic Coordinate System 2000, geographic. Within ~1 m of WGS84: taken as equal.
    Cgcs2000,
    /// The obfuscated "Mars" coordinates of Chinese map vendors (Amap, Tencent).
    Gcj02,
    /// Baidu's further offset of GCJ-02.
    Bd09,
}

/// A `crs` value that is not one of the accepted names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown crs {0:?}: expected wgs84 (EPSG:4326, CRS84), cgcs2000 (EPSG:4490), gcj02 or bd09")]
pub struct UnknownCrs(pub String);

impl FromStr for Crs {
    type Err = UnknownCrs;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" | "epsg:4326" | "4326" | "crs84" | "ogc:crs84" => Ok(Crs::Wgs84),
            "cgcs2000" | "epsg:4490" | "4490" => Ok(Crs::Cgcs2000),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            "bd09" | "bd-09" => Ok(Crs::Bd09),
            _ => Err(UnknownCrs(s.to_owned())),
        }
    }
}

impl Crs {
    /// Parses an OGC URN or URL (`urn:ogc:def:crs:EPSG::4326`, `…/OGC/1.3/CRS84`) as found in GeoJSON `crs` members.
    pub fn from_urn(name: &str) -> Option<Self> {
        let tail = name.rsplit([':', '/']).find(|s| !s.is_empty())?;
        match tail.to_ascii_uppercase().as_str() {
            "CRS84" | "4326" => Some(Crs::Wgs84),
            "4490" => Some(Crs::Cgcs2000),
            _ => name.parse().ok(),
        }
    }

    /// Converts `(x, y)` in this system to WGS84 `(lon, lat)`.
    pub fn to_wgs84(self, x: f64, y: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (x, y),
            Crs::Gcj02 => gcj02_to_wgs84(x, y),
            Crs::Bd09 => {
                let (gx, gy) = bd09_to_gcj02(x, y);
                gcj02_to_wgs84(gx, gy)
            }
        }
    }

    /// Converts WGS84 `(lon, lat)` to this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => {
                let (gx, gy) = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(gx, gy)
            }
        }
    }
}
