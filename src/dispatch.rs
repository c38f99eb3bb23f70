//! Nearest available responders for a point: filtered by status, skill and distance *before* k is applied, ranked
//! by great-circle distance, with a straight-line travel-time estimate.

use serde::Serialize;
use time::OffsetDateTime;

use crate::coord::LonLat;
use crate::responders::{FleetSnapshot, ResponderId, ResponderStatus};

/// Speeds and detour factor of the straight-line estimator.
#[derive(Debug, Clone)]
pub struct TravelModel {
    /// Road distance / straight-line distance.
    pub detour_factor: f64,
    /// Metres per second by responder kind; `default_speed_mps` for others.
    pub speeds_mps: Vec<(String, f64)>,
    /// Speed of kinds not listed.
    pub default_speed_mps: f64,
}

impl Default for TravelModel {
    fn default() -> Self {
        Self {
            detour_factor: 1.4,
            // On foot or e-bike in old town streets; enforcement and vehicles by road.
            speeds_mps: vec![("grid_worker".into(), 3.0), ("enforcement".into(), 6.0), ("vehicle".into(), 8.0)],
            default_speed_mps: 3.0,
        }
    }
}

impl TravelModel {
    /// Estimated seconds to cover `distance_m` for a responder kind.
    pub fn eta_s(&self, kind: &str, distance_m: f64) -> f64 {
        let speed = self.speeds_mps.iter().find(|(k, _)| k == kind).map_or(self.default_speed_mps, |(_, s)| *s);
        distance_m * self.detour_factor / speed
    }
}

/// What to look for.
#[derive(Debug, Clone)]
pub struct NearestQuery {
    /// Where.
    pub point: LonLat,
    /// How many.
    pub k: usize,
    /// Required skill.
    pub skill: Option<String>,
    /// Farthest distance.
    pub max_distance_m: Option<f64>,
    /// Grid of the point (for `same_grid`).
    pub grid_code: Option<String>,
}

/// One ranked responder.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// Responder id.
    pub responder_id: ResponderId,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Great-circle distance (haversine, R = 6 371 008.8 m).
    pub distance_m: f64,
    /// Straight-line estimate × detour factor / speed of the kind.
    pub eta_s: f64,
    /// Grid of the responder's position.
    pub grid_code: Option<String>,
    /// True when the responder is in the point's grid.
    pub same_grid: bool,
    /// Always `available` here.
    pub status: ResponderStatus,
    /// Age of the position, seconds.
    pub position_age_s: Option<f64>,
}

/// The k nearest responders that are available and have the skill, within the distance.
pub fn nearest(fleet: &FleetSnapshot, q: &NearestQuery, model: &TravelModel) -> Vec<Candidate> {
    let now = OffsetDateTime::now_utc();
    let max = q.max_distance_m.unwrap_or(f64::INFINITY);
    fleet
        .nearest(q.point)
        .take_while(|(_, d)| *d <= max)
        .filter(|(r, _)| {
            r.responder.status == ResponderStatus::Available
                && q.skill.as_ref().is_none_or(|s| r.responder.skills.iter().any(|have| have == s))
        })
        .take(q.k)
        .map(|(r, distance_m)| Candidate {
            responder_id: r.responder.id,
            name: r.responder.name.clone(),
            kind: r.responder.kind.clone(),
            distance_m,
            eta_s: model.eta_s(&r.responder.kind, distance_m),
            same_grid: q.grid_code.is_some() && r.grid_code == q.grid_code,
            grid_code: r.grid_code.clone(),
            status: r.responder.status,
            position_age_s: r.responder.position_at.map(|t| (now - t).as_seconds_f64()),
        })
        .collect()
}
