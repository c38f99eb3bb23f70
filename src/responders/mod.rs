//! Responders (grid workers, enforcement teams, vehicles): who they are, their status and live position.

mod storage;
pub use storage::ResponderStore;

mod fleet;
pub mod roster;
mod service;
mod writer;

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use fleet::{Fleet, FleetSnapshot, LiveResponder, distance_m};
pub use service::{ResponderError, ResponderService, check_new};
pub use writer::{PositionWriter, WriterTask};

use crate::coord::LonLat;
use crate::crs::Position;

/// Identifier of a responder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = i64)]
pub struct ResponderId(pub i64);

impl From<i64> for ResponderId {
    fn from(id: i64) -> Self {
        Self(id)
    }
}

impl std::fmt::Display for ResponderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether a responder can take a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponderStatus {
    /// On duty and free.
    Available,
    /// On a job.
    Busy,
    /// Not on duty.
    OffDuty,
}

/// A status name that is not `available`, `busy` or `off_duty`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown responder status {0:?}: expected available, busy or off_duty")]
pub struct UnknownResponderStatus(pub String);

impl ResponderStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponderStatus::Available => "available",
            ResponderStatus::Busy => "busy",
            ResponderStatus::OffDuty => "off_duty",
        }
    }
}

impl FromStr for ResponderStatus {
    type Err = UnknownResponderStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "available" => Ok(ResponderStatus::Available),
            "busy" => Ok(ResponderStatus::Busy),
            "off_duty" => Ok(ResponderStatus::OffDuty),
            other => Err(UnknownResponderStatus(other.to_owned())),
        }
    }
}

/// A responder as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Responder {
    /// Id.
    pub id: ResponderId,
    /// Display name.
    pub name: String,
    /// `grid_worker`, `enforcement`, `vehicle`, …
    pub kind: String,
    /// What they can handle (matched against a request's skill).
    pub skills: Vec<String>,
    /// Team.
    pub team: Option<String>,
    /// The grid they are responsible for.
    pub home_grid: Option<String>,
    /// Availability.
    pub status: ResponderStatus,
    /// Incremented by every stored status change: of two copies of a responder, the higher version has the newer
    /// status (updates can arrive out of order).
    pub status_version: i64,
    /// Latest position `[lon, lat]` (in the answer's `crs`).
    pub location: Option<Position>,
    /// Time of the latest position.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub position_at: Option<OffsetDateTime>,
}

/// A responder to create.
#[derive(Debug, Clone)]
pub struct NewResponder {
    /// Display name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Skills.
    pub skills: Vec<String>,
    /// Team.
    pub team: Option<String>,
    /// Home grid code.
    pub home_grid: Option<String>,
    /// Initial status.
    pub status: ResponderStatus,
    /// Initial position and when it was taken.
    pub position: Option<(LonLat, OffsetDateTime)>,
}

/// One position report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionFix {
    /// Whose.
    pub responder: ResponderId,
    /// Where.
    pub location: LonLat,
    /// When it was taken.
    pub at: OffsetDateTime,
}
