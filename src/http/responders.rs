//! `/responders` and `/positions`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::locate::{parse_crs, point};
use super::{ApiError, AppState};
use crate::responders::{NewResponder, PositionFix, ResponderError, ResponderId, ResponderStatus, roster};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/responders", post(create).get(list))
        .route("/responders/{id}", get(read))
        .route("/responders/{id}/status", put(set_status))
        .route("/responders/{id}/position", put(put_position))
        .route("/responders/{id}/positions", get(history))
        .route("/responders/load", post(load))
        .route("/positions", post(post_positions))
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
                    .with_details(serde_json::json!({"incident_id": incident}))
            }
            ResponderError::Store(s) => ApiError::store(s),
        }
    }
}

fn id_param(raw: &str) -> Result<ResponderId, ApiError> {
    raw.parse()
        .map(ResponderId)
        .map_err(|_| ApiError::bad_request("invalid_id", format!("responder id {raw:?} is not a number")))
}

fn time_field(name: &str, raw: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    raw.map(|t| {
        OffsetDateTime::parse(t, &Rfc3339).map_err(|e| {
            ApiError::bad_request("invalid_time", format!("{name}={t:?} is not an RFC 3339 time with offset: {e}"))
        })
    })
    .transpose()
}

fn status_field(raw: &str) -> Result<ResponderStatus, ApiError> {
    raw.parse()
        .map_err(|e: crate::responders::UnknownResponderStatus| ApiError::bad_request("invalid_status", e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    kind: String,
    #[serde(default)]
    skills: Vec<String>,
    team: Option<String>,
    home_grid: Option<String>,
    status: Option<String>,
    location: Option<[f64; 2]>,
    at: Option<String>,
    crs: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: CreateBody = super::json::parse(body, "responder")?;
    let crs = parse_crs(b.crs.as_deref())?;
    let location = b.location.map(|[x, y]| point(crs, x, y, None)).transpose()?;
    let at = time_field("at", b.at.as_deref())?;
    let responder = state
        .responders
        .create(NewResponder {
            name: b.name,
            kind: b.kind,
            skills: b.skills,
            team: b.team,
            home_grid: b.home_grid,
            status: b.status.as_deref().map(status_field).transpose()?.unwrap_or(ResponderStatus::Available),
            position: location.map(|p| (p, at.unwrap_or_else(OffsetDateTime::now_utc))),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(responder))))
}

fn live_json(r: &crate::responders::LiveResponder) -> Value {
    let mut v = json!(r.responder);
    v["grid_code"] = json!(r.grid_code);
    v
}

async fn list(
    State(state): State<AppState>,
    axum::extract::Query(view): axum::extract::Query<super::reproject::View>,
) -> Result<Json<Value>, ApiError> {
    let fleet = state.responders.fleet().snapshot();
    let mut v = json!({"items": fleet.all().map(live_json).collect::<Vec<_>>()});
    super::reproject::out(&mut v, view.crs()?);
    Ok(Json(v))
}

async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::extract::Query(view): axum::extract::Query<super::reproject::View>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    let fleet = state.responders.fleet().snapshot();
    let r = fleet.get(id).ok_or(ResponderError::NotFound(id))?;
    let mut v = live_json(r);
    super::reproject::out(&mut v, view.crs()?);
    Ok(Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    let b: StatusBody = super::json::parse(body, "status change")?;
    let r = state.responders.set_status(id, status_field(&b.status)?).await?;
    Ok(Json(json!(r)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionBody {
    location: [f64; 2],
    at: Option<String>,
    crs: Option<String>,
}

async fn put_position(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    let b: PositionBody = super::json::parse(body, "position")?;
    let [x, y] = b.location;
    let fix = PositionFix {
        responder: id,
        location: point(parse_crs(b.crs.as_deref())?, x, y, None)?,
        at: time_field("at", b.at.as_deref())?.unwrap_or_else(OffsetDateTime::now_utc),
    };
    state.responders.report_positions(vec![fix]).await.map_err(|e| match e {
        ResponderError::UnknownInBatch { id, .. } => ResponderError::NotFound(id).into(),
        other => ApiError::from(other),
    })?;
    state.metrics.counters.positions.inc();
    Ok(Json(json!({"stored": 1})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchItem {
    responder_id: i64,
    location: [f64; 2],
    at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    positions: Vec<BatchItem>,
    crs: Option<String>,
}

async fn post_positions(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let b: BatchBody = super::json::parse(body, "position batch")?;
    let crs = parse_crs(b.crs.as_deref())?;
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
                at: time_field(&format!("positions[{i}].at"), p.at.as_deref())?.unwrap_or(now),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let stored = state.responders.report_positions(fixes).await?;
    state.metrics.counters.positions.inc_by(stored as u64);
    Ok(Json(json!({"stored": stored})))
}

#[derive(Deserialize)]
struct HistoryQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let id = id_param(&id)?;
    let from = time_field("from", q.from.as_deref())?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let to = time_field("to", q.to.as_deref())?.unwrap_or_else(|| OffsetDateTime::now_utc() + time::Duration::days(1));
    let fixes = state.responders.history(id, from, to).await?;
    let items: Vec<Value> = fixes
        .iter()
        .map(|f| json!({"location": [f.location.lon(), f.location.lat()], "at": crate::store::rfc3339(f.at)}))
        .collect();
    Ok(Json(json!({"responder_id": id, "positions": items})))
}

#[derive(Deserialize)]
struct LoadQuery {
    crs: Option<String>,
    name: Option<String>,
}

/// `POST /responders/load?crs=&name=`: a roster file (CSV or GeoJSON) as the body, stored all or nothing.
async fn load(
    State(state): State<AppState>,
    Query(q): Query<LoadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = super::json::bytes(body)?;
    let crs = parse_crs(q.crs.as_deref())?;
    let file = q.name.as_deref().unwrap_or("request body");
    let new = roster::parse(file, &body, crs, OffsetDateTime::now_utc())
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_roster", e.to_string()))?;
    let stored = state.responders.load(new).await?;
    let ids: Vec<ResponderId> = stored.iter().map(|r| r.id).collect();
    Ok((StatusCode::CREATED, Json(json!({"loaded": ids.len(), "ids": ids}))))
}
