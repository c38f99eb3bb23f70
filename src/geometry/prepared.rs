//! A polygon prepared for fast "does it cover this point?" tests.
//!
//! `geo::indexed::IntervalTreeMultiPolygon` answers `contains` (interior only); gridmap needs `covers` (boundary
//! included, like PostGIS `ST_Covers`), so edges are bucketed into horizontal slabs and a query visits only the
//! edges whose y-range overlaps the point's slab.
//!
//! The side of a point against an edge is computed with the same plain floating-point expression, in the same
//! operand order and with the edge in its stored direction, as PostGIS's point-in-polygon test (Dan Sunday's winding
//! number): a point is on the boundary exactly when that expression is 0.0 and the point lies in the edge's bounding
//! box. So a point that PostGIS `ST_Covers` puts on a shared edge is on it here too, bit for bit, and the lowest-code
//! rule then picks the same feature on both stores. (A robust predicate would disagree with PostGIS on points within
//! rounding distance of an edge.)

use geo::winding_order::{Winding, WindingOrder};
use geo::{BoundingRect, Coord, LineString, MultiPolygon, Rect};

/// One edge in its stored direction, with the weight that turns its ring's winding into "+1 inside an exterior,
/// -1 inside a hole" whatever the ring's orientation.
#[derive(Debug, Clone, Copy)]
struct Edge {
    a: Coord<f64>,
    b: Coord<f64>,
    weight: i32,
}

/// A (Multi)Polygon with its edges bucketed in horizontal slabs.
#[derive(Debug, Clone)]
pub struct PreparedArea {
    bbox: Rect<f64>,
    min_y: f64,
    slab_height: f64,
    /// `slab_start[i]..slab_start[i + 1]` indexes `edges` for slab `i`.
    slab_start: Vec<u32>,
    edges: Vec<Edge>,
}

impl PreparedArea {
    /// Prepares a multipolygon; `None` when it has no coordinates.
    pub fn new(mp: &MultiPolygon<f64>) -> Option<Self> {
        let bbox = mp.bounding_rect()?;
        let mut all = Vec::new();
        let mut push_ring = |ring: &LineString<f64>, role: i32| {
            let orientation = match ring.winding_order() {
                Some(WindingOrder::Clockwise) => -1,
                _ => 1,
            };
            all.extend(
                ring.lines()
                    .filter(|l| {
                        let (dx, dy) = (l.end.x - l.start.x, l.end.y - l.start.y);
                        // Zero-length edges carry no side and no crossing.
                        dx * dx + dy * dy >= 1e-24
                    })
                    .map(|l| Edge { a: l.start, b: l.end, weight: orientation * role }),
            );
        };
        for polygon in &mp.0 {
            push_ring(polygon.exterior(), 1);
            for hole in polygon.interiors() {
                push_ring(hole, -1);
            }
        }
        let slabs = (all.len() / 2).clamp(1, 1 << 16);
        let min_y = bbox.min().y;
        let height = bbox.height();
        let slab_height = if height > 0.0 { height / slabs as f64 } else { 1.0 };
        let slab_of = |y: f64| (((y - min_y) / slab_height) as usize).min(slabs - 1);

        let mut counts = vec![0u32; slabs + 1];
        for e in &all {
            let (lo, hi) = (slab_of(e.a.y.min(e.b.y)), slab_of(e.a.y.max(e.b.y)));
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut slab_start = Vec::with_capacity(slabs + 1);
        let mut acc = 0u32;
        for c in &counts[..slabs] {
            slab_start.push(acc);
            acc += c;
        }
        slab_start.push(acc);
        let mut fill = slab_start.clone();
        let mut edges = vec![Edge { a: Coord::zero(), b: Coord::zero(), weight: 0 }; acc as usize];
        for e in &all {
            let (lo, hi) = (slab_of(e.a.y.min(e.b.y)), slab_of(e.a.y.max(e.b.y)));
            for f in &mut fill[lo..=hi] {
                edges[*f as usize] = *e;
                *f += 1;
            }
        }
        Some(Self { bbox, min_y, slab_height, slab_start, edges })
    }

    /// Bounding box of the area.
    pub fn bbox(&self) -> Rect<f64> {
        self.bbox
    }

    /// True when `p` lies in the interior or on the boundary (`ST_Covers` semantics).
    pub fn covers(&self, p: Coord<f64>) -> bool {
        let (min, max) = (self.bbox.min(), self.bbox.max());
        if p.x < min.x || p.x > max.x || p.y < min.y || p.y > max.y {
            return false;
        }
        let slabs = self.slab_start.len() - 1;
        let slab = (((p.y - self.min_y) / self.slab_height) as usize).min(slabs - 1);
        let range = self.slab_start[slab] as usize..self.slab_start[slab + 1] as usize;
        let mut winding = 0i32;
        for e in &self.edges[range] {
            let (a, b) = (e.a, e.b);
            if p.y < a.y.min(b.y) || p.y > a.y.max(b.y) {
                continue;
            }
            // > 0: p left of a→b; < 0: right; 0: on the line (as PostGIS computes it).
            let side = (b.x - a.x) * (p.y - a.y) - (p.x - a.x) * (b.y - a.y);
            if side == 0.0 && p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) {
                return true;
            }
            if a.y <= p.y && p.y < b.y && side > 0.0 {
                winding += e.weight;
            } else if b.y <= p.y && p.y < a.y && side < 0.0 {
                winding -= e.weight;
            }
        }
        winding != 0
    }

