//! `/incidents`: report, list, read, move along the lifecycle, assign and release (the use cases are the incident
//! and dispatch services'; these handlers parse and answer).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{may_place, narrow, visible};
use super::contract::{ApiJson, ApiQuery};
use super::locate::point;
use super::params::{Bbox, CrsParam, StatusList, Time, crs, time, time_field};
use super::reply::{Page, Reply, created, reply};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::dispatch::AssignOrder;
use crate::incidents::{
    AssignmentRecord, CreateIncident, Incident, IncidentError, IncidentEvent, IncidentFilter, IncidentId,
    IncidentStatus,
};
use crate::responders::{Responder, ResponderId};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(read))
        .routes(routes!(transition))
        .routes(routes!(satisfaction))
        .routes(routes!(assign))
        .routes(routes!(unassign))
        .routes(routes!(categories))
}

impl From<IncidentError> for ApiError {
    fn from(e: IncidentError) -> Self {
        let (status, code) = match &e {
            IncidentError::UnknownCategory { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_category"),
            IncidentError::Priority(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_priority"),
            IncidentError::Rating(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rating"),
            IncidentError::NotResolved { .. } => (StatusCode::CONFLICT, "not_resolved"),
            IncidentError::TooLong { field, .. } => {
                let details = serde_json::json!({"field": field});
                return ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "field_too_long", e.to_string())
                    .with_details(details);
            }
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

/// The incident, refused as not found when it lies outside the caller's area.
pub(super) async fn visible_incident(state: &AppState, caller: &Caller, id: IncidentId) -> Result<(), ApiError> {
    if caller.scope().is_some() {
        let (incident, _) = state.incidents.get(id).await?;
        visible(caller, &incident.geocode, || IncidentError::NotFound(id).into())?;
    }
    Ok(())
}

fn missing(field: &str) -> ApiError {
    ApiError::bad_request("missing_field", format!("field {field} is required"))
        .with_details(serde_json::json!({"field": field}))
}

/// A report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewIncident {
    /// `[lon, lat]` in `crs`.
    #[schema(required = true, example = json!([118.79, 32.02]))]
    location: Option<[f64; 2]>,
    /// One of `GET /incident-categories`.
    #[schema(required = true, example = "fire")]
    category: Option<String>,
    /// Free text.
    #[serde(default)]
    description: String,
    /// 1 (most urgent) … 5 (default 3).
    #[schema(minimum = 1, maximum = 5)]
    priority: Option<i32>,
    /// Reporting channel (`grid_worker`, `hotline`, `video`, …; default `dispatcher`).
    source: Option<String>,
    /// Address as reported.
    address: Option<String>,
    /// Who called it in: name and/or phone as taken down (at most 200 characters).
    #[schema(example = "王女士 138****5678")]
    caller: Option<String>,
    /// RFC 3339 (default: now).
    #[schema(format = DateTime)]
    reported_at: Option<String>,
    /// Coordinate system of `location` (default wgs84).
    #[schema(value_type = Option<String>)]
    crs: Option<CrsParam>,
    /// Who reports (recorded with the key's name when access control is on).
    actor: Option<String>,
}

/// Report an incident (geocoded on write)
#[utoipa::path(
    post, path = "/incidents", tag = "incidents",
    request_body = NewIncident,
    security(("bearer" = ["report"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 201, body = Incident))
)]
async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<NewIncident>,
) -> Result<Reply<Incident>, ApiError> {
    let [x, y] = b.location.ok_or_else(|| missing("location"))?;
    let location = point(crs(b.crs), x, y, None)?;
    may_place(&state, &caller, location)?;
    let category = b.category.ok_or_else(|| missing("category"))?;
    let reported_at = b.reported_at.as_deref().map(|t| time_field("reported_at", t)).transpose()?;
    let incident = state
        .incidents
        .create(CreateIncident {
            category,
            description: b.description,
            priority: b.priority.unwrap_or(3),
            source: b.source.unwrap_or_else(|| "dispatcher".into()),
            address: b.address,
            caller: b.caller,
            location,
            reported_at,
            actor: caller.actor(b.actor.as_deref()),
        })
        .await?;
    Ok(created(incident, crs(b.crs)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only those inside `min_lon,min_lat,max_lon,max_lat` (in `crs`).
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
    status: Option<StatusList>,
    /// Category code.
    category: Option<String>,
    /// Reported at or after.
    #[param(inline)]
    from: Option<Time>,
    /// Reported before.
    #[param(inline)]
    to: Option<Time>,
    /// Page size, 1 … 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// `true`: only open incidents past their deadline (`due_at`).
    overdue: Option<bool>,
    /// Coordinate system of `bbox` and of the answer.
    #[param(inline)]
    crs: Option<CrsParam>,
}

/// Incidents, newest first
#[utoipa::path(
    get, path = "/incidents", tag = "incidents",
    params(ListQuery),
    security(("bearer" = ["read"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Page<Incident>))
)]
async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(mut q): ApiQuery<ListQuery>,
) -> Result<Reply<Page<Incident>>, ApiError> {
    let crs = crs(q.crs);
    if !narrow(&caller, &mut q.street, &mut q.community) {
        return Ok(reply(Page::empty(), crs));
    }
    let limit = super::params::limit(q.limit, 100, 1000)?;
    let filter = IncidentFilter {
        bbox: q.bbox.map(|b| b.wgs84(crs)),
        street: q.street,
        community: q.community,
        grid: q.grid,
        grids: Vec::new(),
        status: q.status.unwrap_or_default().0,
        category: q.category,
        from: time(q.from),
        to: time(q.to),
        before_id: q.cursor.map(IncidentId),
        limit,
        overdue: q.overdue.unwrap_or(false),
    };
    let items = state.incidents.list(&filter).await?;
    Ok(reply(Page::of(items, limit, |i| i.id.to_string()), crs))
}

/// An incident with its history and who is on it.
#[derive(Debug, Serialize, ToSchema)]
struct IncidentDetail {
    #[serde(flatten)]
    incident: Incident,
    /// Every step, oldest first.
    history: Vec<IncidentEvent>,
    /// Responders on it now.
    assigned: Vec<ResponderId>,
    /// Every assignment, oldest first (who sent whom, the ranking they saw, when and why it ended).
    assignments: Vec<AssignmentRecord>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct View {
    /// Coordinate system of the answer.
    #[param(inline)]
    pub(super) crs: Option<CrsParam>,
}

/// One incident with history and assignments
#[utoipa::path(
    get, path = "/incidents/{id}", tag = "incidents",
    params(("id" = i64, Path), View),
    security(("bearer" = ["read"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = IncidentDetail))
)]
async fn read(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(view): ApiQuery<View>,
) -> Result<Reply<IncidentDetail>, ApiError> {
    let id = super::params::id(&id, "incident")?;
    let (incident, history) = state.incidents.get(id).await?;
    visible(&caller, &incident.geocode, || IncidentError::NotFound(id).into())?;
    let assignments = state.incidents.assignments(id).await?;
    let assigned = assignments.iter().filter(|a| a.released_at.is_none()).map(|a| a.responder_id).collect();
    Ok(reply(IncidentDetail { incident, history, assigned, assignments }, crs(view.crs)))
}

/// A move along the lifecycle.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct IncidentStatusChange {
    /// The state to move to.
    status: IncidentStatus,
    /// Who (recorded with the key's name when access control is on).
    actor: Option<String>,
    /// Why (required to close).
    note: Option<String>,
}

/// The incident after a change, and the responders it released.
#[derive(Debug, Serialize, ToSchema)]
struct Transitioned {
    #[serde(flatten)]
    incident: Incident,
    /// Responders released by it (resolving, closing or cancelling releases everyone on it).
    released: Vec<Responder>,
}

/// Move an incident along its lifecycle
#[utoipa::path(
    post, path = "/incidents/{id}/status", tag = "incidents",
    params(("id" = i64, Path)),
    request_body = IncidentStatusChange,
    security(("bearer" = ["report"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Transitioned))
)]
async fn transition(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Transitioned>, ApiError> {
    let id = super::params::id(&id, "incident")?;
    visible_incident(&state, &caller, id).await?;
    let b: IncidentStatusChange = super::json::parse(body).map_err(|e| e.recode_field("status", "invalid_status"))?;
    let change = state.dispatch.transition(id, b.status, &caller.actor(b.actor.as_deref()), b.note.as_deref()).await?;
    Ok(Json(Transitioned { incident: change.incident, released: change.released }))
}

/// The reporter's satisfaction (回访).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SatisfactionBody {
    /// 1 (very dissatisfied) … 5 (very satisfied).
    #[schema(minimum = 1, maximum = 5)]
    rating: i32,
    /// What the reporter said (at most 1 000 characters).
    comment: Option<String>,
    /// Who recorded it (recorded with the key's name when access control is on).
    actor: Option<String>,
}

