//! `/ogc`: OGC API – Features over the boundary layers (landing page, conformance, collections, items, one item),
//! with absolute links built from the request's host so QGIS and OWSLib can follow them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, HeaderMap, HeaderName};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::contract::ApiQuery;
use super::{ApiError, AppState};
use crate::layers::Layer;
use crate::ogc::{CONFORMANCE, ItemsQuery, OgcCrs, OgcError, feature_json, select};

/// The documents here are the OGC API – Features standard's own (landing page, conformance, collections,
/// GeoJSON items), described by that standard rather than by schemas of ours.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(landing))
        .routes(routes!(landing_slash))
        .routes(routes!(conformance))
        .routes(routes!(collections))
        .routes(routes!(collection))
        .routes(routes!(queryables))
        .routes(routes!(schema))
        .routes(routes!(items))
        .routes(routes!(item))
}

impl From<OgcError> for ApiError {
    fn from(e: OgcError) -> Self {
        let (code, parameter) = match &e {
            OgcError::UnsupportedCrs { param, .. } => ("unsupported_crs", (*param).to_owned()),
            OgcError::Invalid { param, .. } => ("invalid_parameter", param.clone()),
            OgcError::UnknownParameter(name) => ("unknown_parameter", name.clone()),
        };
        ApiError::bad_request(code, e.to_string()).with_details(json!({"parameter": parameter}))
    }
}

const GEOJSON: &str = "application/geo+json";

/// `scheme://host` of the request (honouring `X-Forwarded-Proto` / `X-Forwarded-Host` behind a proxy).
fn base(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = header("x-forwarded-host").or_else(|| header("host")).unwrap_or("localhost");
    let proto = header("x-forwarded-proto").unwrap_or("http");
    format!("{proto}://{host}/ogc")
}

fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

/// OGC API Features landing page
#[utoipa::path(get, path = "/ogc", tag = "ogc", security(()), responses((status = 200, body = Object)))]
async fn landing(headers: HeaderMap) -> Json<Value> {
    let b = base(&headers);
    let root = b.trim_end_matches("/ogc");
    Json(json!({
        "title": "gridmap",
        "description": "Street (街道), community (社区) and grid (网格) boundaries of the active generation",
        "links": [
            link(b.clone(), "self", "application/json", "This document"),
            link(format!("{root}/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.1", "The API definition"),
            link(format!("{root}/docs"), "service-doc", "text/html", "The API documentation"),
            link(format!("{b}/conformance"), "conformance", "application/json", "Conformance classes"),
            link(format!("{b}/collections"), "data", "application/json", "Boundary layers"),
        ],
    }))
}

/// OGC API Features landing page
#[utoipa::path(get, path = "/ogc/", tag = "ogc", operation_id = "landing_index", security(()), responses((status = 200, body = Object)))]
async fn landing_slash(headers: HeaderMap) -> Json<Value> {
    landing(headers).await
}

/// Conformance classes
#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc", security(()), responses((status = 200, body = Object)))]
async fn conformance() -> Json<Value> {
    Json(json!({"conformsTo": CONFORMANCE}))
}

fn layer_param(id: &str) -> Result<Layer, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "collection_not_found",
            format!("no collection {id:?}: streets, communities or grids"),
        )
    })
}

fn title(layer: Layer) -> &'static str {
    match layer {
        Layer::Streets => "街道 Streets",
        Layer::Communities => "社区 Communities",
        Layer::Grids => "网格 Grids",
    }
}

async fn describe(state: &AppState, b: &str, layer: Layer) -> Value {
    let index = state.locator.current();
    let li = index.layer(layer);
    let since = active_since(state).await.ok().flatten().map(crate::times::rfc3339);
    let id = layer.as_str();
    json!({
        "id": id,
        "title": title(layer),
        "description": format!("{} features of generation {}", li.len(), index.generation().map_or(0, |g| g.0)),
        "itemType": "feature",
        "extent": {
            "spatial": {
                "bbox": [li.bbox().map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y])],
                "crs": OgcCrs::CRS84.uri,
            },
            "temporal": {"interval": [[since, null]]},
        },
        "crs": OgcCrs::OFFERED.iter().map(|c| c.uri).collect::<Vec<_>>(),
        "storageCrs": OgcCrs::CRS84.uri,
        "links": [
            link(format!("{b}/collections/{id}"), "self", "application/json", title(layer)),
            link(format!("{b}/collections/{id}/items"), "items", GEOJSON, "Features"),
            link(format!("{b}/collections/{id}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON, "Queryables"),
            link(format!("{b}/collections/{id}/schema"), "http://www.opengis.net/def/rel/ogc/1.0/schema", SCHEMA_JSON, "Schema"),
        ],
    })
}

