//! The `gridmap` command line: `serve`, `import`, `generations`, `activate`, `rollback`, `load-responders`,
//! `import-track`, `keys`, `export-tiles`, `import-roads`, `import-incidents`, `departments`.

mod boundaries;
mod config;
mod departments;
mod export;
mod history;
mod keys;
mod patrols;
mod responders;
mod roads;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::crs::ImportCrs;
use crate::layers::Layer;

/// Exit code: the input was rejected (a report was printed).
pub const EXIT_REJECTED: u8 = 1;
/// Exit code: the command could not run (database unreachable, internal error).
pub const EXIT_FAILED: u8 = 3;

/// gridmap: boundary layers, lookups and dispatch for grid-based urban governance.
#[derive(Debug, Parser)]
#[command(name = "gridmap", version, about)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "GRIDMAP_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Database selection shared by all commands.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database URL: sqlite://PATH (embedded, default) or postgres://… (PostGIS).
    #[arg(long, env = "GRIDMAP_DB", default_value = "sqlite://data/gridmap.db")]
    pub db: String,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (loads the bundled sample boundaries into an empty database).
    Serve(ServeArgs),
    /// Validate a boundary file and stage it as a new generation.
    Import(ImportArgs),
    /// List generations.
    Generations {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a generation the active one.
    Activate {
        /// Generation id.
        generation: i64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Delete a staged generation that was never active (nothing builds on it).
    Discard {
        /// Generation id.
        generation: i64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Return to the generation that was active before the current one.
    Rollback {
        #[command(flatten)]
        db: DbArgs,
    },
    /// API keys: create (printed once), list, revoke.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The department register: list, put, remove.
    #[command(subcommand)]
    Departments(DepartmentsCommand),
    /// Store a GPX track as a patrol of a responder (geocoded to the cells and grids it passed).
    ImportTrack {
        /// The .gpx file (track points with times).
        file: PathBuf,
        /// The responder who walked it.
        #[arg(long)]
        responder: i64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write the served vector tiles of chosen layers, zooms and area to a PMTiles v3 archive (offline terminals).
    ExportTiles(export::ExportArgs),
    /// Import a road network (OpenStreetMap .osm.pbf or GeoJSON lines with highway/oneway/maxspeed): report what
    /// was kept and dropped, build the walk, bike and vehicle graphs, store it as the active network. A running
    /// server picks it up at its next reload.
    ImportRoads {
        /// The road file.
        file: PathBuf,
        /// Read and build only; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The dispatch policy whose `roads` profiles to build with (the server's `--dispatch-policy`).
        #[arg(long, env = "GRIDMAP_DISPATCH_POLICY")]
        dispatch_policy: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Import past incidents (history) from the old system's export (CSV in UTF-8 or GBK, XLSX, GeoJSON points)
    /// through a map naming its fields: every row checked, all stored or none; the same file twice adds nothing.
    ImportIncidents(history::ImportIncidentsArgs),
    /// Add responders from a CSV or GeoJSON roster (a drill set), all or none. A running server sees them after a
    /// restart; `POST /api/v1/responders/load` loads into a running one.
    LoadResponders {
        /// The roster: .csv (name,kind,skills,team,home_grid,status,lon,lat,at) or .geojson points.
        file: PathBuf,
        /// Coordinate system of the positions: wgs84, cgcs2000, gcj02 or bd09.
        #[arg(long, default_value = "wgs84")]
        crs: String,
        /// The dispatch policy whose responder kinds the roster may use (the server's `--dispatch-policy`).
        #[arg(long, env = "GRIDMAP_DISPATCH_POLICY")]
        dispatch_policy: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `gridmap keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it (once; only its hash is stored).
    Create {
        /// viewer, dispatcher, gis_admin or service.
        #[arg(long)]
        role: crate::auth::Role,
        /// Who holds it (a person, a module, a terminal).
        #[arg(long)]
        name: Option<String>,
        /// Restrict what the key sees to street:CODE or community:CODE.
        #[arg(long)]
        scope: Option<crate::auth::Scope>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List keys (never the secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a key: it is refused from then on (by every replica within seconds).
    Revoke {
        /// Key id (from `keys list`).
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `gridmap departments …`.
#[derive(Debug, Subcommand)]
pub enum DepartmentsCommand {
    /// List the register.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Add or replace a department.
    Put {
        /// Code (letters, digits, _ or -).
        code: String,
        /// Name, e.g. 区城管局.
        #[arg(long)]
        name: String,
        /// The categories it handles (comma list).
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// The service's incident categories (as `serve --incident-categories`; default the built-in list).
        #[arg(long, env = "GRIDMAP_INCIDENT_CATEGORIES", value_delimiter = ',')]
        incident_categories: Option<Vec<String>>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Remove a department nothing open is with.
    Remove {
        /// Code.
        code: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// When API keys are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Always.
    On,
    /// Never (every caller may do everything): only for a trusted network.
    Off,
    /// When the listen address is not loopback.
    Auto,
}

/// `gridmap serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// A file of `key = value` lines setting any of these options (command line and GRIDMAP_* variables win).
    #[arg(long, env = "GRIDMAP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "GRIDMAP_LISTEN", default_value = "127.0.0.1:8080", value_parser = listen_address)]
    pub listen: String,
    /// Require API keys: on, off, or auto (on whenever --listen is not a loopback address).
    #[arg(long, env = "GRIDMAP_AUTH", value_enum, default_value_t = AuthMode::Auto)]
    pub auth: AuthMode,
    /// H3 resolution of the `h3` cell in lookup answers (0–15).
    #[arg(long, env = "GRIDMAP_H3_RESOLUTION", default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=15))]
    pub h3_resolution: u8,
    /// Largest request body in MiB (a 200 000-point locate batch is about 8 MiB).
    #[arg(long, env = "GRIDMAP_BODY_LIMIT_MB", default_value_t = 64)]
    pub body_limit_mb: usize,
    /// Seconds a request may take before it is answered 408 (imports of large files included).
    #[arg(long, env = "GRIDMAP_REQUEST_TIMEOUT_S", default_value_t = 300)]
    pub request_timeout_s: u64,
    /// Seconds between checks for a generation activated elsewhere (CLI, another replica); 0 disables.
    #[arg(long, env = "GRIDMAP_RELOAD_INTERVAL_S", default_value_t = 5)]
    pub reload_interval_s: u64,
    /// Threads answering HTTP, each with its own single-threaded runtime (connections are handed to them in turn);
    /// default: one per core. 0 answers on the shared multi-threaded runtime instead.
    #[arg(long, env = "GRIDMAP_HTTP_WORKERS")]
    pub http_workers: Option<usize>,
    /// Do not load the bundled sample boundaries into an empty database.
    #[arg(long, env = "GRIDMAP_NO_SAMPLE")]
    pub no_sample: bool,
    /// MiB of encoded vector tiles kept in memory (least recently used beyond that are dropped).
    #[arg(long, env = "GRIDMAP_TILE_CACHE_MB", default_value_t = 256)]
    pub tile_cache_mb: u64,
    /// Dispatch policy (JSON: category_skills, stale_after_s, stale_positions, travel, prefer); built-in defaults
    /// otherwise (see `GET /api/v1/dispatch/policy`).
    #[arg(long, env = "GRIDMAP_DISPATCH_POLICY")]
    pub dispatch_policy: Option<PathBuf>,
    /// Incident categories accepted (comma list of codes), replacing the built-in list.
    #[arg(long, env = "GRIDMAP_INCIDENT_CATEGORIES", value_delimiter = ',')]
    pub incident_categories: Option<Vec<String>>,
    /// Where incidents, hazards and fixed resources may be placed: streets (inside the streets layer), anywhere, or
    /// min_lon,min_lat,max_lon,max_lat.
    #[arg(long, env = "GRIDMAP_SERVICE_AREA", default_value = "streets")]
    pub service_area: crate::incidents::ServiceArea,
    /// A raster base map under the layers: an XYZ tile URL template with {z}, {x}, {y} (http(s), or a path on a
    /// server in front of gridmap), e.g. a Tianditu `_w` service or Amap tiles.
    #[arg(long, env = "GRIDMAP_BASEMAP_URL")]
    pub basemap_url: Option<String>,
    /// What the base map's tiles are drawn in: wgs84 (Tianditu, OSM-style) or gcj02 (Amap, Tencent; the console
    /// shifts them onto the WGS84 data).
    #[arg(long, env = "GRIDMAP_BASEMAP_CRS", value_enum, default_value_t = crate::tiles::BasemapCrs::Wgs84)]
    pub basemap_crs: crate::tiles::BasemapCrs,
    /// Attribution shown for the base map (the provider's terms usually require one).
    #[arg(long, env = "GRIDMAP_BASEMAP_ATTRIBUTION")]
    pub basemap_attribution: Option<String>,
    /// An offline base map from a PMTiles archive (vector or raster), served under /tiles/{file stem}/{z}/{x}/{y}
    /// and drawn under the boundary layers; repeat for several (drawn in the order given).
    #[arg(long = "basemap-pmtiles", value_name = "FILE")]
    pub basemap_pmtiles: Vec<PathBuf>,
    /// Serve the console's files from this folder instead of the copy built into the binary (console development:
    /// edit, reload the page).
    #[arg(long, env = "GRIDMAP_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
}

/// `gridmap import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Target layer: streets, communities or grids.
    #[arg(long)]
    pub layer: Layer,
    /// The boundary file: .geojson/.json, .shp (sidecars beside it), .zip (zipped Shapefile), .kml or .gpkg.
    pub file: PathBuf,
    /// Coordinate system of the file when it does not say (or to override its .prj / crs member):
    /// wgs84, cgcs2000, gcj02, bd09 or EPSG:NNNN.
    #[arg(long)]
    pub crs: Option<ImportCrs>,
    /// Text encoding of Shapefile attributes (utf-8, gbk, gb18030, latin1, …); overrides .cpg and the DBF code page.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Which layer of a zip with several Shapefiles, or which table of a GeoPackage.
    #[arg(long)]
    pub member: Option<String>,
    /// Attribute holding the feature code.
    #[arg(long, default_value = "code")]
    pub code_field: String,
    /// Attribute holding the feature name.
    #[arg(long, default_value = "name")]
    pub name_field: String,
    /// Attribute holding the parent feature's code.
    #[arg(long, default_value = "parent_code")]
    pub parent_field: String,
    /// The file has no parent field: take each parent from the parent layer (of the active generation, or --base),
    /// the one covering most of the feature (`location`) or the one whose code prefixes the feature's (`prefix`).
    #[arg(long, value_enum, conflicts_with = "parent_field")]
    pub parent_from: Option<crate::import::ParentFrom>,
    /// Validate only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Repair what is safe (close rings, drop repeated points, rebuild invalid polygons when the area stays within
    /// 1 %) and list each change in the report.
    #[arg(long)]
    pub fix: bool,
    /// Activate the new generation when the file is valid.
    #[arg(long)]
    pub activate: bool,
    /// Build on this generation instead of the active one (to stage several layers together).
    #[arg(long)]
    pub base: Option<i64>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Parses arguments, runs the command and returns the process exit code.
pub fn run() -> ExitCode {
    let args = match config::args_with_file(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(args);
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await.map(|()| ExitCode::SUCCESS),
            Command::Import(args) => boundaries::import(args).await,
            Command::Generations { db, json } => boundaries::generations(&db.db, json).await,
            Command::Activate { generation, db } => boundaries::activate(&db.db, generation).await,
            Command::Rollback { db } => boundaries::rollback(&db.db).await,
            Command::Discard { generation, db } => boundaries::discard(&db.db, generation).await,
            Command::Keys(command) => keys::run(command).await,
            Command::Departments(command) => departments::run(command).await,
            Command::ImportTrack { file, responder, db } => patrols::import_track(&db.db, &file, responder).await,
            Command::LoadResponders { file, crs, dispatch_policy, db } => {
                responders::load(&db.db, &file, &crs, dispatch_policy.as_deref()).await
            }
            Command::ExportTiles(args) => export::run(args).await,
            Command::ImportIncidents(args) => history::import(args).await,
            Command::ImportRoads { file, dry_run, json, dispatch_policy, db } => {
                roads::import(&db.db, &file, dry_run, json, dispatch_policy.as_deref()).await
            }
        }
    });
    result.unwrap_or_else(|e| {
        eprintln!("error: {}", causes(&e));
        ExitCode::from(EXIT_FAILED)
    })
}

/// An error and its causes on one line, `outer: inner: …`, leaving out a cause whose text the message before it
/// already quotes (our errors name their cause in their own message, so `{:#}` would print it twice).
fn causes(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// `--listen`: `HOST:PORT` (an IP address or a host name, and a port).
fn listen_address(raw: &str) -> Result<String, String> {
    if raw.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(raw.to_owned());
    }
    match raw.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(raw.to_owned()),
        _ => Err(format!("expected HOST:PORT (e.g. 127.0.0.1:{raw} or 0.0.0.0:8080), got {raw:?}")),
    }
}

/// Opens the database of `--db`; only `serve` and `import` may `create` an SQLite file that is not there.
async fn open_store(db: &str, create: bool) -> anyhow::Result<std::sync::Arc<dyn crate::store::Store>> {
    use anyhow::Context;
    let opened = if create { crate::store::open(db).await } else { crate::store::open_existing(db).await };
    opened.with_context(|| format!("opening {}", crate::store::redact(db)))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
