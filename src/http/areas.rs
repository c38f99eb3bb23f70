//! Lookups beyond `/locate` for other modules: one area with parents, children and neighbours; areas in a bbox,
//! intersecting a geometry, or near a point; the grids under an H3 cell and an area's H3 cover. Every coordinate
//! in or out honours `crs` (wgs84, cgcs2000, gcj02, bd09).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use geo::{BoundingRect, ChamberlainDuquetteArea, Geometry, MapCoords};
use h3o::{CellIndex, Resolution};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::{ApiJson, ApiQuery};
use super::locate::point;
use super::params::{Bbox, CrsParam, crs};
use super::reply::{Reply, reply};
use super::{ApiError, AppState};
use crate::areas;
use crate::crs::GeometryOut;
use crate::layers::{Feature, GenerationId, Layer};

/// Most cells one cover answer may hold.
const MAX_COVER_CELLS: usize = 200_000;
/// Widest `near` search.
const MAX_DISTANCE_M: f64 = 50_000.0;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(in_bbox))
        .routes(routes!(near))
        .routes(routes!(intersecting))
        .routes(routes!(one))
        .routes(routes!(cover))
        .routes(routes!(grids_of_cell))
}

fn layer_param(raw: &str) -> Result<Layer, ApiError> {
    raw.parse()
        .map_err(|e: crate::layers::UnknownLayer| ApiError::new(StatusCode::NOT_FOUND, "unknown_layer", e.to_string()))
}

fn not_found(layer: Layer, code: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "area_not_found", format!("{} has no feature {code:?}", layer.as_str()))
}

/// An area named by code.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AreaSummary {
    /// Code.
    code: String,
    /// Name.
    name: String,
    /// The parent's code.
    parent_code: Option<String>,
}

impl From<&Feature> for AreaSummary {
    fn from(f: &Feature) -> Self {
        Self { code: f.code.clone(), name: f.name.clone(), parent_code: f.parent_code.clone() }
    }
}

/// An area above another.
#[derive(Debug, Serialize, ToSchema)]
struct Parent {
    /// Its layer.
    layer: Layer,
    /// Code.
    code: String,
    /// Name.
    name: String,
}

/// One area with its relations.
#[derive(Debug, Serialize, ToSchema)]
struct Area {
    #[serde(flatten)]
    summary: AreaSummary,
    /// Its layer.
    layer: Layer,
    /// The generation served.
    generation: Option<GenerationId>,
    /// The source file's other attributes.
    #[schema(value_type = Object)]
    properties: serde_json::Map<String, serde_json::Value>,
    /// Area in km² (on the sphere).
    area_km2: f64,
    /// `[min_x, min_y, max_x, max_y]` in `crs`.
    bbox: Option<[f64; 4]>,
    /// The chain up, nearest first.
    parents: Vec<Parent>,
    /// The next layer's areas naming it as parent.
    children: Vec<AreaSummary>,
    /// Same layer, touching or overlapping.
    neighbours: Vec<AreaSummary>,
    /// GeoJSON MultiPolygon in `crs` (absent with `geometry=false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    geometry: Option<GeometryOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct OneQuery {
    /// Coordinate system of `bbox` and `geometry` in the answer.
    #[param(inline)]
    crs: Option<CrsParam>,
    /// Include the geometry (default true).
    geometry: Option<bool>,
}

