//! Where the audit log is kept, as a trait the backends implement: append and list, nothing else.

use async_trait::async_trait;
use serde_json::Value;

use super::{AuditEntry, AuditFilter};
use crate::store_error::StoreError;

/// Storage of the audit log.
#[async_trait]
pub trait AuditStore: Send + Sync + std::fmt::Debug {
    /// Appends an entry.
    async fn append_audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        details: &Value,
    ) -> Result<(), StoreError>;
    /// A page of entries, newest first.
    async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
}
