//! OGC API – Features (Part 1 Core, GeoJSON, OAS 3.0; Part 2 CRS by reference) over the boundary layers: which
//! features a query selects, in which coordinate system and order they go out. The HTTP shape lives in
//! `http::ogc`; this module knows nothing of requests.

use geo::{Intersects, MapCoords, MultiPolygon, Rect};
use serde_json::{Map, Value, json};

use crate::crs::Crs;
use crate::index::LayerIndex;
use crate::layers::Feature;

/// The conformance classes implemented.
pub const CONFORMANCE: [&str; 4] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
];

/// Largest page.
pub const MAX_LIMIT: usize = 10_000;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 100;
/// Properties that can be filtered on by equality (`?parent_code=…`).
pub const QUERYABLES: [&str; 3] = ["code", "name", "parent_code"];

/// What went wrong with a query; each names the parameter.
#[derive(Debug, thiserror::Error)]
pub enum OgcError {
    /// A CRS that is not offered.
    #[error("{param}={value:?}: not offered; use one of {}", OgcCrs::OFFERED.iter().map(|c| c.uri).collect::<Vec<_>>().join(", "))]
    UnsupportedCrs {
        /// `crs` or `bbox-crs`.
        param: &'static str,
        /// The value sent.
        value: String,
    },
    /// A malformed parameter.
    #[error("{param}={value:?}: {reason}")]
    Invalid {
        /// Which.
        param: String,
        /// The value sent.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
    /// A parameter the endpoint does not know.
    #[error(
        "unknown parameter {0:?}: items take bbox, bbox-crs, crs, datetime, limit, offset, f and code, name, parent_code"
    )]
    UnknownParameter(String),
}

/// A coordinate reference system offered by the API, with its axis order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OgcCrs {
    /// Its URI.
    pub uri: &'static str,
    /// The datum gridmap converts with.
    pub crs: Crs,
    /// EPSG geographic systems are latitude first; CRS84 is longitude first.
    pub lat_first: bool,
}

impl OgcCrs {
    /// CRS84, the default.
    pub const CRS84: OgcCrs =
        OgcCrs { uri: "http://www.opengis.net/def/crs/OGC/1.3/CRS84", crs: Crs::Wgs84, lat_first: false };
    /// Every offered system.
    pub const OFFERED: [OgcCrs; 3] = [
        OgcCrs::CRS84,
        OgcCrs { uri: "http://www.opengis.net/def/crs/EPSG/0/4326", crs: Crs::Wgs84, lat_first: true },
        OgcCrs { uri: "http://www.opengis.net/def/crs/EPSG/0/4490", crs: Crs::Cgcs2000, lat_first: true },
    ];

    /// Parses a CRS URI (also `EPSG:4326`-style short forms).
    pub fn parse(param: &'static str, value: &str) -> Result<OgcCrs, OgcError> {
        let v = value.trim();
        let short = |code: &str| v.eq_ignore_ascii_case(&format!("EPSG:{code}")) || v.ends_with(&format!("::{code}"));
        Self::OFFERED
            .into_iter()
            .find(|c| c.uri == v)
            .or_else(|| (v.eq_ignore_ascii_case("CRS84") || v.ends_with(":CRS84")).then_some(Self::CRS84))
            .or_else(|| short("4326").then_some(Self::OFFERED[1]))
            .or_else(|| short("4490").then_some(Self::OFFERED[2]))
            .ok_or_else(|| OgcError::UnsupportedCrs { param, value: value.to_owned() })
    }

    /// WGS84 `(lon, lat)` in this system's axis order.
    pub fn out(self, lon: f64, lat: f64) -> [f64; 2] {
        let (x, y) = self.crs.from_wgs84(lon, lat);
        if self.lat_first { [y, x] } else { [x, y] }
    }

    /// A point given in this system's axis order, as WGS84 `(lon, lat)`.
    pub fn to_lon_lat(self, a: f64, b: f64) -> (f64, f64) {
        let (x, y) = if self.lat_first { (b, a) } else { (a, b) };
        self.crs.to_wgs84(x, y)
    }
}

