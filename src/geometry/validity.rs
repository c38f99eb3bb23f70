//! Polygon validity as geo's `Validation` judges it (the same rules, errors and order), with the rings'
//! self-intersection test indexed. geo compares every pair of a ring's segments, which is quadratic: a 1 800-vertex
//! street boundary is 3.2 million segment tests. Here only segments whose boxes meet are compared (an R-tree join of
//! the ring with itself), with geo's own test for each such pair.

use geo::RemoveRepeatedPoints;
use geo::algorithm::validation::{CoordIndex, GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{HasDimensions, Intersects, Line, LineString, MultiPolygon, Polygon, PreparedGeometry, Relate};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

/// Rings with fewer segments than this are compared pair by pair (building an index costs more).
const INDEX_FROM_SEGMENTS: usize = 64;

/// The first problem geo's `check_validation` reports for `shape`, found without its quadratic ring test.
pub fn check(shape: &MultiPolygon<f64>) -> Result<(), InvalidMultiPolygon> {
    for (i, polygon) in shape.0.iter().enumerate() {
        check_polygon(polygon).map_err(|e| InvalidMultiPolygon::InvalidPolygon(GeometryIndex(i), e))?;
        // Parts must not overlap nor touch on a line.
        for (j, other) in shape.0.iter().enumerate().skip(i + 1) {
            let im = polygon.relate(other);
            if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(InvalidMultiPolygon::ElementsOverlaps(GeometryIndex(i), GeometryIndex(j)));
            }
            if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Err(InvalidMultiPolygon::ElementsTouchOnALine(GeometryIndex(i), GeometryIndex(j)));
            }
        }
    }
    Ok(())
}

/// Whether `shape` is valid (see [`check`]).
pub fn is_valid(shape: &MultiPolygon<f64>) -> bool {
    check(shape).is_ok()
}

fn check_polygon(polygon: &Polygon<f64>) -> Result<(), InvalidPolygon> {
    if polygon.is_empty() {
        return Ok(());
    }
    for (k, ring) in std::iter::once(polygon.exterior()).chain(polygon.interiors()).enumerate() {
        if ring.is_empty() {
            continue;
        }
        let role = if k == 0 { RingRole::Exterior } else { RingRole::Interior(k - 1) };
        if ring.remove_repeated_points().0.len() < 4 {
            return Err(InvalidPolygon::TooFewPointsInRing(role));
        }
        if self_intersects(ring) {
            return Err(InvalidPolygon::SelfIntersection(role));
        }
        if let Some(at) = ring.0.iter().position(|c| !(c.x.is_finite() && c.y.is_finite())) {
            return Err(InvalidPolygon::NonFiniteCoord(role, CoordIndex(at)));
        }
    }
    if polygon.interiors().iter().all(|r| r.is_empty()) {
        return Ok(());
    }
    holes(polygon)
}

/// geo's hole checks: each hole inside the exterior, touching it and the other holes at points only (relate-based;
/// holes are rare and few).
fn holes(polygon: &Polygon<f64>) -> Result<(), InvalidPolygon> {
    let exterior = Polygon::new(polygon.exterior().clone(), vec![]);
    let prepared = PreparedGeometry::from(&exterior);
    for (a, hole_a) in polygon.interiors().iter().enumerate().filter(|(_, r)| !r.is_empty()) {
        let hole = Polygon::new(hole_a.clone(), vec![]);
        let prepared_hole = PreparedGeometry::from(&hole);
        let im = prepared.relate(&prepared_hole);
        if !im.is_contains() {
            return Err(InvalidPolygon::InteriorRingNotContainedInExteriorRing(RingRole::Interior(a)));
        }
        if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Err(InvalidPolygon::IntersectingRingsOnALine(RingRole::Exterior, RingRole::Interior(a)));
        }
        for (b, hole_b) in polygon.interiors().iter().enumerate().skip(a + 1).filter(|(_, r)| !r.is_empty()) {
            let im = prepared_hole.relate(&Polygon::new(hole_b.clone(), vec![]));
            if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(InvalidPolygon::IntersectingRingsOnAnArea(RingRole::Interior(a), RingRole::Interior(b)));
            }
            if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Err(InvalidPolygon::IntersectingRingsOnALine(RingRole::Interior(a), RingRole::Interior(b)));
            }
        }
    }
    Ok(())
}

