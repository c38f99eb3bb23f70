//! What assessment reads from the store (implemented by both backends in `store::assessment`); everything else it
//! reads from the in-memory incident ledger.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::store_error::StoreError;

/// The assignments and returns of a period.
#[async_trait]
pub trait AssessmentStore: Send + Sync + std::fmt::Debug {
    /// `(incident id, responder id)` for every responder ever assigned to an incident reported in `[from, to)` (of
    /// `category`, when given), each pair once.
    async fn assigned_in(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        category: Option<&str>,
    ) -> Result<Vec<(i64, i64)>, StoreError>;

    /// Returns (退回) of incidents reported in `[from, to)` (of `category`, when given) per department that made
    /// them, from the incidents' history.
    async fn returns_by_department(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        category: Option<&str>,
    ) -> Result<Vec<(String, i64)>, StoreError>;
}
