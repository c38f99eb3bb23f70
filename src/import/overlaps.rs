//! Overlaps between features of one layer: two grids may share edges, never ground. Candidate pairs come from an
//! R-tree of bounding boxes; each pair's intersection is computed exactly (geo's boolean operations) and measured on
//! the sphere. Real data is not perfectly noded: neighbours overlap in hairlines a centimetre wide along shared
//! edges, sometimes several m² in total along a long edge. Those are slivers, told apart by their mean *width*
//! (2 × area / perimeter), not their area, and only counted.
//!
//! The overlap of two features lies in both their bounding boxes, so each is cut to the boxes' common part first
//! (Sutherland–Hodgman): the overlay sees the few edges along the shared border, not both whole rings. Pairs are
//! checked on every core (rayon).

use geo::{BooleanOps, BoundingRect, Centroid, ChamberlainDuquetteArea, Haversine, Length, LineString, MultiPolygon};
use geo::{Polygon, Rect};
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use crate::geometry::clip::clip_ring;

/// Overlaps narrower than this on average are slivers: warned about in one line, not rejected.
pub const SLIVER_WIDTH_M: f64 = 0.5;

/// Two features whose interiors overlap.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    /// Position of the first feature in the slice.
    pub a: usize,
    /// Position of the second.
    pub b: usize,
    /// Overlapping area, m².
    pub area_m2: f64,
    /// Mean width of the overlap, 2 × area / perimeter, m.
    pub width_m: f64,
    /// A point inside the overlap (its centroid), `[lon, lat]`.
    pub at: [f64; 2],
}

/// Every pair of `shapes` whose intersection has an area; `None` entries (invalid geometry) are skipped.
pub fn find(shapes: &[Option<&MultiPolygon<f64>>], progress: &super::Tracker) -> Vec<Overlap> {
    let rects: Vec<Option<Rect<f64>>> = shapes.iter().map(|s| s.and_then(BoundingRect::bounding_rect)).collect();
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = rects
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            Some(GeomWithData::new(Rectangle::from_corners((*r)?.min().into(), (*r)?.max().into()), i))
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    let candidates: Vec<(usize, usize)> = tree
        .intersection_candidates_with_other_tree(&tree)
        .map(|(x, y)| (x.data, y.data))
        .filter(|(a, b)| a < b)
        .collect();
    progress.phase("checking overlaps", candidates.len());
    let mut found: Vec<Overlap> = candidates
        .into_par_iter()
        .filter_map(|(a, b)| {
            progress.tick();
            let (Some(pa), Some(pb), Some(ra), Some(rb)) = (shapes[a], shapes[b], rects[a], rects[b]) else {
                return None;
            };
            let common = [
                ra.min().x.max(rb.min().x),
                ra.min().y.max(rb.min().y),
                ra.max().x.min(rb.max().x),
                ra.max().y.min(rb.max().y),
            ];
            // Boxes meeting along a line or at a corner: the features cannot share ground.
            if common[0] >= common[2] || common[1] >= common[3] {
                return None;
            }
            overlap(a, b, &clipped(pa, common).intersection(&clipped(pb, common)))
        })
        .collect();
    found.sort_by_key(|o| (o.a, o.b));
    found
}

/// The part of `shape` in `bounds` (`[min_x, min_y, max_x, max_y]`), ring by ring.
fn clipped(shape: &MultiPolygon<f64>, bounds: [f64; 4]) -> MultiPolygon<f64> {
    let ring = |r: &LineString<f64>| -> Option<LineString<f64>> {
        let open = r.0.split_last().map_or(&[][..], |(_, open)| open);
        let pts = clip_ring(open.iter().map(|c| [c.x, c.y]).collect(), bounds);
        (pts.len() >= 3).then(|| pts.into_iter().map(|[x, y]| (x, y)).collect())
    };
    shape
        .0
        .iter()
        .filter_map(|p| Some(Polygon::new(ring(p.exterior())?, p.interiors().iter().filter_map(ring).collect())))
        .collect()
}

/// The overlap of features `a` and `b` whose intersection is `common`, if it has an area.
fn overlap(a: usize, b: usize, common: &MultiPolygon<f64>) -> Option<Overlap> {
    let area_m2 = common.chamberlain_duquette_unsigned_area();
    if area_m2 <= 0.0 {
        return None;
    }
    let perimeter_m: f64 = common
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|ring| Haversine.length(ring))
        .sum();
    let width_m = if perimeter_m > 0.0 { 2.0 * area_m2 / perimeter_m } else { 0.0 };
    let at = common.centroid().map_or([f64::NAN; 2], |c| [c.x(), c.y()]);
    Some(Overlap { a, b, area_m2, width_m, at })
}

#[cfg(test)]
mod tests {
    use geo::{MultiPolygon, Rect};

    use super::*;

    fn square(x0: f64, y0: f64, side: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![Rect::new((x0, y0), (x0 + side, y0 + side)).to_polygon()])
    }

    #[test]
    fn neighbours_sharing_an_edge_do_not_overlap_but_stacked_ones_do() {
        let a = square(118.0, 32.0, 0.01);
        let b = square(118.01, 32.0, 0.01); // shares a's east edge
        let c = square(118.005, 32.005, 0.01); // overlaps both by a quarter of a square
        let found = find(&[Some(&a), Some(&b), Some(&c), None], &Default::default());
        assert_eq!(found.iter().map(|o| (o.a, o.b)).collect::<Vec<_>>(), vec![(0, 2), (1, 2)]);
        // A quarter of 0.01° × 0.01° at 32°N: about 0.25 × 1.11 km × 0.94 km.
        assert!((found[0].area_m2 - 261_000.0).abs() < 5_000.0, "{}", found[0].area_m2);
        assert!((found[0].at[0] - 118.0075).abs() < 1e-9);
        // A square about 470 m × 555 m: mean width ≈ 2 × area / perimeter ≈ 255 m.
        assert!((found[0].width_m - 255.0).abs() < 10.0, "{}", found[0].width_m);
    }

    #[test]
    fn a_hairline_along_a_shared_edge_is_a_sliver() {
        let a = square(118.0, 32.0, 0.01);
        // Reaches 1e-7° (about 1 cm) into a along its whole east edge.
        let b = square(118.01 - 1e-7, 32.0, 0.01);
        let found = find(&[Some(&a), Some(&b)], &Default::default());
        assert_eq!(found.len(), 1);
        assert!(found[0].area_m2 > 5.0, "{}", found[0].area_m2);
        assert!(found[0].width_m < SLIVER_WIDTH_M, "{}", found[0].width_m);
    }
}
