//! Assessment (考核): per street, community, grid, department or responder over a period, how many incidents were
//! reported, handled, still open and overdue, the on-time rate, times to handle, returns, satisfaction, patrol
//! coverage and density, as JSON, CSV or XLSX for the monthly report.

mod report;
mod service;
mod storage;
mod tally;

use serde::Serialize;
use time::OffsetDateTime;

pub use report::{csv, xlsx};
pub use service::{AssessmentError, AssessmentService};
pub use storage::AssessmentStore;
pub use tally::{Outcome, Tally};

/// What the rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Streets (街道) of the served generation.
    Street,
    /// Communities (社区).
    Community,
    /// Grids (网格).
    Grid,
    /// Departments (职能部门): the register, and department names of imported history.
    Department,
    /// Responders: the roster; an incident counts for each responder ever assigned to it.
    Responder,
}

impl Level {
    /// The name in URLs and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Street => "street",
            Level::Community => "community",
            Level::Grid => "grid",
            Level::Department => "department",
            Level::Responder => "responder",
        }
    }
}

/// What to assess.
#[derive(Debug, Clone)]
pub struct AssessmentQuery {
    /// The rows.
    pub by: Level,
    /// Incidents reported at or after.
    pub from: OffsetDateTime,
    /// … and before.
    pub to: OffsetDateTime,
    /// Only this category.
    pub category: Option<String>,
}

/// One assessed unit.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssessmentRow {
    /// Area code, department code (or imported department name), or responder id.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Incidents reported in the period.
    pub reported: u64,
    /// Of those, handled (办结: resolved or closed).
    pub closed: u64,
    /// Of those, still open (reported, dispatched, on scene).
    pub open: u64,
    /// Of those, not handled within their deadline: handled after `due_at`, or open past it.
    pub overdue: u64,
    /// Handled by `due_at`, out of those whose deadline is settled (handled with a deadline, or open past it).
    pub on_time_rate: Option<f64>,
    /// Median seconds from report to handling (resolved, else closed).
    pub median_close_s: Option<f64>,
    /// 90th percentile of the same (nearest rank).
    pub p90_close_s: Option<f64>,
    /// Returns (退回) of the unit's incidents; for a department, the returns it made (wherever the incident went
    /// after).
    pub returned: u64,
    /// Mean rating (1–5) of the reporters asked (回访).
    pub satisfaction_mean: Option<f64>,
    /// Ratings.
    pub satisfaction_n: u64,
    /// Share of the area's patrol cells (H3 res 11) patrolled in the period (areas only).
    pub patrol_coverage: Option<f64>,
    /// Incidents reported per km² (areas only).
    pub per_km2: Option<f64>,
}

/// An assessment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    /// What the rows are.
    pub by: Level,
    /// Period start (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: OffsetDateTime,
    /// Period end, exclusive (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub to: OffsetDateTime,
    /// The category filter, if any.
    pub category: Option<String>,
    /// The boundary generation areas were taken from.
    pub generation: Option<crate::layers::GenerationId>,
    /// One per unit, in code order (areas: every area of the generation, with or without incidents).
    pub rows: Vec<AssessmentRow>,
}
