//! In-memory spatial index of the active generation: one R-tree (plus a cell cache) per layer.
//!
//! Edge rule (the same whatever the store): a point belongs to a feature when the feature *covers* it (interior or
//! boundary, PostGIS `ST_Covers`). When several features of a layer cover it (a shared edge, or a hairline overlap),
//! the one with the lowest `code` (byte-wise string order) wins. Each layer is answered on its own, so a point in a
//! gap between grids still gets its community and street.

mod cells;
mod layer;

use std::sync::Arc;

pub use layer::{AreaEntry, LayerIndex};

use crate::layers::{Feature, GenerationId, Layer};

/// The three layer indexes of one generation, immutable once built; swapped whole on activation.
#[derive(Debug)]
pub struct BoundaryIndex {
    generation: Option<GenerationId>,
    sources: [Option<GenerationId>; 3],
    layers: [LayerIndex; 3],
}

/// The features of one generation, per layer, ready to index.
pub type LayerFeatures = [Vec<Feature>; 3];

impl BoundaryIndex {
    /// An index with no features (before anything is loaded).
    pub fn empty() -> Self {
        Self::build(None, [Vec::new(), Vec::new(), Vec::new()])
    }

    /// Bulk-loads the three layers of a generation.
    pub fn build(generation: Option<GenerationId>, features: LayerFeatures) -> Self {
        let [s, c, g] = features;
        Self {
            generation,
            sources: [generation; 3],
            layers: [
                LayerIndex::build(Layer::Streets, s),
                LayerIndex::build(Layer::Communities, c),
                LayerIndex::build(Layer::Grids, g),
            ],
        }
    }

    /// The generation these indexes were built from.
    pub fn generation(&self) -> Option<GenerationId> {
        self.generation
    }

    /// Records which generation wrote each layer's features (a generation shares unchanged layers with its base),
    /// so a layer's tiles stay valid across activations that did not touch it.
    pub fn with_sources(mut self, sources: [Option<GenerationId>; 3]) -> Self {
        self.sources = sources;
        self
    }

    /// The generation that wrote this layer's features (the index's own generation when not recorded).
    pub fn source(&self, layer: Layer) -> Option<GenerationId> {
        self.sources[layer.index()]
    }

    /// The index of one layer.
    pub fn layer(&self, layer: Layer) -> &LayerIndex {
        &self.layers[layer.index()]
    }
}

/// Shared handle to an index, as held by readers.
pub type SharedIndex = Arc<BoundaryIndex>;
