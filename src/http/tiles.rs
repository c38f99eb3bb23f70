//! `/tiles`: vector tiles, TileJSON per layer and the MapLibre style. Tiles answer 204 when empty, carry an ETag
//! (304 on a match) and `Cache-Control: no-cache` so a client always revalidates and never shows a stale boundary.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiQuery;
use super::params::{GridList, StatusList};
use super::{ApiError, AppState};
use crate::tiles::{Archive, IncidentTileFilter, TileError, TileId, TileLayer};

/// The MapLibre style, with `{base}` standing for the server's URL.
const STYLE: &str = include_str!("../../tiles/style.json");

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(document))
        .routes(routes!(tile))
        .routes(routes!(incidents_tile))
        .routes(routes!(incidents_json))
        .routes(routes!(hazards_tile))
        .routes(routes!(hazards_json))
        .routes(routes!(responders_tile))
        .routes(routes!(responders_json))
        .routes(routes!(resources_tile))
        .routes(routes!(resources_json))
        .routes(routes!(heatmap_tile))
        .routes(routes!(heatmap_json))
}

/// An item layer (people and events): its own routes, so that it needs a key when access control is on while
/// boundary tiles stay open.
macro_rules! item_layer {
    ($tile:ident, $doc:ident, $layer:expr, $tile_path:literal, $doc_path:literal, $what:literal) => {
        #[utoipa::path(
            get, path = $tile_path, tag = "tiles",
            summary = concat!("Vector tile of ", $what, " ({y} ends in .mvt)"),
            params(("z" = u8, Path), ("x" = u32, Path), ("y" = String, Path, description = "{y}.mvt")),
            security(("bearer" = ["read"])),
            responses(
                (status = 200, description = "A Mapbox Vector Tile", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
                (status = 204, description = "Nothing in the tile")
            )
        )]
        async fn $tile(
            State(state): State<AppState>,
            Path((z, x, y)): Path<(String, String, String)>,
            headers: HeaderMap,
        ) -> Result<Response, ApiError> {
            serve_tile(&state, $layer, &z, &x, &y, &headers, &IncidentTileFilter::default()).await
        }

        item_layer!(doc $doc, $layer, $doc_path, $what);
    };
    (doc $doc:ident, $layer:expr, $doc_path:literal, $what:literal) => {
        #[utoipa::path(
            get, path = $doc_path, tag = "tiles",
            summary = concat!("TileJSON 3.0 of ", $what),
            security(("bearer" = ["read"])),
            responses((status = 200, description = "TileJSON 3.0", body = Object))
        )]
        async fn $doc(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
            Json(tilejson(&state, $layer, &base_url(&headers)))
        }
    };
}

/// What the incident tiles show: the queue's filters, so that clusters count what the list shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct IncidentTileQuery {
    /// Any of these states (default: the open ones).
    #[param(inline)]
    status: Option<StatusList>,
    /// Category code.
    category: Option<String>,
    /// Any of these grid codes, comma-separated (at most 500).
    #[param(inline)]
    grid: Option<GridList>,
    /// Ignored (a client's cache buster).
    #[serde(rename = "v")]
    _cache_buster: Option<String>,
}

/// Vector tile of incidents, open ones unless `status` says otherwise ({y} ends in .mvt)
///
/// Features carry `id`, `category`, `status`, `priority`, `grid_code`; below z15 near points merge into clusters
/// (`cluster = 1`, `count`) that count only the incidents the filters let through.
#[utoipa::path(
    get, path = "/tiles/incidents/{z}/{x}/{y}", tag = "tiles",
    params(("z" = u8, Path), ("x" = u32, Path), ("y" = String, Path, description = "{y}.mvt"), IncidentTileQuery),
    security(("bearer" = ["read"])),
    responses(
        (status = 200, description = "A Mapbox Vector Tile", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 204, description = "Nothing in the tile")
    )
)]
async fn incidents_tile(
    State(state): State<AppState>,
    Path((z, x, y)): Path<(String, String, String)>,
    ApiQuery(q): ApiQuery<IncidentTileQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let filter = IncidentTileFilter {
        status: q.status.map(|s| s.0).unwrap_or_default(),
        category: q.category.filter(|c| !c.is_empty()),
        grids: q.grid.map(|g| g.0).unwrap_or_default(),
    };
    serve_tile(&state, TileLayer::Incidents, &z, &x, &y, &headers, &filter).await
}
item_layer!(doc incidents_json, TileLayer::Incidents, "/tiles/incidents.json", "open incidents");
item_layer!(
    hazards_tile,
    hazards_json,
    TileLayer::Hazards,
    "/tiles/hazards/{z}/{x}/{y}",
    "/tiles/hazards.json",
    "hazards not closed"
);
item_layer!(
    responders_tile,
    responders_json,
    TileLayer::Responders,
    "/tiles/responders/{z}/{x}/{y}",
    "/tiles/responders.json",
    "responders at their latest positions"
);
item_layer!(
    resources_tile,
    resources_json,
    TileLayer::Resources,
    "/tiles/resources/{z}/{x}/{y}",
    "/tiles/resources.json",
    "fixed resources"
);
item_layer!(
    heatmap_tile,
    heatmap_json,
    TileLayer::Heatmap,
    "/tiles/heatmap/{z}/{x}/{y}",
    "/tiles/heatmap.json",
    "incident counts per H3 hexagon"
);

