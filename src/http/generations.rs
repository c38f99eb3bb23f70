//! Generations: list, activate, roll back, discard a staged one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::layers::{GenerationId, GenerationInfo};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(activate))
        .routes(routes!(rollback))
        .routes(routes!(discard))
}

fn generation_param(raw: &str) -> Result<GenerationId, ApiError> {
    raw.parse::<i64>()
        .map(GenerationId)
        .map_err(|_| ApiError::bad_request("invalid_generation", format!("generation {raw:?} is not a number")))
}

/// Every generation.
#[derive(Debug, Serialize, ToSchema)]
struct Generations {
    /// Newest first.
    generations: Vec<GenerationInfo>,
}

/// The generation served after a switch.
#[derive(Debug, Serialize, ToSchema)]
struct Active {
    /// Its id.
    active: GenerationId,
}

/// Generations, newest first
#[utoipa::path(
    get, path = "/generations", tag = "boundaries",
    security(("bearer" = ["read"])),
    responses((status = 200, body = Generations))
)]
async fn list(State(state): State<AppState>) -> Result<Json<Generations>, ApiError> {
    Ok(Json(Generations { generations: state.catalog.store().generations().await? }))
}

/// Make a generation the active one
#[utoipa::path(
    post, path = "/generations/{generation}/activate", tag = "boundaries",
    params(("generation" = i64, Path)),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Active))
)]
async fn activate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(generation): Path<String>,
) -> Result<Json<Active>, ApiError> {
    let id = generation_param(&generation)?;
    let before = state.locator.current().generation();
    state.catalog.activate(id).await?;
    let details = json!({"previous": before});
    state.audit.record(&caller.actor(None), "generation.activated", Some(format!("generation:{id}")), details).await;
    Ok(Json(Active { active: id }))
}

/// Discard a staged generation that was never active (409 otherwise)
#[utoipa::path(
    delete, path = "/generations/{generation}", tag = "boundaries",
    params(("generation" = i64, Path)),
    security(("bearer" = ["admin"])),
    responses((status = 204, description = "Discarded"))
)]
async fn discard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(generation): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = generation_param(&generation)?;
    state.catalog.discard(id).await?;
    state.audit.record(&caller.actor(None), "generation.discarded", Some(format!("generation:{id}")), json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Return to the generation active before
#[utoipa::path(
    post, path = "/generations/rollback", tag = "boundaries",
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Active))
)]
async fn rollback(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Active>, ApiError> {
    let before = state.locator.current().generation();
    let id = state.catalog.rollback().await?;
    let details = json!({"previous": before});
    state.audit.record(&caller.actor(None), "generation.rolled_back", Some(format!("generation:{id}")), details).await;
    Ok(Json(Active { active: id }))
}
