//! A uniform lon/lat grid in front of the R-tree. A cell that no feature edge touches lies wholly inside the same set
//! of features, so its answer is computed once at build time; a cell that edges touch keeps the short, code-ordered
//! list of features whose bounding box meets it, and a query tests only those.

use std::collections::HashMap;

use geo::{Coord, Rect};

use super::layer::LayerIndex;

const EMPTY: u32 = u32::MAX;
const LIST: u32 = 1 << 31;
/// Cells per feature side: a cell is this many times smaller than an average feature's side.
const CELLS_PER_FEATURE_SIDE: f64 = 16.0;
/// Ceiling on cells per layer (4 bytes each).
const MAX_CELLS: f64 = 16_000_000.0;

/// The cell grid of one layer.
#[derive(Debug)]
pub(super) struct CellCache {
    min: Coord<f64>,
    cell: f64,
    nx: usize,
    ny: usize,
    /// Per cell: `EMPTY`, a feature position, or `LIST | list index`.
    cells: Vec<u32>,
    /// `items[lists[l] as usize..lists[l + 1] as usize]` are the candidates of list `l`.
    lists: Vec<u32>,
    items: Vec<u32>,
}

impl CellCache {
    pub(super) fn build(index: &LayerIndex, extent: Rect<f64>) -> Option<Self> {
        let n = index.len().max(1) as f64;
        let (w, h) = (extent.width(), extent.height());
        if !(w > 0.0 && h > 0.0) {
            return None;
        }
        let mut cell = (w * h / n).sqrt() / CELLS_PER_FEATURE_SIDE;
        if (w / cell) * (h / cell) > MAX_CELLS {
            cell = (w * h / MAX_CELLS).sqrt();
        }
        let nx = (w / cell) as usize + 1;
        let ny = (h / cell) as usize + 1;
        let mut cache =
            Self { min: extent.min(), cell, nx, ny, cells: vec![EMPTY; nx * ny], lists: vec![0], items: Vec::new() };

        let mut touched = vec![false; nx * ny];
        let eps = cell * 1e-6;
        for (a, b) in index.feature_edges() {
            // Split long edges so each piece's bounding box spans at most a few cells.
            let pieces = ((a.x - b.x).abs().max((a.y - b.y).abs()) / cell).ceil().max(1.0) as usize;
            for k in 0..pieces {
                let t0 = k as f64 / pieces as f64;
                let t1 = (k + 1) as f64 / pieces as f64;
                let p0 = a + (b - a) * t0;
                let p1 = a + (b - a) * t1;
                let (ix0, iy0) = cache.cell_of(p0.x.min(p1.x) - eps, p0.y.min(p1.y) - eps);
                let (ix1, iy1) = cache.cell_of(p0.x.max(p1.x) + eps, p0.y.max(p1.y) + eps);
                for iy in iy0..=iy1 {
                    touched[iy * nx + ix0..=iy * nx + ix1].fill(true);
                }
            }
        }

        let mut interned: HashMap<Vec<u32>, u32> = HashMap::new();
        for iy in 0..ny {
            let mut run_value: Option<u32> = None;
            for ix in 0..nx {
                let i = iy * nx + ix;
                let r = cache.cell_rect(ix, iy);
                if touched[i] {
                    run_value = None;
                    let candidates = index.candidates_in(r);
                    cache.cells[i] = match candidates.len() {
                        0 => EMPTY,
                        _ => {
                            let next = interned.len() as u32;
                            let l = *interned.entry(candidates).or_insert_with_key(|c| {
                                cache.items.extend_from_slice(c);
                                cache.lists.push(cache.items.len() as u32);
                                next
                            });
                            LIST | l
                        }
                    };
                } else {
                    let v = *run_value.get_or_insert_with(|| index.locate_by_tree(r.center()).unwrap_or(EMPTY));
                    cache.cells[i] = v;
                }
            }
        }
        Some(cache)
    }

    /// Cell column and row of a point, clamped to the grid.
    fn cell_of(&self, x: f64, y: f64) -> (usize, usize) {
        let ix = ((x - self.min.x) / self.cell).max(0.0) as usize;
        let iy = ((y - self.min.y) / self.cell).max(0.0) as usize;
        (ix.min(self.nx - 1), iy.min(self.ny - 1))
    }

    fn cell_rect(&self, ix: usize, iy: usize) -> Rect<f64> {
        let min = Coord { x: self.min.x + ix as f64 * self.cell, y: self.min.y + iy as f64 * self.cell };
        Rect::new(min, Coord { x: min.x + self.cell, y: min.y + self.cell })
    }

    pub(super) fn locate(&self, index: &LayerIndex, p: Coord<f64>) -> Option<u32> {
        let fx = (p.x - self.min.x) / self.cell;
        let fy = (p.y - self.min.y) / self.cell;
        if !(fx >= 0.0 && fy >= 0.0) {
            return None;
        }
        let (ix, iy) = (fx as usize, fy as usize);
        if ix >= self.nx || iy >= self.ny {
            return None;
        }
        match self.cells[iy * self.nx + ix] {
            EMPTY => None,
            v if v & LIST == 0 => Some(v),
            v => {
                let l = (v & !LIST) as usize;
                let list = &self.items[self.lists[l] as usize..self.lists[l + 1] as usize];
                list.iter().copied().find(|&c| index.entry(c).covers(p))
            }
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        (self.cells.len() + self.lists.len() + self.items.len()) * std::mem::size_of::<u32>()
    }
}
