//! Telling other processes on the same database what changed: PostgreSQL `NOTIFY`/`LISTEN` on one channel. SQLite
//! is one process's file, so its channel is silent.

use async_trait::async_trait;

use crate::store_error::StoreError;

/// The channel every replica listens on.
pub const CHANNEL: &str = "gridmap_changes";

/// What an activation or rollback sends (from the store itself, so command-line activations reach servers too).
pub const ACTIVATION_PAYLOAD: &str = r#"{"origin":"store","events":[{"type":"generation.activated"}]}"#;

/// Largest payload PostgreSQL accepts is 8000 bytes; batches stay below this.
pub const MAX_PAYLOAD_BYTES: usize = 7_500;

/// Notifications between processes sharing a database.
#[async_trait]
pub trait ChangeChannel: Send + Sync + std::fmt::Debug {
    /// Whether other processes can serve the same database (PostGIS: yes; SQLite: no).
    fn shared(&self) -> bool;
    /// Sends a payload to every listener (SQLite: nothing).
    async fn notify(&self, payload: &str) -> Result<(), StoreError>;
    /// A subscription to [`CHANNEL`] (SQLite: none).
    async fn listener(&self) -> Result<Option<Box<dyn ChangeListener>>, StoreError>;
}

/// What a listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A notification's payload.
    Payload(String),
    /// The connection was lost and made again: notifications may have been missed meanwhile.
    Reconnected,
}

/// A subscription to the change channel, whatever carries it (a fake in tests).
#[async_trait]
pub trait ChangeListener: Send + std::fmt::Debug {
    /// The next thing heard; an error when listening failed (the caller subscribes again).
    async fn next(&mut self) -> Result<Heard, StoreError>;
}