impl From<TileError> for ApiError {
    fn from(e: TileError) -> Self {
        match e {
            TileError::TooDeep { .. } => ApiError::new(StatusCode::NOT_FOUND, "zoom_not_served", e.to_string()),
            // Layers read from the store per tile (hazards, the heatmap with filters) answer 503 in an outage.
            TileError::Incidents(e) => e.into(),
            TileError::Hazards(e) => e.into(),
            TileError::Heatmap(e) => e.into(),
            other => ApiError::internal(&other),
        }
    }
}

/// A boundary layer named in a path (item layers have routes of their own).
fn boundary_layer(raw: &str) -> Result<TileLayer, ApiError> {
    match raw.parse() {
        Ok(layer @ TileLayer::Boundary(_)) => Ok(layer),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_layer",
            format!(
                "unknown tile layer {raw:?}: the boundary layers are streets, communities and grids; item layers are incidents, hazards, responders, resources and heatmap"
            ),
        )),
    }
}

/// Vector tile of a boundary layer ({y} ends in .mvt), or a tile of a PMTiles base map
///
/// Boundary features carry `code`, `name`, `name_en`, `parent_code`. An empty tile is 204; tiles carry an ETag
/// (304 on a match) and `Cache-Control: no-cache`. A `--basemap-pmtiles` archive's tiles come as stored (its tile
/// type's content type; gzip passed through to clients that accept it), 204 where it has none.
#[utoipa::path(
    get, path = "/tiles/{layer}/{z}/{x}/{y}", tag = "tiles",
    params(("layer" = String, Path, description = "streets, communities or grids; or the file stem of a `--basemap-pmtiles` archive"), ("z" = u8, Path), ("x" = u32, Path), ("y" = String, Path, description = "{y}.mvt (an archive's tiles take any extension, or none)")),
    security(()),
    responses(
        (status = 200, description = "A Mapbox Vector Tile", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 204, description = "Nothing in the tile")
    )
)]
async fn tile(
    State(state): State<AppState>,
    Path((layer, z, x, y)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(archive) = state.tiles.archives().get(&layer) {
        return archive_tile(archive, &z, &x, &y, &headers).await;
    }
    serve_tile(&state, boundary_layer(&layer)?, &z, &x, &y, &headers, &IncidentTileFilter::default()).await
}

/// A tile of a PMTiles base map as stored (gzip passed through to clients that accept it), 204 where the archive
/// has none. Archives do not change while the server runs: clients may keep tiles for an hour.
async fn archive_tile(archive: &Archive, z: &str, x: &str, y: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let y = y.split_once('.').map_or(y, |(n, _)| n);
    let id = tile_id(z, x, y)?;
    let tile = archive.tile(id.z(), id.x(), id.y()).await.map_err(|e| ApiError::internal(&e))?;
    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    let Some(tile) = tile else { return Ok((StatusCode::NO_CONTENT, out).into_response()) };
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(tile.content_type));
    if tile.encoding == Some("gzip") {
        if accepts_gzip(headers) {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return Ok((out, tile.bytes).into_response());
        }
        let mut plain = Vec::with_capacity(tile.bytes.len() * 3);
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&tile.bytes[..]), &mut plain)
            .map_err(|e| ApiError::internal(&e))?;
        return Ok((out, plain).into_response());
    }
    Ok((out, tile.bytes).into_response())
}

/// The tile a path's `z`, `x`, `y` name (numbers in range).
fn tile_id(z: &str, x: &str, y: &str) -> Result<TileId, ApiError> {
    let num = |name: &str, v: &str| -> Result<u32, ApiError> {
        v.parse().map_err(|_| ApiError::bad_request("invalid_tile", format!("{name}={v:?} is not a whole number")))
    };
    let z = u8::try_from(num("z", z)?).map_err(|_| ApiError::bad_request("invalid_tile", "z is too large"))?;
    TileId::new(z, num("x", x)?, num("y", y)?).map_err(|e| ApiError::bad_request("invalid_tile", e.to_string()))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")))
}

