//! The incident lifecycle: `reported → dispatched → on_scene → resolved → closed`, and `cancelled`.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Lifecycle state of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Reported, nobody assigned.
    Reported,
    /// A responder is on the way.
    Dispatched,
    /// A responder is there.
    OnScene,
    /// Handled; awaiting review.
    Resolved,
    /// Reviewed and closed (销账).
    Closed,
    /// Withdrawn or a duplicate.
    Cancelled,
}

/// A status name that is not one of the lifecycle states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}: expected reported, dispatched, on_scene, resolved, closed or cancelled")]
pub struct UnknownStatus(pub String);

impl IncidentStatus {
    /// All states.
    pub const ALL: [IncidentStatus; 6] = [
        IncidentStatus::Reported,
        IncidentStatus::Dispatched,
        IncidentStatus::OnScene,
        IncidentStatus::Resolved,
        IncidentStatus::Closed,
        IncidentStatus::Cancelled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Reported => "reported",
            IncidentStatus::Dispatched => "dispatched",
            IncidentStatus::OnScene => "on_scene",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Closed => "closed",
            IncidentStatus::Cancelled => "cancelled",
        }
    }

    /// True while the incident still needs work (its codes follow boundary changes).
    pub fn is_open(self) -> bool {
        !matches!(self, IncidentStatus::Closed | IncidentStatus::Cancelled)
    }

    /// True until the incident is resolved (reported, dispatched, on scene): what a deadline holds it to.
    pub fn is_pending(self) -> bool {
        matches!(self, IncidentStatus::Reported | IncidentStatus::Dispatched | IncidentStatus::OnScene)
    }

    /// The states this one may move to. A grid worker may resolve what they find without dispatch; a resolved
    /// incident may be reopened (back on scene) when review rejects it.
    pub fn next(self) -> &'static [IncidentStatus] {
        use IncidentStatus::*;
        match self {
            Reported => &[Dispatched, Resolved, Cancelled],
            Dispatched => &[OnScene, Resolved, Reported, Cancelled],
            OnScene => &[Resolved, Cancelled],
            Resolved => &[Closed, OnScene],
            Closed | Cancelled => &[],
        }
    }

    /// True when `self → to` is allowed.
    pub fn can_move_to(self, to: IncidentStatus) -> bool {
        self.next().contains(&to)
    }
}

impl FromStr for IncidentStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IncidentStatus::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::IncidentStatus::*;
    use super::*;

    #[test]
    fn lifecycle() {
        assert!(Reported.can_move_to(Dispatched));
        assert!(Dispatched.can_move_to(OnScene));
        assert!(OnScene.can_move_to(Resolved));
        assert!(Resolved.can_move_to(Closed));
        assert!(!Reported.can_move_to(Closed), "closing needs a resolution first");
        assert!(!Closed.can_move_to(Reported));
        assert!(Closed.next().is_empty() && Cancelled.next().is_empty());
        for s in IncidentStatus::ALL {
            assert_eq!(s.as_str().parse::<IncidentStatus>(), Ok(s));
            assert!(!s.can_move_to(s), "{s:?} to itself");
        }
        assert!("open".parse::<IncidentStatus>().is_err());
    }
}
