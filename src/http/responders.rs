//! `/responders` and `/positions`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::{ApiJson, ApiQuery};
use super::incidents::View;
use super::locate::point;
use super::params::{CrsParam, Time, crs, time, time_field};
use super::reply::{Reply, created, reply};
use super::{ApiError, AppState};
use crate::crs::Position;
use crate::responders::{
    LiveResponder, NewResponder, PositionFix, Responder, ResponderError, ResponderId, ResponderStatus, roster,
};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(read))
        .routes(routes!(set_status))
        .routes(routes!(put_position))
        .routes(routes!(history))
        .routes(routes!(load))
        .routes(routes!(post_positions))
}

impl From<ResponderError> for ApiError {
    fn from(e: ResponderError) -> Self {
        match &e {
            ResponderError::Empty(_) | ResponderError::EmptyInBatch(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "empty_field", e.to_string())
            }
            ResponderError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "responder_not_found", e.to_string()),
            ResponderError::UnknownInBatch { index, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "responder_not_found", e.to_string())
                    .with_details(json!({"index": index}))
            }
            ResponderError::UnknownKind { index, known, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_kind", e.to_string())
                    .with_details(json!({"index": index, "kinds": known}))
            }
            ResponderError::UnknownGrid { index, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_grid", e.to_string())
                    .with_details(json!({"index": index}))
            }
            ResponderError::OnIncident { incident, .. } => {
                ApiError::new(StatusCode::CONFLICT, "responder_on_incident", e.to_string())
                    .with_details(json!({"incident_id": incident}))
            }
            ResponderError::Store(s) => ApiError::store(s),
        }
    }
}

/// A new responder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewResponderBody {
    /// Display name.
    name: String,
    /// One of the dispatch policy's kinds (`grid_worker`, `enforcement`, `vehicle` by default).
    #[schema(example = "grid_worker")]
    kind: String,
    /// What they can handle (matched against a request's skill).
    #[serde(default)]
    skills: Vec<String>,
    /// Team.
    team: Option<String>,
    /// The grid they are responsible for (a grid of the served generation).
    home_grid: Option<String>,
    /// Initial status (default available).
    status: Option<ResponderStatus>,
    /// First position `[lon, lat]` in `crs`.
    location: Option<[f64; 2]>,
    /// When the first position was taken, RFC 3339 (default: now).
    #[schema(format = DateTime)]
    at: Option<String>,
    /// Coordinate system of `location`.
    #[schema(value_type = Option<String>)]
    crs: Option<CrsParam>,
}

/// Add a responder
#[utoipa::path(
    post, path = "/responders", tag = "responders",
    request_body = NewResponderBody,
    security(("bearer" = ["dispatch"])),
    responses((status = 201, body = Responder))
)]
async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Reply<Responder>, ApiError> {
    let b: NewResponderBody = super::json::parse(body).map_err(|e| e.recode_field("status", "invalid_status"))?;
    let crs = crs(b.crs);
    let location = b.location.map(|[x, y]| point(crs, x, y, None)).transpose()?;
    let at = b.at.as_deref().map(|t| time_field("at", t)).transpose()?;
    let responder = state
        .responders
        .create(NewResponder {
            name: b.name,
            kind: b.kind,
            skills: b.skills,
            team: b.team,
            home_grid: b.home_grid,
            status: b.status.unwrap_or(ResponderStatus::Available),
            position: location.map(|p| (p, at.unwrap_or_else(OffsetDateTime::now_utc))),
        })
        .await?;
    Ok(created(responder, crs))
}

/// A responder as the live fleet has it.
#[derive(Debug, Serialize, ToSchema)]
struct Live {
    #[serde(flatten)]
    responder: Responder,
    /// Grid of the latest position.
    grid_code: Option<String>,
}

impl From<&LiveResponder> for Live {
    fn from(r: &LiveResponder) -> Self {
        Self { responder: r.responder.clone(), grid_code: r.grid_code.clone() }
    }
}

/// Every responder.
#[derive(Debug, Serialize, ToSchema)]
struct Roster {
    /// In id order.
    items: Vec<Live>,
}

/// Responders with live positions
#[utoipa::path(
    get, path = "/responders", tag = "responders",
    params(View),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Roster))
)]
async fn list(State(state): State<AppState>, ApiQuery(view): ApiQuery<View>) -> Reply<Roster> {
    let fleet = state.responders.fleet().snapshot();
    reply(Roster { items: fleet.all().map(Live::from).collect() }, crs(view.crs))
}

/// One responder
#[utoipa::path(
    get, path = "/responders/{id}", tag = "responders",
    params(("id" = i64, Path), View),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Live))
)]
async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(view): ApiQuery<View>,
) -> Result<Reply<Live>, ApiError> {
    let id: ResponderId = super::params::id(&id, "responder")?;
    let fleet = state.responders.fleet().snapshot();
    let r = fleet.get(id).ok_or(ResponderError::NotFound(id))?;
    Ok(reply(Live::from(r), crs(view.crs)))
}

/// A new availability.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResponderStatusChange {
    /// available, busy or off_duty (a responder on an incident stays busy until released there).
    status: ResponderStatus,
}

/// Change availability
#[utoipa::path(
    put, path = "/responders/{id}/status", tag = "responders",
    params(("id" = i64, Path)),
    request_body = ResponderStatusChange,
    security(("bearer" = ["report"])),
    responses((status = 200, body = Responder))
)]
async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Responder>, ApiError> {
    let id: ResponderId = super::params::id(&id, "responder")?;
    let b: ResponderStatusChange = super::json::parse(body).map_err(|e| e.recode_field("status", "invalid_status"))?;
    Ok(Json(state.responders.set_status(id, b.status).await?))
}

