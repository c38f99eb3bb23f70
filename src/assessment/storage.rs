//! What assessment reads from the store (implemented by both backends in `store::assessment`).

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::incidents::IncidentStatus;
use crate::store_error::StoreError;

/// One incident as assessment reads it: where, who, when, how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessedIncident {
    /// Street code.
    pub street: Option<String>,
    /// Community code.
    pub community: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Department code (or, for imported history, the department name the file gave).
    pub department: Option<String>,
    /// A responder assigned to it (one row per assigned responder when read by responder, else `None`).
    pub responder: Option<i64>,
    /// Lifecycle state.
    pub status: IncidentStatus,
    /// Report time.
    pub reported_at: OffsetDateTime,
    /// When it was last resolved.
    pub resolved_at: Option<OffsetDateTime>,
    /// When it was closed.
    pub closed_at: Option<OffsetDateTime>,
    /// Its deadline.
    pub due_at: Option<OffsetDateTime>,
    /// Times a department returned it.
    pub returned: i32,
    /// The reporter's rating, 1–5.
    pub satisfaction: Option<i32>,
}

impl AssessedIncident {
    /// What the tally reads of it.
    pub fn outcome(&self) -> super::Outcome {
        let ns = |t: OffsetDateTime| i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX);
        let handled = matches!(self.status, IncidentStatus::Resolved | IncidentStatus::Closed)
            .then(|| self.resolved_at.or(self.closed_at))
            .flatten();
        super::Outcome {
            status: self.status,
            reported_ns: ns(self.reported_at),
            handled_ns: handled.map(ns),
            due_ns: self.due_at.map(ns),
            returned: u64::try_from(self.returned).unwrap_or(0),
            rating: self.satisfaction.and_then(|r| u8::try_from(r).ok()),
        }
    }
}

/// The incidents of a period, as the store has them (the responder level; the others read the ledger).
#[async_trait]
pub trait AssessmentStore: Send + Sync + std::fmt::Debug {
    /// Incidents reported in `[from, to)` (of `category`, when given); with `by_responder`, one row per incident and
    /// responder ever assigned to it (incidents never assigned left out).
    async fn assessed_incidents(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        category: Option<&str>,
        by_responder: bool,
    ) -> Result<Vec<AssessedIncident>, StoreError>;

    /// Returns (退回) of incidents reported in `[from, to)` (of `category`, when given) per department that made
    /// them, from the incidents' history.
    async fn returns_by_department(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        category: Option<&str>,
    ) -> Result<Vec<(String, i64)>, StoreError>;
}
