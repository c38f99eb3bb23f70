//! The served network: ways split at their junctions into edges (geometry, geodesic length), and per profile the
//! directed graph of the edges it may use, cut to its largest strongly connected component (so any two snapped
//! points can reach each other), with its contraction hierarchy (fast_paths), its adjacency for bounded searches
//! and its snapping index. Built once, off the request path, and never changed: a new network replaces it whole.

use std::collections::{BTreeMap, HashMap};

use fast_paths::{FastGraph, InputGraph};
use geo::{Distance, Geodesic, Point};
use serde::Serialize;

use super::profile::{ProfileName, RoadPolicy, travel};
use super::snap::SnapIndex;
use super::{NetworkId, RoadWay};

/// Not traversable in this direction.
pub(super) const NO_WAY: u32 = u32::MAX;

/// An edge: a piece of one way between two junctions (or ends), with its geometry.
#[derive(Debug, Clone)]
pub(super) struct Edge {
    /// Graph nodes at the start and end of the geometry.
    pub a: u32,
    pub b: u32,
    /// The geometry: `coords[first .. first + count]`, from `a` to `b`.
    pub first: u32,
    pub count: u32,
    /// Geodesic length (WGS84), metres.
    pub length_m: f64,
    /// Index of its way in [`RoadNetwork::ways`].
    pub way: u32,
}

/// One profile's graph.
#[derive(Debug)]
pub struct ProfileGraph {
    pub(super) profile: ProfileName,
    /// Per edge: milliseconds a → b and b → a ([`NO_WAY`] where the profile may not go, or outside the component).
    pub(super) w_ab: Vec<u32>,
    pub(super) w_ba: Vec<u32>,
    /// Graph node → node of this profile's component ([`NO_WAY`] outside it).
    pub(super) local: Vec<u32>,
    /// Component node → graph node.
    pub(super) global: Vec<u32>,
    /// The contraction hierarchy over component nodes.
    pub(super) ch: FastGraph,
    /// Out-arcs per component node: `out[out_start[n] .. out_start[n + 1]]` = (head, ms, edge).
    pub(super) out_start: Vec<u32>,
    pub(super) out: Vec<(u32, u32, u32)>,
    /// In-arcs per component node: (tail, ms, edge).
    pub(super) in_start: Vec<u32>,
    pub(super) inn: Vec<(u32, u32, u32)>,
    /// The component's edges, for snapping.
    pub(super) snap: SnapIndex,
}

/// What the build made of the ways.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BuildReport {
    /// Graph nodes (junctions and ends).
    pub nodes: usize,
    /// Edges (pieces of ways between junctions).
    pub edges: usize,
    /// Total edge length, km.
    pub length_km: f64,
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: [f64; 4],
    /// Per profile.
    pub profiles: BTreeMap<String, ProfileReport>,
    /// Milliseconds the build took (all profiles, side by side).
    pub build_ms: u64,
}

/// One profile's graph in figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProfileReport {
    /// Edges the profile may use in at least one direction.
    pub usable_edges: usize,
    /// Strongly connected components among them.
    pub components: usize,
    /// Edges in the largest component (the routable network).
    pub routable_edges: usize,
    /// Usable edges outside the largest component, percent (unreachable from most of the network: left out).
    pub outside_largest_pct: f64,
    /// Routable length, km.
    pub routable_km: f64,
    /// Directed arcs in the contraction hierarchy's input.
    pub arcs: usize,
}

/// A built network: edges, and one graph per profile.
#[derive(Debug)]
pub struct RoadNetwork {
    /// The stored network it was built from (`None` for a dry run).
    pub id: Option<NetworkId>,
    pub(super) nodes: Vec<[f64; 2]>,
    pub(super) edges: Vec<Edge>,
    /// Every edge's geometry, concatenated, and the length from its edge's start to each point, metres.
    pub(super) coords: Vec<[f64; 2]>,
    pub(super) along_m: Vec<f64>,
    pub(super) profiles: Vec<ProfileGraph>,
    /// The build in figures.
    pub report: BuildReport,
    /// The policy the profiles were built with.
    pub(super) policy: RoadPolicy,
}

fn metres(a: [f64; 2], b: [f64; 2]) -> f64 {
    Geodesic.distance(Point::new(a[0], a[1]), Point::new(b[0], b[1]))
}

