//! `/incidents`: report, list, read, and move along the lifecycle.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::{may_place, narrow, visible};
use super::locate::{parse_crs, point};
use super::params::{statuses_param, time_param};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::incidents::{CreateIncident, IncidentError, IncidentFilter, IncidentId, IncidentStatus};
use crate::responders::ResponderId;
use crate::store::{AssignMode, Assignment, AssignmentChange};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", post(create).get(list))
        .route("/incidents/{id}", get(read))
        .route("/incidents/{id}/status", post(transition))
        .route("/incidents/{id}/assign", post(assign))
        .route("/incidents/{id}/unassign", post(unassign))
        .route("/incident-categories", get(categories))
}

impl From<IncidentError> for ApiError {
    fn from(e: IncidentError) -> Self {
        let (status, code) = match &e {
            IncidentError::UnknownCategory { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_category"),
            IncidentError::Priority(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_priority"),
            IncidentError::OutsideServiceArea { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "outside_service_area"),
            IncidentError::NotFound(_) => (StatusCode::NOT_FOUND, "incident_not_found"),
            IncidentError::InvalidTransition { .. } => (StatusCode::CONFLICT, "invalid_transition"),
            IncidentError::NoSuchResponder(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_responder"),
            IncidentError::ResponderNotAvailable { .. } => (StatusCode::CONFLICT, "responder_not_available"),
            IncidentError::AlreadyAssigned { .. } => (StatusCode::CONFLICT, "already_assigned"),
            IncidentError::AlreadyOnIncident { .. } => (StatusCode::CONFLICT, "already_on_incident"),
            IncidentError::NotAssigned(_) => (StatusCode::CONFLICT, "not_assigned"),
            IncidentError::Store(s) => return ApiError::store(s),
        };
        ApiError::new(status, code, e.to_string())
    }
}

pub(super) fn id_param(raw: &str) -> Result<IncidentId, ApiError> {
    raw.parse()
        .map(IncidentId)
        .map_err(|_| ApiError::bad_request("invalid_id", format!("incident id {raw:?} is not a number")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    location: Option<[f64; 2]>,
    category: Option<String>,
    #[serde(default)]
    description: String,
    priority: Option<i32>,
    source: Option<String>,
    address: Option<String>,
    reported_at: Option<String>,
    crs: Option<String>,
    actor: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: CreateBody = super::json::parse(body, "incident")?;
    let missing = |field: &str| ApiError::bad_request("missing_field", format!("field {field} is required"));
    let [x, y] = b.location.ok_or_else(|| missing("location"))?;
    let location = point(parse_crs(b.crs.as_deref())?, x, y, None)?;
    may_place(&state, &caller, location)?;
    let category = b.category.ok_or_else(|| missing("category"))?;
    let reported_at = b.reported_at.as_deref().map(|t| time_param("reported_at", t)).transpose()?;
    let incident = state
        .incidents
        .create(CreateIncident {
            category,
            description: b.description,
            priority: b.priority.unwrap_or(3),
            source: b.source.unwrap_or_else(|| "dispatcher".into()),
            address: b.address,
            location,
            reported_at,
            actor: caller.actor(b.actor.as_deref()),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(incident))))
}

#[derive(Deserialize)]
struct ListQuery {
    bbox: Option<String>,
    street: Option<String>,
    community: Option<String>,
    grid: Option<String>,
    status: Option<String>,
    category: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    crs: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(mut q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    if !narrow(&caller, &mut q.street, &mut q.community) {
        return Ok(super::reproject::empty_page());
    }
    let crs = parse_crs(q.crs.as_deref())?;
    let bbox = q.bbox.as_deref().map(|b| super::reproject::bbox_in(b, crs)).transpose()?;
    let status = statuses_param(q.status.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", format!("limit={limit}: expected 1 … 1000")));
    }
    let filter = IncidentFilter {
        bbox,
        street: q.street,
        community: q.community,
        grid: q.grid,
        status,
        category: q.category,
        from: q.from.as_deref().map(|t| time_param("from", t)).transpose()?,
        to: q.to.as_deref().map(|t| time_param("to", t)).transpose()?,
        before_id: q.cursor.as_deref().map(id_param).transpose()?,
        limit,
    };
    let items = state.incidents.list(&filter).await?;
    Ok(super::reproject::page(&items, limit, |i| json!(i.id.to_string()), crs))
}

async fn read(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    axum::extract::Query(view): axum::extract::Query<super::reproject::View>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    let (incident, history) = state.incidents.get(id).await?;
    visible(&caller, &json!(incident), || IncidentError::NotFound(id).into())?;
    let assignments = state.incidents.assignments(id).await?;
    let mut v = json!(incident);
    v["history"] = json!(history);
    v["assigned"] =
        json!(assignments.iter().filter(|a| a.released_at.is_none()).map(|a| a.responder_id).collect::<Vec<_>>());
    v["assignments"] = json!(assignments);
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

async fn transition(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    if caller.scope().is_some() {
        let (incident, _) = state.incidents.get(id).await?;
        visible(&caller, &json!(incident), || IncidentError::NotFound(id).into())?;
    }
    let b: TransitionBody = super::json::parse(body, "status change")?;
    let to: IncidentStatus = b
        .status
        .parse()
        .map_err(|e: crate::incidents::UnknownStatus| ApiError::bad_request("invalid_status", e.to_string()))?;
    let change = state.incidents.transition(id, to, &caller.actor(b.actor.as_deref()), b.note.as_deref()).await?;
    adopt(&state, &change);
    let mut v = json!(change.incident);
    v["released"] = json!(change.released);
    Ok(Json(v))
}

/// The fleet takes in the responders whose status an incident change moved.
fn adopt(state: &AppState, change: &AssignmentChange) {
    for r in change.assigned.iter().chain(&change.released) {
        state.responders.adopt(r);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    responder_id: i64,
    actor: Option<String>,
    ranking: Option<Value>,
    #[serde(default)]
    replace: bool,
    #[serde(default)]
    additional: bool,
}

/// `POST /incidents/{id}/assign`: the responder becomes busy and the incident dispatched, together. `replace`
/// releases whoever is on it; `additional` sends another unit. Without `ranking`, the server's recommendation at
/// this moment is recorded.
async fn assign(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    let b: AssignBody = super::json::parse(body, "assignment")?;
    let mode = match (b.replace, b.additional) {
        (true, true) => {
            return Err(ApiError::bad_request("invalid_assignment", "replace and additional exclude each other"));
        }
        (true, false) => AssignMode::Replace,
        (false, true) => AssignMode::Additional,
        (false, false) => AssignMode::First,
    };
    let ranking = match b.ranking {
        Some(r) => json!({"source": "client", "shown": r}),
        None => {
            let rec = super::dispatch::recommendation(&state, id, Default::default()).await?;
            json!({"source": "server", "shown": rec["candidates"]})
        }
    };
    let a = Assignment {
        incident: id,
        responder: ResponderId(b.responder_id),
        actor: caller.actor(b.actor.as_deref()),
        ranking,
        mode,
    };
    let change = state.incidents.assign(&a).await?;
    adopt(&state, &change);
    let details = json!({"responder": a.responder, "mode": format!("{mode:?}").to_lowercase(),
        "released": change.released.iter().map(|r| r.id).collect::<Vec<_>>(), "ranking": a.ranking});
    state.audit.record(&a.actor, "incident.assigned", Some(format!("incident:{id}")), details).await;
    Ok(Json(json!({"incident": change.incident, "responder": change.assigned, "released": change.released})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnassignBody {
    responder_id: Option<i64>,
    actor: Option<String>,
    note: Option<String>,
}

/// `POST /incidents/{id}/unassign`: releases one responder (or everyone); a dispatched incident left with nobody
/// goes back to `reported`.
async fn unassign(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    let b: UnassignBody = super::json::parse(body, "release")?;
    let actor = caller.actor(b.actor.as_deref());
    let change = state.incidents.unassign(id, b.responder_id.map(ResponderId), &actor, b.note.as_deref()).await?;
    adopt(&state, &change);
    let details = json!({"released": change.released.iter().map(|r| r.id).collect::<Vec<_>>(), "note": b.note});
    state.audit.record(&actor, "incident.unassigned", Some(format!("incident:{id}")), details).await;
    Ok(Json(json!({"incident": change.incident, "released": change.released})))
}

/// `GET /incident-categories`: `[{"code", "name"}]`.
async fn categories(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<Value> =
        state.incidents.categories().into_iter().map(|(code, name)| json!({"code": code, "name": name})).collect();
    Json(Value::Array(list))
}
