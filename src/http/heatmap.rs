//! `GET /heatmap`: incident counts per H3 hexagon as GeoJSON.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use h3o::Resolution;
use serde::Deserialize;
use serde_json::Value;

use super::params::{bbox_param, statuses_param, time_param};
use super::{ApiError, AppState};
use crate::heatmap::{self, HeatmapError, HeatmapQuery};
use crate::incidents::IncidentFilter;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/heatmap", get(hexagons))
}

impl From<HeatmapError> for ApiError {
    fn from(e: HeatmapError) -> Self {
        match e {
            HeatmapError::TooFine { .. } => ApiError::bad_request("invalid_resolution", e.to_string()),
            HeatmapError::Incidents(e) => e.into(),
            other => ApiError::internal(&other),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeatmapParams {
    source: Option<String>,
    resolution: Option<u8>,
    zoom: Option<u8>,
    bbox: Option<String>,
    from: Option<String>,
    to: Option<String>,
    category: Option<String>,
    status: Option<String>,
    street: Option<String>,
    community: Option<String>,
    grid: Option<String>,
}

async fn hexagons(State(state): State<AppState>, Query(p): Query<HeatmapParams>) -> Result<Json<Value>, ApiError> {
    match p.source.as_deref() {
        None | Some("incidents") => {}
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_source",
                format!("source={other:?}: only incidents can be aggregated so far"),
            ));
        }
    }
    let stored = state.locator.resolution();
    let resolution = match (p.resolution, p.zoom) {
        (Some(r), _) => Resolution::try_from(r)
            .map_err(|_| ApiError::bad_request("invalid_resolution", format!("resolution={r}: expected 0 … 15")))?,
        (None, Some(z)) => heatmap::resolution_for_zoom(z, stored),
        (None, None) => heatmap::resolution_for_zoom(12, stored),
    };
    let filter = IncidentFilter {
        bbox: p.bbox.as_deref().map(bbox_param).transpose()?,
        category: p.category,
        street: p.street,
        community: p.community,
        grid: p.grid,
        status: statuses_param(p.status.as_deref())?,
        from: p.from.as_deref().map(|t| time_param("from", t)).transpose()?,
        to: p.to.as_deref().map(|t| time_param("to", t)).transpose()?,
        ..IncidentFilter::default()
    };
    let cells = heatmap::incidents(&state.incidents, &HeatmapQuery { resolution, filter }).await?;
    Ok(Json(heatmap::to_geojson(&cells)))
}
