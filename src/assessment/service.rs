//! An assessment run: the period's incidents tallied per unit off the async threads from the in-memory ledger (by
//! responder: the rows of the incidents the store says each was assigned), named from the served boundaries, the
//! department register and the roster.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use geo::ChamberlainDuquetteArea;
use time::OffsetDateTime;

use super::{Assessment, AssessmentQuery, AssessmentRow, AssessmentStore, Level, Outcome, Tally};
use crate::departments::{DepartmentError, DepartmentService};
use crate::incidents::IncidentService;
use crate::index::BoundaryIndex;
use crate::layers::Layer;
use crate::locate::Locator;
use crate::patrols::{GridCoverage, PatrolError, PatrolService};
use crate::responders::ResponderStore;
use crate::store_error::StoreError;

/// Why an assessment could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AssessmentError {
    /// `from` is not before `to`.
    #[error("the period is empty: from {from} is not before to {to}")]
    EmptyPeriod {
        /// Start.
        from: String,
        /// End.
        to: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Patrol coverage failed.
    #[error(transparent)]
    Patrols(#[from] PatrolError),
    /// The register could not be read.
    #[error(transparent)]
    Departments(#[from] DepartmentError),
    /// The tally task died.
    #[error("the assessment task failed: {0}")]
    Task(String),
}

/// Assessment over the store, the served boundaries, patrols, the register and the roster.
#[derive(Debug)]
pub struct AssessmentService {
    store: Arc<dyn AssessmentStore>,
    roster: Arc<dyn ResponderStore>,
    incidents: Arc<IncidentService>,
    locator: Arc<Locator>,
    patrols: Arc<PatrolService>,
    departments: Arc<DepartmentService>,
}

impl AssessmentService {
    /// A service.
    pub fn new(
        store: Arc<dyn AssessmentStore>,
        roster: Arc<dyn ResponderStore>,
        incidents: Arc<IncidentService>,
        locator: Arc<Locator>,
        patrols: Arc<PatrolService>,
        departments: Arc<DepartmentService>,
    ) -> Self {
        Self { store, roster, incidents, locator, patrols, departments }
    }

    /// The assessment `q` asks for, as of now.
    pub async fn assess(&self, q: &AssessmentQuery) -> Result<Assessment, AssessmentError> {
        if q.from >= q.to {
            return Err(AssessmentError::EmptyPeriod { from: q.from.to_string(), to: q.to.to_string() });
        }
        let assigned = match q.by {
            Level::Responder => self.store.assigned_in(q.from, q.to, q.category.as_deref()).await?,
            _ => Vec::new(),
        };
        let index = self.locator.current();
        let names: Vec<(String, String)> = match q.by {
            Level::Department => self.departments.list().await?.into_iter().map(|d| (d.code, d.name)).collect(),
            Level::Responder => {
                self.roster.responders().await?.into_iter().map(|r| (r.id.0.to_string(), r.name)).collect()
            }
            _ => Vec::new(),
        };
        let patrols = match q.by {
            Level::Street | Level::Community | Level::Grid => {
                self.patrols.coverage_by_grid(Some(q.from), Some(q.to)).await?
            }
            _ => HashMap::new(),
        };
        // A return counts for the department that made it, not the one holding the incident now.
        let returns: HashMap<String, u64> = match q.by {
            Level::Department => self
                .store
                .returns_by_department(q.from, q.to, q.category.as_deref())
                .await?
                .into_iter()
                .map(|(d, n)| (d, u64::try_from(n).unwrap_or(0)))
                .collect(),
            _ => HashMap::new(),
        };
        let (by, generation) = (q.by, index.generation());
        let now = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(i64::MAX);
        let (incidents, query) = (self.incidents.clone(), q.clone());
        let rows = tokio::task::spawn_blocking(move || {
            let tallies = match by {
                Level::Responder => tally_assigned(&incidents, &assigned, now),
                _ => tally_ledger(&incidents, &query, now),
            };
            rows(by, tallies, &index, &names, &patrols, &returns)
        })
        .await
        .map_err(|e| AssessmentError::Task(e.to_string()))?;
        Ok(Assessment { by: q.by, from: q.from, to: q.to, category: q.category.clone(), generation, rows })
    }
}

/// Tallies per area or department from the ledger, in one scan under its read lock.
fn tally_ledger(incidents: &IncidentService, q: &AssessmentQuery, now: i64) -> HashMap<String, Tally> {
    let slot = match q.by {
        Level::Street => 0,
        Level::Community => 1,
        Level::Grid => 2,
        _ => 3,
    };
    let mut by_unit: HashMap<String, Tally> = HashMap::new();
    incidents.ledger().for_each_reported(q.from, q.to, q.category.as_deref(), |codes, row| {
        let Some(code) = codes[slot] else { return };
        let outcome = Outcome::from(row);
        match by_unit.get_mut(code) {
            Some(t) => t.add(&outcome, now),
            None => by_unit.entry(code.to_owned()).or_default().add(&outcome, now),
        }
    });
    by_unit
}

/// Tallies per responder: each `(incident, responder)` pair counts the incident's ledger row for the responder.
fn tally_assigned(incidents: &IncidentService, assigned: &[(i64, i64)], now: i64) -> HashMap<String, Tally> {
    let mut by_unit: HashMap<i64, Tally> = HashMap::new();
    incidents
        .ledger()
        .for_each_of(assigned, |responder, row| by_unit.entry(responder).or_default().add(&row.into(), now));
    by_unit.into_iter().map(|(r, t)| (r.to_string(), t)).collect()
}

/// Name and area (km²) of each area of a layer, and its patrol cells (total, visited) summed over its grids.
struct Area {
    name: String,
    km2: Option<f64>,
    cells: (usize, usize),
}

fn areas(by: Level, index: &BoundaryIndex, patrols: &HashMap<String, GridCoverage>) -> BTreeMap<String, Area> {
    let layer = match by {
        Level::Street => Layer::Streets,
        Level::Community => Layer::Communities,
        Level::Grid => Layer::Grids,
        _ => return BTreeMap::new(),
    };
    let mut out: BTreeMap<String, Area> = index
        .layer(layer)
        .entries()
        .iter()
        .map(|e| {
            let f = &e.feature;
            let km2 = f.geometry.chamberlain_duquette_unsigned_area() / 1e6;
            (f.code.clone(), Area { name: f.name.clone(), km2: Some(km2), cells: (0, 0) })
        })
        .collect();
    // A grid's cells count for itself, its community and that community's street.
    let street_of: HashMap<&str, &str> = index
        .layer(Layer::Communities)
        .entries()
        .iter()
        .filter_map(|e| Some((e.feature.code.as_str(), e.feature.parent_code.as_deref()?)))
        .collect();
    for g in index.layer(Layer::Grids).entries() {
        let Some(cover) = patrols.get(&g.feature.code) else { continue };
        let community = g.feature.parent_code.as_deref();
        let target = match by {
            Level::Grid => Some(g.feature.code.as_str()),
            Level::Community => community,
            _ => community.and_then(|c| street_of.get(c).copied()),
        };
        if let Some(a) = target.and_then(|t| out.get_mut(t)) {
            a.cells.0 += cover.cells_total;
            a.cells.1 += cover.cells_visited;
        }
    }
    out
}

fn rows(
    by: Level,
    mut tallies: HashMap<String, Tally>,
    index: &BoundaryIndex,
    names: &[(String, String)],
    patrols: &HashMap<String, GridCoverage>,
    returns: &HashMap<String, u64>,
) -> Vec<AssessmentRow> {
    let mut areas = areas(by, index, patrols);
    for (code, name) in names {
        areas.insert(code.clone(), Area { name: name.clone(), km2: None, cells: (0, 0) });
    }
    // Units with incidents but no area, register entry or roster line (codes of an older generation, department
    // names of imported history) are listed under their code.
    for code in tallies.keys().chain(returns.keys()) {
        areas.entry(code.clone()).or_insert_with(|| Area { name: code.clone(), km2: None, cells: (0, 0) });
    }
    areas
        .into_iter()
        .map(|(code, area)| {
            let mut t = tallies.remove(&code).unwrap_or_default();
            let (median_close_s, p90_close_s) = t.close_quantiles();
            AssessmentRow {
                reported: t.reported,
                closed: t.closed,
                open: t.open,
                overdue: t.overdue,
                on_time_rate: t.on_time_rate(),
                median_close_s,
                p90_close_s,
                returned: if by == Level::Department { returns.get(&code).copied().unwrap_or(0) } else { t.returned },
                satisfaction_mean: t.satisfaction_mean(),
                satisfaction_n: t.satisfaction_n,
                patrol_coverage: (area.cells.0 > 0).then(|| area.cells.1 as f64 / area.cells.0 as f64),
                per_km2: area.km2.filter(|k| *k > 0.0).map(|k| t.reported as f64 / k),
                code,
                name: area.name,
            }
        })
        .collect()
}
