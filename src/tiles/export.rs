//! PMTiles v3 export for offline grid terminals: the tiles the server would answer, for chosen layers, zooms and a
//! box, in one file. Several layers share a tile (an MVT tile is a sequence of layers, so their encodings are
//! concatenated); tiles are written in tile-id (Hilbert) order and gzipped, as PMTiles readers expect.

use std::io::{Seek, Write};

use geo::{Coord, Rect};
use pmtiles::{PmTilesWriter, TileCoord, TileType};
use serde_json::json;

use super::mercator::{TileId, project};
use super::{TileError, TileLayer, TileService};

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    /// Layers, each an MVT layer in every tile.
    pub layers: Vec<TileLayer>,
    /// Shallowest zoom.
    pub min_zoom: u8,
    /// Deepest zoom.
    pub max_zoom: u8,
    /// Area in lon/lat.
    pub bbox: Rect<f64>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Zooms out of order or beyond what a layer is cut at.
    #[error("{0}")]
    Zooms(String),
    /// A tile could not be cut.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// Writing the archive failed.
    #[error("writing the PMTiles archive: {0}")]
    Write(#[from] pmtiles::PmtError),
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Tiles looked at (the box's tiles at every zoom).
    pub tiles_considered: u64,
    /// Tiles holding at least one feature (empty tiles are not stored).
    pub tiles_written: u64,
    /// Uncompressed MVT bytes written.
    pub mvt_bytes: u64,
    /// Largest uncompressed tile.
    pub largest_tile_bytes: u64,
}

impl ExportPlan {
    /// The tiles to cut, in PMTiles tile-id order.
    pub fn tiles(&self) -> Result<Vec<TileId>, ExportError> {
        if self.min_zoom > self.max_zoom {
            return Err(ExportError::Zooms(format!(
                "--minzoom {} is above --maxzoom {}",
                self.min_zoom, self.max_zoom
            )));
        }
        if let Some(l) = self.layers.iter().find(|l| l.max_zoom() < self.max_zoom) {
            return Err(ExportError::Zooms(format!(
                "layer {} is cut down to zoom {}; --maxzoom {} is too deep",
                l.as_str(),
                l.max_zoom(),
                self.max_zoom
            )));
        }
        let (nw, se) = (
            project(Coord { x: self.bbox.min().x, y: self.bbox.max().y }),
            project(Coord { x: self.bbox.max().x, y: self.bbox.min().y }),
        );
        let mut tiles = Vec::new();
        for z in self.min_zoom..=self.max_zoom {
            let n = f64::from(1u32 << z);
            let last = (1u32 << z) - 1;
            let cell = |v: f64| ((v * n).floor().max(0.0) as u32).min(last);
            for x in cell(nw.x)..=cell(se.x) {
                for y in cell(nw.y)..=cell(se.y) {
                    let tile = TileId::new(z, x, y).map_err(|e| ExportError::Zooms(e.to_string()))?;
                    tiles.push((pmtiles::TileId::from(coord(tile)?).value(), tile));
                }
            }
        }
        tiles.sort_unstable_by_key(|(id, _)| *id);
        Ok(tiles.into_iter().map(|(_, t)| t).collect())
    }

    /// TileJSON-style metadata stored in the archive.
    fn metadata(&self) -> String {
        let layers: Vec<_> = self
            .layers
            .iter()
            .map(|l| {
                let fields: serde_json::Map<_, _> =
                    l.fields().iter().map(|(k, t)| ((*k).to_owned(), json!(t))).collect();
                json!({"id": l.as_str(), "fields": fields, "minzoom": self.min_zoom, "maxzoom": self.max_zoom})
            })
            .collect();
        json!({
            "name": "gridmap",
            "format": "pbf",
            "description": "gridmap boundary layers for offline use",
            "vector_layers": layers,
        })
        .to_string()
    }
}

fn coord(t: TileId) -> Result<TileCoord, ExportError> {
    Ok(TileCoord::new(t.z(), t.x(), t.y())?)
}

/// Cuts every tile of the plan through `service` (the same tiles the server answers) and writes the archive to
/// `out`. `progress` is called after each tile with the number done.
pub async fn export(
    service: &TileService,
    plan: &ExportPlan,
    out: impl Write + Seek,
    mut progress: impl FnMut(u64),
) -> Result<ExportSummary, ExportError> {
    let tiles = plan.tiles()?;
    let b = plan.bbox;
    let centre = b.center();
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .min_zoom(plan.min_zoom)
        .max_zoom(plan.max_zoom)
        .bounds(b.min().x, b.min().y, b.max().x, b.max().y)
        .center(centre.x, centre.y)
        .center_zoom(plan.min_zoom.max(12).min(plan.max_zoom))
        .metadata(plan.metadata())
        .create(out)?;
    let mut summary = ExportSummary { tiles_considered: tiles.len() as u64, ..Default::default() };
    let mut bytes = Vec::new();
    for (done, tile) in tiles.into_iter().enumerate() {
        bytes.clear();
        for layer in &plan.layers {
            bytes.extend_from_slice(&service.tile(*layer, tile).await?.mvt);
        }
        if !bytes.is_empty() {
            writer.add_tile(coord(tile)?, &bytes)?;
            summary.tiles_written += 1;
            summary.mvt_bytes += bytes.len() as u64;
            summary.largest_tile_bytes = summary.largest_tile_bytes.max(bytes.len() as u64);
        }
        progress(done as u64 + 1);
    }
    writer.finalize()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Layer;

    #[test]
    fn tiles_cover_the_box_in_id_order() {
        let plan = ExportPlan {
            layers: vec![TileLayer::Boundary(Layer::Grids)],
            min_zoom: 0,
            max_zoom: 14,
            bbox: Rect::new(Coord { x: 118.78, y: 32.01 }, Coord { x: 118.80, y: 32.03 }),
        };
        let tiles = plan.tiles().expect("plan");
        // One tile per zoom down to where the box spans several; the z14 tile of the Confucius Temple is there.
        assert!(tiles.contains(&TileId::new(14, 13598, 6652).expect("valid")));
        assert_eq!(tiles.iter().filter(|t| t.z() == 0).count(), 1);
        let ids: Vec<u64> = tiles.iter().map(|t| pmtiles::TileId::from(coord(*t).expect("valid")).value()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn zooms_are_checked() {
        let bbox = Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 1.0, y: 1.0 });
        let plan = |min_zoom, max_zoom| ExportPlan {
            layers: vec![TileLayer::Boundary(Layer::Streets)],
            min_zoom,
            max_zoom,
            bbox,
        };
        assert!(plan(12, 10).tiles().is_err());
        assert!(plan(10, 19).tiles().is_err(), "boundary layers are cut down to 18");
        assert!(plan(10, 18).tiles().is_ok());
    }
}
