//! Point-to-point routes on a profile's contraction hierarchy: both points snapped to their nearest routable edge,
//! the hierarchy asked for the best of the (up to) two ways off the first edge and onto the last, the path unpacked
//! into edges and drawn from the first snapped point to the last, with the off-road parts walked.

use std::cell::RefCell;

use fast_paths::PathCalculator;
use serde::Serialize;

use super::graph::{NO_WAY, ProfileGraph, RoadNetwork};
use super::profile::ProfileName;
use super::search::{entries, exits, same_edge};
use super::snap::Snap;
use crate::coord::LonLat;

/// Why no route was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    /// A point is farther from every road of the profile than the policy's limit.
    #[error("the {which} point is more than {max_m} m from any {profile} road")]
    OffRoad {
        /// `from` or `to`.
        which: &'static str,
        /// The limit.
        max_m: f64,
        /// The profile.
        profile: &'static str,
    },
    /// The profile has no routable roads at all.
    #[error("the road network has no {0} roads")]
    NoRoads(&'static str),
}

/// How far each point was from its road.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SnapInfo {
    /// From the start to its road, metres (walked).
    pub from_m: f64,
    /// From the road to the destination, metres (walked).
    pub to_m: f64,
}

/// A route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The profile.
    pub profile: ProfileName,
    /// Along the roads, metres.
    pub road_distance_m: f64,
    /// Road distance plus the off-road parts, metres.
    pub distance_m: f64,
    /// Seconds, off-road parts included.
    pub eta_s: f64,
    /// From the start through the roads to the destination, `[lon, lat]`.
    pub geometry: Vec<[f64; 2]>,
    /// The off-road parts.
    pub snap: SnapInfo,
}

thread_local! {
    /// This thread's path calculators (one per network and profile; a new network's replace the old).
    static CALCULATORS: RefCell<Vec<(usize, usize, PathCalculator)>> = const { RefCell::new(Vec::new()) };
}

fn with_calculator<T>(g: &ProfileGraph, f: impl FnOnce(&mut PathCalculator) -> T) -> T {
    let key = (std::ptr::from_ref(g) as usize, g.global.len());
    CALCULATORS.with(|c| {
        let mut c = c.borrow_mut();
        let at = match c.iter().position(|(p, n, _)| (*p, *n) == key) {
            Some(at) => at,
            None => {
                // Three profiles of the served network, and the previous network's until they are pushed out.
                if c.len() >= 6 {
                    c.remove(0);
                }
                c.push((key.0, key.1, fast_paths::create_calculator(&g.ch)));
                c.len() - 1
            }
        };
        f(&mut c[at].2)
    })
}

impl RoadNetwork {
    /// Snaps a point to a profile's nearest routable edge within `max_m`.
    pub fn snap(&self, profile: ProfileName, p: LonLat, max_m: f64) -> Option<Snap> {
        self.profile(profile).snap.nearest(self, p, max_m)
    }

    /// The fastest route from `from` to `to` for a profile.
    pub fn route(&self, profile: ProfileName, from: LonLat, to: LonLat) -> Result<Route, RouteError> {
        let g = self.profile(profile);
        if g.out.is_empty() {
            return Err(RouteError::NoRoads(profile.as_str()));
        }
        let max_m = self.policy.snap_max_m;
        let off = |which| RouteError::OffRoad { which, max_m, profile: profile.as_str() };
        let s = self.snap(profile, from, max_m).ok_or_else(|| off("from"))?;
        let t = self.snap(profile, to, max_m).ok_or_else(|| off("to"))?;
        let mut route = self.route_between(profile, &s, &t);
        // The off-road parts: from the point asked for to its road, and from the road to the destination.
        if s.offroad_m > 0.0 {
            route.geometry.insert(0, [from.lon(), from.lat()]);
        }
        if t.offroad_m > 0.0 {
            route.geometry.push([to.lon(), to.lat()]);
        }
        Ok(route)
    }

