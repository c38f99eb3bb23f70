//! Creating, listing and moving incidents: validation and geocoding in front of the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;

use super::IncidentStorage;
use super::{Assignment, AssignmentChange, AssignmentRecord};
use super::{
    Categories, Geocode, Incident, IncidentEvent, IncidentFilter, IncidentId, IncidentStatus, Ledger, NewIncident,
};
use crate::catalog::ActivationListener;
use crate::coord::LonLat;
use crate::events::Events;
use crate::index::BoundaryIndex;
use crate::layers::Layer;
use crate::locate::{Locator, geocode, regeocoded};
use crate::store_error::StoreError;

/// Where incidents, hazards and fixed resources may be placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServiceArea {
    /// Inside some street of the active generation (the default).
    Streets,
    /// Inside `[min_lon, min_lat, max_lon, max_lat]`.
    Bbox([f64; 4]),
    /// Anywhere (e.g. a national feed).
    Anywhere,
}

/// A `--service-area` value that is none of `streets`, `anywhere` or a bbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service area {0:?}: expected streets, anywhere or min_lon,min_lat,max_lon,max_lat")]
pub struct InvalidServiceArea(pub String);

impl std::str::FromStr for ServiceArea {
    type Err = InvalidServiceArea;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "streets" => Ok(ServiceArea::Streets),
            "anywhere" => Ok(ServiceArea::Anywhere),
            other => {
                let n: Vec<f64> = other
                    .split(',')
                    .map(|v| v.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| InvalidServiceArea(s.to_owned()))?;
                match n[..] {
                    [a, b, c, d] if a < c && b < d && n.iter().all(|v| v.is_finite()) => {
                        Ok(ServiceArea::Bbox([a, b, c, d]))
                    }
                    _ => Err(InvalidServiceArea(s.to_owned())),
                }
            }
        }
    }
}

impl ServiceArea {
    /// `Err(description of the area)` when `p` is outside it.
    pub fn check(self, index: &BoundaryIndex, p: LonLat) -> Result<(), &'static str> {
        let (inside, area) = match self {
            ServiceArea::Streets => (index.layer(Layer::Streets).locate(p.coord()).is_some(), "the streets layer"),
            ServiceArea::Bbox([x0, y0, x1, y1]) => {
                ((x0..=x1).contains(&p.lon()) && (y0..=y1).contains(&p.lat()), "the configured bbox")
            }
            ServiceArea::Anywhere => (true, "anywhere"),
        };
        if inside { Ok(()) } else { Err(area) }
    }
}

