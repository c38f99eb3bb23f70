//! `/departments` (the register) and `/incidents/{id}/routing` (route, accept, return, transfer); the rules are the
//! department service's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiJson;
use super::incidents::visible_incident;
use super::reply::{Reply, created, reply};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::crs::Crs;
use crate::departments::{Department, DepartmentError, RoutingAction};
use crate::incidents::Incident;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(put, delete)).routes(routes!(routing))
}

impl From<DepartmentError> for ApiError {
    fn from(e: DepartmentError) -> Self {
        let (status, code) = match &e {
            DepartmentError::InvalidCode(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_department_code"),
            DepartmentError::InvalidName => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_department_name"),
            DepartmentError::UnknownCategory { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_category"),
            DepartmentError::CategoryTaken { .. } => (StatusCode::CONFLICT, "category_taken"),
            DepartmentError::NotFound(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_department"),
            DepartmentError::InUse { .. } => (StatusCode::CONFLICT, "department_in_use"),
            DepartmentError::ReasonRequired => (StatusCode::UNPROCESSABLE_ENTITY, "reason_required"),
            DepartmentError::InvalidStep { .. } => (StatusCode::CONFLICT, "invalid_routing_step"),
            DepartmentError::SameDepartment { .. } => (StatusCode::CONFLICT, "same_department"),
            DepartmentError::NotOpen { .. } => (StatusCode::CONFLICT, "incident_not_open"),
            DepartmentError::NoIncident(_) => (StatusCode::NOT_FOUND, "incident_not_found"),
            DepartmentError::Store(s) => return ApiError::store(s),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// The department register
#[utoipa::path(
    get, path = "/departments", tag = "departments",
    security(("bearer" = ["read"])),
    responses((status = 200, body = Vec<Department>))
)]
async fn list(State(state): State<AppState>) -> Result<Json<Vec<Department>>, ApiError> {
    Ok(Json(state.departments.list().await?))
}

/// A department as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DepartmentBody {
    /// Name, e.g. 城管局.
    #[schema(example = "区城管局")]
    name: String,
    /// The categories it handles (each handled by one department at most).
    #[serde(default)]
    #[schema(example = json!(["sanitation", "illegal_construction"]))]
    categories: Vec<String>,
}

/// Add or replace a department (gis_admin)
#[utoipa::path(
    put, path = "/departments/{code}", tag = "departments",
    params(("code" = String, Path)),
    request_body = DepartmentBody,
    security(("bearer" = ["admin"])),
    responses((status = 201, body = Department), (status = 200, body = Department))
)]
async fn put(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<DepartmentBody>,
) -> Result<Reply<Department>, ApiError> {
    let (department, is_new) = state.departments.put(&code, &b.name, &b.categories).await?;
    let action = if is_new { "department.created" } else { "department.updated" };
    let details = serde_json::json!({"name": department.name, "categories": department.categories});
    state.audit.record(&caller.actor(None), action, Some(format!("department:{code}")), details).await;
    Ok(if is_new { created(department, Crs::Wgs84) } else { reply(department, Crs::Wgs84) })
}

/// Remove a department nothing open is with (gis_admin; 409 `department_in_use` otherwise)
#[utoipa::path(
    delete, path = "/departments/{code}", tag = "departments",
    params(("code" = String, Path)),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Department))
)]
async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
) -> Result<Json<Department>, ApiError> {
    let removed = state.departments.delete(&code).await.map_err(|e| match e {
        DepartmentError::NotFound(c) => {
            ApiError::new(StatusCode::NOT_FOUND, "department_not_found", DepartmentError::NotFound(c).to_string())
        }
        other => other.into(),
    })?;
    let details = serde_json::json!({"name": removed.name, "categories": removed.categories});
    state.audit.record(&caller.actor(None), "department.removed", Some(format!("department:{code}")), details).await;
    Ok(Json(removed))
}

/// What a routing step does.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Step {
    /// Send it to `department` (分拨): when it was never routed, or was returned.
    Route,
    /// The department takes it on (受理).
    Accept,
    /// The department sends it back to the router (退回); `reason` is required.
    Return,
    /// Hand it to another `department` (转办).
    Transfer,
}

/// A routing step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoutingBody {
    /// The step.
    action: Step,
    /// The department (for `route` and `transfer`).
    department: Option<String>,
    /// Why (required to return).
    reason: Option<String>,
    /// Who (recorded with the key's name when access control is on).
    actor: Option<String>,
}

/// Route an incident to a department, accept, return or transfer it
///
/// Each step is checked against where the incident stands (`department_state`) and lands in its history with actor
/// and time; `incident.routed` / `.accepted` / `.returned` / `.transferred` go to the live feed.
#[utoipa::path(
    post, path = "/incidents/{id}/routing", tag = "departments",
    params(("id" = i64, Path)),
    request_body = RoutingBody,
    security(("bearer" = ["report"])),
    extensions(("x-area-keys" = json!(true))),
    responses((status = 200, body = Incident))
)]
async fn routing(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RoutingBody>,
) -> Result<Reply<Incident>, ApiError> {
    let id = super::params::id(&id, "incident")?;
    visible_incident(&state, &caller, id).await?;
    let department = || {
        b.department.clone().filter(|d| !d.trim().is_empty()).ok_or_else(|| {
            ApiError::bad_request("missing_field", "field department is required for route and transfer")
                .with_details(serde_json::json!({"field": "department"}))
        })
    };
    let action = match b.action {
        Step::Route => RoutingAction::Route { department: department()? },
        Step::Accept => RoutingAction::Accept,
        Step::Return => RoutingAction::Return { reason: b.reason.clone().unwrap_or_default() },
        Step::Transfer => RoutingAction::Transfer { department: department()?, reason: b.reason.clone() },
    };
    let incident = state.departments.step(id, action, &caller.actor(b.actor.as_deref())).await?;
    state.incidents.took(&incident);
    Ok(reply(incident, Crs::Wgs84))
}
