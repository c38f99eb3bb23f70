//! The validation report of an import: what was read, what is wrong (errors) and what is suspicious (warnings).

use serde::Serialize;

use crate::layers::{GenerationId, Layer};

/// What kind of mistake a problem is: the same kind on many features is one message in the text report (with the
/// count and the first five); the JSON report keeps every instance, each with its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The code attribute is missing or empty.
    NoCode,
    /// The name attribute is missing or empty (the code is used).
    NoName,
    /// The parent code attribute is missing or empty.
    NoParent,
    /// The geometry could not be read as polygons.
    UnreadableGeometry,
    /// The geometry is not valid (self-intersection, …).
    InvalidGeometry,
    /// More vertices than one feature may have.
    TooManyVertices,
    /// Rows sharing a code that disagree on name or parent.
    CodeConflict,
    /// Rows sharing a code merged into one multi-part area.
    PartsMerged,
    /// Parts of one area that overlap each other.
    PartsOverlap,
    /// Features of the layer overlapping each other.
    Overlap,
    /// Slivers from imperfect noding (accepted).
    Slivers,
    /// A parent code the parent layer lacks.
    UnknownParent,
    /// The parent layer is empty.
    ParentLayerEmpty,
    /// Children of the current generation that this file would orphan.
    OrphanedChildren,
    /// A child extending outside its parent.
    OutsideParent,
    /// Part of a parent no child covers.
    Gap,
    /// `--parent-from`: no parent found for a child.
    ParentNotFound,
    /// `--parent-from location`: no parent covers half of the child.
    ParentShareLow,
    /// The code says one parent while the polygon lies in another.
    ParentMismatch,
    /// A `--fix` repair made.
    Fixed,
    /// A `--fix` repair refused.
    NotFixed,
    /// Coordinates shifted as by a vendor datum (GCJ-02, BD-09).
    VendorShift,
    /// More problems of a kind than are listed.
    More,
}

impl Kind {
    /// The kind as a short phrase for the text report's grouped line.
    pub fn label(self) -> &'static str {
        match self {
            Kind::NoCode => "no code",
            Kind::NoName => "no name (the code is used as name)",
            Kind::NoParent => "no parent code",
            Kind::UnreadableGeometry => "geometry that cannot be read",
            Kind::InvalidGeometry => "invalid geometry",
            Kind::TooManyVertices => "too many vertices",
            Kind::CodeConflict => "a code shared by rows that disagree",
            Kind::PartsMerged => "parts merged",
            Kind::PartsOverlap => "parts of one area overlapping each other",
            Kind::Overlap => "overlaps another feature",
            Kind::Slivers => "slivers",
            Kind::UnknownParent => "a parent code the parent layer lacks",
            Kind::ParentLayerEmpty => "the parent layer is empty",
            Kind::OrphanedChildren => "children orphaned",
            Kind::OutsideParent => "extends outside its parent",
            Kind::Gap => "gaps no child covers",
            Kind::ParentNotFound => "no parent found",
            Kind::ParentShareLow => "no parent covers half of it",
            Kind::ParentMismatch => "the code names another parent than the one holding it",
            Kind::Fixed => "repaired (--fix)",
            Kind::NotFixed => "not repaired (--fix)",
            Kind::VendorShift => "vendor coordinate shift",
            Kind::More => "more",
        }
    }
}

/// One problem, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// What kind of mistake it is (the same kind on many features is one message in the text report).
    pub kind: Kind,
    /// Position of the feature in the file (0-based), when the problem belongs to one feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<usize>,
    /// The feature's code, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The attribute or member at fault (`geometry`, the code field, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Human sentence.
    pub message: String,
    /// Where on the map the problem is, `[lon, lat]`, when it is a place (an overlap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<[f64; 2]>,
}

