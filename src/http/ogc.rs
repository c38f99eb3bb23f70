//! `/ogc`: OGC API – Features over the boundary layers (landing page, conformance, collections, items, one item),
//! with absolute links built from the request's host so QGIS and OWSLib can follow them.

use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, HeaderMap, HeaderName};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::layers::Layer;
use crate::ogc::{CONFORMANCE, ItemsQuery, OgcCrs, OgcError, feature_json, select};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ogc", get(landing))
        .route("/ogc/", get(landing))
        .route("/ogc/conformance", get(conformance))
        .route("/ogc/collections", get(collections))
        .route("/ogc/collections/{id}", get(collection))
        .route("/ogc/collections/{id}/items", get(items))
        .route("/ogc/collections/{id}/items/{feature}", get(item))
}

impl From<OgcError> for ApiError {
    fn from(e: OgcError) -> Self {
        let code = match e {
            OgcError::UnsupportedCrs { .. } => "unsupported_crs",
            OgcError::Invalid { .. } => "invalid_parameter",
            OgcError::UnknownParameter(_) => "unknown_parameter",
        };
        ApiError::bad_request(code, e.to_string())
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

async fn landing(headers: HeaderMap) -> Json<Value> {
    let b = base(&headers);
    let root = b.trim_end_matches("/ogc");
    Json(json!({
        "title": "gridmap",
        "description": "Street (街道), community (社区) and grid (网格) boundaries of the active generation",
        "links": [
            link(b.clone(), "self", "application/json", "This document"),
            link(format!("{root}/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition"),
            link(format!("{root}/docs"), "service-doc", "text/html", "The API documentation"),
            link(format!("{b}/conformance"), "conformance", "application/json", "Conformance classes"),
            link(format!("{b}/collections"), "data", "application/json", "Boundary layers"),
        ],
    }))
}

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
    let since = active_since(state).await.ok().flatten().map(crate::store::rfc3339);
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
        ],
    })
}

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

async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(describe(&state, &base(&headers), layer_param(&id)?).await))
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

async fn items(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
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
            "timeStamp": crate::store::rfc3339(time::OffsetDateTime::now_utc()),
            "links": links,
        });
        serde_json::to_vec(&body)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))?;
    Ok(with_crs(([(CONTENT_TYPE, HeaderValue::from_static(GEOJSON))], body).into_response(), crs))
}

async fn item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, feature)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
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
