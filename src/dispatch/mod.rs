//! Who should go: the nearest responders that are available, have the skill and the team asked for, within the
//! distance, with positions fresh enough to trust (all filtered *before* k is applied); ranked either by
//! great-circle distance (`nearest`) or by the configured policy and the travel-time estimate (`recommend`), each
//! with the reasons for its place.

mod coverage;
mod policy;
mod rank;
mod road;
mod service;
mod travel;

use serde::Serialize;
use time::OffsetDateTime;

pub use coverage::Coverage;
pub use policy::{Affinity, DispatchPolicy, KindTravel, PolicyError, Preference, StaleHandling, TravelConfig};
pub use road::RoadTravel;
pub use service::{AppliedPolicy, AssignOrder, DispatchError, DispatchService, MAX_K, MAX_MINUTES, Ranking, Search};
pub use travel::{Estimate, Eta, How, StraightLine, TravelTime};

use crate::coord::LonLat;
use crate::responders::{FleetSnapshot, ResponderId, ResponderStatus};

/// How distances are measured (stated in every answer).
pub const DISTANCE_METHOD: &str = "haversine, R = 6371008.8 m";

/// The incident's (or point's) place in the hierarchy, for affinities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    /// Grid covering the point.
    pub grid_code: Option<String>,
    /// Community covering the point.
    pub community_code: Option<String>,
}

/// What to look for.
#[derive(Debug, Clone)]
pub struct Request {
    /// Where.
    pub point: LonLat,
    /// Its grid and community.
    pub place: Place,
    /// How many.
    pub k: usize,
    /// Required skill.
    pub skill: Option<String>,
    /// Required team.
    pub team: Option<String>,
    /// Farthest great-circle distance.
    pub max_distance_m: Option<f64>,
    /// The time positions are aged against.
    pub now: OffsetDateTime,
}

/// One line of why a candidate is where it is.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    /// Stable code (`distance`, `eta`, `skill`, `team`, `home_grid`, `same_grid`, `same_community`, `preferred`,
    /// `stale`, `position_age`).
    pub code: &'static str,
    /// Human-readable detail with the numbers.
    pub detail: String,
}

/// One ranked responder.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    /// 1-based place in this answer.
    pub rank: usize,
    /// Responder id.
    pub responder_id: ResponderId,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Team.
    pub team: Option<String>,
    /// Great-circle distance to the point, metres (haversine, R = 6 371 008.8 m).
    pub distance_m: f64,
    /// Estimated travel time, seconds.
    pub eta_s: f64,
    /// Along the roads, metres (when `eta_method` is `road`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub road_distance_m: Option<f64>,
    /// How this candidate's ETA was made: `road`, or `straight_line` (no network, or too far from its roads: the
    /// `eta` reason says why).
    pub eta_method: &'static str,
    /// The estimate's details, for the reasons.
    #[serde(skip)]
    pub(crate) how: How,
    /// Grid of the responder's position.
    pub grid_code: Option<String>,
    /// Community of the responder's position.
    pub community_code: Option<String>,
    /// The responder is inside the point's grid.
    pub same_grid: bool,
    /// The responder is inside the point's community.
    pub same_community: bool,
    /// The responder's home grid is the point's grid.
    pub home_grid: bool,
    /// Always `available`.
    pub status: ResponderStatus,
    /// Age of the position, seconds.
    pub position_age_s: Option<f64>,
    /// The position is older than the policy's `stale_after_s` (only present when the policy flags, not excludes).
    pub stale: bool,
    /// The number of the policy's `prefer` rule that placed it, counting from 1 (1 is `prefer[0]`, as its
    /// `preferred` reason says); null: ranked by ETA alone.
    pub preferred_by: Option<usize>,
    /// Why it is here.
    pub reasons: Vec<Reason>,
}

/// The policy with its travel-time estimator.
#[derive(Debug)]
pub struct Dispatcher {
    policy: DispatchPolicy,
    travel: Box<dyn TravelTime>,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Self::new(DispatchPolicy::default())
    }
}

impl Dispatcher {
    /// A dispatcher with the straight-line estimator of the policy's travel parameters.
    pub fn new(policy: DispatchPolicy) -> Self {
        let travel = Box::new(StraightLine::new(policy.travel.clone()));
        Self { policy, travel }
    }

    /// A dispatcher with another estimator (e.g. a road network).
    pub fn with_travel(policy: DispatchPolicy, travel: Box<dyn TravelTime>) -> Self {
        Self { policy, travel }
    }

    /// The policy.
    pub fn policy(&self) -> &DispatchPolicy {
        &self.policy
    }

    /// The estimator's name.
    pub fn eta_method(&self) -> &'static str {
        self.travel.method()
    }

    /// The k nearest eligible responders, by great-circle distance (by road ETA with a road network); and how
    /// the request was estimated (`road` or `straight_line`).
    pub fn nearest(&self, fleet: &FleetSnapshot, req: &Request) -> (Vec<Candidate>, &'static str) {
        let mut est = self.travel.towards(req.point);
        let list = rank::nearest(fleet, req, &self.policy, &*self.travel, &mut *est);
        (list, est.method())
    }

    /// The k best eligible responders by the policy: preference rule first, then ETA, then distance; and how the
    /// request was estimated.
    pub fn recommend(&self, fleet: &FleetSnapshot, req: &Request) -> (Vec<Candidate>, &'static str) {
        let mut est = self.travel.towards(req.point);
        let list = rank::recommend(fleet, req, &self.policy, &*self.travel, &mut *est);
        (list, est.method())
    }

    /// The estimator (for callers estimating outside a ranking, e.g. coverage).
    pub fn travel(&self) -> &dyn TravelTime {
        &*self.travel
    }
}