/// Boundary layers
#[utoipa::path(get, path = "/ogc/collections", tag = "ogc", security(()), responses((status = 200, body = Object)))]
async fn collections(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let b = base(&headers);
    let mut list = Vec::new();
    for layer in Layer::ALL {
        list.push(describe(&state, &b, layer).await);
    }
    Json(json!({
        "links": [link(format!("{b}/collections"), "self", "application/json", "Boundary layers")],
        "collections": list,
        "crs": OgcCrs::OFFERED.iter().map(|c| c.uri).collect::<Vec<_>>(),
    }))
}

/// One boundary layer
#[utoipa::path(
    get, path = "/ogc/collections/{id}", tag = "ogc",
    params(("id" = String, Path, description = "streets, communities or grids")),
    security(()),
    responses((status = 200, body = Object))
)]
async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(describe(&state, &base(&headers), layer_param(&id)?).await))
}

const SCHEMA_JSON: &str = "application/schema+json";

/// The properties a queryables or schema document lists: code, name and parent code, and (for the schema) every
/// other attribute the layer's features carry from their file, typed by the values found.
fn properties_schema(state: &AppState, layer: Layer, all: bool) -> Value {
    let mut props = serde_json::Map::new();
    props.insert("code".into(), json!({"type": "string", "title": "Code", "x-ogc-role": "id"}));
    props.insert("name".into(), json!({"type": "string", "title": "Name"}));
    props.insert("parent_code".into(), json!({"type": ["string", "null"], "title": "Parent code"}));
    if all {
        let index = state.locator.current();
        let mut found: std::collections::BTreeMap<&str, &'static str> = Default::default();
        for e in index.layer(layer).entries() {
            for (k, v) in &e.feature.properties {
                let kind = match v {
                    Value::Bool(_) => "boolean",
                    Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                    Value::Number(_) => "number",
                    Value::Null => continue,
                    _ => "string",
                };
                let slot = found.entry(k.as_str()).or_insert(kind);
                if *slot != kind {
                    *slot = if matches!((*slot, kind), ("integer", "number") | ("number", "integer")) {
                        "number"
                    } else {
                        "string"
                    };
                }
            }
        }
        for (k, kind) in found {
            props.entry(k.to_owned()).or_insert_with(|| json!({"type": kind, "title": k}));
        }
        props.insert("geometry".into(), json!({"format": "geometry-multipolygon", "x-ogc-role": "primary-geometry"}));
    }
    Value::Object(props)
}

fn schema_document(headers: &HeaderMap, id: &str, layer: Layer, kind: &str, properties: Value) -> Response {
    let body = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{}/collections/{id}/{kind}", base(headers)),
        "type": "object",
        "title": title(layer),
        "properties": properties,
        "additionalProperties": kind == "schema",
    });
    let mut r = Json(body).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(SCHEMA_JSON));
    r
}

/// The properties a layer's items can be filtered on (equality: `?code=`, `?name=`, `?parent_code=`)
#[utoipa::path(
    get, path = "/ogc/collections/{id}/queryables", tag = "ogc",
    params(("id" = String, Path, description = "streets, communities or grids")),
    security(()),
    responses((status = 200, description = "A JSON Schema", content_type = "application/schema+json", body = Object))
)]
async fn queryables(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let layer = layer_param(&id)?;
    Ok(schema_document(&headers, &id, layer, "queryables", properties_schema(&state, layer, false)))
}

/// Every property of a layer's items: code, name, parent code and the file's own attributes
#[utoipa::path(
    get, path = "/ogc/collections/{id}/schema", tag = "ogc",
    params(("id" = String, Path, description = "streets, communities or grids")),
    security(()),
    responses((status = 200, description = "A JSON Schema", content_type = "application/schema+json", body = Object))
)]
async fn schema(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let layer = layer_param(&id)?;
    Ok(schema_document(&headers, &id, layer, "schema", properties_schema(&state, layer, true)))
}

/// When the active generation was activated (boundaries are valid from then on).
async fn active_since(state: &AppState) -> Result<Option<time::OffsetDateTime>, ApiError> {
    let Some(active) = state.locator.current().generation() else { return Ok(None) };
    let list = state.catalog.store().generations().await?;
    Ok(list
        .into_iter()
        .find(|g| g.id == active)
        .and_then(|g| g.activated_at)
        .and_then(|t| time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()))
}