/// Record the reporter's satisfaction with a resolved incident
///
/// Once the incident is resolved or closed (else 409 `not_resolved`). Sending it again corrects the record; the audit
/// log (`incident.rated`, `incident.rating_corrected`) keeps each value with who recorded it.
#[utoipa::path(
    put, path = "/incidents/{id}/satisfaction", tag = "incidents",
    params(("id" = i64, Path)),
    request_body = SatisfactionBody,
    security(("bearer" = ["report"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Incident))
)]
async fn satisfaction(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SatisfactionBody>,
) -> Result<Reply<Incident>, ApiError> {
    let id = super::params::id(&id, "incident")?;
    visible_incident(&state, &caller, id).await?;
    let actor = caller.actor(b.actor.as_deref());
    let (incident, replaced) = state.incidents.rate(id, b.rating, b.comment, &actor).await?;
    let recorded = incident.satisfaction.as_ref();
    let details = serde_json::json!({
        "rating": recorded.map(|s| s.rating),
        "comment": recorded.and_then(|s| s.comment.clone()),
        "replaced": replaced.as_ref().map(|s| serde_json::json!({"rating": s.rating, "comment": s.comment,
            "recorded_by": s.recorded_by, "recorded_at": crate::times::rfc3339(s.recorded_at)})),
    });
    let action = if replaced.is_some() { "incident.rating_corrected" } else { "incident.rated" };
    state.audit.record(&actor, action, Some(format!("incident:{id}")), details).await;
    Ok(reply(incident, crs(None)))
}

