//! Incidents (事件): what grid workers, the 12345 hotline or video analytics report, tracked from report to close.

mod storage;
pub use storage::{AssignmentStore, IncidentStorage, IncidentStore};

mod assignment;
mod category;
mod deadline;
mod ledger;
mod service;
mod status;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use assignment::{AssignMode, Assignment, AssignmentChange, AssignmentRecord};
pub use category::{Categories, DEFAULT_CATEGORIES};
pub use deadline::Deadlines;
pub use ledger::{BadCell, GridTally, Ledger, LedgerRow, NO_GRID, NO_TIME, StoredSummary};
pub use service::{CreateIncident, IncidentError, IncidentService, InvalidServiceArea, ServiceArea};
pub use status::{IncidentStatus, UnknownStatus};

pub use crate::locate::Geocode;

use crate::coord::LonLat;
use crate::crs::Position;

/// Identifier of a stored incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = i64)]
pub struct IncidentId(pub i64);

impl From<i64> for IncidentId {
    fn from(id: i64) -> Self {
        Self(id)
    }
}

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A validated incident ready to store.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// One of the configured categories.
    pub category: String,
    /// Free text.
    pub description: String,
    /// 1 (most urgent) … 5.
    pub priority: i32,
    /// Who reported it: `grid_worker`, `hotline`, `video`, `citizen`, `dispatcher`, …
    pub source: String,
    /// Address text as reported.
    pub address: Option<String>,
    /// Who called it in (name and/or phone, as taken down).
    pub caller: Option<String>,
    /// Location in WGS84.
    pub location: LonLat,
    /// When it was reported (defaults to the time of writing).
    pub reported_at: OffsetDateTime,
    /// When it is due (the policy's deadline), if it has one.
    pub due_at: Option<OffsetDateTime>,
    /// Who created it.
    pub actor: String,
    /// Codes and cell at the location.
    pub geocode: Geocode,
    /// The department the register routes its category to, if any (routed on write, by `policy`).
    pub department: Option<String>,
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Incident {
    /// Id.
    pub id: IncidentId,
    /// Category.
    pub category: String,
    /// Description.
    pub description: String,
    /// Priority 1–5.
    pub priority: i32,
    /// Source.
    pub source: String,
    /// Address text.
    pub address: Option<String>,
    /// Who called it in (name and/or phone, as taken down).
    pub caller: Option<String>,
    /// `[lon, lat]` (in the answer's `crs`).
    pub location: Position,
    /// Lifecycle state.
    pub status: IncidentStatus,
    /// Geocoded codes.
    #[serde(flatten)]
    pub geocode: Geocode,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub reported_at: OffsetDateTime,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// The reporter's satisfaction (回访), once recorded.
    pub satisfaction: Option<Satisfaction>,
    /// When it is due (时限: report time plus the policy's deadline for its category and priority), if it has one.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<OffsetDateTime>,
    /// Still open past `due_at` (as of the answer).
    pub overdue: bool,
    /// The department it is routed to or accepted by (for imported history: the department the file names).
    pub department: Option<String>,
    /// How far the department has taken it (`null`: never routed).
    pub department_state: Option<crate::departments::DepartmentState>,
    /// How many times a department returned it (退回).
    pub returned: i32,
    /// When it was last resolved (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<OffsetDateTime>,
    /// When it was closed (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<OffsetDateTime>,
    /// Its id in the system it was imported from.
    pub external_id: Option<String>,
}

/// How satisfied the reporter was with the handling, asked after it was resolved.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Satisfaction {
    /// 1 (very dissatisfied) … 5 (very satisfied).
    pub rating: i32,
    /// What the reporter said.
    pub comment: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: OffsetDateTime,
}

/// One step of an incident's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IncidentEvent {
    /// State before (`null` for the report itself).
    pub from: Option<IncidentStatus>,
    /// State after.
    pub to: IncidentStatus,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// Who made the change.
    pub actor: String,
    /// Why, when given (required to close and to return).
    pub note: Option<String>,
    /// A step that is not a status change: `routed`, `accepted`, `returned`, `transferred`, `imported`.
    pub action: Option<String>,
    /// The department the step names (sent to, or returning it).
    pub department: Option<String>,
}

/// Filters of the incident list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
    /// Street code.
    pub street: Option<String>,
    /// Community code.
    pub community: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Any of these grid codes (empty: any grid).
    pub grids: Vec<String>,
    /// Any of these states.
    pub status: Vec<IncidentStatus>,
    /// Category.
    pub category: Option<String>,
    /// Reported at or after.
    pub from: Option<OffsetDateTime>,
    /// Reported before.
    pub to: Option<OffsetDateTime>,
    /// Only ids below this (the cursor of the previous page).
    pub before_id: Option<IncidentId>,
    /// Page size.
    pub limit: u32,
    /// Only open incidents past their deadline.
    pub overdue: bool,
}