/// One area with its parent chain, children and neighbours
#[utoipa::path(
    get, path = "/areas/{layer}/{code}", tag = "lookup",
    params(("layer" = Layer, Path, description = "streets, communities or grids"), ("code" = String, Path), OneQuery),
    security(()),
    responses((status = 200, body = Area))
)]
async fn one(
    State(state): State<AppState>,
    Path((layer, code)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<OneQuery>,
) -> Result<Reply<Area>, ApiError> {
    let layer = layer_param(&layer)?;
    let crs = crs(q.crs);
    let index = state.locator.current();
    let f = areas::find(&index, layer, &code).ok_or_else(|| not_found(layer, &code))?;
    let bbox = f.geometry.bounding_rect().map(|r| {
        let (x0, y0) = crs.from_wgs84(r.min().x, r.min().y);
        let (x1, y1) = crs.from_wgs84(r.max().x, r.max().y);
        [x0, y0, x1, y1]
    });
    let area = Area {
        summary: f.into(),
        layer,
        generation: index.generation(),
        properties: f.properties.clone(),
        area_km2: f.geometry.chamberlain_duquette_unsigned_area() / 1e6,
        bbox,
        parents: areas::parents(&index, layer, f)
            .into_iter()
            .map(|(l, p)| Parent { layer: l, code: p.code.clone(), name: p.name.clone() })
            .collect(),
        children: areas::children(&index, layer, &f.code).into_iter().map(AreaSummary::from).collect(),
        neighbours: areas::neighbours(index.layer(layer), f).into_iter().map(AreaSummary::from).collect(),
        geometry: q
            .geometry
            .unwrap_or(true)
            .then(|| GeometryOut(serde_json::to_value(geojson::Geometry::from(&f.geometry)).unwrap_or_default())),
    };
    Ok(reply(area, crs))
}

/// Areas of a layer, in code order.
#[derive(Debug, Serialize, ToSchema)]
struct AreaList {
    /// The generation served.
    generation: Option<GenerationId>,
    /// The areas.
    items: Vec<AreaSummary>,
}

fn listed<'a>(index: &crate::index::BoundaryIndex, found: impl IntoIterator<Item = &'a Feature>) -> AreaList {
    AreaList { generation: index.generation(), items: found.into_iter().map(AreaSummary::from).collect() }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct BboxQuery {
    /// `min_lon,min_lat,max_lon,max_lat` in `crs`.
    #[param(inline)]
    bbox: Bbox,
    /// Coordinate system of `bbox`.
    #[param(inline)]
    crs: Option<CrsParam>,
}

/// Areas intersecting a bbox
#[utoipa::path(
    get, path = "/areas/{layer}", tag = "lookup",
    params(("layer" = Layer, Path, description = "streets, communities or grids"), BboxQuery),
    security(()),
    responses((status = 200, body = AreaList))
)]
async fn in_bbox(
    State(state): State<AppState>,
    Path(layer): Path<String>,
    ApiQuery(q): ApiQuery<BboxQuery>,
) -> Result<axum::Json<AreaList>, ApiError> {
    let layer = layer_param(&layer)?;
    let crs = crs(q.crs);
    let [a, b, c, d] = q.bbox.0;
    let (p, r) = (point(crs, a, b, None)?, point(crs, c, d, None)?);
    let rect = geo::Rect::new(p.coord(), r.coord());
    let index = state.locator.current();
    Ok(axum::Json(listed(&index, areas::intersecting(index.layer(layer), &Geometry::Rect(rect)))))
}

/// A geometry to intersect.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct IntersectingBody {
    /// A GeoJSON geometry (Point, LineString, Polygon, …) in `crs`.
    #[schema(value_type = Object)]
    geometry: serde_json::Value,
    /// Its coordinate system (default wgs84).
    #[schema(value_type = Option<String>)]
    crs: Option<CrsParam>,
}