/// One position report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PositionBody {
    /// `[lon, lat]` in `crs`.
    location: [f64; 2],
    /// When it was taken, RFC 3339 (default: now).
    #[schema(format = DateTime)]
    at: Option<String>,
    /// Coordinate system of `location`.
    #[schema(value_type = Option<String>)]
    crs: Option<CrsParam>,
}

/// How many fixes were stored.
#[derive(Debug, Serialize, ToSchema)]
struct Stored {
    /// Fixes written (acknowledged means stored).
    stored: usize,
}

/// Report one position
#[utoipa::path(
    put, path = "/responders/{id}/position", tag = "responders",
    params(("id" = i64, Path)),
    request_body = PositionBody,
    security(("bearer" = ["report"])),
    responses((status = 200, body = Stored))
)]
async fn put_position(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PositionBody>,
) -> Result<Json<Stored>, ApiError> {
    let id: ResponderId = super::params::id(&id, "responder")?;
    let [x, y] = b.location;
    let fix = PositionFix {
        responder: id,
        location: point(crs(b.crs), x, y, None)?,
        at: b.at.as_deref().map(|t| time_field("at", t)).transpose()?.unwrap_or_else(OffsetDateTime::now_utc),
    };
    state.responders.report_positions(vec![fix]).await.map_err(|e| match e {
        ResponderError::UnknownInBatch { id, .. } => ResponderError::NotFound(id).into(),
        other => ApiError::from(other),
    })?;
    state.metrics.counters.positions.inc();
    Ok(Json(Stored { stored: 1 }))
}

/// One fix of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BatchItem {
    /// Whose.
    responder_id: i64,
    /// `[lon, lat]` in the batch's `crs`.
    location: [f64; 2],
    /// When it was taken, RFC 3339 (default: now).
    #[schema(format = DateTime)]
    at: Option<String>,
}

/// A batch of position reports (all stored or none).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    /// The fixes.
    positions: Vec<BatchItem>,
    /// Coordinate system of every `location`.
    #[schema(value_type = Option<String>)]
    crs: Option<CrsParam>,
}

/// Report a batch of positions
#[utoipa::path(
    post, path = "/positions", tag = "responders",
    request_body = BatchBody,
    security(("bearer" = ["report"])),
    responses((status = 200, body = Stored))
)]
async fn post_positions(
    State(state): State<AppState>,
    ApiJson(b): ApiJson<BatchBody>,
) -> Result<Json<Stored>, ApiError> {
    let crs = crs(b.crs);
    let now = OffsetDateTime::now_utc();
    let fixes = b
        .positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let [x, y] = p.location;
            Ok(PositionFix {
                responder: ResponderId(p.responder_id),
                location: point(crs, x, y, Some(i))?,
                at: p.at.as_deref().map(|t| time_field(&format!("positions[{i}].at"), t)).transpose()?.unwrap_or(now),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let stored = state.responders.report_positions(fixes).await?;
    state.metrics.counters.positions.inc_by(stored as u64);
    Ok(Json(Stored { stored }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// From (default: the beginning).
    #[param(inline)]
    from: Option<Time>,
    /// Before (default: tomorrow).
    #[param(inline)]
    to: Option<Time>,
}

/// One position of the history.
#[derive(Debug, Serialize, ToSchema)]
struct PastPosition {
    /// `[lon, lat]`.
    location: Position,
    /// When, RFC 3339.
    #[schema(format = DateTime)]
    at: String,
}

/// A responder's positions.
#[derive(Debug, Serialize, ToSchema)]
struct History {
    /// Whose.
    responder_id: ResponderId,
    /// Oldest first.
    positions: Vec<PastPosition>,
}

/// Position history
#[utoipa::path(
    get, path = "/responders/{id}/positions", tag = "responders",
    params(("id" = i64, Path), HistoryQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = History))
)]
async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    let id: ResponderId = super::params::id(&id, "responder")?;
    let from = time(q.from).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let to = time(q.to).unwrap_or_else(|| OffsetDateTime::now_utc() + time::Duration::days(1));
    let fixes = state.responders.history(id, from, to).await?;
    let positions =
        fixes.iter().map(|f| PastPosition { location: f.location.into(), at: crate::times::rfc3339(f.at) }).collect();
    Ok(Json(History { responder_id: id, positions }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LoadQuery {
    /// Coordinate system of the positions.
    #[param(inline)]
    crs: Option<CrsParam>,
    /// The file's name, for messages (its extension says CSV or GeoJSON).
    name: Option<String>,
}

/// What a roster load stored.
#[derive(Debug, Serialize, ToSchema)]
struct LoadedRoster {
    /// How many.
    loaded: usize,
    /// Their ids, in file order.
    ids: Vec<ResponderId>,
}

/// Load a roster (CSV or GeoJSON), all or none
#[utoipa::path(
    post, path = "/responders/load", tag = "responders",
    params(LoadQuery),
    request_body(content = String, description = "CSV (name,kind,skills,team,home_grid,status,lon,lat,at) or GeoJSON points", content_type = "text/csv"),
    security(("bearer" = ["admin"])),
    responses((status = 201, body = LoadedRoster))
)]
async fn load(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LoadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<LoadedRoster>), ApiError> {
    let body = super::json::bytes(body)?;
    let file = q.name.as_deref().unwrap_or("request body");
    let new = roster::parse(file, &body, crs(q.crs), OffsetDateTime::now_utc())
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_roster", e.to_string()))?;
    let stored = state.responders.load(new).await?;
    let ids: Vec<ResponderId> = stored.iter().map(|r| r.id).collect();
    Ok((StatusCode::CREATED, Json(LoadedRoster { loaded: ids.len(), ids })))
}
