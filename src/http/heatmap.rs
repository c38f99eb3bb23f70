//! `GET /heatmap`: incidents, hazards or patrol cell visits counted per H3 hexagon, as GeoJSON.

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

/// What a heatmap counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Incidents,
    Hazards,
    Patrols,
}

async fn hexagons(State(state): State<AppState>, Query(p): Query<HeatmapParams>) -> Result<Json<Value>, ApiError> {
    let source = match p.source.as_deref() {
        None | Some("incidents") => Source::Incidents,
        Some("hazards") => Source::Hazards,
        Some("patrols") => Source::Patrols,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_source",
                format!("source={other:?}: expected incidents, hazards or patrols"),
            ));
        }
    };
    let stored = if source == Source::Patrols { crate::patrols::PATROL_RESOLUTION } else { state.locator.resolution() };
    let resolution = match (p.resolution, p.zoom) {
        (Some(r), _) => Resolution::try_from(r)
            .map_err(|_| ApiError::bad_request("invalid_resolution", format!("resolution={r}: expected 0 … 15")))?,
        (None, Some(z)) => heatmap::resolution_for_zoom(z, stored),
        (None, None) => heatmap::resolution_for_zoom(12, stored),
    };
    let bbox = p.bbox.as_deref().map(bbox_param).transpose()?;
    let from = p.from.as_deref().map(|t| time_param("from", t)).transpose()?;
    let to = p.to.as_deref().map(|t| time_param("to", t)).transpose()?;
    match source {
        Source::Incidents => {}
        Source::Hazards => {
            let status = match p.status.as_deref() {
                None | Some("") => Vec::new(),
                Some(raw) => raw
                    .split(',')
                    .map(|s| s.trim().parse::<crate::hazards::HazardStatus>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| ApiError::bad_request("invalid_status", e.to_string()))?,
            };
            let filter = crate::hazards::HazardFilter {
                bbox,
                street: p.street,
                community: p.community,
                grid: p.grid,
                status,
                category: p.category,
                from,
                to,
                ..Default::default()
            };
            let counts = state.hazards.cell_counts(&filter).await?;
            return Ok(Json(heatmap::to_geojson(&heatmap::roll_up(counts, resolution, None)?)));
        }
        Source::Patrols => {
            if let Some(name) =
                [("category", &p.category), ("status", &p.status), ("street", &p.street), ("community", &p.community)]
                    .iter()
                    .find_map(|(n, v)| v.is_some().then_some(*n))
            {
                return Err(ApiError::bad_request("invalid_parameter", format!("{name} does not apply to patrols")));
            }
            let counts = state.patrols.cell_counts(from, to, p.grid.as_deref()).await?;
            return Ok(Json(heatmap::to_geojson(&heatmap::roll_up(counts, resolution, bbox)?)));
        }
    }
    let filter = IncidentFilter {
        bbox,
        category: p.category,
        street: p.street,
        community: p.community,
        grid: p.grid,
        status: statuses_param(p.status.as_deref())?,
        from,
        to,
        ..IncidentFilter::default()
    };
    let cells = heatmap::incidents(&state.incidents, &HeatmapQuery { resolution, filter }).await?;
    Ok(Json(heatmap::to_geojson(&cells)))
}