/// A parsed `items` query.
#[derive(Debug, Clone)]
pub struct ItemsQuery {
    /// WGS84 bbox.
    pub bbox: Option<Rect<f64>>,
    /// Output system.
    pub crs: OgcCrs,
    /// Page size.
    pub limit: usize,
    /// Features skipped.
    pub offset: usize,
    /// Equality filters on [`QUERYABLES`].
    pub filters: Vec<(String, String)>,
    /// Whether a `datetime` was given that excludes the current generation.
    pub before_generation: bool,
}

impl ItemsQuery {
    /// Parses query parameters. `active_since` is when the active generation was activated (boundaries are valid
    /// from then on), needed only when `datetime` is given.
    pub fn parse(
        params: &[(String, String)],
        active_since: Option<time::OffsetDateTime>,
    ) -> Result<ItemsQuery, OgcError> {
        let mut q = ItemsQuery {
            bbox: None,
            crs: OgcCrs::CRS84,
            limit: DEFAULT_LIMIT,
            offset: 0,
            filters: Vec::new(),
            before_generation: false,
        };
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let bbox_crs = get("bbox-crs").map(|v| OgcCrs::parse("bbox-crs", v)).transpose()?.unwrap_or(OgcCrs::CRS84);
        for (k, v) in params {
            let invalid = |reason| OgcError::Invalid { param: k.clone(), value: v.clone(), reason };
            match k.as_str() {
                "bbox" => q.bbox = Some(bbox(v, bbox_crs).map_err(invalid)?),
                "crs" => q.crs = OgcCrs::parse("crs", v)?,
                "limit" => {
                    q.limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| invalid("expected an integer from 1 to 10000"))?
                }
                "offset" => q.offset = v.parse().map_err(|_| invalid("expected a non-negative integer"))?,
                "datetime" => q.before_generation = ends_before(v, active_since).map_err(invalid)?,
                "bbox-crs" | "f" => {}
                key if QUERYABLES.contains(&key) => q.filters.push((k.clone(), v.clone())),
                _ => return Err(OgcError::UnknownParameter(k.clone())),
            }
        }
        Ok(q)
    }
}

fn bbox(raw: &str, crs: OgcCrs) -> Result<Rect<f64>, &'static str> {
    let n: Vec<f64> = raw
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| "expected four numbers (lower corner, upper corner, in the bbox-crs axis order)")?;
    let [a, b, c, d] = n[..] else { return Err("expected four numbers (six-number 3D boxes are not supported)") };
    if !n.iter().all(|v| v.is_finite()) {
        return Err("numbers must be finite");
    }
    let (x0, y0) = crs.to_lon_lat(a, b);
    let (x1, y1) = crs.to_lon_lat(c, d);
    if x0 > x1 || y0 > y1 {
        return Err(
            "the lower corner must be below and left of the upper corner (boxes across the antimeridian are not supported)",
        );
    }
    Ok(Rect::new((x0, y0), (x1, y1)))
}

/// Whether a `datetime` (instant, or interval `a/b` with `..` or empty for open ends) ends before `since`.
fn ends_before(raw: &str, since: Option<time::OffsetDateTime>) -> Result<bool, &'static str> {
    let parse = |t: &str| -> Result<Option<time::OffsetDateTime>, &'static str> {
        match t.trim() {
            "" | ".." => Ok(None),
            t => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map(Some)
                .map_err(|_| "expected an RFC 3339 time or an interval start/end with .. for an open end"),
        }
    };
    let end = match raw.split_once('/') {
        Some((a, b)) => {
            let (start, end) = (parse(a)?, parse(b)?);
            if let (Some(s), Some(e)) = (start, end)
                && s > e
            {
                return Err("the interval's start is after its end");
            }
            end
        }
        None => parse(raw)?,
    };
    Ok(matches!((end, since), (Some(e), Some(s)) if e < s))
}

