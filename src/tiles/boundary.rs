//! Tiles of the boundary layers (streets, communities, grids), built from the in-memory index of the generation
//! being served. Per-zoom shapes are prepared on first use and dropped with the generation.

use std::sync::{Arc, OnceLock};

use super::clip::ClipBox;
use super::mercator::{EXTENT, TileId};
use super::mvt::{Attr, LayerBuilder, Ring};
use super::shapes::{Junctions, ZoomShapes};
use crate::index::BoundaryIndex;
use crate::layers::Layer;

/// Deepest zoom boundary tiles are cut at; clients overzoom beyond (TileJSON says so).
pub const BOUNDARY_MAX_ZOOM: u8 = 18;

/// Tile buffer in tile pixels, as in `ST_AsMVTGeom(..., buffer => 64)`.
pub const BUFFER_PX: u32 = 64;

#[derive(Debug, Default)]
struct LayerShapes {
    junctions: OnceLock<Junctions>,
    zooms: [OnceLock<ZoomShapes>; BOUNDARY_MAX_ZOOM as usize + 1],
}

/// Whether features carry `name` and `name_en` at zoom `z`: from the zoom their labels are drawn at (grids 13, communities 11,
/// streets always). Below it, names would be most of a tile's bytes and are never shown; a click asks `/locate`.
pub fn names_at(layer: Layer, z: u8) -> bool {
    match layer {
        Layer::Streets => true,
        Layer::Communities => z >= 11,
        Layer::Grids => z >= 13,
    }
}

/// The boundary tiles of one generation.
#[derive(Debug)]
pub struct BoundaryTiles {
    index: Arc<BoundaryIndex>,
    layers: [LayerShapes; 3],
}

impl BoundaryTiles {
    /// Tiles over `index`; nothing is prepared until asked for.
    pub fn new(index: Arc<BoundaryIndex>) -> Self {
        Self { index, layers: Default::default() }
    }

    /// The index these tiles are cut from.
    pub fn index(&self) -> &Arc<BoundaryIndex> {
        &self.index
    }

    /// Prepares a layer's shapes for a zoom ahead of the first tile (idempotent).
    pub fn prepare(&self, layer: Layer, z: u8) {
        let li = self.index.layer(layer);
        let shapes = &self.layers[layer.index()];
        if let Some(slot) = shapes.zooms.get(usize::from(z)) {
            slot.get_or_init(|| ZoomShapes::build(li, shapes.junctions.get_or_init(|| Junctions::find(li)), z));
        }
    }

    /// Encodes one tile of one layer (empty bytes when nothing falls in it). `tile.z()` must not exceed
    /// [`BOUNDARY_MAX_ZOOM`].
    pub fn render(&self, layer: Layer, tile: TileId) -> Vec<u8> {
        let li = self.index.layer(layer);
        let mut out = LayerBuilder::new(layer.as_str());
        let Some(zoom_slot) = self.layers[layer.index()].zooms.get(usize::from(tile.z())) else {
            return Vec::new();
        };
        let candidates = li.candidates_in(tile.lonlat_bounds(BUFFER_PX));
        if candidates.is_empty() {
            return Vec::new();
        }
        self.prepare(layer, tile.z());
        let Some(shapes) = zoom_slot.get() else { return Vec::new() };
        let clip = ClipBox::new(EXTENT, BUFFER_PX);
        let (ox, oy) = tile.origin_px();
        let (ox, oy) = (ox as i32, oy as i32);
        for position in candidates {
            let Some(shape) = shapes.get(position) else { continue };
            let b = shape.bbox;
            let local = [b[0] - ox, b[1] - oy, b[2] - ox, b[3] - oy];
            if !clip.intersects(local) {
                continue;
            }
            let inside = clip.contains(local);
            let polygons: Vec<Vec<Ring>> = shape
                .polygons
                .iter()
                .filter_map(|rings| {
                    let mut kept: Vec<Ring> = Vec::with_capacity(rings.len());
                    for (k, ring) in rings.iter().enumerate() {
                        let moved: Ring = ring.iter().map(|p| [p[0] - ox, p[1] - oy]).collect();
                        match if inside { Some(moved) } else { clip.clip(&moved) } {
                            Some(r) => kept.push(r),
                            None if k == 0 => return None,
                            None => {}
                        }
                    }
                    Some(kept)
                })
                .collect();
            if polygons.is_empty() {
                continue;
            }
            let entry = li.entry(position);
            let f = &entry.feature;
            let mut attrs = vec![("code", Attr::Str(&f.code))];
            if names_at(layer, tile.z()) {
                attrs.push(("name", Attr::Str(&f.name)));
                attrs.push(("name_en", Attr::Str(&entry.name_en)));
            }
            if let Some(parent) = &f.parent_code {
                attrs.push(("parent_code", Attr::Str(parent)));
            }
            out.add_polygons(&polygons, &attrs);
        }
        out.encode()
    }
}
