//! Generations: list, activate, roll back.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::layers::GenerationId;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/generations", get(list))
        .route("/generations/{generation}/activate", post(activate))
        .route("/generations/rollback", post(rollback))
}

async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let generations = state.catalog.store().generations().await.map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({"generations": generations})))
}

async fn activate(State(state): State<AppState>, Path(generation): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = generation.parse::<i64>().map(GenerationId).map_err(|_| {
        ApiError::bad_request("invalid_generation", format!("generation {generation:?} is not a number"))
    })?;
    state.catalog.activate(id).await?;
    Ok(Json(json!({"active": id})))
}

async fn rollback(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let id = state.catalog.rollback().await?;
    Ok(Json(json!({"active": id})))
}
