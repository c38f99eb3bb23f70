//! Live events for consoles and other modules (`GET /api/v1/live`): serialised once, fanned out by a broadcast
//! channel. A subscriber that falls behind the channel's capacity is dropped, so a slow client never slows writers
//! or other clients.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::catalog::ActivationListener;
use crate::index::BoundaryIndex;

/// Events buffered per subscriber before it counts as too slow.
pub const CAPACITY: usize = 4096;

/// The event bus.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<Arc<str>>,
}

impl Default for Events {
    fn default() -> Self {
        Self { tx: broadcast::channel(CAPACITY).0 }
    }
}

impl Events {
    /// Publishes `{"type": kind, "at": now, "data": data}` to every subscriber (none listening is fine).
    pub fn publish(&self, kind: &str, data: &impl Serialize) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let at = crate::store::rfc3339(time::OffsetDateTime::now_utc());
        let event = serde_json::json!({"type": kind, "at": at, "data": data});
        let _ = self.tx.send(Arc::from(event.to_string()));
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.tx.subscribe()
    }
}

#[async_trait::async_trait]
impl ActivationListener for Events {
    async fn generation_changed(&self, index: Arc<BoundaryIndex>) {
        self.publish("generation.activated", &serde_json::json!({"generation": index.generation()}));
    }
}
