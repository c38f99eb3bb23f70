//! `/patrols`, `/patrols/gpx`, `/patrols/unpatrolled-grids` and `/grids/{code}/patrol-coverage`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::{ApiJson, ApiQuery};
use super::locate::point;
use super::params::{CrsParam, Time, crs, time, time_field};
use super::{ApiError, AppState};
use crate::patrols::{Coverage, Fix, PatrolError, Recorded, Unpatrolled, read_gpx};
use crate::responders::ResponderId;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(create_gpx))
        .routes(routes!(unpatrolled))
        .routes(routes!(coverage))
}

impl From<PatrolError> for ApiError {
    fn from(e: PatrolError) -> Self {
        let (status, code) = match &e {
            PatrolError::Track(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_track"),
            PatrolError::UnknownResponder(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_responder"),
            PatrolError::UnknownGrid(_) => (StatusCode::NOT_FOUND, "grid_not_found"),
            PatrolError::Store(s) => return ApiError::store(s),
            PatrolError::Task(_) => return ApiError::internal(&e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// A timestamped track.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TrackBody {
    /// Who walked it.
    responder_id: i64,
    /// `[[lon, lat, "RFC 3339 time"], …]` in `crs`, times increasing.
    #[schema(value_type = Vec<Vec<Object>>, example = json!([[118.79, 32.02, "2026-11-28T09:00:00+08:00"], [118.791, 32.02, "2026-11-28T09:00:20+08:00"]]))]
    track: Vec<(f64, f64, String)>,
    /// Coordinate system of the positions.
    #[schema(value_type = Option<String>)]
    crs: Option<CrsParam>,
}

/// Store a patrol track (cells and grids covered)
#[utoipa::path(
    post, path = "/patrols", tag = "patrols",
    request_body = TrackBody,
    security(("bearer" = ["report"])),
    responses((status = 201, body = Recorded))
)]
async fn create(
    State(state): State<AppState>,
    ApiJson(b): ApiJson<TrackBody>,
) -> Result<(StatusCode, Json<Recorded>), ApiError> {
    let crs = crs(b.crs);
    let fixes = b
        .track
        .iter()
        .enumerate()
        .map(|(i, (x, y, at))| {
            Ok(Fix { location: point(crs, *x, *y, Some(i))?, at: time_field(&format!("track[{i}] time"), at)? })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let recorded = state.patrols.record(ResponderId(b.responder_id), fixes).await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct GpxQuery {
    /// Who walked it.
    responder_id: i64,
    /// The file's name, for messages.
    name: Option<String>,
}

/// Store a GPX track as a patrol
#[utoipa::path(
    post, path = "/patrols/gpx", tag = "patrols",
    params(GpxQuery),
    request_body(content = String, description = "A GPX file with timed track points", content_type = "application/gpx+xml"),
    security(("bearer" = ["report"])),
    responses((status = 201, body = Recorded))
)]
async fn create_gpx(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<GpxQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Recorded>), ApiError> {
    let body = super::json::bytes(body)?;
    let file = q.name.as_deref().unwrap_or("request body");
    let text = std::str::from_utf8(&body).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_gpx", format!("{file}: not UTF-8: {e}"))
    })?;
    let fixes = read_gpx(file, text)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_gpx", e.to_string()))?;
    let recorded = state.patrols.record(ResponderId(q.responder_id), fixes).await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PeriodQuery {
    /// From (default: 7 days before `to`).
    #[param(inline)]
    from: Option<Time>,
    /// Before (default: now).
    #[param(inline)]
    to: Option<Time>,
}

/// A grid's coverage in a period, with the cells nobody reached.
#[derive(Debug, Serialize, ToSchema)]
struct GridCoverage {
    #[serde(flatten)]
    coverage: Coverage,
    /// Start of the period, RFC 3339.
    from: String,
    /// End of the period, RFC 3339.
    to: String,
    /// The unvisited cells as a GeoJSON FeatureCollection of hexagons (property `cell`).
    #[schema(value_type = Object)]
    unvisited: Value,
}

/// Share of a grid's cells patrolled
///
/// The share of the grid's cells (H3 resolution 11, centre inside) patrolled in the period (default: the last 7
/// days) and the unvisited cells as GeoJSON hexagons.
#[utoipa::path(
    get, path = "/grids/{code}/patrol-coverage", tag = "patrols",
    params(("code" = String, Path), PeriodQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = GridCoverage))
)]
async fn coverage(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<GridCoverage>, ApiError> {
    let now = OffsetDateTime::now_utc();
    let to = time(q.to).unwrap_or(now + time::Duration::seconds(1));
    let from = time(q.from).unwrap_or(to - time::Duration::days(7));
    if from >= to {
        return Err(ApiError::bad_request("invalid_period", "from must be before to"));
    }
    let c = state.patrols.coverage(&code, from, to).await?;
    let hexagons: Vec<Value> = c
        .unvisited
        .iter()
        .map(|cell| {
            let mut ring: Vec<[f64; 2]> = cell.boundary().iter().map(|ll| [ll.lng(), ll.lat()]).collect();
            if let Some(first) = ring.first().copied() {
                ring.push(first);
            }
            json!({"type": "Feature", "properties": {"cell": cell.to_string()},
                   "geometry": {"type": "Polygon", "coordinates": [ring]}})
        })
        .collect();
    Ok(Json(GridCoverage {
        coverage: c,
        from: crate::times::rfc3339(from),
        to: crate::times::rfc3339(to),
        unvisited: json!({"type": "FeatureCollection", "features": hexagons}),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DaysQuery {
    /// The last N days, 1 … 3650 (default 7).
    #[param(minimum = 1, maximum = 3650)]
    days: Option<u32>,
}

/// Grids no patrol passed.
#[derive(Debug, Serialize, ToSchema)]
struct UnpatrolledGrids {
    /// The period's length in days.
    days: u32,
    /// Its start, RFC 3339.
    since: String,
    /// How many grids.
    count: usize,
    /// The grids, in code order.
    grids: Vec<Unpatrolled>,
}

/// Grids not patrolled in the last days
#[utoipa::path(
    get, path = "/patrols/unpatrolled-grids", tag = "patrols",
    params(DaysQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = UnpatrolledGrids))
)]
async fn unpatrolled(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<UnpatrolledGrids>, ApiError> {
    let days = q.days.unwrap_or(7);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::bad_request("invalid_days", format!("days={days}: expected 1 … 3650"))
            .with_details(json!({"parameter": "days"})));
    }
    let since = OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    let grids = state.patrols.unpatrolled(since).await?;
    Ok(Json(UnpatrolledGrids { days, since: crate::times::rfc3339(since), count: grids.len(), grids }))
}