impl RoadNetwork {
    /// Builds the edges and every profile's graph (side by side on the rayon pool).
    pub fn build(id: Option<NetworkId>, ways: &[RoadWay], policy: &RoadPolicy) -> Self {
        let started = std::time::Instant::now();
        // A node is a junction where ways meet or a way ends.
        let mut uses: HashMap<i64, u32> = HashMap::with_capacity(ways.iter().map(|w| w.nodes.len()).sum());
        for w in ways {
            for (k, n) in w.nodes.iter().enumerate() {
                let e = uses.entry(*n).or_default();
                *e += if k == 0 || k + 1 == w.nodes.len() { 2 } else { 1 };
            }
        }
        let mut graph_node: HashMap<i64, u32> = HashMap::new();
        let mut nodes: Vec<[f64; 2]> = Vec::new();
        let mut node_of = |id: i64, at: [f64; 2], nodes: &mut Vec<[f64; 2]>| -> u32 {
            *graph_node.entry(id).or_insert_with(|| {
                nodes.push(at);
                (nodes.len() - 1) as u32
            })
        };
        let mut edges = Vec::new();
        let mut coords = Vec::new();
        let mut along_m = Vec::new();
        for (wi, w) in ways.iter().enumerate() {
            let mut start = 0;
            for k in 1..w.nodes.len() {
                let junction = k + 1 == w.nodes.len() || uses.get(&w.nodes[k]).copied().unwrap_or(0) > 1;
                if !junction {
                    continue;
                }
                let a = node_of(w.nodes[start], w.coords[start], &mut nodes);
                let b = node_of(w.nodes[k], w.coords[k], &mut nodes);
                let first = coords.len() as u32;
                let mut length_m = 0.0;
                for j in start..=k {
                    if j > start {
                        length_m += metres(w.coords[j - 1], w.coords[j]);
                    }
                    coords.push(w.coords[j]);
                    along_m.push(length_m);
                }
                edges.push(Edge { a, b, first, count: (k - start + 1) as u32, length_m, way: wi as u32 });
                start = k;
            }
        }
        let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for n in &nodes {
            bbox = [bbox[0].min(n[0]), bbox[1].min(n[1]), bbox[2].max(n[0]), bbox[3].max(n[1])];
        }
        let length_km = edges.iter().map(|e| e.length_m).sum::<f64>() / 1000.0;
        let mut network = Self {
            id,
            report: BuildReport { nodes: nodes.len(), edges: edges.len(), length_km, bbox, ..BuildReport::default() },
            nodes,
            edges,
            coords,
            along_m,
            profiles: Vec::new(),
            policy: policy.clone(),
        };
        let built: Vec<(ProfileGraph, ProfileReport)> = {
            use rayon::prelude::*;
            let net = &network;
            ProfileName::ALL.par_iter().map(|p| build_profile(net, ways, *p)).collect()
        };
        for (g, r) in built {
            network.report.profiles.insert(g.profile.as_str().to_owned(), r);
            network.profiles.push(g);
        }
        network.report.build_ms = started.elapsed().as_millis() as u64;
        network
    }

    /// The graph of a profile.
    pub fn profile(&self, p: ProfileName) -> &ProfileGraph {
        &self.profiles[p.index()]
    }

    /// The policy the profiles were built with.
    pub fn policy(&self) -> &RoadPolicy {
        &self.policy
    }

    /// `[lon, lat]` of a graph node.
    pub(super) fn node(&self, n: u32) -> [f64; 2] {
        self.nodes[n as usize]
    }

    /// An edge's geometry.
    pub(super) fn geometry(&self, e: &Edge) -> &[[f64; 2]] {
        &self.coords[e.first as usize..(e.first + e.count) as usize]
    }

    /// The along-edge lengths of an edge's points.
    pub(super) fn along(&self, e: &Edge) -> &[f64] {
        &self.along_m[e.first as usize..(e.first + e.count) as usize]
    }

    /// Bytes the network holds in memory, roughly (edges, geometry, per-profile graphs and hierarchies).
    pub fn memory_bytes(&self) -> usize {
        let base = self.nodes.len() * 16 + self.edges.len() * std::mem::size_of::<Edge>() + self.coords.len() * 24;
        base + self.profiles.iter().map(ProfileGraph::memory_bytes).sum::<usize>()
    }
}

impl ProfileGraph {
    /// Nodes in the routable component.
    pub fn nodes(&self) -> usize {
        self.global.len()
    }

    fn memory_bytes(&self) -> usize {
        let ch = self.ch.get_num_out_edges() * 24 + self.ch.get_num_in_edges() * 24 + self.global.len() * 24;
        self.w_ab.len() * 8
            + self.local.len() * 4
            + (self.out.len() + self.inn.len()) * 12
            + ch
            + self.snap.memory_bytes()
    }
}

