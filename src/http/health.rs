//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The process is up.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the store answers and boundaries are loaded (`tiles_prepared` tells whether the boundary tile shapes
/// of the served generation are built yet; tiles are served either way).
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = state.catalog.store();
    let db = store.ping().await;
    let generation = state.locator.current().generation();
    let ready = db.is_ok() && generation.is_some();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "store": {"backend": store.backend(), "ok": db.is_ok()},
        "generation": generation,
        "tiles_prepared": state.tiles.prepared(),
    });
    if let Err(e) = db {
        tracing::warn!(error = %e, "readiness: store does not answer");
    }
    (status, Json(body))
}
