//! Validated WGS84 longitude/latitude.

use serde::Serialize;

/// Why a coordinate was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoordError {
    /// Longitude NaN, infinite or outside [-180, 180].
    #[error("longitude {0} is not a finite number in [-180, 180]")]
    Lon(f64),
    /// Latitude NaN, infinite or outside [-90, 90].
    #[error("latitude {0} is not a finite number in [-90, 90]")]
    Lat(f64),
}

/// A point in EPSG:4326, longitude first. Built only through [`LonLat::new`], so it is always finite and in range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LonLat {
    lon: f64,
    lat: f64,
}

impl LonLat {
    /// Validates and builds a point.
    pub fn new(lon: f64, lat: f64) -> Result<Self, CoordError> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(CoordError::Lon(lon));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(CoordError::Lat(lat));
        }
        Ok(Self { lon, lat })
    }

    /// Longitude in degrees.
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Latitude in degrees.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// As a `geo` coordinate (x = lon, y = lat).
    pub fn coord(self) -> geo::Coord<f64> {
        geo::Coord { x: self.lon, y: self.lat }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_nan_infinite_and_out_of_range() {
        assert!(LonLat::new(f64::NAN, 0.0).is_err());
        assert!(LonLat::new(0.0, f64::INFINITY).is_err());
        assert!(LonLat::new(180.5, 0.0).is_err());
        assert!(LonLat::new(0.0, -90.1).is_err());
        let p = LonLat::new(118.8, 32.0).expect("valid");
        assert_eq!((p.lon(), p.lat()), (118.8, 32.0));
        assert!(LonLat::new(-180.0, 90.0).is_ok());
    }
}
