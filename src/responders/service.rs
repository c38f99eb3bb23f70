//! Responder operations: roster changes and position reports, kept in step between the store and the live fleet.

use std::sync::Arc;

use time::OffsetDateTime;

use super::ResponderStore;
use super::{
    Fleet, LiveResponder, NewResponder, PositionFix, PositionWriter, Responder, ResponderId, ResponderStatus,
    WriterTask,
};
use crate::coord::LonLat;
use crate::events::Events;
use crate::locate::{Locator, grid_and_community};
use crate::store_error::StoreError;

/// Why a responder request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResponderError {
    /// A required text field is empty.
    #[error("field {0} must not be empty")]
    Empty(&'static str),
    /// A roster entry without name or kind.
    #[error("responder {0} of the roster has an empty name or kind")]
    EmptyInBatch(usize),
    /// No such responder.
    #[error("responder {0} does not exist")]
    NotFound(ResponderId),
    /// A kind the dispatch policy does not know (it would travel at a guessed speed and show no icon).
    #[error("{}kind {kind:?} is not a responder kind of the dispatch policy ({}); add it under travel.kinds of the policy file", at(*.index), .known.join(", "))]
    UnknownKind {
        /// Position in a roster.
        index: Option<usize>,
        /// The kind given.
        kind: String,
        /// The kinds the policy knows.
        known: Vec<String>,
    },
    /// A home grid that is not a grid of the served generation.
    #[error("{}home_grid {grid:?} is not a grid of the served generation", at(*.index))]
    UnknownGrid {
        /// Position in a roster.
        index: Option<usize>,
        /// The code given.
        grid: String,
    },
    /// A batch names a responder that does not exist.
    #[error("position {index}: responder {id} does not exist; nothing in this batch was stored")]
    UnknownInBatch {
        /// Position in the batch.
        index: usize,
        /// The unknown id.
        id: ResponderId,
    },
    /// The responder is on an incident: only `busy` fits until they are released there.
    #[error(
        "responder {responder} is on incident {incident}: release them there first (POST /api/v1/incidents/{incident}/unassign) or resolve the incident"
    )]
    OnIncident {
        /// Responder.
        responder: ResponderId,
        /// The incident.
        incident: crate::incidents::IncidentId,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

fn at(index: Option<usize>) -> String {
    index.map(|i| format!("responder {i} of the roster: ")).unwrap_or_default()
}

/// Checks a new responder (`index`: its position in a roster) against the kinds the dispatch policy knows and the
/// grids of the served generation.
pub fn check_new(
    new: &NewResponder,
    index: Option<usize>,
    kinds: &[String],
    grids: &crate::index::LayerIndex,
) -> Result<(), ResponderError> {
    if new.name.trim().is_empty() || new.kind.trim().is_empty() {
        return Err(match index {
            Some(i) => ResponderError::EmptyInBatch(i),
            None => ResponderError::Empty(if new.name.trim().is_empty() { "name" } else { "kind" }),
        });
    }
    if !kinds.contains(&new.kind) {
        return Err(ResponderError::UnknownKind { index, kind: new.kind.clone(), known: kinds.to_vec() });
    }
    match &new.home_grid {
        Some(grid) if grids.find(grid).is_none() => Err(ResponderError::UnknownGrid { index, grid: grid.clone() }),
        _ => Ok(()),
    }
}

impl From<StoreError> for ResponderError {
    fn from(e: StoreError) -> Self {
        ResponderError::Store(e)
    }
}

/// Responders over a store, the live fleet and the position writer.
#[derive(Debug)]
pub struct ResponderService {
    store: Arc<dyn ResponderStore>,
    fleet: Arc<Fleet>,
    writer: PositionWriter,
    locator: Arc<Locator>,
    events: Events,
    /// The responder kinds of the dispatch policy.
    kinds: Vec<String>,
}

/// One `responder.moved` event per responder in a committed batch, with where it is now.
fn publish_moves(events: &Events, fleet: &Fleet, fixes: &[PositionFix]) {
    let snapshot = fleet.snapshot();
    let mut ids: Vec<ResponderId> = fixes.iter().map(|f| f.responder).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        if let Some(r) = snapshot.get(id) {
            events.publish(
                "responder.moved",
                &serde_json::json!({"id": id, "location": r.responder.location, "at": r.responder.position_at.map(crate::times::rfc3339), "grid_code": r.grid_code}),
            );
        }
    }
}

impl ResponderService {
    /// Loads the roster into the fleet and starts the position writer, whose task is returned to
    /// [`finish`](WriterTask::finish) on shutdown.
    pub async fn start(
        store: Arc<dyn ResponderStore>,
        locator: Arc<Locator>,
        events: Events,
        kinds: Vec<String>,
    ) -> Result<(Self, WriterTask), ResponderError> {
        let roster = store.responders().await?;
        let index = locator.current();
        let fleet = Arc::new(Fleet::new(
            roster
                .into_iter()
                .map(|responder| {
                    let (grid_code, community_code) = responder
                        .location
                        .and_then(|p| LonLat::new(p[0], p[1]).ok())
                        .map_or((None, None), |p| grid_and_community(&index, p));
                    LiveResponder { responder, grid_code, community_code }
                })
                .collect(),
        ));
        let (fleet_w, locator_w, events_w) = (fleet.clone(), locator.clone(), events.clone());
        let (writer, task) = PositionWriter::spawn(store.clone(), move |fixes| {
            // One index snapshot per committed batch.
            let index = locator_w.current();
            fleet_w.apply_positions(fixes, |p| grid_and_community(&index, p));
            publish_moves(&events_w, &fleet_w, fixes);
        });
        Ok((Self { store, fleet, writer, locator, events, kinds }, task))
    }