/// Why an incident request was refused.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// Category not configured.
    #[error("unknown category {given:?}; accepted: {accepted}")]
    UnknownCategory {
        /// What was sent.
        given: String,
        /// The configured list.
        accepted: String,
    },
    /// Priority out of 1–5.
    #[error("priority {0} is outside 1 (most urgent) … 5")]
    Priority(i32),
    /// A satisfaction rating outside 1–5.
    #[error("rating {0} is outside 1 (very dissatisfied) … 5 (very satisfied)")]
    Rating(i32),
    /// Satisfaction is asked once the incident is resolved.
    #[error("incident {id} is {status}: satisfaction is recorded once it is resolved or closed")]
    NotResolved {
        /// Incident.
        id: IncidentId,
        /// Its state.
        status: &'static str,
    },
    /// A text field longer than it may be.
    #[error("{field} is {len} characters long; at most {max}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Location outside the service area.
    #[error("location [{lon}, {lat}] is outside the service area ({area})")]
    OutsideServiceArea {
        /// Longitude.
        lon: f64,
        /// Latitude.
        lat: f64,
        /// What the area is.
        area: &'static str,
    },
    /// No such incident.
    #[error("incident {0} does not exist")]
    NotFound(IncidentId),
    /// The lifecycle does not allow the change.
    #[error("incident {id} cannot go from {from} to {to}; from {from} it can go to: {allowed}")]
    InvalidTransition {
        /// Incident.
        id: IncidentId,
        /// Current state.
        from: &'static str,
        /// Requested state.
        to: &'static str,
        /// Allowed next states.
        allowed: String,
    },
    /// No such responder (when assigning).
    #[error("responder {0} does not exist")]
    NoSuchResponder(crate::responders::ResponderId),
    /// The incident already has responders on it (assign with `replace` or `additional`).
    #[error(
        "incident {incident} already has responder(s) {responders} on it: send \"replace\": true to reassign or \"additional\": true to send another unit"
    )]
    AlreadyAssigned {
        /// Incident.
        incident: IncidentId,
        /// Who is on it.
        responders: String,
    },
    /// The responder is already on this incident.
    #[error("responder {responder} is already on incident {incident}")]
    AlreadyOnIncident {
        /// Incident.
        incident: IncidentId,
        /// Responder.
        responder: crate::responders::ResponderId,
    },
    /// Nothing to release.
    #[error("{0}")]
    NotAssigned(String),
    /// The responder is busy or off duty.
    #[error("responder {id} is {status}, not available: choose another or release them first")]
    ResponderNotAvailable {
        /// Responder.
        id: crate::responders::ResponderId,
        /// Its status.
        status: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for IncidentError {
    fn from(e: StoreError) -> Self {
        IncidentError::Store(e)
    }
}

impl IncidentError {
    /// The lifecycle does not allow `from → to` (the message lists what it allows).
    pub fn invalid_transition(id: IncidentId, from: IncidentStatus, to: IncidentStatus) -> Self {
        IncidentError::InvalidTransition {
            id,
            from: from.as_str(),
            to: to.as_str(),
            allowed: from.next().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        }
    }

    /// The incident has these responders on it already.
    pub fn already_assigned(incident: IncidentId, responders: &[crate::responders::ResponderId]) -> Self {
        let responders = responders.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        IncidentError::AlreadyAssigned { incident, responders }
    }

    /// Nobody (or not `responder`) is on the incident.
    pub fn not_assigned(incident: IncidentId, responder: Option<crate::responders::ResponderId>) -> Self {
        IncidentError::NotAssigned(match responder {
            Some(r) => format!("responder {r} is not assigned to incident {incident}"),
            None => format!("nobody is assigned to incident {incident}"),
        })
    }
}

/// Longest `caller` kept (a name and a phone number or two fit many times over).
pub const MAX_CALLER_CHARS: usize = 200;

/// Longest satisfaction comment kept.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// A create request after parsing: what the caller gave.
#[derive(Debug, Clone)]
pub struct CreateIncident {
    /// Category code.
    pub category: String,
    /// Free text.
    pub description: String,
    /// 1–5.
    pub priority: i32,
    /// Reporting channel.
    pub source: String,
    /// Address text.
    pub address: Option<String>,
    /// Who called it in.
    pub caller: Option<String>,
    /// Location (already converted to WGS84).
    pub location: LonLat,
    /// Report time; now when absent.
    pub reported_at: Option<OffsetDateTime>,
    /// Who is creating it.
    pub actor: String,
}

/// Incident operations over a store and the live boundary index.
#[derive(Debug)]
pub struct IncidentService {
    store: Arc<dyn IncidentStorage>,
    locator: Arc<Locator>,
    categories: Categories,
    area: ServiceArea,
    events: Events,
    /// Bumped after every write, so tiles and caches cut from older data are never served.
    version: AtomicU64,
    /// What aggregations read, in memory.
    ledger: Ledger,
    /// How long incidents may stay open.
    deadlines: super::Deadlines,
    /// The department register new incidents are routed by.
    departments: Option<Arc<crate::departments::DepartmentService>>,
}

impl IncidentService {
    /// A service with the given categories and service area.
    pub fn new(
        store: Arc<dyn IncidentStorage>,
        locator: Arc<Locator>,
        categories: Categories,
        area: ServiceArea,
        events: Events,
    ) -> Self {
        Self {
            store,
            locator,
            categories,
            area,
            events,
            version: AtomicU64::new(1),
            ledger: Ledger::default(),
            deadlines: super::Deadlines::default(),
            departments: None,
        }
    }

    /// Routes each new incident to the department the register names for its category.
    pub fn with_departments(mut self, departments: Arc<crate::departments::DepartmentService>) -> Self {
        self.departments = Some(departments);
        self
    }

    /// With these deadlines (the dispatch policy's) instead of the defaults.
    pub fn with_deadlines(mut self, deadlines: super::Deadlines) -> Self {
        self.deadlines = deadlines;
        self
    }

    /// Tells this process's live clients about the open incidents whose deadline fell in `(after, until]`
    /// (`incident.overdue`, each replica to its own clients), and makes tiles cut before show them overdue. Returns
    /// how many.
    pub async fn announce_overdue(&self, after: OffsetDateTime, until: OffsetDateTime) -> Result<usize, IncidentError> {
        let due = self.store.incidents_due_between(after, until).await?;
        for incident in &due {
            self.events.publish_local("incident.overdue", incident);
        }
        if !due.is_empty() {
            self.changed();
        }
        Ok(due.len())
    }

    /// Validates, geocodes and stores a new incident.
    pub async fn create(&self, req: CreateIncident) -> Result<Incident, IncidentError> {
        if !self.categories.contains(&req.category) {
            return Err(IncidentError::UnknownCategory {
                given: req.category,
                accepted: self.categories.codes().join(", "),
            });
        }
        if !(1..=5).contains(&req.priority) {
            return Err(IncidentError::Priority(req.priority));
        }
        let caller = req.caller.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if let Some(len) = caller.as_ref().map(|c| c.chars().count()).filter(|&n| n > MAX_CALLER_CHARS) {
            return Err(IncidentError::TooLong { field: "caller", len, max: MAX_CALLER_CHARS });
        }
        let index = self.locator.current();
        self.check_area(&index, req.location)?;
        let reported_at = req.reported_at.unwrap_or_else(OffsetDateTime::now_utc);
        let department = match &self.departments {
            Some(d) => d.for_category(&req.category).await?,
            None => None,
        };
        let new = NewIncident {
            department,
            due_at: self.deadlines.due(&req.category, req.priority, reported_at),
            geocode: geocode(&index, self.locator.resolution(), req.location),
            category: req.category,
            description: req.description,
            priority: req.priority,
            source: req.source,
            address: req.address,
            caller,
            location: req.location,
            reported_at,
            actor: req.actor,
        };
        let incident = self.store.create_incident(&new).await?;
        self.recorded(&incident);
        self.events.publish("incident.created", &incident);
        Ok(incident)
    }

    fn check_area(&self, index: &BoundaryIndex, p: LonLat) -> Result<(), IncidentError> {
        self.area.check(index, p).map_err(|area| IncidentError::OutsideServiceArea { lon: p.lon(), lat: p.lat(), area })
    }

    /// One incident with its history.
    pub async fn get(&self, id: IncidentId) -> Result<(Incident, Vec<IncidentEvent>), IncidentError> {
        self.store.incident(id).await?.ok_or(IncidentError::NotFound(id))
    }

    /// Loads the in-memory ledger from the store (at start).
    pub async fn load_ledger(&self) -> Result<usize, IncidentError> {
        let rows = self.store.incident_summaries().await?;
        self.ledger.load(rows).map_err(|e| IncidentError::Store(StoreError::Corrupt(e.to_string())))?;
        self.changed();
        Ok(self.ledger.len())
    }

    /// Takes in an incident another replica wrote: the ledger follows the store.
    pub async fn refresh(&self, id: IncidentId) -> Result<(), IncidentError> {
        if let Some((incident, _)) = self.store.incident(id).await? {
            self.recorded(&incident);
        }
        Ok(())
    }

    /// Takes in incidents written in bulk (imported history): the ledger adds them and the version moves on.
    pub fn took_in(&self, stored: Vec<super::StoredSummary>) -> Result<(), super::BadCell> {
        self.ledger.extend(stored)?;
        self.changed();
        Ok(())
    }

    /// Takes in an incident written beside this service (a routing step): the ledger follows and the version moves.
    pub fn took(&self, incident: &Incident) {
        self.recorded(incident);
    }

    /// The in-memory ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Changes with every write through this service.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// After a write of `incident`: the ledger takes it and the version moves on.
    fn recorded(&self, incident: &Incident) {
        self.ledger.upsert(incident);
        self.changed();
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Incidents matching `filter` counted per stored H3 cell.
    pub async fn cell_counts(&self, filter: &IncidentFilter) -> Result<Vec<(String, i64)>, IncidentError> {
        Ok(self.store.incident_cell_counts(filter).await?)
    }

    /// A page of incidents, newest first.
    pub async fn list(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, IncidentError> {
        Ok(self.store.list_incidents(filter).await?)
    }

    /// Records (or corrects) the reporter's satisfaction with a resolved or closed incident; returns the incident
    /// and the record replaced, if any.
    pub async fn rate(
        &self,
        id: IncidentId,
        rating: i32,
        comment: Option<String>,
        actor: &str,
    ) -> Result<(Incident, Option<super::Satisfaction>), IncidentError> {
        if !(1..=5).contains(&rating) {
            return Err(IncidentError::Rating(rating));
        }
        let comment = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if let Some(len) = comment.as_ref().map(|c| c.chars().count()).filter(|&n| n > MAX_COMMENT_CHARS) {
            return Err(IncidentError::TooLong { field: "comment", len, max: MAX_COMMENT_CHARS });
        }
        let record = super::Satisfaction {
            rating,
            comment,
            recorded_by: actor.to_owned(),
            recorded_at: OffsetDateTime::now_utc(),
        };
        let (incident, replaced) = self.store.rate_incident(id, &record).await?;
        self.recorded(&incident);
        self.events.publish("incident.updated", &incident);
        Ok((incident, replaced))
    }

    /// Moves an incident along its lifecycle; resolving, closing or cancelling releases its responders. Returns
    /// the change (the incident and the responders released).
    pub async fn transition(
        &self,
        id: IncidentId,
        to: IncidentStatus,
        actor: &str,
        note: Option<&str>,
    ) -> Result<AssignmentChange, IncidentError> {
        let (incident, released) = self.store.transition_incident(id, to, actor, note).await?;
        Ok(self.changed_by(AssignmentChange { incident, assigned: None, released }))
    }

    /// Sends a responder to an incident (one transaction; see [`super::AssignmentStore::assign_incident`]).
    pub async fn assign(&self, a: &Assignment) -> Result<AssignmentChange, IncidentError> {
        let change = self.store.assign_incident(a).await?;
        Ok(self.changed_by(change))
    }

    /// Releases one responder (or all) from an incident.
    pub async fn unassign(
        &self,
        id: IncidentId,
        responder: Option<crate::responders::ResponderId>,
        actor: &str,
        note: Option<&str>,
    ) -> Result<AssignmentChange, IncidentError> {
        let change = self.store.unassign_incident(id, responder, actor, note).await?;
        Ok(self.changed_by(change))
    }

    /// Every assignment of an incident, oldest first (who sent whom, the ranking they saw, when it ended).
    pub async fn assignments(&self, id: IncidentId) -> Result<Vec<AssignmentRecord>, IncidentError> {
        Ok(self.store.incident_assignments(id).await?)
    }

    fn changed_by(&self, change: AssignmentChange) -> AssignmentChange {
        self.recorded(&change.incident);
        self.events.publish("incident.updated", &change.incident);
        change
    }

    /// The configured categories, as `(code, Chinese name)`; the name is the code for categories without one.
    pub fn categories(&self) -> Vec<(String, String)> {
        self.categories
            .codes()
            .iter()
            .map(|c| {
                let name = super::DEFAULT_CATEGORIES.iter().find(|(code, _)| code == c).map_or(c.as_str(), |(_, n)| n);
                (c.clone(), name.to_owned())
            })
            .collect()
    }

    /// Re-geocodes the open incidents not geocoded by `index` at the service's resolution; returns how many
    /// changed.
    pub async fn regeocode(&self, index: &BoundaryIndex) -> Result<usize, IncidentError> {
        let resolution = self.locator.resolution();
        let open = self.store.open_incidents_not_geocoded_by(index.generation(), resolution).await?;
        let changes = regeocoded(index, resolution, open);
        self.store.update_incident_geocodes(&changes).await?;
        if !changes.is_empty() {
            let moved: Vec<(i64, &Geocode)> = changes.iter().map(|(id, g)| (id.0, g)).collect();
            self.ledger.regrid(&moved);
            self.changed();
        }
        if !changes.is_empty() {
            let moved: Vec<_> = changes.iter().map(|(id, g)| serde_json::json!({"id": id, "geocode": g})).collect();
            self.events.publish("incident.regeocoded", &moved);
        }
        Ok(changes.len())
    }
}

#[async_trait::async_trait]
impl ActivationListener for IncidentService {
    async fn generation_changed(&self, index: Arc<BoundaryIndex>) {
        match self.regeocode(&index).await {
            Ok(n) => tracing::info!(generation = ?index.generation(), changed = n, "open incidents re-geocoded"),
            Err(e) => tracing::error!(error = %e, "re-geocoding open incidents failed"),
        }
    }
}
