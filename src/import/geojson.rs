//! GeoJSON reader: FeatureCollection, a single Feature, or a bare geometry (optionally with a `properties` member).

use ::geojson::{Feature as GjFeature, GeoJson, Geometry, GeometryValue, JsonObject, PolygonType};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use super::feature::keys;
use super::{ImportError, Kind, Parsed, Problem, ReadOptions, Report};
use crate::crs::{ImportCrs, Reprojector};
use crate::layers::Feature;

pub(super) fn read(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Parsed, ImportError> {
    let gj: GeoJson = serde_json::from_slice(bytes)
        .map_err(|e| ImportError::Parse { file: file.to_owned(), reason: e.to_string() })?;
    let (raw, foreign) = match gj {
        GeoJson::FeatureCollection(fc) => (fc.features, fc.foreign_members),
        GeoJson::Feature(f) => (vec![f], None),
        GeoJson::Geometry(g) => {
            let properties = match g.foreign_members.as_ref().and_then(|m| m.get("properties")) {
                Some(Value::Object(p)) => Some(p.clone()),
                _ => None,
            };
            (vec![GjFeature { geometry: Some(g), properties, ..GjFeature::default() }], None)
        }
    };
    let crs = match &options.crs {
        Some(c) => c.clone(),
        None => declared_crs(foreign.as_ref()).map_err(|reason| ImportError::Crs { file: file.to_owned(), reason })?,
    };
    let reprojector = crs.reprojector().map_err(|e| ImportError::crs(file, e))?;

    let mut report = Report::new(file, options.layer);
    report.features = raw.len();
    let mut parsed = Parsed::new(report);
    for (i, f) in raw.into_iter().enumerate() {
        if let Some(feature) = convert(i, f, options, &reprojector, &mut parsed.report) {
            parsed.features.push(feature);
            parsed.source_index.push(i);
        }
    }
    Ok(parsed)
}

/// The coordinate system named by an old-style (GeoJSON 2008) `crs` member; RFC 7946 files have none: WGS84.
fn declared_crs(foreign: Option<&JsonObject>) -> Result<ImportCrs, String> {
    let Some(crs) = foreign.and_then(|m| m.get("crs")) else {
        return Ok(ImportCrs::Named(crate::crs::Crs::Wgs84));
    };
    let name = crs.pointer("/properties/name").and_then(Value::as_str).unwrap_or_default();
    ImportCrs::from_urn(name).map_err(|e| {
        format!("the file's crs member names {name:?}, which gridmap cannot convert ({e}); pass --crs to override")
    })
}

fn convert(i: usize, f: GjFeature, options: &ReadOptions, crs: &Reprojector, report: &mut Report) -> Option<Feature> {
    let (code, name, parent_code) = keys(i, f.properties.as_ref(), options, report)?;
    let c = Some(code.as_str());
    let geometry = match f.geometry {
        None => {
            report.error(Problem::at(Kind::UnreadableGeometry, i, c, "geometry", "geometry is empty (null)"));
            return None;
        }
        Some(g) => match multipolygon(&g, crs, options.fix) {
            Ok((mp, closed)) => {
                if closed > 0 {
                    report.warn(Problem::at(
                        Kind::Fixed,
                        i,
                        c,
                        "geometry",
                        format!("fixed: {closed} unclosed ring(s) closed"),
                    ));
                }
                mp
            }
            Err(message) => {
                report.error(Problem::at(Kind::UnreadableGeometry, i, c, "geometry", message));
                return None;
            }
        },
    };
    let mut properties = f.properties.unwrap_or_default();
    super::feature::drop_keys(&mut properties, options);
    Some(Feature { code, name, parent_code, geometry, properties })
}

/// The polygons of a geometry in WGS84, and how many rings `fix` closed (an unclosed ring is an error without it).
fn multipolygon(g: &Geometry, crs: &Reprojector, fix: bool) -> Result<(MultiPolygon<f64>, usize), String> {
    let mut closed = 0;
    let polygons: Vec<&PolygonType> = match &g.value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        other => {
            return Err(format!("geometry is a {}; a boundary must be a Polygon or MultiPolygon", other.type_name()));
        }
    };
    if polygons.is_empty() {
        return Err("geometry is an empty MultiPolygon".into());
    }
    let mut out = Vec::with_capacity(polygons.len());
    for (pi, rings) in polygons.into_iter().enumerate() {
        let Some((exterior, interiors)) = rings.split_first() else {
            return Err(format!("polygon {pi} has no rings"));
        };
        let mut ring = |ri: usize, positions: &Vec<::geojson::Position>| -> Result<LineString<f64>, String> {
            let at = format!("polygon {pi}, ring {ri}");
            if positions.len() < 4 {
                return Err(format!("{at} has {} positions; a ring needs at least 4 (first = last)", positions.len()));
            }
            let mut coords = Vec::with_capacity(positions.len());
            for (k, p) in positions.iter().enumerate() {
                let &[x, y, ..] = p.as_slice() else {
                    return Err(format!("{at}, position {k} has fewer than 2 numbers"));
                };
                let (lon, lat) = crs.to_wgs84(x, y).map_err(|m| format!("{at}, position {k}: {m}"))?;
                coords.push(Coord { x: lon, y: lat });
            }
            if coords.first() != coords.last() {
                if !fix {
                    return Err(format!("{at} is not closed: its first and last positions differ (--fix closes it)"));
                }
                coords.push(coords[0]);
                closed += 1;
            }
            Ok(LineString(coords))
        };
        let ext = ring(0, exterior)?;
        let ints = interiors.iter().enumerate().map(|(k, r)| ring(k + 1, r)).collect::<Result<Vec<_>, _>>()?;
        out.push(Polygon::new(ext, ints));
    }
    Ok((MultiPolygon(out), closed))
}
