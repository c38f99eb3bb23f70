//! Snapping a point to the nearest routable edge of a profile: an R-tree over the edges' segments in a local
//! equirectangular plane (metres around the network's centre, exact enough to choose the nearest segment of a
//! city), the foot of the perpendicular back in lon/lat, and the off-road distance between them by haversine.

use geo::{Distance, Haversine, Point};
use rstar::primitives::{GeomWithData, Line};
use rstar::{PointDistance, RTree};

use super::graph::RoadNetwork;
use crate::coord::LonLat;

/// Metres per degree of latitude (R = 6 371 008.8 m).
const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

type Segment = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

/// A snapped point this close to an end of its edge stands on that node, metres.
const NODE_M: f64 = 0.01;

/// A profile's segments for nearest-edge queries.
#[derive(Debug)]
pub(crate) struct SnapIndex {
    tree: RTree<Segment>,
    lon0: f64,
    lat0: f64,
    cos0: f64,
}

/// Where a point meets the road.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The edge.
    pub(super) edge: u32,
    /// Metres along the edge from its start (node `a`).
    pub(super) along_m: f64,
    /// The point on the edge.
    pub point: [f64; 2],
    /// From the point asked for to the edge, metres (haversine).
    pub offroad_m: f64,
}

impl SnapIndex {
    /// Segments of the given edges.
    pub(super) fn build(net: &RoadNetwork, edges: &[usize]) -> Self {
        let b = net.report.bbox;
        let (lon0, lat0) = if b[0].is_finite() { ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0) } else { (0.0, 0.0) };
        let mut this = Self { tree: RTree::new(), lon0, lat0, cos0: lat0.to_radians().cos() };
        let mut segments = Vec::new();
        for &i in edges {
            let g = net.geometry(&net.edges[i]);
            for k in 1..g.len() {
                segments.push(GeomWithData::new(
                    Line::new(this.plane(g[k - 1]), this.plane(g[k])),
                    (i as u32, k as u32 - 1),
                ));
            }
        }
        this.tree = RTree::bulk_load(segments);
        this
    }

    fn plane(&self, p: [f64; 2]) -> [f64; 2] {
        [(p[0] - self.lon0) * self.cos0 * M_PER_DEG, (p[1] - self.lat0) * M_PER_DEG]
    }

    fn lonlat(&self, q: [f64; 2]) -> [f64; 2] {
        [q[0] / (self.cos0 * M_PER_DEG) + self.lon0, q[1] / M_PER_DEG + self.lat0]
    }

    /// The nearest point of any segment within `max_m`, or `None` (no road that close, or none at all).
    pub(super) fn nearest(&self, net: &RoadNetwork, p: LonLat, max_m: f64) -> Option<Snap> {
        let q = self.plane([p.lon(), p.lat()]);
        let seg = self.tree.nearest_neighbor(&q)?;
        // The plane slightly misjudges distances far from its centre; the haversine check below is the real one.
        if seg.distance_2(&q).sqrt() > max_m * 1.05 + 1.0 {
            return None;
        }
        let (edge, k) = seg.data;
        let (a, b) = (seg.geom().from, seg.geom().to);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len_sq = dx * dx + dy * dy;
        let t = if len_sq > 0.0 { (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / len_sq).clamp(0.0, 1.0) } else { 0.0 };
        let e = &net.edges[edge as usize];
        let geometry = net.geometry(e);
        let along = net.along(e);
        let (p0, p1) = (geometry[k as usize], geometry[k as usize + 1]);
        // The foot of the perpendicular: exactly the segment's end points at t = 0 and 1 (snapping onto a node).
        let point = match t {
            0.0 => p0,
            1.0 => p1,
            _ => self.lonlat([a[0] + t * dx, a[1] + t * dy]),
        };
        let mut along_m = along[k as usize] + t * (along[k as usize + 1] - along[k as usize]);
        let mut point = point;
        // Within a centimetre of a node is on it: the point is at the junction, free to leave by any of its edges
        // (a rounding error's 1e-10 m along a one-way edge would otherwise forbid going back to it).
        if along_m < NODE_M {
            (along_m, point) = (0.0, geometry[0]);
        } else if along_m > e.length_m - NODE_M {
            (along_m, point) = (e.length_m, geometry[geometry.len() - 1]);
        }
        let offroad_m = Haversine.distance(Point::new(p.lon(), p.lat()), Point::new(point[0], point[1]));
        (offroad_m <= max_m).then_some(Snap { edge, along_m, point, offroad_m })
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.tree.size() * (std::mem::size_of::<Segment>() + 16)
    }
}