/// Positions (in code order) of the features a query selects before paging, and the page.
pub fn select(layer: &LayerIndex, q: &ItemsQuery) -> (usize, Vec<u32>) {
    if q.before_generation {
        return (0, Vec::new());
    }
    let candidates: Vec<u32> = match q.bbox {
        Some(r) => layer.candidates_in(r),
        None => (0..layer.len() as u32).collect(),
    };
    let matched: Vec<u32> = candidates
        .into_iter()
        .filter(|&i| {
            let f = &layer.entry(i).feature;
            q.bbox.is_none_or(|r| f.geometry.intersects(&r)) && q.filters.iter().all(|(k, v)| property(f, k) == Some(v))
        })
        .collect();
    let page = matched.iter().skip(q.offset).take(q.limit).copied().collect();
    (matched.len(), page)
}

fn property<'a>(f: &'a Feature, key: &str) -> Option<&'a str> {
    match key {
        "code" => Some(&f.code),
        "name" => Some(&f.name),
        "parent_code" => f.parent_code.as_deref(),
        _ => None,
    }
}

/// A feature as GeoJSON in the output system: `id` is the code; properties are code, name, parent_code and the
/// source file's attributes.
pub fn feature_json(f: &Feature, crs: OgcCrs) -> Value {
    let geometry: MultiPolygon<f64> = f.geometry.map_coords(|c| {
        let [x, y] = crs.out(c.x, c.y);
        geo::coord! { x: x, y: y }
    });
    let mut properties = Map::new();
    properties.insert("code".into(), json!(f.code));
    properties.insert("name".into(), json!(f.name));
    properties.insert("parent_code".into(), json!(f.parent_code));
    for (k, v) in &f.properties {
        properties.entry(k.clone()).or_insert_with(|| v.clone());
    }
    json!({
        "type": "Feature",
        "id": f.code,
        "geometry": geojson::Geometry::from(&geometry),
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn epsg_axis_order_is_latitude_first() {
        let q = ItemsQuery::parse(
            &params(&[("bbox", "32.0,118.7,32.1,118.8"), ("bbox-crs", "http://www.opengis.net/def/crs/EPSG/0/4326")]),
            None,
        )
        .expect("query");
        let r = q.bbox.expect("bbox");
        assert_eq!((r.min().x, r.min().y, r.max().x, r.max().y), (118.7, 32.0, 118.8, 32.1));
        assert_eq!(OgcCrs::parse("crs", "EPSG:4490").expect("crs").out(118.7, 32.0), [32.0, 118.7]);
        assert_eq!(OgcCrs::CRS84.out(118.7, 32.0), [118.7, 32.0]);
    }

    #[test]
    fn bad_parameters_name_themselves() {
        for (k, v, needle) in [
            ("limit", "0", "limit"),
            ("limit", "10001", "limit"),
            ("bbox", "1,2,3", "bbox"),
            ("bbox", "3,2,1,4", "lower corner"),
            ("crs", "EPSG:3857", "not offered"),
            ("datetime", "yesterday", "datetime"),
            ("colour", "red", "unknown parameter"),
        ] {
            let e = ItemsQuery::parse(&params(&[(k, v)]), None).expect_err(k).to_string();
            assert!(e.contains(needle), "{k}={v}: {e}");
        }
    }

    #[test]
    fn datetime_before_the_generation_selects_nothing() {
        let since = time::OffsetDateTime::parse("2026-06-01T00:00:00Z", &time::format_description::well_known::Rfc3339)
            .expect("time");
        let q = |d: &str| ItemsQuery::parse(&params(&[("datetime", d)]), Some(since)).expect("q").before_generation;
        assert!(q("2026-01-01T00:00:00Z"));
        assert!(q("../2026-05-01T00:00:00Z"));
        assert!(!q("2026-07-01T00:00:00Z"));
        assert!(!q("2026-01-01T00:00:00Z/.."));
    }
}
