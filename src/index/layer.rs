//! One layer's index: features sorted by code, an R-tree of their bounding boxes, and a cell cache in front.

use geo::{Coord, Rect};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use super::cells::CellCache;
use crate::geometry::PreparedArea;
use crate::layers::{Feature, Layer};

/// A feature with its prepared polygon.
#[derive(Debug)]
pub struct AreaEntry {
    /// The stored feature.
    pub feature: Feature,
    /// English display name (the file's, or the name in pinyin): the style's English labels.
    pub name_en: String,
    area: PreparedArea,
}

impl AreaEntry {
    /// True when the feature covers the point (boundary included).
    pub fn covers(&self, p: Coord<f64>) -> bool {
        self.area.covers(p)
    }
}

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Index of one layer. Entry positions follow code order, so "lowest code" is "lowest position".
#[derive(Debug)]
pub struct LayerIndex {
    layer: Layer,
    entries: Vec<AreaEntry>,
    tree: RTree<BoxEntry>,
    cells: Option<CellCache>,
    bbox: Option<Rect<f64>>,
}

impl LayerIndex {
    /// Sorts by code, prepares every polygon, bulk-loads the R-tree and builds the cell cache.
    pub fn build(layer: Layer, mut features: Vec<Feature>) -> Self {
        features.sort_by(|a, b| a.code.cmp(&b.code));
        let entries: Vec<AreaEntry> = features
            .into_iter()
            .filter_map(|feature| {
                let area = PreparedArea::new(&feature.geometry)?;
                let name_en = crate::names::english_name(&feature.name, &feature.properties);
                Some(AreaEntry { feature, name_en, area })
            })
            .collect();
        let boxes = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let r = e.area.bbox();
                GeomWithData::new(Rectangle::from_corners(r.min().into(), r.max().into()), i as u32)
            })
            .collect();
        let tree = RTree::bulk_load(boxes);
        let bbox = entries.iter().map(|e| e.area.bbox()).reduce(|a, b| {
            Rect::new(
                Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        });
        let mut index = Self { layer, entries, tree, cells: None, bbox };
        index.cells = bbox.and_then(|b| CellCache::build(&index, b));
        index
    }

    /// Which layer this is.
    pub fn layer(&self) -> Layer {
        self.layer
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the layer has no features.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bounding box of all features.
    pub fn bbox(&self) -> Option<Rect<f64>> {
        self.bbox
    }

    /// The entry at a position returned by a lookup.
    pub fn entry(&self, position: u32) -> &AreaEntry {
        &self.entries[position as usize]
    }

    /// All entries in code order.
    pub fn entries(&self) -> &[AreaEntry] {
        &self.entries
    }

    /// The feature with `code` (features are kept in code order).
    pub fn find(&self, code: &str) -> Option<&Feature> {
        self.entries.binary_search_by(|e| e.feature.code.as_str().cmp(code)).ok().map(|i| &self.entries[i].feature)
    }

    /// Memory held by the cell cache, in bytes (0 without one).
    pub fn cell_cache_bytes(&self) -> usize {
        self.cells.as_ref().map_or(0, CellCache::heap_bytes)
    }

    /// Position of the lowest-code feature covering `p`: through the cell cache when there is one.
    pub fn locate(&self, p: Coord<f64>) -> Option<u32> {
        match &self.cells {
            Some(cells) => cells.locate(self, p),
            None => self.locate_by_tree(p),
        }
    }

    /// Code of the feature [`LayerIndex::locate`] finds.
    pub fn code_at(&self, p: Coord<f64>) -> Option<&str> {
        self.locate(p).map(|i| self.entries[i as usize].feature.code.as_str())
    }

    /// The same answer as [`LayerIndex::locate`], through the R-tree only: bbox search, then exact tests.
    pub fn locate_by_tree(&self, p: Coord<f64>) -> Option<u32> {
        self.tree.locate_all_at_point(&[p.x, p.y]).map(|b| b.data).filter(|&i| self.entries[i as usize].covers(p)).min()
    }

    /// Positions of features whose bounding box intersects `r`, ascending.
    pub fn candidates_in(&self, r: Rect<f64>) -> Vec<u32> {
        let env = rstar::AABB::from_corners(r.min().into(), r.max().into());
        let mut found: Vec<u32> = self.tree.locate_in_envelope_intersecting(&env).map(|b| b.data).collect();
        found.sort_unstable();
        found
    }

    /// Every feature's edges, for the cell cache builder.
    pub(super) fn feature_edges(&self) -> impl Iterator<Item = (Coord<f64>, Coord<f64>)> + '_ {
        self.entries.iter().flat_map(|e| {
            e.feature.geometry.0.iter().flat_map(|poly| {
                std::iter::once(poly.exterior())
                    .chain(poly.interiors())
                    .flat_map(|ring| ring.lines().map(|l| (l.start, l.end)))
            })
        })
    }
}
