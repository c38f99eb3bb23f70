//! Patrols (铁脚板): timestamped tracks walked by grid workers, geocoded to the H3 cells and grids they passed, and
//! each grid's coverage — the share of its cells some patrol reached in a period, and the cells nobody did.

mod storage;
pub use storage::PatrolStore;

mod gpx;
mod stored;
mod track;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use h3o::CellIndex;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::OnceCell;

pub use gpx::{GpxError, read_gpx};
pub use stored::{NewPatrol, Patrol, PatrolId};
pub use track::{
    Covered, Fix, MAX_FIXES, PATROL_RESOLUTION, TrackError, VisitedCell, cell_grid, check, cover, grid_cells,
};

use crate::events::Events;
use crate::index::BoundaryIndex;
use crate::layers::Layer;
use crate::locate::Locator;
use crate::responders::ResponderId;
use crate::store_error::StoreError;

/// Why a patrol request was refused.
#[derive(Debug, thiserror::Error)]
pub enum PatrolError {
    /// The track is malformed.
    #[error(transparent)]
    Track(#[from] TrackError),
    /// No such responder.
    #[error("responder {0} does not exist")]
    UnknownResponder(ResponderId),
    /// No such grid in the served generation.
    #[error("grid {0:?} is not in the served generation")]
    UnknownGrid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// A background computation died.
    #[error("patrol coverage task failed: {0}")]
    Task(String),
}

impl From<StoreError> for PatrolError {
    fn from(e: StoreError) -> Self {
        PatrolError::Store(e)
    }
}

/// A stored patrol with what it covered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// The stored patrol.
    #[serde(flatten)]
    pub patrol: Patrol,
    /// Cells passed, in the order first reached.
    pub cells: Vec<String>,
    /// Grids passed with how many of the patrol's cells each holds, in the order first reached.
    pub grids: Vec<GridCells>,
}

/// A grid a patrol passed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GridCells {
    /// Grid code.
    pub code: String,
    /// Cells of the patrol whose centre the grid owns (the grid a lookup of the centre answers).
    pub cells: usize,
}

/// A grid's coverage in a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// Grid code.
    pub grid_code: String,
    /// Grid name.
    pub name: String,
    /// H3 resolution of the cells.
    pub resolution: u8,
    /// Cells of the grid (centre inside it).
    pub cells_total: usize,
    /// Of those, reached by a patrol.
    pub cells_visited: usize,
    /// `cells_visited / cells_total` (0 for a grid too small to hold a cell centre).
    pub share: f64,
    /// The cells nobody reached.
    #[serde(skip)]
    pub unvisited: Vec<CellIndex>,
}

/// A grid without a patrol in the period asked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unpatrolled {
    /// Grid code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its community.
    pub community_code: Option<String>,
}

/// Counts the served generation's patrol cells per grid in the background after start and after each activation, so
/// the first `/stats/grids` does not count them itself (≈ 3 s for the 9 504 city grids): it waits for this count when
/// it is under way. The count stops part-way when the service is dropped or another generation is served meanwhile
/// (it would be thrown away).
#[derive(Debug)]
pub struct PatrolWarmer(pub Arc<PatrolService>);

impl PatrolWarmer {
    /// Starts counting for `index` and returns at once.
    pub fn warm(&self, index: Arc<BoundaryIndex>) {
        let slot = self.0.totals_slot(&index);
        let service = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let of = index.clone();
            let counted = slot
                .get_or_try_init(|| async move {
                    let counted = tokio::task::spawn_blocking(move || {
                        let wanted = || service.upgrade().is_some_and(|s| Arc::ptr_eq(&s.locator.current(), &of));
                        count_cells(&of, wanted)
                    });
                    match counted.await {
                        Ok(Some(totals)) => Ok(Arc::new(totals)),
                        Ok(None) => Err(None),
                        Err(e) => Err(Some(e)),
                    }
                })
                .await;
            match counted {
                Ok(_) => tracing::debug!(generation = ?index.generation(), "patrol cells per grid counted"),
                Err(Some(e)) => tracing::warn!(error = %e, "counting patrol cells per grid failed"),
                Err(None) => tracing::debug!("counting patrol cells per grid stopped: superseded or shut down"),
            }
        });
    }
}

