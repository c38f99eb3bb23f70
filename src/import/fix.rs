//! `--fix`: repairs that cannot change what a boundary means, each listed in the report. Unclosed rings are closed
//! by the GeoJSON reader (which would otherwise refuse them); here, repeated consecutive points are dropped and invalid
//! polygons (self-intersections, bow-ties, overlapping rings) are rebuilt by a union with the non-zero fill rule, the
//! way `ST_MakeValid`/`buffer(0)` do. A repair that changes the area by more than 1 % is not applied: the feature
//! keeps its problem and the report says why.

use geo::algorithm::bool_ops::{BooleanOps, FillRule, OpType};
use geo::{ChamberlainDuquetteArea, MultiPolygon};

use crate::geometry::validity::is_valid;

use super::{Kind, Parsed, Problem};

/// A repair may change the area by at most this share.
const MAX_AREA_CHANGE: f64 = 0.01;

/// Repairs every feature of `parsed` in place and lists what changed as warnings (`fixed: …`).
pub fn repair(parsed: &mut Parsed) {
    let mut notes = Vec::new();
    for (f, &i) in parsed.features.iter_mut().zip(&parsed.source_index) {
        let dropped = drop_repeats(&mut f.geometry);
        if dropped > 0 {
            notes.push(Problem::at(
                Kind::Fixed,
                i,
                Some(&f.code),
                "geometry",
                format!("fixed: {dropped} repeated point(s) dropped"),
            ));
        }
        if is_valid(&f.geometry) {
            continue;
        }
        let area = f.geometry.chamberlain_duquette_unsigned_area();
        let rebuilt: MultiPolygon<f64> =
            f.geometry.boolean_op_with_fill_rule(&MultiPolygon(Vec::new()), OpType::Union, FillRule::NonZero);
        let new_area = rebuilt.chamberlain_duquette_unsigned_area();
        let change = if area > 0.0 { (new_area - area).abs() / area } else { 1.0 };
        if is_valid(&rebuilt) && !rebuilt.0.is_empty() && change <= MAX_AREA_CHANGE {
            notes.push(Problem::at(
                Kind::Fixed,
                i,
                Some(&f.code),
                "geometry",
                format!(
                    "fixed: invalid polygon rebuilt ({} → {} polygon(s), area {area:.0} → {new_area:.0} m²)",
                    f.geometry.0.len(),
                    rebuilt.0.len()
                ),
            ));
            f.geometry = rebuilt;
        } else {
            notes.push(Problem::at(
                Kind::NotFixed,
                i,
                Some(&f.code),
                "geometry",
                format!(
                    "not fixed: rebuilding the invalid polygon would change its area by {:.1} % (area {area:.0} → \
                     {new_area:.0} m²); correct it in the source",
                    change * 100.0
                ),
            ));
        }
    }
    parsed.report.warnings.extend(notes);
}

/// Drops consecutive repeated positions from every ring; returns how many went.
fn drop_repeats(mp: &mut MultiPolygon<f64>) -> usize {
    let mut dropped = 0;
    let mut dedup = |ring: &mut geo::LineString<f64>| {
        let n = ring.0.len();
        ring.0.dedup();
        dropped += n - ring.0.len();
    };
    for polygon in &mut mp.0 {
        polygon.exterior_mut(&mut dedup);
        polygon.interiors_mut(|rings| rings.iter_mut().for_each(&mut dedup));
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Report;
    use crate::layers::{Feature, Layer};
    use geo::polygon;

    fn parsed(geometry: MultiPolygon<f64>) -> Parsed {
        let feature =
            Feature { code: "A".into(), name: "a".into(), parent_code: None, geometry, properties: Default::default() };
        let mut p = Parsed::new(Report::new("f.geojson", Layer::Streets));
        p.features.push(feature);
        p.source_index.push(7);
        p
    }

    #[test]
    fn repeated_points_are_dropped_and_listed() {
        let mut p = parsed(MultiPolygon(vec![polygon![
            (x: 118.0, y: 32.0), (x: 118.01, y: 32.0), (x: 118.01, y: 32.0), (x: 118.01, y: 32.01), (x: 118.0, y: 32.01), (x: 118.0, y: 32.0)
        ]]));
        repair(&mut p);
        assert_eq!(geo::CoordsIter::coords_count(&p.features[0].geometry), 5);
        assert!(p.report.warnings[0].to_string().contains("1 repeated point(s) dropped"), "{:?}", p.report.warnings);
        assert_eq!(p.report.warnings[0].feature, Some(7));
    }

    #[test]
    fn a_self_overlapping_polygon_is_rebuilt_valid() {
        // A square with a thin spike whose ring runs back along the top edge: the ring overlaps itself (invalid).
        let mut p = parsed(MultiPolygon(vec![polygon![
            (x: 118.0, y: 32.0), (x: 118.02, y: 32.0), (x: 118.02, y: 32.02), (x: 118.01, y: 32.02),
            (x: 118.01, y: 32.022), (x: 118.011, y: 32.02), (x: 118.0, y: 32.02), (x: 118.0, y: 32.0)
        ]]));
        assert!(!is_valid(&p.features[0].geometry));
        repair(&mut p);
        assert!(is_valid(&p.features[0].geometry), "{:?}", p.report.warnings);
        assert!(
            p.report.warnings.iter().any(|w| w.to_string().contains("fixed: invalid polygon rebuilt")),
            "{:?}",
            p.report.warnings
        );
    }

    #[test]
    fn a_bow_tie_is_left_for_the_source() {
        // Its signed area is zero: any rebuild changes the area completely, so it is not guessed at.
        let bow_tie = MultiPolygon(vec![polygon![
            (x: 118.0, y: 32.0), (x: 118.02, y: 32.02), (x: 118.02, y: 32.0), (x: 118.0, y: 32.02), (x: 118.0, y: 32.0)
        ]]);
        let mut p = parsed(bow_tie.clone());
        repair(&mut p);
        assert_eq!(p.features[0].geometry, bow_tie);
        assert!(p.report.warnings.iter().any(|w| w.to_string().contains("not fixed")), "{:?}", p.report.warnings);
    }
}
