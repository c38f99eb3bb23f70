//! Wiring: the services of one gridmap process over one store, in start-up order. Used by `gridmap serve` and by
//! the tests, so both run the same assembly.

use std::sync::Arc;

use h3o::Resolution;

use crate::audit::AuditLog;
use crate::auth::{AccessControl, Keyring};
use crate::catalog::{Catalog, CatalogError};
use crate::departments::DepartmentService;
use crate::dispatch::{DispatchPolicy, DispatchService, Dispatcher, RoadTravel, StraightLine};
use crate::events::Events;
use crate::hazards::HazardService;
use crate::http::{AppState, Services};
use crate::incidents::{Categories, IncidentService, ServiceArea};
use crate::index::BoundaryIndex;
use crate::locate::Locator;
use crate::patrols::PatrolService;
use crate::resources::ResourceService;
use crate::responders::{ResponderError, ResponderService};
use crate::roads::RoadService;
use crate::store::Store;
use crate::tiles::{TileService, TileWarmer};

/// Why the services could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Loading boundaries failed.
    #[error("loading boundaries: {0}")]
    Boundaries(#[from] CatalogError),
    /// Loading the incident ledger failed.
    #[error("loading incidents: {0}")]
    Incidents(#[from] crate::incidents::IncidentError),
    /// Loading the responder roster failed.
    #[error("loading responders: {0}")]
    Responders(#[from] ResponderError),
}

/// Start-up choices.
#[derive(Debug, Clone)]
pub struct Options {
    /// H3 resolution of answers and stored items.
    pub resolution: Resolution,
    /// Load the bundled sample into an empty database.
    pub sample: bool,
    /// Bytes of encoded tiles kept in memory.
    pub tile_cache_bytes: u64,
    /// Dispatch policy (category skills, stale positions, travel speeds, preferences).
    pub dispatch: DispatchPolicy,
    /// Incident categories accepted.
    pub categories: Categories,
    /// Where incidents, hazards and fixed resources may be placed.
    pub service_area: ServiceArea,
    /// Require API keys (see [`crate::auth`]).
    pub auth: bool,
    /// A raster base map under the layers of the style.
    pub basemap: Option<crate::tiles::Basemap>,
    /// How often passed deadlines are looked for (`incident.overdue` events).
    pub deadline_tick: std::time::Duration,
    /// PMTiles base maps served and drawn under the layers.
    pub archives: Arc<crate::tiles::Archives>,
    /// Serve the console from this folder instead of the copy built into the binary (console development).
    pub web_dir: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            resolution: Resolution::Ten,
            sample: true,
            tile_cache_bytes: 256 << 20,
            dispatch: DispatchPolicy::default(),
            categories: Categories::default(),
            service_area: ServiceArea::Streets,
            auth: false,
            basemap: None,
            archives: Arc::default(),
            deadline_tick: std::time::Duration::from_secs(15),
            web_dir: None,
        }
    }
}

/// A started process: the handlers' state and the position writer to finish after the server stops.
#[derive(Debug)]
pub struct Started {
    /// Shared by every handler.
    pub state: AppState,
    /// Finished after the last request: writes what is queued, then ends (background tasks still hold the services,
    /// so it would not end by itself).
    pub position_writer: crate::responders::WriterTask,
}

