//! The boundary catalogue: imports into staged generations, activation and rollback, keeping the in-memory index
//! in step with the store. The one place that writes boundaries; CLI and HTTP both go through it.

mod storage;
pub use storage::{BoundaryStore, NewGeneration, Verdict};

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::import::{self, HierarchyContext, ImportError, Parsed, ReadOptions, Report};
use crate::index::{BoundaryIndex, LayerFeatures};
use crate::layers::GenerationError;
use crate::layers::{Feature, GenerationId, Layer};
use crate::locate::Locator;
use crate::sample;
use crate::store_error::StoreError;

/// What can go wrong in a catalogue operation.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A generation could not be switched to, rolled back or discarded.
    #[error(transparent)]
    Generation(#[from] GenerationError),
    /// A file could not be read.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The same layer was given twice in one import.
    #[error("layer {0} is given more than once in one import")]
    LayerTwice(Layer),
    /// A blocking task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

/// One file to import into a layer.
#[derive(Debug)]
pub struct ImportFile {
    /// File name (its extension selects the reader).
    pub name: String,
    /// File content.
    pub bytes: Vec<u8>,
    /// Layer and field mapping.
    pub options: ReadOptions,
}

/// Import switches.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportMode {
    /// Validate only; write nothing.
    pub dry_run: bool,
    /// Make the new generation active when valid.
    pub activate: bool,
    /// Build on this generation instead of the active one.
    pub base: Option<GenerationId>,
    /// On a dry run: return the features read in each report's `preview`.
    pub preview: bool,
}

/// Told when the served generation changes (after the index swap), e.g. to re-geocode open items.
#[async_trait::async_trait]
pub trait ActivationListener: Send + Sync + std::fmt::Debug {
    /// The index now served.
    async fn generation_changed(&self, index: Arc<BoundaryIndex>);
}

/// Boundary catalogue over a store, optionally keeping a live index current (the server does; the CLI does not).
#[derive(Debug)]
pub struct Catalog {
    store: Arc<dyn BoundaryStore>,
    locator: Option<Arc<Locator>>,
    /// Serialises activations, rollbacks and reloads within this process.
    switch: Mutex<()>,
    listeners: std::sync::RwLock<Vec<Arc<dyn ActivationListener>>>,
}

impl Catalog {
    /// A catalogue over `store`; with a locator, activations also rebuild and swap its index.
    pub fn new(store: Arc<dyn BoundaryStore>, locator: Option<Arc<Locator>>) -> Self {
        Self { store, locator, switch: Mutex::new(()), listeners: std::sync::RwLock::new(Vec::new()) }
    }

    /// Registers a listener for generation changes.
    pub fn add_listener(&self, listener: Arc<dyn ActivationListener>) {
        if let Ok(mut l) = self.listeners.write() {
            l.push(listener);
        }
    }

