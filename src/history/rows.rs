//! From a table and a map to incidents to store: every row checked (a bad row is reported with its row number and
//! field, and the file is refused), every category and status value counted, mapped or not.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use time::OffsetDateTime;

use super::map::{DateField, ImportMap, MapError, NewCategories, parse_offset};
use super::table::{Cell, Table};
use crate::coord::LonLat;
use crate::crs::Crs;
use crate::incidents::{Categories, Deadlines, Geocode, IncidentStatus};

/// Bad rows listed in a report (all are counted).
pub const MAX_LISTED_ERRORS: usize = 1000;

/// A row ready to store.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// Id in the old system.
    pub external_id: String,
    /// Category code.
    pub category: String,
    /// Final status.
    pub status: IncidentStatus,
    /// 1–5.
    pub priority: i32,
    /// Free text.
    pub description: String,
    /// Address text.
    pub address: Option<String>,
    /// The reporter.
    pub caller: Option<String>,
    /// Department code (register) or name (as the file has it).
    pub department: Option<String>,
    /// Location in WGS84.
    pub location: LonLat,
    /// Codes at the location.
    pub geocode: Geocode,
    /// Report time.
    pub reported_at: OffsetDateTime,
    /// Close time, when the file has one.
    pub closed_at: Option<OffsetDateTime>,
    /// The policy's deadline from the report time.
    pub due_at: Option<OffsetDateTime>,
    /// The reporter's rating, when the file has one.
    pub satisfaction: Option<i32>,
}

impl HistoryRow {
    /// When it was resolved: its close time, when it ended resolved or closed.
    pub fn resolved_at(&self) -> Option<OffsetDateTime> {
        matches!(self.status, IncidentStatus::Resolved | IncidentStatus::Closed).then_some(self.closed_at).flatten()
    }
}

/// A bad row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// Row number (spreadsheet numbering, the header being row 1; for GeoJSON, the feature number from 1).
    pub row: usize,
    /// The file's field.
    pub field: String,
    /// The value found.
    pub value: String,
    /// What is wrong.
    pub message: String,
}

/// A source value that was mapped.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MappedValue {
    /// What it became.
    pub to: String,
    /// Rows with it.
    pub rows: usize,
}

/// The values of a mapped field.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ValueCounts {
    /// Source value → what it became and how many rows have it.
    pub mapped: BTreeMap<String, MappedValue>,
    /// Every value the map does not cover → rows (each such row is bad).
    pub unmapped: BTreeMap<String, usize>,
    /// Values kept as new categories (`"new": "add"`) → rows.
    pub added: BTreeMap<String, usize>,
}

/// What checking a file found.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// The good rows.
    pub rows: Vec<HistoryRow>,
    /// Rows in the file.
    pub total: usize,
    /// Category values.
    pub categories: ValueCounts,
    /// Status values.
    pub statuses: ValueCounts,
    /// Departments named → rows.
    pub departments: BTreeMap<String, usize>,
    /// Bad rows (at most [`MAX_LISTED_ERRORS`]).
    pub errors: Vec<RowError>,
    /// All bad cells, listed or not.
    pub error_count: usize,
}

/// What a row is checked against.
pub struct Context<'a> {
    /// Configured categories.
    pub categories: &'a Categories,
    /// The register as `(code, name)`.
    pub departments: &'a [(String, String)],
    /// The policy's deadlines.
    pub deadlines: &'a Deadlines,
    /// Geocodes a point (`Err`: why it is refused, e.g. outside the service area).
    pub geocode: &'a (dyn Fn(LonLat) -> Result<Geocode, String> + Sync),
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("categories", self.categories).field("departments", &self.departments).finish()
    }
}

struct Columns {
    id: usize,
    lon: usize,
    lat: usize,
    reported: usize,
    closed: Option<usize>,
    category: usize,
    status: usize,
    department: Option<usize>,
    description: Option<usize>,
    address: Option<usize>,
    priority: Option<usize>,
    reporter: Option<usize>,
    satisfaction: Option<usize>,
}

fn columns(table: &Table, map: &ImportMap) -> Result<Columns, MapError> {
    let find = |role: &'static str, field: &str| {
        table.column(field).ok_or_else(|| MapError::NoSuchField {
            role,
            field: field.to_owned(),
            fields: table.fields.join(", "),
        })
    };
    let optional = |role: &'static str, field: &Option<String>| field.as_deref().map(|f| find(role, f)).transpose();
    let (lon, lat) = match (&map.lon, &map.lat) {
        (Some(x), Some(y)) => (find("lon", x)?, find("lat", y)?),
        _ if table.features => (0, 1),
        _ => return Err(MapError::NoLocation),
    };
    Ok(Columns {
        id: find("id", &map.id)?,
        lon,
        lat,
        reported: find("reported_at", &map.reported_at.field)?,
        closed: map.closed_at.as_ref().map(|d| find("closed_at", &d.field)).transpose()?,
        category: find("category", &map.category.field)?,
        status: find("status", &map.status.field)?,
        department: optional("department", &map.department)?,
        description: optional("description", &map.description)?,
        address: optional("address", &map.address)?,
        priority: optional("priority", &map.priority)?,
        reporter: optional("reporter", &map.reporter)?,
        satisfaction: optional("satisfaction", &map.satisfaction)?,
    })
}

