//! Where an incident stands with its department, and which steps may follow: `routed → accepted`; `routed` or
//! `accepted` → `returned` (back to the router, with a reason) or → `routed` to another department (transfer); a
//! returned (or never routed) incident may be routed again. Only open incidents move.

use serde::{Deserialize, Serialize};

use super::DepartmentError;
use crate::incidents::IncidentId;

/// How far the department has taken an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentState {
    /// Sent to the department, not yet accepted.
    Routed,
    /// The department took it on.
    Accepted,
    /// The department sent it back to the router (see the history for why).
    Returned,
}

impl DepartmentState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DepartmentState::Routed => "routed",
            DepartmentState::Accepted => "accepted",
            DepartmentState::Returned => "returned",
        }
    }

    /// The state stored under `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [DepartmentState::Routed, DepartmentState::Accepted, DepartmentState::Returned]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// A step of the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingAction {
    /// Send it to a department (分拨).
    Route {
        /// Department code.
        department: String,
    },
    /// The department takes it on (受理).
    Accept,
    /// The department sends it back to the router (退回).
    Return {
        /// Why (required).
        reason: String,
    },
    /// Hand it to another department (转办).
    Transfer {
        /// Department code.
        department: String,
        /// Why.
        reason: Option<String>,
    },
}

impl RoutingAction {
    /// The name in history (`routed`, `accepted`, `returned`, `transferred`) and on the live feed
    /// (`incident.routed`, …).
    pub fn name(&self) -> &'static str {
        match self {
            RoutingAction::Route { .. } => "routed",
            RoutingAction::Accept => "accepted",
            RoutingAction::Return { .. } => "returned",
            RoutingAction::Transfer { .. } => "transferred",
        }
    }

    /// The department the step sends the incident to, if any.
    pub fn target(&self) -> Option<&str> {
        match self {
            RoutingAction::Route { department } | RoutingAction::Transfer { department, .. } => Some(department),
            RoutingAction::Accept | RoutingAction::Return { .. } => None,
        }
    }

    /// The note kept in history.
    pub fn note(&self) -> Option<&str> {
        match self {
            RoutingAction::Return { reason } => Some(reason),
            RoutingAction::Transfer { reason, .. } => reason.as_deref(),
            RoutingAction::Route { .. } | RoutingAction::Accept => None,
        }
    }

    /// Where a step from `(state, department)` leads: the new state and department, or why it may not be taken.
    pub fn apply(
        &self,
        incident: IncidentId,
        state: Option<DepartmentState>,
        department: Option<&str>,
    ) -> Result<(DepartmentState, Option<String>), DepartmentError> {
        use DepartmentState::*;
        let refused = || DepartmentError::InvalidStep {
            incident,
            step: self.name(),
            state: state.map_or("unrouted", DepartmentState::as_str),
        };
        match (self, state) {
            (RoutingAction::Route { department }, None | Some(Returned)) => Ok((Routed, Some(department.clone()))),
            (RoutingAction::Accept, Some(Routed)) => Ok((Accepted, department.map(str::to_owned))),
            (RoutingAction::Return { .. }, Some(Routed | Accepted)) => Ok((Returned, None)),
            (RoutingAction::Transfer { department: to, .. }, Some(Routed | Accepted)) => {
                if department == Some(to.as_str()) {
                    return Err(DepartmentError::SameDepartment { incident, department: to.clone() });
                }
                Ok((Routed, Some(to.clone())))
            }
            _ => Err(refused()),
        }
    }
}

/// A step to write: what, by whom.
#[derive(Debug, Clone)]
pub struct RoutingStep {
    /// The step.
    pub action: RoutingAction,
    /// Who takes it.
    pub actor: String,
}

#[cfg(test)]
mod tests {
    use super::DepartmentState::*;
    use super::*;

    #[test]
    fn the_flow() {
        let id = IncidentId(1);
        let route = RoutingAction::Route { department: "cg".into() };
        assert_eq!(route.apply(id, None, None).expect("step"), (Routed, Some("cg".into())));
        assert_eq!(
            RoutingAction::Accept.apply(id, Some(Routed), Some("cg")).expect("step"),
            (Accepted, Some("cg".into()))
        );
        let back = RoutingAction::Return { reason: "不属本部门".into() };
        assert_eq!(back.apply(id, Some(Accepted), Some("cg")).expect("step"), (Returned, None));
        assert_eq!(
            route.apply(id, Some(Returned), None).expect("step").0,
            Routed,
            "a returned incident is routed again"
        );
        let to = |d: &str| RoutingAction::Transfer { department: d.into(), reason: None };
        assert_eq!(to("sw").apply(id, Some(Routed), Some("cg")).expect("step"), (Routed, Some("sw".into())));
        assert!(matches!(to("cg").apply(id, Some(Routed), Some("cg")), Err(DepartmentError::SameDepartment { .. })));
        for refused in [
            route.apply(id, Some(Routed), Some("cg")),
            RoutingAction::Accept.apply(id, None, None),
            RoutingAction::Accept.apply(id, Some(Accepted), Some("cg")),
            back.apply(id, Some(Returned), None),
            to("sw").apply(id, None, None),
        ] {
            assert!(matches!(refused, Err(DepartmentError::InvalidStep { .. })), "{refused:?}");
        }
    }
}
