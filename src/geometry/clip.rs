//! Sutherland–Hodgman clipping of a ring to an axis-aligned box, one side of the box at a time. A ring that leaves
//! and re-enters the box comes out as one ring with edges along the border: its area (even-odd or non-zero) is the
//! part of the ring's inside within the box, which is what tiles and overlay inputs need.

/// Clips the ring `pts` (implicitly closed) to `[min_x, min_y, max_x, max_y]`; empty when nothing is left.
pub fn clip_ring(mut pts: Vec<[f64; 2]>, bounds: [f64; 4]) -> Vec<[f64; 2]> {
    let [min_x, min_y, max_x, max_y] = bounds;
    for (axis, bound, keep_below) in [(0, min_x, false), (0, max_x, true), (1, min_y, false), (1, max_y, true)] {
        pts = clip_side(&pts, axis, bound, keep_below);
        if pts.is_empty() {
            break;
        }
    }
    pts
}

fn clip_side(pts: &[[f64; 2]], axis: usize, bound: f64, keep_below: bool) -> Vec<[f64; 2]> {
    let inside = |p: &[f64; 2]| if keep_below { p[axis] <= bound } else { p[axis] >= bound };
    let mut out = Vec::with_capacity(pts.len() + 4);
    for (i, cur) in pts.iter().enumerate() {
        let prev = &pts[(i + pts.len() - 1) % pts.len()];
        match (inside(prev), inside(cur)) {
            (true, true) => out.push(*cur),
            (true, false) => out.push(cross(prev, cur, axis, bound)),
            (false, true) => {
                out.push(cross(prev, cur, axis, bound));
                out.push(*cur);
            }
            (false, false) => {}
        }
    }
    out
}

fn cross(a: &[f64; 2], b: &[f64; 2], axis: usize, bound: f64) -> [f64; 2] {
    let t = (bound - a[axis]) / (b[axis] - a[axis]);
    let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
    p[axis] = bound;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_across_the_box_keeps_its_part_inside() {
        let square = vec![[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]];
        let clipped = clip_ring(square, [0.0, 0.0, 2.0, 2.0]);
        let area2: f64 = (0..clipped.len())
            .map(|i| {
                let (a, b) = (clipped[i], clipped[(i + 1) % clipped.len()]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        assert_eq!(area2.abs(), 2.0);
        assert!(clip_ring(vec![[5.0, 5.0], [6.0, 5.0], [6.0, 6.0]], [0.0, 0.0, 2.0, 2.0]).is_empty());
    }
}
