//! `GET /stats/grids`: per-grid figures for a period (incidents and patrol coverage), usable as a choropleth (join on
//! `code`).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::time_param;
use super::{ApiError, AppState};
use crate::incidents::IncidentFilter;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/stats/grids", get(grids))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    from: Option<String>,
    to: Option<String>,
    category: Option<String>,
}

async fn grids(State(state): State<AppState>, Query(p): Query<Params>) -> Result<Json<Value>, ApiError> {
    let filter = IncidentFilter {
        from: p.from.as_deref().map(|t| time_param("from", t)).transpose()?,
        to: p.to.as_deref().map(|t| time_param("to", t)).transpose()?,
        category: p.category,
        ..IncidentFilter::default()
    };
    let patrols = state.patrols.coverage_by_grid(filter.from, filter.to).await?;
    let index = state.locator.current();
    let ledger = state.incidents.clone();
    let rows = tokio::task::spawn_blocking(move || crate::stats::grids(&index, ledger.ledger(), &filter, &patrols))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({"generation": state.locator.current().generation(), "grids": rows})))
}
