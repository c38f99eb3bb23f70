//! `GET /metrics` (Prometheus text format) and the middleware that counts every routed request by its route
//! template.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(render))
}

/// Counts a request and its latency under its route template (so ids do not explode the label set).
pub(super) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The matched route's template is reference-counted: cloning it does not copy the string.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let started = Instant::now();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.request(method.as_str(), route, response.status().as_u16(), started.elapsed());
    response
}

/// Prometheus metrics
///
/// OpenMetrics text: requests and latency by route, lookups, position fixes, tile cache, live clients. Needs a key
/// when access control is on (scrape with `authorization: {credentials: KEY}`).
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    security(("bearer" = ["read"])),
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String))
)]
async fn render(State(state): State<AppState>) -> Response {
    let g = &state.metrics.gauges;
    g.live_clients.set(state.events.subscribers() as i64);
    g.responders.set(state.responders.fleet().snapshot().all().len() as i64);
    g.incidents.set(state.incidents.ledger().len() as i64);
    g.tile_cache_bytes.set(i64::try_from(state.tiles.cache_bytes()).unwrap_or(i64::MAX));
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.render())
        .into_response()
}
