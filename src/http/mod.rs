//! HTTP API: one router per concern, merged here; handlers parse the request and hand on to the domain.

mod access;
mod areas;
mod assessment;
mod audit;
mod contract;
mod departments;
mod dispatch;
mod error;
mod generations;
mod hazards;
mod health;
mod heatmap;
mod history;
mod imports;
mod incidents;
mod json;
mod layers;
mod limits;
mod live;
mod locate;
mod metrics;
mod ogc;
mod openapi;
mod params;
mod patrols;
mod reply;
mod resources;
mod responders;
mod roads;
mod stats;
mod tiles;
mod web;
pub mod workers;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

pub use error::ApiError;

use crate::audit::AuditLog;
use crate::auth::AccessControl;
use crate::catalog::Catalog;
use crate::dispatch::DispatchService;
use crate::events::Events;
use crate::hazards::HazardService;
use crate::incidents::IncidentService;
use crate::locate::Locator;
use crate::patrols::PatrolService;
use crate::resources::ResourceService;
use crate::responders::ResponderService;
use crate::tiles::TileService;

/// Everything handlers need, behind one `Arc`: each middleware and the handler take the state, and cloning it is one
/// reference count shared by every request, not one per service.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// The state of these services.
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
#[derive(Debug)]
pub struct Services {
    /// Boundary catalogue (writes).
    pub catalog: Arc<Catalog>,
    /// Active index (reads).
    pub locator: Arc<Locator>,
    /// Incidents.
    pub incidents: Arc<IncidentService>,
    /// History import.
    pub history: Arc<crate::history::HistoryService>,
    /// Assessment (考核).
    pub assessment: Arc<crate::assessment::AssessmentService>,
    /// The department register and routing.
    pub departments: Arc<crate::departments::DepartmentService>,
    /// Responders and positions.
    pub responders: Arc<ResponderService>,
    /// Nearest, recommend, assign and release (policy, fleet and incidents together).
    pub dispatch: Arc<DispatchService>,
    /// Live events.
    pub events: Events,
    /// Vector tiles.
    pub tiles: Arc<TileService>,
    /// Patrol tracks and coverage.
    pub patrols: Arc<PatrolService>,
    /// Fixed resources.
    pub resources: Arc<ResourceService>,
    /// Safety hazards.
    pub hazards: Arc<HazardService>,
    /// The served road network (routes, road ETAs, reach).
    pub roads: Arc<crate::roads::RoadService>,
    /// Keys and whether they are required.
    pub access: Arc<AccessControl>,
    /// Privileged actions, recorded.
    pub audit: AuditLog,
    /// Prometheus metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The console's files from this folder rather than the binary (`serve --web-dir`).
    pub web_dir: Option<std::path::PathBuf>,
}

/// Limits of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: std::time::Duration,
}

/// Every declared endpoint: the API under `/api/v1` and the top-level routes (health, tiles, OGC, metrics, the
/// OpenAPI document). The router and the OpenAPI document both come from this.
fn declared() -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::new()
        .merge(locate::router())
        .merge(areas::router())
        .merge(layers::router())
        .merge(generations::router())
        .merge(incidents::router())
        .merge(departments::router())
        .merge(history::router())
        .merge(assessment::router())
        .merge(responders::router())
        .merge(dispatch::router())
        .merge(roads::router())
        .merge(patrols::router())
        .merge(resources::router())
        .merge(hazards::router())
        .merge(live::router())
        .merge(imports::router())
        .merge(heatmap::router())
        .merge(stats::router())
        .merge(audit::router());
    OpenApiRouter::new()
        .nest("/api/v1", api)
        .merge(health::router())
        .merge(tiles::router())
        .merge(ogc::router())
        .merge(metrics::router())
        .merge(openapi::router())
}

/// The whole application as a router (tests drive it with `oneshot` or over a socket).
pub fn app(state: AppState, limits: HttpLimits) -> Router {
    let (declared, _) = declared().split_for_parts();
    declared
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .merge(web::router())
        .fallback(contract::no_route)
        .method_not_allowed_fallback(contract::wrong_method)
        .layer(axum::middleware::from_fn_with_state(state.clone(), access::authenticate))
        .layer(DefaultBodyLimit::max(limits.body_limit_bytes))
        .layer(axum::middleware::from_fn_with_state(limits.body_limit_bytes, limits::refuse_oversized))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi_json() -> &'static str {
    contract::document()
}
