//! Road networks for dispatch on real roads: ways read from an OpenStreetMap extract (`.osm.pbf`) or a municipal
//! GeoJSON file, kept in the store as they were read, and served as one routing graph per travel profile (`walk`,
//! `bike`, `vehicle`): a contraction hierarchy for point-to-point routes, a bounded Dijkstra for "who arrives first"
//! and "where can one get in N minutes", an R-tree over the edges for snapping. Knows nothing of HTTP or SQL.

mod graph;
mod profile;
mod read;
mod route;
mod search;
mod service;
mod snap;
mod storage;
pub mod synthetic;

pub use graph::{BuildReport, ProfileGraph, ProfileReport, RoadNetwork};
pub use profile::{ProfileName, ProfileRule, RoadPolicy};
pub use read::{ReadReport, read_bytes, read_file};
pub use route::{Route, RouteError, SnapInfo};
pub use search::{Arrival, ReachedNode, Towards};
pub use service::{CoverageRow, ImportedNetwork, NetworkReport, RoadService};
pub use snap::Snap;
pub use storage::{
    NetworkId, NetworkInfo, NewNetwork, RoadStore, decode_nodes as storage_decode_nodes,
    encode_nodes as storage_encode_nodes,
};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One way as read from the file: its tags that matter for routing, its nodes and their coordinates. Stored as is;
/// the profiles decide at graph build what each way means for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadWay {
    /// OpenStreetMap way id, or the feature's position in a GeoJSON file.
    pub id: i64,
    /// The tags kept ([`KEPT_TAGS`]): `highway`, `name`, `oneway`, `maxspeed`, access tags, …
    pub tags: BTreeMap<String, String>,
    /// Node ids, one per coordinate: OpenStreetMap's, or for GeoJSON one per distinct coordinate (so lines meeting
    /// at the same point share a node).
    pub nodes: Vec<i64>,
    /// `[lon, lat]` per node, WGS84.
    pub coords: Vec<[f64; 2]>,
}

impl RoadWay {
    /// The `highway` class (`residential`, `primary`, …).
    pub fn class(&self) -> &str {
        self.tags.get("highway").map_or("", String::as_str)
    }

    /// The way's name, if any.
    pub fn name(&self) -> Option<&str> {
        self.tags.get("name").map(String::as_str)
    }
}

/// The tags a way keeps from the file: what the profiles and the report read.
pub const KEPT_TAGS: [&str; 17] = [
    "highway",
    "name",
    "name:en",
    "ref",
    "oneway",
    "oneway:bicycle",
    "oneway:foot",
    "junction",
    "maxspeed",
    "maxspeed:forward",
    "maxspeed:backward",
    "access",
    "foot",
    "bicycle",
    "vehicle",
    "motor_vehicle",
    "motorcar",
];

/// Why a road file or a network could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RoadError {
    /// The file could not be read.
    #[error("road file {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Neither `.osm.pbf` nor GeoJSON.
    #[error("road file {file}: {reason}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong, naming the way or feature and field.
        reason: String,
    },
    /// Nothing routable in it.
    #[error("road file {file}: no routable ways ({reason})")]
    Empty {
        /// The file.
        file: String,
        /// Why the ways were dropped.
        reason: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] crate::store_error::StoreError),
    /// A background task failed.
    #[error("road network task failed: {0}")]
    Task(String),
}
