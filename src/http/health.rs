//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::layers::GenerationId;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

/// The process is up.
#[derive(Debug, Serialize, ToSchema)]
struct Alive {
    /// `ok`.
    status: &'static str,
}

/// Liveness
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, body = Alive)))]
async fn healthz() -> Json<Alive> {
    Json(Alive { status: "ok" })
}

/// The store's part of readiness.
#[derive(Debug, Serialize, ToSchema)]
struct StoreHealth {
    /// `sqlite` or `postgres`.
    backend: &'static str,
    /// It answers.
    ok: bool,
}

/// Whether the server can answer.
#[derive(Debug, Serialize, ToSchema)]
struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// The store.
    store: StoreHealth,
    /// The generation served.
    generation: Option<GenerationId>,
    /// Whether the boundary tile shapes of the served generation are built (tiles are served either way).
    tiles_prepared: bool,
}

/// Readiness (store answers, boundaries loaded)
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    security(()),
    responses((status = 200, body = Readiness), (status = 503, description = "Not ready", body = Readiness))
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let store = state.catalog.store();
    let db = store.ping().await;
    let generation = state.locator.current().generation();
    let ready = db.is_ok() && generation.is_some();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readiness: store does not answer");
    }
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        store: StoreHealth { backend: store.backend(), ok: db.is_ok() },
        generation,
        tiles_prepared: state.tiles.prepared(),
    };
    (status, Json(body))
}
