//! A synthetic street grid for tests and scale benchmarks: `cols × rows` junctions `spacing_m` apart, every fifth
//! street a primary road, the others residential, every third residential street one-way (alternating direction),
//! a footway through every block. Deterministic.

use std::collections::BTreeMap;

use super::RoadWay;

/// Ways of the grid around `origin` (`[lon, lat]`): one way per street segment between junctions.
pub fn street_grid(origin: [f64; 2], cols: usize, rows: usize, spacing_m: f64) -> Vec<RoadWay> {
    let dlat = spacing_m / 111_195.0;
    let dlon = dlat / origin[1].to_radians().cos();
    let at = |c: usize, r: usize| [origin[0] + c as f64 * dlon, origin[1] + r as f64 * dlat];
    let id = |c: usize, r: usize| (r * cols + c) as i64 + 1;
    let mut ways = Vec::new();
    let tags = |class: &str, oneway: Option<&str>| {
        let mut t = BTreeMap::from([("highway".to_owned(), class.to_owned())]);
        if let Some(o) = oneway {
            t.insert("oneway".to_owned(), o.to_owned());
        }
        t
    };
    let street = |line: usize| -> (&'static str, Option<&'static str>) {
        if line.is_multiple_of(5) {
            ("primary", None)
        } else if line.is_multiple_of(3) {
            ("residential", Some(if line.is_multiple_of(2) { "yes" } else { "-1" }))
        } else {
            ("residential", None)
        }
    };
    for r in 0..rows {
        let (class, oneway) = street(r);
        for c in 0..cols.saturating_sub(1) {
            ways.push(RoadWay {
                id: ways.len() as i64 + 1,
                tags: tags(class, oneway),
                nodes: vec![id(c, r), id(c + 1, r)],
                coords: vec![at(c, r), at(c + 1, r)],
            });
        }
    }
    for c in 0..cols {
        let (class, oneway) = street(c);
        for r in 0..rows.saturating_sub(1) {
            ways.push(RoadWay {
                id: ways.len() as i64 + 1,
                tags: tags(class, oneway),
                nodes: vec![id(c, r), id(c, r + 1)],
                coords: vec![at(c, r), at(c, r + 1)],
            });
        }
    }
    // A footway diagonally through every fourth block (walkers only), with a middle node of its own.
    let mut next_node = (rows * cols) as i64 + 1;
    for r in (0..rows.saturating_sub(1)).step_by(2) {
        for c in (0..cols.saturating_sub(1)).step_by(2) {
            let (a, b) = (at(c, r), at(c + 1, r + 1));
            let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            ways.push(RoadWay {
                id: ways.len() as i64 + 1,
                tags: tags("footway", None),
                nodes: vec![id(c, r), next_node, id(c + 1, r + 1)],
                coords: vec![a, mid, b],
            });
            next_node += 1;
        }
    }
    ways
}