fn build_profile(net: &RoadNetwork, ways: &[RoadWay], p: ProfileName) -> (ProfileGraph, ProfileReport) {
    let rule = net.policy.rule(p);
    let speeds: Vec<(Option<f64>, Option<f64>)> = ways.iter().map(|w| travel(rule, p, w)).collect();
    let ms = |length_m: f64, speed: Option<f64>| -> u32 {
        speed.map_or(NO_WAY, |v| ((length_m / v * 1000.0).round() as u32).clamp(1, NO_WAY - 1))
    };
    let mut w_ab = Vec::with_capacity(net.edges.len());
    let mut w_ba = Vec::with_capacity(net.edges.len());
    for e in &net.edges {
        let (fw, bw) = speeds[e.way as usize];
        // A closed loop from a node to itself can never be part of a shortest path.
        let loop_edge = e.a == e.b;
        w_ab.push(if loop_edge { NO_WAY } else { ms(e.length_m, fw) });
        w_ba.push(if loop_edge { NO_WAY } else { ms(e.length_m, bw) });
    }
    let usable: Vec<usize> = (0..net.edges.len()).filter(|&i| w_ab[i] != NO_WAY || w_ba[i] != NO_WAY).collect();
    let (component, count) = strongly_connected(net.nodes.len(), &net.edges, &w_ab, &w_ba);
    // The largest component by the usable edges inside it.
    let mut size: HashMap<u32, usize> = HashMap::new();
    for &i in &usable {
        let e = &net.edges[i];
        if component[e.a as usize] == component[e.b as usize] {
            *size.entry(component[e.a as usize]).or_default() += 1;
        }
    }
    let largest = size.iter().max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c))).map(|(c, _)| *c);
    let inside = |i: usize| {
        let e = &net.edges[i];
        largest.is_some_and(|c| component[e.a as usize] == c && component[e.b as usize] == c)
    };
    let mut local = vec![NO_WAY; net.nodes.len()];
    let mut global = Vec::new();
    for i in 0..net.edges.len() {
        if !inside(i) {
            w_ab[i] = NO_WAY;
            w_ba[i] = NO_WAY;
            continue;
        }
        for n in [net.edges[i].a, net.edges[i].b] {
            if local[n as usize] == NO_WAY {
                local[n as usize] = global.len() as u32;
                global.push(n);
            }
        }
    }
    let routable: Vec<usize> = usable.iter().copied().filter(|&i| inside(i)).collect();
    let mut arcs: Vec<(u32, u32, u32, u32)> = Vec::new(); // (tail, head, ms, edge) in component nodes
    for &i in &routable {
        let e = &net.edges[i];
        let (a, b) = (local[e.a as usize], local[e.b as usize]);
        if w_ab[i] != NO_WAY {
            arcs.push((a, b, w_ab[i], i as u32));
        }
        if w_ba[i] != NO_WAY {
            arcs.push((b, a, w_ba[i], i as u32));
        }
    }
    let mut input = InputGraph::new();
    for &(t, h, w, _) in &arcs {
        input.add_edge(t as usize, h as usize, w as usize);
    }
    // fast_paths needs at least one edge to freeze and prepare a graph.
    if arcs.is_empty() {
        input.add_edge(0, 0, 1);
    }
    input.freeze();
    let ch = fast_paths::prepare(&input);
    let n = global.len().max(1);
    let (out_start, out) = csr(n, arcs.iter().map(|&(t, h, w, e)| (t, (h, w, e))));
    let (in_start, inn) = csr(n, arcs.iter().map(|&(t, h, w, e)| (h, (t, w, e))));
    let snap = SnapIndex::build(net, &routable);
    let routable_km = routable.iter().map(|&i| net.edges[i].length_m).sum::<f64>() / 1000.0;
    let report = ProfileReport {
        usable_edges: usable.len(),
        components: count_components(&usable, &net.edges, &component, count),
        routable_edges: routable.len(),
        outside_largest_pct: if usable.is_empty() {
            0.0
        } else {
            ((usable.len() - routable.len()) as f64 * 1000.0 / usable.len() as f64).round() / 10.0
        },
        routable_km: (routable_km * 10.0).round() / 10.0,
        arcs: arcs.len(),
    };
    (ProfileGraph { profile: p, w_ab, w_ba, local, global, ch, out_start, out, in_start, inn, snap }, report)
}

/// Components holding at least one usable edge.
fn count_components(usable: &[usize], edges: &[Edge], component: &[u32], _all: usize) -> usize {
    let mut seen = std::collections::HashSet::new();
    for &i in usable {
        let e = &edges[i];
        seen.insert(component[e.a as usize]);
        seen.insert(component[e.b as usize]);
    }
    seen.len()
}

