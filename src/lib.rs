//! gridmap: the spatial backbone of grid-based urban governance. Boundary layers (street → community → grid) in
//! versioned generations, an in-memory index answering point lookups, and the HTTP API over them.

/// Spatial questions about boundary features: relations, box/polygon/distance queries, H3 covers.
pub mod areas;
/// Assessment (考核) per street, community, grid, department or responder over a period.
pub mod assessment;
/// The audit log of privileged actions.
pub mod audit;
/// API keys, roles and what each may do.
pub mod auth;
/// The boundary catalogue: import, activate, roll back, keep the index current.
pub mod catalog;
/// Telling other processes on the same database what changed (the replicas' channel).
pub mod changes;
/// Command-line interface.
pub mod cli;
/// Validated WGS84 coordinates.
pub mod coord;
/// Coordinate systems at the edges (WGS84, CGCS2000, GCJ-02, BD-09).
pub mod crs;
/// Nearest available responders.
/// Departments (职能部门): the register and routing incidents through them.
pub mod departments;
pub mod dispatch;
/// Live events (WebSocket fan-out).
pub mod events;
/// Geometry helpers (prepared polygons).
pub mod geometry;
/// Safety hazards: points or areas tracked until put right.
pub mod hazards;
/// H3 heatmaps of incidents.
pub mod heatmap;
/// History import: past events from the files an old system exports.
pub mod history;
/// HTTP API.
pub mod http;
/// Reading and validating boundary files.
pub mod import;
/// Incidents: lifecycle, validation, geocoding.
pub mod incidents;
/// In-memory spatial index of the active generation.
pub mod index;
/// Layers, features and generations.
pub mod layers;
/// Point lookup answers.
pub mod locate;
/// Prometheus metrics.
pub mod metrics;
/// English display names (the file's or pinyin) for labels.
pub mod names;
/// OGC API – Features over the boundary layers.
pub mod ogc;
/// Patrol tracks and per-grid coverage.
pub mod patrols;
/// Several servers on one PostGIS kept consistent through NOTIFY/LISTEN.
pub mod replicas;
/// Fixed resources: hydrants, AEDs, cameras, workstations, shelters.
pub mod resources;
/// Responders: roster, status, live positions.
pub mod responders;
/// Road networks: routes, road ETAs, reach.
pub mod roads;
/// The bundled sample boundaries.
pub mod sample;
/// Start-up wiring of the services over one store.
pub mod service;
/// Per-grid statistics (choropleths, scoring).
pub mod stats;
/// Persistence (SQLite and PostGIS).
pub mod store;
/// What a database failure is (the storage traits' error).
pub mod store_error;
/// Vector tiles cut from memory, cached by data version.
pub mod tiles;
/// Times as answers write them (RFC 3339).
pub mod times;
