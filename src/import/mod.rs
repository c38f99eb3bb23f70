//! Reading boundary files into features and validating them, producing the report shown to GIS staff.
//! One module per format (GeoJSON, Shapefile and zipped Shapefile, KML, GeoPackage); `feature` holds what they share.

mod bounds;
mod diff;
mod encoding;
mod feature;
mod fields;
mod fix;
mod geojson;
mod gpkg;
mod hierarchy;
mod kml;
mod overlaps;
mod parents;
mod parts;
mod preview;
mod progress;
mod report;
mod shapefile;
mod shift;
mod validate;
mod zipped;

use std::collections::BTreeMap;

pub use diff::Diff;
pub use encoding::EncodingError;
pub use fields::{FieldInfo, Mapping};
pub use fix::repair;
pub use gpkg::GpkgError;
pub use kml::KmlError;
pub use parents::{ParentFrom, assign as assign_parents, compare_suggested as compare_suggested_parents};
pub use preview::{MAX_PREVIEW_FEATURES, preview};
pub use progress::{Progress, Tracker};
pub use report::{Kind, Problem, Report};
pub use shapefile::ShapefileError;
pub use shift::{VendorShift, detect as detect_vendor_shift, detect_against_parent};
pub use validate::{HierarchyContext, validate};
pub use zipped::{MAX_UNCOMPRESSED_BYTES, ZipError};

use crate::crs::{ImportCrs, ImportCrsError};
use crate::layers::{Feature, Layer};

/// A file that could not be read at all (per-feature problems go into the [`Report`] instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file's extension names a format this build does not read.
    #[error(
        "{file}: unsupported file type; gridmap reads GeoJSON (.geojson, .json), Shapefile (.shp, or a .zip), KML (.kml) and GeoPackage (.gpkg)"
    )]
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
    /// The declared (or given) coordinate system cannot be used.
    #[error("{file}: {reason}")]
    Crs {
        /// File name.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A Shapefile (or one of its sidecars) could not be read.
    #[error(transparent)]
    Shapefile(#[from] ShapefileError),
    /// Attribute text could not be decoded.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// A zip archive could not be used.
    #[error(transparent)]
    Zip(#[from] ZipError),
    /// A KML file could not be read.
    #[error(transparent)]
    Kml(#[from] KmlError),
    /// A GeoPackage could not be read.
    #[error(transparent)]
    Gpkg(#[from] GpkgError),
}

impl ImportError {
    pub(crate) fn crs(file: &str, e: ImportCrsError) -> Self {
        ImportError::Crs { file: file.to_owned(), reason: e.to_string() }
    }
}

/// Files that travel with the main one (a Shapefile's `.shx`, `.dbf`, `.prj`, `.cpg`), keyed by lower-case extension.
#[derive(Clone, Default)]
pub struct Sidecars(pub BTreeMap<String, Vec<u8>>);

impl std::fmt::Debug for Sidecars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(k, v)| (k, v.len()))).finish()
    }
}

impl Sidecars {
    /// Reads the sidecars of `path` (same directory, same stem, any case of extension) that exist.
    pub fn beside(path: &std::path::Path) -> std::io::Result<Self> {
        let mut out = BTreeMap::new();
        let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) else { return Ok(Self(out)) };
        let dir = if dir.as_os_str().is_empty() { std::path::Path::new(".") } else { dir };
        for entry in std::fs::read_dir(dir)? {
            let p = entry?.path();
            if p == path || p.file_stem() != Some(stem) {
                continue;
            }
            let Some(ext) = p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase) else { continue };
            if ["shx", "dbf", "prj", "cpg"].contains(&ext.as_str()) {
                out.insert(ext, std::fs::read(&p)?);
            }
        }
        Ok(Self(out))
    }
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
    /// Take the parent code from the parent layer instead of an attribute (`parent_field` is then not read).
    pub parent_from: Option<ParentFrom>,
    /// Coordinate system of the file when it does not say (or to override what it says).
    pub crs: Option<ImportCrs>,
    /// Text encoding of DBF attributes (overrides `.cpg` and the code-page byte).
    pub encoding: Option<String>,
    /// Which layer of a multi-layer source (zip with several Shapefiles, GeoPackage with several tables).
    pub member: Option<String>,
    /// Sidecar files of a `.shp` given on its own.
    pub sidecars: Sidecars,
    /// Repair what is safe (close rings, drop repeated points, rebuild invalid polygons) and list it.
    pub fix: bool,
    /// Told how reading and checking go (a progress bar on the CLI).
    pub progress: Tracker,
}

impl ReadOptions {
    /// Default field names `code`, `name`, `parent_code`.
    pub fn new(layer: Layer) -> Self {
        Self {
            layer,
            code_field: "code".into(),
            name_field: "name".into(),
            parent_field: "parent_code".into(),
            parent_from: None,
            crs: None,
            encoding: None,
            member: None,
            sidecars: Sidecars::default(),
            fix: false,
            progress: Tracker::default(),
        }
    }
}

/// Reads a file's features; problems with single features are recorded in the report and those features skipped.
pub fn read(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Parsed, ImportError> {
    let mut parsed = read_format(file, bytes, options)?;
    if options.fix {
        fix::repair(&mut parsed);
    }
    parts::merge(&mut parsed);
    parsed.parent_from = options.parent_from.filter(|_| options.layer.parent().is_some());
    Ok(parsed)
}

fn read_format(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Parsed, ImportError> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".geojson") || lower.ends_with(".json") {
        geojson::read(file, bytes, options)
    } else if lower.ends_with(".shp") {
        let set = shapefile::FileSet::from_sidecars(file, bytes.to_vec(), &options.sidecars);
        shapefile::read(&set, options)
    } else if lower.ends_with(".zip") {
        let set = zipped::shapefile_set(file, bytes, options.member.as_deref())?;
        shapefile::read(&set, options)
    } else if lower.ends_with(".kml") {
        kml::read(file, bytes, options)
    } else if lower.ends_with(".gpkg") {
        gpkg::read(file, bytes, options)
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
    /// Positions in `features` whose geometry is already reported broken (a part of a multi-row area), left out of
    /// the checks between features.
    pub broken: std::collections::HashSet<usize>,
    /// Where parent codes come from when the file has none ([`ReadOptions::parent_from`]).
    pub parent_from: Option<ParentFrom>,
}

impl Parsed {
    /// Nothing read yet.
    pub fn new(report: Report) -> Self {
        Self { features: Vec::new(), source_index: Vec::new(), report, broken: Default::default(), parent_from: None }
    }
}