/// Compressed adjacency: for node n, `items[start[n] .. start[n + 1]]`.
fn csr<T: Copy>(n: usize, arcs: impl Iterator<Item = (u32, T)> + Clone) -> (Vec<u32>, Vec<T>) {
    let mut start = vec![0u32; n + 1];
    for (t, _) in arcs.clone() {
        start[t as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let total = start[n] as usize;
    let mut items: Vec<Option<T>> = vec![None; total];
    for (t, item) in arcs {
        items[fill[t as usize] as usize] = Some(item);
        fill[t as usize] += 1;
    }
    (start, items.into_iter().flatten().collect())
}

/// Strongly connected components of the directed graph (arcs a → b where `w_ab` allows, b → a where `w_ba` does),
/// by Tarjan's algorithm without recursion (a city's network is deeper than a thread's stack). Returns the
/// component of each node and the number of components.
fn strongly_connected(n: usize, edges: &[Edge], w_ab: &[u32], w_ba: &[u32]) -> (Vec<u32>, usize) {
    let arcs = edges.iter().enumerate().flat_map(|(i, e)| {
        let fw = (w_ab[i] != NO_WAY).then_some((e.a, e.b));
        let bw = (w_ba[i] != NO_WAY).then_some((e.b, e.a));
        fw.into_iter().chain(bw)
    });
    let (start, succ) = csr(n, arcs.collect::<Vec<_>>().into_iter());
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNSEEN; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut next_index = 0u32;
    let mut components = 0u32;
    // (node, position of the next successor to look at)
    let mut call: Vec<(u32, u32)> = Vec::new();
    for root in 0..n as u32 {
        if index[root as usize] != UNSEEN {
            continue;
        }
        call.push((root, start[root as usize]));
        index[root as usize] = next_index;
        low[root as usize] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            if *pos < start[v as usize + 1] {
                let w = succ[*pos as usize];
                *pos += 1;
                if index[w as usize] == UNSEEN {
                    index[w as usize] = next_index;
                    low[w as usize] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    call.push((w, start[w as usize]));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent as usize] = low[parent as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component[w as usize] = components;
                    if w == v {
                        break;
                    }
                }
                components += 1;
            }
        }
    }
    (component, components as usize)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A way through `points` (lon/lat offsets in 0.001° from 118.0, 32.0) with node ids `ids` and tags.
    pub fn way(id: i64, ids: &[i64], points: &[[f64; 2]], tags: &[(&str, &str)]) -> RoadWay {
        RoadWay {
            id,
            tags: tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            nodes: ids.to_vec(),
            coords: points.iter().map(|p| [118.0 + p[0] * 0.001, 32.0 + p[1] * 0.001]).collect(),
        }
    }

    #[test]
    fn ways_split_at_junctions_and_one_way_fragments_leave_the_vehicle_component() {
        // A square of residential streets 1-2-3-4, a footway across (1-3), and a one-way spur 4 → 5 the vehicle
        // cannot come back from.
        let ways = vec![
            way(1, &[1, 2, 3], &[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]], &[("highway", "residential")]),
            way(2, &[3, 4, 1], &[[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]], &[("highway", "residential")]),
            way(3, &[1, 3], &[[0.0, 0.0], [1.0, 1.0]], &[("highway", "footway")]),
            way(4, &[4, 5], &[[0.0, 1.0], [-1.0, 2.0]], &[("highway", "residential"), ("oneway", "yes")]),
        ];
        let net = RoadNetwork::build(None, &ways, &RoadPolicy::default());
        assert_eq!(net.report.nodes, 4, "1, 3, 4 (junctions) and 5 (an end); 2 lies inside way 1");
        assert_eq!(net.report.edges, 5, "1-3 through 2, 3-4, 4-1, the footway 1-3, the spur 4-5");
        let walk = &net.report.profiles["walk"];
        assert_eq!((walk.usable_edges, walk.routable_edges), (5, 5));
        let vehicle = &net.report.profiles["vehicle"];
        assert_eq!(vehicle.usable_edges, 4, "no footway");
        assert_eq!(vehicle.routable_edges, 3, "the spur 4 → 5 has no way back");
        assert!((vehicle.outside_largest_pct - 25.0).abs() < 1e-9);
        assert_eq!(net.profile(ProfileName::Vehicle).nodes(), 3);
    }

    #[test]
    fn tarjan_finds_cycles_and_singletons() {
        let e = |a: u32, b: u32| Edge { a, b, first: 0, count: 0, length_m: 1.0, way: 0 };
        let edges = vec![e(0, 1), e(1, 2), e(2, 0), e(2, 3)];
        let w_ab = vec![1, 1, 1, 1];
        let w_ba = vec![NO_WAY; 4];
        let (c, n) = strongly_connected(4, &edges, &w_ab, &w_ba);
        assert_eq!(n, 2);
        assert!(c[0] == c[1] && c[1] == c[2] && c[3] != c[0]);
    }
}