/// Builds the services: boundaries first (sample, then the active generation), then the responder roster, so
/// responders' grids are known.
pub async fn start(store: Arc<dyn Store>, options: Options) -> Result<Started, StartError> {
    let locator = Arc::new(Locator::new(BoundaryIndex::empty(), options.resolution));
    let catalog = Arc::new(Catalog::new(store.clone(), Some(locator.clone())));
    let (events, relay) = if store.shared() {
        let (events, rx) = Events::relayed();
        (events, Some(rx))
    } else {
        (Events::default(), None)
    };
    let departments = Arc::new(DepartmentService::new(store.clone(), options.categories.clone(), events.clone()));
    let incidents = Arc::new(
        IncidentService::new(
            store.clone(),
            locator.clone(),
            options.categories.clone(),
            options.service_area,
            events.clone(),
        )
        .with_deadlines(options.dispatch.deadlines.clone())
        .with_departments(departments.clone()),
    );
    watch_deadlines(&incidents, options.deadline_tick);
    let history = Arc::new(crate::history::HistoryService::new(
        store.clone(),
        incidents.clone(),
        departments.clone(),
        locator.clone(),
        crate::history::Rules {
            categories: options.categories.clone(),
            area: options.service_area,
            deadlines: options.dispatch.deadlines.clone(),
        },
        events.clone(),
    ));
    catalog.add_listener(incidents.clone());
    let resources =
        Arc::new(ResourceService::new(store.clone(), locator.clone(), options.service_area, events.clone()));
    catalog.add_listener(resources.clone());
    let hazards = Arc::new(HazardService::new(store.clone(), locator.clone(), options.service_area, events.clone()));
    catalog.add_listener(hazards.clone());
    catalog.add_listener(Arc::new(events.clone()));
    if options.sample {
        catalog.ensure_sample().await?;
    }
    catalog.reload_if_changed().await?;
    let loaded = incidents.load_ledger().await?;
    tracing::info!(incidents = loaded, "incident ledger loaded");
    let kinds = options.dispatch.travel.kinds.keys().cloned().collect();
    let (responders, position_writer) =
        ResponderService::start(store.clone(), locator.clone(), events.clone(), kinds).await?;
    let responders = Arc::new(responders);
    let tiles = Arc::new(
        TileService::new(
            locator.clone(),
            incidents.clone(),
            hazards.clone(),
            responders.clone(),
            resources.clone(),
            options.tile_cache_bytes,
        )
        .with_basemap(options.basemap.clone())
        .with_archives(options.archives.clone()),
    );
    catalog.add_listener(Arc::new(TileWarmer(tiles.clone())));
    tiles.warm();
    let patrols = Arc::new(PatrolService::new(store.clone(), locator.clone(), events.clone()));
    let warmer = crate::patrols::PatrolWarmer(patrols.clone());
    let assessment = Arc::new(crate::assessment::AssessmentService::new(
        store.clone(),
        store.clone(),
        incidents.clone(),
        locator.clone(),
        patrols.clone(),
        departments.clone(),
    ));
    warmer.warm(locator.current());
    catalog.add_listener(Arc::new(warmer));
    let roads = Arc::new(RoadService::new(store.clone(), options.dispatch.roads.clone(), events.clone()));
    // A network that cannot be loaded leaves dispatch on straight lines; the server still starts.
    if let Err(e) = roads.reload_if_changed().await {
        tracing::error!(error = %e, "the stored road network could not be loaded; ETAs are straight-line");
    }
    if let Some(rx) = relay {
        let origin = crate::replicas::origin();
        tokio::spawn(crate::replicas::relay(store.clone(), origin.clone(), rx));
        let replica = crate::replicas::Replica {
            origin,
            catalog: catalog.clone(),
            incidents: incidents.clone(),
            responders: responders.clone(),
            roads: roads.clone(),
            events: events.clone(),
        };
        tokio::spawn(crate::replicas::listen(store.clone(), replica));
    }
    let metrics = Arc::new(crate::metrics::Metrics::new(crate::metrics::Counters {
        tile_hits: tiles.hits.clone(),
        tile_misses: tiles.misses.clone(),
        ..Default::default()
    }));
    let access = Arc::new(AccessControl { enabled: options.auth, keyring: Keyring::new(store.clone()) });
    let audit = AuditLog::new(store);
    let line = StraightLine::new(options.dispatch.travel.clone());
    let dispatch = Arc::new(DispatchService::new(
        Arc::new(Dispatcher::with_travel(options.dispatch, Box::new(RoadTravel::new(roads.clone(), line)))),
        incidents.clone(),
        responders.clone(),
        locator.clone(),
        roads.clone(),
        audit.clone(),
    ));
    let state = AppState::new(Services {
        hazards,
        patrols,
        resources,
        roads,
        catalog,
        locator,
        incidents,
        departments,
        history,
        assessment,
        responders,
        dispatch,
        events,
        tiles,
        access,
        audit,
        metrics,
        web_dir: options.web_dir,
    });
    Ok(Started { state, position_writer })
}

/// Every `tick`: the open incidents whose deadline passed since the last look are announced to this process's live
/// clients (`incident.overdue`). Stops when the incident service is dropped.
fn watch_deadlines(incidents: &Arc<IncidentService>, tick: std::time::Duration) {
    let service = Arc::downgrade(incidents);
    tokio::spawn(async move {
        let mut last = time::OffsetDateTime::now_utc();
        let mut every = tokio::time::interval(tick);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            let Some(incidents) = service.upgrade() else { return };
            let now = time::OffsetDateTime::now_utc();
            match incidents.announce_overdue(last, now).await {
                Ok(n) if n > 0 => tracing::info!(incidents = n, "deadlines passed"),
                Ok(_) => {}
                // The same window is looked at again next time.
                Err(e) => {
                    tracing::warn!(error = %e, "looking for passed deadlines failed");
                    continue;
                }
            }
            last = now;
        }
    });
}