    /// Whether some edge passes closer than `distance` (in coordinate units) to `p`: only the slabs within that
    /// distance of `p` are visited, and squared distances compared, so a vertex of a neighbouring layer lying on this
    /// boundary costs a few edge tests, not one per vertex of the polygon.
    pub fn near_boundary(&self, p: Coord<f64>, distance: f64) -> bool {
        let (min, max) = (self.bbox.min(), self.bbox.max());
        if p.x < min.x - distance || p.x > max.x + distance || p.y < min.y - distance || p.y > max.y + distance {
            return false;
        }
        let slabs = self.slab_start.len() - 1;
        let slab_of = |y: f64| (((y - self.min_y) / self.slab_height).max(0.0) as usize).min(slabs - 1);
        let range =
            self.slab_start[slab_of(p.y - distance)] as usize..self.slab_start[slab_of(p.y + distance) + 1] as usize;
        let limit = distance * distance;
        self.edges[range].iter().any(|e| squared_distance(p, e.a, e.b) < limit)
    }
}

/// Squared distance from `p` to the segment `a`–`b`.
fn squared_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let length2 = dx * dx + dy * dy;
    let t = if length2 > 0.0 { (((p.x - a.x) * dx + (p.y - a.y) * dy) / length2).clamp(0.0, 1.0) } else { 0.0 };
    let (ex, ey) = (a.x + t * dx - p.x, a.y + t * dy - p.y);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, Intersects, Point, wkt};

    fn square_with_hole() -> MultiPolygon<f64> {
        wkt! { MULTIPOLYGON(((0. 0.,10. 0.,10. 10.,0. 10.,0. 0.),(4. 4.,6. 4.,6. 6.,4. 6.,4. 4.)),((20. 0.,30. 5.,20. 10.,20. 0.))) }
    }

    #[test]
    fn boundary_counts_as_covered() {
        let area = PreparedArea::new(&square_with_hole()).expect("non-empty");
        for (x, y) in [(0.0, 0.0), (5.0, 0.0), (10.0, 3.0), (4.0, 5.0), (5.0, 6.0), (25.0, 2.5), (20.0, 10.0)] {
            assert!(area.covers(Coord { x, y }), "({x}, {y}) is on the boundary");
        }
    }

    #[test]
    fn interior_hole_and_outside() {
        let area = PreparedArea::new(&square_with_hole()).expect("non-empty");
        assert!(area.covers(Coord { x: 1.0, y: 1.0 }));
        assert!(area.covers(Coord { x: 22.0, y: 5.0 }));
        assert!(!area.covers(Coord { x: 5.0, y: 5.0 }), "inside the hole");
        assert!(!area.covers(Coord { x: 15.0, y: 5.0 }));
        assert!(!area.covers(Coord { x: 29.0, y: 9.0 }));
        assert!(!area.covers(Coord { x: -0.000001, y: 5.0 }));
    }

    #[test]
    fn hole_orientation_does_not_matter() {
        // Exterior clockwise and hole clockwise too: GeoJSON files in the wild do this.
        let mp = wkt! { MULTIPOLYGON(((0. 0.,0. 10.,10. 10.,10. 0.,0. 0.),(4. 4.,4. 6.,6. 6.,6. 4.,4. 4.))) };
        let area = PreparedArea::new(&mp).expect("non-empty");
        assert!(area.covers(Coord { x: 1.0, y: 1.0 }));
        assert!(!area.covers(Coord { x: 5.0, y: 5.0 }));
        assert!(area.covers(Coord { x: 4.0, y: 5.0 }));
    }

    #[test]
    fn near_boundary_agrees_with_geo_distance() {
        use geo::{Distance, Euclidean};
        let mp = square_with_hole();
        let area = PreparedArea::new(&mp).expect("non-empty");
        for i in 0..=400 {
            for j in 0..=150 {
                let p = Point::new(-1.0 + i as f64 * 0.0787, -1.0 + j as f64 * 0.0813);
                if area.covers(p.0) {
                    continue;
                }
                let d = Euclidean.distance(&p, &mp);
                for tol in [0.01, 0.05, 0.3] {
                    if (d - tol).abs() > 1e-9 {
                        assert_eq!(area.near_boundary(p.0, tol), d < tol, "at {p:?}, {tol}");
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_geo_on_a_dense_sample() {
        let mp = square_with_hole();
        let area = PreparedArea::new(&mp).expect("non-empty");
        let mut checked = 0;
        for i in 0..=300 {
            for j in 0..=100 {
                let p = Point::new(-1.0 + i as f64 * 0.1037, -0.5 + j as f64 * 0.1101);
                // geo: covers == intersects for a point against a polygon.
                assert_eq!(area.covers(p.0), mp.intersects(&p), "at {p:?}");
                if mp.contains(&p) {
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000);
    }
}
