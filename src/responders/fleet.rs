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

/// Fewest moved responders that make the next publication rebuild the base tree (see [`Fleet`]).
const MIN_DELTA_REBUILD: usize = 4096;

/// An immutable view of the fleet. Responders are shared with the master copy (`Arc`), so publishing a snapshot
/// costs a vector of pointers, not a copy of the roster. Positions sit in two bulk-loaded R-trees: `base`, built
/// from every position at some point, and `delta`, the responders that moved since (their `base` entries are
/// stale and skipped). A position batch rebuilds only the small delta tree; the base is rebuilt when the delta has
/// grown to an eighth of the fleet.
#[derive(Debug, Default)]
pub struct FleetSnapshot {
    /// Sorted by id.
    items: Vec<Arc<LiveResponder>>,
    base: Arc<RTree<Entry>>,
    delta: Arc<RTree<Entry>>,
    /// Bit i set: item i's `base` entry is stale.
    moved: Arc<Vec<u64>>,
}

fn unit_vector(lon: f64, lat: f64) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn is_set(bits: &[u64], i: u32) -> bool {
    bits.get(i as usize / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

impl FleetSnapshot {
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
        self.nearest_first(p).map(move |r| (r, distance_m(p, r)))
    }

    /// Responders with a position, nearest first, without their distances: a caller that filters (status, skills)
    /// computes [`distance_m`] only for those it keeps.
    pub fn nearest_first(&self, p: LonLat) -> impl Iterator<Item = &LiveResponder> + '_ {
        let q = unit_vector(p.lon(), p.lat());
        let mut base = self
            .base
            .nearest_neighbor_iter_with_distance_2(&q)
            .filter(|(e, _)| !is_set(&self.moved, e.data))
            .peekable();
        let mut delta = self.delta.nearest_neighbor_iter_with_distance_2(&q).peekable();
        // Merge the two nearest-first streams.
        std::iter::from_fn(move || match (base.peek(), delta.peek()) {
            (Some((_, a)), Some((_, b))) if a <= b => base.next(),
            (Some(_), None) => base.next(),
            (_, Some(_)) => delta.next(),
            (None, None) => None,
        })
        .map(move |(e, _)| &*self.items[e.data as usize])
    }
}

/// Great-circle distance from `p` to the responder's position in metres (haversine, R = 6 371 008.8 m); 0 without
/// a position.
pub fn distance_m(p: LonLat, r: &LiveResponder) -> f64 {
    let [x, y] = r.responder.location.map_or([p.lon(), p.lat()], |l| l.0);
    Haversine.distance(Point::new(p.lon(), p.lat()), Point::new(x, y))
}

/// What writers change: the roster and the trees' bookkeeping.
#[derive(Debug, Default)]
struct Master {
    /// Sorted by id; an entry's position here is its position in every snapshot until the roster changes.
    items: Vec<Arc<LiveResponder>>,
    base: Arc<RTree<Entry>>,
    /// Current positions of the responders that moved since `base` was built, by item position.
    delta: BTreeMap<u32, [f64; 3]>,
    delta_tree: Arc<RTree<Entry>>,
    moved: Arc<Vec<u64>>,
}

impl Master {
    /// Rebuilds both trees from every position (item positions may have shifted).
    fn rebuild_all(&mut self) {
        let entries = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.responder.location.map(|l| GeomWithData::new(unit_vector(l[0], l[1]), i as u32)))
            .collect();
        self.base = Arc::new(RTree::bulk_load(entries));
        self.delta.clear();
        self.delta_tree = Arc::default();
        self.moved = Arc::default();
    }

    /// Rebuilds the delta tree (or everything, once the delta is large).
    fn rebuild_delta(&mut self) {
        if self.delta.len() > MIN_DELTA_REBUILD.max(self.items.len() / 8) {
            return self.rebuild_all();
        }
        let entries = self.delta.iter().map(|(i, v)| GeomWithData::new(*v, *i)).collect();
        self.delta_tree = Arc::new(RTree::bulk_load(entries));
        let mut bits = vec![0u64; self.items.len().div_ceil(64)];
        for i in self.delta.keys() {
            bits[*i as usize / 64] |= 1 << (i % 64);
        }
        self.moved = Arc::new(bits);
    }

    fn position(&self, id: ResponderId) -> Option<usize> {
        self.items.binary_search_by_key(&id, |r| r.responder.id).ok()
    }

    fn snapshot(&self) -> FleetSnapshot {
        FleetSnapshot {
            items: self.items.clone(),
            base: self.base.clone(),
            delta: self.delta_tree.clone(),
            moved: self.moved.clone(),
        }
    }
}

