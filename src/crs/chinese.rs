//! GCJ-02 and BD-09, the offset systems of Chinese map vendors. The forward formulas are the published ones; the
//! inverses are iterated until the round trip is within 1e-9° (~0.1 mm), far inside the 0.1 m requirement.

use std::f64::consts::PI;

/// Semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02.
const A: f64 = 6_378_245.0;
/// Its first eccentricity squared.
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

/// Outside this rough box of mainland China, GCJ-02 applies no offset (the vendors' own convention).
fn outside_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let d_lat = transform_lat(lon - 105.0, lat - 35.0);
    let d_lon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (lon + d_lon, lat + d_lat)
}

/// GCJ-02 → WGS84, by fixed-point iteration of the forward transform.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (fx, fy) = wgs84_to_gcj02(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02, iterated on [`gcj02_to_bd09`] (the usual closed form is off by up to a metre).
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (mut x, mut y) = (lon - 0.0065, lat - 0.006);
    for _ in 0..30 {
        let (fx, fy) = gcj02_to_bd09(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Haversine, Point};

    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        Haversine.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
    }

    #[test]
    fn gcj02_offset_in_nanjing_is_hundreds_of_metres() {
        let wgs = (118.7969, 32.0603);
        let d = metres(wgs, wgs84_to_gcj02(wgs.0, wgs.1));
        assert!((200.0..800.0).contains(&d), "offset {d} m");
    }

    #[test]
    fn inverses_round_trip_within_a_centimetre_over_china() {
        for i in 0..40 {
            for j in 0..40 {
                let p = (75.0 + i as f64 * 1.5, 18.0 + j as f64 * 0.9);
                let g = wgs84_to_gcj02(p.0, p.1);
                assert!(metres(p, gcj02_to_wgs84(g.0, g.1)) < 0.01, "gcj at {p:?}");
                let b = gcj02_to_bd09(g.0, g.1);
                assert!(metres(g, bd09_to_gcj02(b.0, b.1)) < 0.01, "bd at {p:?}");
            }
        }
    }

    #[test]
    fn no_offset_outside_china() {
        assert_eq!(wgs84_to_gcj02(-0.1276, 51.5072), (-0.1276, 51.5072));
        assert_eq!(gcj02_to_wgs84(-0.1276, 51.5072), (-0.1276, 51.5072));
    }
}
