//! A tile cache bounded in bytes. Keys carry the version of the data a tile was cut from (a layer's source
//! generation, the incident log's change counter), so a tile of old data is never found again once the data
//! changed: invalidation is exact per layer and needs no sweep; old entries age out under the byte bound.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::mercator::TileId;
use super::{Rendered, TileLayer};

/// What a cached tile was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Layer.
    pub layer: TileLayer,
    /// Version of the layer's data.
    pub version: u64,
    /// Hash of what the layer was asked to show ([`super::IncidentTileFilter::key`]; 0 for layers without a
    /// filter).
    pub filter: u64,
    /// Address.
    pub tile: TileId,
}

#[derive(Debug, Clone)]
struct Bytes;

impl Weighter<CacheKey, Arc<Rendered>> for Bytes {
    fn weight(&self, _key: &CacheKey, tile: &Arc<Rendered>) -> u64 {
        // Empty tiles are cached too; they still cost their entry.
        (tile.weight() + 64) as u64
    }
}

/// The cache.
#[derive(Debug)]
pub struct TileCache {
    tiles: Cache<CacheKey, Arc<Rendered>, Bytes>,
}

impl TileCache {
    /// A cache holding up to `max_bytes` of tiles.
    pub fn new(max_bytes: u64) -> Self {
        let estimated = (max_bytes / 8192).clamp(16, 1 << 20) as usize;
        Self { tiles: Cache::with_weighter(estimated, max_bytes.max(1), Bytes) }
    }

    /// A cached tile.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<Rendered>> {
        self.tiles.get(key)
    }

    /// Stores a tile.
    pub fn insert(&self, key: CacheKey, tile: Arc<Rendered>) {
        self.tiles.insert(key, tile);
    }

    /// Bytes of tiles held now (the bound is `max_bytes`).
    pub fn bytes(&self) -> u64 {
        self.tiles.weight()
    }
}
