//! The register's rules (valid codes, known categories, one department per category) and the routing steps, in
//! front of the store; each change goes to the live feed.

use std::sync::Arc;

use super::{Department, DepartmentStore, MAX_CODE_CHARS, MAX_NAME_CHARS, RoutingAction, RoutingStep};
use crate::events::Events;
use crate::incidents::{Categories, Incident, IncidentId};
use crate::store_error::StoreError;

/// Why a department request was refused.
#[derive(Debug, thiserror::Error)]
pub enum DepartmentError {
    /// A code that is empty, too long or has other characters than letters, digits, `_` and `-`.
    #[error("department code {0:?}: use 1–64 letters, digits, _ or -")]
    InvalidCode(String),
    /// A name that is empty or too long.
    #[error("department name must be 1–200 characters")]
    InvalidName,
    /// A category that is not configured.
    #[error("unknown category {given:?}; accepted: {accepted}")]
    UnknownCategory {
        /// What was sent.
        given: String,
        /// The configured list.
        accepted: String,
    },
    /// Another department already handles the category.
    #[error("category {category:?} is already handled by department {department:?}: remove it there first")]
    CategoryTaken {
        /// The category.
        category: String,
        /// Who handles it.
        department: String,
    },
    /// No such department.
    #[error("department {0:?} is not in the register")]
    NotFound(String),
    /// Open incidents are with the department.
    #[error("department {code:?} still has {open} open incident(s): transfer or return them first")]
    InUse {
        /// The department.
        code: String,
        /// How many open incidents are routed to or accepted by it.
        open: i64,
    },
    /// A return without a reason.
    #[error("returning an incident needs a reason")]
    ReasonRequired,
    /// The step does not follow from where the incident stands.
    #[error("incident {incident} is {state}: it cannot be {step}")]
    InvalidStep {
        /// Incident.
        incident: IncidentId,
        /// The step refused.
        step: &'static str,
        /// Its department state (`unrouted`, `routed`, `accepted`, `returned`).
        state: &'static str,
    },
    /// A transfer to the department it is with.
    #[error("incident {incident} is already with department {department:?}")]
    SameDepartment {
        /// Incident.
        incident: IncidentId,
        /// Department.
        department: String,
    },
    /// Closed or cancelled incidents stay where they ended.
    #[error("incident {incident} is {status}: only open incidents are routed")]
    NotOpen {
        /// Incident.
        incident: IncidentId,
        /// Its state.
        status: &'static str,
    },
    /// No such incident.
    #[error("incident {0} does not exist")]
    NoIncident(IncidentId),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The register and the routing steps.
#[derive(Debug)]
pub struct DepartmentService {
    store: Arc<dyn DepartmentStore>,
    categories: Categories,
    events: Events,
}

impl DepartmentService {
    /// A service over a store, accepting these categories.
    pub fn new(store: Arc<dyn DepartmentStore>, categories: Categories, events: Events) -> Self {
        Self { store, categories, events }
    }

    /// The register, by code.
    pub async fn list(&self) -> Result<Vec<Department>, DepartmentError> {
        Ok(self.store.departments().await?)
    }

    /// Adds or replaces a department; returns it and whether it is new.
    pub async fn put(
        &self,
        code: &str,
        name: &str,
        categories: &[String],
    ) -> Result<(Department, bool), DepartmentError> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if code.is_empty() || code.chars().count() > MAX_CODE_CHARS || !code.chars().all(valid_char) {
            return Err(DepartmentError::InvalidCode(code.to_owned()));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(DepartmentError::InvalidName);
        }
        let mut wanted: Vec<String> = Vec::new();
        for c in categories {
            if !self.categories.contains(c) {
                return Err(DepartmentError::UnknownCategory {
                    given: c.clone(),
                    accepted: self.categories.codes().join(", "),
                });
            }
            if !wanted.contains(c) {
                wanted.push(c.clone());
            }
        }
        for other in self.store.departments().await?.iter().filter(|d| d.code != code) {
            if let Some(c) = wanted.iter().find(|c| other.categories.contains(c)) {
                return Err(DepartmentError::CategoryTaken { category: c.clone(), department: other.code.clone() });
            }
        }
        let (department, created) = self.store.put_department(code, name, &wanted).await?;
        self.events.publish("department.changed", &department);
        Ok((department, created))
    }

    /// Removes a department nothing open is with.
    pub async fn delete(&self, code: &str) -> Result<Department, DepartmentError> {
        let removed =
            self.store.delete_department(code).await?.ok_or_else(|| DepartmentError::NotFound(code.into()))?;
        self.events.publish("department.removed", &serde_json::json!({"code": code}));
        Ok(removed)
    }

    /// The department that handles `category`, if the register has one.
    pub async fn for_category(&self, category: &str) -> Result<Option<String>, StoreError> {
        let all = self.store.departments().await?;
        Ok(all.into_iter().find(|d| d.categories.iter().any(|c| c == category)).map(|d| d.code))
    }

    /// Takes a routing step; returns the incident after it (published as `incident.updated` and as
    /// `incident.routed` / `.accepted` / `.returned` / `.transferred`).
    pub async fn step(&self, id: IncidentId, action: RoutingAction, actor: &str) -> Result<Incident, DepartmentError> {
        let action = match action {
            RoutingAction::Return { reason } => {
                let reason = reason.trim().to_owned();
                if reason.is_empty() {
                    return Err(DepartmentError::ReasonRequired);
                }
                RoutingAction::Return { reason }
            }
            RoutingAction::Transfer { department, reason } => RoutingAction::Transfer {
                department,
                reason: reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()),
            },
            other => other,
        };
        let name = action.name();
        let incident = self.store.route_incident(id, &RoutingStep { action, actor: actor.to_owned() }).await?;
        self.events.publish("incident.updated", &incident);
        self.events.publish(&format!("incident.{name}"), &incident);
        Ok(incident)
    }
}
