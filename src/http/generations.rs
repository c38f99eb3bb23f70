//! Generations: list, activate, roll back, discard a staged one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::layers::GenerationId;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/generations", get(list))
        .route("/generations/{generation}/activate", post(activate))
        .route("/generations/rollback", post(rollback))
        .route("/generations/{generation}", delete(discard))
}

async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let generations = state.catalog.store().generations().await?;
    Ok(Json(json!({"generations": generations})))
}

async fn activate(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(generation): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = generation.parse::<i64>().map(GenerationId).map_err(|_| {
        ApiError::bad_request("invalid_generation", format!("generation {generation:?} is not a number"))
    })?;
    let before = state.locator.current().generation();
    state.catalog.activate(id).await?;
    let details = json!({"previous": before});
    state.audit.record(&caller.actor(None), "generation.activated", Some(format!("generation:{id}")), details).await;
    Ok(Json(json!({"active": id})))
}

async fn discard(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(generation): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = generation.parse::<i64>().map(GenerationId).map_err(|_| {
        ApiError::bad_request("invalid_generation", format!("generation {generation:?} is not a number"))
    })?;
    state.catalog.discard(id).await?;
    state.audit.record(&caller.actor(None), "generation.discarded", Some(format!("generation:{id}")), json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn rollback(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let before = state.locator.current().generation();
    let id = state.catalog.rollback().await?;
    let details = json!({"previous": before});
    state.audit.record(&caller.actor(None), "generation.rolled_back", Some(format!("generation:{id}")), details).await;
    Ok(Json(json!({"active": id})))
}