/// The fleet: a master copy changed under a lock by writers, and the published snapshot readers use.
#[derive(Debug, Default)]
pub struct Fleet {
    master: Mutex<Master>,
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

    /// Changes the roster (adds, removes, anything) and publishes a snapshot with both trees rebuilt. For roster
    /// changes; positions go through [`Fleet::apply_positions`] and status through [`Fleet::set_status`].
    pub fn update(&self, change: impl FnOnce(&mut BTreeMap<ResponderId, Arc<LiveResponder>>)) {
        let Ok(mut master) = self.master.lock() else { return };
        let mut map: BTreeMap<ResponderId, Arc<LiveResponder>> =
            master.items.drain(..).map(|r| (r.responder.id, r)).collect();
        change(&mut map);
        master.items = map.into_values().collect();
        master.rebuild_all();
        self.snapshot.store(Arc::new(master.snapshot()));
    }

    /// Adds new responders. Those with ids above every known one (what the store hands out) are appended and
    /// indexed through the delta tree like moved responders, so one `POST /responders` into a fleet of 100 000 does
    /// not rebuild its base tree; anything else (an id below the last, already known) goes through [`Fleet::update`].
    pub fn add(&self, new: Vec<LiveResponder>) {
        let Ok(mut master) = self.master.lock() else { return };
        let mut last = master.items.last().map(|r| r.responder.id);
        let appendable = new.iter().all(|r| {
            let ok = last.is_none_or(|l| r.responder.id > l);
            last = Some(r.responder.id);
            ok
        });
        if !appendable {
            drop(master);
            return self.update(|m| {
                for r in new {
                    m.insert(r.responder.id, Arc::new(r));
                }
            });
        }
        for r in new {
            let i = master.items.len() as u32;
            if let Some(crate::crs::Position([x, y])) = r.responder.location {
                master.delta.insert(i, unit_vector(x, y));
            }
            master.items.push(Arc::new(r));
        }
        master.rebuild_delta();
        self.snapshot.store(Arc::new(master.snapshot()));
    }

    /// Takes in a stored status change unless the fleet already holds a newer one (a higher `status_version`):
    /// handlers that committed in one order may finish in the other. The trees stay as they are.
    pub fn set_status(&self, stored: &super::Responder) {
        let Ok(mut master) = self.master.lock() else { return };
        if let Some(i) = master.position(stored.id) {
            if master.items[i].responder.status_version > stored.status_version {
                return;
            }
            let r = &mut Arc::make_mut(&mut master.items[i]).responder;
            r.status = stored.status;
            r.status_version = stored.status_version;
            self.snapshot.store(Arc::new(master.snapshot()));
        }
    }

