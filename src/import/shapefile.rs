//! Shapefile reader: `.shp` with its `.shx` (optional), `.dbf`, `.prj` and `.cpg`, given side by side or out of a zip.
//! Z and M values are dropped; attribute text is decoded strictly in the DBF's encoding (see `encoding`).

use std::io::Cursor;

use ::shapefile::{Shape, ShapeReader};
use dbase::FieldValue;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use serde_json::Value;

use super::encoding::{by_code_page_byte, by_label, decode, raw_bytes, suggestion};
use super::feature::{self, Properties};
use super::{EncodingError, ImportError, Parsed, ReadOptions, Report, Sidecars};
use crate::crs::{Crs, ImportCrs};

/// A Shapefile that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ShapefileError {
    /// A required sidecar is missing.
    #[error("{file}: no {ext} file beside it; a Shapefile needs its .dbf for the attributes (codes, names)")]
    Missing {
        /// The `.shp`.
        file: String,
        /// `.dbf`.
        ext: &'static str,
    },
    /// The `.shp` header is unreadable.
    #[error("{file}: not a readable Shapefile: {reason}")]
    Header {
        /// File name.
        file: String,
        /// Reader's message.
        reason: String,
    },
    /// A shape record is unreadable (truncated or corrupt file).
    #[error("{file}: feature {feature}: cannot read its geometry (truncated or corrupt .shp?): {reason}")]
    Shape {
        /// File name.
        file: String,
        /// Record position.
        feature: usize,
        /// Reader's message.
        reason: String,
    },
    /// The `.dbf` is unreadable.
    #[error("{file}: cannot read the attribute table: {reason}")]
    Dbf {
        /// The `.dbf`.
        file: String,
        /// Reader's message.
        reason: String,
    },
    /// A DBF record is unreadable.
    #[error("{file}: feature {feature}: cannot read its attributes: {reason}")]
    Record {
        /// The `.dbf`.
        file: String,
        /// Record position.
        feature: usize,
        /// Reader's message.
        reason: String,
    },
    /// Attribute text is not valid in the encoding in force.
    #[error(
        "{file}: feature {feature}, field {field}: text is not valid {encoding} (encoding {origin}): {detail}; \
         give the right one with --encoding"
    )]
    Text {
        /// The `.dbf`.
        file: String,
        /// Record position.
        feature: usize,
        /// Field name.
        field: String,
        /// Encoding tried.
        encoding: &'static str,
        /// Where that encoding came from.
        origin: String,
        /// Bytes and suggestions.
        detail: String,
    },
    /// `.shp` and `.dbf` disagree on the number of features.
    #[error("{file}: the .shp has {shapes} features but the .dbf has {records} records")]
    Count {
        /// The `.shp`.
        file: String,
        /// Shapes.
        shapes: usize,
        /// Records.
        records: usize,
    },
}

/// The files of one Shapefile layer.
#[derive(Debug, Clone)]
pub(super) struct FileSet {
    /// Name of the `.shp` as shown in messages (for a zip: `archive.zip/folder/layer.shp`).
    pub name: String,
    pub shp: Vec<u8>,
    pub shx: Option<Vec<u8>>,
    pub dbf: Option<Vec<u8>>,
    pub prj: Option<Vec<u8>>,
    pub cpg: Option<Vec<u8>>,
}

impl FileSet {
    pub fn from_sidecars(name: &str, shp: Vec<u8>, sidecars: &Sidecars) -> Self {
        let get = |ext: &str| sidecars.0.get(ext).cloned();
        Self { name: name.to_owned(), shp, shx: get("shx"), dbf: get("dbf"), prj: get("prj"), cpg: get("cpg") }
    }

    fn sidecar_name(&self, ext: &str) -> String {
        match self.name.rsplit_once('.') {
            Some((stem, _)) => format!("{stem}.{ext}"),
            None => format!("{}.{ext}", self.name),
        }
    }
}

