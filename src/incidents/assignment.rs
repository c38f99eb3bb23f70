//! Who is sent where: a dispatcher's assignment of a responder to an incident, how it treats those already on it,
//! what it changed, and the record kept of it (stored by [`super::AssignmentStore`] in one transaction with
//! both sides' status).

use serde::Serialize;
use time::OffsetDateTime;

use super::{Incident, IncidentId};
use crate::responders::{Responder, ResponderId};

/// A dispatcher's decision to send a responder to an incident.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The incident.
    pub incident: IncidentId,
    /// Who goes.
    pub responder: ResponderId,
    /// Who decided.
    pub actor: String,
    /// The candidates as shown when deciding (kept for audit).
    pub ranking: serde_json::Value,
    /// What to do when the incident already has responders.
    pub mode: AssignMode,
}

/// How an assignment treats responders already on the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignMode {
    /// Only an incident nobody is on (`reported`); otherwise `AlreadyAssigned`.
    First,
    /// Release whoever is on it and send this responder instead (reassign).
    Replace,
    /// Send this responder as well (another unit).
    Additional,
}

impl AssignMode {
    /// Its name in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignMode::First => "first",
            AssignMode::Replace => "replace",
            AssignMode::Additional => "additional",
        }
    }
}

/// What an assignment change did: the incident after it, and the responders whose status it changed.
#[derive(Debug, Clone)]
pub struct AssignmentChange {
    /// The incident as stored after the change.
    pub incident: Incident,
    /// The responder sent (now `busy`).
    pub assigned: Option<Responder>,
    /// Responders released (now `available`, or still `busy` elsewhere).
    pub released: Vec<Responder>,
}

/// One assignment as recorded (the audit trail of who sent whom).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssignmentRecord {
    /// Responder.
    pub responder_id: ResponderId,
    /// Who assigned.
    pub actor: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub assigned_at: OffsetDateTime,
    /// The ranking the dispatcher saw.
    #[schema(value_type = Object)]
    pub ranking: serde_json::Value,
    /// When released (null: still on it).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub released_at: Option<OffsetDateTime>,
    /// Who released.
    pub released_by: Option<String>,
    /// Why (`unassigned`, `replaced`, `resolved`, `closed`, `cancelled`, with the note).
    pub release_reason: Option<String>,
}
