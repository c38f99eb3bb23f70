//! The dispatcher's use cases, whole: nearest responders to a point; the recommendation for an incident (its place
//! and the skill its category needs); assigning, releasing and moving incidents, each keeping the live fleet in step
//! and recording who did it in the audit log. HTTP handlers and other callers only parse and hand on.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{Candidate, Coverage, DISTANCE_METHOD, Dispatcher, Place, Preference, Request, StaleHandling};
use crate::audit::AuditLog;
use crate::coord::LonLat;
use crate::incidents::{
    AssignMode, Assignment, AssignmentChange, Incident, IncidentError, IncidentId, IncidentService, IncidentStatus,
};
use crate::locate::Locator;
use crate::responders::{ResponderId, ResponderService};
use crate::roads::RoadService;

/// Most candidates one answer may hold.
pub const MAX_K: usize = 100;

/// Longest time a coverage or reach question may ask about, minutes.
pub const MAX_MINUTES: f64 = 120.0;

/// Why a dispatch request was refused.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// `k` out of range.
    #[error("k={0}: expected 1 … {MAX_K}")]
    K(usize),
    /// A distance that is not a non-negative number.
    #[error("max_distance_m={0}: expected a non-negative number")]
    Distance(f64),
    /// Minutes out of range.
    #[error("minutes={0}: expected a number of minutes above 0 and at most {MAX_MINUTES}")]
    Minutes(f64),
    /// `replace` and `additional` both asked for.
    #[error("replace and additional exclude each other")]
    Mode,
    /// The incident side refused (not found, wrong state, responder busy, …).
    #[error(transparent)]
    Incident(#[from] IncidentError),
}

/// What a caller may set on a search; the rest comes from the policy and the incident.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// How many (default 5).
    pub k: Option<usize>,
    /// Required skill; `Some("")` for none (a recommendation otherwise takes the category's).
    pub skill: Option<String>,
    /// Required team.
    pub team: Option<String>,
    /// Farthest great-circle distance.
    pub max_distance_m: Option<f64>,
}

/// The policy rules a recommendation applied.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppliedPolicy {
    /// Preference rules, strongest first (`preferred_by` counts from 1).
    pub prefer: Vec<Preference>,
    /// What stale positions do.
    pub stale_positions: StaleHandling,
}

/// Ranked responders for a point or an incident, with how they were measured.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ranking {
    /// The incident (recommendations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<IncidentId>,
    /// Its category (recommendations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Grid of the point.
    pub grid_code: Option<String>,
    /// Community of the point.
    pub community_code: Option<String>,
    /// Skill required.
    pub skill: Option<String>,
    /// Team required.
    pub team: Option<String>,
    /// How distances are measured.
    pub distance: &'static str,
    /// How ETAs are estimated.
    pub eta_method: &'static str,
    /// Best first.
    pub candidates: Vec<Candidate>,
    /// The rules applied (recommendations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<AppliedPolicy>,
}

/// A dispatcher's decision as asked for.
#[derive(Debug, Clone)]
pub struct AssignOrder {
    /// The incident.
    pub incident: IncidentId,
    /// Who goes.
    pub responder: ResponderId,
    /// Who decided.
    pub actor: String,
    /// The candidates the dispatcher saw (the server's recommendation now when `None`).
    pub ranking: Option<serde_json::Value>,
    /// Release whoever is on it.
    pub replace: bool,
    /// Send another unit.
    pub additional: bool,
}

/// Dispatch over the policy, the live fleet and the incidents.
#[derive(Debug)]
pub struct DispatchService {
    dispatcher: Arc<Dispatcher>,
    incidents: Arc<IncidentService>,
    responders: Arc<ResponderService>,
    locator: Arc<Locator>,
    roads: Arc<RoadService>,
    audit: AuditLog,
}

impl DispatchService {
    /// A service over these parts.
    pub fn new(
        dispatcher: Arc<Dispatcher>,
        incidents: Arc<IncidentService>,
        responders: Arc<ResponderService>,
        locator: Arc<Locator>,
        roads: Arc<RoadService>,
        audit: AuditLog,
    ) -> Self {
        Self { dispatcher, incidents, responders, locator, roads, audit }
    }

    /// For every grid, how soon the nearest available unit (of `kind`) could reach it now, and whether within
    /// `minutes`.
    pub fn coverage(&self, minutes: f64, kind: Option<&str>) -> Result<Coverage, DispatchError> {
        if !(minutes.is_finite() && minutes > 0.0 && minutes <= MAX_MINUTES) {
            return Err(DispatchError::Minutes(minutes));
        }
        let net = self.roads.current();
        let fleet = self.responders.fleet().snapshot();
        Ok(super::coverage::coverage(
            &self.locator.current(),
            &fleet,
            self.dispatcher.policy(),
            net.as_deref(),
            minutes,
            kind,
        ))
    }

    /// The policy and estimator in force.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// The k nearest eligible responders to a point, by great-circle distance.
    pub fn nearest(&self, point: LonLat, search: Search) -> Result<Ranking, DispatchError> {
        let (grid_code, community_code) = crate::locate::grid_and_community(&self.locator.current(), point);
        let req = request(point, Place { grid_code, community_code }, search, None)?;
        let (candidates, eta_method) = self.dispatcher.nearest(&self.responders.fleet().snapshot(), &req);
        Ok(self.ranking(&req, candidates, eta_method))
    }

