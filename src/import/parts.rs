//! Rows that share a code. Districts keep an area drawn in several pieces as several rows with the same code, name
//! and parent; those rows are one area: merged into one MultiPolygon (parts touching each other are unioned, others
//! kept side by side), each part checked first, and parts overlapping each other are an error naming both rows.
//! Rows sharing a code that disagree on name or parent are an error naming both rows and the differing field; the
//! later row is left out. Everything after this (validation, diff, storage, tiles) sees one feature per code.

use std::collections::HashMap;

use geo::{BooleanOps, BoundingRect, ChamberlainDuquetteArea, InteriorPoint, MultiPolygon, Rect};

use crate::geometry::validity;

use super::{Kind, Parsed, Problem};

/// Parts of one area may overlap by at most this much (noding slivers along shared edges); more is an error.
const PART_OVERLAP_M2: f64 = 1.0;

/// Codes listed by name in the warning about merged parts.
const LISTED: usize = 5;

/// Merges the rows of `parsed` that share a code into one feature each (in place), recording what it did.
pub(super) fn merge(parsed: &mut Parsed) {
    let groups = group(parsed);
    if groups.len() == parsed.features.len() {
        return;
    }
    let mut merged_codes = Vec::new();
    let mut features = Vec::with_capacity(groups.len());
    let mut source_index = Vec::with_capacity(groups.len());
    for rows in &groups {
        let head = rows[0];
        let mut feature = std::mem::replace(&mut parsed.features[head], empty_feature());
        if rows.len() > 1 {
            let parts: Vec<MultiPolygon<f64>> = rows
                .iter()
                .map(|&k| std::mem::replace(&mut parsed.features[k].geometry, MultiPolygon(vec![])))
                .collect();
            let mut all = vec![feature.geometry];
            all.extend(parts.into_iter().skip(1));
            let rows_in_file: Vec<usize> = rows.iter().map(|&k| parsed.source_index[k]).collect();
            let (geometry, ok) = combine(&feature.code, all, &rows_in_file, parsed);
            feature.geometry = geometry;
            if !ok {
                parsed.broken.insert(features.len());
            }
            merged_codes.push((feature.code.clone(), rows_in_file));
        }
        features.push(feature);
        source_index.push(parsed.source_index[head]);
    }
    parsed.features = features;
    parsed.source_index = source_index;
    if !merged_codes.is_empty() {
        let listed: Vec<String> = merged_codes
            .iter()
            .take(LISTED)
            .map(|(code, rows)| {
                let rows: Vec<String> = rows.iter().map(usize::to_string).collect();
                format!("{code}: rows {}", rows.join(", "))
            })
            .collect();
        let more = if merged_codes.len() > LISTED { "; …" } else { "" };
        parsed.report.warn(Problem::file(
            Kind::PartsMerged,
            format!(
                "{} code(s) came as several rows ({}{more}); each imported as one multi-part area",
                merged_codes.len(),
                listed.join("; ")
            ),
        ));
    }
}

/// Positions of the features grouped by code, in file order of each code's first row; rows that share a code but
/// disagree on name or parent are reported and left out.
fn group(parsed: &mut Parsed) -> Vec<Vec<usize>> {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(parsed.features.len());
    let mut groups: Vec<Vec<usize>> = Vec::with_capacity(parsed.features.len());
    let mut conflicts = Vec::new();
    for (k, f) in parsed.features.iter().enumerate() {
        let Some(&g) = first.get(f.code.as_str()) else {
            first.insert(&f.code, groups.len());
            groups.push(vec![k]);
            continue;
        };
        let head = &parsed.features[groups[g][0]];
        let differs = if head.name != f.name {
            Some(("name", head.name.clone(), f.name.clone()))
        } else if head.parent_code != f.parent_code {
            let show = |p: &Option<String>| p.clone().unwrap_or_else(|| "(none)".into());
            Some(("parent_code", show(&head.parent_code), show(&f.parent_code)))
        } else {
            None
        };
        match differs {
            None => groups[g].push(k),
            Some((field, a, b)) => conflicts.push(Problem::at(
                Kind::CodeConflict,
                parsed.source_index[k],
                Some(&f.code),
                field,
                format!(
                    "rows {} and {} share code {} but disagree on {field} ({a:?} vs {b:?}); rows of one area must \
                     agree (row {} left out)",
                    parsed.source_index[groups[g][0]], parsed.source_index[k], f.code, parsed.source_index[k]
                ),
            )),
        }
    }
    for p in conflicts {
        parsed.report.error(p);
    }
    groups
}

