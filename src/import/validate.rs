//! Checks that do not depend on the file format: geometry validity, unique codes, overlaps between features, the
//! parent hierarchy.

use std::collections::HashSet;

use geo::CoordsIter;
use rayon::prelude::*;

use crate::geometry::validity;

use super::{Kind, Parsed, Problem};

/// The generation an import builds on, as far as validation needs it.
#[derive(Debug, Default)]
pub struct HierarchyContext {
    /// Codes of the parent layer (`None` for streets, whose parents are outside gridmap).
    pub parent_codes: Option<HashSet<String>>,
    /// `(code, parent_code)` of the child layer, to warn about children the new layer would orphan.
    pub children: Vec<(String, Option<String>)>,
    /// The parent layer's polygons by code (empty for streets), for children outside their parent and gaps.
    pub parent_shapes: Vec<(String, geo::MultiPolygon<f64>)>,
}

/// Most vertices of one feature: beyond this the file is refused before the (superlinear) validity checks run.
pub const MAX_VERTICES_PER_FEATURE: usize = 1_000_000;

/// Most problems of one kind listed individually (the JSON report keeps every instance up to this; the text report
/// groups a kind on more than five features anyway); beyond it the rest are counted, so a file of a million broken
/// features still gets a report of bounded size.
const LIST_LIMIT: usize = 100_000;

/// Adds geometry and hierarchy problems to the report, phase by phase: each feature's geometry,
/// overlaps between features, parent codes, children the file would orphan, children outside their
/// parent.
pub fn validate(parsed: &mut Parsed, ctx: &HierarchyContext, progress: &super::Tracker) {
    let broken = check_geometries(parsed, progress);
    // One feature per code from here on (see `parts`).
    let codes: HashSet<String> = parsed.features.iter().map(|f| f.code.clone()).collect();
    check_overlaps(parsed, &broken, progress);
    check_parent_codes(parsed, ctx);
    warn_orphaned_children(parsed, ctx, &codes);
    if let Some(parent_layer) = parsed.report.layer.parent().filter(|_| !ctx.parent_shapes.is_empty()) {
        containment(parsed, &broken, ctx, parent_layer, progress);
    }
    parsed.report.valid = parsed.report.errors.is_empty();
}

/// Each feature's geometry, on every core (rayon), gathered in file order; returns the features whose geometry is
/// broken (left out of the pair checks).
fn check_geometries(parsed: &mut Parsed, progress: &super::Tracker) -> HashSet<usize> {
    progress.phase("checking geometry", parsed.features.len());
    let known = &parsed.broken;
    let found: Vec<(usize, Option<Problem>)> = parsed
        .features
        .par_iter()
        .zip(&parsed.source_index)
        .enumerate()
        .filter_map(|(k, (f, &i))| {
            progress.tick();
            // Parts of a multi-row area already reported (see `parts`) are broken without a second message.
            if known.contains(&k) {
                return Some((k, None));
            }
            geometry_problem(f, i).map(|p| (k, Some(p)))
        })
        .collect();
    let broken: HashSet<usize> = found.iter().map(|(k, _)| *k).collect();
    let invalid: Vec<Problem> = found.into_iter().filter_map(|(_, p)| p).collect();
    push_capped(&mut parsed.report.errors, invalid, "invalid geometries");
    broken
}

/// Features of the layer overlapping each other (slivers from imperfect noding are counted in one warning).
fn check_overlaps(parsed: &mut Parsed, broken: &HashSet<usize>, progress: &super::Tracker) {
    let shapes: Vec<Option<&geo::MultiPolygon<f64>>> =
        parsed.features.iter().enumerate().map(|(k, f)| (!broken.contains(&k)).then_some(&f.geometry)).collect();
    let (mut overlaps, mut slivers) = (Vec::new(), 0usize);
    for o in super::overlaps::find(&shapes, progress) {
        if o.width_m < super::overlaps::SLIVER_WIDTH_M {
            slivers += 1;
            continue;
        }
        let (fa, fb) = (&parsed.features[o.a], &parsed.features[o.b]);
        let mut p = Problem::at(
            Kind::Overlap,
            parsed.source_index[o.b],
            Some(&fb.code),
            "geometry",
            format!(
                "overlaps feature {} (code {}) by {:.1} m² ({:.1} m wide on average) around [{:.6}, {:.6}]",
                parsed.source_index[o.a], fa.code, o.area_m2, o.width_m, o.at[0], o.at[1]
            ),
        );
        p.location = o.at.iter().all(|v| v.is_finite()).then_some(o.at);
        overlaps.push(p);
    }
    push_capped(&mut parsed.report.errors, overlaps, "overlaps");
    if slivers > 0 {
        parsed.report.warn(Problem::file(Kind::Slivers, format!(
            "{slivers} pair(s) of neighbours overlap in slivers narrower than {} m on average (imperfect noding along \
             shared edges); accepted",
            super::overlaps::SLIVER_WIDTH_M
        )));
    }
}