    /// The live fleet.
    pub fn fleet(&self) -> &Arc<Fleet> {
        &self.fleet
    }

    /// Adds a responder.
    pub async fn create(&self, new: NewResponder) -> Result<Responder, ResponderError> {
        check_new(&new, None, &self.kinds, self.locator.current().layer(crate::layers::Layer::Grids))?;
        let responder = self.store.create_responder(&new).await?;
        let (grid_code, community_code) =
            new.position.map_or((None, None), |(p, _)| grid_and_community(&self.locator.current(), p));
        self.fleet.add(vec![LiveResponder { responder: responder.clone(), grid_code, community_code }]);
        self.events.publish("responder.created", &responder);
        Ok(responder)
    }

    /// Adds a whole roster (a drill file) in one transaction: all or none.
    pub async fn load(&self, new: Vec<NewResponder>) -> Result<Vec<Responder>, ResponderError> {
        let index = self.locator.current();
        for (i, n) in new.iter().enumerate() {
            check_new(n, Some(i), &self.kinds, index.layer(crate::layers::Layer::Grids))?;
        }
        let stored = self.store.create_responders(&new).await?;
        self.fleet.add(
            stored
                .iter()
                .zip(&new)
                .map(|(responder, n)| {
                    let (grid_code, community_code) =
                        n.position.map_or((None, None), |(p, _)| grid_and_community(&index, p));
                    LiveResponder { responder: responder.clone(), grid_code, community_code }
                })
                .collect(),
        );
        self.events.publish("responders.loaded", &serde_json::json!({"count": stored.len()}));
        Ok(stored)
    }

    /// Changes availability.
    pub async fn set_status(&self, id: ResponderId, status: ResponderStatus) -> Result<Responder, ResponderError> {
        let updated = self.store.set_responder_status(id, status).await?;
        self.fleet.set_status(&updated);
        self.events.publish("responder.updated", &updated);
        Ok(updated)
    }

    /// Takes in a status change another service committed (e.g. an assignment made the responder busy).
    pub fn adopt(&self, stored: &Responder) {
        self.fleet.set_status(stored);
        self.events.publish("responder.updated", stored);
    }

    /// Takes in a responder another replica created or changed.
    pub async fn refresh(&self, id: ResponderId) -> Result<(), ResponderError> {
        let Some(stored) = self.store.responder(id).await? else { return Ok(()) };
        if self.fleet.snapshot().get(id).is_some() {
            self.fleet.set_status(&stored);
            return Ok(());
        }
        let (grid_code, community_code) = stored
            .location
            .and_then(|p| LonLat::new(p[0], p[1]).ok())
            .map_or((None, None), |p| grid_and_community(&self.locator.current(), p));
        self.fleet.update(|m| {
            m.insert(id, Arc::new(LiveResponder { responder: stored, grid_code, community_code }));
        });
        Ok(())
    }

    /// Takes in a position another replica committed.
    pub fn moved_elsewhere(&self, fix: PositionFix) {
        let index = self.locator.current();
        self.fleet.apply_positions(&[fix], |p| grid_and_community(&index, p));
    }

    /// Reloads the whole roster from the store (after a replica lost its notifications for a while).
    pub async fn reload(&self) -> Result<usize, ResponderError> {
        let roster = self.store.responders().await?;
        let index = self.locator.current();
        let n = roster.len();
        self.fleet.update(|m| {
            m.clear();
            for responder in roster {
                let (grid_code, community_code) = responder
                    .location
                    .and_then(|p| LonLat::new(p[0], p[1]).ok())
                    .map_or((None, None), |p| grid_and_community(&index, p));
                m.insert(responder.id, Arc::new(LiveResponder { responder, grid_code, community_code }));
            }
        });
        Ok(n)
    }

    /// Stores position reports (all or nothing) and returns once they are committed.
    pub async fn report_positions(&self, fixes: Vec<PositionFix>) -> Result<usize, ResponderError> {
        let snapshot = self.fleet.snapshot();
        if let Some((index, f)) = fixes.iter().enumerate().find(|(_, f)| snapshot.get(f.responder).is_none()) {
            return Err(ResponderError::UnknownInBatch { index, id: f.responder });
        }
        let n = fixes.len();
        self.writer.write(fixes).await?;
        Ok(n)
    }

    /// Stored position history of one responder.
    pub async fn history(
        &self,
        id: ResponderId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<PositionFix>, ResponderError> {
        if self.fleet.snapshot().get(id).is_none() {
            return Err(ResponderError::NotFound(id));
        }
        Ok(self.store.position_history(id, from, to).await?)
    }
}
