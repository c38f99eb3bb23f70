//! PMTiles archives served as offline base maps (`gridmap serve --basemap-pmtiles FILE`, repeatable): each under
//! `/tiles/{file stem}/{z}/{x}/{y}` with its TileJSON at `/tiles/{file stem}.json`, read from the memory-mapped file
//! one tile at a time (the file is never loaded whole), and put in the style under gridmap's own layers.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use pmtiles::{AsyncPmTilesReader, Compression, MmapBackend, TileCoord, TileType};
use serde_json::{Value, json};

/// Documents beside the layers under `/tiles/` (`style.json`) and the raster base map's source: names an archive
/// cannot take, besides gridmap's own layers.
const RESERVED: [&str; 2] = ["style", "basemap"];

/// Why an archive was refused or a tile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Not a readable PMTiles v3 file.
    #[error("--basemap-pmtiles {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        #[source]
        source: pmtiles::PmtError,
    },
    /// The file stem is not a usable layer name.
    #[error(
        "--basemap-pmtiles {path}: the file name {name:?} is served as /tiles/{name}/…, which {why}; rename the file"
    )]
    Name {
        /// The file.
        path: PathBuf,
        /// Its stem.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Tiles of a kind a map cannot draw.
    #[error("--basemap-pmtiles {path}: tiles of type {kind}; expected vector (MVT) or raster (PNG, JPEG, WebP)")]
    TileType {
        /// The file.
        path: PathBuf,
        /// The type found.
        kind: String,
    },
    /// Reading a tile failed.
    #[error("reading a tile of {name}: {source}")]
    Read {
        /// The archive's name.
        name: String,
        /// What the reader said.
        #[source]
        source: pmtiles::PmtError,
    },
}

