//! What an import changes against the layer it replaces (the same layer in the generation it builds on): features
//! added, removed, renamed, moved to another parent, and with changed geometry (with the % area change), so GIS staff
//! see what activating it will do before they do it.

use std::collections::HashMap;

use geo::{Centroid, ChamberlainDuquetteArea, Distance, Haversine};
use serde::Serialize;

use crate::layers::Feature;

/// Most codes listed per kind; the counts are always whole.
const LIST_LIMIT: usize = 200;

/// An area change smaller than this share (or a centroid shift under [`MOVED_M`]) is no change.
const AREA_EPSILON: f64 = 1e-4;

/// A centroid shift beyond this many metres is a geometry change even at equal area.
const MOVED_M: f64 = 0.5;

/// The difference between a layer's current features and an import's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Diff {
    /// Features in the current layer (0 when there is none).
    pub before: usize,
    /// Features in the import.
    pub after: usize,
    /// Codes new in the import.
    pub added: Vec<String>,
    /// Codes the import drops.
    pub removed: Vec<String>,
    /// Same code, another name.
    pub renamed: Vec<Renamed>,
    /// Same code, another parent code.
    pub reparented: Vec<Reparented>,
    /// Same code, another shape.
    pub geometry_changed: Vec<Reshaped>,
    /// Same code, name, parent and shape.
    pub unchanged: usize,
    /// Counts, when a list was cut at its limit.
    pub counts: DiffCounts,
}

/// How many of each kind (the lists stop at 200).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DiffCounts {
    /// Added.
    pub added: usize,
    /// Removed.
    pub removed: usize,
    /// Renamed.
    pub renamed: usize,
    /// Moved to another parent.
    pub reparented: usize,
    /// Reshaped.
    pub geometry_changed: usize,
}

/// A rename.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Renamed {
    /// Code.
    pub code: String,
    /// Current name.
    pub from: String,
    /// Name in the import.
    pub to: String,
}

/// A feature moving to another parent.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reparented {
    /// Code.
    pub code: String,
    /// Current parent.
    pub from: Option<String>,
    /// Parent in the import.
    pub to: Option<String>,
}

/// A changed shape.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reshaped {
    /// Code.
    pub code: String,
    /// Area change in percent of the current area.
    pub area_change_pct: f64,
    /// How far the centroid moved, metres.
    pub centroid_moved_m: f64,
}

impl Diff {
    /// Compares the import's features with the current ones, by code.
    pub fn between(current: &[Feature], import: &[Feature]) -> Self {
        let old: HashMap<&str, &Feature> = current.iter().map(|f| (f.code.as_str(), f)).collect();
        let mut d = Diff { before: current.len(), after: import.len(), ..Diff::default() };
        let mut seen = std::collections::HashSet::new();
        for f in import {
            seen.insert(f.code.as_str());
            let Some(o) = old.get(f.code.as_str()) else {
                d.counts.added += 1;
                push(&mut d.added, f.code.clone());
                continue;
            };
            let mut same = true;
            if o.name != f.name {
                same = false;
                d.counts.renamed += 1;
                push(&mut d.renamed, Renamed { code: f.code.clone(), from: o.name.clone(), to: f.name.clone() });
            }
            if o.parent_code != f.parent_code {
                same = false;
                d.counts.reparented += 1;
                push(
                    &mut d.reparented,
                    Reparented { code: f.code.clone(), from: o.parent_code.clone(), to: f.parent_code.clone() },
                );
            }
            if let Some(r) = reshaped(o, f) {
                same = false;
                d.counts.geometry_changed += 1;
                push(&mut d.geometry_changed, r);
            }
            if same {
                d.unchanged += 1;
            }
        }
        for f in current.iter().filter(|f| !seen.contains(f.code.as_str())) {
            d.counts.removed += 1;
            push(&mut d.removed, f.code.clone());
        }
        d
    }

    /// One line for the terminal.
    pub fn summary(&self) -> String {
        format!(
            "against the current layer ({} features): {} added, {} removed, {} renamed, {} moved to another parent, \
             {} reshaped, {} unchanged",
            self.before,
            self.counts.added,
            self.counts.removed,
            self.counts.renamed,
            self.counts.reparented,
            self.counts.geometry_changed,
            self.unchanged
        )
    }
}

fn push<T>(list: &mut Vec<T>, item: T) {
    if list.len() < LIST_LIMIT {
        list.push(item);
    }
}

fn reshaped(old: &Feature, new: &Feature) -> Option<Reshaped> {
    if old.geometry == new.geometry {
        return None;
    }
    let (a0, a1) =
        (old.geometry.chamberlain_duquette_unsigned_area(), new.geometry.chamberlain_duquette_unsigned_area());
    let change = if a0 > 0.0 { (a1 - a0) / a0 } else { 1.0 };
    let moved = match (old.geometry.centroid(), new.geometry.centroid()) {
        (Some(p), Some(q)) => Haversine.distance(p, q),
        _ => 0.0,
    };
    (change.abs() > AREA_EPSILON || moved > MOVED_M).then(|| Reshaped {
        code: new.code.clone(),
        area_change_pct: (change * 1e4).round() / 100.0,
        centroid_moved_m: (moved * 10.0).round() / 10.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, polygon};

    fn square(code: &str, name: &str, parent: &str, x: f64, size: f64) -> Feature {
        Feature {
            code: code.into(),
            name: name.into(),
            parent_code: Some(parent.into()),
            geometry: MultiPolygon(vec![
                polygon![(x: x, y: 32.0), (x: x + size, y: 32.0), (x: x + size, y: 32.0 + size), (x: x, y: 32.0 + size), (x: x, y: 32.0)],
            ]),
            properties: Default::default(),
        }
    }

    #[test]
    fn added_removed_renamed_reparented_reshaped() {
        let current = vec![
            square("A", "甲", "P", 118.0, 0.01),
            square("B", "乙", "P", 118.1, 0.01),
            square("C", "丙", "P", 118.2, 0.01),
        ];
        let import = vec![
            square("A", "甲", "P", 118.0, 0.01),
            square("B", "乙新", "Q", 118.1, 0.011),
            square("D", "丁", "P", 118.3, 0.01),
        ];
        let d = Diff::between(&current, &import);
        assert_eq!((d.added.clone(), d.removed.clone(), d.unchanged), (vec!["D".to_owned()], vec!["C".to_owned()], 1));
        assert_eq!(d.renamed, vec![Renamed { code: "B".into(), from: "乙".into(), to: "乙新".into() }]);
        assert_eq!(d.reparented[0].to.as_deref(), Some("Q"));
        // 0.011² / 0.01² − 1 = 21 % (give or take the latitude change across the square).
        assert!((d.geometry_changed[0].area_change_pct - 21.0).abs() < 0.2, "{:?}", d.geometry_changed);
        assert!(
            d.summary().contains("1 added, 1 removed, 1 renamed, 1 moved to another parent, 1 reshaped, 1 unchanged")
        );
    }
}