/// Cells per grid of `index`'s grids layer; `None` as soon as `wanted` says the count is no longer needed (asked
/// every 64 grids).
fn count_cells(index: &BoundaryIndex, wanted: impl Fn() -> bool) -> Option<HashMap<String, usize>> {
    let layer = index.layer(Layer::Grids);
    let grids = layer.entries();
    let mut totals = HashMap::with_capacity(grids.len());
    for (k, e) in grids.iter().enumerate() {
        if k % 64 == 0 && !wanted() {
            return None;
        }
        totals.insert(e.feature.code.clone(), grid_cells(layer, &e.feature.code, &e.feature.geometry).len());
    }
    Some(totals)
}

#[async_trait::async_trait]
impl crate::catalog::ActivationListener for PatrolWarmer {
    async fn generation_changed(&self, index: Arc<BoundaryIndex>) {
        self.warm(index);
    }
}

/// Cells per grid of one generation's index, counted once: by the warm-up or the first request, whichever starts
/// first, the other waiting for it (kept until the next activation).
type CellTotals = (Arc<BoundaryIndex>, Arc<OnceCell<Arc<HashMap<String, usize>>>>);

/// A grid's patrol coverage in a period, for every grid at once (`/stats/grids`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GridCoverage {
    /// Cells of the grid at [`PATROL_RESOLUTION`] (centre inside).
    pub cells_total: usize,
    /// Of those, reached by a patrol in the period.
    pub cells_visited: usize,
}

/// Patrol operations over the store and the live boundary index.
#[derive(Debug)]
pub struct PatrolService {
    store: Arc<dyn PatrolStore>,
    locator: Arc<Locator>,
    events: Events,
    cell_totals: Mutex<Option<CellTotals>>,
}

impl PatrolService {
    /// A service.
    pub fn new(store: Arc<dyn PatrolStore>, locator: Arc<Locator>, events: Events) -> Self {
        Self { store, locator, events, cell_totals: Mutex::new(None) }
    }

    /// Coverage of every grid of the served generation in `[from, to)` (unbounded ends when `None`): the same
    /// figures as [`PatrolService::coverage`] gives grid by grid. A visited cell counts for the grid its centre is in.
    pub async fn coverage_by_grid(
        &self,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
    ) -> Result<HashMap<String, GridCoverage>, PatrolError> {
        let index = self.locator.current();
        let totals = self.cell_totals(&index).await?;
        let visited = self.store.patrol_cell_counts(from, to, None).await?;
        let mut out: HashMap<String, GridCoverage> =
            totals.iter().map(|(code, n)| (code.clone(), GridCoverage { cells_total: *n, cells_visited: 0 })).collect();
        let grids = index.layer(Layer::Grids);
        for (cell, _) in visited {
            let Ok(cell) = cell.parse::<CellIndex>() else { continue };
            if let Some(g) = cell_grid(grids, cell).and_then(|code| out.get_mut(code)) {
                g.cells_visited = (g.cells_visited + 1).min(g.cells_total);
            }
        }
        Ok(out)
    }

    /// Cells per grid of `index`, computed once per generation (off the async threads).
    async fn cell_totals(&self, index: &Arc<BoundaryIndex>) -> Result<Arc<HashMap<String, usize>>, PatrolError> {
        let of = index.clone();
        let slot = self.totals_slot(index);
        let totals = slot
            .get_or_try_init(|| async move {
                let counted = tokio::task::spawn_blocking(move || count_cells(&of, || true)).await;
                counted.map(|totals| Arc::new(totals.unwrap_or_default())).map_err(|e| PatrolError::Task(e.to_string()))
            })
            .await?;
        Ok(totals.clone())
    }

    /// Where the cells per grid of `index` are (or will be) kept: shared while `index` is the one served, else a slot
    /// of the caller's own (a generation already replaced is not kept).
    fn totals_slot(&self, index: &Arc<BoundaryIndex>) -> Arc<OnceCell<Arc<HashMap<String, usize>>>> {
        let mut kept = self.cell_totals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((of, slot)) = kept.as_ref()
            && Arc::ptr_eq(of, index)
        {
            return slot.clone();
        }
        let slot = Arc::new(OnceCell::new());
        if Arc::ptr_eq(&self.locator.current(), index) {
            *kept = Some((index.clone(), slot.clone()));
        }
        slot
    }

