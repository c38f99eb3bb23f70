//! `crs` on the way out: answers carry WGS84; with `crs=gcj02` (or bd09, cgcs2000) every `location` pair and every
//! GeoJSON `geometry` in the answer is converted before it is sent, and a `bbox` parameter is read in that system.

use serde_json::Value;

use super::ApiError;
use crate::crs::Crs;

/// `?crs=` of a read that takes no other parameters.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct View {
    crs: Option<String>,
}

impl View {
    /// The system asked for (WGS84 when none).
    pub(super) fn crs(&self) -> Result<Crs, ApiError> {
        super::locate::parse_crs(self.crs.as_deref())
    }
}

/// Converts the coordinates of an answer from WGS84 to `crs` in place.
pub(super) fn out(v: &mut Value, crs: Crs) {
    if crs == Crs::Wgs84 || crs == Crs::Cgcs2000 {
        return;
    }
    walk(v, crs);
}

fn walk(v: &mut Value, crs: Crs) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    "location" => position(value, crs),
                    "geometry" => {
                        if let Some(c) = value.get_mut("coordinates") {
                            positions(c, crs);
                        }
                    }
                    _ => walk(value, crs),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, crs)),
        _ => {}
    }
}

fn position(v: &mut Value, crs: Crs) {
    if let Some([x, y]) = v.as_array().and_then(|a| Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?])) {
        let (a, b) = crs.from_wgs84(x, y);
        v[0] = a.into();
        v[1] = b.into();
    }
}

fn positions(v: &mut Value, crs: Crs) {
    match v.as_array_mut() {
        Some(a) if a.first().is_some_and(Value::is_number) => position(v, crs),
        Some(a) => a.iter_mut().for_each(|p| positions(p, crs)),
        None => {}
    }
}

/// A list answer `{"items", "next_cursor"}` in `crs`: the cursor is the last item's id when the page is full.
pub(super) fn page<T: serde::Serialize>(
    items: &[T],
    limit: u32,
    cursor_of: impl Fn(&T) -> Value,
    crs: Crs,
) -> axum::Json<Value> {
    let next_cursor = (items.len() == limit as usize).then(|| items.last().map(cursor_of)).flatten();
    let mut v = serde_json::json!({"items": items, "next_cursor": next_cursor});
    out(&mut v, crs);
    axum::Json(v)
}

/// The answer of a list whose filter asks for something outside the caller's scope.
pub(super) fn empty_page() -> axum::Json<Value> {
    axum::Json(serde_json::json!({"items": [], "next_cursor": null}))
}

/// A `bbox` given in `crs`, as WGS84 corners.
pub(super) fn bbox_in(raw: &str, crs: Crs) -> Result<[f64; 4], ApiError> {
    let [a, b, c, d] = super::params::bbox_param(raw)?;
    let (x0, y0) = crs.to_wgs84(a, b);
    let (x1, y1) = crs.to_wgs84(c, d);
    Ok([x0, y0, x1, y1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_geometries_are_converted() {
        let mut v = serde_json::json!({"items": [{"location": [118.79, 32.02], "name": "x",
            "geometry": {"type": "Polygon", "coordinates": [[[118.79, 32.02], [118.8, 32.02], [118.79, 32.03], [118.79, 32.02]]]}}]});
        out(&mut v, Crs::Gcj02);
        let (gx, gy) = Crs::Gcj02.from_wgs84(118.79, 32.02);
        assert_eq!(v["items"][0]["location"], serde_json::json!([gx, gy]));
        assert_eq!(v["items"][0]["geometry"]["coordinates"][0][0], serde_json::json!([gx, gy]));
        assert_eq!(v["items"][0]["name"], "x");
    }
}
