//! Bounded Dijkstra searches on a profile's component graph: backward from one target, settled lazily as far as the
//! candidates asked about need ("who arrives first": one search per request, however many candidates), and forward
//! from one or many starts up to a time limit (reach, coverage). Labels are milliseconds; the per-node arrays are
//! reused per thread, so a search costs only the nodes it settles.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use super::graph::{NO_WAY, ProfileGraph, RoadNetwork};
use super::profile::ProfileName;
use super::snap::Snap;

/// Labels of one search, reset by stamping instead of clearing.
#[derive(Debug, Default)]
struct Scratch {
    dist: Vec<u32>,
    /// Metres of the path each label came by.
    metres: Vec<f64>,
    stamp: Vec<u32>,
    settled: Vec<u32>,
    cur: u32,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
}

impl Scratch {
    fn sized(n: usize) -> Self {
        Self {
            dist: vec![0; n],
            metres: vec![0.0; n],
            stamp: vec![0; n],
            settled: vec![0; n],
            cur: 0,
            heap: BinaryHeap::new(),
        }
    }

    fn reset(&mut self) {
        self.cur = self.cur.wrapping_add(1);
        if self.cur == 0 {
            self.stamp.fill(0);
            self.settled.fill(0);
            self.cur = 1;
        }
        self.heap.clear();
    }

    fn get(&self, n: u32) -> u32 {
        if self.stamp[n as usize] == self.cur { self.dist[n as usize] } else { NO_WAY }
    }

    fn offer(&mut self, n: u32, d: u32, m: f64) {
        if d < self.get(n) {
            self.dist[n as usize] = d;
            self.metres[n as usize] = m;
            self.stamp[n as usize] = self.cur;
            self.heap.push(Reverse((d, n)));
        }
    }

    fn is_settled(&self, n: u32) -> bool {
        self.settled[n as usize] == self.cur
    }
}

thread_local! {
    /// Spare label arrays of this thread, by size (a network of another size gets its own).
    static SPARE: RefCell<Vec<Scratch>> = const { RefCell::new(Vec::new()) };
}

fn take(n: usize) -> Scratch {
    let found = SPARE.with(|s| {
        let mut s = s.borrow_mut();
        let at = s.iter().position(|x| x.dist.len() == n)?;
        Some(s.swap_remove(at))
    });
    let mut scratch = found.unwrap_or_else(|| Scratch::sized(n));
    scratch.reset();
    scratch
}

fn give(s: Scratch) {
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        // A few sizes at most: after a network change the old arrays go.
        spare.retain(|x| x.dist.len() == s.dist.len());
        spare.push(s);
    });
}

/// Milliseconds × a fraction, rounded; `NO_WAY` stays.
fn part(w: u32, fraction: f64) -> u32 {
    if w == NO_WAY { NO_WAY } else { (f64::from(w) * fraction).round() as u32 }
}

fn add(a: u32, b: u32) -> u32 {
    if a == NO_WAY || b == NO_WAY { NO_WAY } else { a.saturating_add(b).min(NO_WAY - 1) }
}

/// A point at an end of its edge stands on that node: it is there at no cost, whichever way the edge runs.
fn at_node(w: u32, fraction: f64) -> u32 {
    if fraction <= 0.0 { 0 } else { part(w, fraction) }
}

/// The two ways off an edge from a point on it: (component node, ms to reach it) towards `b` and towards `a`.
pub(super) fn exits(net: &RoadNetwork, g: &ProfileGraph, s: &Snap) -> [(u32, u32); 2] {
    let i = s.edge as usize;
    let e = &net.edges[i];
    let f = if e.length_m > 0.0 { (s.along_m / e.length_m).clamp(0.0, 1.0) } else { 0.0 };
    [(g.local[e.b as usize], at_node(g.w_ab[i], 1.0 - f)), (g.local[e.a as usize], at_node(g.w_ba[i], f))]
}

/// The two ways onto an edge to a point on it: (component node, ms from it) from `a` and from `b`.
pub(super) fn entries(net: &RoadNetwork, g: &ProfileGraph, t: &Snap) -> [(u32, u32); 2] {
    let i = t.edge as usize;
    let e = &net.edges[i];
    let f = if e.length_m > 0.0 { (t.along_m / e.length_m).clamp(0.0, 1.0) } else { 0.0 };
    [(g.local[e.a as usize], at_node(g.w_ab[i], f)), (g.local[e.b as usize], at_node(g.w_ba[i], 1.0 - f))]
}