/// Send a responder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    /// Who goes.
    responder_id: i64,
    /// Who decides (recorded with the key's name when access control is on).
    actor: Option<String>,
    /// The candidates the dispatcher saw (kept for audit; the server's recommendation now when absent).
    #[schema(value_type = Option<Object>)]
    ranking: Option<serde_json::Value>,
    /// Release whoever is on it and send this responder instead.
    #[serde(default)]
    replace: bool,
    /// Send this responder as another unit.
    #[serde(default)]
    additional: bool,
}

/// What an assignment did.
#[derive(Debug, Serialize, ToSchema)]
struct Assigned {
    /// The incident after it.
    incident: Incident,
    /// The responder sent (now busy).
    responder: Option<Responder>,
    /// Responders released (replaced).
    released: Vec<Responder>,
}

/// Assign a responder (replace / additional)
///
/// The responder becomes busy and the incident dispatched, together; a responder is on one incident at a time.
#[utoipa::path(
    post, path = "/incidents/{id}/assign", tag = "dispatch",
    params(("id" = i64, Path)),
    request_body = AssignBody,
    security(("bearer" = ["dispatch"])),
    responses((status = 200, body = Assigned))
)]
async fn assign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssignBody>,
) -> Result<Json<Assigned>, ApiError> {
    let id = super::params::id(&id, "incident")?;
    let order = AssignOrder {
        incident: id,
        responder: ResponderId(b.responder_id),
        actor: caller.actor(b.actor.as_deref()),
        ranking: b.ranking,
        replace: b.replace,
        additional: b.additional,
    };
    let change = state.dispatch.assign(order).await?;
    Ok(Json(Assigned { incident: change.incident, responder: change.assigned, released: change.released }))
}

/// Release one responder, or everyone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UnassignBody {
    /// Who (everyone on it when absent).
    responder_id: Option<i64>,
    /// Who decides.
    actor: Option<String>,
    /// Why.
    note: Option<String>,
}

/// What a release did.
#[derive(Debug, Serialize, ToSchema)]
struct Released {
    /// The incident after it (back to `reported` when nobody is left on a dispatched one).
    incident: Incident,
    /// The responders released.
    released: Vec<Responder>,
}

/// Release a responder or everyone
#[utoipa::path(
    post, path = "/incidents/{id}/unassign", tag = "dispatch",
    params(("id" = i64, Path)),
    request_body = UnassignBody,
    security(("bearer" = ["dispatch"])),
    responses((status = 200, body = Released))
)]
async fn unassign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<UnassignBody>,
) -> Result<Json<Released>, ApiError> {
    let id = super::params::id(&id, "incident")?;
    let actor = caller.actor(b.actor.as_deref());
    let change = state.dispatch.unassign(id, b.responder_id.map(ResponderId), &actor, b.note.as_deref()).await?;
    Ok(Json(Released { incident: change.incident, released: change.released }))
}

/// A category.
#[derive(Debug, Serialize, ToSchema)]
struct Category {
    /// Code.
    code: String,
    /// Chinese name (the code for categories without one).
    name: String,
}

/// Accepted incident categories
#[utoipa::path(
    get, path = "/incident-categories", tag = "incidents",
    security(()),
    responses((status = 200, body = Vec<Category>))
)]
async fn categories(State(state): State<AppState>) -> Json<Vec<Category>> {
    Json(state.incidents.categories().into_iter().map(|(code, name)| Category { code, name }).collect())
}
