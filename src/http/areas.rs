//! Lookups beyond `/locate` for other modules: one area with parents, children and neighbours; areas in a bbox,
//! intersecting a geometry, or near a point; the grids under an H3 cell and an area's H3 cover. Every coordinate
//! in or out honours `crs` (wgs84, cgcs2000, gcj02, bd09).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use geo::{BoundingRect, ChamberlainDuquetteArea, Geometry, MapCoords};
use h3o::{CellIndex, Resolution};
use serde::Deserialize;
use serde_json::{Value, json};

use super::locate::{parse_crs, point};
use super::params::bbox_param;
use super::{ApiError, AppState};
use crate::areas;
use crate::crs::Crs;
use crate::layers::{Feature, Layer};

/// Most cells one cover answer may hold.
const MAX_COVER_CELLS: usize = 200_000;
/// Widest `near` search.
const MAX_DISTANCE_M: f64 = 50_000.0;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/areas/{layer}", get(in_bbox))
        .route("/areas/{layer}/near", get(near))
        .route("/areas/{layer}/intersecting", post(intersecting))
        .route("/areas/{layer}/{code}", get(one))
        .route("/areas/{layer}/{code}/h3", get(cover))
        .route("/h3/{cell}/grids", get(grids_of_cell))
}

fn layer_param(raw: &str) -> Result<Layer, ApiError> {
    raw.parse()
        .map_err(|e: crate::layers::UnknownLayer| ApiError::new(StatusCode::NOT_FOUND, "unknown_layer", e.to_string()))
}

fn summary(f: &Feature) -> Value {
    json!({"code": f.code, "name": f.name, "parent_code": f.parent_code})
}

