//! The validation report of an import: what was read, what is wrong (errors) and what is suspicious (warnings).

use serde::Serialize;

use crate::layers::{GenerationId, Layer};

/// One problem, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Problem {
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
    pub fn at(index: usize, code: Option<&str>, field: &str, message: impl Into<String>) -> Self {
        Self {
            feature: Some(index),
            code: code.map(str::to_owned),
            field: Some(field.to_owned()),
            message: message.into(),
            location: None,
        }
    }

    /// A problem with the file as a whole.
    pub fn file(message: impl Into<String>) -> Self {
        Self { feature: None, code: None, field: None, message: message.into(), location: None }
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
        for e in &self.errors {
            let _ = writeln!(out, "error: {e}");
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
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
}
