//! A patrol track: validated fixes, its length, and the H3 cells and grids it passed. Between two fixes the walk is
//! taken as a straight line and sampled every few metres, so a fast walker's 30-second gaps still mark every cell
//! they crossed.

use std::collections::BTreeMap;

use geo::{Distance, Haversine, Point};
use h3o::{CellIndex, Resolution};
use time::OffsetDateTime;

use crate::coord::LonLat;
use crate::index::{BoundaryIndex, LayerIndex};
use crate::layers::Layer;
use crate::locate::h3_cell;

/// Resolution of patrol cells (average edge ≈ 25 m: a lane, not a block).
pub const PATROL_RESOLUTION: Resolution = Resolution::Eleven;
/// Greatest distance between samples along a leg, metres (under half a res-11 edge).
const SAMPLE_STEP_M: f64 = 10.0;
/// Most fixes in one track.
pub const MAX_FIXES: usize = 100_000;

/// One fix of a track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    /// Where.
    pub location: LonLat,
    /// When.
    pub at: OffsetDateTime,
}

/// Why a track was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrackError {
    /// Fewer than two fixes.
    #[error("a track needs at least 2 fixes, got {0}")]
    TooShort(usize),
    /// More than [`MAX_FIXES`].
    #[error("a track has at most {MAX_FIXES} fixes, got {0}: split it")]
    TooLong(usize),
    /// A fix is not later than the one before.
    #[error("fix {index}: time {at} is not after the previous fix's {previous}: timestamps must increase")]
    NotMonotonic {
        /// Position in the track.
        index: usize,
        /// Its time.
        at: String,
        /// The previous fix's time.
        previous: String,
    },
}

/// A cell a track passed, with the grid it belongs to and when it was first reached.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitedCell {
    /// The cell.
    pub cell: CellIndex,
    /// The grid that owns the cell ([`cell_grid`]; `None` when its centre is outside every grid).
    pub grid_code: Option<String>,
    /// Interpolated time of that sample.
    pub first_at: OffsetDateTime,
}

/// A checked track with what it covered.
#[derive(Debug, Clone)]
pub struct Covered {
    /// Great-circle length, metres.
    pub length_m: f64,
    /// Cells in the order first reached.
    pub cells: Vec<VisitedCell>,
}

/// Checks fix count and time order.
pub fn check(fixes: &[Fix]) -> Result<(), TrackError> {
    if fixes.len() < 2 {
        return Err(TrackError::TooShort(fixes.len()));
    }
    if fixes.len() > MAX_FIXES {
        return Err(TrackError::TooLong(fixes.len()));
    }
    for (i, w) in fixes.windows(2).enumerate() {
        if w[1].at <= w[0].at {
            let fmt = |t: OffsetDateTime| crate::times::rfc3339(t);
            return Err(TrackError::NotMonotonic { index: i + 1, at: fmt(w[1].at), previous: fmt(w[0].at) });
        }
    }
    Ok(())
}

/// Samples the track every [`SAMPLE_STEP_M`] and records each cell at [`PATROL_RESOLUTION`] with its grid.
pub fn cover(fixes: &[Fix], index: &BoundaryIndex) -> Covered {
    let grids = index.layer(Layer::Grids);
    let mut seen: BTreeMap<CellIndex, usize> = BTreeMap::new();
    let mut cells = Vec::new();
    let mut visit = |p: LonLat, at: OffsetDateTime| {
        let cell = h3_cell(p, PATROL_RESOLUTION);
        if let std::collections::btree_map::Entry::Vacant(e) = seen.entry(cell) {
            e.insert(cells.len());
            cells.push(VisitedCell { cell, grid_code: cell_grid(grids, cell).map(str::to_owned), first_at: at });
        }
    };
    let mut length_m = 0.0;
    visit(fixes[0].location, fixes[0].at);
    for w in fixes.windows(2) {
        let (a, b) = (w[0], w[1]);
        let d = Haversine
            .distance(Point::new(a.location.lon(), a.location.lat()), Point::new(b.location.lon(), b.location.lat()));
        length_m += d;
        let steps = (d / SAMPLE_STEP_M).ceil().max(1.0) as usize;
        let span = b.at - a.at;
        for s in 1..=steps {
            let f = s as f64 / steps as f64;
            // Linear in lon/lat: legs are tens of metres, where this is the great circle to well under a metre.
            let lon = a.location.lon() + (b.location.lon() - a.location.lon()) * f;
            let lat = a.location.lat() + (b.location.lat() - a.location.lat()) * f;
            if let Ok(p) = LonLat::new(lon, lat) {
                visit(p, a.at + span * f);
            }
        }
    }
    Covered { length_m, cells }
}

/// The one rule for which grid a patrol cell belongs to, used by every answer about patrols (a recorded track's
/// grids, a grid's coverage, `/stats/grids`): the grid that owns the cell's centre as a lookup of that point would
/// answer (covers, lowest code on shared edges). A cell the track entered from a neighbouring grid still counts for
/// the grid its centre is in.
pub fn cell_grid(grids: &LayerIndex, cell: CellIndex) -> Option<&str> {
    let centre = h3o::LatLng::from(cell);
    grids.code_at(geo::Coord { x: centre.lng(), y: centre.lat() })
}

/// The cells of grid `code` at [`PATROL_RESOLUTION`]: those the tiler finds with their centre inside its polygon and
/// that [`cell_grid`] gives to it (a centre exactly on a shared edge belongs to one grid only).
pub fn grid_cells(grids: &LayerIndex, code: &str, area: &geo::MultiPolygon<f64>) -> Vec<CellIndex> {
    let mut cells = crate::areas::h3_cover(area, PATROL_RESOLUTION);
    cells.retain(|&c| cell_grid(grids, c) == Some(code));
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(lon: f64, lat: f64, s: i64) -> Fix {
        Fix {
            location: LonLat::new(lon, lat).expect("valid"),
            at: OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(s),
        }
    }

    #[test]
    fn time_must_increase() {
        let e = check(&[fix(118.8, 32.0, 10), fix(118.801, 32.0, 10)]).expect_err("equal times");
        assert!(matches!(e, TrackError::NotMonotonic { index: 1, .. }), "{e}");
        assert_eq!(check(&[fix(118.8, 32.0, 0)]), Err(TrackError::TooShort(1)));
    }

    #[test]
    fn interpolation_marks_every_cell_along_a_long_leg() {
        // One 1 km leg east with only its two ends as fixes: every ~25 m cell along it is visited.
        let t = [fix(118.80, 32.00, 0), fix(118.80 + 1000.0 / 94_400.0, 32.00, 600)];
        let c = cover(&t, &BoundaryIndex::empty());
        assert!((c.length_m - 1000.0).abs() < 5.0, "{}", c.length_m);
        // A straight line crosses roughly length / (1.5 × edge) cells; without interpolation it would be 2.
        assert!(c.cells.len() >= 25, "{} cells", c.cells.len());
        for w in c.cells.windows(2) {
            assert!(w[0].first_at <= w[1].first_at);
            assert!(w[0].cell.is_neighbor_with(w[1].cell).unwrap_or(false), "consecutive cells touch: no gaps");
        }
    }
}
