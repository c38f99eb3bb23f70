//! Fixed resources (物资与设施): hydrants, AEDs, cameras, workstations, shelters and the like, with a category, free
//! attributes and a location geocoded on write (and again when the boundaries change).

mod storage;
pub use storage::ResourceStore;

use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use crate::catalog::ActivationListener;
use crate::coord::LonLat;
use crate::crs::Position;
use crate::events::Events;
use crate::incidents::ServiceArea;
use crate::index::BoundaryIndex;
use crate::locate::{Geocode, Locator, geocode, regeocoded};
use crate::store_error::StoreError;

/// Categories accepted by default.
pub const DEFAULT_RESOURCE_CATEGORIES: &[(&str, &str)] = &[
    ("hydrant", "消火栓"),
    ("aed", "AED"),
    ("camera", "视频监控"),
    ("workstation", "网格工作站"),
    ("shelter", "应急避难场所"),
    ("bike_dock", "公共自行车站"),
    ("other", "其他"),
];

/// Identifier of a stored resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = i64)]
pub struct ResourceId(pub i64);

impl From<i64> for ResourceId {
    fn from(id: i64) -> Self {
        Self(id)
    }
}

/// A resource to store.
#[derive(Debug, Clone)]
pub struct NewResource {
    /// The source's own id (unique when given).
    pub external_id: Option<String>,
    /// Category code.
    pub category: String,
    /// Display name.
    pub name: String,
    /// Other attributes as they came.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Location.
    pub location: LonLat,
    /// Codes at the location.
    pub geocode: Geocode,
}

/// A stored resource.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Resource {
    /// Id.
    pub id: ResourceId,
    /// The source's own id.
    pub external_id: Option<String>,
    /// Category.
    pub category: String,
    /// Name.
    pub name: String,
    /// Attributes.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// `[lon, lat]` (in the answer's `crs`).
    pub location: Position,
    /// Codes.
    #[serde(flatten)]
    pub geocode: Geocode,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
    /// Category.
    pub category: Option<String>,
    /// Street code.
    pub street: Option<String>,
    /// Community code.
    pub community: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Only ids below this.
    pub before_id: Option<ResourceId>,
    /// Page size.
    pub limit: u32,
}

/// A resource as sent, before checks.
#[derive(Debug, Clone)]
pub struct ResourceInput {
    /// Where it came from in the request (`resource`, `feature 12`), for messages.
    pub label: String,
    /// The source's own id.
    pub external_id: Option<String>,
    /// Category.
    pub category: String,
    /// Name.
    pub name: String,
    /// Attributes.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Location (WGS84).
    pub location: LonLat,
}

/// Why a resource request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// A field is wrong.
    #[error("{label}: field {field}: {problem}")]
    Field {
        /// Which resource.
        label: String,
        /// Field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// An external id occurs twice or is stored already.
    #[error("{0}")]
    Duplicate(String),
    /// No such resource.
    #[error("resource {0} does not exist")]
    NotFound(i64),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ResourceError {
    fn from(e: StoreError) -> Self {
        ResourceError::Store(e)
    }
}

/// Resource operations.
#[derive(Debug)]
pub struct ResourceService {
    store: Arc<dyn ResourceStore>,
    locator: Arc<Locator>,
    categories: Vec<String>,
    area: ServiceArea,
    events: Events,
}

impl ResourceService {
    /// A service with the default categories.
    pub fn new(store: Arc<dyn ResourceStore>, locator: Arc<Locator>, area: ServiceArea, events: Events) -> Self {
        let categories = DEFAULT_RESOURCE_CATEGORIES.iter().map(|(c, _)| (*c).to_owned()).collect();
        Self { store, locator, categories, area, events }
    }

    /// Checks, geocodes and stores resources, all or none.
    pub async fn create(&self, inputs: Vec<ResourceInput>) -> Result<Vec<Resource>, ResourceError> {
        let index = self.locator.current();
        let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for r in &inputs {
            let err = |field, problem: String| ResourceError::Field { label: r.label.clone(), field, problem };
            if !self.categories.contains(&r.category) {
                return Err(err(
                    "category",
                    format!("unknown {:?}; accepted: {}", r.category, self.categories.join(", ")),
                ));
            }
            if r.name.trim().is_empty() {
                return Err(err("name", "must not be empty".into()));
            }
            self.area.check(&index, r.location).map_err(|area| {
                err(
                    "location",
                    format!("[{}, {}] is outside the service area ({area})", r.location.lon(), r.location.lat()),
                )
            })?;
            if let Some(id) = &r.external_id
                && let Some(first) = seen.insert(id, &r.label)
            {
                return Err(ResourceError::Duplicate(format!("{} and {first} have the same id {id:?}", r.label)));
            }
        }
        let new: Vec<NewResource> = inputs
            .into_iter()
            .map(|r| NewResource {
                geocode: geocode(&index, self.locator.resolution(), r.location),
                external_id: r.external_id,
                category: r.category,
                name: r.name,
                attributes: r.attributes,
                location: r.location,
            })
            .collect();
        let stored = self.store.create_resources(&new).await?;
        self.events.publish("resources.created", &serde_json::json!({"count": stored.len()}));
        Ok(stored)
    }

    /// One resource.
    pub async fn get(&self, id: i64) -> Result<Resource, ResourceError> {
        self.store.resource(ResourceId(id)).await?.ok_or(ResourceError::NotFound(id))
    }

    /// A page, newest first.
    pub async fn list(&self, filter: &ResourceFilter) -> Result<Vec<Resource>, ResourceError> {
        Ok(self.store.list_resources(filter).await?)
    }

    /// The accepted categories with their Chinese names.
    pub fn categories(&self) -> Vec<(String, String)> {
        self.categories
            .iter()
            .map(|c| {
                let name =
                    DEFAULT_RESOURCE_CATEGORIES.iter().find(|(code, _)| code == c).map_or(c.as_str(), |(_, n)| n);
                (c.clone(), name.to_owned())
            })
            .collect()
    }

    /// Re-geocodes every resource against `index`; returns how many changed.
    pub async fn regeocode(&self, index: &BoundaryIndex) -> Result<usize, ResourceError> {
        let all = self.store.resource_locations().await?;
        let changes = regeocoded(index, self.locator.resolution(), all);
        self.store.update_resource_geocodes(&changes).await?;
        Ok(changes.len())
    }
}

#[async_trait::async_trait]
impl ActivationListener for ResourceService {
    async fn generation_changed(&self, index: Arc<BoundaryIndex>) {
        match self.regeocode(&index).await {
            Ok(n) => tracing::info!(changed = n, "fixed resources re-geocoded"),
            Err(e) => tracing::error!(error = %e, "re-geocoding fixed resources failed"),
        }
    }
}
