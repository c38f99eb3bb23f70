//! `/hazards`: report, list (incl. overdue), read, and move along `open → rectifying → closed`.

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{may_place, narrow, visible};
use super::contract::{ApiJson, ApiQuery};
use super::incidents::View;
use super::locate::point;
use super::params::{Bbox, CrsParam, crs, time_field};
use super::reply::{Page, Reply, created, reply};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::crs::Crs;
use crate::hazards::{
    CreateHazard, DEFAULT_HAZARD_CATEGORIES, Hazard, HazardError, HazardEvent, HazardFilter, HazardId, HazardStatus,
};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(overdue))
        .routes(routes!(read))
        .routes(routes!(transition))
        .routes(routes!(categories))
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

/// A hazard report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewHazard {
    /// One of `GET /hazard-categories`.
    #[schema(required = true, example = "fire_safety")]
    category: Option<String>,
    /// What it is.
    #[serde(default)]
    description: String,
    /// 1 (major) … 4 (minor); default 3.
    #[schema(minimum = 1, maximum = 4)]
    severity: Option<i32>,
    /// The department responsible for putting it right.
    #[schema(required = true)]
    department: Option<String>,
    /// GeoJSON Point, Polygon or MultiPolygon in `crs` (or give `location`).
    #[schema(value_type = Option<Object>)]
    geometry: Option<Value>,
    /// Shorthand for a Point: `[lon, lat]` in `crs`.
    location: Option<[f64; 2]>,
    /// Rectification deadline, RFC 3339.
    #[schema(format = DateTime)]
    due_at: Option<String>,
    /// When found, RFC 3339 (default: now).
    #[schema(format = DateTime)]
    reported_at: Option<String>,
    /// Coordinate system of the geometry (default wgs84).
    #[schema(value_type = Option<String>)]
    crs: Option<CrsParam>,
    /// Who reports.
    actor: Option<String>,
}

/// Report a hazard (point or area)
#[utoipa::path(
    post, path = "/hazards", tag = "hazards",
    request_body = NewHazard,
    security(("bearer" = ["report"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 201, body = Hazard))
)]
async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<NewHazard>,
) -> Result<Reply<Hazard>, ApiError> {
    let missing = |field: &str| ApiError::bad_request("missing_field", format!("field {field} is required"));
    let geometry = match (b.geometry, b.location) {
        (Some(g), None) => g,
        (None, Some(p)) => json!({"type": "Point", "coordinates": p}),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("invalid_hazard", "give geometry or location, not both"));
        }
        (None, None) => return Err(missing("geometry (or location)")),
    };
    let crs = crs(b.crs);
    if caller.scope().is_some()
        && let Some([x, y]) = first_position(&geometry["coordinates"])
    {
        may_place(&state, &caller, point(crs, x, y, None)?)?;
    }
    let hazard = state
        .hazards
        .create(CreateHazard {
            category: b.category.ok_or_else(|| missing("category"))?,
            description: b.description,
            severity: b.severity.unwrap_or(3),
            department: b.department.ok_or_else(|| missing("department"))?,
            geometry,
            crs,
            due_at: b.due_at.as_deref().map(|t| time_field("due_at", t)).transpose()?,
            reported_at: b.reported_at.as_deref().map(|t| time_field("reported_at", t)).transpose()?,
            actor: caller.actor(b.actor.as_deref()),
        })
        .await?;
    Ok(created(hazard, crs))
}

/// A comma-separated list of hazard states.
#[derive(Debug, Clone, Default, ToSchema)]
#[schema(value_type = String, example = "open,rectifying", pattern = r"^((open|rectifying|closed)(,(open|rectifying|closed))*)?$")]
struct HazardStatuses(Vec<HazardStatus>);

impl<'de> Deserialize<'de> for HazardStatuses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<str>::deserialize(d)?;
        raw.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| HazardStatus::from_str(s.trim()))
            .collect::<Result<_, _>>()
            .map(HazardStatuses)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only those whose inside point is in `min_lon,min_lat,max_lon,max_lat` (in `crs`).
    #[param(inline)]
    bbox: Option<Bbox>,
    /// Street code.
    street: Option<String>,
    /// Community code.
    community: Option<String>,
    /// Grid code.
    grid: Option<String>,
    /// Any of these states.
    #[param(inline)]
    status: Option<HazardStatuses>,
    /// Category code.
    category: Option<String>,
    /// Only those not closed and past their deadline.
    overdue: Option<bool>,
    /// Page size, 1 … 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// Coordinate system of `bbox` and of the answer.
    #[param(inline)]
    crs: Option<CrsParam>,
}

