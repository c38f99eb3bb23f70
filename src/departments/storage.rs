//! What the department service stores (implemented by both backends in `store::departments`).

use async_trait::async_trait;

use super::{Department, DepartmentError, RoutingStep};
use crate::incidents::{Incident, IncidentId};
use crate::store_error::StoreError;

/// Storage of the register and of the routing steps.
#[async_trait]
pub trait DepartmentStore: Send + Sync + std::fmt::Debug {
    /// The register, by code.
    async fn departments(&self) -> Result<Vec<Department>, StoreError>;
    /// Adds or replaces a department (`created_at` kept on replace); returns it as stored and whether it is new.
    async fn put_department(
        &self,
        code: &str,
        name: &str,
        categories: &[String],
    ) -> Result<(Department, bool), StoreError>;
    /// Removes a department with no open incident routed to or accepted by it (else
    /// [`DepartmentError::InUse`]); `Ok(None)` when there was none, else the department removed.
    async fn delete_department(&self, code: &str) -> Result<Option<Department>, DepartmentError>;
    /// Takes a routing step on an open incident, checked against the stored state and the register and written with
    /// its history entry in one transaction; returns the incident after it.
    async fn route_incident(&self, id: IncidentId, step: &RoutingStep) -> Result<Incident, DepartmentError>;
}