/// Along one edge from `s` to `t` without leaving it, ms (`NO_WAY` when they are on different edges or the edge
/// runs the other way).
pub(super) fn same_edge(net: &RoadNetwork, g: &ProfileGraph, s: &Snap, t: &Snap) -> u32 {
    if s.edge != t.edge {
        return NO_WAY;
    }
    let i = s.edge as usize;
    let len = net.edges[i].length_m;
    if len <= 0.0 {
        return 0;
    }
    let d = (t.along_m - s.along_m) / len;
    if d >= 0.0 { part(g.w_ab[i], d) } else { part(g.w_ba[i], -d) }
}

/// A backward search from a target, settled as far as asked: milliseconds (and metres) from any snapped point to
/// it. Holds its network, so an estimator can keep it for a whole request while the served network changes.
#[derive(Debug)]
pub struct Towards {
    net: Arc<RoadNetwork>,
    profile: ProfileName,
    target: Snap,
    scratch: Option<Scratch>,
    /// Nodes settled so far (the search's cost).
    pub settled: usize,
}

impl Towards {
    /// Starts the search from `target` (snapped with this profile).
    pub fn new(net: Arc<RoadNetwork>, profile: ProfileName, target: Snap) -> Self {
        let g = net.profile(profile);
        let mut scratch = take(g.global.len().max(1));
        let len = net.edges[target.edge as usize].length_m;
        let f = if len > 0.0 { (target.along_m / len).clamp(0.0, 1.0) } else { 0.0 };
        for ((n, w), m) in entries(&net, g, &target).into_iter().zip([f * len, (1.0 - f) * len]) {
            if n != NO_WAY && w != NO_WAY {
                scratch.offer(n, w, m);
            }
        }
        Self { net, profile, target, scratch: Some(scratch), settled: 0 }
    }

    /// The target as snapped.
    pub fn target(&self) -> &Snap {
        &self.target
    }

    /// Settles nodes until `n` is (or the graph is exhausted); its label and metres.
    fn settle(&mut self, n: u32) -> (u32, f64) {
        let g = self.net.profile(self.profile);
        let Some(s) = self.scratch.as_mut() else { return (NO_WAY, 0.0) };
        while !s.is_settled(n) {
            let Some(Reverse((d, u))) = s.heap.pop() else { return (NO_WAY, 0.0) };
            if s.is_settled(u) || d > s.get(u) {
                continue;
            }
            s.settled[u as usize] = s.cur;
            self.settled += 1;
            let m = s.metres[u as usize];
            let (lo, hi) = (g.in_start[u as usize] as usize, g.in_start[u as usize + 1] as usize);
            for &(tail, w, edge) in &g.inn[lo..hi] {
                s.offer(tail, add(d, w), m + self.net.edges[edge as usize].length_m);
            }
        }
        (s.get(n), s.metres[n as usize])
    }

    /// (milliseconds, metres) along the roads from the snapped point `from` (same profile) to the target; `None` if
    /// the roads do not connect them (cannot happen inside one component, but a caller need not know that).
    pub fn road(&mut self, from: &Snap) -> Option<(u32, f64)> {
        let net = self.net.clone();
        let g = net.profile(self.profile);
        let direct = same_edge(&net, g, from, &self.target);
        let mut best = (direct, (self.target.along_m - from.along_m).abs());
        let len = net.edges[from.edge as usize].length_m;
        let f = if len > 0.0 { (from.along_m / len).clamp(0.0, 1.0) } else { 0.0 };
        for ((n, w), m) in exits(&net, g, from).into_iter().zip([(1.0 - f) * len, f * len]) {
            if n == NO_WAY || w == NO_WAY {
                continue;
            }
            let (d, rest_m) = self.settle(n);
            let total = add(w, d);
            if total < best.0 {
                best = (total, m + rest_m);
            }
        }
        (best.0 != NO_WAY).then_some(best)
    }
}

impl Drop for Towards {
    fn drop(&mut self) {
        if let Some(s) = self.scratch.take() {
            give(s);
        }
    }
}

/// A node reached within the limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReachedNode {
    /// Graph node.
    pub(super) node: u32,
    /// `[lon, lat]`.
    pub point: [f64; 2],
    /// Milliseconds from the start.
    pub ms: u32,
}

/// Labels of a forward search from many starts: for every component node the earliest arrival and which start it
/// came from.
#[derive(Debug)]
pub struct Arrival<'a> {
    net: &'a RoadNetwork,
    g: &'a ProfileGraph,
    dist: Vec<u32>,
    from: Vec<u32>,
    /// Starts by edge, for points on a start's own edge.
    on_edge: HashMap<u32, Vec<(Snap, u32, u32)>>,
    /// Nodes settled (the search's cost).
    pub settled: usize,
}

