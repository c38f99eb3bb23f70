//! What the patrol service stores, as a trait the backends implement: tracks and the cells they covered.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{NewPatrol, Patrol, PatrolError};
use crate::store_error::StoreError;

/// Storage of patrols.
#[async_trait]
pub trait PatrolStore: Send + Sync + std::fmt::Debug {
    /// Stores a patrol with its cells in one transaction (the responder must exist).
    async fn create_patrol(&self, new: &NewPatrol) -> Result<Patrol, PatrolError>;
    /// The cells among `cells` that some patrol reached in `[from, to)`.
    async fn visited_among(
        &self,
        cells: &[String],
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<String>, StoreError>;
    /// Patrol cell visits (one per patrol and cell) counted per cell, first reached in `[from, to)`, optionally only
    /// among `cells`.
    async fn patrol_cell_counts(
        &self,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
        cells: Option<&[String]>,
    ) -> Result<Vec<(String, i64)>, StoreError>;
}
