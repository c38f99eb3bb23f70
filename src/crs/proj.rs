//! Coordinate systems of imported files ([`ImportCrs`]: the four named systems, any EPSG code proj4rs knows, or a
//! `.prj` WKT) and the [`Reprojector`] that brings their coordinates to WGS84 lon/lat, checking that the numbers fit.

use std::fmt;
use std::str::FromStr;

use proj4rs::Proj;

use super::{Crs, wkt};

/// The coordinate system of an imported file.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportCrs {
    /// One of the systems the API also accepts (WGS84, CGCS2000, GCJ-02, BD-09).
    Named(Crs),
    /// An EPSG code other than 4326/4490, reprojected with proj4rs.
    Epsg(u16),
    /// A PROJ string derived from a `.prj` WKT, with the name the file gives it.
    Proj {
        /// Name from the WKT (`WGS_1984_UTM_Zone_18N`, …).
        name: String,
        /// The PROJ string.
        proj4: String,
    },
}

/// A coordinate system gridmap cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportCrsError {
    /// Not a name, nor `EPSG:NNNN`.
    #[error(
        "unknown crs {0:?}: expected wgs84, cgcs2000, gcj02, bd09 or EPSG:NNNN (e.g. EPSG:4549, EPSG:32650, EPSG:2263)"
    )]
    Unknown(String),
    /// An EPSG code not in the bundled definitions.
    #[error("EPSG:{0} is not among the coordinate systems gridmap knows")]
    UnknownEpsg(u16),
    /// A `.prj` that could not be understood.
    #[error("cannot use the .prj coordinate system: {0}")]
    Prj(String),
    /// proj4rs refused the definition.
    #[error("cannot set up the projection {name}: {reason}")]
    Proj {
        /// The system.
        name: String,
        /// proj4rs's message.
        reason: String,
    },
}

impl FromStr for ImportCrs {
    type Err = ImportCrsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(c) = s.parse::<Crs>() {
            return Ok(ImportCrs::Named(c));
        }
        let t = s.trim().to_ascii_uppercase();
        let digits = t.strip_prefix("EPSG:").or_else(|| t.rsplit_once("EPSG::").map(|(_, d)| d)).unwrap_or(&t);
        let code: u16 = digits.parse().map_err(|_| ImportCrsError::Unknown(s.to_owned()))?;
        ImportCrs::from_epsg(code)
    }
}

impl fmt::Display for ImportCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportCrs::Named(c) => f.write_str(match c {
                Crs::Wgs84 => "wgs84 (EPSG:4326)",
                Crs::Cgcs2000 => "cgcs2000 (EPSG:4490)",
                Crs::Gcj02 => "gcj02",
                Crs::Bd09 => "bd09",
            }),
            ImportCrs::Epsg(code) => write!(f, "EPSG:{code}"),
            ImportCrs::Proj { name, .. } => f.write_str(name),
        }
    }
}

impl ImportCrs {
    /// An EPSG code: 4326 and 4490 are the named systems, others must be in the bundled definitions.
    pub fn from_epsg(code: u16) -> Result<Self, ImportCrsError> {
        match code {
            4326 => Ok(ImportCrs::Named(Crs::Wgs84)),
            4490 => Ok(ImportCrs::Named(Crs::Cgcs2000)),
            c if crs_definitions::from_code(c).is_some() => Ok(ImportCrs::Epsg(c)),
            c => Err(ImportCrsError::UnknownEpsg(c)),
        }
    }

    /// The system a `.prj` file describes (ESRI or OGC WKT1). An EPSG authority in the file wins over its parameters.
    pub fn from_prj(text: &str) -> Result<Self, ImportCrsError> {
        let prj = wkt::prj_to_proj4(text).map_err(ImportCrsError::Prj)?;
        if let Some(code) = prj.epsg
            && let Ok(c) = ImportCrs::from_epsg(code)
        {
            return Ok(c);
        }
        let wgs = "+proj=longlat +datum=WGS84 +no_defs";
        let grs = "+proj=longlat +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +no_defs";
        if prj.proj4 == wgs {
            return Ok(ImportCrs::Named(Crs::Wgs84));
        }
        if prj.proj4 == grs && prj.name.to_ascii_lowercase().contains("2000") {
            return Ok(ImportCrs::Named(Crs::Cgcs2000));
        }
        Ok(ImportCrs::Proj { name: prj.name, proj4: prj.proj4 })
    }