/// Areas a GeoJSON geometry intersects
#[utoipa::path(
    post, path = "/areas/{layer}/intersecting", tag = "lookup",
    params(("layer" = Layer, Path, description = "streets, communities or grids")),
    request_body = IntersectingBody,
    security(()),
    responses((status = 200, body = AreaList))
)]
async fn intersecting(
    State(state): State<AppState>,
    Path(layer): Path<String>,
    ApiJson(b): ApiJson<IntersectingBody>,
) -> Result<axum::Json<AreaList>, ApiError> {
    let layer = layer_param(&layer)?;
    let crs = crs(b.crs);
    let bad = |m: String| ApiError::bad_request("invalid_geometry", m);
    let g: geojson::Geometry = serde_json::from_value(b.geometry).map_err(|e| bad(format!("geometry: {e}")))?;
    let g: Geometry<f64> = g.try_into().map_err(|e: geojson::Error| bad(format!("geometry: {e}")))?;
    let g = g.try_map_coords(|c| {
        let (x, y) = crs.to_wgs84(c.x, c.y);
        crate::coord::LonLat::new(x, y).map(|p| p.coord()).map_err(|_| (c.x, c.y))
    });
    let g = g.map_err(|(x, y)| bad(format!("geometry: [{x}, {y}] is not a valid coordinate")))?;
    let index = state.locator.current();
    Ok(axum::Json(listed(&index, areas::intersecting(index.layer(layer), &g))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct NearQuery {
    /// Longitude in `crs`.
    lon: f64,
    /// Latitude in `crs`.
    lat: f64,
    /// Search radius in metres, 0 … 50 000.
    #[param(minimum = 0, maximum = 50000)]
    distance_m: f64,
    /// Coordinate system of the point.
    #[param(inline)]
    crs: Option<CrsParam>,
    /// Most areas answered (default 100, at most 10 000).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<u32>,
}

/// An area near a point.
#[derive(Debug, Serialize, ToSchema)]
struct NearArea {
    #[serde(flatten)]
    summary: AreaSummary,
    /// Great-circle metres to its closest boundary point (0 for the one containing the point).
    distance_m: f64,
}

/// Areas near a point.
#[derive(Debug, Serialize, ToSchema)]
struct NearList {
    /// The generation served.
    generation: Option<GenerationId>,
    /// Nearest first.
    items: Vec<NearArea>,
}

/// Areas within a distance of a point, nearest first
#[utoipa::path(
    get, path = "/areas/{layer}/near", tag = "lookup",
    params(("layer" = Layer, Path, description = "streets, communities or grids"), NearQuery),
    security(()),
    responses((status = 200, body = NearList))
)]
async fn near(
    State(state): State<AppState>,
    Path(layer): Path<String>,
    ApiQuery(q): ApiQuery<NearQuery>,
) -> Result<axum::Json<NearList>, ApiError> {
    let layer = layer_param(&layer)?;
    let p = point(crs(q.crs), q.lon, q.lat, None)?;
    if !(0.0..=MAX_DISTANCE_M).contains(&q.distance_m) {
        return Err(ApiError::bad_request(
            "invalid_distance",
            format!("distance_m={}: expected 0 … {MAX_DISTANCE_M}", q.distance_m),
        )
        .with_details(serde_json::json!({"parameter": "distance_m"})));
    }
    let limit = super::params::limit(q.limit, 100, 10_000)?;
    let index = state.locator.current();
    let items = areas::within(index.layer(layer), p, q.distance_m)
        .into_iter()
        .take(limit as usize)
        .map(|(f, d)| NearArea { summary: f.into(), distance_m: (d * 10.0).round() / 10.0 })
        .collect();
    Ok(axum::Json(NearList { generation: index.generation(), items }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CoverQuery {
    /// H3 resolution 0 … 15 (default: the server's lookup resolution).
    #[param(minimum = 0, maximum = 15)]
    resolution: Option<u8>,
}

/// An area's H3 cover.
#[derive(Debug, Serialize, ToSchema)]
struct Cover {
    /// The area's code.
    code: String,
    /// H3 resolution.
    resolution: u8,
    /// Number of cells.
    count: usize,
    /// The cells whose centres lie inside.
    cells: Vec<String>,
}

/// The H3 cells whose centres lie in an area
#[utoipa::path(
    get, path = "/areas/{layer}/{code}/h3", tag = "lookup",
    params(("layer" = Layer, Path, description = "streets, communities or grids"), ("code" = String, Path), CoverQuery),
    security(()),
    responses((status = 200, body = Cover))
)]
async fn cover(
    State(state): State<AppState>,
    Path((layer, code)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<CoverQuery>,
) -> Result<axum::Json<Cover>, ApiError> {
    let layer = layer_param(&layer)?;
    let resolution = match q.resolution {
        Some(r) => Resolution::try_from(r).map_err(|_| {
            ApiError::bad_request("invalid_resolution", format!("resolution={r}: expected 0 … 15"))
                .with_details(serde_json::json!({"parameter": "resolution"}))
        })?,
        None => state.locator.resolution(),
    };
    let index = state.locator.current();
    let f = areas::find(&index, layer, &code).ok_or_else(|| not_found(layer, &code))?;
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
    Ok(axum::Json(Cover {
        code: f.code.clone(),
        resolution: u8::from(resolution),
        count: cells.len(),
        cells: cells.iter().map(ToString::to_string).collect(),
    }))
}

/// A grid an H3 cell touches.
#[derive(Debug, Serialize, ToSchema)]
struct CellGrid {
    #[serde(flatten)]
    summary: AreaSummary,
    /// Whether the cell's centre is in this grid (the cell belongs to it).
    contains_center: bool,
}

/// The grids of an H3 cell.
#[derive(Debug, Serialize, ToSchema)]
struct CellGrids {
    /// The cell.
    cell: String,
    /// Its resolution.
    resolution: u8,
    /// The generation served.
    generation: Option<GenerationId>,
    /// The grids its hexagon touches, in code order.
    items: Vec<CellGrid>,
}

/// The grids an H3 cell touches
///
/// `contains_center` marks the one its centre falls in (resolution 5 or finer).
#[utoipa::path(
    get, path = "/h3/{cell}/grids", tag = "lookup",
    params(("cell" = String, Path, description = "An H3 cell index, resolution 5 or finer")),
    security(()),
    responses((status = 200, body = CellGrids))
)]
async fn grids_of_cell(
    State(state): State<AppState>,
    Path(cell): Path<String>,
) -> Result<axum::Json<CellGrids>, ApiError> {
    let cell: CellIndex =
        cell.parse().map_err(|_| ApiError::bad_request("invalid_cell", format!("{cell:?} is not an H3 cell index")))?;
    if u8::from(cell.resolution()) < 5 {
        return Err(ApiError::bad_request("invalid_cell", "cells coarser than resolution 5 cover too many grids"));
    }
    let index = state.locator.current();
    let grids = index.layer(Layer::Grids);
    let owner = crate::patrols::cell_grid(grids, cell);
    let items = areas::intersecting(grids, &Geometry::Polygon(areas::cell_polygon(cell)))
        .into_iter()
        .map(|f| CellGrid { summary: f.into(), contains_center: owner == Some(f.code.as_str()) })
        .collect();
    Ok(axum::Json(CellGrids {
        cell: cell.to_string(),
        resolution: u8::from(cell.resolution()),
        generation: index.generation(),
        items,
    }))
}
