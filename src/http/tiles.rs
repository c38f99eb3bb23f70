//! `/tiles`: vector tiles, TileJSON per layer and the MapLibre style. Tiles answer 204 when empty, carry an ETag
//! (304 on a match) and `Cache-Control: no-cache` so a client always revalidates and never shows a stale boundary.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::tiles::{TileError, TileId, TileLayer};

/// The MapLibre style, with `{base}` standing for the server's URL.
const STYLE: &str = include_str!("../../tiles/style.json");

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/tiles/{file}", get(document)).route("/tiles/{layer}/{z}/{x}/{y}", get(tile))
}

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

fn layer_param(raw: &str) -> Result<TileLayer, ApiError> {
    raw.parse().map_err(|e: crate::tiles::UnknownTileLayer| {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_layer", e.to_string())
    })
}

async fn tile(
    State(state): State<AppState>,
    Path((layer, z, x, y)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layer = layer_param(&layer)?;
    let Some(y) = y.strip_suffix(".mvt").or_else(|| y.strip_suffix(".pbf")) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_format", format!("tile {y:?}: expected {{y}}.mvt")));
    };
    let num = |name: &str, v: &str| -> Result<u32, ApiError> {
        v.parse().map_err(|_| ApiError::bad_request("invalid_tile", format!("{name}={v:?} is not a whole number")))
    };
    let z = u8::try_from(num("z", &z)?).map_err(|_| ApiError::bad_request("invalid_tile", "z is too large"))?;
    let id = TileId::new(z, num("x", &x)?, num("y", y)?)
        .map_err(|e| ApiError::bad_request("invalid_tile", e.to_string()))?;
    let rendered = state.tiles.tile(layer, id).await?;
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
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
    if gzip {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return Ok((out, rendered.gzip()).into_response());
    }
    Ok((out, rendered.mvt.clone()).into_response())
}

/// `{layer}.json` (TileJSON 3.0) or `style.json` (`?lang=en` for English labels).
async fn document(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<DocumentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    if file == "style.json" {
        let mut style: Value =
            serde_json::from_str(&STYLE.replace("{base}", &base)).map_err(|e| ApiError::internal(&e))?;
        let english = match query.lang.as_deref() {
            None | Some("zh") => false,
            Some("en") => true,
            Some(other) => {
                return Err(ApiError::bad_request("invalid_lang", format!("lang={other:?}: expected zh or en")));
            }
        };
        if english {
            english_labels(&mut style);
        }
        if let Some(b) = state.tiles.basemap() {
            b.add_to(&mut style, &base);
        }
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
    let layer = layer_param(name)?;
    Ok(Json(tilejson(&state, layer, &base)).into_response())
}

/// `?lang=` of the style (zh, the default, or en).
#[derive(Debug, serde::Deserialize)]
struct DocumentQuery {
    lang: Option<String>,
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