/// A date reader for one mapped field.
struct DateReader {
    format: Option<String>,
    offset: time::UtcOffset,
}

const DEFAULT_FORMATS: &[&str] = &["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"];

impl DateReader {
    fn new(role: &'static str, d: &DateField) -> Result<Self, MapError> {
        Ok(Self { format: d.format.clone(), offset: parse_offset(role, d.utc_offset.as_deref())? })
    }

    fn read(&self, cell: &Cell) -> Result<OffsetDateTime, String> {
        let text = match cell {
            Cell::Date(d) => return Ok(d.assume_offset(self.offset)),
            other => other.text(),
        };
        // Unix times (what JSON feeds and many databases export): absolute, so the offset does not apply.
        let per_second = match self.format.as_deref() {
            Some("unix_s") => Some(1e9),
            Some("unix_ms") => Some(1e6),
            _ => None,
        };
        if let Some(ns_per_unit) = per_second {
            let units = number(cell).ok_or_else(|| "not a number of seconds or milliseconds since 1970".to_owned())?;
            let ns = (units * ns_per_unit).round();
            return (ns.is_finite() && ns.abs() < 1e19)
                .then(|| OffsetDateTime::from_unix_timestamp_nanos(ns as i128).ok())
                .flatten()
                .ok_or_else(|| "outside the years -9999 … 9999".to_owned());
        }
        let local = match &self.format {
            Some(f) => naive(&text, f).ok_or_else(|| format!("not a date in the format {f:?}"))?,
            None => {
                if let Ok(t) = OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339) {
                    return Ok(t);
                }
                DEFAULT_FORMATS
                    .iter()
                    .find_map(|f| naive(&text, f))
                    .ok_or_else(|| "not a date: give the map's format (e.g. \"%m/%d/%Y %H:%M:%S\")".to_owned())?
            }
        };
        Ok(local.assume_offset(self.offset))
    }
}

/// Parses with a strftime format (date-only formats give midnight).
fn naive(text: &str, format: &str) -> Option<time::PrimitiveDateTime> {
    use chrono::{Datelike, Timelike};
    let dt = chrono::NaiveDateTime::parse_from_str(text, format)
        .ok()
        .or_else(|| chrono::NaiveDate::parse_from_str(text, format).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    let month = time::Month::try_from(u8::try_from(dt.month()).ok()?).ok()?;
    let date = time::Date::from_calendar_date(dt.year(), month, u8::try_from(dt.day()).ok()?).ok()?;
    let t = time::Time::from_hms(dt.hour() as u8, dt.minute() as u8, dt.second() as u8).ok()?;
    Some(time::PrimitiveDateTime::new(date, t))
}

fn number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Number(n) => Some(*n),
        other => other.text().parse().ok(),
    }
}

