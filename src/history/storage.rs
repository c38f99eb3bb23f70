//! What history import stores (implemented by both backends in `store::history`).

use std::collections::HashSet;

use async_trait::async_trait;

use super::HistoryRow;
use crate::incidents::StoredSummary;
use crate::store_error::StoreError;

/// Storage of imported incidents.
#[async_trait]
pub trait HistoryStore: Send + Sync + std::fmt::Debug {
    /// Which of these external ids are stored already.
    async fn existing_external_ids(&self, ids: &[String]) -> Result<HashSet<String>, StoreError>;
    /// Stores the rows whose external id is not stored yet, each with one `imported` history entry by `actor`, in
    /// one transaction; returns what was added, for the ledger.
    async fn import_history(&self, rows: &[HistoryRow], actor: &str) -> Result<Vec<StoredSummary>, StoreError>;
}
