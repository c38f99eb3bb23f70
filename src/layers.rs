//! Boundary layers, their features and generations: the domain vocabulary of gridmap.

use std::fmt;
use std::str::FromStr;

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

/// One of the three nested administrative layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// 街道: the top level below the district.
    Streets,
    /// 社区: each names its street as parent.
    Communities,
    /// 网格: each names its community as parent.
    Grids,
}

impl Layer {
    /// All layers, parents before children.
    pub const ALL: [Layer; 3] = [Layer::Streets, Layer::Communities, Layer::Grids];

    /// The name used in URLs, the CLI and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Streets => "streets",
            Layer::Communities => "communities",
            Layer::Grids => "grids",
        }
    }

    /// One feature of the layer, in words: `street`, `community`, `grid`.
    pub fn singular(self) -> &'static str {
        match self {
            Layer::Streets => "street",
            Layer::Communities => "community",
            Layer::Grids => "grid",
        }
    }

    /// The layer whose codes this layer's `parent_code` refers to (streets refer to the district, outside gridmap).
    pub fn parent(self) -> Option<Layer> {
        match self {
            Layer::Streets => None,
            Layer::Communities => Some(Layer::Streets),
            Layer::Grids => Some(Layer::Communities),
        }
    }

    /// The layer whose features name this one's codes as parent.
    pub fn child(self) -> Option<Layer> {
        match self {
            Layer::Streets => Some(Layer::Communities),
            Layer::Communities => Some(Layer::Grids),
            Layer::Grids => None,
        }
    }

    /// Position in [`Layer::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A layer name that is not one of `streets`, `communities`, `grids`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layer {0:?}: expected streets, communities or grids")]
pub struct UnknownLayer(pub String);

impl FromStr for Layer {
    type Err = UnknownLayer;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "streets" | "street" => Ok(Layer::Streets),
            "communities" | "community" => Ok(Layer::Communities),
            "grids" | "grid" => Ok(Layer::Grids),
            other => Err(UnknownLayer(other.to_owned())),
        }
    }
}

/// Identifier of a generation: a snapshot of all three layers, created by an import and made current by activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = i64)]
pub struct GenerationId(pub i64);

impl fmt::Display for GenerationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One boundary polygon of a layer, in WGS84.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Unique within its layer and generation.
    pub code: String,
    /// Display name, e.g. 夫子庙街道.
    pub name: String,
    /// Code of the containing feature in the parent layer (for streets: the district's code, unchecked).
    pub parent_code: Option<String>,
    /// Always stored as a MultiPolygon.
    pub geometry: MultiPolygon<f64>,
    /// The source file's other attributes, kept as they came.
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// Why a generation could not be switched to, rolled back or discarded.
#[derive(Debug, thiserror::Error)]
pub enum GenerationError {
    /// No generation with that id.
    #[error("generation {0} does not exist")]
    NotFound(GenerationId),
    /// Rollback with no earlier active generation.
    #[error("nothing to roll back to: no generation was active before the current one")]
    NothingToRollBack,
    /// A generation that cannot be discarded.
    #[error("generation {id} cannot be discarded: {reason}")]
    InUse {
        /// The generation.
        id: GenerationId,
        /// Why (it was active, another generation builds on it).
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store_error::StoreError),
}

/// What a generation is, as listed by `gridmap generations` and `GET /generations`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GenerationInfo {
    /// Its id.
    pub id: GenerationId,
    /// `active`, `staged` (never activated) or `retired` (was active before).
    pub status: GenerationStatus,
    /// The generation it was built on (its other layers come from there).
    pub base: Option<GenerationId>,
    /// What created it, e.g. `import grids from grids.geojson`.
    pub description: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, the last time it became active.
    pub activated_at: Option<String>,
    /// Feature count per layer in this snapshot.
    pub layers: Vec<LayerCount>,
}

/// Feature count of one layer in a generation, and the generation that holds those features.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LayerCount {
    /// The layer.
    pub layer: Layer,
    /// The generation whose import wrote these features.
    pub source: GenerationId,
    /// How many features.
    pub features: i64,
}

/// Lifecycle state of a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GenerationStatus {
    /// Currently served.
    Active,
    /// Imported, never activated.
    Staged,
    /// Was active, replaced since.
    Retired,
}
