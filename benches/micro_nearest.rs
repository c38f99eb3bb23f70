//! Microbenchmark (divan) of the dispatch hot path: the 5 nearest available responders to a point, in memory, at
//! 10 000 and 100 000 responders spread over the city (70 % available). `nearest_5` is what `/dispatch/nearest`
//! runs (status and skill filters, distance); `knn_walk_5` only walks the R-tree's nearest-neighbour iterator for
//! the first 5, the bound the filtered query is measured against. Each iteration answers 1 024 points; divan's item
//! rate is queries per second on one thread. `add_one` is what one `POST /responders` does to the fleet (appended
//! through the delta tree, the base rebuilt once the delta outgrows an eighth of the fleet); `update_one` the same
//! change through `Fleet::update`, which rebuilds both trees (the path every create took before `Fleet::add`).
//! `cargo bench --bench micro_nearest`.

use std::sync::Arc;

use divan::Bencher;
use divan::counter::ItemsCount;
use gridmap::coord::LonLat;
use gridmap::dispatch::{Dispatcher, Place, Request};
use gridmap::responders::{Fleet, FleetSnapshot, LiveResponder, Responder, ResponderId, ResponderStatus};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::OffsetDateTime;

mod support;

const AREA: ([f64; 2], [f64; 2]) = ([118.65, 31.90], [119.00, 32.15]);

fn main() {
    divan::main();
}

fn point(rng: &mut ChaCha8Rng) -> LonLat {
    LonLat::new(rng.random_range(AREA.0[0]..AREA.1[0]), rng.random_range(AREA.0[1]..AREA.1[1])).expect("valid")
}

fn fleet(n: usize) -> Arc<FleetSnapshot> {
    live_fleet(n).snapshot()
}

fn responder(i: usize, p: LonLat, status: ResponderStatus, now: OffsetDateTime) -> LiveResponder {
    LiveResponder {
        responder: Responder {
            id: ResponderId(i as i64 + 1),
            name: format!("r{i}"),
            kind: "grid_worker".into(),
            skills: Vec::new(),
            team: None,
            home_grid: None,
            status,
            status_version: 0,
            location: Some(gridmap::crs::Position([p.lon(), p.lat()])),
            position_at: Some(now),
        },
        grid_code: None,
        community_code: None,
    }
}

fn live_fleet(n: usize) -> Fleet {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let now = OffsetDateTime::now_utc();
    let responders = (0..n)
        .map(|i| {
            let p = point(&mut rng);
            let status = if rng.random_range(0..10) < 7 { ResponderStatus::Available } else { ResponderStatus::Busy };
            responder(i, p, status, now)
        })
        .collect();
    Fleet::new(responders)
}

/// Adds one new responder per iteration to a fleet of `n` (it grows by the iterations run).
#[divan::bench(args = [10_000, 100_000])]
fn add_one(b: Bencher, n: usize) {
    grow_by_one(b, n, |fleet, r| fleet.add(vec![r]));
}

/// The same addition through `Fleet::update` (both trees rebuilt).
#[divan::bench(args = [10_000, 100_000])]
fn update_one(b: Bencher, n: usize) {
    grow_by_one(b, n, |fleet, r| {
        fleet.update(|m| {
            m.insert(r.responder.id, Arc::new(r));
        });
    });
}

/// Times `add` of one new responder (the next id, a random point) per iteration on a fleet of `n`.
fn grow_by_one(b: Bencher, n: usize, add: impl Fn(&Fleet, LiveResponder)) {
    let (fleet, mut rng, now) = (live_fleet(n), ChaCha8Rng::seed_from_u64(9), OffsetDateTime::now_utc());
    let mut next = n;
    b.counter(ItemsCount::new(1usize)).bench_local(|| {
        next += 1;
        add(&fleet, responder(next, point(&mut rng), ResponderStatus::Available, now));
    });
}

fn queries() -> Vec<LonLat> {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    (0..1024).map(|_| point(&mut rng)).collect()
}

#[divan::bench(args = [10_000, 100_000])]
fn nearest_5(b: Bencher, n: usize) {
    let (snapshot, points, dispatcher, now) = (fleet(n), queries(), Dispatcher::default(), OffsetDateTime::now_utc());
    b.counter(ItemsCount::new(points.len())).bench_local(|| {
        points
            .iter()
            .map(|&point| {
                let req = Request {
                    point,
                    place: Place::default(),
                    k: 5,
                    skill: None,
                    team: None,
                    max_distance_m: None,
                    now,
                };
                dispatcher.nearest(&snapshot, &req).0.len()
            })
            .sum::<usize>()
    });
}

#[divan::bench(args = [10_000, 100_000])]
fn knn_walk_5(b: Bencher, n: usize) {
    let (snapshot, points) = (fleet(n), queries());
    b.counter(ItemsCount::new(points.len()))
        .bench_local(|| points.iter().map(|&p| snapshot.nearest(p).take(5).count()).sum::<usize>());
}
