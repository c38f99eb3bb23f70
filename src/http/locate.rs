//! `GET /locate` and `POST /locate`: which street, community and grid cover a point.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::{ApiJson, ApiQuery};
use super::params::{CrsParam, LayerList, crs};
use super::{ApiError, AppState};
use crate::coord::LonLat;
use crate::crs::Crs;
use crate::locate::{LayerSet, Location, locate};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(locate_one, locate_batch))
}

/// Converts and validates one input point; `index` is its position in a batch.
pub(super) fn point(crs: Crs, x: f64, y: f64, index: Option<usize>) -> Result<LonLat, ApiError> {
    let (lon, lat) = crs.to_wgs84(x, y);
    LonLat::new(lon, lat).map_err(|e| {
        let at = index.map_or(String::new(), |i| format!("point {i}: "));
        ApiError::bad_request("invalid_coordinate", format!("{at}{e}")).with_details(json!({"index": index}))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LocateQuery {
    /// Longitude (in `crs`).
    #[param(example = 118.79)]
    lon: f64,
    /// Latitude (in `crs`).
    #[param(example = 32.02)]
    lat: f64,
    /// Coordinate system of the point.
    #[param(inline)]
    crs: Option<CrsParam>,
    /// Layers to answer (default all three).
    #[param(inline)]
    layers: Option<LayerList>,
}

/// Street, community and grid at a point
#[utoipa::path(
    get, path = "/locate", tag = "lookup",
    params(LocateQuery),
    security(()),
    responses((status = 200, body = Location))
)]
async fn locate_one(State(state): State<AppState>, ApiQuery(q): ApiQuery<LocateQuery>) -> Result<Response, ApiError> {
    let p = point(crs(q.crs), q.lon, q.lat, None)?;
    let index = state.locator.current();
    state.metrics.counters.lookups.inc();
    let layers = LayerList::set(q.layers.as_ref());
    Ok(axum::Json(locate(&index, state.locator.resolution(), p, layers)).into_response())
}

/// Points to look up.
#[derive(Debug, Deserialize, ToSchema)]
struct Batch {
    /// `[lon, lat]` pairs in `crs`; up to a few hundred thousand (the body limit applies).
    points: Vec<[f64; 2]>,
    /// Their coordinate system (default wgs84).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "wgs84")]
    crs: Option<CrsParam>,
    /// Layers to answer (`streets,grids`; default all three).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    layers: Option<LayerList>,
}

/// One answer per point, in input order.
#[derive(Debug, Serialize, ToSchema)]
struct Results<'a> {
    /// In input order.
    results: Vec<Location<'a>>,
}

/// Street, community and grid of up to 200 000 points, in input order
#[utoipa::path(
    post, path = "/locate", tag = "lookup",
    request_body = Batch,
    security(()),
    responses((status = 200, body = Results))
)]
async fn locate_batch(State(state): State<AppState>, ApiJson(batch): ApiJson<Batch>) -> Result<Response, ApiError> {
    let crs = crs(batch.crs);
    let layers = LayerList::set(batch.layers.as_ref());
    let points =
        batch.points.iter().enumerate().map(|(i, &[x, y])| point(crs, x, y, Some(i))).collect::<Result<Vec<_>, _>>()?;

    let index = state.locator.current();
    let resolution = state.locator.resolution();
    state.metrics.counters.lookups.inc_by(points.len() as u64);
    let body = tokio::task::spawn_blocking(move || answer_batch(&index, resolution, &points, layers))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::internal(&"a locate worker thread panicked"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Locates and serialises a batch on all cores: each thread writes the JSON of its slice, then the slices are joined.
/// `None` when a worker thread panicked (never a silently short answer).
fn answer_batch(
    index: &crate::index::BoundaryIndex,
    resolution: h3o::Resolution,
    points: &[LonLat],
    layers: LayerSet,
) -> Option<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = points.len().div_ceil(threads).max(1024);
    let parts: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = points
            .chunks(chunk)
            .map(|slice| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(slice.len() * 160);
                    for (i, &p) in slice.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        // Writing to a Vec cannot fail.
                        let _ = serde_json::to_writer(&mut out, &locate(index, resolution, p, layers));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect::<Option<Vec<_>>>()
    })?;
    let mut body = Vec::with_capacity(parts.iter().map(Vec::len).sum::<usize>() + parts.len() + 16);
    body.extend_from_slice(b"{\"results\":[");
    for (i, part) in parts.iter().filter(|p| !p.is_empty()).enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(part);
    }
    body.extend_from_slice(b"]}");
    Some(body)
}
