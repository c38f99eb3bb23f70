//! `GET /stats/grids`: per-grid figures for a period (incidents and patrol coverage), usable as a choropleth (join on
//! `code`).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiQuery;
use super::params::{Time, time};
use super::{ApiError, AppState};
use crate::incidents::IncidentFilter;
use crate::layers::GenerationId;
use crate::stats::GridStats;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(grids))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Reported at or after.
    #[param(inline)]
    from: Option<Time>,
    /// Reported before.
    #[param(inline)]
    to: Option<Time>,
    /// Only this category.
    category: Option<String>,
}

/// Every grid's figures.
#[derive(Debug, Serialize, ToSchema)]
struct GridFigures {
    /// The generation served.
    generation: Option<GenerationId>,
    /// Every grid, in code order.
    grids: Vec<GridStats>,
}

/// Per-grid counts, density, open/closed, time to close
#[utoipa::path(
    get, path = "/stats/grids", tag = "statistics",
    params(Params),
    security(("bearer" = ["read"])),
    responses((status = 200, body = GridFigures))
)]
async fn grids(State(state): State<AppState>, ApiQuery(p): ApiQuery<Params>) -> Result<Json<GridFigures>, ApiError> {
    let filter =
        IncidentFilter { from: time(p.from), to: time(p.to), category: p.category, ..IncidentFilter::default() };
    let patrols = state.patrols.coverage_by_grid(filter.from, filter.to).await?;
    let index = state.locator.current();
    let generation = index.generation();
    let ledger = state.incidents.clone();
    let grids = tokio::task::spawn_blocking(move || crate::stats::grids(&index, ledger.ledger(), &filter, &patrols))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(GridFigures { generation, grids }))
}