impl Problem {
    /// A problem with feature `index` of the file.
    pub fn at(kind: Kind, index: usize, code: Option<&str>, field: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            feature: Some(index),
            code: code.map(str::to_owned),
            field: Some(field.to_owned()),
            message: message.into(),
            location: None,
        }
    }

    /// A problem with the file as a whole.
    pub fn file(kind: Kind, message: impl Into<String>) -> Self {
        Self { kind, feature: None, code: None, field: None, message: message.into(), location: None }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.feature, &self.code) {
            (Some(i), Some(c)) => write!(f, "feature {i} (code {c})")?,
            (Some(i), None) => write!(f, "feature {i}")?,
            _ => f.write_str("file")?,
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything an import found, printed by the CLI and returned by the API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// File name as given.
    pub file: String,
    /// Target layer.
    pub layer: Layer,
    /// Features read from the file.
    pub features: usize,
    /// True when there are no errors.
    pub valid: bool,
    /// Problems that reject the import.
    pub errors: Vec<Problem>,
    /// Problems that do not.
    pub warnings: Vec<Problem>,
    /// The staged generation, when one was written.
    pub generation: Option<GenerationId>,
    /// True when the generation was made active.
    pub activated: bool,
    /// True when nothing was to be written.
    pub dry_run: bool,
    /// The file's attributes, with counts and example values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<super::FieldInfo>,
    /// The fields that most likely hold code, name and parent code, when the ones used were missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested: Option<super::Mapping>,
    /// Attribute statistics gathered while reading.
    #[serde(skip)]
    pub(super) observed: super::fields::Observed,
    /// What this file changes against the same layer of the generation it builds on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<super::Diff>,
    /// On a dry run asked for it: the features read, as a GeoJSON FeatureCollection in WGS84 (see
    /// [`super::preview`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub preview: Option<serde_json::Value>,
}

impl Report {
    /// An empty report for a file.
    pub fn new(file: &str, layer: Layer) -> Self {
        Self {
            file: file.to_owned(),
            layer,
            features: 0,
            valid: true,
            errors: Vec::new(),
            warnings: Vec::new(),
            generation: None,
            activated: false,
            dry_run: false,
            diff: None,
            preview: None,
            fields: Vec::new(),
            suggested: None,
            observed: Default::default(),
        }
    }

    /// Fills `fields` from what was read and, when some feature lacked its code or parent code, `suggested`
    /// (`parent_codes`: the parent layer's codes, to recognise the parent field by its values).
    pub fn describe_fields(&mut self, parent_codes: Option<&std::collections::HashSet<String>>) {
        self.fields = self.observed.summary();
        if self.observed.missing_keys {
            self.suggested = self.observed.suggest(self.layer, parent_codes);
        }
    }

    /// Records an error.
    pub fn error(&mut self, p: Problem) {
        self.valid = false;
        self.errors.push(p);
    }

    /// Records a warning.
    pub fn warn(&mut self, p: Problem) {
        self.warnings.push(p);
    }

