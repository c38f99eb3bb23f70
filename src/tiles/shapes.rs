//! A boundary layer's polygons prepared for one zoom: projected to global pixels, simplified with shared edges kept
//! shared, snapped to integers. Built once per (generation, layer, zoom) on first use and then only read.

use std::collections::HashMap;

use geo::{Coord, LineString, MultiPolygon};

use super::mercator::{project, world_px};
use super::mvt::{Px, Ring};
use super::simplify::simplify_ring;
use crate::index::LayerIndex;

/// Simplification tolerance at zoom `z`, in tile pixels (1/4096 of a tile, 1/8 of a screen pixel on a 512-pixel
/// tile): at most half a screen pixel, so the change cannot be seen, and coarser at the overview zooms where a
/// city's grids share one tile.
pub fn tolerance_px(z: u8) -> f64 {
    match z {
        0..=10 => 4.0,
        11..=12 => 2.0,
        _ => 1.0,
    }
}

/// One feature at one zoom.
#[derive(Debug)]
pub struct Shape {
    /// `[min_x, min_y, max_x, max_y]` in global pixels.
    pub bbox: [i32; 4],
    /// Polygons, each an exterior ring then holes, in global pixels.
    pub polygons: Vec<Vec<Ring>>,
}

/// Junction flags per vertex: per feature, per polygon, per ring.
#[derive(Debug)]
pub struct Junctions(Vec<Vec<Vec<Vec<bool>>>>);

impl Junctions {
    /// Finds the vertices where the set of rings using them changes.
    pub fn find(index: &LayerIndex) -> Self {
        let key = |c: Coord<f64>| (c.x.to_bits(), c.y.to_bits());
        let mut uses: HashMap<(u64, u64), u32> = HashMap::new();
        for ring in all_rings(index) {
            for c in open(ring) {
                *uses.entry(key(*c)).or_default() += 1;
            }
        }
        let flags = index
            .entries()
            .iter()
            .map(|e| {
                rings_of(&e.feature.geometry)
                    .map(|rings| {
                        rings
                            .iter()
                            .map(|ring| {
                                let count: Vec<u32> = open(ring).iter().map(|c| uses[&key(*c)]).collect();
                                let n = count.len();
                                (0..n)
                                    .map(|i| {
                                        let (prev, next) = (count[(i + n - 1) % n], count[(i + 1) % n]);
                                        count[i] >= 3 || count[i] != prev || count[i] != next
                                    })
                                    .collect()
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Self(flags)
    }
}

/// All features of a layer at one zoom, in the layer index's entry order.
#[derive(Debug)]
pub struct ZoomShapes(Vec<Option<Shape>>);

impl ZoomShapes {
    /// Projects, simplifies and snaps every feature for zoom `z`.
    pub fn build(index: &LayerIndex, junctions: &Junctions, z: u8) -> Self {
        let scale = world_px(z);
        let shapes = index
            .entries()
            .iter()
            .zip(&junctions.0)
            .map(|(e, fixed)| {
                let mut polygons = Vec::new();
                for (rings, fixed) in rings_of(&e.feature.geometry).zip(fixed) {
                    let mut out: Vec<Ring> = Vec::with_capacity(rings.len());
                    for (k, (ring, fixed)) in rings.iter().zip(fixed).enumerate() {
                        let pts: Vec<[f64; 2]> = open(ring)
                            .iter()
                            .map(|c| {
                                let w = project(*c);
                                [w.x * scale, w.y * scale]
                            })
                            .collect();
                        let kept = simplify_ring(&pts, fixed, tolerance_px(z));
                        let snapped: Ring = kept.iter().map(|p| [p[0].round() as i32, p[1].round() as i32]).collect();
                        match (super::clip::tidy(snapped), k) {
                            (Some(r), _) => out.push(r),
                            (None, 0) => break, // the exterior vanished at this zoom: so does the polygon
                            (None, _) => {}
                        }
                    }
                    if !out.is_empty() {
                        polygons.push(out);
                    }
                }
                let bbox = bbox(polygons.iter().flat_map(|p| p.iter().flatten()))?;
                Some(Shape { bbox, polygons })
            })
            .collect();
        Self(shapes)
    }

    /// The shape of the entry at `position`, if it is visible at this zoom.
    pub fn get(&self, position: u32) -> Option<&Shape> {
        self.0.get(position as usize).and_then(Option::as_ref)
    }
}

fn all_rings(index: &LayerIndex) -> impl Iterator<Item = &LineString<f64>> {
    index
        .entries()
        .iter()
        .flat_map(|e| e.feature.geometry.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
}

fn rings_of(mp: &MultiPolygon<f64>) -> impl Iterator<Item = Vec<&LineString<f64>>> {
    mp.0.iter().map(|p| std::iter::once(p.exterior()).chain(p.interiors()).collect())
}

/// A ring's vertices without the repeated closing one.
fn open(ring: &LineString<f64>) -> &[Coord<f64>] {
    let c = ring.0.as_slice();
    match c {
        [first, .., last] if first == last => &c[..c.len() - 1],
        _ => c,
    }
}

fn bbox<'a>(pts: impl Iterator<Item = &'a Px>) -> Option<[i32; 4]> {
    pts.fold(None, |acc, p| {
        Some(match acc {
            None => [p[0], p[1], p[0], p[1]],
            Some([a, b, c, d]) => [a.min(p[0]), b.min(p[1]), c.max(p[0]), d.max(p[1])],
        })
    })
}
