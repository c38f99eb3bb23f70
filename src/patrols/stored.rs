//! A patrol as stored: what a track is written as, and what is read back.

use serde::Serialize;
use time::OffsetDateTime;

use super::{Fix, VisitedCell};
use crate::layers::GenerationId;
use crate::responders::ResponderId;

/// Identifier of a patrol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = i64)]
pub struct PatrolId(pub i64);

/// A patrol to store.
#[derive(Debug, Clone)]
pub struct NewPatrol {
    /// Who walked it.
    pub responder: ResponderId,
    /// The fixes, time-ordered.
    pub fixes: Vec<Fix>,
    /// Great-circle length.
    pub length_m: f64,
    /// Cells passed.
    pub cells: Vec<VisitedCell>,
    /// H3 resolution of the cells.
    pub resolution: u8,
    /// Generation the grids come from.
    pub generation: Option<GenerationId>,
}

/// A stored patrol (without its fixes and cells).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Patrol {
    /// Id.
    pub id: PatrolId,
    /// Who.
    pub responder_id: ResponderId,
    /// First fix.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    /// Last fix.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub ended_at: OffsetDateTime,
    /// Number of fixes.
    pub points: i64,
    /// Length, metres.
    pub length_m: f64,
    /// H3 resolution of its cells.
    pub resolution: i64,
    /// Generation its grids come from.
    pub generation: Option<GenerationId>,
}