/// Parent codes that the parent layer does not have.
fn check_parent_codes(parsed: &mut Parsed, ctx: &HierarchyContext) {
    let (Some(parents), Some(parent_layer)) = (&ctx.parent_codes, parsed.report.layer.parent()) else { return };
    if parents.is_empty() {
        parsed.report.errors.push(Problem::file(
            Kind::ParentLayerEmpty,
            format!(
                "layer {parent_layer} is empty in the generation this import builds on: import {parent_layer} first"
            ),
        ));
        return;
    }
    let orphans = parsed
        .features
        .iter()
        .zip(&parsed.source_index)
        .filter_map(|(f, &i)| {
            let p = f.parent_code.as_deref()?;
            (!parents.contains(p)).then(|| {
                Problem::at(
                    Kind::UnknownParent,
                    i,
                    Some(&f.code),
                    "parent_code",
                    format!("parent code {p} does not exist in layer {parent_layer}"),
                )
            })
        })
        .collect();
    push_capped(&mut parsed.report.errors, orphans, "unknown parent codes");
}

/// Children in the current generation whose parent this file lacks (a warning: they can follow with `--base`).
fn warn_orphaned_children(parsed: &mut Parsed, ctx: &HierarchyContext, codes: &HashSet<String>) {
    let Some(child_layer) = parsed.report.layer.child() else { return };
    let orphaned: Vec<&str> = ctx
        .children
        .iter()
        .filter(|(_, p)| p.as_deref().is_some_and(|p| !codes.contains(p)))
        .map(|(c, _)| c.as_str())
        .collect();
    if !orphaned.is_empty() {
        let sample: Vec<&str> = orphaned.iter().take(10).copied().collect();
        parsed.report.warn(Problem::file(
            Kind::OrphanedChildren,
            format!(
                "{} {child_layer} of the current generation name a parent code this file lacks (e.g. {sample:?}); \
             import {child_layer} into this generation too (--base) before activating",
                orphaned.len()
            ),
        ));
    }
}

/// What is wrong with a feature's geometry (`i`: its position in the file), if anything.
fn geometry_problem(f: &crate::layers::Feature, i: usize) -> Option<Problem> {
    let vertices = f.geometry.coords_count();
    if vertices > MAX_VERTICES_PER_FEATURE {
        return Some(Problem::at(
            Kind::TooManyVertices,
            i,
            Some(&f.code),
            "geometry",
            format!(
                "{vertices} vertices; at most {MAX_VERTICES_PER_FEATURE} per feature are accepted (simplify it first: \
                 a grid or street boundary needs a few thousand)"
            ),
        ));
    }
    let e = validity::check(&f.geometry).err()?;
    let mut p = Problem::at(Kind::InvalidGeometry, i, Some(&f.code), "geometry", format!("invalid geometry: {e}"));
    // Located on the map: a point of the feature (the console marks it).
    p.location = geo::InteriorPoint::interior_point(&f.geometry)
        .map(|c| [c.x(), c.y()])
        .filter(|c| c.iter().all(|v| v.is_finite()));
    Some(p)
}

fn push_capped(into: &mut Vec<Problem>, mut found: Vec<Problem>, what: &str) {
    if found.len() > LIST_LIMIT {
        let more = found.len() - LIST_LIMIT;
        found.truncate(LIST_LIMIT);
        found.push(Problem::file(Kind::More, format!("… and {more} more {what}")));
    }
    into.extend(found);
}

