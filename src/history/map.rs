//! The import map: which field of the file holds what (`--map MAP.json`, or the `map` part of the upload).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::crs::Crs;
use crate::incidents::IncidentStatus;

/// What each incident field is read from. Only `id`, `lon`, `lat`, `reported_at`, `category` and `status` are
/// required; `lon`/`lat` may be left out for GeoJSON points (the geometry is the location).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportMap {
    /// The field holding the event's id in the old system (importing the same file twice adds nothing).
    pub id: String,
    /// Longitude field.
    pub lon: Option<String>,
    /// Latitude field.
    pub lat: Option<String>,
    /// Coordinate system of the coordinates: wgs84 (default), cgcs2000, gcj02 or bd09.
    #[schema(value_type = Option<String>, example = "gcj02")]
    #[serde(default, deserialize_with = "crs")]
    pub crs: Option<Crs>,
    /// When it was reported.
    pub reported_at: DateField,
    /// When it was closed (optional).
    pub closed_at: Option<DateField>,
    /// Its category.
    pub category: CategoryMap,
    /// Its final status.
    pub status: StatusMap,
    /// The department that handled it (a register code or name; other names are kept as they are).
    pub department: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Address text.
    pub address: Option<String>,
    /// Priority 1–5 (default 3).
    pub priority: Option<String>,
    /// Who reported it (kept as the caller).
    pub reporter: Option<String>,
    /// How the reporter rated the handling, 1–5 (optional).
    pub satisfaction: Option<String>,
    /// Text encoding of a CSV: utf-8, gbk or gb18030 (default: UTF-8 when the file is valid UTF-8, else GB18030).
    pub encoding: Option<String>,
    /// Which sheet of a workbook (default the first).
    pub sheet: Option<String>,
}

/// A date field and how to read it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateField {
    /// The field.
    pub field: String,
    /// strftime format, e.g. `%m/%d/%Y %H:%M:%S` (default: RFC 3339, or `%Y-%m-%d %H:%M:%S`), or `unix_s` / `unix_ms`
    /// for seconds / milliseconds since 1970 (UTC). Spreadsheet date cells need none.
    pub format: Option<String>,
    /// The offset of local times, e.g. `+08:00` (default `+08:00`; ignored for RFC 3339 values).
    pub utc_offset: Option<String>,
}

/// The category field, and how its values become categories.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryMap {
    /// The field.
    pub field: String,
    /// Source value → category code (values already equal to a category code need no entry).
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// What an unmapped value does: `reject` (default: the row is bad) or `add` (kept as a category of its own).
    #[serde(default)]
    pub new: NewCategories,
}

/// What an unmapped category value does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NewCategories {
    /// The row is bad.
    #[default]
    Reject,
    /// The value is kept as a category of its own.
    Add,
}

/// The status field and its values.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusMap {
    /// The field.
    pub field: String,
    /// Source value → status (`reported`, `dispatched`, `on_scene`, `resolved`, `closed`, `cancelled`); values already
    /// equal to a status name need no entry.
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"网格员关闭": "closed", "处置中": "dispatched"}))]
    pub values: BTreeMap<String, IncidentStatus>,
}

fn crs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Crs>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| s.parse().map_err(serde::de::Error::custom)).transpose()
}

/// A map that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// Not JSON of the expected shape.
    #[error("the import map: {0}")]
    Json(String),
    /// It names a field the file does not have.
    #[error("the import map's {role} names field {field:?}, which the file does not have; its fields: {fields}")]
    NoSuchField {
        /// What the field is for (`id`, `reported_at`, …).
        role: &'static str,
        /// The name given.
        field: String,
        /// The file's fields.
        fields: String,
    },
    /// A category value mapped to a category that is not configured.
    #[error(
        "the import map's category.values maps {source_value:?} to {category:?}, which is not a configured category; accepted: {accepted}"
    )]
    UnknownCategory {
        /// The source value.
        source_value: String,
        /// The category named.
        category: String,
        /// The configured list.
        accepted: String,
    },
    /// A bad `utc_offset`.
    #[error("the import map's {role}.utc_offset {given:?} is not an offset such as +08:00")]
    Offset {
        /// Which date.
        role: &'static str,
        /// What was given.
        given: String,
    },
    /// Neither lon/lat fields nor point geometry.
    #[error("the import map names no lon and lat fields and the file has no point geometry")]
    NoLocation,
}

impl ImportMap {
    /// Parses a map file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, MapError> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            MapError::Json(if path == "." { inner.to_string() } else { format!("{path}: {inner}") })
        })
    }
}

/// Parses `+08:00`, `-05:00`, `+8` or `8` into an offset.
pub(crate) fn parse_offset(role: &'static str, given: Option<&str>) -> Result<time::UtcOffset, MapError> {
    let Some(text) = given.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    };
    let bad = || MapError::Offset { role, given: text.to_owned() };
    let (sign, rest) = match text.as_bytes()[0] {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    time::UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad())
}