/// The first `[x, y]` of a GeoJSON coordinates member, at any nesting depth.
fn first_position(coordinates: &Value) -> Option<[f64; 2]> {
    match coordinates.as_array()?.as_slice() {
        [x, y, ..] if x.is_number() => Some([x.as_f64()?, y.as_f64()?]),
        [first, ..] => first_position(first),
        [] => None,
    }
}

async fn page(state: &AppState, caller: &Caller, q: ListQuery, overdue: bool) -> Result<Reply<Page<Hazard>>, ApiError> {
    let crs: Crs = crs(q.crs);
    let mut f = HazardFilter {
        bbox: q.bbox.map(|b| b.wgs84(crs)),
        street: q.street,
        community: q.community,
        grid: q.grid,
        status: q.status.unwrap_or_default().0,
        category: q.category,
        overdue_at: (overdue || q.overdue.unwrap_or(false)).then(OffsetDateTime::now_utc),
        from: None,
        to: None,
        before_id: q.cursor.map(HazardId),
        limit: super::params::limit(q.limit, 100, 1000)?,
    };
    if !narrow(caller, &mut f.street, &mut f.community) {
        return Ok(reply(Page::empty(), crs));
    }
    let items = state.hazards.list(&f).await?;
    Ok(reply(Page::of(items, f.limit, |h| h.id.to_string()), crs))
}

/// Hazards, newest first
#[utoipa::path(
    get, path = "/hazards", tag = "hazards",
    params(ListQuery),
    security(("bearer" = ["read"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Page<Hazard>))
)]
async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Reply<Page<Hazard>>, ApiError> {
    page(&state, &caller, q, false).await
}

/// Hazards past their deadline
#[utoipa::path(
    get, path = "/hazards/overdue", tag = "hazards",
    params(ListQuery),
    security(("bearer" = ["read"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Page<Hazard>))
)]
async fn overdue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Reply<Page<Hazard>>, ApiError> {
    page(&state, &caller, q, true).await
}

/// A hazard with its history.
#[derive(Debug, Serialize, ToSchema)]
struct HazardDetail {
    #[serde(flatten)]
    hazard: Hazard,
    /// Every step, oldest first.
    history: Vec<HazardEvent>,
}

/// One hazard with history
#[utoipa::path(
    get, path = "/hazards/{id}", tag = "hazards",
    params(("id" = i64, Path), View),
    security(("bearer" = ["read"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = HazardDetail))
)]
async fn read(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(view): ApiQuery<View>,
) -> Result<Reply<HazardDetail>, ApiError> {
    let id: HazardId = super::params::id(&id, "hazard")?;
    let (hazard, history) = state.hazards.get(id).await?;
    visible(&caller, &hazard.geocode, || HazardError::NotFound(id).into())?;
    Ok(reply(HazardDetail { hazard, history }, crs(view.crs)))
}

/// A move along the hazard's life.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct HazardStatusChange {
    /// open, rectifying or closed.
    #[schema(value_type = HazardStatus)]
    status: String,
    /// Who.
    actor: Option<String>,
    /// Why (required to close).
    note: Option<String>,
}

/// Move a hazard along its lifecycle
#[utoipa::path(
    post, path = "/hazards/{id}/status", tag = "hazards",
    params(("id" = i64, Path)),
    request_body = HazardStatusChange,
    security(("bearer" = ["report"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Hazard))
)]
async fn transition(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<HazardStatusChange>,
) -> Result<Json<Hazard>, ApiError> {
    let id: HazardId = super::params::id(&id, "hazard")?;
    if caller.scope().is_some() {
        let (hazard, _) = state.hazards.get(id).await?;
        visible(&caller, &hazard.geocode, || HazardError::NotFound(id).into())?;
    }
    let to: HazardStatus = b
        .status
        .parse()
        .map_err(|e: crate::hazards::UnknownHazardStatus| ApiError::bad_request("invalid_status", e.to_string()))?;
    Ok(Json(state.hazards.transition(id, to, &caller.actor(b.actor.as_deref()), b.note.as_deref()).await?))
}

/// A hazard category.
#[derive(Debug, Serialize, ToSchema)]
struct HazardCategory {
    /// Code.
    code: &'static str,
    /// Chinese name.
    name: &'static str,
}

/// Hazard categories
#[utoipa::path(
    get, path = "/hazard-categories", tag = "hazards",
    security(()),
    responses((status = 200, body = Vec<HazardCategory>))
)]
async fn categories() -> Json<Vec<HazardCategory>> {
    Json(DEFAULT_HAZARD_CATEGORIES.iter().map(|&(code, name)| HazardCategory { code, name }).collect())
}
