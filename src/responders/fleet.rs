//! The live fleet in memory: every responder with its latest position and grid, published as immutable snapshots
//! (an R-tree of positions on the unit sphere) that readers take without waiting for writers.
//!
//! Positions are stored as 3-D unit vectors, so the R-tree's Euclidean (chord) distance orders responders exactly as
//! great-circle distance does; nearest-first iteration is then correct anywhere, not only near the equator.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use geo::{Distance, Haversine, Point};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::{PositionFix, Responder, ResponderId};
use crate::coord::LonLat;

/// A responder as the dispatcher sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveResponder {
    /// The stored responder, with its latest position.
    pub responder: Responder,
    /// Grid of the latest position (under the generation served when it was reported).
    pub grid_code: Option<String>,
    /// Community of the latest position (the grid's parent).
    pub community_code: Option<String>,
}

type Entry = GeomWithData<[f64; 3], u32>;

/// An immutable view of the fleet. Responders are shared with the master copy (`Arc`), so publishing a snapshot
/// costs a vector of pointers and an R-tree bulk load, not a copy of the roster.
#[derive(Debug, Default)]
pub struct FleetSnapshot {
    /// Sorted by id.
    items: Vec<Arc<LiveResponder>>,
    tree: RTree<Entry>,
}

fn unit_vector(lon: f64, lat: f64) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

impl FleetSnapshot {
    fn build(items: Vec<Arc<LiveResponder>>) -> Self {
        let entries = items
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.responder.location.map(|[x, y]| GeomWithData::new(unit_vector(x, y), i as u32)))
            .collect();
        Self { items, tree: RTree::bulk_load(entries) }
    }

    /// One responder.
    pub fn get(&self, id: ResponderId) -> Option<&LiveResponder> {
        self.items.binary_search_by_key(&id, |r| r.responder.id).ok().map(|i| &*self.items[i])
    }

    /// All responders, by id.
    pub fn all(&self) -> impl ExactSizeIterator<Item = &LiveResponder> {
        self.items.iter().map(|r| &**r)
    }

    /// Responders with a position, nearest first, with their great-circle distance in metres (haversine,
    /// R = 6 371 008.8 m).
    pub fn nearest(&self, p: LonLat) -> impl Iterator<Item = (&LiveResponder, f64)> + '_ {
        let q = unit_vector(p.lon(), p.lat());
        let from = Point::new(p.lon(), p.lat());
        self.tree.nearest_neighbor_iter(&q).map(move |e| {
            let r = &*self.items[e.data as usize];
            let [x, y] = r.responder.location.unwrap_or([p.lon(), p.lat()]);
            (r, Haversine.distance(from, Point::new(x, y)))
        })
    }
}

/// The fleet: a master copy changed under a lock by writers, and the published snapshot readers use.
#[derive(Debug, Default)]
pub struct Fleet {
    master: Mutex<BTreeMap<ResponderId, Arc<LiveResponder>>>,
    snapshot: ArcSwap<FleetSnapshot>,
}

impl Fleet {
    /// A fleet holding `responders`.
    pub fn new(responders: Vec<LiveResponder>) -> Self {
        let fleet = Fleet::default();
        fleet.update(|m| {
            for r in responders {
                m.insert(r.responder.id, Arc::new(r));
            }
        });
        fleet
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<FleetSnapshot> {
        self.snapshot.load_full()
    }

    /// Changes the master copy and publishes a new snapshot (bulk-loaded, never mutated in place).
    pub fn update(&self, change: impl FnOnce(&mut BTreeMap<ResponderId, Arc<LiveResponder>>)) {
        let Ok(mut master) = self.master.lock() else { return };
        change(&mut master);
        // BTreeMap iterates in id order: the snapshot is sorted for binary search.
        let items: Vec<Arc<LiveResponder>> = master.values().cloned().collect();
        self.snapshot.store(Arc::new(FleetSnapshot::build(items)));
    }

    /// Applies committed fixes (older than the known position are ignored), with the grid of each new position.
    pub fn apply_positions(
        &self,
        fixes: &[PositionFix],
        place_of: impl Fn(LonLat) -> (Option<String>, Option<String>),
    ) {
        self.update(|m| {
            for f in fixes {
                if let Some(r) = m.get_mut(&f.responder) {
                    if r.responder.position_at.is_some_and(|t| t > f.at) {
                        continue;
                    }
                    let r = Arc::make_mut(r);
                    r.responder.location = Some([f.location.lon(), f.location.lat()]);
                    r.responder.position_at = Some(f.at);
                    (r.grid_code, r.community_code) = place_of(f.location);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responders::ResponderStatus;

    fn at(id: i64, lon: f64, lat: f64) -> LiveResponder {
        LiveResponder {
            responder: Responder {
                id: ResponderId(id),
                name: format!("r{id}"),
                kind: "grid_worker".into(),
                skills: vec![],
                team: None,
                home_grid: None,
                status: ResponderStatus::Available,
                location: Some([lon, lat]),
                position_at: None,
            },
            grid_code: None,
            community_code: None,
        }
    }

    #[test]
    fn nearest_is_great_circle_order_even_far_north() {
        // At 80°N a degree of longitude is ~19 km and a degree of latitude ~111 km: lon/lat Euclid would pick 2.
        let fleet = Fleet::new(vec![at(1, 10.0, 80.1), at(2, 10.5, 80.0), at(3, 9.0, 80.0)]);
        let snap = fleet.snapshot();
        let order: Vec<i64> =
            snap.nearest(LonLat::new(10.0, 80.0).expect("valid")).map(|(r, _)| r.responder.id.0).collect();
        let d = |lon: f64, lat: f64| Haversine.distance(Point::new(10.0, 80.0), Point::new(lon, lat));
        let mut expected = [(1, d(10.0, 80.1)), (2, d(10.5, 80.0)), (3, d(9.0, 80.0))];
        expected.sort_by(|a, b| a.1.total_cmp(&b.1));
        assert_eq!(order, expected.iter().map(|e| e.0).collect::<Vec<_>>());
        let first = snap.nearest(LonLat::new(10.0, 80.0).expect("valid")).next().expect("one");
        assert!((first.1 - expected[0].1).abs() < 1e-6);
    }

    #[test]
    fn older_fixes_do_not_move_a_responder_back() {
        let fleet = Fleet::new(vec![at(1, 118.0, 32.0)]);
        let t = time::OffsetDateTime::now_utc();
        let fix = |lon: f64, at: time::OffsetDateTime| PositionFix {
            responder: ResponderId(1),
            location: LonLat::new(lon, 32.0).expect("valid"),
            at,
        };
        fleet.apply_positions(&[fix(118.1, t)], |_| (None, None));
        fleet.apply_positions(&[fix(118.2, t - time::Duration::seconds(5))], |_| (None, None));
        assert_eq!(fleet.snapshot().get(ResponderId(1)).and_then(|r| r.responder.location), Some([118.1, 32.0]));
    }
}