/// The encoding of the attribute text and where that choice came from.
fn choose_encoding(
    set: &FileSet,
    dbf: &[u8],
    options: &ReadOptions,
) -> Result<(&'static Encoding, String), ImportError> {
    if let Some(name) = &options.encoding {
        let enc = by_label(name).ok_or_else(|| EncodingError::Unknown {
            file: set.name.clone(),
            name: name.clone(),
            origin: "--encoding",
        })?;
        return Ok((enc, "from --encoding".into()));
    }
    if let Some(cpg) = &set.cpg {
        let label = String::from_utf8_lossy(cpg).trim().to_owned();
        if !label.is_empty() {
            let enc = by_label(&label).ok_or_else(|| EncodingError::Unknown {
                file: set.sidecar_name("cpg"),
                name: label.clone(),
                origin: "the .cpg file",
            })?;
            return Ok((enc, format!("from the .cpg, {label:?}")));
        }
    }
    if let Some(enc) = dbf.get(29).copied().and_then(by_code_page_byte) {
        return Ok((enc, format!("from the DBF code-page byte 0x{:02X}", dbf[29])));
    }
    Ok((UTF_8, "assumed: no .cpg, no DBF code page".into()))
}

/// Reads one Shapefile layer.
pub(super) fn read(set: &FileSet, options: &ReadOptions) -> Result<Parsed, ImportError> {
    let file = set.name.as_str();
    let dbf_bytes = set.dbf.as_deref().ok_or_else(|| ShapefileError::Missing { file: file.to_owned(), ext: ".dbf" })?;
    let crs = match (&options.crs, &set.prj) {
        (Some(c), _) => c.clone(),
        (None, Some(prj)) => ImportCrs::from_prj(&String::from_utf8_lossy(prj))
            .map_err(|e| ImportError::crs(&set.sidecar_name("prj"), e))?,
        // Without a .prj the file is taken as lon/lat; the reprojector says so when the numbers disagree.
        (None, None) => ImportCrs::Named(Crs::Wgs84),
    };
    let reprojector = crs.reprojector().map_err(|e| ImportError::crs(file, e))?;

    let shapes = read_shapes(set)?;
    let records = read_records(set, dbf_bytes, options)?;
    if shapes.len() != records.len() {
        return Err(
            ShapefileError::Count { file: file.to_owned(), shapes: shapes.len(), records: records.len() }.into()
        );
    }

    let mut report = Report::new(file, options.layer);
    report.features = shapes.len();
    let mut parsed = Parsed::new(report);
    for (i, (shape, props)) in shapes.into_iter().zip(records).enumerate() {
        let geometry = match shape {
            Shape::NullShape => None,
            s => match geo::Geometry::<f64>::try_from(s) {
                Ok(g) => Some(g),
                Err(e) => {
                    parsed.report.error(super::Problem::at(
                        super::Kind::UnreadableGeometry,
                        i,
                        None,
                        "geometry",
                        format!("unusable shape: {e}"),
                    ));
                    continue;
                }
            },
        };
        if let Some(f) = feature::build(i, props, geometry, options, &reprojector, &mut parsed.report) {
            parsed.features.push(f);
            parsed.source_index.push(i);
        }
    }
    Ok(parsed)
}

fn read_shapes(set: &FileSet) -> Result<Vec<Shape>, ShapefileError> {
    let file = set.name.as_str();
    let header = |e: ::shapefile::Error| ShapefileError::Header { file: file.to_owned(), reason: e.to_string() };
    let shx_ok = set.shx.as_ref().filter(|shx| shx.len() >= 100);
    // Without a .shx, one is built from the records' declared lengths, each checked first.
    let index = super::bounds::shp_records(&set.shp, shx_ok.map(Vec::as_slice)).map_err(|reason| {
        ShapefileError::Header { file: file.to_owned(), reason: format!("implausible shape in {reason}") }
    })?;
    let mut out = Vec::new();
    let mut reader = ShapeReader::with_shx(Cursor::new(&set.shp), Cursor::new(index)).map_err(header)?;
    collect(file, reader.iter_shapes(), &mut out)?;
    Ok(out)
}

