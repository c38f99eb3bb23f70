//! Per-zoom simplification that keeps shared edges shared.
//!
//! Neighbouring grids share their boundary vertex for vertex. Simplifying each ring on its own would drop different
//! vertices on either side and open slivers between neighbours. Instead, vertices where the set of rings changes
//! ("junctions") are kept, and Douglas–Peucker runs on the stretches between them, always in the same direction
//! (from the lexicographically smaller end), so both sides of a shared stretch keep exactly the same vertices.

/// Douglas–Peucker over a closed ring (no repeated closing point), keeping every `fixed` vertex. Returns the kept
/// vertices in order.
pub fn simplify_ring(pts: &[[f64; 2]], fixed: &[bool], tolerance: f64) -> Vec<[f64; 2]> {
    let n = pts.len();
    if n <= 3 || tolerance <= 0.0 {
        return pts.to_vec();
    }
    let mut keep = vec![false; n];
    let anchors: Vec<usize> = (0..n).filter(|&i| fixed.get(i).copied().unwrap_or(false)).collect();
    match anchors.as_slice() {
        [] => {
            // Unshared ring: split at vertex 0 and the vertex farthest from it.
            let far = (1..n).max_by(|&a, &b| dist_sq(pts[a], pts[0]).total_cmp(&dist_sq(pts[b], pts[0]))).unwrap_or(1);
            keep[0] = true;
            keep[far] = true;
            stretch(pts, 0, far, tolerance, &mut keep);
            stretch(pts, far, n, tolerance, &mut keep);
        }
        _ => {
            for (k, &a) in anchors.iter().enumerate() {
                keep[a] = true;
                let b = anchors.get(k + 1).copied().unwrap_or(anchors[0] + n);
                stretch(pts, a, b, tolerance, &mut keep);
            }
        }
    }
    pts.iter().zip(keep).filter_map(|(p, k)| k.then_some(*p)).collect()
}

/// Simplifies the open stretch from index `a` to index `b` (indices taken modulo the ring length), in canonical
/// direction.
fn stretch(pts: &[[f64; 2]], a: usize, b: usize, tolerance: f64, keep: &mut [bool]) {
    let n = pts.len();
    let idx: Vec<usize> = (a..=b).map(|i| i % n).collect();
    if idx.len() <= 2 {
        return;
    }
    let forward = lex_le(pts[idx[0]], pts[idx[idx.len() - 1]]);
    let ordered: Vec<usize> = if forward { idx } else { idx.into_iter().rev().collect() };
    let tol_sq = tolerance * tolerance;
    let mut stack = vec![(0usize, ordered.len() - 1)];
    while let Some((s, e)) = stack.pop() {
        if e <= s + 1 {
            continue;
        }
        let (p, q) = (pts[ordered[s]], pts[ordered[e]]);
        let mut best = (s, 0.0f64);
        for (i, &v) in ordered.iter().enumerate().take(e).skip(s + 1) {
            let d = segment_dist_sq(pts[v], p, q);
            if d > best.1 {
                best = (i, d);
            }
        }
        if best.1 > tol_sq {
            keep[ordered[best.0]] = true;
            stack.push((s, best.0));
            stack.push((best.0, e));
        }
    }
}

fn lex_le(a: [f64; 2], b: [f64; 2]) -> bool {
    (a[0], a[1]) <= (b[0], b[1])
}

fn dist_sq(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

fn segment_dist_sq(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len_sq = dx * dx + dy * dy;
    if len_sq == 0.0 {
        return dist_sq(p, a);
    }
    let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len_sq).clamp(0.0, 1.0);
    dist_sq(p, [a[0] + t * dx, a[1] + t * dy])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_vertices_within_tolerance_and_keeps_fixed_ones() {
        let ring = [[0.0, 0.0], [5.0, 0.1], [10.0, 0.0], [10.0, 10.0], [5.0, 10.2], [0.0, 10.0]];
        let out = simplify_ring(&ring, &[false; 6], 1.0);
        assert_eq!(out, vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]);
        let mut fixed = [false; 6];
        fixed[4] = true;
        assert!(simplify_ring(&ring, &fixed, 1.0).contains(&[5.0, 10.2]));
    }

    #[test]
    fn a_shared_stretch_simplifies_the_same_from_both_sides() {
        // The stretch (0,0)…(10,0) belongs to a square above it and one below it, walked in opposite directions.
        let wiggle: Vec<[f64; 2]> = (0..=10).map(|i| [f64::from(i), if i % 3 == 0 { 0.4 } else { 0.0 }]).collect();
        let mut above = wiggle.clone();
        above.extend([[10.0, 10.0], [0.0, 10.0]]);
        let mut below: Vec<[f64; 2]> = wiggle.iter().rev().copied().collect();
        below.extend([[0.0, -10.0], [10.0, -10.0]]);
        let fixed_at =
            |ring: &[[f64; 2]]| -> Vec<bool> { ring.iter().map(|p| *p == [0.0, 0.4] || *p == [10.0, 0.0]).collect() };
        let shared = |out: Vec<[f64; 2]>| -> Vec<[f64; 2]> {
            let mut s: Vec<_> = out.into_iter().filter(|p| p[1].abs() < 1.0).collect();
            s.sort_by(|a, b| a[0].total_cmp(&b[0]));
            s
        };
        let a = shared(simplify_ring(&above, &fixed_at(&above), 0.3));
        let b = shared(simplify_ring(&below, &fixed_at(&below), 0.3));
        assert_eq!(a, b);
        assert!(a.len() < 11);
    }
}