    /// Applies committed fixes (older than the known position are ignored), with the grid and community of each
    /// new position. Only the delta tree is rebuilt (see [`FleetSnapshot`]).
    pub fn apply_positions(
        &self,
        fixes: &[PositionFix],
        place_of: impl Fn(LonLat) -> (Option<String>, Option<String>),
    ) {
        let Ok(mut master) = self.master.lock() else { return };
        let mut changed = false;
        for f in fixes {
            let Some(i) = master.position(f.responder) else { continue };
            let r = &mut master.items[i];
            if r.responder.position_at.is_some_and(|t| t > f.at) {
                continue;
            }
            let r = Arc::make_mut(r);
            r.responder.location = Some(f.location.into());
            r.responder.position_at = Some(f.at);
            (r.grid_code, r.community_code) = place_of(f.location);
            master.delta.insert(i as u32, unit_vector(f.location.lon(), f.location.lat()));
            changed = true;
        }
        if changed {
            master.rebuild_delta();
            self.snapshot.store(Arc::new(master.snapshot()));
        }
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
                status_version: 0,
                location: Some(crate::crs::Position([lon, lat])),
                position_at: None,
            },
            grid_code: None,
            community_code: None,
        }
    }

    /// Every located responder of `snap` with its haversine distance from `q`, nearest first (brute force).
    fn by_distance(snap: &FleetSnapshot, q: LonLat) -> Vec<(i64, f64)> {
        let mut all: Vec<(i64, f64)> = snap
            .all()
            .filter_map(|r| {
                let [x, y] = r.responder.location?.0;
                Some((r.responder.id.0, Haversine.distance(Point::new(q.lon(), q.lat()), Point::new(x, y))))
            })
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        all
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
    fn moved_responders_are_found_where_they_are_now() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut point = || (rng.random_range(118.7..118.9), rng.random_range(31.95..32.1));
        let fleet = Fleet::new(
            (1..=10_000)
                .map(|i| {
                    let (x, y) = point();
                    at(i, x, y)
                })
                .collect(),
        );
        let t0 = time::OffsetDateTime::now_utc();
        // Rounds of 1 500 moves: the first ones stay in the delta tree, later ones trigger base rebuilds.
        for round in 0..4 {
            let fixes: Vec<PositionFix> = (0..1_500)
                .map(|k| {
                    let (x, y) = point();
                    PositionFix {
                        responder: ResponderId(1 + (round * 1_500 + k * 7) % 10_000),
                        location: LonLat::new(x, y).expect("valid"),
                        at: t0 + time::Duration::seconds(round),
                    }
                })
                .collect();
            fleet.apply_positions(&fixes, |_| (None, None));
            let snap = fleet.snapshot();
            let (qx, qy) = point();
            let q = LonLat::new(qx, qy).expect("valid");
            let got: Vec<(i64, f64)> = snap.nearest(q).take(20).map(|(r, d)| (r.responder.id.0, d)).collect();
            let all = by_distance(&snap, q);
            assert_eq!(all.len(), 10_000, "every responder located");
            assert_eq!(got, all[..20].to_vec(), "round {round}");
            assert_eq!(snap.nearest(q).count(), 10_000, "every responder exactly once");
        }
    }

    #[test]
    fn added_responders_are_found_and_out_of_order_ids_fall_back_to_a_rebuild() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let mut point = || (rng.random_range(118.7..118.9), rng.random_range(31.95..32.1));
        let fleet = Fleet::new(
            (1..=5_000)
                .map(|i| {
                    let (x, y) = point();
                    at(i * 2, x, y)
                })
                .collect(),
        );
        // One at a time (the delta grows past the rebuild threshold), a batch, one without a position, and ids
        // below the last (odd ids between the even ones), which must keep the roster sorted.
        for i in 0..5_000 {
            let (x, y) = point();
            fleet.add(vec![at(10_001 + i, x, y)]);
        }
        let (x, y) = point();
        let mut unplaced = at(20_000, x, y);
        unplaced.responder.location = None;
        fleet.add(vec![at(15_001, x, y), at(15_002, y.min(90.0), 0.0), unplaced]);
        fleet.add(vec![at(3, 118.8, 32.0), at(20_001, 118.8, 32.0)]);
        let snap = fleet.snapshot();
        let ids: Vec<i64> = snap.all().map(|r| r.responder.id.0).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by id");
        assert_eq!(ids.len(), 5_000 + 5_000 + 3 + 2);
        for _ in 0..20 {
            let (qx, qy) = point();
            let q = LonLat::new(qx, qy).expect("valid");
            let got: Vec<i64> = snap.nearest(q).take(10).map(|(r, _)| r.responder.id.0).collect();
            let all = by_distance(&snap, q);
            assert_eq!(got, all[..10].iter().map(|e| e.0).collect::<Vec<_>>());
            assert_eq!(snap.nearest(q).count(), ids.len() - 1, "every located responder exactly once");
        }
        assert!(snap.get(ResponderId(20_000)).is_some_and(|r| r.responder.location.is_none()));
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
        assert_eq!(
            fleet.snapshot().get(ResponderId(1)).and_then(|r| r.responder.location),
            Some(crate::crs::Position([118.1, 32.0]))
        );
    }

    #[test]
    fn an_older_status_arriving_last_does_not_win() {
        let fleet = Fleet::new(vec![at(1, 118.0, 32.0)]);
        let stored = |status, status_version| Responder { status, status_version, ..at(1, 118.0, 32.0).responder };
        // Committed as version 1 (available) then 2 (busy), but the handlers finished in the other order.
        fleet.set_status(&stored(ResponderStatus::Busy, 2));
        fleet.set_status(&stored(ResponderStatus::Available, 1));
        let now = fleet.snapshot().get(ResponderId(1)).map(|r| (r.responder.status, r.responder.status_version));
        assert_eq!(now, Some((ResponderStatus::Busy, 2)));
        fleet.set_status(&stored(ResponderStatus::Available, 3));
        let now = fleet.snapshot().get(ResponderId(1)).map(|r| r.responder.status);
        assert_eq!(now, Some(ResponderStatus::Available));
    }
}