/// The parts of area `code` (`rows`: their rows in the file) as one MultiPolygon, and whether every part was valid
/// and no two overlap (else the problems are in the report and the parts are only put side by side).
fn combine(
    code: &str,
    parts: Vec<MultiPolygon<f64>>,
    rows: &[usize],
    parsed: &mut Parsed,
) -> (MultiPolygon<f64>, bool) {
    let mut ok = true;
    for (part, &row) in parts.iter().zip(rows) {
        if let Err(e) = validity::check(part) {
            let mut p = Problem::at(
                Kind::InvalidGeometry,
                row,
                Some(code),
                "geometry",
                format!("invalid geometry (a part of the area in rows {rows:?}): {e}"),
            );
            p.location = point(part);
            parsed.report.error(p);
            ok = false;
        }
    }
    let boxes: Vec<Option<Rect<f64>>> = parts.iter().map(BoundingRect::bounding_rect).collect();
    let mut touching = false;
    if ok {
        for a in 0..parts.len() {
            for b in a + 1..parts.len() {
                let (Some(ra), Some(rb)) = (boxes[a], boxes[b]) else { continue };
                if !rects_meet(ra, rb) {
                    continue;
                }
                touching = true;
                let shared = parts[a].intersection(&parts[b]);
                let area_m2 = shared.chamberlain_duquette_unsigned_area();
                if area_m2 > PART_OVERLAP_M2 {
                    let mut p = Problem::at(
                        Kind::PartsOverlap,
                        rows[b],
                        Some(code),
                        "geometry",
                        format!("overlaps row {} of the same area {code} by {area_m2:.1} m²", rows[a]),
                    );
                    p.location = point(&shared);
                    parsed.report.error(p);
                    ok = false;
                }
            }
        }
    }
    let geometry = if ok && touching {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_else(|| MultiPolygon(vec![]));
        parts.fold(first, |acc, p| acc.union(&p))
    } else {
        MultiPolygon(parts.into_iter().flat_map(|p| p.0).collect())
    };
    (geometry, ok)
}

fn rects_meet(a: Rect<f64>, b: Rect<f64>) -> bool {
    a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
}

fn point(shape: &MultiPolygon<f64>) -> Option<[f64; 2]> {
    shape.interior_point().map(|c| [c.x(), c.y()]).filter(|c| c.iter().all(|v| v.is_finite()))
}

fn empty_feature() -> crate::layers::Feature {
    crate::layers::Feature {
        code: String::new(),
        name: String::new(),
        parent_code: None,
        geometry: MultiPolygon(vec![]),
        properties: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use geo::{MultiPolygon, polygon};

    use super::*;
    use crate::import::Report;
    use crate::layers::{Feature, Layer};

    fn row(code: &str, name: &str, x0: f64, x1: f64) -> Feature {
        Feature {
            code: code.into(),
            name: name.into(),
            parent_code: Some("P".into()),
            geometry: MultiPolygon(vec![
                polygon![(x: x0, y: 32.0), (x: x1, y: 32.0), (x: x1, y: 32.01), (x: x0, y: 32.01), (x: x0, y: 32.0)],
            ]),
            properties: Default::default(),
        }
    }

    fn parsed(rows: Vec<Feature>) -> Parsed {
        let mut p = Parsed::new(Report::new("t.geojson", Layer::Communities));
        p.source_index = (0..rows.len()).collect();
        p.features = rows;
        p
    }

    #[test]
    fn rows_of_one_area_become_one_feature_touching_parts_unioned() {
        let mut p = parsed(vec![
            row("A", "a", 118.0, 118.01),
            row("B", "b", 118.1, 118.11),
            row("A", "a", 118.01, 118.02),
            row("A", "a", 118.05, 118.06),
        ]);
        merge(&mut p);
        assert!(p.report.errors.is_empty(), "{:?}", p.report.errors);
        assert_eq!(p.features.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(p.source_index, [0, 1]);
        assert_eq!(p.features[0].geometry.0.len(), 2, "rows 0 and 2 touch: one polygon; row 3 apart");
        assert!(validity::is_valid(&p.features[0].geometry));
        assert_eq!(p.report.warnings[0].kind, Kind::PartsMerged);
        assert!(p.report.warnings[0].message.contains("A: rows 0, 2, 3"), "{}", p.report.warnings[0].message);
    }

    #[test]
    fn disagreeing_rows_and_overlapping_parts_are_errors_naming_both_rows() {
        let mut p = parsed(vec![
            row("A", "a", 118.0, 118.01),
            row("A", "other", 118.01, 118.02),
            row("C", "c", 118.2, 118.21),
            row("C", "c", 118.205, 118.215),
        ]);
        merge(&mut p);
        let kinds: Vec<Kind> = p.report.errors.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [Kind::CodeConflict, Kind::PartsOverlap], "{:?}", p.report.errors);
        assert!(p.report.errors[0].message.contains("rows 0 and 1 share code A but disagree on name"));
        assert_eq!(p.report.errors[0].field.as_deref(), Some("name"));
        assert!(
            p.report.errors[1].message.contains("overlaps row 2 of the same area C"),
            "{}",
            p.report.errors[1].message
        );
        assert_eq!(p.features.len(), 2);
        assert!(p.broken.contains(&1), "C is known broken: the later checks leave it out");
    }
}
