//! What the incident service stores, as traits the backends implement (`store::sqlite`, `store::postgres`): incidents
//! with their history, and the assignments of responders to them (one transaction keeps both sides' status in step).

use async_trait::async_trait;

use super::{
    Assignment, AssignmentChange, AssignmentRecord, Geocode, Incident, IncidentError, IncidentEvent, IncidentFilter,
    IncidentId, IncidentStatus, NewIncident,
};
use crate::coord::LonLat;
use crate::layers::GenerationId;
use crate::responders::{Responder, ResponderId};
use crate::store_error::StoreError;

/// Storage of incidents and their history.
#[async_trait]
pub trait IncidentStore: Send + Sync + std::fmt::Debug {
    /// Stores a new incident (status `reported`) with its first history event.
    async fn create_incident(&self, new: &NewIncident) -> Result<Incident, StoreError>;
    /// One incident with its history, oldest event first.
    async fn incident(&self, id: IncidentId) -> Result<Option<(Incident, Vec<IncidentEvent>)>, StoreError>;
    /// A page of incidents, newest first.
    async fn list_incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError>;
    /// Every incident's id, location, cell, category, status and report time, for the in-memory ledger.
    async fn incident_summaries(&self) -> Result<Vec<crate::incidents::StoredSummary>, StoreError>;
    /// Incidents matching `filter` counted per stored H3 cell (`limit` and `before_id` are ignored).
    async fn incident_cell_counts(&self, filter: &IncidentFilter) -> Result<Vec<(String, i64)>, StoreError>;
    /// Moves an incident to `to` if its lifecycle allows it from the stored state (checked and written atomically).
    /// Resolving, closing or cancelling also releases its responders (returned as stored after the change).
    async fn transition_incident(
        &self,
        id: IncidentId,
        to: IncidentStatus,
        actor: &str,
        note: Option<&str>,
    ) -> Result<(Incident, Vec<Responder>), IncidentError>;
    /// Open incidents whose deadline fell in `(after, until]`, earliest first (at most 1 000): the ones that just became
    /// overdue.
    async fn incidents_due_between(
        &self,
        after: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> Result<Vec<Incident>, StoreError>;
    /// Records the reporter's satisfaction with a resolved or closed incident (checked and written atomically),
    /// replacing an earlier record; returns the incident as stored after and the record it replaced.
    async fn rate_incident(
        &self,
        id: IncidentId,
        satisfaction: &crate::incidents::Satisfaction,
    ) -> Result<(Incident, Option<crate::incidents::Satisfaction>), IncidentError>;
    /// Locations and codes of the open incidents whose stored geocode was not made from `generation` at
    /// `resolution`, for re-geocoding after a boundary change or a start: the others cannot change (a generation's
    /// layers never change and an incident's location is fixed), so a start on the generation and resolution the
    /// incidents were written with reads none of them.
    async fn open_incidents_not_geocoded_by(
        &self,
        generation: Option<GenerationId>,
        resolution: h3o::Resolution,
    ) -> Result<Vec<(IncidentId, LonLat, Geocode)>, StoreError>;
    /// Writes new codes for incidents, in one transaction.
    async fn update_incident_geocodes(&self, changes: &[(IncidentId, Geocode)]) -> Result<(), StoreError>;
}

/// Storage of assignments.
#[async_trait]
pub trait AssignmentStore: Send + Sync + std::fmt::Debug {
    /// Sends an available responder to an incident in one transaction: the responder becomes `busy`; a `reported`
    /// incident becomes `dispatched` (an `on_scene` one too when replacing); the history names the responder; the
    /// assignment is recorded with the ranking the dispatcher saw. Nothing changes when any step is refused.
    async fn assign_incident(&self, a: &Assignment) -> Result<AssignmentChange, IncidentError>;
    /// Releases one responder (or all) from an incident; a `dispatched` incident left with nobody goes back to
    /// `reported`. One transaction.
    async fn unassign_incident(
        &self,
        incident: IncidentId,
        responder: Option<ResponderId>,
        actor: &str,
        note: Option<&str>,
    ) -> Result<AssignmentChange, IncidentError>;
    /// Every assignment of an incident, oldest first.
    async fn incident_assignments(&self, incident: IncidentId) -> Result<Vec<AssignmentRecord>, StoreError>;
}

/// What the incident service stores: incidents and who is sent to them (one transaction spans both).
pub trait IncidentStorage: IncidentStore + AssignmentStore + crate::history::HistoryStore {}

impl<T: IncidentStore + AssignmentStore + crate::history::HistoryStore + ?Sized> IncidentStorage for T {}
