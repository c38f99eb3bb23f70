//! `GET /heatmap`: incidents, hazards or patrol cell visits counted per H3 hexagon, as GeoJSON.

use axum::Json;
use axum::extract::State;
use h3o::Resolution;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiQuery;
use super::params::{Bbox, StatusList, Time, time};
use super::{ApiError, AppState};
use crate::heatmap::{self, HeatmapError, HeatmapQuery};
use crate::incidents::IncidentFilter;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(hexagons))
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

/// What a heatmap counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Source {
    /// Incidents (default).
    #[default]
    Incidents,
    /// Hazards.
    Hazards,
    /// Patrol cell visits.
    Patrols,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HeatmapParams {
    /// What to count (default incidents).
    #[param(inline)]
    source: Option<Source>,
    /// H3 resolution 0 … 15 of the hexagons (default: from `zoom`).
    #[param(minimum = 0, maximum = 15)]
    resolution: Option<u8>,
    /// The map zoom the hexagons are for (picks a resolution).
    #[param(minimum = 0, maximum = 24)]
    zoom: Option<u8>,
    /// Only inside `min_lon,min_lat,max_lon,max_lat` (WGS84).
    #[param(inline)]
    bbox: Option<Bbox>,
    /// Reported (or patrolled) at or after.
    #[param(inline)]
    from: Option<Time>,
    /// Before.
    #[param(inline)]
    to: Option<Time>,
    /// Category (incidents, hazards).
    category: Option<String>,
    /// States (incidents: reported,dispatched,…; hazards: open,rectifying,closed).
    status: Option<String>,
    /// Street code (incidents, hazards).
    street: Option<String>,
    /// Community code (incidents, hazards).
    community: Option<String>,
    /// Grid code.
    grid: Option<String>,
}

fn bad_status(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_status", e.to_string()).with_details(serde_json::json!({"parameter": "status"}))
}

/// H3 hexagons with counts (GeoJSON)
#[utoipa::path(
    get, path = "/heatmap", tag = "statistics",
    params(HeatmapParams),
    security(("bearer" = ["read"])),
    responses((status = 200, description = "A GeoJSON FeatureCollection of hexagons with `cell` and `count`", body = Object))
)]
async fn hexagons(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<HeatmapParams>,
) -> Result<Json<Value>, ApiError> {
    let source = p.source.unwrap_or_default();
    let stored = if source == Source::Patrols { crate::patrols::PATROL_RESOLUTION } else { state.locator.resolution() };
    let resolution = match (p.resolution, p.zoom) {
        (Some(r), _) => Resolution::try_from(r).map_err(|_| {
            ApiError::bad_request("invalid_resolution", format!("resolution={r}: expected 0 … 15"))
                .with_details(serde_json::json!({"parameter": "resolution"}))
        })?,
        (None, Some(z)) => heatmap::resolution_for_zoom(z, stored),
        (None, None) => heatmap::resolution_for_zoom(12, stored),
    };
    let bbox = p.bbox.map(|b| b.0);
    let (from, to) = (time(p.from), time(p.to));
    match source {
        Source::Incidents => {
            let status: StatusList = p.status.as_deref().unwrap_or_default().parse().map_err(bad_status)?;
            let filter = IncidentFilter {
                bbox,
                category: p.category,
                street: p.street,
                community: p.community,
                grid: p.grid,
                status: status.0,
                from,
                to,
                ..IncidentFilter::default()
            };
            let cells = heatmap::incidents(&state.incidents, &HeatmapQuery { resolution, filter }).await?;
            Ok(Json(heatmap::to_geojson(&cells)))
        }
        Source::Hazards => {
            let status = p
                .status
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse::<crate::hazards::HazardStatus>())
                .collect::<Result<_, _>>()
                .map_err(bad_status)?;
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
            Ok(Json(heatmap::to_geojson(&heatmap::roll_up(counts, resolution, None)?)))
        }
        Source::Patrols => {
            if let Some(name) =
                [("category", &p.category), ("status", &p.status), ("street", &p.street), ("community", &p.community)]
                    .iter()
                    .find_map(|(n, v)| v.is_some().then_some(*n))
            {
                return Err(ApiError::bad_request("invalid_parameter", format!("{name} does not apply to patrols"))
                    .with_details(serde_json::json!({"parameter": name})));
            }
            let counts = state.patrols.cell_counts(from, to, p.grid.as_deref()).await?;
            Ok(Json(heatmap::to_geojson(&heatmap::roll_up(counts, resolution, bbox)?)))
        }
    }
}
