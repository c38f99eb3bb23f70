//! `/resources`: fixed resources, one at a time or a GeoJSON file of points at once.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::access::{narrow, visible};
use super::locate::{parse_crs, point};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::resources::{ResourceError, ResourceFilter, ResourceId, ResourceInput};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/resources", post(create).get(list))
        .route("/resources/load", post(load))
        .route("/resources/{id}", get(read))
        .route("/resource-categories", get(categories))
}

impl From<ResourceError> for ApiError {
    fn from(e: ResourceError) -> Self {
        let (status, code) = match &e {
            ResourceError::Field { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_resource"),
            ResourceError::Duplicate(_) => (StatusCode::CONFLICT, "duplicate_id"),
            ResourceError::NotFound(_) => (StatusCode::NOT_FOUND, "resource_not_found"),
            ResourceError::Store(s) => return ApiError::store(s),
        };
        ApiError::new(status, code, e.to_string())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    category: String,
    name: String,
    location: [f64; 2],
    #[serde(default)]
    attributes: Map<String, Value>,
    external_id: Option<String>,
    crs: Option<String>,
}

/// `POST /resources`.
async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: CreateBody = super::json::parse(body, "resource")?;
    let [x, y] = b.location;
    let input = ResourceInput {
        label: "resource".into(),
        external_id: b.external_id,
        category: b.category,
        name: b.name,
        attributes: b.attributes,
        location: point(parse_crs(b.crs.as_deref())?, x, y, None)?,
    };
    let mut stored = state.resources.create(vec![input]).await?;
    Ok((StatusCode::CREATED, Json(json!(stored.pop()))))
}

#[derive(Deserialize)]
struct LoadQuery {
    category: Option<String>,
    name_field: Option<String>,
    id_field: Option<String>,
    crs: Option<String>,
    name: Option<String>,
}

/// `POST /resources/load?category=&name_field=name&id_field=id&crs=&name=`: a GeoJSON FeatureCollection of points;
/// every feature's other properties become attributes; a feature without a name is named by its id. All or none.
async fn load(
    State(state): State<AppState>,
    Query(q): Query<LoadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let fc: geojson::FeatureCollection = super::json::parse(body, "GeoJSON FeatureCollection")?;
    let file = q.name.as_deref().unwrap_or("request body");
    let crs = parse_crs(q.crs.as_deref())?;
    let name_field = q.name_field.as_deref().unwrap_or("name");
    let id_field = q.id_field.as_deref().unwrap_or("id");
    let invalid = |i: usize, field: &str, problem: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_resource",
            format!("{file}: feature {i}: field {field}: {problem}"),
        )
    };
    let mut inputs = Vec::with_capacity(fc.features.len());
    for (i, f) in fc.features.into_iter().enumerate() {
        let [x, y] = match f.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::Point { coordinates }) if coordinates.as_slice().len() >= 2 => {
                [coordinates.as_slice()[0], coordinates.as_slice()[1]]
            }
            _ => return Err(invalid(i, "geometry", "expected a Point".into())),
        };
        let mut attributes = f.properties.unwrap_or_default();
        let text = |v: Option<Value>| match v {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let external_id = text(attributes.remove(id_field));
        let category = match &q.category {
            Some(c) => c.clone(),
            None => text(attributes.remove("category"))
                .ok_or_else(|| invalid(i, "category", "is missing (or give category= for the whole file)".into()))?,
        };
        // Unnamed features (common in OSM extracts) are named by their id.
        let name = match (text(attributes.remove(name_field)), &external_id) {
            (Some(n), _) => n,
            (None, Some(id)) => format!("{category} {id}"),
            (None, None) => {
                return Err(invalid(
                    i,
                    name_field,
                    format!("is missing or empty and there is no {id_field} to name it by"),
                ));
            }
        };
        let location = point(crs, x, y, Some(i))
            .map_err(|_| invalid(i, "geometry", format!("[{x}, {y}] is not a valid coordinate")))?;
        inputs.push(ResourceInput {
            label: format!("{file}: feature {i}"),
            external_id,
            category,
            name,
            attributes,
            location,
        });
    }
    let stored = state.resources.create(inputs).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"loaded": stored.len(), "ids": stored.iter().map(|r| r.id).collect::<Vec<_>>()})),
    ))
}

#[derive(Deserialize)]
struct ListQuery {
    bbox: Option<String>,
    category: Option<String>,
    street: Option<String>,
    community: Option<String>,
    grid: Option<String>,
    limit: Option<u32>,
    cursor: Option<i64>,
    crs: Option<String>,
}

/// `GET /resources?bbox=&category=&street=&community=&grid=&limit=&cursor=`, newest first.
async fn list(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Query(mut q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    if !narrow(&caller, &mut q.street, &mut q.community) {
        return Ok(super::reproject::empty_page());
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", format!("limit={limit}: expected 1 … 1000")));
    }
    let crs = parse_crs(q.crs.as_deref())?;
    let filter = ResourceFilter {
        bbox: q.bbox.as_deref().map(|b| super::reproject::bbox_in(b, crs)).transpose()?,
        category: q.category,
        street: q.street,
        community: q.community,
        grid: q.grid,
        before_id: q.cursor.map(ResourceId),
        limit,
    };
    let items = state.resources.list(&filter).await?;
    Ok(super::reproject::page(&items, limit, |r| json!(r.id), crs))
}

/// `GET /resources/{id}`.
async fn read(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    axum::extract::Query(view): axum::extract::Query<super::reproject::View>,
) -> Result<Json<Value>, ApiError> {
    let id: i64 =
        id.parse().map_err(|_| ApiError::bad_request("invalid_id", format!("resource id {id:?} is not a number")))?;
    let mut resource = json!(state.resources.get(id).await?);
    visible(&caller, &resource, || {
        ApiError::new(StatusCode::NOT_FOUND, "resource_not_found", format!("resource {id} does not exist"))
    })?;
    super::reproject::out(&mut resource, view.crs()?);
    Ok(Json(resource))
}

/// `GET /resource-categories`: `[{"code", "name"}]`.
async fn categories(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<Value> =
        state.resources.categories().into_iter().map(|(code, name)| json!({"code": code, "name": name})).collect();
    Json(Value::Array(list))
}