impl<'a> Arrival<'a> {
    /// Searches forward from every `(snap, ms already spent, tag)` up to `limit_ms`.
    pub fn search(net: &'a RoadNetwork, profile: ProfileName, starts: &[(Snap, u32, u32)], limit_ms: u32) -> Self {
        let g = net.profile(profile);
        let n = g.global.len().max(1);
        let mut dist = vec![NO_WAY; n];
        let mut from = vec![NO_WAY; n];
        let mut heap = BinaryHeap::new();
        let mut on_edge: HashMap<u32, Vec<(Snap, u32, u32)>> = HashMap::new();
        for &(s, spent, tag) in starts {
            on_edge.entry(s.edge).or_default().push((s, spent, tag));
            for (node, w) in exits(net, g, &s) {
                let d = add(spent, w);
                if node != NO_WAY && d <= limit_ms && d < dist[node as usize] {
                    dist[node as usize] = d;
                    from[node as usize] = tag;
                    heap.push(Reverse((d, node)));
                }
            }
        }
        let mut settled = 0;
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u as usize] {
                continue;
            }
            settled += 1;
            let (lo, hi) = (g.out_start[u as usize] as usize, g.out_start[u as usize + 1] as usize);
            for &(head, w, _) in &g.out[lo..hi] {
                let nd = add(d, w);
                if nd <= limit_ms && nd < dist[head as usize] {
                    dist[head as usize] = nd;
                    from[head as usize] = from[u as usize];
                    heap.push(Reverse((nd, head)));
                }
            }
        }
        Self { net, g, dist, from, on_edge, settled }
    }

    /// The earliest arrival at a snapped point and the tag of the start it comes from.
    pub fn at(&self, t: &Snap) -> Option<(u32, u32)> {
        let mut best: Option<(u32, u32)> = None;
        let mut consider = |d: u32, tag: u32| {
            if d != NO_WAY && best.is_none_or(|(b, _)| d < b) {
                best = Some((d, tag));
            }
        };
        for (node, w) in entries(self.net, self.g, t) {
            if node != NO_WAY {
                consider(add(self.dist[node as usize], w), self.from[node as usize]);
            }
        }
        for &(s, spent, tag) in self.on_edge.get(&t.edge).into_iter().flatten() {
            consider(add(spent, same_edge(self.net, self.g, &s, t)), tag);
        }
        best
    }

    /// Every node reached, with its time.
    pub fn reached(&self) -> Vec<ReachedNode> {
        (0..self.dist.len())
            .filter(|&i| self.dist[i] != NO_WAY)
            .map(|i| {
                let node = self.g.global[i];
                ReachedNode { node, point: self.net.node(node), ms: self.dist[i] }
            })
            .collect()
    }

    /// Points every ~`step_m` along the roads reached within `limit_ms` (whole edges and the reached part of the
    /// others), for covering what was reached with cells.
    pub fn reached_points(&self, limit_ms: u32, step_m: f64) -> Vec<[f64; 2]> {
        let mut out = Vec::new();
        for u in 0..self.dist.len() {
            let d = self.dist[u];
            if d == NO_WAY || d > limit_ms {
                continue;
            }
            out.push(self.net.node(self.g.global[u]));
            let (lo, hi) = (self.g.out_start[u] as usize, self.g.out_start[u + 1] as usize);
            for &(_, w, edge) in &self.g.out[lo..hi] {
                let e = &self.net.edges[edge as usize];
                let forward = self.g.local[e.a as usize] as usize == u;
                let reach = if w == 0 { 1.0 } else { (f64::from(limit_ms - d) / f64::from(w)).min(1.0) };
                let geometry = self.net.geometry(e);
                let along = self.net.along(e);
                let upto = reach * e.length_m;
                let mut at = 0.0;
                while at <= upto {
                    let along_m = if forward { at } else { e.length_m - at };
                    out.push(point_along(geometry, along, along_m));
                    at += step_m;
                }
            }
        }
        out
    }
}

/// The point `along_m` metres from the start of a geometry.
pub(super) fn point_along(geometry: &[[f64; 2]], along: &[f64], along_m: f64) -> [f64; 2] {
    let k = along.partition_point(|&a| a <= along_m).clamp(1, geometry.len().max(2) - 1);
    let (a0, a1) = (along[k - 1], along[k]);
    let t = if a1 > a0 { ((along_m - a0) / (a1 - a0)).clamp(0.0, 1.0) } else { 0.0 };
    let (p, q) = (geometry[k - 1], geometry[k]);
    [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]
}
