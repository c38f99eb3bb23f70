//! Where API keys are kept (hashes only), as a trait the backends implement.

use async_trait::async_trait;

use super::{NewKey, StoredKey};
use crate::store_error::StoreError;

/// Storage of API keys.
#[async_trait]
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Stores a key.
    async fn create_key(&self, key: &NewKey) -> Result<StoredKey, StoreError>;
    /// Every key, revoked ones included, oldest first.
    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// The key with this hash, revoked or not.
    async fn key_by_hash(&self, hash: &str) -> Result<Option<StoredKey>, StoreError>;
    /// Revokes a key; `None` when there is none with that id, the stored key when it already was.
    async fn revoke_key(&self, id: i64) -> Result<Option<StoredKey>, StoreError>;
}