/// Children outside their parent (an error from [`super::hierarchy::OUTSIDE_ERROR_SHARE`] of their area, a warning
/// below) and gaps in the parents that no child covers (warnings), each with area and location.
fn containment(
    parsed: &mut Parsed,
    broken: &HashSet<usize>,
    ctx: &HierarchyContext,
    parent_layer: crate::layers::Layer,
    progress: &super::Tracker,
) {
    use super::hierarchy::{OUTSIDE_ERROR_SHARE, SLIVER_M2, check};
    let layer = parsed.report.layer;
    let found = check(&parsed.features, broken, &ctx.parent_shapes, progress);
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for o in &found.outside {
        let f = &parsed.features[o.feature];
        let mut p = Problem::at(
            Kind::OutsideParent,
            parsed.source_index[o.feature],
            Some(&f.code),
            "geometry",
            format!(
                "extends {:.0} m² ({:.1} % of its area) outside its parent {parent_layer} {} around [{:.6}, {:.6}]",
                o.area_m2,
                o.share * 100.0,
                f.parent_code.as_deref().unwrap_or(""),
                o.at[0],
                o.at[1]
            ),
        );
        p.location = o.at.iter().all(|v| v.is_finite()).then_some(o.at);
        if o.share >= OUTSIDE_ERROR_SHARE { errors.push(p) } else { warnings.push(p) }
    }
    push_capped(&mut parsed.report.errors, errors, "children outside their parent");
    for g in &found.gaps {
        let mut p = Problem::file(
            Kind::Gap,
            format!(
                "gap of {:.0} m² inside {parent_layer} {} that no {layer} covers, around [{:.6}, {:.6}]",
                g.area_m2, g.parent_code, g.at[0], g.at[1]
            ),
        );
        p.location = g.at.iter().all(|v| v.is_finite()).then_some(g.at);
        warnings.push(p);
    }
    push_capped(&mut parsed.report.warnings, warnings, "containment warnings");
    if found.slivers > 0 {
        parsed.report.warn(Problem::file(Kind::Slivers, format!(
            "{} sliver(s) under {SLIVER_M2} m² outside parents or uncovered inside them (imperfect noding); accepted",
            found.slivers
        )));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use geo::{MultiPolygon, polygon};

    use super::*;
    use crate::import::{Parsed, Progress, Report, Tracker};
    use crate::layers::{Feature, Layer};

    /// Phases with their totals and the steps counted in each.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(&'static str, u64, u64)>>);

    impl Progress for Recorder {
        fn phase(&self, name: &'static str, total: u64) {
            self.0.lock().expect("lock").push((name, total, 0));
        }
        fn advance(&self, n: u64) {
            self.0.lock().expect("lock").last_mut().expect("a phase began").2 += n;
        }
    }

    fn rect(code: &str, x0: f64, x1: f64) -> Feature {
        Feature {
            code: code.into(),
            name: code.into(),
            parent_code: Some("P".into()),
            geometry: MultiPolygon(vec![
                polygon![(x: x0, y: 32.0), (x: x1, y: 32.0), (x: x1, y: 32.01), (x: x0, y: 32.01), (x: x0, y: 32.0)],
            ]),
            properties: Default::default(),
        }
    }

    #[test]
    fn every_check_reports_its_phase_and_completes_it() {
        let features = vec![rect("a", 118.0, 118.011), rect("b", 118.01, 118.02), rect("c", 118.02, 118.03)];
        let parent = rect("P", 118.0, 118.03).geometry;
        let mut parsed = Parsed::new(Report::new("test.geojson", Layer::Communities));
        parsed.source_index = (0..features.len()).collect();
        parsed.features = features;
        let ctx = HierarchyContext {
            parent_codes: Some(["P".to_owned()].into()),
            children: Vec::new(),
            parent_shapes: vec![("P".into(), parent)],
        };
        let recorder = Arc::new(Recorder::default());
        validate(&mut parsed, &ctx, &Tracker::new(recorder.clone()));
        let phases = recorder.0.lock().expect("lock").clone();
        let names: Vec<&str> = phases.iter().map(|p| p.0).collect();
        assert_eq!(names, ["checking geometry", "checking overlaps", "checking containment", "checking gaps"]);
        assert_eq!((phases[0].1, phases[2].1, phases[3].1), (3, 3, 1), "{phases:?}");
        assert!(phases[1].1 >= 1, "a and b overlap: at least that candidate pair");
        assert!(phases.iter().all(|(_, total, done)| total == done), "{phases:?}");
        assert!(!parsed.report.valid, "the overlap of a and b is an error");
    }
}
