//! Reading boundary files into features and validating them, producing the report shown to GIS staff.

mod geojson;
mod report;
mod validate;

pub use report::{Problem, Report};
pub use validate::{HierarchyContext, validate};

use crate::crs::Crs;
use crate::layers::{Feature, Layer};

/// A file that could not be read at all (per-feature problems go into the [`Report`] instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file's extension names a format this build does not read.
    #[error("{file}: unsupported file type; gridmap reads GeoJSON (.geojson, .json)")]
    UnsupportedFormat {
        /// File name.
        file: String,
    },
    /// The file is not valid JSON / GeoJSON.
    #[error("{file}: not valid GeoJSON: {reason}")]
    Parse {
        /// File name.
        file: String,
        /// Parser message with line and column.
        reason: String,
    },
    /// A `crs` member names a coordinate system gridmap cannot convert.
    #[error("{file}: {reason}")]
    Crs {
        /// File name.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

/// How to read a file: the target layer and which attributes hold code, name and parent code.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Layer the features are for.
    pub layer: Layer,
    /// Attribute holding the code.
    pub code_field: String,
    /// Attribute holding the name.
    pub name_field: String,
    /// Attribute holding the parent code.
    pub parent_field: String,
    /// Coordinate system of the file when it does not say (or to override what it says).
    pub crs: Option<Crs>,
}

impl ReadOptions {
    /// Default field names `code`, `name`, `parent_code`.
    pub fn new(layer: Layer) -> Self {
        Self {
            layer,
            code_field: "code".into(),
            name_field: "name".into(),
            parent_field: "parent_code".into(),
            crs: None,
        }
    }
}

/// Reads a file's features; problems with single features are recorded in the report and those features skipped.
pub fn read(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Parsed, ImportError> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".geojson") || lower.ends_with(".json") {
        geojson::read(file, bytes, options)
    } else {
        Err(ImportError::UnsupportedFormat { file: file.to_owned() })
    }
}

/// What a reader produced: the features it could build, where each came from in the file, and the report so far.
#[derive(Debug)]
pub struct Parsed {
    /// Features that were read.
    pub features: Vec<Feature>,
    /// For each feature, its position in the file.
    pub source_index: Vec<usize>,
    /// Problems found while reading.
    pub report: Report,
}
