//! `/dispatch/nearest`, `/dispatch/policy` and `/incidents/{id}/recommend`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::locate::{parse_crs, point};
use super::{ApiError, AppState};
use crate::coord::LonLat;
use crate::dispatch::{Candidate, DISTANCE_METHOD, Place, Request};
use crate::incidents::{Incident, IncidentId};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/dispatch/nearest", get(nearest))
        .route("/dispatch/policy", get(policy))
        .route("/incidents/{id}/recommend", post(recommend))
}

fn k_param(k: Option<usize>) -> Result<usize, ApiError> {
    let k = k.unwrap_or(5);
    if (1..=100).contains(&k) {
        Ok(k)
    } else {
        Err(ApiError::bad_request("invalid_k", format!("k={k}: expected 1 … 100")))
    }
}

fn distance_param(d: Option<f64>) -> Result<Option<f64>, ApiError> {
    match d {
        Some(d) if !(d.is_finite() && d >= 0.0) => {
            Err(ApiError::bad_request("invalid_distance", "max_distance_m must be a non-negative number"))
        }
        other => Ok(other),
    }
}

/// The place of a point under the active generation: its grid and that grid's community.
fn place_at(state: &AppState, p: LonLat) -> Place {
    let (grid_code, community_code) = crate::locate::grid_and_community(&state.locator.current(), p);
    Place { grid_code, community_code }
}

/// The answer of both endpoints, serialised straight from the candidates (no intermediate `Value`).
#[derive(Serialize)]
struct Answer<'a> {
    grid_code: &'a Option<String>,
    community_code: &'a Option<String>,
    skill: &'a Option<String>,
    team: &'a Option<String>,
    distance: &'static str,
    eta_method: &'static str,
    candidates: &'a [Candidate],
}

impl<'a> Answer<'a> {
    fn new(state: &AppState, req: &'a Request, candidates: &'a [Candidate]) -> Self {
        Answer {
            grid_code: &req.place.grid_code,
            community_code: &req.place.community_code,
            skill: &req.skill,
            team: &req.team,
            distance: DISTANCE_METHOD,
            eta_method: state.dispatch.eta_method(),
            candidates,
        }
    }
}

fn answer(state: &AppState, req: &Request, candidates: &[Candidate]) -> Value {
    json!(Answer::new(state, req, candidates))
}

#[derive(Deserialize)]
struct NearestParams {
    lon: Option<String>,
    lat: Option<String>,
    k: Option<usize>,
    skill: Option<String>,
    team: Option<String>,
    max_distance_m: Option<f64>,
    crs: Option<String>,
}

/// `GET /dispatch/nearest`: the k nearest eligible responders, by great-circle distance.
async fn nearest(State(state): State<AppState>, Query(q): Query<NearestParams>) -> Result<Response, ApiError> {
    let number = |name: &str, raw: &Option<String>| -> Result<f64, ApiError> {
        let raw = raw
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("missing_parameter", format!("parameter {name} is required")))?;
        raw.trim()
            .parse()
            .map_err(|_| ApiError::bad_request("invalid_coordinate", format!("{name}={raw:?} is not a number")))
    };
    let p = point(parse_crs(q.crs.as_deref())?, number("lon", &q.lon)?, number("lat", &q.lat)?, None)?;
    let req = Request {
        point: p,
        place: place_at(&state, p),
        k: k_param(q.k)?,
        skill: q.skill.filter(|s| !s.is_empty()),
        team: q.team.filter(|t| !t.is_empty()),
        max_distance_m: distance_param(q.max_distance_m)?,
        now: OffsetDateTime::now_utc(),
    };
    let candidates = state.dispatch.nearest(&state.responders.fleet().snapshot(), &req);
    Ok(Json(Answer::new(&state, &req, &candidates)).into_response())
}

/// `GET /dispatch/policy`: the policy in force.
async fn policy(State(state): State<AppState>) -> Json<Value> {
    let mut v = json!(state.dispatch.policy());
    v["eta_method"] = json!(state.dispatch.eta_method());
    v["distance"] = json!(DISTANCE_METHOD);
    Json(v)
}

/// What a recommendation may override.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RecommendBody {
    k: Option<usize>,
    skill: Option<String>,
    team: Option<String>,
    max_distance_m: Option<f64>,
}

/// The request for an incident: its location and place as geocoded, the category's skill unless overridden.
pub(super) fn incident_request(state: &AppState, incident: &Incident, b: RecommendBody) -> Result<Request, ApiError> {
    let [x, y] = incident.location;
    let point = LonLat::new(x, y).map_err(|e| ApiError::internal(&e))?;
    let skill = match b.skill {
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s),
        None => state.dispatch.policy().skill_for(&incident.category).map(str::to_owned),
    };
    Ok(Request {
        point,
        place: Place {
            grid_code: incident.geocode.grid_code.clone(),
            community_code: incident.geocode.community_code.clone(),
        },
        k: k_param(b.k)?,
        skill,
        team: b.team.filter(|t| !t.is_empty()),
        max_distance_m: distance_param(b.max_distance_m)?,
        now: OffsetDateTime::now_utc(),
    })
}

/// The recommendation for an incident, as answered and as recorded with an assignment.
pub(super) async fn recommendation(state: &AppState, id: IncidentId, b: RecommendBody) -> Result<Value, ApiError> {
    let (incident, _) = state.incidents.get(id).await?;
    let req = incident_request(state, &incident, b)?;
    let candidates = state.dispatch.recommend(&state.responders.fleet().snapshot(), &req);
    let mut v = answer(state, &req, &candidates);
    v["incident_id"] = json!(incident.id);
    v["category"] = json!(incident.category);
    v["policy"] =
        json!({"prefer": state.dispatch.policy().prefer, "stale_positions": state.dispatch.policy().stale_positions});
    Ok(v)
}

/// `POST /incidents/{id}/recommend` (body optional: `k`, `skill` ("" for none), `team`, `max_distance_m`).
async fn recommend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = super::incidents::id_param(&id)?;
    let b: RecommendBody = match &body {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => RecommendBody::default(),
        _ => super::json::parse(body, "recommendation request")?,
    };
    Ok(Json(recommendation(&state, id, b).await?))
}
