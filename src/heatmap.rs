//! H3 heatmaps: incident counts per hexagon at a chosen resolution, from the cells stored with each incident
//! (counted by the store, then rolled up to the parent resolution here).

use std::collections::HashMap;
use std::sync::Arc;

use geo::Rect;
use h3o::{CellIndex, Resolution};
use serde_json::{Value, json};

use crate::incidents::{IncidentError, IncidentFilter, IncidentService, Ledger};

/// What to count and at which resolution.
#[derive(Debug, Clone)]
pub struct HeatmapQuery {
    /// Hexagon resolution; not finer than the stored cells.
    pub resolution: Resolution,
    /// Which incidents (bbox, category, status, time range; `limit` is ignored).
    pub filter: IncidentFilter,
}

/// One hexagon and how many items fell in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexCount {
    /// The cell.
    pub cell: CellIndex,
    /// Items in it.
    pub count: u64,
}

/// Why a heatmap could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HeatmapError {
    /// Asked finer than the cells items are stored with.
    #[error("resolution {asked} is finer than the stored cells (resolution {stored})")]
    TooFine {
        /// Requested.
        asked: u8,
        /// Stored.
        stored: u8,
    },
    /// Reading incidents failed.
    #[error(transparent)]
    Incidents(#[from] IncidentError),
    /// A stored cell did not parse.
    #[error("stored H3 cell {0:?} is not valid")]
    BadCell(String),
    /// The counting task panicked or was cancelled.
    #[error("heatmap task failed: {0}")]
    Task(String),
}

/// Counts incidents per hexagon, largest count first (ties by cell).
/// Filters the ledger holds (bbox, category, status, time) are answered from memory; code filters from the store.
pub async fn incidents(service: &Arc<IncidentService>, q: &HeatmapQuery) -> Result<Vec<HexCount>, HeatmapError> {
    if !Ledger::can_answer(&q.filter) {
        return roll_up(service.cell_counts(&q.filter).await?, q.resolution, None);
    }
    // A whole city's 1 000 000 incidents take ~0.5 s: counted off the async thread, whose other connections wait
    // otherwise (one HTTP worker thread serves many).
    let (service, q) = (service.clone(), q.clone());
    tokio::task::spawn_blocking(move || from_ledger(service.ledger(), &q))
        .await
        .map_err(|e| HeatmapError::Task(e.to_string()))?
}

/// Counts the ledger's incidents per hexagon (the filter must be one the ledger can answer).
fn from_ledger(ledger: &Ledger, q: &HeatmapQuery) -> Result<Vec<HexCount>, HeatmapError> {
    let mut counts: HashMap<CellIndex, u64> = HashMap::new();
    let mut finer = None;
    ledger.for_each_cell(&q.filter, |cell| match cell.parent(q.resolution) {
        Some(parent) => *counts.entry(parent).or_default() += 1,
        None => finer = Some(cell),
    });
    if let Some(stored) = finer {
        return Err(HeatmapError::TooFine { asked: u8::from(q.resolution), stored: u8::from(stored.resolution()) });
    }
    let mut out: Vec<HexCount> = counts.into_iter().map(|(cell, count)| HexCount { cell, count }).collect();
    out.sort_unstable_by(|a, b| b.count.cmp(&a.count).then(a.cell.cmp(&b.cell)));
    Ok(out)
}

/// Rolls stored per-cell counts up to `resolution`, largest count first, keeping hexagons whose centre lies in
/// `bbox` when one is given.
pub fn roll_up(
    counts: impl IntoIterator<Item = (String, i64)>,
    resolution: Resolution,
    bbox: Option<[f64; 4]>,
) -> Result<Vec<HexCount>, HeatmapError> {
    let mut out: HashMap<CellIndex, u64> = HashMap::new();
    for (cell, n) in counts {
        let parsed: CellIndex = cell.parse().map_err(|_| HeatmapError::BadCell(cell.clone()))?;
        let parent = parsed
            .parent(resolution)
            .ok_or(HeatmapError::TooFine { asked: u8::from(resolution), stored: u8::from(parsed.resolution()) })?;
        *out.entry(parent).or_default() += u64::try_from(n).unwrap_or(0);
    }
    let inside = |c: &CellIndex| {
        bbox.is_none_or(|[x0, y0, x1, y1]| {
            let ll = h3o::LatLng::from(*c);
            (x0..=x1).contains(&ll.lng()) && (y0..=y1).contains(&ll.lat())
        })
    };
    let mut out: Vec<HexCount> =
        out.into_iter().filter(|(c, _)| inside(c)).map(|(cell, count)| HexCount { cell, count }).collect();
    out.sort_unstable_by(|a, b| b.count.cmp(&a.count).then(a.cell.cmp(&b.cell)));
    Ok(out)
}

/// The resolution a map at zoom `z` shows: hexagons some 20–40 screen pixels across, never finer than `stored`.
pub fn resolution_for_zoom(z: u8, stored: Resolution) -> Resolution {
    let r = z.saturating_sub(4).clamp(4, u8::from(stored));
    Resolution::try_from(r).unwrap_or(stored)
}

/// A bbox grown by three hexagon edges (more than a hexagon's width), so every item of a hexagon that reaches into
/// the bbox is counted.
pub fn grow(r: Rect<f64>, resolution: Resolution) -> [f64; 4] {
    let pad_lat = 3.0 * resolution.edge_length_km() / 110.574;
    let widest = r.min().y.abs().max(r.max().y.abs()).min(85.0).to_radians();
    let pad_lon = pad_lat / widest.cos();
    [r.min().x - pad_lon, r.min().y - pad_lat, r.max().x + pad_lon, r.max().y + pad_lat]
}

/// The hexagons as a GeoJSON FeatureCollection (`cell`, `resolution`, `count` per feature).
pub fn to_geojson(cells: &[HexCount]) -> Value {
    let features: Vec<Value> = cells
        .iter()
        .map(|h| {
            let boundary = h.cell.boundary();
            let ring: Vec<[f64; 2]> =
                boundary.iter().chain(boundary.iter().take(1)).map(|ll| [ll.lng(), ll.lat()]).collect();
            json!({
                "type": "Feature",
                "id": h.cell.to_string(),
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"cell": h.cell.to_string(), "resolution": u8::from(h.cell.resolution()), "count": h.count},
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_zoom_within_bounds() {
        assert_eq!(resolution_for_zoom(12, Resolution::Ten), Resolution::Eight);
        assert_eq!(resolution_for_zoom(3, Resolution::Ten), Resolution::Four);
        assert_eq!(resolution_for_zoom(20, Resolution::Ten), Resolution::Ten);
    }
}