    /// Parses an OGC URN / URL or `EPSG:NNNN` as found in a GeoJSON `crs` member.
    pub fn from_urn(name: &str) -> Result<Self, ImportCrsError> {
        if let Some(c) = Crs::from_urn(name) {
            return Ok(ImportCrs::Named(c));
        }
        let tail = name.rsplit([':', '/']).find(|s| !s.is_empty()).unwrap_or(name);
        match tail.parse::<u16>() {
            Ok(code) => ImportCrs::from_epsg(code),
            Err(_) => name.parse(),
        }
    }

    /// The converter to WGS84.
    pub fn reprojector(&self) -> Result<Reprojector, ImportCrsError> {
        let proj4 = match self {
            ImportCrs::Named(c) => return Ok(Reprojector { crs: self.clone(), kind: Kind::Named(*c) }),
            ImportCrs::Epsg(code) => crs_definitions::from_code(*code)
                .ok_or(ImportCrsError::UnknownEpsg(*code))?
                .proj4
                .replace("+datum=NAD27", wkt::NAD27),
            ImportCrs::Proj { proj4, .. } => proj4.clone(),
        };
        let err = |e: proj4rs::errors::Error| ImportCrsError::Proj { name: self.to_string(), reason: e.to_string() };
        let src = Proj::from_proj_string(&proj4).map_err(err)?;
        let dst = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").map_err(err)?;
        Ok(Reprojector {
            crs: self.clone(),
            kind: Kind::Proj { geographic: src.is_latlong(), src: Box::new(src), dst: Box::new(dst) },
        })
    }
}

enum Kind {
    Named(Crs),
    Proj { src: Box<Proj>, dst: Box<Proj>, geographic: bool },
}

/// Converts one file's coordinates to WGS84 lon/lat and says what the numbers look like when they do not fit.
pub struct Reprojector {
    crs: ImportCrs,
    kind: Kind,
}

impl fmt::Debug for Reprojector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reprojector").field("crs", &self.crs).finish_non_exhaustive()
    }
}

/// Rounding slack at the edges of the world (Natural Earth has 180.00000000000006 after a round trip).
const EDGE_SLACK_DEG: f64 = 1e-9;

fn lonlat_ok(x: f64, y: f64) -> bool {
    x.is_finite() && y.is_finite() && x.abs() <= 180.0 + EDGE_SLACK_DEG && y.abs() <= 90.0 + EDGE_SLACK_DEG
}

fn clamp(lon: f64, lat: f64) -> (f64, f64) {
    (lon.clamp(-180.0, 180.0), lat.clamp(-90.0, 90.0))
}

impl Reprojector {
    /// The source system.
    pub fn crs(&self) -> &ImportCrs {
        &self.crs
    }

