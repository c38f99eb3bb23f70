//! The file's own polygons for a map before the import (`preview=true` on a dry run): every feature read, in WGS84
//! whatever the file's coordinate system, simplified to about a metre so a district's file stays a small answer.

use geo::Simplify;
use serde_json::{Value, json};

use crate::layers::Feature;

/// Most features a preview carries; beyond that `truncated` says how many were left out.
pub const MAX_PREVIEW_FEATURES: usize = 20_000;

/// Tolerance of the preview's simplification, in degrees (~1 m at the equator; finer than a console pixel at z18).
const PREVIEW_TOLERANCE_DEG: f64 = 1e-5;

/// A GeoJSON FeatureCollection of the features with `code`, `name` and `parent_code`.
pub fn preview(features: &[Feature]) -> Value {
    let shown: Vec<Value> = features
        .iter()
        .take(MAX_PREVIEW_FEATURES)
        .map(|f| {
            let simple = f.geometry.simplify(PREVIEW_TOLERANCE_DEG);
            // A part too small to survive keeps its original rings.
            let geometry = if simple.0.len() == f.geometry.0.len() { simple } else { f.geometry.clone() };
            // One part is a Polygon, as the file most likely had it.
            let geometry = match geometry.0.as_slice() {
                [one] => geojson::Geometry::from(one),
                _ => geojson::Geometry::from(&geometry),
            };
            json!({
                "type": "Feature",
                "properties": {"code": f.code, "name": f.name, "parent_code": f.parent_code},
                "geometry": geometry,
            })
        })
        .collect();
    json!({
        "type": "FeatureCollection",
        "features": shown,
        "truncated": features.len().saturating_sub(MAX_PREVIEW_FEATURES),
    })
}

#[cfg(test)]
mod tests {
    use geo::{MultiPolygon, polygon};

    use super::*;

    #[test]
    fn features_come_with_their_codes_and_simplified_rings() {
        // A square with a point 0.1 m off its edge: the point goes, the square stays.
        let square = polygon![
            (x: 118.0, y: 32.0),
            (x: 118.001, y: 32.000_000_9),
            (x: 118.002, y: 32.0),
            (x: 118.002, y: 32.002),
            (x: 118.0, y: 32.002),
            (x: 118.0, y: 32.0),
        ];
        let f = Feature {
            code: "G1".into(),
            name: "一网格".into(),
            parent_code: Some("C1".into()),
            geometry: MultiPolygon(vec![square]),
            properties: Default::default(),
        };
        let fc = preview(&[f]);
        assert_eq!(fc["features"][0]["properties"], json!({"code": "G1", "name": "一网格", "parent_code": "C1"}));
        assert_eq!(fc["features"][0]["geometry"]["type"], "Polygon");
        let ring = fc["features"][0]["geometry"]["coordinates"][0].as_array().expect("ring").len();
        assert_eq!(ring, 5, "{fc}");
        assert_eq!(fc["truncated"], 0);
    }
}
