//! Mapbox Vector Tiles cut from memory: the boundary layers from the served generation's index, incidents and
//! heatmap hexagons from the incident store, responders from the live fleet. Tiles are cached by the version of the
//! data they were cut from, so no tile outlives its data.

mod archive;
mod basemap;
mod boundary;
mod cache;
mod clip;
pub mod export;
mod hexagons;
pub mod mercator;
mod mvt;
mod points;
mod shapes;
mod simplify;

pub use archive::{Archive, ArchiveError, ArchiveTile, Archives};
pub use basemap::{Basemap, BasemapCrs, BasemapError};

use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use geo::{Coord, Rect};

pub use boundary::{BOUNDARY_MAX_ZOOM, BUFFER_PX, BoundaryTiles, names_at};
pub use cache::{CacheKey, TileCache};
pub use mercator::{EXTENT, MAX_ZOOM, TileId, TileIdError};
pub use mvt::Attr;

use crate::hazards::{HazardFilter, HazardService, HazardStatus};
use crate::heatmap::{self, HeatmapError, HeatmapQuery};
use crate::incidents::{IncidentError, IncidentFilter, IncidentService, IncidentStatus};
use crate::layers::Layer;
use crate::locate::Locator;
use crate::resources::{ResourceFilter, ResourceService};
use crate::responders::ResponderService;

/// A tile layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileLayer {
    /// A boundary layer.
    Boundary(Layer),
    /// Open incidents.
    Incidents,
    /// Hazards not closed (open or being put right), at their point or an interior point of their area.
    Hazards,
    /// Responders at their latest positions.
    Responders,
    /// Fixed resources (hydrants, AEDs, cameras, …).
    Resources,
    /// H3 hexagons with incident counts.
    Heatmap,
}

impl TileLayer {
    /// Every layer, in drawing order.
    pub const ALL: [TileLayer; 8] = [
        TileLayer::Boundary(Layer::Streets),
        TileLayer::Boundary(Layer::Communities),
        TileLayer::Boundary(Layer::Grids),
        TileLayer::Heatmap,
        TileLayer::Resources,
        TileLayer::Hazards,
        TileLayer::Incidents,
        TileLayer::Responders,
    ];

    /// URL and MVT layer name.
    pub fn as_str(self) -> &'static str {
        match self {
            TileLayer::Boundary(l) => l.as_str(),
            TileLayer::Incidents => "incidents",
            TileLayer::Hazards => "hazards",
            TileLayer::Responders => "responders",
            TileLayer::Resources => "resources",
            TileLayer::Heatmap => "heatmap",
        }
    }

    /// Whether the layer shows people or events (a key is needed when access control is on), not boundaries.
    pub fn is_item_layer(self) -> bool {
        !matches!(self, TileLayer::Boundary(_))
    }

    /// Deepest zoom this layer is cut at.
    pub fn max_zoom(self) -> u8 {
        match self {
            TileLayer::Boundary(_) => BOUNDARY_MAX_ZOOM,
            _ => MAX_ZOOM,
        }
    }

    /// Attribute names and types, for TileJSON's `vector_layers`.
    pub fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            TileLayer::Boundary(_) => {
                &[("code", "String"), ("name", "String"), ("name_en", "String"), ("parent_code", "String")]
            }
            TileLayer::Incidents => &[
                ("id", "Number"),
                ("category", "String"),
                ("status", "String"),
                ("priority", "Number"),
                ("grid_code", "String"),
                ("cluster", "Number"),
                ("count", "Number"),
            ],
            TileLayer::Hazards => &[
                ("id", "Number"),
                ("category", "String"),
                ("status", "String"),
                ("severity", "Number"),
                ("department", "String"),
                ("overdue", "Number"),
                ("grid_code", "String"),
                ("cluster", "Number"),
                ("count", "Number"),
            ],
            TileLayer::Resources => &[
                ("id", "Number"),
                ("category", "String"),
                ("name", "String"),
                ("grid_code", "String"),
                ("cluster", "Number"),
                ("count", "Number"),
            ],
            TileLayer::Responders => &[
                ("id", "Number"),
                ("name", "String"),
                ("kind", "String"),
                ("status", "String"),
                ("team", "String"),
                ("cluster", "Number"),
                ("count", "Number"),
            ],
            TileLayer::Heatmap => &[("cell", "String"), ("resolution", "Number"), ("count", "Number")],
        }
    }
}

