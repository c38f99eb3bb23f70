//! Reporting, listing and moving hazards: validation and geocoding in front of the store.

use std::sync::Arc;

use geo::{Geometry, InteriorPoint, MapCoords, Validation};
use time::OffsetDateTime;

use super::HazardStore;
use super::{DEFAULT_HAZARD_CATEGORIES, Hazard, HazardEvent, HazardFilter, HazardId, HazardStatus, NewHazard};
use crate::catalog::ActivationListener;
use crate::coord::LonLat;
use crate::crs::Crs;
use crate::events::Events;
use crate::incidents::ServiceArea;
use crate::index::BoundaryIndex;
use crate::locate::{Locator, geocode, regeocoded};
use crate::store_error::StoreError;

/// Why a hazard request was refused.
#[derive(Debug, thiserror::Error)]
pub enum HazardError {
    /// A field is wrong.
    #[error("field {field}: {problem}")]
    Field {
        /// Field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// No such hazard.
    #[error("hazard {0} does not exist")]
    NotFound(HazardId),
    /// The lifecycle does not allow the change.
    #[error("hazard {id} cannot go from {from} to {to}; from {from} it can go to: {allowed}")]
    InvalidTransition {
        /// Hazard.
        id: HazardId,
        /// Current state.
        from: &'static str,
        /// Requested.
        to: &'static str,
        /// Allowed next states.
        allowed: String,
    },
    /// Closing without a note.
    #[error("closing hazard {0} (销账) needs a note saying how it was put right")]
    NoteRequired(HazardId),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for HazardError {
    fn from(e: StoreError) -> Self {
        HazardError::Store(e)
    }
}

impl HazardError {
    /// The lifecycle does not allow `from → to` (the message lists what it allows).
    pub fn invalid_transition(id: HazardId, from: HazardStatus, to: HazardStatus) -> Self {
        HazardError::InvalidTransition {
            id,
            from: from.as_str(),
            to: to.as_str(),
            allowed: from.next().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        }
    }
}

/// A report as sent.
#[derive(Debug, Clone)]
pub struct CreateHazard {
    /// Category code.
    pub category: String,
    /// Description.
    pub description: String,
    /// 1 … 4.
    pub severity: i32,
    /// Responsible department.
    pub department: String,
    /// GeoJSON geometry in `crs`.
    pub geometry: serde_json::Value,
    /// Coordinate system of the geometry.
    pub crs: Crs,
    /// Deadline.
    pub due_at: Option<OffsetDateTime>,
    /// When found (now when absent).
    pub reported_at: Option<OffsetDateTime>,
    /// Who.
    pub actor: String,
}

/// Hazard operations.
#[derive(Debug)]
pub struct HazardService {
    store: Arc<dyn HazardStore>,
    locator: Arc<Locator>,
    area: ServiceArea,
    events: Events,
}

fn field(field: &'static str, problem: impl Into<String>) -> HazardError {
    HazardError::Field { field, problem: problem.into() }
}

/// The geometry in WGS84 with a point inside it.
fn shape(raw: &serde_json::Value, crs: Crs) -> Result<(serde_json::Value, LonLat), HazardError> {
    let g: geojson::Geometry =
        serde_json::from_value(raw.clone()).map_err(|e| field("geometry", format!("not a GeoJSON geometry: {e}")))?;
    let g: Geometry<f64> = g.try_into().map_err(|e| field("geometry", format!("unreadable: {e}")))?;
    let g = g.map_coords(|c| {
        let (x, y) = crs.to_wgs84(c.x, c.y);
        geo::Coord { x, y }
    });
    use geo::CoordsIter;
    if let Some(c) = g.coords_iter().find(|c| LonLat::new(c.x, c.y).is_err()) {
        let (x, y) = (c.x, c.y);
        return Err(field("geometry", format!("coordinate [{x}, {y}] is not a WGS84 longitude/latitude")));
    }
    let inside = match &g {
        Geometry::Point(p) => Some(*p),
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) => {
            if let Some(problem) = g.validation_errors().first() {
                return Err(field("geometry", format!("invalid area: {problem}")));
            }
            g.interior_point()
        }
        _ => return Err(field("geometry", "expected a Point, Polygon or MultiPolygon")),
    };
    let p = inside.ok_or_else(|| field("geometry", "an empty geometry"))?;
    let p = LonLat::new(p.x(), p.y()).map_err(|e| field("geometry", e.to_string()))?;
    let value = serde_json::to_value(geojson::Geometry::from(&g)).map_err(|e| field("geometry", e.to_string()))?;
    Ok((value, p))
}

impl HazardService {
    /// A service with the default categories.
    pub fn new(store: Arc<dyn HazardStore>, locator: Arc<Locator>, area: ServiceArea, events: Events) -> Self {
        Self { store, locator, area, events }
    }

