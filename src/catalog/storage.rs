//! What the catalogue stores, as a trait the backends implement: boundary generations.

use async_trait::async_trait;

use crate::layers::{Feature, GenerationError, GenerationId, GenerationInfo, Layer};
use crate::store_error::StoreError;

/// A generation to write: the layers it replaces; the other layers are taken from `base`.
#[derive(Debug)]
pub struct NewGeneration<'a> {
    /// The generation the snapshot builds on (normally the active one).
    pub base: Option<GenerationId>,
    /// What created it.
    pub description: String,
    /// The validation report, kept with the generation.
    pub report: serde_json::Value,
    /// Replaced layers with their complete feature sets.
    pub layers: Vec<(Layer, &'a [Feature])>,
}

/// What a write that runs beside an import's checks waits for before it commits: the validation report when the
/// generation may be kept, `None` when it must not be ([`BoundaryStore::create_generation_when`]).
pub type Verdict<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Option<serde_json::Value>> + Send + 'a>>;

/// Storage of boundary generations. Every method is atomic: it either completes or leaves the store unchanged.
#[async_trait]
pub trait BoundaryStore: Send + Sync + std::fmt::Debug {
    /// Which backend, for logs and `/readyz`.
    fn backend(&self) -> &'static str;
    /// Cheap round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Writes a staged generation in one transaction and returns its id.
    async fn create_generation(&self, new: NewGeneration<'_>) -> Result<GenerationId, StoreError>;
    /// Like [`BoundaryStore::create_generation`], for a generation whose checks are still running: committed with
    /// the report `verdict` resolves to, or not written at all (`Ok(None)`) when it resolves to `None`;
    /// `new.report` is ignored. A backend that takes concurrent writers writes before the verdict, in a transaction
    /// nobody sees until it commits; one with a single writer waits for the verdict first.
    async fn create_generation_when(
        &self,
        new: NewGeneration<'_>,
        verdict: Verdict<'_>,
    ) -> Result<Option<GenerationId>, StoreError>;
    /// Makes a generation the active one.
    async fn activate(&self, id: GenerationId) -> Result<(), GenerationError>;
    /// Re-activates the generation that was active before the current one; returns it.
    async fn rollback(&self) -> Result<GenerationId, GenerationError>;
    /// Deletes a staged generation that was never active and that no other generation builds on or shares layers
    /// with, in one transaction.
    async fn discard(&self, id: GenerationId) -> Result<(), GenerationError>;
    /// The active generation, if any.
    async fn active_generation(&self) -> Result<Option<GenerationId>, StoreError>;
    /// All generations, newest first.
    async fn generations(&self) -> Result<Vec<GenerationInfo>, StoreError>;
    /// The features of one layer of a generation.
    async fn layer_features(&self, id: GenerationId, layer: Layer) -> Result<Vec<Feature>, StoreError>;
    /// `(code, parent_code)` of one layer of a generation, for validation without reading geometry.
    async fn layer_codes(&self, id: GenerationId, layer: Layer) -> Result<Vec<(String, Option<String>)>, StoreError>;
}
