//! Per-grid statistics for choropleths and the grid/community/street scoring the district does: incident counts,
//! density per km², open vs closed, median time to close, patrol coverage. Counts come from the in-memory incident
//! ledger, areas from the served generation's polygons, so every grid is listed, including those without incidents;
//! coverage from the stored patrol cells (see [`crate::patrols::PatrolService::coverage_by_grid`]).

use std::collections::HashMap;

use geo::ChamberlainDuquetteArea;
use serde::Serialize;

use crate::incidents::{IncidentFilter, Ledger};
use crate::index::BoundaryIndex;
use crate::layers::Layer;
use crate::patrols::GridCoverage;

/// One grid's figures.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GridStats {
    /// Grid code.
    pub code: String,
    /// Grid name.
    pub name: String,
    /// Its community.
    pub community_code: Option<String>,
    /// Area on the sphere (Chamberlain–Duquette), km².
    pub area_km2: f64,
    /// Incidents reported in the period.
    pub total: u64,
    /// Of those, not closed or cancelled.
    pub open: u64,
    /// Of those, closed.
    pub closed: u64,
    /// `total` per km².
    pub per_km2: f64,
    /// Median seconds from report to close over the closed ones.
    pub median_close_s: Option<f64>,
    /// Patrol cells of the grid (H3 resolution 11, centre inside).
    pub patrol_cells: usize,
    /// Of those, reached by a patrol in the period.
    pub patrol_cells_visited: usize,
    /// `patrol_cells_visited / patrol_cells`; null for a grid too small to hold a cell centre.
    pub patrol_coverage: Option<f64>,
}

/// Figures for every grid of the served generation over the incidents matching `filter`, in code order.
pub fn grids(
    index: &BoundaryIndex,
    ledger: &Ledger,
    filter: &IncidentFilter,
    patrols: &HashMap<String, GridCoverage>,
) -> Vec<GridStats> {
    let mut tallies = ledger.tally_by_grid(filter);
    index
        .layer(Layer::Grids)
        .entries()
        .iter()
        .map(|e| {
            let f = &e.feature;
            let area_km2 = f.geometry.chamberlain_duquette_unsigned_area() / 1e6;
            let mut t = tallies.remove(&f.code).unwrap_or_default();
            let cover = patrols.get(&f.code).copied().unwrap_or_default();
            GridStats {
                code: f.code.clone(),
                name: f.name.clone(),
                community_code: f.parent_code.clone(),
                area_km2,
                total: t.total,
                open: t.open,
                closed: t.closed,
                per_km2: if area_km2 > 0.0 { t.total as f64 / area_km2 } else { 0.0 },
                median_close_s: median(&mut t.close_s),
                patrol_cells: cover.cells_total,
                patrol_cells_visited: cover.cells_visited,
                patrol_coverage: (cover.cells_total > 0).then(|| cover.cells_visited as f64 / cover.cells_total as f64),
            }
        })
        .collect()
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
