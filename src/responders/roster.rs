//! Responder sets from files, for drills and for bringing a roster in at once: CSV (header row; columns `name`,
//! `kind`, `skills` (separated by `;` or `|`), `team`, `home_grid`, `status`, `lon`, `lat`, `at`) or a GeoJSON
//! FeatureCollection of points with the same properties (`skills` may be an array). Errors name the file, the row or
//! feature and the field; a file with any error loads nothing.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{NewResponder, ResponderStatus};
use crate::coord::LonLat;
use crate::crs::Crs;

/// Columns a CSV roster may have.
pub const COLUMNS: &[&str] = &["name", "kind", "skills", "team", "home_grid", "status", "lon", "lat", "at"];

/// Why a roster file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// Neither CSV nor GeoJSON.
    #[error("{file}: not a CSV (header row with name,kind,…) or GeoJSON FeatureCollection of points")]
    Format {
        /// File name.
        file: String,
    },
    /// The file as a whole is unreadable.
    #[error("{file}: {problem}")]
    File {
        /// File name.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// One record is wrong.
    #[error("{file}: {record}: field {field}: {problem}")]
    Field {
        /// File name.
        file: String,
        /// `row N` (1-based, header is row 1) or `feature N` (0-based).
        record: String,
        /// The field.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

/// One record's values, whatever the format.
#[derive(Default)]
struct Record {
    name: Option<String>,
    kind: Option<String>,
    skills: Vec<String>,
    team: Option<String>,
    home_grid: Option<String>,
    status: Option<String>,
    lon: Option<String>,
    lat: Option<String>,
    at: Option<String>,
}

/// Parses a roster; `crs` is the coordinate system of its positions; `now` stamps positions without `at`.
pub fn parse(file: &str, bytes: &[u8], crs: Crs, now: OffsetDateTime) -> Result<Vec<NewResponder>, RosterError> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).map_err(|e| {
        RosterError::File { file: file.into(), problem: format!("not UTF-8 text ({e}); save it as UTF-8") }
    })?;
    let records =
        if text.trim_start().starts_with('{') { geojson_records(file, text)? } else { csv_records(file, text)? };
    records.into_iter().map(|(record, r)| build(file, &record, r, crs, now)).collect()
}

fn field_err(file: &str, record: &str, field: &str, problem: impl Into<String>) -> RosterError {
    RosterError::Field { file: file.into(), record: record.into(), field: field.into(), problem: problem.into() }
}

fn split_skills(s: &str) -> Vec<String> {
    s.split([';', '|', '；']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn csv_records(file: &str, text: &str) -> Result<Vec<(String, Record)>, RosterError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers =
        reader.headers().map_err(|e| RosterError::File { file: file.into(), problem: e.to_string() })?.clone();
    if !headers.iter().any(|h| h == "name") {
        return Err(RosterError::Format { file: file.into() });
    }
    if let Some(unknown) = headers.iter().find(|h| !COLUMNS.contains(h)) {
        return Err(RosterError::File {
            file: file.into(),
            problem: format!("unknown column {unknown:?}; columns are {}", COLUMNS.join(", ")),
        });
    }
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let label = format!("row {}", i + 2);
        let row = row.map_err(|e| RosterError::File { file: file.into(), problem: format!("{label}: {e}") })?;
        let mut r = Record::default();
        for (h, v) in headers.iter().zip(row.iter()) {
            let v = (!v.is_empty()).then(|| v.to_owned());
            match h {
                "name" => r.name = v,
                "kind" => r.kind = v,
                "skills" => r.skills = v.as_deref().map(split_skills).unwrap_or_default(),
                "team" => r.team = v,
                "home_grid" => r.home_grid = v,
                "status" => r.status = v,
                "lon" => r.lon = v,
                "lat" => r.lat = v,
                _ => r.at = v,
            }
        }
        out.push((label, r));
    }
    Ok(out)
}

fn geojson_records(file: &str, text: &str) -> Result<Vec<(String, Record)>, RosterError> {
    let fc: geojson::FeatureCollection = text
        .parse::<geojson::GeoJson>()
        .map_err(|e| RosterError::File { file: file.into(), problem: format!("GeoJSON: {e}") })?
        .try_into()
        .map_err(|_| RosterError::Format { file: file.into() })?;
    let mut out = Vec::with_capacity(fc.features.len());
    for (i, f) in fc.features.into_iter().enumerate() {
        let label = format!("feature {i}");
        let text = |key: &str| -> Result<Option<String>, RosterError> {
            match f.property(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok((!s.trim().is_empty()).then(|| s.trim().to_owned())),
                Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
                Some(other) => Err(field_err(file, &label, key, format!("expected text, found {other}"))),
            }
        };
        let skills = match f.property("skills") {
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| field_err(file, &label, "skills", format!("expected text items, found {s}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => text("skills")?.as_deref().map(split_skills).unwrap_or_default(),
        };
        let (lon, lat) = match f.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::Point { coordinates }) if coordinates.as_slice().len() >= 2 => {
                let c = coordinates.as_slice();
                (Some(c[0].to_string()), Some(c[1].to_string()))
            }
            None => (None, None),
            Some(_) => return Err(field_err(file, &label, "geometry", "expected a Point")),
        };
        let r = Record {
            name: text("name")?,
            kind: text("kind")?,
            skills,
            team: text("team")?,
            home_grid: text("home_grid")?,
            status: text("status")?,
            lon,
            lat,
            at: text("at")?,
        };
        out.push((label, r));
    }
    Ok(out)
}