    /// `(x, y)` in the source system → WGS84 `(lon, lat)`, or a sentence on why the numbers cannot be that.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), String> {
        if !(x.is_finite() && y.is_finite()) {
            return Err(format!("[{x}, {y}] is not a finite coordinate"));
        }
        let geographic = match &self.kind {
            Kind::Named(_) => true,
            Kind::Proj { geographic, .. } => *geographic,
        };
        if geographic && !lonlat_ok(x, y) {
            return Err(if lonlat_ok(y, x) {
                format!(
                    "[{x}, {y}] looks like latitude, longitude (swapped); the file's coordinate system {} expects \
                     longitude first",
                    self.crs
                )
            } else {
                format!(
                    "[{x}, {y}] is not a WGS84 longitude/latitude (declared: {}): the numbers look like projected \
                     metres or feet; give the file's real coordinate system with --crs EPSG:NNNN (or its .prj)",
                    self.crs
                )
            });
        }
        if !geographic && lonlat_ok(x, y) && x.abs() <= 180.0 && y.abs() <= 90.0 && x.abs() + y.abs() < 400.0 {
            return Err(format!(
                "[{x}, {y}] looks like longitude/latitude in degrees, but {} is a projected system in metres or feet; \
                 pass --crs wgs84 if the file is in degrees",
                self.crs
            ));
        }
        let (lon, lat) = match &self.kind {
            Kind::Named(c) => c.to_wgs84(x, y),
            Kind::Proj { src, dst, geographic } => {
                let input = if *geographic { (x.to_radians(), y.to_radians()) } else { (x, y) };
                let (lon, lat) = proj4rs::adaptors::transform_vertex_2d(src, dst, input)
                    .map_err(|e| format!("[{x}, {y}] cannot be converted from {}: {e}", self.crs))?;
                (lon.to_degrees(), lat.to_degrees())
            }
        };
        if !lonlat_ok(lon, lat) {
            return Err(format!(
                "[{x}, {y}] in {} converts to [{lon}, {lat}], outside WGS84: the declared coordinate system is \
                 probably wrong",
                self.crs
            ));
        }
        Ok(clamp(lon, lat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Haversine, Point};

    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        Haversine.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
    }

    #[test]
    fn parses_names_and_epsg_codes() {
        assert_eq!("gcj02".parse::<ImportCrs>(), Ok(ImportCrs::Named(Crs::Gcj02)));
        assert_eq!("EPSG:4490".parse::<ImportCrs>(), Ok(ImportCrs::Named(Crs::Cgcs2000)));
        assert_eq!("epsg:4549".parse::<ImportCrs>(), Ok(ImportCrs::Epsg(4549)));
        assert_eq!("urn:ogc:def:crs:EPSG::32618".parse::<ImportCrs>(), Ok(ImportCrs::Epsg(32618)));
        assert!("EPSG:1".parse::<ImportCrs>().is_err());
        assert!("mars".parse::<ImportCrs>().is_err());
    }

    #[test]
    fn gauss_kruger_cm120_round_trip_near_nanjing() {
        // EPSG:4549 origin meridian: x = 500 000 m on 120°E; Nanjing (118.8°E) lies about 113 km west of it.
        let r = ImportCrs::Epsg(4549).reprojector().expect("4549");
        let (lon, lat) = r.to_wgs84(500_000.0, 3_544_000.0).expect("converts");
        assert!((lon - 120.0).abs() < 1e-9, "{lon}");
        assert!((31.9..32.1).contains(&lat), "{lat}");
    }

    #[test]
    fn utm_18n_matches_the_prj_route() {
        let wkt = r#"PROJCS["WGS_1984_UTM_Zone_18N",GEOGCS["GCS_WGS_1984",DATUM["D_unknown",SPHEROID["WGS84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",-75],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["Meter",1]]"#;
        let from_prj = ImportCrs::from_prj(wkt).expect("prj").reprojector().expect("proj");
        let from_epsg = ImportCrs::Epsg(32618).reprojector().expect("proj");
        let p = (389_000.0, 4_770_000.0);
        let a = from_prj.to_wgs84(p.0, p.1).expect("a");
        let b = from_epsg.to_wgs84(p.0, p.1).expect("b");
        assert!(metres(a, b) < 0.01, "{a:?} {b:?}");
    }

    #[test]
    fn says_what_the_numbers_look_like() {
        let wgs = ImportCrs::Named(Crs::Wgs84).reprojector().expect("wgs");
        assert!(wgs.to_wgs84(32.05, 118.8).expect_err("swapped").contains("swapped"));
        assert!(wgs.to_wgs84(389_000.0, 4_770_000.0).expect_err("metres").contains("projected"));
        let utm = ImportCrs::Epsg(32618).reprojector().expect("utm");
        assert!(utm.to_wgs84(-75.5, 43.1).expect_err("degrees").contains("degrees"));
    }
}
