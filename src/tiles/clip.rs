//! Clipping rings to a tile's buffered square (Sutherland–Hodgman, one edge of the square at a time) and tidying the
//! result once snapped to integer tile coordinates.
//!
//! Sutherland–Hodgman keeps a polygon that leaves and re-enters the square as one ring with edges along the border;
//! renderers draw that correctly, and the buffer keeps those edges out of sight.

use super::mvt::{Px, Ring, signed_area2};
use crate::geometry::clip::clip_ring;

/// The clip square in tile coordinates: `[-buffer, extent + buffer]` on both axes.
#[derive(Debug, Clone, Copy)]
pub struct ClipBox {
    min: i32,
    max: i32,
}

impl ClipBox {
    /// The tile square grown by `buffer` on each side.
    pub fn new(extent: u32, buffer: u32) -> Self {
        Self { min: -(buffer as i32), max: (extent + buffer) as i32 }
    }

    /// True when a box `[min_x, min_y, max_x, max_y]` lies inside.
    pub fn contains(self, b: [i32; 4]) -> bool {
        b[0] >= self.min && b[1] >= self.min && b[2] <= self.max && b[3] <= self.max
    }

    /// True when a box `[min_x, min_y, max_x, max_y]` overlaps.
    pub fn intersects(self, b: [i32; 4]) -> bool {
        b[0] <= self.max && b[2] >= self.min && b[1] <= self.max && b[3] >= self.min
    }

    /// Clips a ring; `None` when nothing with area is left.
    pub fn clip(self, ring: &[Px]) -> Option<Ring> {
        let pts: Vec<[f64; 2]> = ring.iter().map(|p| [f64::from(p[0]), f64::from(p[1])]).collect();
        let (lo, hi) = (f64::from(self.min), f64::from(self.max));
        let pts = clip_ring(pts, [lo, lo, hi, hi]);
        tidy(pts.iter().map(|p| [p[0].round() as i32, p[1].round() as i32]).collect())
    }
}

/// Drops repeated points (the closing one too) and rings left without area.
pub fn tidy(mut ring: Ring) -> Option<Ring> {
    ring.dedup();
    while ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    (ring.len() >= 3 && signed_area2(&ring) != 0).then_some(ring)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_to_the_buffered_square() {
        let b = ClipBox::new(4096, 64);
        let ring = vec![[-1000, -1000], [1000, -1000], [1000, 1000], [-1000, 1000]];
        let clipped = b.clip(&ring).expect("overlaps");
        assert_eq!(signed_area2(&clipped).abs(), 2 * 1064 * 1064);
        assert!(clipped.iter().all(|p| p[0] >= -64 && p[1] >= -64));
    }

    #[test]
    fn outside_or_touching_only_is_dropped() {
        let b = ClipBox::new(4096, 0);
        assert_eq!(b.clip(&[[5000, 0], [6000, 0], [6000, 100]]), None);
        // Shares only the tile's right edge: a zero-area sliver, dropped.
        assert_eq!(b.clip(&[[4096, 0], [5000, 0], [5000, 100], [4096, 100]]), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 5000, ..Default::default() })]

        /// Clipping never loses a polygon whose overlap with the buffered tile is wider than the rounding of
        /// vertices to whole tile units, never invents one that does not overlap, and keeps the overlap's area up to
        /// that rounding.
        #[test]
        fn clipping_keeps_exactly_what_overlaps_the_tile(
            pts in proptest::collection::vec((-3000i32..7500, -3000i32..7500), 3..9)
        ) {
            use geo::{Area, BooleanOps, ConvexHull, Euclidean, Length, LineString, MultiPoint, Point, Rect};
            let hull = MultiPoint::from(pts.iter().map(|&(x, y)| Point::new(f64::from(x), f64::from(y))).collect::<Vec<_>>())
                .convex_hull();
            proptest::prop_assume!(hull.unsigned_area() >= 1.0);
            let ring: Ring = hull.exterior().0[..hull.exterior().0.len() - 1]
                .iter()
                .map(|c| [c.x as i32, c.y as i32])
                .collect();
            let square = Rect::new((-64.0, -64.0), (4160.0, 4160.0)).to_polygon();
            let common = hull.intersection(&square);
            let overlap = common.unsigned_area();
            // Rounding moves each vertex by at most 0.71 units: an overlap thinner than that may vanish (found by
            // this test: a 7.5-unit² sliver 0.9 units wide in the buffer), a wider one may not.
            let rounding: f64 = common.0.iter().map(|p| Euclidean.length(p.exterior())).sum::<f64>() * 0.75 + 1.0;
            let clipped = ClipBox::new(4096, 64).clip(&ring);
            if overlap == 0.0 {
                proptest::prop_assert!(clipped.is_none(), "nothing overlaps, yet {clipped:?}");
            }
            if overlap >= 2.0 && overlap > rounding {
                let c = clipped.expect("an overlapping polygon was lost");
                let area = signed_area2(&c).abs() as f64 / 2.0;
                let line = LineString::from(c.iter().chain(c.first()).map(|p| (f64::from(p[0]), f64::from(p[1]))).collect::<Vec<_>>());
                let slack = Euclidean.length(&line) * 0.75 + 1.0;
                proptest::prop_assert!((area - overlap).abs() <= slack, "area {area} vs overlap {overlap} (slack {slack})");
                proptest::prop_assert!(c.iter().all(|p| (-64..=4160).contains(&p[0]) && (-64..=4160).contains(&p[1])));
            }
        }
    }

    #[test]
    fn tidy_removes_repeats_and_degenerate_rings() {
        assert_eq!(tidy(vec![[0, 0], [0, 0], [5, 0], [5, 5], [0, 0]]), Some(vec![[0, 0], [5, 0], [5, 5]]));
        assert_eq!(tidy(vec![[0, 0], [5, 0], [10, 0]]), None);
    }
}
