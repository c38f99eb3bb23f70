//! Road networks over HTTP: `POST /roads` (a road file, multipart), `GET /roads`, `GET /route`, `GET /reach` and
//! `GET /dispatch/coverage`. Handlers parse and hand on to the road and dispatch services.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiQuery;
use super::locate::point;
use super::params::{CrsParam, crs};
use super::reply::{Reply, reply};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::coord::LonLat;
use crate::crs::{GeometryOut, Position};
use crate::dispatch::{Coverage, MAX_MINUTES};
use crate::roads::{ImportedNetwork, NetworkInfo, ProfileName, RoadError, RouteError, SnapInfo};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_roads, networks))
        .routes(routes!(route))
        .routes(routes!(reach))
        .routes(routes!(coverage))
}

impl From<RoadError> for ApiError {
    fn from(e: RoadError) -> Self {
        match e {
            RoadError::Format { .. } | RoadError::Empty { .. } | RoadError::Io { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "road_file_rejected", e.to_string())
            }
            RoadError::Store(e) => ApiError::store(&e),
            RoadError::Task(_) => ApiError::internal(&e),
        }
    }
}

impl From<RouteError> for ApiError {
    fn from(e: RouteError) -> Self {
        let which = match &e {
            RouteError::OffRoad { which, .. } => *which,
            RouteError::NoRoads(_) => "profile",
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "no_road_nearby", e.to_string())
            .with_details(serde_json::json!({"parameter": which}))
    }
}

fn no_network() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "no_road_network",
        "no road network is loaded: import one with `gridmap import-roads FILE` or POST /api/v1/roads",
    )
}

/// The upload form.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes the multipart form for the OpenAPI document; read field by field")]
struct RoadForm {
    /// An OpenStreetMap extract (`.osm.pbf`) or GeoJSON lines with `highway`, `oneway`, `maxspeed` properties.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Read and build only, store nothing (true/false).
    dry_run: Option<bool>,
}

/// Import a road network (multipart): read, build every profile's graph, store it and serve it
///
/// Replaces the served network at once (other replicas load it too); a file that cannot be read is a 422
/// `road_file_rejected` naming the way or feature and field, and changes nothing.
#[utoipa::path(
    post, path = "/roads", tag = "roads",
    request_body(content = RoadForm, content_type = "multipart/form-data"),
    security(("bearer" = ["admin"])),
    responses((status = 201, body = ImportedNetwork), (status = 200, description = "A dry run", body = ImportedNetwork))
)]
async fn import_roads(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    mut form: Multipart,
) -> Result<(StatusCode, Json<ImportedNetwork>), ApiError> {
    let bad = super::imports::multipart_error;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut dry_run = false;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().unwrap_or("roads").to_owned();
                file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
            }
            "dry_run" => {
                dry_run = super::imports::flag("dry_run", &field.text().await.map_err(bad)?)?;
            }
            other => {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    format!("unknown form field {other:?}: file, dry_run"),
                )
                .with_details(serde_json::json!({"field": other})));
            }
        }
    }
    let Some((name, bytes)) = file else {
        return Err(ApiError::bad_request("invalid_field", "the form has no file part")
            .with_details(serde_json::json!({"field": "file"})));
    };
    let actor = caller.actor(None);
    let imported = state.roads.import(&name, bytes, dry_run, &actor).await?;
    if let Some(n) = &imported.network {
        let details = serde_json::json!({"source": n.source, "ways": n.ways, "edges": imported.report.build.edges});
        state.audit.record(&actor, "roads.imported", Some(format!("road_network:{}", n.id)), details).await;
    }
    let status = if dry_run { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(imported)))
}

/// The stored road networks.
#[derive(Debug, Serialize, ToSchema)]
struct Networks {
    /// The one served (null: none; ETAs are straight-line).
    active: Option<NetworkInfo>,
    /// Every network, newest first.
    networks: Vec<NetworkInfo>,
}

/// Road networks: the one served and the ones stored
#[utoipa::path(
    get, path = "/roads", tag = "roads",
    security(("bearer" = ["read"])),
    responses((status = 200, body = Networks))
)]
async fn networks(State(state): State<AppState>) -> Result<Json<Networks>, ApiError> {
    let networks = state.roads.networks().await?;
    let served = state.roads.current().and_then(|n| n.id);
    let active = networks.iter().find(|n| Some(n.id) == served).cloned();
    Ok(Json(Networks { active, networks }))
}

/// `LON,LAT` (in the request's `crs`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Coords([f64; 2]);