    /// Validates, geocodes and stores a hazard.
    pub async fn create(&self, req: CreateHazard) -> Result<Hazard, HazardError> {
        if !DEFAULT_HAZARD_CATEGORIES.iter().any(|(c, _)| *c == req.category) {
            let accepted: Vec<&str> = DEFAULT_HAZARD_CATEGORIES.iter().map(|(c, _)| *c).collect();
            return Err(field("category", format!("unknown {:?}; accepted: {}", req.category, accepted.join(", "))));
        }
        if !(1..=4).contains(&req.severity) {
            return Err(field("severity", format!("{} is outside 1 (major) … 4 (minor)", req.severity)));
        }
        if req.department.trim().is_empty() {
            return Err(field("department", "the department responsible is required"));
        }
        let (geometry, location) = shape(&req.geometry, req.crs)?;
        let index = self.locator.current();
        self.area.check(&index, location).map_err(|area| {
            field("geometry", format!("[{}, {}] is outside the service area ({area})", location.lon(), location.lat()))
        })?;
        let new = NewHazard {
            geocode: geocode(&index, self.locator.resolution(), location),
            category: req.category,
            description: req.description,
            severity: req.severity,
            department: req.department,
            geometry,
            location,
            due_at: req.due_at,
            reported_at: req.reported_at.unwrap_or_else(OffsetDateTime::now_utc),
            actor: req.actor,
        };
        let hazard = self.store.create_hazard(&new).await?;
        self.events.publish("hazard.created", &hazard);
        Ok(hazard)
    }

    /// One hazard with its history.
    pub async fn get(&self, id: HazardId) -> Result<(Hazard, Vec<HazardEvent>), HazardError> {
        self.store.hazard(id).await?.ok_or(HazardError::NotFound(id))
    }

    /// A page, newest first.
    pub async fn list(&self, filter: &HazardFilter) -> Result<Vec<Hazard>, HazardError> {
        Ok(self.store.list_hazards(filter).await?)
    }

    /// Hazards matching `filter` counted per stored cell.
    pub async fn cell_counts(&self, filter: &HazardFilter) -> Result<Vec<(String, i64)>, HazardError> {
        Ok(self.store.hazard_cell_counts(filter).await?)
    }

    /// Moves a hazard on; closing needs a note.
    pub async fn transition(
        &self,
        id: HazardId,
        to: HazardStatus,
        actor: &str,
        note: Option<&str>,
    ) -> Result<Hazard, HazardError> {
        if to == HazardStatus::Closed && note.is_none_or(|n| n.trim().is_empty()) {
            return Err(HazardError::NoteRequired(id));
        }
        let hazard = self.store.transition_hazard(id, to, actor, note).await?;
        self.events.publish("hazard.updated", &hazard);
        Ok(hazard)
    }

    /// Re-geocodes hazards not closed against `index`.
    pub async fn regeocode(&self, index: &BoundaryIndex) -> Result<usize, HazardError> {
        let open = self.store.open_hazards().await?;
        let changes = regeocoded(index, self.locator.resolution(), open);
        self.store.update_hazard_geocodes(&changes).await?;
        Ok(changes.len())
    }
}

#[async_trait::async_trait]
impl ActivationListener for HazardService {
    async fn generation_changed(&self, index: Arc<BoundaryIndex>) {
        match self.regeocode(&index).await {
            Ok(n) => tracing::info!(changed = n, "open hazards re-geocoded"),
            Err(e) => tracing::error!(error = %e, "re-geocoding hazards failed"),
        }
    }
}
