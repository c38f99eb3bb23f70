//! `/patrols`, `/patrols/gpx`, `/patrols/unpatrolled-grids` and `/grids/{code}/patrol-coverage`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::locate::{parse_crs, point};
use super::params::time_param;
use super::{ApiError, AppState};
use crate::patrols::{Fix, PatrolError, read_gpx};
use crate::responders::ResponderId;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/patrols", post(create))
        .route("/patrols/gpx", post(create_gpx))
        .route("/patrols/unpatrolled-grids", get(unpatrolled))
        .route("/grids/{code}/patrol-coverage", get(coverage))
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackBody {
    responder_id: i64,
    /// `[[lon, lat, "at"], …]`.
    track: Vec<(f64, f64, String)>,
    crs: Option<String>,
}

/// `POST /patrols`: a timestamped track → the stored patrol with the cells and grids it covered.
async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: TrackBody = super::json::parse(body, "patrol")?;
    let crs = parse_crs(b.crs.as_deref())?;
    let fixes = b
        .track
        .iter()
        .enumerate()
        .map(|(i, (x, y, at))| {
            Ok(Fix { location: point(crs, *x, *y, Some(i))?, at: time_param(&format!("track[{i}] time"), at)? })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let recorded = state.patrols.record(ResponderId(b.responder_id), fixes).await?;
    Ok((StatusCode::CREATED, Json(json!(recorded))))
}

#[derive(Deserialize)]
struct GpxQuery {
    responder_id: Option<i64>,
    name: Option<String>,
}

/// `POST /patrols/gpx?responder_id=&name=`: a GPX file as the body.
async fn create_gpx(
    State(state): State<AppState>,
    Query(q): Query<GpxQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = super::json::bytes(body)?;
    let responder = q
        .responder_id
        .ok_or_else(|| ApiError::bad_request("missing_parameter", "parameter responder_id is required"))?;
    let file = q.name.as_deref().unwrap_or("request body");
    let text = std::str::from_utf8(&body).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_gpx", format!("{file}: not UTF-8: {e}"))
    })?;
    let fixes = read_gpx(file, text)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_gpx", e.to_string()))?;
    let recorded = state.patrols.record(ResponderId(responder), fixes).await?;
    Ok((StatusCode::CREATED, Json(json!(recorded))))
}

#[derive(Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /grids/{code}/patrol-coverage?from=&to=`: the share of the grid's cells patrolled in the period (default:
/// the last 7 days) and the unvisited cells as GeoJSON hexagons.
async fn coverage(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let now = OffsetDateTime::now_utc();
    let to = q.to.as_deref().map(|t| time_param("to", t)).transpose()?.unwrap_or(now + time::Duration::seconds(1));
    let from = q.from.as_deref().map(|t| time_param("from", t)).transpose()?.unwrap_or(to - time::Duration::days(7));
    if from >= to {
        return Err(ApiError::bad_request("invalid_period", "from must be before to"));
    }
    let c = state.patrols.coverage(&code, from, to).await?;
    let hexagons: Vec<Value> = c
        .unvisited
        .iter()
        .map(|cell| {
            let ring: Vec<[f64; 2]> = cell.boundary().iter().map(|ll| [ll.lng(), ll.lat()]).collect();
            let mut ring = ring;
            if let Some(first) = ring.first().copied() {
                ring.push(first);
            }
            json!({"type": "Feature", "properties": {"cell": cell.to_string()},
                   "geometry": {"type": "Polygon", "coordinates": [ring]}})
        })
        .collect();
    let mut v = json!(c);
    v["from"] = json!(crate::store::rfc3339(from));
    v["to"] = json!(crate::store::rfc3339(to));
    v["unvisited"] = json!({"type": "FeatureCollection", "features": hexagons});
    Ok(Json(v))
}

#[derive(Deserialize)]
struct DaysQuery {
    days: Option<u32>,
}

/// `GET /patrols/unpatrolled-grids?days=N`: grids no patrol passed in the last N days (default 7).
async fn unpatrolled(State(state): State<AppState>, Query(q): Query<DaysQuery>) -> Result<Json<Value>, ApiError> {
    let days = q.days.unwrap_or(7);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::bad_request("invalid_days", format!("days={days}: expected 1 … 3650")));
    }
    let since = OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    let grids = state.patrols.unpatrolled(since).await?;
    Ok(Json(json!({"days": days, "since": crate::store::rfc3339(since), "count": grids.len(), "grids": grids})))
}
