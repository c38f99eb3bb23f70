//! What the road service stores, as a trait the backends implement: networks as imported (their ways, tags and
//! nodes), one of them active.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::RoadWay;
use crate::store_error::StoreError;

/// A stored road network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct NetworkId(pub i64);

impl std::fmt::Display for NetworkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A stored network's record.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NetworkInfo {
    /// Id.
    pub id: NetworkId,
    /// The file it came from.
    pub source: String,
    /// Who imported it.
    pub actor: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Ways stored.
    pub ways: i64,
    /// The one served.
    pub active: bool,
    /// The import's report (read and build figures).
    pub report: serde_json::Value,
}

/// A network to store and activate.
#[derive(Debug)]
pub struct NewNetwork<'a> {
    /// The file it came from.
    pub source: String,
    /// Who imports it.
    pub actor: String,
    /// The import's report.
    pub report: serde_json::Value,
    /// Its ways.
    pub ways: &'a [RoadWay],
}

/// Storage of road networks.
#[async_trait]
pub trait RoadStore: Send + Sync + std::fmt::Debug {
    /// Writes a network and makes it the active one, in one transaction.
    async fn create_network(&self, new: NewNetwork<'_>) -> Result<NetworkInfo, StoreError>;
    /// The active network's record.
    async fn active_network(&self) -> Result<Option<NetworkInfo>, StoreError>;
    /// Every network's record, newest first.
    async fn networks(&self) -> Result<Vec<NetworkInfo>, StoreError>;
    /// A network's ways, in the order they were written.
    async fn network_ways(&self, id: NetworkId) -> Result<Vec<RoadWay>, StoreError>;
}

/// A way's nodes as stored: per node its id (i64) and lon, lat (f64), little-endian.
pub fn encode_nodes(w: &RoadWay) -> Vec<u8> {
    let mut out = Vec::with_capacity(w.nodes.len() * 24);
    for (id, c) in w.nodes.iter().zip(&w.coords) {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&c[0].to_le_bytes());
        out.extend_from_slice(&c[1].to_le_bytes());
    }
    out
}

/// The inverse of [`encode_nodes`]; `None` when the bytes are not whole nodes.
pub fn decode_nodes(bytes: &[u8]) -> Option<(Vec<i64>, Vec<[f64; 2]>)> {
    if !bytes.len().is_multiple_of(24) {
        return None;
    }
    let mut nodes = Vec::with_capacity(bytes.len() / 24);
    let mut coords = Vec::with_capacity(bytes.len() / 24);
    for chunk in bytes.chunks_exact(24) {
        let word = |k: usize| <[u8; 8]>::try_from(&chunk[k..k + 8]).ok();
        nodes.push(i64::from_le_bytes(word(0)?));
        coords.push([f64::from_le_bytes(word(8)?), f64::from_le_bytes(word(16)?)]);
    }
    Some((nodes, coords))
}
