//! The `heatmap` tile layer: H3 hexagons as polygons carrying `cell`, `resolution` and `count`.

use geo::Coord;

use super::BUFFER_PX;
use super::clip::ClipBox;
use super::mercator::{EXTENT, TileId, project, world_px};
use super::mvt::{Attr, LayerBuilder, Ring};
use crate::heatmap::HexCount;

/// Encodes the hexagons that reach into the tile.
pub fn render(tile: TileId, cells: &[HexCount]) -> Vec<u8> {
    let scale = world_px(tile.z());
    let (ox, oy) = tile.origin_px();
    let clip = ClipBox::new(EXTENT, BUFFER_PX);
    let mut out = LayerBuilder::new("heatmap");
    for h in cells {
        let ring: Ring = h
            .cell
            .boundary()
            .iter()
            .map(|ll| {
                let w = project(Coord { x: ll.lng(), y: ll.lat() });
                [(w.x * scale - ox as f64).round() as i32, (w.y * scale - oy as f64).round() as i32]
            })
            .collect();
        let Some(ring) = clip.clip(&ring) else { continue };
        let cell = h.cell.to_string();
        out.add_polygons(
            &[vec![ring]],
            &[
                ("cell", Attr::Str(&cell)),
                ("resolution", Attr::Int(i64::from(u8::from(h.cell.resolution())))),
                ("count", Attr::Int(h.count as i64)),
            ],
        );
    }
    out.encode()
}