fn build(file: &str, label: &str, r: Record, crs: Crs, now: OffsetDateTime) -> Result<NewResponder, RosterError> {
    let err = |field: &str, problem: String| field_err(file, label, field, problem);
    let name = r.name.ok_or_else(|| err("name", "is required".into()))?;
    let kind = r.kind.ok_or_else(|| err("kind", "is required (grid_worker, enforcement, vehicle, …)".into()))?;
    let status = match r.status.as_deref() {
        None => ResponderStatus::Available,
        Some(s) => s.parse().map_err(|e: super::UnknownResponderStatus| err("status", e.to_string()))?,
    };
    let number = |field: &str, v: &str| v.parse::<f64>().map_err(|_| err(field, format!("{v:?} is not a number")));
    let position = match (r.lon.as_deref(), r.lat.as_deref()) {
        (None, None) => None,
        (Some(x), Some(y)) => {
            let (lon, lat) = crs.to_wgs84(number("lon", x)?, number("lat", y)?);
            let p = LonLat::new(lon, lat).map_err(|e| err("lon/lat", e.to_string()))?;
            let at = match r.at.as_deref() {
                None => now,
                Some(t) => OffsetDateTime::parse(t, &Rfc3339)
                    .map_err(|e| err("at", format!("{t:?} is not an RFC 3339 time with offset: {e}")))?,
            };
            Some((p, at))
        }
        (Some(_), None) => return Err(err("lat", "is required when lon is given".into())),
        (None, Some(_)) => return Err(err("lon", "is required when lat is given".into())),
    };
    Ok(NewResponder { name, kind, skills: r.skills, team: r.team, home_grid: r.home_grid, status, position })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn csv_with_bom_chinese_names_and_skill_lists() {
        let text = "\u{FEFF}name,kind,skills,team,home_grid,status,lon,lat\n\
                    张三,grid_worker,fire;first_aid,一队,320104001001001,,118.79,32.02\n\
                    \"李, 四\",vehicle,,,,off_duty,,\n";
        let got = parse("drill.csv", text.as_bytes(), Crs::Wgs84, now()).expect("valid");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].skills, vec!["fire", "first_aid"]);
        assert_eq!(got[0].team.as_deref(), Some("一队"));
        assert_eq!(got[0].status, ResponderStatus::Available);
        assert_eq!(got[1].name, "李, 四");
        assert_eq!((got[1].status, got[1].position.is_none()), (ResponderStatus::OffDuty, true));
    }

    #[test]
    fn errors_name_file_record_and_field() {
        let e = parse("drill.csv", b"name,kind,lon,lat\na,grid_worker,118.8,abc\n", Crs::Wgs84, now())
            .expect_err("bad lat");
        assert_eq!(e.to_string(), "drill.csv: row 2: field lat: \"abc\" is not a number");
        let e = parse("drill.csv", b"name,kind,speed\na,b,3\n", Crs::Wgs84, now()).expect_err("unknown column");
        assert!(e.to_string().contains("\"speed\""), "{e}");
        let gj = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[118.8,32.0]},"properties":{"name":"a","kind":"grid_worker","status":"sleeping"}}]}"#;
        let e = parse("drill.geojson", gj.as_bytes(), Crs::Wgs84, now()).expect_err("bad status");
        assert!(e.to_string().starts_with("drill.geojson: feature 0: field status:"), "{e}");
    }

    #[test]
    fn geojson_points_with_skill_arrays_and_gcj02() {
        let gj = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[118.8,32.0]},"properties":{"name":"a","kind":"vehicle","skills":["fire"],"team":"消防"}}]}"#;
        let got = parse("d.geojson", gj.as_bytes(), Crs::Gcj02, now()).expect("valid");
        let (p, _) = got[0].position.expect("position");
        assert!((p.lon() - 118.8).abs() > 1e-4, "GCJ-02 input is shifted back to WGS84");
        assert_eq!(got[0].skills, vec!["fire"]);
    }
}