fn geojson_response(body: Value, crs: OgcCrs) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    with_crs(r, crs)
}

/// Adds the `Content-Crs` header naming the coordinates' reference system.
fn with_crs(mut r: Response, crs: OgcCrs) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", crs.uri)) {
        r.headers_mut().insert(HeaderName::from_static("content-crs"), v);
    }
    r
}

/// Features
///
/// GeoJSON features of a boundary layer, paged (`limit` up to 10 000, `offset`), filtered by `bbox` (in `bbox-crs`),
/// `datetime` and equality on `code`, `name`, `parent_code`; coordinates in `crs` (CRS84, EPSG:4326, EPSG:4490).
#[utoipa::path(
    get, path = "/ogc/collections/{id}/items", tag = "ogc",
    params(
        ("id" = String, Path, description = "streets, communities or grids"),
        ("bbox" = Option<String>, Query), ("bbox-crs" = Option<String>, Query), ("crs" = Option<String>, Query),
        ("datetime" = Option<String>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 10000),
        ("offset" = Option<u32>, Query), ("code" = Option<String>, Query), ("name" = Option<String>, Query),
        ("parent_code" = Option<String>, Query)
    ),
    security(()),
    responses((status = 200, description = "A GeoJSON FeatureCollection", content_type = "application/geo+json", body = Object))
)]
async fn items(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let layer = layer_param(&id)?;
    let since = if params.iter().any(|(k, _)| k == "datetime") { active_since(&state).await? } else { None };
    let q = ItemsQuery::parse(&params, since)?;
    let index = state.locator.current();
    let b = base(&headers);
    let crs = q.crs;
    // A page of up to 10 000 polygons (what QGIS asks for) takes a few hundred milliseconds to reproject and
    // serialise: on the blocking pool, not on the HTTP worker thread whose other connections would wait.
    let body = tokio::task::spawn_blocking(move || {
        let li = index.layer(layer);
        let (matched, page) = select(li, &q);
        let features: Vec<Value> = page.iter().map(|&i| feature_json(&li.entry(i).feature, q.crs)).collect();
        let page_link = |offset: usize, rel: &str| {
            let mut kept: Vec<(&str, String)> =
                params.iter().filter(|(k, _)| k != "offset").map(|(k, v)| (k.as_str(), v.clone())).collect();
            kept.push(("offset", offset.to_string()));
            let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
            link(format!("{b}/collections/{id}/items?{query}"), rel, GEOJSON, rel)
        };
        let mut links = vec![
            page_link(q.offset, "self"),
            link(format!("{b}/collections/{id}"), "collection", "application/json", title(layer)),
        ];
        if q.offset + page.len() < matched {
            links.push(page_link(q.offset + page.len(), "next"));
        }
        if q.offset > 0 {
            links.push(page_link(q.offset.saturating_sub(q.limit), "prev"));
        }
        let body = json!({
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": page.len(),
            "timeStamp": crate::times::rfc3339(time::OffsetDateTime::now_utc()),
            "links": links,
        });
        serde_json::to_vec(&body)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))?;
    Ok(with_crs(([(CONTENT_TYPE, HeaderValue::from_static(GEOJSON))], body).into_response(), crs))
}

/// One feature
#[utoipa::path(
    get, path = "/ogc/collections/{id}/items/{feature}", tag = "ogc",
    params(("id" = String, Path), ("feature" = String, Path, description = "The feature's code"), ("crs" = Option<String>, Query)),
    security(()),
    responses((status = 200, description = "A GeoJSON Feature", content_type = "application/geo+json", body = Object))
)]
async fn item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, feature)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let layer = layer_param(&id)?;
    let mut crs = OgcCrs::CRS84;
    for (k, v) in params {
        match k.as_str() {
            "crs" => crs = OgcCrs::parse("crs", &v)?,
            "f" => {}
            _ => return Err(OgcError::UnknownParameter(k).into()),
        }
    }
    let index = state.locator.current();
    let found = crate::areas::find(&index, layer, &feature).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "feature_not_found", format!("{id} has no feature {feature:?}"))
    })?;
    let b = base(&headers);
    let mut body = feature_json(found, crs);
    body["links"] = json!([
        link(format!("{b}/collections/{id}/items/{feature}"), "self", GEOJSON, &feature),
        link(format!("{b}/collections/{id}"), "collection", "application/json", title(layer)),
    ]);
    Ok(geojson_response(body, crs))
}