async fn serve_tile(
    state: &AppState,
    layer: TileLayer,
    z: &str,
    x: &str,
    y: &str,
    headers: &HeaderMap,
    filter: &IncidentTileFilter,
) -> Result<Response, ApiError> {
    let Some(y) = y.strip_suffix(".mvt").or_else(|| y.strip_suffix(".pbf")) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_format", format!("tile {y:?}: expected {{y}}.mvt")));
    };
    let id = tile_id(z, x, y)?;
    let rendered = state.tiles.tile_filtered(layer, id, filter).await?;
    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(etag) = HeaderValue::from_maybe_shared(rendered.etag.clone()) {
        out.insert(header::ETAG, etag);
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/").as_bytes() == rendered.etag));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    if rendered.mvt.is_empty() {
        return Ok((StatusCode::NO_CONTENT, out).into_response());
    }
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.mapbox-vector-tile"));
    if accepts_gzip(headers) {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return Ok((out, rendered.gzip()).into_response());
    }
    Ok((out, rendered.mvt.clone()).into_response())
}

/// TileJSON of a boundary layer ({layer}.json) or the MapLibre style (style.json; lang=en for English labels)
#[utoipa::path(
    get, path = "/tiles/{file}", tag = "tiles",
    params(("file" = String, Path, description = "style.json, streets.json, communities.json, grids.json, or {stem}.json of a `--basemap-pmtiles` archive"), DocumentQuery),
    security(()),
    responses((status = 200, description = "The MapLibre style or a TileJSON 3.0 document", body = Object))
)]
async fn document(
    State(state): State<AppState>,
    Path(file): Path<String>,
    ApiQuery(query): ApiQuery<DocumentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    if file == "style.json" {
        let mut style: Value =
            serde_json::from_str(&STYLE.replace("{base}", &base)).map_err(|e| ApiError::internal(&e))?;
        if query.lang == Some(Lang::En) {
            english_labels(&mut style);
        }
        if let Some(b) = state.tiles.basemap() {
            b.add_to(&mut style, &base);
        }
        state.tiles.archives().add_to(&mut style, &base);
        // Sources carry their TileJSON inline: a client starts fetching tiles one round trip sooner.
        if let Some(sources) = style["sources"].as_object_mut() {
            for (name, source) in sources.iter_mut() {
                if let Ok(layer) = name.parse::<TileLayer>() {
                    let tj = tilejson(&state, layer, &base);
                    let promote = source.get("promoteId").cloned();
                    *source = json!({
                        "type": "vector", "tiles": tj["tiles"], "minzoom": tj["minzoom"], "maxzoom": tj["maxzoom"],
                        "bounds": tj["bounds"],
                    });
                    // Feature ids from an attribute (grids by code: the console's choropleth sets state by code).
                    if let Some(p) = promote {
                        source["promoteId"] = p;
                    }
                }
            }
        }
        return Ok(Json(style).into_response());
    }
    let Some(name) = file.strip_suffix(".json") else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("/tiles/{file}: expected {{layer}}.json or style.json"),
        ));
    };
    if let Some(archive) = state.tiles.archives().get(name) {
        return Ok(Json(archive.tilejson(&base)).into_response());
    }
    let layer = boundary_layer(name)?;
    Ok(Json(tilejson(&state, layer, &base)).into_response())
}

/// The labels' language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Lang {
    /// Chinese (the default).
    Zh,
    /// English (the file's English name, else pinyin).
    En,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DocumentQuery {
    /// The style's label language (style.json only).
    #[param(inline)]
    lang: Option<Lang>,
}

/// Label layers (metadata `gridmap:label`) show `name_en`, falling back to `name` and `code`.
fn english_labels(style: &mut Value) {
    let Some(layers) = style["layers"].as_array_mut() else { return };
    for layer in layers.iter_mut().filter(|l| l["metadata"]["gridmap:label"] == json!(true)) {
        layer["layout"]["text-field"] = json!(["coalesce", ["get", "name_en"], ["get", "name"], ["get", "code"]]);
    }
}

fn tilejson(state: &AppState, layer: TileLayer, base: &str) -> Value {
    let name = layer.as_str();
    let fields: serde_json::Map<String, Value> =
        layer.fields().iter().map(|(k, t)| ((*k).to_owned(), json!(t))).collect();
    let bounds = state.tiles.bounds(layer).map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]);
    let center = bounds.map(|b| [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 12.0]);
    json!({
        "tilejson": "3.0.0",
        "name": format!("gridmap {name}"),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": layer.max_zoom(),
        "bounds": bounds.unwrap_or([-180.0, -85.051_128_779_806_59, 180.0, 85.051_128_779_806_59]),
        "center": center,
        "version": state.tiles.version(layer).map(|v| v.to_string()),
        "vector_layers": [{"id": name, "fields": fields, "minzoom": 0, "maxzoom": layer.max_zoom()}],
    })
}

/// `http://host` as the client reached us (Host header; X-Forwarded-Proto behind a proxy).
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("http");
    format!("{proto}://{host}")
}