fn collect(
    file: &str,
    shapes: impl Iterator<Item = Result<Shape, ::shapefile::Error>>,
    out: &mut Vec<Shape>,
) -> Result<(), ShapefileError> {
    for (i, s) in shapes.enumerate() {
        out.push(s.map_err(|e| ShapefileError::Shape { file: file.to_owned(), feature: i, reason: e.to_string() })?);
    }
    Ok(())
}

fn read_records(set: &FileSet, dbf_bytes: &[u8], options: &ReadOptions) -> Result<Vec<Properties>, ImportError> {
    let file = set.sidecar_name("dbf");
    let (enc, origin) = choose_encoding(set, dbf_bytes, options)?;
    let text = |i: usize, field: &str, latin: &str| -> Result<String, ShapefileError> {
        let raw = raw_bytes(latin);
        decode(enc, &raw).map(|s| s.trim().to_owned()).ok_or_else(|| ShapefileError::Text {
            file: file.clone(),
            feature: i,
            field: decode(enc, &raw_bytes(field)).map_or_else(|| field.to_owned(), |f| f.into_owned()),
            encoding: enc.name(),
            origin: origin.clone(),
            detail: format!("bytes {:02X?}; {}", &raw[..raw.len().min(24)], suggestion(&raw)),
        })
    };
    // Windows-1252 maps every byte to its own character: read with it, then decode the bytes strictly.
    let mut reader = dbase::ReaderBuilder::new()
        .with_encoding(dbase::encoding::EncodingRs::from(WINDOWS_1252))
        .build(Cursor::new(dbf_bytes))
        .map_err(|e| ShapefileError::Dbf { file: file.clone(), reason: e.to_string() })?;
    let fields: Vec<String> = reader.fields().iter().map(|f| f.name().to_owned()).collect();
    let mut names = Vec::with_capacity(fields.len());
    for f in &fields {
        names.push(text(usize::MAX, f, f).map_err(|_| ShapefileError::Dbf {
            file: file.clone(),
            reason: format!(
                "field name {f:?} is not valid {} ({origin}); give the right one with --encoding",
                enc.name()
            ),
        })?);
    }
    let mut out = Vec::new();
    for (i, record) in reader.iter_records().enumerate() {
        let mut record =
            record.map_err(|e| ShapefileError::Record { file: file.clone(), feature: i, reason: e.to_string() })?;
        let mut props = Properties::new();
        for (latin_name, name) in fields.iter().zip(&names) {
            let value = match record.remove(latin_name) {
                None => Value::Null,
                Some(v) => json(v, |s| text(i, latin_name, &s))?,
            };
            props.insert(name.clone(), value);
        }
        out.push(props);
    }
    Ok(out)
}

fn number(f: f64) -> Value {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn json(v: FieldValue, text: impl Fn(String) -> Result<String, ShapefileError>) -> Result<Value, ShapefileError> {
    Ok(match v {
        FieldValue::Character(Some(s)) | FieldValue::Memo(s) => Value::String(text(s)?),
        FieldValue::Character(None)
        | FieldValue::Numeric(None)
        | FieldValue::Float(None)
        | FieldValue::Logical(None)
        | FieldValue::Date(None) => Value::Null,
        FieldValue::Numeric(Some(f)) | FieldValue::Double(f) | FieldValue::Currency(f) => number(f),
        FieldValue::Float(Some(f)) => number(f64::from(f)),
        FieldValue::Integer(n) => Value::from(n),
        FieldValue::Logical(Some(b)) => Value::Bool(b),
        FieldValue::Date(Some(d)) => Value::String(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
        FieldValue::DateTime(dt) => Value::String(format!("{dt:?}")),
    })
}