    /// Checks, geocodes and stores a track.
    pub async fn record(&self, responder: ResponderId, fixes: Vec<Fix>) -> Result<Recorded, PatrolError> {
        check(&fixes)?;
        let index = self.locator.current();
        let covered = cover(&fixes, &index);
        let new = NewPatrol {
            responder,
            length_m: covered.length_m,
            resolution: u8::from(PATROL_RESOLUTION),
            generation: index.generation(),
            cells: covered.cells,
            fixes,
        };
        let patrol = self.store.create_patrol(&new).await?;
        let mut grids: Vec<GridCells> = Vec::new();
        for c in &new.cells {
            let Some(code) = &c.grid_code else { continue };
            match grids.iter_mut().find(|g| &g.code == code) {
                Some(g) => g.cells += 1,
                None => grids.push(GridCells { code: code.clone(), cells: 1 }),
            }
        }
        let recorded = Recorded { patrol, cells: new.cells.iter().map(|c| c.cell.to_string()).collect(), grids };
        self.events.publish(
            "patrol.recorded",
            &serde_json::json!({"id": recorded.patrol.id, "responder_id": responder, "grids": recorded.grids}),
        );
        Ok(recorded)
    }

    /// Coverage of a grid of the served generation in `[from, to)`.
    pub async fn coverage(
        &self,
        code: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Coverage, PatrolError> {
        let index = self.locator.current();
        let grids = index.layer(Layer::Grids);
        let feature = grids.find(code).ok_or_else(|| PatrolError::UnknownGrid(code.to_owned()))?;
        let cells = grid_cells(grids, code, &feature.geometry);
        let names: Vec<String> = cells.iter().map(ToString::to_string).collect();
        let visited: std::collections::HashSet<String> =
            self.store.visited_among(&names, from, to).await?.into_iter().collect();
        let unvisited: Vec<CellIndex> =
            cells.iter().zip(&names).filter(|(_, n)| !visited.contains(*n)).map(|(c, _)| *c).collect();
        let total = cells.len();
        let cells_visited = total - unvisited.len();
        Ok(Coverage {
            grid_code: feature.code.clone(),
            name: feature.name.clone(),
            resolution: u8::from(PATROL_RESOLUTION),
            cells_total: total,
            cells_visited,
            share: if total == 0 { 0.0 } else { cells_visited as f64 / total as f64 },
            unvisited,
        })
    }

    /// Patrol cell visits counted per res-11 cell, first reached in `[from, to)`, optionally only the cells that belong
    /// to one grid of the served generation ([`cell_grid`]).
    pub async fn cell_counts(
        &self,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
        grid: Option<&str>,
    ) -> Result<Vec<(String, i64)>, PatrolError> {
        let Some(grid) = grid else { return Ok(self.store.patrol_cell_counts(from, to, None).await?) };
        let index = self.locator.current();
        let grids = index.layer(Layer::Grids);
        let Some(feature) = grids.find(grid) else { return Ok(Vec::new()) };
        let cells: Vec<String> = grid_cells(grids, grid, &feature.geometry).iter().map(ToString::to_string).collect();
        Ok(self.store.patrol_cell_counts(from, to, Some(&cells)).await?)
    }

    /// Grids of the served generation no patrol passed since `since`: none of their cells ([`cell_grid`]) visited.
    pub async fn unpatrolled(&self, since: OffsetDateTime) -> Result<Vec<Unpatrolled>, PatrolError> {
        let visited = self.store.patrol_cell_counts(Some(since), None, None).await?;
        let index = self.locator.current();
        let grids = index.layer(Layer::Grids);
        let patrolled: std::collections::HashSet<&str> = visited
            .iter()
            .filter_map(|(cell, _)| cell.parse::<CellIndex>().ok())
            .filter_map(|c| cell_grid(grids, c))
            .collect();
        Ok(grids
            .entries()
            .iter()
            .filter(|e| !patrolled.contains(e.feature.code.as_str()))
            .map(|e| Unpatrolled {
                code: e.feature.code.clone(),
                name: e.feature.name.clone(),
                community_code: e.feature.parent_code.clone(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    //! The service over an in-memory fake of its one store trait: no database, which the narrow trait makes possible.

    use std::sync::Mutex;

    use geo::{LineString, MultiPolygon, Polygon};

    use super::*;
    use crate::coord::LonLat;
    use crate::layers::{Feature, GenerationId};

    /// Patrol cells kept in a vector, as the stores keep them in a table.
    #[derive(Debug, Default)]
    struct FakePatrols {
        cells: Mutex<Vec<(String, OffsetDateTime)>>,
        responders: Vec<ResponderId>,
    }

    #[async_trait::async_trait]
    impl PatrolStore for FakePatrols {
        async fn create_patrol(&self, new: &NewPatrol) -> Result<Patrol, PatrolError> {
            if !self.responders.contains(&new.responder) {
                return Err(PatrolError::UnknownResponder(new.responder));
            }
            let mut cells = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            cells.extend(new.cells.iter().map(|c| (c.cell.to_string(), c.first_at)));
            Ok(Patrol {
                id: PatrolId(1),
                responder_id: new.responder,
                started_at: new.fixes[0].at,
                ended_at: new.fixes[new.fixes.len() - 1].at,
                points: new.fixes.len() as i64,
                length_m: new.length_m,
                resolution: i64::from(new.resolution),
                generation: new.generation,
            })
        }

        async fn visited_among(
            &self,
            cells: &[String],
            from: OffsetDateTime,
            to: OffsetDateTime,
        ) -> Result<Vec<String>, StoreError> {
            let stored = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Ok(stored
                .iter()
                .filter(|(c, at)| cells.contains(c) && *at >= from && *at < to)
                .map(|(c, _)| c.clone())
                .collect())
        }

        async fn patrol_cell_counts(
            &self,
            from: Option<OffsetDateTime>,
            to: Option<OffsetDateTime>,
            cells: Option<&[String]>,
        ) -> Result<Vec<(String, i64)>, StoreError> {
            let stored = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut counts: HashMap<String, i64> = HashMap::new();
            for (c, at) in stored.iter() {
                if from.is_none_or(|f| *at >= f) && to.is_none_or(|t| *at < t) && cells.is_none_or(|l| l.contains(c)) {
                    *counts.entry(c.clone()).or_default() += 1;
                }
            }
            Ok(counts.into_iter().collect())
        }
    }

    fn square(code: &str, x0: f64, y0: f64, side: f64) -> Feature {
        let ring = LineString::from(vec![(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side), (x0, y0)]);
        Feature {
            code: code.into(),
            name: code.into(),
            parent_code: None,
            geometry: MultiPolygon(vec![Polygon::new(ring, vec![])]),
            properties: Default::default(),
        }
    }

    #[tokio::test]
    async fn coverage_from_a_fake_store() {
        // Two grids side by side, 0.004° (≈ 380 m) wide.
        let grids = vec![square("G1", 118.790, 32.020, 0.004), square("G2", 118.794, 32.020, 0.004)];
        let index = BoundaryIndex::build(Some(GenerationId(1)), [Vec::new(), Vec::new(), grids]);
        let locator = Arc::new(Locator::new(index, h3o::Resolution::Ten));
        let store = Arc::new(FakePatrols { responders: vec![ResponderId(7)], ..Default::default() });
        let service = PatrolService::new(store, locator, Events::default());
        let now = OffsetDateTime::now_utc();
        let fix = |lon: f64, s: i64| Fix {
            location: LonLat::new(lon, 32.022).expect("valid"),
            at: now + time::Duration::seconds(s),
        };
        // A walk along G1's middle, then into G2.
        let recorded =
            service.record(ResponderId(7), vec![fix(118.7905, 0), fix(118.7960, 300)]).await.expect("recorded");
        let codes: Vec<&str> = recorded.grids.iter().map(|g| g.code.as_str()).collect();
        assert_eq!(codes, ["G1", "G2"], "{:?}", recorded.grids);
        let period = (now - time::Duration::hours(1), now + time::Duration::hours(1));
        let g1 = service.coverage("G1", period.0, period.1).await.expect("coverage");
        let by_grid = service.coverage_by_grid(Some(period.0), Some(period.1)).await.expect("all grids");
        assert_eq!(
            g1.cells_visited, recorded.grids[0].cells,
            "the one rule: the track's cells of G1 are G1's visited ones"
        );
        assert_eq!(by_grid["G1"].cells_visited, g1.cells_visited);
        assert!(
            g1.cells_visited > 0 && g1.cells_visited < g1.cells_total,
            "{} of {}",
            g1.cells_visited,
            g1.cells_total
        );
        let unknown = service.record(ResponderId(8), vec![fix(118.791, 0), fix(118.792, 60)]).await;
        assert!(matches!(unknown, Err(PatrolError::UnknownResponder(ResponderId(8)))));
    }
}
