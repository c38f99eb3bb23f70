//! `/hazards`: report, list (incl. overdue), read, and move along `open → rectifying → closed`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::access::{may_place, narrow, visible};
use super::locate::{parse_crs, point};
use super::params::time_param;
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::crs::Crs;
use crate::hazards::{CreateHazard, DEFAULT_HAZARD_CATEGORIES, HazardError, HazardFilter, HazardId, HazardStatus};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/hazards", post(create).get(list))
        .route("/hazards/overdue", get(overdue))
        .route("/hazards/{id}", get(read))
        .route("/hazards/{id}/status", post(transition))
        .route("/hazard-categories", get(categories))
}

impl From<HazardError> for ApiError {
    fn from(e: HazardError) -> Self {
        let (status, code) = match &e {
            HazardError::Field { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_hazard"),
            HazardError::NotFound(_) => (StatusCode::NOT_FOUND, "hazard_not_found"),
            HazardError::InvalidTransition { .. } => (StatusCode::CONFLICT, "invalid_transition"),
            HazardError::NoteRequired(_) => (StatusCode::UNPROCESSABLE_ENTITY, "note_required"),
            HazardError::Store(s) => return ApiError::store(s),
        };
        ApiError::new(status, code, e.to_string())
    }
}

fn id_param(raw: &str) -> Result<HazardId, ApiError> {
    raw.parse()
        .map(HazardId)
        .map_err(|_| ApiError::bad_request("invalid_id", format!("hazard id {raw:?} is not a number")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    category: Option<String>,
    #[serde(default)]
    description: String,
    severity: Option<i32>,
    department: Option<String>,
    /// GeoJSON Point, Polygon or MultiPolygon.
    geometry: Option<Value>,
    /// Shorthand for a Point.
    location: Option<[f64; 2]>,
    due_at: Option<String>,
    reported_at: Option<String>,
    crs: Option<String>,
    actor: Option<String>,
}

/// `POST /hazards`.
async fn create(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: CreateBody = super::json::parse(body, "hazard")?;
    let missing = |field: &str| ApiError::bad_request("missing_field", format!("field {field} is required"));
    let geometry = match (b.geometry, b.location) {
        (Some(g), None) => g,
        (None, Some(p)) => json!({"type": "Point", "coordinates": p}),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("invalid_hazard", "give geometry or location, not both"));
        }
        (None, None) => return Err(missing("geometry (or location)")),
    };
    if caller.scope().is_some()
        && let Some([x, y]) = first_position(&geometry["coordinates"])
    {
        may_place(&state, &caller, point(parse_crs(b.crs.as_deref())?, x, y, None)?)?;
    }
    let hazard = state
        .hazards
        .create(CreateHazard {
            category: b.category.ok_or_else(|| missing("category"))?,
            description: b.description,
            severity: b.severity.unwrap_or(3),
            department: b.department.ok_or_else(|| missing("department"))?,
            geometry,
            crs: parse_crs(b.crs.as_deref())?,
            due_at: b.due_at.as_deref().map(|t| time_param("due_at", t)).transpose()?,
            reported_at: b.reported_at.as_deref().map(|t| time_param("reported_at", t)).transpose()?,
            actor: caller.actor(b.actor.as_deref()),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(hazard))))
}

#[derive(Deserialize)]
struct ListQuery {
    bbox: Option<String>,
    street: Option<String>,
    community: Option<String>,
    grid: Option<String>,
    status: Option<String>,
    category: Option<String>,
    overdue: Option<bool>,
    limit: Option<u32>,
    cursor: Option<String>,
    crs: Option<String>,
}

fn filter(q: ListQuery) -> Result<HazardFilter, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", format!("limit={limit}: expected 1 … 1000")));
    }
    let status = match q.status.as_deref() {
        None | Some("") => Vec::new(),
        Some(raw) => raw
            .split(',')
            .map(|s| s.trim().parse::<HazardStatus>())
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::bad_request("invalid_status", e.to_string()))?,
    };
    Ok(HazardFilter {
        bbox: q.bbox.as_deref().map(|b| super::reproject::bbox_in(b, crs)).transpose()?,
        street: q.street,
        community: q.community,
        grid: q.grid,
        status,
        category: q.category,
        overdue_at: q.overdue.unwrap_or(false).then(OffsetDateTime::now_utc),
        from: None,
        to: None,
        before_id: q.cursor.as_deref().map(id_param).transpose()?,
        limit,
    })
}

/// The first `[x, y]` of a GeoJSON coordinates member, at any nesting depth.
fn first_position(coordinates: &Value) -> Option<[f64; 2]> {
    match coordinates.as_array()?.as_slice() {
        [x, y, ..] if x.is_number() => Some([x.as_f64()?, y.as_f64()?]),
        [first, ..] => first_position(first),
        [] => None,
    }
}

async fn page(state: &AppState, caller: &Caller, mut f: HazardFilter, crs: Crs) -> Result<Json<Value>, ApiError> {
    if !narrow(caller, &mut f.street, &mut f.community) {
        return Ok(super::reproject::empty_page());
    }
    let limit = f.limit;
    let items = state.hazards.list(&f).await?;
    Ok(super::reproject::page(&items, limit, |h| json!(h.id.to_string()), crs))
}

/// `GET /hazards?bbox=&street=&community=&grid=&status=&category=&overdue=true&limit=&cursor=`, newest first.
async fn list(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    page(&state, &caller, filter(q)?, crs).await
}

/// `GET /hazards/overdue`: not closed and past their deadline.
async fn overdue(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(mut q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    q.overdue = Some(true);
    let crs = parse_crs(q.crs.as_deref())?;
    page(&state, &caller, filter(q)?, crs).await
}

async fn read(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    axum::extract::Query(view): axum::extract::Query<super::reproject::View>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    let (hazard, history) = state.hazards.get(id).await?;
    visible(&caller, &json!(hazard), || HazardError::NotFound(id).into())?;
    let mut v = json!(hazard);
    v["history"] = json!(history);
    super::reproject::out(&mut v, view.crs()?);
    Ok(Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionBody {
    status: String,
    actor: Option<String>,
    note: Option<String>,
}

/// `POST /hazards/{id}/status` `{"status", "actor"?, "note"?}` (a note is required to close).
async fn transition(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    if caller.scope().is_some() {
        let (hazard, _) = state.hazards.get(id).await?;
        visible(&caller, &json!(hazard), || HazardError::NotFound(id).into())?;
    }
    let b: TransitionBody = super::json::parse(body, "status change")?;
    let to: HazardStatus = b
        .status
        .parse()
        .map_err(|e: crate::hazards::UnknownHazardStatus| ApiError::bad_request("invalid_status", e.to_string()))?;
    let hazard = state.hazards.transition(id, to, &caller.actor(b.actor.as_deref()), b.note.as_deref()).await?;
    Ok(Json(json!(hazard)))
}

/// `GET /hazard-categories`: `[{"code", "name"}]`.
async fn categories() -> Json<Value> {
    Json(Value::Array(DEFAULT_HAZARD_CATEGORIES.iter().map(|(c, n)| json!({"code": c, "name": n})).collect()))
}
