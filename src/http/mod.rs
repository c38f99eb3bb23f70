//! HTTP API: one router per concern, merged here; handlers parse the request and hand on to the domain.

mod error;
mod generations;
mod health;
mod imports;
mod layers;
mod locate;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::catalog::Catalog;
use crate::locate::Locator;

/// Everything handlers need.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Boundary catalogue (writes).
    pub catalog: Arc<Catalog>,
    /// Active index (reads).
    pub locator: Arc<Locator>,
}

/// Limits of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
}

/// The whole application as a router (tests drive it with `oneshot` or over a socket).
pub fn app(state: AppState, limits: HttpLimits) -> Router {
    let api = Router::new().merge(locate::router()).merge(layers::router()).merge(generations::router());
    let api = api.merge(imports::router());
    Router::new()
        .nest("/api/v1", api)
        .merge(health::router())
        .layer(DefaultBodyLimit::max(limits.body_limit_bytes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