impl std::str::FromStr for Coords {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let n: Vec<f64> = raw
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| "expected LON,LAT".to_owned())?;
        match n[..] {
            [x, y] if x.is_finite() && y.is_finite() => Ok(Coords([x, y])),
            _ => Err("expected two numbers LON,LAT".to_owned()),
        }
    }
}

/// A `LON,LAT` parameter as a point in `crs`: a refusal is a 400 `invalid_coordinate` naming the parameter.
fn at(raw: &str, crs: crate::crs::Crs, name: &str) -> Result<LonLat, ApiError> {
    let named = |e: ApiError| e.with_details(serde_json::json!({"parameter": name}));
    let c: Coords = raw
        .parse()
        .map_err(|m: String| named(ApiError::bad_request("invalid_coordinate", format!("{name}={raw:?}: {m}"))))?;
    point(crs, c.0[0], c.0[1], None).map_err(named)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RouteQuery {
    /// Start, `LON,LAT`.
    #[param(example = "114.05,22.54")]
    from: String,
    /// Destination, `LON,LAT`.
    #[param(example = "114.06,22.545")]
    to: String,
    /// Travel profile (default walk).
    #[param(inline)]
    profile: Option<ProfileName>,
    /// Coordinate system of the points and of the answer.
    #[param(inline)]
    crs: Option<CrsParam>,
}

/// A route.
#[derive(Debug, Serialize, ToSchema)]
struct RouteAnswer {
    /// Along the roads plus the off-road parts, metres.
    distance_m: f64,
    /// Along the roads, metres.
    road_distance_m: f64,
    /// Seconds, the off-road parts walked.
    eta_s: f64,
    /// The profile.
    profile: ProfileName,
    /// GeoJSON LineString from the start through the roads to the destination.
    geometry: GeometryOut,
    /// The off-road parts, metres.
    snap: SnapInfo,
    /// The road network that answered.
    network: Option<crate::roads::NetworkId>,
}

/// The fastest route between two points on the roads
///
/// Both points are snapped to the profile's nearest routable road (the off-road parts are walked and reported in
/// `snap`); farther than the policy's `roads.snap_max_m` is a 422 `no_road_nearby`. Without a road network: 409
/// `no_road_network`.
#[utoipa::path(
    get, path = "/route", tag = "roads",
    params(RouteQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = RouteAnswer))
)]
async fn route(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RouteQuery>,
) -> Result<Reply<RouteAnswer>, ApiError> {
    let crs = crs(q.crs);
    let (from, to) = (at(&q.from, crs, "from")?, at(&q.to, crs, "to")?);
    let net = state.roads.current().ok_or_else(no_network)?;
    let profile = q.profile.unwrap_or(ProfileName::Walk);
    let r = net.route(profile, from, to)?;
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let line = serde_json::json!({"type": "LineString", "coordinates": r.geometry});
    Ok(reply(
        RouteAnswer {
            distance_m: round(r.distance_m),
            road_distance_m: round(r.road_distance_m),
            eta_s: round(r.eta_s),
            profile,
            geometry: GeometryOut(line),
            snap: SnapInfo { from_m: round(r.snap.from_m), to_m: round(r.snap.to_m) },
            network: net.id,
        },
        crs,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReachQuery {
    /// Longitude of the start (in `crs`).
    #[param(example = 114.05)]
    lon: f64,
    /// Latitude of the start (in `crs`).
    #[param(example = 22.54)]
    lat: f64,
    /// Minutes of travel, above 0 and at most 120.
    #[param(example = 5)]
    minutes: f64,
    /// Travel profile (default walk).
    #[param(inline)]
    profile: Option<ProfileName>,
    /// H3 resolution of the cells, 5 … 12 (default the server's).
    #[param(minimum = 5, maximum = 12)]
    resolution: Option<u8>,
    /// Also list every road junction reached with its seconds (true/false; default false).
    vertices: Option<bool>,
    /// Coordinate system of the start and of the answer.
    #[param(inline)]
    crs: Option<CrsParam>,
}

/// A junction reached.
#[derive(Debug, Serialize, ToSchema)]
struct Vertex {
    /// Where.
    location: Position,
    /// Seconds from the start (the off-road part included).
    seconds: f64,
}

/// What can be reached.
#[derive(Debug, Serialize, ToSchema)]
struct ReachAnswer {
    /// The profile.
    profile: ProfileName,
    /// The time, minutes.
    minutes: f64,
    /// The start as snapped to its road.
    start: Position,
    /// From the start to its road, metres (walked, within the time).
    snap_m: f64,
    /// H3 cells the reached roads pass through.
    cells: Vec<String>,
    /// Their resolution.
    resolution: u8,
    /// Grids the reached roads pass through, by code.
    grids: Vec<String>,
    /// Junctions reached.
    vertex_count: usize,
    /// Every junction reached with its time (only with `vertices=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    vertices: Option<Vec<Vertex>>,
}

/// Where one can get from a point within N minutes
///
/// A forward search along the roads of the profile, bounded by the time; the answer lists the H3 cells and the
/// grids the reached roads pass through (sampled every 10 m).
#[utoipa::path(
    get, path = "/reach", tag = "roads",
    params(ReachQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = ReachAnswer))
)]
async fn reach(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ReachQuery>,
) -> Result<Reply<ReachAnswer>, ApiError> {
    let crs = crs(q.crs);
    let start = point(crs, q.lon, q.lat, None)?;
    if !(q.minutes.is_finite() && q.minutes > 0.0 && q.minutes <= MAX_MINUTES) {
        return Err(ApiError::bad_request(
            "invalid_minutes",
            format!("minutes={}: expected a number of minutes above 0 and at most {MAX_MINUTES}", q.minutes),
        )
        .with_details(serde_json::json!({"parameter": "minutes"})));
    }
    let resolution = match q.resolution {
        None => state.locator.resolution(),
        Some(r) => h3o::Resolution::try_from(r).ok().filter(|_| (5..=12).contains(&r)).ok_or_else(|| {
            ApiError::bad_request("invalid_resolution", format!("resolution={r}: expected 5 … 12"))
                .with_details(serde_json::json!({"parameter": "resolution"}))
        })?,
    };
    let net = state.roads.current().ok_or_else(no_network)?;
    let profile = q.profile.unwrap_or(ProfileName::Walk);
    let max_m = net.policy().snap_max_m;
    let snap = net.snap(profile, start, max_m).ok_or_else(|| {
        ApiError::from(RouteError::OffRoad { which: "from", max_m, profile: profile.as_str() })
            .with_details(serde_json::json!({"parameter": "lon"}))
    })?;
    let index = state.locator.current();
    let minutes = q.minutes;
    let with_vertices = q.vertices.unwrap_or(false);
    let answer = tokio::task::spawn_blocking(move || {
        let speed = net.policy().offroad_speed_mps;
        let spent = (snap.offroad_m / speed * 1000.0).round() as u32;
        let limit_ms = (minutes * 60_000.0).round() as u32;
        let arrival = crate::roads::Arrival::search(&net, profile, &[(snap, spent, 0)], limit_ms);
        let points = arrival.reached_points(limit_ms, 10.0);
        let mut cells = std::collections::BTreeSet::new();
        let mut grids = std::collections::BTreeSet::new();
        let layer = index.layer(crate::layers::Layer::Grids);
        for p in &points {
            if let Ok(ll) = h3o::LatLng::new(p[1], p[0]) {
                cells.insert(ll.to_cell(resolution).to_string());
            }
            if let Some(code) = layer.code_at(geo::Coord { x: p[0], y: p[1] }) {
                grids.insert(code.to_owned());
            }
        }
        let reached = arrival.reached();
        ReachAnswer {
            profile,
            minutes,
            start: Position(snap.point),
            snap_m: (snap.offroad_m * 10.0).round() / 10.0,
            cells: cells.into_iter().collect(),
            resolution: u8::from(resolution),
            grids: grids.into_iter().collect(),
            vertex_count: reached.len(),
            vertices: with_vertices.then(|| {
                reached
                    .iter()
                    .map(|v| Vertex { location: Position(v.point), seconds: f64::from(v.ms) / 1000.0 })
                    .collect()
            }),
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(reply(answer, crs))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CoverageQuery {
    /// The time that counts as covered, minutes (default 5).
    #[param(example = 5)]
    minutes: Option<f64>,
    /// Only units of this kind.
    kind: Option<String>,
}

/// Minutes to the nearest available unit, per grid
///
/// For every grid of the served generation: how soon the nearest available unit (fresh position; of `kind` when
/// given) could reach a point inside it, by road with a network (straight line without), and whether within
/// `minutes`: the "which grids can nobody reach in five minutes" map.
#[utoipa::path(
    get, path = "/dispatch/coverage", tag = "dispatch",
    params(CoverageQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Coverage))
)]
async fn coverage(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<Json<Coverage>, ApiError> {
    let minutes = q.minutes.unwrap_or(5.0);
    let dispatch = state.dispatch.clone();
    let answer = tokio::task::spawn_blocking(move || dispatch.coverage(minutes, q.kind.as_deref()))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(Json(answer))
}