/// A layer name not served as tiles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown tile layer {0:?}: expected streets, communities, grids, incidents, hazards, responders, resources or heatmap"
)]
pub struct UnknownTileLayer(pub String);

impl FromStr for TileLayer {
    type Err = UnknownTileLayer;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "incidents" => Ok(TileLayer::Incidents),
            "hazards" => Ok(TileLayer::Hazards),
            "responders" => Ok(TileLayer::Responders),
            "resources" => Ok(TileLayer::Resources),
            "heatmap" => Ok(TileLayer::Heatmap),
            other => other.parse().map(TileLayer::Boundary).map_err(|_| UnknownTileLayer(other.to_owned())),
        }
    }
}

/// Why a tile could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// Deeper than the layer is cut.
    #[error("layer {layer} is cut down to zoom {max}; zoom {z} is overzoomed by the client")]
    TooDeep {
        /// Layer name.
        layer: &'static str,
        /// Requested zoom.
        z: u8,
        /// Deepest zoom.
        max: u8,
    },
    /// Reading incidents failed.
    #[error("reading incidents for the tile: {0}")]
    Incidents(#[from] IncidentError),
    /// Reading hazards failed.
    #[error("reading hazards for the tile: {0}")]
    Hazards(#[from] crate::hazards::HazardError),
    /// Reading fixed resources failed.
    #[error("reading fixed resources for the tile: {0}")]
    Resources(#[from] crate::resources::ResourceError),
    /// Aggregating the heatmap failed.
    #[error("building the heatmap tile: {0}")]
    Heatmap(#[from] HeatmapError),
    /// The encoding task died.
    #[error("tile task failed: {0}")]
    Task(String),
}

/// An encoded tile: raw MVT, its gzip form (made on first demand), and an entity tag. Empty `mvt` means no feature
/// falls in the tile. Bytes are reference-counted, so serving a cached tile copies nothing.
#[derive(Debug)]
pub struct Rendered {
    /// Protobuf bytes.
    pub mvt: Bytes,
    gzip: std::sync::OnceLock<Bytes>,
    /// Quoted strong ETag, derived from the bytes (shared: a response header takes it without copying).
    pub etag: Bytes,
}

impl Rendered {
    fn new(mvt: Vec<u8>) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        mvt.hash(&mut hasher);
        let etag = Bytes::from(format!("\"{:016x}-{}\"", hasher.finish(), mvt.len()));
        Self { mvt: Bytes::from(mvt), gzip: std::sync::OnceLock::new(), etag }
    }

    /// The gzip-compressed tile, compressed once on first request.
    pub fn gzip(&self) -> Bytes {
        self.gzip.get_or_init(|| Bytes::from(gzip(&self.mvt))).clone()
    }

    /// Bytes held (for the cache's weight): the gzip form is counted at its expected size.
    pub fn weight(&self) -> usize {
        self.mvt.len() + self.mvt.len() / 2 + self.etag.len()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Cuts and caches tiles.
#[derive(Debug)]
pub struct TileService {
    locator: Arc<Locator>,
    incidents: Arc<IncidentService>,
    hazards: Arc<HazardService>,
    responders: Arc<ResponderService>,
    resources: Arc<ResourceService>,
    cache: TileCache,
    boundary: ArcSwapOption<BoundaryTiles>,
    /// The generation whose shapes [`TileService::warm`] finished last.
    warmed: std::sync::Mutex<Option<Arc<crate::index::BoundaryIndex>>>,
    /// Tiles served from the cache.
    pub hits: prometheus_client::metrics::counter::Counter,
    /// Tiles cut on request.
    pub misses: prometheus_client::metrics::counter::Counter,
    /// The raster base map the style puts under the layers, when one is configured.
    basemap: Option<Basemap>,
    archives: Arc<Archives>,
}

/// A boundary layer's version: the generation that wrote its features (0 before any).
fn source_version(index: &crate::index::BoundaryIndex, layer: Layer) -> u64 {
    index.source(layer).map_or(0, |g| g.0 as u64)
}

/// Zooms whose boundary shapes are prepared ahead of requests.
const WARM_ZOOMS: std::ops::RangeInclusive<u8> = 10..=16;

/// What the incident layer shows (the console's queue filters, so that clusters count what the list shows): any of
/// these states (open ones when empty), one category, any of these grids (any grid when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IncidentTileFilter {
    /// States.
    pub status: Vec<IncidentStatus>,
    /// Category code.
    pub category: Option<String>,
    /// Grid codes.
    pub grids: Vec<String>,
}

impl IncidentTileFilter {
    /// The filter's part of a cache key: equal filters (states and grids in any order) give equal keys.
    pub fn key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        // The map's usual request: nothing to sort or hash.
        if self.status.is_empty() && self.category.is_none() && self.grids.is_empty() {
            return 0;
        }
        let mut status: Vec<_> = self.status.iter().map(|s| s.as_str()).collect();
        status.sort_unstable();
        status.dedup();
        let mut grids: Vec<_> = self.grids.iter().collect();
        grids.sort_unstable();
        grids.dedup();
        let mut h = std::hash::DefaultHasher::new();
        (status, &self.category, grids).hash(&mut h);
        h.finish()
    }
}

/// Most incidents read for one tile; beyond that a tile shows the newest.
const MAX_TILE_INCIDENTS: u32 = 50_000;

impl TileService {
    /// A tile service with a cache of `cache_bytes`.
    pub fn new(
        locator: Arc<Locator>,
        incidents: Arc<IncidentService>,
        hazards: Arc<HazardService>,
        responders: Arc<ResponderService>,
        resources: Arc<ResourceService>,
        cache_bytes: u64,
    ) -> Self {
        Self {
            locator,
            incidents,
            hazards,
            responders,
            resources,
            cache: TileCache::new(cache_bytes),
            boundary: ArcSwapOption::empty(),
            warmed: std::sync::Mutex::new(None),
            hits: Default::default(),
            misses: Default::default(),
            basemap: None,
            archives: Arc::default(),
        }
    }

    /// With PMTiles base maps served and in the style.
    pub fn with_archives(mut self, archives: Arc<Archives>) -> Self {
        self.archives = archives;
        self
    }

    /// The PMTiles base maps.
    pub fn archives(&self) -> &Archives {
        &self.archives
    }

    /// With a raster base map in the style.
    pub fn with_basemap(mut self, basemap: Option<Basemap>) -> Self {
        self.basemap = basemap;
        self
    }

    /// Bytes of encoded tiles in the cache now.
    pub fn cache_bytes(&self) -> u64 {
        self.cache.bytes()
    }

    /// The configured base map.
    pub fn basemap(&self) -> Option<&Basemap> {
        self.basemap.as_ref()
    }

    /// Version of a layer's data now: tiles cut from another version are never served. `None` for live layers that
    /// are never cached (responders move every few seconds).
    pub fn version(&self, layer: TileLayer) -> Option<u64> {
        match layer {
            TileLayer::Boundary(l) => Some(source_version(&self.locator.current(), l)),
            TileLayer::Incidents | TileLayer::Heatmap => Some(self.incidents.version()),
            // Hazards and fixed resources are read from the store per tile (they change on any replica; nothing to
            // invalidate); responders move every few seconds.
            TileLayer::Responders | TileLayer::Resources | TileLayer::Hazards => None,
        }
    }

    /// Bounds of the data of a layer in lon/lat, when known.
    pub fn bounds(&self, layer: TileLayer) -> Option<Rect<f64>> {
        let index = self.locator.current();
        match layer {
            TileLayer::Boundary(l) => index.layer(l).bbox(),
            _ => index.layer(Layer::Streets).bbox(),
        }
    }

    /// One tile, from the cache when its data has not changed.
    pub async fn tile(&self, layer: TileLayer, tile: TileId) -> Result<Arc<Rendered>, TileError> {
        self.tile_filtered(layer, tile, &IncidentTileFilter::default()).await
    }

    /// One tile with the incident layer narrowed to `filter` (other layers ignore it), from the cache when its data
    /// has not changed: each filter has its own entries.
    pub async fn tile_filtered(
        &self,
        layer: TileLayer,
        tile: TileId,
        filter: &IncidentTileFilter,
    ) -> Result<Arc<Rendered>, TileError> {
        if tile.z() > layer.max_zoom() {
            return Err(TileError::TooDeep { layer: layer.as_str(), z: tile.z(), max: layer.max_zoom() });
        }
        // A boundary tile's version and content come from one index snapshot: a tile cut from one generation can
        // never be cached under another's version (generation ids repeat after a rollback).
        let (version, boundary) = match layer {
            TileLayer::Boundary(l) => {
                let tiles = self.boundary_tiles();
                (Some(source_version(tiles.index(), l)), Some((l, tiles)))
            }
            other => (self.version(other), None),
        };
        let filter_key = if layer == TileLayer::Incidents { filter.key() } else { 0 };
        let key = version.map(|version| CacheKey { layer, version, filter: filter_key, tile });
        if let Some(hit) = key.as_ref().and_then(|k| self.cache.get(k)) {
            self.hits.inc();
            return Ok(hit);
        }
        self.misses.inc();
        let mvt = match (boundary, layer) {
            (Some((l, tiles)), _) => tokio::task::spawn_blocking(move || tiles.render(l, tile))
                .await
                .map_err(|e| TileError::Task(e.to_string()))?,
            (None, TileLayer::Incidents) => self.render_incidents(tile, filter).await?,
            (None, TileLayer::Heatmap) => self.render_heatmap(tile).await?,
            (None, TileLayer::Hazards) => self.render_hazards(tile).await?,
            (None, TileLayer::Resources) => self.render_resources(tile).await?,
            (None, _) => self.render_responders(tile),
        };
        let rendered = Arc::new(Rendered::new(mvt));
        if let Some(key) = key {
            self.cache.insert(key, rendered.clone());
        }
        Ok(rendered)
    }

    /// Prepares the boundary shapes of the served generation for the zooms a city is usually viewed at, in the
    /// background, so the first tiles after start or activation are as fast as the rest. Stops part-way when the
    /// service is dropped or another generation is served meanwhile.
    pub fn warm(self: &Arc<Self>) {
        let tiles = self.boundary_tiles();
        let this = Arc::downgrade(self);
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let wanted = || this.upgrade().is_some_and(|t| Arc::ptr_eq(&t.locator.current(), tiles.index()));
            for z in WARM_ZOOMS {
                for layer in Layer::ALL {
                    if !wanted() {
                        tracing::debug!("boundary tile shapes: preparation stopped, superseded or shut down");
                        return;
                    }
                    tiles.prepare(layer, z);
                }
            }
            tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "boundary tile shapes prepared");
            if let Some(this) = this.upgrade()
                && let Ok(mut w) = this.warmed.lock()
            {
                *w = Some(tiles.index().clone());
            }
        });
    }

    /// True once the served generation's boundary shapes are prepared for the usual zooms.
    pub fn prepared(&self) -> bool {
        let served = self.locator.current();
        self.warmed.lock().ok().and_then(|w| w.as_ref().map(|i| Arc::ptr_eq(i, &served))).unwrap_or(false)
    }

    /// The boundary tiles of the generation served now (prepared shapes are kept while it stays active).
    fn boundary_tiles(&self) -> Arc<BoundaryTiles> {
        let index = self.locator.current();
        if let Some(t) = self.boundary.load_full().filter(|t| Arc::ptr_eq(t.index(), &index)) {
            return t;
        }
        let fresh = Arc::new(BoundaryTiles::new(index));
        self.boundary.store(Some(fresh.clone()));
        fresh
    }

    async fn render_incidents(&self, tile: TileId, shown: &IncidentTileFilter) -> Result<Vec<u8>, TileError> {
        let b = tile.lonlat_bounds(points::POINT_BUFFER_PX as u32);
        let status = if shown.status.is_empty() {
            IncidentStatus::ALL.into_iter().filter(|s| s.is_open()).collect()
        } else {
            shown.status.clone()
        };
        let filter = IncidentFilter {
            bbox: Some([b.min().x, b.min().y, b.max().x, b.max().y]),
            status,
            category: shown.category.clone(),
            grids: shown.grids.clone(),
            limit: MAX_TILE_INCIDENTS,
            ..IncidentFilter::default()
        };
        let found = self.incidents.list(&filter).await?;
        let items: Vec<_> = found
            .iter()
            .filter_map(|i| points::tile_px(tile, Coord { x: i.location[0], y: i.location[1] }).map(|p| (p, i)))
            .collect();
        Ok(points::render("incidents", tile, &items, |i| {
            let mut a = vec![
                ("id", Attr::Int(i.id.0)),
                ("category", Attr::Str(&i.category)),
                ("status", Attr::Str(i.status.as_str())),
                ("priority", Attr::Int(i64::from(i.priority))),
                ("overdue", Attr::Int(i64::from(i.overdue))),
            ];
            if let Some(g) = &i.geocode.grid_code {
                a.push(("grid_code", Attr::Str(g)));
            }
            a
        }))
    }

    async fn render_hazards(&self, tile: TileId) -> Result<Vec<u8>, TileError> {
        let b = tile.lonlat_bounds(points::POINT_BUFFER_PX as u32);
        let filter = HazardFilter {
            bbox: Some([b.min().x, b.min().y, b.max().x, b.max().y]),
            status: vec![HazardStatus::Open, HazardStatus::Rectifying],
            limit: MAX_TILE_INCIDENTS,
            ..HazardFilter::default()
        };
        let found = self.hazards.list(&filter).await?;
        let items: Vec<_> = found
            .iter()
            .filter_map(|h| points::tile_px(tile, Coord { x: h.location[0], y: h.location[1] }).map(|p| (p, h)))
            .collect();
        Ok(points::render("hazards", tile, &items, |h| {
            let mut a = vec![
                ("id", Attr::Int(h.id.0)),
                ("category", Attr::Str(&h.category)),
                ("status", Attr::Str(h.status.as_str())),
                ("severity", Attr::Int(i64::from(h.severity))),
                ("department", Attr::Str(&h.department)),
                ("overdue", Attr::Int(i64::from(h.overdue))),
            ];
            if let Some(g) = &h.geocode.grid_code {
                a.push(("grid_code", Attr::Str(g)));
            }
            a
        }))
    }

    async fn render_resources(&self, tile: TileId) -> Result<Vec<u8>, TileError> {
        let b = tile.lonlat_bounds(points::POINT_BUFFER_PX as u32);
        let filter = ResourceFilter {
            bbox: Some([b.min().x, b.min().y, b.max().x, b.max().y]),
            limit: MAX_TILE_INCIDENTS,
            ..ResourceFilter::default()
        };
        let found = self.resources.list(&filter).await?;
        let items: Vec<_> = found
            .iter()
            .filter_map(|r| points::tile_px(tile, Coord { x: r.location[0], y: r.location[1] }).map(|p| (p, r)))
            .collect();
        Ok(points::render("resources", tile, &items, |r| {
            let mut a =
                vec![("id", Attr::Int(r.id.0)), ("category", Attr::Str(&r.category)), ("name", Attr::Str(&r.name))];
            if let Some(g) = &r.geocode.grid_code {
                a.push(("grid_code", Attr::Str(g)));
            }
            a
        }))
    }

    fn render_responders(&self, tile: TileId) -> Vec<u8> {
        let fleet = self.responders.fleet().snapshot();
        let items: Vec<_> = fleet
            .all()
            .filter_map(|r| {
                let [x, y] = r.responder.location?.0;
                points::tile_px(tile, Coord { x, y }).map(|p| (p, r))
            })
            .collect();
        points::render("responders", tile, &items, |r| {
            let r = &r.responder;
            let mut a = vec![
                ("id", Attr::Int(r.id.0)),
                ("name", Attr::Str(&r.name)),
                ("kind", Attr::Str(&r.kind)),
                ("status", Attr::Str(r.status.as_str())),
            ];
            if let Some(t) = &r.team {
                a.push(("team", Attr::Str(t)));
            }
            a
        })
    }

    async fn render_heatmap(&self, tile: TileId) -> Result<Vec<u8>, TileError> {
        let b = tile.lonlat_bounds(BUFFER_PX);
        let resolution = heatmap::resolution_for_zoom(tile.z(), self.locator.resolution());
        let query = HeatmapQuery {
            resolution,
            filter: IncidentFilter { bbox: Some(heatmap::grow(b, resolution)), ..IncidentFilter::default() },
        };
        let cells = heatmap::incidents(&self.incidents, &query).await?;
        Ok(hexagons::render(tile, &cells))
    }
}

#[async_trait::async_trait]
impl crate::catalog::ActivationListener for TileWarmer {
    async fn generation_changed(&self, _index: Arc<crate::index::BoundaryIndex>) {
        self.0.warm();
    }
}

/// Prepares the new generation's tile shapes after each activation.
#[derive(Debug)]
pub struct TileWarmer(pub Arc<TileService>);
