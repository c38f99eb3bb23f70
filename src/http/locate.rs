//! `GET /locate` and `POST /locate`: which street, community and grid cover a point.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState};
use crate::coord::LonLat;
use crate::crs::Crs;
use crate::layers::Layer;
use crate::locate::{LayerSet, locate};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/locate", get(locate_one).post(locate_batch))
}

pub(super) fn parse_crs(crs: Option<&str>) -> Result<Crs, ApiError> {
    crs.map_or(Ok(Crs::Wgs84), |c| {
        c.parse().map_err(|e: crate::crs::UnknownCrs| ApiError::bad_request("invalid_crs", e.to_string()))
    })
}

fn parse_layers(layers: Option<&str>) -> Result<LayerSet, ApiError> {
    let Some(list) = layers.filter(|l| !l.trim().is_empty()) else { return Ok(LayerSet::ALL) };
    let parsed = list
        .split(',')
        .map(|l| l.trim().parse::<Layer>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::bad_request("invalid_layers", e.to_string()))?;
    Ok(LayerSet::of(&parsed))
}

/// Converts and validates one input point; `index` is its position in a batch.
pub(super) fn point(crs: Crs, x: f64, y: f64, index: Option<usize>) -> Result<LonLat, ApiError> {
    let (lon, lat) = crs.to_wgs84(x, y);
    LonLat::new(lon, lat).map_err(|e| {
        let at = index.map_or(String::new(), |i| format!("point {i}: "));
        ApiError::bad_request("invalid_coordinate", format!("{at}{e}")).with_details(json!({"index": index}))
    })
}

async fn locate_one(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let number = |name: &str| -> Result<f64, ApiError> {
        let raw = q
            .get(name)
            .ok_or_else(|| ApiError::bad_request("missing_parameter", format!("parameter {name} is required")))?;
        raw.trim()
            .parse::<f64>()
            .map_err(|_| ApiError::bad_request("invalid_coordinate", format!("{name}={raw:?} is not a number")))
    };
    let (lon, lat) = (number("lon")?, number("lat")?);
    let crs = parse_crs(q.get("crs").map(String::as_str))?;
    let layers = parse_layers(q.get("layers").map(String::as_str))?;
    let p = point(crs, lon, lat, None)?;
    let index = state.locator.current();
    state.metrics.counters.lookups.inc();
    Ok(Json(locate(&index, state.locator.resolution(), p, layers)).into_response())
}

#[derive(Deserialize)]
struct Batch {
    points: Vec<[f64; 2]>,
    #[serde(default)]
    crs: Option<String>,
    #[serde(default)]
    layers: Option<String>,
}

async fn locate_batch(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let batch: Batch = super::json::parse(body, "locate batch")?;
    let crs = parse_crs(batch.crs.as_deref())?;
    let layers = parse_layers(batch.layers.as_deref())?;
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
