//! `/dispatch/nearest`, `/dispatch/policy` and `/incidents/{id}/recommend`: parse, hand on to the dispatch service.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::{ApiQuery, OptionalJson};
use super::locate::point;
use super::params::{CrsParam, crs};
use super::{ApiError, AppState};
use crate::dispatch::{DISTANCE_METHOD, DispatchError, DispatchPolicy, Ranking, Search};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(nearest)).routes(routes!(policy)).routes(routes!(recommend))
}

impl From<DispatchError> for ApiError {
    fn from(e: DispatchError) -> Self {
        let parameter = |name: &str| serde_json::json!({"parameter": name});
        match e {
            DispatchError::K(_) => ApiError::bad_request("invalid_k", e.to_string()).with_details(parameter("k")),
            DispatchError::Distance(_) => {
                ApiError::bad_request("invalid_distance", e.to_string()).with_details(parameter("max_distance_m"))
            }
            DispatchError::Minutes(_) => {
                ApiError::bad_request("invalid_minutes", e.to_string()).with_details(parameter("minutes"))
            }
            DispatchError::Mode => ApiError::bad_request("invalid_assignment", e.to_string()),
            DispatchError::Incident(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct NearestQuery {
    /// Longitude (in `crs`).
    #[param(example = 118.79)]
    lon: f64,
    /// Latitude (in `crs`).
    #[param(example = 32.02)]
    lat: f64,
    /// How many, 1 … 100 (default 5).
    #[param(minimum = 1, maximum = 100)]
    k: Option<usize>,
    /// Only responders with this skill.
    skill: Option<String>,
    /// Only responders of this team.
    team: Option<String>,
    /// Farthest great-circle distance, metres.
    #[param(minimum = 0)]
    max_distance_m: Option<f64>,
    /// Coordinate system of the point.
    #[param(inline)]
    crs: Option<CrsParam>,
}

/// Nearest available responders
///
/// The k nearest eligible responders by great-circle distance; eligibility (available, skill, team, distance,
/// fresh position) is applied before k.
#[utoipa::path(
    get, path = "/dispatch/nearest", tag = "dispatch",
    params(NearestQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Ranking))
)]
async fn nearest(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<NearestQuery>,
) -> Result<Json<Ranking>, ApiError> {
    let p = point(crs(q.crs), q.lon, q.lat, None)?;
    let search = Search { k: q.k, skill: q.skill, team: q.team, max_distance_m: q.max_distance_m };
    Ok(Json(state.dispatch.nearest(p, search)?))
}

/// The policy in force.
#[derive(Debug, Serialize, ToSchema)]
struct PolicyInForce {
    #[serde(flatten)]
    policy: DispatchPolicy,
    /// How ETAs are estimated.
    eta_method: &'static str,
    /// How distances are measured.
    distance: &'static str,
}

/// The dispatch policy in force
#[utoipa::path(
    get, path = "/dispatch/policy", tag = "dispatch",
    security(("bearer" = ["read"])),
    responses((status = 200, body = PolicyInForce))
)]
async fn policy(State(state): State<AppState>) -> Json<PolicyInForce> {
    let d = state.dispatch.dispatcher();
    Json(PolicyInForce { policy: d.policy().clone(), eta_method: d.eta_method(), distance: DISTANCE_METHOD })
}

/// What a recommendation may override (all optional; the body may be empty).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RecommendBody {
    /// How many, 1 … 100 (default 5).
    k: Option<usize>,
    /// Required skill ("" for none; default: the one the incident's category needs).
    skill: Option<String>,
    /// Required team.
    team: Option<String>,
    /// Farthest great-circle distance, metres.
    max_distance_m: Option<f64>,
}

/// Responders ranked by the dispatch policy
#[utoipa::path(
    post, path = "/incidents/{id}/recommend", tag = "dispatch",
    params(("id" = i64, Path)),
    request_body(content = Option<RecommendBody>),
    security(("bearer" = ["dispatch"])),
    responses((status = 200, body = Ranking))
)]
async fn recommend(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(id): Path<String>,
    OptionalJson(b): OptionalJson<RecommendBody>,
) -> Result<Json<Ranking>, ApiError> {
    let id = super::params::id(&id, "incident")?;
    super::incidents::visible_incident(&state, &caller, id).await?;
    let b = b.unwrap_or_default();
    let search = Search { k: b.k, skill: b.skill, team: b.team, max_distance_m: b.max_distance_m };
    Ok(Json(state.dispatch.recommend(id, search).await?))
}