/// geo's ring test: two segments meet other than where one ends and the next begins.
fn self_intersects(ring: &LineString<f64>) -> bool {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    let finite = ring.0.iter().all(|c| c.x.is_finite() && c.y.is_finite());
    if !finite || lines.len() < INDEX_FROM_SEGMENTS {
        return (0..lines.len()).any(|i| (i + 1..lines.len()).any(|j| meet(&lines[i], &lines[j])));
    }
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| GeomWithData::new(Rectangle::from_corners(l.start.into(), l.end.into()), i))
        .collect();
    let tree = RTree::bulk_load(boxes);
    tree.intersection_candidates_with_other_tree(&tree)
        .any(|(a, b)| a.data < b.data && meet(&lines[a.data], &lines[b.data]))
}

/// geo's pair test (symmetric, so each unordered pair is tested once).
fn meet(a: &Line<f64>, b: &Line<f64>) -> bool {
    a.intersects(b) && a.start != b.end && a.end != b.start
}

#[cfg(test)]
mod tests {
    use geo::{Validation, polygon};
    use proptest::prelude::*;

    use super::*;

    /// A closed ring through `points` (a star-ish walk: often self-intersecting, sometimes not).
    fn shape(points: &[(f64, f64)], holes: Vec<Vec<(f64, f64)>>) -> MultiPolygon<f64> {
        let ring = |pts: &[(f64, f64)]| LineString::from(pts.to_vec());
        MultiPolygon(vec![Polygon::new(ring(points), holes.iter().map(|h| ring(h)).collect())])
    }

    #[test]
    fn agrees_with_geo_on_the_classic_cases() {
        let cases = [
            MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)]]),
            // A bow-tie.
            MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 4., y: 4.), (x: 4., y: 0.), (x: 0., y: 4.)]]),
            // Too few points, a non-finite coordinate, a hole outside, two parts overlapping.
            MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 0., y: 0.)]]),
            MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: f64::NAN, y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)]]),
            shape(&[(0., 0.), (4., 0.), (4., 4.), (0., 4.)], vec![vec![(5., 5.), (6., 5.), (6., 6.), (5., 6.)]]),
            MultiPolygon(vec![
                polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)],
                polygon![(x: 2., y: 2.), (x: 6., y: 2.), (x: 6., y: 6.), (x: 2., y: 6.)],
            ]),
        ];
        for (k, c) in cases.iter().enumerate() {
            assert_eq!(check(c), c.check_validation(), "case {k}");
        }
        assert!(check(&cases[0]).is_ok());
        assert!(check(&cases[1]).is_err());
    }

    /// A ring of `n` vertices around a circle with radial jitter: simple when the jitter is small, crossing itself
    /// when a vertex is pushed past its neighbours (angles jittered too).
    fn ring(n: usize, jitter: &[(f64, f64)]) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let (dr, da) = jitter[i % jitter.len()];
                let a = (i as f64 + da) / n as f64 * std::f64::consts::TAU;
                let r = 1.0 + dr;
                (118.0 + r * a.cos(), 32.0 + r * a.sin())
            })
            .collect()
    }

    proptest! {
        #[test]
        fn agrees_with_geo_on_long_rings(
            n in 64usize..300,
            jitter in proptest::collection::vec((-0.2f64..0.2, -3.0f64..3.0), 1..40),
            hole in proptest::bool::ANY,
        ) {
            let outer = ring(n, &jitter);
            let small = |&(x, y): &(f64, f64)| (118.0 + (x - 118.0) * 0.3, 32.0 + (y - 32.0) * 0.3);
            let holes = if hole { vec![ring(70, &[(0.0, 0.0)]).iter().map(small).collect()] } else { vec![] };
            let s = shape(&outer, holes);
            prop_assert_eq!(check(&s), s.check_validation());
        }
    }
}
