//! What the hazard service stores, as a trait the backends implement: hazards and their history.

use async_trait::async_trait;

use super::{Hazard, HazardError, HazardEvent, HazardFilter, HazardId, HazardStatus, NewHazard};
use crate::coord::LonLat;
use crate::locate::Geocode;
use crate::store_error::StoreError;

/// Storage of hazards.
#[async_trait]
pub trait HazardStore: Send + Sync + std::fmt::Debug {
    /// Stores a hazard (status `open`) with its first history event.
    async fn create_hazard(&self, new: &NewHazard) -> Result<Hazard, StoreError>;
    /// One hazard with its history.
    async fn hazard(&self, id: HazardId) -> Result<Option<(Hazard, Vec<HazardEvent>)>, StoreError>;
    /// A page, newest first.
    async fn list_hazards(&self, filter: &HazardFilter) -> Result<Vec<Hazard>, StoreError>;
    /// Hazards matching `filter` counted per stored H3 cell (`limit` and `before_id` are ignored).
    async fn hazard_cell_counts(&self, filter: &HazardFilter) -> Result<Vec<(String, i64)>, StoreError>;
    /// Moves a hazard if its lifecycle allows it from the stored state (checked and written atomically).
    async fn transition_hazard(
        &self,
        id: HazardId,
        to: HazardStatus,
        actor: &str,
        note: Option<&str>,
    ) -> Result<Hazard, HazardError>;
    /// Inside points and codes of hazards not closed, for re-geocoding.
    async fn open_hazards(&self) -> Result<Vec<(HazardId, LonLat, Geocode)>, StoreError>;
    /// New codes, in one transaction.
    async fn update_hazard_geocodes(&self, changes: &[(HazardId, Geocode)]) -> Result<(), StoreError>;
}
