//! Live events for consoles and other modules (`GET /api/v1/live`): serialised once, fanned out by a broadcast
//! channel. A subscriber that falls behind the channel's capacity is dropped, so a slow client never slows writers
//! or other clients.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use crate::catalog::ActivationListener;
use crate::index::BoundaryIndex;

/// Events buffered per subscriber before it counts as too slow.
pub const CAPACITY: usize = 4096;

/// Events queued for the other replicas before new ones are dropped (with a warning).
pub const RELAY_CAPACITY: usize = 65_536;

/// The event bus.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<Arc<str>>,
    relay: Option<mpsc::Sender<Arc<str>>>,
}

impl Default for Events {
    fn default() -> Self {
        Self { tx: broadcast::channel(CAPACITY).0, relay: None }
    }
}

impl Events {
    /// A bus that also hands every event to the returned receiver, to be relayed to the other replicas.
    pub fn relayed() -> (Self, mpsc::Receiver<Arc<str>>) {
        let (relay, rx) = mpsc::channel(RELAY_CAPACITY);
        (Self { tx: broadcast::channel(CAPACITY).0, relay: Some(relay) }, rx)
    }

    /// Publishes `{"type": kind, "at": now, "data": data}` to every subscriber (none listening is fine) and to the
    /// relay, if there is one.
    pub fn publish(&self, kind: &str, data: &impl Serialize) {
        if self.tx.receiver_count() == 0 && self.relay.is_none() {
            return;
        }
        let event = encode(kind, data);
        if let Some(relay) = &self.relay
            && relay.try_send(event.clone()).is_err()
        {
            tracing::warn!(kind, "the replica relay is full or stopped: an event was not relayed");
        }
        let _ = self.tx.send(event);
    }

    /// Open subscriptions (live clients).
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Publishes to this process's own subscribers only (never relayed to other replicas): for events every
    /// replica derives by itself, such as a deadline passing.
    pub fn publish_local(&self, kind: &str, data: &impl Serialize) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        self.deliver(encode(kind, data));
    }

    /// Hands an event that another replica published to this process's subscribers only.
    pub fn deliver(&self, event: Arc<str>) {
        let _ = self.tx.send(event);
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

/// `{"type": kind, "at": now, "data": data}` as sent to live clients.
fn encode(kind: &str, data: &impl Serialize) -> Arc<str> {
    let at = crate::times::rfc3339(time::OffsetDateTime::now_utc());
    Arc::from(serde_json::json!({"type": kind, "at": at, "data": data}).to_string())
}
