//! Several `gridmap serve` processes on one PostGIS: each relays the events it publishes to the others through
//! PostgreSQL `NOTIFY`, and each listens and brings its in-memory state (active generation, incident ledger, fleet
//! of responders and their positions) up to date, then hands the event to its own live clients. After a lost
//! connection a replica reloads everything from the store, since notifications sent meanwhile are gone. On SQLite
//! (one process) none of this runs.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::catalog::Catalog;
use crate::changes::ChangeChannel;
use crate::changes::{Heard, MAX_PAYLOAD_BYTES};
use crate::coord::LonLat;
use crate::events::Events;
use crate::incidents::{IncidentId, IncidentService};
use crate::responders::{PositionFix, ResponderId, ResponderService};

/// What a replica updates when others change things.
#[derive(Debug, Clone)]
pub struct Replica {
    /// This process's id in payloads (its own notifications come back and are skipped).
    pub origin: String,
    /// Boundaries.
    pub catalog: Arc<Catalog>,
    /// The incident ledger.
    pub incidents: Arc<IncidentService>,
    /// The fleet.
    pub responders: Arc<ResponderService>,
    /// The road network.
    pub roads: Arc<crate::roads::RoadService>,
    /// Local live clients.
    pub events: Events,
}

/// A new random origin id.
pub fn origin() -> String {
    use rand::RngCore;
    format!("{:016x}", rand::rng().next_u64())
}

/// Sends this process's events to the other replicas, batched into payloads below PostgreSQL's limit.
pub async fn relay(channel: Arc<dyn ChangeChannel>, origin: String, mut rx: mpsc::Receiver<Arc<str>>) {
    let mut carried: Option<Arc<str>> = None;
    loop {
        let first = match carried.take() {
            Some(e) => e,
            None => match rx.recv().await {
                Some(e) => e,
                None => return,
            },
        };
        let head = format!("{{\"origin\":\"{origin}\",\"events\":[");
        let mut payload = head.clone();
        push(&mut payload, &first, head.len());
        while let Ok(e) = rx.try_recv() {
            if payload.len() + e.len() + 3 > MAX_PAYLOAD_BYTES {
                carried = Some(e);
                break;
            }
            push(&mut payload, &e, head.len());
        }
        payload.push_str("]}");
        if let Err(e) = channel.notify(&payload).await {
            tracing::warn!(error = %e, "relaying events to the other replicas failed; they resync on reconnect");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Appends an event; one too large for a payload goes as its type and id only (receivers read the rest from the
/// store).
fn push(payload: &mut String, event: &str, head_len: usize) {
    if payload.len() > head_len {
        payload.push(',');
    }
    if event.len() + head_len + 3 <= MAX_PAYLOAD_BYTES {
        payload.push_str(event);
        return;
    }
    let v: Value = serde_json::from_str(event).unwrap_or_default();
    let slim = serde_json::json!({"type": v["type"], "at": v["at"], "data": {"id": v["data"]["id"]}, "slim": true});
    payload.push_str(&slim.to_string());
}

#[derive(Deserialize)]
struct Payload {
    origin: String,
    events: Vec<Value>,
}

/// Listens for the other replicas' changes until the process ends; reconnects and resyncs after losing the
/// connection.
pub async fn listen(channel: Arc<dyn ChangeChannel>, replica: Replica) {
    let mut first = true;
    loop {
        let mut listener = match channel.listener().await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for the other replicas' changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if !first {
            resync(&replica).await;
        }
        first = false;
        loop {
            match listener.next().await {
                Ok(Heard::Payload(payload)) => apply(&replica, &payload).await,
                Ok(Heard::Reconnected) => {
                    tracing::warn!("the change listener lost its connection; resyncing from the store");
                    resync(&replica).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the change listener failed; reconnecting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

async fn resync(r: &Replica) {
    if let Err(e) = r.catalog.reload_if_changed().await {
        tracing::warn!(error = %e, "resync: boundaries");
    }
    if let Err(e) = r.incidents.load_ledger().await {
        tracing::warn!(error = %e, "resync: incidents");
    }
    if let Err(e) = r.responders.reload().await {
        tracing::warn!(error = %e, "resync: responders");
    }
    if let Err(e) = r.roads.reload_if_changed().await {
        tracing::warn!(error = %e, "resync: road network");
    }
}

/// Applies one notification's events (skipping this process's own).
async fn apply(r: &Replica, payload: &str) {
    let Ok(p) = serde_json::from_str::<Payload>(payload) else {
        tracing::warn!(bytes = payload.len(), "an unreadable change notification was ignored");
        return;
    };
    if p.origin == r.origin {
        return;
    }
    for event in p.events {
        let data = &event["data"];
        let id = data["id"].as_i64();
        let outcome = match (event["type"].as_str().unwrap_or_default(), id) {
            ("generation.activated", _) => {
                // The local activation listener publishes the event to local clients itself.
                if let Err(e) = r.catalog.reload_if_changed().await {
                    tracing::warn!(error = %e, "loading a generation another replica activated failed");
                }
                continue;
            }
            ("roads.activated", _) => r.roads.reload_if_changed().await.map(drop).map_err(|e| e.to_string()),
            ("incident.regeocoded", _) => continue,
            ("incidents.imported", _) => r.incidents.load_ledger().await.map(drop).map_err(|e| e.to_string()),
            ("incident.created" | "incident.updated", Some(id)) => {
                r.incidents.refresh(IncidentId(id)).await.map_err(|e| e.to_string())
            }
            ("responder.created" | "responder.updated", Some(id)) => {
                r.responders.refresh(ResponderId(id)).await.map_err(|e| e.to_string())
            }
            ("responder.moved", Some(id)) => {
                moved(r, id, data);
                Ok(())
            }
            ("responders.loaded", _) => r.responders.reload().await.map(drop).map_err(|e| e.to_string()),
            _ => Ok(()),
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, event = %event["type"], "applying another replica's change failed");
        }
        r.events.deliver(Arc::from(event.to_string()));
    }
}

fn moved(r: &Replica, id: i64, data: &Value) {
    let location =
        data["location"].as_array().and_then(|l| LonLat::new(l.first()?.as_f64()?, l.get(1)?.as_f64()?).ok());
    let at = data["at"]
        .as_str()
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok());
    if let (Some(location), Some(at)) = (location, at) {
        r.responders.moved_elsewhere(PositionFix { responder: ResponderId(id), location, at });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_events_go_slim() {
        let head = "{\"origin\":\"a\",\"events\":[";
        let mut p = head.to_owned();
        let big = serde_json::json!({"type": "incident.created", "at": "t", "data": {"id": 7, "description": "x".repeat(9000)}});
        push(&mut p, &big.to_string(), head.len());
        push(&mut p, r#"{"type":"responder.moved","data":{"id":1}}"#, head.len());
        p.push_str("]}");
        assert!(p.len() < MAX_PAYLOAD_BYTES);
        let parsed: Payload = serde_json::from_str(&p).expect("payload");
        assert_eq!(parsed.events[0]["data"], serde_json::json!({"id": 7}));
        assert_eq!(parsed.events[1]["type"], "responder.moved");
    }
}
