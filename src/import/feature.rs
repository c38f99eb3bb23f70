//! What every reader shares: taking code, name and parent code from the attributes, and turning a source geometry
//! into a WGS84 MultiPolygon (reprojected, Z/M already dropped by the readers, rings checked).

use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use super::{Kind, Problem, ReadOptions, Report};
use crate::crs::Reprojector;
use crate::layers::Feature;

/// Attribute values of one feature.
pub(super) type Properties = serde_json::Map<String, Value>;

/// Text of an attribute: strings as they are, numbers printed (integral floats without `.0`), null/missing as `None`.
pub(super) fn text(props: Option<&Properties>, field: &str) -> Option<String> {
    value_text(props?.get(field)?)
}

/// Text of an attribute value (see [`text`]); empty strings, null, arrays and objects are `None`.
pub(super) fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Code, name and parent code of feature `i`, or `None` (with an error in the report) when its code is missing; a
/// missing parent code is an error too, but the feature is kept.
pub(super) fn keys(
    i: usize,
    props: Option<&Properties>,
    options: &ReadOptions,
    report: &mut Report,
) -> Option<(String, String, Option<String>)> {
    report.observed.add(props);
    let Some(code) = text(props, &options.code_field) else {
        report.observed.missing_keys = true;
        let keys: Vec<&str> = props.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
        report.error(Problem::at(
            Kind::NoCode,
            i,
            None,
            &options.code_field,
            format!(
                "no code: attribute {:?} is missing or empty (attributes present: {keys:?}); choose another with --code-field",
                options.code_field
            ),
        ));
        return None;
    };
    let c = Some(code.as_str());
    let name = text(props, &options.name_field).unwrap_or_else(|| {
        report.warn(Problem::at(Kind::NoName, i, c, &options.name_field, "no name; the code is used as name"));
        code.clone()
    });
    // With `--parent-from` the parent layer gives the parent code later (see `parents`).
    let parent_code = options.parent_from.is_none().then(|| text(props, &options.parent_field)).flatten();
    if parent_code.is_none() && options.layer.parent().is_some() && options.parent_from.is_none() {
        report.observed.missing_keys = true;
        report.error(Problem::at(
            Kind::NoParent,
            i,
            c,
            &options.parent_field,
            format!(
                "no parent code: attribute {:?} is missing or empty; every {} names its parent",
                options.parent_field, options.layer
            ),
        ));
        // Kept without a parent (the report is already invalid, nothing is written) so that the checks that
        // suggest `--parent-from` can compare the codes with the locations.
    }
    Some((code, name, parent_code))
}

/// Builds feature `i` from its attributes and its geometry in the file's coordinate system.
pub(super) fn build(
    i: usize,
    props: Properties,
    geometry: Option<Geometry<f64>>,
    options: &ReadOptions,
    reprojector: &Reprojector,
    report: &mut Report,
) -> Option<Feature> {
    let (code, name, parent_code) = keys(i, Some(&props), options, report)?;
    let geometry = match geometry.map(|g| multipolygon(g, reprojector)) {
        None => Err("geometry is empty (null)".to_owned()),
        Some(r) => r,
    };
    let geometry = match geometry {
        Ok(g) => g,
        Err(message) => {
            report.error(Problem::at(Kind::UnreadableGeometry, i, Some(&code), "geometry", message));
            return None;
        }
    };
    let mut properties = props;
    drop_keys(&mut properties, options);
    Some(Feature { code, name, parent_code, geometry, properties })
}

/// Removes the attributes that became code, name and parent code; the others travel with the feature.
pub(super) fn drop_keys(properties: &mut Properties, options: &ReadOptions) {
    properties.remove(options.code_field.as_str());
    properties.remove(options.name_field.as_str());
    if options.parent_from.is_none() {
        properties.remove(options.parent_field.as_str());
    }
}

/// A geometry as a WGS84 MultiPolygon; anything but (Multi)Polygons, or a collection of them, is refused.
pub(super) fn multipolygon(g: Geometry<f64>, reprojector: &Reprojector) -> Result<MultiPolygon<f64>, String> {
    let mut polygons = Vec::new();
    collect(g, &mut polygons)?;
    if polygons.is_empty() {
        return Err("geometry is empty (no polygon)".into());
    }
    let mut out = Vec::with_capacity(polygons.len());
    for (pi, p) in polygons.into_iter().enumerate() {
        let (exterior, interiors) = p.into_inner();
        let ring = |ri: usize, ls: LineString<f64>| -> Result<LineString<f64>, String> {
            let at = format!("polygon {pi}, ring {ri}");
            if ls.0.len() < 4 {
                return Err(format!("{at} has {} positions; a ring needs at least 4 (first = last)", ls.0.len()));
            }
            let mut coords = Vec::with_capacity(ls.0.len());
            for (k, c) in ls.0.into_iter().enumerate() {
                let (x, y) = reprojector.to_wgs84(c.x, c.y).map_err(|m| format!("{at}, position {k}: {m}"))?;
                coords.push(Coord { x, y });
            }
            Ok(LineString(coords))
        };
        let ext = ring(0, exterior)?;
        let ints = interiors.into_iter().enumerate().map(|(k, r)| ring(k + 1, r)).collect::<Result<Vec<_>, _>>()?;
        out.push(Polygon::new(ext, ints));
    }
    Ok(MultiPolygon(out))
}

fn collect(g: Geometry<f64>, into: &mut Vec<Polygon<f64>>) -> Result<(), String> {
    match g {
        Geometry::Polygon(p) => into.push(p),
        Geometry::MultiPolygon(mp) => into.extend(mp.0),
        Geometry::GeometryCollection(gc) => {
            for g in gc.0 {
                collect(g, into)?;
            }
        }
        other => {
            let kind = match other {
                Geometry::Point(_) => "Point",
                Geometry::MultiPoint(_) => "MultiPoint",
                Geometry::LineString(_) | Geometry::Line(_) => "LineString",
                Geometry::MultiLineString(_) => "MultiLineString",
                _ => "non-polygon geometry",
            };
            return Err(format!("geometry is a {kind}; a boundary must be a Polygon or MultiPolygon"));
        }
    }
    Ok(())
}