fn geometry_out(f: &Feature, crs: Crs) -> Value {
    let g = f.geometry.map_coords(|c| {
        let (x, y) = crs.from_wgs84(c.x, c.y);
        geo::coord! { x: x, y: y }
    });
    json!(geojson::Geometry::from(&g))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OneQuery {
    crs: Option<String>,
    geometry: Option<bool>,
}

/// `GET /areas/{layer}/{code}[?geometry=false][&crs=]`: the area, its parent chain (nearest first), its children and
/// its neighbours (same layer, touching or overlapping).
async fn one(
    State(state): State<AppState>,
    Path((layer, code)): Path<(String, String)>,
    Query(q): Query<OneQuery>,
) -> Result<Json<Value>, ApiError> {
    let layer = layer_param(&layer)?;
    let crs = parse_crs(q.crs.as_deref())?;
    let index = state.locator.current();
    let f = areas::find(&index, layer, &code).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "area_not_found", format!("{} has no feature {code:?}", layer.as_str()))
    })?;
    let bbox = f.geometry.bounding_rect().map(|r| {
        let (x0, y0) = crs.from_wgs84(r.min().x, r.min().y);
        let (x1, y1) = crs.from_wgs84(r.max().x, r.max().y);
        [x0, y0, x1, y1]
    });
    let mut v = summary(f);
    v["layer"] = json!(layer.as_str());
    v["generation"] = json!(index.generation());
    v["properties"] = json!(f.properties);
    v["area_km2"] = json!(f.geometry.chamberlain_duquette_unsigned_area() / 1e6);
    v["bbox"] = json!(bbox);
    v["parents"] = areas::parents(&index, layer, f)
        .into_iter()
        .map(|(l, p)| json!({"layer": l.as_str(), "code": p.code, "name": p.name}))
        .collect();
    v["children"] = areas::children(&index, layer, &f.code).into_iter().map(summary).collect();
    v["neighbours"] = areas::neighbours(index.layer(layer), f).into_iter().map(summary).collect();
    if q.geometry.unwrap_or(true) {
        v["geometry"] = geometry_out(f, crs);
    }
    Ok(Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BboxQuery {
    bbox: Option<String>,
    crs: Option<String>,
}

/// `GET /areas/{layer}?bbox=x0,y0,x1,y1[&crs=]`: areas intersecting the box (corners in `crs`), in code order.
async fn in_bbox(
    State(state): State<AppState>,
    Path(layer): Path<String>,
    Query(q): Query<BboxQuery>,
) -> Result<Json<Value>, ApiError> {
    let layer = layer_param(&layer)?;
    let crs = parse_crs(q.crs.as_deref())?;
    let raw = q.bbox.ok_or_else(|| ApiError::bad_request("missing_parameter", "parameter bbox is required"))?;
    let [a, b, c, d] = bbox_param(&raw)?;
    let (p, r) = (point(crs, a, b, None)?, point(crs, c, d, None)?);
    let rect = geo::Rect::new(p.coord(), r.coord());
    let index = state.locator.current();
    let found = areas::intersecting(index.layer(layer), &Geometry::Rect(rect));
    Ok(Json(json!({"generation": index.generation(), "items": found.into_iter().map(summary).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntersectingBody {
    geometry: Value,
    crs: Option<String>,
}

/// `POST /areas/{layer}/intersecting` `{"geometry": GeoJSON, "crs"?}`: areas the geometry touches, in code order.
async fn intersecting(
    State(state): State<AppState>,
    Path(layer): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let layer = layer_param(&layer)?;
    let b: IntersectingBody = super::json::parse(body, "geometry query")?;
    let crs = parse_crs(b.crs.as_deref())?;
    let bad = |m: String| ApiError::bad_request("invalid_geometry", m);
    let g: geojson::Geometry = serde_json::from_value(b.geometry).map_err(|e| bad(format!("geometry: {e}")))?;
    let g: Geometry<f64> = g.try_into().map_err(|e: geojson::Error| bad(format!("geometry: {e}")))?;
    let g = g.try_map_coords(|c| {
        let (x, y) = crs.to_wgs84(c.x, c.y);
        crate::coord::LonLat::new(x, y).map(|p| p.coord()).map_err(|_| (c.x, c.y))
    });
    let g = g.map_err(|(x, y)| bad(format!("geometry: [{x}, {y}] is not a valid coordinate")))?;
    let index = state.locator.current();
    let found = areas::intersecting(index.layer(layer), &g);
    Ok(Json(json!({"generation": index.generation(), "items": found.into_iter().map(summary).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NearQuery {
    lon: f64,
    lat: f64,
    distance_m: f64,
    crs: Option<String>,
    limit: Option<usize>,
}

/// `GET /areas/{layer}/near?lon=&lat=&distance_m=[&limit=][&crs=]`: areas within the distance, nearest first (0 for
/// the one containing the point), great-circle metres.
async fn near(
    State(state): State<AppState>,
    Path(layer): Path<String>,
    Query(q): Query<NearQuery>,
) -> Result<Json<Value>, ApiError> {
    let layer = layer_param(&layer)?;
    let p = point(parse_crs(q.crs.as_deref())?, q.lon, q.lat, None)?;
    if !(0.0..=MAX_DISTANCE_M).contains(&q.distance_m) {
        return Err(ApiError::bad_request(
            "invalid_distance",
            format!("distance_m={}: expected 0 … {MAX_DISTANCE_M}", q.distance_m),
        ));
    }
    let index = state.locator.current();
    let items: Vec<Value> = areas::within(index.layer(layer), p, q.distance_m)
        .into_iter()
        .take(q.limit.unwrap_or(100).min(10_000))
        .map(|(f, d)| {
            let mut v = summary(f);
            v["distance_m"] = json!((d * 10.0).round() / 10.0);
            v
        })
        .collect();
    Ok(Json(json!({"generation": index.generation(), "items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverQuery {
    resolution: Option<u8>,
}

/// `GET /areas/{layer}/{code}/h3?resolution=R`: the cells whose centres lie inside the area (default: the
/// server's lookup resolution).
async fn cover(
    State(state): State<AppState>,
    Path((layer, code)): Path<(String, String)>,
    Query(q): Query<CoverQuery>,
) -> Result<Json<Value>, ApiError> {
    let layer = layer_param(&layer)?;
    let resolution = match q.resolution {
        Some(r) => Resolution::try_from(r)
            .map_err(|_| ApiError::bad_request("invalid_resolution", format!("resolution={r}: expected 0 … 15")))?,
        None => state.locator.resolution(),
    };
    let index = state.locator.current();
    let f = areas::find(&index, layer, &code).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "area_not_found", format!("{} has no feature {code:?}", layer.as_str()))
    })?;
    let estimate = f.geometry.chamberlain_duquette_unsigned_area() / (resolution.area_m2()).max(1e-9);
    if estimate > MAX_COVER_CELLS as f64 {
        return Err(ApiError::bad_request(
            "too_many_cells",
            format!("{code} would need about {estimate:.0} cells at resolution {resolution}: choose a coarser one"),
        ));
    }
    let geometry = f.geometry.clone();
    let cells = tokio::task::spawn_blocking(move || areas::h3_cover(&geometry, resolution))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({"code": f.code, "resolution": u8::from(resolution), "count": cells.len(),
        "cells": cells.iter().map(ToString::to_string).collect::<Vec<_>>()})))
}

/// `GET /h3/{cell}/grids`: the grids the cell's hexagon touches, in code order; `contains_center` marks the one
/// its centre falls in.
async fn grids_of_cell(State(state): State<AppState>, Path(cell): Path<String>) -> Result<Json<Value>, ApiError> {
    let cell: CellIndex =
        cell.parse().map_err(|_| ApiError::bad_request("invalid_cell", format!("{cell:?} is not an H3 cell index")))?;
    if u8::from(cell.resolution()) < 5 {
        return Err(ApiError::bad_request("invalid_cell", "cells coarser than resolution 5 cover too many grids"));
    }
    let index = state.locator.current();
    let grids = index.layer(Layer::Grids);
    let ll = h3o::LatLng::from(cell);
    let centre = geo::Coord { x: ll.lng(), y: ll.lat() };
    let owner = grids.locate(centre).map(|i| grids.entry(i).feature.code.clone());
    let items: Vec<Value> = areas::intersecting(grids, &Geometry::Polygon(areas::cell_polygon(cell)))
        .into_iter()
        .map(|f| {
            let mut v = summary(f);
            v["contains_center"] = json!(owner.as_deref() == Some(f.code.as_str()));
            v
        })
        .collect();
    Ok(Json(
        json!({"cell": cell.to_string(), "resolution": u8::from(cell.resolution()), "generation": index.generation(), "items": items}),
    ))
}
