//! Microbenchmark (divan) of the dispatch hot path: the 5 nearest available responders to a point, in memory, at
//! 10 000 and 100 000 responders spread over the city (70 % available). `nearest_5` is what `/dispatch/nearest`
//! runs (status and skill filters, distance); `knn_walk_5` only walks the R-tree's nearest-neighbour iterator for
//! the first 5, the bound the filtered query is measured against. Each iteration answers 1 024 points; divan's item
//! rate is queries per second on one thread. `cargo bench --bench micro_nearest`.

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
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let now = OffsetDateTime::now_utc();
    let responders = (0..n)
        .map(|i| {
            let p = point(&mut rng);
            LiveResponder {
                responder: Responder {
                    id: ResponderId(i as i64 + 1),
                    name: format!("r{i}"),
                    kind: "grid_worker".into(),
                    skills: Vec::new(),
                    team: None,
                    home_grid: None,
                    status: if rng.random_range(0..10) < 7 {
                        ResponderStatus::Available
                    } else {
                        ResponderStatus::Busy
                    },
                    location: Some([p.lon(), p.lat()]),
                    position_at: Some(now),
                },
                grid_code: None,
                community_code: None,
            }
        })
        .collect();
    Fleet::new(responders).snapshot()
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
                dispatcher.nearest(&snapshot, &req).len()
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
