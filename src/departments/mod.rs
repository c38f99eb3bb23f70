//! Departments (职能部门) and the event flow through them: the register (code, name, the categories each handles), and
//! routing (分拨) an incident to a department, which accepts it (受理), returns it (退回) to the router with a reason,
//! or transfers it (转办) to another department. Every step lands in the incident's history with actor and time.

mod flow;
mod service;
mod storage;

pub use flow::{DepartmentState, RoutingAction, RoutingStep};
pub use service::{DepartmentError, DepartmentService};
pub use storage::DepartmentStore;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A department in the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Department {
    /// Code (letters, digits, `_`, `-`; at most 64).
    pub code: String,
    /// Name, e.g. 城管局.
    pub name: String,
    /// The incident categories it handles: a new incident of one of them is routed to it.
    pub categories: Vec<String>,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// Longest department code.
pub const MAX_CODE_CHARS: usize = 64;
/// Longest department name.
pub const MAX_NAME_CHARS: usize = 200;