    /// The fastest route between two snapped points (inside one component, so there always is one).
    pub fn route_between(&self, profile: ProfileName, s: &Snap, t: &Snap) -> Route {
        let g = self.profile(profile);
        let starts: Vec<(usize, usize)> = exits(self, g, s)
            .iter()
            .filter(|(n, w)| *n != NO_WAY && *w != NO_WAY)
            .map(|&(n, w)| (n as usize, w as usize))
            .collect();
        let ends: Vec<(usize, usize)> = entries(self, g, t)
            .iter()
            .filter(|(n, w)| *n != NO_WAY && *w != NO_WAY)
            .map(|&(n, w)| (n as usize, w as usize))
            .collect();
        let direct = same_edge(self, g, s, t);
        let path = if starts.is_empty() || ends.is_empty() {
            None
        } else {
            with_calculator(g, |calc| calc.calc_path_multiple_sources_and_targets(&g.ch, starts, ends))
        };
        let speed = self.policy.offroad_speed_mps;
        let snap = SnapInfo { from_m: s.offroad_m, to_m: t.offroad_m };
        let offroad_s = (s.offroad_m + t.offroad_m) / speed;
        let (ms, geometry, road_m) = match path {
            Some(p) if (p.get_weight() as u64) < u64::from(direct) => {
                let (geometry, road_m) = self.draw(g, s, t, p.get_nodes());
                (p.get_weight() as f64, geometry, road_m)
            }
            _ if direct != NO_WAY => {
                let geometry = self.piece(s.edge, s.along_m, t.along_m, s.point, t.point);
                (f64::from(direct), geometry, (t.along_m - s.along_m).abs())
            }
            // Inside one component a way always exists; an empty route says the search found none.
            _ => (f64::INFINITY, vec![s.point, t.point], f64::INFINITY),
        };
        Route {
            profile,
            road_distance_m: road_m,
            distance_m: road_m + s.offroad_m + t.offroad_m,
            eta_s: ms / 1000.0 + offroad_s,
            geometry: dedup(geometry),
            snap,
        }
    }

    /// The geometry of a path of component nodes, with the partial first and last edges; (line, road metres).
    fn draw(&self, g: &ProfileGraph, s: &Snap, t: &Snap, path: &[usize]) -> (Vec<[f64; 2]>, f64) {
        let mut line = Vec::new();
        let mut road_m = 0.0;
        let (Some(&first), Some(&last)) = (path.first(), path.last()) else { return (line, road_m) };
        // Off the first edge towards the path's first node.
        let e = &self.edges[s.edge as usize];
        // The path leaves the first edge by the node it starts from (an edge's two nodes differ: loops are unused).
        let towards_b = g.local[e.b as usize] as usize == first;
        let end_along = if towards_b { e.length_m } else { 0.0 };
        line.extend(self.piece(s.edge, s.along_m, end_along, s.point, self.node(g.global[first])));
        road_m += (end_along - s.along_m).abs();
        for pair in path.windows(2) {
            let (u, v) = (pair[0], pair[1]);
            let (lo, hi) = (g.out_start[u] as usize, g.out_start[u + 1] as usize);
            let Some(&(_, _, edge)) =
                g.out[lo..hi].iter().filter(|(h, _, _)| *h as usize == v).min_by_key(|(_, w, _)| *w)
            else {
                continue;
            };
            let e = &self.edges[edge as usize];
            let forward = g.local[e.a as usize] as usize == u;
            let geometry = self.geometry(e);
            if forward {
                line.extend_from_slice(geometry);
            } else {
                line.extend(geometry.iter().rev());
            }
            road_m += e.length_m;
        }
        // Onto the last edge from the path's last node.
        let e = &self.edges[t.edge as usize];
        let from_a = g.local[e.a as usize] as usize == last;
        let start_along = if from_a { 0.0 } else { e.length_m };
        line.extend(self.piece(t.edge, start_along, t.along_m, self.node(g.global[last]), t.point));
        road_m += (t.along_m - start_along).abs();
        (line, road_m)
    }

    /// The part of an edge between two along-distances, in travel order, starting at `p` and ending at `q`.
    fn piece(&self, edge: u32, from_m: f64, to_m: f64, p: [f64; 2], q: [f64; 2]) -> Vec<[f64; 2]> {
        let e = &self.edges[edge as usize];
        let geometry = self.geometry(e);
        let along = self.along(e);
        let mut out = vec![p];
        let (lo, hi) = (from_m.min(to_m), from_m.max(to_m));
        let inner: Vec<[f64; 2]> =
            along.iter().zip(geometry).filter(|(a, _)| **a > lo && **a < hi).map(|(_, c)| *c).collect();
        if from_m <= to_m {
            out.extend(inner);
        } else {
            out.extend(inner.into_iter().rev());
        }
        out.push(q);
        out
    }
}