    /// The report as text for the terminal.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = format!("{}: {} features for layer {}\n", self.file, self.features, self.layer);
        self.write_grouped(&mut out, "error", &self.errors);
        self.write_grouped(&mut out, "warning", &self.warnings);
        if let Some(m) = &self.suggested {
            let fields: Vec<String> = self
                .fields
                .iter()
                .map(|f| match f.samples.first() {
                    Some(s) => format!("{} (e.g. {s})", f.name),
                    None => f.name.clone(),
                })
                .collect();
            let _ = writeln!(out, "the file's fields: {}", fields.join(", "));
            let mut args = format!("--code-field {}", m.code_field);
            if let Some(n) = &m.name_field {
                let _ = write!(args, " --name-field {n}");
            }
            if let Some(p) = &m.parent_field {
                let _ = write!(args, " --parent-field {p}");
            }
            if let Some(p) = m.parent_from {
                let _ = write!(args, " --parent-from {}", p.as_str());
            }
            let _ = writeln!(out, "suggested: {args}");
        }
        if let Some(d) = &self.diff {
            let _ = writeln!(out, "changes {}", d.summary());
            for r in d.renamed.iter().take(5) {
                let _ = writeln!(out, "  renamed {}: {} → {}", r.code, r.from, r.to);
            }
            for r in d.reparented.iter().take(5) {
                let (from, to) = (r.from.as_deref().unwrap_or("-"), r.to.as_deref().unwrap_or("-"));
                let _ = writeln!(out, "  {} moves from parent {from} to {to}", r.code);
            }
            for r in d.geometry_changed.iter().take(5) {
                let _ = writeln!(
                    out,
                    "  reshaped {}: area {:+.2} %, centroid moved {:.1} m",
                    r.code, r.area_change_pct, r.centroid_moved_m
                );
            }
        }
        let verdict = match (self.valid, self.dry_run, self.generation, self.activated) {
            (false, _, _, _) => format!("rejected: {} error(s), nothing written", self.errors.len()),
            (true, true, _, _) => "valid (dry run, nothing written)".to_owned(),
            (true, _, Some(g), true) => format!("valid: generation {g} written and activated"),
            (true, _, Some(g), false) => {
                format!("valid: generation {g} staged; `gridmap activate {g}` makes it current")
            }
            (true, _, None, _) => "valid".to_owned(),
        };
        out.push_str(&verdict);
        out.push('\n');
        out
    }

    /// Writes `problems` one line each, except that a kind found on more than [`GROUP_FROM`] features is one line
    /// with the count followed by its first five instances, indented.
    fn write_grouped(&self, out: &mut String, severity: &str, problems: &[Problem]) {
        use std::fmt::Write;
        let mut order: Vec<Kind> = Vec::new();
        let mut by_kind: std::collections::HashMap<Kind, Vec<&Problem>> = Default::default();
        for p in problems {
            let group = by_kind.entry(p.kind).or_default();
            if group.is_empty() {
                order.push(p.kind);
            }
            group.push(p);
        }
        for kind in order {
            let group = &by_kind[&kind];
            let on_features = group.iter().filter(|p| p.feature.is_some()).count();
            if on_features <= GROUP_FROM {
                for p in group {
                    let _ = writeln!(out, "{severity}: {p}");
                }
                continue;
            }
            let _ = writeln!(
                out,
                "{severity}: {on_features} of {} features: {}; the first five:",
                self.features.max(on_features),
                kind.label()
            );
            for p in group.iter().filter(|p| p.feature.is_some()).take(5) {
                let _ = writeln!(out, "  {p}");
            }
            for p in group.iter().filter(|p| p.feature.is_none()) {
                let _ = writeln!(out, "{severity}: {p}");
            }
        }
    }
}

/// A kind of problem found on more features than this is printed once, with its count and the first five.
const GROUP_FROM: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_mistake_on_many_features_is_one_message_with_the_first_five() {
        let mut r = Report::new("communities.geojson", Layer::Communities);
        r.features = 90;
        for i in 0..90 {
            r.error(Problem::at(Kind::NoCode, i, None, "code", format!("no code in row {i}")));
        }
        r.error(Problem::at(Kind::InvalidGeometry, 7, Some("SQ-1"), "geometry", "invalid geometry: bow-tie"));
        let text = r.to_text();
        assert!(text.contains("error: 90 of 90 features: no code; the first five:"), "{text}");
        assert_eq!(text.matches("no code in row").count(), 5, "{text}");
        assert!(text.contains("  feature 4, field code: no code in row 4"), "{text}");
        assert!(text.contains("error: feature 7 (code SQ-1), field geometry: invalid geometry"), "{text}");
        assert_eq!(r.errors.len(), 91, "the JSON report keeps every instance");
        let json = serde_json::to_value(&r).expect("serialises");
        assert_eq!(json["errors"][0]["kind"], "no_code");
    }
}