    /// Swaps the served index and tells the listeners.
    async fn swap(&self, locator: &Locator, index: BoundaryIndex) {
        locator.swap(index);
        let current = locator.current();
        let listeners: Vec<_> = self.listeners.read().map(|l| l.clone()).unwrap_or_default();
        for l in listeners {
            l.generation_changed(current.clone()).await;
        }
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn BoundaryStore> {
        &self.store
    }

    /// Reads, validates and (unless rejected or a dry run) writes one generation replacing the given layers.
    /// Returns one report per file; nothing is written when any of them has errors. The phases: which generation
    /// it builds on; the files parsed while what they are checked against is read from the store; each layer's
    /// context (parent and children from this import or the base); the checks and the write side by side (the write
    /// is kept only on the checks' verdict); activation.
    pub async fn import(&self, files: Vec<ImportFile>, mode: ImportMode) -> Result<Vec<Report>, CatalogError> {
        let base = self.import_base(mode.base).await?;
        let mut layers_seen = HashSet::new();
        for f in &files {
            if !layers_seen.insert(f.options.layer) {
                return Err(CatalogError::LayerTwice(f.options.layer));
            }
        }
        let clock = std::time::Instant::now();
        let trackers: Vec<import::Tracker> = files.iter().map(|f| f.options.progress.clone()).collect();
        let (parsed, stored) = self.read_files(files, base, &trackers).await?;
        let read_ms = clock.elapsed().as_millis() as u64;
        let checks = check_contexts(&parsed, stored);
        // Parents from the parent layer (`--parent-from`) before anything is checked or written.
        let (parsed, checks) = blocking(move || {
            let mut parsed = parsed;
            for (p, c) in parsed.iter_mut().zip(&checks) {
                import::assign_parents(p, &c.context);
            }
            (parsed, checks)
        })
        .await?;
        let description = format!(
            "import {}",
            parsed.iter().map(|p| format!("{} from {}", p.report.layer, p.report.file)).collect::<Vec<_>>().join(", ")
        );
        // The write starts beside the checks (unless this is a dry run) and is kept only when they pass: the checks
        // send their verdict, the store commits or rolls back (see `BoundaryStore::create_generation_when`). The
        // checks keep the parsed features; the write gets its own copy of them.
        let staged: Vec<(Layer, Vec<Feature>)> = match mode.dry_run {
            true => Vec::new(),
            false => parsed.iter().map(|p| (p.report.layer, p.features.clone())).collect(),
        };
        let (send_verdict, verdict) = tokio::sync::oneshot::channel();
        let check = async {
            let checked = blocking({
                let trackers = trackers.clone();
                move || check_files(parsed, &checks, &trackers)
            })
            .await;
            let keep = match &checked {
                Ok(parsed) if parsed.iter().all(|p| p.report.valid) => Some(
                    serde_json::to_value(parsed.iter().map(|p| &p.report).collect::<Vec<_>>())
                        .unwrap_or(serde_json::Value::Null),
                ),
                _ => None,
            };
            if keep.is_some() && !mode.dry_run {
                trackers.iter().for_each(|t| t.phase("writing", 0));
            }
            // Nobody listens on a dry run.
            let _ = send_verdict.send(keep);
            checked.map(|p| (p, clock.elapsed().as_millis() as u64))
        };
        let write = async {
            if mode.dry_run {
                return Ok(None);
            }
            let new = NewGeneration {
                base,
                description,
                report: serde_json::Value::Null,
                layers: staged.iter().map(|(layer, features)| (*layer, features.as_slice())).collect(),
            };
            let verdict = Box::pin(async move { verdict.await.ok().flatten() });
            self.store.create_generation_when(new, verdict).await
        };
        let (checked, written) = tokio::join!(check, write);
        let (mut parsed, checked_ms) = checked?;
        tracing::info!(read_ms, validate_ms = checked_ms - read_ms, "import read and checked");
        for p in &mut parsed {
            p.report.dry_run = mode.dry_run;
            if mode.dry_run && mode.preview {
                p.report.preview = Some(import::preview(&p.features));
            }
        }
        // A rejected import answers with its reports, whatever became of the write: it may have failed on what the
        // checks reject (two features with one code break the key), and it was rolled back either way.
        if mode.dry_run || !parsed.iter().all(|p| p.report.valid) {
            return Ok(parsed.into_iter().map(|p| p.report).collect());
        }
        let Some(generation) = written? else {
            return Err(CatalogError::Task("the write was not kept although the checks passed".into()));
        };
        let written_ms = clock.elapsed().as_millis() as u64;
        if mode.activate {
            self.activate(generation).await?;
        }
        tracing::info!(
            write_ms = written_ms - checked_ms,
            activate_ms = clock.elapsed().as_millis() as u64 - written_ms,
            "import stored"
        );
        Ok(parsed
            .into_iter()
            .map(|mut p| {
                p.report.generation = Some(generation);
                p.report.activated = mode.activate;
                p.report
            })
            .collect())
    }

    /// The generation an import builds on: the one asked for (which must exist), else the active one.
    async fn import_base(&self, asked: Option<GenerationId>) -> Result<Option<GenerationId>, CatalogError> {
        match asked {
            Some(b) if !self.store.generations().await?.iter().any(|g| g.id == b) => {
                Err(GenerationError::NotFound(b).into())
            }
            Some(b) => Ok(Some(b)),
            None => Ok(self.store.active_generation().await?),
        }
    }

    /// The files parsed on the blocking pool while what they are checked against is read from the store.
    async fn read_files(
        &self,
        files: Vec<ImportFile>,
        base: Option<GenerationId>,
        trackers: &[import::Tracker],
    ) -> Result<(Vec<Parsed>, Vec<Stored>), CatalogError> {
        trackers.iter().for_each(|t| t.phase("reading", 0));
        let layers: Vec<Layer> = files.iter().map(|f| f.options.layer).collect();
        let parse = blocking(move || {
            files.into_iter().map(|f| import::read(&f.name, &f.bytes, &f.options)).collect::<Result<Vec<_>, _>>()
        });
        let (parsed, stored) = tokio::join!(parse, self.stored_context(base, &layers));
        Ok((parsed??, stored?))
    }

    /// For each layer of an import, what it is checked against from the base generation: the layer it replaces,
    /// and its parent's features and its child's codes where the import does not bring those layers itself. The
    /// reads run side by side (each on its own pooled connection).
    async fn stored_context(&self, base: Option<GenerationId>, layers: &[Layer]) -> Result<Vec<Stored>, StoreError> {
        let reads = layers.iter().map(|&layer| async move {
            let parent = async {
                match layer.parent() {
                    Some(parent) if !layers.contains(&parent) => self.features(base, parent).await.map(Some),
                    _ => Ok(None),
                }
            };
            let children = async {
                match layer.child() {
                    Some(child) if !layers.contains(&child) => self.codes(base, child).await,
                    _ => Ok(Vec::new()),
                }
            };
            let (previous, parent, children) =
                futures_util::future::try_join3(self.features(base, layer), parent, children).await?;
            Ok::<_, StoreError>(Stored { previous, parent, children })
        });
        futures_util::future::try_join_all(reads).await
    }

    async fn features(&self, base: Option<GenerationId>, layer: Layer) -> Result<Vec<Feature>, StoreError> {
        match base {
            Some(g) => self.store.layer_features(g, layer).await,
            None => Ok(Vec::new()),
        }
    }

    async fn codes(
        &self,
        base: Option<GenerationId>,
        layer: Layer,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        match base {
            Some(g) => self.store.layer_codes(g, layer).await,
            None => Ok(Vec::new()),
        }
    }

    /// Makes a generation current: builds its index first, then commits the switch, then swaps the index in.
    pub async fn activate(&self, generation: GenerationId) -> Result<(), CatalogError> {
        let _switching = self.switch.lock().await;
        let served = self.locator.as_ref().map(|l| l.current().generation());
        if self.store.active_generation().await? == Some(generation) && served.is_none_or(|g| g == Some(generation)) {
            return Ok(());
        }
        let index = match &self.locator {
            Some(_) => Some(self.build_index(generation).await?),
            None => None,
        };
        self.store.activate(generation).await?;
        if let (Some(locator), Some(index)) = (&self.locator, index) {
            self.swap(locator, index).await;
            tracing::info!(%generation, "generation activated");
        }
        Ok(())
    }

    /// Deletes a staged generation that was never active (see [`BoundaryStore::discard`]).
    pub async fn discard(&self, generation: GenerationId) -> Result<(), CatalogError> {
        let _switching = self.switch.lock().await;
        self.store.discard(generation).await?;
        tracing::info!(%generation, "generation discarded");
        Ok(())
    }

    /// Returns to the previously active generation.
    pub async fn rollback(&self) -> Result<GenerationId, CatalogError> {
        let _switching = self.switch.lock().await;
        let generation = self.store.rollback().await?;
        if let Some(locator) = &self.locator {
            self.swap(locator, self.build_index(generation).await?).await;
            tracing::info!(%generation, "rolled back");
        }
        Ok(generation)
    }

    /// Loads the store's active generation into the index if it is not the one served (another process or replica
    /// may have switched it). Returns true when the index changed.
    pub async fn reload_if_changed(&self) -> Result<bool, CatalogError> {
        let Some(locator) = &self.locator else { return Ok(false) };
        let _switching = self.switch.lock().await;
        let active = self.store.active_generation().await?;
        if active == locator.current().generation() {
            return Ok(false);
        }
        let index = match active {
            Some(g) => self.build_index(g).await?,
            None => BoundaryIndex::empty(),
        };
        self.swap(locator, index).await;
        tracing::info!(generation = ?active, "index reloaded from the store");
        Ok(true)
    }

    /// On a store with no generation at all, imports and activates the bundled Qinhuai sample.
    pub async fn ensure_sample(&self) -> Result<bool, CatalogError> {
        if !self.store.generations().await?.is_empty() {
            return Ok(false);
        }
        let reports = self.import(sample::files(), ImportMode { activate: true, ..ImportMode::default() }).await?;
        if let Some(bad) = reports.iter().find(|r| !r.valid) {
            return Err(CatalogError::Task(format!("bundled sample is invalid: {}", bad.to_text())));
        }
        tracing::info!("loaded the bundled Qinhuai sample boundaries");
        Ok(true)
    }

    async fn build_index(&self, generation: GenerationId) -> Result<BoundaryIndex, CatalogError> {
        let (s, c, g) = tokio::try_join!(
            self.store.layer_features(generation, Layer::Streets),
            self.store.layer_features(generation, Layer::Communities),
            self.store.layer_features(generation, Layer::Grids),
        )?;
        let features: LayerFeatures = [s, c, g];
        let info = self.store.generations().await?.into_iter().find(|i| i.id == generation);
        let mut sources = [Some(generation); 3];
        for count in info.iter().flat_map(|i| &i.layers) {
            sources[count.layer.index()] = Some(count.source);
        }
        blocking(move || BoundaryIndex::build(Some(generation), features).with_sources(sources)).await
    }
}

/// What one file is checked against: its hierarchy context and the layer it replaces.
struct Checks {
    context: HierarchyContext,
    previous: Vec<Feature>,
}

/// Each layer's context: its parent from this import when present, else from the base (its polygons for
/// containment, read once, and its codes for the code checks); its children's codes from the base.
fn check_contexts(parsed: &[Parsed], stored: Vec<Stored>) -> Vec<Checks> {
    parsed
        .iter()
        .zip(stored)
        .map(|(p, stored)| {
            let layer = p.report.layer;
            let parent_shapes: Vec<(String, geo::MultiPolygon<f64>)> = match (layer.parent(), stored.parent) {
                (None, _) => Vec::new(),
                (Some(_), Some(from_store)) => from_store.into_iter().map(|f| (f.code, f.geometry)).collect(),
                (Some(parent), None) => parsed
                    .iter()
                    .filter(|q| q.report.layer == parent)
                    .flat_map(|q| q.features.iter().map(|f| (f.code.clone(), f.geometry.clone())))
                    .collect(),
            };
            let parent_codes = layer.parent().map(|_| parent_shapes.iter().map(|(c, _)| c.clone()).collect());
            Checks {
                context: HierarchyContext { parent_codes, children: stored.children, parent_shapes },
                previous: stored.previous,
            }
        })
        .collect()
}

/// The checks of every file (on the blocking pool): validation, then the comparison with the layer it replaces
/// (field suggestions, diff, vendor shift).
fn check_files(mut parsed: Vec<Parsed>, checks: &[Checks], trackers: &[import::Tracker]) -> Vec<Parsed> {
    for ((p, c), progress) in parsed.iter_mut().zip(checks).zip(trackers) {
        import::validate(p, &c.context, progress);
        progress.phase("comparing with the current generation", 0);
        p.report.describe_fields(c.context.parent_codes.as_ref());
        import::compare_suggested_parents(p, &c.context);
        p.report.diff = Some(import::Diff::between(&c.previous, &p.features));
        let shift = import::detect_vendor_shift(&c.previous, &p.features)
            .or_else(|| import::detect_against_parent(&c.context.parent_shapes, &p.features));
        if let Some(shift) = shift {
            p.report.warn(import::Problem::file(import::Kind::VendorShift, shift.message()));
        }
    }
    parsed
}

/// What one layer of an import is checked against, read from the base generation ([`Catalog::stored_context`]).
struct Stored {
    previous: Vec<Feature>,
    /// The parent layer's features; `None` when the import brings the parent layer itself (or it has none).
    parent: Option<Vec<Feature>>,
    children: Vec<(String, Option<String>)>,
}

/// Runs CPU-heavy work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, CatalogError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| CatalogError::Task(e.to_string()))
}