fn dedup(mut line: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    line.dedup();
    if line.len() == 1 {
        line.push(line[0]);
    }
    line
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::roads::search::Towards;
    use crate::roads::{RoadPolicy, synthetic};

    /// Every route the hierarchy answers takes as long as the plain backward Dijkstra says, for random points of
    /// every profile on a grid with one-way streets and footways; the drawn line starts and ends at the points and
    /// its length is the road distance.
    #[test]
    fn hierarchy_routes_equal_dijkstra() {
        let ways = synthetic::street_grid([118.78, 32.0], 30, 25, 120.0);
        let net = std::sync::Arc::new(RoadNetwork::build(None, &ways, &RoadPolicy::default()));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(28);
        for p in ProfileName::ALL {
            for _ in 0..300 {
                let mut pick = || {
                    LonLat::new(118.78 + rng.random_range(0.0..0.037), 32.0 + rng.random_range(0.0..0.026))
                        .expect("valid")
                };
                let (a, b) = (pick(), pick());
                let r = net.route(p, a, b).expect("a route");
                let (s, t) = (net.snap(p, a, 300.0).expect("snap"), net.snap(p, b, 300.0).expect("snap"));
                let (ms, metres) = Towards::new(net.clone(), p, t).road(&s).expect("connected");
                let offroad_s = (s.offroad_m + t.offroad_m) / net.policy.offroad_speed_mps;
                assert!(
                    (r.eta_s - (f64::from(ms) / 1000.0 + offroad_s)).abs() < 0.002,
                    "{p:?} {a:?} → {b:?}: {} vs {ms} ms",
                    r.eta_s
                );
                assert!(
                    (r.road_distance_m - metres).abs() < 0.5
                        || (r.eta_s - f64::from(ms) / 1000.0 - offroad_s).abs() < 0.002,
                    "{p:?}: {} m vs {metres} m",
                    r.road_distance_m
                );
                let line: f64 = r
                    .geometry
                    .windows(2)
                    .map(|w| {
                        geo::Distance::distance(
                            &geo::Geodesic,
                            geo::Point::new(w[0][0], w[0][1]),
                            geo::Point::new(w[1][0], w[1][1]),
                        )
                    })
                    .sum();
                assert!(
                    (line - r.distance_m).abs() < 1.0 + r.distance_m * 0.003,
                    "{p:?}: line {line} m, distance {} m",
                    r.distance_m
                );
                assert_eq!(
                    r.geometry.first(),
                    Some(&[a.lon(), a.lat()]).filter(|_| s.offroad_m > 0.0).or(Some(&s.point))
                );
            }
        }
    }

    #[test]
    fn one_way_streets_make_vehicles_detour_and_far_points_are_refused() {
        use crate::roads::graph::tests::way;
        // A one-way street 1 → 2 (east, 1 km) and a two-way detour 1 – 3 – 2 to the north.
        let ways = vec![
            way(1, &[1, 2], &[[0.0, 0.0], [10.5, 0.0]], &[("highway", "residential"), ("oneway", "yes")]),
            way(2, &[1, 3, 2], &[[0.0, 0.0], [5.25, 5.0], [10.5, 0.0]], &[("highway", "residential")]),
        ];
        let net = RoadNetwork::build(None, &ways, &RoadPolicy::default());
        let (west, east) = (LonLat::new(118.0, 32.0).expect("valid"), LonLat::new(118.0105, 32.0).expect("valid"));
        let along = net.route(ProfileName::Vehicle, west, east).expect("route");
        let back = net.route(ProfileName::Vehicle, east, west).expect("route");
        let walk = net.route(ProfileName::Walk, east, west).expect("route");
        assert!((along.road_distance_m - walk.road_distance_m).abs() < 1.0, "the one-way street, either way on foot");
        assert!(
            back.road_distance_m > along.road_distance_m * 1.3,
            "the van takes the detour: {} m",
            back.road_distance_m
        );
        assert!((back.eta_s - back.road_distance_m / (20.0 / 3.6)).abs() < 0.01, "at the residential speed");
        let far = LonLat::new(118.9, 32.1).expect("valid");
        assert!(matches!(net.route(ProfileName::Walk, far, east), Err(RouteError::OffRoad { which: "from", .. })));
    }
}