/// Checks every row of `table` through `map`.
pub fn prepare(table: &Table, map: &ImportMap, cx: &Context<'_>) -> Result<Prepared, MapError> {
    let cols = columns(table, map)?;
    for (source, category) in &map.category.values {
        if !cx.categories.contains(category) {
            return Err(MapError::UnknownCategory {
                source_value: source.clone(),
                category: category.clone(),
                accepted: cx.categories.codes().join(", "),
            });
        }
    }
    let reported = DateReader::new("reported_at", &map.reported_at)?;
    let closed = map.closed_at.as_ref().map(|d| DateReader::new("closed_at", d)).transpose()?;
    let crs = map.crs.unwrap_or(Crs::Wgs84);
    let mut out = Prepared { total: table.rows.len(), ..Prepared::default() };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row, &number_of_row) in table.rows.iter().zip(&table.row_numbers) {
        let mut row_errors: Vec<(usize, String)> = Vec::new();
        let mut bad = |col: usize, message: String| row_errors.push((col, message));
        let id = row[cols.id].text();
        if id.is_empty() {
            bad(cols.id, "no id".into());
        } else if let Some(first) = seen.insert(id.clone(), number_of_row) {
            bad(cols.id, format!("the id is also in row {first}"));
        }
        let category_value = row[cols.category].text();
        let category = match map.category.values.get(&category_value) {
            Some(c) => Some(c.clone()),
            None if cx.categories.contains(&category_value) => Some(category_value.clone()),
            None if category_value.is_empty() => {
                bad(cols.category, "no category".into());
                None
            }
            None if map.category.new == NewCategories::Add => {
                *out.categories.added.entry(category_value.clone()).or_default() += 1;
                Some(category_value.clone())
            }
            None => {
                *out.categories.unmapped.entry(category_value.clone()).or_default() += 1;
                bad(cols.category, "not in the map's category.values nor a configured category".into());
                None
            }
        };
        if let Some(c) = &category
            && !out.categories.added.contains_key(&category_value)
        {
            let entry = out.categories.mapped.entry(category_value.clone());
            entry.or_insert_with(|| MappedValue { to: c.clone(), rows: 0 }).rows += 1;
        }
        let status_value = row[cols.status].text();
        let status = match map.status.values.get(&status_value).copied().or_else(|| status_value.parse().ok()) {
            Some(s) => {
                let entry = out.statuses.mapped.entry(status_value.clone());
                entry.or_insert_with(|| MappedValue { to: s.as_str().to_owned(), rows: 0 }).rows += 1;
                Some(s)
            }
            None => {
                *out.statuses.unmapped.entry(status_value.clone()).or_default() += 1;
                bad(cols.status, "not in the map's status.values".into());
                None
            }
        };
        let reported_at = reported.read(&row[cols.reported]).map_err(|m| bad(cols.reported, m)).ok();
        let closed_at = match (&closed, cols.closed) {
            (Some(reader), Some(col)) if !row[col].is_blank() => match reader.read(&row[col]) {
                Ok(t) if reported_at.is_some_and(|r| t < r) => {
                    bad(col, "closed before it was reported".into());
                    None
                }
                Ok(t) => Some(t),
                Err(m) => {
                    bad(col, m);
                    None
                }
            },
            _ => None,
        };
        let location = match (number(&row[cols.lon]), number(&row[cols.lat])) {
            (Some(x), Some(y)) => {
                let (lon, lat) = crs.to_wgs84(x, y);
                match LonLat::new(lon, lat) {
                    Ok(p) => match (cx.geocode)(p) {
                        Ok(g) => Some((p, g)),
                        Err(m) => {
                            bad(cols.lon, m);
                            None
                        }
                    },
                    Err(e) => {
                        bad(cols.lon, e.to_string());
                        None
                    }
                }
            }
            (None, _) => {
                bad(cols.lon, "not a number".into());
                None
            }
            (_, None) => {
                bad(cols.lat, "not a number".into());
                None
            }
        };
        let priority = match cols.priority.map(|c| (c, &row[c])) {
            None => Some(3),
            Some((_, c)) if c.is_blank() => Some(3),
            Some((c, cell)) => match number(cell).filter(|p| p.fract() == 0.0 && (1.0..=5.0).contains(p)) {
                Some(p) => Some(p as i32),
                None => {
                    bad(c, "priority must be 1 (most urgent) … 5".into());
                    None
                }
            },
        };
        let satisfaction = match cols.satisfaction.map(|c| (c, &row[c])) {
            None => None,
            Some((_, c)) if c.is_blank() => None,
            Some((c, cell)) => match number(cell).filter(|p| p.fract() == 0.0 && (1.0..=5.0).contains(p)) {
                Some(p) => Some(p as i32),
                None => {
                    bad(c, "a rating must be 1 … 5".into());
                    None
                }
            },
        };
        let text = |c: Option<usize>| c.map(|c| row[c].text()).filter(|t| !t.is_empty());
        let department = text(cols.department).map(|d| {
            let found = cx.departments.iter().find(|(code, name)| *code == d || *name == d);
            found.map_or(d, |(code, _)| code.clone())
        });
        if let Some(d) = &department {
            *out.departments.entry(d.clone()).or_default() += 1;
        }
        if !row_errors.is_empty() {
            out.error_count += row_errors.len();
            for (col, message) in row_errors {
                if out.errors.len() < MAX_LISTED_ERRORS {
                    let (field, value) = (table.fields[col].clone(), row[col].text());
                    out.errors.push(RowError { row: number_of_row, field, value, message });
                }
            }
            continue;
        }
        let (Some(category), Some(status), Some(reported_at), Some((location, geocode)), Some(priority)) =
            (category, status, reported_at, location, priority)
        else {
            continue;
        };
        out.rows.push(HistoryRow {
            due_at: cx.deadlines.due(&category, priority, reported_at),
            external_id: id,
            category,
            status,
            priority,
            description: text(cols.description).unwrap_or_default(),
            address: text(cols.address),
            caller: text(cols.reporter),
            department,
            location,
            geocode,
            reported_at,
            closed_at,
            satisfaction,
        });
    }
    Ok(out)
}
