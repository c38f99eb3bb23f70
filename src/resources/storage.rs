//! What the resource service stores, as a trait the backends implement.

use async_trait::async_trait;

use super::{NewResource, Resource, ResourceError, ResourceFilter, ResourceId};
use crate::coord::LonLat;
use crate::locate::Geocode;
use crate::store_error::StoreError;

/// Storage of fixed resources.
#[async_trait]
pub trait ResourceStore: Send + Sync + std::fmt::Debug {
    /// Stores resources in one transaction; an external id already stored is `ResourceError::Duplicate`.
    async fn create_resources(&self, new: &[NewResource]) -> Result<Vec<Resource>, ResourceError>;
    /// One resource.
    async fn resource(&self, id: ResourceId) -> Result<Option<Resource>, StoreError>;
    /// A page, newest first.
    async fn list_resources(&self, filter: &ResourceFilter) -> Result<Vec<Resource>, StoreError>;
    /// Every resource's location and codes, for re-geocoding.
    async fn resource_locations(&self) -> Result<Vec<(ResourceId, LonLat, Geocode)>, StoreError>;
    /// New codes, in one transaction.
    async fn update_resource_geocodes(&self, changes: &[(ResourceId, Geocode)]) -> Result<(), StoreError>;
}