/// One archive.
pub struct Archive {
    name: String,
    reader: AsyncPmTilesReader<MmapBackend>,
    /// The archive's own metadata (TileJSON-like: `vector_layers`, `attribution`, …), `{}` when it has none.
    metadata: Value,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A tile as stored, with how it is encoded.
#[derive(Debug, Clone)]
pub struct ArchiveTile {
    /// The bytes as stored in the archive.
    pub bytes: Bytes,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Some("gzip")` when the bytes are gzip-compressed (served with `Content-Encoding: gzip`).
    pub encoding: Option<&'static str>,
}

impl Archive {
    /// Opens `path` (header and root directory read; tiles read on demand).
    pub async fn open(path: &Path) -> Result<Self, ArchiveError> {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let refuse = |why| ArchiveError::Name { path: path.to_owned(), name: name.clone(), why };
        if RESERVED.contains(&name.as_str()) || name.parse::<super::TileLayer>().is_ok() {
            return Err(refuse("is one of gridmap's own layers"));
        }
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(refuse("needs letters, digits, - and _ only"));
        }
        let open = |source| ArchiveError::Open { path: path.to_owned(), source };
        let reader = AsyncPmTilesReader::new_with_path(path).await.map_err(open)?;
        let kind = reader.get_header().tile_type;
        if !matches!(kind, TileType::Mvt | TileType::Png | TileType::Jpeg | TileType::Webp) {
            return Err(ArchiveError::TileType { path: path.to_owned(), kind: format!("{kind:?}") });
        }
        let metadata =
            reader.get_metadata().await.ok().and_then(|m| serde_json::from_str(&m).ok()).unwrap_or(json!({}));
        Ok(Self { name, reader, metadata })
    }

    /// The name it is served under (the file stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True for vector (MVT) tiles.
    pub fn is_vector(&self) -> bool {
        self.reader.get_header().tile_type == TileType::Mvt
    }

    /// One tile as stored, `None` where the archive has none.
    pub async fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<ArchiveTile>, ArchiveError> {
        let read = |source| ArchiveError::Read { name: self.name.clone(), source };
        let h = self.reader.get_header();
        if z < h.min_zoom || z > h.max_zoom {
            return Ok(None);
        }
        let coord = TileCoord::new(z, x, y).map_err(read)?;
        let Some(bytes) = self.reader.get_tile(coord).await.map_err(read)? else { return Ok(None) };
        let content_type = match h.tile_type {
            TileType::Mvt => "application/vnd.mapbox-vector-tile",
            TileType::Png => "image/png",
            TileType::Jpeg => "image/jpeg",
            _ => "image/webp",
        };
        let (bytes, encoding) = match h.tile_compression {
            Compression::Gzip => (bytes, Some("gzip")),
            Compression::None | Compression::Unknown => (bytes, None),
            // Brotli or zstd: decompressed here, so any client can read it.
            _ => (self.reader.get_tile_decompressed(coord).await.map_err(read)?.unwrap_or_default(), None),
        };
        Ok(Some(ArchiveTile { bytes, content_type, encoding }))
    }

    /// TileJSON 3.0 of the archive; `base` is the server's URL.
    pub fn tilejson(&self, base: &str) -> Value {
        let h = self.reader.get_header();
        let mut tj = json!({
            "tilejson": "3.0.0",
            "name": self.metadata.get("name").cloned().unwrap_or_else(|| json!(self.name)),
            "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}", self.name)],
            "minzoom": h.min_zoom,
            "maxzoom": h.max_zoom,
            "bounds": [h.min_longitude, h.min_latitude, h.max_longitude, h.max_latitude],
            "center": [h.center_longitude, h.center_latitude, h.center_zoom],
        });
        for key in ["attribution", "description", "vector_layers"] {
            if let Some(v) = self.metadata.get(key) {
                tj[key] = v.clone();
            }
        }
        tj
    }

    /// The style source and layers that draw the archive: a raster layer, or for vector tiles one quiet layer per
    /// known source layer (water, land use, buildings from z15, railways, roads by class, place labels).
    pub fn style(&self, base: &str) -> (Value, Vec<Value>) {
        let tj = self.tilejson(base);
        let mut source = json!({"type": if self.is_vector() { "vector" } else { "raster" }, "tiles": tj["tiles"],
            "minzoom": tj["minzoom"], "maxzoom": tj["maxzoom"], "bounds": tj["bounds"]});
        if let Some(a) = tj.get("attribution") {
            source["attribution"] = a.clone();
        }
        let id = |part: &str| format!("basemap-{}-{part}", self.name);
        if !self.is_vector() {
            source["tileSize"] = json!(256);
            return (source, vec![json!({"id": id("raster"), "type": "raster", "source": self.name})]);
        }
        let present: Vec<String> = tj["vector_layers"]
            .as_array()
            .map(|l| l.iter().filter_map(|v| v["id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let layers = vector_layers(&present).into_iter().map(|(part, mut layer)| {
            layer["id"] = json!(id(&part));
            layer["source"] = json!(self.name);
            layer
        });
        (source, layers.collect())
    }
}

/// Source layers the base style knows how to draw (the layers `gridmap`'s own base map and most OpenStreetMap
/// schemas name so); any other layer an archive lists is drawn as thin grey lines.
const KNOWN: [&str; 7] = ["landuse", "water", "waterways", "buildings", "railways", "roads", "places"];

/// The base map's layers for the source layers an archive has (the known ones when its metadata lists none), in
/// drawing order. Quiet greys under translucent grids, blue water; labels show `name` (`name:zh`, `name_zh` first).
fn vector_layers(present: &[String]) -> Vec<(String, Value)> {
    let has = |l: &str| present.is_empty() || present.iter().any(|p| p == l);
    let label = json!(["coalesce", ["get", "name:zh"], ["get", "name_zh"], ["get", "name"]]);
    let road_width = json!(["interpolate", ["exponential", 1.6], ["zoom"], 10, 0.5, 14, 2.5, 18, 14]);
    let mut out = Vec::new();
    let mut add = |part: &str, layer: &str, spec: Value| {
        if has(layer) {
            let mut spec = spec;
            spec["source-layer"] = json!(layer);
            out.push((part.to_owned(), spec));
        }
    };
    add("landuse", "landuse", json!({"type": "fill", "paint": {"fill-color": "#e4eadc", "fill-opacity": 0.8}}));
    add("water", "water", json!({"type": "fill", "paint": {"fill-color": "#a9cbe8"}}));
    add("waterway", "waterways", json!({"type": "line", "paint": {"line-color": "#a9cbe8", "line-width": 1.5}}));
    add(
        "buildings",
        "buildings",
        json!({"type": "fill", "minzoom": 15, "paint": {"fill-color": "#dcd9d3", "fill-outline-color": "#c8c4bc"}}),
    );
    add(
        "railways",
        "railways",
        json!({"type": "line", "paint": {"line-color": "#a8a8a8", "line-width": 1.2, "line-dasharray": [3, 2]}}),
    );
    add(
        "roads",
        "roads",
        json!({"type": "line", "layout": {"line-cap": "round", "line-join": "round"},
            "paint": {"line-color": ["match", ["get", "class"], ["motorway", "trunk", "primary"], "#f3d9a4", "#ffffff"],
                "line-width": road_width}}),
    );
    add(
        "road-labels",
        "roads",
        json!({"type": "symbol", "minzoom": 14, "layout": {"symbol-placement": "line", "text-field": label.clone(),
            "text-size": 11}, "paint": {"text-color": "#666666", "text-halo-color": "#ffffff", "text-halo-width": 1.5}}),
    );
    add(
        "places",
        "places",
        json!({"type": "symbol", "layout": {"text-field": label, "text-size": 12},
            "paint": {"text-color": "#555555", "text-halo-color": "#ffffff", "text-halo-width": 1.5}}),
    );
    for other in present.iter().filter(|p| !KNOWN.contains(&p.as_str())) {
        add(other, other, json!({"type": "line", "paint": {"line-color": "#b4b4b4", "line-width": 0.8}}));
    }
    out
}

/// The archives of one server, by name.
#[derive(Debug, Default)]
pub struct Archives(Vec<Archive>);

impl Archives {
    /// Opens every file; two with one name are refused.
    pub async fn open(paths: &[PathBuf]) -> Result<Self, ArchiveError> {
        let mut out: Vec<Archive> = Vec::with_capacity(paths.len());
        for p in paths {
            let a = Archive::open(p).await?;
            if out.iter().any(|o| o.name == a.name) {
                return Err(ArchiveError::Name { path: p.clone(), name: a.name, why: "another --basemap-pmtiles has" });
            }
            out.push(a);
        }
        Ok(Self(out))
    }

    /// The archive served as `name`.
    pub fn get(&self, name: &str) -> Option<&Archive> {
        self.0.iter().find(|a| a.name == name)
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds every archive's source and layers to `style`, above the background and under everything else (in the
    /// order the files were given), and lets them show through the grids' fill.
    pub fn add_to(&self, style: &mut Value, base: &str) {
        if self.0.is_empty() {
            return;
        }
        let mut drawn = Vec::new();
        for a in &self.0 {
            let (source, layers) = a.style(base);
            if let Some(sources) = style["sources"].as_object_mut() {
                sources.insert(a.name.clone(), source);
            }
            drawn.extend(layers);
        }
        let Some(layers) = style["layers"].as_array_mut() else { return };
        // Above the background and a raster base map (`--basemap-url`), under everything else.
        let at = layers.iter().position(|l| l["type"] != "background" && l["id"] != "basemap").unwrap_or(layers.len());
        layers.splice(at..at, drawn);
        for l in layers.iter_mut().filter(|l| l["id"] == "grids-fill") {
            l["paint"]["fill-opacity"] = json!(0.15);
        }
    }
}