    /// The policy's ranking of responders for an incident: its place as geocoded, the skill its category needs
    /// unless the search names one.
    pub async fn recommend(&self, id: IncidentId, search: Search) -> Result<Ranking, DispatchError> {
        let (incident, _) = self.incidents.get(id).await?;
        let req = self.incident_request(&incident, search)?;
        let (candidates, eta_method) = self.dispatcher.recommend(&self.responders.fleet().snapshot(), &req);
        let policy = self.dispatcher.policy();
        Ok(Ranking {
            incident_id: Some(incident.id),
            category: Some(incident.category.clone()),
            policy: Some(AppliedPolicy { prefer: policy.prefer.clone(), stale_positions: policy.stale_positions }),
            ..self.ranking(&req, candidates, eta_method)
        })
    }

    fn incident_request(&self, incident: &Incident, search: Search) -> Result<Request, DispatchError> {
        let [x, y] = incident.location.0;
        // Stored locations were validated when written.
        let point = LonLat::new(x, y)
            .map_err(|e| IncidentError::Store(crate::store_error::StoreError::Corrupt(e.to_string())))?;
        let place = Place {
            grid_code: incident.geocode.grid_code.clone(),
            community_code: incident.geocode.community_code.clone(),
        };
        let category_skill = self.dispatcher.policy().skill_for(&incident.category).map(str::to_owned);
        request(point, place, search, category_skill)
    }

    fn ranking(&self, req: &Request, candidates: Vec<Candidate>, eta_method: &'static str) -> Ranking {
        Ranking {
            incident_id: None,
            category: None,
            grid_code: req.place.grid_code.clone(),
            community_code: req.place.community_code.clone(),
            skill: req.skill.clone(),
            team: req.team.clone(),
            distance: DISTANCE_METHOD,
            eta_method,
            candidates,
            policy: None,
        }
    }

    /// Sends a responder to an incident: the assignment is stored with the ranking the dispatcher saw (the server's
    /// recommendation at this moment when none is given), the fleet takes in the new statuses, the audit log records
    /// it.
    pub async fn assign(&self, order: AssignOrder) -> Result<AssignmentChange, DispatchError> {
        let mode = match (order.replace, order.additional) {
            (true, true) => return Err(DispatchError::Mode),
            (true, false) => AssignMode::Replace,
            (false, true) => AssignMode::Additional,
            (false, false) => AssignMode::First,
        };
        let ranking = match order.ranking {
            Some(shown) => json!({"source": "client", "shown": shown}),
            None => {
                json!({"source": "server", "shown": self.recommend(order.incident, Search::default()).await?.candidates})
            }
        };
        let a = Assignment { incident: order.incident, responder: order.responder, actor: order.actor, ranking, mode };
        let change = self.incidents.assign(&a).await?;
        self.adopt(&change);
        let details = json!({"responder": a.responder, "mode": mode.as_str(),
            "released": change.released.iter().map(|r| r.id).collect::<Vec<_>>(), "ranking": a.ranking});
        self.audit.record(&a.actor, "incident.assigned", Some(format!("incident:{}", a.incident)), details).await;
        Ok(change)
    }

    /// Releases one responder (or everyone) from an incident; a dispatched incident left with nobody goes back to
    /// `reported`.
    pub async fn unassign(
        &self,
        id: IncidentId,
        responder: Option<ResponderId>,
        actor: &str,
        note: Option<&str>,
    ) -> Result<AssignmentChange, DispatchError> {
        let change = self.incidents.unassign(id, responder, actor, note).await?;
        self.adopt(&change);
        let details = json!({"released": change.released.iter().map(|r| r.id).collect::<Vec<_>>(), "note": note});
        self.audit.record(actor, "incident.unassigned", Some(format!("incident:{id}")), details).await;
        Ok(change)
    }

    /// Moves an incident along its lifecycle; resolving, closing or cancelling releases its responders, whom the
    /// fleet takes back.
    pub async fn transition(
        &self,
        id: IncidentId,
        to: IncidentStatus,
        actor: &str,
        note: Option<&str>,
    ) -> Result<AssignmentChange, DispatchError> {
        let change = self.incidents.transition(id, to, actor, note).await?;
        self.adopt(&change);
        Ok(change)
    }

    /// The fleet takes in the responders whose status an incident change moved.
    fn adopt(&self, change: &AssignmentChange) {
        for r in change.assigned.iter().chain(&change.released) {
            self.responders.adopt(r);
        }
    }
}

/// A checked search request.
fn request(
    point: LonLat,
    place: Place,
    search: Search,
    category_skill: Option<String>,
) -> Result<Request, DispatchError> {
    let k = search.k.unwrap_or(5);
    if !(1..=MAX_K).contains(&k) {
        return Err(DispatchError::K(k));
    }
    if let Some(d) = search.max_distance_m
        && !(d.is_finite() && d >= 0.0)
    {
        return Err(DispatchError::Distance(d));
    }
    let skill = match search.skill {
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s),
        None => category_skill,
    };
    Ok(Request {
        point,
        place,
        k,
        skill,
        team: search.team.filter(|t| !t.is_empty()),
        max_distance_m: search.max_distance_m,
        now: OffsetDateTime::now_utc(),
    })
}
