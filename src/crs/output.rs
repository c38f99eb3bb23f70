//! Answers in another coordinate system (`?crs=gcj02` on a read). Data stays WGS84 everywhere; only the typed
//! coordinate fields of an answer — [`Position`] and [`GeometryOut`] — are converted, while the answer is being
//! serialised inside [`written_in`]. Nothing else in an answer is touched, whatever its key is called.

use std::cell::Cell;
use std::ops::Deref;

use serde::{Deserialize, Serialize, Serializer};

use super::Crs;

thread_local! {
    static OUTPUT: Cell<Crs> = const { Cell::new(Crs::Wgs84) };
}

/// Runs `f` — the serialisation of an answer — with its [`Position`]s and [`GeometryOut`]s written in `crs`.
/// Serialisation is synchronous, so the setting cannot leak to another request on the same thread.
pub fn written_in<R>(crs: Crs, f: impl FnOnce() -> R) -> R {
    struct Restore(Crs);
    impl Drop for Restore {
        fn drop(&mut self) {
            OUTPUT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(OUTPUT.with(|c| c.replace(crs)));
    f()
}

fn out(x: f64, y: f64) -> (f64, f64) {
    match OUTPUT.with(Cell::get) {
        Crs::Wgs84 | Crs::Cgcs2000 => (x, y),
        crs => crs.from_wgs84(x, y),
    }
}

/// A stored `[lon, lat]` in WGS84, written in the answer's coordinate system.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, utoipa::ToSchema)]
#[schema(value_type = [f64; 2], example = json!([118.79, 32.02]))]
pub struct Position(pub [f64; 2]);

impl Position {
    /// From longitude and latitude.
    pub fn new(lon: f64, lat: f64) -> Self {
        Self([lon, lat])
    }
}

impl Deref for Position {
    type Target = [f64; 2];

    fn deref(&self) -> &[f64; 2] {
        &self.0
    }
}

impl From<[f64; 2]> for Position {
    fn from(p: [f64; 2]) -> Self {
        Self(p)
    }
}

impl From<crate::coord::LonLat> for Position {
    fn from(p: crate::coord::LonLat) -> Self {
        Self([p.lon(), p.lat()])
    }
}

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (x, y) = out(self.0[0], self.0[1]);
        [x, y].serialize(s)
    }
}

/// A GeoJSON geometry (WGS84 inside), written in the answer's coordinate system.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[schema(value_type = Object, example = json!({"type": "Point", "coordinates": [118.79, 32.02]}))]
pub struct GeometryOut(pub serde_json::Value);

impl Serialize for GeometryOut {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if matches!(OUTPUT.with(Cell::get), Crs::Wgs84 | Crs::Cgcs2000) {
            return self.0.serialize(s);
        }
        let mut v = self.0.clone();
        if let Some(c) = v.get_mut("coordinates") {
            convert(c);
        }
        if let Some(parts) = v.get_mut("geometries").and_then(serde_json::Value::as_array_mut) {
            for part in parts {
                if let Some(c) = part.get_mut("coordinates") {
                    convert(c);
                }
            }
        }
        v.serialize(s)
    }
}

fn convert(v: &mut serde_json::Value) {
    let Some(items) = v.as_array_mut() else { return };
    if let [serde_json::Value::Number(x), serde_json::Value::Number(y), ..] = items.as_slice()
        && let (Some(x), Some(y)) = (x.as_f64(), y.as_f64())
    {
        let (a, b) = out(x, y);
        items[0] = a.into();
        items[1] = b.into();
        return;
    }
    items.iter_mut().for_each(convert);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Answer {
        location: Position,
        geometry: GeometryOut,
        /// Not a typed coordinate: never converted, whatever its name.
        other: [f64; 2],
    }

    #[test]
    fn only_typed_fields_are_converted_and_only_inside_written_in() {
        let a = Answer {
            location: Position::new(118.79, 32.02),
            geometry: GeometryOut(
                serde_json::json!({"type": "LineString", "coordinates": [[118.79, 32.02], [118.8, 32.03]]}),
            ),
            other: [118.79, 32.02],
        };
        let (gx, gy) = Crs::Gcj02.from_wgs84(118.79, 32.02);
        let v = written_in(Crs::Gcj02, || serde_json::to_value(&a)).expect("json");
        assert_eq!(v["location"], serde_json::json!([gx, gy]));
        assert_eq!(v["geometry"]["coordinates"][0], serde_json::json!([gx, gy]));
        assert_eq!(v["other"], serde_json::json!([118.79, 32.02]));
        let plain = serde_json::to_value(&a).expect("json");
        assert_eq!(plain["location"], serde_json::json!([118.79, 32.02]), "outside written_in: WGS84");
    }
}
