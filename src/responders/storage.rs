//! What the responder service stores, as a trait the backends implement: the roster with each responder's latest
//! position, and the position history.

use async_trait::async_trait;

use super::{NewResponder, PositionFix, Responder, ResponderError, ResponderId, ResponderStatus};
use crate::store_error::StoreError;

/// Storage of responders and positions.
#[async_trait]
pub trait ResponderStore: Send + Sync + std::fmt::Debug {
    /// Stores a responder (and its initial position, if any).
    async fn create_responder(&self, new: &NewResponder) -> Result<Responder, StoreError>;
    /// Stores many responders in one transaction (all or none), in order.
    async fn create_responders(&self, new: &[NewResponder]) -> Result<Vec<Responder>, StoreError>;
    /// Every responder.
    async fn responders(&self) -> Result<Vec<Responder>, StoreError>;
    /// One responder.
    async fn responder(&self, id: ResponderId) -> Result<Option<Responder>, StoreError>;
    /// Changes a responder's status.
    async fn set_responder_status(&self, id: ResponderId, status: ResponderStatus)
    -> Result<Responder, ResponderError>;
    /// Appends fixes to the history and moves each responder's latest position forward (never backward), in one
    /// transaction.
    async fn record_positions(&self, fixes: &[PositionFix]) -> Result<(), StoreError>;
    /// A responder's position history in a time range, oldest first.
    async fn position_history(
        &self,
        id: ResponderId,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> Result<Vec<PositionFix>, StoreError>;
}
